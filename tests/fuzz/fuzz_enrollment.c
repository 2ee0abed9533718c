/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * fuzz_enrollment.c: libFuzzer harness for the enrollment.json reader and
 * writer. Whatever the reader accepts, the writer must write, and that
 * output must read back with the same values. Built only by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enrollment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_blob(const struct latch_blob *a, const struct latch_blob *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static bool
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same(const struct latch_enrollment *a, const struct latch_enrollment *b)
{
    size_t i;

    if (a->created_at != b->created_at || !same_str(a->label, b->label) ||
        !same_str(a->hostname, b->hostname) ||
        !same_str(a->ek_template, b->ek_template) ||
        !same_str(a->tpm_vendor, b->tpm_vendor) ||
        a->tpm_spec_revision != b->tpm_spec_revision ||
        a->nintermediates != b->nintermediates ||
        a->ak_name_len != b->ak_name_len ||
        memcmp(a->ak_name, b->ak_name, a->ak_name_len) != 0 ||
        !same_blob(&a->ek_certificate, &b->ek_certificate) ||
        !same_blob(&a->ek_public, &b->ek_public) ||
        !same_blob(&a->ak_public, &b->ak_public)) {
        return false;
    }
    for (i = 0; i < a->nintermediates; i++) {
        if (!same_blob(&a->intermediates[i], &b->intermediates[i])) {
            return false;
        }
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct latch_enrollment *a = NULL, *b = NULL;
    struct latch_err err;
    char *out = NULL;
    size_t len = 0;

    if (latch_enrollment_parse((const char *)data, size, &a, &err) !=
        LATCH_OK) {
        if (a != NULL || err.msg[0] == '\0') {
            abort();
        }
        return 0;
    }
    if (latch_enrollment_write(a, &out, &len, &err) != LATCH_OK) {
        abort();
    }
    if (latch_enrollment_parse(out, len, &b, &err) != LATCH_OK || !same(a, b)) {
        abort();
    }
    free(out);
    latch_enrollment_free(a);
    latch_enrollment_free(b);
    return 0;
}
