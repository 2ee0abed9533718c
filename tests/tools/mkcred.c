/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mkcred: runs liblatch's software MakeCredential for the end-to-end tests
 * and writes the result in tpm2-tools' credential file format, so that
 * tpm2_activatecredential on a real (software) TPM can check it.
 *
 *   mkcred EK AK_PUB TEMPLATE SECRET OUT
 *
 * EK is a marshalled TPM2B_PUBLIC or a DER EK certificate; AK_PUB a
 * marshalled TPM2B_PUBLIC; TEMPLATE rsa2048|ecc-p256|ecc-p384. Prints the
 * AK name it computed. Exit 0 on success, 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "fsutil.h"
#include "license.h"
#include "mkcred.h"
#include "tpmt.h"

#define FILE_MAX (64 * 1024)

/* tpm2-tools' credential file: magic, version, then the two TPM2Bs. */
static const uint8_t cred_header[8] = {0xba, 0xdc, 0xc0, 0xde,
                                       0x00, 0x00, 0x00, 0x01};

static int
load_ek(const char *path, EVP_PKEY **out, struct latch_err *err)
{
    TPM2B_PUBLIC pub;
    const unsigned char *p;
    char *buf = NULL;
    size_t len = 0;
    X509 *x = NULL;
    int rc = 1;

    if (latch_read_file(path, FILE_MAX, &buf, &len, err) != LATCH_OK) {
        goto out;
    }
    if (latch_tpm_public_unmarshal((const uint8_t *)buf, len, &pub, NULL) ==
        LATCH_OK) {
        rc = latch_tpm_public_to_pkey(&pub.publicArea, out, err) != LATCH_OK;
        goto out;
    }
    p = (const unsigned char *)buf;
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != (const unsigned char *)buf + len) {
        latch_err_set(err, LATCH_E_FORMAT,
                      "%s is neither a TPM2B_PUBLIC nor a DER certificate",
                      path);
        goto out;
    }
    *out = X509_get_pubkey(x);
    rc = *out == NULL;

out:
    X509_free(x);
    free(buf);
    return rc;
}

static int
load_ak_name(const char *path, uint8_t *name, size_t *namelen,
             struct latch_err *err)
{
    struct latch_report rep;
    TPM2B_PUBLIC pub;
    char *buf = NULL;
    size_t len = 0;
    size_t i;
    int rc = 1;

    memset(&rep, 0, sizeof(rep));
    if (latch_read_file(path, FILE_MAX, &buf, &len, err) != LATCH_OK ||
        latch_tpm_public_unmarshal((const uint8_t *)buf, len, &pub, err) !=
            LATCH_OK) {
        goto out;
    }
    if (latch_ak_check(&pub.publicArea, &rep, err) != LATCH_OK) {
        for (i = 0; i < rep.n; i++) {
            fprintf(stderr, "  %s: %s: %s\n", rep.items[i].name,
                    latch_check_result_str(rep.items[i].result),
                    rep.items[i].detail);
        }
        goto out;
    }
    rc = latch_tpm_name(&pub.publicArea, name, namelen, err) != LATCH_OK;

out:
    free(buf);
    return rc;
}

static int
write_cred(const char *path, const uint8_t *blob, size_t bloblen,
           const uint8_t *enc, size_t enclen)
{
    FILE *f;
    int rc = 0;

    f = fopen(path, "wb");
    if (f == NULL) {
        return 1;
    }
    if (fwrite(cred_header, 1, sizeof(cred_header), f) != sizeof(cred_header) ||
        fwrite(blob, 1, bloblen, f) != bloblen ||
        fwrite(enc, 1, enclen, f) != enclen) {
        rc = 1;
    }
    if (fclose(f) != 0) {
        rc = 1;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    struct latch_err err;
    const struct latch_ek_info *info;
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    EVP_PKEY *ek = NULL;
    char *secret = NULL;
    size_t secretlen = 0;
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;
    size_t i;
    int rc = 1;

    latch_err_clear(&err);
    if (argc != 6) {
        fprintf(stderr, "usage: mkcred EK AK_PUB TEMPLATE SECRET OUT\n");
        return 1;
    }
    info = latch_ek_info_by_name(argv[3]);
    if (info == NULL) {
        fprintf(stderr, "mkcred: unknown EK template %s\n", argv[3]);
        return 1;
    }
    if (load_ek(argv[1], &ek, &err) != 0 ||
        load_ak_name(argv[2], name, &namelen, &err) != 0 ||
        latch_read_file(argv[4], LATCH_SECRET_LEN, &secret, &secretlen, &err) !=
            LATCH_OK) {
        goto out;
    }
    if (latch_make_credential(ek, info, name, namelen, (const uint8_t *)secret,
                              secretlen, &blob, &bloblen, &enc, &enclen,
                              &err) != LATCH_OK) {
        goto out;
    }
    if (write_cred(argv[5], blob, bloblen, enc, enclen) != 0) {
        latch_err_set(&err, LATCH_E_IO, "cannot write %s", argv[5]);
        goto out;
    }
    printf("name ");
    for (i = 0; i < namelen; i++) {
        printf("%02x", name[i]);
    }
    printf("\nid_object %zu\nencrypted_secret %zu\n", bloblen, enclen);
    rc = 0;

out:
    if (rc != 0) {
        fprintf(stderr, "mkcred: %s\n", err.msg);
    }
    if (secret != NULL) {
        OPENSSL_cleanse(secret, secretlen);
    }
    free(secret);
    free(blob);
    free(enc);
    EVP_PKEY_free(ek);
    return rc;
}
