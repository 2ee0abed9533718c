/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekcert_int.h: helpers shared by the EK certificate files (ekcert.c,
 * ektrust.c, ekverify.c, ekvuln.c); not part of the module's API.
 */
#ifndef LATCHD_EKCERT_INT_H
#define LATCHD_EKCERT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ekcert.h"

/*
 * Copies n bytes into dst (cap bytes, NUL-terminated), escaping NUL,
 * control characters and DEL as \xNN and cutting at cap - 1
 * (never inside an escape).
 */
void ek_safe_copy(char *dst, size_t cap, const unsigned char *src, size_t n);

/* An ASN1 string as safe UTF-8 (ASN1_STRING_to_UTF8 + ek_safe_copy). */
void ek_asn1_str(const ASN1_STRING *s, char out[EK_STR_MAX]);

/* A name in RFC 2253 order ("CN=...,O=..."), safe; "" for empty. */
void ek_name_str(const X509_NAME *name, char out[EK_STR_MAX]);

/* ASN1_TIME as seconds since the epoch; false when unreadable. */
bool ek_time(const ASN1_TIME *t, int64_t *out);

/* The DER SHA-256 of x, lowercase hex. False when x cannot be encoded. */
bool ek_x509_sha256(X509 *x, char out[EK_HEX256_LEN]);

/* True when x is self-issued and its signature verifies with its key. */
bool ek_self_signed(X509 *x);

/* The first caIssuers URI in x's AIA extension (raw, safe), or "". */
void ek_aia_url(X509 *x, char out[EK_STR_MAX]);

/*
 * Whether issuer plausibly issued x: names, key identifiers and key usage
 * (X509_check_issued), except that an authority key identifier whose
 * issuer name/serial part points elsewhere is tolerated (old Infineon
 * chains); the key id, when both sides have one, must still match and the
 * signature is verified later in any case. Also installed as the trust
 * store's check_issued so OpenSSL builds the same chains.
 */
bool ek_issued(X509 *issuer, X509 *x);

/* Pinned anchor lookups used by the verifier. */
X509_STORE *ek_trust_store(const struct ek_trust *t);
size_t ek_trust_ncerts(const struct ek_trust *t);
X509 *ek_trust_cert(const struct ek_trust *t, size_t i);

#endif /* LATCHD_EKCERT_INT_H */
