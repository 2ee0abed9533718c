/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ek_primary: checks latch_ek_template() against a real TPM for the
 * end-to-end tests. TPM2_CreatePrimary in the endorsement hierarchy with
 * our TCG template, the public area written out, the object flushed.
 *
 *   ek_primary TCTI TEMPLATE OUT [EK_CERT]
 *
 * With EK_CERT (DER) it also requires the created key to be the
 * certificate's key. Uses ESAPI directly, apart from lib/tpm.c, so the
 * template is checked on its own. Exit 0 on success, 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "fsutil.h"
#include "tpmt.h"

#define CERT_MAX (16 * 1024)

static int
cert_matches(const char *path, const TPMT_PUBLIC *pub)
{
    struct latch_err err;
    const unsigned char *p;
    char *der = NULL;
    size_t len = 0;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    int ok = 0;

    if (latch_read_file(path, CERT_MAX, &der, &len, &err) != LATCH_OK) {
        fprintf(stderr, "ek_primary: %s\n", err.msg);
        return 0;
    }
    p = (const unsigned char *)der;
    x = d2i_X509(NULL, &p, (long)len);
    k = x != NULL ? X509_get_pubkey(x) : NULL;
    ok = k != NULL && latch_tpm_public_matches(pub, k);
    EVP_PKEY_free(k);
    X509_free(x);
    free(der);
    return ok;
}

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f;
    int ok;

    f = fopen(path, "wb");
    if (f == NULL) {
        return 0;
    }
    ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

int
main(int argc, char **argv)
{
    uint8_t buf[sizeof(TPM2B_PUBLIC)];
    const struct latch_ek_info *info;
    TSS2_TCTI_CONTEXT *tcti = NULL;
    ESYS_CONTEXT *ctx = NULL;
    ESYS_TR ek = ESYS_TR_NONE;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_DATA outside;
    TPML_PCR_SELECTION pcrs;
    TPM2B_PUBLIC tmpl;
    TPM2B_PUBLIC *pub = NULL;
    struct latch_err err;
    size_t len = 0;
    TSS2_RC rc;
    int ret = 1;

    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: ek_primary TCTI TEMPLATE OUT [EK_CERT]\n");
        return 1;
    }
    info = latch_ek_info_by_name(argv[2]);
    if (info == NULL) {
        fprintf(stderr, "ek_primary: unknown template %s\n", argv[2]);
        return 1;
    }
    memset(&sens, 0, sizeof(sens));
    memset(&outside, 0, sizeof(outside));
    memset(&pcrs, 0, sizeof(pcrs));
    latch_ek_template(info->kind, &tmpl);

    rc = Tss2_TctiLdr_Initialize(argv[1], &tcti);
    if (rc == TSS2_RC_SUCCESS) {
        rc = Esys_Initialize(&ctx, tcti, NULL);
    }
    if (rc == TSS2_RC_SUCCESS) {
        rc = Esys_CreatePrimary(ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                                &outside, &pcrs, &ek, &pub, NULL, NULL, NULL);
    }
    if (rc != TSS2_RC_SUCCESS) {
        fprintf(stderr, "ek_primary: CreatePrimary(%s): 0x%08x\n", argv[2],
                (unsigned)rc);
        goto out;
    }
    if (latch_tpm_public_marshal(pub, buf, sizeof(buf), &len, &err) !=
            LATCH_OK ||
        !write_file(argv[3], buf, len)) {
        fprintf(stderr, "ek_primary: cannot write %s %s\n", argv[3], err.msg);
        goto out;
    }
    if (argc == 5) {
        if (!cert_matches(argv[4], &pub->publicArea)) {
            fprintf(stderr, "ek_primary: EK is not the key of %s\n", argv[4]);
            goto out;
        }
        printf("ek matches certificate\n");
    }
    ret = 0;

out:
    if (ek != ESYS_TR_NONE) {
        Esys_FlushContext(ctx, ek);
    }
    Esys_Free(pub);
    if (ctx != NULL) {
        Esys_Finalize(&ctx);
    }
    if (tcti != NULL) {
        Tss2_TctiLdr_Finalize(&tcti);
    }
    return ret;
}
