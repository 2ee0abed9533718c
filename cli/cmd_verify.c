/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_verify.c: `latch verify LICENSE [--root PEM] [--json]` checks a
 * license file without a TPM: strict format, signing certificate and chain
 * at issued_at, signature, and validity dates against the clock. Prints
 * every check; exits 0 only when all pass.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cli.h"
#include "codec.h"
#include "fsutil.h"
#include "json.h"
#include "license.h"

#define VERB         "verify"
#define ROOT_PEM_MAX 65536
#define SHOWN_MAX    (2 * LATCH_CHECK_DETAIL_MAX)

struct verify_run {
    struct latch_report rep;
    enum latch_status status; /* of the first failing step */
    struct latch_err first;   /* its message */
    struct latch_license *lic;
    X509 *root;
    bool verified; /* signature and chain good: the summary is trusted */
};

static void
record(struct verify_run *r, const struct latch_err *e)
{
    if (r->status == LATCH_OK) {
        r->status = e->status;
        r->first = *e;
    }
}

static void
fingerprint(X509 *cert, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    size_t o = 0;

    out[0] = '\0';
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1) {
        return;
    }
    for (i = 0; i < n && o + 4 < cap; i++) {
        o += (size_t)snprintf(out + o, cap - o, "%s%02X", i > 0 ? ":" : "",
                              md[i]);
    }
}

/* RFC 2253 text in certificate order, control and non-ASCII escaped. */
static void
subject(X509 *cert, char *out, size_t cap)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n = 0;

    if (bio != NULL &&
        X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
                           XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >= 0) {
        n = BIO_read(bio, out, (int)cap - 1);
    }
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
}

/* The root from --root PEM, or the one compiled in. */
static void
load_root(struct verify_run *r, const char *path)
{
    struct latch_err e = {LATCH_OK, ""};
    char fp[3 * EVP_MAX_MD_SIZE];
    char name[LATCH_CHECK_DETAIL_MAX / 2];
    char *pem = NULL;
    size_t len = 0;

    if (path != NULL) {
        if (latch_read_file(path, ROOT_PEM_MAX, &pem, &len, &e) == LATCH_OK) {
            if (len == 0) {
                latch_err_set(&e, LATCH_E_FORMAT, "%s: empty file", path);
            } else if (latch_cert_from_pem(pem, &r->root, &e) != LATCH_OK) {
                latch_err_prefix(&e, path);
            }
        }
    } else if (latch_cert_from_pem(latch_root_ca_pem, &r->root, &e) ==
               LATCH_E_NOT_FOUND) {
        latch_err_set(&e, LATCH_E_USAGE,
                      "no root certificate: this build embeds none "
                      "(make LATCH_ROOT_CA=root.pem) and no --root PEM "
                      "was given");
    }
    free(pem);
    if (r->root == NULL) {
        latch_report_add(&r->rep, "root", LATCH_CHECK_FAIL, "%s", e.msg);
        record(r, &e);
        return;
    }
    subject(r->root, name, sizeof(name));
    fingerprint(r->root, fp, sizeof(fp));
    latch_report_add(&r->rep, "root", LATCH_CHECK_PASS, "%s (%s), sha256 %s",
                     name, path != NULL ? "--root" : "built in", fp);
}

static void
load_license(struct verify_run *r, const char *path)
{
    struct latch_err e = {LATCH_OK, ""};
    char *buf = NULL;
    size_t len = 0;

    if (latch_read_file(path, LATCH_JSON_MAX_BYTES, &buf, &len, &e) !=
        LATCH_OK) {
        latch_report_add(&r->rep, "file", LATCH_CHECK_FAIL, "%s", e.msg);
        record(r, &e);
        return;
    }
    latch_report_add(&r->rep, "file", LATCH_CHECK_PASS, "%zu bytes", len);
    if (latch_license_parse(buf, len, &r->lic, &e) != LATCH_OK) {
        latch_report_add(&r->rep, "format", LATCH_CHECK_FAIL, "%s", e.msg);
        record(r, &e);
    } else {
        latch_report_add(&r->rep, "format", LATCH_CHECK_PASS,
                         "%s, every member as specified", LATCH_LICENSE_FORMAT);
    }
    free(buf);
}

static void
check_dates(struct verify_run *r)
{
    struct latch_err e = {LATCH_OK, ""};
    char from[LATCH_TIME_LEN], until[LATCH_TIME_LEN], now_s[LATCH_TIME_LEN];
    int64_t now = (int64_t)time(NULL);

    latch_time_format(r->lic->valid_from, from);
    latch_time_format(now, now_s);
    if (r->lic->has_valid_until) {
        latch_time_format(r->lic->valid_until, until);
    } else {
        snprintf(until, sizeof(until), "perpetual");
    }
    if (latch_license_check_time(r->lic, now, &e) != LATCH_OK) {
        latch_report_add(&r->rep, "license.validity", LATCH_CHECK_FAIL, "%s",
                         e.msg);
        record(r, &e);
    } else {
        latch_report_add(&r->rep, "license.validity", LATCH_CHECK_PASS,
                         "valid %s .. %s (now %s)", from, until, now_s);
    }
}

static void
run(struct verify_run *r, const char *path, const char *root_path)
{
    struct latch_err e = {LATCH_OK, ""};

    load_license(r, path);
    load_root(r, root_path);
    if (r->lic == NULL || r->root == NULL) {
        return;
    }
    if (latch_license_verify(r->lic, r->root, &r->rep, &e) != LATCH_OK) {
        record(r, &e);
    } else {
        r->verified = true;
    }
    check_dates(r);
}

/* ---- output ------------------------------------------------------------- */

static void
print_text(const struct verify_run *r, const char *path)
{
    const struct latch_license *lic = r->lic;
    char shown[SHOWN_MAX];
    char t[LATCH_TIME_LEN];
    size_t i;

    cli_safe_text(path, shown, sizeof(shown));
    printf("license %s\n", shown);
    for (i = 0; i < r->rep.n; i++) {
        cli_safe_text(r->rep.items[i].detail, shown, sizeof(shown));
        printf("  %-4s  %-22s %s\n",
               latch_check_result_str(r->rep.items[i].result),
               r->rep.items[i].name, shown);
    }
    if (r->verified) {
        cli_safe_text(lic->license_id, shown, sizeof(shown));
        printf("signed content:\n  license_id %s, ", shown);
        cli_safe_text(lic->customer, shown, sizeof(shown));
        printf("serial %lld, customer \"%s\"\n", (long long)lic->serial, shown);
        printf("  device_id %s\n", lic->device_id);
        for (i = 0; i < lic->nfeatures; i++) {
            const struct latch_feature *f = &lic->features[i];

            printf("  feature %-24s %s", f->name,
                   f->enabled ? "enabled" : "disabled");
            if (f->has_quantity) {
                printf(", quantity %lld", (long long)f->quantity);
            }
            if (f->has_valid_until) {
                latch_time_format(f->valid_until, t);
                printf(", until %s", t);
            }
            printf("\n");
        }
    }
    printf("verify: %s\n",
           r->status == LATCH_OK ? "ok" : latch_strerror(r->status));
}

static json_t *
summary_json(const struct latch_license *lic)
{
    json_t *features = json_object();
    json_t *s;
    char t[LATCH_TIME_LEN];
    size_t i;

    for (i = 0; i < lic->nfeatures && features != NULL; i++) {
        const struct latch_feature *f = &lic->features[i];
        json_t *o = json_pack("{s:b}", "enabled", f->enabled);

        if (o != NULL && f->has_quantity) {
            json_object_set_new(o, "quantity", json_integer(f->quantity));
        }
        if (o != NULL && f->has_valid_until) {
            latch_time_format(f->valid_until, t);
            json_object_set_new(o, "valid_until", json_string(t));
        }
        json_object_set_new(features, f->name, o);
    }
    s = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "license_id",
                  lic->license_id, "serial", (json_int_t)lic->serial,
                  "device_id", lic->device_id, "enrollment_id",
                  lic->enrollment_id, "customer", lic->customer, "features",
                  features);
    if (s == NULL) {
        return NULL;
    }
    latch_time_format(lic->issued_at, t);
    json_object_set_new(s, "issued_at", json_string(t));
    latch_time_format(lic->valid_from, t);
    json_object_set_new(s, "valid_from", json_string(t));
    if (lic->has_valid_until) {
        latch_time_format(lic->valid_until, t);
        json_object_set_new(s, "valid_until", json_string(t));
    } else {
        json_object_set_new(s, "valid_until", json_null());
    }
    return s;
}

static int
print_json(const struct verify_run *r, const char *path)
{
    json_t *checks = json_array();
    json_t *doc = NULL;
    char *text = NULL;
    size_t i;
    int rc = -1;

    for (i = 0; i < r->rep.n && checks != NULL; i++) {
        json_array_append_new(
            checks,
            json_pack("{s:s, s:s, s:s}", "name", r->rep.items[i].name, "result",
                      latch_check_result_str(r->rep.items[i].result), "detail",
                      r->rep.items[i].detail));
    }
    doc = json_pack(
        "{s:s, s:b, s:i, s:s, s:s, s:o}", "license", path, "ok",
        r->status == LATCH_OK, "exit_code", cli_exit_code(r->status), "status",
        latch_strerror(r->status), "error", r->first.msg, "checks", checks);
    if (doc != NULL && r->verified) {
        json_object_set_new(doc, "signed", summary_json(r->lic));
    }
    text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (text != NULL) {
        printf("%s\n", text);
        rc = 0;
    }
    free(text);
    json_decref(doc);
    return rc;
}

static void
help(void)
{
    cli_verb_help(stdout, VERB);
    printf("\n  --root PEM   trust this root instead of the one built in\n"
           "  --json       print the result as JSON\n\n"
           "exit codes: 0 all checks pass, 3 unreadable file, 4 malformed,\n"
           "5 bad signature or certificate chain, 8 expired or not yet "
           "valid,\n2 no root at all (see docs/operations.md)\n");
}

int
cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct verify_run r;
    const char *root_path = NULL;
    bool json = false;
    int opt, rc;

    memset(&r, 0, sizeof(r));
    optind = 1;
    for (;;) {
        opt = getopt_long(argc, argv, ":r:jh", opts, NULL);
        if (opt == -1) {
            break;
        }
        switch (opt) {
        case 'r':
            root_path = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            help();
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(VERB, opt, argv);
        }
    }
    if (argc - optind != 1) {
        return cli_usage(VERB, "expected exactly one LICENSE file");
    }
    if (argv[optind][0] == '\0') {
        return cli_usage(VERB, "LICENSE: empty path");
    }
    if (root_path != NULL && root_path[0] == '\0') {
        return cli_usage(VERB, "--root: empty path (leave it out for the "
                               "built-in root)");
    }
    run(&r, argv[optind], root_path);
    if (json) {
        if (print_json(&r, argv[optind]) != 0) {
            cli_warnx(VERB, "cannot print JSON");
            r.status = r.status == LATCH_OK ? LATCH_E_NOMEM : r.status;
        }
    } else {
        print_text(&r, argv[optind]);
    }
    if (r.status != LATCH_OK && !json) {
        (void)cli_fail(VERB, &r.first);
    }
    rc = cli_exit_code(r.status);
    latch_license_free(r.lic);
    X509_free(r.root);
    return rc;
}
