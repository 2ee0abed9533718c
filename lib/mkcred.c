/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mkcred.c: TPM2_MakeCredential (TPM 2.0 Part 1, 24) with OpenSSL only, and
 * the TCG KDFs it needs, taken from OpenSSL's KBKDF (SP 800-108 counter
 * mode, which is KDFa) and SSKDF (SP 800-56C one-step hash, which is KDFe).
 * Every intermediate secret (seed, keys, ECDH value) is wiped on every path.
 */
#include "mkcred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include "license.h"

/* Largest digest (SHA-384) and coordinate (P-384) latch uses. */
#define DIGEST_MAX 48
#define COORD_MAX  48
/* KDF keys, labels and context parts are short: seeds, names, points. */
#define KDF_KEY_MAX   128
#define KDF_LABEL_MAX 32
#define KDF_PART_MAX  128
#define KDF_OUT_MAX   128

static const EVP_MD *
md_of(TPMI_ALG_HASH hash)
{
    return hash == TPM2_ALG_SHA384 ? EVP_sha384() : EVP_sha256();
}

static const char *
md_name(TPMI_ALG_HASH hash, size_t *dlen)
{
    switch (hash) {
    case TPM2_ALG_SHA256:
        *dlen = 32;
        return "SHA256";
    case TPM2_ALG_SHA384:
        *dlen = 48;
        return "SHA384";
    default:
        *dlen = 0;
        return NULL;
    }
}

/* Arguments both KDFs share; false when one is out of range. */
static bool
kdf_args_ok(const uint8_t *key, size_t keylen, const char *label,
            const uint8_t *u, size_t ulen, const uint8_t *v, size_t vlen,
            uint32_t bits, const uint8_t *out)
{
    return key != NULL && keylen > 0 && keylen <= KDF_KEY_MAX &&
           label != NULL && label[0] != '\0' && strlen(label) < KDF_LABEL_MAX &&
           (u != NULL || ulen == 0) && (v != NULL || vlen == 0) &&
           ulen <= KDF_PART_MAX && vlen <= KDF_PART_MAX && bits > 0 &&
           bits % 8 == 0 && bits / 8 <= KDF_OUT_MAX && out != NULL;
}

static enum latch_status
kdf_run(const char *alg, uint8_t *out, size_t outlen, const OSSL_PARAM *params)
{
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    enum latch_status st = LATCH_OK;

    kdf = EVP_KDF_fetch(NULL, alg, NULL);
    kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx == NULL || EVP_KDF_derive(kctx, out, outlen, params) != 1) {
        OPENSSL_cleanse(out, outlen);
        st = LATCH_E_CRYPTO;
    }
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return st;
}

/*
 * KDFa is SP 800-108 counter mode with HMAC: HMAC(key, [i]32 || label ||
 * 0x00 || contextU || contextV || [bits]32), which is what OpenSSL's KBKDF
 * computes with the label as "salt", the contexts as "info" and its default
 * 32-bit counter, separator and length field.
 */
enum latch_status
latch_kdfa(TPMI_ALG_HASH hash, const uint8_t *key, size_t keylen,
           const char *label, const uint8_t *ctx_u, size_t ulen,
           const uint8_t *ctx_v, size_t vlen, uint32_t bits, uint8_t *out)
{
    uint8_t k[KDF_KEY_MAX];
    uint8_t context[2 * KDF_PART_MAX];
    char lab[KDF_LABEL_MAX];
    char mac[] = "HMAC";
    char mode[] = "counter";
    char md[8];
    OSSL_PARAM params[7];
    OSSL_PARAM *p = params;
    const char *mdn;
    size_t dlen;
    enum latch_status st;

    mdn = md_name(hash, &dlen);
    if (mdn == NULL ||
        !kdf_args_ok(key, keylen, label, ctx_u, ulen, ctx_v, vlen, bits, out)) {
        return LATCH_E_USAGE;
    }
    /* OSSL_PARAM wants writable pointers; hand it copies. */
    snprintf(md, sizeof(md), "%s", mdn);
    snprintf(lab, sizeof(lab), "%s", label);
    memcpy(k, key, keylen);
    if (ulen > 0) {
        memcpy(context, ctx_u, ulen);
    }
    if (vlen > 0) {
        memcpy(context + ulen, ctx_v, vlen);
    }

    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac, 0);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k, keylen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, lab,
                                             strlen(lab));
    if (ulen + vlen > 0) {
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, context,
                                                 ulen + vlen);
    }
    *p = OSSL_PARAM_construct_end();
    st = kdf_run("KBKDF", out, bits / 8, params);

    OPENSSL_cleanse(k, sizeof(k));
    return st;
}

/*
 * KDFe is the SP 800-56C one-step KDF with a hash: H([i]32 || Z || label ||
 * 0x00 || partyU || partyV), OpenSSL's SSKDF with "info" = label, its NUL
 * and the two party values.
 */
enum latch_status
latch_kdfe(TPMI_ALG_HASH hash, const uint8_t *z, size_t zlen, const char *label,
           const uint8_t *party_u, size_t ulen, const uint8_t *party_v,
           size_t vlen, uint32_t bits, uint8_t *out)
{
    uint8_t k[KDF_KEY_MAX];
    uint8_t info[KDF_LABEL_MAX + 2 * KDF_PART_MAX];
    char md[8];
    OSSL_PARAM params[4];
    const char *mdn;
    size_t dlen;
    size_t llen;
    size_t n;
    enum latch_status st;

    mdn = md_name(hash, &dlen);
    if (mdn == NULL ||
        !kdf_args_ok(z, zlen, label, party_u, ulen, party_v, vlen, bits, out)) {
        return LATCH_E_USAGE;
    }
    snprintf(md, sizeof(md), "%s", mdn);
    memcpy(k, z, zlen);
    llen = strlen(label) + 1;
    memcpy(info, label, llen);
    n = llen;
    if (ulen > 0) {
        memcpy(info + n, party_u, ulen);
        n += ulen;
    }
    if (vlen > 0) {
        memcpy(info + n, party_v, vlen);
        n += vlen;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k, zlen);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
    params[3] = OSSL_PARAM_construct_end();
    st = kdf_run("SSKDF", out, bits / 8, params);

    OPENSSL_cleanse(k, sizeof(k));
    return st;
}

/* The EK's key must be the kind its template says. */
static enum latch_status
check_ek_key(EVP_PKEY *ek, const struct latch_ek_info *info,
             struct latch_err *err)
{
    EVP_PKEY_CTX *check = NULL;
    char group[64];
    size_t glen = 0;
    const char *want;
    enum latch_status st = LATCH_OK;

    switch (info->kind) {
    case LATCH_EK_RSA2048:
        if (!EVP_PKEY_is_a(ek, "RSA") || EVP_PKEY_get_bits(ek) != 2048) {
            return latch_err_set(err, LATCH_E_POLICY,
                                 "make credential: EK is %s-%d, template %s "
                                 "needs RSA-2048",
                                 EVP_PKEY_get0_type_name(ek),
                                 EVP_PKEY_get_bits(ek), info->name);
        }
        return LATCH_OK;
    case LATCH_EK_ECC_P256:
        want = "prime256v1";
        break;
    case LATCH_EK_ECC_P384:
        want = "secp384r1";
        break;
    case LATCH_EK_KIND_COUNT:
    default:
        return latch_err_set(err, LATCH_E_USAGE,
                             "make credential: unknown EK template");
    }

    if (!EVP_PKEY_is_a(ek, "EC") ||
        EVP_PKEY_get_utf8_string_param(ek, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &glen) != 1 ||
        strcmp(group, want) != 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "make credential: EK is not an EC key on %s as "
                             "template %s needs",
                             want, info->name);
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    if (check == NULL || EVP_PKEY_public_check_quick(check) != 1) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "make credential: EK point is not on %s", want);
    }
    EVP_PKEY_CTX_free(check);
    return st;
}

/* seed: dlen random bytes, encrypted with RSA-OAEP, label "IDENTITY\0". */
static enum latch_status
rsa_seed(EVP_PKEY *ek, const char *mdn, size_t dlen, uint8_t *seed,
         TPM2B_ENCRYPTED_SECRET *enc, struct latch_err *err)
{
    static const char label[] = "IDENTITY";
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *lab = NULL;
    size_t outlen = 0;
    enum latch_status st = LATCH_OK;

    if (RAND_priv_bytes(seed, (int)dlen) != 1) {
        return latch_err_ossl(err, LATCH_E_CRYPTO,
                              "make credential: no random seed");
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    /* set0 takes ownership of the label: it must be OPENSSL_malloc'd. */
    lab = OPENSSL_memdup(label, sizeof(label));
    if (ctx == NULL || lab == NULL || EVP_PKEY_encrypt_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, mdn, NULL) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, mdn, NULL) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: RSA-OAEP set-up failed");
        goto out;
    }
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, sizeof(label)) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: OAEP label refused");
        goto out;
    }
    lab = NULL;
    if (EVP_PKEY_encrypt(ctx, NULL, &outlen, seed, dlen) != 1 ||
        outlen > sizeof(enc->secret) ||
        EVP_PKEY_encrypt(ctx, enc->secret, &outlen, seed, dlen) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: RSA-OAEP encryption failed");
        goto out;
    }
    enc->size = (UINT16)outlen;

out:
    OPENSSL_free(lab);
    EVP_PKEY_CTX_free(ctx);
    return st;
}

/* The uncompressed point (0x04 || x || y) of an EC key, in one call. */
static bool
get_point(EVP_PKEY *key, uint8_t *out, size_t coordlen)
{
    size_t len = 0;

    return EVP_PKEY_get_octet_string_param(key,
                                           OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                           out, 1 + 2 * coordlen, &len) == 1 &&
           len == 1 + 2 * coordlen && out[0] == 0x04;
}

/*
 * seed = KDFe(nameAlg, Z, "IDENTITY", Qe.x, Qek.x) with Z the x coordinate
 * of the ECDH product of a fresh ephemeral key and the EK; the encrypted
 * secret is the ephemeral public point (TPMS_ECC_POINT). The ephemeral key
 * is generated with the EK as its template (the group is copied, not
 * built again from its name). check_ek_key() has checked that the EK point
 * is on its curve; P-256 and P-384 have cofactor 1, so that is the whole
 * peer validation ECDH needs and OpenSSL's second, full check (a scalar
 * multiplication by the group order) is skipped.
 */
static enum latch_status
ecc_seed(EVP_PKEY *ek, TPMI_ALG_HASH hash, size_t dlen, uint8_t *seed,
         TPM2B_ENCRYPTED_SECRET *enc, struct latch_err *err)
{
    uint8_t z[COORD_MAX];
    uint8_t ekpt[1 + 2 * COORD_MAX];
    uint8_t ephpt[1 + 2 * COORD_MAX];
    TPMS_ECC_POINT pt;
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *gen = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t coordlen;
    size_t zlen = sizeof(z);
    size_t off = 0;
    enum latch_status st = LATCH_OK;

    memset(&pt, 0, sizeof(pt));
    coordlen = ((size_t)EVP_PKEY_get_bits(ek) + 7) / 8;
    if (coordlen == 0 || coordlen > COORD_MAX) {
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "make credential: EK curve unknown");
    }
    gen = EVP_PKEY_CTX_new_from_pkey(NULL, ek, NULL);
    if (gen == NULL || EVP_PKEY_keygen_init(gen) != 1 ||
        EVP_PKEY_keygen(gen, &eph) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: ephemeral EC key");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
        EVP_PKEY_derive_set_peer_ex(ctx, ek, 0) != 1 ||
        EVP_PKEY_derive(ctx, z, &zlen) != 1 || zlen != coordlen) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: ECDH with the EK failed");
        goto out;
    }
    if (!get_point(eph, ephpt, coordlen) || !get_point(ek, ekpt, coordlen)) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: reading EC points failed");
        goto out;
    }
    memcpy(pt.x.buffer, ephpt + 1, coordlen);
    memcpy(pt.y.buffer, ephpt + 1 + coordlen, coordlen);
    pt.x.size = (UINT16)coordlen;
    pt.y.size = (UINT16)coordlen;
    if (latch_kdfe(hash, z, zlen, "IDENTITY", pt.x.buffer, coordlen, ekpt + 1,
                   coordlen, (uint32_t)(dlen * 8), seed) != LATCH_OK) {
        st =
            latch_err_ossl(err, LATCH_E_CRYPTO, "make credential: KDFe failed");
        goto out;
    }
    if (Tss2_MU_TPMS_ECC_POINT_Marshal(&pt, enc->secret, sizeof(enc->secret),
                                       &off) != TSS2_RC_SUCCESS) {
        st = latch_err_set(err, LATCH_E_INTERNAL,
                           "make credential: ephemeral point does not "
                           "marshal");
        goto out;
    }
    enc->size = (UINT16)off;

out:
    OPENSSL_cleanse(z, sizeof(z));
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_CTX_free(gen);
    EVP_PKEY_free(eph);
    return st;
}

/*
 * From the seed: encIdentity = AES-CFB(KDFa(seed, "STORAGE", name), IV 0)
 * over the TPM2B_DIGEST credential; outer HMAC with KDFa(seed,
 * "INTEGRITY") over encIdentity || name. id = TPM2B(hmac) || encIdentity.
 */
static enum latch_status
seal_identity(const struct latch_ek_info *info, const uint8_t *seed,
              size_t dlen, const uint8_t *name, size_t namelen,
              const uint8_t *secret, size_t secretlen, TPM2B_ID_OBJECT *id,
              struct latch_err *err)
{
    uint8_t symkey[32];
    uint8_t hmackey[DIGEST_MAX];
    uint8_t plain[2 + LATCH_SECRET_LEN];
    uint8_t macin[2 + LATCH_SECRET_LEN + LATCH_NAME_MAX];
    uint8_t mac[EVP_MAX_MD_SIZE];
    uint8_t iv[16];
    uint8_t *encid;
    EVP_CIPHER_CTX *cc = NULL;
    const EVP_CIPHER *cipher;
    unsigned int maclen = 0;
    size_t plainlen = 2 + secretlen;
    int l1 = 0;
    int l2 = 0;
    enum latch_status st = LATCH_OK;

    memset(iv, 0, sizeof(iv));
    cipher =
        info->sym_bits == 256 ? EVP_aes_256_cfb128() : EVP_aes_128_cfb128();
    plain[0] = (uint8_t)(secretlen >> 8);
    plain[1] = (uint8_t)(secretlen & 0xff);
    memcpy(plain + 2, secret, secretlen);

    /* encIdentity goes right after the 2 + dlen bytes of TPM2B(hmac). */
    encid = id->credential + 2 + dlen;
    if (latch_kdfa(info->name_alg, seed, dlen, "STORAGE", name, namelen, NULL,
                   0, info->sym_bits, symkey) != LATCH_OK ||
        latch_kdfa(info->name_alg, seed, dlen, "INTEGRITY", NULL, 0, NULL, 0,
                   (uint32_t)(dlen * 8), hmackey) != LATCH_OK) {
        st =
            latch_err_ossl(err, LATCH_E_CRYPTO, "make credential: KDFa failed");
        goto out;
    }
    cc = EVP_CIPHER_CTX_new();
    if (cc == NULL || EVP_EncryptInit_ex(cc, cipher, NULL, symkey, iv) != 1 ||
        EVP_EncryptUpdate(cc, encid, &l1, plain, (int)plainlen) != 1 ||
        EVP_EncryptFinal_ex(cc, encid + l1, &l2) != 1 ||
        (size_t)(l1 + l2) != plainlen) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "make credential: AES-CFB failed");
        goto out;
    }

    memcpy(macin, encid, plainlen);
    memcpy(macin + plainlen, name, namelen);
    if (HMAC(md_of(info->name_alg), hmackey, (int)dlen, macin,
             plainlen + namelen, mac, &maclen) == NULL ||
        maclen != dlen) {
        st =
            latch_err_ossl(err, LATCH_E_CRYPTO, "make credential: HMAC failed");
        goto out;
    }
    id->credential[0] = (uint8_t)(maclen >> 8);
    id->credential[1] = (uint8_t)(maclen & 0xff);
    memcpy(id->credential + 2, mac, maclen);
    id->size = (UINT16)(2 + maclen + plainlen);

out:
    EVP_CIPHER_CTX_free(cc);
    OPENSSL_cleanse(symkey, sizeof(symkey));
    OPENSSL_cleanse(hmackey, sizeof(hmackey));
    OPENSSL_cleanse(plain, sizeof(plain));
    return st;
}

/* A name is nameAlg (big endian) and a digest of that algorithm. */
static bool
name_ok(const uint8_t *name, size_t namelen)
{
    unsigned alg;

    if (namelen < 2) {
        return false;
    }
    alg = ((unsigned)name[0] << 8) | name[1];
    return (alg == TPM2_ALG_SHA256 && namelen == 2 + 32) ||
           (alg == TPM2_ALG_SHA384 && namelen == 2 + 48);
}

static enum latch_status
marshal_out(const char *what, TSS2_RC rc, uint8_t *buf, size_t len,
            uint8_t **out, size_t *outlen, struct latch_err *err)
{
    if (rc != TSS2_RC_SUCCESS) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "make credential: %s does not marshal", what);
    }
    *out = malloc(len);
    if (*out == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "make credential: %s", what);
    }
    memcpy(*out, buf, len);
    *outlen = len;
    return LATCH_OK;
}

enum latch_status
latch_make_credential(EVP_PKEY *ek, const struct latch_ek_info *info,
                      const uint8_t *name, size_t namelen,
                      const uint8_t *secret, size_t secretlen, uint8_t **blob,
                      size_t *bloblen, uint8_t **enc, size_t *enclen,
                      struct latch_err *err)
{
    uint8_t seed[DIGEST_MAX];
    uint8_t buf[sizeof(TPM2B_ENCRYPTED_SECRET) + sizeof(TPM2B_ID_OBJECT)];
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    const char *mdn;
    size_t dlen = 0;
    size_t off;
    TSS2_RC rc;
    enum latch_status st;

    memset(&id, 0, sizeof(id));
    memset(&es, 0, sizeof(es));
    if (blob == NULL || bloblen == NULL || enc == NULL || enclen == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "make credential: no output");
    }
    *blob = NULL;
    *enc = NULL;
    if (ek == NULL || info == NULL || name == NULL || secret == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "make credential: missing argument");
    }
    mdn = md_name(info->name_alg, &dlen);
    if (mdn == NULL || (info->sym_bits != 128 && info->sym_bits != 256)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "make credential: template %s has nameAlg "
                             "0x%04x / AES-%u",
                             info->name, info->name_alg, info->sym_bits);
    }
    if (secretlen == 0 || secretlen > LATCH_SECRET_LEN) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "make credential: secret of %zu bytes (1 to %d)",
                             secretlen, LATCH_SECRET_LEN);
    }
    if (!name_ok(name, namelen)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "make credential: AK name of %zu bytes is not "
                             "a sha256 or sha384 name",
                             namelen);
    }
    st = check_ek_key(ek, info, err);
    if (st != LATCH_OK) {
        return st;
    }

    if (info->kind == LATCH_EK_RSA2048) {
        st = rsa_seed(ek, mdn, dlen, seed, &es, err);
    } else {
        st = ecc_seed(ek, info->name_alg, dlen, seed, &es, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    st = seal_identity(info, seed, dlen, name, namelen, secret, secretlen, &id,
                       err);
    if (st != LATCH_OK) {
        goto out;
    }

    off = 0;
    rc = Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, buf, sizeof(buf), &off);
    st = marshal_out("TPM2B_ID_OBJECT", rc, buf, off, blob, bloblen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    off = 0;
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&es, buf, sizeof(buf), &off);
    st = marshal_out("TPM2B_ENCRYPTED_SECRET", rc, buf, off, enc, enclen, err);

out:
    if (st != LATCH_OK) {
        free(*blob);
        *blob = NULL;
        free(*enc);
        *enc = NULL;
    }
    OPENSSL_cleanse(seed, sizeof(seed));
    OPENSSL_cleanse(&id, sizeof(id));
    return st;
}
