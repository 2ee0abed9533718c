/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_mkcred.c: KDFa/KDFe against known answers from an independent
 * Python implementation (tests/data/tpm/gen-kdf-vectors.py), and
 * MakeCredential for RSA-2048, P-256 and P-384 EKs opened again here with
 * the EK private key, the way TPM2_ActivateCredential does it. The round
 * trip through a real TPM is tests/e2e/test_mkcred_tpm.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "fsutil.h"
#include "license.h"
#include "mkcred.h"
#include "tpmt.h"

#include "../data/tpm/kdf-vectors.h"

#define HEX_MAX 256

static const char *
data_dir(void)
{
    const char *d = getenv("LATCH_TESTDATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    size_t i;
    unsigned int b;

    assert_true(n <= cap);
    for (i = 0; i < n; i++) {
        assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
        out[i] = (uint8_t)b;
    }
    return n;
}

static void
test_kdfa_matches_independent_vectors(void **state)
{
    uint8_t key[HEX_MAX];
    uint8_t u[HEX_MAX];
    uint8_t v[HEX_MAX];
    uint8_t want[HEX_MAX];
    uint8_t got[HEX_MAX];
    size_t klen;
    size_t ulen;
    size_t vlen;
    size_t wlen;
    size_t i;
    const struct kdf_vector *t;

    (void)state;
    for (i = 0; i < sizeof(kdfa_vectors) / sizeof(kdfa_vectors[0]); i++) {
        t = &kdfa_vectors[i];
        klen = unhex(t->key, key, sizeof(key));
        ulen = unhex(t->u, u, sizeof(u));
        vlen = unhex(t->v, v, sizeof(v));
        wlen = unhex(t->out, want, sizeof(want));
        assert_int_equal(wlen * 8, t->bits);
        assert_int_equal(latch_kdfa(t->hash, key, klen, t->label,
                                    ulen > 0 ? u : NULL, ulen,
                                    vlen > 0 ? v : NULL, vlen, t->bits, got),
                         LATCH_OK);
        assert_memory_equal(got, want, wlen);
    }
}

static void
test_kdfe_matches_independent_vectors(void **state)
{
    uint8_t z[HEX_MAX];
    uint8_t u[HEX_MAX];
    uint8_t v[HEX_MAX];
    uint8_t want[HEX_MAX];
    uint8_t got[HEX_MAX];
    size_t zlen;
    size_t ulen;
    size_t vlen;
    size_t wlen;
    size_t i;
    const struct kdf_vector *t;

    (void)state;
    for (i = 0; i < sizeof(kdfe_vectors) / sizeof(kdfe_vectors[0]); i++) {
        t = &kdfe_vectors[i];
        zlen = unhex(t->key, z, sizeof(z));
        ulen = unhex(t->u, u, sizeof(u));
        vlen = unhex(t->v, v, sizeof(v));
        wlen = unhex(t->out, want, sizeof(want));
        assert_int_equal(latch_kdfe(t->hash, z, zlen, t->label,
                                    ulen > 0 ? u : NULL, ulen,
                                    vlen > 0 ? v : NULL, vlen, t->bits, got),
                         LATCH_OK);
        assert_memory_equal(got, want, wlen);
    }
}

static void
test_kdfs_refuse_other_hashes_and_partial_bytes(void **state)
{
    uint8_t key[32] = {1};
    uint8_t out[64];

    (void)state;
    assert_int_equal(latch_kdfa(TPM2_ALG_SHA1, key, 32, "STORAGE", NULL, 0,
                                NULL, 0, 128, out),
                     LATCH_E_USAGE);
    assert_int_equal(latch_kdfa(TPM2_ALG_SHA256, key, 32, "STORAGE", NULL, 0,
                                NULL, 0, 127, out),
                     LATCH_E_USAGE);
    assert_int_equal(
        latch_kdfa(TPM2_ALG_SHA256, key, 32, "", NULL, 0, NULL, 0, 128, out),
        LATCH_E_USAGE);
    assert_int_equal(latch_kdfa(TPM2_ALG_SHA256, key, 0, "STORAGE", NULL, 0,
                                NULL, 0, 128, out),
                     LATCH_E_USAGE);
    assert_int_equal(latch_kdfe(TPM2_ALG_SHA512, key, 32, "IDENTITY", NULL, 0,
                                NULL, 0, 256, out),
                     LATCH_E_USAGE);
    assert_int_equal(latch_kdfe(TPM2_ALG_SHA256, key, 32, "IDENTITY", NULL, 5,
                                NULL, 0, 256, out),
                     LATCH_E_USAGE);
}

/* --- MakeCredential, opened again with the EK private key ------------- */

static EVP_PKEY *
ek_key(enum latch_ek_kind kind)
{
    EVP_PKEY *k = NULL;

    switch (kind) {
    case LATCH_EK_RSA2048:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case LATCH_EK_ECC_P256:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case LATCH_EK_ECC_P384:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case LATCH_EK_KIND_COUNT:
        break;
    }
    assert_non_null(k);
    return k;
}

static const char *
md_name(TPMI_ALG_HASH h)
{
    return h == TPM2_ALG_SHA384 ? "SHA384" : "SHA256";
}

/* A public-only EC key on ek's curve at the point pt. */
static EVP_PKEY *
ec_peer(EVP_PKEY *ek, const TPMS_ECC_POINT *pt)
{
    uint8_t oct[1 + 2 * 48];
    char group[64];
    size_t glen = 0;
    OSSL_PARAM_BLD *bld;
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *peer = NULL;

    assert_int_equal(
        EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &glen),
        1);
    oct[0] = 0x04;
    memcpy(oct + 1, pt->x.buffer, pt->x.size);
    memcpy(oct + 1 + pt->x.size, pt->y.buffer, pt->y.size);
    bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(
                         bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                     1);
    assert_int_equal(
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, oct,
                                         1 + (size_t)pt->x.size + pt->y.size),
        1);
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params),
                     1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return peer;
}

/* The seed the TPM recovers with its EK private key. */
static void
recover_seed(EVP_PKEY *ek, const struct latch_ek_info *info,
             const TPM2B_ENCRYPTED_SECRET *es, uint8_t *seed, size_t dlen)
{
    static const char label[] = "IDENTITY";
    uint8_t rsaout[512];
    uint8_t z[48];
    uint8_t ekx[48];
    TPMS_ECC_POINT pt;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *peer;
    BIGNUM *x = NULL;
    size_t len = dlen;
    size_t zlen = sizeof(z);
    size_t off = 0;

    if (info->kind == LATCH_EK_RSA2048) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
        assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_oaep_md_name(
                             ctx, md_name(info->name_alg), NULL),
                         1);
        assert_int_equal(
            EVP_PKEY_CTX_set0_rsa_oaep_label(
                ctx, OPENSSL_memdup(label, sizeof(label)), sizeof(label)),
            1);
        /* OpenSSL wants room for a whole modulus. */
        len = sizeof(rsaout);
        assert_int_equal(
            EVP_PKEY_decrypt(ctx, rsaout, &len, es->secret, es->size), 1);
        assert_int_equal(len, dlen);
        memcpy(seed, rsaout, dlen);
        EVP_PKEY_CTX_free(ctx);
        return;
    }
    assert_int_equal(
        Tss2_MU_TPMS_ECC_POINT_Unmarshal(es->secret, es->size, &off, &pt),
        TSS2_RC_SUCCESS);
    assert_int_equal(off, es->size);
    peer = ec_peer(ek, &pt);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(ctx, peer), 1);
    assert_int_equal(EVP_PKEY_derive(ctx, z, &zlen), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(ek, OSSL_PKEY_PARAM_EC_PUB_X, &x),
                     1);
    assert_int_equal(BN_bn2binpad(x, ekx, (int)zlen), (int)zlen);
    assert_int_equal(latch_kdfe(info->name_alg, z, zlen, "IDENTITY",
                                pt.x.buffer, pt.x.size, ekx, zlen,
                                (uint32_t)(dlen * 8), seed),
                     LATCH_OK);
    BN_free(x);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
}

/*
 * TPM2_ActivateCredential in software: returns false when the integrity
 * HMAC does not match (wrong EK, wrong name, tampered blob).
 */
static bool
soft_activate(EVP_PKEY *ek, const struct latch_ek_info *info,
              const uint8_t *name, size_t namelen, const uint8_t *blob,
              size_t bloblen, const uint8_t *enc, size_t enclen,
              uint8_t *secret, size_t *secretlen)
{
    uint8_t seed[48];
    uint8_t hmackey[48];
    uint8_t symkey[32];
    uint8_t mac[64];
    uint8_t iv[16] = {0};
    uint8_t macin[256];
    uint8_t plain[64];
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    EVP_CIPHER_CTX *cc;
    size_t dlen = info->name_alg == TPM2_ALG_SHA384 ? 48 : 32;
    size_t off = 0;
    size_t maclen;
    size_t enclen_id;
    unsigned int got = 0;
    int l1 = 0;
    int l2 = 0;

    assert_int_equal(
        Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, bloblen, &off, &id),
        TSS2_RC_SUCCESS);
    assert_int_equal(off, bloblen);
    off = 0;
    assert_int_equal(
        Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enclen, &off, &es),
        TSS2_RC_SUCCESS);
    assert_int_equal(off, enclen);
    recover_seed(ek, info, &es, seed, dlen);

    maclen = ((size_t)id.credential[0] << 8) | id.credential[1];
    assert_int_equal(maclen, dlen);
    enclen_id = id.size - 2 - maclen;
    assert_int_equal(latch_kdfa(info->name_alg, seed, dlen, "INTEGRITY", NULL,
                                0, NULL, 0, (uint32_t)(dlen * 8), hmackey),
                     LATCH_OK);
    memcpy(macin, id.credential + 2 + maclen, enclen_id);
    memcpy(macin + enclen_id, name, namelen);
    assert_non_null(HMAC(EVP_get_digestbyname(md_name(info->name_alg)), hmackey,
                         (int)dlen, macin, enclen_id + namelen, mac, &got));
    if (CRYPTO_memcmp(mac, id.credential + 2, dlen) != 0) {
        return false;
    }

    assert_int_equal(latch_kdfa(info->name_alg, seed, dlen, "STORAGE", name,
                                namelen, NULL, 0, info->sym_bits, symkey),
                     LATCH_OK);
    cc = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_DecryptInit_ex(cc,
                                        info->sym_bits == 256
                                            ? EVP_aes_256_cfb128()
                                            : EVP_aes_128_cfb128(),
                                        NULL, symkey, iv),
                     1);
    assert_int_equal(EVP_DecryptUpdate(cc, plain, &l1,
                                       id.credential + 2 + maclen,
                                       (int)enclen_id),
                     1);
    assert_int_equal(EVP_DecryptFinal_ex(cc, plain + l1, &l2), 1);
    EVP_CIPHER_CTX_free(cc);
    *secretlen = ((size_t)plain[0] << 8) | plain[1];
    assert_int_equal(*secretlen + 2, (size_t)(l1 + l2));
    memcpy(secret, plain + 2, *secretlen);
    return true;
}

struct sizes {
    size_t blob;
    size_t enc;
};

/* TPM2B_ID_OBJECT: 2 + (2 + digest) + (2 + 32); TPM2B_ENCRYPTED_SECRET:
 * 2 + RSA modulus, or 2 + TPMS_ECC_POINT (2 + x + 2 + y). */
static const struct sizes want_sizes[LATCH_EK_KIND_COUNT] = {
    {2 + 34 + 34, 2 + 256},
    {2 + 34 + 34, 2 + 2 + 32 + 2 + 32},
    {2 + 50 + 34, 2 + 2 + 48 + 2 + 48},
};

static void
make_name(TPMI_ALG_HASH alg, uint8_t fill, uint8_t *name, size_t *namelen)
{
    *namelen = alg == TPM2_ALG_SHA384 ? 50 : 34;
    memset(name, fill, *namelen);
    name[0] = 0x00;
    name[1] = (uint8_t)alg;
}

static void
roundtrip(enum latch_ek_kind kind)
{
    const struct latch_ek_info *info = latch_ek_info_by_kind(kind);
    uint8_t name[LATCH_NAME_MAX];
    uint8_t other[LATCH_NAME_MAX];
    uint8_t secret[LATCH_SECRET_LEN];
    uint8_t back[64];
    struct latch_err err;
    EVP_PKEY *ek;
    EVP_PKEY *stranger;
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;
    size_t namelen = 0;
    size_t backlen = 0;

    ek = ek_key(kind);
    stranger = ek_key(kind);
    make_name(TPM2_ALG_SHA256, 0x5a, name, &namelen);
    make_name(TPM2_ALG_SHA256, 0x5b, other, &namelen);
    memset(secret, 0xc3, sizeof(secret));
    secret[0] = (uint8_t)kind;

    assert_int_equal(latch_make_credential(ek, info, name, namelen, secret,
                                           sizeof(secret), &blob, &bloblen,
                                           &enc, &enclen, &err),
                     LATCH_OK);
    assert_int_equal(bloblen, want_sizes[kind].blob);
    assert_int_equal(enclen, want_sizes[kind].enc);
    /* The TPM2B size fields agree with the lengths. */
    assert_int_equal(((size_t)blob[0] << 8 | blob[1]) + 2, bloblen);
    assert_int_equal(((size_t)enc[0] << 8 | enc[1]) + 2, enclen);

    assert_true(soft_activate(ek, info, name, namelen, blob, bloblen, enc,
                              enclen, back, &backlen));
    assert_int_equal(backlen, sizeof(secret));
    assert_memory_equal(back, secret, sizeof(secret));

    /* Another AK name fails the integrity check, as in the TPM. */
    assert_false(soft_activate(ek, info, other, namelen, blob, bloblen, enc,
                               enclen, back, &backlen));
    /* A tampered encIdentity fails it too. */
    blob[bloblen - 1] ^= 0x01;
    assert_false(soft_activate(ek, info, name, namelen, blob, bloblen, enc,
                               enclen, back, &backlen));
    if (kind != LATCH_EK_RSA2048) {
        /* Another EK of the same kind derives another seed. */
        blob[bloblen - 1] ^= 0x01;
        assert_false(soft_activate(stranger, info, name, namelen, blob, bloblen,
                                   enc, enclen, back, &backlen));
    }
    free(blob);
    free(enc);
    EVP_PKEY_free(ek);
    EVP_PKEY_free(stranger);
}

static void
test_make_credential_rsa2048_opens_with_the_ek_only(void **state)
{
    (void)state;
    roundtrip(LATCH_EK_RSA2048);
}

static void
test_make_credential_p256_opens_with_the_ek_only(void **state)
{
    (void)state;
    roundtrip(LATCH_EK_ECC_P256);
}

static void
test_make_credential_p384_opens_with_the_ek_only(void **state)
{
    (void)state;
    roundtrip(LATCH_EK_ECC_P384);
}

/* Fresh seed (RSA) and fresh ephemeral key (ECC) on every call. */
static void
test_make_credential_differs_on_every_call(void **state)
{
    uint8_t name[LATCH_NAME_MAX];
    uint8_t secret[LATCH_SECRET_LEN] = {7};
    struct latch_err err;
    uint8_t *b[2] = {NULL, NULL};
    uint8_t *e[2] = {NULL, NULL};
    size_t bl[2];
    size_t el[2];
    size_t namelen = 0;
    EVP_PKEY *ek;
    int k;
    int i;

    (void)state;
    for (k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        ek = ek_key((enum latch_ek_kind)k);
        make_name(TPM2_ALG_SHA256, 0x11, name, &namelen);
        for (i = 0; i < 2; i++) {
            assert_int_equal(latch_make_credential(
                                 ek,
                                 latch_ek_info_by_kind((enum latch_ek_kind)k),
                                 name, namelen, secret, sizeof(secret), &b[i],
                                 &bl[i], &e[i], &el[i], &err),
                             LATCH_OK);
        }
        assert_int_equal(el[0], el[1]);
        assert_memory_not_equal(e[0], e[1], el[0]);
        assert_memory_not_equal(b[0], b[1], bl[0]);
        for (i = 0; i < 2; i++) {
            free(b[i]);
            free(e[i]);
        }
        EVP_PKEY_free(ek);
    }
}

static void
assert_refused(EVP_PKEY *ek, enum latch_ek_kind kind, const uint8_t *name,
               size_t namelen, size_t secretlen, enum latch_status want,
               const char *msg)
{
    uint8_t secret[LATCH_SECRET_LEN + 1] = {1};
    struct latch_err err;
    uint8_t *blob = (uint8_t *)&err;
    uint8_t *enc = (uint8_t *)&err;
    size_t bloblen = 0;
    size_t enclen = 0;

    latch_err_clear(&err);
    assert_int_equal(latch_make_credential(
                         ek, latch_ek_info_by_kind(kind), name, namelen, secret,
                         secretlen, &blob, &bloblen, &enc, &enclen, &err),
                     want);
    assert_null(blob);
    assert_null(enc);
    if (strstr(err.msg, msg) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
    }
}

static void
test_make_credential_refuses_ek_of_another_template(void **state)
{
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    EVP_PKEY *rsa = ek_key(LATCH_EK_RSA2048);
    EVP_PKEY *p256 = ek_key(LATCH_EK_ECC_P256);
    EVP_PKEY *p384 = ek_key(LATCH_EK_ECC_P384);
    EVP_PKEY *rsa3072 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);

    (void)state;
    make_name(TPM2_ALG_SHA256, 0x22, name, &namelen);
    assert_refused(rsa, LATCH_EK_ECC_P256, name, namelen, 32, LATCH_E_POLICY,
                   "template ecc-p256");
    assert_refused(p256, LATCH_EK_ECC_P384, name, namelen, 32, LATCH_E_POLICY,
                   "secp384r1");
    assert_refused(p384, LATCH_EK_RSA2048, name, namelen, 32, LATCH_E_POLICY,
                   "needs RSA-2048");
    assert_refused(rsa3072, LATCH_EK_RSA2048, name, namelen, 32, LATCH_E_POLICY,
                   "RSA-3072");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(rsa3072);
}

static void
test_make_credential_refuses_bad_secret_and_name_sizes(void **state)
{
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    EVP_PKEY *p256 = ek_key(LATCH_EK_ECC_P256);

    (void)state;
    make_name(TPM2_ALG_SHA256, 0x33, name, &namelen);
    assert_refused(p256, LATCH_EK_ECC_P256, name, namelen, 33, LATCH_E_USAGE,
                   "secret of 33 bytes");
    assert_refused(p256, LATCH_EK_ECC_P256, name, namelen, 0, LATCH_E_USAGE,
                   "secret of 0 bytes");
    assert_refused(p256, LATCH_EK_ECC_P256, name, namelen - 1, 32,
                   LATCH_E_USAGE, "AK name of 33 bytes");
    /* sha384 algorithm id with a sha256-sized digest. */
    name[1] = (uint8_t)TPM2_ALG_SHA384;
    assert_refused(p256, LATCH_EK_ECC_P256, name, namelen, 32, LATCH_E_USAGE,
                   "AK name of 34 bytes");
    EVP_PKEY_free(p256);
}

/*
 * The server takes the EK key from the certificate: a credential for the
 * golden certificates has the TPM's sizes (the real TPM opens such
 * credentials in tests/e2e/test_mkcred_tpm.py).
 */
static void
test_make_credential_takes_ek_keys_from_certificates(void **state)
{
    static const char *const certs[LATCH_EK_KIND_COUNT] = {
        "ek-rsa2048.crt", "ek-ecc-p256.crt", "ek-ecc-p384.crt"};
    uint8_t name[LATCH_NAME_MAX];
    uint8_t secret[LATCH_SECRET_LEN] = {9};
    struct latch_err err;
    const unsigned char *p;
    char path[512];
    char *der = NULL;
    size_t derlen = 0;
    size_t namelen = 0;
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;
    X509 *x;
    EVP_PKEY *ek;
    int k;

    (void)state;
    make_name(TPM2_ALG_SHA384, 0x44, name, &namelen);
    for (k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        snprintf(path, sizeof(path), "%s/tpm/%s", data_dir(), certs[k]);
        assert_int_equal(latch_read_file(path, 4096, &der, &derlen, &err),
                         LATCH_OK);
        p = (const unsigned char *)der;
        x = d2i_X509(NULL, &p, (long)derlen);
        assert_non_null(x);
        ek = X509_get_pubkey(x);
        assert_int_equal(latch_make_credential(
                             ek, latch_ek_info_by_kind((enum latch_ek_kind)k),
                             name, namelen, secret, sizeof(secret), &blob,
                             &bloblen, &enc, &enclen, &err),
                         LATCH_OK);
        /* The name only feeds the HMAC: a sha384 name changes no size. */
        assert_int_equal(bloblen, want_sizes[k].blob);
        assert_int_equal(enclen, want_sizes[k].enc);
        free(blob);
        free(enc);
        EVP_PKEY_free(ek);
        X509_free(x);
        free(der);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdfa_matches_independent_vectors),
        cmocka_unit_test(test_kdfe_matches_independent_vectors),
        cmocka_unit_test(test_kdfs_refuse_other_hashes_and_partial_bytes),
        cmocka_unit_test(test_make_credential_rsa2048_opens_with_the_ek_only),
        cmocka_unit_test(test_make_credential_p256_opens_with_the_ek_only),
        cmocka_unit_test(test_make_credential_p384_opens_with_the_ek_only),
        cmocka_unit_test(test_make_credential_differs_on_every_call),
        cmocka_unit_test(test_make_credential_refuses_ek_of_another_template),
        cmocka_unit_test(
            test_make_credential_refuses_bad_secret_and_name_sizes),
        cmocka_unit_test(test_make_credential_takes_ek_keys_from_certificates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
