/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * synth_enroll: writes enrollment.json files without a TPM, for the
 * issuance benchmark. Each gets a fresh EK key (RSA-2048 or EC P-256), an
 * EK certificate signed by a test vendor CA (EK profile: EKU
 * 2.23.133.8.1, TPM SAN, keyEncipherment/keyAgreement), the EK public area
 * of the TCG template holding that key, and an AK public area with the
 * attributes a TPM-made AK carries (a software key: the server cannot tell,
 * and the benchmark does not activate).
 *
 *   synth_enroll --ca-key KEY --ca-cert CERT --ek rsa2048|ecc-p256
 *                --count N --out DIR [--prefix NAME]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "enrollment.h"
#include "fsutil.h"
#include "tpmt.h"

#define AK_ATTRS                                                               \
    0x00050072u /* fixedTPM fixedParent SDO userWithAuth                       \
                 * restricted sign */

static X509 *
load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = NULL;

    if (f != NULL) {
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    return x;
}

static EVP_PKEY *
load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = NULL;

    if (f != NULL) {
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    return k;
}

/* The TCG SAN: manufacturer, model, version as a critical dirName. */
static int
add_tpm_san(X509 *cert)
{
    static const char *const oids[3] = {"2.23.133.2.1", "2.23.133.2.2",
                                        "2.23.133.2.3"};
    static const char *const vals[3] = {"id:00001014", "synth", "id:20191023"};
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    X509_NAME *name = X509_NAME_new();
    ASN1_OBJECT *obj;
    int ok = gens != NULL && gen != NULL && name != NULL;
    int i;

    for (i = 0; ok && i < 3; i++) {
        obj = OBJ_txt2obj(oids[i], 1);
        ok = obj != NULL && X509_NAME_add_entry_by_OBJ(
                                name, obj, MBSTRING_UTF8,
                                (const unsigned char *)vals[i], -1, -1, 1) == 1;
        ASN1_OBJECT_free(obj);
    }
    if (ok) {
        GENERAL_NAME_set0_value(gen, GEN_DIRNAME, name);
        name = NULL;
        ok = sk_GENERAL_NAME_push(gens, gen) > 0;
        if (ok) {
            gen = NULL;
        }
    }
    ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 1,
                                 X509V3_ADD_DEFAULT) == 1;
    X509_NAME_free(name);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    return ok;
}

static int
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;

    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *
ek_cert(EVP_PKEY *ek, bool rsa, X509 *ca, EVP_PKEY *ca_key)
{
    X509 *cert = X509_new();
    unsigned char serial[12];
    BIGNUM *bn = NULL;
    X509V3_CTX ctx;
    int ok;

    if (cert == NULL || RAND_bytes(serial, sizeof(serial)) != 1) {
        X509_free(cert);
        return NULL;
    }
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ok = bn != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL &&
         X509_set_version(cert, 2) == 1 &&
         X509_set_issuer_name(cert, X509_get_subject_name(ca)) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(cert), -86400) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 3650) != NULL &&
         X509_set_pubkey(cert, ek) == 1 && add_tpm_san(cert);
    BN_free(bn);
    X509V3_set_ctx(&ctx, ca, cert, NULL, NULL, 0);
    ok = ok &&
         add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert, &ctx, NID_key_usage,
                 rsa ? "critical,keyEncipherment" : "critical,keyAgreement") &&
         add_ext(cert, &ctx, NID_ext_key_usage, "2.23.133.8.1") &&
         add_ext(cert, &ctx, NID_authority_key_identifier, "keyid") &&
         X509_sign(cert, ca_key, EVP_sha384()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int
get_bn_bytes(EVP_PKEY *k, const char *param, uint8_t *out, size_t len)
{
    BIGNUM *bn = NULL;
    int ok;

    ok = EVP_PKEY_get_bn_param(k, param, &bn) == 1 &&
         BN_bn2binpad(bn, out, (int)len) == (int)len;
    BN_free(bn);
    return ok;
}

/* Puts the key into the unique field of a public area. */
static int
set_unique(TPMT_PUBLIC *p, EVP_PKEY *k)
{
    if (p->type == TPM2_ALG_RSA) {
        p->unique.rsa.size = 256;
        return get_bn_bytes(k, OSSL_PKEY_PARAM_RSA_N, p->unique.rsa.buffer,
                            256);
    }
    p->unique.ecc.x.size = 32;
    p->unique.ecc.y.size = 32;
    return get_bn_bytes(k, OSSL_PKEY_PARAM_EC_PUB_X, p->unique.ecc.x.buffer,
                        32) &&
           get_bn_bytes(k, OSSL_PKEY_PARAM_EC_PUB_Y, p->unique.ecc.y.buffer,
                        32);
}

static void
ak_public(TPM2B_PUBLIC *ak)
{
    TPMT_PUBLIC *p = &ak->publicArea;

    memset(ak, 0, sizeof(*ak));
    p->type = TPM2_ALG_ECC;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = AK_ATTRS;
    p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

struct blobs {
    uint8_t ek[LATCH_TPM_PUBLIC_MAX];
    uint8_t ak[LATCH_TPM_PUBLIC_MAX];
    unsigned char *der;
};

static int
make_one(const struct latch_ek_info *info, X509 *ca, EVP_PKEY *ca_key,
         const char *path, int n)
{
    struct latch_err err = {LATCH_OK, ""};
    struct latch_enrollment e;
    struct blobs b;
    TPM2B_PUBLIC ekp;
    TPM2B_PUBLIC akp;
    EVP_PKEY *ek = NULL;
    EVP_PKEY *ak = NULL;
    X509 *cert = NULL;
    char host[32];
    char *text = NULL;
    size_t textlen = 0;
    size_t eklen = 0;
    size_t aklen = 0;
    int derlen;
    int rc = 1;
    bool rsa = info->kind == LATCH_EK_RSA2048;

    memset(&e, 0, sizeof(e));
    memset(&b, 0, sizeof(b));
    ek = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    ak = EVP_EC_gen("P-256");
    cert = ek != NULL && ak != NULL ? ek_cert(ek, rsa, ca, ca_key) : NULL;
    derlen = cert != NULL ? i2d_X509(cert, &b.der) : -1;
    latch_ek_template(info->kind, &ekp);
    ak_public(&akp);
    if (derlen <= 0 || !set_unique(&ekp.publicArea, ek) ||
        !set_unique(&akp.publicArea, ak)) {
        fprintf(stderr, "synth_enroll: key or certificate failed\n");
        goto out;
    }
    if (latch_tpm_public_marshal(&ekp, b.ek, sizeof(b.ek), &eklen, &err) !=
            LATCH_OK ||
        latch_tpm_public_marshal(&akp, b.ak, sizeof(b.ak), &aklen, &err) !=
            LATCH_OK ||
        latch_tpm_name(&akp.publicArea, e.ak_name, &e.ak_name_len, &err) !=
            LATCH_OK) {
        fprintf(stderr, "synth_enroll: %s\n", err.msg);
        goto out;
    }
    snprintf(host, sizeof(host), "synth-%s-%05d", info->name, n);
    e.identity_schema = LATCH_IDENTITY_SCHEMA;
    e.created_at = (int64_t)time(NULL);
    e.hostname = host;
    e.ek_template = info->name;
    e.ek_certificate.data = b.der;
    e.ek_certificate.len = (size_t)derlen;
    e.ek_public.data = b.ek;
    e.ek_public.len = eklen;
    e.ak_public.data = b.ak;
    e.ak_public.len = aklen;
    e.tpm_manufacturer = "IBM";
    e.tpm_vendor = "SW  TPM";
    if (latch_enrollment_write(&e, &text, &textlen, &err) != LATCH_OK ||
        latch_write_atomic(path, text, textlen, 0644, &err) != LATCH_OK) {
        fprintf(stderr, "synth_enroll: %s\n", err.msg);
        goto out;
    }
    rc = 0;

out:
    free(text);
    OPENSSL_free(b.der);
    X509_free(cert);
    EVP_PKEY_free(ek);
    EVP_PKEY_free(ak);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ca-key", required_argument, NULL, 'k'},
        {"ca-cert", required_argument, NULL, 'c'},
        {"ek", required_argument, NULL, 'e'},
        {"count", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"prefix", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const struct latch_ek_info *info = NULL;
    const char *key_path = NULL, *cert_path = NULL, *out = NULL;
    const char *prefix = "enr";
    EVP_PKEY *ca_key = NULL;
    X509 *ca = NULL;
    char path[4096];
    long count = 0;
    long i;
    int ch;
    int rc = 1;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            key_path = optarg;
            break;
        case 'c':
            cert_path = optarg;
            break;
        case 'e':
            info = latch_ek_info_by_name(optarg);
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            prefix = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (key_path == NULL || cert_path == NULL || info == NULL ||
        info->kind == LATCH_EK_ECC_P384 || count <= 0 || out == NULL) {
        goto usage;
    }
    ca_key = load_key(key_path);
    ca = load_cert(cert_path);
    if (ca_key == NULL || ca == NULL) {
        fprintf(stderr, "synth_enroll: cannot read %s / %s\n", key_path,
                cert_path);
        goto done;
    }
    for (i = 0; i < count; i++) {
        snprintf(path, sizeof(path), "%s/%s-%05ld.json", out, prefix, i);
        if (make_one(info, ca, ca_key, path, (int)i) != 0) {
            goto done;
        }
    }
    rc = 0;

done:
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;

usage:
    fprintf(stderr, "usage: synth_enroll --ca-key KEY --ca-cert CERT "
                    "--ek rsa2048|ecc-p256 --count N --out DIR "
                    "[--prefix NAME]\n");
    return 2;
}
