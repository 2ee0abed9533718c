/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * license.c: license.json strict reading, signing and verification. The
 * signature algorithm comes from the signing certificate's key, never from
 * the file, and the certificate is judged at the license's issued_at, never
 * at the device clock.
 */
#include "license.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "codec.h"
#include "jcs.h"
#include "json.h"
#include "tpmt.h"

#define ID_MAX        128  /* license_id, enrollment_id (bytes) */
#define CUSTOMER_MAX  256  /* customer (bytes) */
#define ALGORITHM_MAX 32   /* signature.algorithm (bytes) */
#define CERT_DER_MAX  8192 /* signature.certificate, decoded */
#define SIG_MAX       256  /* signature.value, decoded (P-384 DER: <= 104) */
#define TPM_BLOB_MAX  1024 /* credential_blob, encrypted_secret, decoded */
#define DETAIL_MAX    LATCH_CHECK_DETAIL_MAX
#define NAME_TEXT_MAX 160

/*
 * The signature schemes latch accepts, one per key type. The key in the
 * signing certificate selects the row; `name` is what the signer writes
 * into the informational `algorithm` member.
 */
struct key_alg {
    const char *name;
    const char *desc;
    const char *md; /* NULL: pure Ed25519 */
    int curve_nid;  /* NID_undef for Ed25519 */
};

static const struct key_alg alg_es256 = {
    "ES256", "EC P-256, ECDSA with SHA-256", "SHA256", NID_X9_62_prime256v1};
static const struct key_alg alg_es384 = {
    "ES384", "EC P-384, ECDSA with SHA-384", "SHA384", NID_secp384r1};
static const struct key_alg alg_ed25519 = {"EdDSA", "Ed25519, pure EdDSA", NULL,
                                           NID_undef};

static const char *const top_members[] = {"format", "license", "signature",
                                          NULL};
static const char *const body_members[] = {
    "license_id",    "serial",   "issued_at",  "device_id",
    "enrollment_id", "customer", "valid_from", "valid_until",
    "features",      "binding",  NULL};
static const char *const feature_members[] = {"enabled", "quantity",
                                              "valid_until", NULL};
static const char *const binding_members[] = {"identity_schema", "ek_template",
                                              "ak_name", "activation", NULL};
static const char *const activation_members[] = {
    "credential_blob", "encrypted_secret", "secret_sha256", NULL};
static const char *const signature_members[] = {"algorithm", "certificate",
                                                "value", NULL};

void
latch_text_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    unsigned char c;

    for (; *s != '\0'; s++) {
        c = (unsigned char)*s;
        if (o + 8 >= cap) {
            snprintf(out + o, cap - o, "...");
            return;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

bool
latch_feature_name_ok(const char *name)
{
    size_t i;
    char c;

    if (name == NULL) {
        return false;
    }
    for (i = 0; name[i] != '\0'; i++) {
        c = name[i];
        if (i >= LATCH_FEATURE_NAME_MAX) {
            return false;
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            continue;
        }
        if (i > 0 && (c == '_' || c == '.' || c == '-')) {
            continue;
        }
        return false;
    }
    return i > 0;
}

/*
 * A required text member: 1..max bytes, no C0 or C1 control characters
 * and no DEL (the JSON reader already guarantees valid UTF-8).
 */
static enum latch_status
get_text(const json_t *obj, const char *key, const char *where, size_t max,
         const char **out, struct latch_err *err)
{
    const unsigned char *p;
    const char *s = NULL;
    enum latch_status st;
    size_t len;

    st = latch_json_get_string(obj, key, where, true, &s, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    len = strlen(s);
    if (len == 0 || len > max) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.%s: length %zu is outside 1..%zu bytes", where,
                             key, len, max);
    }
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f ||
            (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "%s.%s: control character at byte %zu", where,
                                 key, (size_t)(p - (const unsigned char *)s));
        }
    }
    *out = s;
    return LATCH_OK;
}

static enum latch_status
parse_feature(const char *name, const json_t *v, struct latch_feature *f,
              struct latch_err *err)
{
    char where[LATCH_FEATURE_NAME_MAX + 32];
    enum latch_status st;

    snprintf(where, sizeof(where), "license.features.%s", name);
    if (!json_is_object(v)) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: not an object", where);
    }
    st = latch_json_only_members(v, feature_members, where, err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(f->name, sizeof(f->name), "%s", name);
    st = latch_json_get_bool(v, "enabled", where, true, &f->enabled, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_int(v, "quantity", where, false, &f->quantity,
                            &f->has_quantity, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (f->has_quantity && f->quantity < 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.quantity: %lld is negative", where,
                             (long long)f->quantity);
    }
    return latch_json_get_time(v, "valid_until", where, false, &f->valid_until,
                               &f->has_valid_until, err);
}

static enum latch_status
parse_features(struct latch_license *lic, const json_t *body,
               struct latch_err *err)
{
    char shown[LATCH_FEATURE_NAME_MAX * 4 + 8];
    json_t *features = NULL;
    const char *name;
    json_t *v;
    enum latch_status st;
    size_t n;

    st = latch_json_get_object(body, "features", "license", true, &features,
                               NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    n = json_object_size(features);
    if (n > LATCH_FEATURES_MAX) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.features: %zu features, at most %d", n,
                             LATCH_FEATURES_MAX);
    }
    if (n > 0) {
        lic->features = calloc(n, sizeof(*lic->features));
        if (lic->features == NULL) {
            return latch_err_set(err, LATCH_E_NOMEM,
                                 "license.features: out of memory");
        }
    }
    json_object_foreach(features, name, v)
    {
        if (!latch_feature_name_ok(name)) {
            latch_text_escape(name, shown, sizeof(shown));
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "license.features: name '%s' does not "
                                 "match [a-z0-9][a-z0-9_.-]{0,63}",
                                 shown);
        }
        st = parse_feature(name, v, &lic->features[lic->nfeatures], err);
        if (st != LATCH_OK) {
            return st;
        }
        lic->nfeatures++;
    }
    return LATCH_OK;
}

static enum latch_status
check_ak_name(const struct latch_license *lic, struct latch_err *err)
{
    unsigned alg;

    if (lic->ak_name_len < 2) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.binding.ak_name: %zu bytes is too "
                             "short for a TPM name",
                             lic->ak_name_len);
    }
    alg = (unsigned)lic->ak_name[0] << 8 | lic->ak_name[1];
    if ((alg == 0x000b && lic->ak_name_len == 34) ||
        (alg == 0x000c && lic->ak_name_len == 50)) {
        return LATCH_OK;
    }
    return latch_err_set(err, LATCH_E_FORMAT,
                         "license.binding.ak_name: name algorithm 0x%04x "
                         "with %zu bytes is not a SHA-256 (0x000b, 34 bytes) "
                         "or SHA-384 (0x000c, 50 bytes) TPM name",
                         alg, lic->ak_name_len);
}

static enum latch_status
parse_activation(struct latch_license *lic, const json_t *binding,
                 struct latch_err *err)
{
    const char *where = "license.binding.activation";
    json_t *act = NULL;
    enum latch_status st;
    size_t n = 0;

    st = latch_json_get_object(binding, "activation", "license.binding", true,
                               &act, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_only_members(act, activation_members, where, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_b64(act, "credential_blob", where, true, TPM_BLOB_MAX,
                            &lic->credential_blob, &lic->credential_blob_len,
                            NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_b64(act, "encrypted_secret", where, true, TPM_BLOB_MAX,
                            &lic->encrypted_secret, &lic->encrypted_secret_len,
                            NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (lic->credential_blob_len == 0 || lic->encrypted_secret_len == 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s: credential_blob and encrypted_secret "
                             "must not be empty",
                             where);
    }
    st = latch_json_get_hex(act, "secret_sha256", where, true,
                            lic->secret_sha256, sizeof(lic->secret_sha256), &n,
                            NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (n != sizeof(lic->secret_sha256)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.secret_sha256: %zu bytes, expected 32", where,
                             n);
    }
    return LATCH_OK;
}

static enum latch_status
parse_binding(struct latch_license *lic, const json_t *body,
              struct latch_err *err)
{
    const char *where = "license.binding";
    char shown[64];
    json_t *binding = NULL;
    enum latch_status st;

    st = latch_json_get_object(body, "binding", "license", true, &binding, NULL,
                               err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_only_members(binding, binding_members, where, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_string(binding, "identity_schema", where, true,
                               &lic->identity_schema, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(lic->identity_schema, LATCH_IDENTITY_SCHEMA) != 0) {
        latch_text_escape(lic->identity_schema, shown, sizeof(shown));
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.identity_schema: '%s' is not '%s'", where,
                             shown, LATCH_IDENTITY_SCHEMA);
    }
    st = latch_json_get_string(binding, "ek_template", where, true,
                               &lic->ek_template, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (latch_ek_info_by_name(lic->ek_template) == NULL) {
        latch_text_escape(lic->ek_template, shown, sizeof(shown));
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.ek_template: '%s' is not rsa2048, ecc-p256 "
                             "or ecc-p384",
                             where, shown);
    }
    st = latch_json_get_hex(binding, "ak_name", where, true, lic->ak_name,
                            sizeof(lic->ak_name), &lic->ak_name_len, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = check_ak_name(lic, err);
    if (st != LATCH_OK) {
        return st;
    }
    return parse_activation(lic, binding, err);
}

static enum latch_status
parse_times(struct latch_license *lic, const json_t *body,
            struct latch_err *err)
{
    enum latch_status st;

    st = latch_json_get_time(body, "issued_at", "license", true,
                             &lic->issued_at, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_time(body, "valid_from", "license", true,
                             &lic->valid_from, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_time(body, "valid_until", "license", false,
                             &lic->valid_until, &lic->has_valid_until, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (lic->has_valid_until && lic->valid_until <= lic->valid_from) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.valid_until: not after valid_from");
    }
    return LATCH_OK;
}

static enum latch_status
parse_body(struct latch_license *lic, const json_t *body, struct latch_err *err)
{
    uint8_t id[32];
    size_t idlen = 0;
    enum latch_status st;

    st = latch_json_only_members(body, body_members, "license", err);
    if (st != LATCH_OK) {
        return st;
    }
    st = get_text(body, "license_id", "license", ID_MAX, &lic->license_id, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_int(body, "serial", "license", true, &lic->serial, NULL,
                            err);
    if (st != LATCH_OK) {
        return st;
    }
    if (lic->serial < 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.serial: %lld is negative",
                             (long long)lic->serial);
    }
    st = latch_json_get_string(body, "device_id", "license", true,
                               &lic->device_id, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_json_get_hex(body, "device_id", "license", true, id, sizeof(id),
                            &idlen, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (idlen != sizeof(id)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.device_id: %zu bytes, expected 32 "
                             "(SHA-256)",
                             idlen);
    }
    st = get_text(body, "enrollment_id", "license", ID_MAX, &lic->enrollment_id,
                  err);
    if (st != LATCH_OK) {
        return st;
    }
    st = get_text(body, "customer", "license", CUSTOMER_MAX, &lic->customer,
                  err);
    if (st != LATCH_OK) {
        return st;
    }
    st = parse_times(lic, body, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = parse_features(lic, body, err);
    if (st != LATCH_OK) {
        return st;
    }
    return parse_binding(lic, body, err);
}

/*
 * A certificate the caller already holds, with its DER: a license whose
 * signature.certificate is exactly these bytes gets this X509 (a reference)
 * instead of a second decode of the same bytes. The signer's self-check
 * uses it; readers pass NULL and decode.
 */
struct known_cert {
    X509 *x509;
    const uint8_t *der;
    size_t len;
};

static enum latch_status
parse_signature(struct latch_license *lic, const json_t *doc,
                const struct known_cert *known, struct latch_err *err)
{
    const char *where = "signature";
    const unsigned char *p;
    json_t *sig = NULL;
    uint8_t *der = NULL;
    size_t derlen = 0;
    enum latch_status st;

    st = latch_json_get_object(doc, "signature", "", true, &sig, NULL, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = latch_json_only_members(sig, signature_members, where, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = get_text(sig, "algorithm", where, ALGORITHM_MAX, &lic->algorithm, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = latch_json_get_b64(sig, "certificate", where, true, CERT_DER_MAX, &der,
                            &derlen, NULL, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (known != NULL && known->len == derlen &&
        memcmp(known->der, der, derlen) == 0 && X509_up_ref(known->x509) == 1) {
        lic->signer = known->x509;
        p = der + derlen;
    } else {
        p = der;
        lic->signer = d2i_X509(NULL, &p, (long)derlen);
    }
    if (lic->signer == NULL || (size_t)(p - der) != derlen) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "signature.certificate: not exactly one DER "
                            "X.509 certificate (%zu bytes)",
                            derlen);
        goto out;
    }
    st = latch_json_get_b64(sig, "value", where, true, SIG_MAX, &lic->sig,
                            &lic->siglen, NULL, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (lic->siglen == 0) {
        st = latch_err_set(err, LATCH_E_FORMAT, "signature.value: empty");
        goto out;
    }

out:
    free(der);
    return st;
}

static enum latch_status
parse_doc(struct latch_license *lic, const struct known_cert *known,
          struct latch_err *err)
{
    const char *format = NULL;
    json_t *body = NULL;
    char shown[64];
    enum latch_status st;

    if (!json_is_object(lic->doc)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license file: the top level is not an object");
    }
    st = latch_json_only_members(lic->doc, top_members, "", err);
    if (st != LATCH_OK) {
        return st;
    }
    st =
        latch_json_get_string(lic->doc, "format", "", true, &format, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(format, LATCH_LICENSE_FORMAT) != 0) {
        latch_text_escape(format, shown, sizeof(shown));
        return latch_err_set(err, LATCH_E_FORMAT, "format: '%s' is not '%s'",
                             shown, LATCH_LICENSE_FORMAT);
    }
    st = latch_json_get_object(lic->doc, "license", "", true, &body, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    lic->body = body;
    st = parse_body(lic, body, err);
    if (st != LATCH_OK) {
        return st;
    }
    return parse_signature(lic, lic->doc, known, err);
}

static enum latch_status
license_parse(const char *buf, size_t len, const struct known_cert *known,
              struct latch_license **out, struct latch_err *err)
{
    struct latch_license *lic = NULL;
    enum latch_status st;

    if (out == NULL || buf == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "latch_license_parse: NULL argument");
    }
    *out = NULL;
    lic = calloc(1, sizeof(*lic));
    if (lic == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "license: out of memory");
        goto out;
    }
    st = latch_json_parse(buf, len, &lic->doc, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = parse_doc(lic, known, err);
    if (st != LATCH_OK) {
        goto out;
    }
    *out = lic;
    lic = NULL;

out:
    latch_license_free(lic);
    return st;
}

enum latch_status
latch_license_parse(const char *buf, size_t len, struct latch_license **out,
                    struct latch_err *err)
{
    return license_parse(buf, len, NULL, out, err);
}

void
latch_license_free(struct latch_license *lic)
{
    if (lic == NULL) {
        return;
    }
    json_decref(lic->doc);
    free(lic->features);
    if (lic->credential_blob != NULL) {
        OPENSSL_cleanse(lic->credential_blob, lic->credential_blob_len);
    }
    free(lic->credential_blob);
    if (lic->encrypted_secret != NULL) {
        OPENSSL_cleanse(lic->encrypted_secret, lic->encrypted_secret_len);
    }
    free(lic->encrypted_secret);
    X509_free(lic->signer);
    free(lic->sig);
    OPENSSL_cleanse(lic, sizeof(*lic));
    free(lic);
}

const struct latch_feature *
latch_license_feature(const struct latch_license *lic, const char *name)
{
    size_t i;

    if (lic == NULL || name == NULL) {
        return NULL;
    }
    for (i = 0; i < lic->nfeatures; i++) {
        if (strcmp(lic->features[i].name, name) == 0) {
            return &lic->features[i];
        }
    }
    return NULL;
}

enum latch_status
latch_license_check_time(const struct latch_license *lic, int64_t now,
                         struct latch_err *err)
{
    char a[LATCH_TIME_LEN];
    char b[LATCH_TIME_LEN];

    latch_time_format(now, b);
    if (now < lic->valid_from) {
        latch_time_format(lic->valid_from, a);
        return latch_err_set(err, LATCH_E_VALIDITY,
                             "license.valid_from: not valid before %s "
                             "(now %s)",
                             a, b);
    }
    if (lic->has_valid_until && now >= lic->valid_until) {
        latch_time_format(lic->valid_until, a);
        return latch_err_set(err, LATCH_E_VALIDITY,
                             "license.valid_until: expired at %s (now %s)", a,
                             b);
    }
    return LATCH_OK;
}

enum latch_status
latch_license_signed_bytes(const json_t *body, uint8_t **out, size_t *outlen,
                           struct latch_err *err)
{
    static const char prefix[] = LATCH_LICENSE_FORMAT; /* NUL included */
    char *canon = NULL;
    size_t clen = 0;
    uint8_t *buf = NULL;
    enum latch_status st;

    *out = NULL;
    *outlen = 0;
    if (!json_is_object(body)) {
        return latch_err_set(err, LATCH_E_FORMAT, "license: not an object");
    }
    st = latch_jcs(body, &canon, &clen, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "license: canonical form");
        goto out;
    }
    buf = malloc(sizeof(prefix) + clen);
    if (buf == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "signed bytes: out of memory");
        goto out;
    }
    memcpy(buf, prefix, sizeof(prefix));
    memcpy(buf + sizeof(prefix), canon, clen);
    *out = buf;
    *outlen = sizeof(prefix) + clen;

out:
    free(canon);
    return st;
}

/* ---- keys and the signature primitive -------------------------------- */

static void
describe_key(EVP_PKEY *key, char *out, size_t cap)
{
    char group[64];

    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1) {
        snprintf(out, cap, "EC %s", group);
        return;
    }
    snprintf(out, cap, "%s-%d",
             EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key)
                                                  : "unknown",
             EVP_PKEY_get_bits(key));
}

/* Picks the scheme from the key; anything but P-256, P-384, Ed25519 fails. */
static enum latch_status
key_alg_of(EVP_PKEY *key, const struct key_alg **out, struct latch_err *err)
{
    char group[64];
    char desc[96];
    int explicit_params = 0;
    int nid;

    *out = NULL;
    if (key == NULL) {
        return latch_err_set(err, LATCH_E_SIGNATURE, "signing key: none");
    }
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        *out = &alg_ed25519;
        return LATCH_OK;
    }
    describe_key(key, desc, sizeof(desc));
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return latch_err_set(err, LATCH_E_SIGNATURE,
                             "signing key: %s is not accepted (EC P-256, "
                             "EC P-384 or Ed25519)",
                             desc);
    }
    if (EVP_PKEY_get_int_param(key,
                               OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS,
                               &explicit_params) == 1 &&
        explicit_params != 0) {
        ERR_clear_error();
        return latch_err_set(err, LATCH_E_SIGNATURE,
                             "signing key: EC key with explicit curve "
                             "parameters (only named curves)");
    }
    ERR_clear_error();
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1) {
        return latch_err_ossl(err, LATCH_E_SIGNATURE,
                              "signing key: EC key without a named curve");
    }
    nid = OBJ_sn2nid(group);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(group);
    }
    if (nid == alg_es256.curve_nid) {
        *out = &alg_es256;
    } else if (nid == alg_es384.curve_nid) {
        *out = &alg_es384;
    } else {
        return latch_err_set(err, LATCH_E_SIGNATURE,
                             "signing key: %s is not accepted (EC P-256, "
                             "EC P-384 or Ed25519)",
                             desc);
    }
    return LATCH_OK;
}

/* Requires exactly one ECDSA-Sig-Value in DER with r > 0 and s > 0. */
static enum latch_status
ecdsa_der_check(const uint8_t *sig, size_t siglen, struct latch_err *err)
{
    const unsigned char *p = sig;
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    ECDSA_SIG *es = NULL;
    unsigned char *der = NULL;
    enum latch_status st = LATCH_OK;
    int derlen;

    if (siglen == 0 || siglen > SIG_MAX) {
        return latch_err_set(err, LATCH_E_SIGNATURE,
                             "signature: %zu bytes is not an ECDSA "
                             "signature",
                             siglen);
    }
    es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
    if (es == NULL) {
        st = latch_err_ossl(err, LATCH_E_SIGNATURE,
                            "signature: not a DER ECDSA-Sig-Value");
        goto out;
    }
    derlen = i2d_ECDSA_SIG(es, &der);
    if ((size_t)(p - sig) != siglen || derlen < 0 || (size_t)derlen != siglen ||
        memcmp(der, sig, siglen) != 0) {
        st = latch_err_set(err, LATCH_E_SIGNATURE,
                           "signature: not strict DER (BER, non-minimal "
                           "integers or trailing bytes)");
        goto out;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_is_zero(r) || BN_is_zero(s) || BN_is_negative(r) ||
        BN_is_negative(s)) {
        st = latch_err_set(err, LATCH_E_SIGNATURE,
                           "signature: r or s is zero or negative");
        goto out;
    }

out:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    ERR_clear_error();
    return st;
}

static enum latch_status
sig_encoding_check(const struct key_alg *alg, const uint8_t *sig, size_t siglen,
                   struct latch_err *err)
{
    if (alg == &alg_ed25519) {
        if (siglen != 64) {
            return latch_err_set(err, LATCH_E_SIGNATURE,
                                 "signature: %zu bytes, an Ed25519 "
                                 "signature has 64",
                                 siglen);
        }
        return LATCH_OK;
    }
    return ecdsa_der_check(sig, siglen, err);
}

enum latch_status
latch_license_sig_verify(EVP_PKEY *key, const uint8_t *msg, size_t msglen,
                         const uint8_t *sig, size_t siglen,
                         struct latch_err *err)
{
    const struct key_alg *alg = NULL;
    EVP_MD_CTX *mctx = NULL;
    enum latch_status st;
    int rc;

    st = key_alg_of(key, &alg, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = sig_encoding_check(alg, sig, siglen, err);
    if (st != LATCH_OK) {
        return st;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "signature: out of memory");
        goto out;
    }
    if (EVP_DigestVerifyInit_ex(mctx, NULL, alg->md, NULL, NULL, key, NULL) !=
        1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO,
                            "signature: cannot set up %s verification",
                            alg->desc);
        goto out;
    }
    rc = EVP_DigestVerify(mctx, sig, siglen, msg, msglen);
    if (rc != 1) {
        st = latch_err_set(err, LATCH_E_SIGNATURE,
                           "signature: does not verify with the signing "
                           "certificate's key (%s)",
                           alg->desc);
        goto out;
    }

out:
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return st;
}

/* ---- verification ---------------------------------------------------- */

struct vstate {
    struct latch_report *rep;
    struct latch_err *err;
    bool failed;
};

static void vcheck(struct vstate *v, const char *name,
                   enum latch_check_result result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
vcheck(struct vstate *v, const char *name, enum latch_check_result result,
       const char *fmt, ...)
{
    char detail[DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(detail, sizeof(detail), fmt, ap) < 0) {
        detail[0] = '\0';
    }
    va_end(ap);
    latch_report_add(v->rep, name, result, "%s", detail);
    if (result == LATCH_CHECK_FAIL && !v->failed) {
        v->failed = true;
        latch_err_set(v->err, LATCH_E_SIGNATURE, "%s: %s", name, detail);
    }
}

static void
name_text(const X509_NAME *name, char *out, size_t cap)
{
    BIO *bio = NULL;
    int n;

    out[0] = '\0';
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return;
    }
    /* RFC 2253 escaping shows control and non-ASCII bytes as \XX. */
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >=
        0) {
        n = BIO_read(bio, out, (int)cap - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

static bool
asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

static void
check_basic_constraints(struct vstate *v, X509 *cert)
{
    uint32_t flags = X509_get_extension_flags(cert);

    if ((flags & EXFLAG_INVALID) != 0) {
        vcheck(v, "cert.extensions", LATCH_CHECK_FAIL,
               "signing certificate has invalid or duplicate extensions");
        return;
    }
    if ((flags & EXFLAG_BCONS) == 0) {
        vcheck(v, "cert.basic-constraints", LATCH_CHECK_FAIL,
               "no basicConstraints extension (CA:FALSE required)");
    } else if ((flags & EXFLAG_CA) != 0) {
        vcheck(v, "cert.basic-constraints", LATCH_CHECK_FAIL,
               "signing certificate is a CA (CA:TRUE); CA:FALSE required");
    } else {
        vcheck(v, "cert.basic-constraints", LATCH_CHECK_PASS, "CA:FALSE");
    }
}

static void
check_key_usage(struct vstate *v, X509 *cert)
{
    uint32_t flags = X509_get_extension_flags(cert);

    if ((flags & EXFLAG_KUSAGE) == 0) {
        vcheck(v, "cert.key-usage", LATCH_CHECK_FAIL,
               "no keyUsage extension (digitalSignature required)");
    } else if ((X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) == 0) {
        vcheck(v, "cert.key-usage", LATCH_CHECK_FAIL,
               "keyUsage lacks digitalSignature");
    } else {
        vcheck(v, "cert.key-usage", LATCH_CHECK_PASS, "digitalSignature");
    }
}

static void
check_eku(struct vstate *v, X509 *cert)
{
    STACK_OF(ASN1_OBJECT) *eku = NULL;
    ASN1_OBJECT *want = NULL;
    char seen[DETAIL_MAX / 2];
    char oid[80];
    size_t used = 0;
    int crit = 0;
    int i;
    bool found = false;

    seen[0] = '\0';
    want = OBJ_txt2obj(LATCH_EKU_LICENSE_SIGNING_OID, 1);
    if (want == NULL) {
        vcheck(v, "cert.eku", LATCH_CHECK_FAIL,
               "cannot build the latch EKU object");
        goto out;
    }
    eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL) {
        vcheck(v, "cert.eku", LATCH_CHECK_FAIL,
               crit == -1 ? "no extendedKeyUsage extension (latch license "
                            "signing " LATCH_EKU_LICENSE_SIGNING_OID
                            " required)"
                          : "extendedKeyUsage extension is unreadable or "
                            "repeated");
        goto out;
    }
    for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);

        if (OBJ_cmp(o, want) == 0) {
            found = true;
        }
        if (OBJ_obj2txt(oid, sizeof(oid), o, 0) > 0 &&
            used + strlen(oid) + 3 < sizeof(seen)) {
            used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%s%s",
                                     used > 0 ? ", " : "", oid);
        }
    }
    if (found) {
        vcheck(v, "cert.eku", LATCH_CHECK_PASS,
               "latch license signing (" LATCH_EKU_LICENSE_SIGNING_OID ")");
    } else {
        vcheck(v, "cert.eku", LATCH_CHECK_FAIL,
               "extendedKeyUsage [%s] lacks latch license signing "
               "(" LATCH_EKU_LICENSE_SIGNING_OID ")",
               seen);
    }

out:
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    ASN1_OBJECT_free(want);
    ERR_clear_error();
}

static void
check_validity_at(struct vstate *v, X509 *cert, int64_t issued_at)
{
    char nb[LATCH_TIME_LEN];
    char na[LATCH_TIME_LEN];
    char at[LATCH_TIME_LEN];
    int64_t not_before = 0;
    int64_t not_after = 0;

    latch_time_format(issued_at, at);
    if (!asn1_time_epoch(X509_get0_notBefore(cert), &not_before) ||
        !asn1_time_epoch(X509_get0_notAfter(cert), &not_after)) {
        vcheck(v, "cert.valid-at-issue", LATCH_CHECK_FAIL,
               "unreadable validity dates");
        return;
    }
    latch_time_format(not_before, nb);
    latch_time_format(not_after, na);
    /* Same bounds as OpenSSL: notBefore <= t < notAfter. */
    if (issued_at < not_before) {
        vcheck(v, "cert.valid-at-issue", LATCH_CHECK_FAIL,
               "not yet valid at issued_at %s (notBefore %s)", at, nb);
    } else if (issued_at >= not_after) {
        vcheck(v, "cert.valid-at-issue", LATCH_CHECK_FAIL,
               "expired at issued_at %s (notAfter %s)", at, na);
    } else {
        vcheck(v, "cert.valid-at-issue", LATCH_CHECK_PASS,
               "valid %s .. %s, issued_at %s", nb, na, at);
    }
}

static void
check_chain(struct vstate *v, X509 *cert, X509 *root, int64_t issued_at)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509_VERIFY_PARAM *param;
    char rootname[NAME_TEXT_MAX];
    char at[LATCH_TIME_LEN];
    int code;

    name_text(X509_get_subject_name(root), rootname, sizeof(rootname));
    latch_time_format(issued_at, at);
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL || X509_STORE_add_cert(store, root) != 1 ||
        X509_STORE_CTX_init(ctx, store, cert, NULL) != 1) {
        vcheck(v, "cert.chain", LATCH_CHECK_FAIL,
               "cannot set up chain verification");
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    /* The root is the only anchor and signs the signing cert directly. */
    X509_VERIFY_PARAM_set_depth(param, 0);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_time(param, (time_t)issued_at);
    if (X509_verify_cert(ctx) == 1) {
        vcheck(v, "cert.chain", LATCH_CHECK_PASS,
               "issued by root %s, checked at issued_at %s", rootname, at);
    } else {
        code = X509_STORE_CTX_get_error(ctx);
        vcheck(v, "cert.chain", LATCH_CHECK_FAIL,
               "does not chain to root %s at issued_at %s: %s (depth %d)",
               rootname, at, X509_verify_cert_error_string(code),
               X509_STORE_CTX_get_error_depth(ctx));
    }

out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
}

static void
check_signature(struct vstate *v, const struct latch_license *lic,
                EVP_PKEY *key, const struct key_alg *alg)
{
    struct latch_err e = {LATCH_OK, ""};
    uint8_t *msg = NULL;
    size_t msglen = 0;

    if (alg == NULL) {
        vcheck(v, "signature.encoding", LATCH_CHECK_SKIP,
               "no accepted key type");
        vcheck(v, "signature.value", LATCH_CHECK_SKIP, "no accepted key type");
        return;
    }
    if (sig_encoding_check(alg, lic->sig, lic->siglen, &e) != LATCH_OK) {
        vcheck(v, "signature.encoding", LATCH_CHECK_FAIL, "%s", e.msg);
        vcheck(v, "signature.value", LATCH_CHECK_SKIP,
               "signature is malformed");
        return;
    }
    vcheck(v, "signature.encoding", LATCH_CHECK_PASS, "%s, %zu bytes",
           alg == &alg_ed25519 ? "Ed25519" : "strict DER ECDSA", lic->siglen);
    if (latch_license_signed_bytes(lic->body, &msg, &msglen, &e) != LATCH_OK) {
        vcheck(v, "signature.value", LATCH_CHECK_FAIL, "%s", e.msg);
        return;
    }
    if (latch_license_sig_verify(key, msg, msglen, lic->sig, lic->siglen, &e) !=
        LATCH_OK) {
        vcheck(v, "signature.value", LATCH_CHECK_FAIL, "%s", e.msg);
    } else {
        vcheck(v, "signature.value", LATCH_CHECK_PASS,
               "%s over %zu canonical bytes", alg->desc, msglen);
    }
    free(msg);
}

enum latch_status
latch_license_verify(const struct latch_license *lic, X509 *root,
                     struct latch_report *rep, struct latch_err *err)
{
    struct vstate v = {rep, err, false};
    struct latch_err e = {LATCH_OK, ""};
    const struct key_alg *alg = NULL;
    char shown[ALGORITHM_MAX * 4 + 8];
    EVP_PKEY *key;

    if (lic == NULL || lic->signer == NULL || root == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "latch_license_verify: no license or no root");
    }
    check_basic_constraints(&v, lic->signer);
    check_key_usage(&v, lic->signer);
    check_eku(&v, lic->signer);
    check_validity_at(&v, lic->signer, lic->issued_at);
    check_chain(&v, lic->signer, root, lic->issued_at);

    key = X509_get0_pubkey(lic->signer);
    if (key_alg_of(key, &alg, &e) != LATCH_OK) {
        vcheck(&v, "cert.key", LATCH_CHECK_FAIL, "%s", e.msg);
    } else {
        vcheck(&v, "cert.key", LATCH_CHECK_PASS, "%s", alg->desc);
        latch_text_escape(lic->algorithm, shown, sizeof(shown));
        if (strcmp(lic->algorithm, alg->name) == 0) {
            vcheck(&v, "signature.algorithm", LATCH_CHECK_PASS,
                   "'%s' (informational; the key decides)", shown);
        } else {
            vcheck(&v, "signature.algorithm", LATCH_CHECK_WARN,
                   "member says '%s', ignored: the key decides %s", shown,
                   alg->name);
        }
    }
    check_signature(&v, lic, key, alg);
    ERR_clear_error();
    return v.failed ? LATCH_E_SIGNATURE : LATCH_OK;
}

/* ---- signing --------------------------------------------------------- */

/*
 * The orders of the two ECDSA curves and their halves, built once per
 * process (an EC_GROUP per signature cost as much as the signature's
 * hashing and encoding together). Read-only after the first use.
 */
static CRYPTO_ONCE curve_once = CRYPTO_ONCE_STATIC_INIT;
static BIGNUM *curve_order[2];
static BIGNUM *curve_half[2];

static void
curve_orders_init(void)
{
    static const int nids[2] = {NID_X9_62_prime256v1, NID_secp384r1};
    EC_GROUP *g;
    size_t i;

    for (i = 0; i < 2; i++) {
        g = EC_GROUP_new_by_curve_name(nids[i]);
        curve_order[i] = g != NULL ? BN_dup(EC_GROUP_get0_order(g)) : NULL;
        curve_half[i] = BN_new();
        if (curve_order[i] == NULL || curve_half[i] == NULL ||
            BN_rshift1(curve_half[i], curve_order[i]) != 1) {
            BN_free(curve_order[i]);
            BN_free(curve_half[i]);
            curve_order[i] = NULL;
            curve_half[i] = NULL;
        }
        EC_GROUP_free(g);
    }
}

/* Rewrites a DER ECDSA signature so that s <= n/2 (the low-S twin). */
static enum latch_status
ecdsa_low_s(int curve_nid, uint8_t **sig, size_t *siglen, struct latch_err *err)
{
    const unsigned char *p = *sig;
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    const BIGNUM *order = NULL;
    const BIGNUM *half = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *nr = NULL;
    BIGNUM *ns = NULL;
    unsigned char *der = NULL;
    enum latch_status st = LATCH_OK;
    size_t i = curve_nid == NID_secp384r1 ? 1 : 0;
    int derlen;

    if (CRYPTO_THREAD_run_once(&curve_once, curve_orders_init) == 1) {
        order = curve_order[i];
        half = curve_half[i];
    }
    es = d2i_ECDSA_SIG(NULL, &p, (long)*siglen);
    if (order == NULL || es == NULL) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: low-S form");
        goto out;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_cmp(s, half) <= 0) {
        goto out;
    }
    nr = BN_dup(r);
    ns = BN_new();
    if (nr == NULL || ns == NULL || BN_sub(ns, order, s) != 1 ||
        ECDSA_SIG_set0(es, nr, ns) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: low-S form");
        goto out;
    }
    nr = NULL;
    ns = NULL;
    derlen = i2d_ECDSA_SIG(es, &der);
    if (derlen <= 0) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: low-S encoding");
        goto out;
    }
    free(*sig);
    *sig = malloc((size_t)derlen);
    if (*sig == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "sign: out of memory");
        goto out;
    }
    memcpy(*sig, der, (size_t)derlen);
    *siglen = (size_t)derlen;

out:
    OPENSSL_free(der);
    BN_free(nr);
    BN_free(ns);
    ECDSA_SIG_free(es);
    return st;
}

static enum latch_status
sign_bytes(EVP_PKEY *key, const struct key_alg *alg, const uint8_t *msg,
           size_t msglen, uint8_t **sig, size_t *siglen, struct latch_err *err)
{
    EVP_MD_CTX *mctx = NULL;
    enum latch_status st = LATCH_OK;
    size_t len = 0;

    *sig = NULL;
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL ||
        EVP_DigestSignInit_ex(mctx, NULL, alg->md, NULL, NULL, key, NULL) !=
            1 ||
        EVP_DigestSign(mctx, NULL, &len, msg, msglen) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: %s set-up failed",
                            alg->desc);
        goto out;
    }
    *sig = malloc(len);
    if (*sig == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "sign: out of memory");
        goto out;
    }
    if (EVP_DigestSign(mctx, *sig, &len, msg, msglen) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: %s failed", alg->desc);
        goto out;
    }
    *siglen = len;
    if (alg != &alg_ed25519) {
        st = ecdsa_low_s(alg->curve_nid, sig, siglen, err);
    }

out:
    if (st != LATCH_OK) {
        free(*sig);
        *sig = NULL;
    }
    EVP_MD_CTX_free(mctx);
    return st;
}

/* Builds the whole file as pretty-printed JSON with a final newline. */
static enum latch_status
assemble(const json_t *body, const struct key_alg *alg, const uint8_t *der,
         size_t derlen, const uint8_t *sig, size_t siglen, char **out,
         size_t *outlen, struct latch_err *err)
{
    char *cert_b64 = NULL;
    char *sig_b64 = NULL;
    json_t *copy = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    char *buf = NULL;
    enum latch_status st;
    size_t len;

    st = latch_b64_encode(der, derlen, &cert_b64);
    if (st == LATCH_OK) {
        st = latch_b64_encode(sig, siglen, &sig_b64);
    }
    if (st != LATCH_OK) {
        st = latch_err_set(err, st, "sign: base64 encoding failed");
        goto out;
    }
    copy = json_deep_copy(body);
    doc = copy == NULL ? NULL
                       : json_pack("{s:s, s:O, s:{s:s, s:s, s:s}}", "format",
                                   LATCH_LICENSE_FORMAT, "license", copy,
                                   "signature", "algorithm", alg->name,
                                   "certificate", cert_b64, "value", sig_b64);
    text = doc == NULL ? NULL : json_dumps(doc, JSON_INDENT(2));
    if (text == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "sign: building the file");
        goto out;
    }
    len = strlen(text);
    buf = malloc(len + 2);
    if (buf == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "sign: out of memory");
        goto out;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    *out = buf;
    *outlen = len + 1;

out:
    free(text);
    json_decref(doc);
    json_decref(copy);
    free(sig_b64);
    free(cert_b64);
    return st;
}

/*
 * Reads the signed file back with the device's own parser and checks the
 * signature over what that parser saw: a body that the reader would refuse,
 * or that canonicalizes differently after a round trip, never leaves here.
 * The signing certificate is the one in hand (its DER is compared byte for
 * byte), so it is not decoded again.
 */
static enum latch_status
self_check(const char *text, size_t len, const struct known_cert *cert,
           struct latch_err *err)
{
    struct latch_err e = {LATCH_OK, ""};
    struct latch_license *lic = NULL;
    uint8_t *msg = NULL;
    size_t msglen = 0;
    enum latch_status st;

    st = license_parse(text, len, cert, &lic, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "sign: the license body breaks a format rule");
        goto out;
    }
    st = latch_license_signed_bytes(lic->body, &msg, &msglen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (latch_license_sig_verify(X509_get0_pubkey(lic->signer), msg, msglen,
                                 lic->sig, lic->siglen, &e) != LATCH_OK) {
        st =
            latch_err_set(err, LATCH_E_INTERNAL, "sign: self-check: %s", e.msg);
    }

out:
    free(msg);
    latch_license_free(lic);
    return st;
}

enum latch_status
latch_license_sign(const json_t *body, EVP_PKEY *key, X509 *cert, char **out,
                   size_t *outlen, struct latch_err *err)
{
    struct latch_err e = {LATCH_OK, ""};
    const struct key_alg *alg = NULL;
    struct known_cert known = {cert, NULL, 0};
    unsigned char *der = NULL;
    uint8_t *msg = NULL;
    uint8_t *sig = NULL;
    char *text = NULL;
    size_t msglen = 0;
    size_t siglen = 0;
    size_t textlen = 0;
    enum latch_status st;
    int derlen;

    if (body == NULL || key == NULL || cert == NULL || out == NULL ||
        outlen == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "latch_license_sign: NULL argument");
    }
    *out = NULL;
    *outlen = 0;
    if (key_alg_of(key, &alg, &e) != LATCH_OK) {
        st = latch_err_set(err, LATCH_E_USAGE, "sign: %s", e.msg);
        goto out;
    }
    if (EVP_PKEY_eq(key, X509_get0_pubkey(cert)) != 1) {
        ERR_clear_error();
        st = latch_err_set(err, LATCH_E_USAGE,
                           "sign: the key does not belong to the signing "
                           "certificate");
        goto out;
    }
    st = latch_license_signed_bytes(body, &msg, &msglen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = sign_bytes(key, alg, msg, msglen, &sig, &siglen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    derlen = i2d_X509(cert, &der);
    if (derlen <= 0) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "sign: certificate DER");
        goto out;
    }
    known.der = der;
    known.len = (size_t)derlen;
    st = assemble(body, alg, der, known.len, sig, siglen, &text, &textlen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = self_check(text, textlen, &known, err);
    if (st != LATCH_OK) {
        goto out;
    }
    *out = text;
    *outlen = textlen;
    text = NULL;

out:
    OPENSSL_free(der);
    free(text);
    free(sig);
    free(msg);
    return st;
}

enum latch_status
latch_cert_from_pem(const char *pem, X509 **out, struct latch_err *err)
{
    BIO *bio = NULL;
    enum latch_status st = LATCH_OK;

    *out = NULL;
    if (pem == NULL || pem[0] == '\0') {
        return latch_err_set(err, LATCH_E_NOT_FOUND,
                             "root certificate: none (this build embeds "
                             "no root; rebuild with LATCH_ROOT_CA=root.pem)");
    }
    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "root certificate: BIO");
    }
    *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "root certificate: not a PEM X.509 certificate");
    }
    BIO_free(bio);
    return st;
}
