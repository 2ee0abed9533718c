/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cache.c: the untrusted intermediate cache (aia_cache table) behind the
 * EK chain builder's cache interface. Cached certificates only ever help
 * build a chain to a pinned root; they are never anchors.
 */
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "core_int.h"
#include "ekcert.h"

#define CACHE_LOOKUP_MAX 16

static enum latch_status
cache_lookup(void *arg, const char *subject_key, const char *aki_hex,
             STACK_OF(X509) * out, struct latch_err *err)
{
    struct core *c = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    const unsigned char *p;
    const uint8_t *der;
    X509 *x;
    size_t len = 0;
    bool has = false;

    (void)aki_hex;
    st = db_prepare(c->db,
                    "SELECT der FROM aia_cache WHERE subject_key = ? "
                    "ORDER BY id LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, subject_key);
    db_bind_int64(s, 2, CACHE_LOOKUP_MAX);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        der = db_col_blob(s, 0, &len);
        p = der;
        x = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
        if (x == NULL) {
            continue; /* a damaged entry helps nobody; skip it */
        }
        if (sk_X509_push(out, x) <= 0) {
            X509_free(x);
            st = core_oom(err);
            break;
        }
    }
    db_done(s);
    return st;
}

static enum latch_status
cache_store(void *arg, const char *url, const uint8_t *der, size_t len,
            const char *sha256, const char *subject_key, struct latch_err *err)
{
    struct core *c = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has;

    st = db_prepare(c->db,
                    "INSERT INTO aia_cache (sha256, url, subject_key, der, "
                    "fetched_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (sha256) DO NOTHING",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, sha256);
    db_bind_text(s, 2, url);
    db_bind_text(s, 3, subject_key);
    db_bind_blob(s, 4, der, len);
    db_bind_int64(s, 5, core_now());
    st = db_step(s, &has, err);
    db_done(s);
    return st;
}

/*
 * A cached certificate that failed to verify the one below it (item B18,
 * cache poisoning) is deleted, so the next chain build fetches or uses a
 * good copy. Best effort: the chain already failed, and a row that stays
 * is refused again the same way.
 */
static void
cache_evict(void *arg, const char *sha256)
{
    struct core *c = arg;
    struct db_stmt *s = NULL;
    struct latch_err err;
    bool has;

    memset(&err, 0, sizeof(err));
    if (db_prepare(c->db, "DELETE FROM aia_cache WHERE sha256 = ?", &s, &err) !=
        LATCH_OK) {
        return;
    }
    db_bind_text(s, 1, sha256);
    if (db_step(s, &has, &err) != LATCH_OK) {
        has = false; /* the row stays and is refused again next time */
    }
    db_done(s);
}

void
core_ek_cache(struct core *c, struct ek_cache_ops *ops)
{
    memset(ops, 0, sizeof(*ops));
    ops->arg = c;
    ops->lookup = cache_lookup;
    ops->store = cache_store;
    ops->evict = cache_evict;
}
