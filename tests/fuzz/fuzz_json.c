/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * fuzz_json.c: libFuzzer harness for the strict JSON reader and RFC 8785
 * output. Whatever the reader accepts must canonicalize, and the canonical
 * form must read back to an equal value and canonicalize to the same bytes.
 * Built only by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct latch_err err;
    json_t *v1 = NULL, *v2 = NULL;
    char *c1 = NULL, *c2 = NULL;
    size_t n1 = 0, n2 = 0;

    if (latch_json_parse((const char *)data, size, &v1, &err) != LATCH_OK) {
        if (err.status != LATCH_E_FORMAT || err.msg[0] == '\0') {
            abort(); /* every rejection is a format error with a message */
        }
        return 0;
    }
    if (latch_jcs(v1, &c1, &n1, &err) != LATCH_OK) {
        abort();
    }
    if (n1 > size || strlen(c1) != n1) {
        abort(); /* canonical form only drops bytes, never holds a NUL */
    }
    if (latch_json_parse(c1, n1, &v2, &err) != LATCH_OK ||
        !json_equal(v1, v2)) {
        abort();
    }
    if (latch_jcs(v2, &c2, &n2, &err) != LATCH_OK || n1 != n2 ||
        memcmp(c1, c2, n1) != 0) {
        abort();
    }
    free(c1);
    free(c2);
    json_decref(v1);
    json_decref(v2);
    return 0;
}
