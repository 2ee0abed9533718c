/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * enrollment.h: enrollment.json (format latch.enrollment.v1), written by
 * `latch enroll` and read by latchd. Everything in it is untrusted until
 * the server has validated it; the `device` object is informational only.
 */
#ifndef LATCH_ENROLLMENT_H
#define LATCH_ENROLLMENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "license.h"

#define LATCH_ENROLLMENT_FORMAT       "latch.enrollment.v1"
#define LATCH_ENROLL_MAX_INTERMEDIATE 4
#define LATCH_CERT_MAX                8192 /* one certificate, DER */
#define LATCH_TPM_PUBLIC_MAX          1024 /* marshalled TPM2B_PUBLIC */
#define LATCH_ENROLL_TEXT_MAX         256  /* bytes of a device/tpm string */

struct latch_blob {
    uint8_t *data;
    size_t len;
};

/*
 * JSON layout (docs/format.md):
 * { "format": "latch.enrollment.v1",
 *   "identity_schema": "tpm2_ek_ak_binding",
 *   "created_at": "2026-12-03T18:00:00Z",
 *   "device": { "hostname", "product", "serial_number",
 *               "firmware_version", "label" },          (all optional)
 *   "identity": {
 *     "ek_template": "rsa2048" | "ecc-p256" | "ecc-p384",
 *     "ek_certificate": base64 (bytes exactly as read from TPM NV),
 *     "ek_intermediates": [ base64 DER, ... ]             (may be empty),
 *     "ek_public": base64 (marshalled TPM2B_PUBLIC),
 *     "ak_public": base64 (marshalled TPM2B_PUBLIC),
 *     "ak_name": lowercase hex,
 *     "tpm": { "manufacturer": "IBM", "vendor": "SW  TPM",
 *              "firmware_version": "20191023.0",
 *              "spec_revision": 164 } } }    (tpm and its members optional)
 * Unknown members are rejected at the top level and inside device, identity
 * and tpm; device and tpm strings hold at most LATCH_ENROLL_TEXT_MAX bytes.
 */
struct latch_enrollment {
    json_t *doc; /* whole parsed file; strings below are borrowed from it */

    const char *identity_schema;
    int64_t created_at;

    /* device: informational, untrusted; NULL when absent */
    const char *hostname;
    const char *product;
    const char *serial_number;
    const char *firmware_version;
    const char *label;

    /* identity */
    const char *ek_template;
    struct latch_blob ek_certificate;
    struct latch_blob intermediates[LATCH_ENROLL_MAX_INTERMEDIATE];
    size_t nintermediates;
    struct latch_blob ek_public;
    struct latch_blob ak_public;
    uint8_t ak_name[LATCH_NAME_MAX];
    size_t ak_name_len;
    const char *tpm_manufacturer;
    const char *tpm_vendor;
    const char *tpm_firmware;
    int64_t tpm_spec_revision; /* 0 when absent */
};

/*
 * Parses strictly (same JSON rules as licenses). Does not validate the TPM
 * structures or the certificate: that is the server's job. On success
 * *out must be released with latch_enrollment_free().
 */
enum latch_status latch_enrollment_parse(const char *buf, size_t len,
                                         struct latch_enrollment **out,
                                         struct latch_err *err)
    __attribute__((warn_unused_result));

void latch_enrollment_free(struct latch_enrollment *enr);

/*
 * Serializes e (doc ignored; NULL strings omitted) as a pretty-printed
 * enrollment.json into a new NUL-terminated buffer.
 */
enum latch_status latch_enrollment_write(const struct latch_enrollment *e,
                                         char **out, size_t *outlen,
                                         struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_ENROLLMENT_H */
