/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * html.h: the only way latchd writes HTML. Text goes through escaping by
 * default: html_fmt() escapes every %s argument, html_text() escapes its
 * argument, and only html_raw() appends unescaped bytes, which must be
 * constant markup written in our own source. Untrusted values are never
 * placed inside hx-*, on*, style, script or URL attributes.
 */
#ifndef LATCHD_HTML_H
#define LATCHD_HTML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growable output buffer with a hard cap fixed at creation. A write that
 * would pass the cap, or an allocation failure, sets `failed` and makes
 * every later write a no-op, so page code checks once at the end.
 */
struct hbuf {
    char *p;
    size_t len;
    size_t cap;
    size_t max;
    bool failed;
};

#define HBUF_PAGE_MAX (4u << 20) /* biggest page or JSON body we write */

/* Prepares an empty buffer that may grow to max bytes. */
void hbuf_init(struct hbuf *b, size_t max);

/* Frees the storage (b itself may live on the stack). Accepts NULL. */
void hbuf_free(struct hbuf *b);

/* Hands the bytes to the caller (free()) and resets b. NULL if failed. */
char *hbuf_take(struct hbuf *b, size_t *len);

/* Appends bytes as they are. */
void hbuf_put(struct hbuf *b, const void *data, size_t len);

/* Appends a trusted printf-formatted string (no escaping). */
void hbuf_printf(struct hbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends constant, trusted markup. Never pass a value from outside. */
void html_raw(struct hbuf *b, const char *markup);

/*
 * Appends untrusted text escaped for element content and for double-quoted
 * attribute values: & < > " ' become entities; invalid UTF-8 becomes
 * U+FFFD; bidi controls (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C),
 * C0/C1 controls other than tab and newline, and U+FEFF are shown as their
 * code point ("[U+202E]") so they can neither reorder nor hide text.
 * NULL is written as nothing.
 */
void html_text(struct hbuf *b, const char *s);

/* Same as html_text() for len bytes that need not be NUL-terminated. */
void html_textn(struct hbuf *b, const char *s, size_t len);

/*
 * printf-like output for page templates: fmt is trusted markup; every %s
 * argument is escaped as html_text() does. Supported conversions: %s, %d,
 * %i, %u, %ld, %lu, %lld, %llu, %zu, %x and %%; anything else fails the
 * buffer (a programming error caught by the tests).
 */
void html_fmt(struct hbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void html_vfmt(struct hbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Appends s percent-encoded for one URL path segment or query value: only
 * A-Z a-z 0-9 - . _ ~ pass through. The result is also HTML-safe, so it may
 * follow html_raw("<a href=\"/devices/").
 */
void html_url(struct hbuf *b, const char *s);

/* Appends t as "2027-01-31 00:00:00 UTC"; 0 gives an em dash. */
void html_time(struct hbuf *b, int64_t t);

#endif /* LATCHD_HTML_H */
