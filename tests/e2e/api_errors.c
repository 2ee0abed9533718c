/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * api_errors.c: drives include/latch.h through a good license and through
 * bad arguments, printing one line per call for test_device_api.py:
 *
 *   LABEL st=STATUS err=[LAST_ERROR]
 *
 * The error is printed as liblatch returned it (no escaping here), so the
 * test sees any raw byte that leaked into it.
 *
 *   api_errors TCTI STATE_DIR
 */
#include <inttypes.h>
#include <stdio.h>

#include <latch.h>

static void
show(struct latch_ctx *ctx, const char *label, int st)
{
    printf("%s st=%d err=[%s]\n", label, st, latch_last_error(ctx));
}

static void
quantities(struct latch_ctx *ctx)
{
    int64_t q = 0;

    show(ctx, "q_base", latch_feature_quantity(ctx, "base", &q));
    show(ctx, "q_seats", latch_feature_quantity(ctx, "seats", &q));
    printf("seats=%" PRId64 "\n", q);
    show(ctx, "q_ctx_null", latch_feature_quantity(NULL, "seats", &q));
    show(ctx, "q_name_null", latch_feature_quantity(ctx, NULL, &q));
    show(ctx, "q_out_null", latch_feature_quantity(ctx, "seats", NULL));
    show(ctx, "q_empty", latch_feature_quantity(ctx, "", &q));
    show(ctx, "q_upper", latch_feature_quantity(ctx, "Seats", &q));
    show(ctx, "q_bytes",
         latch_feature_quantity(ctx, "s\xff\x1b[31m\xc3\xa9", &q));
    show(ctx, "q_long",
         latch_feature_quantity(ctx,
                                "a123456789012345678901234567890123456789"
                                "0123456789012345678901234",
                                &q));
    show(ctx, "q_absent", latch_feature_quantity(ctx, "absent", &q));
}

static void
validity(struct latch_ctx *ctx)
{
    int64_t t = 0;
    bool perpetual = false;

    show(ctx, "v_trial",
         latch_feature_valid_until(ctx, "trial", &t, &perpetual));
    show(ctx, "v_ctx_null",
         latch_feature_valid_until(NULL, "trial", &t, &perpetual));
    show(ctx, "v_name_null",
         latch_feature_valid_until(ctx, NULL, &t, &perpetual));
    show(ctx, "v_until_null",
         latch_feature_valid_until(ctx, "trial", NULL, &perpetual));
    show(ctx, "v_perpetual_null",
         latch_feature_valid_until(ctx, "trial", &t, NULL));
    show(ctx, "v_bad", latch_feature_valid_until(ctx, "-x", &t, &perpetual));
}

static void
enabled(struct latch_ctx *ctx)
{
    show(ctx, "e_empty", latch_feature_enabled(ctx, ""));
    show(ctx, "e_seats", latch_feature_enabled(ctx, "seats"));
    show(ctx, "e_beta", latch_feature_enabled(ctx, "beta"));
    show(ctx, "e_null", latch_feature_enabled(ctx, NULL));
    show(ctx, "e_ctx_null", latch_feature_enabled(NULL, "seats"));
}

int
main(int argc, char **argv)
{
    struct latch_options opt = {0};
    struct latch_ctx *ctx = NULL;
    int64_t q = 0;
    int st;

    if (argc != 3) {
        fprintf(stderr, "usage: api_errors TCTI STATE_DIR\n");
        return 2;
    }
    opt.tcti = argv[1];
    opt.state_dir = argv[2];
    printf("open_null=%d\n", latch_open(&opt, NULL));
    printf("load_null=%d\n", latch_load(NULL));
    printf("last_error_null=[%s]\n", latch_last_error(NULL));
    st = latch_open(&opt, &ctx);
    if (st != LATCH_OK) {
        printf("open st=%d\n", st);
        return 1;
    }
    show(ctx, "q_unloaded", latch_feature_quantity(ctx, "seats", &q));
    show(ctx, "load", latch_load(ctx));
    quantities(ctx);
    validity(ctx);
    enabled(ctx);
    latch_close(ctx);
    latch_close(NULL);
    return 0;
}
