/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * json.c: the strict JSON reader. A lexical scan of the raw text enforces
 * what jansson does not (size, depth, number spelling and range, lone
 * surrogate escapes, U+0000) and knows the member path of every byte; jansson
 * with JSON_REJECT_DUPLICATES then checks the grammar and builds the tree.
 * Messages never echo input bytes outside printable ASCII.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json.h"

#define PATH_MAX_LEN 256
#define KEY_SHOW_MAX 48 /* code points of a member name shown in messages */

/* A bounded string builder for messages; excess is dropped, marked "...". */
struct sbuf {
    char *p;
    size_t cap;
    size_t n;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int r;

    if (b->n + 1 >= b->cap) {
        return;
    }
    va_start(ap, fmt);
    r = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (r < 0) {
        b->p[b->n] = '\0';
    } else if ((size_t)r >= b->cap - b->n) {
        b->n = b->cap - 1;
        if (b->cap > 4) {
            memcpy(b->p + b->cap - 4, "...", 4);
        }
    } else {
        b->n += (size_t)r;
    }
}

/* Shows one code point: printable ASCII as itself, the rest as \uXXXX. */
static void
sb_cp(struct sbuf *b, uint32_t cp)
{
    if (cp >= 0x20 && cp < 0x7f) {
        sb_add(b, "%c", (char)cp);
    } else if (cp < 0x10000) {
        sb_add(b, "\\u%04x", (unsigned)cp);
    } else {
        cp -= 0x10000;
        sb_add(b, "\\u%04x\\u%04x", (unsigned)(0xd800 + (cp >> 10)),
               (unsigned)(0xdc00 + (cp & 0x3ff)));
    }
}

/* Shows decoded (jansson) text safely; invalid bytes as \xNN. */
static void
sb_text(struct sbuf *b, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, k, shown = 0;
    uint32_t cp;

    while (i < n) {
        if (shown++ == KEY_SHOW_MAX) {
            sb_add(b, "...");
            return;
        }
        k = latch_utf8_next(p + i, n - i, &cp);
        if (k == 0) {
            sb_add(b, "\\x%02x", p[i]);
            k = 1;
        } else {
            sb_cp(b, cp);
        }
        i += k;
    }
}

static int
hex4(const char *s)
{
    int v = 0, i, c;

    for (i = 0; i < 4; i++) {
        c = (unsigned char)s[i];
        if (c >= '0' && c <= '9') {
            v = v * 16 + c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = v * 16 + c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v = v * 16 + c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

/*
 * Shows a member name as written in the raw text (between the quotes),
 * with its escapes decoded, so {"\u006dax":1} shows as max.
 */
static void
sb_raw_key(struct sbuf *b, const char *s, size_t n)
{
    static const char plain[] = "\"\\/bfnrt";
    static const char value[] = "\"\\/\b\f\n\r\t";
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, k, shown = 0;
    uint32_t cp;
    int u, u2;
    const char *e;

    while (i < n) {
        if (shown++ == KEY_SHOW_MAX) {
            sb_add(b, "...");
            return;
        }
        if (p[i] == '\\' && i + 1 < n) {
            e = strchr(plain, s[i + 1]);
            u = i + 6 <= n && s[i + 1] == 'u' ? hex4(s + i + 2) : -1;
            u2 = -1;
            if (u >= 0xd800 && u < 0xdc00 && i + 12 <= n && s[i + 6] == '\\' &&
                s[i + 7] == 'u') {
                u2 = hex4(s + i + 8);
            }
            if (e != NULL && s[i + 1] != '\0') {
                sb_cp(b, (unsigned char)value[e - plain]);
                i += 2;
            } else if (u2 >= 0xdc00 && u2 < 0xe000) {
                sb_cp(b, 0x10000 + ((uint32_t)(u - 0xd800) << 10) +
                             (uint32_t)(u2 - 0xdc00));
                i += 12;
            } else if (u >= 0) {
                sb_cp(b, (uint32_t)u);
                i += 6;
            } else {
                sb_add(b, "\\");
                i++;
            }
            continue;
        }
        k = latch_utf8_next(p + i, n - i, &cp);
        if (k == 0) {
            sb_add(b, "\\x%02x", p[i]);
            k = 1;
        } else {
            sb_cp(b, cp);
        }
        i += k;
    }
}

/* One open container of the scan and its current member. */
struct seg {
    bool is_obj;
    bool has_member;
    size_t key_off; /* raw member name: buf[key_off..key_off+key_len) */
    size_t key_len;
    size_t index;
};

struct scan {
    const char *buf;
    size_t len;
    size_t pos;
    size_t stop_at;  /* stop after the token that reaches this offset */
    bool expect_key; /* the next string in an object is a member name */
    bool complete;   /* every byte was understood */
    int depth;
    struct seg stack[LATCH_JSON_MAX_DEPTH];
};

static void
scan_path(const struct scan *s, char *out, size_t cap)
{
    struct sbuf b = {out, cap, 0};
    const struct seg *g;
    int i;

    out[0] = '\0';
    for (i = 0; i < s->depth; i++) {
        g = &s->stack[i];
        if (!g->has_member) {
            break;
        }
        if (!g->is_obj) {
            sb_add(&b, "[%zu]", g->index);
            continue;
        }
        if (b.n > 0) {
            sb_add(&b, ".");
        }
        sb_raw_key(&b, s->buf + g->key_off, g->key_len);
    }
    if (b.n == 0) {
        sb_add(&b, "(top level)");
    }
}

static enum latch_status scan_fail(const struct scan *s, size_t at,
                                   struct latch_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum latch_status
scan_fail(const struct scan *s, size_t at, struct latch_err *err,
          const char *fmt, ...)
{
    char path[PATH_MAX_LEN], rule[LATCH_ERR_MSG_MAX];
    va_list ap;

    scan_path(s, path, sizeof(path));
    va_start(ap, fmt);
    if (vsnprintf(rule, sizeof(rule), fmt, ap) < 0) {
        rule[0] = '\0';
    }
    va_end(ap);
    return latch_err_set(err, LATCH_E_FORMAT, "%s: %s (byte %zu)", path, rule,
                         at);
}

static void
value_start(struct scan *s)
{
    if (s->depth > 0 && !s->stack[s->depth - 1].is_obj) {
        s->stack[s->depth - 1].has_member = true;
    }
}

static enum latch_status
scan_number(struct scan *s, struct latch_err *err)
{
    const uint64_t max = LATCH_JSON_MAX_INT;
    size_t start = s->pos, end = start, i;
    uint64_t v = 0;
    bool digits = false;
    char c;

    while (end < s->len) {
        c = s->buf[end];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
              c == 'e' || c == 'E')) {
            break;
        }
        end++;
    }
    s->pos = end;
    for (i = start; i < end; i++) {
        c = s->buf[i];
        if (c == '.' || c == 'e' || c == 'E') {
            return scan_fail(s, start, err,
                             "number %.*s is not an integer (fractions and "
                             "exponents are not allowed)",
                             (int)(end - start < 40 ? end - start : 40),
                             s->buf + start);
        }
    }
    for (i = s->buf[start] == '-' ? start + 1 : start; i < end; i++) {
        c = s->buf[i];
        if (c < '0' || c > '9') {
            return LATCH_OK; /* malformed: jansson rejects it */
        }
        digits = true;
        v = v > max ? v : v * 10 + (uint64_t)(c - '0');
    }
    if (digits && s->buf[start] == '-' && v == 0) {
        return scan_fail(s, start, err, "number -0 is not allowed");
    }
    if (v > max) {
        return scan_fail(s, start, err,
                         "integer %.*s%s is outside [-%llu, %llu]",
                         (int)(end - start < 40 ? end - start : 40),
                         s->buf + start, end - start > 40 ? "..." : "",
                         (unsigned long long)max, (unsigned long long)max);
    }
    return LATCH_OK;
}

/*
 * Checks one \u escape at buf[i] (the backslash) and returns how many bytes
 * it used, 0 when malformed (left to jansson), or SIZE_MAX on a rule
 * violation reported in err.
 */
static size_t
scan_uescape(struct scan *s, size_t i, const char *what, struct latch_err *err)
{
    int u, u2 = -1;

    if (i + 6 > s->len) {
        return 0;
    }
    u = hex4(s->buf + i + 2);
    if (u < 0) {
        return 0;
    }
    if (u == 0) {
        scan_fail(s, i, err, "\\u0000 is not allowed in a %s", what);
        return SIZE_MAX;
    }
    if (u >= 0xdc00 && u < 0xe000) {
        scan_fail(s, i, err, "lone surrogate \\u%04x in a %s", (unsigned)u,
                  what);
        return SIZE_MAX;
    }
    if (u < 0xd800 || u >= 0xdc00) {
        return 6;
    }
    if (i + 12 <= s->len && s->buf[i + 6] == '\\' && s->buf[i + 7] == 'u') {
        u2 = hex4(s->buf + i + 8);
    }
    if (u2 < 0xdc00 || u2 >= 0xe000) {
        scan_fail(s, i, err, "lone surrogate \\u%04x in a %s", (unsigned)u,
                  what);
        return SIZE_MAX;
    }
    return 12;
}

static enum latch_status
scan_string(struct scan *s, bool is_key, struct latch_err *err)
{
    const char *what = is_key ? "member name" : "string";
    const uint8_t *p = (const uint8_t *)s->buf;
    size_t i = s->pos + 1, k;
    uint32_t cp;

    while (i < s->len) {
        if (p[i] == '"') {
            if (is_key) {
                s->stack[s->depth - 1].key_off = s->pos + 1;
                s->stack[s->depth - 1].key_len = i - s->pos - 1;
                s->stack[s->depth - 1].has_member = true;
            }
            s->pos = i + 1;
            return LATCH_OK;
        }
        if (p[i] == '\\' && i + 1 < s->len && p[i + 1] == 'u') {
            k = scan_uescape(s, i, what, err);
            if (k == SIZE_MAX) {
                return LATCH_E_FORMAT;
            }
            i += k > 0 ? k : 2;
        } else if (p[i] == '\\') {
            i += 2;
        } else if (p[i] >= 0x80) {
            k = latch_utf8_next(p + i, s->len - i, &cp);
            if (k == 0) {
                return scan_fail(s, i, err,
                                 "invalid UTF-8 (byte 0x%02x) in a %s", p[i],
                                 what);
            }
            i += k;
        } else {
            i++;
        }
    }
    s->complete = false; /* unterminated: jansson rejects it */
    s->pos = s->len;
    return LATCH_OK;
}

static enum latch_status
scan_open(struct scan *s, bool is_obj, struct latch_err *err)
{
    struct seg *g;

    value_start(s);
    if (s->depth == LATCH_JSON_MAX_DEPTH) {
        return scan_fail(s, s->pos, err, "nesting deeper than %d levels",
                         LATCH_JSON_MAX_DEPTH);
    }
    g = &s->stack[s->depth++];
    memset(g, 0, sizeof(*g));
    g->is_obj = is_obj;
    s->expect_key = is_obj;
    s->pos++;
    return LATCH_OK;
}

static void
scan_punct(struct scan *s, char c)
{
    struct seg *g = s->depth > 0 ? &s->stack[s->depth - 1] : NULL;

    if ((c == '}' || c == ']') && g != NULL) {
        s->depth--;
        s->expect_key = false;
    } else if (c == ',' && g != NULL && g->is_obj) {
        g->has_member = false;
        s->expect_key = true;
    } else if (c == ',' && g != NULL) {
        g->index++;
    }
    s->pos++;
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Runs the scan until the end, a rule violation (LATCH_E_FORMAT in err),
 * the first byte it does not understand (complete = false), or the token
 * reaching stop_at.
 */
static enum latch_status
scan_run(struct scan *s, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    bool is_key;
    char c;

    while (st == LATCH_OK && s->pos < s->len && s->pos < s->stop_at) {
        c = s->buf[s->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') {
            s->pos++;
        } else if (c == '{' || c == '[') {
            st = scan_open(s, c == '{', err);
        } else if (c == '}' || c == ']' || c == ',') {
            scan_punct(s, c);
        } else if (c == '"') {
            is_key =
                s->depth > 0 && s->stack[s->depth - 1].is_obj && s->expect_key;
            if (!is_key) {
                value_start(s);
            }
            st = scan_string(s, is_key, err);
            s->expect_key = false;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            value_start(s);
            st = scan_number(s, err);
        } else if (is_alpha(c)) {
            value_start(s);
            while (s->pos < s->len && is_alpha(s->buf[s->pos])) {
                s->pos++;
            }
        } else {
            s->complete = false;
            break;
        }
    }
    return st;
}

static void
scan_init(struct scan *s, const char *buf, size_t len, size_t stop_at)
{
    memset(s, 0, sizeof(*s));
    s->buf = buf;
    s->len = len;
    s->stop_at = stop_at;
    s->complete = true;
}

/* Turns a jansson error into ours, with the member path at its offset. */
static enum latch_status
jansson_fail(const char *buf, size_t len, const json_error_t *je,
             struct latch_err *err)
{
    struct scan s;
    char text[128];
    struct sbuf b = {text, sizeof(text), 0};
    size_t at = je->position > 0 ? (size_t)je->position : 0;

    scan_init(&s, buf, len, at);
    /* The first scan passed up to here, so this one cannot fail. */
    (void)scan_run(&s, NULL);
    if (strncmp(je->text, "duplicate object key", 20) == 0) {
        return scan_fail(&s, at, err, "duplicate member name");
    }
    sb_text(&b, je->text, strnlen(je->text, sizeof(je->text)));
    return scan_fail(&s, at, err, "invalid JSON: %s", text);
}

/*
 * Checks the tree jansson built against the number rules once more, so
 * that the two readers cannot disagree unnoticed.
 */
static enum latch_status
check_tree(const json_t *v, int depth, struct latch_err *err)
{
    const char *key;
    json_t *m;
    size_t i;
    json_int_t n;

    if ((json_is_object(v) || json_is_array(v)) &&
        depth >= LATCH_JSON_MAX_DEPTH) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "nesting deeper than %d levels",
                             LATCH_JSON_MAX_DEPTH);
    }
    if (json_is_real(v)) {
        return latch_err_set(err, LATCH_E_FORMAT, "number is not an integer");
    }
    if (json_is_integer(v)) {
        n = json_integer_value(v);
        if (n > LATCH_JSON_MAX_INT || n < -LATCH_JSON_MAX_INT) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "integer %lld is out of range", (long long)n);
        }
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)(uintptr_t)v, key, m)
        {
            if (check_tree(m, depth + 1, err) != LATCH_OK) {
                return LATCH_E_FORMAT;
            }
        }
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
        {
            if (check_tree(m, depth + 1, err) != LATCH_OK) {
                return LATCH_E_FORMAT;
            }
        }
    }
    return LATCH_OK;
}

enum latch_status
latch_json_parse(const char *buf, size_t len, json_t **out,
                 struct latch_err *err)
{
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
    struct scan s;
    json_error_t je;
    json_t *v = NULL;
    enum latch_status st;

    *out = NULL;
    if (buf == NULL) {
        buf = "";
        len = 0;
    }
    if (len > LATCH_JSON_MAX_BYTES) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "input is %zu bytes, more than the %d allowed",
                             len, LATCH_JSON_MAX_BYTES);
    }
    scan_init(&s, buf, len, SIZE_MAX);
    st = scan_run(&s, err);
    if (st != LATCH_OK) {
        return st;
    }
    v = json_loadb(buf, len, flags, &je);
    if (v == NULL) {
        return jansson_fail(buf, len, &je, err);
    }
    if (!s.complete) {
        json_decref(v);
        if (s.pos >= len) {
            return scan_fail(&s, s.pos, err,
                             "invalid JSON: unexpected end of input");
        }
        return scan_fail(&s, s.pos, err, "invalid JSON: unexpected byte 0x%02x",
                         (unsigned char)buf[s.pos]);
    }
    st = check_tree(v, 0, err);
    if (st != LATCH_OK) {
        json_decref(v);
        return st;
    }
    *out = v;
    return LATCH_OK;
}

/* "where.key", or "key" when where is empty. */
static void
member_name(const char *where, const char *key, char *out, size_t cap)
{
    if (where == NULL || where[0] == '\0') {
        snprintf(out, cap, "%s", key);
    } else {
        snprintf(out, cap, "%s.%s", where, key);
    }
}

enum latch_status
latch_json_only_members(const json_t *obj, const char *const *allowed,
                        const char *where, struct latch_err *err)
{
    char shown[PATH_MAX_LEN];
    struct sbuf b = {shown, sizeof(shown), 0};
    const char *key;
    json_t *m;
    size_t i, klen;
    bool ok;

    if (!json_is_object(obj)) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: expected an object",
                             where != NULL && where[0] != '\0' ? where
                                                               : "(top level)");
    }
    json_object_keylen_foreach((json_t *)(uintptr_t)obj, key, klen, m)
    {
        (void)m;
        ok = false;
        for (i = 0; allowed[i] != NULL && !ok; i++) {
            ok = strlen(allowed[i]) == klen &&
                 memcmp(allowed[i], key, klen) == 0;
        }
        if (!ok) {
            if (where != NULL && where[0] != '\0') {
                sb_add(&b, "%s.", where);
            }
            sb_text(&b, key, klen);
            return latch_err_set(err, LATCH_E_FORMAT, "%s: unknown member",
                                 shown);
        }
    }
    return LATCH_OK;
}

static const char *
type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/*
 * Finds member key of obj, checking its type. Returns LATCH_OK with *v set,
 * LATCH_OK with *v NULL for a missing optional member, or LATCH_E_FORMAT.
 */
static enum latch_status
get_member(const json_t *obj, const char *key, const char *where, bool required,
           json_type type, const char *tname, json_t **v, bool *present,
           struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    json_t *m;
    bool ok;

    *v = NULL;
    member_name(where, key, name, sizeof(name));
    if (!json_is_object(obj)) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: parent is not an object",
                             name);
    }
    m = json_object_get(obj, key);
    if (m == NULL) {
        if (present != NULL) {
            *present = false;
        }
        if (required) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "%s: required member missing", name);
        }
        return LATCH_OK;
    }
    ok = json_typeof(m) == type ||
         (type == JSON_TRUE && json_typeof(m) == JSON_FALSE);
    if (!ok) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: expected %s, got %s",
                             name, tname, type_name(m));
    }
    if (present != NULL) {
        *present = true;
    }
    *v = m;
    return LATCH_OK;
}

enum latch_status
latch_json_get_string(const json_t *obj, const char *key, const char *where,
                      bool required, const char **out, bool *present,
                      struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    enum latch_status st;
    json_t *m;

    st = get_member(obj, key, where, required, JSON_STRING, "a string", &m,
                    present, err);
    if (st != LATCH_OK || m == NULL) {
        return st;
    }
    /* A string built in code may hold U+0000; C callers would truncate. */
    if (strlen(json_string_value(m)) != json_string_length(m)) {
        member_name(where, key, name, sizeof(name));
        return latch_err_set(err, LATCH_E_FORMAT, "%s: string contains U+0000",
                             name);
    }
    *out = json_string_value(m);
    return LATCH_OK;
}

enum latch_status
latch_json_get_int(const json_t *obj, const char *key, const char *where,
                   bool required, int64_t *out, bool *present,
                   struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    enum latch_status st;
    json_t *m;
    json_int_t n;

    st = get_member(obj, key, where, required, JSON_INTEGER, "an integer", &m,
                    present, err);
    if (st != LATCH_OK || m == NULL) {
        return st;
    }
    n = json_integer_value(m);
    if (n > LATCH_JSON_MAX_INT || n < -LATCH_JSON_MAX_INT) {
        member_name(where, key, name, sizeof(name));
        return latch_err_set(
            err, LATCH_E_FORMAT, "%s: integer %lld is outside [-%lld, %lld]",
            name, (long long)n, LATCH_JSON_MAX_INT, LATCH_JSON_MAX_INT);
    }
    *out = (int64_t)n;
    return LATCH_OK;
}

enum latch_status
latch_json_get_bool(const json_t *obj, const char *key, const char *where,
                    bool required, bool *out, bool *present,
                    struct latch_err *err)
{
    enum latch_status st;
    json_t *m;

    st = get_member(obj, key, where, required, JSON_TRUE, "a boolean", &m,
                    present, err);
    if (st != LATCH_OK || m == NULL) {
        return st;
    }
    *out = json_is_true(m);
    return LATCH_OK;
}

enum latch_status
latch_json_get_object(const json_t *obj, const char *key, const char *where,
                      bool required, json_t **out, bool *present,
                      struct latch_err *err)
{
    enum latch_status st;
    json_t *m;

    st = get_member(obj, key, where, required, JSON_OBJECT, "an object", &m,
                    present, err);
    if (st == LATCH_OK && m != NULL) {
        *out = m;
    }
    return st;
}

enum latch_status
latch_json_get_array(const json_t *obj, const char *key, const char *where,
                     bool required, json_t **out, bool *present,
                     struct latch_err *err)
{
    enum latch_status st;
    json_t *m;

    st = get_member(obj, key, where, required, JSON_ARRAY, "an array", &m,
                    present, err);
    if (st == LATCH_OK && m != NULL) {
        *out = m;
    }
    return st;
}

enum latch_status
latch_json_get_time(const json_t *obj, const char *key, const char *where,
                    bool required, int64_t *out, bool *present,
                    struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    const char *s = NULL;
    enum latch_status st;
    bool here = false;

    st = latch_json_get_string(obj, key, where, required, &s, &here, err);
    if (present != NULL) {
        *present = here;
    }
    if (st != LATCH_OK || !here) {
        return st;
    }
    st = latch_time_parse(s, out, err);
    if (st != LATCH_OK) {
        member_name(where, key, name, sizeof(name));
        latch_err_prefix(err, name);
    }
    return st;
}

enum latch_status
latch_json_get_b64(const json_t *obj, const char *key, const char *where,
                   bool required, size_t max, uint8_t **out, size_t *outlen,
                   bool *present, struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    const char *s = NULL;
    enum latch_status st;
    bool here = false;

    st = latch_json_get_string(obj, key, where, required, &s, &here, err);
    if (present != NULL) {
        *present = here;
    }
    if (st != LATCH_OK || !here) {
        return st;
    }
    st = latch_b64_decode(s, max, out, outlen, err);
    if (st != LATCH_OK) {
        member_name(where, key, name, sizeof(name));
        latch_err_prefix(err, name);
    }
    return st;
}

enum latch_status
latch_json_get_hex(const json_t *obj, const char *key, const char *where,
                   bool required, uint8_t *out, size_t cap, size_t *outlen,
                   bool *present, struct latch_err *err)
{
    char name[PATH_MAX_LEN];
    const char *s = NULL;
    enum latch_status st;
    bool here = false;

    st = latch_json_get_string(obj, key, where, required, &s, &here, err);
    if (present != NULL) {
        *present = here;
    }
    if (st != LATCH_OK || !here) {
        return st;
    }
    st = latch_hex_decode(s, out, cap, outlen, err);
    if (st != LATCH_OK) {
        member_name(where, key, name, sizeof(name));
        latch_err_prefix(err, name);
    }
    return st;
}
