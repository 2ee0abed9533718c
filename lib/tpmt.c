/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * tpmt.c: the TCG EK templates, exact TPM2B_PUBLIC (un)marshalling, object
 * names, the Attestation Key policy and the bridge from TPM public areas to
 * OpenSSL keys. Everything here runs without a TPM, on the device and on
 * the server, and treats every public area as hostile input.
 */
#include "tpmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "license.h"

/* Largest coordinate we handle (P-384). */
#define COORD_MAX 48
/* Largest RSA modulus a TPM2B_PUBLIC_KEY_RSA can carry. */
#define RSA_BYTES_MAX TPM2_MAX_RSA_KEY_BYTES

/*
 * TCG EK Credential Profile for TPM Family 2.0, annex B. PolicyA is
 * PolicySecret(TPM_RH_ENDORSEMENT); the low-range templates (L-1, L-2)
 * carry it under SHA-256. The high-range templates carry PolicyB, the
 * PolicyOR of PolicyA and PolicyC (PolicyC lets the endorsement hierarchy
 * owner install another policy in NV); H-3 under SHA-384. test_tpmt
 * recomputes PolicyA and PolicyB from these.
 */
static const uint8_t policy_a_sha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
    0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
    0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

static const uint8_t policy_a_sha384[48] = {
    0x8b, 0xbf, 0x22, 0x66, 0x53, 0x7c, 0x17, 0x1c, 0xb5, 0x6e, 0x40, 0x3c,
    0x4d, 0xc1, 0xd4, 0xb6, 0x4f, 0x43, 0x26, 0x11, 0xdc, 0x38, 0x6e, 0x6f,
    0x53, 0x20, 0x50, 0xc3, 0x27, 0x8c, 0x93, 0x0e, 0x14, 0x3e, 0x8b, 0xb1,
    0x13, 0x38, 0x24, 0xcc, 0xb4, 0x31, 0x05, 0x38, 0x71, 0xc6, 0xdb, 0x53,
};

static const uint8_t policy_c_sha384[48] = {
    0xd6, 0x03, 0x2c, 0xe6, 0x1f, 0x2f, 0xb3, 0xc2, 0x40, 0xeb, 0x3c, 0xf6,
    0xa3, 0x32, 0x37, 0xef, 0x2b, 0x6a, 0x16, 0xf4, 0x29, 0x3c, 0x22, 0xb4,
    0x55, 0xe2, 0x61, 0xcf, 0xfd, 0x21, 0x7a, 0xd5, 0xb4, 0x94, 0x7c, 0x2d,
    0x73, 0xe6, 0x30, 0x05, 0xee, 0xd2, 0xdc, 0x2b, 0x35, 0x93, 0xd1, 0x65,
};

static const uint8_t policy_b_sha384[48] = {
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc,
    0xf5, 0xfd, 0x3a, 0x1a, 0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4,
    0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca, 0xcb, 0x47, 0xba, 0x09,
    0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12,
};

enum ek_policy_id { EK_POLICY_A_SHA256 = 0, EK_POLICY_B_SHA384, EK_POLICY_N };

static const struct latch_ek_policy ek_policies[EK_POLICY_N] = {
    [EK_POLICY_A_SHA256] =
        {
            .label = "PolicyA (SHA-256)",
            .hash = TPM2_ALG_SHA256,
            .size = sizeof(policy_a_sha256),
            .digest = policy_a_sha256,
            .policy_a = policy_a_sha256,
            .or_other = NULL,
        },
    [EK_POLICY_B_SHA384] =
        {
            .label = "PolicyB (SHA-384)",
            .hash = TPM2_ALG_SHA384,
            .size = sizeof(policy_b_sha384),
            .digest = policy_b_sha384,
            .policy_a = policy_a_sha384,
            .or_other = policy_c_sha384,
        },
};

static const struct latch_ek_info ek_infos[LATCH_EK_KIND_COUNT] = {
    {
        .kind = LATCH_EK_RSA2048,
        .name = "rsa2048",
        .cert_index = 0x01c00002,
        .nonce_index = 0x01c00003,
        .template_index = 0x01c00004,
        .name_alg = TPM2_ALG_SHA256,
        .sym_bits = 128,
        .policy = &ek_policies[EK_POLICY_A_SHA256],
    },
    {
        .kind = LATCH_EK_ECC_P256,
        .name = "ecc-p256",
        .cert_index = 0x01c0000a,
        .nonce_index = 0x01c0000b,
        .template_index = 0x01c0000c,
        .name_alg = TPM2_ALG_SHA256,
        .sym_bits = 128,
        .policy = &ek_policies[EK_POLICY_A_SHA256],
    },
    {
        .kind = LATCH_EK_ECC_P384,
        .name = "ecc-p384",
        .cert_index = 0x01c00016,
        .nonce_index = 0,
        .template_index = 0,
        .name_alg = TPM2_ALG_SHA384,
        .sym_bits = 256,
        .policy = &ek_policies[EK_POLICY_B_SHA384],
    },
};

const struct latch_ek_info *
latch_ek_info_by_name(const char *name)
{
    size_t i;

    if (name == NULL) {
        return NULL;
    }
    for (i = 0; i < LATCH_EK_KIND_COUNT; i++) {
        if (strcmp(ek_infos[i].name, name) == 0) {
            return &ek_infos[i];
        }
    }
    return NULL;
}

const struct latch_ek_info *
latch_ek_info_by_kind(enum latch_ek_kind kind)
{
    if ((unsigned)kind >= LATCH_EK_KIND_COUNT) {
        return NULL;
    }
    return &ek_infos[kind];
}

const struct latch_ek_policy *
latch_ek_policy_find(TPMI_ALG_HASH hash, const TPM2B_DIGEST *auth_policy)
{
    const struct latch_ek_policy *p;

    if (auth_policy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < EK_POLICY_N; i++) {
        p = &ek_policies[i];
        if (p->hash == hash && p->size == auth_policy->size &&
            memcmp(p->digest, auth_policy->buffer, p->size) == 0) {
            return p;
        }
    }
    return NULL;
}

static void
ek_sym_aes_cfb(TPMT_SYM_DEF_OBJECT *sym, uint16_t bits)
{
    sym->algorithm = TPM2_ALG_AES;
    sym->keyBits.aes = bits;
    sym->mode.aes = TPM2_ALG_CFB;
}

void
latch_ek_template(enum latch_ek_kind kind, TPM2B_PUBLIC *out)
{
    const struct latch_ek_info *info = latch_ek_info_by_kind(kind);
    TPMT_PUBLIC *p = &out->publicArea;

    memset(out, 0, sizeof(*out));
    if (info == NULL) {
        return;
    }
    /* Attributes shared by L-1, L-2 and H-3 (0x000300b2). */
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN |
                          TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
                          TPMA_OBJECT_DECRYPT;
    p->nameAlg = info->name_alg;
    p->authPolicy.size = info->policy->size;
    memcpy(p->authPolicy.buffer, info->policy->digest, info->policy->size);

    switch (kind) {
    case LATCH_EK_RSA2048:
        /* L-1: the unique field is 256 zero bytes. */
        p->type = TPM2_ALG_RSA;
        ek_sym_aes_cfb(&p->parameters.rsaDetail.symmetric, 128);
        p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
        p->parameters.rsaDetail.keyBits = 2048;
        p->parameters.rsaDetail.exponent = 0;
        p->unique.rsa.size = 256;
        break;
    case LATCH_EK_ECC_P256:
        /* L-2: x and y are 32 zero bytes each. */
        p->type = TPM2_ALG_ECC;
        ek_sym_aes_cfb(&p->parameters.eccDetail.symmetric, 128);
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        p->unique.ecc.x.size = 32;
        p->unique.ecc.y.size = 32;
        break;
    case LATCH_EK_ECC_P384:
        /*
         * H-3: userWithAuth set (0x000300f2), empty unique. latch still
         * authorizes it by policy: its empty auth value is DA-protected.
         */
        p->type = TPM2_ALG_ECC;
        p->objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
        ek_sym_aes_cfb(&p->parameters.eccDetail.symmetric, 256);
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
        break;
    case LATCH_EK_KIND_COUNT:
        break;
    }
}

enum latch_status
latch_tpm_public_unmarshal(const uint8_t *buf, size_t len, TPM2B_PUBLIC *out,
                           struct latch_err *err)
{
    TPM2B_PUBLIC tmp;
    uint8_t again[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;
    size_t againlen = 0;
    size_t size;
    TSS2_RC rc;

    if (buf == NULL || out == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "tpm public: no buffer to unmarshal");
    }
    if (len < 2) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: %zu bytes is shorter than the "
                             "TPM2B size field",
                             len);
    }
    if (len > sizeof(again)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: %zu bytes exceeds the largest "
                             "TPM2B_PUBLIC (%zu)",
                             len, sizeof(again));
    }
    size = ((size_t)buf[0] << 8) | buf[1];
    if (size == 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: TPM2B_PUBLIC is empty");
    }
    if (size + 2 != len) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: TPM2B size field says %zu bytes "
                             "but %zu follow",
                             size, len - 2);
    }

    /*
     * The TPMT_PUBLIC is unmarshalled on its own: tss2-mu 3.2.1's
     * TPM2B_PUBLIC unmarshaller reports success, having consumed only the
     * size field, when the structure inside is malformed. The rc is
     * attacker-influenced: print it, never decode it (A8).
     */
    memset(&tmp, 0, sizeof(tmp));
    rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(buf + 2, size, &off, &tmp.publicArea);
    if (rc != TSS2_RC_SUCCESS) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: TPMT_PUBLIC does not unmarshal "
                             "(tss2 rc 0x%08x)",
                             (unsigned)rc);
    }
    if (off != size) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: %zu trailing bytes after the "
                             "TPMT_PUBLIC",
                             size - off);
    }
    tmp.size = (UINT16)size;

    /*
     * The name is a hash of the marshalled form, so only a public area that
     * marshals back to exactly the bytes we were given is accepted.
     */
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal(&tmp, again, sizeof(again), &againlen);
    if (rc != TSS2_RC_SUCCESS || againlen != len ||
        memcmp(again, buf, len) != 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: TPM2B_PUBLIC is not in canonical "
                             "form (re-marshals to %zu bytes)",
                             againlen);
    }
    *out = tmp;
    return LATCH_OK;
}

enum latch_status
latch_tpm_public_marshal(const TPM2B_PUBLIC *pub, uint8_t *buf, size_t cap,
                         size_t *len, struct latch_err *err)
{
    size_t off = 0;
    TSS2_RC rc;

    if (pub == NULL || buf == NULL || len == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "tpm public: nothing to marshal");
    }
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, cap, &off);
    if (rc != TSS2_RC_SUCCESS) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm public: TPM2B_PUBLIC does not marshal "
                             "into %zu bytes (tss2 rc 0x%08x)",
                             cap, (unsigned)rc);
    }
    *len = off;
    return LATCH_OK;
}

static const EVP_MD *
md_of(TPMI_ALG_HASH alg)
{
    switch (alg) {
    case TPM2_ALG_SHA256:
        return EVP_sha256();
    case TPM2_ALG_SHA384:
        return EVP_sha384();
    default:
        return NULL;
    }
}

static const char *
hash_str(TPMI_ALG_HASH alg)
{
    switch (alg) {
    case TPM2_ALG_SHA1:
        return "sha1";
    case TPM2_ALG_SHA256:
        return "sha256";
    case TPM2_ALG_SHA384:
        return "sha384";
    case TPM2_ALG_SHA512:
        return "sha512";
    case TPM2_ALG_SM3_256:
        return "sm3_256";
    case TPM2_ALG_NULL:
        return "null";
    default:
        return "unknown";
    }
}

enum latch_status
latch_tpm_name(const TPMT_PUBLIC *pub, uint8_t *name, size_t *namelen,
               struct latch_err *err)
{
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    unsigned int dlen = 0;
    const EVP_MD *md;
    TSS2_RC rc;

    if (pub == NULL || name == NULL || namelen == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "tpm name: missing argument");
    }
    md = md_of(pub->nameAlg);
    if (md == NULL) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "tpm name: nameAlg 0x%04x (%s) is not sha256 or "
                             "sha384",
                             pub->nameAlg, hash_str(pub->nameAlg));
    }
    rc = Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof(buf), &off);
    if (rc != TSS2_RC_SUCCESS) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm name: TPMT_PUBLIC does not marshal "
                             "(tss2 rc 0x%08x)",
                             (unsigned)rc);
    }
    name[0] = (uint8_t)(pub->nameAlg >> 8);
    name[1] = (uint8_t)(pub->nameAlg & 0xff);
    if (EVP_Digest(buf, off, name + 2, &dlen, md, NULL) != 1 ||
        2 + (size_t)dlen > LATCH_NAME_MAX) {
        return latch_err_ossl(err, LATCH_E_CRYPTO,
                              "tpm name: hashing the public area failed");
    }
    *namelen = 2 + (size_t)dlen;
    return LATCH_OK;
}

/* OpenSSL group short name of a TPM curve; NULL when latch does not use it. */
static const char *
curve_sn(TPMI_ECC_CURVE curve, size_t *coordlen)
{
    switch (curve) {
    case TPM2_ECC_NIST_P256:
        *coordlen = 32;
        return SN_X9_62_prime256v1;
    case TPM2_ECC_NIST_P384:
        *coordlen = 48;
        return SN_secp384r1;
    default:
        return NULL;
    }
}

static const char *
curve_str(TPMI_ECC_CURVE curve)
{
    switch (curve) {
    case TPM2_ECC_NIST_P192:
        return "nist-p192";
    case TPM2_ECC_NIST_P224:
        return "nist-p224";
    case TPM2_ECC_NIST_P256:
        return "nist-p256";
    case TPM2_ECC_NIST_P384:
        return "nist-p384";
    case TPM2_ECC_NIST_P521:
        return "nist-p521";
    case TPM2_ECC_BN_P256:
        return "bn-p256";
    case TPM2_ECC_BN_P638:
        return "bn-p638";
    case TPM2_ECC_SM2_P256:
        return "sm2-p256";
    default:
        return "unknown";
    }
}

/* Builds a public-only key of the given type from an OSSL_PARAM builder. */
static enum latch_status
pkey_from_bld(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out,
              struct latch_err *err)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    enum latch_status st = LATCH_OK;

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "tpm key: %s public key is not valid", type);
        goto out;
    }
    *out = pkey;
    pkey = NULL;

out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return st;
}

static enum latch_status
rsa_from_bn(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **out,
            struct latch_err *err)
{
    OSSL_PARAM_BLD *bld = NULL;
    enum latch_status st;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
        st = latch_err_ossl(err, LATCH_E_NOMEM, "tpm key: building RSA key");
        goto out;
    }
    st = pkey_from_bld("RSA", bld, out, err);

out:
    OSSL_PARAM_BLD_free(bld);
    return st;
}

/*
 * Builds an EC key on the named group from big-endian coordinates, padding
 * each to coordlen, and checks that the point lies on the curve.
 */
static enum latch_status
ec_from_xy(const char *group, size_t coordlen, const uint8_t *x, size_t xlen,
           const uint8_t *y, size_t ylen, EVP_PKEY **out, struct latch_err *err)
{
    uint8_t point[1 + 2 * COORD_MAX];
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY_CTX *check = NULL;
    EVP_PKEY *pkey = NULL;
    enum latch_status st;

    if (coordlen > COORD_MAX || xlen == 0 || ylen == 0 || xlen > coordlen ||
        ylen > coordlen) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm key: EC coordinates of %zu and %zu bytes "
                             "do not fit %s (%zu bytes)",
                             xlen, ylen, group, coordlen);
    }
    memset(point, 0, sizeof(point));
    point[0] = 0x04;
    memcpy(point + 1 + coordlen - xlen, x, xlen);
    memcpy(point + 1 + 2 * coordlen - ylen, y, ylen);

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         1 + 2 * coordlen) != 1) {
        st = latch_err_ossl(err, LATCH_E_NOMEM, "tpm key: building EC key");
        goto out;
    }
    st = pkey_from_bld("EC", bld, &pkey, err);
    if (st != LATCH_OK) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "tpm key: EC point is not on curve %s", group);
        goto out;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check_quick(check) != 1) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "tpm key: EC point is not on curve %s", group);
        goto out;
    }
    *out = pkey;
    pkey = NULL;

out:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_free(pkey);
    OSSL_PARAM_BLD_free(bld);
    return st;
}

static enum latch_status
rsa_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out,
                   struct latch_err *err)
{
    const TPMS_RSA_PARMS *rp = &pub->parameters.rsaDetail;
    const TPM2B_PUBLIC_KEY_RSA *u = &pub->unique.rsa;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;
    enum latch_status st;

    if (rp->keyBits < 1024 || rp->keyBits > RSA_BYTES_MAX * 8 ||
        rp->keyBits % 8 != 0 || u->size > RSA_BYTES_MAX ||
        (size_t)u->size * 8 != rp->keyBits) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "tpm key: RSA keyBits %u and modulus of %u "
                             "bytes disagree",
                             rp->keyBits, u->size);
    }
    n = BN_bin2bn(u->buffer, u->size, NULL);
    e = BN_new();
    if (n == NULL || e == NULL ||
        BN_set_word(e, rp->exponent == 0 ? 65537 : rp->exponent) != 1) {
        st = latch_err_ossl(err, LATCH_E_NOMEM, "tpm key: RSA numbers");
        goto out;
    }
    if (BN_num_bits(n) != (int)rp->keyBits || !BN_is_odd(n)) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "tpm key: RSA modulus has %d bits, keyBits says "
                           "%u (or it is even)",
                           BN_num_bits(n), rp->keyBits);
        goto out;
    }
    if (!BN_is_odd(e) || BN_is_one(e)) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "tpm key: RSA exponent %u is not valid",
                           rp->exponent);
        goto out;
    }
    st = rsa_from_bn(n, e, out, err);

out:
    BN_free(n);
    BN_free(e);
    return st;
}

enum latch_status
latch_tpm_public_to_pkey(const TPMT_PUBLIC *pub, EVP_PKEY **out,
                         struct latch_err *err)
{
    const TPMS_ECC_POINT *pt;
    const char *group;
    size_t coordlen = 0;

    if (pub == NULL || out == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "tpm key: missing argument");
    }
    *out = NULL;
    switch (pub->type) {
    case TPM2_ALG_RSA:
        return rsa_public_to_pkey(pub, out, err);
    case TPM2_ALG_ECC:
        group = curve_sn(pub->parameters.eccDetail.curveID, &coordlen);
        if (group == NULL) {
            return latch_err_set(
                err, LATCH_E_POLICY,
                "tpm key: curve 0x%04x (%s) is not nist-p256 or nist-p384",
                pub->parameters.eccDetail.curveID,
                curve_str(pub->parameters.eccDetail.curveID));
        }
        pt = &pub->unique.ecc;
        return ec_from_xy(group, coordlen, pt->x.buffer, pt->x.size,
                          pt->y.buffer, pt->y.size, out, err);
    default:
        return latch_err_set(err, LATCH_E_POLICY,
                             "tpm key: public area type 0x%04x is not RSA "
                             "or ECC",
                             pub->type);
    }
}

/*
 * Rebuilds pkey from its public components and returns the DER
 * SubjectPublicKeyInfo of the rebuilt key. The rebuilt key is a plain "RSA"
 * or "EC" key, so the encoding is canonical whatever the source said: an
 * RSA key that came from an RSA-PSS or rsaesOaep SPKI encodes as
 * rsaEncryption with NULL parameters, and an EC key as id-ecPublicKey with
 * a named curve and an uncompressed point (OpenSSL's defaults for a key
 * built from data). The device (key from its TPM) and the server (key from
 * the EK certificate) therefore hash the same bytes.
 */
static enum latch_status
canonical_spki(EVP_PKEY *pkey, uint8_t **der, size_t *derlen,
               struct latch_err *err)
{
    uint8_t x[COORD_MAX];
    uint8_t y[COORD_MAX];
    char group[64];
    BIGNUM *a = NULL;
    BIGNUM *b = NULL;
    EVP_PKEY *canon = NULL;
    unsigned char *p = NULL;
    size_t coordlen;
    size_t glen = 0;
    int n;
    enum latch_status st;

    if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1) {
            st = latch_err_ossl(err, LATCH_E_FORMAT,
                                "device id: RSA key without n and e");
            goto out;
        }
        st = rsa_from_bn(a, b, &canon, err);
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        coordlen = ((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, sizeof(group), &glen) != 1 ||
            coordlen == 0 || coordlen > COORD_MAX ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1 ||
            BN_bn2binpad(a, x, (int)coordlen) != (int)coordlen ||
            BN_bn2binpad(b, y, (int)coordlen) != (int)coordlen) {
            st = latch_err_ossl(err, LATCH_E_FORMAT,
                                "device id: EC key without a named curve "
                                "and point");
            goto out;
        }
        st = ec_from_xy(group, coordlen, x, coordlen, y, coordlen, &canon, err);
    } else {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "device id: key type %s is not RSA or EC",
                           EVP_PKEY_get0_type_name(pkey));
    }
    if (st != LATCH_OK) {
        goto out;
    }

    n = i2d_PUBKEY(canon, &p);
    if (n <= 0) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "device id: encoding the public key failed");
        goto out;
    }
    *der = p;
    *derlen = (size_t)n;

out:
    EVP_PKEY_free(canon);
    BN_free(a);
    BN_free(b);
    return st;
}

bool
latch_tpm_public_matches(const TPMT_PUBLIC *pub, EVP_PKEY *pkey)
{
    EVP_PKEY *mine = NULL;
    uint8_t *a = NULL;
    uint8_t *b = NULL;
    size_t alen = 0;
    size_t blen = 0;
    bool same = false;

    if (pub == NULL || pkey == NULL) {
        return false;
    }
    if (latch_tpm_public_to_pkey(pub, &mine, NULL) != LATCH_OK ||
        canonical_spki(mine, &a, &alen, NULL) != LATCH_OK ||
        canonical_spki(pkey, &b, &blen, NULL) != LATCH_OK) {
        goto out;
    }
    same = alen == blen && memcmp(a, b, alen) == 0;

out:
    OPENSSL_free(a);
    OPENSSL_free(b);
    EVP_PKEY_free(mine);
    return same;
}

enum latch_status
latch_device_id(EVP_PKEY *pkey, char out[65], struct latch_err *err)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t md[32];
    uint8_t *der = NULL;
    size_t derlen = 0;
    unsigned int mdlen = 0;
    enum latch_status st;
    size_t i;

    if (pkey == NULL || out == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "device id: no key");
    }
    st = canonical_spki(pkey, &der, &derlen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (EVP_Digest(der, derlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != sizeof(md)) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "device id: hashing the public key failed");
        goto out;
    }
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[64] = '\0';

out:
    OPENSSL_free(der);
    return st;
}

/* --- Attestation Key policy (security-threats A1) --------------------- */

struct ak_checker {
    struct latch_report *rep;
    struct latch_err *err;
    enum latch_status st;
};

/*
 * Records one check. The first failure becomes the error; later failures
 * are still reported so an operator sees every problem at once.
 */
static void ak_result(struct ak_checker *c, const char *name, bool ok,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
ak_result(struct ak_checker *c, const char *name, bool ok, const char *fmt, ...)
{
    char detail[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(detail, sizeof(detail), fmt, ap) < 0) {
        detail[0] = '\0';
    }
    va_end(ap);
    latch_report_add(c->rep, name, ok ? LATCH_CHECK_PASS : LATCH_CHECK_FAIL,
                     "%s", detail);
    if (!ok && c->st == LATCH_OK) {
        c->st = latch_err_set(c->err, LATCH_E_POLICY, "AK policy: %s: %s", name,
                              detail);
    }
}

static void
ak_attr(struct ak_checker *c, TPMA_OBJECT attrs, TPMA_OBJECT bit,
        const char *name, const char *attr, bool want)
{
    bool set = (attrs & bit) != 0;

    ak_result(c, name, set == want, "%s is %s, must be %s (attributes 0x%08x)",
              attr, set ? "set" : "clear", want ? "set" : "clear",
              (unsigned)attrs);
}

static bool
hash_ok(TPMI_ALG_HASH h)
{
    return h == TPM2_ALG_SHA256 || h == TPM2_ALG_SHA384;
}

static void
ak_check_rsa(struct ak_checker *c, const TPMS_RSA_PARMS *rp)
{
    TPMI_ALG_RSA_SCHEME s = rp->scheme.scheme;
    TPMI_ALG_HASH h = rp->scheme.details.anySig.hashAlg;
    bool scheme_ok = s == TPM2_ALG_RSASSA || s == TPM2_ALG_RSAPSS;

    ak_result(c, "ak.symmetric", rp->symmetric.algorithm == TPM2_ALG_NULL,
              "symmetric algorithm 0x%04x, must be null",
              rp->symmetric.algorithm);
    ak_result(c, "ak.key_size",
              rp->keyBits == 2048 || rp->keyBits == 3072 || rp->keyBits == 4096,
              "RSA-%u, must be RSA-2048, 3072 or 4096", rp->keyBits);
    ak_result(c, "ak.scheme", scheme_ok,
              "signing scheme 0x%04x, must be rsassa or rsapss", s);
    if (scheme_ok) {
        ak_result(c, "ak.scheme_hash", hash_ok(h),
                  "scheme hash %s, must be sha256 or sha384", hash_str(h));
    } else {
        latch_report_add(c->rep, "ak.scheme_hash", LATCH_CHECK_SKIP,
                         "no signing scheme");
    }
}

static void
ak_check_ecc(struct ak_checker *c, const TPMS_ECC_PARMS *ep)
{
    TPMI_ALG_ECC_SCHEME s = ep->scheme.scheme;
    TPMI_ALG_HASH h = ep->scheme.details.ecdsa.hashAlg;
    TPMI_ECC_CURVE curve = ep->curveID;

    ak_result(c, "ak.symmetric", ep->symmetric.algorithm == TPM2_ALG_NULL,
              "symmetric algorithm 0x%04x, must be null",
              ep->symmetric.algorithm);
    ak_result(c, "ak.key_size",
              curve == TPM2_ECC_NIST_P256 || curve == TPM2_ECC_NIST_P384,
              "curve 0x%04x (%s), must be nist-p256 or nist-p384", curve,
              curve_str(curve));
    ak_result(c, "ak.scheme", s == TPM2_ALG_ECDSA,
              "signing scheme 0x%04x, must be ecdsa", s);
    if (s == TPM2_ALG_ECDSA) {
        ak_result(c, "ak.scheme_hash", hash_ok(h),
                  "scheme hash %s, must be sha256 or sha384", hash_str(h));
    } else {
        latch_report_add(c->rep, "ak.scheme_hash", LATCH_CHECK_SKIP,
                         "no signing scheme");
    }
    ak_result(c, "ak.kdf", ep->kdf.scheme == TPM2_ALG_NULL,
              "kdf scheme 0x%04x, must be null", ep->kdf.scheme);
}

enum latch_status
latch_ak_check(const TPMT_PUBLIC *ak, struct latch_report *rep,
               struct latch_err *err)
{
    struct ak_checker c = {.rep = rep, .err = err, .st = LATCH_OK};
    struct latch_err keyerr;
    TPMA_OBJECT a;
    EVP_PKEY *pkey = NULL;
    bool known;
    bool key_ok;

    if (ak == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "AK policy: no public area");
    }
    a = ak->objectAttributes;
    known = ak->type == TPM2_ALG_RSA || ak->type == TPM2_ALG_ECC;
    ak_result(&c, "ak.type", known, "type 0x%04x, must be rsa or ecc",
              ak->type);
    ak_result(&c, "ak.name_alg", hash_ok(ak->nameAlg),
              "nameAlg %s, must be sha256 or sha384", hash_str(ak->nameAlg));

    /*
     * fixedTPM and fixedParent cannot be set on a loaded external or
     * imported key with a private part, and sensitiveDataOrigin says the
     * TPM generated it: together they make the name prove a TPM-resident
     * key. restricted+sign: it signs only what the TPM itself produced.
     */
    ak_attr(&c, a, TPMA_OBJECT_FIXEDTPM, "ak.fixed_tpm", "fixedTPM", true);
    ak_attr(&c, a, TPMA_OBJECT_FIXEDPARENT, "ak.fixed_parent", "fixedParent",
            true);
    ak_attr(&c, a, TPMA_OBJECT_SENSITIVEDATAORIGIN, "ak.sensitive_data_origin",
            "sensitiveDataOrigin", true);
    ak_attr(&c, a, TPMA_OBJECT_RESTRICTED, "ak.restricted", "restricted", true);
    ak_attr(&c, a, TPMA_OBJECT_SIGN_ENCRYPT, "ak.sign", "sign", true);
    ak_attr(&c, a, TPMA_OBJECT_DECRYPT, "ak.decrypt", "decrypt", false);
    /* A license must outlive reboots; an stClear AK would not. */
    ak_attr(&c, a, TPMA_OBJECT_STCLEAR, "ak.st_clear", "stClear", false);

    if (ak->type == TPM2_ALG_RSA) {
        ak_check_rsa(&c, &ak->parameters.rsaDetail);
    } else if (ak->type == TPM2_ALG_ECC) {
        ak_check_ecc(&c, &ak->parameters.eccDetail);
    } else {
        latch_report_add(rep, "ak.parameters", LATCH_CHECK_SKIP,
                         "unknown key type");
    }

    if (known) {
        latch_err_clear(&keyerr);
        key_ok = latch_tpm_public_to_pkey(ak, &pkey, &keyerr) == LATCH_OK;
        ak_result(&c, "ak.public_key", key_ok, "%s",
                  key_ok ? "valid key" : keyerr.msg);
    } else {
        latch_report_add(rep, "ak.public_key", LATCH_CHECK_SKIP,
                         "unknown key type");
    }
    EVP_PKEY_free(pkey);
    return c.st;
}
