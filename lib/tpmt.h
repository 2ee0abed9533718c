/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * tpmt.h: TPM 2.0 structures that latch reasons about without a TPM: the
 * TCG EK templates, exact unmarshalling of TPM2B_PUBLIC, object names, the
 * Attestation Key attribute policy, public areas as OpenSSL keys, and the
 * device id. Used by the device and by the server.
 */
#ifndef LATCH_TPMT_H
#define LATCH_TPMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "err.h"
#include "report.h"

enum latch_ek_kind {
    LATCH_EK_RSA2048 = 0, /* TCG L-1, NV 0x01c00002 */
    LATCH_EK_ECC_P256,    /* TCG L-2, NV 0x01c0000a */
    LATCH_EK_ECC_P384,    /* TCG H-3, NV 0x01c00016 */
    LATCH_EK_KIND_COUNT
};

/*
 * A TCG EK authPolicy (EK Credential Profile, annex B) and how latch
 * satisfies it without the EK's auth value, which the TPM's
 * dictionary-attack logic would count: a policy session with hash runs
 * PolicySecret(TPM_RH_ENDORSEMENT), which gives policy_a; when or_other is
 * not NULL, PolicyOR(policy_a, or_other) follows, which gives digest. Every
 * digest is size bytes.
 */
struct latch_ek_policy {
    const char *label;       /* "PolicyA (SHA-256)", "PolicyB (SHA-384)" */
    TPMI_ALG_HASH hash;      /* of the policy session and of the digests */
    uint16_t size;           /* 32 or 48 */
    const uint8_t *digest;   /* the template's authPolicy */
    const uint8_t *policy_a; /* PolicySecret(endorsement) */
    const uint8_t *or_other; /* the second PolicyOR branch (PolicyC), or
                              * NULL when digest is policy_a itself */
};

struct latch_ek_info {
    enum latch_ek_kind kind;
    const char *name;           /* "rsa2048", "ecc-p256", "ecc-p384" */
    TPM2_HANDLE cert_index;     /* NV index of the EK certificate */
    TPM2_HANDLE nonce_index;    /* 0 when the template has none */
    TPM2_HANDLE template_index; /* 0 when the template has none */
    TPMI_ALG_HASH name_alg;     /* also OAEP / KDF / HMAC hash */
    uint16_t sym_bits;          /* AES key bits of the EK */
    const struct latch_ek_policy *policy; /* the template's authPolicy */
};

/* NULL for an unknown name / kind. */
const struct latch_ek_info *latch_ek_info_by_name(const char *name);
const struct latch_ek_info *latch_ek_info_by_kind(enum latch_ek_kind kind);

/*
 * The EK policy whose digest equals auth_policy under hash (an object's
 * nameAlg and authPolicy), NULL when auth_policy is none latch knows.
 */
const struct latch_ek_policy *
latch_ek_policy_find(TPMI_ALG_HASH hash, const TPM2B_DIGEST *auth_policy);

/* The TCG default EK template (no NV template/nonce applied). */
void latch_ek_template(enum latch_ek_kind kind, TPM2B_PUBLIC *out);

/*
 * Unmarshals a TPM2B_PUBLIC that must fill buf exactly (no trailing bytes,
 * the TPM2B size equal to the structure's length).
 */
enum latch_status latch_tpm_public_unmarshal(const uint8_t *buf, size_t len,
                                             TPM2B_PUBLIC *out,
                                             struct latch_err *err)
    __attribute__((warn_unused_result));

/* Marshals into buf (cap bytes); *len receives the size. */
enum latch_status latch_tpm_public_marshal(const TPM2B_PUBLIC *pub,
                                           uint8_t *buf, size_t cap,
                                           size_t *len, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Object name = nameAlg (2 bytes, big endian) || H_nameAlg(marshalled
 * TPMT_PUBLIC). nameAlg must be SHA-256 or SHA-384. name holds
 * LATCH_NAME_MAX bytes.
 */
enum latch_status latch_tpm_name(const TPMT_PUBLIC *pub, uint8_t *name,
                                 size_t *namelen, struct latch_err *err)
    __attribute__((warn_unused_result));

/* The public key of an RSA or ECC (P-256/P-384) public area. */
enum latch_status latch_tpm_public_to_pkey(const TPMT_PUBLIC *pub,
                                           EVP_PKEY **out,
                                           struct latch_err *err)
    __attribute__((warn_unused_result));

/* True when the public area's key equals pkey (RSA n,e or EC curve+point). */
bool latch_tpm_public_matches(const TPMT_PUBLIC *pub, EVP_PKEY *pkey);

/*
 * Checks an Attestation Key public area: restricted, sign, not decrypt,
 * fixedTPM, fixedParent, sensitiveDataOrigin; RSA >= 2048 with RSASSA or
 * RSAPSS, or ECC P-256/P-384 with ECDSA; scheme hash and nameAlg SHA-256 or
 * SHA-384; symmetric NULL. Also stClear clear (the AK must outlive
 * reboots), ECC kdf NULL, and a valid key (modulus size, point on the
 * curve). Each check goes into rep as "ak.<check>" (unknown types skip
 * the parameter checks); LATCH_E_POLICY "AK policy: ak.<check>: ..."
 * naming the first violation.
 */
enum latch_status latch_ak_check(const TPMT_PUBLIC *ak,
                                 struct latch_report *rep,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * device_id: lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo in
 * canonical form (RSA: rsaEncryption with NULL parameters; EC:
 * id-ecPublicKey, named curve, uncompressed point).
 */
enum latch_status latch_device_id(EVP_PKEY *pkey, char out[65],
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_TPMT_H */
