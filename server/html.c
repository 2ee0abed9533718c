/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * html.c: capped output buffers and context escaping for latchd's pages.
 * Every byte of untrusted text is decoded as UTF-8 and re-encoded, so what
 * reaches the browser is valid UTF-8 whatever the enrollment file held.
 */
#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
hbuf_init(struct hbuf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = false;
}

void
hbuf_free(struct hbuf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

char *
hbuf_take(struct hbuf *b, size_t *len)
{
    char *p = NULL;

    if (b->failed) {
        hbuf_free(b);
        return NULL;
    }
    if (b->p == NULL) {
        hbuf_put(b, "", 0);
        if (b->failed) {
            return NULL;
        }
    }
    p = b->p;
    if (len != NULL) {
        *len = b->len;
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* Makes room for n more bytes plus a NUL. */
static bool
reserve(struct hbuf *b, size_t n)
{
    size_t want;
    size_t ncap;
    char *np = NULL;

    if (b->failed) {
        return false;
    }
    if (n > b->max || b->len > b->max - n) {
        b->failed = true;
        return false;
    }
    want = b->len + n + 1;
    if (want <= b->cap) {
        return true;
    }
    ncap = b->cap == 0 ? 1024 : b->cap;
    while (ncap < want) {
        ncap *= 2;
    }
    if (ncap > b->max + 1) {
        ncap = b->max + 1;
    }
    np = realloc(b->p, ncap);
    if (np == NULL) {
        b->failed = true;
        return false;
    }
    b->p = np;
    b->cap = ncap;
    return true;
}

void
hbuf_put(struct hbuf *b, const void *data, size_t len)
{
    if (!reserve(b, len)) {
        return;
    }
    if (len > 0) {
        memcpy(b->p + b->len, data, len);
    }
    b->len += len;
    b->p[b->len] = '\0';
}

void
hbuf_printf(struct hbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        hbuf_put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
html_raw(struct hbuf *b, const char *markup)
{
    hbuf_put(b, markup, strlen(markup));
}

/*
 * Decodes one UTF-8 sequence at s (n bytes left). Returns its length and
 * stores the code point, or returns 1 with U+FFFD for anything malformed:
 * truncated, overlong, surrogate or beyond U+10FFFF.
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
        c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
        c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (n < len) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = c;
    return len;
}

/* Characters shown as "[U+XXXX]" instead of being passed to the browser. */
static bool
is_shown_as_code_point(uint32_t c)
{
    if (c < 0x20) {
        return c != '\t' && c != '\n';
    }
    return (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f ||
           c == 0x061c || c == 0xfeff;
}

static void
put_utf8(struct hbuf *b, uint32_t c)
{
    unsigned char o[4];
    size_t n;

    if (c < 0x80) {
        o[0] = (unsigned char)c;
        n = 1;
    } else if (c < 0x800) {
        o[0] = (unsigned char)(0xc0 | (c >> 6));
        o[1] = (unsigned char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        o[0] = (unsigned char)(0xf0 | (c >> 18));
        o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        o[3] = (unsigned char)(0x80 | (c & 0x3f));
        n = 4;
    }
    hbuf_put(b, o, n);
}

/* Printable ASCII that needs no entity: copied as runs. */
static bool
is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' &&
           c != '"' && c != '\'';
}

void
html_textn(struct hbuf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    uint32_t c;

    if (s == NULL) {
        return;
    }
    while (i < len && !b->failed) {
        size_t run = i;

        while (run < len && is_plain(u[run])) {
            run++;
        }
        if (run > i) {
            hbuf_put(b, u + i, run - i);
            i = run;
            continue;
        }
        i += utf8_next(u + i, len - i, &c);
        switch (c) {
        case '&':
            html_raw(b, "&amp;");
            break;
        case '<':
            html_raw(b, "&lt;");
            break;
        case '>':
            html_raw(b, "&gt;");
            break;
        case '"':
            html_raw(b, "&quot;");
            break;
        case '\'':
            html_raw(b, "&#39;");
            break;
        default:
            if (is_shown_as_code_point(c)) {
                hbuf_printf(b, "[U+%04X]", (unsigned)c);
            } else {
                put_utf8(b, c);
            }
            break;
        }
    }
}

void
html_text(struct hbuf *b, const char *s)
{
    if (s == NULL) {
        return;
    }
    html_textn(b, s, strlen(s));
}

/* Formats one integer argument: lmod 0 int, 1 long, 2 long long, 3 size_t. */
static void
fmt_number(struct hbuf *b, int lmod, char conv, va_list *ap)
{
    char out[32];
    bool hex = conv == 'x';
    int n = -1;

    if (conv == 'd' || conv == 'i') {
        if (lmod == 0) {
            n = snprintf(out, sizeof(out), "%d", va_arg(*ap, int));
        } else if (lmod == 1) {
            n = snprintf(out, sizeof(out), "%ld", va_arg(*ap, long));
        } else if (lmod == 2) {
            n = snprintf(out, sizeof(out), "%lld", va_arg(*ap, long long));
        }
    } else {
        unsigned long long v = 0;

        if (lmod == 0) {
            v = va_arg(*ap, unsigned);
        } else if (lmod == 1) {
            v = va_arg(*ap, unsigned long);
        } else if (lmod == 2) {
            v = va_arg(*ap, unsigned long long);
        } else {
            v = va_arg(*ap, size_t);
        }
        n = snprintf(out, sizeof(out), hex ? "%llx" : "%llu", v);
    }
    if (n < 0 || (size_t)n >= sizeof(out)) {
        b->failed = true;
        return;
    }
    hbuf_put(b, out, (size_t)n);
}

void
html_vfmt(struct hbuf *b, const char *fmt, va_list ap)
{
    const char *p = fmt;
    const char *lit = fmt;
    va_list aq;

    va_copy(aq, ap);
    while (*p != '\0' && !b->failed) {
        int lmod = 0;

        if (*p != '%') {
            p++;
            continue;
        }
        hbuf_put(b, lit, (size_t)(p - lit));
        p++;
        if (*p == '%') {
            hbuf_put(b, "%", 1);
            lit = ++p;
            continue;
        }
        if (*p == 'z') {
            lmod = 3;
            p++;
        } else if (p[0] == 'l' && p[1] == 'l') {
            lmod = 2;
            p += 2;
        } else if (*p == 'l') {
            lmod = 1;
            p++;
        }
        if (*p == 's' && lmod == 0) {
            html_text(b, va_arg(aq, const char *));
        } else if ((*p == 'd' || *p == 'i') && lmod != 3) {
            fmt_number(b, lmod, *p, &aq);
        } else if (*p == 'u' || *p == 'x') {
            fmt_number(b, lmod, *p, &aq);
        } else {
            b->failed = true;
            break;
        }
        lit = ++p;
    }
    if (!b->failed) {
        hbuf_put(b, lit, strlen(lit));
    }
    va_end(aq);
}

void
html_fmt(struct hbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    html_vfmt(b, fmt, ap);
    va_end(ap);
}

void
html_url(struct hbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;

    if (s == NULL) {
        return;
    }
    for (; *u != '\0' && !b->failed; u++) {
        unsigned char c = *u;
        char enc[3];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            hbuf_put(b, &c, 1);
            continue;
        }
        enc[0] = '%';
        enc[1] = hex[c >> 4];
        enc[2] = hex[c & 15];
        hbuf_put(b, enc, 3);
    }
}

void
html_time(struct hbuf *b, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char out[32];

    if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, sizeof(out), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        html_raw(b, "\xe2\x80\x94");
        return;
    }
    html_raw(b, out);
}
