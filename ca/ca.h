/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ca.h: latch-ca, the offline root CA. One file per verb (cmd_root.c,
 * cmd_sign.c, cmd_show.c, cmd_csr.c) over the helpers in x509util.c. Runs
 * on an offline machine; the root key never leaves it.
 */
#ifndef LATCH_CA_H
#define LATCH_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"

#define CA_FILE_MAX       65536 /* any PEM or DER input */
#define CA_ROOT_DAYS      7300  /* 20 years */
#define CA_SIGNER_DAYS    730   /* 2 years */
#define CA_MAX_DAYS       36500
#define CA_BACKDATE_SECS  3600 /* notBefore = now - 1 h, for clock skew */
#define CA_SUBJECT_MAX    1024
#define CA_ROOT_PEM_NAME  "root.pem"
#define CA_ROOT_KEY_NAME  "root.key"
#define CA_DEFAULT_ROOT   "CN=latch license root CA"
#define CA_FINGERPRINT_SZ (3 * EVP_MAX_MD_SIZE + 1)

/* Verbs: argv[0] is the verb ("root", "sign", "show", "csr"). */
int ca_cmd_root(int argc, char **argv);
int ca_cmd_sign(int argc, char **argv);
int ca_cmd_show(int argc, char **argv);
int ca_cmd_csr(int argc, char **argv);

/* Prints "latch-ca VERB: msg" and returns the exit code for st. */
int ca_fail(const char *verb, const struct latch_err *err);
int ca_usage(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ca_exit_code(enum latch_status st);

/* Parses --days: 1..CA_MAX_DAYS. */
enum latch_status ca_parse_days(const char *s, long *out, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * A subject as "CN=name,O=org" (',' separates; '\' escapes the next
 * character) or OpenSSL's "/CN=name/O=org". Attribute names are OpenSSL's
 * short or long names; values are UTF-8.
 */
enum latch_status ca_parse_subject(const char *text, X509_NAME **out,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Accepts only EC P-256, EC P-384 (named curves) and Ed25519 keys, the ones
 * a latch signing certificate may carry. desc receives e.g. "EC P-256" or
 * "RSA 1024 bits".
 */
enum latch_status ca_key_check(EVP_PKEY *key, char *desc, size_t cap,
                               struct latch_err *err)
    __attribute__((warn_unused_result));

/* The digest to sign with for this key (NULL for Ed25519). */
const EVP_MD *ca_md_for(EVP_PKEY *key);

/* Sets a random positive 16-byte serial number. */
enum latch_status ca_set_serial(X509 *cert, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Adds one extension from OpenSSL's config syntax ("critical,CA:TRUE"). */
enum latch_status ca_add_ext(X509 *cert, X509 *issuer, int nid,
                             const char *value, struct latch_err *err)
    __attribute__((warn_unused_result));

/* notBefore = now - CA_BACKDATE_SECS, notAfter = now + days. */
enum latch_status ca_set_validity(X509 *cert, long days, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Loaders: PEM or DER, at most CA_FILE_MAX bytes. */
enum latch_status ca_load_cert(const char *path, X509 **out,
                               struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status ca_load_csr(const char *path, X509_REQ **out,
                              struct latch_err *err)
    __attribute__((warn_unused_result));
/* Unencrypted PEM private key; the file buffer is wiped. */
enum latch_status ca_load_key(const char *path, EVP_PKEY **out,
                              struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Creates path (which must not exist: O_EXCL, no symlink followed) with
 * mode, writes, fsyncs. On failure nothing is left behind.
 */
enum latch_status ca_write_new(const char *path, const void *buf, size_t len,
                               mode_t mode, struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status ca_write_cert(const char *path, X509 *cert,
                                struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status ca_write_csr(const char *path, X509_REQ *req,
                               struct latch_err *err)
    __attribute__((warn_unused_result));
/* Mode 0600; the PEM text is wiped from memory. */
enum latch_status ca_write_key(const char *path, EVP_PKEY *key,
                               struct latch_err *err)
    __attribute__((warn_unused_result));

/* "AB:CD:..." SHA-256 of the DER certificate. */
void ca_fingerprint(X509 *cert, char out[CA_FINGERPRINT_SZ]);

/* RFC 2253 text with control and non-ASCII bytes escaped. */
void ca_name_text(const X509_NAME *name, char *out, size_t cap);

/* Seconds since the epoch of an ASN1_TIME; false if unreadable. */
bool ca_time_epoch(const ASN1_TIME *t, int64_t *out);

/* Prints what a human needs before trusting cert (latch-ca show). */
void ca_print_cert(FILE *out, X509 *cert);

#endif /* LATCH_CA_H */
