/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * feature_gate.c: how an application gates a feature with liblatch. It
 * proves the installed license with the TPM once at start, then asks
 * about the feature; exit 0 and the feature's limits when it may run.
 *
 *   feature_gate FEATURE [TCTI [STATE_DIR]]
 *
 * Build against an installed liblatch: cc feature_gate.c $(pkg-config
 * --cflags --libs latch).
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <latch.h>

static void
log_to_stderr(void *arg, enum latch_log_level level, const char *msg)
{
    (void)arg;
    if (level <= LATCH_LOG_WARN) {
        fprintf(stderr, "liblatch: %s\n", msg);
    }
}

static int
report(struct latch_ctx *ctx, const char *feature)
{
    int64_t quantity = 0;
    int64_t until = 0;
    bool perpetual = false;
    char when[32];
    time_t t;

    if (!latch_feature_enabled(ctx, feature)) {
        printf("%s: not licensed (%s)\n", feature, latch_last_error(ctx));
        return 1;
    }
    printf("%s: licensed", feature);
    if (latch_feature_quantity(ctx, feature, &quantity) == LATCH_OK) {
        printf(", quantity %" PRId64, quantity);
    }
    if (latch_feature_valid_until(ctx, feature, &until, &perpetual) ==
            LATCH_OK &&
        !perpetual) {
        t = (time_t)until;
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
        printf(", until %s", when);
    }
    printf("\n");
    return 0;
}

int
main(int argc, char **argv)
{
    struct latch_options opt = {.log = log_to_stderr};
    struct latch_ctx *ctx = NULL;
    enum latch_status st;
    int rc;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: feature_gate FEATURE [TCTI [STATE_DIR]]\n");
        return 2;
    }
    opt.tcti = argc > 2 ? argv[2] : NULL;
    opt.state_dir = argc > 3 ? argv[3] : NULL;
    st = latch_open(&opt, &ctx);
    if (st != LATCH_OK) {
        fprintf(stderr, "feature_gate: %s\n", latch_strerror(st));
        return 1;
    }
    st = latch_load(ctx);
    if (st != LATCH_OK) {
        /* Fail closed: without a proven license every feature is off. */
        printf("%s: not licensed (%s: %s)\n", argv[1], latch_strerror(st),
               latch_last_error(ctx));
        latch_close(ctx);
        return 1;
    }
    rc = report(ctx, argv[1]);
    latch_close(ctx);
    return rc;
}
