/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * enrollment.c: reads and writes enrollment.json (latch.enrollment.v1)
 * with the strict reader. Checks only the format: the server validates the
 * certificate and the TPM structures, and trusts nothing in here before.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "enrollment.h"
#include "json.h"
#include "tpmt.h"

static const char *const top_members[] = {
    "format", "identity_schema", "created_at", "device", "identity", NULL};
static const char *const device_members[] = {
    "hostname", "product", "serial_number", "firmware_version", "label", NULL};
static const char *const identity_members[] = {"ek_template",
                                               "ek_certificate",
                                               "ek_intermediates",
                                               "ek_public",
                                               "ak_public",
                                               "ak_name",
                                               "tpm",
                                               NULL};
static const char *const tpm_members[] = {
    "manufacturer", "vendor", "firmware_version", "spec_revision", NULL};

/* AK name algorithms latch accepts (as lib/tpmt.c and license.c). */
static const struct {
    uint16_t alg;
    size_t size;
} name_algs[] = {
    {0x000b, 32}, /* SHA-256 */
    {0x000c, 48}, /* SHA-384 */
};

static void
blob_free(struct latch_blob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

void
latch_enrollment_free(struct latch_enrollment *enr)
{
    size_t i;

    if (enr == NULL) {
        return;
    }
    blob_free(&enr->ek_certificate);
    for (i = 0; i < LATCH_ENROLL_MAX_INTERMEDIATE; i++) {
        blob_free(&enr->intermediates[i]);
    }
    blob_free(&enr->ek_public);
    blob_free(&enr->ak_public);
    json_decref(enr->doc);
    free(enr);
}

/* A string member that must equal want. */
static enum latch_status
get_fixed(const json_t *obj, const char *key, const char *where,
          const char *want, const char **out, struct latch_err *err)
{
    enum latch_status st;
    char shown[64];
    size_t i;

    st = latch_json_get_string(obj, key, where, true, out, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(*out, want) != 0) {
        /* Show only the printable ASCII prefix of a hostile value. */
        for (i = 0;
             i + 1 < sizeof(shown) && (*out)[i] >= 0x20 && (*out)[i] < 0x7f;
             i++) {
            shown[i] = (*out)[i];
        }
        shown[i] = '\0';
        return latch_err_set(err, LATCH_E_FORMAT, "%s%s%s: '%s' is not %s",
                             where, where[0] != '\0' ? "." : "", key, shown,
                             want);
    }
    return LATCH_OK;
}

static enum latch_status
get_text(const json_t *obj, const char *key, const char *where,
         const char **out, struct latch_err *err)
{
    enum latch_status st;

    st = latch_json_get_string(obj, key, where, false, out, NULL, err);
    if (st == LATCH_OK && *out != NULL &&
        strlen(*out) > LATCH_ENROLL_TEXT_MAX) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s.%s: longer than %d bytes",
                             where, key, LATCH_ENROLL_TEXT_MAX);
    }
    return st;
}

static enum latch_status
parse_device(struct latch_enrollment *e, struct latch_err *err)
{
    json_t *dev = NULL;
    bool present = false;
    enum latch_status st;

    st =
        latch_json_get_object(e->doc, "device", "", false, &dev, &present, err);
    if (st != LATCH_OK || !present) {
        return st;
    }
    st = latch_json_only_members(dev, device_members, "device", err);
    if (st == LATCH_OK) {
        st = get_text(dev, "hostname", "device", &e->hostname, err);
    }
    if (st == LATCH_OK) {
        st = get_text(dev, "product", "device", &e->product, err);
    }
    if (st == LATCH_OK) {
        st = get_text(dev, "serial_number", "device", &e->serial_number, err);
    }
    if (st == LATCH_OK) {
        st = get_text(dev, "firmware_version", "device", &e->firmware_version,
                      err);
    }
    if (st == LATCH_OK) {
        st = get_text(dev, "label", "device", &e->label, err);
    }
    return st;
}

static enum latch_status
parse_tpm(struct latch_enrollment *e, const json_t *id, struct latch_err *err)
{
    const char *w = "identity.tpm";
    json_t *tpm = NULL;
    bool present = false;
    enum latch_status st;

    st = latch_json_get_object(id, "tpm", "identity", false, &tpm, &present,
                               err);
    if (st != LATCH_OK || !present) {
        return st;
    }
    st = latch_json_only_members(tpm, tpm_members, w, err);
    if (st == LATCH_OK) {
        st = get_text(tpm, "manufacturer", w, &e->tpm_manufacturer, err);
    }
    if (st == LATCH_OK) {
        st = get_text(tpm, "vendor", w, &e->tpm_vendor, err);
    }
    if (st == LATCH_OK) {
        st = get_text(tpm, "firmware_version", w, &e->tpm_firmware, err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_int(tpm, "spec_revision", w, false,
                                &e->tpm_spec_revision, NULL, err);
    }
    if (st == LATCH_OK && e->tpm_spec_revision < 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s.spec_revision: negative (%lld)", w,
                             (long long)e->tpm_spec_revision);
    }
    return st;
}

/* A required, non-empty base64 member of at most max bytes. */
static enum latch_status
get_blob(const json_t *obj, const char *key, const char *where, size_t max,
         struct latch_blob *b, struct latch_err *err)
{
    enum latch_status st;

    st = latch_json_get_b64(obj, key, where, true, max, &b->data, &b->len, NULL,
                            err);
    if (st == LATCH_OK && b->len == 0) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s.%s: empty", where, key);
    }
    return st;
}

static enum latch_status
parse_intermediates(struct latch_enrollment *e, const json_t *id,
                    struct latch_err *err)
{
    char where[64];
    json_t *arr = NULL, *item;
    size_t i;
    enum latch_status st;

    st = latch_json_get_array(id, "ek_intermediates", "identity", true, &arr,
                              NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (json_array_size(arr) > LATCH_ENROLL_MAX_INTERMEDIATE) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "identity.ek_intermediates: %zu certificates, "
                             "more than the %d allowed",
                             json_array_size(arr),
                             LATCH_ENROLL_MAX_INTERMEDIATE);
    }
    json_array_foreach(arr, i, item)
    {
        struct latch_blob *b = &e->intermediates[i];

        snprintf(where, sizeof(where), "identity.ek_intermediates[%zu]", i);
        if (!json_is_string(item)) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "%s: expected a base64 string", where);
        }
        st = latch_b64_decode(json_string_value(item), LATCH_CERT_MAX, &b->data,
                              &b->len, err);
        if (st != LATCH_OK) {
            latch_err_prefix(err, where);
            return st;
        }
        e->nintermediates = i + 1;
        if (b->len == 0) {
            return latch_err_set(err, LATCH_E_FORMAT, "%s: empty", where);
        }
    }
    return LATCH_OK;
}

static enum latch_status
check_ak_name(const uint8_t *name, size_t len, struct latch_err *err)
{
    uint16_t alg;
    size_t i;

    if (len < 2) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "identity.ak_name: %zu bytes, too short for a "
                             "TPM name",
                             len);
    }
    alg = (uint16_t)(name[0] << 8 | name[1]);
    for (i = 0; i < sizeof(name_algs) / sizeof(name_algs[0]); i++) {
        if (name_algs[i].alg == alg && name_algs[i].size + 2 == len) {
            return LATCH_OK;
        }
    }
    return latch_err_set(err, LATCH_E_FORMAT,
                         "identity.ak_name: algorithm 0x%04x with a %zu-byte "
                         "digest is not a SHA-256 or SHA-384 TPM name",
                         alg, len - 2);
}

static enum latch_status
parse_identity(struct latch_enrollment *e, struct latch_err *err)
{
    const char *w = "identity";
    json_t *id = NULL;
    enum latch_status st;

    st = latch_json_get_object(e->doc, "identity", "", true, &id, NULL, err);
    if (st == LATCH_OK) {
        st = latch_json_only_members(id, identity_members, w, err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_string(id, "ek_template", w, true, &e->ek_template,
                                   NULL, err);
    }
    if (st == LATCH_OK && latch_ek_info_by_name(e->ek_template) == NULL) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "identity.ek_template: not a known EK template "
                             "(rsa2048, ecc-p256, ecc-p384)");
    }
    if (st == LATCH_OK) {
        st = get_blob(id, "ek_certificate", w, LATCH_CERT_MAX,
                      &e->ek_certificate, err);
    }
    if (st == LATCH_OK) {
        st = parse_intermediates(e, id, err);
    }
    if (st == LATCH_OK) {
        st = get_blob(id, "ek_public", w, LATCH_TPM_PUBLIC_MAX, &e->ek_public,
                      err);
    }
    if (st == LATCH_OK) {
        st = get_blob(id, "ak_public", w, LATCH_TPM_PUBLIC_MAX, &e->ak_public,
                      err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_hex(id, "ak_name", w, true, e->ak_name,
                                sizeof(e->ak_name), &e->ak_name_len, NULL, err);
    }
    if (st == LATCH_OK) {
        st = check_ak_name(e->ak_name, e->ak_name_len, err);
    }
    if (st == LATCH_OK) {
        st = parse_tpm(e, id, err);
    }
    return st;
}

enum latch_status
latch_enrollment_parse(const char *buf, size_t len,
                       struct latch_enrollment **out, struct latch_err *err)
{
    struct latch_enrollment *e = NULL;
    const char *format = NULL;
    enum latch_status st;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "enrollment: out of memory");
    }
    st = latch_json_parse(buf, len, &e->doc, err);
    if (st == LATCH_OK) {
        st = latch_json_only_members(e->doc, top_members, "", err);
    }
    if (st == LATCH_OK) {
        st = get_fixed(e->doc, "format", "", LATCH_ENROLLMENT_FORMAT, &format,
                       err);
    }
    if (st == LATCH_OK) {
        st = get_fixed(e->doc, "identity_schema", "", LATCH_IDENTITY_SCHEMA,
                       &e->identity_schema, err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_time(e->doc, "created_at", "", true, &e->created_at,
                                 NULL, err);
    }
    if (st == LATCH_OK) {
        st = parse_device(e, err);
    }
    if (st == LATCH_OK) {
        st = parse_identity(e, err);
    }
    if (st != LATCH_OK) {
        latch_err_prefix(err, "enrollment");
        latch_enrollment_free(e);
        return st;
    }
    *out = e;
    return LATCH_OK;
}

/* Sets obj[key] to the string s (skipped when NULL). */
static enum latch_status
set_text(json_t *obj, const char *key, const char *s, struct latch_err *err)
{
    json_t *v;

    if (s == NULL) {
        return LATCH_OK;
    }
    v = json_string(s);
    if (v == NULL || json_object_set_new(obj, key, v) != 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "enrollment: %s is not valid UTF-8", key);
    }
    return LATCH_OK;
}

static enum latch_status
set_b64(json_t *obj, const char *key, const struct latch_blob *b,
        struct latch_err *err)
{
    char *txt = NULL;
    enum latch_status st;

    st = latch_b64_encode(b->data, b->len, &txt);
    if (st != LATCH_OK) {
        return latch_err_set(err, st, "enrollment: cannot encode %s", key);
    }
    if (json_object_set_new(obj, key, json_string(txt)) != 0) {
        st = latch_err_set(err, LATCH_E_NOMEM, "enrollment: out of memory");
    }
    free(txt);
    return st;
}

static enum latch_status
build_identity(const struct latch_enrollment *e, json_t *id,
               struct latch_err *err)
{
    char hex[2 * LATCH_NAME_MAX + 1], *txt = NULL;
    json_t *arr = json_array(), *tpm = json_object();
    enum latch_status st = LATCH_OK;
    size_t i;

    if (arr == NULL || tpm == NULL || e->ak_name_len > LATCH_NAME_MAX ||
        e->nintermediates > LATCH_ENROLL_MAX_INTERMEDIATE) {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "enrollment: cannot build identity");
        goto out;
    }
    st = set_text(id, "ek_template", e->ek_template, err);
    if (st == LATCH_OK) {
        st = set_b64(id, "ek_certificate", &e->ek_certificate, err);
    }
    for (i = 0; i < e->nintermediates && st == LATCH_OK; i++) {
        st = latch_b64_encode(e->intermediates[i].data, e->intermediates[i].len,
                              &txt);
        if (st == LATCH_OK &&
            json_array_append_new(arr, json_string(txt)) != 0) {
            st = LATCH_E_NOMEM;
        }
        free(txt);
        txt = NULL;
    }
    if (st == LATCH_OK) {
        st = json_object_set(id, "ek_intermediates", arr) == 0 ? LATCH_OK
                                                               : LATCH_E_NOMEM;
    }
    if (st == LATCH_OK) {
        st = set_b64(id, "ek_public", &e->ek_public, err);
    }
    if (st == LATCH_OK) {
        st = set_b64(id, "ak_public", &e->ak_public, err);
    }
    if (st == LATCH_OK) {
        latch_hex_encode(e->ak_name, e->ak_name_len, hex);
        st = set_text(id, "ak_name", hex, err);
    }
    if (st == LATCH_OK) {
        st = set_text(tpm, "manufacturer", e->tpm_manufacturer, err);
    }
    if (st == LATCH_OK) {
        st = set_text(tpm, "vendor", e->tpm_vendor, err);
    }
    if (st == LATCH_OK) {
        st = set_text(tpm, "firmware_version", e->tpm_firmware, err);
    }
    if (st == LATCH_OK && e->tpm_spec_revision != 0 &&
        json_object_set_new(tpm, "spec_revision",
                            json_integer(e->tpm_spec_revision)) != 0) {
        st = LATCH_E_NOMEM;
    }
    if (st == LATCH_OK && json_object_size(tpm) > 0 &&
        json_object_set(id, "tpm", tpm) != 0) {
        st = LATCH_E_NOMEM;
    }
    if (st != LATCH_OK && err != NULL && err->msg[0] == '\0') {
        latch_err_set(err, st, "enrollment: cannot build identity");
    }

out:
    json_decref(arr);
    json_decref(tpm);
    return st;
}

static enum latch_status
build_doc(const struct latch_enrollment *e, json_t *doc, struct latch_err *err)
{
    char when[LATCH_TIME_LEN];
    json_t *dev = json_object(), *id = json_object();
    enum latch_status st;

    st = dev != NULL && id != NULL ? LATCH_OK : LATCH_E_NOMEM;
    latch_time_format(e->created_at, when);
    if (st == LATCH_OK) {
        st = set_text(doc, "format", LATCH_ENROLLMENT_FORMAT, err);
    }
    if (st == LATCH_OK) {
        st = set_text(doc, "identity_schema",
                      e->identity_schema != NULL ? e->identity_schema
                                                 : LATCH_IDENTITY_SCHEMA,
                      err);
    }
    if (st == LATCH_OK) {
        st = set_text(doc, "created_at", when, err);
    }
    if (st == LATCH_OK) {
        st = set_text(dev, "hostname", e->hostname, err);
    }
    if (st == LATCH_OK) {
        st = set_text(dev, "product", e->product, err);
    }
    if (st == LATCH_OK) {
        st = set_text(dev, "serial_number", e->serial_number, err);
    }
    if (st == LATCH_OK) {
        st = set_text(dev, "firmware_version", e->firmware_version, err);
    }
    if (st == LATCH_OK) {
        st = set_text(dev, "label", e->label, err);
    }
    if (st == LATCH_OK && json_object_size(dev) > 0 &&
        json_object_set(doc, "device", dev) != 0) {
        st = LATCH_E_NOMEM;
    }
    if (st == LATCH_OK) {
        st = build_identity(e, id, err);
    }
    if (st == LATCH_OK && json_object_set(doc, "identity", id) != 0) {
        st = LATCH_E_NOMEM;
    }
    if (st == LATCH_E_NOMEM) {
        latch_err_set(err, st, "enrollment: out of memory");
    }
    json_decref(dev);
    json_decref(id);
    return st;
}

enum latch_status
latch_enrollment_write(const struct latch_enrollment *e, char **out,
                       size_t *outlen, struct latch_err *err)
{
    struct latch_enrollment *check = NULL;
    json_t *doc = NULL;
    char *txt = NULL, *buf = NULL;
    size_t len = 0;
    enum latch_status st;

    *out = NULL;
    *outlen = 0;
    latch_err_clear(err);
    doc = json_object();
    if (doc == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "enrollment: out of memory");
    }
    st = build_doc(e, doc, err);
    if (st != LATCH_OK) {
        goto out;
    }
    txt = json_dumps(doc, JSON_INDENT(2));
    if (txt == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "enrollment: out of memory");
        goto out;
    }
    len = strlen(txt);
    buf = malloc(len + 2);
    if (buf == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "enrollment: out of memory");
        goto out;
    }
    memcpy(buf, txt, len);
    buf[len++] = '\n';
    buf[len] = '\0';
    /* Never write what the reader would refuse. */
    st = latch_enrollment_parse(buf, len, &check, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "refusing to write");
        goto out;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;

out:
    latch_enrollment_free(check);
    free(buf);
    free(txt);
    json_decref(doc);
    return st;
}
