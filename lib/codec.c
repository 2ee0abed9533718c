/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * codec.c: strict base64 (RFC 4648 section 4, padded), lowercase hex and
 * RFC 3339 UTC times. Every decoder accepts exactly one spelling per value,
 * so two different strings never decode to the same bytes or instant.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "codec.h"

/* Decoded size limit where the caller passes none (and for int casts). */
#define B64_ABS_MAX ((size_t)INT_MAX / 4 * 3)

static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

enum latch_status
latch_b64_encode(const uint8_t *in, size_t len, char **out)
{
    char *buf = NULL;
    size_t cap;

    *out = NULL;
    if (len > B64_ABS_MAX) {
        return LATCH_E_USAGE;
    }
    cap = (len + 2) / 3 * 4 + 1;
    buf = malloc(cap);
    if (buf == NULL) {
        return LATCH_E_NOMEM;
    }
    if (len == 0) {
        buf[0] = '\0';
    } else {
        EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
    }
    *out = buf;
    return LATCH_OK;
}

/*
 * Checks the text against the one canonical spelling: length a multiple of
 * four, only alphabet characters before at most two '=', and zero bits in
 * the part of the last character that padding leaves unused.
 */
static enum latch_status
b64_check(const char *in, size_t len, size_t *pad, struct latch_err *err)
{
    size_t i, npad = 0;
    int last;

    if (len % 4 != 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "base64: length %zu is not a multiple of 4", len);
    }
    if (len > 0 && in[len - 1] == '=') {
        npad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
    }
    for (i = 0; i < len - npad; i++) {
        if (b64_value((unsigned char)in[i]) < 0) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "base64: character 0x%02x at offset %zu is "
                                 "not in the standard alphabet (or misplaced "
                                 "padding)",
                                 (unsigned char)in[i], i);
        }
    }
    if (npad > 0) {
        last = b64_value((unsigned char)in[len - npad - 1]);
        if ((npad == 1 && (last & 0x03) != 0) ||
            (npad == 2 && (last & 0x0f) != 0)) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "base64: non-zero bits after the last byte "
                                 "(not the canonical encoding)");
        }
    }
    *pad = npad;
    return LATCH_OK;
}

enum latch_status
latch_b64_decode(const char *in, size_t max, uint8_t **out, size_t *outlen,
                 struct latch_err *err)
{
    uint8_t *buf = NULL;
    size_t len, pad = 0, n;
    enum latch_status st;
    int r;

    *out = NULL;
    *outlen = 0;
    len = strnlen(in, B64_ABS_MAX / 3 * 4 + 1);
    if (len > B64_ABS_MAX / 3 * 4) {
        return latch_err_set(err, LATCH_E_FORMAT, "base64: input too long");
    }
    st = b64_check(in, len, &pad, err);
    if (st != LATCH_OK) {
        return st;
    }
    n = len / 4 * 3 - pad;
    if (n > max) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "base64: decodes to %zu bytes, more than the "
                             "%zu allowed",
                             n, max);
    }
    /* One spare byte so that an empty result is still a real allocation. */
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "base64: out of memory");
    }
    if (len > 0) {
        r = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
        if (r < 0 || (size_t)r != len / 4 * 3) {
            free(buf);
            return latch_err_ossl(err, LATCH_E_FORMAT,
                                  "base64: EVP_DecodeBlock failed");
        }
    }
    *out = buf;
    *outlen = n;
    return LATCH_OK;
}

void
latch_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

enum latch_status
latch_hex_decode(const char *in, uint8_t *out, size_t cap, size_t *outlen,
                 struct latch_err *err)
{
    size_t len, i;
    int hi, lo;

    *outlen = 0;
    len = strnlen(in, 2 * cap + 1);
    if (len > 2 * cap) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "hex: longer than the %zu bytes allowed", cap);
    }
    if (len % 2 != 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "hex: odd number of digits (%zu)", len);
    }
    for (i = 0; i < len; i += 2) {
        hi = hex_value((unsigned char)in[i]);
        lo = hex_value((unsigned char)in[i + 1]);
        if (hi < 0 || lo < 0) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "hex: character at offset %zu is not a "
                                 "lowercase hex digit",
                                 hi < 0 ? i : i + 1);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return LATCH_OK;
}

/* Reads n decimal digits at s; -1 when any is not a digit. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int
days_in_month(int year, int month)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (month == 2 && leap) {
        return 29;
    }
    return mdays[month - 1];
}

enum latch_status
latch_time_parse(const char *s, int64_t *out, struct latch_err *err)
{
    struct tm tm;
    int year, mon, day, hour, min, sec;
    time_t t;

    if (strnlen(s, LATCH_TIME_LEN) != LATCH_TIME_LEN - 1 || s[4] != '-' ||
        s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z') {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "time: not of the form YYYY-MM-DDTHH:MM:SSZ");
    }
    year = digits(s, 4);
    mon = digits(s + 5, 2);
    day = digits(s + 8, 2);
    hour = digits(s + 11, 2);
    min = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "time: not of the form YYYY-MM-DDTHH:MM:SSZ");
    }
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
        day > days_in_month(year, mon) || hour > 23 || min > 59 || sec > 59) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "time: %.20s is out of range (years 1970-9999, "
                             "no leap seconds)",
                             s);
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "time: %.20s cannot be represented", s);
    }
    *out = (int64_t)t;
    return LATCH_OK;
}

void
latch_time_format(int64_t t, char out[LATCH_TIME_LEN])
{
    /* 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
    const int64_t lo = 0, hi = 253402300799LL;
    time_t tt;
    struct tm tm;

    if (t < lo) {
        t = lo;
    } else if (t > hi) {
        t = hi;
    }
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL ||
        snprintf(out, LATCH_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec) != LATCH_TIME_LEN - 1) {
        snprintf(out, LATCH_TIME_LEN, "1970-01-01T00:00:00Z");
    }
}

size_t
latch_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c, lo = 0x80, hi = 0xbf;
    size_t len, i;
    uint32_t v;

    if (n == 0) {
        return 0;
    }
    c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* overlong */
        hi = c == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80; /* overlong */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = v << 6 | (p[i] & 0x3f);
    }
    *cp = v;
    return len;
}
