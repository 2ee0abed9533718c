/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekcert.c: parsing EK certificates as TPMs store them (NV header, fill,
 * rsaesOaep keys) and reading the TCG fields out of them. The exact bytes
 * received are kept; nothing is repaired or re-encoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ekcert.h"
#include "ekcert_int.h"

/* TCG PC Client NV layout: stored-cert tag, type, size, full-cert tag. */
#define NV_TAG_STORED_CERT 0x1001
#define NV_TAG_FULL_CERT   0x1002
#define NV_HEADER_LEN      7

#define OID_TPM_SPEC "2.23.133.2.16"

/* tPMSpecification ::= SEQUENCE { family UTF8String, level, revision } */
typedef struct {
    ASN1_UTF8STRING *family;
    ASN1_INTEGER *level;
    ASN1_INTEGER *revision;
} EK_TPM_SPEC;

ASN1_SEQUENCE(EK_TPM_SPEC) =
    {
        ASN1_SIMPLE(EK_TPM_SPEC, family, ASN1_UTF8STRING),
        ASN1_SIMPLE(EK_TPM_SPEC, level, ASN1_INTEGER),
        ASN1_SIMPLE(EK_TPM_SPEC, revision, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(EK_TPM_SPEC)

    /* SubjectDirectoryAttributes ::= SEQUENCE SIZE (1..MAX) OF Attribute */
    ASN1_ITEM_TEMPLATE(EK_SDA) = ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0,
                                                       EK_SDA, X509_ATTRIBUTE)
        static_ASN1_ITEM_TEMPLATE_END(EK_SDA)

            void ek_safe_copy(char *dst, size_t cap, const unsigned char *src,
                              size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    size_t o = 0;

    if (cap == 0) {
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = src[i];
        bool esc = ch < 0x20 || ch == 0x7f;

        if (o + (esc ? 4 : 1) >= cap) {
            break;
        }
        if (esc) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        } else {
            dst[o++] = (char)ch;
        }
    }
    /* Never end inside a UTF-8 sequence. */
    if (i < n) {
        while (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0x80) {
            o--;
        }
        if (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0xc0) {
            o--;
        }
    }
    dst[o] = '\0';
}

void
ek_asn1_str(const ASN1_STRING *s, char out[EK_STR_MAX])
{
    unsigned char *utf8 = NULL;
    int n;

    out[0] = '\0';
    if (s == NULL) {
        return;
    }
    n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) {
        ERR_clear_error();
        ek_safe_copy(out, EK_STR_MAX, ASN1_STRING_get0_data(s),
                     (size_t)ASN1_STRING_length(s));
        return;
    }
    ek_safe_copy(out, EK_STR_MAX, utf8, (size_t)n);
    OPENSSL_free(utf8);
}

void
ek_name_str(const X509_NAME *name, char out[EK_STR_MAX])
{
    BIO *bio = NULL;
    char *data = NULL;
    long n;
    unsigned long flags;

    out[0] = '\0';
    if (name == NULL) {
        return;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return;
    }
    flags = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
        n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != NULL) {
            ek_safe_copy(out, EK_STR_MAX, (const unsigned char *)data,
                         (size_t)n);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
}

bool
ek_time(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        ERR_clear_error();
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

void
ek_sha256_hex(const uint8_t *der, size_t len, char out[EK_HEX256_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t i;

    if (EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) != 1) {
        memset(md, 0, sizeof(md));
        ERR_clear_error();
    }
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool
ek_x509_sha256(X509 *x, char out[EK_HEX256_LEN])
{
    unsigned char *der = NULL;
    int n;

    n = i2d_X509(x, &der);
    if (n <= 0) {
        ERR_clear_error();
        out[0] = '\0';
        return false;
    }
    ek_sha256_hex(der, (size_t)n, out);
    OPENSSL_free(der);
    return true;
}

enum latch_status
ek_name_key(const X509_NAME *name, char out[EK_HEX256_LEN],
            struct latch_err *err)
{
    const unsigned char *der = NULL;
    size_t len = 0;

    if (name == NULL || X509_NAME_get0_der(name, &der, &len) != 1) {
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "certificate name cannot be encoded");
    }
    ek_sha256_hex(der, len, out);
    return LATCH_OK;
}

bool
ek_self_signed(X509 *x)
{
    EVP_PKEY *key;
    bool ok;

    if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0) {
        return false;
    }
    key = X509_get0_pubkey(x);
    ok = key != NULL && X509_verify(x, key) == 1;
    ERR_clear_error();
    return ok;
}

void
ek_aia_url(X509 *x, char out[EK_STR_MAX])
{
    AUTHORITY_INFO_ACCESS *aia;
    int i;

    out[0] = '\0';
    aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    if (aia == NULL) {
        ERR_clear_error();
        return;
    }
    for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

        if (OBJ_obj2nid(ad->method) != NID_ad_ca_issuers ||
            ad->location->type != GEN_URI) {
            continue;
        }
        ek_safe_copy(
            out, EK_STR_MAX,
            ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier),
            (size_t)ASN1_STRING_length(
                ad->location->d.uniformResourceIdentifier));
        break;
    }
    AUTHORITY_INFO_ACCESS_free(aia);
}

/*
 * Length of the DER element at buf (a SEQUENCE with a definite length), or
 * 0 when the header is malformed. Lengths past len are reported as they
 * are, for the caller to bound.
 */
static size_t
der_seq_len(const uint8_t *buf, size_t len)
{
    size_t hdr = 2;
    size_t body = 0;
    size_t nlen;
    size_t i;

    if (len < 2 || buf[0] != 0x30) {
        return 0;
    }
    if (buf[1] < 0x80) {
        return 2 + (size_t)buf[1];
    }
    nlen = buf[1] & 0x7f;
    if (nlen == 0 || nlen > 3 || len < 2 + nlen) {
        return 0; /* indefinite (BER) or absurdly long */
    }
    for (i = 0; i < nlen; i++) {
        body = (body << 8) | buf[2 + i];
    }
    if (body < 0x80 || (nlen > 1 && buf[2] == 0)) {
        return 0; /* non-minimal length: not DER */
    }
    hdr += nlen;
    return hdr + body;
}

static bool
uniform_fill(const uint8_t *p, size_t n)
{
    size_t i;

    if (n == 0) {
        return true;
    }
    if (p[0] != 0x00 && p[0] != 0xff) {
        return false;
    }
    for (i = 1; i < n; i++) {
        if (p[i] != p[0]) {
            return false;
        }
    }
    return true;
}

static bool
looks_like_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    size_t i;

    for (i = 0; i + sizeof(tag) - 1 <= len && i < 4096; i++) {
        if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0) {
            return true;
        }
        if (buf[i] == 0x30 && i == 0) {
            return false;
        }
    }
    return false;
}

/*
 * Finds the DER certificate inside buf: strips a TCG NV header, decodes
 * PEM, checks what follows. *der points into buf or into *pem_der (which
 * the caller frees).
 */
static enum latch_status
frame(const uint8_t *buf, size_t len, const uint8_t **der, size_t *derlen,
      enum ek_form *form, size_t *fill, unsigned char **pem_der,
      struct latch_report *rep, struct latch_err *err)
{
    size_t off = 0;
    size_t seq;

    *form = EK_FORM_DER;
    *fill = 0;
    if (buf[0] != 0x30 && !(len >= 2 && buf[0] == 0x10 && buf[1] == 0x01) &&
        looks_like_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        char *name = NULL;
        char *header = NULL;
        long n = 0;
        char rest[64];
        int got;

        if (bio == NULL) {
            return latch_err_ossl(err, LATCH_E_NOMEM, "BIO_new_mem_buf");
        }
        if (PEM_read_bio(bio, &name, &header, pem_der, &n) != 1 ||
            strcmp(name, "CERTIFICATE") != 0) {
            OPENSSL_free(name);
            OPENSSL_free(header);
            BIO_free(bio);
            return latch_err_ossl(err, LATCH_E_FORMAT,
                                  "ek certificate: no PEM CERTIFICATE block");
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        /* Only whitespace may follow the one certificate. */
        while ((got = BIO_read(bio, rest, sizeof(rest))) > 0) {
            int i;

            for (i = 0; i < got; i++) {
                if (rest[i] != ' ' && rest[i] != '\n' && rest[i] != '\r' &&
                    rest[i] != '\t') {
                    BIO_free(bio);
                    return latch_err_set(err, LATCH_E_FORMAT,
                                         "ek certificate: data after the PEM "
                                         "certificate (one certificate "
                                         "expected)");
                }
            }
        }
        BIO_free(bio);
        ERR_clear_error();
        buf = *pem_der;
        len = (size_t)n;
        *form = EK_FORM_PEM;
    } else if (len >= NV_HEADER_LEN &&
               ((buf[0] << 8) | buf[1]) == NV_TAG_STORED_CERT) {
        size_t declared = ((size_t)buf[3] << 8) | buf[4];

        if (buf[2] != 0 || ((buf[5] << 8) | buf[6]) != NV_TAG_FULL_CERT) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "ek certificate: TCG NV header with cert "
                                 "type %u / tag 0x%02x%02x (only a full "
                                 "certificate, type 0 tag 0x1002, is "
                                 "supported)",
                                 buf[2], buf[5], buf[6]);
        }
        if (declared < 2 || declared > len - 5) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "ek certificate: TCG NV header declares %zu "
                                 "bytes but only %zu follow",
                                 declared, len - 5);
        }
        off = NV_HEADER_LEN;
        seq = der_seq_len(buf + off, len - off);
        if (seq == 0 || seq != declared - 2) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "ek certificate: TCG NV header size %zu does "
                                 "not match the DER certificate (%zu bytes)",
                                 declared - 2, seq);
        }
        *form = EK_FORM_NV_HEADER;
        latch_report_add(rep, "ek-nv-header", LATCH_CHECK_PASS,
                         "TCG PC-Client NV header (7 bytes) removed");
    }
    seq = der_seq_len(buf + off, len - off);
    if (seq == 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "ek certificate: not a DER certificate (first "
                             "bytes %02x %02x)",
                             len - off > 0 ? buf[off] : 0,
                             len - off > 1 ? buf[off + 1] : 0);
    }
    if (seq > len - off) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "ek certificate: truncated (DER says %zu bytes, "
                             "%zu present)",
                             seq, len - off);
    }
    if (!uniform_fill(buf + off + seq, len - off - seq)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "ek certificate: %zu bytes after the DER "
                             "certificate are not 0x00/0xff fill (junk "
                             "after certificate)",
                             len - off - seq);
    }
    *fill = len - off - seq;
    if (*fill > 0) {
        latch_report_add(rep, "ek-fill", LATCH_CHECK_PASS,
                         "%zu bytes of 0x%02x fill after the DER ignored",
                         *fill, buf[off + seq]);
        if (*form == EK_FORM_DER) {
            *form = EK_FORM_DER_FILL;
        }
    }
    *der = buf + off;
    *derlen = seq;
    return LATCH_OK;
}

static void
tcg_san(struct ek_cert *c)
{
    GENERAL_NAMES *san;
    int i;
    int j;

    san = X509_get_ext_d2i(c->x509, NID_subject_alt_name, NULL, NULL);
    if (san == NULL) {
        ERR_clear_error();
        return;
    }
    for (i = 0; i < sk_GENERAL_NAME_num(san); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

        if (g->type != GEN_DIRNAME) {
            continue;
        }
        for (j = 0; j < X509_NAME_entry_count(g->d.dirn); j++) {
            X509_NAME_ENTRY *e = X509_NAME_get_entry(g->d.dirn, j);
            char oid[64];
            char *dst = NULL;

            if (OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e),
                            1) <= 0) {
                continue;
            }
            if (strcmp(oid, EK_OID_TPM_MFR) == 0) {
                dst = c->tpm_manufacturer;
            } else if (strcmp(oid, EK_OID_TPM_MODEL) == 0) {
                dst = c->tpm_model;
            } else if (strcmp(oid, EK_OID_TPM_VER) == 0) {
                dst = c->tpm_version;
            }
            if (dst != NULL) {
                ek_asn1_str(X509_NAME_ENTRY_get_data(e), dst);
                c->has_tpm_san = true;
            }
        }
    }
    GENERAL_NAMES_free(san);
}

static bool
hexval(const char *s, size_t n, uint32_t *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        uint32_t d;

        if (ch >= '0' && ch <= '9') {
            d = (uint32_t)(ch - '0');
        } else if (ch >= 'a' && ch <= 'f') {
            d = (uint32_t)(ch - 'a' + 10);
        } else if (ch >= 'A' && ch <= 'F') {
            d = (uint32_t)(ch - 'A' + 10);
        } else {
            return false;
        }
        *v = (*v << 4) | d;
    }
    return true;
}

/* "id:53544D20" -> "STM"; "id:0D0C" -> 13.12; "id:00490004" -> 73.4. */
static void
tcg_decode(struct ek_cert *c)
{
    const char *m = c->tpm_manufacturer;
    const char *v = c->tpm_version;
    uint32_t x;
    size_t n;
    size_t i;
    size_t o = 0;

    if (strncmp(m, "id:", 3) == 0 && strlen(m + 3) == 8 &&
        hexval(m + 3, 8, &x)) {
        for (i = 0; i < 4; i++) {
            unsigned char ch = (unsigned char)(x >> (24 - 8 * i));

            if (ch >= 0x21 && ch <= 0x7e) {
                c->tpm_vendor[o++] = (char)ch;
            }
        }
        c->tpm_vendor[o] = '\0';
    }
    if (strncmp(v, "id:", 3) != 0) {
        return;
    }
    n = strlen(v + 3);
    if (n == 8 && hexval(v + 3, 8, &x)) {
        snprintf(c->tpm_firmware, sizeof(c->tpm_firmware), "%u.%u",
                 (unsigned)(x >> 16), (unsigned)(x & 0xffff));
    } else if (n == 4 && hexval(v + 3, 4, &x)) {
        snprintf(c->tpm_firmware, sizeof(c->tpm_firmware), "%u.%u",
                 (unsigned)(x >> 8), (unsigned)(x & 0xff));
    }
}

/* The tPMSpecification family ("1.2", "2.0") or "" when absent. */
static void
tpm_spec_family(X509 *x, char out[16])
{
    ASN1_OBJECT *want = NULL;
    STACK_OF(X509_ATTRIBUTE) *sda = NULL;
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *os;
    const unsigned char *p;
    int idx;
    int i;

    out[0] = '\0';
    idx = X509_get_ext_by_NID(x, NID_subject_directory_attributes, -1);
    if (idx < 0) {
        return;
    }
    ext = X509_get_ext(x, idx);
    os = X509_EXTENSION_get_data(ext);
    p = ASN1_STRING_get0_data(os);
    sda = (STACK_OF(X509_ATTRIBUTE) *)ASN1_item_d2i(
        NULL, &p, ASN1_STRING_length(os), ASN1_ITEM_rptr(EK_SDA));
    want = OBJ_txt2obj(OID_TPM_SPEC, 1);
    if (sda == NULL || want == NULL) {
        goto out;
    }
    for (i = 0; i < sk_X509_ATTRIBUTE_num(sda); i++) {
        X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(sda, i);
        ASN1_TYPE *t;
        EK_TPM_SPEC *spec;
        const unsigned char *q;

        if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), want) != 0) {
            continue;
        }
        t = X509_ATTRIBUTE_get0_type(a, 0);
        if (t == NULL || t->type != V_ASN1_SEQUENCE) {
            continue;
        }
        q = ASN1_STRING_get0_data(t->value.sequence);
        spec = (EK_TPM_SPEC *)ASN1_item_d2i(
            NULL, &q, ASN1_STRING_length(t->value.sequence),
            ASN1_ITEM_rptr(EK_TPM_SPEC));
        if (spec != NULL) {
            char fam[EK_STR_MAX];

            ek_asn1_str(spec->family, fam);
            snprintf(out, 16, "%.15s", fam);
            ASN1_item_free((ASN1_VALUE *)spec, ASN1_ITEM_rptr(EK_TPM_SPEC));
        }
        break;
    }

out:
    ASN1_item_free((ASN1_VALUE *)sda, ASN1_ITEM_rptr(EK_SDA));
    ASN1_OBJECT_free(want);
    ERR_clear_error();
}

/* The OAEP label of an rsaesOaep SPKI ("TCPA" on TPM 1.2), or "". */
static void
oaep_label(const X509_ALGOR *alg, char out[16])
{
    const ASN1_OBJECT *obj = NULL;
    const void *pval = NULL;
    int ptype = 0;
    RSA_OAEP_PARAMS *prm = NULL;
    const unsigned char *p;
    const ASN1_STRING *seq;

    out[0] = '\0';
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE || pval == NULL) {
        return;
    }
    seq = pval;
    p = ASN1_STRING_get0_data(seq);
    prm = d2i_RSA_OAEP_PARAMS(NULL, &p, ASN1_STRING_length(seq));
    if (prm != NULL && prm->pSourceFunc != NULL) {
        const void *lv = NULL;
        int lt = 0;

        X509_ALGOR_get0(&obj, &lt, &lv, prm->pSourceFunc);
        if (lt == V_ASN1_OCTET_STRING && lv != NULL) {
            const ASN1_STRING *ls = lv;
            size_t n = (size_t)ASN1_STRING_length(ls);

            ek_safe_copy(out, 16, ASN1_STRING_get0_data(ls), n);
        }
    }
    RSA_OAEP_PARAMS_free(prm);
    ERR_clear_error();
}

static enum latch_status
load_key(struct ek_cert *c, char label[16], struct latch_err *err)
{
    X509_PUBKEY *xpk = X509_get_X509_PUBKEY(c->x509);
    ASN1_OBJECT *alg = NULL;
    const unsigned char *pk = NULL;
    int pklen = 0;
    X509_ALGOR *pa = NULL;
    int nid;

    label[0] = '\0';
    if (xpk == NULL ||
        X509_PUBKEY_get0_param(&alg, &pk, &pklen, &pa, xpk) != 1) {
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "ek certificate: no public key");
    }
    nid = OBJ_obj2nid(alg);
    if (nid == NID_rsaesOaep) {
        /* OpenSSL will not load this SPKI: read RSAPublicKey ourselves. */
        const unsigned char *p = pk;

        c->spki_rsaes_oaep = true;
        oaep_label(pa, label);
        c->pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, pklen);
        if (c->pkey == NULL || p != pk + pklen) {
            return latch_err_ossl(err, LATCH_E_FORMAT,
                                  "ek certificate: rsaesOaep key is not an "
                                  "RSAPublicKey");
        }
    } else {
        EVP_PKEY *k = X509_get0_pubkey(c->x509);

        if (k == NULL || !EVP_PKEY_up_ref(k)) {
            return latch_err_ossl(err, LATCH_E_FORMAT,
                                  "ek certificate: public key (%s) cannot "
                                  "be loaded",
                                  OBJ_nid2sn(nid));
        }
        c->pkey = k;
    }
    c->key_bits = EVP_PKEY_get_bits(c->pkey);
    if (EVP_PKEY_is_a(c->pkey, "RSA")) {
        c->key_type = EK_KEY_RSA;
        if (c->key_bits < 2048 || c->key_bits > 4096) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "ek certificate: RSA key of %d bits (2048 "
                                 "to 4096 accepted)",
                                 c->key_bits);
        }
    } else if (EVP_PKEY_is_a(c->pkey, "EC")) {
        char group[64];
        size_t glen = 0;

        c->key_type = EK_KEY_EC;
        if (EVP_PKEY_get_group_name(c->pkey, group, sizeof(group), &glen) !=
                1 ||
            (strcmp(group, "prime256v1") != 0 &&
             strcmp(group, "secp384r1") != 0 &&
             strcmp(group, "secp521r1") != 0)) {
            ERR_clear_error();
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "ek certificate: EC key not on P-256, P-384 "
                                 "or P-521");
        }
    } else {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "ek certificate: key type %s is not RSA or EC",
                             EVP_PKEY_get0_type_name(c->pkey));
    }
    return LATCH_OK;
}

static void
read_fields(struct ek_cert *c)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(c->x509);
    BIGNUM *bn;
    EXTENDED_KEY_USAGE *eku;
    int i;

    ek_name_str(X509_get_subject_name(c->x509), c->subject);
    ek_name_str(X509_get_issuer_name(c->x509), c->issuer);
    bn = ASN1_INTEGER_to_BN(serial, NULL);
    if (bn != NULL) {
        char *h = BN_bn2hex(bn);

        if (h != NULL) {
            ek_safe_copy(c->serial, sizeof(c->serial), (const unsigned char *)h,
                         strlen(h));
            OPENSSL_free(h);
        }
        BN_free(bn);
    }
    if (!ek_time(X509_get0_notBefore(c->x509), &c->not_before)) {
        c->not_before = INT64_MAX;
    }
    if (!ek_time(X509_get0_notAfter(c->x509), &c->not_after)) {
        c->not_after = 0;
    }
    tcg_san(c);
    tcg_decode(c);
    eku = X509_get_ext_d2i(c->x509, NID_ext_key_usage, NULL, NULL);
    for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        char oid[64];

        if (OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1) >
                0 &&
            strcmp(oid, EK_OID_EKCERT) == 0) {
            c->has_eku_ekcert = true;
        }
    }
    EXTENDED_KEY_USAGE_free(eku);
    ek_aia_url(c->x509, c->aia_url);
    ERR_clear_error();
}

enum latch_status
ek_cert_parse(const uint8_t *buf, size_t len, struct ek_cert **out,
              struct latch_report *rep, struct latch_err *err)
{
    struct ek_cert *c = NULL;
    unsigned char *pem_der = NULL;
    const uint8_t *der = NULL;
    const unsigned char *p;
    size_t derlen = 0;
    char label[16];
    char family[16];
    enum latch_status st;

    *out = NULL;
    if (buf == NULL || len == 0) {
        return latch_err_set(err, LATCH_E_FORMAT, "ek certificate: empty");
    }
    if (len > EK_NV_MAX) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "ek certificate: %zu bytes (at most %d)", len,
                             EK_NV_MAX);
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "ek certificate: calloc");
    }
    st = frame(buf, len, &der, &derlen, &c->form, &c->fill_len, &pem_der, rep,
               err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (derlen > EK_CERT_MAX) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "ek certificate: %zu bytes of DER (at most %d)",
                           derlen, EK_CERT_MAX);
        goto out;
    }
    c->der = malloc(derlen);
    if (c->der == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "ek certificate: malloc");
        goto out;
    }
    memcpy(c->der, der, derlen);
    c->der_len = derlen;
    ek_sha256_hex(c->der, c->der_len, c->sha256);
    p = c->der;
    c->x509 = d2i_X509(NULL, &p, (long)c->der_len);
    if (c->x509 == NULL || p != c->der + c->der_len) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "ek certificate: X.509 parse failed");
        goto out;
    }
    st = load_key(c, label, err);
    if (st != LATCH_OK) {
        goto out;
    }
    read_fields(c);
    tpm_spec_family(c->x509, family);
    if (strncmp(family, "1.", 2) == 0 ||
        (c->spki_rsaes_oaep && strcmp(label, "TCPA") == 0)) {
        c->is_tpm12 = true;
        latch_report_add(rep, "ek-tpm-version", LATCH_CHECK_FAIL,
                         "TPM 1.2 EK certificate (tPMSpecification family "
                         "\"%s\", OAEP label \"%s\"): not usable for TPM 2.0 "
                         "credential activation",
                         family, label);
    } else if (family[0] != '\0') {
        latch_report_add(rep, "ek-tpm-version", LATCH_CHECK_PASS,
                         "tPMSpecification family \"%s\"", family);
    }
    if (c->spki_rsaes_oaep) {
        latch_report_add(rep, "ek-spki", LATCH_CHECK_WARN,
                         "RSA key published with the rsaesOaep algorithm "
                         "identifier; modulus and exponent read directly");
    }
    st = LATCH_OK;

out:
    OPENSSL_free(pem_der);
    if (st != LATCH_OK) {
        ek_cert_free(c);
        c = NULL;
    }
    *out = c;
    return st;
}

void
ek_cert_free(struct ek_cert *c)
{
    if (c == NULL) {
        return;
    }
    X509_free(c->x509);
    EVP_PKEY_free(c->pkey);
    free(c->der);
    free(c);
}
