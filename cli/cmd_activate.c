/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_activate.c: `latch activate LICENSE`: verifies a license against
 * this device and its TPM and installs it; prints the features. On any
 * failure the installed license stays as it was.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "codec.h"
#include "devcommon.h"
#include "device.h"
#include "fsutil.h"

/* Every check with -v; otherwise only warnings (an unfinished rotation). */
static void
print_report(const struct latch_report *rep, bool all)
{
    for (size_t i = 0; i < rep->n; i++) {
        char shown[2 * LATCH_CHECK_DETAIL_MAX];

        if (!all && rep->items[i].result != LATCH_CHECK_WARN) {
            continue;
        }
        cli_safe_text(rep->items[i].detail, shown, sizeof(shown));
        fprintf(stderr, "  %-20s %-4s %s\n", rep->items[i].name,
                latch_check_result_str(rep->items[i].result), shown);
    }
}

static void
print_license(const struct latch_license *lic, int64_t now)
{
    char from[LATCH_TIME_LEN], until[LATCH_TIME_LEN];
    char id[2 * 128], customer[2 * 256];

    cli_safe_text(lic->license_id, id, sizeof(id));
    cli_safe_text(lic->customer, customer, sizeof(customer));
    latch_time_format(lic->valid_from, from);
    if (lic->has_valid_until) {
        latch_time_format(lic->valid_until, until);
    }
    printf("activated license %s (serial %lld) for %s\n", id,
           (long long)lic->serial, customer);
    printf("valid from %s %s%s\n", from, lic->has_valid_until ? "until " : "",
           lic->has_valid_until ? until : "(perpetual)");
    printf("features:\n");
    dev_print_features(stdout, lic, now);
}

int
cmd_activate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0}};
    struct latch_err err = {LATCH_OK, ""};
    struct latch_report rep = {.n = 0};
    struct latch_license *lic = NULL;
    struct latch_device *dev = NULL;
    struct cli_common common = {0};
    int64_t now = (int64_t)time(NULL);
    bool verbose = false;
    char *buf = NULL;
    size_t len = 0;
    int c, rc;

    for (;;) {
        c = getopt_long(argc, argv, ":vh", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (cli_common_opt(c, optarg, &common)) {
            continue;
        }
        if (c == 'v') {
            verbose = true;
        } else if (c == CLI_OPT_HELP) {
            cli_verb_help(stdout, "activate");
            return CLI_EXIT_OK;
        } else {
            return cli_bad_option("activate", c, argv);
        }
    }
    if (optind + 1 != argc) {
        return cli_usage("activate", "needs exactly one LICENSE file");
    }
    if (argv[optind][0] == '\0') {
        return cli_usage("activate", "LICENSE: empty path");
    }

    dev_quiet_tss();
    if (latch_device_open(common.tcti, common.state_dir, &dev, &err) !=
            LATCH_OK ||
        latch_read_file(argv[optind], LATCH_LICENSE_FILE_MAX, &buf, &len,
                        &err) != LATCH_OK ||
        latch_device_activate(dev, buf, len, now, &lic, &rep, &err) !=
            LATCH_OK) {
        if (verbose) {
            print_report(&rep, true);
        }
        rc = cli_fail("activate", &err);
        goto done;
    }
    print_report(&rep, verbose);
    print_license(lic, now);
    rc = CLI_EXIT_OK;

done:
    free(buf);
    latch_license_free(lic);
    latch_device_close(dev);
    return rc;
}
