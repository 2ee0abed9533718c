/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_json.c: the strict JSON reader against the strictness rules of
 * docs/format.md (each rejection with its message), JSONTestSuite
 * (tests/data/json) and the typed getters.
 */
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fsutil.h"
#include "json.h"
#include "license.h"

static const char *
data_dir(void)
{
    const char *d = getenv("LATCH_TESTDATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

/* Parses s and returns the status; the message is left in *err. */
static enum latch_status
parse_str(const char *s, size_t len, struct latch_err *err)
{
    json_t *v = NULL;
    enum latch_status st;

    latch_err_clear(err);
    st = latch_json_parse(s, len, &v, err);
    if (st == LATCH_OK) {
        assert_non_null(v);
    } else {
        assert_null(v);
    }
    json_decref(v);
    return st;
}

/* Asserts that s is rejected with a message containing want. */
static void
assert_rejects(const char *s, size_t len, const char *want)
{
    struct latch_err err;

    assert_int_equal(parse_str(s, len, &err), LATCH_E_FORMAT);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("input %.60s: message \"%s\" lacks \"%s\"", s, err.msg, want);
    }
}

static void
assert_accepts(const char *s, size_t len)
{
    struct latch_err err;

    if (parse_str(s, len, &err) != LATCH_OK) {
        fail_msg("input %.60s rejected: %s", s, err.msg);
    }
}

#define REJECTS(lit, want) assert_rejects(lit, sizeof(lit) - 1, want)
#define ACCEPTS(lit)       assert_accepts(lit, sizeof(lit) - 1)

static void
test_parse_accepts_a_license_shaped_document(void **state)
{
    (void)state;
    ACCEPTS("{\"format\":\"latch.license.v1\",\"license\":{\"serial\":3,"
            "\"features\":{\"x\":{\"enabled\":true,\"quantity\":16}},"
            "\"customer\":\"ACME \\u00e9\",\"list\":[],\"n\":null}}");
}

static void
test_parse_rejects_duplicate_member(void **state)
{
    (void)state;
    REJECTS("{\"f\":1,\"f\":2}", "f: duplicate member name");
    REJECTS("{\"a\":{\"b\":[{\"c\":1,\"c\":1}]}}",
            "a.b[0].c: duplicate member name");
}

static void
test_parse_rejects_duplicate_member_after_unescaping(void **state)
{
    (void)state;
    REJECTS("{\"max\":1,\"\\u006dax\":9}", "max: duplicate member name");
    REJECTS("{\"\\u00e9\":1,\"\xc3\xa9\":2}", "\\u00e9: duplicate member name");
    REJECTS("{\"a/\":1,\"a\\/\":2}", "a/: duplicate member name");
}

static void
test_parse_keeps_case_and_normalisation_distinct(void **state)
{
    (void)state;
    ACCEPTS("{\"f\":1,\"F\":2}");
    /* e + COMBINING ACUTE and U+00E9 are two names (no normalisation). */
    ACCEPTS("{\"e\\u0301\":1,\"\\u00e9\":2}");
}

static void
test_parse_rejects_fraction(void **state)
{
    (void)state;
    REJECTS("{\"license\":{\"features\":{\"x\":{\"quantity\":1.0}}}}",
            "license.features.x.quantity: number 1.0 is not an integer");
    REJECTS("[-0.0]", "[0]: number -0.0 is not an integer");
}

static void
test_parse_rejects_exponent(void **state)
{
    (void)state;
    REJECTS("{\"n\":1e3}", "n: number 1e3 is not an integer");
    REJECTS("{\"n\":1E+3}", "n: number 1E+3 is not an integer");
}

static void
test_parse_rejects_integer_beyond_2_53_minus_1(void **state)
{
    (void)state;
    REJECTS("{\"serial\":9007199254740993}",
            "serial: integer 9007199254740993 is outside "
            "[-9007199254740991, 9007199254740991]");
    REJECTS("[9007199254740992]", "integer 9007199254740992 is outside");
    REJECTS("[-9007199254740992]", "integer -9007199254740992 is outside");
    REJECTS("[123456789012345678901234567890]", "is outside");
    ACCEPTS("[9007199254740991,-9007199254740991,0,-1]");
}

static void
test_parse_rejects_negative_zero(void **state)
{
    (void)state;
    REJECTS("{\"q\":-0}", "q: number -0 is not allowed");
    REJECTS("[1,-0]", "[1]: number -0 is not allowed");
}

static void
test_parse_rejects_invalid_utf8(void **state)
{
    (void)state;
    REJECTS("{\"s\":\"\xff\"}", "s: invalid UTF-8 (byte 0xff) in a string");
    /* overlong '/', encoded surrogate, above U+10FFFF, truncated */
    REJECTS("[\"\xc0\xaf\"]", "invalid UTF-8 (byte 0xc0)");
    REJECTS("[\"\xed\xa0\x80\"]", "invalid UTF-8 (byte 0xed)");
    REJECTS("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8 (byte 0xf4)");
    REJECTS("[\"\xe2\x82\"]", "invalid UTF-8 (byte 0xe2)");
    REJECTS("{\"k\xe9y\":1}", "invalid UTF-8 (byte 0xe9) in a member name");
}

static void
test_parse_rejects_lone_surrogates(void **state)
{
    (void)state;
    REJECTS("{\"s\":\"\\ud800\"}", "s: lone surrogate \\ud800 in a string");
    REJECTS("[\"\\udc00\"]", "[0]: lone surrogate \\udc00 in a string");
    REJECTS("[\"\\ud800\\u0041\"]", "lone surrogate \\ud800");
    REJECTS("[\"\\ude00\\ud83d\"]", "lone surrogate \\ude00");
    REJECTS("{\"\\uD800\":1}", "lone surrogate \\ud800 in a member name");
    ACCEPTS("[\"\\ud83d\\ude00\",\"\\uD83D\\uDE00\"]");
}

static void
test_parse_rejects_escaped_nul(void **state)
{
    (void)state;
    REJECTS("[\"A\\u0000B\"]", "\\u0000 is not allowed in a string");
    REJECTS("{\"a\\u0000\":1}", "\\u0000 is not allowed in a member name");
}

static void
test_parse_rejects_bytes_after_the_document(void **state)
{
    (void)state;
    /* jansson alone stops at a NUL byte and would accept these. */
    REJECTS("{}\0", "invalid JSON");
    REJECTS("123\0", "unexpected byte 0x00");
    REJECTS("{} {}", "invalid JSON");
    REJECTS("\xef\xbb\xbf{}", "invalid JSON");
}

/* depth levels of [ ... ] around 1 */
static char *
nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 2);
    int i;

    assert_non_null(s);
    for (i = 0; i < depth; i++) {
        s[i] = '[';
        s[depth + 1 + i] = ']';
    }
    s[depth] = '1';
    s[2 * depth + 1] = '\0';
    return s;
}

static void
test_parse_rejects_depth_17(void **state)
{
    char *s16 = nested(16), *s17 = nested(17), *deep = nested(30000);

    (void)state;
    assert_accepts(s16, strlen(s16));
    assert_rejects(s17, strlen(s17), "nesting deeper than 16 levels");
    /* Long before jansson's own limit, and without recursion. */
    assert_rejects(deep, strlen(deep), "nesting deeper than 16 levels");
    REJECTS("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{"
            "\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":{\"p\":{\"q\":{}}}}}}}}}}"
            "}}}}}}}}",
            "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p: nesting deeper than 16");
    free(s16);
    free(s17);
    free(deep);
}

static void
test_parse_rejects_65_kib(void **state)
{
    size_t max = LATCH_JSON_MAX_BYTES;
    char *s = malloc(max + 1025);

    (void)state;
    assert_non_null(s);
    /* exactly 64 KiB: one string */
    s[0] = '"';
    memset(s + 1, 'a', max - 2);
    s[max - 1] = '"';
    assert_accepts(s, max);
    /* 65 KiB */
    memset(s + 1, 'a', max + 1024 - 2);
    s[max + 1024 - 1] = '"';
    assert_rejects(s, max + 1024,
                   "input is 66560 bytes, more than the 65536 allowed");
    assert_rejects(s, max + 1, "more than the 65536 allowed");
    free(s);
}

static void
test_parse_rejects_empty_and_null_input(void **state)
{
    struct latch_err err;
    json_t *v = NULL;

    (void)state;
    REJECTS("", "invalid JSON");
    REJECTS("   ", "invalid JSON");
    assert_int_equal(latch_json_parse(NULL, 0, &v, &err), LATCH_E_FORMAT);
    assert_null(v);
}

static void
test_messages_never_echo_raw_non_ascii(void **state)
{
    struct latch_err err;
    const char *doc = "{\"license\":{\"\xe2\x80\xae"
                      "evil\":1,\"\xe2\x80\xae"
                      "evil\":2}}";
    const char *p;

    (void)state;
    assert_int_equal(parse_str(doc, strlen(doc), &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "license.\\u202eevil: duplicate"));
    for (p = err.msg; *p != '\0'; p++) {
        assert_true(*p >= 0x20 && *p < 0x7f);
    }
}

static void
test_only_members_rejects_unknown_member(void **state)
{
    static const char *const allowed[] = {"format", "license", "signature",
                                          NULL};
    struct latch_err err;
    json_t *v = NULL;
    const char *ok = "{\"format\":1,\"license\":{},\"signature\":{}}";
    const char *bad = "{\"format\":1,\"license\":{},\"features\":{}}";
    const char *bidi = "{\"\xe2\x80\xae\":1}";

    (void)state;
    assert_int_equal(latch_json_parse(ok, strlen(ok), &v, &err), LATCH_OK);
    assert_int_equal(latch_json_only_members(v, allowed, "", &err), LATCH_OK);
    json_decref(v);

    assert_int_equal(latch_json_parse(bad, strlen(bad), &v, &err), LATCH_OK);
    assert_int_equal(latch_json_only_members(v, allowed, "", &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "features: unknown member");
    assert_int_equal(latch_json_only_members(v, allowed, "license", &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "license.features: unknown member");
    json_decref(v);

    assert_int_equal(latch_json_parse(bidi, strlen(bidi), &v, &err), LATCH_OK);
    assert_int_equal(latch_json_only_members(v, allowed, "x", &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "x.\\u202e: unknown member");
    json_decref(v);
}

static json_t *
must_parse(const char *s)
{
    struct latch_err err;
    json_t *v = NULL;

    if (latch_json_parse(s, strlen(s), &v, &err) != LATCH_OK) {
        fail_msg("%s", err.msg);
    }
    return v;
}

static void
test_getters_read_each_type(void **state)
{
    json_t *v = must_parse(
        "{\"s\":\"hi\",\"i\":-42,\"b\":false,\"o\":{},\"a\":[1],"
        "\"t\":\"2027-01-31T00:00:00Z\",\"x\":\"00ff\",\"z\":\"AAEC\"}");
    struct latch_err err;
    const char *s = NULL;
    int64_t i = 0, t = 0;
    bool b = true, present = false;
    json_t *o = NULL, *a = NULL;
    uint8_t hex[4], *bin = NULL;
    size_t hexlen = 0, binlen = 0;

    (void)state;
    assert_int_equal(
        latch_json_get_string(v, "s", "w", true, &s, &present, &err), LATCH_OK);
    assert_string_equal(s, "hi");
    assert_true(present);
    assert_int_equal(latch_json_get_int(v, "i", "w", true, &i, NULL, &err),
                     LATCH_OK);
    assert_int_equal(i, -42);
    assert_int_equal(latch_json_get_bool(v, "b", "w", true, &b, NULL, &err),
                     LATCH_OK);
    assert_false(b);
    assert_int_equal(latch_json_get_object(v, "o", "w", true, &o, NULL, &err),
                     LATCH_OK);
    assert_true(json_is_object(o));
    assert_int_equal(latch_json_get_array(v, "a", "w", true, &a, NULL, &err),
                     LATCH_OK);
    assert_int_equal(json_array_size(a), 1);
    assert_int_equal(latch_json_get_time(v, "t", "w", true, &t, NULL, &err),
                     LATCH_OK);
    assert_int_equal(t, 1801353600);
    assert_int_equal(latch_json_get_hex(v, "x", "w", true, hex, sizeof(hex),
                                        &hexlen, NULL, &err),
                     LATCH_OK);
    assert_int_equal(hexlen, 2);
    assert_int_equal(hex[1], 0xff);
    assert_int_equal(
        latch_json_get_b64(v, "z", "w", true, 16, &bin, &binlen, NULL, &err),
        LATCH_OK);
    assert_int_equal(binlen, 3);
    assert_int_equal(bin[2], 2);
    free(bin);
    json_decref(v);
}

static void
test_getters_name_missing_and_mistyped_members(void **state)
{
    json_t *v = must_parse("{\"s\":1,\"i\":\"1\",\"b\":1,\"n\":null}");
    struct latch_err err;
    const char *s = "untouched";
    int64_t i = 7;
    bool b = false, present = true;
    json_t *o = NULL;

    (void)state;
    assert_int_equal(
        latch_json_get_string(v, "gone", "license", true, &s, NULL, &err),
        LATCH_E_FORMAT);
    assert_string_equal(err.msg, "license.gone: required member missing");
    assert_int_equal(
        latch_json_get_string(v, "gone", "license", false, &s, &present, &err),
        LATCH_OK);
    assert_false(present);
    assert_string_equal(s, "untouched");
    assert_int_equal(latch_json_get_string(v, "s", "l", true, &s, NULL, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "l.s: expected a string, got an integer");
    assert_int_equal(latch_json_get_int(v, "i", "", true, &i, NULL, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "i: expected an integer, got a string");
    assert_int_equal(i, 7);
    assert_int_equal(latch_json_get_bool(v, "b", "x", true, &b, NULL, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "x.b: expected a boolean, got an integer");
    assert_int_equal(latch_json_get_object(v, "n", "x", false, &o, NULL, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "x.n: expected an object, got null");
    json_decref(v);
}

static void
test_getters_prefix_codec_errors_with_the_member(void **state)
{
    json_t *v = must_parse("{\"t\":\"2027-02-29T00:00:00Z\",\"x\":\"0F\","
                           "\"z\":\"AB==\",\"big\":\"AAAAAA==\"}");
    struct latch_err err;
    int64_t t;
    uint8_t hex[4], *bin = NULL;
    size_t n;

    (void)state;
    assert_int_equal(latch_json_get_time(v, "t", "l", true, &t, NULL, &err),
                     LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "l.t: time: "));
    assert_int_equal(
        latch_json_get_hex(v, "x", "l", true, hex, sizeof(hex), &n, NULL, &err),
        LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "l.x: hex: "));
    assert_int_equal(
        latch_json_get_b64(v, "z", "l", true, 16, &bin, &n, NULL, &err),
        LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "l.z: base64: non-zero bits"));
    assert_int_equal(
        latch_json_get_b64(v, "big", "l", true, 3, &bin, &n, NULL, &err),
        LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "more than the 3 allowed"));
    assert_null(bin);
    json_decref(v);
}

static void
test_get_string_rejects_embedded_nul_built_in_code(void **state)
{
    json_t *v = json_object();
    struct latch_err err;
    const char *s = NULL;

    (void)state;
    assert_int_equal(json_object_set_new(v, "c", json_stringn("A\0B", 3)), 0);
    assert_int_equal(latch_json_get_string(v, "c", "l", true, &s, NULL, &err),
                     LATCH_E_FORMAT);
    assert_string_equal(err.msg, "l.c: string contains U+0000");
    json_decref(v);
}

static void
test_get_int_rejects_out_of_range_built_in_code(void **state)
{
    json_t *v = json_object();
    struct latch_err err;
    int64_t i;

    (void)state;
    json_object_set_new(v, "n", json_integer(LATCH_JSON_MAX_INT + 1));
    assert_int_equal(latch_json_get_int(v, "n", "l", true, &i, NULL, &err),
                     LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "l.n: integer 9007199254740992 is"));
    json_decref(v);
}

/*
 * The feature-name rule lives in license.c; checked here against the
 * pattern docs/format.md states, with POSIX regex as the oracle.
 */
static void
test_feature_name_rule_matches_the_documented_pattern(void **state)
{
    static const char *const fixed[] = {
        "a",          "0",           "pro",
        "max_users",  "x.y-z",       "9lives",
        "a_",         "a.",          "a-",
        "",           "_a",          ".a",
        "-a",         "A",           "Pro",
        "a b",        "a/b",         "a\\b",
        "a:b",        "\xd0\xb0", /* Cyrillic a, a look-alike */
        "pr\xd0\xbe", "caf\xc3\xa9", "a\xe2\x80\xae",
        "a\n"};
    static const char alphabet[] = "az09_.-A/\xd0 ";
    regex_t re;
    char name[80];
    size_t i, j, n;
    uint64_t x = 88172645463325252ULL;

    (void)state;
    assert_int_equal(
        regcomp(&re, "^[a-z0-9][a-z0-9_.-]{0,63}$", REG_EXTENDED | REG_NOSUB),
        0);
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (latch_feature_name_ok(fixed[i]) !=
            (regexec(&re, fixed[i], 0, NULL, 0) == 0)) {
            fail_msg("feature name \"%s\" judged differently", fixed[i]);
        }
    }
    memset(name, 'a', 66);
    name[64] = '\0';
    assert_true(latch_feature_name_ok(name));
    name[64] = 'a';
    name[65] = '\0';
    assert_false(latch_feature_name_ok(name));
    for (i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = (size_t)(x % 67);
        for (j = 0; j < n; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            name[j] = alphabet[x % (sizeof(alphabet) - 1)];
        }
        name[n] = '\0';
        if (latch_feature_name_ok(name) !=
            (regexec(&re, name, 0, NULL, 0) == 0)) {
            fail_msg("feature name \"%s\" judged differently", name);
        }
    }
    assert_false(latch_feature_name_ok(NULL));
    regfree(&re);
}

/*
 * JSONTestSuite verdicts: n_ rejected, y_ accepted except the listed ones,
 * i_ all rejected (see tests/data/json/README.md for each choice).
 */
static const char *const y_rejected[] = {
    /* fractions and exponents */
    "y_number.json", "y_number_0e+1.json", "y_number_0e1.json",
    "y_number_double_close_to_zero.json", "y_number_int_with_exp.json",
    "y_number_real_capital_e.json", "y_number_real_capital_e_neg_exp.json",
    "y_number_real_capital_e_pos_exp.json", "y_number_real_exponent.json",
    "y_number_real_fraction_exponent.json", "y_number_real_neg_exp.json",
    "y_number_real_pos_exponent.json", "y_number_simple_real.json",
    "y_object_extreme_numbers.json", "y_structure_lonely_negative_real.json",
    /* duplicate member names */
    "y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json",
    /* -0 */
    "y_number_minus_zero.json", "y_number_negative_zero.json",
    /* \u0000 */
    "y_string_null_escape.json", "y_object_escaped_null_in_key.json", NULL};

static bool
listed(const char *const *list, const char *name)
{
    size_t i;

    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static enum latch_status
parse_file(const char *path, struct latch_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum latch_status st;

    /* The largest suite file is 250,001 bytes. */
    st = latch_read_file(path, 1 << 20, &buf, &len, err);
    if (st != LATCH_OK) {
        fail_msg("%s: %s", path, err->msg);
    }
    /* A private copy so that ASan sees any read past the length. */
    st = parse_str(buf, len, err);
    free(buf);
    return st;
}

static void
test_json_test_suite_parsing_verdicts(void **state)
{
    char dir[512], path[1024];
    struct latch_err err;
    struct dirent *d;
    DIR *dh;
    int ny = 0, nn = 0, ni = 0, yrej = 0, bad = 0;
    bool want_ok;
    enum latch_status st;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/json/test_parsing", data_dir());
    dh = opendir(dir);
    assert_non_null(dh);
    while ((d = readdir(dh)) != NULL) {
        if (d->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
        want_ok = false;
        if (strncmp(d->d_name, "y_", 2) == 0) {
            ny++;
            want_ok = !listed(y_rejected, d->d_name);
            yrej += !want_ok;
        } else if (strncmp(d->d_name, "n_", 2) == 0) {
            nn++;
        } else if (strncmp(d->d_name, "i_", 2) == 0) {
            ni++;
        } else {
            fail_msg("unexpected file %s", d->d_name);
        }
        st = parse_file(path, &err);
        if ((st == LATCH_OK) != want_ok) {
            print_error("%s: expected %s, got %s (%s)\n", d->d_name,
                        want_ok ? "accept" : "reject",
                        st == LATCH_OK ? "accept" : "reject", err.msg);
            bad++;
        } else if (st != LATCH_OK) {
            assert_int_equal(st, LATCH_E_FORMAT);
            assert_true(err.msg[0] != '\0');
        }
    }
    closedir(dh);
    assert_int_equal(ny, 95);
    assert_int_equal(nn, 188);
    assert_int_equal(ni, 35);
    assert_int_equal(yrej, 21);
    assert_int_equal(bad, 0);
}

struct verdict {
    const char *name;
    bool accept;
    const char *why; /* message fragment for rejects */
};

static void
test_json_test_suite_transform_verdicts(void **state)
{
    static const struct verdict v[] = {
        {"number_-9223372036854775808.json", false, "is outside"},
        {"number_-9223372036854775809.json", false, "is outside"},
        {"number_1.0.json", false, "not an integer"},
        {"number_1.000000000000000005.json", false, "not an integer"},
        {"number_1000000000000000.json", true, NULL},
        {"number_10000000000000000999.json", false, "is outside"},
        {"number_1e-999.json", false, "not an integer"},
        {"number_1e6.json", false, "not an integer"},
        {"number_9223372036854775807.json", false, "is outside"},
        {"number_9223372036854775808.json", false, "is outside"},
        {"object_key_nfc_nfd.json", true, NULL},
        {"object_key_nfd_nfc.json", true, NULL},
        {"object_same_key_different_values.json", false, "duplicate member"},
        {"object_same_key_same_value.json", false, "duplicate member"},
        {"object_same_key_unclear_values.json", false, "-0 is not allowed"},
        {"string_1_escaped_invalid_codepoint.json", false, "lone surrogate"},
        {"string_1_invalid_codepoint.json", false, "invalid UTF-8"},
        {"string_2_escaped_invalid_codepoints.json", false, "lone surrogate"},
        {"string_2_invalid_codepoints.json", false, "invalid UTF-8"},
        {"string_3_escaped_invalid_codepoints.json", false, "lone surrogate"},
        {"string_3_invalid_codepoints.json", false, "invalid UTF-8"},
        {"string_with_escaped_NULL.json", false, "\\u0000 is not allowed"},
    };
    char path[1024];
    struct latch_err err;
    size_t i;
    enum latch_status st;

    (void)state;
    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(path, sizeof(path), "%s/json/test_transform/%s", data_dir(),
                 v[i].name);
        st = parse_file(path, &err);
        if (v[i].accept && st != LATCH_OK) {
            fail_msg("%s rejected: %s", v[i].name, err.msg);
        }
        if (!v[i].accept &&
            (st != LATCH_E_FORMAT || strstr(err.msg, v[i].why) == NULL)) {
            fail_msg("%s: want reject with \"%s\", got \"%s\"", v[i].name,
                     v[i].why, st == LATCH_OK ? "accepted" : err.msg);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_a_license_shaped_document),
        cmocka_unit_test(test_parse_rejects_duplicate_member),
        cmocka_unit_test(test_parse_rejects_duplicate_member_after_unescaping),
        cmocka_unit_test(test_parse_keeps_case_and_normalisation_distinct),
        cmocka_unit_test(test_parse_rejects_fraction),
        cmocka_unit_test(test_parse_rejects_exponent),
        cmocka_unit_test(test_parse_rejects_integer_beyond_2_53_minus_1),
        cmocka_unit_test(test_parse_rejects_negative_zero),
        cmocka_unit_test(test_parse_rejects_invalid_utf8),
        cmocka_unit_test(test_parse_rejects_lone_surrogates),
        cmocka_unit_test(test_parse_rejects_escaped_nul),
        cmocka_unit_test(test_parse_rejects_bytes_after_the_document),
        cmocka_unit_test(test_parse_rejects_depth_17),
        cmocka_unit_test(test_parse_rejects_65_kib),
        cmocka_unit_test(test_parse_rejects_empty_and_null_input),
        cmocka_unit_test(test_messages_never_echo_raw_non_ascii),
        cmocka_unit_test(test_only_members_rejects_unknown_member),
        cmocka_unit_test(test_getters_read_each_type),
        cmocka_unit_test(test_getters_name_missing_and_mistyped_members),
        cmocka_unit_test(test_getters_prefix_codec_errors_with_the_member),
        cmocka_unit_test(test_get_string_rejects_embedded_nul_built_in_code),
        cmocka_unit_test(test_get_int_rejects_out_of_range_built_in_code),
        cmocka_unit_test(test_feature_name_rule_matches_the_documented_pattern),
        cmocka_unit_test(test_json_test_suite_parsing_verdicts),
        cmocka_unit_test(test_json_test_suite_transform_verdicts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
