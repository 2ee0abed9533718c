/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * audit.c: the append-only, hash-chained audit log. Each row's hash is
 * SHA-256 over a domain string, the previous row's hash and the row's
 * time, actor, action, object and details (length-prefixed), so a row
 * that is edited no longer matches its hash, a row that is moved no
 * longer follows its predecessor's hash, and a deleted row leaves a gap in
 * the sequence. The sequence number is not hashed: it is the position,
 * which the prev_hash links already fix.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "codec.h"
#include "core_int.h"

#define AUDIT_DOMAIN "latch.audit.v1"
#define AUDIT_PAGE   1000

static void
put_be64(uint8_t out[8], uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static bool
hash_field(EVP_MD_CTX *md, const char *s)
{
    uint8_t len[8];
    size_t n = s != NULL ? strlen(s) : 0;

    put_be64(len, (uint64_t)n);
    return EVP_DigestUpdate(md, len, sizeof(len)) == 1 &&
           (n == 0 || EVP_DigestUpdate(md, s, n) == 1);
}

/* hash (hex) of a row given the previous row's hash (hex). */
static enum latch_status
row_hash(const char *prev_hex, int64_t t, const char *actor, const char *action,
         const char *object, const char *details, char out[65],
         struct latch_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t digest[32];
    uint8_t tb[8];
    unsigned int dlen = 0;
    bool ok;

    put_be64(tb, (uint64_t)t);
    ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(md, AUDIT_DOMAIN, sizeof(AUDIT_DOMAIN)) == 1 &&
         hash_field(md, prev_hex) &&
         EVP_DigestUpdate(md, tb, sizeof(tb)) == 1 && hash_field(md, actor) &&
         hash_field(md, action) && hash_field(md, object) &&
         hash_field(md, details) &&
         EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 32;
    EVP_MD_CTX_free(md);
    if (!ok) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "audit: hashing failed");
    }
    latch_hex_encode(digest, sizeof(digest), out);
    return LATCH_OK;
}

enum latch_status
core_audit_append(struct db *db, const char *actor, const char *action,
                  const char *object, const json_t *details,
                  struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    char prev[65];
    char hash[65];
    char *text = NULL;
    int64_t seq = 0;
    int64_t t = core_now();
    bool row = false;

    text = details != NULL ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS |
                                                     JSON_ENSURE_ASCII)
                           : strdup("{}");
    if (text == NULL) {
        return core_oom(err);
    }

    /* Taking the head row's lock orders every appender. */
    st = db_prepare(db,
                    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 "
                    "RETURNING seq, hash",
                    &s, err);
    if (st == LATCH_OK) {
        st = db_step(s, &row, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (!row || db_col_text(s, 1) == NULL || strlen(db_col_text(s, 1)) != 64) {
        st = latch_err_set(err, LATCH_E_INTERNAL,
                           "audit: the chain head row is missing");
        goto out;
    }
    seq = db_col_int64(s, 0);
    memcpy(prev, db_col_text(s, 1), sizeof(prev));
    db_done(s);
    s = NULL;

    st = row_hash(prev, t, actor, action, object, text, hash, err);
    if (st != LATCH_OK) {
        goto out;
    }
    st = db_prepare(db,
                    "INSERT INTO audit_log (seq, time, actor, action, "
                    "object, details, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    &s, err);
    if (st != LATCH_OK) {
        goto out;
    }
    db_bind_int64(s, 1, seq);
    db_bind_int64(s, 2, t);
    db_bind_text(s, 3, actor);
    db_bind_text(s, 4, action);
    db_bind_text(s, 5, object);
    db_bind_text(s, 6, text);
    db_bind_text(s, 7, prev);
    db_bind_text(s, 8, hash);
    st = db_step(s, &row, err);
    db_done(s);
    s = NULL;
    if (st != LATCH_OK) {
        goto out;
    }
    st = db_prepare(db, "UPDATE audit_head SET hash = ? WHERE id = 1", &s, err);
    if (st == LATCH_OK) {
        db_bind_text(s, 1, hash);
        st = db_step(s, &row, err);
    }

out:
    db_done(s);
    free(text);
    return st;
}

enum latch_status
core_audit_list(struct core *c, const struct core_list_opts *opt, json_t **out,
                struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *items = NULL;
    json_t *row = NULL;
    json_t *details;
    int limit = core_limit(opt);
    int64_t last = 0;
    bool has = false;

    *out = NULL;
    items = json_array();
    if (items == NULL) {
        return core_oom(err);
    }
    st = db_prepare(c->db,
                    opt->newest_first
                        ? "SELECT seq, time, actor, action, object, details, "
                          "hash FROM audit_log WHERE seq < ? "
                          "ORDER BY seq DESC LIMIT ?"
                        : "SELECT seq, time, actor, action, object, details, "
                          "hash FROM audit_log WHERE seq > ? "
                          "ORDER BY seq LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        goto out;
    }
    db_bind_int64(s, 1, core_after(opt));
    db_bind_int64(s, 2, limit);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        details = json_loads(
            db_col_text(s, 5) != NULL ? db_col_text(s, 5) : "{}", 0, NULL);
        last = db_col_int64(s, 0);
        row = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                        (json_int_t)last, "seq", (json_int_t)last, "time",
                        core_jtime(s, 1), "actor", core_jtext(s, 2), "action",
                        core_jtext(s, 3), "object", core_jtext(s, 4), "details",
                        details != NULL ? details : json_null(), "hash",
                        core_jtext(s, 6));
        if (row == NULL || json_array_append_new(items, row) != 0) {
            st = core_oom(err);
            break;
        }
    }
    if (st == LATCH_OK) {
        *out = core_page(items, limit, last);
        items = NULL;
        if (*out == NULL) {
            st = core_oom(err);
        }
    }

out:
    db_done(s);
    json_decref(items);
    return st;
}

struct walk {
    int64_t rows;
    int64_t expect_seq;
    char prev[65];
    bool broken;
    int64_t bad_seq;
    const char *problem;
    char detail[320];
};

static void
broken(struct walk *w, int64_t seq, const char *problem, const char *detail)
{
    w->broken = true;
    w->bad_seq = seq;
    w->problem = problem;
    snprintf(w->detail, sizeof(w->detail), "%s", detail);
}

/* Checks one row against the chain so far. */
static enum latch_status
walk_row(struct walk *w, struct db_stmt *s, struct latch_err *err)
{
    enum latch_status st;
    int64_t seq = db_col_int64(s, 0);
    const char *prev = db_col_text(s, 6);
    const char *hash = db_col_text(s, 7);
    char calc[65];
    char msg[320];

    if (seq != w->expect_seq) {
        snprintf(msg, sizeof(msg),
                 "rows %lld..%lld are missing: deleted (the next row is "
                 "%lld)",
                 (long long)w->expect_seq, (long long)seq - 1, (long long)seq);
        broken(w, w->expect_seq, "deleted", msg);
        return LATCH_OK;
    }
    st = row_hash(prev != NULL ? prev : "", db_col_int64(s, 1),
                  db_col_text(s, 2), db_col_text(s, 3), db_col_text(s, 4),
                  db_col_text(s, 5), calc, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (hash == NULL || strlen(hash) != 64 ||
        CRYPTO_memcmp(calc, hash, 64) != 0) {
        snprintf(msg, sizeof(msg),
                 "row %lld was edited: its contents no longer match its hash",
                 (long long)seq);
        broken(w, seq, "edited", msg);
        return LATCH_OK;
    }
    if (prev == NULL || strcmp(prev, w->prev) != 0) {
        snprintf(msg, sizeof(msg),
                 "row %lld does not follow row %lld (its previous-hash "
                 "names another row): rows were reordered, or row %lld "
                 "was rewritten or removed",
                 (long long)seq, (long long)seq - 1, (long long)seq - 1);
        broken(w, seq, "reordered", msg);
        return LATCH_OK;
    }
    memcpy(w->prev, hash, sizeof(w->prev));
    w->rows++;
    w->expect_seq++;
    return LATCH_OK;
}

/* Compares the end of the chain with the head row. */
static enum latch_status
walk_head(struct core *c, struct walk *w, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;
    char msg[320];
    int64_t hseq;

    st = db_prepare(c->db, "SELECT seq, hash FROM audit_head WHERE id = 1", &s,
                    err);
    if (st == LATCH_OK) {
        st = db_step(s, &has, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (!has) {
        broken(w, w->expect_seq, "truncated", "the chain head row is gone");
        goto out;
    }
    hseq = db_col_int64(s, 0);
    if (hseq > w->expect_seq - 1) {
        snprintf(msg, sizeof(msg),
                 "the chain ends at row %lld but %lld rows were written: "
                 "rows %lld..%lld were deleted",
                 (long long)w->expect_seq - 1, (long long)hseq,
                 (long long)w->expect_seq, (long long)hseq);
        broken(w, w->expect_seq, "truncated", msg);
    } else if (hseq < w->expect_seq - 1 || db_col_text(s, 1) == NULL ||
               strcmp(db_col_text(s, 1), w->prev) != 0) {
        snprintf(msg, sizeof(msg),
                 "the chain head (row %lld) does not match the last row "
                 "(%lld)",
                 (long long)hseq, (long long)w->expect_seq - 1);
        broken(w, hseq, "edited", msg);
    }

out:
    db_done(s);
    return st;
}

enum latch_status
core_audit_verify(struct core *c, json_t **out, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    struct db_stmt *s = NULL;
    struct walk w;
    int64_t after = 0;
    int n;
    bool has = false;

    *out = NULL;
    memset(&w, 0, sizeof(w));
    w.expect_seq = 1;
    memset(w.prev, '0', 64);
    w.prev[64] = '\0';

    while (!w.broken) {
        st = db_prepare(c->db,
                        "SELECT seq, time, actor, action, object, details, "
                        "prev_hash, hash FROM audit_log WHERE seq > ? "
                        "ORDER BY seq LIMIT ?",
                        &s, err);
        if (st != LATCH_OK) {
            goto out;
        }
        db_bind_int64(s, 1, after);
        db_bind_int64(s, 2, AUDIT_PAGE);
        n = 0;
        for (;;) {
            st = db_step(s, &has, err);
            if (st != LATCH_OK || !has) {
                break;
            }
            n++;
            after = db_col_int64(s, 0);
            st = walk_row(&w, s, err);
            if (st != LATCH_OK || w.broken) {
                break;
            }
        }
        db_done(s);
        s = NULL;
        if (st != LATCH_OK) {
            goto out;
        }
        if (n < AUDIT_PAGE) {
            break;
        }
    }
    if (!w.broken) {
        st = walk_head(c, &w, err);
        if (st != LATCH_OK) {
            goto out;
        }
    }
    *out = json_pack(
        "{s:s, s:I, s:o, s:o, s:s}", "state", w.broken ? "broken" : "ok",
        "rows", (json_int_t)w.rows, "first_bad_seq",
        w.broken ? json_integer(w.bad_seq) : json_null(), "problem",
        w.broken ? json_string(w.problem) : json_null(), "detail",
        w.broken ? w.detail
                 : "every row matches its hash and "
                   "follows the one before it");
    if (*out == NULL) {
        st = core_oom(err);
    }

out:
    db_done(s);
    return st;
}
