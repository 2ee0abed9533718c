/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * jcs.c: RFC 8785 canonical form for latch's integer-only JSON subset.
 * Member names are sorted by their UTF-16 code units (not by UTF-8 bytes:
 * the two orders differ for names outside the BMP), strings are written
 * with the minimal escapes of ECMAScript JSON.stringify and no
 * normalisation, integers in plain decimal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "jcs.h"
#include "json.h"

/* Upper bound of one canonical document; far above any latch file. */
#define JCS_MAX_BYTES (4u * 1024 * 1024)

struct out {
    char *p;
    size_t n;
    size_t cap;
};

struct member {
    const char *key;
    size_t len;
    json_t *value;
};

static enum latch_status
put(struct out *o, const char *s, size_t n, struct latch_err *err)
{
    size_t cap;
    char *p;

    if (n > JCS_MAX_BYTES - o->n) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "jcs: canonical form exceeds %u bytes",
                             JCS_MAX_BYTES);
    }
    if (o->n + n + 1 > o->cap) {
        cap = o->cap == 0 ? 1024 : o->cap;
        while (cap < o->n + n + 1) {
            cap *= 2;
        }
        p = realloc(o->p, cap);
        if (p == NULL) {
            return latch_err_set(err, LATCH_E_NOMEM, "jcs: out of memory");
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
    return LATCH_OK;
}

/* Fails unless s[0..n) is well-formed UTF-8. */
static enum latch_status
check_utf8(const char *s, size_t n, struct latch_err *err)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, k;
    uint32_t cp;

    while (i < n) {
        k = latch_utf8_next(p + i, n - i, &cp);
        if (k == 0) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "jcs: invalid UTF-8 at offset %zu of a "
                                 "string",
                                 i);
        }
        i += k;
    }
    return LATCH_OK;
}

static enum latch_status
put_string(struct out *o, const char *s, size_t n, struct latch_err *err)
{
    enum latch_status st;
    char esc[8];
    size_t i, run = 0;
    unsigned char c;
    const char *e;

    st = check_utf8(s, n, err);
    if (st == LATCH_OK) {
        st = put(o, "\"", 1, err);
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        c = (unsigned char)s[i];
        e = NULL;
        if (c == '"') {
            e = "\\\"";
        } else if (c == '\\') {
            e = "\\\\";
        } else if (c == '\b') {
            e = "\\b";
        } else if (c == '\f') {
            e = "\\f";
        } else if (c == '\n') {
            e = "\\n";
        } else if (c == '\r') {
            e = "\\r";
        } else if (c == '\t') {
            e = "\\t";
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            e = esc;
        }
        if (e == NULL) {
            run++;
            continue;
        }
        st = put(o, s + i - run, run, err);
        run = 0;
        if (st == LATCH_OK) {
            st = put(o, e, strlen(e), err);
        }
    }
    if (st == LATCH_OK) {
        st = put(o, s + n - run, run, err);
    }
    if (st == LATCH_OK) {
        st = put(o, "\"", 1, err);
    }
    return st;
}

/* Yields the UTF-16 code units of a (valid) UTF-8 string one at a time. */
struct u16_iter {
    const uint8_t *p;
    size_t n;
    uint16_t low; /* pending low surrogate, 0 when none */
};

static int
u16_next(struct u16_iter *it)
{
    uint32_t cp = 0;
    size_t k;
    int unit;

    if (it->low != 0) {
        unit = it->low;
        it->low = 0;
        return unit;
    }
    if (it->n == 0) {
        return -1;
    }
    k = latch_utf8_next(it->p, it->n, &cp);
    if (k == 0) {
        /* Cannot happen: names are checked before sorting. */
        cp = it->p[0];
        k = 1;
    }
    it->p += k;
    it->n -= k;
    if (cp < 0x10000) {
        return (int)cp;
    }
    cp -= 0x10000;
    it->low = (uint16_t)(0xdc00 + (cp & 0x3ff));
    return (int)(0xd800 + (cp >> 10));
}

static int
member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    struct u16_iter ix = {(const uint8_t *)x->key, x->len, 0};
    struct u16_iter iy = {(const uint8_t *)y->key, y->len, 0};
    int ux, uy;

    do {
        ux = u16_next(&ix);
        uy = u16_next(&iy);
    } while (ux == uy && ux >= 0);
    return ux < uy ? -1 : ux > uy;
}

static enum latch_status emit(struct out *o, const json_t *v, int depth,
                              struct latch_err *err);

static enum latch_status
emit_object(struct out *o, const json_t *v, int depth, struct latch_err *err)
{
    struct member *m = NULL;
    size_t n = 0, i;
    enum latch_status st = LATCH_OK;
    void *it;

    if (json_object_size(v) > 0) {
        m = calloc(json_object_size(v), sizeof(*m));
        if (m == NULL) {
            return latch_err_set(err, LATCH_E_NOMEM, "jcs: out of memory");
        }
    }
    it = json_object_iter((json_t *)(uintptr_t)v);
    for (; it != NULL && n < json_object_size(v) && st == LATCH_OK; n++) {
        m[n].key = json_object_iter_key(it);
        m[n].len = json_object_iter_key_len(it);
        m[n].value = json_object_iter_value(it);
        st = check_utf8(m[n].key, m[n].len, err);
        it = json_object_iter_next((json_t *)(uintptr_t)v, it);
    }
    if (st == LATCH_OK && n > 1) {
        qsort(m, n, sizeof(*m), member_cmp);
    }
    if (st == LATCH_OK) {
        st = put(o, "{", 1, err);
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        if (i > 0) {
            st = put(o, ",", 1, err);
        }
        if (st == LATCH_OK) {
            st = put_string(o, m[i].key, m[i].len, err);
        }
        if (st == LATCH_OK) {
            st = put(o, ":", 1, err);
        }
        if (st == LATCH_OK) {
            st = emit(o, m[i].value, depth + 1, err);
        }
    }
    if (st == LATCH_OK) {
        st = put(o, "}", 1, err);
    }
    free(m);
    return st;
}

static enum latch_status
emit_array(struct out *o, const json_t *v, int depth, struct latch_err *err)
{
    enum latch_status st;
    size_t i;

    st = put(o, "[", 1, err);
    for (i = 0; i < json_array_size(v) && st == LATCH_OK; i++) {
        if (i > 0) {
            st = put(o, ",", 1, err);
        }
        if (st == LATCH_OK) {
            st = emit(o, json_array_get(v, i), depth + 1, err);
        }
    }
    if (st == LATCH_OK) {
        st = put(o, "]", 1, err);
    }
    return st;
}

static enum latch_status
emit(struct out *o, const json_t *v, int depth, struct latch_err *err)
{
    char num[32];
    json_int_t n;

    /* The outermost container is level 1, as in the reader. */
    if ((json_is_object(v) || json_is_array(v)) &&
        depth >= LATCH_JSON_MAX_DEPTH) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "jcs: nesting deeper than %d levels",
                             LATCH_JSON_MAX_DEPTH);
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return emit_object(o, v, depth, err);
    case JSON_ARRAY:
        return emit_array(o, v, depth, err);
    case JSON_STRING:
        return put_string(o, json_string_value(v), json_string_length(v), err);
    case JSON_INTEGER:
        n = json_integer_value(v);
        if (n > LATCH_JSON_MAX_INT || n < -LATCH_JSON_MAX_INT) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "jcs: integer %lld is outside [-%lld, %lld]",
                                 (long long)n, LATCH_JSON_MAX_INT,
                                 LATCH_JSON_MAX_INT);
        }
        snprintf(num, sizeof(num), "%lld", (long long)n);
        return put(o, num, strlen(num), err);
    case JSON_REAL:
        return latch_err_set(err, LATCH_E_FORMAT,
                             "jcs: real number %.17g is not allowed "
                             "(integers only)",
                             json_real_value(v));
    case JSON_TRUE:
        return put(o, "true", 4, err);
    case JSON_FALSE:
        return put(o, "false", 5, err);
    case JSON_NULL:
        return put(o, "null", 4, err);
    }
    return latch_err_set(err, LATCH_E_INTERNAL, "jcs: unknown JSON type");
}

enum latch_status
latch_jcs(const json_t *v, char **out, size_t *outlen, struct latch_err *err)
{
    struct out o = {NULL, 0, 0};
    enum latch_status st;

    *out = NULL;
    *outlen = 0;
    if (v == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "jcs: no value");
    }
    st = emit(&o, v, 0, err);
    if (st != LATCH_OK) {
        free(o.p);
        return st;
    }
    *out = o.p;
    *outlen = o.n;
    return LATCH_OK;
}
