/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * provider.c: the table of binding providers by identity_schema. A new
 * schema is one more line here and its provider_*.c file.
 */
#include <string.h>

#include "provider.h"

static const struct binding_provider *const providers[] = {
    &provider_tpm2,
    NULL,
};

const struct binding_provider *
provider_find(const char *schema)
{
    size_t i;

    if (schema == NULL) {
        return NULL;
    }
    for (i = 0; providers[i] != NULL; i++) {
        if (strcmp(providers[i]->schema, schema) == 0) {
            return providers[i];
        }
    }
    return NULL;
}

const char *
provider_names(void)
{
    /* One provider today; keep in step with the table above. */
    return "tpm2_ek_ak_binding";
}
