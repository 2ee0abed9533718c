/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * core.c: the core context, shared helpers, and the enrollment operations
 * (import, list, show, progress, approve, reject, revalidate). Uploads are
 * parsed strictly before anything is stored; a refused upload leaves only
 * its audit row.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "codec.h"
#include "core_int.h"
#include "ekcert.h"
#include "json.h"
#include "provider.h"
#include "signing.h"

#define CORE_SOURCE_MAX 255 /* an upload's file name */

#define ENR_COLS                                                               \
    "id, state, device_id, identity_schema, hostname, product, "               \
    "serial_number, label, is_rotation, created_at, updated_at"

/* --- helpers ------------------------------------------------------------- */

int64_t
core_now(void)
{
    return (int64_t)time(NULL);
}

int
core_limit(const struct core_list_opts *opt)
{
    if (opt == NULL || opt->limit <= 0) {
        return CORE_LIST_DEFAULT;
    }
    return opt->limit > CORE_LIST_MAX ? CORE_LIST_MAX : opt->limit;
}

json_t *
core_jtext(struct db_stmt *st, int col)
{
    const char *s = db_col_text(st, col);

    return s != NULL ? json_string(s) : json_null();
}

json_t *
core_jint(struct db_stmt *st, int col)
{
    if (db_col_is_null(st, col)) {
        return json_null();
    }
    return json_integer((json_int_t)db_col_int64(st, col));
}

json_t *
core_jtime(struct db_stmt *st, int col)
{
    char buf[LATCH_TIME_LEN];

    if (db_col_is_null(st, col)) {
        return json_null();
    }
    latch_time_format(db_col_int64(st, col), buf);
    return json_string(buf);
}

json_t *
core_page(json_t *items, int limit, int64_t last_id)
{
    json_t *next = json_array_size(items) >= (size_t)limit
                       ? json_integer((json_int_t)last_id)
                       : json_null();

    return json_pack("{s:o, s:o}", "items", items, "next", next);
}

enum latch_status
core_oom(struct latch_err *err)
{
    return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
}

void
core_sha256_hex(const void *buf, size_t len, char out[65])
{
    uint8_t md[SHA256_DIGEST_LENGTH];

    SHA256(buf, len, md);
    latch_hex_encode(md, sizeof(md), out);
}

enum latch_status
core_pack(json_t **out, struct latch_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    *out = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    return *out != NULL ? LATCH_OK : core_oom(err);
}

enum latch_status
core_open(const struct latchd_config *cfg, struct db *db, struct core **out,
          struct latch_err *err)
{
    struct core *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL) {
        return core_oom(err);
    }
    c->cfg = cfg;
    c->db = db;
    *out = c;
    return LATCH_OK;
}

void
core_free(struct core *c)
{
    if (c == NULL) {
        return;
    }
    EVP_PKEY_free(c->sign_key);
    X509_free(c->sign_cert);
    ek_trust_free(c->trust);
    free(c);
}

struct db *
core_db(struct core *c)
{
    return c->db;
}

enum latch_status
core_load_signing(struct core *c, struct latch_err *err)
{
    enum latch_status st;

    if (c->sign_key != NULL && c->sign_cert != NULL) {
        return LATCH_OK;
    }
    st = signing_load_key(c->cfg->signing_key, &c->sign_key, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = signing_load_cert(c->cfg->signing_cert, &c->sign_cert, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "no signing certificate installed (latchd ca "
                              "install CERT)");
        return st;
    }
    st = signing_check_cert(c->sign_key, c->sign_cert, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, c->cfg->signing_cert);
    }
    return st;
}

void
core_load_trust(struct core *c)
{
    struct latch_err e;

    if (c->trust_loaded) {
        return;
    }
    c->trust_loaded = true;
    latch_err_clear(&e);
    if (ek_trust_load(c->cfg->trust_dir, &c->trust, NULL, &e) != LATCH_OK) {
        c->trust = NULL;
        snprintf(c->trust_msg, sizeof(c->trust_msg), "%s", e.msg);
    }
}

enum latch_status
core_job_queue(struct db *db, int64_t enrollment_id, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool row;

    st = db_prepare(db,
                    "INSERT INTO jobs (kind, enrollment_id, state, "
                    "created_at) VALUES ('validate', ?, 'queued', ?)",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, enrollment_id);
    db_bind_int64(s, 2, core_now());
    st = db_step(s, &row, err);
    db_done(s);
    return st;
}

enum latch_status
core_progress(struct db *db, int64_t enrollment_id, const char *level,
              const char *text, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool row;

    st = db_prepare(db,
                    "INSERT INTO enrollment_progress (enrollment_id, time, "
                    "level, message) VALUES (?, ?, ?, ?)",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, enrollment_id);
    db_bind_int64(s, 2, core_now());
    db_bind_text(s, 3, level);
    db_bind_text(s, 4, text);
    st = db_step(s, &row, err);
    db_done(s);
    return st;
}

/* --- import -------------------------------------------------------------- */

struct import_tx {
    const char *actor;
    const uint8_t *buf;
    size_t len;
    const char *source;
    const char *schema;
    const struct upload_info *info;
    char sha[65];
    const char *reason; /* set: record a rejection only */
    int64_t id;
    char state[24];
    bool duplicate;
};

static enum latch_status
reject_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct import_tx *t = arg;
    json_t *d = NULL;
    enum latch_status st;
    char object[80];

    snprintf(object, sizeof(object), "upload:%s", t->sha);
    st = core_pack(&d, err, "{s:s, s:I, s:s?}", "reason", t->reason, "size",
                   (json_int_t)t->len, "source", t->source);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "enrollment.upload_rejected",
                               object, d, err);
    }
    json_decref(d);
    return st;
}

static enum latch_status
find_existing(struct db *db, struct import_tx *t, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool row = false;

    st = db_prepare(db, "SELECT id, state FROM enrollments WHERE sha256 = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, t->sha);
    st = db_step(s, &row, err);
    if (st == LATCH_OK && !row) {
        st = latch_err_set(err, LATCH_E_INTERNAL,
                           "import: enrollment %s vanished", t->sha);
    }
    if (st == LATCH_OK) {
        t->id = db_col_int64(s, 0);
        snprintf(t->state, sizeof(t->state), "%s", db_col_text(s, 1));
        t->duplicate = true;
    }
    db_done(s);
    return st;
}

static enum latch_status
import_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct import_tx *t = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *d = NULL;
    char object[32];
    char msg[256];
    int64_t now = core_now();
    bool row = false;

    t->duplicate = false;
    st = db_prepare(db,
                    "INSERT INTO enrollments (sha256, body, size, source, "
                    "identity_schema, state, hostname, product, "
                    "serial_number, label, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (sha256) DO NOTHING RETURNING id",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, t->sha);
    db_bind_blob(s, 2, t->buf, t->len);
    db_bind_int64(s, 3, (int64_t)t->len);
    db_bind_text(s, 4, t->source);
    db_bind_text(s, 5, t->schema);
    db_bind_text(s, 6, t->info->hostname);
    db_bind_text(s, 7, t->info->product);
    db_bind_text(s, 8, t->info->serial_number);
    db_bind_text(s, 9, t->info->label);
    db_bind_int64(s, 10, now);
    db_bind_int64(s, 11, now);
    st = db_step(s, &row, err);
    if (st == LATCH_OK && row) {
        t->id = db_col_int64(s, 0);
    }
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    if (!row) {
        return find_existing(db, t, err);
    }
    snprintf(t->state, sizeof(t->state), "pending");
    st = core_job_queue(db, t->id, err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(msg, sizeof(msg),
             "uploaded (%zu bytes, sha256 %.16s...), queued for validation",
             t->len, t->sha);
    st = core_progress(db, t->id, "info", msg, err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "enrollment:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s, s:s, s:I, s:s?}", "sha256", t->sha,
                   "identity_schema", t->schema, "size", (json_int_t)t->len,
                   "source", t->source);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "enrollment.import", object, d,
                               err);
    }
    json_decref(d);
    return st;
}

/* Strict checks before anything is stored. On refusal t->reason is set. */
static enum latch_status
import_parse(struct import_tx *t, json_t **doc,
             const struct binding_provider **prov, void **parsed,
             struct upload_info *info, struct latch_err *err)
{
    enum latch_status st;

    if (t->len > LATCH_JSON_MAX_BYTES) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "enrollment is %zu bytes, the limit is %d", t->len,
                             LATCH_JSON_MAX_BYTES);
    }
    st = latch_json_parse((const char *)t->buf, t->len, doc, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (!json_is_object(*doc)) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "enrollment: not a JSON object");
    }
    st = latch_json_get_string(*doc, "identity_schema", "enrollment", true,
                               &t->schema, NULL, err);
    if (st != LATCH_OK) {
        return st;
    }
    *prov = provider_find(t->schema);
    if (*prov == NULL) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment.identity_schema: unknown schema "
                             "\"%.64s\" (this server knows: %s)",
                             t->schema, provider_names());
    }
    return (*prov)->parse(t->buf, t->len, parsed, info, err);
}

enum latch_status
core_enrollment_import(struct core *c, const char *actor, const uint8_t *buf,
                       size_t len, const char *source, json_t **out,
                       struct latch_err *err)
{
    const struct binding_provider *prov = NULL;
    struct upload_info info;
    struct import_tx t;
    struct latch_err aerr;
    enum latch_status st;
    enum latch_status rst;
    void *parsed = NULL;
    json_t *doc = NULL;

    *out = NULL;
    memset(&t, 0, sizeof(t));
    memset(&info, 0, sizeof(info));
    t.actor = actor;
    t.buf = buf;
    t.len = len;
    t.source = source;
    t.info = &info;
    core_sha256_hex(buf, len, t.sha);

    /* A file name that is no text is refused before anything is stored. */
    st = source != NULL
             ? core_text_check("file name", source, CORE_SOURCE_MAX, err)
             : LATCH_OK;
    if (st != LATCH_OK) {
        if (core_pack(out, &aerr, "{s:n, s:s, s:s, s:s}", "id", "state",
                      "rejected", "reason", err->msg, "sha256",
                      t.sha) != LATCH_OK) {
            *out = NULL;
        }
        return st;
    }
    st = import_parse(&t, &doc, &prov, &parsed, &info, err);
    if (st != LATCH_OK) {
        /* Stored: only the audit row naming the reason. */
        t.reason = err->msg;
        latch_err_clear(&aerr);
        rst = db_transact(c->db, reject_tx, &t, &aerr);
        if (rst != LATCH_OK) {
            latch_err_set(err, rst, "%s (and the audit row failed: %s)",
                          t.reason, aerr.msg);
            st = rst;
            goto out;
        }
        if (core_pack(out, &aerr, "{s:n, s:s, s:s, s:s}", "id", "state",
                      "rejected", "reason", err->msg, "sha256",
                      t.sha) != LATCH_OK) {
            *out = NULL;
        }
        goto out;
    }
    st = db_transact(c->db, import_tx, &t, err);
    if (st == LATCH_OK) {
        st = core_pack(out, err, "{s:I, s:s, s:s, s:b}", "id", (json_int_t)t.id,
                       "state", t.state, "sha256", t.sha, "duplicate",
                       t.duplicate);
    }

out:
    if (prov != NULL && parsed != NULL) {
        prov->free_parsed(parsed);
    }
    json_decref(doc);
    return st;
}

/* --- list / show ---------------------------------------------------------- */

static json_t *
enr_summary(struct db_stmt *s)
{
    return json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o}", "id",
        (json_int_t)db_col_int64(s, 0), "state", core_jtext(s, 1), "device_id",
        core_jtext(s, 2), "identity_schema", core_jtext(s, 3), "hostname",
        core_jtext(s, 4), "product", core_jtext(s, 5), "serial_number",
        core_jtext(s, 6), "label", core_jtext(s, 7), "is_rotation",
        db_col_int64(s, 8) != 0, "created_at", core_jtime(s, 9), "updated_at",
        core_jtime(s, 10));
}

/* Runs a prepared list query and pages its rows through fn. */
enum latch_status
core_run_list(struct db_stmt *s, int limit, json_t *(*fn)(struct db_stmt *),
              json_t **out, struct latch_err *err)
{
    enum latch_status st;
    json_t *items = json_array();
    json_t *row;
    int64_t last = 0;
    bool has = false;

    if (items == NULL) {
        return core_oom(err);
    }
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        last = db_col_int64(s, 0);
        row = fn(s);
        if (row == NULL || json_array_append_new(items, row) != 0) {
            st = core_oom(err);
            break;
        }
    }
    if (st != LATCH_OK) {
        json_decref(items);
        return st;
    }
    *out = core_page(items, limit, last);
    return *out != NULL ? LATCH_OK : core_oom(err);
}

#define ENR_LIST(cond, order)                                                  \
    "SELECT " ENR_COLS " FROM enrollments WHERE " cond " ORDER BY id " order   \
    " LIMIT ?"

/*
 * One constant text per filter combination and direction, so each query
 * can walk its (filter, id) index: [newest_first][state][device].
 */
static const char *const enr_list_sql[2][2][2] = {
    {{ENR_LIST("id > ?", "ASC"), ENR_LIST("id > ? AND device_id = ?", "ASC")},
     {ENR_LIST("id > ? AND state = ?", "ASC"),
      ENR_LIST("id > ? AND state = ? AND device_id = ?", "ASC")}},
    {{ENR_LIST("id < ?", "DESC"), ENR_LIST("id < ? AND device_id = ?", "DESC")},
     {ENR_LIST("id < ? AND state = ?", "DESC"),
      ENR_LIST("id < ? AND state = ? AND device_id = ?", "DESC")}},
};

int64_t
core_after(const struct core_list_opts *opt)
{
    if (opt->newest_first && opt->after_id <= 0) {
        return INT64_MAX;
    }
    return opt->after_id;
}

enum latch_status
core_state_check(const char *state, const char *const *valid, const char *what,
                 struct latch_err *err)
{
    char list[256];
    size_t n = 0;
    int k;

    if (state == NULL) {
        return LATCH_OK;
    }
    list[0] = '\0';
    for (size_t i = 0; valid[i] != NULL; i++) {
        if (strcmp(state, valid[i]) == 0) {
            return LATCH_OK;
        }
        k = snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? ", " : "",
                     valid[i]);
        if (k > 0 && (size_t)k < sizeof(list) - n) {
            n += (size_t)k;
        }
    }
    return latch_err_set(err, LATCH_E_USAGE,
                         "%s state \"%.64s\": expected one of %s", what, state,
                         list);
}

enum latch_status
core_enrollment_list(struct core *c, const struct core_list_opts *opt,
                     json_t **out, struct latch_err *err)
{
    static const char *const states[] = {
        "pending",      "validating", "valid",    "invalid", "needs_override",
        "unknown_root", "approved",   "rejected", NULL};
    enum latch_status st;
    struct db_stmt *s = NULL;
    int limit = core_limit(opt);
    bool by_state = opt->state != NULL;
    bool by_dev = opt->device_id != NULL;
    int i = 1;

    *out = NULL;
    st = core_state_check(opt->state, states, "enrollment", err);
    if (st != LATCH_OK) {
        return st;
    }
    st = db_prepare(c->db, enr_list_sql[opt->newest_first][by_state][by_dev],
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, i++, core_after(opt));
    if (by_state) {
        db_bind_text(s, i++, opt->state);
    }
    if (by_dev) {
        db_bind_text(s, i++, opt->device_id);
    }
    db_bind_int64(s, i, limit);
    st = core_run_list(s, limit, enr_summary, out, err);
    db_done(s);
    return st;
}

static json_t *
lic_brief(struct db_stmt *s)
{
    return json_pack("{s:I, s:o, s:o, s:o}", "id",
                     (json_int_t)db_col_int64(s, 0), "license_id",
                     core_jtext(s, 1), "state", core_jtext(s, 2), "serial",
                     core_jint(s, 3));
}

static enum latch_status
enr_licenses(struct core *c, int64_t id, json_t *obj, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *page = NULL;

    st = db_prepare(c->db,
                    "SELECT id, license_id, state, serial FROM licenses "
                    "WHERE enrollment_id = ? ORDER BY id DESC LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, CORE_LIST_DEFAULT);
    st = core_run_list(s, CORE_LIST_DEFAULT, lic_brief, &page, err);
    db_done(s);
    if (st == LATCH_OK &&
        json_object_set(obj, "licenses", json_object_get(page, "items")) != 0) {
        st = core_oom(err);
    }
    json_decref(page);
    return st;
}

enum latch_status
core_enrollment_show(struct core *c, int64_t id, json_t **out,
                     struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *obj = NULL;
    json_t *report = NULL;
    bool has = false;
    const char *rtext;

    *out = NULL;
    st = db_prepare(c->db,
                    "SELECT " ENR_COLS ", sha256, size, source, ek_template, "
                    "ak_name, report, reason, decided_by, decided_at, "
                    "overridden FROM enrollments WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (!has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "enrollment %lld: no such "
                           "enrollment",
                           (long long)id);
        goto out;
    }
    obj = enr_summary(s);
    rtext = db_col_text(s, 16);
    report = rtext != NULL ? json_loads(rtext, 0, NULL) : json_null();
    if (obj == NULL ||
        json_object_update_new(
            obj,
            json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                      "s:b}",
                      "sha256", core_jtext(s, 11), "size", core_jint(s, 12),
                      "source", core_jtext(s, 13), "ek_template",
                      core_jtext(s, 14), "ak_name", core_jtext(s, 15), "report",
                      report != NULL ? report : json_null(), "reason",
                      core_jtext(s, 17), "decided_by", core_jtext(s, 18),
                      "decided_at", core_jtime(s, 19), "overridden",
                      db_col_int64(s, 20) != 0)) != 0) {
        st = core_oom(err);
        goto out;
    }
    db_done(s);
    s = NULL;
    st = enr_licenses(c, id, obj, err);
    if (st == LATCH_OK) {
        *out = obj;
        obj = NULL;
    }

out:
    db_done(s);
    json_decref(obj);
    return st;
}

static json_t *
progress_row(struct db_stmt *s)
{
    return json_pack("{s:I, s:o, s:o, s:o}", "id",
                     (json_int_t)db_col_int64(s, 0), "time", core_jtime(s, 1),
                     "level", core_jtext(s, 2), "text", core_jtext(s, 3));
}

static bool
state_is_final(const char *state)
{
    return state != NULL && strcmp(state, "pending") != 0 &&
           strcmp(state, "validating") != 0;
}

/* Reads an enrollment's state into buf; LATCH_E_NOT_FOUND when absent. */
static enum latch_status
enr_state(struct db *db, int64_t id, char *buf, size_t cap,
          struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(db, "SELECT state FROM enrollments WHERE id = ?", &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st =
            latch_err_set(err, LATCH_E_NOT_FOUND,
                          "enrollment %lld: no such enrollment", (long long)id);
    }
    if (st == LATCH_OK) {
        snprintf(buf, cap, "%s", db_col_text(s, 0));
    }
    db_done(s);
    return st;
}

enum latch_status
core_enrollment_progress(struct core *c, int64_t id, int64_t since_id,
                         json_t **out, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *page = NULL;
    char state[24];

    *out = NULL;
    st = enr_state(c->db, id, state, sizeof(state), err);
    if (st != LATCH_OK) {
        return st;
    }
    st = db_prepare(c->db,
                    "SELECT id, time, level, message FROM enrollment_progress "
                    "WHERE enrollment_id = ? AND id > ? ORDER BY id LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    db_bind_int64(s, 2, since_id);
    db_bind_int64(s, 3, CORE_LIST_MAX);
    st = core_run_list(s, CORE_LIST_MAX, progress_row, &page, err);
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    st = core_pack(out, err, "{s:I, s:s, s:O, s:b}", "id", (json_int_t)id,
                   "state", state, "messages", json_object_get(page, "items"),
                   "done", state_is_final(state));
    json_decref(page);
    return st;
}

/* --- decisions ------------------------------------------------------------ */

struct decide_tx {
    const char *actor;
    int64_t id;
    bool override;
    const char *reason;
    json_t *revoked; /* ids of licenses revoked by a rotation approval */
};

struct enr_row {
    char state[24];
    char device_id[65];
    int64_t is_rotation;
};

static enum latch_status
enr_load(struct db *db, int64_t id, struct enr_row *r, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    memset(r, 0, sizeof(*r));
    st = db_prepare(db,
                    "SELECT state, device_id, is_rotation FROM enrollments "
                    "WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st =
            latch_err_set(err, LATCH_E_NOT_FOUND,
                          "enrollment %lld: no such enrollment", (long long)id);
    }
    if (st == LATCH_OK) {
        snprintf(r->state, sizeof(r->state), "%s", db_col_text(s, 0));
        if (db_col_text(s, 1) != NULL) {
            snprintf(r->device_id, sizeof(r->device_id), "%s",
                     db_col_text(s, 1));
        }
        r->is_rotation = db_col_int64(s, 2);
    }
    db_done(s);
    return st;
}

/* Sets state (and who decided) when the row is still in from_state. */
static enum latch_status
enr_set_state(struct db *db, int64_t id, const char *from_state,
              const char *to_state, const char *actor, const char *reason,
              bool overridden, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool row;

    st = db_prepare(db,
                    "UPDATE enrollments SET state = ?, decided_by = ?, "
                    "decided_at = ?, updated_at = ?, "
                    "reason = COALESCE(?, reason), overridden = ? "
                    "WHERE id = ? AND state = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, to_state);
    db_bind_text(s, 2, actor);
    db_bind_int64(s, 3, core_now());
    db_bind_int64(s, 4, core_now());
    db_bind_text(s, 5, reason);
    db_bind_int64(s, 6, overridden ? 1 : 0);
    db_bind_int64(s, 7, id);
    db_bind_text(s, 8, from_state);
    st = db_step(s, &row, err);
    if (st == LATCH_OK && db_changes(s) != 1) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "enrollment %lld changed state meanwhile; try "
                           "again",
                           (long long)id);
    }
    db_done(s);
    return st;
}

/*
 * The licenses an AK rotation approval revokes: the device's active ones
 * issued to an enrollment with another AK. Licenses for the same AK (a
 * re-upload of the current enrollment) stay: that AK is still the
 * device's. Parameters: device_id, device_id, the approved enrollment.
 */
#define ROTATION_TARGETS                                                       \
    "device_id = ? AND state = 'active' AND enrollment_id IN (SELECT id "      \
    "FROM enrollments WHERE device_id = ? AND ak_name <> (SELECT ak_name "     \
    "FROM enrollments WHERE id = ?))"

enum latch_status
core_rotation_targets(struct core *c, const char *device_id, int64_t enr_id,
                      json_t **out, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *a = json_array();
    bool has = false;

    *out = NULL;
    if (a == NULL) {
        return core_oom(err);
    }
    st = db_prepare(c->db,
                    "SELECT id, serial FROM licenses WHERE " ROTATION_TARGETS
                    " ORDER BY id",
                    &s, err);
    if (st == LATCH_OK) {
        db_bind_text(s, 1, device_id);
        db_bind_text(s, 2, device_id);
        db_bind_int64(s, 3, enr_id);
    }
    while (st == LATCH_OK) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        if (json_array_append_new(
                a, json_pack("{s:I, s:I}", "id", (json_int_t)db_col_int64(s, 0),
                             "serial", (json_int_t)db_col_int64(s, 1))) != 0) {
            st = core_oom(err);
        }
    }
    db_done(s);
    if (st == LATCH_OK) {
        *out = a;
        a = NULL;
    }
    json_decref(a);
    return st;
}

/*
 * Revokes what core_rotation_targets() lists, each with its own audit
 * row; their ids go into t->revoked.
 */
static enum latch_status
revoke_older(struct db *db, struct decide_tx *t, const char *device_id,
             struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *d = NULL;
    char reason[160];
    char object[40];
    int64_t lid;
    size_t i;
    bool has = false;

    snprintf(reason, sizeof(reason),
             "AK rotation: enrollment %lld approved for this device",
             (long long)t->id);
    st = db_prepare(db,
                    "UPDATE licenses SET state = 'revoked', revoked_at = ?, "
                    "revoked_by = ?, reason = ? WHERE " ROTATION_TARGETS
                    " RETURNING id",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_now());
    db_bind_text(s, 2, t->actor);
    db_bind_text(s, 3, reason);
    db_bind_text(s, 4, device_id);
    db_bind_text(s, 5, device_id);
    db_bind_int64(s, 6, t->id);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        if (json_array_append_new(t->revoked,
                                  json_integer(db_col_int64(s, 0))) != 0) {
            st = core_oom(err);
            break;
        }
    }
    db_done(s);
    for (i = 0; st == LATCH_OK && i < json_array_size(t->revoked); i++) {
        lid = (int64_t)json_integer_value(json_array_get(t->revoked, i));
        snprintf(object, sizeof(object), "license:%lld", (long long)lid);
        st = core_pack(&d, err, "{s:s, s:I}", "reason", reason, "enrollment_id",
                       (json_int_t)t->id);
        if (st == LATCH_OK) {
            st = core_audit_append(db, t->actor, "license.revoke", object, d,
                                   err);
        }
        json_decref(d);
        d = NULL;
    }
    return st;
}

static enum latch_status
set_current(struct db *db, const char *device_id, int64_t id,
            struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool row;

    st = db_prepare(db,
                    "UPDATE devices SET current_enrollment = ? "
                    "WHERE device_id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    db_bind_text(s, 2, device_id);
    st = db_step(s, &row, err);
    db_done(s);
    return st;
}

static enum latch_status
approve_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct decide_tx *t = arg;
    struct enr_row r;
    enum latch_status st;
    json_t *d = NULL;
    char object[32];

    json_array_clear(t->revoked);
    st = enr_load(db, t->id, &r, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(r.state, "needs_override") == 0 && !t->override) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment %lld needs an override to be "
                             "approved: see its report; an administrator "
                             "may approve it with override (--override in "
                             "the CLI)",
                             (long long)t->id);
    }
    if (strcmp(r.state, "valid") != 0 &&
        strcmp(r.state, "needs_override") != 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment %lld is %s; only a valid enrollment "
                             "can be approved",
                             (long long)t->id, r.state);
    }
    st = enr_set_state(db, t->id, r.state, "approved", t->actor, NULL,
                       strcmp(r.state, "needs_override") == 0, err);
    if (st == LATCH_OK) {
        st = set_current(db, r.device_id, t->id, err);
    }
    if (st == LATCH_OK) {
        st = revoke_older(db, t, r.device_id, err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "enrollment:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s, s:s, s:b, s:b, s:O}", "from", r.state,
                   "device_id", r.device_id, "override",
                   strcmp(r.state, "needs_override") == 0, "rotation",
                   r.is_rotation != 0, "revoked_licenses", t->revoked);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "enrollment.approve", object, d,
                               err);
    }
    json_decref(d);
    return st;
}

static enum latch_status
reject_enr_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct decide_tx *t = arg;
    struct enr_row r;
    enum latch_status st;
    json_t *d = NULL;
    char object[32];

    st = enr_load(db, t->id, &r, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(r.state, "rejected") == 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment %lld is rejected already",
                             (long long)t->id);
    }
    if (strcmp(r.state, "approved") == 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment %lld is approved already; revoke its "
                             "licenses instead",
                             (long long)t->id);
    }
    st = enr_set_state(db, t->id, r.state, "rejected", t->actor, t->reason,
                       false, err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "enrollment:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s, s:s}", "from", r.state, "reason", t->reason);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "enrollment.reject", object, d,
                               err);
    }
    json_decref(d);
    return st;
}

static enum latch_status
summary_by_id(struct core *c, int64_t id, json_t **out, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(c->db, "SELECT " ENR_COLS " FROM enrollments WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st =
            latch_err_set(err, LATCH_E_NOT_FOUND,
                          "enrollment %lld: no such enrollment", (long long)id);
    }
    if (st == LATCH_OK) {
        *out = enr_summary(s);
        if (*out == NULL) {
            st = core_oom(err);
        }
    }
    db_done(s);
    return st;
}

enum latch_status
core_enrollment_approve(struct core *c, const char *actor, int64_t id,
                        bool override, json_t **out, struct latch_err *err)
{
    struct decide_tx t;
    enum latch_status st;

    *out = NULL;
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.id = id;
    t.override = override;
    t.revoked = json_array();
    if (t.revoked == NULL) {
        return core_oom(err);
    }
    st = db_transact(c->db, approve_tx, &t, err);
    if (st == LATCH_OK) {
        st = summary_by_id(c, id, out, err);
    }
    if (st == LATCH_OK &&
        json_object_set(*out, "revoked_licenses", t.revoked) != 0) {
        st = core_oom(err);
    }
    json_decref(t.revoked);
    return st;
}

/* Unicode White_Space outside ASCII (U+0085 is a control character). */
static bool
is_wide_space(uint32_t cp)
{
    return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

enum latch_status
core_text_check(const char *what, const char *s, size_t max,
                struct latch_err *err)
{
    size_t len = s != NULL ? strlen(s) : 0;
    size_t i = 0;
    size_t n;
    uint32_t cp = 0;
    bool blank = true;

    if (len == 0) {
        return latch_err_set(err, LATCH_E_USAGE, "%s: required (1..%zu bytes)",
                             what, max);
    }
    if (len > max) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s: %zu bytes, at most %zu allowed", what, len,
                             max);
    }
    for (; i < len; i += n) {
        n = latch_utf8_next((const uint8_t *)s + i, len - i, &cp);
        if (n == 0) {
            return latch_err_set(err, LATCH_E_USAGE, "%s: not valid UTF-8",
                                 what);
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "%s: control character U+%04X not allowed",
                                 what, (unsigned)cp);
        }
        blank = blank && (cp == ' ' || is_wide_space(cp));
    }
    if (blank) {
        return latch_err_set(err, LATCH_E_USAGE, "%s: only white space", what);
    }
    return LATCH_OK;
}

enum latch_status
core_name_check(const char *what, const char *s, size_t max,
                struct latch_err *err)
{
    size_t len;
    enum latch_status st;

    st = core_text_check(what, s, max, err);
    if (st != LATCH_OK) {
        return st;
    }
    len = strlen(s);
    if (s[0] == ' ' || s[len - 1] == ' ') {
        /* " ACME" and "ACME " would look like "ACME" on every page. */
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s: leading or trailing space", what);
    }
    return LATCH_OK;
}

/* Rejections and revocations carry a reason of 1..CORE_REASON_MAX bytes. */
enum latch_status
core_reason_check(const char *reason, struct latch_err *err)
{
    return core_text_check("reason", reason, CORE_REASON_MAX, err);
}

enum latch_status
core_enrollment_reject(struct core *c, const char *actor, int64_t id,
                       const char *reason, json_t **out, struct latch_err *err)
{
    struct decide_tx t;
    enum latch_status st;

    *out = NULL;
    st = core_reason_check(reason, err);
    if (st != LATCH_OK) {
        return st;
    }
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.id = id;
    t.reason = reason;
    st = db_transact(c->db, reject_enr_tx, &t, err);
    if (st == LATCH_OK) {
        st = summary_by_id(c, id, out, err);
    }
    return st;
}

static enum latch_status
revalidate_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct decide_tx *t = arg;
    struct enr_row r;
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *d = NULL;
    char object[32];
    bool row;

    st = enr_load(db, t->id, &r, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(r.state, "approved") == 0 || strcmp(r.state, "rejected") == 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "enrollment %lld is %s: decided enrollments are "
                             "not validated again",
                             (long long)t->id, r.state);
    }
    st = db_prepare(db,
                    "UPDATE enrollments SET state = 'pending', updated_at = ? "
                    "WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_now());
    db_bind_int64(s, 2, t->id);
    st = db_step(s, &row, err);
    db_done(s);
    if (st == LATCH_OK) {
        st = core_job_queue(db, t->id, err);
    }
    if (st == LATCH_OK) {
        st = core_progress(db, t->id, "info", "queued for validation again",
                           err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "enrollment:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s}", "from", r.state);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "enrollment.revalidate", object, d,
                               err);
    }
    json_decref(d);
    return st;
}

enum latch_status
core_enrollment_revalidate(struct core *c, const char *actor, int64_t id,
                           json_t **out, struct latch_err *err)
{
    struct decide_tx t;
    enum latch_status st;

    *out = NULL;
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.id = id;
    st = db_transact(c->db, revalidate_tx, &t, err);
    if (st == LATCH_OK) {
        st = summary_by_id(c, id, out, err);
    }
    return st;
}
