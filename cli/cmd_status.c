/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_status.c: `latch status [--json]`: the installed license, its dates
 * and features, and a fresh proof with the TPM. The license content is
 * shown even when the proof fails, marked as not proven.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "codec.h"
#include "devcommon.h"
#include "device.h"

struct status {
    struct latch_license *lic; /* as installed, for display */
    enum latch_status proof_st;
    struct latch_err proof_err;
    struct latch_proof proof;
    enum latch_status time_st;
    struct latch_err time_err;
};

static void
print_text(const struct status *s, int64_t now)
{
    const struct latch_license *lic = s->lic;
    char from[LATCH_TIME_LEN], until[LATCH_TIME_LEN];
    char id[256], customer[512], msg[2 * LATCH_ERR_MSG_MAX];

    cli_safe_text(lic->license_id, id, sizeof(id));
    cli_safe_text(lic->customer, customer, sizeof(customer));
    latch_time_format(lic->valid_from, from);
    if (lic->has_valid_until) {
        latch_time_format(lic->valid_until, until);
    }
    printf("license:   %s (serial %lld)\n", id, (long long)lic->serial);
    printf("customer:  %s\n", customer);
    printf("device_id: %s\n", lic->device_id);
    printf("valid:     from %s %s%s: %s\n", from,
           lic->has_valid_until ? "until " : "",
           lic->has_valid_until ? until : "(perpetual)",
           s->time_st == LATCH_OK ? "valid now" : s->time_err.msg);
    if (s->proof_st == LATCH_OK) {
        printf("tpm proof: ok (ActivateCredential just now, %s AK%s)\n",
               s->proof.pending_ak ? "pending" : "active",
               s->proof.persistent ? ", persistent" : "");
    } else {
        cli_safe_text(s->proof_err.msg, msg, sizeof(msg));
        printf("tpm proof: FAILED: %s\n", msg);
    }
    printf("features:%s\n", s->proof_st == LATCH_OK ? "" : " (not proven)");
    dev_print_features(stdout, lic, now);
}

static int
print_json(const struct status *s, int64_t now)
{
    const struct latch_license *lic = s->lic;
    char from[LATCH_TIME_LEN], until[LATCH_TIME_LEN];
    json_t *doc, *features;
    char *text = NULL;

    latch_time_format(lic->valid_from, from);
    features = dev_features_json(lic, now, s->proof_st == LATCH_OK);
    doc = json_pack(
        "{s:b, s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:{s:b}, s:o*}", "installed",
        1, "license_id", lic->license_id, "serial", (json_int_t)lic->serial,
        "customer", lic->customer, "device_id", lic->device_id, "ek_template",
        lic->ek_template, "valid_from", from, "valid", s->time_st == LATCH_OK,
        "proof", "ok", s->proof_st == LATCH_OK, "features", features);
    if (doc == NULL) {
        return CLI_EXIT_FAILURE;
    }
    if (lic->has_valid_until) {
        latch_time_format(lic->valid_until, until);
        json_object_set_new(doc, "valid_until", json_string(until));
    }
    if (s->time_st != LATCH_OK) {
        json_object_set_new(doc, "validity_error",
                            json_string(s->time_err.msg));
    }
    if (s->proof_st != LATCH_OK) {
        json_object_set_new(json_object_get(doc, "proof"), "error",
                            json_string(s->proof_err.msg));
    } else {
        json_object_set_new(
            json_object_get(doc, "proof"), "ak",
            json_string(s->proof.pending_ak ? "pending" : "active"));
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL) {
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

/*
 * license.json is there but cannot be read or parsed: the same shape with
 * nothing in it to act on (no features, proof failed), and why.
 */
static void
print_json_unreadable(const struct latch_err *err)
{
    char msg[2 * LATCH_ERR_MSG_MAX];
    json_t *doc;
    char *text = NULL;

    /* Escaped: json_pack() refuses invalid UTF-8 (a path may hold it). */
    cli_safe_text(err->msg, msg, sizeof(msg));
    doc = json_pack("{s:b, s:s, s:{s:b, s:s}, s:{}}", "installed", 1, "error",
                    msg, "proof", "ok", 0, "error", msg, "features");
    if (doc != NULL) {
        text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(doc);
    if (text != NULL) {
        printf("%s\n", text);
    }
    free(text);
}

int
cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    struct latch_err err = {LATCH_OK, ""};
    struct latch_license *proven = NULL;
    struct latch_device *dev = NULL;
    struct cli_common common = {0};
    struct status s = {0};
    int64_t now = (int64_t)time(NULL);
    int c, rc;

    for (;;) {
        c = getopt_long(argc, argv, ":h", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (cli_common_opt(c, optarg, &common)) {
            continue;
        }
        if (c == CLI_OPT_HELP) {
            cli_verb_help(stdout, "status");
            return CLI_EXIT_OK;
        }
        return cli_bad_option("status", c, argv);
    }
    if (optind != argc) {
        return cli_usage("status", "takes no operands");
    }

    dev_quiet_tss();
    if (latch_device_open(common.tcti, common.state_dir, &dev, &err) !=
            LATCH_OK ||
        latch_device_installed(dev, &s.lic, &err) != LATCH_OK) {
        if (common.json && err.status == LATCH_E_NOT_FOUND) {
            printf("{\n  \"installed\": false\n}\n");
        } else if (common.json && dev != NULL) {
            print_json_unreadable(&err);
        }
        rc = cli_fail("status", &err);
        goto done;
    }
    s.proof_st = latch_device_prove(dev, &proven, &s.proof, NULL, &s.proof_err);
    s.time_st = latch_license_check_time(s.lic, now, &s.time_err);
    rc = common.json ? print_json(&s, now) : (print_text(&s, now), 0);
    if (rc == CLI_EXIT_OK && s.proof_st != LATCH_OK) {
        rc = cli_fail("status", &s.proof_err);
    } else if (rc == CLI_EXIT_OK && s.time_st != LATCH_OK) {
        rc = cli_fail("status", &s.time_err);
    }

done:
    latch_license_free(proven);
    latch_license_free(s.lic);
    latch_device_close(dev);
    return rc;
}
