/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * signing.h: latchd's license signing key and certificate: key and CSR
 * generation at init, checking and installing the certificate the offline
 * root signed, loading both for issuance, and the throwaway development
 * PKI (`latchd init --dev-pki`).
 */
#ifndef LATCHD_SIGNING_H
#define LATCHD_SIGNING_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

/* Generates an EC P-256 key and writes it as PKCS#8 PEM, mode 0600. */
enum latch_status signing_keygen(const char *key_path, EVP_PKEY **out,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Writes a CSR for key (subject "CN=latchd license signing") asking for
 * keyUsage digitalSignature and the latch license-signing EKU.
 */
enum latch_status signing_write_csr(EVP_PKEY *key, const char *csr_path,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* Loads a PEM private key / a PEM or DER certificate. */
enum latch_status signing_load_key(const char *path, EVP_PKEY **out,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status signing_load_cert(const char *path, X509 **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Checks that cert can sign licenses with key: same public key, CA:FALSE,
 * keyUsage digitalSignature, the latch license-signing EKU, valid now.
 * LATCH_E_POLICY naming the first mismatch.
 */
enum latch_status signing_check_cert(EVP_PKEY *key, X509 *cert,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * For `latchd serve` at start: loads both files and checks the certificate
 * as signing_check_cert does, except its validity period (a certificate
 * that expires is refused at issuance). LATCH_E_POLICY naming both files.
 */
enum latch_status signing_check_files(const char *key_path,
                                      const char *cert_path,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Development PKI: makes a throwaway root (EC P-256, DIR/dev-root/root.key
 * and root.pem) and signs a certificate for key with it, written to
 * cert_path. Never for production: the root key sits beside the server.
 */
enum latch_status signing_dev_pki(const char *data_dir, EVP_PKEY *key,
                                  const char *cert_path, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Lowercase hex SHA-256 of the certificate's DER (out: 65 bytes). */
enum latch_status signing_cert_sha256(X509 *cert, char out[65],
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_SIGNING_H */
