/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_jcs.c: RFC 8785 canonical form against the RFC's reference cases
 * (tests/data/jcs), exact string escaping, UTF-16 member order, and a
 * property test: parse -> canonicalize -> parse -> canonicalize is a fixed
 * point over seeded random objects, with member order checked against
 * iconv's UTF-16BE as an independent oracle.
 */
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fsutil.h"
#include "jcs.h"
#include "json.h"

static const char *
data_dir(void)
{
    const char *d = getenv("LATCH_TESTDATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

static char *
read_data(const char *rel, size_t *len)
{
    char path[1024];
    struct latch_err err;
    char *buf = NULL;

    snprintf(path, sizeof(path), "%s/%s", data_dir(), rel);
    if (latch_read_file(path, 1 << 16, &buf, len, &err) != LATCH_OK) {
        fail_msg("%s", err.msg);
    }
    return buf;
}

/* Canonical form of the text s, or NULL with the message in *err. */
static char *
canon_text(const char *s, size_t len, size_t *outlen, struct latch_err *err)
{
    json_t *v = NULL;
    char *out = NULL;

    *outlen = 0;
    if (latch_json_parse(s, len, &v, err) != LATCH_OK) {
        return NULL;
    }
    if (latch_jcs(v, &out, outlen, err) != LATCH_OK) {
        out = NULL;
    }
    json_decref(v);
    return out;
}

static void
assert_canon(const char *in, size_t inlen, const char *want, size_t wantlen)
{
    struct latch_err err;
    size_t n;
    char *got = canon_text(in, inlen, &n, &err);

    if (got == NULL) {
        fail_msg("rejected: %s", err.msg);
    }
    if (n != wantlen || memcmp(got, want, n) != 0) {
        fail_msg("canonical form differs:\n got  %s\n want %.*s", got,
                 (int)wantlen, want);
    }
    assert_int_equal(got[n], '\0');
    free(got);
}

static void
test_jcs_matches_rfc8785_reference_cases(void **state)
{
    static const char *const names[] = {"arrays", "french", "unicode", "weird"};
    char rel[256];
    char *in, *want, *hex;
    size_t i, j, inlen, wantlen, hexlen, nb;
    unsigned int byte;
    int used;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(rel, sizeof(rel), "jcs/input/%s.json", names[i]);
        in = read_data(rel, &inlen);
        snprintf(rel, sizeof(rel), "jcs/output/%s.json", names[i]);
        want = read_data(rel, &wantlen);
        snprintf(rel, sizeof(rel), "jcs/outhex/%s.txt", names[i]);
        hex = read_data(rel, &hexlen);
        /* The hex file spells the same expected bytes. */
        for (j = 0, nb = 0; j < hexlen; j += (size_t)used, nb++) {
            if (sscanf(hex + j, " %2x%n", &byte, &used) != 1) {
                break;
            }
            assert_true(nb < wantlen);
            assert_int_equal((unsigned char)want[nb], byte);
        }
        assert_int_equal(nb, wantlen);
        assert_canon(in, inlen, want, wantlen);
        free(in);
        free(want);
        free(hex);
    }
}

static void
test_reader_rejects_rfc8785_cases_with_fractional_numbers(void **state)
{
    static const char *const names[] = {"jcs/input/structures.json",
                                        "jcs/input/values.json"};
    struct latch_err err;
    size_t i, len, n;
    char *in, *out;

    (void)state;
    for (i = 0; i < 2; i++) {
        in = read_data(names[i], &len);
        out = canon_text(in, len, &n, &err);
        assert_null(out);
        assert_int_equal(err.status, LATCH_E_FORMAT);
        if (strstr(err.msg, "is not an integer") == NULL) {
            fail_msg("%s: %s", names[i], err.msg);
        }
        free(in);
    }
    /* Which members: structures "1"."\n" is 56.0, values.numbers[0]. */
    in = read_data(names[0], &len);
    assert_null(canon_text(in, len, &n, &err));
    assert_non_null(strstr(err.msg, "1.\\u000a: number 56.0 is not"));
    free(in);
    in = read_data(names[1], &len);
    assert_null(canon_text(in, len, &n, &err));
    assert_non_null(strstr(err.msg, "numbers[0]: number 333333333.33333329"));
    free(in);
}

/* Replaces the first occurrence of from in buf (length *len) by to. */
static void
replace(char *buf, size_t *len, const char *from, const char *to)
{
    char *p = memmem(buf, *len, from, strlen(from));
    size_t fl = strlen(from), tl = strlen(to);

    assert_non_null(p);
    assert_true(tl <= fl);
    memcpy(p, to, tl);
    memmove(p + tl, p + fl, (size_t)(buf + *len - (p + fl)));
    *len -= fl - tl;
}

static void
test_jcs_sorts_structures_case_once_56_0_reads_56(void **state)
{
    size_t inlen, wantlen;
    char *in = read_data("jcs/input/structures.json", &inlen);
    char *want = read_data("jcs/output/structures.json", &wantlen);

    (void)state;
    replace(in, &inlen, "56.0", "56");
    assert_canon(in, inlen, want, wantlen);
    free(in);
    free(want);
}

static void
test_jcs_escapes_values_case_strings_and_literals(void **state)
{
    size_t inlen, wantlen;
    char *in = read_data("jcs/input/values.json", &inlen);
    char *want = read_data("jcs/output/values.json", &wantlen);
    char *a, *b;

    (void)state;
    /* Empty the numbers array in both, keeping everything else. */
    a = memchr(in, '[', inlen);
    b = memchr(in, ']', inlen);
    assert_true(a != NULL && b != NULL && a < b);
    memmove(a + 1, b, (size_t)(in + inlen - b));
    inlen -= (size_t)(b - a - 1);
    a = strstr(want, "\"numbers\":[") + strlen("\"numbers\":[") - 1;
    b = strchr(a, ']');
    memmove(a + 1, b, strlen(b) + 1);
    wantlen = strlen(want);
    assert_non_null(strstr(want, "\"numbers\":[],\"string\":"));
    assert_canon(in, inlen, want, wantlen);
    free(in);
    free(want);
}

static void
test_jcs_orders_members_by_utf16_not_utf8(void **state)
{
    /* UTF-8 puts U+E000 (EE..) first; UTF-16 puts U+1F600 (D83D..) first */
    static const char in[] = "{\"\\ue000\":1,\"\\ud83d\\ude00\":2,\"z\":3}";
    static const char want[] = "{\"z\":3,\"\xf0\x9f\x98\x80\":2,"
                               "\"\xee\x80\x80\":1}";
    /* U+FFFF (FFFF) sorts after U+10000 (D800 DC00) */
    static const char in2[] = "{\"\\uffff\":1,\"\\ud800\\udc00\":2}";
    static const char want2[] = "{\"\xf0\x90\x80\x80\":2,\"\xef\xbf\xbf\":1}";
    /* a prefix sorts first; code units, not locale: "B" < "a" < "ä" */
    static const char in3[] = "{\"\\u00e4\":1,\"a\":2,\"ab\":3,\"B\":4}";
    static const char want3[] = "{\"B\":4,\"a\":2,\"ab\":3,\"\xc3\xa4\":1}";

    (void)state;
    assert_canon(in, sizeof(in) - 1, want, sizeof(want) - 1);
    assert_canon(in2, sizeof(in2) - 1, want2, sizeof(want2) - 1);
    assert_canon(in3, sizeof(in3) - 1, want3, sizeof(want3) - 1);
}

static void
test_jcs_escapes_exactly_as_rfc8785(void **state)
{
    json_t *v = json_array();
    struct latch_err err;
    char raw[40], *out = NULL;
    size_t n, i;
    const char *want = "[\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006"
                       "\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010"
                       "\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                       "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e"
                       "\\u001f\\\"\\\\/\x7f\xe2\x80\xa8\"]";

    (void)state;
    for (i = 0; i < 32; i++) {
        raw[i] = (char)i;
    }
    memcpy(raw + 32, "\"\\/\x7f\xe2\x80\xa8", 7);
    json_array_append_new(v, json_stringn(raw, 39));
    assert_int_equal(latch_jcs(v, &out, &n, &err), LATCH_OK);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    free(out);
    json_decref(v);
}

static void
test_jcs_writes_integers_literals_and_empty_containers(void **state)
{
    static const char in[] = "{ \"i\" : [ 0 , -1 , 9007199254740991 , "
                             "-9007199254740991 , 10 ] , \"l\" : [ true , "
                             "false , null ] , \"e\" : { } , \"a\" : [ ] }";
    static const char want[] = "{\"a\":[],\"e\":{},\"i\":[0,-1,"
                               "9007199254740991,-9007199254740991,10],"
                               "\"l\":[true,false,null]}";

    (void)state;
    assert_canon(in, sizeof(in) - 1, want, sizeof(want) - 1);
    assert_canon("\"x\"", 3, "\"x\"", 3);
    assert_canon("7", 1, "7", 1);
}

static void
test_jcs_ignores_whitespace_and_member_order(void **state)
{
    static const char a[] = "{\"b\":{\"y\":[1,2],\"x\":true},\"a\":\"s\"}";
    static const char b[] = "{\n  \"a\" : \"\\u0073\",\n  \"b\" : {\n    "
                            "\"x\" : true,\n    \"y\" : [ 1,\t2 ]\n  }\r\n}";
    static const char want[] = "{\"a\":\"s\",\"b\":{\"x\":true,\"y\":[1,2]}}";

    (void)state;
    assert_canon(a, sizeof(a) - 1, want, sizeof(want) - 1);
    assert_canon(b, sizeof(b) - 1, want, sizeof(want) - 1);
}

static void
test_jcs_keeps_nfc_and_nfd_names_distinct(void **state)
{
    size_t len;
    char *in = read_data("json/test_transform/object_key_nfd_nfc.json", &len);
    static const char want[] = "{\"e\xcc\x81\":\"NFD\",\"\xc3\xa9\":\"NFC\"}";

    (void)state;
    assert_canon(in, len, want, sizeof(want) - 1);
    free(in);
}

static void
test_jcs_rejects_real_and_out_of_range_integer(void **state)
{
    json_t *v = json_pack("{s:f}", "q", 1.5);
    json_t *w = json_pack("[I]", (json_int_t)LATCH_JSON_MAX_INT + 1);
    json_t *x = json_pack("[I]", -(json_int_t)LATCH_JSON_MAX_INT - 1);
    struct latch_err err;
    char *out = NULL;
    size_t n = 99;

    (void)state;
    assert_int_equal(latch_jcs(v, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "real number 1.5 is not allowed"));
    assert_null(out);
    assert_int_equal(n, 0);
    assert_int_equal(latch_jcs(w, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "integer 9007199254740992 is outside"));
    assert_int_equal(latch_jcs(x, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "integer -9007199254740992 is outside"));
    assert_int_equal(latch_jcs(NULL, &out, &n, &err), LATCH_E_USAGE);
    json_decref(v);
    json_decref(w);
    json_decref(x);
}

static void
test_jcs_rejects_invalid_utf8_built_in_code(void **state)
{
    json_t *v = json_object();
    json_t *w = json_object();
    struct latch_err err;
    char *out = NULL;
    size_t n;

    (void)state;
    json_object_set_new(v, "s", json_stringn_nocheck("\xed\xa0\x80", 3));
    json_object_set_new_nocheck(w, "\xff", json_true());
    assert_int_equal(latch_jcs(v, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "invalid UTF-8"));
    assert_int_equal(latch_jcs(w, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "invalid UTF-8"));
    json_decref(v);
    json_decref(w);
}

static void
test_jcs_limits_nesting_like_the_reader(void **state)
{
    json_t *top = json_array(), *cur = top, *next;
    struct latch_err err;
    char *out = NULL;
    size_t n;
    int i;

    (void)state;
    for (i = 1; i < 16; i++) {
        next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    assert_int_equal(latch_jcs(top, &out, &n, &err), LATCH_OK);
    assert_int_equal(n, 32);
    free(out);
    json_array_append_new(cur, json_object());
    assert_int_equal(latch_jcs(top, &out, &n, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "nesting deeper than 16 levels"));
    json_decref(top);
}

/* --- property test ----------------------------------------------------- */

static uint64_t rng_state;
static int nonbmp_keys; /* member names generated outside the BMP */

static uint64_t
rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t
put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (char)(0xc0 | cp >> 6);
        p[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (char)(0xe0 | cp >> 12);
        p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        p[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    p[0] = (char)(0xf0 | cp >> 18);
    p[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    p[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    p[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A code point from pools that stress escaping and UTF-16 ordering. */
static uint32_t
random_cp(void)
{
    static const uint32_t special[] = {
        '"',    '\\',   '/',     0x7f,    0x80,    0xe9,    0x301,
        0x20ac, 0x2028, 0x202e,  0xd7ff,  0xe000,  0xfb33,  0xfeff,
        0xfffd, 0xffff, 0x10000, 0x1d11e, 0x1f600, 0x1f602, 0x10ffff};
    uint32_t cp;

    switch (rng() % 6) {
    case 0:
        return 1 + (uint32_t)(rng() % 0x1f); /* controls, no U+0000 */
    case 1:
        return special[rng() % (sizeof(special) / sizeof(special[0]))];
    case 2:
        cp = 0x80 + (uint32_t)(rng() % (0xfffe - 0x80));
        return cp >= 0xd800 && cp < 0xe000 ? cp + 0x800 : cp;
    case 3:
        return 0x10000 + (uint32_t)(rng() % 0x100000);
    default:
        return 'a' + (uint32_t)(rng() % 3); /* collisions and prefixes */
    }
}

static json_t *
random_string(char *buf)
{
    size_t len = 0, i, n = (size_t)(rng() % 6);

    for (i = 0; i < n; i++) {
        len += put_utf8(buf + len, random_cp());
    }
    buf[len] = '\0';
    return json_stringn(buf, len);
}

static json_t *
random_value(int depth)
{
    char buf[64];
    json_t *v, *k;
    size_t i, n;
    uint64_t kind = rng() % (depth < 6 ? 8 : 5);

    switch (kind) {
    case 0:
        return json_integer((json_int_t)(rng() % (2 * LATCH_JSON_MAX_INT + 1)) -
                            LATCH_JSON_MAX_INT);
    case 1:
        return json_integer((json_int_t)(rng() % 2001) - 1000);
    case 2:
        return random_string(buf);
    case 3:
        return json_boolean(rng() % 2);
    case 4:
        return rng() % 4 == 0 ? json_null()
                              : json_integer(rng() % 2 ? LATCH_JSON_MAX_INT
                                                       : -LATCH_JSON_MAX_INT);
    case 5:
        v = json_array();
        n = (size_t)(rng() % 5);
        for (i = 0; i < n; i++) {
            json_array_append_new(v, random_value(depth + 1));
        }
        return v;
    default:
        v = json_object();
        n = (size_t)(rng() % 7);
        for (i = 0; i < n; i++) {
            k = random_string(buf);
            nonbmp_keys += memchr(json_string_value(k), 0xf0,
                                  json_string_length(k)) != NULL;
            json_object_setn_new(v, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return v;
    }
}

/* Member names as UTF-16BE, whose byte order is UTF-16 code unit order. */
static size_t
to_utf16be(iconv_t cd, const char *s, size_t n, char *out, size_t cap)
{
    char *in = (char *)(uintptr_t)s, *o = out;
    size_t left = n, room = cap;

    assert_int_not_equal(iconv(cd, &in, &left, &o, &room), (size_t)-1);
    return cap - room;
}

static int
utf16_cmp(iconv_t cd, const char *a, size_t an, const char *b, size_t bn)
{
    char ua[256], ub[256];
    size_t la = to_utf16be(cd, a, an, ua, sizeof(ua));
    size_t lb = to_utf16be(cd, b, bn, ub, sizeof(ub));
    int c = memcmp(ua, ub, la < lb ? la : lb);

    return c != 0 ? c : (la > lb) - (la < lb);
}

/* The parsed canonical text keeps its members in canonical order. */
static void
assert_sorted(iconv_t cd, const json_t *v)
{
    const char *key, *prev = NULL;
    size_t klen, plen = 0, i;
    json_t *m;

    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
        {
            assert_sorted(cd, m);
        }
    }
    if (!json_is_object(v)) {
        return;
    }
    json_object_keylen_foreach((json_t *)(uintptr_t)v, key, klen, m)
    {
        if (prev != NULL) {
            assert_true(utf16_cmp(cd, prev, plen, key, klen) < 0);
        }
        prev = key;
        plen = klen;
        assert_sorted(cd, m);
    }
}

static void
test_canonical_form_is_a_fixed_point_over_random_objects(void **state)
{
    const int iterations = 10000;
    const size_t flags[] = {JSON_COMPACT, JSON_INDENT(2),
                            JSON_ENSURE_ASCII | JSON_INDENT(1), 0};
    iconv_t cd = iconv_open("UTF-16BE", "UTF-8");
    struct latch_err err;
    json_t *orig, *v1 = NULL, *v2 = NULL;
    char *text, *c1 = NULL, *c2 = NULL;
    size_t n1, n2;
    int i, ran = 0;

    (void)state;
    assert_true(cd != (iconv_t)-1);
    rng_state = 0x6c61746368ULL; /* "latch": fixed seed, reproducible */
    nonbmp_keys = 0;
    for (i = 0; i < iterations; i++) {
        orig = json_object();
        json_object_set_new(orig, "v", random_value(1));
        json_object_set_new(orig, "w", random_value(1));
        text = json_dumps(orig, flags[i % 4]);
        assert_non_null(text);
        if (strlen(text) > LATCH_JSON_MAX_BYTES) {
            free(text);
            json_decref(orig);
            continue;
        }
        if (latch_json_parse(text, strlen(text), &v1, &err) != LATCH_OK) {
            fail_msg("iteration %d: %s\n%s", i, err.msg, text);
        }
        assert_true(json_equal(v1, orig));
        assert_int_equal(latch_jcs(v1, &c1, &n1, &err), LATCH_OK);
        assert_int_equal(latch_json_parse(c1, n1, &v2, &err), LATCH_OK);
        assert_true(json_equal(v2, orig));
        assert_int_equal(latch_jcs(v2, &c2, &n2, &err), LATCH_OK);
        assert_int_equal(n1, n2);
        assert_memory_equal(c1, c2, n1);
        assert_sorted(cd, v2);
        ran++;
        free(text);
        free(c1);
        free(c2);
        json_decref(v1);
        json_decref(v2);
        json_decref(orig);
    }
    iconv_close(cd);
    assert_true(ran > iterations * 9 / 10);
    print_message("%d documents, %d non-BMP member names\n", ran, nonbmp_keys);
    assert_true(nonbmp_keys > iterations);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcs_matches_rfc8785_reference_cases),
        cmocka_unit_test(
            test_reader_rejects_rfc8785_cases_with_fractional_numbers),
        cmocka_unit_test(test_jcs_sorts_structures_case_once_56_0_reads_56),
        cmocka_unit_test(test_jcs_escapes_values_case_strings_and_literals),
        cmocka_unit_test(test_jcs_orders_members_by_utf16_not_utf8),
        cmocka_unit_test(test_jcs_escapes_exactly_as_rfc8785),
        cmocka_unit_test(
            test_jcs_writes_integers_literals_and_empty_containers),
        cmocka_unit_test(test_jcs_ignores_whitespace_and_member_order),
        cmocka_unit_test(test_jcs_keeps_nfc_and_nfd_names_distinct),
        cmocka_unit_test(test_jcs_rejects_real_and_out_of_range_integer),
        cmocka_unit_test(test_jcs_rejects_invalid_utf8_built_in_code),
        cmocka_unit_test(test_jcs_limits_nesting_like_the_reader),
        cmocka_unit_test(
            test_canonical_form_is_a_fixed_point_over_random_objects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
