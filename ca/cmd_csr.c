/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_csr.c: `latch-ca csr` makes a signing key and its CSR, for tests and
 * for setups without their own tooling. The key file is created 0600 and
 * never overwritten.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ca.h"

#define VERB "csr"

static EVP_PKEY *
keygen(const char *type)
{
    if (strcmp(type, "p256") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    if (strcmp(type, "p384") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static enum latch_status
make_csr(const char *keypath, const char *subject, const char *type,
         const char *out, struct latch_err *err)
{
    X509_NAME *name = NULL;
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    struct stat sb;
    enum latch_status st;

    if (lstat(keypath, &sb) == 0 || lstat(out, &sb) == 0) {
        return latch_err_set(err, LATCH_E_IO,
                             "%s or %s already exists; refusing to "
                             "overwrite",
                             keypath, out);
    }
    st = ca_parse_subject(subject, &name, err);
    if (st != LATCH_OK) {
        return st;
    }
    key = keygen(type);
    req = X509_REQ_new();
    if (key == NULL || req == NULL || X509_REQ_set_version(req, 0) != 1 ||
        X509_REQ_set_subject_name(req, name) != 1 ||
        X509_REQ_set_pubkey(req, key) != 1 ||
        X509_REQ_sign(req, key, ca_md_for(key)) <= 0) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "making the CSR");
        goto out;
    }
    st = ca_write_key(keypath, key, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = ca_write_csr(out, req, err);
    if (st != LATCH_OK) {
        unlink(keypath);
        goto out;
    }
    printf("wrote %s (mode 0600) and %s\n", keypath, out);

out:
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    X509_NAME_free(name);
    return st;
}

int
ca_cmd_csr(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"subject", required_argument, NULL, 's'},
        {"type", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err = {LATCH_OK, ""};
    const char *key = NULL, *subject = NULL, *out = NULL, *type = "p256";
    int opt;

    optind = 1;
    for (;;) {
        opt = getopt_long(argc, argv, "k:s:t:o:h", opts, NULL);
        if (opt == -1) {
            break;
        }
        switch (opt) {
        case 'k':
            key = optarg;
            break;
        case 's':
            subject = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            return ca_usage(VERB, "help");
        default:
            return ca_usage(VERB, "unknown option");
        }
    }
    if (key == NULL || subject == NULL || out == NULL || optind != argc) {
        return ca_usage(VERB, "--key, --subject and -o are required");
    }
    if (key[0] == '\0' || out[0] == '\0') {
        return ca_usage(VERB, "--key and -o: empty path");
    }
    if (strcmp(type, "p256") != 0 && strcmp(type, "p384") != 0 &&
        strcmp(type, "ed25519") != 0) {
        return ca_usage(VERB, "--type: p256, p384 or ed25519");
    }
    if (make_csr(key, subject, type, out, &err) != LATCH_OK) {
        return ca_fail(VERB, &err);
    }
    return 0;
}
