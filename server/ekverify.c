/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekverify.c: verdict on an EK certificate. First the issuers are gathered
 * (enrollment, cache, AIA; each an untrusted helper picked by name, key id
 * and, when there is a choice, signature), then OpenSSL verifies the chain
 * against a store holding the pinned roots only, without partial chains;
 * then the TCG profile and the vulnerable-key checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aia.h"
#include "ekcert.h"
#include "ekcert_int.h"

enum origin {
    ORIGIN_LEAF = 0,
    ORIGIN_ANCHOR,
    ORIGIN_ENROLLMENT,
    ORIGIN_CACHE,
    ORIGIN_AIA
};

struct held {
    X509 *x;
    enum origin origin;
    char *url; /* ORIGIN_AIA: where it came from; else NULL */
};

#define POOL_MAX 1024

struct vctx {
    const struct ek_trust *t;
    const struct ek_cert *c;
    const struct ek_verify_opts *o;
    struct ek_result *res;
    struct latch_report *rep;
    int64_t now;

    struct held pool[POOL_MAX]; /* owned references */
    size_t npool;

    X509 *chain[EK_MAX_DEPTH]; /* gathered, leaf first; borrowed */
    enum origin corigin[EK_MAX_DEPTH];
    size_t n;
    bool top_pinned;

    /* the chain's own verdict (the overall one may differ) */
    enum ek_outcome chain_outcome;
    enum ek_reason chain_reason;
    char chain_detail[LATCH_CHECK_DETAIL_MAX];

    /* set from the verify callback */
    bool expired;
    char expired_what[EK_STR_MAX];
    bool anchor_not_self_signed;
    int first_error;
    int first_depth;
    char first_subject[EK_STR_MAX];
};

/* snprintf for messages: truncation is fine, the text stays terminated. */
static void fmt(char *dst, size_t cap, const char *f, ...)
    __attribute__((format(printf, 3, 4)));

static void
fmt(char *dst, size_t cap, const char *f, ...)
{
    va_list ap;

    va_start(ap, f);
    if (vsnprintf(dst, cap, f, ap) < 0) {
        dst[0] = '\0';
    }
    va_end(ap);
}

static const char *const outcome_names[] = {"valid", "invalid",
                                            "needs-override", "unknown-root"};

const char *
ek_outcome_str(enum ek_outcome o)
{
    if ((size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0])) {
        return outcome_names[o];
    }
    return "?";
}

const char *
ek_reason_str(enum ek_reason r)
{
    switch (r) {
    case EK_R_NONE:
        return "none";
    case EK_R_PARSE:
        return "parse";
    case EK_R_TPM12:
        return "tpm12";
    case EK_R_CRITICAL_EXT:
        return "unknown-critical-extension";
    case EK_R_NOT_YET_VALID:
        return "not-yet-valid";
    case EK_R_BAD_SIGNATURE:
        return "bad-signature";
    case EK_R_ISSUER_NOT_FOUND:
        return "issuer-not-found";
    case EK_R_UNKNOWN_ROOT:
        return "unknown-root";
    case EK_R_CHAIN:
        return "chain";
    case EK_R_PROFILE:
        return "profile";
    case EK_R_EXPIRED:
        return "expired";
    case EK_R_ROCA:
        return "roca";
    case EK_R_DENYLIST:
        return "denylist";
    case EK_R_INTERNAL:
        return "internal";
    }
    return "?";
}

const char *
ek_pinning_steps(void)
{
    return "To trust this root: (1) obtain the root certificate from the "
           "TPM vendor over a channel you trust and compare its SHA-256 "
           "fingerprint with the one shown here; (2) copy the certificate "
           "file (PEM or DER) into latchd's trust directory ([trust] dir in "
           "latchd.conf); (3) restart latchd and re-validate the "
           "enrollment. latchd never adds a trust anchor by itself and the "
           "web UI cannot add one.";
}

static void progress(struct vctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(struct vctx *v, const char *fmt, ...)
{
    char msg[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    if (v->o == NULL || v->o->progress == NULL) {
        return;
    }
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) {
        msg[0] = '\0';
    }
    va_end(ap);
    v->o->progress(v->o->progress_arg, msg);
}

static int
severity(enum ek_outcome o)
{
    switch (o) {
    case EK_VALID:
        return 0;
    case EK_NEEDS_OVERRIDE:
        return 1;
    case EK_UNKNOWN_ROOT:
        return 2;
    case EK_INVALID:
        return 3;
    }
    return 3;
}

/* Keeps the most severe verdict; among equals the first one found. */
static void verdict(struct vctx *v, enum ek_outcome o, enum ek_reason r,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
verdict(struct vctx *v, enum ek_outcome o, enum ek_reason r, const char *fmt,
        ...)
{
    va_list ap;

    if (v->res->reason != EK_R_NONE &&
        severity(o) <= severity(v->res->outcome)) {
        return;
    }
    v->res->outcome = o;
    v->res->reason = r;
    va_start(ap, fmt);
    if (vsnprintf(v->res->detail, sizeof(v->res->detail), fmt, ap) < 0) {
        v->res->detail[0] = '\0';
    }
    va_end(ap);
}

static void warn(struct vctx *v, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn(struct vctx *v, const char *name, const char *fmt, ...)
{
    char msg[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) {
        msg[0] = '\0';
    }
    va_end(ap);
    latch_report_add(v->rep, name, LATCH_CHECK_WARN, "%s", msg);
    v->res->warnings++;
}

/* A verdict about the chain itself: kept apart for the chain report. */
static void chain_verdict(struct vctx *v, enum ek_outcome o, enum ek_reason r,
                          const char *f, ...)
    __attribute__((format(printf, 4, 5)));

static void
chain_verdict(struct vctx *v, enum ek_outcome o, enum ek_reason r,
              const char *f, ...)
{
    char msg[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    va_start(ap, f);
    if (vsnprintf(msg, sizeof(msg), f, ap) < 0) {
        msg[0] = '\0';
    }
    va_end(ap);
    if (v->chain_reason == EK_R_NONE) {
        v->chain_outcome = o;
        v->chain_reason = r;
        memcpy(v->chain_detail, msg, sizeof(msg));
    }
    verdict(v, o, r, "%s", msg);
}

/* Pinned: the very certificate (same DER) is in the trust store. */
static bool
pinned(struct vctx *v, X509 *x)
{
    size_t i;

    for (i = 0; i < ek_trust_ncerts(v->t); i++) {
        X509 *a = ek_trust_cert(v->t, i);

        /* X509_cmp compares cached digests, then the encodings. */
        if (a == x || X509_cmp(a, x) == 0) {
            return true;
        }
    }
    return false;
}

static enum latch_status
hold(struct vctx *v, X509 *x, enum origin origin, const char *url,
     struct latch_err *err)
{
    struct held *h;
    size_t i;

    for (i = 0; i < v->npool; i++) {
        if (X509_cmp(v->pool[i].x, x) == 0) {
            return LATCH_OK;
        }
    }
    if (v->npool >= POOL_MAX) {
        return LATCH_OK; /* enough helpers; ignore the rest */
    }
    if (!X509_up_ref(x)) {
        return latch_err_ossl(err, LATCH_E_INTERNAL, "X509_up_ref");
    }
    h = &v->pool[v->npool];
    h->url = NULL;
    if (url != NULL) {
        h->url = strdup(url);
        if (h->url == NULL) {
            X509_free(x);
            return latch_err_set(err, LATCH_E_NOMEM, "strdup");
        }
    }
    h->x = x;
    h->origin = origin;
    v->npool++;
    return LATCH_OK;
}

struct cand {
    X509 *x;
    enum origin origin;
    const char *url;
};

/*
 * Anchors first, then helpers, that name-match and key-id-match cur (see
 * ek_issued() for the one relaxation).
 */
static size_t
candidates(struct vctx *v, X509 *cur, struct cand *out, size_t cap,
           size_t *name_matches)
{
    const X509_NAME *want = X509_get_issuer_name(cur);
    size_t n = 0;
    size_t i;

    *name_matches = 0;
    for (i = 0; i < ek_trust_ncerts(v->t) && n < cap; i++) {
        X509 *a = ek_trust_cert(v->t, i);

        if (X509_NAME_cmp(X509_get_subject_name(a), want) != 0) {
            continue;
        }
        (*name_matches)++;
        if (ek_issued(a, cur)) {
            out[n].x = a;
            out[n].origin = ORIGIN_ANCHOR;
            out[n].url = NULL;
            n++;
        }
    }
    for (i = 0; i < v->npool && n < cap; i++) {
        X509 *h = v->pool[i].x;

        if (h == cur || X509_NAME_cmp(X509_get_subject_name(h), want) != 0) {
            continue;
        }
        (*name_matches)++;
        if (ek_issued(h, cur)) {
            out[n].x = h;
            out[n].origin = v->pool[i].origin;
            out[n].url = v->pool[i].url;
            n++;
        }
    }
    ERR_clear_error();
    return n;
}

static bool
signed_by(X509 *child, X509 *issuer)
{
    EVP_PKEY *k = X509_get0_pubkey(issuer);
    bool ok = k != NULL && X509_verify(child, k) == 1;

    ERR_clear_error();
    return ok;
}

static void
aki_hex(X509 *x, char out[EK_HEX256_LEN])
{
    const ASN1_OCTET_STRING *kid = X509_get0_authority_key_id(x);
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p;
    int n;
    int i;

    out[0] = '\0';
    if (kid == NULL) {
        return;
    }
    p = ASN1_STRING_get0_data(kid);
    n = ASN1_STRING_length(kid);
    if (n > 32) {
        n = 32;
    }
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static enum latch_status
from_cache(struct vctx *v, X509 *cur, struct latch_err *err)
{
    STACK_OF(X509) *got = NULL;
    char key[EK_HEX256_LEN];
    char aki[EK_HEX256_LEN];
    struct latch_err e2;
    enum latch_status st;
    int i;

    if (v->o == NULL || v->o->cache == NULL || v->o->cache->lookup == NULL) {
        return LATCH_OK;
    }
    memset(&e2, 0, sizeof(e2));
    st = ek_name_key(X509_get_issuer_name(cur), key, err);
    if (st != LATCH_OK) {
        return st;
    }
    aki_hex(cur, aki);
    got = sk_X509_new_null();
    if (got == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "cache lookup");
    }
    if (v->o->cache->lookup(v->o->cache->arg, key, aki[0] ? aki : NULL, got,
                            &e2) != LATCH_OK) {
        latch_report_add(v->rep, "ek-cache", LATCH_CHECK_WARN,
                         "intermediate cache lookup failed: %s", e2.msg);
        progress(v, "intermediate cache lookup failed: %s", e2.msg);
    }
    for (i = 0; i < sk_X509_num(got); i++) {
        st = hold(v, sk_X509_value(got, i), ORIGIN_CACHE, NULL, err);
        if (st != LATCH_OK) {
            break;
        }
    }
    sk_X509_pop_free(got, X509_free);
    return st;
}

static enum latch_status
from_aia(struct vctx *v, X509 *cur, char *why, size_t whycap,
         struct latch_err *err)
{
    STACK_OF(X509) *got = NULL;
    char raw[EK_STR_MAX];
    char url[AIA_URL_MAX];
    struct latch_err e2;
    enum latch_status st = LATCH_OK;
    int i;

    if (v->o == NULL || v->o->aia == NULL || !v->o->aia->enabled) {
        fmt(why, whycap,
            "AIA fetching is off; import the intermediate "
            "with `latchd trust import-intermediates`");
        return LATCH_OK;
    }
    ek_aia_url(cur, raw);
    if (raw[0] == '\0') {
        fmt(why, whycap, "the certificate names no caIssuers URL");
        return LATCH_OK;
    }
    memset(&e2, 0, sizeof(e2));
    if (aia_url_normalize(raw, url, sizeof(url), &e2) != LATCH_OK) {
        fmt(why, whycap, "AIA URL refused: %s", e2.msg);
        return LATCH_OK;
    }
    got = sk_X509_new_null();
    if (got == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "aia stack");
    }
    v->res->aia_fetches++;
    if (aia_fetch(v->o->aia, url, got, v->o->progress, v->o->progress_arg,
                  &e2) != LATCH_OK) {
        fmt(why, whycap, "%s", e2.msg);
        latch_report_add(v->rep, "ek-aia", LATCH_CHECK_WARN, "%s", e2.msg);
        goto out;
    }
    for (i = 0; i < sk_X509_num(got); i++) {
        st = hold(v, sk_X509_value(got, i), ORIGIN_AIA, url, err);
        if (st != LATCH_OK) {
            break;
        }
    }
    fmt(why, whycap, "%.200s served no certificate that signed it", url);

out:
    sk_X509_pop_free(got, X509_free);
    return st;
}

static void
cache_store(struct vctx *v, const struct cand *c)
{
    unsigned char *der = NULL;
    char sha[EK_HEX256_LEN];
    char key[EK_HEX256_LEN];
    struct latch_err e2;
    int n;

    if (c->origin != ORIGIN_AIA || v->o->cache == NULL ||
        v->o->cache->store == NULL) {
        return;
    }
    memset(&e2, 0, sizeof(e2));
    n = i2d_X509(c->x, &der);
    if (n <= 0 ||
        ek_name_key(X509_get_subject_name(c->x), key, &e2) != LATCH_OK) {
        OPENSSL_free(der);
        ERR_clear_error();
        return;
    }
    ek_sha256_hex(der, (size_t)n, sha);
    if (v->o->cache->store(v->o->cache->arg, c->url, der, (size_t)n, sha, key,
                           &e2) != LATCH_OK) {
        latch_report_add(v->rep, "ek-cache", LATCH_CHECK_WARN,
                         "could not cache the fetched intermediate: %s",
                         e2.msg);
    } else {
        progress(v, "cached intermediate %s (sha256 %.16s...)",
                 c->url != NULL ? c->url : "", sha);
    }
    OPENSSL_free(der);
}

static const char *
origin_str(enum origin o)
{
    switch (o) {
    case ORIGIN_LEAF:
        return "leaf";
    case ORIGIN_ANCHOR:
        return "trust directory (pinned)";
    case ORIGIN_ENROLLMENT:
        return "enrollment";
    case ORIGIN_CACHE:
        return "intermediate cache";
    case ORIGIN_AIA:
        return "AIA";
    }
    return "?";
}

/*
 * Picks the issuer of cur among the candidates: the only one, or the first
 * whose key verifies cur's signature. must_sign: verify even a single one
 * (the OAEP leaf, which OpenSSL cannot check, and AIA downloads before
 * they are cached).
 */
static int
pick(struct cand *cs, size_t n, X509 *cur, bool must_sign)
{
    size_t i;

    if (n == 1 && !must_sign && cs[0].origin != ORIGIN_AIA) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (signed_by(cur, cs[i].x)) {
            return (int)i;
        }
    }
    return -1;
}

/* Walks up from the leaf. Leaves a verdict when the walk cannot finish. */
static enum latch_status
gather(struct vctx *v, struct latch_err *err)
{
    X509 *cur = v->c->x509;
    enum latch_status st;

    v->chain[0] = cur;
    v->corigin[0] = ORIGIN_LEAF;
    v->n = 1;
    for (;;) {
        struct cand cs[16];
        size_t nc;
        size_t names = 0;
        char issuer[EK_STR_MAX];
        char why[LATCH_CHECK_DETAIL_MAX];
        bool must = v->n == 1 && v->c->spki_rsaes_oaep;
        int k;

        if (v->n > 1 && pinned(v, cur)) {
            v->top_pinned = true;
            return LATCH_OK;
        }
        if (v->n > 1 && ek_self_signed(cur)) {
            return LATCH_OK; /* a root that is not pinned */
        }
        if (v->n >= EK_MAX_DEPTH) {
            chain_verdict(v, EK_INVALID, EK_R_CHAIN,
                          "chain longer than %d certificates", EK_MAX_DEPTH);
            return LATCH_OK;
        }
        ek_name_str(X509_get_issuer_name(cur), issuer);
        progress(v, "looking for the issuer '%s'", issuer);
        why[0] = '\0';
        nc = candidates(v, cur, cs, 16, &names);
        if (nc == 0) {
            st = from_cache(v, cur, err);
            if (st != LATCH_OK) {
                return st;
            }
            nc = candidates(v, cur, cs, 16, &names);
        }
        k = nc > 0 ? pick(cs, nc, cur, must) : -1;
        if (k < 0) {
            st = from_aia(v, cur, why, sizeof(why), err);
            if (st != LATCH_OK) {
                return st;
            }
            nc = candidates(v, cur, cs, 16, &names);
            k = nc > 0 ? pick(cs, nc, cur, must) : -1;
        }
        if (k < 0) {
            if (nc > 0) {
                chain_verdict(
                    v, EK_INVALID, EK_R_BAD_SIGNATURE,
                    "the signature of '%s' does not verify with the key "
                    "of any certificate named '%s'",
                    v->n == 1 ? "EK certificate" : issuer, issuer);
            } else {
                chain_verdict(v, EK_INVALID, EK_R_ISSUER_NOT_FOUND,
                              "chain incomplete: issuer '%.80s' not found "
                              "(enrollment, cache, trust directory; %.230s)",
                              issuer, why);
            }
            return LATCH_OK;
        }
        progress(v, "issuer '%s' found (%s)", issuer, origin_str(cs[k].origin));
        if (X509_check_issued(cs[k].x, cur) ==
            X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH) {
            char who[EK_STR_MAX];

            ek_name_str(X509_get_subject_name(cur), who);
            warn(v, "ek-aki",
                 "authority key identifier of '%.120s' names another issuer "
                 "serial (vendor quirk); the signature decides",
                 v->n == 1 ? "EK certificate" : who);
        }
        ERR_clear_error();
        if (cs[k].origin == ORIGIN_AIA) {
            cache_store(v, &cs[k]);
        }
        for (size_t i = 0; i < v->n; i++) {
            if (v->chain[i] == cs[k].x) {
                chain_verdict(v, EK_INVALID, EK_R_CHAIN,
                              "certificate loop at '%s'", issuer);
                return LATCH_OK;
            }
        }
        v->chain[v->n] = cs[k].x;
        v->corigin[v->n] = cs[k].origin;
        v->n++;
        cur = cs[k].x;
    }
}

static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
    struct vctx *v = X509_STORE_CTX_get_app_data(ctx);
    int e = X509_STORE_CTX_get_error(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);

    if (ok) {
        return 1;
    }
    if (e == X509_V_ERR_CERT_HAS_EXPIRED) {
        if (!v->expired) {
            ek_name_str(cur != NULL ? X509_get_subject_name(cur) : NULL,
                        v->expired_what);
        }
        v->expired = true;
        return 1;
    }
    if ((e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) &&
        cur != NULL && pinned(v, cur)) {
        /* A pinned vendor "root" that another root issued. */
        v->anchor_not_self_signed = true;
        return 1;
    }
    if (v->first_error == 0) {
        v->first_error = e;
        v->first_depth = X509_STORE_CTX_get_error_depth(ctx);
        ek_name_str(cur != NULL ? X509_get_subject_name(cur) : NULL,
                    v->first_subject);
    }
    return 0;
}

static void
evict_at(struct vctx *v, int depth)
{
    size_t i = (size_t)depth + 1 + (v->c->spki_rsaes_oaep ? 1 : 0);
    char sha[EK_HEX256_LEN];

    if (i >= v->n || v->corigin[i] != ORIGIN_CACHE || v->o == NULL ||
        v->o->cache == NULL || v->o->cache->evict == NULL) {
        return;
    }
    if (ek_x509_sha256(v->chain[i], sha)) {
        v->o->cache->evict(v->o->cache->arg, sha);
        progress(v, "evicted cached intermediate %.16s... (bad signature)",
                 sha);
    }
}

static void
map_error(struct vctx *v)
{
    int e = v->first_error;
    const char *s = X509_verify_cert_error_string(e);

    switch (e) {
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        evict_at(v, v->first_depth);
        chain_verdict(v, EK_INVALID, EK_R_BAD_SIGNATURE,
                      "bad signature on '%s': %s", v->first_subject, s);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        chain_verdict(v, EK_INVALID, EK_R_NOT_YET_VALID,
                      "'%s' is not valid yet (notBefore in the future)",
                      v->first_subject);
        break;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
        chain_verdict(v, EK_INVALID, EK_R_CRITICAL_EXT,
                      "'%s' carries an unknown critical extension",
                      v->first_subject);
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        chain_verdict(v, EK_UNKNOWN_ROOT, EK_R_UNKNOWN_ROOT,
                      "chain ends at '%s', which is not pinned",
                      v->first_subject);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        chain_verdict(v, EK_INVALID, EK_R_ISSUER_NOT_FOUND,
                      "issuer of '%s' not found: %s", v->first_subject, s);
        break;
    default:
        chain_verdict(v, EK_INVALID, EK_R_CHAIN,
                      "chain error at '%s' (depth %d): %s", v->first_subject,
                      v->first_depth, s);
        break;
    }
}

static void
fill_chain(struct vctx *v, STACK_OF(X509) * chain)
{
    size_t i = 0;
    int j;

    v->res->chain_len = 0;
    if (chain == NULL) {
        for (i = 0; i < v->n; i++) {
            struct ek_chain_entry *e = &v->res->chain[i];

            ek_name_str(X509_get_subject_name(v->chain[i]), e->subject);
            ek_x509_sha256(v->chain[i], e->sha256);
            e->pinned = v->corigin[i] == ORIGIN_ANCHOR;
        }
        v->res->chain_len = v->n;
        return;
    }
    if (v->c->spki_rsaes_oaep) {
        ek_name_str(X509_get_subject_name(v->c->x509),
                    v->res->chain[0].subject);
        memcpy(v->res->chain[0].sha256, v->c->sha256, EK_HEX256_LEN);
        v->res->chain[0].pinned = false;
        i = 1;
    }
    for (j = 0; j < sk_X509_num(chain) && i < EK_MAX_DEPTH; j++, i++) {
        struct ek_chain_entry *e = &v->res->chain[i];
        X509 *x = sk_X509_value(chain, j);

        ek_name_str(X509_get_subject_name(x), e->subject);
        ek_x509_sha256(x, e->sha256);
        e->pinned = ek_trust_has(v->t, e->sha256);
    }
    v->res->chain_len = i;
}

/* The OAEP leaf: the checks OpenSSL cannot run on it. */
static void
leaf_by_hand(struct vctx *v)
{
    X509 *x = v->c->x509;
    uint32_t fl = X509_get_extension_flags(x);

    if (fl & EXFLAG_CRITICAL) {
        chain_verdict(
            v, EK_INVALID, EK_R_CRITICAL_EXT,
            "the EK certificate carries an unknown critical extension");
    }
    if (v->c->not_before > v->now) {
        chain_verdict(v, EK_INVALID, EK_R_NOT_YET_VALID,
                      "the EK certificate is not valid yet (notBefore in the "
                      "future)");
    }
    if (v->c->not_after < v->now && !v->expired) {
        v->expired = true;
        fmt(v->expired_what, sizeof(v->expired_what), "%s", "EK certificate");
    }
    ERR_clear_error();
}

static enum latch_status
openssl_verify(struct vctx *v, struct latch_err *err)
{
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *helpers = NULL;
    X509_VERIFY_PARAM *param;
    X509 *target;
    size_t first = 1;
    size_t i;
    int rc;
    enum latch_status st = LATCH_OK;

    target = v->chain[0];
    if (v->c->spki_rsaes_oaep) {
        /* Signature already checked in gather(); start at the issuer. */
        target = v->chain[1];
        first = 2;
        leaf_by_hand(v);
    }
    helpers = sk_X509_new_null();
    ctx = X509_STORE_CTX_new();
    if (helpers == NULL || ctx == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "verify: allocation");
        goto out;
    }
    for (i = first; i < v->n; i++) {
        if (v->corigin[i] != ORIGIN_ANCHOR &&
            sk_X509_push(helpers, v->chain[i]) <= 0) {
            st = latch_err_set(err, LATCH_E_NOMEM, "verify: push");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, ek_trust_store(v->t), target, helpers) != 1) {
        st = latch_err_ossl(err, LATCH_E_INTERNAL, "X509_STORE_CTX_init");
        goto out;
    }
    X509_STORE_CTX_set_app_data(ctx, v);
    X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)v->now);
    X509_VERIFY_PARAM_set_depth(param, EK_MAX_DEPTH - 2);
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    rc = X509_verify_cert(ctx);
    if (rc == 1) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);

        fill_chain(v, chain);
        if (top == NULL || !pinned(v, top)) {
            chain_verdict(v, EK_INVALID, EK_R_CHAIN,
                          "the chain does not end at a pinned root");
        }
    } else {
        fill_chain(v, NULL);
        if (v->first_error == 0) {
            v->first_error = X509_STORE_CTX_get_error(ctx);
        }
        map_error(v);
    }
    ERR_clear_error();

out:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(helpers);
    return st;
}

static void
sha1_check(struct vctx *v)
{
    size_t i;
    size_t last = v->n;

    for (i = 0; i < v->n; i++) {
        X509 *x = v->chain[i];
        int md = NID_undef;

        /* A root's own signature is not relied on (names suffice here). */
        if (i + 1 == last && X509_NAME_cmp(X509_get_subject_name(x),
                                           X509_get_issuer_name(x)) == 0) {
            break;
        }
        if (X509_get_signature_info(x, &md, NULL, NULL, NULL) == 1 &&
            md == NID_sha1) {
            char s[EK_STR_MAX];

            ek_name_str(X509_get_subject_name(x), s);
            v->res->sha1 = true;
            latch_report_add(v->rep, "ek-sha1", LATCH_CHECK_WARN,
                             "SHA-1 signature on '%s' (old chain, accepted)",
                             i == 0 ? "EK certificate" : s);
            v->res->warnings++;
        }
    }
    ERR_clear_error();
}

static void
profile(struct vctx *v)
{
    X509 *x = v->c->x509;
    uint32_t fl = X509_get_extension_flags(x);
    uint32_t ku = X509_get_key_usage(x);
    bool rsa = v->c->key_type == EK_KEY_RSA;

    if ((fl & EXFLAG_XKUSAGE) == 0) {
        warn(v, "ek-eku",
             "no extended key usage (TCG profile asks for "
             "2.23.133.8.1)");
    } else if (!v->c->has_eku_ekcert) {
        latch_report_add(v->rep, "ek-eku", LATCH_CHECK_FAIL,
                         "extended key usage lacks tcg-kp-EKCertificate "
                         "(2.23.133.8.1)");
        verdict(v, EK_INVALID, EK_R_PROFILE,
                "extended key usage present without tcg-kp-EKCertificate "
                "(2.23.133.8.1): not an EK certificate");
    } else {
        latch_report_add(v->rep, "ek-eku", LATCH_CHECK_PASS,
                         "tcg-kp-EKCertificate");
    }
    if (fl & EXFLAG_CA) {
        latch_report_add(v->rep, "ek-basic-constraints", LATCH_CHECK_FAIL,
                         "EK certificate is a CA");
        verdict(v, EK_INVALID, EK_R_PROFILE, "EK certificate is a CA");
    }
    if (ku == UINT32_MAX) {
        warn(v, "ek-key-usage", "no key usage extension");
    } else if (rsa && (ku & KU_KEY_ENCIPHERMENT) == 0) {
        latch_report_add(v->rep, "ek-key-usage", LATCH_CHECK_FAIL,
                         "RSA EK without keyEncipherment");
        verdict(v, EK_INVALID, EK_R_PROFILE,
                "key usage lacks keyEncipherment (RSA EK)");
    } else if (!rsa && (ku & KU_KEY_AGREEMENT) == 0) {
        if (ku & KU_KEY_ENCIPHERMENT) {
            warn(v, "ek-key-usage",
                 "ECC EK with keyEncipherment instead of keyAgreement");
        } else {
            latch_report_add(v->rep, "ek-key-usage", LATCH_CHECK_FAIL,
                             "ECC EK without keyAgreement");
            verdict(v, EK_INVALID, EK_R_PROFILE,
                    "key usage lacks keyAgreement (ECC EK)");
        }
    } else {
        latch_report_add(v->rep, "ek-key-usage", LATCH_CHECK_PASS, "%s",
                         rsa ? "keyEncipherment" : "keyAgreement");
    }
    if (!v->c->has_tpm_san) {
        warn(v, "ek-san",
             "no TCG subjectAltName: TPM manufacturer, model and version "
             "unknown");
    } else {
        latch_report_add(v->rep, "ek-san", LATCH_CHECK_PASS,
                         "manufacturer %s (%s), model %s, version %s",
                         v->c->tpm_manufacturer, v->c->tpm_vendor,
                         v->c->tpm_model, v->c->tpm_version);
    }
    if (v->c->subject[0] != '\0') {
        warn(v, "ek-subject", "non-empty subject '%s' (TCG profile: empty)",
             v->c->subject);
    }
}

static void
vulnerable(struct vctx *v)
{
    const char *mfr =
        v->c->tpm_vendor[0] ? v->c->tpm_vendor : v->c->tpm_manufacturer;
    const char *fw =
        v->c->tpm_firmware[0] ? v->c->tpm_firmware : v->c->tpm_version;

    if (ek_roca_key(v->c->pkey)) {
        v->res->roca = true;
        latch_report_add(v->rep, "ek-roca", LATCH_CHECK_FAIL,
                         "RSA modulus has the ROCA fingerprint "
                         "(CVE-2017-15361): the private key may be "
                         "recoverable");
        verdict(v, EK_NEEDS_OVERRIDE, EK_R_ROCA,
                "EK modulus has the ROCA fingerprint (CVE-2017-15361)");
    } else if (v->c->key_type == EK_KEY_RSA) {
        latch_report_add(v->rep, "ek-roca", LATCH_CHECK_PASS,
                         "no ROCA fingerprint");
    }
    if (v->o != NULL && v->o->deny != NULL &&
        (ek_denylist_match(v->o->deny, mfr, fw) ||
         ek_denylist_match(v->o->deny, v->c->tpm_manufacturer,
                           v->c->tpm_version))) {
        v->res->denylisted = true;
        latch_report_add(v->rep, "ek-denylist", LATCH_CHECK_FAIL,
                         "TPM %s firmware %s is on the deny-list", mfr, fw);
        verdict(v, EK_NEEDS_OVERRIDE, EK_R_DENYLIST,
                "TPM %s firmware %s is on the deny-list", mfr, fw);
    }
}

static void
report_chain(struct vctx *v)
{
    struct ek_result *r = v->res;
    size_t top = r->chain_len > 0 ? r->chain_len - 1 : 0;

    if (v->chain_reason == EK_R_UNKNOWN_ROOT && r->chain_len > 0) {
        fmt(r->root_subject, sizeof(r->root_subject), "%s",
            r->chain[top].subject);
        memcpy(r->root_sha256, r->chain[top].sha256, EK_HEX256_LEN);
        fmt(v->chain_detail, sizeof(v->chain_detail),
            "chain ends at root '%.120s' (sha256 %s), which is not pinned",
            r->root_subject, r->root_sha256);
        if (r->reason == EK_R_UNKNOWN_ROOT) {
            memcpy(r->detail, v->chain_detail, sizeof(r->detail));
        }
        latch_report_add(v->rep, "ek-chain", LATCH_CHECK_FAIL, "%s",
                         v->chain_detail);
        progress(v, "unknown root '%s' (sha256 %s)", r->root_subject,
                 r->root_sha256);
        return;
    }
    if (v->chain_reason != EK_R_NONE) {
        latch_report_add(v->rep, "ek-chain", LATCH_CHECK_FAIL, "%s",
                         v->chain_detail);
        progress(v, "chain check failed: %s", v->chain_detail);
        return;
    }
    latch_report_add(v->rep, "ek-chain", LATCH_CHECK_PASS,
                     "%zu certificates to pinned root '%s' (sha256 %s)",
                     r->chain_len, r->chain[top].subject, r->chain[top].sha256);
    progress(v, "chain of %zu certificates verified to pinned root '%s'",
             r->chain_len, r->chain[top].subject);
    if (v->anchor_not_self_signed) {
        warn(v, "ek-anchor",
             "the pinned anchor '%s' is not self-signed (a vendor root "
             "issued by another root); its issuer is not pinned",
             r->chain[top].subject);
    }
}

enum latch_status
ek_verify(const struct ek_trust *t, const struct ek_cert *c,
          STACK_OF(X509) * untrusted, const struct ek_verify_opts *opts,
          struct ek_result *res, struct latch_report *rep,
          struct latch_err *err)
{
    struct vctx *v = NULL;
    enum latch_status st = LATCH_OK;
    size_t i;
    int j;

    memset(res, 0, sizeof(*res));
    if (t == NULL || c == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "ek_verify: no %s",
                             t == NULL ? "trust store" : "certificate");
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "ek_verify: calloc");
    }
    v->t = t;
    v->c = c;
    v->o = opts;
    v->res = res;
    v->rep = rep;
    v->now = opts != NULL && opts->now != 0 ? opts->now : (int64_t)time(NULL);
    res->outcome = EK_VALID;

    progress(v, "EK certificate %.16s...: %s %s, firmware %s, %s-%d", c->sha256,
             c->tpm_vendor[0] ? c->tpm_vendor : "unknown vendor",
             c->tpm_model[0] ? c->tpm_model : "(no model)",
             c->tpm_firmware[0] ? c->tpm_firmware : "?",
             c->key_type == EK_KEY_RSA ? "RSA" : "EC", c->key_bits);
    if (c->is_tpm12) {
        verdict(v, EK_INVALID, EK_R_TPM12,
                "TPM 1.2 EK certificate: not usable for TPM 2.0 credential "
                "activation");
    }
    for (j = 0; j < sk_X509_num(untrusted); j++) {
        st = hold(v, sk_X509_value(untrusted, j), ORIGIN_ENROLLMENT, NULL, err);
        if (st != LATCH_OK) {
            goto out;
        }
    }
    st = gather(v, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (v->top_pinned) {
        progress(v, "verifying %zu certificates against the pinned roots",
                 v->n);
        st = openssl_verify(v, err);
        if (st != LATCH_OK) {
            goto out;
        }
    } else {
        fill_chain(v, NULL);
        if (v->chain_reason == EK_R_NONE) {
            /* The walk ended at a self-signed root nobody pinned. */
            for (i = 1; i < v->n; i++) {
                if (!signed_by(v->chain[i - 1], v->chain[i]) &&
                    !(i == 1 && c->spki_rsaes_oaep)) {
                    chain_verdict(v, EK_INVALID, EK_R_BAD_SIGNATURE,
                                  "bad signature on '%s'",
                                  res->chain[i - 1].subject);
                }
            }
            if (v->n > 1 && ek_self_signed(v->chain[v->n - 1])) {
                chain_verdict(v, EK_UNKNOWN_ROOT, EK_R_UNKNOWN_ROOT,
                              "chain ends at a root that is not pinned");
            } else if (v->n == 1 && ek_self_signed(c->x509)) {
                chain_verdict(v, EK_UNKNOWN_ROOT, EK_R_UNKNOWN_ROOT,
                              "self-signed EK certificate");
            }
        }
    }
    report_chain(v);
    if (v->expired) {
        res->expired = true;
        latch_report_add(rep, "ek-validity", LATCH_CHECK_FAIL,
                         "'%s' has expired", v->expired_what);
        verdict(v, EK_NEEDS_OVERRIDE, EK_R_EXPIRED,
                "'%s' has expired: an administrator must decide",
                v->expired_what);
    } else if (res->reason != EK_R_NOT_YET_VALID) {
        latch_report_add(rep, "ek-validity", LATCH_CHECK_PASS,
                         "within its validity period");
    }
    sha1_check(v);
    profile(v);
    vulnerable(v);
    progress(v, "EK certificate: %s (%s)", ek_outcome_str(res->outcome),
             res->reason == EK_R_NONE ? "all checks passed" : res->detail);

out:
    for (i = 0; i < v->npool; i++) {
        X509_free(v->pool[i].x);
        free(v->pool[i].url);
    }
    free(v);
    return st;
}
