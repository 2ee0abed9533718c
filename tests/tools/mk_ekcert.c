/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mk_ekcert: issues a TPM 2.0 EK certificate (TCG profile: empty subject,
 * critical TPM SAN, EKU 2.23.133.8.1) over a given EK public key with a
 * test vendor CA, as a manufacturing step for test boards. --oaep publishes
 * an RSA key under the rsaesOaep algorithm identifier (with OAEP
 * parameters), as some real TPM 2.0 chips do; --aia adds a caIssuers URL;
 * --no-san leaves the TPM SAN out (older chips).
 *
 *   mk_ekcert --ca-key KEY --ca-cert CERT --pub EK.pem -o OUT.der
 *             [--oaep] [--no-san] [--aia URL] [--manufacturer id:XXXXXXXX]
 *             [--model TEXT] [--version id:XXXXXXXX]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

struct opts {
    const char *ca_key;
    const char *ca_cert;
    const char *pub;
    const char *out;
    const char *aia;
    const char *mfr;
    const char *model;
    const char *version;
    int oaep;
    int no_san;
};

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
load_key(const char *path, int private)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = NULL;

    if (f != NULL) {
        k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                    : PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
    }
    return k;
}

static int
add_ext(X509 *x, X509 *ca, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext = NULL;
    int ok;

    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* Critical SAN with one dirName: TPM manufacturer, model, version. */
static int
add_tpm_san(X509 *x, const struct opts *o)
{
    static const char *const oids[] = {"2.23.133.2.1", "2.23.133.2.2",
                                       "2.23.133.2.3"};
    const char *vals[] = {o->mfr, o->model, o->version};
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    X509_NAME *dn = X509_NAME_new();
    ASN1_OBJECT *obj = NULL;
    int ok = gens != NULL && gen != NULL && dn != NULL;
    size_t i;

    for (i = 0; ok && i < 3; i++) {
        obj = OBJ_txt2obj(oids[i], 1);
        ok = obj != NULL && X509_NAME_add_entry_by_OBJ(
                                dn, obj, MBSTRING_UTF8,
                                (const unsigned char *)vals[i], -1, -1, 0) == 1;
        ASN1_OBJECT_free(obj);
    }
    if (ok) {
        GENERAL_NAME_set0_value(gen, GEN_DIRNAME, dn);
        dn = NULL;
        ok = sk_GENERAL_NAME_push(gens, gen) > 0;
        if (ok) {
            gen = NULL;
        }
    }
    ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1,
                                 X509V3_ADD_DEFAULT) == 1;
    X509_NAME_free(dn);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    return ok;
}

/* SPKI algorithm id-RSAES-OAEP (SHA-256, MGF1-SHA-256), key RSAPublicKey. */
static int
set_oaep_spki(X509 *x, EVP_PKEY *pub)
{
    RSA_OAEP_PARAMS *prm = RSA_OAEP_PARAMS_new();
    X509_ALGOR *mgfhash = X509_ALGOR_new();
    ASN1_STRING *mgfparam = NULL;
    ASN1_STRING *seq = NULL;
    unsigned char *der = NULL;
    int len;
    int ok = 0;

    len = i2d_PublicKey(pub, &der); /* PKCS#1 RSAPublicKey for RSA */
    if (prm == NULL || mgfhash == NULL || len <= 0) {
        goto out;
    }
    prm->hashFunc = X509_ALGOR_new();
    prm->maskGenFunc = X509_ALGOR_new();
    if (prm->hashFunc == NULL || prm->maskGenFunc == NULL) {
        goto out;
    }
    X509_ALGOR_set_md(prm->hashFunc, EVP_sha256());
    X509_ALGOR_set_md(mgfhash, EVP_sha256());
    mgfparam = ASN1_item_pack(mgfhash, ASN1_ITEM_rptr(X509_ALGOR), NULL);
    if (mgfparam == NULL ||
        X509_ALGOR_set0(prm->maskGenFunc, OBJ_nid2obj(NID_mgf1),
                        V_ASN1_SEQUENCE, mgfparam) != 1) {
        ASN1_STRING_free(mgfparam);
        goto out;
    }
    seq = ASN1_item_pack(prm, ASN1_ITEM_rptr(RSA_OAEP_PARAMS), NULL);
    if (seq == NULL || X509_PUBKEY_set0_param(
                           X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_rsaesOaep),
                           V_ASN1_SEQUENCE, seq, der, len) != 1) {
        ASN1_STRING_free(seq);
        goto out;
    }
    der = NULL; /* owned by the X509_PUBKEY now */
    ok = 1;

out:
    OPENSSL_free(der);
    X509_ALGOR_free(mgfhash);
    RSA_OAEP_PARAMS_free(prm);
    return ok;
}

static int
set_serial(X509 *x)
{
    unsigned char raw[16];
    BIGNUM *bn = NULL;
    int ok;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return 0;
    }
    raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x01);
    bn = BN_bin2bn(raw, sizeof(raw), NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static int
issue(const struct opts *o)
{
    X509 *ca = load_cert(o->ca_cert);
    EVP_PKEY *cakey = load_key(o->ca_key, 1);
    EVP_PKEY *pub = load_key(o->pub, 0);
    X509 *x = X509_new();
    X509_NAME *empty = X509_NAME_new();
    unsigned char *der = NULL;
    FILE *f = NULL;
    int rsa;
    int len = 0;
    int ok;
    char aia[1100];

    ok = ca != NULL && cakey != NULL && pub != NULL && x != NULL &&
         empty != NULL;
    if (!ok) {
        fprintf(stderr, "mk_ekcert: cannot read %s, %s or %s\n", o->ca_cert,
                o->ca_key, o->pub);
        goto out;
    }
    rsa = EVP_PKEY_is_a(pub, "RSA");
    ok = X509_set_version(x, X509_VERSION_3) == 1 && set_serial(x) &&
         X509_set_issuer_name(x, X509_get_subject_name(ca)) == 1 &&
         X509_set_subject_name(x, empty) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) != NULL;
    if (ok && o->oaep && rsa) {
        ok = set_oaep_spki(x, pub);
    } else if (ok) {
        ok = X509_set_pubkey(x, pub) == 1;
    }
    ok = ok && add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, ca, NID_key_usage,
                 rsa ? "critical,keyEncipherment" : "critical,keyAgreement") &&
         add_ext(x, ca, NID_ext_key_usage, "2.23.133.8.1") &&
         add_ext(x, ca, NID_authority_key_identifier, "keyid:always") &&
         (o->no_san || add_tpm_san(x, o));
    if (ok && o->aia != NULL) {
        ok = snprintf(aia, sizeof(aia), "caIssuers;URI:%s", o->aia) <
                 (int)sizeof(aia) &&
             add_ext(x, ca, NID_info_access, aia);
    }
    ok = ok && X509_sign(x, cakey, EVP_sha384()) > 0;
    len = ok ? i2d_X509(x, &der) : -1;
    if (len <= 0) {
        ok = 0;
        fprintf(stderr, "mk_ekcert: building the certificate failed\n");
        goto out;
    }
    f = fopen(o->out, "wb");
    ok = f != NULL && fwrite(der, 1, (size_t)len, f) == (size_t)len;
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "mk_ekcert: cannot write %s\n", o->out);
    }

out:
    OPENSSL_free(der);
    X509_NAME_free(empty);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(pub);
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ca-key", required_argument, NULL, 'k'},
        {"ca-cert", required_argument, NULL, 'c'},
        {"pub", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"oaep", no_argument, NULL, 'O'},
        {"no-san", no_argument, NULL, 'N'},
        {"aia", required_argument, NULL, 'a'},
        {"manufacturer", required_argument, NULL, 'm'},
        {"model", required_argument, NULL, 'M'},
        {"version", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {
        .mfr = "id:00001014", .model = "swtpm", .version = "id:20191023"};
    int ch;

    for (;;) {
        ch = getopt_long(argc, argv, "k:c:p:o:", longopts, NULL);
        if (ch == -1) {
            break;
        }
        switch (ch) {
        case 'k':
            o.ca_key = optarg;
            break;
        case 'c':
            o.ca_cert = optarg;
            break;
        case 'p':
            o.pub = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'O':
            o.oaep = 1;
            break;
        case 'N':
            o.no_san = 1;
            break;
        case 'a':
            o.aia = optarg;
            break;
        case 'm':
            o.mfr = optarg;
            break;
        case 'M':
            o.model = optarg;
            break;
        case 'v':
            o.version = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc || o.ca_key == NULL || o.ca_cert == NULL ||
        o.pub == NULL || o.out == NULL) {
        goto usage;
    }
    return issue(&o);

usage:
    fprintf(stderr, "usage: mk_ekcert --ca-key KEY --ca-cert CERT --pub EK.pem "
                    "-o OUT.der [--oaep] [--no-san] [--aia URL] "
                    "[--manufacturer ID] "
                    "[--model TEXT] [--version ID]\n");
    return 2;
}
