/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_root.c: `latch-ca root init` makes the ECDSA P-384 root whose
 * certificate is compiled into every device. It never overwrites a root:
 * a lost root.key means a firmware update for every device.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca.h"

#define VERB "root"

static enum latch_status
paths(const char *dir, char *key, char *pem, struct latch_err *err)
{
    int a = snprintf(key, PATH_MAX, "%s/%s", dir, CA_ROOT_KEY_NAME);
    int b = snprintf(pem, PATH_MAX, "%s/%s", dir, CA_ROOT_PEM_NAME);

    if (a < 0 || b < 0 || a >= PATH_MAX || b >= PATH_MAX) {
        return latch_err_set(err, LATCH_E_USAGE, "--out: path too long");
    }
    return LATCH_OK;
}

/*
 * The output directory exists (made 0700 if missing, and then *made is
 * true) and holds no root.
 */
static enum latch_status
prepare_dir(const char *dir, const char *key, const char *pem, bool *made,
            struct latch_err *err)
{
    struct stat sb;

    *made = false;
    if (mkdir(dir, 0700) == 0) {
        *made = true;
    } else if (errno != EEXIST) {
        return latch_err_set(err, LATCH_E_IO, "%s: %s", dir, strerror(errno));
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_IO, "%s: not a directory", dir);
    }
    if (lstat(key, &sb) == 0 || lstat(pem, &sb) == 0) {
        return latch_err_set(err, LATCH_E_IO,
                             "%s: already holds a root (%s or %s); "
                             "refusing to overwrite",
                             dir, CA_ROOT_PEM_NAME, CA_ROOT_KEY_NAME);
    }
    return LATCH_OK;
}

static enum latch_status
build_root(EVP_PKEY *key, const X509_NAME *name, long days, X509 **out,
           struct latch_err *err)
{
    X509 *cert = NULL;
    enum latch_status st;

    *out = NULL;
    cert = X509_new();
    if (cert == NULL || X509_set_version(cert, X509_VERSION_3) != 1 ||
        X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, name) != 1 ||
        X509_set_pubkey(cert, key) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "root certificate");
        goto out;
    }
    st = ca_set_serial(cert, err);
    if (st == LATCH_OK) {
        st = ca_set_validity(cert, days, err);
    }
    if (st == LATCH_OK) {
        /* pathlen:0: the root signs signing certificates, never CAs. */
        st = ca_add_ext(cert, cert, NID_basic_constraints,
                        "critical,CA:TRUE,pathlen:0", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, cert, NID_key_usage,
                        "critical,keyCertSign,cRLSign", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, cert, NID_subject_key_identifier, "hash", err);
    }
    if (st == LATCH_OK) {
        st = ca_add_ext(cert, cert, NID_authority_key_identifier,
                        "keyid:always", err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (X509_sign(cert, key, EVP_sha384()) <= 0) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "signing the root");
        goto out;
    }
    *out = cert;
    cert = NULL;

out:
    X509_free(cert);
    return st;
}

static enum latch_status
root_init(const char *dir, const char *subject, long days,
          struct latch_err *err)
{
    char keypath[PATH_MAX];
    char pempath[PATH_MAX];
    X509_NAME *name = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    bool made = false;
    enum latch_status st;

    st = ca_parse_subject(subject, &name, err);
    if (st == LATCH_OK) {
        st = paths(dir, keypath, pempath, err);
    }
    if (st == LATCH_OK) {
        st = prepare_dir(dir, keypath, pempath, &made, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (key == NULL) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "P-384 key generation");
        goto out;
    }
    st = build_root(key, name, days, &cert, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = ca_write_key(keypath, key, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = ca_write_cert(pempath, cert, err);
    if (st != LATCH_OK) {
        unlink(keypath);
        goto out;
    }
    printf("wrote %s and %s (mode 0600)\n", pempath, keypath);
    ca_print_cert(stdout, cert);
    printf("next: back up %s offline, then build device firmware with "
           "make LATCH_ROOT_CA=%s\n",
           keypath, pempath);

out:
    if (st != LATCH_OK && made) {
        (void)rmdir(dir); /* only what we made, and only while empty */
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_NAME_free(name);
    return st;
}

int
ca_cmd_root(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"subject", required_argument, NULL, 's'},
        {"days", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err = {LATCH_OK, ""};
    const char *dir = NULL;
    const char *subject = CA_DEFAULT_ROOT;
    long days = CA_ROOT_DAYS;
    int opt;

    if (argc < 2 || strcmp(argv[1], "init") != 0) {
        return ca_usage(VERB, "the only root verb is 'init'");
    }
    argc--;
    argv++;
    optind = 1;
    for (;;) {
        opt = getopt_long(argc, argv, "o:s:d:h", opts, NULL);
        if (opt == -1) {
            break;
        }
        switch (opt) {
        case 'o':
            dir = optarg;
            break;
        case 's':
            subject = optarg;
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
    if (dir == NULL || optind != argc) {
        return ca_usage(VERB, "--out DIR is required, nothing else");
    }
    if (dir[0] == '\0') {
        return ca_usage(VERB, "--out: empty path");
    }
    if (root_init(dir, subject, days, &err) != LATCH_OK) {
        return ca_fail(VERB, &err);
    }
    return 0;
}
