/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_show.c: `latch-ca show FILE` prints what a human checks before
 * trusting a certificate (or, for a CSR, its subject, key and signature).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ca.h"

#define VERB "show"

static enum latch_status
show_csr(const char *path, struct latch_err *err)
{
    X509_REQ *req = NULL;
    EVP_PKEY *key;
    char text[1024];
    struct latch_err e = {LATCH_OK, ""};
    enum latch_status st;

    st = ca_load_csr(path, &req, err);
    if (st != LATCH_OK) {
        return st;
    }
    ca_name_text(X509_REQ_get_subject_name(req), text, sizeof(text));
    printf("%-19s certificate request (CSR)\n", "type:");
    printf("%-19s %s\n", "subject:", text);
    key = X509_REQ_get0_pubkey(req);
    if (key == NULL) {
        printf("%-19s (unreadable)\n", "key:");
    } else if (ca_key_check(key, text, sizeof(text), &e) == LATCH_OK) {
        printf("%-19s %s (%d bits)\n", "key:", text, EVP_PKEY_get_bits(key));
    } else {
        printf("%-19s %s (not accepted for license signing)\n", "key:", text);
    }
    printf("%-19s %s\n", "signature:",
           key != NULL && X509_REQ_verify(req, key) == 1 ? "valid" : "INVALID");
    ERR_clear_error();
    X509_REQ_free(req);
    return LATCH_OK;
}

int
ca_cmd_show(int argc, char **argv)
{
    struct latch_err err = {LATCH_OK, ""};
    X509 *cert = NULL;
    enum latch_status st;

    if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
        return ca_usage(VERB, "expected exactly one FILE");
    }
    st = ca_load_cert(argv[1], &cert, &err);
    if (st == LATCH_E_FORMAT) {
        st = show_csr(argv[1], &err);
        if (st != LATCH_OK) {
            latch_err_set(&err, st,
                          "%s: neither a certificate nor a CSR (PEM or DER)",
                          argv[1]);
        }
    } else if (st == LATCH_OK) {
        printf("%-19s certificate\n", "type:");
        ca_print_cert(stdout, cert);
    }
    X509_free(cert);
    if (st != LATCH_OK) {
        return ca_fail(VERB, &err);
    }
    return 0;
}
