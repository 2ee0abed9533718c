/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mkcred.h: TPM2_MakeCredential in software (OpenSSL only), as the server
 * runs it for every license: the credential can only be recovered by
 * TPM2_ActivateCredential on the TPM holding that EK, with the AK of that
 * name loaded. Also the TCG KDFs, exposed for known-answer tests.
 */
#ifndef LATCH_MKCRED_H
#define LATCH_MKCRED_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "err.h"
#include "tpmt.h"

#define LATCH_SECRET_LEN 32

/*
 * ek: the EK public key (from the validated certificate). info: its
 * template, which fixes the hash (OAEP, KDFs, HMAC) and the AES key size.
 * name: the AK name as computed by latch_tpm_name(). secret: the credential
 * (at most 32 bytes). Outputs are new buffers (free()):
 * *blob = marshalled TPM2B_ID_OBJECT, *enc = marshalled
 * TPM2B_ENCRYPTED_SECRET. Intermediate secrets are wiped.
 */
enum latch_status latch_make_credential(
    EVP_PKEY *ek, const struct latch_ek_info *info, const uint8_t *name,
    size_t namelen, const uint8_t *secret, size_t secretlen, uint8_t **blob,
    size_t *bloblen, uint8_t **enc, size_t *enclen, struct latch_err *err)
    __attribute__((warn_unused_result));

/* KDFa (TPM 2.0 Part 1, 11.4.10.2) with SHA-256 or SHA-384. */
enum latch_status latch_kdfa(TPMI_ALG_HASH hash, const uint8_t *key,
                             size_t keylen, const char *label,
                             const uint8_t *ctx_u, size_t ulen,
                             const uint8_t *ctx_v, size_t vlen, uint32_t bits,
                             uint8_t *out) __attribute__((warn_unused_result));

/* KDFe (TPM 2.0 Part 1, 11.4.10.3). */
enum latch_status latch_kdfe(TPMI_ALG_HASH hash, const uint8_t *z, size_t zlen,
                             const char *label, const uint8_t *party_u,
                             size_t ulen, const uint8_t *party_v, size_t vlen,
                             uint32_t bits, uint8_t *out)
    __attribute__((warn_unused_result));

#endif /* LATCH_MKCRED_H */
