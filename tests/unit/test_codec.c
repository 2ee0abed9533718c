/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_codec.c: strict base64 (RFC 4648 vectors, one spelling per value),
 * lowercase hex, RFC 3339 UTC times with calendar checks, and the UTF-8
 * decoder's RFC 3629 edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "codec.h"

static void
test_b64_matches_rfc4648_vectors(void **state)
{
    static const char *const plain[] = {"",     "f",     "fo",    "foo",
                                        "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    struct latch_err err;
    uint8_t *bin = NULL;
    char *txt = NULL;
    size_t i, n;

    (void)state;
    for (i = 0; i < 7; i++) {
        assert_int_equal(
            latch_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), &txt),
            LATCH_OK);
        assert_string_equal(txt, enc[i]);
        free(txt);
        assert_int_equal(latch_b64_decode(enc[i], 64, &bin, &n, &err),
                         LATCH_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(bin, plain[i], n);
        free(bin);
    }
}

static void
test_b64_round_trips_every_byte_and_length(void **state)
{
    struct latch_err err;
    uint8_t in[300], *out = NULL;
    char *txt = NULL;
    size_t len, n;

    (void)state;
    for (len = 0; len < sizeof(in); len++) {
        in[len] = (uint8_t)(len * 7 + 3);
    }
    for (len = 0; len <= sizeof(in); len += 1) {
        assert_int_equal(latch_b64_encode(in, len, &txt), LATCH_OK);
        assert_int_equal(strlen(txt), (len + 2) / 3 * 4);
        assert_int_equal(latch_b64_decode(txt, len, &out, &n, &err), LATCH_OK);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
        free(out);
        free(txt);
    }
}

static void
assert_b64_rejects(const char *in, const char *want)
{
    struct latch_err err;
    uint8_t *out = (uint8_t *)&err;
    size_t n = 42;

    latch_err_clear(&err);
    assert_int_equal(latch_b64_decode(in, 1024, &out, &n, &err),
                     LATCH_E_FORMAT);
    assert_null(out);
    assert_int_equal(n, 0);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", in, err.msg, want);
    }
}

static void
test_b64_rejects_every_non_canonical_spelling(void **state)
{
    (void)state;
    assert_b64_rejects("Zg", "not a multiple of 4");
    assert_b64_rejects("Zg=", "not a multiple of 4");
    assert_b64_rejects("Zm9vY", "not a multiple of 4");
    assert_b64_rejects("Zm9v\n", "not a multiple of 4");
    assert_b64_rejects("Zm9v\nZm9", "0x0a at offset 4");
    assert_b64_rejects("Zm 9", "0x20 at offset 2");
    assert_b64_rejects(" Zm9", "0x20 at offset 0");
    assert_b64_rejects("Zm9-", "0x2d at offset 3");
    assert_b64_rejects("Zm9_", "0x5f at offset 3");
    assert_b64_rejects("Zg==Zg==", "0x3d at offset 2");
    assert_b64_rejects("Z===", "0x3d at offset 1");
    assert_b64_rejects("====", "0x3d at offset 0");
    assert_b64_rejects("Zh==", "non-zero bits");
    assert_b64_rejects("Zm9=", "non-zero bits");
    assert_b64_rejects("Zm8\xc3", "0xc3 at offset 3");
}

static void
test_b64_enforces_the_size_cap(void **state)
{
    struct latch_err err;
    uint8_t *out = NULL;
    size_t n;

    (void)state;
    assert_int_equal(latch_b64_decode("Zm9vYmFy", 6, &out, &n, &err), LATCH_OK);
    free(out);
    assert_int_equal(latch_b64_decode("Zm9vYmFy", 5, &out, &n, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg,
                        "base64: decodes to 6 bytes, more than the 5 allowed");
    assert_int_equal(latch_b64_decode("Zm9vYg==", 3, &out, &n, &err),
                     LATCH_E_FORMAT);
    assert_int_equal(latch_b64_decode("", 0, &out, &n, &err), LATCH_OK);
    assert_int_equal(n, 0);
    free(out);
}

static void
test_hex_round_trips_and_is_lowercase(void **state)
{
    static const uint8_t in[] = {0x00, 0x0b, 0xab, 0xff, 0x10};
    struct latch_err err;
    char txt[11];
    uint8_t out[5];
    size_t n;

    (void)state;
    latch_hex_encode(in, sizeof(in), txt);
    assert_string_equal(txt, "000babff10");
    assert_int_equal(latch_hex_decode(txt, out, sizeof(out), &n, &err),
                     LATCH_OK);
    assert_int_equal(n, sizeof(in));
    assert_memory_equal(out, in, n);
    latch_hex_encode(in, 0, txt);
    assert_string_equal(txt, "");
}

static void
test_hex_rejects_uppercase_odd_length_and_overflow(void **state)
{
    struct latch_err err;
    uint8_t out[2];
    size_t n = 9;

    (void)state;
    assert_int_equal(latch_hex_decode("AB", out, 2, &n, &err), LATCH_E_FORMAT);
    assert_string_equal(err.msg, "hex: character at offset 0 is not a "
                                 "lowercase hex digit");
    assert_int_equal(n, 0);
    assert_int_equal(latch_hex_decode("abc", out, 2, &n, &err), LATCH_E_FORMAT);
    assert_string_equal(err.msg, "hex: odd number of digits (3)");
    assert_int_equal(latch_hex_decode("0g", out, 2, &n, &err), LATCH_E_FORMAT);
    assert_string_equal(err.msg, "hex: character at offset 1 is not a "
                                 "lowercase hex digit");
    assert_int_equal(latch_hex_decode("000000", out, 2, &n, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "hex: longer than the 2 bytes allowed");
    assert_int_equal(latch_hex_decode(" 00", out, 2, &n, &err), LATCH_E_FORMAT);
}

/* An independent civil-to-epoch conversion (days from civil). */
static int64_t
epoch_of(int y, int m, int d, int hh, int mm, int ss)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss;
}

static void
test_time_parses_valid_instants(void **state)
{
    struct latch_err err;
    int64_t t;

    (void)state;
    assert_int_equal(latch_time_parse("1970-01-01T00:00:00Z", &t, &err),
                     LATCH_OK);
    assert_int_equal(t, 0);
    assert_int_equal(latch_time_parse("2027-01-31T00:00:00Z", &t, &err),
                     LATCH_OK);
    assert_int_equal(t, epoch_of(2027, 1, 31, 0, 0, 0));
    assert_int_equal(latch_time_parse("2000-02-29T12:34:56Z", &t, &err),
                     LATCH_OK);
    assert_int_equal(t, epoch_of(2000, 2, 29, 12, 34, 56));
    assert_int_equal(latch_time_parse("2024-02-29T23:59:59Z", &t, &err),
                     LATCH_OK);
    assert_int_equal(t, epoch_of(2024, 2, 29, 23, 59, 59));
    assert_int_equal(latch_time_parse("9999-12-31T23:59:59Z", &t, &err),
                     LATCH_OK);
    assert_int_equal(t, 253402300799LL);
}

static void
assert_time_rejects(const char *s, const char *want)
{
    struct latch_err err;
    int64_t t = 77;

    assert_int_equal(latch_time_parse(s, &t, &err), LATCH_E_FORMAT);
    assert_int_equal(t, 77);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, want);
    }
}

static void
test_time_rejects_other_spellings_and_impossible_dates(void **state)
{
    const char *form = "not of the form";
    const char *range = "out of range";

    (void)state;
    assert_time_rejects("2027-01-31T00:00:00", form);
    assert_time_rejects("2027-01-31T00:00:00z", form);
    assert_time_rejects("2027-01-31t00:00:00Z", form);
    assert_time_rejects("2027-01-31 00:00:00Z", form);
    assert_time_rejects("2027-01-31T00:00:00+00:00", form);
    assert_time_rejects("2027-01-31T00:00:00.5Z", form);
    assert_time_rejects("2027-01-31T00:00:00ZZ", form);
    assert_time_rejects("2027-1-31T00:00:00Z", form);
    assert_time_rejects("2027-01-31T0:00:000Z", form);
    assert_time_rejects("+027-01-31T00:00:00Z", form);
    assert_time_rejects("2027-01-3 T00:00:00Z", form);
    assert_time_rejects("", form);
    assert_time_rejects("1969-12-31T23:59:59Z", range);
    assert_time_rejects("2023-02-29T00:00:00Z", range);
    assert_time_rejects("2100-02-29T00:00:00Z", range);
    assert_time_rejects("2027-04-31T00:00:00Z", range);
    assert_time_rejects("2027-13-01T00:00:00Z", range);
    assert_time_rejects("2027-00-01T00:00:00Z", range);
    assert_time_rejects("2027-01-00T00:00:00Z", range);
    assert_time_rejects("2027-01-01T24:00:00Z", range);
    assert_time_rejects("2027-01-01T23:60:00Z", range);
    assert_time_rejects("2016-12-31T23:59:60Z", range);
}

static void
test_time_format_round_trips(void **state)
{
    static const int64_t samples[] = {0, 951782400, 1801353600, 4107542399LL,
                                      253402300799LL};
    char buf[LATCH_TIME_LEN];
    struct latch_err err;
    int64_t t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        latch_time_format(samples[i], buf);
        assert_int_equal(strlen(buf), LATCH_TIME_LEN - 1);
        assert_int_equal(latch_time_parse(buf, &t, &err), LATCH_OK);
        assert_int_equal(t, samples[i]);
    }
    latch_time_format(1801353600, buf);
    assert_string_equal(buf, "2027-01-31T00:00:00Z");
    /* Every day of a leap and a common year. */
    for (t = epoch_of(2023, 1, 1, 0, 0, 0); t < epoch_of(2025, 1, 1, 0, 0, 0);
         t += 86400 + 3661) {
        int64_t back;

        latch_time_format(t, buf);
        assert_int_equal(latch_time_parse(buf, &back, &err), LATCH_OK);
        assert_int_equal(back, t);
    }
}

static void
test_time_format_clamps_out_of_range(void **state)
{
    char buf[LATCH_TIME_LEN];

    (void)state;
    latch_time_format(-1, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    latch_time_format(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void
test_utf8_decoder_follows_rfc3629(void **state)
{
    static const struct {
        const char *s;
        size_t n;
        size_t want_len;
        uint32_t want_cp;
    } cases[] = {
        {"A", 1, 1, 0x41},
        {"\xc2\x80", 2, 2, 0x80},
        {"\xdf\xbf", 2, 2, 0x7ff},
        {"\xe0\xa0\x80", 3, 3, 0x800},
        {"\xed\x9f\xbf", 3, 3, 0xd7ff},
        {"\xee\x80\x80", 3, 3, 0xe000},
        {"\xef\xbf\xbf", 3, 3, 0xffff},
        {"\xf0\x90\x80\x80", 4, 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
        {"\xc0\xaf", 2, 0, 0},         /* overlong '/' */
        {"\xc1\xbf", 2, 0, 0},         /* overlong */
        {"\xe0\x9f\xbf", 3, 0, 0},     /* overlong */
        {"\xf0\x8f\xbf\xbf", 4, 0, 0}, /* overlong */
        {"\xed\xa0\x80", 3, 0, 0},     /* U+D800 */
        {"\xed\xbf\xbf", 3, 0, 0},     /* U+DFFF */
        {"\xf4\x90\x80\x80", 4, 0, 0}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0, 0},
        {"\xff", 1, 0, 0},
        {"\x80", 1, 0, 0},         /* stray continuation */
        {"\xe2\x82", 2, 0, 0},     /* truncated */
        {"\xe2\x28\xa1", 3, 0, 0}, /* bad continuation */
        {"\xf0\x9f\x98", 3, 0, 0}, /* truncated */
    };
    uint32_t cp;
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cp = 0xdeadbeef;
        k = latch_utf8_next((const uint8_t *)cases[i].s, cases[i].n, &cp);
        if (k != cases[i].want_len || (k != 0 && cp != cases[i].want_cp)) {
            fail_msg("case %zu: got len %zu cp %x", i, k, (unsigned)cp);
        }
    }
    assert_int_equal(latch_utf8_next((const uint8_t *)"", 0, &cp), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_matches_rfc4648_vectors),
        cmocka_unit_test(test_b64_round_trips_every_byte_and_length),
        cmocka_unit_test(test_b64_rejects_every_non_canonical_spelling),
        cmocka_unit_test(test_b64_enforces_the_size_cap),
        cmocka_unit_test(test_hex_round_trips_and_is_lowercase),
        cmocka_unit_test(test_hex_rejects_uppercase_odd_length_and_overflow),
        cmocka_unit_test(test_time_parses_valid_instants),
        cmocka_unit_test(
            test_time_rejects_other_spellings_and_impossible_dates),
        cmocka_unit_test(test_time_format_round_trips),
        cmocka_unit_test(test_time_format_clamps_out_of_range),
        cmocka_unit_test(test_utf8_decoder_follows_rfc3629),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
