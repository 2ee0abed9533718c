/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekcert.h: TPM 2.0 Endorsement Key certificates on the server: parsing the
 * bytes a TPM keeps in NV (fill, NV header, rsaesOaep keys), the trust
 * store of pinned vendor roots, and chain verification to a pinned root
 * with untrusted helpers (enrollment, cache, AIA). docs/ek-certificates.md
 * lists every quirk and what latch does about it.
 *
 * Thread safety: a loaded struct ek_trust is read-only and may be shared by
 * every worker thread; everything else belongs to one caller.
 */
#ifndef LATCHD_EKCERT_H
#define LATCHD_EKCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "report.h"

#define EK_STR_MAX       257 /* shown strings: 256 bytes + NUL */
#define EK_HEX256_LEN    65  /* lowercase hex SHA-256 + NUL */
#define EK_MAX_DEPTH     5   /* certificates in a chain, leaf and root too */
#define EK_CERT_MAX      8192
#define EK_NV_MAX        16384 /* largest NV blob accepted (header+fill) */
#define EK_OID_EKCERT    "2.23.133.8.1"
#define EK_OID_TPM_MFR   "2.23.133.2.1"
#define EK_OID_TPM_MODEL "2.23.133.2.2"
#define EK_OID_TPM_VER   "2.23.133.2.3"

/* How the certificate bytes were framed in the input. */
enum ek_form {
    EK_FORM_DER = 0,   /* exactly one DER certificate */
    EK_FORM_DER_FILL,  /* DER followed by 0xFF or 0x00 fill */
    EK_FORM_NV_HEADER, /* TCG PC-Client NV header (0x10 0x01 ...) first */
    EK_FORM_PEM        /* one PEM block (files given to `ek verify`) */
};

enum ek_key_type { EK_KEY_RSA = 0, EK_KEY_EC };

/*
 * A parsed EK certificate. Everything is owned by the struct and released
 * by ek_cert_free(). Strings are NUL-terminated, at most 256 bytes, with
 * control characters and NUL escaped as \xNN (safe to print and store).
 */
struct ek_cert {
    X509 *x509;
    uint8_t *der; /* the exact certificate bytes received (framing gone) */
    size_t der_len;
    char sha256[EK_HEX256_LEN]; /* identifies the certificate */
    enum ek_form form;
    size_t fill_len; /* bytes of 0xFF/0x00 fill dropped after the DER */

    /*
     * The public key built from the raw components (RSA n,e; EC curve and
     * point), so rsaesOaep SPKIs work too. Plain rsaEncryption / EC key:
     * usable for MakeCredential and latch_device_id().
     */
    EVP_PKEY *pkey;
    enum ek_key_type key_type;
    int key_bits;
    bool spki_rsaes_oaep; /* SPKI algorithm was id-RSAES-OAEP */
    bool is_tpm12;        /* TPM 1.2 EK (rule below); ek_verify rejects */

    char subject[EK_STR_MAX]; /* "" for an empty subject */
    char issuer[EK_STR_MAX];
    char serial[EK_STR_MAX]; /* hex */
    int64_t not_before;      /* seconds since the epoch, UTC */
    int64_t not_after;       /* 9999-12-31 fits */

    /* TCG SAN dirName attributes; "" when absent. */
    bool has_tpm_san;
    char tpm_manufacturer[EK_STR_MAX]; /* as written: "id:53544D20" */
    char tpm_vendor[8];                /* decoded id: "STM", "IFX", "" */
    char tpm_model[EK_STR_MAX];
    char tpm_version[EK_STR_MAX]; /* as written: "id:00490004" */
    char tpm_firmware[32];        /* decoded: "73.4"; "" if not id: */

    bool has_eku_ekcert;      /* EKU present and contains 2.23.133.8.1 */
    char aia_url[EK_STR_MAX]; /* first caIssuers URI, raw; "" if none */
};

/*
 * Parses raw EK certificate bytes as read from TPM NV or from a file:
 * DER; DER followed by 0xFF/0x00 fill up to the NV index size; the TCG
 * PC-Client NV header (0x10 0x01, 2-byte length) before the DER, with its
 * length checked against the DER; one PEM certificate. Rejected with
 * LATCH_E_FORMAT naming the reason: anything after the certificate that
 * is not uniform fill (junk), a length that runs past the buffer, more than
 * EK_NV_MAX bytes, a certificate OpenSSL cannot parse, a key that is
 * neither RSA (2048..4096) nor EC P-256/P-384/P-521, and TPM 1.2 EK
 * certificates (LATCH_E_POLICY). Unknown critical extensions are not a
 * parse error: ek_verify() rejects them, so `ek verify` can show why.
 * Framing and profile notes go into rep (may be NULL).
 * On success *out must be released with ek_cert_free().
 */
enum latch_status ek_cert_parse(const uint8_t *buf, size_t len,
                                struct ek_cert **out, struct latch_report *rep,
                                struct latch_err *err)
    __attribute__((warn_unused_result));

void ek_cert_free(struct ek_cert *c);

/* Lowercase hex SHA-256 of der. */
void ek_sha256_hex(const uint8_t *der, size_t len, char out[EK_HEX256_LEN]);

/*
 * The key the cache is searched by: lowercase hex SHA-256 of the DER of a
 * certificate's subject (or an issuer) name. Stable for one name.
 */
enum latch_status ek_name_key(const X509_NAME *name, char out[EK_HEX256_LEN],
                              struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Reads every certificate in buf: DER, one or more PEM blocks, or a
 * PKCS#7 certs-only bundle (DER or PEM). Certificates are appended to out.
 * Certificates OpenSSL refuses (e.g. a non-minimal serial INTEGER, which
 * some STMicro intermediates carry) are counted in *nrejected and named
 * in rep, not appended. LATCH_E_FORMAT when nothing could be read.
 */
enum latch_status ek_certs_from_buf(const uint8_t *buf, size_t len,
                                    STACK_OF(X509) * out, size_t *nrejected,
                                    struct latch_report *rep,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* ---- trust store: pinned vendor roots --------------------------------- */

struct ek_anchor {
    char path[512];
    char subject[EK_STR_MAX];
    char sha256[EK_HEX256_LEN];
    int64_t not_after;
    bool self_signed;
};

struct ek_trust;

/*
 * Loads the pinned roots from dir (read-only to latchd): every regular
 * file in dir and in its subdirectories (two levels, hidden names
 * skipped), each DER, PEM or a PEM bundle. Files that hold no certificate
 * are named in rep and skipped; LATCH_E_NOT_FOUND when no anchor at all
 * was loaded. The store never changes after loading: latchd adds no
 * anchor by itself.
 */
enum latch_status ek_trust_load(const char *dir, struct ek_trust **out,
                                struct latch_report *rep, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Same from certificates already in memory (tests, tools). Copies them. */
enum latch_status ek_trust_from_stack(STACK_OF(X509) * anchors,
                                      struct ek_trust **out,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

size_t ek_trust_count(const struct ek_trust *t);
const struct ek_anchor *ek_trust_get(const struct ek_trust *t, size_t i);
/* True when the certificate with this DER SHA-256 is pinned. */
bool ek_trust_has(const struct ek_trust *t, const char *sha256_hex);
void ek_trust_free(struct ek_trust *t);

/* ---- untrusted intermediate cache (backed by h5's aia_cache table) ---- */

/*
 * The cache of intermediates learned through AIA or imported by the
 * operator. Its certificates are never anchors. All callbacks may be NULL.
 * lookup: append to out every cached certificate whose subject name key
 * (ek_name_key) equals subject_key; aki_hex is the authority key id the
 * caller looks for, or NULL (a hint; matching by subject is enough).
 * store: remember der under url (NULL for an operator import); sha256 and
 * subject_key are precomputed. Only certificates that were just proven to
 * have signed the certificate below them are stored.
 * evict: forget a cached certificate (by DER SHA-256) that turned out
 * not to verify (cache poisoning, item B18).
 */
struct ek_cache_ops {
    void *arg;
    enum latch_status (*lookup)(void *arg, const char *subject_key,
                                const char *aki_hex, STACK_OF(X509) * out,
                                struct latch_err *err);
    enum latch_status (*store)(void *arg, const char *url, const uint8_t *der,
                               size_t len, const char *sha256,
                               const char *subject_key, struct latch_err *err);
    void (*evict)(void *arg, const char *sha256);
};

/* ---- verification ------------------------------------------------------ */

enum ek_outcome {
    EK_VALID = 0,
    EK_INVALID,
    EK_NEEDS_OVERRIDE, /* genuine chain, but an admin must decide */
    EK_UNKNOWN_ROOT    /* chain ends at a root that is not pinned */
};

/* The first (deciding) reason; the report holds every check. */
enum ek_reason {
    EK_R_NONE = 0,
    EK_R_PARSE,            /* not a usable certificate */
    EK_R_TPM12,            /* TPM 1.2 EK certificate */
    EK_R_CRITICAL_EXT,     /* unknown critical extension */
    EK_R_NOT_YET_VALID,    /* notBefore in the future (any level) */
    EK_R_BAD_SIGNATURE,    /* a signature in the chain does not verify */
    EK_R_ISSUER_NOT_FOUND, /* chain incomplete: an issuer is missing */
    EK_R_UNKNOWN_ROOT,     /* self-signed root that is not pinned */
    EK_R_CHAIN,            /* other chain error (depth, CA flags...) */
    EK_R_PROFILE,          /* EKU without 2.23.133.8.1, wrong KU, CA */
    EK_R_EXPIRED,          /* needs override */
    EK_R_ROCA,             /* needs override */
    EK_R_DENYLIST,         /* needs override */
    EK_R_INTERNAL
};

struct ek_denylist;

struct aia_config; /* aia.h */

/* Called at each step with a short human-readable line (UI progress). */
typedef void (*ek_progress_fn)(void *arg, const char *msg);

struct ek_verify_opts {
    int64_t now;                      /* 0: time(NULL) */
    const struct ek_denylist *deny;   /* may be NULL */
    const struct ek_cache_ops *cache; /* may be NULL */
    const struct aia_config *aia;     /* NULL or disabled: no fetching */
    ek_progress_fn progress;          /* may be NULL */
    void *progress_arg;
};

struct ek_chain_entry {
    char subject[EK_STR_MAX];
    char sha256[EK_HEX256_LEN];
    bool pinned;
};

struct ek_result {
    enum ek_outcome outcome;
    enum ek_reason reason;
    char detail[LATCH_CHECK_DETAIL_MAX]; /* one sentence for the UI */

    /* The chain as verified (leaf first); on failure what was built. */
    struct ek_chain_entry chain[EK_MAX_DEPTH];
    size_t chain_len;

    /* EK_UNKNOWN_ROOT: the root found, to be checked with the vendor. */
    char root_subject[EK_STR_MAX];
    char root_sha256[EK_HEX256_LEN];

    bool expired;       /* EK (or a CA) past notAfter */
    bool sha1;          /* a SHA-1 signature somewhere in the chain */
    bool roca;          /* RSA modulus has the ROCA fingerprint */
    bool denylisted;    /* manufacturer + firmware on the deny-list */
    size_t aia_fetches; /* network fetches made (0 when cached) */
    size_t warnings;    /* profile deviations reported as warnings */
};

/*
 * Verifies c to a pinned root in t. untrusted (may be NULL) holds helper
 * intermediates (enrollment NV certificates); missing issuers are looked
 * up in opts->cache, then fetched by AIA when opts->aia enables it (and
 * stored in the cache). The X509_STORE holds pinned roots only; helpers
 * are never anchors; no partial chains; depth <= EK_MAX_DEPTH. Each step
 * is a line in rep and a progress message.
 * Returns LATCH_OK whenever a verdict was reached (read res->outcome);
 * an error status only for failures to run (memory, internal).
 */
enum latch_status ek_verify(const struct ek_trust *t, const struct ek_cert *c,
                            STACK_OF(X509) * untrusted,
                            const struct ek_verify_opts *opts,
                            struct ek_result *res, struct latch_report *rep,
                            struct latch_err *err)
    __attribute__((warn_unused_result));

const char *ek_outcome_str(enum ek_outcome o); /* "valid", ... */
const char *ek_reason_str(enum ek_reason r);   /* "unknown-root", ... */

/*
 * The steps an operator follows to pin a root (fingerprint check with the
 * vendor, file into the trust directory, restart). Static text.
 */
const char *ek_pinning_steps(void);

/* ---- vulnerable keys ----------------------------------------------------- */

/*
 * True when the RSA modulus has the ROCA fingerprint (CVE-2017-15361):
 * for every prime p in 3..167, n mod p lies in the subgroup of Z_p*
 * generated by 65537 (the residue test; it also flags moduli that merely
 * pass the residues, which is the safe side).
 */
bool ek_roca_modulus(const BIGNUM *n);
/* Same for a key; false for non-RSA keys. */
bool ek_roca_key(EVP_PKEY *pkey);

/*
 * Deny-list of TPM manufacturer + firmware versions, from the config:
 * "MFR:VERSION[,MFR:VERSION...]". MFR is a vendor code ("IFX") or the
 * SAN form ("id:49465800"); VERSION is compared with the SAN
 * tpmVersion and with the firmware reported by the enrollment; a
 * trailing '*' makes it a prefix. Whitespace around items is ignored.
 */
enum latch_status ek_denylist_parse(const char *spec, struct ek_denylist **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));
/* True when (manufacturer, firmware) is listed; either may be NULL. */
bool ek_denylist_match(const struct ek_denylist *d, const char *manufacturer,
                       const char *firmware);
void ek_denylist_free(struct ek_denylist *d);

#endif /* LATCHD_EKCERT_H */
