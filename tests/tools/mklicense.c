/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mklicense.c: a test tool that signs a license body with a signing key and
 * certificate, through latch_license_sign() (the code latchd uses):
 *   mklicense --body BODY.json --key KEY.pem --cert CERT.pem -o OUT.json
 * BODY.json holds the `license` object; it is read with the strict reader.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "fsutil.h"
#include "json.h"
#include "license.h"

#define PEM_MAX 65536

static int
fail(const struct latch_err *err)
{
    fprintf(stderr, "mklicense: %s\n", err->msg);
    return 1;
}

static enum latch_status
load_pem(const char *path, bool is_key, EVP_PKEY **key, X509 **cert,
         struct latch_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    enum latch_status st;

    st = latch_read_file(path, PEM_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return st;
    }
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio != NULL && is_key) {
        *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    } else if (bio != NULL) {
        *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    }
    if (is_key ? *key == NULL : *cert == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT, "%s: not a PEM %s", path,
                            is_key ? "private key" : "certificate");
    }
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return st;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"body", required_argument, NULL, 'b'},
        {"key", required_argument, NULL, 'k'},
        {"cert", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err = {LATCH_OK, ""};
    const char *body_path = NULL, *key_path = NULL, *cert_path = NULL;
    const char *out_path = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    json_t *body = NULL;
    char *text = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    int opt, rc = 1;

    for (;;) {
        opt = getopt_long(argc, argv, "b:k:c:o:", opts, NULL);
        if (opt == -1) {
            break;
        }
        switch (opt) {
        case 'b':
            body_path = optarg;
            break;
        case 'k':
            key_path = optarg;
            break;
        case 'c':
            cert_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        default:
            fprintf(stderr, "usage: mklicense --body FILE --key KEY "
                            "--cert CERT -o OUT\n");
            return 2;
        }
    }
    if (body_path == NULL || key_path == NULL || cert_path == NULL ||
        out_path == NULL) {
        fprintf(stderr, "usage: mklicense --body FILE --key KEY --cert CERT "
                        "-o OUT\n");
        return 2;
    }
    if (latch_read_file(body_path, LATCH_JSON_MAX_BYTES, &text, &len, &err) !=
            LATCH_OK ||
        latch_json_parse(text, len, &body, &err) != LATCH_OK ||
        load_pem(key_path, true, &key, NULL, &err) != LATCH_OK ||
        load_pem(cert_path, false, NULL, &cert, &err) != LATCH_OK ||
        latch_license_sign(body, key, cert, &out, &outlen, &err) != LATCH_OK ||
        latch_write_atomic(out_path, out, outlen, 0644, &err) != LATCH_OK) {
        rc = fail(&err);
        goto out;
    }
    rc = 0;

out:
    free(out);
    json_decref(body);
    free(text);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
