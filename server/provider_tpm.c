/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * provider_tpm.c: the tpm2_ek_ak_binding provider. Validation: EK
 * certificate parse and chain to a pinned root, the EK public area in the
 * upload equal to the certificate's key and shaped by the named TCG
 * template, the AK public area's attributes, the AK name recomputed, the
 * device id. Proof: software MakeCredential to the certificate's EK key
 * (read from the EK public area that validation proved equal to it) and
 * the recomputed AK name; nothing from the upload is taken unchecked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "aia.h"
#include "codec.h"
#include "core_int.h"
#include "ekcert.h"
#include "enrollment.h"
#include "mkcred.h"
#include "provider.h"
#include "tpmt.h"

#define HEXNAME_MAX (2 * LATCH_NAME_MAX + 1)

static enum latch_status
tpm_parse(const uint8_t *buf, size_t len, void **parsed,
          struct upload_info *info, struct latch_err *err)
{
    struct latch_enrollment *e = NULL;
    enum latch_status st;

    *parsed = NULL;
    memset(info, 0, sizeof(*info));
    st = latch_enrollment_parse((const char *)buf, len, &e, err);
    if (st != LATCH_OK) {
        return st;
    }
    info->hostname = e->hostname;
    info->product = e->product;
    info->serial_number = e->serial_number;
    info->label = e->label;
    *parsed = e;
    return LATCH_OK;
}

static void
tpm_free(void *parsed)
{
    latch_enrollment_free(parsed);
}

static enum val_severity
ek_sev(enum ek_outcome o)
{
    switch (o) {
    case EK_VALID:
        return VAL_OK;
    case EK_INVALID:
        return VAL_INVALID;
    case EK_NEEDS_OVERRIDE:
        return VAL_NEEDS_OVERRIDE;
    case EK_UNKNOWN_ROOT:
        return VAL_UNKNOWN_ROOT;
    }
    return VAL_INVALID;
}

static void
on_progress(void *arg, const char *msg)
{
    val_progress(arg, "info", "%s", msg);
}

/* The enrollment's NV intermediates as an untrusted stack. */
static STACK_OF(X509) *
    untrusted_of(struct validation *v, const struct latch_enrollment *e)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    const unsigned char *p;
    X509 *x;
    size_t i;

    for (i = 0; sk != NULL && i < e->nintermediates; i++) {
        p = e->intermediates[i].data;
        x = d2i_X509(NULL, &p, (long)e->intermediates[i].len);
        if (x == NULL ||
            p != e->intermediates[i].data + e->intermediates[i].len) {
            X509_free(x);
            val_check(v, "ek.intermediates", LATCH_CHECK_WARN, VAL_OK,
                      "intermediate %zu is not one DER certificate; "
                      "ignored",
                      i);
            continue;
        }
        if (sk_X509_push(sk, x) <= 0) {
            X509_free(x);
        }
    }
    return sk;
}

static json_t *
chain_fact(const struct ek_result *res)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < res->chain_len; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "subject",
                                             res->chain[i].subject, "sha256",
                                             res->chain[i].sha256, "pinned",
                                             res->chain[i].pinned));
    }
    return arr;
}

static const char *
nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static void
check_chain(struct validation *v, const struct latch_enrollment *e,
            const struct ek_cert *cert, struct latch_err *err)
{
    struct core *c = val_core(v);
    struct ek_verify_opts opts;
    struct ek_cache_ops cache;
    struct aia_config aia;
    struct ek_result res;
    struct latch_report rep;
    STACK_OF(X509) *untrusted = NULL;
    char reason[LATCH_CHECK_DETAIL_MAX + 16];

    core_load_trust(c);
    if (c->trust == NULL) {
        val_check(v, "ek.chain", LATCH_CHECK_FAIL, VAL_UNKNOWN_ROOT,
                  "no pinned vendor root in the trust directory %s (%s)",
                  c->cfg->trust_dir, c->trust_msg);
        return;
    }
    memset(&opts, 0, sizeof(opts));
    memset(&aia, 0, sizeof(aia));
    memset(&res, 0, sizeof(res));
    memset(&rep, 0, sizeof(rep));
    core_ek_cache(c, &cache);
    aia.enabled = c->cfg->aia_enabled;
    aia.allow_hosts = c->cfg->aia_allow;
    aia.timeout_ms = (long)c->cfg->aia_timeout * 1000L;
    aia.allow_private = c->cfg->aia_allow_private;
    aia.resolve = nonempty(c->cfg->aia_resolve);
    aia.connect_to = nonempty(c->cfg->aia_connect_to);
    opts.deny = c->cfg->deny;
    opts.cache = &cache;
    opts.aia = &aia;
    opts.progress = on_progress;
    opts.progress_arg = v;
    untrusted = untrusted_of(v, e);
    if (ek_verify(c->trust, cert, untrusted, &opts, &res, &rep, err) !=
        LATCH_OK) {
        val_check(v, "ek.chain", LATCH_CHECK_FAIL, VAL_INVALID,
                  "chain verification could not run: %s", err->msg);
        goto out;
    }
    val_import_report(v, &rep, 0, ek_sev(res.outcome));
    snprintf(reason, sizeof(reason), "ek.chain: %s", res.detail);
    val_outcome(v, ek_sev(res.outcome), reason);
    val_fact(v, "ek_chain", chain_fact(&res));
    val_fact(v, "ek_outcome", json_string(ek_outcome_str(res.outcome)));
    if (res.outcome == EK_UNKNOWN_ROOT) {
        val_fact(v, "unknown_root",
                 json_pack("{s:s, s:s}", "subject", res.root_subject, "sha256",
                           res.root_sha256));
    }

out:
    sk_X509_pop_free(untrusted, X509_free);
}

/* The certificate's key must be the kind the named template makes. */
static void
check_template_key(struct validation *v, const struct latch_ek_info *info,
                   const struct ek_cert *cert)
{
    bool ok = false;

    switch (info->kind) {
    case LATCH_EK_RSA2048:
        ok = cert->key_type == EK_KEY_RSA && cert->key_bits == 2048;
        break;
    case LATCH_EK_ECC_P256:
        ok = cert->key_type == EK_KEY_EC && cert->key_bits == 256;
        break;
    case LATCH_EK_ECC_P384:
        ok = cert->key_type == EK_KEY_EC && cert->key_bits == 384;
        break;
    case LATCH_EK_KIND_COUNT:
        break;
    }
    val_check(v, "ek.template_key", ok ? LATCH_CHECK_PASS : LATCH_CHECK_FAIL,
              VAL_INVALID, "template %s, certificate key %s-%d", info->name,
              cert->key_type == EK_KEY_RSA ? "RSA" : "EC", cert->key_bits);
}

/*
 * The uploaded EK public area against the TCG template: the algorithms
 * that MakeCredential relies on must match (fail); other differences are
 * shown (warn).
 */
static void
check_ek_template(struct validation *v, const struct latch_ek_info *info,
                  const TPMT_PUBLIC *ek)
{
    TPM2B_PUBLIC tmpl;
    const TPMT_SYM_DEF_OBJECT *a;
    const TPMT_SYM_DEF_OBJECT *b;
    bool alg_ok;

    latch_ek_template(info->kind, &tmpl);
    a = ek->type == TPM2_ALG_RSA ? &ek->parameters.rsaDetail.symmetric
                                 : &ek->parameters.eccDetail.symmetric;
    b = tmpl.publicArea.type == TPM2_ALG_RSA
            ? &tmpl.publicArea.parameters.rsaDetail.symmetric
            : &tmpl.publicArea.parameters.eccDetail.symmetric;
    alg_ok = ek->type == tmpl.publicArea.type &&
             ek->nameAlg == tmpl.publicArea.nameAlg &&
             a->algorithm == b->algorithm && a->keyBits.sym == b->keyBits.sym;
    val_check(v, "ek.template_algorithms",
              alg_ok ? LATCH_CHECK_PASS : LATCH_CHECK_FAIL, VAL_INVALID,
              "type 0x%04x nameAlg 0x%04x symmetric 0x%04x/%u (template %s: "
              "0x%04x 0x%04x 0x%04x/%u)",
              ek->type, ek->nameAlg, a->algorithm, a->keyBits.sym, info->name,
              tmpl.publicArea.type, tmpl.publicArea.nameAlg, b->algorithm,
              b->keyBits.sym);
    if (ek->objectAttributes != tmpl.publicArea.objectAttributes ||
        ek->authPolicy.size != tmpl.publicArea.authPolicy.size ||
        memcmp(ek->authPolicy.buffer, tmpl.publicArea.authPolicy.buffer,
               ek->authPolicy.size) != 0) {
        val_check(v, "ek.template_policy", LATCH_CHECK_WARN, VAL_OK,
                  "attributes 0x%08x or policy differ from the %s template "
                  "(0x%08x): the EK may not be the TCG EK",
                  (unsigned)ek->objectAttributes, info->name,
                  (unsigned)tmpl.publicArea.objectAttributes);
    } else {
        val_check(v, "ek.template_policy", LATCH_CHECK_PASS, VAL_OK,
                  "attributes and policy of the %s template", info->name);
    }
}

static void
check_ek_public(struct validation *v, const struct latch_enrollment *e,
                const struct latch_ek_info *info, const struct ek_cert *cert,
                struct latch_err *err)
{
    TPM2B_PUBLIC ek;

    if (latch_tpm_public_unmarshal(e->ek_public.data, e->ek_public.len, &ek,
                                   err) != LATCH_OK) {
        val_check(v, "ek.public", LATCH_CHECK_FAIL, VAL_INVALID, "%s",
                  err->msg);
        return;
    }
    if (latch_tpm_public_matches(&ek.publicArea, cert->pkey)) {
        val_check(v, "ek.public_matches_certificate", LATCH_CHECK_PASS, VAL_OK,
                  "the EK public area holds the certificate's key");
    } else {
        val_check(v, "ek.public_matches_certificate", LATCH_CHECK_FAIL,
                  VAL_INVALID,
                  "the EK public area in the enrollment is not the key of "
                  "the EK certificate");
    }
    check_ek_template(v, info, &ek.publicArea);
}

/* AK attributes and name; *name gets the recomputed name in hex. */
static bool
check_ak(struct validation *v, const struct latch_enrollment *e,
         char name_hex[HEXNAME_MAX], struct latch_err *err)
{
    struct latch_report rep;
    TPM2B_PUBLIC ak;
    uint8_t name[LATCH_NAME_MAX];
    size_t namelen = 0;
    char given[HEXNAME_MAX];
    bool same;

    memset(&rep, 0, sizeof(rep));
    if (latch_tpm_public_unmarshal(e->ak_public.data, e->ak_public.len, &ak,
                                   err) != LATCH_OK) {
        val_check(v, "ak.public", LATCH_CHECK_FAIL, VAL_INVALID, "%s",
                  err->msg);
        return false;
    }
    if (latch_ak_check(&ak.publicArea, &rep, err) != LATCH_OK && rep.n == 0) {
        val_check(v, "ak.attributes", LATCH_CHECK_FAIL, VAL_INVALID, "%s",
                  err->msg);
    }
    val_import_report(v, &rep, 0, VAL_INVALID);
    if (latch_tpm_name(&ak.publicArea, name, &namelen, err) != LATCH_OK) {
        val_check(v, "ak.name", LATCH_CHECK_FAIL, VAL_INVALID, "%s", err->msg);
        return false;
    }
    latch_hex_encode(name, namelen, name_hex);
    latch_hex_encode(e->ak_name, e->ak_name_len, given);
    same = namelen == e->ak_name_len &&
           CRYPTO_memcmp(name, e->ak_name, namelen) == 0;
    if (same) {
        val_check(v, "ak.name", LATCH_CHECK_PASS, VAL_OK,
                  "recomputed from the AK public area: %.24s...", name_hex);
    } else {
        val_check(v, "ak.name", LATCH_CHECK_FAIL, VAL_INVALID,
                  "the enrollment's ak_name %.24s... is not the name of its "
                  "AK public area (%.24s...)",
                  given, name_hex);
    }
    return true;
}

static void
cert_facts(struct validation *v, const struct ek_cert *cert)
{
    char nb[LATCH_TIME_LEN];
    char na[LATCH_TIME_LEN];

    latch_time_format(cert->not_before, nb);
    latch_time_format(cert->not_after, na);
    val_fact(v, "ek_certificate",
             json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, "
                       "s:s, s:b}",
                       "subject", cert->subject, "issuer", cert->issuer,
                       "serial", cert->serial, "sha256", cert->sha256,
                       "not_before", nb, "not_after", na, "key",
                       cert->key_type == EK_KEY_RSA ? "RSA" : "EC", "key_bits",
                       cert->key_bits, "tpm_manufacturer",
                       cert->tpm_manufacturer, "tpm_model", cert->tpm_model,
                       "tpm_version", cert->tpm_version, "eku_ek_certificate",
                       cert->has_eku_ekcert));
}

/*
 * A manufacturer as 4 bytes: "id:XXXXXXXX", "0xXXXXXXXX" or 8 hex digits
 * (the TCG vendor id), or a vendor code of at most 4 characters ("IBM",
 * "STM ") padded with NUL as TPM_PT_MANUFACTURER carries it.
 */
static bool
mfr_id(const char *s, uint32_t *out)
{
    const char *h = s;
    char *end = NULL;
    unsigned long x;
    size_t n = strlen(s);
    size_t i;

    if (strncmp(s, "id:", 3) == 0 || strncasecmp(s, "0x", 2) == 0) {
        h = s + (s[0] == 'i' ? 3 : 2);
    }
    if (strlen(h) == 8 && strspn(h, "0123456789abcdefABCDEF") == 8) {
        x = strtoul(h, &end, 16);
        *out = (uint32_t)x;
        return end == h + 8;
    }
    if (h != s || n == 0 || n > 4) {
        return false;
    }
    *out = 0;
    for (i = 0; i < 4; i++) {
        *out = (*out << 8) | (i < n ? (unsigned char)s[i] : 0u);
    }
    return true;
}

/* Trailing spaces and NULs do not count: "STM " and "STM" are one vendor. */
static uint32_t
mfr_trim(uint32_t x)
{
    int i;

    for (i = 0; i < 4; i++) {
        uint32_t low = x & 0xffu;

        if (low != 0x20u && low != 0u) {
            break;
        }
        x >>= 8;
    }
    return x;
}

/*
 * Threat B11: the manufacturer the TPM reports (TPM_PT_MANUFACTURER, in
 * the upload, so untrusted) against the one the vendor certified in the
 * SAN. A mismatch is a forged or mixed-up enrollment: invalid. swtpm
 * certifies IBM's PCI vendor id (id:00001014) while reporting "IBM": that
 * one pair is accepted and named (docs/ek-certificates.md).
 */
static void
check_manufacturer(struct validation *v, const struct latch_enrollment *e,
                   const struct ek_cert *cert)
{
    uint32_t san = 0;
    uint32_t tpm = 0;
    const char *claim = e->tpm_manufacturer;

    if (!cert->has_tpm_san || cert->tpm_manufacturer[0] == '\0') {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_WARN, VAL_OK,
                  "the EK certificate has no TCG SAN manufacturer: the "
                  "TPM's claim \"%.16s\" cannot be compared",
                  claim != NULL ? claim : "");
        return;
    }
    if (claim == NULL || claim[0] == '\0') {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_WARN, VAL_OK,
                  "the enrollment does not report the TPM manufacturer "
                  "(certificate: %s)",
                  cert->tpm_manufacturer);
        return;
    }
    if (!mfr_id(cert->tpm_manufacturer, &san)) {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_WARN, VAL_OK,
                  "the certificate's manufacturer \"%.40s\" is not a TCG "
                  "vendor id: not compared with the TPM's \"%.16s\"",
                  cert->tpm_manufacturer, claim);
        return;
    }
    if (!mfr_id(claim, &tpm)) {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_FAIL, VAL_INVALID,
                  "the TPM manufacturer in the enrollment \"%.40s\" is "
                  "neither a vendor code nor a vendor id",
                  claim);
        return;
    }
    if (mfr_trim(san) == mfr_trim(tpm)) {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_PASS, VAL_OK,
                  "the TPM reports %s, as its certificate says (%s)", claim,
                  cert->tpm_manufacturer);
    } else if (san == 0x00001014u && tpm == 0x49424D00u) {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_PASS, VAL_OK,
                  "the TPM reports %s; its certificate says %s, IBM's PCI "
                  "vendor id as swtpm writes it",
                  claim, cert->tpm_manufacturer);
    } else {
        val_check(v, "tpm.manufacturer", LATCH_CHECK_FAIL, VAL_INVALID,
                  "the TPM reports manufacturer \"%.16s\" (0x%08x) but its EK "
                  "certificate was issued for %s (0x%08x)",
                  claim, (unsigned)tpm, cert->tpm_manufacturer, (unsigned)san);
    }
}

/*
 * The deny-list against what the TPM reports in the enrollment (firmware
 * is updated in the field, so the certificate's SAN version can be
 * stale); ek_verify() checks the SAN values. A hit needs an override.
 */
static void
check_denylist(struct validation *v, const struct latch_enrollment *e)
{
    const struct ek_denylist *deny = val_core(v)->cfg->deny;

    if (deny == NULL || e->tpm_manufacturer == NULL ||
        e->tpm_firmware == NULL) {
        return;
    }
    if (ek_denylist_match(deny, e->tpm_manufacturer, e->tpm_firmware)) {
        val_check(v, "tpm.denylist", LATCH_CHECK_FAIL, VAL_NEEDS_OVERRIDE,
                  "the TPM reports manufacturer %.16s firmware %.32s, which "
                  "is on the [validation] deny_firmware list",
                  e->tpm_manufacturer, e->tpm_firmware);
    } else {
        val_check(v, "tpm.denylist", LATCH_CHECK_PASS, VAL_OK,
                  "manufacturer %.16s firmware %.32s not on the deny-list",
                  e->tpm_manufacturer, e->tpm_firmware);
    }
}

static enum latch_status
tpm_validate(struct validation *v, const void *parsed, struct latch_err *err)
{
    const struct latch_enrollment *e = parsed;
    const struct latch_ek_info *info;
    struct ek_cert *cert = NULL;
    struct latch_report rep;
    char name_hex[HEXNAME_MAX];
    char device_id[65];
    bool have_name;

    memset(&rep, 0, sizeof(rep));
    info = latch_ek_info_by_name(e->ek_template);
    if (info == NULL) {
        val_check(v, "ek.template", LATCH_CHECK_FAIL, VAL_INVALID,
                  "unknown EK template \"%.32s\"", e->ek_template);
        return LATCH_OK;
    }
    val_check(v, "ek.template", LATCH_CHECK_PASS, VAL_OK, "%s", info->name);
    if (ek_cert_parse(e->ek_certificate.data, e->ek_certificate.len, &cert,
                      &rep, err) != LATCH_OK) {
        val_import_report(v, &rep, 0, VAL_INVALID);
        val_check(v, "ek.certificate", LATCH_CHECK_FAIL, VAL_INVALID, "%s",
                  err->msg);
        return LATCH_OK;
    }
    val_import_report(v, &rep, 0, VAL_INVALID);
    val_check(v, "ek.certificate", LATCH_CHECK_PASS, VAL_OK, "%s, issued by %s",
              cert->subject[0] != '\0' ? cert->subject : "(empty subject)",
              cert->issuer);
    cert_facts(v, cert);
    check_template_key(v, info, cert);
    check_chain(v, e, cert, err);
    check_ek_public(v, e, info, cert, err);
    have_name = check_ak(v, e, name_hex, err);
    check_manufacturer(v, e, cert);
    check_denylist(v, e);
    if (latch_device_id(cert->pkey, device_id, err) != LATCH_OK) {
        val_check(v, "device_id", LATCH_CHECK_FAIL, VAL_INVALID, "%s",
                  err->msg);
        have_name = false;
    } else {
        val_check(v, "device_id", LATCH_CHECK_PASS, VAL_OK, "%s", device_id);
    }
    if (have_name) {
        val_identity(v, device_id, name_hex, info->name,
                     cert->tpm_vendor[0] != '\0' ? cert->tpm_vendor
                                                 : cert->tpm_manufacturer,
                     cert->tpm_model);
    }
    ek_cert_free(cert);
    return LATCH_OK;
}

/* --- proof ------------------------------------------------------------------
 */

static enum latch_status
tpm_make_proof(struct core *c, const void *parsed, const char *device_id,
               const char *ak_name_hex, const uint8_t *secret, size_t secretlen,
               json_t **binding, struct latch_err *err)
{
    const struct latch_enrollment *e = parsed;
    const struct latch_ek_info *info;
    EVP_PKEY *ekkey = NULL;
    enum latch_status st;
    TPM2B_PUBLIC ek;
    TPM2B_PUBLIC ak;
    uint8_t name[LATCH_NAME_MAX];
    uint8_t digest[32];
    size_t namelen = 0;
    char name_hex[HEXNAME_MAX];
    char digest_hex[65];
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;
    char *blob64 = NULL;
    char *enc64 = NULL;

    (void)c;
    (void)device_id;
    *binding = NULL;
    info = latch_ek_info_by_name(e->ek_template);
    if (info == NULL) {
        return latch_err_set(err, LATCH_E_POLICY, "proof: unknown EK template");
    }
    /*
     * The EK key comes from the upload's EK public area, which validation
     * proved to hold exactly the certificate's key
     * (ek.public_matches_certificate, an invalid enrollment otherwise, so
     * never approved). Decoding the certificate again through OpenSSL's
     * key decoders cost more per license than the RSA-OAEP itself.
     */
    st = latch_tpm_public_unmarshal(e->ek_public.data, e->ek_public.len, &ek,
                                    err);
    if (st == LATCH_OK) {
        st = latch_tpm_public_to_pkey(&ek.publicArea, &ekkey, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_public_unmarshal(e->ak_public.data, e->ak_public.len,
                                        &ak, err);
    }
    if (st == LATCH_OK) {
        st = latch_tpm_name(&ak.publicArea, name, &namelen, err);
    }
    if (st != LATCH_OK) {
        latch_err_prefix(err, "proof");
        goto out;
    }
    /*
     * The stored upload is the one validation checked; the AK name is
     * recomputed (cheap) as a guard. The device id is not: it costs an
     * SPKI encoding per license and adds nothing the row does not hold.
     */
    latch_hex_encode(name, namelen, name_hex);
    if (strcmp(name_hex, ak_name_hex) != 0) {
        st = latch_err_set(err, LATCH_E_INTERNAL,
                           "proof: the stored upload no longer yields the "
                           "validated AK name");
        goto out;
    }
    st = latch_make_credential(ekkey, info, name, namelen, secret, secretlen,
                               &blob, &bloblen, &enc, &enclen, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (EVP_Digest(secret, secretlen, digest, NULL, EVP_sha256(), NULL) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "proof: secret digest");
        goto out;
    }
    latch_hex_encode(digest, sizeof(digest), digest_hex);
    if (latch_b64_encode(blob, bloblen, &blob64) != LATCH_OK ||
        latch_b64_encode(enc, enclen, &enc64) != LATCH_OK) {
        st = core_oom(err);
        goto out;
    }
    st = core_pack(binding, err, "{s:s, s:s, s:s, s:{s:s, s:s, s:s}}",
                   "identity_schema", LATCH_IDENTITY_SCHEMA, "ek_template",
                   info->name, "ak_name", name_hex, "activation",
                   "credential_blob", blob64, "encrypted_secret", enc64,
                   "secret_sha256", digest_hex);

out:
    free(blob64);
    free(enc64);
    free(blob);
    free(enc);
    EVP_PKEY_free(ekkey);
    return st;
}

const struct binding_provider provider_tpm2 = {
    .schema = LATCH_IDENTITY_SCHEMA,
    .description = "TPM 2.0 EK certificate and attestation key",
    .parse = tpm_parse,
    .free_parsed = tpm_free,
    .validate = tpm_validate,
    .make_proof = tpm_make_proof,
};
