/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * json.h: the one strict JSON reader shared by the device and the server
 * (jansson underneath), and typed member getters that name what is wrong.
 *
 * Rules (docs/format.md): at most LATCH_JSON_MAX_BYTES bytes, nesting depth
 * at most LATCH_JSON_MAX_DEPTH, valid UTF-8 without lone surrogates, no
 * duplicate member names (compared after unescaping), numbers only as
 * integers in [-(2^53-1), 2^53-1] written without fraction or exponent and
 * never as -0.
 */
#ifndef LATCH_JSON_H
#define LATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

#define LATCH_JSON_MAX_BYTES 65536
#define LATCH_JSON_MAX_DEPTH 16
#define LATCH_JSON_MAX_INT   9007199254740991LL

/*
 * Parses buf[0..len) strictly. On success *out holds a new reference (free
 * with json_decref). On failure returns LATCH_E_FORMAT with a message naming
 * the rule and, where known, the member path and byte offset.
 */
enum latch_status latch_json_parse(const char *buf, size_t len, json_t **out,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Fails with LATCH_E_FORMAT naming the first member of obj whose name is not
 * in the NULL-terminated list allowed. `where` names obj in messages
 * ("license", "license.binding", ...).
 */
enum latch_status
latch_json_only_members(const json_t *obj, const char *const *allowed,
                        const char *where, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Typed getters. Each fails with LATCH_E_FORMAT naming "where.key" when the
 * member is missing (required) or has the wrong type. An optional missing
 * member leaves *out untouched and sets *present (if non-NULL) to false.
 * Strings are returned borrowed from obj.
 */
enum latch_status latch_json_get_string(const json_t *obj, const char *key,
                                        const char *where, bool required,
                                        const char **out, bool *present,
                                        struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status latch_json_get_int(const json_t *obj, const char *key,
                                     const char *where, bool required,
                                     int64_t *out, bool *present,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status latch_json_get_bool(const json_t *obj, const char *key,
                                      const char *where, bool required,
                                      bool *out, bool *present,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status latch_json_get_object(const json_t *obj, const char *key,
                                        const char *where, bool required,
                                        json_t **out, bool *present,
                                        struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status latch_json_get_array(const json_t *obj, const char *key,
                                       const char *where, bool required,
                                       json_t **out, bool *present,
                                       struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Gets a string member holding RFC 3339 UTC time with seconds
 * ("2027-01-31T00:00:00Z") as seconds since the epoch.
 */
enum latch_status latch_json_get_time(const json_t *obj, const char *key,
                                      const char *where, bool required,
                                      int64_t *out, bool *present,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Gets a string member holding padded standard base64 (RFC 4648 section 4)
 * and decodes it into a new buffer (free with free()). max caps the decoded
 * size.
 */
enum latch_status latch_json_get_b64(const json_t *obj, const char *key,
                                     const char *where, bool required,
                                     size_t max, uint8_t **out, size_t *outlen,
                                     bool *present, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Gets a string member of lowercase hex and decodes it into out (capacity
 * cap); *outlen receives the byte count.
 */
enum latch_status latch_json_get_hex(const json_t *obj, const char *key,
                                     const char *where, bool required,
                                     uint8_t *out, size_t cap, size_t *outlen,
                                     bool *present, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_JSON_H */
