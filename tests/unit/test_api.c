/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_api.c: the argument rules of include/latch.h that need no TPM. A
 * NULL context, name or output pointer and an impossible feature name are
 * LATCH_E_USAGE with the name escaped; each call replaces the last error.
 * (The error after a successful call is tests/e2e/test_device_api.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "latch.h"

static int
setup(void **state)
{
    struct latch_options opt = {
        .tcti = "swtpm:path=/nonexistent/latch-test-api.sock",
        .state_dir = "/nonexistent/latch-test-api",
    };
    struct latch_ctx *ctx = NULL;

    if (latch_open(&opt, &ctx) != LATCH_OK) {
        return -1;
    }
    *state = ctx;
    return 0;
}

static int
teardown(void **state)
{
    latch_close(*state);
    return 0;
}

static bool
printable(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            return false;
        }
    }
    return true;
}

static void
test_null_arguments_are_usage_errors(void **state)
{
    struct latch_ctx *ctx = *state;
    int64_t q = 0, t = 0;
    bool p = false;

    assert_int_equal(latch_open(NULL, NULL), LATCH_E_USAGE);
    assert_int_equal(latch_load(NULL), LATCH_E_USAGE);
    assert_string_equal(latch_last_error(NULL), "");
    assert_false(latch_feature_enabled(NULL, "seats"));
    assert_int_equal(latch_feature_quantity(NULL, "seats", &q), LATCH_E_USAGE);
    assert_int_equal(latch_feature_valid_until(NULL, "seats", &t, &p),
                     LATCH_E_USAGE);
    assert_int_equal(latch_feature_quantity(ctx, NULL, &q), LATCH_E_USAGE);
    assert_string_equal(latch_last_error(ctx), "feature name is NULL");
    assert_int_equal(latch_feature_quantity(ctx, "seats", NULL), LATCH_E_USAGE);
    assert_string_equal(latch_last_error(ctx),
                        "quantity output pointer is NULL");
    assert_int_equal(latch_feature_valid_until(ctx, NULL, &t, &p),
                     LATCH_E_USAGE);
    assert_int_equal(latch_feature_valid_until(ctx, "seats", NULL, &p),
                     LATCH_E_USAGE);
    assert_int_equal(latch_feature_valid_until(ctx, "seats", &t, NULL),
                     LATCH_E_USAGE);
    assert_string_equal(latch_last_error(ctx),
                        "perpetual output pointer is NULL");
    assert_false(latch_feature_enabled(ctx, NULL));
    assert_string_equal(latch_last_error(ctx), "feature name is NULL");
}

static void
test_impossible_names_are_usage_errors_escaped(void **state)
{
    static const char *const bad[] = {
        "",
        "Seats",
        "_x",
        "a b",
        "s\xff\x1b[31m",
        "\xc3\xa9t\xc3\xa9",
        "a1234567890123456789012345678901234567890123456789012345678901234",
    };
    struct latch_ctx *ctx = *state;
    int64_t q = 0;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(latch_feature_quantity(ctx, bad[i], &q),
                         LATCH_E_USAGE);
        assert_non_null(strstr(latch_last_error(ctx), "is not valid"));
        assert_true(printable(latch_last_error(ctx)));
    }
    assert_non_null(strstr(latch_last_error(ctx), "feature name 'a123"));
    assert_int_equal(latch_feature_quantity(ctx, "s\xff\x1b[31m", &q),
                     LATCH_E_USAGE);
    assert_non_null(strstr(latch_last_error(ctx), "'s\\xff\\x1b[31m'"));
}

static void
test_each_call_replaces_the_last_error(void **state)
{
    struct latch_ctx *ctx = *state;
    int64_t q = 0;

    assert_int_equal(latch_feature_quantity(ctx, "seats", &q),
                     LATCH_E_NOT_FOUND);
    assert_string_equal(latch_last_error(ctx),
                        "no license is loaded (latch_load() has not "
                        "succeeded)");
    assert_false(latch_feature_enabled(ctx, ""));
    assert_non_null(strstr(latch_last_error(ctx), "feature name ''"));
    assert_int_equal(latch_load(ctx), LATCH_E_NOT_FOUND);
    assert_non_null(strstr(latch_last_error(ctx), "no license installed"));
    assert_false(latch_feature_enabled(ctx, "seats"));
    assert_non_null(strstr(latch_last_error(ctx), "no license is loaded"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_null_arguments_are_usage_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_impossible_names_are_usage_errors_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_call_replaces_the_last_error,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
