/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * tpm.h: the one wrapper around the TPM (tpm2-tss ESAPI and the TCTI
 * loader). Every transient object this module creates or loads is tracked
 * by the context and flushed by latch_tpm_flush() or, at the latest, by
 * latch_tpm_close(); every session is flushed inside the call that started
 * it, on every path. Failures are LATCH_E_TPM with the decoded response
 * code in the message, unless a function says otherwise.
 */
#ifndef LATCH_TPM_H
#define LATCH_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "err.h"
#include "tpmt.h"

#define LATCH_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"
#define LATCH_TPM_TCTI_ENV     "LATCH_TCTI"

/* Owner persistent handles latch uses for --persist-ak. */
#define LATCH_AK_HANDLE_FIRST 0x81000a00u
#define LATCH_AK_HANDLE_LAST  0x81000a0fu

struct latch_tpm;

struct latch_tpm_props {
    char manufacturer[5]; /* TPM2_PT_MANUFACTURER as text, "IBM" */
    char vendor[17];      /* TPM2_PT_VENDOR_STRING_1..4, "SW  TPM" */
    char firmware[20];    /* "%x.%x" of FIRMWARE_VERSION_1 and _2 */
    uint32_t firmware1;   /* TPM2_PT_FIRMWARE_VERSION_1 */
    uint32_t firmware2;   /* TPM2_PT_FIRMWARE_VERSION_2 */
    uint32_t manufacturer_id;
    uint32_t spec_revision; /* TPM2_PT_REVISION, 164 for 1.64 */
    uint32_t nv_buffer_max; /* TPM2_PT_NV_BUFFER_MAX */
};

enum latch_ak_alg {
    LATCH_AK_ECC_P256 = 0, /* ECDSA-SHA256 (the default) */
    LATCH_AK_RSA2048       /* RSASSA-SHA256 */
};

/*
 * The TCTI string to use: tcti when not NULL, else $LATCH_TCTI when set and
 * not empty, else LATCH_TPM_DEFAULT_TCTI. Never NULL.
 */
const char *latch_tpm_tcti(const char *tcti);

/*
 * Connects through the TCTI loader (a tpm2-tools TCTI string such as
 * "swtpm:path=/run/tpm.sock"; NULL as in latch_tpm_tcti()). On success
 * *out must be released with latch_tpm_close(). LATCH_E_TPM naming the
 * TCTI when the TPM cannot be reached.
 */
enum latch_status latch_tpm_open(const char *tcti, struct latch_tpm **out,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/* Flushes every object still tracked and disconnects. NULL is fine. */
void latch_tpm_close(struct latch_tpm *tpm);

/*
 * The TSS response code of the last failed call (0 when none), and whether
 * such a code came from the TPM itself (the TPM answered and refused) as
 * opposed to the transport or the TSS (the TPM could not be reached).
 */
TSS2_RC latch_tpm_last_rc(const struct latch_tpm *tpm);
bool latch_tpm_rc_from_tpm(TSS2_RC rc);

/*
 * True for a TPM warning: the TPM could not run the command now (DA
 * lockout, rate limits, out of memory, retry) and says nothing about the
 * command's inputs.
 */
bool latch_tpm_rc_transient(TSS2_RC rc);

/* Fixed properties through TPM2_GetCapability. */
enum latch_status latch_tpm_properties(struct latch_tpm *tpm,
                                       struct latch_tpm_props *out,
                                       struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Reads a whole NV index in chunks no larger than TPM2_PT_NV_BUFFER_MAX,
 * authorizing with the index itself (authread) or the owner (ownerread).
 * *out is a new buffer (free()). LATCH_E_NOT_FOUND when the index is not
 * defined, LATCH_E_FORMAT when it holds more than max bytes.
 */
enum latch_status latch_tpm_nv_read(struct latch_tpm *tpm, TPM2_HANDLE index,
                                    size_t max, uint8_t **out, size_t *outlen,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Lists the handles in [first, last] (NV indices or persistent objects, by
 * their handle type) into out (capacity cap); *n receives the count.
 */
enum latch_status latch_tpm_handles(struct latch_tpm *tpm, TPM2_HANDLE first,
                                    TPM2_HANDLE last, TPM2_HANDLE *out,
                                    size_t cap, size_t *n,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Creates the EK of this kind in the endorsement hierarchy from its TCG
 * template. When the template's EK template NV index is defined, its
 * TPMT_PUBLIC replaces the default template; when the nonce index is
 * defined, the nonce fills the unique field (TCG EK Credential Profile).
 * *ek is a tracked transient object; *pub its public area.
 */
enum latch_status
latch_tpm_ek_create(struct latch_tpm *tpm, const struct latch_ek_info *info,
                    ESYS_TR *ek, TPM2B_PUBLIC *pub, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Creates an Attestation Key under ek: restricted signing, fixedTPM,
 * fixedParent, sensitiveDataOrigin, userWithAuth, noDA (its auth value is
 * empty, so dictionary-attack counting protects nothing and a lockout after
 * power cuts must not stop activation). The EK is authorized in a policy
 * session satisfying its TCG EK policy (PolicySecret(endorsement), for the
 * high-range P-384 EK followed by PolicyOR into PolicyB), never with its
 * auth value, which the TPM's dictionary-attack logic would count; the
 * same holds for latch_tpm_load() and latch_tpm_activate().
 */
enum latch_status latch_tpm_ak_create(struct latch_tpm *tpm, ESYS_TR ek,
                                      enum latch_ak_alg alg, TPM2B_PUBLIC *pub,
                                      TPM2B_PRIVATE *priv,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Loads an AK under ek. A blob wrapped by another TPM fails here with a
 * TPM response code (latch_tpm_rc_from_tpm() is true).
 */
enum latch_status
latch_tpm_load(struct latch_tpm *tpm, ESYS_TR ek, const TPM2B_PUBLIC *pub,
               const TPM2B_PRIVATE *priv, ESYS_TR *obj, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Opens the persistent object at handle and reads its public area.
 * LATCH_E_NOT_FOUND when nothing is stored there.
 */
enum latch_status latch_tpm_persistent_open(struct latch_tpm *tpm,
                                            TPM2_HANDLE handle, ESYS_TR *obj,
                                            TPM2B_PUBLIC *pub,
                                            struct latch_err *err)
    __attribute__((warn_unused_result));

/* EvictControl (owner auth, empty): makes obj persistent at handle. */
enum latch_status latch_tpm_persist(struct latch_tpm *tpm, ESYS_TR obj,
                                    TPM2_HANDLE handle, struct latch_err *err)
    __attribute__((warn_unused_result));

/* EvictControl: removes the persistent object at handle (absent is fine). */
enum latch_status latch_tpm_unpersist(struct latch_tpm *tpm, TPM2_HANDLE handle,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * TPM2_ActivateCredential: blob is a marshalled TPM2B_ID_OBJECT, enc a
 * marshalled TPM2B_ENCRYPTED_SECRET (each must be consumed exactly). The
 * command runs with a session salted to the EK that encrypts the
 * credential parameter and the recovered secret on the bus, and whose
 * response HMAC ESAPI checks. The secret goes into out (capacity cap);
 * the TPM's copy is wiped. LATCH_E_FORMAT for unparsable inputs, else
 * LATCH_E_TPM (check latch_tpm_last_rc()).
 */
enum latch_status latch_tpm_activate(struct latch_tpm *tpm, ESYS_TR ak,
                                     ESYS_TR ek, const uint8_t *blob,
                                     size_t bloblen, const uint8_t *enc,
                                     size_t enclen, uint8_t *out, size_t cap,
                                     size_t *outlen, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Releases an object from this context: flushes a transient object,
 * closes the handle of a persistent one (which stays in the TPM). Sets *obj
 * to ESYS_TR_NONE. ESYS_TR_NONE is fine.
 */
void latch_tpm_flush(struct latch_tpm *tpm, ESYS_TR *obj);

/* Marshalled TPM2B_PRIVATE, exact in both directions. */
enum latch_status latch_tpm_private_marshal(const TPM2B_PRIVATE *priv,
                                            uint8_t *buf, size_t cap,
                                            size_t *len, struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status latch_tpm_private_unmarshal(const uint8_t *buf, size_t len,
                                              TPM2B_PRIVATE *out,
                                              struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_TPM_H */
