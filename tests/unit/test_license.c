/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_license.c: license signing and verification against a PKI made here
 * with OpenSSL (roots, signing certificates with and without the latch EKU,
 * expired ones), a generated walk that changes every leaf of a signed
 * license, and the Wycheproof ECDSA/Ed25519 vectors run through the very
 * signature primitive the verifier uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "codec.h"
#include "jcs.h"
#include "json.h"
#include "license.h"

#define DATA_DIR "tests/data/wycheproof/"
#define DAY      86400
#define MAX_LEAF 64
#define MAX_PATH 8

/* 2019-01-01, 2020-01-01, 2021-01-01, 2026-06-01 (UTC). */
#define T_2019 1546300800
#define T_2020 1577836800
#define T_2021 1609459200
#define T_2026 1780272000

struct pki {
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *other_root_key;
    X509 *other_root;
    EVP_PKEY *p256, *p384, *ed25519, *rsa, *p521;
    X509 *cert_p256, *cert_p384, *cert_ed25519;
    X509 *cert_no_eku, *cert_server_eku, *cert_no_ds, *cert_ca, *cert_no_bc;
    X509 *cert_rsa, *cert_p521, *cert_old, *cert_by_other_root;
    EVP_PKEY *inter_key;
    X509 *inter, *cert_by_inter;
};

static struct pki pki;

struct cert_spec {
    const char *cn;
    const char *bc;  /* basicConstraints value or NULL */
    const char *ku;  /* keyUsage value or NULL */
    const char *eku; /* extendedKeyUsage value or NULL */
    time_t not_before;
    time_t not_after;
};

static void
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext;

    if (value == NULL) {
        return;
    }
    ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(cert, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* issuer == NULL: self-signed. */
static X509 *
make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
          const struct cert_spec *s)
{
    X509 *cert = X509_new();
    X509V3_CTX ctx;
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = BN_new();
    const char *md;

    assert_non_null(cert);
    assert_int_equal(X509_set_version(cert, 2), 1);
    assert_int_equal(BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), 1);
    assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)));
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)s->cn,
                                                -1, -1, 0),
                     1);
    assert_int_equal(X509_set_subject_name(cert, name), 1);
    assert_int_equal(
        X509_set_issuer_name(
            cert, issuer != NULL ? X509_get_subject_name(issuer) : name),
        1);
    assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), s->not_before));
    assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert), s->not_after));
    assert_int_equal(X509_set_pubkey(cert, key), 1);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
    add_ext(cert, &ctx, NID_basic_constraints, s->bc);
    add_ext(cert, &ctx, NID_key_usage, s->ku);
    add_ext(cert, &ctx, NID_ext_key_usage, s->eku);
    add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
    add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always");
    md = EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_ED25519 ? NULL : "SHA384";
    assert_true(X509_sign(cert, issuer_key,
                          md != NULL ? EVP_get_digestbyname(md) : NULL) > 0);
    BN_free(bn);
    X509_NAME_free(name);
    return cert;
}

static X509 *
make_root(EVP_PKEY *key, const char *cn)
{
    struct cert_spec s = {
        cn,     "critical,CA:TRUE",      "critical,keyCertSign,cRLSign", NULL,
        T_2019, time(NULL) + 3650L * DAY};

    return make_cert(key, NULL, key, &s);
}

static X509 *
make_leaf(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
          const char *bc, const char *ku, const char *eku)
{
    struct cert_spec s = {cn, bc, ku, eku, T_2019, time(NULL) + 1000L * DAY};

    return make_cert(key, issuer, issuer_key, &s);
}

#define GOOD_BC  "critical,CA:FALSE"
#define GOOD_KU  "critical,digitalSignature"
#define GOOD_EKU LATCH_EKU_LICENSE_SIGNING_OID

static EVP_PKEY *
ec_key(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

    assert_non_null(k);
    return k;
}

static int
setup_pki(void **state)
{
    struct cert_spec old = {"old signer", GOOD_BC, GOOD_KU,
                            GOOD_EKU,     T_2020,  T_2021};
    struct cert_spec inter = {"intermediate",
                              "critical,CA:TRUE",
                              "critical,keyCertSign,cRLSign",
                              NULL,
                              T_2019,
                              time(NULL) + 1000L * DAY};

    (void)state;
    pki.root_key = ec_key("P-384");
    pki.root = make_root(pki.root_key, "latch test root");
    pki.other_root_key = ec_key("P-384");
    pki.other_root = make_root(pki.other_root_key, "latch test root");
    pki.p256 = ec_key("P-256");
    pki.p384 = ec_key("P-384");
    pki.p521 = ec_key("P-521");
    pki.ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    pki.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(pki.ed25519);
    assert_non_null(pki.rsa);

#define LEAF(key, cn, bc, ku, eku)                                             \
    make_leaf(key, pki.root, pki.root_key, cn, bc, ku, eku)
    pki.cert_p256 = LEAF(pki.p256, "signer p256", GOOD_BC, GOOD_KU, GOOD_EKU);
    pki.cert_p384 = LEAF(pki.p384, "signer p384", GOOD_BC, GOOD_KU, GOOD_EKU);
    pki.cert_ed25519 =
        LEAF(pki.ed25519, "signer ed25519", GOOD_BC, GOOD_KU, GOOD_EKU);
    pki.cert_no_eku = LEAF(pki.p256, "no eku", GOOD_BC, GOOD_KU, NULL);
    pki.cert_server_eku =
        LEAF(pki.p256, "server eku", GOOD_BC, GOOD_KU, "serverAuth");
    pki.cert_no_ds =
        LEAF(pki.p256, "no ds", GOOD_BC, "critical,keyAgreement", GOOD_EKU);
    pki.cert_ca = LEAF(pki.p256, "ca leaf", "critical,CA:TRUE",
                       "critical,digitalSignature,keyCertSign", GOOD_EKU);
    pki.cert_no_bc = LEAF(pki.p256, "no bc", NULL, GOOD_KU, GOOD_EKU);
    pki.cert_rsa = LEAF(pki.rsa, "rsa", GOOD_BC, GOOD_KU, GOOD_EKU);
    pki.cert_p521 = LEAF(pki.p521, "p521", GOOD_BC, GOOD_KU, GOOD_EKU);
#undef LEAF
    pki.cert_old = make_cert(pki.p256, pki.root, pki.root_key, &old);
    pki.cert_by_other_root =
        make_leaf(pki.p256, pki.other_root, pki.other_root_key, "other",
                  GOOD_BC, GOOD_KU, GOOD_EKU);
    pki.inter_key = ec_key("P-384");
    pki.inter = make_cert(pki.inter_key, pki.root, pki.root_key, &inter);
    pki.cert_by_inter = make_leaf(pki.p256, pki.inter, pki.inter_key,
                                  "under inter", GOOD_BC, GOOD_KU, GOOD_EKU);
    return 0;
}

static int
teardown_pki(void **state)
{
    X509 *certs[] = {pki.root,
                     pki.other_root,
                     pki.cert_p256,
                     pki.cert_p384,
                     pki.cert_ed25519,
                     pki.cert_no_eku,
                     pki.cert_server_eku,
                     pki.cert_no_ds,
                     pki.cert_ca,
                     pki.cert_no_bc,
                     pki.cert_rsa,
                     pki.cert_p521,
                     pki.cert_old,
                     pki.cert_by_other_root,
                     pki.inter,
                     pki.cert_by_inter};
    EVP_PKEY *keys[] = {pki.root_key, pki.other_root_key, pki.p256,
                        pki.p384,     pki.ed25519,        pki.rsa,
                        pki.p521,     pki.inter_key};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        X509_free(certs[i]);
    }
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        EVP_PKEY_free(keys[i]);
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const char body_fmt[] =
    "{\"license_id\": \"lic-0001\", \"serial\": 3, \"issued_at\": \"%s\","
    " \"device_id\": "
    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
    " \"enrollment_id\": \"enr-7\", \"customer\": \"ACME Corp\","
    " \"valid_from\": \"2026-06-01T00:00:00Z\","
    " \"valid_until\": \"2036-06-01T00:00:00Z\","
    " \"features\": {\"fast-mode\": {\"enabled\": true, \"quantity\": 16,"
    " \"valid_until\": \"2030-01-01T00:00:00Z\"},"
    " \"export.csv\": {\"enabled\": false}},"
    " \"binding\": {\"identity_schema\": \"tpm2_ek_ak_binding\","
    " \"ek_template\": \"ecc-p256\", \"ak_name\": "
    "\"000b2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
    " \"activation\": {\"credential_blob\": \"ACQAIL7Nq83vASNFZ4mrze8BI0U=\","
    " \"encrypted_secret\": \"AEQAIMOq2eHw8RI0VniavN7wEjRWeJq83vA=\","
    " \"secret_sha256\": "
    "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"}}}";

static json_t *
body_at(const char *issued_at)
{
    char text[sizeof(body_fmt) + 32];
    json_error_t jerr;
    json_t *body;

    snprintf(text, sizeof(text), body_fmt, issued_at);
    body = json_loads(text, 0, &jerr);
    assert_non_null(body);
    return body;
}

static char *
sign_body(const json_t *body, EVP_PKEY *key, X509 *cert)
{
    struct latch_err err = {LATCH_OK, ""};
    char *out = NULL;
    size_t len = 0;
    enum latch_status st;

    st = latch_license_sign(body, key, cert, &out, &len, &err);
    if (st != LATCH_OK) {
        fail_msg("sign: %s", err.msg);
    }
    assert_int_equal(strlen(out), len);
    return out;
}

static char *
sign_default(EVP_PKEY *key, X509 *cert, const char *issued_at)
{
    json_t *body = body_at(issued_at);
    char *out = sign_body(body, key, cert);

    json_decref(body);
    return out;
}

/* Parse + verify; the status of the first step that fails. */
static enum latch_status
check_text(const char *text, X509 *root, struct latch_report *rep,
           struct latch_err *err)
{
    struct latch_license *lic = NULL;
    enum latch_status st;

    st = latch_license_parse(text, strlen(text), &lic, err);
    if (st == LATCH_OK) {
        st = latch_license_verify(lic, root, rep, err);
    }
    latch_license_free(lic);
    return st;
}

static json_t *
load(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);

    assert_non_null(doc);
    return doc;
}

static char *
dump(const json_t *doc, size_t flags)
{
    char *s = json_dumps(doc, flags);

    assert_non_null(s);
    return s;
}

/* Edits a signed license (parsed with plain jansson) and checks it. */
static enum latch_status
check_doc(const json_t *doc, X509 *root, struct latch_report *rep,
          struct latch_err *err)
{
    char *text = dump(doc, JSON_INDENT(2));
    enum latch_status st = check_text(text, root, rep, err);

    free(text);
    return st;
}

static const struct latch_check *
find_check(const struct latch_report *rep, const char *name)
{
    size_t i;

    for (i = 0; i < rep->n; i++) {
        if (strcmp(rep->items[i].name, name) == 0) {
            return &rep->items[i];
        }
    }
    return NULL;
}

static void
assert_check(const struct latch_report *rep, const char *name,
             enum latch_check_result want)
{
    const struct latch_check *c = find_check(rep, name);

    if (c == NULL) {
        fail_msg("report has no check '%s'", name);
    }
    if (c->result != want) {
        fail_msg("check %s: %s (%s), expected %s", name,
                 latch_check_result_str(c->result), c->detail,
                 latch_check_result_str(want));
    }
}

static const char *
first_failure(const struct latch_report *rep)
{
    size_t i;

    for (i = 0; i < rep->n; i++) {
        if (rep->items[i].result == LATCH_CHECK_FAIL) {
            return rep->items[i].name;
        }
    }
    return "(none)";
}

/* Signs the default body with key/cert and expects verification status. */
static void
expect_verify(EVP_PKEY *key, X509 *cert, const char *issued_at, X509 *root,
              enum latch_status want, const char *failing_check)
{
    struct latch_report rep = {0};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(key, cert, issued_at);
    enum latch_status st = check_text(text, root, &rep, &err);

    if (st != want) {
        fail_msg("status %d, expected %d: %s", st, want, err.msg);
    }
    if (failing_check != NULL) {
        assert_check(&rep, failing_check, LATCH_CHECK_FAIL);
        /* The message names the first check that failed. */
        assert_int_equal(
            strncmp(err.msg, first_failure(&rep), strlen(first_failure(&rep))),
            0);
    } else {
        assert_true(latch_report_ok(&rep));
    }
    free(text);
}

/* ---- round trips -------------------------------------------------------- */

static void
round_trip(EVP_PKEY *key, X509 *cert, const char *alg)
{
    struct latch_license *lic = NULL;
    struct latch_report rep = {0};
    struct latch_err err = {LATCH_OK, ""};
    const struct latch_feature *f;
    char *text = sign_default(key, cert, "2026-06-01T00:00:00Z");
    size_t i;

    assert_int_equal(latch_license_parse(text, strlen(text), &lic, &err),
                     LATCH_OK);
    assert_int_equal(latch_license_verify(lic, pki.root, &rep, &err), LATCH_OK);
    for (i = 0; i < rep.n; i++) {
        assert_int_equal(rep.items[i].result, LATCH_CHECK_PASS);
    }
    assert_check(&rep, "cert.chain", LATCH_CHECK_PASS);
    assert_check(&rep, "cert.eku", LATCH_CHECK_PASS);
    assert_check(&rep, "signature.value", LATCH_CHECK_PASS);
    assert_string_equal(lic->algorithm, alg);
    assert_string_equal(lic->license_id, "lic-0001");
    assert_int_equal(lic->serial, 3);
    assert_int_equal(lic->issued_at, T_2026);
    assert_int_equal(lic->ak_name_len, 34);
    assert_int_equal(lic->nfeatures, 2);
    f = latch_license_feature(lic, "fast-mode");
    assert_non_null(f);
    assert_true(f->enabled);
    assert_true(f->has_quantity);
    assert_int_equal(f->quantity, 16);
    f = latch_license_feature(lic, "export.csv");
    assert_non_null(f);
    assert_false(f->enabled);
    assert_false(f->has_quantity);
    assert_null(latch_license_feature(lic, "nope"));
    latch_license_free(lic);
    free(text);
}

static void
test_sign_verify_round_trip_p256(void **state)
{
    (void)state;
    round_trip(pki.p256, pki.cert_p256, "ES256");
}

static void
test_sign_verify_round_trip_p384(void **state)
{
    (void)state;
    round_trip(pki.p384, pki.cert_p384, "ES384");
}

static void
test_sign_verify_round_trip_ed25519(void **state)
{
    (void)state;
    round_trip(pki.ed25519, pki.cert_ed25519, "EdDSA");
}

/* A copy of v with every object's members in reverse order. */
static json_t *
reversed(const json_t *v)
{
    const char *keys[64];
    json_t *out;
    const char *k;
    json_t *m;
    size_t n = 0;

    if (!json_is_object(v)) {
        return json_deep_copy(v);
    }
    json_object_foreach((json_t *)(uintptr_t)v, k, m)
    {
        assert_true(n < 64);
        keys[n++] = k;
    }
    out = json_object();
    while (n > 0) {
        n--;
        json_object_set_new(out, keys[n],
                            reversed(json_object_get(v, keys[n])));
    }
    return out;
}

static void
test_verify_accepts_pretty_compact_and_reordered(void **state)
{
    size_t flags[] = {JSON_COMPACT, JSON_INDENT(8), JSON_SORT_KEYS,
                      JSON_INDENT(1) | JSON_SORT_KEYS};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    json_t *rev = reversed(doc);
    char *s;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        s = dump(doc, flags[i]);
        assert_string_not_equal(s, text);
        assert_int_equal(check_text(s, pki.root, NULL, &err), LATCH_OK);
        free(s);
    }
    s = dump(rev, JSON_COMPACT);
    assert_non_null(strstr(s, "{\"signature\":"));
    assert_int_equal(check_text(s, pki.root, NULL, &err), LATCH_OK);
    free(s);
    json_decref(rev);
    json_decref(doc);
    free(text);
}

/* ---- every leaf changed ------------------------------------------------- */

struct leaf {
    const char *path[MAX_PATH];
    size_t depth;
    bool is_key; /* rename this member instead of changing its value */
};

struct walk {
    struct leaf leaves[MAX_LEAF];
    size_t n;
};

static void
collect(struct walk *w, const json_t *v, const char **path, size_t depth)
{
    const char *k;
    json_t *m;

    assert_true(depth < MAX_PATH);
    json_object_foreach((json_t *)(uintptr_t)v, k, m)
    {
        path[depth] = k;
        if (json_is_object(m)) {
            /* Members of a map (feature names) are data too. */
            if (depth >= 1 && strcmp(path[depth - 1], "features") == 0) {
                assert_true(w->n < MAX_LEAF);
                memcpy(w->leaves[w->n].path, path, (depth + 1) * sizeof(*path));
                w->leaves[w->n].depth = depth + 1;
                w->leaves[w->n].is_key = true;
                w->n++;
            }
            collect(w, m, path, depth + 1);
            continue;
        }
        assert_true(w->n < MAX_LEAF);
        memcpy(w->leaves[w->n].path, path, (depth + 1) * sizeof(*path));
        w->leaves[w->n].depth = depth + 1;
        w->leaves[w->n].is_key = false;
        w->n++;
    }
}

/* The next character of c's class (digit or letter), or 0 for others. */
static char
bump(char c)
{
    if (c >= '0' && c <= '9') {
        return c == '9' ? '0' : (char)(c + 1);
    }
    if (c >= 'a' && c <= 'z') {
        return c == 'z' ? 'a' : (char)(c + 1);
    }
    if (c >= 'A' && c <= 'Z') {
        return c == 'Z' ? 'A' : (char)(c + 1);
    }
    return 0;
}

/*
 * Candidate k for a changed string: bump the k-th character. Returns false
 * when there are no more candidates; *out is NULL for a skipped position.
 */
static bool
string_candidate(const char *s, size_t k, char **out)
{
    char c;

    *out = NULL;
    if (k >= strlen(s)) {
        return false;
    }
    c = bump(s[k]);
    if (c != 0) {
        *out = strdup(s);
        assert_non_null(*out);
        (*out)[k] = c;
    }
    return true;
}

/*
 * Applies candidate k of the change to leaf in doc. Returns false when
 * there are no more candidates, sets *applied when doc was changed.
 */
static bool
mutate(json_t *doc, const struct leaf *leaf, size_t k, bool *applied)
{
    json_t *parent = doc;
    const char *key = leaf->path[leaf->depth - 1];
    json_t *v;
    char *s = NULL;
    size_t i;
    bool more;

    *applied = false;
    for (i = 0; i + 1 < leaf->depth; i++) {
        parent = json_object_get(parent, leaf->path[i]);
        assert_non_null(parent);
    }
    v = json_object_get(parent, key);
    assert_non_null(v);
    if (leaf->is_key) {
        more = string_candidate(key, k, &s);
        if (s != NULL) {
            json_object_set(parent, s, v);
            json_object_del(parent, key);
            *applied = true;
        }
    } else if (json_is_integer(v)) {
        more = k < 2;
        if (more) {
            json_integer_set(v, json_integer_value(v) + (k == 0 ? 1 : -1));
            *applied = true;
        }
    } else if (json_is_boolean(v)) {
        more = k < 1;
        if (more) {
            json_object_set_new(parent, key, json_boolean(!json_is_true(v)));
            *applied = true;
        }
    } else {
        assert_true(json_is_string(v));
        more = string_candidate(json_string_value(v), k, &s);
        if (s != NULL) {
            json_object_set_new(parent, key, json_string(s));
            *applied = true;
        }
    }
    free(s);
    return more;
}

static void
leaf_name(const struct leaf *leaf, char *out, size_t cap)
{
    size_t i, n = 0;

    out[0] = '\0';
    for (i = 0; i < leaf->depth; i++) {
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i > 0 ? "." : "",
                              leaf->path[i]);
    }
    if (leaf->is_key) {
        snprintf(out + n, cap - n, " (name)");
    }
}

static void
change_every_leaf(EVP_PKEY *key, X509 *cert)
{
    const char *path[MAX_PATH];
    char *text = sign_default(key, cert, "2026-06-01T00:00:00Z");
    json_t *orig = load(text);
    struct walk w = {0};
    size_t i, k, by_signature = 0, by_format = 0;
    char name[256];

    collect(&w, orig, path, 0);
    assert_true(w.n >= 24);
    for (i = 0; i < w.n; i++) {
        bool tried_parseable = false;
        bool more = true;
        bool applied;

        leaf_name(&w.leaves[i], name, sizeof(name));
        for (k = 0; more && !tried_parseable; k++) {
            struct latch_err err = {LATCH_OK, ""};
            struct latch_report rep = {0};
            json_t *doc = json_deep_copy(orig);
            enum latch_status st;

            more = mutate(doc, &w.leaves[i], k, &applied);
            if (applied) {
                st = check_doc(doc, pki.root, &rep, &err);
                if (st != LATCH_E_FORMAT) {
                    tried_parseable = true;
                    if (strcmp(name, "signature.algorithm") == 0) {
                        /* Informational only: a lie changes nothing. */
                        assert_int_equal(st, LATCH_OK);
                        assert_check(&rep, "signature.algorithm",
                                     LATCH_CHECK_WARN);
                    } else if (st != LATCH_E_SIGNATURE) {
                        fail_msg("changing %s (candidate %zu) gave %d: %s",
                                 name, k, st, err.msg);
                    } else {
                        by_signature++;
                    }
                }
            }
            json_decref(doc);
        }
        if (!tried_parseable) {
            /* No change of this member survives the reader (e.g. format). */
            by_format++;
        }
    }
    print_message("%zu members changed: %zu rejected by the signature "
                  "check, %zu by the reader, 1 informational\n",
                  w.n, by_signature, by_format);
    /* format, identity_schema and ek_template have no valid neighbour. */
    assert_true(by_format <= 3);
    assert_int_equal(by_signature + by_format + 1, w.n);
    json_decref(orig);
    free(text);
}

static void
test_verify_rejects_every_single_leaf_change_p256(void **state)
{
    (void)state;
    change_every_leaf(pki.p256, pki.cert_p256);
}

static void
test_verify_rejects_every_single_leaf_change_p384(void **state)
{
    (void)state;
    change_every_leaf(pki.p384, pki.cert_p384);
}

static void
test_verify_rejects_every_single_leaf_change_ed25519(void **state)
{
    (void)state;
    change_every_leaf(pki.ed25519, pki.cert_ed25519);
}

static void
test_verify_rejects_added_and_removed_members(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc;
    json_t *lic;

    (void)state;
    doc = load(text);
    lic = json_object_get(doc, "license");
    json_object_set_new(json_object_get(lic, "features"), "extra",
                        json_pack("{s:b}", "enabled", 1));
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    json_decref(doc);

    doc = load(text);
    lic = json_object_get(doc, "license");
    json_object_del(lic, "valid_until");
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    json_decref(doc);

    doc = load(text);
    lic = json_object_get(doc, "license");
    json_object_del(json_object_get(lic, "features"), "export.csv");
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    json_decref(doc);

    doc = load(text);
    lic = json_object_get(json_object_get(doc, "license"), "features");
    json_object_del(json_object_get(lic, "fast-mode"), "quantity");
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    json_decref(doc);
    free(text);
}

/* ---- the certificate ---------------------------------------------------- */

static void
test_verify_rejects_wrong_root(void **state)
{
    (void)state;
    /* Same subject name, different key. */
    expect_verify(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z",
                  pki.other_root, LATCH_E_SIGNATURE, "cert.chain");
    expect_verify(pki.p256, pki.cert_by_other_root, "2026-06-01T00:00:00Z",
                  pki.root, LATCH_E_SIGNATURE, "cert.chain");
}

static void
test_verify_rejects_cert_under_an_intermediate(void **state)
{
    (void)state;
    expect_verify(pki.p256, pki.cert_by_inter, "2026-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.chain");
}

static void
test_verify_rejects_cert_without_eku(void **state)
{
    (void)state;
    expect_verify(pki.p256, pki.cert_no_eku, "2026-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.eku");
    expect_verify(pki.p256, pki.cert_server_eku, "2026-06-01T00:00:00Z",
                  pki.root, LATCH_E_SIGNATURE, "cert.eku");
}

static void
test_verify_rejects_cert_without_digital_signature(void **state)
{
    (void)state;
    expect_verify(pki.p256, pki.cert_no_ds, "2026-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.key-usage");
}

static void
test_verify_rejects_ca_or_unconstrained_signing_cert(void **state)
{
    (void)state;
    expect_verify(pki.p256, pki.cert_ca, "2026-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.basic-constraints");
    expect_verify(pki.p256, pki.cert_no_bc, "2026-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.basic-constraints");
}

static void
test_verify_rejects_rsa_and_p521_signing_keys(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    json_t *body = body_at("2026-06-01T00:00:00Z");
    char *out = NULL;
    size_t len = 0;

    (void)state;
    /* The signer refuses these keys outright... */
    assert_int_equal(
        latch_license_sign(body, pki.rsa, pki.cert_rsa, &out, &len, &err),
        LATCH_E_USAGE);
    assert_non_null(strstr(err.msg, "RSA"));
    assert_int_equal(
        latch_license_sign(body, pki.p521, pki.cert_p521, &out, &len, &err),
        LATCH_E_USAGE);
    assert_null(out);
    json_decref(body);
}

/* Builds a license whose signature is an RSA PKCS#1 v1.5 one by cert_rsa. */
static void
test_verify_rejects_license_from_rsa_cert(void **state)
{
    struct latch_report rep = {0};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    json_t *sig = json_object_get(doc, "signature");
    json_t *lic = json_object_get(doc, "license");
    uint8_t *msg = NULL, *rsasig = NULL;
    unsigned char *der = NULL;
    size_t msglen = 0, rsalen = 0;
    char *b64 = NULL;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int derlen;

    (void)state;
    assert_int_equal(latch_license_signed_bytes(lic, &msg, &msglen, &err),
                     LATCH_OK);
    assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, pki.rsa),
                     1);
    assert_int_equal(EVP_DigestSign(m, NULL, &rsalen, msg, msglen), 1);
    rsasig = malloc(rsalen);
    assert_int_equal(EVP_DigestSign(m, rsasig, &rsalen, msg, msglen), 1);
    assert_int_equal(latch_b64_encode(rsasig, rsalen, &b64), LATCH_OK);
    json_object_set_new(sig, "value", json_string(b64));
    json_object_set_new(sig, "algorithm", json_string("RS256"));
    free(b64);
    derlen = i2d_X509(pki.cert_rsa, &der);
    assert_true(derlen > 0);
    assert_int_equal(latch_b64_encode(der, (size_t)derlen, &b64), LATCH_OK);
    json_object_set_new(sig, "certificate", json_string(b64));
    assert_int_equal(check_doc(doc, pki.root, &rep, &err), LATCH_E_SIGNATURE);
    assert_check(&rep, "cert.chain", LATCH_CHECK_PASS);
    assert_check(&rep, "cert.key", LATCH_CHECK_FAIL);
    assert_check(&rep, "signature.value", LATCH_CHECK_SKIP);
    free(b64);
    OPENSSL_free(der);
    free(rsasig);
    free(msg);
    EVP_MD_CTX_free(m);
    json_decref(doc);
    free(text);
}

static void
test_verify_rejects_cert_expired_at_issued_at(void **state)
{
    (void)state;
    /* cert_old is valid 2020-01-01 .. 2021-01-01. */
    expect_verify(pki.p256, pki.cert_old, "2021-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.valid-at-issue");
    expect_verify(pki.p256, pki.cert_old, "2021-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.chain");
}

static void
test_verify_rejects_cert_not_yet_valid_at_issued_at(void **state)
{
    (void)state;
    expect_verify(pki.p256, pki.cert_old, "2019-06-01T00:00:00Z", pki.root,
                  LATCH_E_SIGNATURE, "cert.valid-at-issue");
}

static void
test_verify_accepts_cert_expired_now_but_valid_at_issued_at(void **state)
{
    (void)state;
    /* The device clock plays no part: rotation keeps old licenses good. */
    expect_verify(pki.p256, pki.cert_old, "2020-06-01T00:00:00Z", pki.root,
                  LATCH_OK, NULL);
}

/* ---- the signature ------------------------------------------------------ */

static void
set_sig_value(json_t *doc, const uint8_t *v, size_t len)
{
    char *b64 = NULL;

    assert_int_equal(latch_b64_encode(v, len, &b64), LATCH_OK);
    json_object_set_new(json_object_get(doc, "signature"), "value",
                        json_string(b64));
    free(b64);
}

static uint8_t *
get_sig_value(const json_t *doc, size_t *len)
{
    struct latch_err err = {LATCH_OK, ""};
    const char *s = json_string_value(
        json_object_get(json_object_get(doc, "signature"), "value"));
    uint8_t *out = NULL;

    assert_int_equal(latch_b64_decode(s, 1024, &out, len, &err), LATCH_OK);
    return out;
}

static void
truncated(EVP_PKEY *key, X509 *cert)
{
    struct latch_report rep = {0};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(key, cert, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    size_t len = 0;
    uint8_t *sig = get_sig_value(doc, &len);
    size_t cut[] = {1, 2, len / 2, len - 1};
    size_t i;

    for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        set_sig_value(doc, sig, len - cut[i]);
        memset(&rep, 0, sizeof(rep));
        assert_int_equal(check_doc(doc, pki.root, &rep, &err),
                         LATCH_E_SIGNATURE);
        assert_false(latch_report_ok(&rep));
    }
    free(sig);
    json_decref(doc);
    free(text);
}

static void
test_verify_rejects_truncated_signature(void **state)
{
    (void)state;
    truncated(pki.p256, pki.cert_p256);
    truncated(pki.p384, pki.cert_p384);
    truncated(pki.ed25519, pki.cert_ed25519);
}

static void
test_verify_ignores_lying_algorithm_member(void **state)
{
    const char *lies[] = {"none", "HS256", "ES384", "RS256", "EdDSA", "ES256"};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        struct latch_report rep = {0};
        json_t *doc = load(text);

        json_object_set_new(json_object_get(doc, "signature"), "algorithm",
                            json_string(lies[i]));
        assert_int_equal(check_doc(doc, pki.root, &rep, &err), LATCH_OK);
        assert_check(&rep, "signature.value", LATCH_CHECK_PASS);
        assert_check(&rep, "signature.algorithm",
                     strcmp(lies[i], "ES256") == 0 ? LATCH_CHECK_PASS
                                                   : LATCH_CHECK_WARN);
        json_decref(doc);
    }
    free(text);
}

static void
test_verify_rejects_alg_none_without_signature(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    json_t *sig = json_object_get(doc, "signature");
    const uint8_t zero = 0;

    (void)state;
    json_object_set_new(sig, "algorithm", json_string("none"));
    json_object_set_new(sig, "value", json_string(""));
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "signature.value"));
    set_sig_value(doc, &zero, 1);
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    json_decref(doc);
    free(text);
}

/* CVE-2015-9235 style: an HMAC keyed with the public key as "signature". */
static void
hmac_forgery(EVP_PKEY *key, X509 *cert, const EVP_MD *md)
{
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(key, cert, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    uint8_t *msg = NULL;
    unsigned char *pub = NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    size_t msglen = 0;
    int publen;

    assert_int_equal(latch_license_signed_bytes(json_object_get(doc, "license"),
                                                &msg, &msglen, &err),
                     LATCH_OK);
    publen = i2d_PUBKEY(X509_get0_pubkey(cert), &pub);
    assert_true(publen > 0);
    assert_non_null(HMAC(md, pub, publen, msg, msglen, mac, &maclen));
    set_sig_value(doc, mac, maclen);
    json_object_set_new(json_object_get(doc, "signature"), "algorithm",
                        json_string("HS256"));
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    OPENSSL_free(pub);
    free(msg);
    json_decref(doc);
    free(text);
}

static void
test_verify_rejects_hmac_keyed_with_public_key(void **state)
{
    (void)state;
    hmac_forgery(pki.p256, pki.cert_p256, EVP_sha256());
    hmac_forgery(pki.p384, pki.cert_p384, EVP_sha384());
    /* 64 bytes: the length of an Ed25519 signature. */
    hmac_forgery(pki.ed25519, pki.cert_ed25519, EVP_sha512());
}

/* Decodes a DER ECDSA signature of doc; the caller frees. */
static ECDSA_SIG *
doc_ecdsa_sig(const json_t *doc)
{
    size_t len = 0;
    uint8_t *der = get_sig_value(doc, &len);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);

    assert_non_null(es);
    free(der);
    return es;
}

static void
low_s(EVP_PKEY *key, X509 *cert, int nid)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    BIGNUM *half = BN_new();
    int i;

    assert_int_equal(BN_rshift1(half, EC_GROUP_get0_order(g)), 1);
    for (i = 0; i < 16; i++) {
        char *text = sign_default(key, cert, "2026-06-01T00:00:00Z");
        json_t *doc = load(text);
        ECDSA_SIG *es = doc_ecdsa_sig(doc);

        assert_true(BN_cmp(ECDSA_SIG_get0_s(es), half) <= 0);
        ECDSA_SIG_free(es);
        json_decref(doc);
        free(text);
    }
    BN_free(half);
    EC_GROUP_free(g);
}

static void
test_sign_emits_low_s(void **state)
{
    (void)state;
    low_s(pki.p256, pki.cert_p256, NID_X9_62_prime256v1);
    low_s(pki.p384, pki.cert_p384, NID_secp384r1);
}

/*
 * Documented choice: the verifier accepts the high-S twin (n - s) of a
 * valid signature. Nothing in latch keys on signature bytes: license ids
 * and serials live in the signed payload.
 */
static void
test_verify_accepts_high_s_twin(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    ECDSA_SIG *es = doc_ecdsa_sig(doc);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *hs = BN_new();
    unsigned char *der = NULL;
    int derlen;

    (void)state;
    assert_int_equal(BN_sub(hs, EC_GROUP_get0_order(g), ECDSA_SIG_get0_s(es)),
                     1);
    assert_int_equal(ECDSA_SIG_set0(es, BN_dup(ECDSA_SIG_get0_r(es)), hs), 1);
    derlen = i2d_ECDSA_SIG(es, &der);
    assert_true(derlen > 0);
    set_sig_value(doc, der, (size_t)derlen);
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_OK);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EC_GROUP_free(g);
    json_decref(doc);
    free(text);
}

static void
test_verify_rejects_ber_and_degenerate_ecdsa(void **state)
{
    static const uint8_t zero_rs[] = {0x30, 0x06, 0x02, 0x01,
                                      0x00, 0x02, 0x01, 0x00};
    struct latch_report rep = {0};
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    size_t len = 0;
    uint8_t *sig = get_sig_value(doc, &len);
    uint8_t ber[300];

    (void)state;
    /* Long-form length for the SEQUENCE: valid BER, not DER. */
    assert_true(sig[1] < 0x80);
    ber[0] = 0x30;
    ber[1] = 0x81;
    memcpy(ber + 2, sig + 1, len - 1);
    set_sig_value(doc, ber, len + 1);
    assert_int_equal(check_doc(doc, pki.root, &rep, &err), LATCH_E_SIGNATURE);
    assert_check(&rep, "signature.encoding", LATCH_CHECK_FAIL);
    assert_check(&rep, "signature.value", LATCH_CHECK_SKIP);

    /* A trailing byte after the signature. */
    memcpy(ber, sig, len);
    ber[len] = 0;
    set_sig_value(doc, ber, len + 1);
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);

    /* r = s = 0 (CVE-2022-21449). */
    set_sig_value(doc, zero_rs, sizeof(zero_rs));
    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_SIGNATURE);
    assert_non_null(strstr(err.msg, "signature.encoding"));
    free(sig);
    json_decref(doc);
    free(text);
}

/* ---- the reader --------------------------------------------------------- */

static void
expect_format(const json_t *doc, const char *needle)
{
    struct latch_err err = {LATCH_OK, ""};

    assert_int_equal(check_doc(doc, pki.root, NULL, &err), LATCH_E_FORMAT);
    if (strstr(err.msg, needle) == NULL) {
        fail_msg("message '%s' does not name '%s'", err.msg, needle);
    }
}

static void
test_parse_rejects_features_outside_license(void **state)
{
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);

    (void)state;
    json_object_set_new(doc, "features",
                        json_pack("{s:{s:b}}", "everything", "enabled", 1));
    expect_format(doc, "features");
    json_decref(doc);
    free(text);
}

static void
test_parse_rejects_unknown_member_at_every_level(void **state)
{
    const char *const paths[][4] = {
        {NULL},
        {"license", NULL},
        {"license", "features", "fast-mode", NULL},
        {"license", "binding", NULL},
        {"license", "binding", "activation", NULL},
        {"signature", NULL},
    };
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        json_t *doc = load(text);
        json_t *o = doc;

        for (j = 0; paths[i][j] != NULL; j++) {
            o = json_object_get(o, paths[i][j]);
        }
        json_object_set_new(o, "surprise", json_true());
        expect_format(doc, "surprise");
        json_decref(doc);
    }
    free(text);
}

/* Sets license.<path> = v (a new reference) in a fresh copy and expects a
 * format error naming needle. */
static void
bad_value(const char *text, const char *const *path, json_t *v,
          const char *needle)
{
    json_t *doc = load(text);
    json_t *o = json_object_get(doc, "license");
    size_t j;

    for (j = 0; path[j + 1] != NULL; j++) {
        o = json_object_get(o, path[j]);
        assert_non_null(o);
    }
    if (v == NULL) {
        json_object_del(o, path[j]);
    } else {
        json_object_set_new(o, path[j], v);
    }
    expect_format(doc, needle);
    json_decref(doc);
}

static void
test_parse_rejects_wrong_types_and_values(void **state)
{
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    const char *serial[] = {"serial", NULL};
    const char *enabled[] = {"features", "fast-mode", "enabled", NULL};
    const char *qty[] = {"features", "fast-mode", "quantity", NULL};
    const char *dev[] = {"device_id", NULL};
    const char *ak[] = {"binding", "ak_name", NULL};
    const char *sec[] = {"binding", "activation", "secret_sha256", NULL};
    const char *blob[] = {"binding", "activation", "credential_blob", NULL};
    const char *tmpl[] = {"binding", "ek_template", NULL};
    const char *schema[] = {"binding", "identity_schema", NULL};
    const char *until[] = {"valid_until", NULL};
    const char *issued[] = {"issued_at", NULL};
    const char *cust[] = {"customer", NULL};
    const char *lid[] = {"license_id", NULL};
    const char *feats[] = {"features", NULL};

    (void)state;
    bad_value(text, serial, json_string("3"), "license.serial");
    bad_value(text, serial, json_integer(-1), "license.serial");
    bad_value(text, serial, json_real(3.0), "license.serial");
    bad_value(text, serial, NULL, "license.serial");
    bad_value(text, enabled, json_integer(1), "enabled");
    bad_value(text, qty, json_integer(-5), "quantity");
    bad_value(text, dev,
              json_string("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D"
                          "6C15B0F00A08"),
              "license.device_id");
    bad_value(text, dev, json_string("9f86d081"), "license.device_id");
    bad_value(text, ak, json_string("000b2cf24dba"), "ak_name");
    bad_value(text, ak,
              json_string("000c2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e"
                          "73043362938b9824"),
              "ak_name");
    bad_value(text, sec,
              json_string("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c"
                          "1fa7425e73043362938b98"),
              "secret_sha256");
    bad_value(text, blob, json_string("not base64!"), "credential_blob");
    bad_value(text, blob, json_string("QQ"), "credential_blob");
    bad_value(text, blob, json_string(""), "credential_blob");
    bad_value(text, tmpl, json_string("rsa4096"), "ek_template");
    bad_value(text, schema, json_string("x509_device_cert"), "identity_schema");
    bad_value(text, until, json_string("2026-06-01T00:00:00Z"), "valid_until");
    bad_value(text, until, json_string("2030-01-01T00:00:00+01:00"),
              "valid_until");
    bad_value(text, issued, json_string("2026-06-01 00:00:00Z"), "issued_at");
    bad_value(text, issued, json_integer(1780272000), "issued_at");
    bad_value(text, cust, json_string(""), "customer");
    bad_value(text, cust, json_string("ACME\nCorp"), "customer");
    bad_value(text, lid, json_string("lic\x1b[31m"), "license_id");
    bad_value(text, feats, json_array(), "features");
    free(text);
}

static void
test_parse_rejects_bad_feature_names(void **state)
{
    const char *names[] = {
        "Fast",
        "f\xd0\xb0st", /* Cyrillic a */
        "-x",
        "_x",
        ".x",
        "a b",
        "a/b",
        "",
        "a\xe2\x80\xae", /* U+202E */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *doc = load(text);
        json_t *f =
            json_object_get(json_object_get(doc, "license"), "features");

        json_object_set_new(f, names[i], json_pack("{s:b}", "enabled", 1));
        expect_format(doc, "license.features");
        json_decref(doc);
    }
    free(text);
}

static void
test_parse_rejects_bad_envelope(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    json_t *doc = load(text);
    json_t *sig = json_object_get(doc, "signature");
    const char *cert_b64 =
        json_string_value(json_object_get(sig, "certificate"));
    uint8_t *der = NULL;
    size_t len = 0;
    char *b64 = NULL;

    (void)state;
    json_object_set_new(doc, "format", json_string("latch.license.v2"));
    expect_format(doc, "format");
    json_object_set_new(doc, "format", json_string(LATCH_LICENSE_FORMAT));

    /* A certificate followed by one extra byte. */
    assert_int_equal(latch_b64_decode(cert_b64, 8192, &der, &len, &err),
                     LATCH_OK);
    der = realloc(der, len + 1);
    der[len] = 0;
    assert_int_equal(latch_b64_encode(der, len + 1, &b64), LATCH_OK);
    json_object_set_new(sig, "certificate", json_string(b64));
    expect_format(doc, "signature.certificate");
    json_object_set_new(sig, "certificate", json_string("AAAA"));
    expect_format(doc, "signature.certificate");
    json_object_del(sig, "certificate");
    expect_format(doc, "signature.certificate");
    free(b64);
    free(der);
    json_decref(doc);

    assert_int_equal(check_text("[]", pki.root, NULL, &err), LATCH_E_FORMAT);
    assert_int_equal(
        check_text("{\"format\":\"latch.license.v1\"}", pki.root, NULL, &err),
        LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "license"));
    free(text);
}

static void
test_feature_name_pattern(void **state)
{
    (void)state;
    assert_true(latch_feature_name_ok("a"));
    assert_true(latch_feature_name_ok("0"));
    assert_true(latch_feature_name_ok("fast-mode"));
    assert_true(latch_feature_name_ok("export.csv_v2"));
    assert_true(latch_feature_name_ok(
        "a123456789012345678901234567890123456789012345678901234567890123"));
    assert_false(latch_feature_name_ok(
        "a1234567890123456789012345678901234567890123456789012345678901234"));
    assert_false(latch_feature_name_ok(""));
    assert_false(latch_feature_name_ok(NULL));
    assert_false(latch_feature_name_ok("A"));
    assert_false(latch_feature_name_ok("-a"));
    assert_false(latch_feature_name_ok("a+b"));
    assert_false(latch_feature_name_ok("\xc3\xa9"));
}

static void
test_check_time_bounds(void **state)
{
    struct latch_license *lic = NULL;
    struct latch_err err = {LATCH_OK, ""};
    char *text = sign_default(pki.p256, pki.cert_p256, "2026-06-01T00:00:00Z");
    int64_t from = T_2026;
    int64_t until = from + 3653L * DAY; /* 2036-06-01 */

    (void)state;
    assert_int_equal(latch_license_parse(text, strlen(text), &lic, &err),
                     LATCH_OK);
    assert_int_equal(lic->valid_from, from);
    assert_true(lic->has_valid_until);
    assert_int_equal(lic->valid_until, until);
    assert_int_equal(latch_license_check_time(lic, from - 1, &err),
                     LATCH_E_VALIDITY);
    assert_non_null(strstr(err.msg, "valid_from"));
    assert_int_equal(latch_license_check_time(lic, from, &err), LATCH_OK);
    assert_int_equal(latch_license_check_time(lic, until - 1, &err), LATCH_OK);
    assert_int_equal(latch_license_check_time(lic, until, &err),
                     LATCH_E_VALIDITY);
    assert_non_null(strstr(err.msg, "expired"));
    lic->has_valid_until = false;
    assert_int_equal(latch_license_check_time(lic, until + 1000 * DAY, &err),
                     LATCH_OK);
    latch_license_free(lic);
    free(text);
}

static void
test_signed_bytes_are_prefix_nul_and_jcs(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    json_t *body = body_at("2026-06-01T00:00:00Z");
    uint8_t *msg = NULL;
    char *canon = NULL;
    size_t msglen = 0, clen = 0;

    (void)state;
    assert_int_equal(latch_license_signed_bytes(body, &msg, &msglen, &err),
                     LATCH_OK);
    assert_int_equal(latch_jcs(body, &canon, &clen, &err), LATCH_OK);
    assert_int_equal(msglen, 17 + clen);
    assert_memory_equal(msg, "latch.license.v1\0", 17);
    assert_memory_equal(msg + 17, canon, clen);
    assert_memory_equal(canon, "{\"binding\":{\"activation\":", 25);
    free(canon);
    free(msg);
    json_decref(body);
}

/* docs/format.md section 8: the worked example, byte for byte. */
static void
test_signed_bytes_match_format_md_worked_example(void **state)
{
    static const char body_text[] =
        "{\"license_id\": \"lic-2027-000184\", \"serial\": 3,"
        " \"issued_at\": \"2027-01-15T09:30:00Z\", \"device_id\": "
        "\"5b1e0c7d2f2c8a4e9a0f3b6d1c2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4\","
        " \"enrollment_id\": \"enr-000042\","
        " \"customer\": \"ACME Robotics GmbH\","
        " \"valid_from\": \"2027-01-15T00:00:00Z\","
        " \"valid_until\": \"2028-01-15T00:00:00Z\", \"features\":"
        " {\"vision.pro\": {\"enabled\": true, \"quantity\": 4},"
        " \"export-csv\": {\"enabled\": true,"
        " \"valid_until\": \"2027-07-01T00:00:00Z\"},"
        " \"beta\": {\"enabled\": false}}, \"binding\":"
        " {\"identity_schema\": \"tpm2_ek_ak_binding\","
        " \"ek_template\": \"ecc-p256\", \"ak_name\": "
        "\"000b8f1d4e2b6c3a597081726354a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e"
        "\", \"activation\": {\"credential_blob\": \"AEQAIA==\","
        " \"encrypted_secret\": \"AEQAIA==\", \"secret_sha256\": "
        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}"
        "}}";
    static const char want[] =
        "e57deaf7b568e3d2297cf69b5d5ea4a281fbff45b83499b1fa77359dc91a37dc";
    struct latch_err err = {LATCH_OK, ""};
    struct latch_report rep = {0};
    unsigned char md[32];
    char hex[65];
    json_t *body = NULL;
    uint8_t *msg = NULL;
    size_t msglen = 0;
    char *text;

    (void)state;
    assert_int_equal(
        latch_json_parse(body_text, strlen(body_text), &body, &err), LATCH_OK);
    assert_int_equal(latch_license_signed_bytes(body, &msg, &msglen, &err),
                     LATCH_OK);
    assert_int_equal(msglen, 770);
    assert_non_null(SHA256(msg, msglen, md));
    latch_hex_encode(md, sizeof(md), hex);
    assert_string_equal(hex, want);
    text = sign_body(body, pki.p256, pki.cert_p256);
    assert_int_equal(check_text(text, pki.root, &rep, &err), LATCH_OK);
    free(text);
    free(msg);
    json_decref(body);
}

static void
test_sign_refuses_mismatched_key_and_bad_body(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    json_t *body = body_at("2026-06-01T00:00:00Z");
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(
        latch_license_sign(body, pki.p384, pki.cert_p256, &out, &len, &err),
        LATCH_E_USAGE);
    assert_non_null(strstr(err.msg, "does not belong"));
    json_object_set_new(json_object_get(body, "features"), "Bad Name",
                        json_pack("{s:b}", "enabled", 1));
    assert_int_equal(
        latch_license_sign(body, pki.p256, pki.cert_p256, &out, &len, &err),
        LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "license.features"));
    json_object_del(json_object_get(body, "features"), "Bad Name");
    json_object_set_new(body, "serial", json_real(1.5));
    assert_int_equal(
        latch_license_sign(body, pki.p256, pki.cert_p256, &out, &len, &err),
        LATCH_E_FORMAT);
    assert_null(out);
    json_decref(body);
}

static void
test_cert_from_pem(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    X509 *c = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n;

    (void)state;
    assert_int_equal(latch_cert_from_pem("", &c, &err), LATCH_E_NOT_FOUND);
    assert_null(c);
    assert_int_equal(latch_cert_from_pem("garbage", &c, &err), LATCH_E_FORMAT);
    assert_int_equal(PEM_write_bio_X509(bio, pki.root), 1);
    n = BIO_get_mem_data(bio, &pem);
    pem[n - 1] = '\0'; /* the last newline; BIO memory is writable */
    assert_int_equal(latch_cert_from_pem(pem, &c, &err), LATCH_OK);
    assert_int_equal(X509_cmp(c, pki.root), 0);
    X509_free(c);
    BIO_free(bio);
}

/* ---- Wycheproof --------------------------------------------------------- */

static uint8_t *
unhex(const char *s, size_t *len)
{
    struct latch_err err = {LATCH_OK, ""};
    size_t cap = strlen(s) / 2 + 1;
    uint8_t *out = malloc(cap);

    assert_non_null(out);
    assert_int_equal(latch_hex_decode(s, out, cap, len, &err), LATCH_OK);
    return out;
}

static void
wycheproof(const char *file, size_t want_tests)
{
    json_error_t jerr;
    json_t *doc = json_load_file(file, 0, &jerr);
    json_t *groups, *g, *t;
    size_t i, j, valid = 0, invalid = 0;

    if (doc == NULL) {
        fail_msg("%s: %s (run from the repository root)", file, jerr.text);
    }
    groups = json_object_get(doc, "testGroups");
    json_array_foreach(groups, i, g)
    {
        size_t klen = 0;
        uint8_t *kder =
            unhex(json_string_value(json_object_get(g, "publicKeyDer")), &klen);
        const unsigned char *p = kder;
        EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)klen);

        assert_non_null(key);
        json_array_foreach(json_object_get(g, "tests"), j, t)
        {
            struct latch_err err = {LATCH_OK, ""};
            const char *result =
                json_string_value(json_object_get(t, "result"));
            size_t mlen = 0, slen = 0;
            uint8_t *msg =
                unhex(json_string_value(json_object_get(t, "msg")), &mlen);
            uint8_t *sig =
                unhex(json_string_value(json_object_get(t, "sig")), &slen);
            enum latch_status st =
                latch_license_sig_verify(key, msg, mlen, sig, slen, &err);

            if (strcmp(result, "valid") == 0) {
                if (st != LATCH_OK) {
                    fail_msg("%s tcId %lld: valid vector rejected: %s", file,
                             (long long)json_integer_value(
                                 json_object_get(t, "tcId")),
                             err.msg);
                }
                valid++;
            } else {
                assert_string_equal(result, "invalid");
                if (st == LATCH_OK) {
                    fail_msg("%s tcId %lld: invalid vector accepted (%s)", file,
                             (long long)json_integer_value(
                                 json_object_get(t, "tcId")),
                             json_string_value(json_object_get(t, "comment")));
                }
                invalid++;
            }
            free(sig);
            free(msg);
        }
        EVP_PKEY_free(key);
        free(kder);
    }
    print_message("%s: %zu valid accepted, %zu invalid rejected\n", file, valid,
                  invalid);
    assert_int_equal(valid + invalid, want_tests);
    json_decref(doc);
}

static void
test_wycheproof_ecdsa_p256_sha256(void **state)
{
    (void)state;
    wycheproof(DATA_DIR "ecdsa_secp256r1_sha256_test.json", 484);
}

static void
test_wycheproof_ecdsa_p384_sha384(void **state)
{
    (void)state;
    wycheproof(DATA_DIR "ecdsa_secp384r1_sha384_test.json", 504);
}

static void
test_wycheproof_ed25519(void **state)
{
    (void)state;
    wycheproof(DATA_DIR "ed25519_test.json", 151);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_round_trip_p256),
        cmocka_unit_test(test_sign_verify_round_trip_p384),
        cmocka_unit_test(test_sign_verify_round_trip_ed25519),
        cmocka_unit_test(test_verify_accepts_pretty_compact_and_reordered),
        cmocka_unit_test(test_verify_rejects_every_single_leaf_change_p256),
        cmocka_unit_test(test_verify_rejects_every_single_leaf_change_p384),
        cmocka_unit_test(test_verify_rejects_every_single_leaf_change_ed25519),
        cmocka_unit_test(test_verify_rejects_added_and_removed_members),
        cmocka_unit_test(test_verify_rejects_wrong_root),
        cmocka_unit_test(test_verify_rejects_cert_under_an_intermediate),
        cmocka_unit_test(test_verify_rejects_cert_without_eku),
        cmocka_unit_test(test_verify_rejects_cert_without_digital_signature),
        cmocka_unit_test(test_verify_rejects_ca_or_unconstrained_signing_cert),
        cmocka_unit_test(test_verify_rejects_rsa_and_p521_signing_keys),
        cmocka_unit_test(test_verify_rejects_license_from_rsa_cert),
        cmocka_unit_test(test_verify_rejects_cert_expired_at_issued_at),
        cmocka_unit_test(test_verify_rejects_cert_not_yet_valid_at_issued_at),
        cmocka_unit_test(
            test_verify_accepts_cert_expired_now_but_valid_at_issued_at),
        cmocka_unit_test(test_verify_rejects_truncated_signature),
        cmocka_unit_test(test_verify_ignores_lying_algorithm_member),
        cmocka_unit_test(test_verify_rejects_alg_none_without_signature),
        cmocka_unit_test(test_verify_rejects_hmac_keyed_with_public_key),
        cmocka_unit_test(test_sign_emits_low_s),
        cmocka_unit_test(test_verify_accepts_high_s_twin),
        cmocka_unit_test(test_verify_rejects_ber_and_degenerate_ecdsa),
        cmocka_unit_test(test_parse_rejects_features_outside_license),
        cmocka_unit_test(test_parse_rejects_unknown_member_at_every_level),
        cmocka_unit_test(test_parse_rejects_wrong_types_and_values),
        cmocka_unit_test(test_parse_rejects_bad_feature_names),
        cmocka_unit_test(test_parse_rejects_bad_envelope),
        cmocka_unit_test(test_feature_name_pattern),
        cmocka_unit_test(test_check_time_bounds),
        cmocka_unit_test(test_signed_bytes_are_prefix_nul_and_jcs),
        cmocka_unit_test(test_signed_bytes_match_format_md_worked_example),
        cmocka_unit_test(test_sign_refuses_mismatched_key_and_bad_body),
        cmocka_unit_test(test_cert_from_pem),
        cmocka_unit_test(test_wycheproof_ecdsa_p256_sha256),
        cmocka_unit_test(test_wycheproof_ecdsa_p384_sha384),
        cmocka_unit_test(test_wycheproof_ed25519),
    };

    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
