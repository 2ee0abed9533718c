/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * tpm.c: every ESAPI call latch makes. Objects are tracked so that none
 * outlives the context (a raw swtpm has three object slots); sessions are
 * started with continueSession clear and flushed here when the command they
 * were meant for fails.
 */
#include "tpm.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#define MAX_TRACKED 8
/* Chunk size when the TPM does not report TPM2_PT_NV_BUFFER_MAX. */
#define NV_CHUNK_FALLBACK 512

struct tracked {
    ESYS_TR tr;
    bool transient;
    bool user_with_auth;
    TPMI_ALG_HASH name_alg;
    const struct latch_ek_policy *ek_policy; /* NULL: not a TCG EK policy */
};

struct latch_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
    TSS2_RC last_rc;
    struct tracked objs[MAX_TRACKED];
    size_t nobjs;
};

static const TPMT_SYM_DEF SESSION_SYM = {
    .algorithm = TPM2_ALG_AES,
    .keyBits = {.aes = 128},
    .mode = {.aes = TPM2_ALG_CFB},
};

static enum latch_status
tss_fail(struct latch_tpm *tpm, TSS2_RC rc, struct latch_err *err,
         const char *what)
{
    tpm->last_rc = rc;
    return latch_err_set(err, LATCH_E_TPM, "%s: TPM error 0x%x (%s)", what,
                         (unsigned)rc, Tss2_RC_Decode(rc));
}

const char *
latch_tpm_tcti(const char *tcti)
{
    const char *env;

    if (tcti != NULL) {
        return tcti;
    }
    env = getenv(LATCH_TPM_TCTI_ENV);
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    return LATCH_TPM_DEFAULT_TCTI;
}

/* pcap:pcap:...: how deep a TCTI string may wrap another. */
#define TCTI_NEST_MAX 4

/* Where tpm2-tss's device TCTI (and the loader's default) looks. */
static const char *const TSS_DEFAULT_DEVICES[] = {"/dev/tpmrm0", "/dev/tpm0",
                                                  NULL};

/*
 * The device TCTI opens its path read-write and writes a TPM command into
 * it: anything but a character device (a regular file, a FIFO) would be
 * overwritten. Symlinks are followed, as the TCTI does.
 */
static enum latch_status
check_tpm_device(const char *conf, const char *path, bool may_be_absent,
                 struct latch_err *err)
{
    struct stat sb;

    if (stat(path, &sb) == -1) {
        if (may_be_absent && errno == ENOENT) {
            return LATCH_OK;
        }
        return latch_err_set(err, LATCH_E_TPM,
                             "TPM unavailable: TCTI '%s': %s: %s", conf, path,
                             strerror(errno));
    }
    if (!S_ISCHR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_TPM,
                             "TPM unavailable: TCTI '%s': %s is not a "
                             "character device (refusing to write TPM "
                             "commands into it)",
                             conf, path);
    }
    return LATCH_OK;
}

static enum latch_status
check_tpm_defaults(const char *conf, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;

    for (size_t i = 0; st == LATCH_OK && TSS_DEFAULT_DEVICES[i] != NULL; i++) {
        st = check_tpm_device(conf, TSS_DEFAULT_DEVICES[i], true, err);
    }
    return st;
}

/*
 * Splits "name:conf" as the TCTI loader does and checks what the device
 * TCTI would open: conf, or its default paths when conf is empty. An empty
 * name is the loader's own search, which ends with those paths too; pcap
 * wraps another TCTI string. Names the loader cannot load are left to it.
 */
static enum latch_status
check_tcti(const char *full, const char *nameconf, int depth,
           struct latch_err *err)
{
    const char *colon = strchr(nameconf, ':');
    size_t n = colon != NULL ? (size_t)(colon - nameconf) : strlen(nameconf);
    const char *conf = colon != NULL && colon[1] != '\0' ? colon + 1 : NULL;
    TSS2_TCTI_INFO *info = NULL;
    enum latch_status st = LATCH_OK;
    char name[PATH_MAX];

    if (n == 0) {
        return check_tpm_defaults(full, err);
    }
    if (n >= sizeof(name) || depth > TCTI_NEST_MAX) {
        /* Not to be checked, so not to be loaded. */
        return latch_err_set(err, LATCH_E_TPM,
                             "TPM unavailable: TCTI '%s': name too long or "
                             "nested more than %d deep",
                             full, TCTI_NEST_MAX);
    }
    memcpy(name, nameconf, n);
    name[n] = '\0';
    if (Tss2_TctiLdr_GetInfo(name, &info) != TSS2_RC_SUCCESS || info == NULL ||
        info->name == NULL) {
        goto out;
    }
    if (strcmp(info->name, "tcti-device") == 0) {
        st = conf != NULL ? check_tpm_device(full, conf, false, err)
                          : check_tpm_defaults(full, err);
    } else if (strcmp(info->name, "tcti-pcap") == 0 && conf != NULL) {
        st = check_tcti(full, conf, depth + 1, err);
    }

out:
    Tss2_TctiLdr_FreeInfo(&info);
    return st;
}

enum latch_status
latch_tpm_open(const char *tcti, struct latch_tpm **out, struct latch_err *err)
{
    struct latch_tpm *tpm = NULL;
    const char *conf = latch_tpm_tcti(tcti);
    enum latch_status st = LATCH_E_TPM;
    TSS2_RC rc;

    st = check_tcti(conf, conf, 0, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = LATCH_E_TPM;
    tpm = calloc(1, sizeof(*tpm));
    if (tpm == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "tpm: out of memory");
    }
    rc = Tss2_TctiLdr_Initialize(conf, &tpm->tcti);
    if (rc != TSS2_RC_SUCCESS) {
        latch_err_set(err, LATCH_E_TPM,
                      "TPM unavailable: cannot open TCTI '%s': 0x%x (%s)", conf,
                      (unsigned)rc, Tss2_RC_Decode(rc));
        goto out;
    }
    rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        latch_err_set(err, LATCH_E_TPM,
                      "TPM unavailable: ESAPI on TCTI '%s': 0x%x (%s)", conf,
                      (unsigned)rc, Tss2_RC_Decode(rc));
        goto out;
    }
    *out = tpm;
    tpm = NULL;
    st = LATCH_OK;

out:
    latch_tpm_close(tpm);
    return st;
}

static struct tracked *
find_tracked(struct latch_tpm *tpm, ESYS_TR tr)
{
    for (size_t i = 0; i < tpm->nobjs; i++) {
        if (tpm->objs[i].tr == tr) {
            return &tpm->objs[i];
        }
    }
    return NULL;
}

/* Tracks tr; when the table is full the object is released at once. */
static enum latch_status
track(struct latch_tpm *tpm, ESYS_TR tr, bool transient, const TPMT_PUBLIC *pub,
      struct latch_err *err)
{
    struct tracked *t;

    if (tpm->nobjs == MAX_TRACKED) {
        if (transient) {
            Esys_FlushContext(tpm->esys, tr);
        } else {
            Esys_TR_Close(tpm->esys, &tr);
        }
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "tpm: more than %d objects loaded", MAX_TRACKED);
    }
    t = &tpm->objs[tpm->nobjs++];
    t->tr = tr;
    t->transient = transient;
    t->user_with_auth = (pub->objectAttributes & TPMA_OBJECT_USERWITHAUTH) != 0;
    t->name_alg = pub->nameAlg;
    t->ek_policy = latch_ek_policy_find(pub->nameAlg, &pub->authPolicy);
    return LATCH_OK;
}

void
latch_tpm_flush(struct latch_tpm *tpm, ESYS_TR *obj)
{
    struct tracked *t;
    size_t i;

    if (tpm == NULL || obj == NULL || *obj == ESYS_TR_NONE) {
        return;
    }
    t = find_tracked(tpm, *obj);
    if (t == NULL || t->transient) {
        Esys_FlushContext(tpm->esys, *obj);
    } else {
        Esys_TR_Close(tpm->esys, obj);
    }
    if (t != NULL) {
        i = (size_t)(t - tpm->objs);
        tpm->objs[i] = tpm->objs[tpm->nobjs - 1];
        tpm->nobjs--;
    }
    *obj = ESYS_TR_NONE;
}

void
latch_tpm_close(struct latch_tpm *tpm)
{
    ESYS_TR tr;

    if (tpm == NULL) {
        return;
    }
    while (tpm->esys != NULL && tpm->nobjs > 0) {
        tr = tpm->objs[tpm->nobjs - 1].tr;
        latch_tpm_flush(tpm, &tr);
    }
    if (tpm->esys != NULL) {
        Esys_Finalize(&tpm->esys);
    }
    if (tpm->tcti != NULL) {
        Tss2_TctiLdr_Finalize(&tpm->tcti);
    }
    free(tpm);
}

TSS2_RC
latch_tpm_last_rc(const struct latch_tpm *tpm)
{
    return tpm == NULL ? 0 : tpm->last_rc;
}

bool
latch_tpm_rc_from_tpm(TSS2_RC rc)
{
    TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

    return rc != TSS2_RC_SUCCESS &&
           (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER);
}

bool
latch_tpm_rc_transient(TSS2_RC rc)
{
    return latch_tpm_rc_from_tpm(rc) && (rc & TPM2_RC_FMT1) == 0 &&
           (rc & 0xf00) == TPM2_RC_WARN;
}

/* --- properties ----------------------------------------------------- */

/* Four big-endian characters of a property, printable ASCII only. */
static void
prop_chars(uint32_t v, char *out)
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((v >> (24 - 8 * i)) & 0xff);

        out[i] = (c >= 0x20 && c < 0x7f) ? c : '\0';
    }
}

/* Concatenates 4-character groups, skipping NULs, trimming the end. */
static void
prop_text(const uint32_t *vals, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    char c4[4];

    for (size_t i = 0; i < n; i++) {
        prop_chars(vals[i], c4);
        for (size_t j = 0; j < 4 && len + 1 < cap; j++) {
            if (c4[j] != '\0') {
                out[len++] = c4[j];
            }
        }
    }
    while (len > 0 && out[len - 1] == ' ') {
        len--;
    }
    out[len] = '\0';
}

static void
apply_prop(struct latch_tpm_props *p, uint32_t *vendor, TPM2_PT prop,
           uint32_t v)
{
    switch (prop) {
    case TPM2_PT_MANUFACTURER:
        p->manufacturer_id = v;
        break;
    case TPM2_PT_VENDOR_STRING_1:
    case TPM2_PT_VENDOR_STRING_2:
    case TPM2_PT_VENDOR_STRING_3:
    case TPM2_PT_VENDOR_STRING_4:
        vendor[prop - TPM2_PT_VENDOR_STRING_1] = v;
        break;
    case TPM2_PT_FIRMWARE_VERSION_1:
        p->firmware1 = v;
        break;
    case TPM2_PT_FIRMWARE_VERSION_2:
        p->firmware2 = v;
        break;
    case TPM2_PT_REVISION:
        p->spec_revision = v;
        break;
    case TPM2_PT_NV_BUFFER_MAX:
        p->nv_buffer_max = v;
        break;
    default:
        break;
    }
}

enum latch_status
latch_tpm_properties(struct latch_tpm *tpm, struct latch_tpm_props *out,
                     struct latch_err *err)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = TPM2_YES;
    uint32_t vendor[4] = {0};
    TPM2_PT next = TPM2_PT_FIXED;
    TPMS_TAGGED_PROPERTY *tp;
    TSS2_RC rc;

    memset(out, 0, sizeof(*out));
    while (more == TPM2_YES && next < TPM2_PT_VAR) {
        rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES, next,
                                TPM2_MAX_TPM_PROPERTIES, &more, &cap);
        if (rc != TSS2_RC_SUCCESS) {
            return tss_fail(tpm, rc, err, "GetCapability(TPM properties)");
        }
        if (cap->data.tpmProperties.count == 0) {
            Esys_Free(cap);
            break;
        }
        for (UINT32 i = 0;
             i < cap->data.tpmProperties.count && i < TPM2_MAX_TPM_PROPERTIES;
             i++) {
            tp = &cap->data.tpmProperties.tpmProperty[i];
            apply_prop(out, vendor, tp->property, tp->value);
            next = tp->property + 1;
        }
        Esys_Free(cap);
        cap = NULL;
    }
    prop_text(&out->manufacturer_id, 1, out->manufacturer,
              sizeof(out->manufacturer));
    prop_text(vendor, 4, out->vendor, sizeof(out->vendor));
    snprintf(out->firmware, sizeof(out->firmware), "%x.%x",
             (unsigned)out->firmware1, (unsigned)out->firmware2);
    return LATCH_OK;
}

/* --- NV and handles --------------------------------------------------- */

enum latch_status
latch_tpm_handles(struct latch_tpm *tpm, TPM2_HANDLE first, TPM2_HANDLE last,
                  TPM2_HANDLE *out, size_t cap, size_t *n,
                  struct latch_err *err)
{
    TPMS_CAPABILITY_DATA *data = NULL;
    TPMI_YES_NO more = TPM2_YES;
    TPM2_HANDLE next = first;
    TPM2_HANDLE h;
    TSS2_RC rc;

    *n = 0;
    while (more == TPM2_YES && next <= last) {
        rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, TPM2_CAP_HANDLES, next,
                                TPM2_MAX_CAP_HANDLES, &more, &data);
        if (rc != TSS2_RC_SUCCESS) {
            return tss_fail(tpm, rc, err, "GetCapability(handles)");
        }
        if (data->data.handles.count == 0) {
            Esys_Free(data);
            break;
        }
        for (UINT32 i = 0;
             i < data->data.handles.count && i < TPM2_MAX_CAP_HANDLES; i++) {
            h = data->data.handles.handle[i];
            if (h < first || h > last) {
                more = TPM2_NO;
                break;
            }
            if (*n < cap) {
                out[(*n)++] = h;
            }
            next = h + 1;
        }
        Esys_Free(data);
        data = NULL;
    }
    return LATCH_OK;
}

static uint32_t
nv_chunk(struct latch_tpm *tpm)
{
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more;
    uint32_t v = NV_CHUNK_FALLBACK;
    TSS2_RC rc;

    rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1,
                            &more, &cap);
    if (rc == TSS2_RC_SUCCESS && cap->data.tpmProperties.count == 1 &&
        cap->data.tpmProperties.tpmProperty[0].property ==
            TPM2_PT_NV_BUFFER_MAX &&
        cap->data.tpmProperties.tpmProperty[0].value > 0) {
        v = cap->data.tpmProperties.tpmProperty[0].value;
    }
    Esys_Free(cap);
    return v < TPM2_MAX_NV_BUFFER_SIZE ? v : TPM2_MAX_NV_BUFFER_SIZE;
}

static bool
nv_defined(struct latch_tpm *tpm, TPM2_HANDLE index, bool *defined,
           struct latch_err *err)
{
    TPM2_HANDLE h = 0;
    size_t n = 0;

    if (latch_tpm_handles(tpm, index, index, &h, 1, &n, err) != LATCH_OK) {
        return false;
    }
    *defined = n == 1 && h == index;
    return true;
}

enum latch_status
latch_tpm_nv_read(struct latch_tpm *tpm, TPM2_HANDLE index, size_t max,
                  uint8_t **out, size_t *outlen, struct latch_err *err)
{
    enum latch_status st = LATCH_E_TPM;
    TPM2B_NV_PUBLIC *nvpub = NULL;
    TPM2B_MAX_NV_BUFFER *data = NULL;
    ESYS_TR nv = ESYS_TR_NONE;
    ESYS_TR auth;
    uint8_t *buf = NULL;
    bool defined = false;
    uint32_t chunk;
    UINT16 size, off = 0, want;
    TSS2_RC rc;

    if (!nv_defined(tpm, index, &defined, err)) {
        return LATCH_E_TPM;
    }
    if (!defined) {
        return latch_err_set(err, LATCH_E_NOT_FOUND,
                             "NV index 0x%08x is not defined", index);
    }
    rc = Esys_TR_FromTPMPublic(tpm->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
        tss_fail(tpm, rc, err, "NV_ReadPublic");
        goto out;
    }
    rc = Esys_NV_ReadPublic(tpm->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, &nvpub, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        tss_fail(tpm, rc, err, "NV_ReadPublic");
        goto out;
    }
    size = nvpub->nvPublic.dataSize;
    if (size > max) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "NV index 0x%08x holds %u bytes, the limit is %zu",
                           index, (unsigned)size, max);
        goto out;
    }
    if ((nvpub->nvPublic.attributes & TPMA_NV_AUTHREAD) != 0) {
        auth = nv;
    } else if ((nvpub->nvPublic.attributes & TPMA_NV_OWNERREAD) != 0) {
        auth = ESYS_TR_RH_OWNER;
    } else {
        st = latch_err_set(err, LATCH_E_TPM,
                           "NV index 0x%08x is readable by neither its own "
                           "auth nor the owner (attributes 0x%08x)",
                           index, (unsigned)nvpub->nvPublic.attributes);
        goto out;
    }
    buf = malloc(size > 0 ? size : 1);
    if (buf == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "NV read: out of memory");
        goto out;
    }
    chunk = nv_chunk(tpm);
    while (off < size) {
        want =
            (UINT16)((uint32_t)(size - off) > chunk ? chunk
                                                    : (uint32_t)(size - off));
        rc = Esys_NV_Read(tpm->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, want, off, &data);
        if (rc != TSS2_RC_SUCCESS) {
            tss_fail(tpm, rc, err, "NV_Read");
            goto out;
        }
        if (data->size == 0 || data->size > want) {
            st = latch_err_set(err, LATCH_E_TPM,
                               "NV_Read of 0x%08x returned %u bytes for %u",
                               index, (unsigned)data->size, (unsigned)want);
            goto out;
        }
        memcpy(buf + off, data->buffer, data->size);
        off = (UINT16)(off + data->size);
        Esys_Free(data);
        data = NULL;
    }
    *out = buf;
    *outlen = size;
    buf = NULL;
    st = LATCH_OK;

out:
    free(buf);
    Esys_Free(data);
    Esys_Free(nvpub);
    if (nv != ESYS_TR_NONE) {
        Esys_TR_Close(tpm->esys, &nv);
    }
    return st;
}

/* --- EK ----------------------------------------------------------------- */

static size_t
ecc_bytes(TPMI_ECC_CURVE curve)
{
    switch (curve) {
    case TPM2_ECC_NIST_P256:
        return 32;
    case TPM2_ECC_NIST_P384:
        return 48;
    case TPM2_ECC_NIST_P521:
        return 66;
    default:
        return 0;
    }
}

/*
 * Reads an NV index that may be absent: LATCH_OK with *out NULL when it is
 * not defined, and then err keeps what it held, so an expected absence
 * leaves no message behind (latch_last_error() after a good latch_load()).
 */
static enum latch_status
nv_probe(struct latch_tpm *tpm, TPM2_HANDLE index, size_t max, uint8_t **out,
         size_t *outlen, struct latch_err *err)
{
    struct latch_err mine;
    enum latch_status st;

    *out = NULL;
    latch_err_clear(&mine);
    st = latch_tpm_nv_read(tpm, index, max, out, outlen, &mine);
    if (st == LATCH_E_NOT_FOUND) {
        *out = NULL;
        return LATCH_OK;
    }
    if (st != LATCH_OK) {
        return latch_err_set(err, st, "%s", mine.msg);
    }
    return LATCH_OK;
}

/* The template from NV (TPMT_PUBLIC, exact) when that index is defined. */
static enum latch_status
template_from_nv(struct latch_tpm *tpm, TPM2_HANDLE index, TPM2B_PUBLIC *tmpl,
                 struct latch_err *err)
{
    enum latch_status st;
    uint8_t *buf = NULL;
    size_t len = 0, off = 0;
    TPMT_PUBLIC pub;
    TSS2_RC rc;

    st = nv_probe(tpm, index, sizeof(TPMT_PUBLIC), &buf, &len, err);
    if (st != LATCH_OK || buf == NULL) {
        return st;
    }
    memset(&pub, 0, sizeof(pub));
    rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(buf, len, &off, &pub);
    if (rc != TSS2_RC_SUCCESS || off != len) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "EK template in NV 0x%08x is not a TPMT_PUBLIC "
                           "(%zu bytes)",
                           index, len);
    } else {
        memset(tmpl, 0, sizeof(*tmpl));
        tmpl->publicArea = pub;
    }
    free(buf);
    return st;
}

/* Fills unique with the NV nonce, zero padded to the key size. */
static enum latch_status
nonce_from_nv(struct latch_tpm *tpm, TPM2_HANDLE index, TPM2B_PUBLIC *tmpl,
              struct latch_err *err)
{
    TPMT_PUBLIC *p = &tmpl->publicArea;
    enum latch_status st;
    uint8_t *buf = NULL;
    size_t len = 0, keylen;

    st = nv_probe(tpm, index, 512, &buf, &len, err);
    if (st != LATCH_OK || buf == NULL) {
        return st;
    }
    if (p->type == TPM2_ALG_RSA) {
        keylen = p->parameters.rsaDetail.keyBits / 8u;
        if (len > keylen || keylen > sizeof(p->unique.rsa.buffer)) {
            goto bad;
        }
        memset(&p->unique.rsa, 0, sizeof(p->unique.rsa));
        memcpy(p->unique.rsa.buffer, buf, len);
        p->unique.rsa.size = (UINT16)keylen;
    } else if (p->type == TPM2_ALG_ECC) {
        keylen = ecc_bytes(p->parameters.eccDetail.curveID);
        if (keylen == 0 || len > keylen) {
            goto bad;
        }
        memset(&p->unique.ecc, 0, sizeof(p->unique.ecc));
        memcpy(p->unique.ecc.x.buffer, buf, len);
        p->unique.ecc.x.size = (UINT16)keylen;
        p->unique.ecc.y.size = (UINT16)keylen;
    } else {
        goto bad;
    }
    free(buf);
    return LATCH_OK;

bad:
    free(buf);
    return latch_err_set(err, LATCH_E_FORMAT,
                         "EK nonce in NV 0x%08x (%zu bytes) does not fit the "
                         "template",
                         index, len);
}

enum latch_status
latch_tpm_ek_create(struct latch_tpm *tpm, const struct latch_ek_info *info,
                    ESYS_TR *ek, TPM2B_PUBLIC *pub, struct latch_err *err)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_PUBLIC *outpub = NULL;
    ESYS_TR obj = ESYS_TR_NONE;
    enum latch_status st;
    TSS2_RC rc;

    latch_ek_template(info->kind, &tmpl);
    if (info->template_index != 0) {
        st = template_from_nv(tpm, info->template_index, &tmpl, err);
        if (st != LATCH_OK) {
            return st;
        }
    }
    if (info->nonce_index != 0) {
        st = nonce_from_nv(tpm, info->nonce_index, &tmpl, err);
        if (st != LATCH_OK) {
            return st;
        }
    }
    rc = Esys_CreatePrimary(tpm->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                            ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
                            &pcrs, &obj, &outpub, NULL, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        return tss_fail(tpm, rc, err, "CreatePrimary(EK)");
    }
    st = track(tpm, obj, true, &outpub->publicArea, err);
    if (st == LATCH_OK) {
        *pub = *outpub;
        *ek = obj;
    }
    Esys_Free(outpub);
    return st;
}

/*
 * Runs the commands that satisfy a TCG EK policy in the policy session
 * sess: PolicySecret(TPM_RH_ENDORSEMENT) (whose auth, the empty endorsement
 * password, is not subject to dictionary-attack counting), then for the
 * high-range PolicyB the PolicyOR of PolicyA and PolicyC.
 */
static TSS2_RC
ek_policy_run(struct latch_tpm *tpm, ESYS_TR sess,
              const struct latch_ek_policy *pol, const char **what)
{
    TPML_DIGEST branches;
    TSS2_RC rc;

    *what = "PolicySecret(endorsement)";
    rc = Esys_PolicySecret(tpm->esys, ESYS_TR_RH_ENDORSEMENT, sess,
                           ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                           NULL, NULL, 0, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS || pol == NULL || pol->or_other == NULL) {
        return rc;
    }
    memset(&branches, 0, sizeof(branches));
    branches.count = 2;
    branches.digests[0].size = pol->size;
    memcpy(branches.digests[0].buffer, pol->policy_a, pol->size);
    branches.digests[1].size = pol->size;
    memcpy(branches.digests[1].buffer, pol->or_other, pol->size);
    *what = "PolicyOR(EK PolicyA, PolicyC)";
    return Esys_PolicyOR(tpm->esys, sess, ESYS_TR_NONE, ESYS_TR_NONE,
                         ESYS_TR_NONE, &branches);
}

/*
 * A session authorizing the EK in the USER role. An EK carrying a TCG EK
 * policy (latch_ek_policy_find()) gets a policy session in that policy's
 * hash satisfying it, also when it has userWithAuth (the high-range H-3
 * EK): its empty auth value is DA-protected, so after every proof a power
 * cut without TPM2_Shutdown would count one failure towards a lockout.
 * Other EKs get a password session when they have userWithAuth, else
 * PolicySecret(endorsement) in their nameAlg. The policy session is
 * flushed by the TPM after one command (continueSession clear); the
 * caller flushes it when that command fails.
 */
static enum latch_status
ek_session(struct latch_tpm *tpm, ESYS_TR ek, ESYS_TR *sess,
           struct latch_err *err)
{
    struct tracked *t = find_tracked(tpm, ek);
    const struct latch_ek_policy *pol;
    const char *what = "TRSess_SetAttributes(EK policy)";
    TPMI_ALG_HASH hash;
    TSS2_RC rc;

    *sess = ESYS_TR_NONE;
    if (t == NULL) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "tpm: EK handle not from this context");
    }
    pol = t->ek_policy;
    if (pol == NULL && t->user_with_auth) {
        *sess = ESYS_TR_PASSWORD;
        return LATCH_OK;
    }
    hash = pol != NULL ? pol->hash : t->name_alg;
    rc = Esys_StartAuthSession(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
                               TPM2_SE_POLICY, &SESSION_SYM, hash, sess);
    if (rc != TSS2_RC_SUCCESS) {
        *sess = ESYS_TR_NONE;
        return tss_fail(tpm, rc, err, "StartAuthSession(EK policy)");
    }
    rc = Esys_TRSess_SetAttributes(tpm->esys, *sess, 0,
                                   TPMA_SESSION_CONTINUESESSION);
    if (rc == TSS2_RC_SUCCESS) {
        rc = ek_policy_run(tpm, *sess, pol, &what);
    }
    if (rc != TSS2_RC_SUCCESS) {
        Esys_FlushContext(tpm->esys, *sess);
        *sess = ESYS_TR_NONE;
        return tss_fail(tpm, rc, err, what);
    }
    return LATCH_OK;
}

static void
session_done(struct latch_tpm *tpm, ESYS_TR *sess, TSS2_RC rc)
{
    /* On success the TPM and ESAPI already dropped the session. */
    if (rc != TSS2_RC_SUCCESS && *sess != ESYS_TR_NONE &&
        *sess != ESYS_TR_PASSWORD) {
        Esys_FlushContext(tpm->esys, *sess);
    }
    *sess = ESYS_TR_NONE;
}

static void
ak_template(enum latch_ak_alg alg, TPM2B_PUBLIC *t)
{
    TPMT_PUBLIC *p = &t->publicArea;

    memset(t, 0, sizeof(*t));
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN |
                          TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
    if (alg == LATCH_AK_RSA2048) {
        p->type = TPM2_ALG_RSA;
        p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        p->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        p->parameters.rsaDetail.keyBits = 2048;
        p->parameters.rsaDetail.exponent = 0;
    } else {
        p->type = TPM2_ALG_ECC;
        p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    }
}

enum latch_status
latch_tpm_ak_create(struct latch_tpm *tpm, ESYS_TR ek, enum latch_ak_alg alg,
                    TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv,
                    struct latch_err *err)
{
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_PUBLIC *outpub = NULL;
    TPM2B_PRIVATE *outpriv = NULL;
    ESYS_TR sess = ESYS_TR_NONE;
    enum latch_status st;
    TSS2_RC rc;

    ak_template(alg, &tmpl);
    st = ek_session(tpm, ek, &sess, err);
    if (st != LATCH_OK) {
        return st;
    }
    rc = Esys_Create(tpm->esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                     &tmpl, &outside, &pcrs, &outpriv, &outpub, NULL, NULL,
                     NULL);
    session_done(tpm, &sess, rc);
    if (rc != TSS2_RC_SUCCESS) {
        return tss_fail(tpm, rc, err, "Create(AK)");
    }
    *pub = *outpub;
    *priv = *outpriv;
    Esys_Free(outpub);
    Esys_Free(outpriv);
    return LATCH_OK;
}

enum latch_status
latch_tpm_load(struct latch_tpm *tpm, ESYS_TR ek, const TPM2B_PUBLIC *pub,
               const TPM2B_PRIVATE *priv, ESYS_TR *obj, struct latch_err *err)
{
    ESYS_TR sess = ESYS_TR_NONE;
    ESYS_TR h = ESYS_TR_NONE;
    enum latch_status st;
    TSS2_RC rc;

    st = ek_session(tpm, ek, &sess, err);
    if (st != LATCH_OK) {
        return st;
    }
    rc = Esys_Load(tpm->esys, ek, sess, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
                   &h);
    session_done(tpm, &sess, rc);
    if (rc != TSS2_RC_SUCCESS) {
        return tss_fail(tpm, rc, err, "Load(AK)");
    }
    st = track(tpm, h, true, &pub->publicArea, err);
    if (st == LATCH_OK) {
        *obj = h;
    }
    return st;
}

/* --- persistent objects ---------------------------------------------- */

enum latch_status
latch_tpm_persistent_open(struct latch_tpm *tpm, TPM2_HANDLE handle,
                          ESYS_TR *obj, TPM2B_PUBLIC *pub,
                          struct latch_err *err)
{
    TPM2B_PUBLIC *outpub = NULL;
    ESYS_TR h = ESYS_TR_NONE;
    TPM2_HANDLE found = 0;
    enum latch_status st;
    size_t n = 0;
    TSS2_RC rc;

    st = latch_tpm_handles(tpm, handle, handle, &found, 1, &n, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (n != 1 || found != handle) {
        return latch_err_set(err, LATCH_E_NOT_FOUND,
                             "no persistent object at 0x%08x", handle);
    }
    rc = Esys_TR_FromTPMPublic(tpm->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, &h);
    if (rc != TSS2_RC_SUCCESS) {
        return tss_fail(tpm, rc, err, "ReadPublic(persistent object)");
    }
    rc = Esys_ReadPublic(tpm->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                         &outpub, NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        Esys_TR_Close(tpm->esys, &h);
        return tss_fail(tpm, rc, err, "ReadPublic(persistent object)");
    }
    st = track(tpm, h, false, &outpub->publicArea, err);
    if (st == LATCH_OK) {
        *pub = *outpub;
        *obj = h;
    }
    Esys_Free(outpub);
    return st;
}

enum latch_status
latch_tpm_persist(struct latch_tpm *tpm, ESYS_TR obj, TPM2_HANDLE handle,
                  struct latch_err *err)
{
    ESYS_TR newh = ESYS_TR_NONE;
    TSS2_RC rc;

    rc = Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, handle, &newh);
    if (rc != TSS2_RC_SUCCESS) {
        return tss_fail(tpm, rc, err, "EvictControl(make persistent)");
    }
    Esys_TR_Close(tpm->esys, &newh);
    return LATCH_OK;
}

enum latch_status
latch_tpm_unpersist(struct latch_tpm *tpm, TPM2_HANDLE handle,
                    struct latch_err *err)
{
    TPM2B_PUBLIC pub;
    ESYS_TR h = ESYS_TR_NONE;
    ESYS_TR out = ESYS_TR_NONE;
    enum latch_status st;
    struct tracked *t;
    TSS2_RC rc;

    st = latch_tpm_persistent_open(tpm, handle, &h, &pub, err);
    if (st == LATCH_E_NOT_FOUND) {
        return LATCH_OK;
    }
    if (st != LATCH_OK) {
        return st;
    }
    rc = Esys_EvictControl(tpm->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, handle, &out);
    if (rc != TSS2_RC_SUCCESS) {
        latch_tpm_flush(tpm, &h);
        return tss_fail(tpm, rc, err, "EvictControl(remove persistent)");
    }
    /* ESAPI invalidated h itself: forget it without another TR_Close. */
    t = find_tracked(tpm, h);
    if (t != NULL) {
        *t = tpm->objs[tpm->nobjs - 1];
        tpm->nobjs--;
    }
    return LATCH_OK;
}

/* --- ActivateCredential ---------------------------------------------- */

/*
 * An HMAC session salted to the EK (whose public the caller has matched to
 * the license) that encrypts the first command and response parameters:
 * the credential blob going in and the secret coming out.
 */
static enum latch_status
salted_session(struct latch_tpm *tpm, ESYS_TR ek, ESYS_TR *sess,
               struct latch_err *err)
{
    TSS2_RC rc;

    rc = Esys_StartAuthSession(tpm->esys, ek, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_HMAC,
                               &SESSION_SYM, TPM2_ALG_SHA256, sess);
    if (rc != TSS2_RC_SUCCESS) {
        *sess = ESYS_TR_NONE;
        return tss_fail(tpm, rc, err, "StartAuthSession(salted to the EK)");
    }
    rc = Esys_TRSess_SetAttributes(tpm->esys, *sess,
                                   TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT,
                                   TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
                                       TPMA_SESSION_CONTINUESESSION);
    if (rc != TSS2_RC_SUCCESS) {
        Esys_FlushContext(tpm->esys, *sess);
        *sess = ESYS_TR_NONE;
        return tss_fail(tpm, rc, err, "TRSess_SetAttributes");
    }
    return LATCH_OK;
}

enum latch_status
latch_tpm_activate(struct latch_tpm *tpm, ESYS_TR ak, ESYS_TR ek,
                   const uint8_t *blob, size_t bloblen, const uint8_t *enc,
                   size_t enclen, uint8_t *out, size_t cap, size_t *outlen,
                   struct latch_err *err)
{
    TPM2B_ID_OBJECT idobj;
    TPM2B_ENCRYPTED_SECRET secret;
    TPM2B_DIGEST *cred = NULL;
    ESYS_TR eksess = ESYS_TR_NONE;
    ESYS_TR enc_sess = ESYS_TR_NONE;
    enum latch_status st = LATCH_E_TPM;
    size_t off = 0;
    TSS2_RC rc;

    memset(&idobj, 0, sizeof(idobj));
    memset(&secret, 0, sizeof(secret));
    rc = Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, bloblen, &off, &idobj);
    if (rc != TSS2_RC_SUCCESS || off != bloblen) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "credential_blob is not a TPM2B_ID_OBJECT (%zu "
                             "bytes)",
                             bloblen);
    }
    off = 0;
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enclen, &off, &secret);
    if (rc != TSS2_RC_SUCCESS || off != enclen) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "encrypted_secret is not a "
                             "TPM2B_ENCRYPTED_SECRET (%zu bytes)",
                             enclen);
    }

    st = salted_session(tpm, ek, &enc_sess, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = ek_session(tpm, ek, &eksess, err);
    if (st != LATCH_OK) {
        goto out;
    }
    rc = Esys_ActivateCredential(tpm->esys, ak, ek, ESYS_TR_PASSWORD, eksess,
                                 enc_sess, &idobj, &secret, &cred);
    session_done(tpm, &eksess, rc);
    session_done(tpm, &enc_sess, rc);
    if (rc != TSS2_RC_SUCCESS) {
        st = tss_fail(tpm, rc, err, "ActivateCredential");
        goto out;
    }
    if (cred->size > cap) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "ActivateCredential returned %u bytes, more than "
                           "%zu",
                           (unsigned)cred->size, cap);
        goto out;
    }
    memcpy(out, cred->buffer, cred->size);
    *outlen = cred->size;
    st = LATCH_OK;

out:
    if (cred != NULL) {
        OPENSSL_cleanse(cred, sizeof(*cred));
        Esys_Free(cred);
    }
    if (eksess != ESYS_TR_NONE && eksess != ESYS_TR_PASSWORD) {
        Esys_FlushContext(tpm->esys, eksess);
    }
    if (enc_sess != ESYS_TR_NONE) {
        Esys_FlushContext(tpm->esys, enc_sess);
    }
    return st;
}

/* --- marshalling ------------------------------------------------------ */

enum latch_status
latch_tpm_private_marshal(const TPM2B_PRIVATE *priv, uint8_t *buf, size_t cap,
                          size_t *len, struct latch_err *err)
{
    size_t off = 0;
    TSS2_RC rc;

    rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, cap, &off);
    if (rc != TSS2_RC_SUCCESS) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "marshal TPM2B_PRIVATE: 0x%x", (unsigned)rc);
    }
    *len = off;
    return LATCH_OK;
}

enum latch_status
latch_tpm_private_unmarshal(const uint8_t *buf, size_t len, TPM2B_PRIVATE *out,
                            struct latch_err *err)
{
    size_t off = 0;
    TSS2_RC rc;

    memset(out, 0, sizeof(*out));
    rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, out);
    if (rc != TSS2_RC_SUCCESS || off != len) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "not a TPM2B_PRIVATE (%zu bytes)", len);
    }
    return LATCH_OK;
}
