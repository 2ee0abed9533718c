/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_check.c: `latch check FEATURE [--quantity]`: exit 0 when the
 * installed license, proven afresh with the TPM, enables FEATURE and both
 * are valid now. For shell scripts: `latch check foo && start_foo`.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "codec.h"
#include "devcommon.h"
#include "device.h"

static int
answer(const struct latch_license *lic, const char *name, bool quantity,
       int64_t now, struct latch_err *err)
{
    const struct latch_feature *f = latch_license_feature(lic, name);
    enum latch_status st;
    char when[LATCH_TIME_LEN];

    if (f == NULL) {
        latch_err_set(err, LATCH_E_NOT_FOUND,
                      "feature '%s' is not in license %s", name,
                      lic->license_id);
        return cli_fail("check", err);
    }
    st = latch_license_check_time(lic, now, err);
    if (st == LATCH_OK) {
        st = dev_feature_state(lic, f, now);
        if (st == LATCH_E_NOT_FOUND) {
            latch_err_set(err, st, "feature '%s' is disabled", name);
        } else if (st != LATCH_OK) {
            latch_time_format(f->valid_until, when);
            latch_err_set(err, st, "feature '%s': expired at %s", name, when);
        }
    }
    if (st != LATCH_OK) {
        return cli_fail("check", err);
    }
    if (quantity && !f->has_quantity) {
        latch_err_set(err, LATCH_E_NOT_FOUND,
                      "feature '%s' is enabled but carries no quantity", name);
        return cli_fail("check", err);
    }
    if (quantity) {
        printf("%lld\n", (long long)f->quantity);
    } else {
        printf("%s: enabled\n", name);
    }
    return CLI_EXIT_OK;
}

int
cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"quantity", no_argument, NULL, 'q'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0}};
    struct latch_err err = {LATCH_OK, ""};
    struct latch_license *lic = NULL;
    struct latch_device *dev = NULL;
    struct cli_common common = {0};
    bool quantity = false;
    const char *name;
    int c, rc;

    for (;;) {
        c = getopt_long(argc, argv, ":qh", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (cli_common_opt(c, optarg, &common)) {
            continue;
        }
        if (c == 'q') {
            quantity = true;
        } else if (c == CLI_OPT_HELP) {
            cli_verb_help(stdout, "check");
            return CLI_EXIT_OK;
        } else {
            return cli_bad_option("check", c, argv);
        }
    }
    if (optind + 1 != argc) {
        return cli_usage("check", "needs exactly one FEATURE");
    }
    name = argv[optind];
    if (!latch_feature_name_ok(name)) {
        return cli_usage("check", "'%s' is not a feature name", name);
    }

    dev_quiet_tss();
    if (latch_device_open(common.tcti, common.state_dir, &dev, &err) !=
            LATCH_OK ||
        latch_device_prove(dev, &lic, NULL, NULL, &err) != LATCH_OK) {
        rc = cli_fail("check", &err);
    } else {
        rc = answer(lic, name, quantity, (int64_t)time(NULL), &err);
    }
    latch_license_free(lic);
    latch_device_close(dev);
    return rc;
}
