/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * jcs.h: RFC 8785 (JSON Canonicalization Scheme) output for the value types
 * latch allows: objects (members sorted by UTF-16 code units of their
 * names), arrays, strings, integers, true, false and null.
 */
#ifndef LATCH_JCS_H
#define LATCH_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/*
 * Writes the canonical form of v into a new NUL-terminated buffer *out (free
 * with free()) of *outlen bytes (not counting the NUL). Fails with
 * LATCH_E_FORMAT on a real number or an integer outside +-(2^53-1).
 */
enum latch_status latch_jcs(const json_t *v, char **out, size_t *outlen,
                            struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_JCS_H */
