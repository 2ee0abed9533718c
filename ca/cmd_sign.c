/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_sign.c: `latch-ca sign` issues the license signing certificate from
 * a CSR made on the server: only the CSR's subject and key are taken; the
 * profile (CA:FALSE, digitalSignature, latch EKU) is fixed here.
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "codec.h"
#include "license.h"

#define VERB "sign"

struct root {
    X509 *cert;
    EVP_PKEY *key;
};

static enum latch_status
load_root(const char *dir, struct root *r, struct latch_err *err)
{
    char path[PATH_MAX];
    enum latch_status st;
    int n;

    n = snprintf(path, sizeof(path), "%s/%s", dir, CA_ROOT_PEM_NAME);
    if (n < 0 || n >= (int)sizeof(path)) {
        return latch_err_set(err, LATCH_E_USAGE, "--root: path too long");
    }
    st = ca_load_cert(path, &r->cert, err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, CA_ROOT_KEY_NAME);
    st = ca_load_key(path, &r->key, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (X509_check_private_key(r->cert, r->key) != 1) {
        ERR_clear_error();
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s: does not belong to %s/%s", path, dir,
                             CA_ROOT_PEM_NAME);
    }
    if (X509_check_ca(r->cert) < 1) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s/%s: not a CA certificate",
                             dir, CA_ROOT_PEM_NAME);
    }
    return LATCH_OK;
}

/* Weak keys and bad self-signatures are refused before anything else. */
static enum latch_status
check_csr(const char *path, X509_REQ *req, struct latch_err *err)
{
    EVP_PKEY *key = X509_REQ_get0_pubkey(req);
    char desc[96];
    enum latch_status st;

    if (key == NULL) {
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "%s: the CSR's public key is unreadable", path);
    }
    st = ca_key_check(key, desc, sizeof(desc), err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, path);
        return st;
    }
    if (X509_REQ_verify(req, key) != 1) {
        return latch_err_ossl(err, LATCH_E_SIGNATURE,
                              "%s: the CSR's signature does not verify with "
                              "its own key (altered or forged request)",
                              path);
    }
    if (X509_NAME_entry_count(X509_REQ_get_subject_name(req)) == 0) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: empty subject", path);
    }
    return LATCH_OK;
}

/* The signing certificate must not outlive the root that vouches for it. */
static enum latch_status
check_within_root(X509 *cert, X509 *root, struct latch_err *err)
{
    char t[LATCH_TIME_LEN];
    int64_t mine = 0, roots = 0, now = (int64_t)time(NULL);

    if (!ca_time_epoch(X509_get0_notAfter(cert), &mine) ||
        !ca_time_epoch(X509_get0_notAfter(root), &roots)) {
        return latch_err_set(err, LATCH_E_FORMAT, "unreadable validity");
    }
    if (mine > roots) {
        latch_time_format(roots, t);
        return latch_err_set(err, LATCH_E_USAGE,
                             "--days: the certificate would end after the "
                             "root (%s); use --days %lld or less",
                             t, (long long)((roots - now) / 86400));
    }
    return LATCH_OK;
}

static enum latch_status
build(X509_REQ *req, const struct root *r, long days, X509 **out,
      struct latch_err *err)
{
    X509 *cert = X509_new();
    enum latch_status st;

    *out = NULL;
    if (cert == NULL || X509_set_version(cert, X509_VERSION_3) != 1 ||
        X509_set_subject_name(cert, X509_REQ_get_subject_name(req)) != 1 ||
        X509_set_issuer_name(cert, X509_get_subject_name(r->cert)) != 1 ||
        X509_set_pubkey(cert, X509_REQ_get0_pubkey(req)) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "signing certificate");
        goto out;
    }
    st = ca_set_serial(cert, err);
    if (st == LATCH_OK) {
        st = ca_set_validity(cert, days, err);
    }
    if (st == LATCH_OK) {
        st = check_within_root(cert, r->cert, err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, r->cert, NID_basic_constraints,
                        "critical,CA:FALSE", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, r->cert, NID_key_usage,
                        "critical,digitalSignature", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, r->cert, NID_ext_key_usage,
                        LATCH_EKU_LICENSE_SIGNING_OID, err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, r->cert, NID_subject_key_identifier, "hash", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, r->cert, NID_authority_key_identifier,
                        "keyid:always", err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (X509_sign(cert, r->key, ca_md_for(r->key)) <= 0 ||
        X509_verify(cert, X509_get0_pubkey(r->cert)) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "signing with the root");
        goto out;
    }
    *out = cert;
    cert = NULL;

out:
    X509_free(cert);
    return st;
}

static enum latch_status
sign(const char *rootdir, const char *csrpath, long days, const char *outpath,
     struct latch_err *err)
{
    struct root r = {NULL, NULL};
    X509_REQ *req = NULL;
    X509 *cert = NULL;
    enum latch_status st;

    st = load_root(rootdir, &r, err);
    if (st == LATCH_OK) {
        st = ca_load_csr(csrpath, &req, err);
    }
    if (st == LATCH_OK) {
        st = check_csr(csrpath, req, err);
    }
    if (st == LATCH_OK) {
        st = build(req, &r, days, &cert, err);
    }
    if (st == LATCH_OK) {
        st = ca_write_cert(outpath, cert, err);
    }
    if (st == LATCH_OK) {
        printf("wrote %s\n", outpath);
        ca_print_cert(stdout, cert);
    }
    X509_free(cert);
    X509_REQ_free(req);
    EVP_PKEY_free(r.key);
    X509_free(r.cert);
    return st;
}

int
ca_cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"csr", required_argument, NULL, 'c'},
        {"days", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err = {LATCH_OK, ""};
    const char *root = NULL, *csr = NULL, *out = NULL;
    long days = CA_SIGNER_DAYS;
    int opt;

    optind = 1;
    for (;;) {
        opt = getopt_long(argc, argv, "r:c:d:o:h", opts, NULL);
        if (opt == -1) {
            break;
        }
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'c':
            csr = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'd':
            if (ca_parse_days(optarg, &days, &err) != LATCH_OK) {
                return ca_fail(VERB, &err);
            }
            break;
        case 'h':
            return ca_usage(VERB, "help");
        default:
            return ca_usage(VERB, "unknown option");
        }
    }
    if (root == NULL || csr == NULL || out == NULL || optind != argc) {
        return ca_usage(VERB, "--root DIR, --csr FILE and -o FILE are "
                              "required");
    }
    if (root[0] == '\0' || csr[0] == '\0' || out[0] == '\0') {
        return ca_usage(VERB, "--root, --csr and -o: empty path");
    }
    if (sign(root, csr, days, out, &err) != LATCH_OK) {
        return ca_fail(VERB, &err);
    }
    return 0;
}
