/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * mkdevlicense: does the server's job for one enrollment in-process, so the
 * device tests run without latchd: EK key from the EK certificate, AK name
 * computed from ak_public, software MakeCredential, signing. Fault flags
 * make licenses that a device must refuse.
 *
 *   mkdevlicense -e ENROLLMENT -k KEY.pem -c CERT.pem -o LICENSE
 *       [--serial N] [--license-id ID] [--customer TEXT]
 *       [--issued-at T] [--valid-from T] [--valid-until T]
 *       [--feature NAME[=QUANTITY][@UNTIL]]... [--disabled NAME]...
 *       [--ak-from ENROLLMENT2] [--corrupt blob|secret|digest]
 *       [--secret-out FILE]
 *
 * T is RFC 3339 UTC or a signed offset in seconds from now ("-60",
 * "+86400"). --ak-from binds the AK of another enrollment to this one's
 * EK. --secret-out writes the raw credential secret (tests look for it
 * on the TPM bus). Exit 0 on success, 1 on failure, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "codec.h"
#include "enrollment.h"
#include "fsutil.h"
#include "license.h"
#include "mkcred.h"
#include "tpmt.h"

#define FILE_MAX     65536
#define MAX_FEATURES 32

struct opts {
    const char *enrollment;
    const char *ak_from;
    const char *key;
    const char *cert;
    const char *out;
    const char *license_id;
    const char *customer;
    const char *corrupt;
    const char *secret_out;
    int64_t serial;
    int64_t issued_at;
    int64_t valid_from;
    bool has_valid_until;
    int64_t valid_until;
    const char *features[MAX_FEATURES];
    size_t nfeatures;
    const char *disabled[MAX_FEATURES];
    size_t ndisabled;
};

struct binding {
    char device_id[65];
    char ak_name[2 * LATCH_NAME_MAX + 1];
    const char *ek_template;
    uint8_t *blob;
    size_t bloblen;
    uint8_t *enc;
    size_t enclen;
    uint8_t digest[32];
};

static int
usage(void)
{
    fprintf(stderr,
            "usage: mkdevlicense -e ENROLLMENT -k KEY.pem -c CERT.pem -o OUT "
            "[--serial N]\n"
            "  [--license-id ID] [--customer TEXT] [--issued-at T] "
            "[--valid-from T]\n"
            "  [--valid-until T] [--feature NAME[=QTY][@UNTIL]]... "
            "[--disabled NAME]...\n"
            "  [--ak-from ENROLLMENT2] [--corrupt blob|secret|digest]\n"
            "  [--secret-out FILE]\n");
    return 2;
}

/* RFC 3339 or a signed offset in seconds from now. */
static bool
parse_when(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (s[0] == '+' || s[0] == '-') {
        v = strtoll(s, &end, 10);
        if (end == s || *end != '\0') {
            return false;
        }
        *out = (int64_t)time(NULL) + v;
        return true;
    }
    return latch_time_parse(s, out, NULL) == LATCH_OK;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"enrollment", required_argument, NULL, 'e'},
        {"key", required_argument, NULL, 'k'},
        {"cert", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"serial", required_argument, NULL, 's'},
        {"license-id", required_argument, NULL, 'i'},
        {"customer", required_argument, NULL, 'u'},
        {"issued-at", required_argument, NULL, 'I'},
        {"valid-from", required_argument, NULL, 'F'},
        {"valid-until", required_argument, NULL, 'U'},
        {"feature", required_argument, NULL, 'f'},
        {"disabled", required_argument, NULL, 'd'},
        {"ak-from", required_argument, NULL, 'a'},
        {"corrupt", required_argument, NULL, 'x'},
        {"secret-out", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    char *end = NULL;
    int c;

    o->serial = 1;
    o->issued_at = (int64_t)time(NULL);
    o->valid_from = o->issued_at - 60;
    o->customer = "Test Customer";
    o->license_id = "lic-test";
    while ((c = getopt_long(argc, argv, "e:k:c:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            o->enrollment = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 'c':
            o->cert = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 's':
            o->serial = strtoll(optarg, &end, 10);
            if (end == optarg || *end != '\0') {
                return usage();
            }
            break;
        case 'i':
            o->license_id = optarg;
            break;
        case 'u':
            o->customer = optarg;
            break;
        case 'I':
            if (!parse_when(optarg, &o->issued_at)) {
                return usage();
            }
            break;
        case 'F':
            if (!parse_when(optarg, &o->valid_from)) {
                return usage();
            }
            break;
        case 'U':
            if (!parse_when(optarg, &o->valid_until)) {
                return usage();
            }
            o->has_valid_until = true;
            break;
        case 'f':
            if (o->nfeatures == MAX_FEATURES) {
                return usage();
            }
            o->features[o->nfeatures++] = optarg;
            break;
        case 'd':
            if (o->ndisabled == MAX_FEATURES) {
                return usage();
            }
            o->disabled[o->ndisabled++] = optarg;
            break;
        case 'a':
            o->ak_from = optarg;
            break;
        case 'x':
            o->corrupt = optarg;
            break;
        case 'S':
            o->secret_out = optarg;
            break;
        default:
            return usage();
        }
    }
    if (optind != argc || o->enrollment == NULL || o->key == NULL ||
        o->cert == NULL || o->out == NULL) {
        return usage();
    }
    return 0;
}

/* "name", "name=16", "name@T", "name=16@T" */
static int
add_feature(json_t *features, const char *spec, bool enabled)
{
    char name[LATCH_FEATURE_NAME_MAX + 1];
    const char *eq = strchr(spec, '=');
    const char *at = strchr(spec, '@');
    size_t nlen = strcspn(spec, "=@");
    char *end = NULL;
    char when[LATCH_TIME_LEN];
    json_t *f;
    long long q;
    int64_t t;

    if (nlen == 0 || nlen >= sizeof(name)) {
        return 1;
    }
    memcpy(name, spec, nlen);
    name[nlen] = '\0';
    f = json_pack("{s:b}", "enabled", enabled);
    if (f == NULL) {
        return 1;
    }
    if (eq != NULL && (at == NULL || eq < at)) {
        q = strtoll(eq + 1, &end, 10);
        if (end == eq + 1 || (*end != '\0' && *end != '@')) {
            json_decref(f);
            return 1;
        }
        json_object_set_new(f, "quantity", json_integer(q));
    }
    if (at != NULL) {
        if (!parse_when(at + 1, &t)) {
            json_decref(f);
            return 1;
        }
        latch_time_format(t, when);
        json_object_set_new(f, "valid_until", json_string(when));
    }
    return json_object_set_new(features, name, f) != 0;
}

static int
load_enrollment(const char *path, struct latch_enrollment **out)
{
    struct latch_err err = {LATCH_OK, ""};
    char *buf = NULL;
    size_t len = 0;
    int rc = 1;

    if (latch_read_file(path, FILE_MAX, &buf, &len, &err) == LATCH_OK &&
        latch_enrollment_parse(buf, len, out, &err) == LATCH_OK) {
        rc = 0;
    } else {
        fprintf(stderr, "mkdevlicense: %s: %s\n", path, err.msg);
    }
    free(buf);
    return rc;
}

static void
corrupt(struct binding *b, const char *what)
{
    if (strcmp(what, "blob") == 0) {
        b->blob[b->bloblen / 2] ^= 0x01;
    } else if (strcmp(what, "secret") == 0) {
        b->enc[b->enclen / 2] ^= 0x01;
    } else {
        b->digest[0] ^= 0x01;
    }
}

/* The server's job: binding from the EK certificate and the AK public. */
static int
make_binding(const struct latch_enrollment *enr,
             const struct latch_enrollment *akenr, const struct opts *o,
             struct binding *b)
{
    struct latch_err werr = {LATCH_OK, ""};
    struct latch_err err = {LATCH_OK, ""};
    const struct latch_ek_info *info;
    const unsigned char *p = enr->ek_certificate.data;
    uint8_t secret[LATCH_SECRET_LEN];
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    unsigned int mdlen = 0;
    TPM2B_PUBLIC ak;
    EVP_PKEY *ek = NULL;
    X509 *x = NULL;
    int rc = 1;

    info = latch_ek_info_by_name(enr->ek_template);
    x = d2i_X509(NULL, &p, (long)enr->ek_certificate.len);
    ek = x != NULL ? X509_get_pubkey(x) : NULL;
    if (info == NULL || ek == NULL) {
        fprintf(stderr, "mkdevlicense: unusable EK certificate/template\n");
        goto out;
    }
    if (latch_tpm_public_unmarshal(akenr->ak_public.data, akenr->ak_public.len,
                                   &ak, &err) != LATCH_OK ||
        latch_ak_check(&ak.publicArea, NULL, &err) != LATCH_OK ||
        latch_tpm_name(&ak.publicArea, name, &namelen, &err) != LATCH_OK ||
        latch_device_id(ek, b->device_id, &err) != LATCH_OK) {
        fprintf(stderr, "mkdevlicense: %s\n", err.msg);
        goto out;
    }
    if (RAND_priv_bytes(secret, sizeof(secret)) != 1 ||
        EVP_Digest(secret, sizeof(secret), b->digest, &mdlen, EVP_sha256(),
                   NULL) != 1 ||
        latch_make_credential(ek, info, name, namelen, secret, sizeof(secret),
                              &b->blob, &b->bloblen, &b->enc, &b->enclen,
                              &err) != LATCH_OK) {
        fprintf(stderr, "mkdevlicense: make credential: %s\n", err.msg);
        goto out;
    }
    latch_hex_encode(name, namelen, b->ak_name);
    b->ek_template = info->name;
    if (o->corrupt != NULL) {
        corrupt(b, o->corrupt);
    }
    if (o->secret_out != NULL &&
        latch_write_atomic(o->secret_out, secret, sizeof(secret), 0600,
                           &werr) != LATCH_OK) {
        fprintf(stderr, "mkdevlicense: %s\n", werr.msg);
        goto out;
    }
    rc = 0;

out:
    OPENSSL_cleanse(secret, sizeof(secret));
    EVP_PKEY_free(ek);
    X509_free(x);
    return rc;
}

static json_t *
make_body(const struct opts *o, const struct binding *b)
{
    char issued[LATCH_TIME_LEN], from[LATCH_TIME_LEN], until[LATCH_TIME_LEN];
    char digest[65];
    char *blob64 = NULL, *enc64 = NULL;
    json_t *body = NULL;
    json_t *features = json_object();
    size_t i;

    latch_time_format(o->issued_at, issued);
    latch_time_format(o->valid_from, from);
    latch_hex_encode(b->digest, sizeof(b->digest), digest);
    for (i = 0; features != NULL && i < o->nfeatures; i++) {
        if (add_feature(features, o->features[i], true) != 0) {
            fprintf(stderr, "mkdevlicense: bad --feature %s\n", o->features[i]);
            goto out;
        }
    }
    for (i = 0; features != NULL && i < o->ndisabled; i++) {
        if (add_feature(features, o->disabled[i], false) != 0) {
            goto out;
        }
    }
    if (features == NULL ||
        latch_b64_encode(b->blob, b->bloblen, &blob64) != LATCH_OK ||
        latch_b64_encode(b->enc, b->enclen, &enc64) != LATCH_OK) {
        goto out;
    }
    body = json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:O, s:{s:s, s:s, s:s, "
        "s:{s:s, s:s, s:s}}}",
        "license_id", o->license_id, "serial", (json_int_t)o->serial,
        "issued_at", issued, "device_id", b->device_id, "enrollment_id",
        "enr-test", "customer", o->customer, "valid_from", from, "features",
        features, "binding", "identity_schema", LATCH_IDENTITY_SCHEMA,
        "ek_template", b->ek_template, "ak_name", b->ak_name, "activation",
        "credential_blob", blob64, "encrypted_secret", enc64, "secret_sha256",
        digest);
    if (body != NULL && o->has_valid_until) {
        latch_time_format(o->valid_until, until);
        json_object_set_new(body, "valid_until", json_string(until));
    }

out:
    json_decref(features);
    free(blob64);
    free(enc64);
    return body;
}

static int
sign_and_write(const struct opts *o, const json_t *body)
{
    struct latch_err err = {LATCH_OK, ""};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    int rc = 1;

    f = fopen(o->key, "r");
    if (f != NULL) {
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    f = fopen(o->cert, "r");
    if (f != NULL) {
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (key == NULL || cert == NULL) {
        fprintf(stderr, "mkdevlicense: cannot read %s or %s\n", o->key,
                o->cert);
        goto out;
    }
    if (latch_license_sign(body, key, cert, &text, &len, &err) != LATCH_OK ||
        latch_write_atomic(o->out, text, len, 0644, &err) != LATCH_OK) {
        fprintf(stderr, "mkdevlicense: %s\n", err.msg);
        goto out;
    }
    rc = 0;

out:
    free(text);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
main(int argc, char **argv)
{
    struct latch_enrollment *enr = NULL;
    struct latch_enrollment *akenr = NULL;
    struct binding b;
    struct opts o;
    json_t *body = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&b, 0, sizeof(b));
    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        return rc;
    }
    if (o.corrupt != NULL && strcmp(o.corrupt, "blob") != 0 &&
        strcmp(o.corrupt, "secret") != 0 && strcmp(o.corrupt, "digest") != 0) {
        return usage();
    }
    rc = load_enrollment(o.enrollment, &enr);
    if (rc == 0 && o.ak_from != NULL) {
        rc = load_enrollment(o.ak_from, &akenr);
    }
    if (rc == 0) {
        rc = make_binding(enr, akenr != NULL ? akenr : enr, &o, &b);
    }
    if (rc == 0) {
        body = make_body(&o, &b);
        rc = body == NULL;
    }
    if (rc == 0) {
        rc = sign_and_write(&o, body);
    }
    json_decref(body);
    free(b.blob);
    free(b.enc);
    latch_enrollment_free(enr);
    latch_enrollment_free(akenr);
    return rc;
}
