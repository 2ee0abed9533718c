/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_tpmt.c: TPM structures against what a real (software) TPM produced
 * (tests/data/tpm, made by make-golden.sh): EK templates, names, exact
 * unmarshalling, public keys, device ids, and the AK policy with one
 * rejected fixture per flipped attribute or parameter.
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
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "fsutil.h"
#include "license.h"
#include "tpmt.h"

#define FILE_MAX 4096

static const char *const ek_pub_files[LATCH_EK_KIND_COUNT] = {
    "ek-rsa2048.pub",
    "ek-ecc-p256.pub",
    "ek-ecc-p384.pub",
};

static const char *const ek_cert_files[LATCH_EK_KIND_COUNT] = {
    "ek-rsa2048.crt",
    "ek-ecc-p256.crt",
    "ek-ecc-p384.crt",
};

static const char *
data_dir(void)
{
    const char *d = getenv("LATCH_TESTDATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

/* Reads tests/data/tpm/NAME; the caller frees. */
static uint8_t *
read_data(const char *name, size_t *len)
{
    struct latch_err err;
    char path[512];
    char *buf = NULL;
    int n;

    n = snprintf(path, sizeof(path), "%s/tpm/%s", data_dir(), name);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    if (latch_read_file(path, FILE_MAX, &buf, len, &err) != LATCH_OK) {
        fail_msg("%s: %s", path, err.msg);
    }
    return (uint8_t *)buf;
}

static void
load_public(const char *name, TPM2B_PUBLIC *pub)
{
    struct latch_err err;
    uint8_t *buf;
    size_t len = 0;

    buf = read_data(name, &len);
    if (latch_tpm_public_unmarshal(buf, len, pub, &err) != LATCH_OK) {
        fail_msg("%s: %s", name, err.msg);
    }
    free(buf);
}

static EVP_PKEY *
load_cert_key(const char *name)
{
    const unsigned char *p;
    uint8_t *der;
    size_t len = 0;
    X509 *x;
    EVP_PKEY *k;

    der = read_data(name, &len);
    p = der;
    x = d2i_X509(NULL, &p, (long)len);
    assert_non_null(x);
    k = X509_get_pubkey(x);
    assert_non_null(k);
    X509_free(x);
    free(der);
    return k;
}

/* The device id make-golden.sh computed with openssl for an EK kind. */
static void
expected_device_id(const char *kind, char out[65])
{
    char line[160];
    char name[32];
    char id[80];
    uint8_t *buf;
    size_t len = 0;
    size_t i = 0;
    size_t j;

    buf = read_data("device-ids.txt", &len);
    while (i < len) {
        for (j = 0; i < len && buf[i] != '\n' && j + 1 < sizeof(line); j++) {
            line[j] = (char)buf[i++];
        }
        line[j] = '\0';
        i++;
        if (sscanf(line, "%31s %79s", name, id) == 2 &&
            strcmp(name, kind) == 0) {
            assert_int_equal(strlen(id), 64);
            memcpy(out, id, 65);
            free(buf);
            return;
        }
    }
    free(buf);
    fail_msg("device-ids.txt has no %s", kind);
}

static void
assert_msg_has(const struct latch_err *err, const char *want)
{
    if (strstr(err->msg, want) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, want);
    }
}

/* --- EK templates -------------------------------------------------------- */

static void
test_ek_info_table_follows_the_tcg_profile(void **state)
{
    const struct latch_ek_info *i;

    (void)state;
    i = latch_ek_info_by_name("rsa2048");
    assert_non_null(i);
    assert_int_equal(i->kind, LATCH_EK_RSA2048);
    assert_int_equal(i->cert_index, 0x01c00002);
    assert_int_equal(i->nonce_index, 0x01c00003);
    assert_int_equal(i->template_index, 0x01c00004);
    assert_int_equal(i->name_alg, TPM2_ALG_SHA256);
    assert_int_equal(i->sym_bits, 128);
    assert_int_equal(i->policy->hash, TPM2_ALG_SHA256);
    assert_null(i->policy->or_other);

    i = latch_ek_info_by_name("ecc-p256");
    assert_non_null(i);
    assert_int_equal(i->kind, LATCH_EK_ECC_P256);
    assert_int_equal(i->cert_index, 0x01c0000a);
    assert_int_equal(i->nonce_index, 0x01c0000b);
    assert_int_equal(i->template_index, 0x01c0000c);
    assert_int_equal(i->name_alg, TPM2_ALG_SHA256);
    assert_int_equal(i->sym_bits, 128);
    assert_ptr_equal(i->policy, latch_ek_info_by_name("rsa2048")->policy);

    i = latch_ek_info_by_name("ecc-p384");
    assert_non_null(i);
    assert_int_equal(i->kind, LATCH_EK_ECC_P384);
    assert_int_equal(i->cert_index, 0x01c00016);
    assert_int_equal(i->nonce_index, 0);
    assert_int_equal(i->template_index, 0);
    assert_int_equal(i->name_alg, TPM2_ALG_SHA384);
    assert_int_equal(i->sym_bits, 256);
    assert_int_equal(i->policy->hash, TPM2_ALG_SHA384);
    assert_non_null(i->policy->or_other);

    assert_ptr_equal(latch_ek_info_by_kind(LATCH_EK_ECC_P256),
                     latch_ek_info_by_name("ecc-p256"));
    assert_null(latch_ek_info_by_name("rsa3072"));
    assert_null(latch_ek_info_by_name(NULL));
    assert_null(latch_ek_info_by_kind(LATCH_EK_KIND_COUNT));
}

static void
test_ek_template_attributes_and_policies(void **state)
{
    static const uint8_t policy_b_head[4] = {0xb2, 0x6e, 0x7d, 0x28};
    static const uint8_t policy_a_head[4] = {0x83, 0x71, 0x97, 0x67};
    TPM2B_PUBLIC t;

    (void)state;
    latch_ek_template(LATCH_EK_RSA2048, &t);
    assert_int_equal(t.publicArea.objectAttributes, 0x000300b2);
    assert_int_equal(t.publicArea.authPolicy.size, 32);
    assert_memory_equal(t.publicArea.authPolicy.buffer, policy_a_head, 4);
    assert_int_equal(t.publicArea.unique.rsa.size, 256);

    latch_ek_template(LATCH_EK_ECC_P256, &t);
    assert_int_equal(t.publicArea.objectAttributes, 0x000300b2);
    assert_int_equal(t.publicArea.unique.ecc.x.size, 32);

    latch_ek_template(LATCH_EK_ECC_P384, &t);
    assert_int_equal(t.publicArea.objectAttributes, 0x000300f2);
    assert_int_equal(t.publicArea.nameAlg, TPM2_ALG_SHA384);
    assert_int_equal(t.publicArea.authPolicy.size, 48);
    assert_memory_equal(t.publicArea.authPolicy.buffer, policy_b_head, 4);
    assert_int_equal(t.publicArea.parameters.eccDetail.symmetric.keyBits.aes,
                     256);
    assert_int_equal(t.publicArea.unique.ecc.x.size, 0);
}

/* digest = H(digest || a || b || c), the policy digest extension. */
static void
policy_extend(TPMI_ALG_HASH hash, uint8_t *digest, const uint8_t *a,
              size_t alen, const uint8_t *b, size_t blen, const uint8_t *c,
              size_t clen)
{
    const EVP_MD *md = hash == TPM2_ALG_SHA384 ? EVP_sha384() : EVP_sha256();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, digest, (size_t)EVP_MD_get_size(md)),
                     1);
    assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, c, clen), 1);
    assert_int_equal(EVP_DigestFinal_ex(ctx, digest, &n), 1);
    assert_int_equal(n, EVP_MD_get_size(md));
    EVP_MD_CTX_free(ctx);
}

/*
 * TPM2_PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef, from a
 * zero digest: H(H(0 || TPM_CC_PolicySecret || name) || policyRef), the
 * name of a permanent handle being the handle (TPM 2.0 part 3, 23.4).
 */
static void
test_ek_policy_a_is_policy_secret_of_the_endorsement_hierarchy(void **state)
{
    static const uint8_t cc[4] = {0x00, 0x00, 0x01, 0x51};
    static const uint8_t endorsement[4] = {0x40, 0x00, 0x00, 0x0b};
    const struct latch_ek_info *info;
    uint8_t d[48];

    (void)state;
    for (int k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        info = latch_ek_info_by_kind((enum latch_ek_kind)k);
        memset(d, 0, sizeof(d));
        policy_extend(info->policy->hash, d, cc, 4, endorsement, 4, NULL, 0);
        policy_extend(info->policy->hash, d, NULL, 0, NULL, 0, NULL, 0);
        assert_int_equal(info->policy->size,
                         info->name_alg == TPM2_ALG_SHA384 ? 48 : 32);
        assert_memory_equal(d, info->policy->policy_a, info->policy->size);
    }
}

/*
 * The H-3 template's authPolicy (PolicyB) is TPM2_PolicyOR over PolicyA
 * and PolicyC from a zero digest: SHA-384(0^48 || TPM_CC_PolicyOR || A ||
 * C) (part 3, 23.6). The low-range templates carry PolicyA itself.
 */
static void
test_ek_policy_b_is_the_policy_or_of_a_and_c(void **state)
{
    static const uint8_t cc[4] = {0x00, 0x00, 0x01, 0x71};
    const struct latch_ek_policy *pol;
    TPM2B_PUBLIC t;
    uint8_t d[48] = {0};

    (void)state;
    latch_ek_template(LATCH_EK_ECC_P384, &t);
    pol = latch_ek_info_by_kind(LATCH_EK_ECC_P384)->policy;
    policy_extend(TPM2_ALG_SHA384, d, cc, 4, pol->policy_a, 48, pol->or_other,
                  48);
    assert_int_equal(t.publicArea.authPolicy.size, 48);
    assert_memory_equal(t.publicArea.authPolicy.buffer, d, 48);
    assert_memory_equal(pol->digest, d, 48);
    assert_memory_not_equal(pol->policy_a, pol->or_other, 48);

    for (int k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        if (k == LATCH_EK_ECC_P384) {
            continue;
        }
        latch_ek_template((enum latch_ek_kind)k, &t);
        pol = latch_ek_info_by_kind((enum latch_ek_kind)k)->policy;
        assert_null(pol->or_other);
        assert_int_equal(t.publicArea.authPolicy.size, pol->size);
        assert_memory_equal(t.publicArea.authPolicy.buffer, pol->policy_a,
                            pol->size);
    }
}

static void
test_ek_policy_find_knows_the_template_policies_only(void **state)
{
    const struct latch_ek_info *info;
    TPM2B_DIGEST d;
    TPM2B_PUBLIC t;

    (void)state;
    for (int k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        info = latch_ek_info_by_kind((enum latch_ek_kind)k);
        latch_ek_template((enum latch_ek_kind)k, &t);
        assert_ptr_equal(latch_ek_policy_find(t.publicArea.nameAlg,
                                              &t.publicArea.authPolicy),
                         info->policy);
    }

    /* PolicyB under the wrong hash, altered, or cut short. */
    latch_ek_template(LATCH_EK_ECC_P384, &t);
    d = t.publicArea.authPolicy;
    assert_null(latch_ek_policy_find(TPM2_ALG_SHA256, &d));
    d.buffer[47] ^= 0x01;
    assert_null(latch_ek_policy_find(TPM2_ALG_SHA384, &d));
    d = t.publicArea.authPolicy;
    d.size = 32;
    assert_null(latch_ek_policy_find(TPM2_ALG_SHA384, &d));
    d.size = 0;
    assert_null(latch_ek_policy_find(TPM2_ALG_SHA384, &d));
    assert_null(latch_ek_policy_find(TPM2_ALG_SHA384, NULL));
}

/*
 * tpm2_createek on swtpm made the EKs in tests/data/tpm from the TCG
 * templates: ours must be the same bytes but for the unique field, which
 * the TPM filled with the key.
 */
static void
test_ek_template_equals_what_the_tpm_built_but_unique(void **state)
{
    uint8_t a[sizeof(TPM2B_PUBLIC)];
    uint8_t b[sizeof(TPM2B_PUBLIC)];
    struct latch_err err;
    TPM2B_PUBLIC tpm;
    TPM2B_PUBLIC mine;
    size_t alen = 0;
    size_t blen = 0;
    int k;

    (void)state;
    for (k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        load_public(ek_pub_files[k], &tpm);
        latch_ek_template((enum latch_ek_kind)k, &mine);
        tpm.publicArea.unique = mine.publicArea.unique;
        assert_int_equal(
            latch_tpm_public_marshal(&tpm, a, sizeof(a), &alen, &err),
            LATCH_OK);
        assert_int_equal(
            latch_tpm_public_marshal(&mine, b, sizeof(b), &blen, &err),
            LATCH_OK);
        assert_int_equal(alen, blen);
        assert_memory_equal(a, b, alen);
    }
}

static void
test_ek_public_matches_its_certificate_only(void **state)
{
    TPM2B_PUBLIC pub;
    EVP_PKEY *keys[LATCH_EK_KIND_COUNT];
    int i;
    int j;

    (void)state;
    for (j = 0; j < LATCH_EK_KIND_COUNT; j++) {
        keys[j] = load_cert_key(ek_cert_files[j]);
    }
    for (i = 0; i < LATCH_EK_KIND_COUNT; i++) {
        load_public(ek_pub_files[i], &pub);
        for (j = 0; j < LATCH_EK_KIND_COUNT; j++) {
            assert_int_equal(latch_tpm_public_matches(&pub.publicArea, keys[j]),
                             i == j);
        }
        /* One bit of the key changed: no longer the certificate's key. */
        if (pub.publicArea.type == TPM2_ALG_RSA) {
            pub.publicArea.unique.rsa.buffer[100] ^= 0x01;
        } else {
            pub.publicArea.unique.ecc.x.buffer[5] ^= 0x01;
        }
        assert_false(latch_tpm_public_matches(&pub.publicArea, keys[i]));
    }
    for (j = 0; j < LATCH_EK_KIND_COUNT; j++) {
        EVP_PKEY_free(keys[j]);
    }
    assert_false(latch_tpm_public_matches(NULL, NULL));
}

/* --- names --------------------------------------------------------------- */

static void
assert_name_equals_tpm(const char *pubfile, const char *namefile)
{
    uint8_t name[LATCH_NAME_MAX];
    struct latch_err err;
    TPM2B_PUBLIC pub;
    uint8_t *want;
    size_t wantlen = 0;
    size_t namelen = 0;

    load_public(pubfile, &pub);
    want = read_data(namefile, &wantlen);
    assert_int_equal(latch_tpm_name(&pub.publicArea, name, &namelen, &err),
                     LATCH_OK);
    assert_int_equal(namelen, wantlen);
    assert_memory_equal(name, want, namelen);
    free(want);
}

static void
test_name_equals_the_name_the_tpm_reported(void **state)
{
    (void)state;
    assert_name_equals_tpm("ak-ecc.pub", "ak-ecc.name");
    assert_name_equals_tpm("ak-rsa.pub", "ak-rsa.name");
    /* Under the P-384 EK tpm2_createak gives the AK a sha384 nameAlg. */
    assert_name_equals_tpm("ak-sha384.pub", "ak-sha384.name");
}

static void
test_name_changes_with_any_byte_of_the_public_area(void **state)
{
    uint8_t base[LATCH_NAME_MAX];
    uint8_t name[LATCH_NAME_MAX];
    struct latch_err err;
    TPM2B_PUBLIC pub;
    TPM2B_PUBLIC mod;
    size_t baselen = 0;
    size_t namelen = 0;

    (void)state;
    load_public("ak-ecc.pub", &pub);
    assert_int_equal(latch_tpm_name(&pub.publicArea, base, &baselen, &err),
                     LATCH_OK);

    mod = pub;
    mod.publicArea.unique.ecc.y.buffer[31] ^= 0x80;
    assert_int_equal(latch_tpm_name(&mod.publicArea, name, &namelen, &err),
                     LATCH_OK);
    assert_int_equal(namelen, baselen);
    assert_memory_not_equal(name, base, namelen);

    mod = pub;
    mod.publicArea.objectAttributes ^= TPMA_OBJECT_NODA;
    assert_int_equal(latch_tpm_name(&mod.publicArea, name, &namelen, &err),
                     LATCH_OK);
    assert_memory_not_equal(name, base, namelen);
}

static void
test_name_refuses_sha1_name_alg(void **state)
{
    uint8_t name[LATCH_NAME_MAX];
    struct latch_err err;
    TPM2B_PUBLIC pub;
    size_t namelen = 0;

    (void)state;
    load_public("ak-ecc.pub", &pub);
    pub.publicArea.nameAlg = TPM2_ALG_SHA1;
    assert_int_equal(latch_tpm_name(&pub.publicArea, name, &namelen, &err),
                     LATCH_E_POLICY);
    assert_msg_has(&err, "sha1");
}

/* --- exact unmarshalling ------------------------------------------------ */

static void
test_unmarshal_then_marshal_gives_the_same_bytes(void **state)
{
    uint8_t out[sizeof(TPM2B_PUBLIC)];
    struct latch_err err;
    TPM2B_PUBLIC pub;
    uint8_t *buf;
    size_t len = 0;
    size_t outlen = 0;

    (void)state;
    buf = read_data("ak-rsa.pub", &len);
    assert_int_equal(latch_tpm_public_unmarshal(buf, len, &pub, &err),
                     LATCH_OK);
    assert_int_equal(
        latch_tpm_public_marshal(&pub, out, sizeof(out), &outlen, &err),
        LATCH_OK);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, buf, len);
    /* A buffer too small for it is an error, not a truncation. */
    assert_int_equal(
        latch_tpm_public_marshal(&pub, out, len - 1, &outlen, &err),
        LATCH_E_FORMAT);
    free(buf);
}

static void
test_unmarshal_rejects_short_empty_and_oversized_input(void **state)
{
    static const uint8_t empty[2] = {0, 0};
    static const uint8_t one[1] = {0};
    struct latch_err err;
    TPM2B_PUBLIC pub;
    uint8_t *big;
    size_t biglen = sizeof(TPM2B_PUBLIC) + 1;

    (void)state;
    assert_int_equal(latch_tpm_public_unmarshal(one, 1, &pub, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "shorter than the TPM2B size field");
    assert_int_equal(latch_tpm_public_unmarshal(empty, 2, &pub, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "empty");
    big = calloc(1, biglen);
    assert_non_null(big);
    assert_int_equal(latch_tpm_public_unmarshal(big, biglen, &pub, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "exceeds the largest");
    free(big);
}

static void
test_unmarshal_rejects_truncated_structure(void **state)
{
    struct latch_err err;
    TPM2B_PUBLIC pub;
    uint8_t *buf;
    size_t len = 0;

    (void)state;
    buf = read_data("ak-ecc.pub", &len);
    /* Drop the last byte and make the size field agree. */
    buf[1] = (uint8_t)(buf[1] - 1);
    assert_int_equal(latch_tpm_public_unmarshal(buf, len - 1, &pub, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "does not unmarshal");
    free(buf);
}

static void
test_unmarshal_rejects_unknown_object_type(void **state)
{
    struct latch_err err;
    TPM2B_PUBLIC pub;
    uint8_t *buf;
    size_t len = 0;

    (void)state;
    buf = read_data("ak-ecc.pub", &len);
    buf[2] = 0x00;
    buf[3] = 0x99;
    assert_int_equal(latch_tpm_public_unmarshal(buf, len, &pub, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "does not unmarshal");
    free(buf);
}

/* --- public keys and device ids ------------------------------------------ */

static void
test_public_to_pkey_reads_exponent_zero_as_65537(void **state)
{
    struct latch_err err;
    TPM2B_PUBLIC pub;
    EVP_PKEY *k = NULL;
    BIGNUM *e = NULL;

    (void)state;
    load_public("ek-rsa2048.pub", &pub);
    assert_int_equal(pub.publicArea.parameters.rsaDetail.exponent, 0);
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_OK);
    assert_int_equal(EVP_PKEY_get_bits(k), 2048);
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_true(BN_is_word(e, 65537));
    BN_free(e);
    EVP_PKEY_free(k);

    pub.publicArea.parameters.rsaDetail.exponent = 3;
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_OK);
    e = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_true(BN_is_word(e, 3));
    BN_free(e);
    EVP_PKEY_free(k);
}

static void
test_public_to_pkey_rejects_a_point_off_the_curve(void **state)
{
    struct latch_err err;
    TPM2B_PUBLIC pub;
    EVP_PKEY *k = NULL;
    int i;

    (void)state;
    for (i = LATCH_EK_ECC_P256; i <= LATCH_EK_ECC_P384; i++) {
        load_public(ek_pub_files[i], &pub);
        pub.publicArea.unique.ecc.y.buffer[7] ^= 0x04;
        assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                         LATCH_E_FORMAT);
        assert_null(k);
        assert_msg_has(&err, "not on curve");
    }
}

static void
test_public_to_pkey_rejects_other_curves_and_bad_sizes(void **state)
{
    struct latch_err err;
    TPM2B_PUBLIC pub;
    EVP_PKEY *k = NULL;

    (void)state;
    load_public("ek-ecc-p256.pub", &pub);
    pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_E_POLICY);
    assert_msg_has(&err, "bn-p256");

    load_public("ek-ecc-p256.pub", &pub);
    pub.publicArea.unique.ecc.x.size = 33;
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "do not fit");

    load_public("ek-rsa2048.pub", &pub);
    pub.publicArea.parameters.rsaDetail.keyBits = 3072;
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_E_FORMAT);
    assert_msg_has(&err, "disagree");

    load_public("ak-ecc.pub", &pub);
    pub.publicArea.type = TPM2_ALG_KEYEDHASH;
    assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &k, &err),
                     LATCH_E_POLICY);
    assert_null(k);
}

/*
 * The device id from the EK certificate (server) and from the key the TPM
 * made (device) equal each other and the hash openssl computed over the
 * certificate's SubjectPublicKeyInfo.
 */
static void
test_device_id_agrees_between_certificate_tpm_and_openssl(void **state)
{
    static const char *const kinds[LATCH_EK_KIND_COUNT] = {
        "rsa2048", "ecc-p256", "ecc-p384"};
    struct latch_err err;
    char want[65];
    char a[65];
    char b[65];
    TPM2B_PUBLIC pub;
    EVP_PKEY *cert = NULL;
    EVP_PKEY *tpm = NULL;
    int i;

    (void)state;
    for (i = 0; i < LATCH_EK_KIND_COUNT; i++) {
        expected_device_id(kinds[i], want);
        cert = load_cert_key(ek_cert_files[i]);
        load_public(ek_pub_files[i], &pub);
        assert_int_equal(latch_tpm_public_to_pkey(&pub.publicArea, &tpm, &err),
                         LATCH_OK);
        assert_int_equal(latch_device_id(cert, a, &err), LATCH_OK);
        assert_int_equal(latch_device_id(tpm, b, &err), LATCH_OK);
        assert_string_equal(a, want);
        assert_string_equal(b, want);
        EVP_PKEY_free(cert);
        EVP_PKEY_free(tpm);
        tpm = NULL;
    }
}

/* An RSA key that arrived as RSA-PSS hashes like rsaEncryption. */
static void
test_device_id_of_rsa_pss_key_equals_rsa_encryption(void **state)
{
    struct latch_err err;
    char want[65];
    char got[65];
    OSSL_PARAM_BLD *bld;
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *rsa;
    EVP_PKEY *pss = NULL;
    BIGNUM *n = NULL;
    BIGNUM *e = NULL;

    (void)state;
    rsa = load_cert_key("ek-rsa2048.crt");
    assert_int_equal(latch_device_id(rsa, want, &err), LATCH_OK);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
    assert_int_equal(EVP_PKEY_fromdata(ctx, &pss, EVP_PKEY_PUBLIC_KEY, params),
                     1);
    assert_true(EVP_PKEY_is_a(pss, "RSA-PSS"));
    assert_int_equal(latch_device_id(pss, got, &err), LATCH_OK);
    assert_string_equal(got, want);

    EVP_PKEY_free(pss);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(rsa);
}

/* An EC key whose SPKI carried a compressed point hashes uncompressed. */
static void
test_device_id_of_compressed_ec_point_equals_uncompressed(void **state)
{
    char fmt[] = "compressed";
    struct latch_err err;
    char want[65];
    char got[65];
    EVP_PKEY *k;
    EVP_PKEY *back;
    unsigned char *der = NULL;
    const unsigned char *p;
    int len;

    (void)state;
    k = load_cert_key("ek-ecc-p256.crt");
    assert_int_equal(latch_device_id(k, want, &err), LATCH_OK);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(
                         k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, fmt),
                     1);
    len = i2d_PUBKEY(k, &der);
    assert_true(len > 0);
    /* 0x02/0x03 prefix: the encoding really is compressed (one x only). */
    assert_int_equal(len, 59);
    p = der;
    back = d2i_PUBKEY(NULL, &p, len);
    assert_non_null(back);
    assert_int_equal(latch_device_id(back, got, &err), LATCH_OK);
    assert_string_equal(got, want);
    OPENSSL_free(der);
    EVP_PKEY_free(back);
    EVP_PKEY_free(k);
}

/* --- AK policy ----------------------------------------------------------- */

static void
test_ak_check_accepts_the_aks_tpm2_createak_makes(void **state)
{
    static const char *const files[] = {"ak-ecc.pub", "ak-rsa.pub",
                                        "ak-sha384.pub"};
    struct latch_report rep;
    struct latch_err err;
    TPM2B_PUBLIC pub;
    size_t f;
    size_t i;

    (void)state;
    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        memset(&rep, 0, sizeof(rep));
        latch_err_clear(&err);
        load_public(files[f], &pub);
        if (latch_ak_check(&pub.publicArea, &rep, &err) != LATCH_OK) {
            fail_msg("%s: %s", files[f], err.msg);
        }
        /* One report item per check, all passed. */
        assert_true(rep.n >= 14);
        for (i = 0; i < rep.n; i++) {
            assert_int_equal(rep.items[i].result, LATCH_CHECK_PASS);
        }
        assert_true(latch_report_ok(&rep));
    }
}

enum ak_flip {
    FLIP_FIXED_TPM,
    FLIP_FIXED_PARENT,
    FLIP_SENSITIVE_DATA_ORIGIN,
    FLIP_RESTRICTED,
    FLIP_SIGN,
    FLIP_DECRYPT,
    FLIP_ST_CLEAR,
    FLIP_RSA_1024,
    FLIP_CURVE_BN_P256,
    FLIP_CURVE_P521,
    FLIP_NAME_ALG_SHA1,
    FLIP_SYMMETRIC_AES,
    FLIP_SCHEME_RSAES,
    FLIP_SCHEME_ECDH,
    FLIP_SCHEME_HASH_SHA1,
    FLIP_KDF_SET,
    FLIP_POINT_OFF_CURVE,
    FLIP_TYPE_KEYEDHASH,
    FLIP_TRAILING_BYTE,
    FLIP_SIZE_FIELD,
};

struct ak_row {
    const char *base; /* golden AK file */
    enum ak_flip flip;
    enum latch_status want; /* status of unmarshal + check */
    const char *msg;        /* must appear in the error */
};

static void
mutate(TPMT_PUBLIC *p, enum ak_flip flip)
{
    switch (flip) {
    case FLIP_FIXED_TPM:
        p->objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
        break;
    case FLIP_FIXED_PARENT:
        p->objectAttributes &= ~TPMA_OBJECT_FIXEDPARENT;
        break;
    case FLIP_SENSITIVE_DATA_ORIGIN:
        p->objectAttributes &= ~TPMA_OBJECT_SENSITIVEDATAORIGIN;
        break;
    case FLIP_RESTRICTED:
        p->objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
        break;
    case FLIP_SIGN:
        p->objectAttributes &= ~TPMA_OBJECT_SIGN_ENCRYPT;
        break;
    case FLIP_DECRYPT:
        p->objectAttributes |= TPMA_OBJECT_DECRYPT;
        break;
    case FLIP_ST_CLEAR:
        p->objectAttributes |= TPMA_OBJECT_STCLEAR;
        break;
    case FLIP_RSA_1024:
        p->parameters.rsaDetail.keyBits = 1024;
        p->unique.rsa.size = 128;
        break;
    case FLIP_CURVE_BN_P256:
        p->parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
        break;
    case FLIP_CURVE_P521:
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P521;
        break;
    case FLIP_NAME_ALG_SHA1:
        p->nameAlg = TPM2_ALG_SHA1;
        break;
    case FLIP_SYMMETRIC_AES:
        p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
        p->parameters.eccDetail.symmetric.keyBits.aes = 128;
        p->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
        break;
    case FLIP_SCHEME_RSAES:
        p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSAES;
        break;
    case FLIP_SCHEME_ECDH:
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDH;
        break;
    case FLIP_SCHEME_HASH_SHA1:
        p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA1;
        break;
    case FLIP_KDF_SET:
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_KDF1_SP800_56A;
        p->parameters.eccDetail.kdf.details.kdf1_sp800_56a.hashAlg =
            TPM2_ALG_SHA256;
        break;
    case FLIP_POINT_OFF_CURVE:
        p->unique.ecc.y.buffer[3] ^= 0x10;
        break;
    case FLIP_TYPE_KEYEDHASH:
        memset(&p->parameters, 0, sizeof(p->parameters));
        memset(&p->unique, 0, sizeof(p->unique));
        p->type = TPM2_ALG_KEYEDHASH;
        p->parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
        p->unique.keyedHash.size = 32;
        break;
    case FLIP_TRAILING_BYTE:
    case FLIP_SIZE_FIELD:
        break;
    }
}

/*
 * What an enrollment does with an AK public area: exact unmarshal, then the
 * policy. The row's change is applied to the parsed structure, which is
 * marshalled again (so the fixture is real TPM2B_PUBLIC bytes), or to the
 * bytes themselves for the framing rows.
 */
static void
run_ak_row(void **state)
{
    const struct ak_row *row = *state;
    uint8_t buf[sizeof(TPM2B_PUBLIC) + 1];
    struct latch_report rep;
    struct latch_err err;
    TPM2B_PUBLIC pub;
    size_t len = 0;
    size_t i;
    enum latch_status st;
    bool failed = false;

    memset(&rep, 0, sizeof(rep));
    latch_err_clear(&err);
    load_public(row->base, &pub);
    mutate(&pub.publicArea, row->flip);
    assert_int_equal(
        latch_tpm_public_marshal(&pub, buf, sizeof(buf) - 1, &len, &err),
        LATCH_OK);
    if (row->flip == FLIP_TRAILING_BYTE) {
        /* One byte more, counted by the size field too. */
        buf[len++] = 0x00;
        buf[0] = (uint8_t)((len - 2) >> 8);
        buf[1] = (uint8_t)((len - 2) & 0xff);
    } else if (row->flip == FLIP_SIZE_FIELD) {
        buf[1] = (uint8_t)(buf[1] + 1);
    }

    st = latch_tpm_public_unmarshal(buf, len, &pub, &err);
    if (st == LATCH_OK) {
        st = latch_ak_check(&pub.publicArea, &rep, &err);
        for (i = 0; i < rep.n; i++) {
            failed |= rep.items[i].result == LATCH_CHECK_FAIL;
        }
        assert_int_equal(failed, st != LATCH_OK);
    }
    assert_int_equal(st, row->want);
    assert_msg_has(&err, row->msg);
}

#define AK_ROW(test, file, flip, want, msg)                                    \
    {                                                                          \
        "test_ak_check_rejects_" test, run_ak_row, NULL, NULL,                 \
            &(struct ak_row){file, flip, want, msg},                           \
    }

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ek_info_table_follows_the_tcg_profile),
        cmocka_unit_test(test_ek_template_attributes_and_policies),
        cmocka_unit_test(
            test_ek_policy_a_is_policy_secret_of_the_endorsement_hierarchy),
        cmocka_unit_test(test_ek_policy_b_is_the_policy_or_of_a_and_c),
        cmocka_unit_test(test_ek_policy_find_knows_the_template_policies_only),
        cmocka_unit_test(test_ek_template_equals_what_the_tpm_built_but_unique),
        cmocka_unit_test(test_ek_public_matches_its_certificate_only),
        cmocka_unit_test(test_name_equals_the_name_the_tpm_reported),
        cmocka_unit_test(test_name_changes_with_any_byte_of_the_public_area),
        cmocka_unit_test(test_name_refuses_sha1_name_alg),
        cmocka_unit_test(test_unmarshal_then_marshal_gives_the_same_bytes),
        cmocka_unit_test(
            test_unmarshal_rejects_short_empty_and_oversized_input),
        cmocka_unit_test(test_unmarshal_rejects_truncated_structure),
        cmocka_unit_test(test_unmarshal_rejects_unknown_object_type),
        cmocka_unit_test(test_public_to_pkey_reads_exponent_zero_as_65537),
        cmocka_unit_test(test_public_to_pkey_rejects_a_point_off_the_curve),
        cmocka_unit_test(
            test_public_to_pkey_rejects_other_curves_and_bad_sizes),
        cmocka_unit_test(
            test_device_id_agrees_between_certificate_tpm_and_openssl),
        cmocka_unit_test(test_device_id_of_rsa_pss_key_equals_rsa_encryption),
        cmocka_unit_test(
            test_device_id_of_compressed_ec_point_equals_uncompressed),
        cmocka_unit_test(test_ak_check_accepts_the_aks_tpm2_createak_makes),
        AK_ROW("fixed_tpm_clear", "ak-ecc.pub", FLIP_FIXED_TPM, LATCH_E_POLICY,
               "ak.fixed_tpm: fixedTPM is clear"),
        AK_ROW("fixed_parent_clear", "ak-ecc.pub", FLIP_FIXED_PARENT,
               LATCH_E_POLICY, "ak.fixed_parent: fixedParent is clear"),
        AK_ROW("sensitive_data_origin_clear", "ak-ecc.pub",
               FLIP_SENSITIVE_DATA_ORIGIN, LATCH_E_POLICY,
               "ak.sensitive_data_origin: sensitiveDataOrigin is clear"),
        AK_ROW("restricted_clear", "ak-rsa.pub", FLIP_RESTRICTED,
               LATCH_E_POLICY, "ak.restricted: restricted is clear"),
        AK_ROW("sign_clear", "ak-ecc.pub", FLIP_SIGN, LATCH_E_POLICY,
               "ak.sign: sign is clear"),
        AK_ROW("decrypt_set", "ak-rsa.pub", FLIP_DECRYPT, LATCH_E_POLICY,
               "ak.decrypt: decrypt is set"),
        AK_ROW("st_clear_set", "ak-ecc.pub", FLIP_ST_CLEAR, LATCH_E_POLICY,
               "ak.st_clear: stClear is set"),
        AK_ROW("rsa_1024", "ak-rsa.pub", FLIP_RSA_1024, LATCH_E_POLICY,
               "ak.key_size: RSA-1024"),
        AK_ROW("ecc_bn_p256_curve", "ak-ecc.pub", FLIP_CURVE_BN_P256,
               LATCH_E_POLICY, "ak.key_size: curve 0x0010 (bn-p256)"),
        AK_ROW("ecc_p521_curve", "ak-ecc.pub", FLIP_CURVE_P521, LATCH_E_POLICY,
               "ak.key_size: curve 0x0005 (nist-p521)"),
        AK_ROW("name_alg_sha1", "ak-ecc.pub", FLIP_NAME_ALG_SHA1,
               LATCH_E_POLICY, "ak.name_alg: nameAlg sha1"),
        AK_ROW("symmetric_not_null", "ak-ecc.pub", FLIP_SYMMETRIC_AES,
               LATCH_E_POLICY, "ak.symmetric: symmetric algorithm 0x0006"),
        AK_ROW("rsa_encryption_scheme", "ak-rsa.pub", FLIP_SCHEME_RSAES,
               LATCH_E_POLICY, "ak.scheme: signing scheme 0x0015"),
        AK_ROW("ecdh_scheme", "ak-ecc.pub", FLIP_SCHEME_ECDH, LATCH_E_POLICY,
               "ak.scheme: signing scheme 0x0019"),
        AK_ROW("sha1_scheme_hash", "ak-ecc.pub", FLIP_SCHEME_HASH_SHA1,
               LATCH_E_POLICY, "ak.scheme_hash: scheme hash sha1"),
        AK_ROW("kdf_not_null", "ak-ecc.pub", FLIP_KDF_SET, LATCH_E_POLICY,
               "ak.kdf: kdf scheme 0x0020"),
        AK_ROW("point_off_curve", "ak-ecc.pub", FLIP_POINT_OFF_CURVE,
               LATCH_E_POLICY, "ak.public_key: tpm key: EC point is not on"),
        AK_ROW("keyedhash_object", "ak-ecc.pub", FLIP_TYPE_KEYEDHASH,
               LATCH_E_POLICY, "ak.type: type 0x0008"),
        AK_ROW("trailing_byte", "ak-ecc.pub", FLIP_TRAILING_BYTE,
               LATCH_E_FORMAT, "1 trailing bytes after the TPMT_PUBLIC"),
        AK_ROW("tpm2b_size_mismatch", "ak-rsa.pub", FLIP_SIZE_FIELD,
               LATCH_E_FORMAT, "TPM2B size field says 281 bytes but 280"),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
