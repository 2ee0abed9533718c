/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * license.h: license.json (format latch.license.v1): strict parsing,
 * signing (server) and verification (everywhere). docs/format.md is the
 * normative description.
 *
 * Signed bytes: "latch.license.v1", one NUL byte, then the RFC 8785 form of
 * the parsed `license` member. Every value a caller uses comes from the same
 * parsed object that was canonicalized and verified.
 */
#ifndef LATCH_LICENSE_H
#define LATCH_LICENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "report.h"

#define LATCH_LICENSE_FORMAT   "latch.license.v1"
#define LATCH_IDENTITY_SCHEMA  "tpm2_ek_ak_binding"
#define LATCH_FEATURE_NAME_MAX 64
#define LATCH_FEATURES_MAX     256
/* TPM name: 2-byte algorithm + digest of up to 64 bytes. */
#define LATCH_NAME_MAX 66

/*
 * Extended key usage a certificate must carry to sign licenses. The arc is
 * 2.25 (ITU-T X.667: an OID built from a UUID, no registration needed);
 * UUID 1fe2d8d0-d5e0-4557-af83-52dc568d6f20.
 */
#define LATCH_EKU_LICENSE_SIGNING_OID                                          \
    "2.25.42383924505484888768200975379162033952"
#define LATCH_EKU_LICENSE_SIGNING_SN "latchLicenseSigning"

struct latch_feature {
    char name[LATCH_FEATURE_NAME_MAX + 1];
    bool enabled;
    bool has_quantity;
    int64_t quantity;
    bool has_valid_until;
    int64_t valid_until;
};

struct latch_license {
    json_t *doc;        /* the whole parsed file */
    const json_t *body; /* doc["license"]: the signed object */

    /* borrowed from doc */
    const char *license_id;
    const char *device_id; /* 64 lowercase hex */
    const char *enrollment_id;
    const char *customer;
    const char *identity_schema;
    const char *ek_template; /* "rsa2048", "ecc-p256", "ecc-p384" */
    const char *algorithm;   /* informational only, never trusted */

    int64_t serial;
    int64_t issued_at;
    int64_t valid_from;
    bool has_valid_until;
    int64_t valid_until;

    struct latch_feature *features;
    size_t nfeatures;

    uint8_t ak_name[LATCH_NAME_MAX];
    size_t ak_name_len;
    uint8_t *credential_blob; /* marshalled TPM2B_ID_OBJECT */
    size_t credential_blob_len;
    uint8_t *encrypted_secret; /* marshalled TPM2B_ENCRYPTED_SECRET */
    size_t encrypted_secret_len;
    uint8_t secret_sha256[32];

    X509 *signer; /* signature.certificate */
    uint8_t *sig; /* signature.value (DER ECDSA or raw Ed25519) */
    size_t siglen;
};

/*
 * Parses and checks the structure of a license file (strict JSON, every
 * member, types, feature names). Does NOT verify the signature. On success
 * *out must be released with latch_license_free().
 */
enum latch_status latch_license_parse(const char *buf, size_t len,
                                      struct latch_license **out,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

void latch_license_free(struct latch_license *lic);

/*
 * Verifies the signature: the signing certificate chains to root, carries
 * digitalSignature and the latch license-signing EKU, was valid at the
 * license's issued_at, and its key (ECDSA P-256/P-384 or Ed25519; the
 * algorithm comes from the key) signed the canonical bytes. Each check is
 * added to rep (may be NULL). LATCH_E_SIGNATURE on failure.
 */
enum latch_status latch_license_verify(const struct latch_license *lic,
                                       X509 *root, struct latch_report *rep,
                                       struct latch_err *err)
    __attribute__((warn_unused_result));

/* LATCH_E_VALIDITY unless valid_from <= now < valid_until (if any). */
enum latch_status latch_license_check_time(const struct latch_license *lic,
                                           int64_t now, struct latch_err *err)
    __attribute__((warn_unused_result));

/* The feature of that name, or NULL. */
const struct latch_feature *
latch_license_feature(const struct latch_license *lic, const char *name);

/* True when name matches [a-z0-9][a-z0-9_.-]{0,63}. */
bool latch_feature_name_ok(const char *name);

/*
 * Copies s into out for an error message: printable ASCII as is, every
 * other byte (and the backslash) as \xNN, so a hostile name cannot smuggle
 * control or bidi characters into a terminal. Truncates with "...".
 */
void latch_text_escape(const char *s, char *out, size_t cap);

/*
 * The bytes that are signed: "latch.license.v1" NUL JCS(body). New buffer
 * in *out (free()).
 */
enum latch_status latch_license_signed_bytes(const json_t *body, uint8_t **out,
                                             size_t *outlen,
                                             struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Signs body (the `license` object, checked with the same rules the parser
 * applies) with key, whose certificate is cert, and writes the whole
 * pretty-printed license file into a new NUL-terminated buffer *out.
 */
enum latch_status latch_license_sign(const json_t *body, EVP_PKEY *key,
                                     X509 *cert, char **out, size_t *outlen,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * The signature primitive latch_license_verify() uses, exposed for test
 * vectors: the scheme comes from key (EC P-256: ECDSA with SHA-256, EC
 * P-384: ECDSA with SHA-384, Ed25519: pure EdDSA; any other key fails), an
 * ECDSA signature must be one strict-DER ECDSA-Sig-Value, an Ed25519 one 64
 * bytes. Both low-S and high-S ECDSA signatures are accepted (the signer
 * always emits low-S). LATCH_E_SIGNATURE when it does not verify.
 */
enum latch_status latch_license_sig_verify(EVP_PKEY *key, const uint8_t *msg,
                                           size_t msglen, const uint8_t *sig,
                                           size_t siglen, struct latch_err *err)
    __attribute__((warn_unused_result));

/* The root compiled in at build time (may be ""). */
extern const char latch_root_ca_pem[];

/*
 * Loads the first certificate of a PEM string. LATCH_E_NOT_FOUND for an
 * empty string (a build without a root).
 */
enum latch_status latch_cert_from_pem(const char *pem, X509 **out,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_LICENSE_H */
