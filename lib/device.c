/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * device.c: enrollment, activation and the runtime proof on the device.
 * The identity checks (device_id, ak_name) only pick what to prove; the
 * proof itself is always a fresh TPM2_ActivateCredential, and any refusal
 * by the TPM means "this license is not for this TPM".
 */
#include "device.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "codec.h"
#include "enrollment.h"
#include "fsutil.h"
#include "json.h"
#include "tpmt.h"

#define SLOT_FILE_MAX  4096
#define EK_TEMPLATE_SZ 16
/* TCG EK certificate chain indices (EK Credential Profile 2.x). */
#define EK_CHAIN_FIRST 0x01c00100u
#define EK_CHAIN_LAST  0x01c001ffu

struct latch_device {
    char *tcti;
    char *dir;
};

/* One AK in the state directory: "ak" (active) or "ak-pending". */
struct slot {
    const char *prefix;
    bool present;
    TPM2B_PUBLIC pub;
    TPM2B_PRIVATE priv;
    char ek_template[EK_TEMPLATE_SZ];
    int64_t created_at;
    uint32_t handle;
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen;
};

/* The AK a license names, as found on this device. */
struct ak_choice {
    struct slot *slot; /* NULL: found only as a persistent object */
    uint32_t handle;   /* persistent handle to try first, 0: none */
    bool pending;
};

static const char *const meta_members[] = {"ek_template", "created_at",
                                           "persistent_handle", NULL};

const char *
latch_device_state_dir(const char *dir)
{
    const char *env;

    if (dir != NULL) {
        return dir;
    }
    env = getenv(LATCH_STATE_DIR_ENV);
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    return LATCH_STATE_DIR_DEFAULT;
}

enum latch_status
latch_device_open(const char *tcti, const char *state_dir,
                  struct latch_device **out, struct latch_err *err)
{
    struct latch_device *dev;

    /* An empty path would name files at the root ("/license.json"). */
    if (state_dir != NULL && state_dir[0] == '\0') {
        return latch_err_set(err, LATCH_E_USAGE,
                             "state directory: empty path (leave it unset "
                             "for the default %s)",
                             LATCH_STATE_DIR_DEFAULT);
    }
    if (tcti != NULL && tcti[0] == '\0') {
        return latch_err_set(err, LATCH_E_USAGE,
                             "TCTI: empty string (leave it unset for the "
                             "default)");
    }
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "device: out of memory");
    }
    dev->tcti = strdup(latch_tpm_tcti(tcti));
    dev->dir = strdup(latch_device_state_dir(state_dir));
    if (dev->tcti == NULL || dev->dir == NULL) {
        latch_device_close(dev);
        return latch_err_set(err, LATCH_E_NOMEM, "device: out of memory");
    }
    *out = dev;
    return LATCH_OK;
}

void
latch_device_close(struct latch_device *dev)
{
    if (dev == NULL) {
        return;
    }
    free(dev->tcti);
    free(dev->dir);
    free(dev);
}

void
latch_enroll_result_clear(struct latch_enroll_result *res)
{
    if (res == NULL) {
        return;
    }
    free(res->json);
    memset(res, 0, sizeof(*res));
}

/* --- state directory ------------------------------------------------- */

static enum latch_status
state_path(const struct latch_device *dev, const char *name, char *buf,
           size_t cap, struct latch_err *err)
{
    int n = snprintf(buf, cap, "%s/%s", dev->dir, name);

    if (n < 0 || (size_t)n >= cap) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "state directory path too long: %s", dev->dir);
    }
    return LATCH_OK;
}

static enum latch_status
slot_path(const struct latch_device *dev, const struct slot *s, const char *ext,
          char *buf, size_t cap, struct latch_err *err)
{
    char name[64];

    snprintf(name, sizeof(name), "%s.%s", s->prefix, ext);
    return state_path(dev, name, buf, cap, err);
}

/* Creates the state directory when missing (*created, may be NULL). */
static enum latch_status
ensure_dir(const struct latch_device *dev, bool *created, struct latch_err *err)
{
    struct stat sb;

    if (mkdir(dev->dir, 0700) == 0) {
        if (created != NULL) {
            *created = true;
        }
    } else if (errno != EEXIST) {
        return latch_err_set(err, LATCH_E_IO,
                             "state directory %s: cannot create: %s", dev->dir,
                             strerror(errno));
    }
    if (stat(dev->dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_IO,
                             "state directory %s: not a directory", dev->dir);
    }
    return LATCH_OK;
}

static enum latch_status
read_meta(struct slot *s, const char *path, const char *buf, size_t len,
          struct latch_err *err)
{
    const char *ekt = NULL;
    const char *h = NULL;
    json_t *doc = NULL;
    bool has_handle = false;
    enum latch_status st;
    char *end = NULL;
    unsigned long v;

    st = latch_json_parse(buf, len, &doc, err);
    if (st == LATCH_OK) {
        st = latch_json_only_members(doc, meta_members, path, err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_string(doc, "ek_template", path, true, &ekt, NULL,
                                   err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_time(doc, "created_at", path, true, &s->created_at,
                                 NULL, err);
    }
    if (st == LATCH_OK) {
        st = latch_json_get_string(doc, "persistent_handle", path, false, &h,
                                   &has_handle, err);
    }
    if (st == LATCH_OK && latch_ek_info_by_name(ekt) == NULL) {
        st = latch_err_set(err, LATCH_E_FORMAT, "%s: unknown ek_template '%s'",
                           path, ekt);
    }
    if (st == LATCH_OK && has_handle) {
        errno = 0;
        v = strtoul(h, &end, 16);
        if (errno != 0 || end == h || *end != '\0' ||
            v < LATCH_AK_HANDLE_FIRST || v > LATCH_AK_HANDLE_LAST) {
            st = latch_err_set(err, LATCH_E_FORMAT,
                               "%s: persistent_handle '%s' is not a latch "
                               "AK handle",
                               path, h);
        } else {
            s->handle = (uint32_t)v;
        }
    }
    if (st == LATCH_OK) {
        snprintf(s->ek_template, sizeof(s->ek_template), "%s", ekt);
    }
    json_decref(doc);
    return st;
}

/*
 * Reads a slot. Absent (not an error) when its .pub file does not exist;
 * the .pub file is written last, so its presence means a complete slot.
 */
static enum latch_status
slot_read(const struct latch_device *dev, struct slot *s, struct latch_err *err)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    enum latch_status st;

    s->present = false;
    st = slot_path(dev, s, "pub", path, sizeof(path), err);
    if (st != LATCH_OK) {
        return st;
    }
    if (access(path, F_OK) == -1 && errno == ENOENT) {
        return LATCH_OK;
    }
    st = latch_read_file(path, SLOT_FILE_MAX, &buf, &len, err);
    if (st == LATCH_OK) {
        st = latch_tpm_public_unmarshal((uint8_t *)buf, len, &s->pub, err);
    }
    free(buf);
    buf = NULL;
    if (st == LATCH_OK) {
        st = latch_tpm_name(&s->pub.publicArea, s->name, &s->namelen, err);
    }
    if (st == LATCH_OK) {
        st = slot_path(dev, s, "priv", path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = latch_read_file(path, SLOT_FILE_MAX, &buf, &len, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_private_unmarshal((uint8_t *)buf, len, &s->priv, err);
    }
    if (buf != NULL) {
        OPENSSL_cleanse(buf, len);
        free(buf);
        buf = NULL;
    }
    if (st == LATCH_OK) {
        st = slot_path(dev, s, "json", path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = latch_read_file(path, SLOT_FILE_MAX, &buf, &len, err);
    }
    if (st == LATCH_OK) {
        st = read_meta(s, path, buf, len, err);
    }
    free(buf);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "AK state");
        return st;
    }
    s->present = true;
    return LATCH_OK;
}

static enum latch_status
write_meta(const struct latch_device *dev, const struct slot *s,
           const char *prefix, struct latch_err *err)
{
    struct slot tmp = {.prefix = prefix};
    char created[LATCH_TIME_LEN];
    char handle[16];
    char path[PATH_MAX];
    json_t *doc = NULL;
    char *text = NULL;
    enum latch_status st;

    latch_time_format(s->created_at, created);
    doc = json_pack("{s:s, s:s}", "ek_template", s->ek_template, "created_at",
                    created);
    if (doc != NULL && s->handle != 0) {
        snprintf(handle, sizeof(handle), "0x%08x", (unsigned)s->handle);
        if (json_object_set_new(doc, "persistent_handle",
                                json_string(handle)) != 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    if (doc != NULL) {
        text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(doc);
    if (text == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "AK state: out of memory");
    }
    st = slot_path(dev, &tmp, "json", path, sizeof(path), err);
    if (st == LATCH_OK) {
        st = latch_write_atomic(path, text, strlen(text), 0600, err);
    }
    free(text);
    return st;
}

/* Writes s under prefix: private, metadata, then public (the marker). */
static enum latch_status
slot_write(const struct latch_device *dev, const struct slot *s,
           const char *prefix, struct latch_err *err)
{
    struct slot tmp = {.prefix = prefix};
    uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
    char path[PATH_MAX];
    size_t len = 0;
    enum latch_status st;

    st = latch_tpm_private_marshal(&s->priv, buf, sizeof(buf), &len, err);
    if (st == LATCH_OK) {
        st = slot_path(dev, &tmp, "priv", path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = latch_write_atomic(path, buf, len, 0600, err);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (st == LATCH_OK) {
        st = write_meta(dev, s, prefix, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_public_marshal(&s->pub, buf, sizeof(buf), &len, err);
    }
    if (st == LATCH_OK) {
        st = slot_path(dev, &tmp, "pub", path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = latch_write_atomic(path, buf, len, 0600, err);
    }
    return st;
}

/* Removes a slot, its marker first. */
static enum latch_status
slot_remove(const struct latch_device *dev, const char *prefix,
            struct latch_err *err)
{
    static const char *const exts[] = {"pub", "priv", "json"};
    struct slot tmp = {.prefix = prefix};
    char path[PATH_MAX];
    enum latch_status st;

    for (size_t i = 0; i < 3; i++) {
        st = slot_path(dev, &tmp, exts[i], path, sizeof(path), err);
        if (st != LATCH_OK) {
            return st;
        }
        if (unlink(path) == -1 && errno != ENOENT) {
            return latch_err_set(err, LATCH_E_IO, "%s: cannot remove: %s", path,
                                 strerror(errno));
        }
    }
    return LATCH_OK;
}

static void
slot_clear(struct slot *s)
{
    OPENSSL_cleanse(&s->priv, sizeof(s->priv));
}

/* --- EK --------------------------------------------------------------------
 */

/*
 * The certificate's key. Some TPM 2.0 chips publish their RSA EK under the
 * rsaesOaep algorithm identifier, which OpenSSL will not load: the BIT
 * STRING is still a PKCS#1 RSAPublicKey, read here directly.
 */
static EVP_PKEY *
ek_cert_key(X509 *x)
{
    X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *alg = NULL;
    const unsigned char *pk = NULL;
    const unsigned char *p;
    EVP_PKEY *k = NULL;
    int len = 0;

    if (xpk == NULL ||
        X509_PUBKEY_get0_param(&alg, &pk, &len, NULL, xpk) != 1) {
        return NULL;
    }
    if (OBJ_obj2nid(alg) != NID_rsaesOaep) {
        return X509_get_pubkey(x);
    }
    p = pk;
    k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
    if (k != NULL && p != pk + len) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
}

static enum latch_status
ek_cert_read(struct latch_tpm *tpm, const struct latch_ek_info *info,
             uint8_t **der, size_t *derlen, EVP_PKEY **key,
             struct latch_err *err)
{
    const unsigned char *p;
    enum latch_status st;
    X509 *x = NULL;

    st = latch_tpm_nv_read(tpm, info->cert_index, LATCH_CERT_MAX, der, derlen,
                           err);
    if (st == LATCH_E_NOT_FOUND) {
        return latch_err_set(err, LATCH_E_NOT_FOUND,
                             "no %s EK certificate in this TPM (NV index "
                             "0x%08x is not defined)",
                             info->name, info->cert_index);
    }
    if (st != LATCH_OK) {
        return st;
    }
    p = *der;
    x = d2i_X509(NULL, &p, (long)*derlen);
    if (x == NULL || p != *der + *derlen) {
        X509_free(x);
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "EK certificate at NV 0x%08x is not one DER "
                              "certificate (%zu bytes)",
                              info->cert_index, *derlen);
    }
    *key = ek_cert_key(x);
    X509_free(x);
    if (*key == NULL) {
        return latch_err_ossl(err, LATCH_E_FORMAT,
                              "EK certificate at NV 0x%08x: unusable key",
                              info->cert_index);
    }
    return LATCH_OK;
}

/*
 * --ek auto: the ECC EKs before RSA, because every proof creates the EK
 * again and an ECC primary takes milliseconds where RSA key generation
 * takes up to seconds on real TPMs. P-256 before P-384: it is the
 * low-range EK most TPMs certify, honours the EK template and nonce
 * indices, and its policy is one command instead of two. Every EK is
 * authorized by policy, never with a DA-counted auth value, so the order
 * weighs cost and reach, not lockout risk.
 */
static enum latch_status
ek_pick(struct latch_tpm *tpm, const char *want,
        const struct latch_ek_info **out, struct latch_err *err)
{
    static const char *const order[] = {"ecc-p256", "ecc-p384", "rsa2048"};
    const struct latch_ek_info *info;
    TPM2_HANDLE h = 0;
    enum latch_status st;
    size_t n = 0;

    if (want != NULL && strcmp(want, "auto") != 0) {
        *out = latch_ek_info_by_name(want);
        if (*out == NULL) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "--ek: unknown EK type '%s' (auto, rsa2048, "
                                 "ecc-p256, ecc-p384)",
                                 want);
        }
        return LATCH_OK;
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        info = latch_ek_info_by_name(order[i]);
        st = latch_tpm_handles(tpm, info->cert_index, info->cert_index, &h, 1,
                               &n, err);
        if (st != LATCH_OK) {
            return st;
        }
        if (n == 1) {
            *out = info;
            return LATCH_OK;
        }
    }
    return latch_err_set(err, LATCH_E_NOT_FOUND,
                         "no EK certificate in this TPM at any of the TCG "
                         "indices for ecc-p256, ecc-p384, rsa2048");
}

/* Creates the EK and returns this TPM's device id. */
static enum latch_status
ek_create_id(struct latch_tpm *tpm, const struct latch_ek_info *info,
             ESYS_TR *ek, TPM2B_PUBLIC *pub, char id[65], struct latch_err *err)
{
    EVP_PKEY *key = NULL;
    enum latch_status st;

    st = latch_tpm_ek_create(tpm, info, ek, pub, err);
    if (st == LATCH_OK) {
        st = latch_tpm_public_to_pkey(&pub->publicArea, &key, err);
    }
    if (st == LATCH_OK) {
        st = latch_device_id(key, id, err);
    }
    EVP_PKEY_free(key);
    return st;
}

/* --- enrollment ------------------------------------------------------- */

static enum latch_status
free_handle(struct latch_tpm *tpm, uint32_t *out, struct latch_err *err)
{
    TPM2_HANDLE used[LATCH_AK_HANDLE_LAST - LATCH_AK_HANDLE_FIRST + 1];
    enum latch_status st;
    size_t n = 0;
    bool taken;

    st = latch_tpm_handles(tpm, LATCH_AK_HANDLE_FIRST, LATCH_AK_HANDLE_LAST,
                           used, sizeof(used) / sizeof(used[0]), &n, err);
    if (st != LATCH_OK) {
        return st;
    }
    for (uint32_t h = LATCH_AK_HANDLE_FIRST; h <= LATCH_AK_HANDLE_LAST; h++) {
        taken = false;
        for (size_t i = 0; i < n; i++) {
            taken = taken || used[i] == h;
        }
        if (!taken) {
            *out = h;
            return LATCH_OK;
        }
    }
    return latch_err_set(err, LATCH_E_POLICY,
                         "--persist-ak: every latch persistent handle "
                         "0x%08x-0x%08x is in use",
                         LATCH_AK_HANDLE_FIRST, LATCH_AK_HANDLE_LAST);
}

/* True when the persistent object at s->handle is this AK. */
static bool
persistent_is(struct latch_tpm *tpm, const struct slot *s)
{
    TPM2B_PUBLIC pub;
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    ESYS_TR obj = ESYS_TR_NONE;
    bool same = false;

    if (s->handle == 0 || latch_tpm_persistent_open(tpm, s->handle, &obj, &pub,
                                                    NULL) != LATCH_OK) {
        return false;
    }
    if (latch_tpm_name(&pub.publicArea, name, &namelen, NULL) == LATCH_OK) {
        same = namelen == s->namelen && memcmp(name, s->name, namelen) == 0;
    }
    latch_tpm_flush(tpm, &obj);
    return same;
}

/*
 * Loads the slot's AK under ek (proving the blob belongs to this TPM) and,
 * when asked or when it was persistent before, makes sure it is persistent.
 * *changed tells the caller to rewrite the slot's metadata.
 */
static enum latch_status
ak_settle(struct latch_tpm *tpm, ESYS_TR ek, struct slot *s, bool persist,
          bool *changed, struct latch_err *err)
{
    ESYS_TR ak = ESYS_TR_NONE;
    enum latch_status st;

    *changed = false;
    st = latch_tpm_load(tpm, ek, &s->pub, &s->priv, &ak, err);
    if (st != LATCH_OK) {
        if (latch_tpm_rc_from_tpm(latch_tpm_last_rc(tpm)) &&
            !latch_tpm_rc_transient(latch_tpm_last_rc(tpm))) {
            latch_err_prefix(err, "the stored AK does not load under this "
                                  "TPM's EK (state directory from another "
                                  "device?)");
            st = LATCH_E_NOT_DEVICE;
            if (err != NULL) {
                err->status = st;
            }
        }
        return st;
    }
    if ((persist || s->handle != 0) && !persistent_is(tpm, s)) {
        st = free_handle(tpm, &s->handle, err);
        if (st == LATCH_OK) {
            st = latch_tpm_persist(tpm, ak, s->handle, err);
        }
        *changed = st == LATCH_OK;
    }
    latch_tpm_flush(tpm, &ak);
    return st;
}

static enum latch_status
ak_new(struct latch_tpm *tpm, ESYS_TR ek, const struct latch_ek_info *info,
       enum latch_ak_alg alg, struct slot *s, struct latch_err *err)
{
    enum latch_status st;

    st = latch_tpm_ak_create(tpm, ek, alg, &s->pub, &s->priv, err);
    if (st == LATCH_OK) {
        st = latch_ak_check(&s->pub.publicArea, NULL, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_name(&s->pub.publicArea, s->name, &s->namelen, err);
    }
    snprintf(s->ek_template, sizeof(s->ek_template), "%s", info->name);
    s->created_at = (int64_t)time(NULL);
    s->handle = 0;
    return st;
}

/*
 * The label as enrollment.json's device.label allows it (docs/format.md
 * 4.2): valid UTF-8 of at most LATCH_ENROLL_TEXT_MAX bytes.
 */
static enum latch_status
check_label(const char *label, struct latch_err *err)
{
    const uint8_t *p = (const uint8_t *)label;
    size_t len, i, n;
    uint32_t cp;

    if (label == NULL) {
        return LATCH_OK;
    }
    len = strlen(label);
    if (len > LATCH_ENROLL_TEXT_MAX) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--label: %zu bytes, the limit is %d", len,
                             LATCH_ENROLL_TEXT_MAX);
    }
    for (i = 0; i < len; i += n) {
        n = latch_utf8_next(p + i, len - i, &cp);
        if (n == 0) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "--label: not valid UTF-8 (byte %zu)", i);
        }
    }
    return LATCH_OK;
}

/* The options alone, before any file or the TPM is touched. */
static enum latch_status
enroll_check_opts(const struct latch_enroll_opts *opts, struct latch_err *err)
{
    enum latch_status st = check_label(opts->info.label, err);

    if (st != LATCH_OK) {
        return st;
    }
    if (opts->ek != NULL && strcmp(opts->ek, "auto") != 0 &&
        latch_ek_info_by_name(opts->ek) == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--ek: unknown EK type '%s' (auto, rsa2048, "
                             "ecc-p256, ecc-p384)",
                             opts->ek);
    }
    if (opts->replace_pending && !opts->rotate) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--replace-pending needs --rotate");
    }
    return LATCH_OK;
}

/*
 * Which slot this enrollment is for; see latch_device_enroll(). An
 * existing pending AK is replaced only with opts->replace_pending (its
 * slot is then marked absent; the caller evicts its persistent handle).
 */
static enum latch_status
enroll_target(const struct latch_enroll_opts *opts, struct slot *active,
              struct slot *pending, struct slot **out, struct latch_err *err)
{
    const char *want = opts->ek;
    struct slot *t;
    bool want_any = want == NULL || strcmp(want, "auto") == 0;

    if (opts->rotate && active->present) {
        t = pending;
        if (t->present && opts->replace_pending) {
            t->present = false;
        } else if (t->present && !want_any &&
                   strcmp(want, t->ek_template) != 0) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "--ek %s: a pending AK under the %s EK "
                                 "awaits its license; --replace-pending "
                                 "replaces it (a license issued for it will "
                                 "not activate then)",
                                 want, t->ek_template);
        }
    } else {
        t = pending->present ? pending : active;
        if (t->present && !want_any && strcmp(want, t->ek_template) != 0) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "--ek %s: this device is enrolled with the "
                                 "%s EK; use --rotate to enroll a new AK "
                                 "under another EK",
                                 want, t->ek_template);
        }
    }
    *out = t;
    return LATCH_OK;
}

static enum latch_status
read_intermediates(struct latch_tpm *tpm, struct latch_enrollment *e,
                   struct latch_err *err)
{
    TPM2_HANDLE idx[LATCH_ENROLL_MAX_INTERMEDIATE];
    enum latch_status st;
    size_t n = 0;

    st = latch_tpm_handles(tpm, EK_CHAIN_FIRST, EK_CHAIN_LAST, idx,
                           LATCH_ENROLL_MAX_INTERMEDIATE, &n, err);
    for (size_t i = 0; st == LATCH_OK && i < n; i++) {
        st = latch_tpm_nv_read(tpm, idx[i], LATCH_CERT_MAX,
                               &e->intermediates[i].data,
                               &e->intermediates[i].len, err);
        if (st == LATCH_OK) {
            e->nintermediates = i + 1;
        }
    }
    return st;
}

static enum latch_status
marshal_public(const TPM2B_PUBLIC *pub, struct latch_blob *out,
               struct latch_err *err)
{
    enum latch_status st;

    out->data = malloc(sizeof(TPM2B_PUBLIC));
    if (out->data == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "enroll: out of memory");
    }
    st = latch_tpm_public_marshal(pub, out->data, sizeof(TPM2B_PUBLIC),
                                  &out->len, err);
    return st;
}

struct enroll_ctx {
    struct latch_tpm *tpm;
    struct latch_tpm_props props;
    const struct latch_ek_info *info;
    ESYS_TR ek;
    TPM2B_PUBLIC ekpub;
    EVP_PKEY *ekkey;
    struct latch_enrollment e;
};

static void
enroll_ctx_free(struct enroll_ctx *c)
{
    free(c->e.ek_certificate.data);
    free(c->e.ek_public.data);
    free(c->e.ak_public.data);
    for (size_t i = 0; i < LATCH_ENROLL_MAX_INTERMEDIATE; i++) {
        free(c->e.intermediates[i].data);
    }
    EVP_PKEY_free(c->ekkey);
    latch_tpm_close(c->tpm);
}

/* TPM side of enrollment up to a verified EK. */
static enum latch_status
enroll_ek(struct enroll_ctx *c, const char *want, struct latch_err *err)
{
    enum latch_status st;

    st = latch_tpm_properties(c->tpm, &c->props, err);
    if (st == LATCH_OK && c->info == NULL) {
        st = ek_pick(c->tpm, want, &c->info, err);
    }
    if (st == LATCH_OK) {
        st = ek_cert_read(c->tpm, c->info, &c->e.ek_certificate.data,
                          &c->e.ek_certificate.len, &c->ekkey, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_ek_create(c->tpm, c->info, &c->ek, &c->ekpub, err);
    }
    if (st == LATCH_OK &&
        !latch_tpm_public_matches(&c->ekpub.publicArea, c->ekkey)) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "the %s EK created from its TCG template does not "
                           "match the key in the EK certificate at NV 0x%08x",
                           c->info->name, c->info->cert_index);
    }
    if (st == LATCH_OK) {
        st = read_intermediates(c->tpm, &c->e, err);
    }
    return st;
}

static enum latch_status
enroll_write(struct enroll_ctx *c, const struct latch_enroll_opts *opts,
             const struct slot *s, struct latch_enroll_result *res,
             struct latch_err *err)
{
    enum latch_status st;

    c->e.identity_schema = LATCH_IDENTITY_SCHEMA;
    c->e.created_at = s->created_at;
    c->e.hostname = opts->info.hostname;
    c->e.product = opts->info.product;
    c->e.serial_number = opts->info.serial_number;
    c->e.firmware_version = opts->info.firmware_version;
    c->e.label = opts->info.label;
    c->e.ek_template = c->info->name;
    memcpy(c->e.ak_name, s->name, s->namelen);
    c->e.ak_name_len = s->namelen;
    c->e.tpm_manufacturer = c->props.manufacturer;
    c->e.tpm_vendor = c->props.vendor;
    c->e.tpm_firmware = c->props.firmware;
    c->e.tpm_spec_revision = c->props.spec_revision;
    st = marshal_public(&c->ekpub, &c->e.ek_public, err);
    if (st == LATCH_OK) {
        st = marshal_public(&s->pub, &c->e.ak_public, err);
    }
    if (st == LATCH_OK) {
        st = latch_enrollment_write(&c->e, &res->json, &res->len, err);
    }
    if (st == LATCH_OK) {
        snprintf(res->ek_template, sizeof(res->ek_template), "%s",
                 c->info->name);
        latch_hex_encode(s->name, s->namelen, res->ak_name);
        res->persistent_handle = s->handle;
    }
    return st;
}

enum latch_status
latch_device_enroll(struct latch_device *dev,
                    const struct latch_enroll_opts *opts,
                    struct latch_enroll_result *res, struct latch_err *err)
{
    struct slot active = {.prefix = "ak"};
    struct slot pending = {.prefix = "ak-pending"};
    struct enroll_ctx c = {.ek = ESYS_TR_NONE};
    struct slot old = {.prefix = "ak-pending"};
    struct slot *t = NULL;
    bool changed = false;
    bool created = false;
    enum latch_status st;

    memset(res, 0, sizeof(*res));
    /*
     * Arguments first, then the TPM: a failed enrollment must not leave a
     * new, empty state directory behind.
     */
    st = enroll_check_opts(opts, err);
    if (st == LATCH_OK) {
        st = slot_read(dev, &active, err);
    }
    if (st == LATCH_OK) {
        st = slot_read(dev, &pending, err);
    }
    if (st == LATCH_OK) {
        st = enroll_target(opts, &active, &pending, &t, err);
    }
    if (st == LATCH_OK && t == &pending && !t->present &&
        opts->replace_pending && pending.handle != 0) {
        /* The replaced pending AK's persistent object, to evict. */
        old.handle = pending.handle;
        memcpy(old.name, pending.name, pending.namelen);
        old.namelen = pending.namelen;
    }
    if (st == LATCH_OK) {
        st = latch_tpm_open(dev->tcti, &c.tpm, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (t->present) {
        c.info = latch_ek_info_by_name(t->ek_template);
    }
    st = enroll_ek(&c, opts->ek, err);
    if (st == LATCH_OK) {
        st = ensure_dir(dev, &created, err);
    }
    if (st == LATCH_OK && t->present) {
        res->reused = true;
        st = ak_settle(c.tpm, c.ek, t, opts->persist_ak, &changed, err);
        if (st == LATCH_OK && changed) {
            st = write_meta(dev, t, t->prefix, err);
        }
    } else if (st == LATCH_OK) {
        st = ak_new(c.tpm, c.ek, c.info, opts->ak_alg, t, err);
        if (st == LATCH_OK && opts->persist_ak) {
            st = ak_settle(c.tpm, c.ek, t, true, &changed, err);
        }
        if (st == LATCH_OK) {
            st = slot_write(dev, t, t->prefix, err);
        }
        if (st == LATCH_OK && old.handle != 0 && persistent_is(c.tpm, &old)) {
            st = latch_tpm_unpersist(c.tpm, old.handle, err);
        }
    }
    if (st == LATCH_OK) {
        res->pending = t == &pending;
        st = enroll_write(&c, opts, t, res, err);
    }

out:
    if (st != LATCH_OK) {
        latch_enroll_result_clear(res);
        if (created) {
            rmdir(dev->dir); /* only when still empty */
        }
    }
    enroll_ctx_free(&c);
    slot_clear(&active);
    slot_clear(&pending);
    return st;
}

/* --- proving a license ---------------------------------------------------- */

static enum latch_status
verify_signature(const struct latch_license *lic, struct latch_report *rep,
                 struct latch_err *err)
{
    X509 *root = NULL;
    enum latch_status st;

    st = latch_cert_from_pem(latch_root_ca_pem, &root, err);
    if (st == LATCH_E_NOT_FOUND) {
        return latch_err_set(err, LATCH_E_SIGNATURE,
                             "this latch build trusts no license root (built "
                             "without LATCH_ROOT_CA)");
    }
    if (st != LATCH_OK) {
        return st;
    }
    st = latch_license_verify(lic, root, rep, err);
    X509_free(root);
    return st;
}

static bool
name_is(const struct latch_license *lic, const uint8_t *name, size_t len)
{
    return lic->ak_name_len == len && memcmp(lic->ak_name, name, len) == 0;
}

/* A persistent object in latch's range whose name is the license's AK. */
static enum latch_status
find_persistent(struct latch_tpm *tpm, const struct latch_license *lic,
                uint32_t *out, struct latch_err *err)
{
    TPM2_HANDLE hs[LATCH_AK_HANDLE_LAST - LATCH_AK_HANDLE_FIRST + 1];
    struct slot probe = {.prefix = "persistent"};
    enum latch_status st;
    size_t n = 0;

    *out = 0;
    st = latch_tpm_handles(tpm, LATCH_AK_HANDLE_FIRST, LATCH_AK_HANDLE_LAST, hs,
                           sizeof(hs) / sizeof(hs[0]), &n, err);
    for (size_t i = 0; st == LATCH_OK && i < n && *out == 0; i++) {
        probe.handle = hs[i];
        memcpy(probe.name, lic->ak_name, lic->ak_name_len);
        probe.namelen = lic->ak_name_len;
        if (persistent_is(tpm, &probe)) {
            *out = hs[i];
        }
    }
    return st;
}

/*
 * Identity: this TPM's EK is the license's device_id, and the license's
 * ak_name is an AK of this device (active, pending, or persistent).
 */
static enum latch_status
identify(struct latch_tpm *tpm, const struct latch_license *lic,
         struct slot *active, struct slot *pending, ESYS_TR *ek,
         struct ak_choice *choice, struct latch_report *rep,
         struct latch_err *err)
{
    const struct latch_ek_info *info;
    char hex[2 * LATCH_NAME_MAX + 1];
    TPM2B_PUBLIC ekpub;
    char id[65];
    enum latch_status st;

    info = latch_ek_info_by_name(lic->ek_template);
    if (info == NULL) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "license.binding.ek_template: unknown '%s'",
                             lic->ek_template);
    }
    st = ek_create_id(tpm, info, ek, &ekpub, id, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(id, lic->device_id) != 0) {
        latch_report_add(rep, "device_id", LATCH_CHECK_FAIL,
                         "license is for %s, this TPM's %s EK is %s",
                         lic->device_id, info->name, id);
        return latch_err_set(err, LATCH_E_NOT_DEVICE,
                             "license is not for this TPM: device_id %s, "
                             "this TPM's %s EK is %s",
                             lic->device_id, info->name, id);
    }
    latch_report_add(rep, "device_id", LATCH_CHECK_PASS, "%s EK %s", info->name,
                     id);

    memset(choice, 0, sizeof(*choice));
    if (active->present && name_is(lic, active->name, active->namelen)) {
        choice->slot = active;
    } else if (pending->present &&
               name_is(lic, pending->name, pending->namelen)) {
        choice->slot = pending;
        choice->pending = true;
    }
    if (choice->slot != NULL &&
        strcmp(choice->slot->ek_template, lic->ek_template) != 0) {
        return latch_err_set(err, LATCH_E_NOT_DEVICE,
                             "license is not for this TPM: its AK lives "
                             "under the %s EK, the license names %s",
                             choice->slot->ek_template, lic->ek_template);
    }
    if (choice->slot != NULL) {
        choice->handle = choice->slot->handle;
    } else {
        st = find_persistent(tpm, lic, &choice->handle, err);
        if (st != LATCH_OK) {
            return st;
        }
    }
    latch_hex_encode(lic->ak_name, lic->ak_name_len, hex);
    if (choice->slot == NULL && choice->handle == 0) {
        latch_report_add(rep, "ak_name", LATCH_CHECK_FAIL,
                         "%s is not an AK of this device", hex);
        return latch_err_set(err, LATCH_E_NOT_DEVICE,
                             "license is not for this TPM: ak_name %s is "
                             "neither the active nor the pending AK",
                             hex);
    }
    latch_report_add(rep, "ak_name", LATCH_CHECK_PASS, "%s AK %s",
                     choice->pending ? "pending" : "active", hex);
    return LATCH_OK;
}

/*
 * A TPM refusal, whatever its response code, means "not this TPM" (libtpms
 * answers a foreign RSA credential with TPM_RC_FAILURE). A lost TPM, or a
 * TPM warning that says "not now" (DA lockout, busy), stays LATCH_E_TPM.
 */
static enum latch_status
refused(struct latch_tpm *tpm, enum latch_status st, const char *what,
        struct latch_err *err)
{
    TSS2_RC rc = latch_tpm_last_rc(tpm);

    if (st != LATCH_E_TPM || !latch_tpm_rc_from_tpm(rc) ||
        latch_tpm_rc_transient(rc)) {
        return st;
    }
    latch_err_prefix(err, what);
    latch_err_prefix(err, "license is not for this TPM");
    if (err != NULL) {
        err->status = LATCH_E_NOT_DEVICE;
    }
    return LATCH_E_NOT_DEVICE;
}

static enum latch_status
ak_open(struct latch_tpm *tpm, ESYS_TR ek, struct ak_choice *choice,
        ESYS_TR *ak, bool *persistent, struct latch_err *err)
{
    TPM2B_PUBLIC pub;
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    enum latch_status st;

    *persistent = false;
    if (choice->handle != 0 &&
        latch_tpm_persistent_open(tpm, choice->handle, ak, &pub, NULL) ==
            LATCH_OK) {
        if (latch_tpm_name(&pub.publicArea, name, &namelen, NULL) == LATCH_OK &&
            choice->slot != NULL && namelen == choice->slot->namelen &&
            memcmp(name, choice->slot->name, namelen) == 0) {
            *persistent = true;
            return LATCH_OK;
        }
        if (choice->slot == NULL) {
            /* find_persistent() matched the name already. */
            *persistent = true;
            return LATCH_OK;
        }
        latch_tpm_flush(tpm, ak);
    }
    if (choice->slot == NULL) {
        return latch_err_set(err, LATCH_E_NOT_DEVICE,
                             "the persistent AK at 0x%08x is gone",
                             choice->handle);
    }
    st = latch_tpm_load(tpm, ek, &choice->slot->pub, &choice->slot->priv, ak,
                        err);
    return refused(tpm, st, "the AK does not load on it", err);
}

/* Possession: ActivateCredential with that EK and AK recovers the secret. */
static enum latch_status
possess(struct latch_tpm *tpm, const struct latch_license *lic, ESYS_TR ek,
        struct ak_choice *choice, struct latch_proof *proof,
        struct latch_report *rep, struct latch_err *err)
{
    uint8_t secret[64];
    uint8_t md[32];
    size_t secretlen = 0;
    unsigned int mdlen = 0;
    ESYS_TR ak = ESYS_TR_NONE;
    bool persistent = false;
    enum latch_status st;

    st = ak_open(tpm, ek, choice, &ak, &persistent, err);
    if (st == LATCH_OK) {
        st = latch_tpm_activate(tpm, ak, ek, lic->credential_blob,
                                lic->credential_blob_len, lic->encrypted_secret,
                                lic->encrypted_secret_len, secret,
                                sizeof(secret), &secretlen, err);
        st = refused(tpm, st, "TPM2_ActivateCredential refused it", err);
    }
    if (st == LATCH_OK &&
        (EVP_Digest(secret, secretlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
         mdlen != sizeof(md))) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "activation: SHA-256 failed");
    }
    if (st == LATCH_OK &&
        CRYPTO_memcmp(md, lic->secret_sha256, sizeof(md)) != 0) {
        st = latch_err_set(err, LATCH_E_NOT_DEVICE,
                           "license is not for this TPM: the recovered "
                           "secret does not match secret_sha256");
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(md, sizeof(md));
    latch_tpm_flush(tpm, &ak);
    latch_report_add(rep, "activate_credential",
                     st == LATCH_OK ? LATCH_CHECK_PASS : LATCH_CHECK_FAIL, "%s",
                     st == LATCH_OK ? "secret recovered by this TPM"
                                    : (err != NULL ? err->msg : ""));
    if (st == LATCH_OK && proof != NULL) {
        proof->pending_ak = choice->pending;
        proof->persistent = persistent;
        proof->handle = persistent ? choice->handle : 0;
    }
    return st;
}

/* --- activation -------------------------------------------------------- */

/* The serial floor: the installed license, when it is for this device. */
static enum latch_status
check_serial(struct latch_device *dev, const struct latch_license *lic,
             struct latch_report *rep, struct latch_err *err)
{
    struct latch_license *old = NULL;
    struct latch_err e2 = {LATCH_OK, ""};
    enum latch_status st;

    st = latch_device_installed(dev, &old, &e2);
    if (st == LATCH_E_NOT_FOUND) {
        latch_report_add(rep, "serial", LATCH_CHECK_PASS,
                         "%lld (nothing installed)", (long long)lic->serial);
        return LATCH_OK;
    }
    if (st != LATCH_OK) {
        latch_report_add(rep, "serial", LATCH_CHECK_WARN,
                         "installed license unreadable, no floor: %s", e2.msg);
        return LATCH_OK;
    }
    if (strcmp(old->device_id, lic->device_id) == 0 &&
        lic->serial < old->serial) {
        latch_report_add(rep, "serial", LATCH_CHECK_FAIL,
                         "%lld is lower than the installed %lld",
                         (long long)lic->serial, (long long)old->serial);
        st = latch_err_set(err, LATCH_E_ROLLBACK,
                           "license.serial: %lld is lower than the installed "
                           "license's serial %lld",
                           (long long)lic->serial, (long long)old->serial);
    } else {
        latch_report_add(rep, "serial", LATCH_CHECK_PASS,
                         "%lld (installed %lld)", (long long)lic->serial,
                         (long long)old->serial);
    }
    latch_license_free(old);
    return st;
}

/*
 * The license names the pending AK: it becomes the active one (files
 * rewritten, marker last; the pending copy stays until then), and the old
 * AK's persistent object is evicted.
 */
static enum latch_status
promote(struct latch_device *dev, struct latch_tpm *tpm, struct slot *active,
        struct slot *pending, struct latch_err *err)
{
    uint32_t old = active->present ? active->handle : 0;
    enum latch_status st;

    st = slot_write(dev, pending, "ak", err);
    if (st == LATCH_OK) {
        st = slot_remove(dev, "ak-pending", err);
    }
    if (st == LATCH_OK && old != 0 && old != pending->handle) {
        st = latch_tpm_unpersist(tpm, old, err);
    }
    return st;
}

static enum latch_status
install(struct latch_device *dev, const char *buf, size_t len,
        struct latch_err *err)
{
    char path[PATH_MAX];
    enum latch_status st;

    st = ensure_dir(dev, NULL, err);
    if (st == LATCH_OK) {
        st = state_path(dev, LATCH_LICENSE_FILE, path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = latch_write_atomic(path, buf, len, 0644, err);
    }
    return st;
}

enum latch_status
latch_device_activate(struct latch_device *dev, const char *buf, size_t len,
                      int64_t now, struct latch_license **out,
                      struct latch_report *rep, struct latch_err *err)
{
    struct slot active = {.prefix = "ak"};
    struct slot pending = {.prefix = "ak-pending"};
    struct latch_license *lic = NULL;
    struct latch_tpm *tpm = NULL;
    struct ak_choice choice;
    struct latch_err e2 = {LATCH_OK, ""};
    ESYS_TR ek = ESYS_TR_NONE;
    enum latch_status st;

    st = latch_license_parse(buf, len, &lic, err);
    if (st == LATCH_OK) {
        st = verify_signature(lic, rep, err);
    }
    if (st == LATCH_OK) {
        st = slot_read(dev, &active, err);
    }
    if (st == LATCH_OK) {
        st = slot_read(dev, &pending, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_open(dev->tcti, &tpm, err);
    }
    if (st == LATCH_OK) {
        st = identify(tpm, lic, &active, &pending, &ek, &choice, rep, err);
    }
    if (st == LATCH_OK) {
        st = latch_license_check_time(lic, now, err);
        latch_report_add(rep, "validity",
                         st == LATCH_OK ? LATCH_CHECK_PASS : LATCH_CHECK_FAIL,
                         "%s", st == LATCH_OK ? "valid now" : err->msg);
    }
    if (st == LATCH_OK) {
        st = check_serial(dev, lic, rep, err);
    }
    if (st == LATCH_OK) {
        st = possess(tpm, lic, ek, &choice, NULL, rep, err);
    }
    if (st == LATCH_OK) {
        st = install(dev, buf, len, err);
    }
    if (st == LATCH_OK && choice.pending &&
        promote(dev, tpm, &active, &pending, &e2) != LATCH_OK) {
        /* The license is installed and the pending AK still proves it. */
        latch_report_add(rep, "rotation", LATCH_CHECK_WARN,
                         "the new AK is not yet the active one: %s", e2.msg);
    }
    if (st == LATCH_OK && out != NULL) {
        *out = lic;
        lic = NULL;
    }
    latch_tpm_flush(tpm, &ek);
    latch_tpm_close(tpm);
    latch_license_free(lic);
    slot_clear(&active);
    slot_clear(&pending);
    return st;
}

enum latch_status
latch_device_installed(struct latch_device *dev, struct latch_license **out,
                       struct latch_err *err)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    enum latch_status st;

    st = state_path(dev, LATCH_LICENSE_FILE, path, sizeof(path), err);
    if (st != LATCH_OK) {
        return st;
    }
    if (access(path, F_OK) == -1 && errno == ENOENT) {
        return latch_err_set(err, LATCH_E_NOT_FOUND,
                             "no license installed (%s does not exist)", path);
    }
    st = latch_read_file(path, LATCH_LICENSE_FILE_MAX, &buf, &len, err);
    if (st == LATCH_OK) {
        st = latch_license_parse(buf, len, out, err);
        if (st != LATCH_OK) {
            latch_err_prefix(err, path);
        }
    }
    free(buf);
    return st;
}

enum latch_status
latch_device_prove(struct latch_device *dev, struct latch_license **out,
                   struct latch_proof *proof, struct latch_report *rep,
                   struct latch_err *err)
{
    struct slot active = {.prefix = "ak"};
    struct slot pending = {.prefix = "ak-pending"};
    struct latch_license *lic = NULL;
    struct latch_tpm *tpm = NULL;
    struct ak_choice choice;
    ESYS_TR ek = ESYS_TR_NONE;
    enum latch_status st;

    st = latch_device_installed(dev, &lic, err);
    if (st == LATCH_OK) {
        st = verify_signature(lic, rep, err);
    }
    if (st == LATCH_OK) {
        st = slot_read(dev, &active, err);
    }
    if (st == LATCH_OK) {
        st = slot_read(dev, &pending, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_open(dev->tcti, &tpm, err);
    }
    if (st == LATCH_OK) {
        st = identify(tpm, lic, &active, &pending, &ek, &choice, rep, err);
    }
    if (st == LATCH_OK) {
        st = possess(tpm, lic, ek, &choice, proof, rep, err);
    }
    if (st == LATCH_OK) {
        *out = lic;
        lic = NULL;
    }
    latch_tpm_flush(tpm, &ek);
    latch_tpm_close(tpm);
    latch_license_free(lic);
    slot_clear(&active);
    slot_clear(&pending);
    return st;
}
