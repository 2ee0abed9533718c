/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* codec.h: base64, hex and RFC 3339 time, strict in both directions. */
#ifndef LATCH_CODEC_H
#define LATCH_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Standard padded base64 into a new NUL-terminated string (free()). */
enum latch_status latch_b64_encode(const uint8_t *in, size_t len, char **out)
    __attribute__((warn_unused_result));

/*
 * Strict decode: standard alphabet, padding required, no whitespace, no
 * non-zero trailing bits. *out is a new buffer (free()); max caps *outlen.
 */
enum latch_status latch_b64_decode(const char *in, size_t max, uint8_t **out,
                                   size_t *outlen, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Lowercase hex of len bytes into out, which holds at least 2*len+1. */
void latch_hex_encode(const uint8_t *in, size_t len, char *out);

/* Strict lowercase hex decode into out (capacity cap). */
enum latch_status latch_hex_decode(const char *in, uint8_t *out, size_t cap,
                                   size_t *outlen, struct latch_err *err)
    __attribute__((warn_unused_result));

#define LATCH_TIME_LEN 21 /* "2027-01-31T00:00:00Z" + NUL */

/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ" (UTC, seconds, years 1970-9999). */
enum latch_status latch_time_parse(const char *s, int64_t *out,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Formats t as "YYYY-MM-DDTHH:MM:SSZ". Times outside the range latch_time_parse
 * accepts are clamped to its first or last second.
 */
void latch_time_format(int64_t t, char out[LATCH_TIME_LEN]);

/*
 * Decodes the UTF-8 sequence at p (n bytes available) into *cp. Returns its
 * length (1-4), or 0 when it is not well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates U+D800-U+DFFF, nothing above U+10FFFF, no truncated
 * or stray continuation bytes).
 */
size_t latch_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

#endif /* LATCH_CODEC_H */
