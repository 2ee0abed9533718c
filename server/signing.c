/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * signing.c: the license signing key, its CSR and certificate, and the
 * development PKI. Private key bytes only ever pass through memory BIOs
 * that are wiped (BIO_free of a mem BIO frees; the PEM text is cleansed).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "codec.h"
#include "fsutil.h"
#include "license.h"
#include "signing.h"

#define PEM_MAX   65536
#define DEV_DAYS  3650
#define SIGN_DAYS 1825

/* Writes what a PEM writer put into a memory BIO to path atomically. */
static enum latch_status
bio_to_file(BIO *bio, const char *path, mode_t mode, struct latch_err *err)
{
    char *data = NULL;
    long len;

    len = BIO_get_mem_data(bio, &data);
    if (len <= 0) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "%s: nothing to write",
                              path);
    }
    return latch_write_atomic(path, data, (size_t)len, mode, err);
}

enum latch_status
signing_keygen(const char *key_path, EVP_PKEY **out, struct latch_err *err)
{
    enum latch_status st = LATCH_E_CRYPTO;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    char *data = NULL;
    long len;

    *out = NULL;
    key = EVP_EC_gen("P-256");
    if (key == NULL) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "signing key generation");
    }
    bio = BIO_new(BIO_s_secmem());
    if (bio == NULL) {
        bio = BIO_new(BIO_s_mem());
    }
    if (bio == NULL || PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0,
                                                     NULL, NULL) != 1) {
        latch_err_ossl(err, LATCH_E_CRYPTO, "signing key encoding");
        goto out;
    }
    st = bio_to_file(bio, key_path, 0600, err);
    if (st != LATCH_OK) {
        goto out;
    }
    *out = key;
    key = NULL;

out:
    if (bio != NULL) {
        len = BIO_get_mem_data(bio, &data);
        if (len > 0) {
            OPENSSL_cleanse(data, (size_t)len);
        }
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return st;
}

/* Adds one extension given in openssl.cnf syntax ("critical,CA:FALSE"). */
static int
add_ext(STACK_OF(X509_EXTENSION) * exts, X509 *cert, X509V3_CTX *ctx, int nid,
        const char *value)
{
    X509_EXTENSION *ext;
    int ok;

    ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL) {
        return 0;
    }
    if (cert != NULL) {
        ok = X509_add_ext(cert, ext, -1);
    } else {
        ok = sk_X509_EXTENSION_push(exts, ext) > 0;
        if (ok) {
            return 1;
        }
    }
    X509_EXTENSION_free(ext);
    return ok;
}

enum latch_status
signing_write_csr(EVP_PKEY *key, const char *csr_path, struct latch_err *err)
{
    enum latch_status st = LATCH_E_CRYPTO;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_REQ *req = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX ctx;
    BIO *bio = NULL;

    req = X509_REQ_new();
    exts = sk_X509_EXTENSION_new_null();
    name = X509_NAME_new();
    bio = BIO_new(BIO_s_mem());
    if (req == NULL || exts == NULL || name == NULL || bio == NULL) {
        latch_err_ossl(err, LATCH_E_NOMEM, "csr: out of memory");
        goto out;
    }
    X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"latchd license "
                                                          "signing",
                                   -1, -1, 0) != 1 ||
        X509_REQ_set_subject_name(req, name) != 1 ||
        X509_REQ_set_pubkey(req, key) != 1 ||
        !add_ext(exts, NULL, &ctx, NID_basic_constraints,
                 "critical,CA:FALSE") ||
        !add_ext(exts, NULL, &ctx, NID_key_usage,
                 "critical,digitalSignature") ||
        !add_ext(exts, NULL, &ctx, NID_ext_key_usage,
                 LATCH_EKU_LICENSE_SIGNING_OID) ||
        X509_REQ_add_extensions(req, exts) != 1 ||
        X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
        PEM_write_bio_X509_REQ(bio, req) != 1) {
        latch_err_ossl(err, LATCH_E_CRYPTO, "csr: cannot build");
        goto out;
    }
    st = bio_to_file(bio, csr_path, 0644, err);

out:
    BIO_free(bio);
    X509_NAME_free(name);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    return st;
}

enum latch_status
signing_load_key(const char *path, EVP_PKEY **out, struct latch_err *err)
{
    enum latch_status st;
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;

    *out = NULL;
    st = latch_read_file(path, PEM_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return st;
    }
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL) {
        st = latch_err_ossl(err, LATCH_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    *out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT, "%s: not a PEM private key",
                            path);
        goto out;
    }
    st = LATCH_OK;

out:
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return st;
}

enum latch_status
signing_load_cert(const char *path, X509 **out, struct latch_err *err)
{
    enum latch_status st;
    const unsigned char *p;
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;

    *out = NULL;
    st = latch_read_file(path, PEM_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strstr(buf, "-----BEGIN CERTIFICATE-----") != NULL) {
        bio = BIO_new_mem_buf(buf, (int)len);
        if (bio != NULL) {
            *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        }
    } else {
        p = (const unsigned char *)buf;
        *out = d2i_X509(NULL, &p, (long)len);
        if (*out != NULL && p != (const unsigned char *)buf + len) {
            X509_free(*out);
            *out = NULL;
        }
    }
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "%s: not a PEM or DER certificate", path);
    }
    BIO_free(bio);
    free(buf);
    return st;
}

static bool
has_latch_eku(X509 *cert)
{
    STACK_OF(ASN1_OBJECT) *eku = NULL;
    ASN1_OBJECT *want = NULL;
    bool found = false;
    int i;

    want = OBJ_txt2obj(LATCH_EKU_LICENSE_SIGNING_OID, 1);
    eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
    for (i = 0; want != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0) {
            found = true;
        }
    }
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    ASN1_OBJECT_free(want);
    return found;
}

/* What signing_check_cert checks apart from the time. */
static enum latch_status
check_profile(EVP_PKEY *key, X509 *cert, struct latch_err *err)
{
    uint32_t flags = X509_get_extension_flags(cert);
    EVP_PKEY *pub = X509_get0_pubkey(cert);

    if (pub == NULL || EVP_PKEY_eq(pub, key) != 1) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: its public key is not the "
                             "signing key's (was it signed from this "
                             "server's signing.csr?)");
    }
    if ((flags & EXFLAG_CA) != 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: CA:TRUE, a signing certificate "
                             "must be CA:FALSE");
    }
    if ((flags & EXFLAG_KUSAGE) == 0 ||
        (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: keyUsage lacks digitalSignature");
    }
    if (!has_latch_eku(cert)) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: no latch license-signing EKU "
                             "(" LATCH_EKU_LICENSE_SIGNING_OID ")");
    }
    return LATCH_OK;
}

enum latch_status
signing_check_cert(EVP_PKEY *key, X509 *cert, struct latch_err *err)
{
    enum latch_status st = check_profile(key, cert, err);

    if (st != LATCH_OK) {
        return st;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: not valid yet (notBefore)");
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "certificate: expired (notAfter)");
    }
    return LATCH_OK;
}

enum latch_status
signing_check_files(const char *key_path, const char *cert_path,
                    struct latch_err *err)
{
    enum latch_status st;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char why[LATCH_ERR_MSG_MAX];

    st = signing_load_key(key_path, &key, err);
    if (st == LATCH_OK) {
        st = signing_load_cert(cert_path, &cert, err);
    }
    if (st == LATCH_OK) {
        st = check_profile(key, cert, err);
        if (st != LATCH_OK) {
            snprintf(why, sizeof(why), "%s", err->msg);
            st = latch_err_set(err, st,
                               "[signing] cert %s does not fit [signing] "
                               "key %s: %s",
                               cert_path, key_path, why);
        }
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return st;
}

static bool
set_serial(X509 *cert)
{
    unsigned char raw[16];
    BIGNUM *bn = NULL;
    bool ok;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return false;
    }
    raw[0] &= 0x7f;
    bn = BN_bin2bn(raw, sizeof(raw), NULL);
    ok = bn != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok;
}

/* Makes a certificate for pub signed by (issuer, ikey); self-signed when
 * issuer is NULL. ca selects root or signing-leaf extensions. */
static X509 *
make_cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey, bool ca,
          int days)
{
    X509 *cert = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX ctx;
    bool ok;

    cert = X509_new();
    name = X509_NAME_new();
    if (cert == NULL || name == NULL) {
        goto fail;
    }
    ok =
        X509_set_version(cert, 2) == 1 && set_serial(cert) &&
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   (const unsigned char *)"latch "
                                                          "development",
                                   -1, -1, 0) == 1 &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1, 0) == 1 &&
        X509_set_subject_name(cert, name) == 1 &&
        X509_set_issuer_name(
            cert, issuer != NULL ? X509_get_subject_name(issuer) : name) == 1 &&
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL &&
        X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * days) != NULL &&
        X509_set_pubkey(cert, pub) == 1;
    if (!ok) {
        goto fail;
    }
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
    if (ca) {
        ok = add_ext(NULL, cert, &ctx, NID_basic_constraints,
                     "critical,CA:TRUE") &&
             add_ext(NULL, cert, &ctx, NID_key_usage,
                     "critical,keyCertSign,cRLSign") &&
             add_ext(NULL, cert, &ctx, NID_subject_key_identifier, "hash");
    } else {
        ok = add_ext(NULL, cert, &ctx, NID_basic_constraints,
                     "critical,CA:FALSE") &&
             add_ext(NULL, cert, &ctx, NID_key_usage,
                     "critical,digitalSignature") &&
             add_ext(NULL, cert, &ctx, NID_ext_key_usage,
                     LATCH_EKU_LICENSE_SIGNING_OID) &&
             add_ext(NULL, cert, &ctx, NID_subject_key_identifier, "hash") &&
             add_ext(NULL, cert, &ctx, NID_authority_key_identifier,
                     "keyid:always");
    }
    if (!ok || X509_sign(cert, ikey, EVP_sha256()) <= 0) {
        goto fail;
    }
    X509_NAME_free(name);
    return cert;

fail:
    X509_NAME_free(name);
    X509_free(cert);
    return NULL;
}

static enum latch_status
write_cert(X509 *cert, const char *path, struct latch_err *err)
{
    enum latch_status st;
    BIO *bio = BIO_new(BIO_s_mem());

    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
        BIO_free(bio);
        return latch_err_ossl(err, LATCH_E_CRYPTO, "%s: cannot encode", path);
    }
    st = bio_to_file(bio, path, 0644, err);
    BIO_free(bio);
    return st;
}

static enum latch_status
join(char *out, size_t cap, const char *dir, const char *name,
     struct latch_err *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap) {
        return latch_err_set(err, LATCH_E_USAGE, "path too long: %s/%s", dir,
                             name);
    }
    return LATCH_OK;
}

enum latch_status
signing_dev_pki(const char *data_dir, EVP_PKEY *key, const char *cert_path,
                struct latch_err *err)
{
    enum latch_status st = LATCH_E_CRYPTO;
    EVP_PKEY *root_key = NULL;
    X509 *root = NULL;
    X509 *leaf = NULL;
    char dir[PATH_MAX];
    char path[PATH_MAX];
    int n;

    n = snprintf(dir, sizeof(dir), "%s/dev-root", data_dir);
    if (n < 0 || (size_t)n >= sizeof(dir)) {
        return latch_err_set(err, LATCH_E_USAGE, "data directory too long");
    }
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        return latch_err_set(err, LATCH_E_IO, "%s: %s", dir, strerror(errno));
    }
    st = join(path, sizeof(path), dir, "root.key", err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = signing_keygen(path, &root_key, err);
    if (st != LATCH_OK) {
        goto out;
    }
    root = make_cert("latch DEVELOPMENT root (not for production)", root_key,
                     NULL, root_key, true, DEV_DAYS);
    leaf = root != NULL ? make_cert("latchd license signing (development)", key,
                                    root, root_key, false, SIGN_DAYS)
                        : NULL;
    if (leaf == NULL) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "development PKI");
        goto out;
    }
    st = join(path, sizeof(path), dir, "root.pem", err);
    if (st == LATCH_OK) {
        st = write_cert(root, path, err);
    }
    if (st == LATCH_OK) {
        st = write_cert(leaf, cert_path, err);
    }

out:
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(root_key);
    return st;
}

enum latch_status
signing_cert_sha256(X509 *cert, char out[65], struct latch_err *err)
{
    unsigned char *der = NULL;
    unsigned char md[SHA256_DIGEST_LENGTH];
    int len;

    len = i2d_X509(cert, &der);
    if (len <= 0) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "certificate encoding");
    }
    SHA256(der, (size_t)len, md);
    OPENSSL_free(der);
    latch_hex_encode(md, sizeof(md), out);
    return LATCH_OK;
}
