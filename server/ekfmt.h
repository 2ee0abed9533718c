/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekfmt.h: an EK verification result as JSON (for --json, the API and the
 * stored report) and as text for a terminal. Shared by `latchd ek verify`,
 * the validation pipeline and the test tools, so they all say the same.
 */
#ifndef LATCHD_EKFMT_H
#define LATCHD_EKFMT_H

#include <stdio.h>

#include <jansson.h>

#include "ekcert.h"
#include "report.h"

/*
 * { "file", "sha256", "form", "outcome", "reason", "detail",
 *   "tpm": { "manufacturer", "vendor", "model", "version", "firmware" },
 *   "key": { "type", "bits", "rsaes_oaep" }, "subject", "issuer",
 *   "not_before", "not_after", "chain": [ { "subject", "sha256",
 *   "pinned" } ], "root": { "subject", "sha256", "pinning_steps" } (unknown
 *   root only), "expired", "sha1", "roca", "denylisted", "aia_fetches",
 *   "checks": [ { "name", "result", "detail" } ] }
 * c may be NULL (parse failure: then res->detail says why). file may be
 * NULL. Returns a new reference or NULL on allocation failure.
 */
json_t *ek_result_json(const char *file, const struct ek_cert *c,
                       const struct ek_result *res,
                       const struct latch_report *rep);

/* The same as a few readable lines. */
void ek_result_print(FILE *fp, const char *file, const struct ek_cert *c,
                     const struct ek_result *res,
                     const struct latch_report *rep);

/* "der", "der+fill", "nv-header", "pem". */
const char *ek_form_str(enum ek_form f);

/* RFC 3339 UTC ("2033-03-01T14:19:16Z") into out (32 bytes). */
void ek_time_str(int64_t t, char out[32]);

#endif /* LATCHD_EKFMT_H */
