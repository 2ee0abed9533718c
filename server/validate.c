/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * validate.c: background validation. Jobs are claimed from the database
 * (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the claim runs in a BEGIN
 * IMMEDIATE transaction), the enrollment's binding provider runs its checks
 * while progress lines are committed one by one for the UI to poll, and
 * the outcome, the report, the device row and the audit row are written in
 * one transaction at the end. Worker threads each own a connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core_int.h"
#include "provider.h"

#define JOB_STALE_SECONDS 300 /* a running job older than this is retried */
#define JOB_MAX_ATTEMPTS  3
#define WORKER_IDLE_MS    200
#define TEXT_MAX          64
#define PROGRESS_FLUSH_MS                                                      \
    200 /* buffered progress lines reach the UI                                \
         * at least this often */

struct validation {
    struct core *c;
    int64_t enr_id;
    json_t *checks;
    json_t *facts;
    enum val_severity sev;
    char reasons[4][LATCH_CHECK_DETAIL_MAX + LATCH_CHECK_NAME_MAX + 4];
    bool has_identity;
    char device_id[65];
    char ak_name[2 * 66 + 1];
    char ek_template[TEXT_MAX];
    char tpm_mfr[TEXT_MAX * 4];
    char tpm_model[TEXT_MAX * 4];
    json_t *pending; /* progress lines not committed yet */
    struct timespec last_flush;
};

static int
rank(enum val_severity s)
{
    switch (s) {
    case VAL_OK:
        return 0;
    case VAL_NEEDS_OVERRIDE:
        return 1;
    case VAL_UNKNOWN_ROOT:
        return 2;
    case VAL_INVALID:
        return 3;
    }
    return 3;
}

static const char *
sev_state(enum val_severity s)
{
    switch (s) {
    case VAL_OK:
        return "valid";
    case VAL_NEEDS_OVERRIDE:
        return "needs_override";
    case VAL_UNKNOWN_ROOT:
        return "unknown_root";
    case VAL_INVALID:
        return "invalid";
    }
    return "invalid";
}

struct core *
val_core(struct validation *v)
{
    return v->c;
}

int64_t
val_enrollment_id(const struct validation *v)
{
    return v->enr_id;
}

/* Inserts the buffered progress lines (inside the caller's transaction). */
static enum latch_status
insert_pending(struct db *db, struct validation *v, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    json_t *line;
    size_t i;

    json_array_foreach(v->pending, i, line)
    {
        st = core_progress(db, v->enr_id,
                           json_string_value(json_array_get(line, 0)),
                           json_string_value(json_array_get(line, 1)), err);
        if (st != LATCH_OK) {
            break;
        }
    }
    return st;
}

static enum latch_status
flush_tx(struct db *db, void *arg, struct latch_err *err)
{
    return insert_pending(db, arg, err);
}

static long
ms_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t->tv_sec) * 1000L +
           (now.tv_nsec - t->tv_nsec) / 1000000L;
}

/*
 * Commits the buffered lines. Validation is fast, so lines are buffered
 * and committed together (a commit is a disk flush); a slow step (an AIA
 * fetch) still shows progress every PROGRESS_FLUSH_MS.
 */
static void
flush_progress(struct validation *v)
{
    struct latch_err e;

    latch_err_clear(&e);
    if (json_array_size(v->pending) > 0 &&
        db_transact(v->c->db, flush_tx, v, &e) == LATCH_OK) {
        json_array_clear(v->pending);
    }
    clock_gettime(CLOCK_MONOTONIC, &v->last_flush);
}

static void
progress_text(struct validation *v, const char *level, const char *text)
{
    json_array_append_new(v->pending, json_pack("[s, s]", level, text));
    if (ms_since(&v->last_flush) >= PROGRESS_FLUSH_MS) {
        flush_progress(v);
    }
}

void
val_progress(struct validation *v, const char *level, const char *fmt, ...)
{
    char buf[LATCH_CHECK_DETAIL_MAX + 64];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(buf, sizeof(buf), fmt, ap) < 0) {
        buf[0] = '\0';
    }
    va_end(ap);
    progress_text(v, level, buf);
}

void
val_outcome(struct validation *v, enum val_severity sev, const char *reason)
{
    int r = rank(sev);

    if (sev != VAL_OK && v->reasons[r][0] == '\0') {
        snprintf(v->reasons[r], sizeof(v->reasons[r]), "%s", reason);
    }
    if (r > rank(v->sev)) {
        v->sev = sev;
    }
}

static void
add_check(struct validation *v, const char *name,
          enum latch_check_result result, enum val_severity sev,
          const char *detail)
{
    const char *res = latch_check_result_str(result);
    char reason[LATCH_CHECK_DETAIL_MAX + LATCH_CHECK_NAME_MAX + 4];
    json_t *item;

    item = json_pack("{s:s, s:s, s:s}", "name", name, "result", res, "detail",
                     detail);
    if (item != NULL) {
        json_array_append_new(v->checks, item);
    }
    val_progress(v,
                 result == LATCH_CHECK_FAIL   ? "fail"
                 : result == LATCH_CHECK_WARN ? "warn"
                                              : "info",
                 "%s %s: %s", res, name, detail);
    if (result == LATCH_CHECK_FAIL) {
        snprintf(reason, sizeof(reason), "%s: %s", name, detail);
        val_outcome(v, sev == VAL_OK ? VAL_INVALID : sev, reason);
    }
}

void
val_check(struct validation *v, const char *name,
          enum latch_check_result result, enum val_severity sev,
          const char *fmt, ...)
{
    char detail[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(detail, sizeof(detail), fmt, ap) < 0) {
        detail[0] = '\0';
    }
    va_end(ap);
    add_check(v, name, result, sev, detail);
}

void
val_import_report(struct validation *v, const struct latch_report *rep,
                  size_t from, enum val_severity sev)
{
    size_t i;

    for (i = from; rep != NULL && i < rep->n; i++) {
        add_check(v, rep->items[i].name, rep->items[i].result, sev,
                  rep->items[i].detail);
    }
}

void
val_fact(struct validation *v, const char *key, json_t *value)
{
    if (value != NULL) {
        json_object_set_new(v->facts, key, value);
    }
}

void
val_identity(struct validation *v, const char *device_id,
             const char *ak_name_hex, const char *ek_template,
             const char *tpm_manufacturer, const char *tpm_model)
{
    v->has_identity = true;
    snprintf(v->device_id, sizeof(v->device_id), "%s", device_id);
    snprintf(v->ak_name, sizeof(v->ak_name), "%s", ak_name_hex);
    snprintf(v->ek_template, sizeof(v->ek_template), "%s", ek_template);
    snprintf(v->tpm_mfr, sizeof(v->tpm_mfr), "%s",
             tpm_manufacturer != NULL ? tpm_manufacturer : "");
    snprintf(v->tpm_model, sizeof(v->tpm_model), "%s",
             tpm_model != NULL ? tpm_model : "");
}

/* --- claiming ------------------------------------------------------------- */

struct claim {
    const char *worker;
    bool found;
    int64_t job_id;
    int64_t enr_id;
    int64_t attempts;
};

static enum latch_status
claim_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct claim *cl = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    int64_t now = core_now();
    bool has = false;

    cl->found = false;
    st = db_prepare(db,
                    db_sql(db,
                           "SELECT id, enrollment_id, attempts FROM jobs "
                           "WHERE state IN ('queued', 'running') AND "
                           "(state = 'queued' OR claimed_at < ?) "
                           "ORDER BY id LIMIT 1",
                           "SELECT id, enrollment_id, attempts FROM jobs "
                           "WHERE state IN ('queued', 'running') AND "
                           "(state = 'queued' OR claimed_at < ?) "
                           "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"),
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, now - JOB_STALE_SECONDS);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && has) {
        cl->found = true;
        cl->job_id = db_col_int64(s, 0);
        cl->enr_id = db_col_int64(s, 1);
        cl->attempts = db_col_int64(s, 2) + 1;
    }
    db_done(s);
    if (st != LATCH_OK || !cl->found) {
        return st;
    }
    st = db_prepare(db,
                    "UPDATE jobs SET state = 'running', worker = ?, "
                    "claimed_at = ?, attempts = ? WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, cl->worker);
    db_bind_int64(s, 2, now);
    db_bind_int64(s, 3, cl->attempts);
    db_bind_int64(s, 4, cl->job_id);
    st = db_step(s, &has, err);
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    st = db_prepare(db,
                    "UPDATE enrollments SET state = 'validating', "
                    "updated_at = ? WHERE id = ? AND state IN ('pending', "
                    "'validating')",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, now);
    db_bind_int64(s, 2, cl->enr_id);
    st = db_step(s, &has, err);
    db_done(s);
    return st;
}

/* --- finishing ------------------------------------------------------------ */

struct finish {
    struct validation *v;
    struct claim *cl;
    const char *actor;
    const char *fail_msg; /* validation could not run */
    char state[24];
    bool stored;
};

/* Adds the checks that need the database: AK reuse and AK rotation. */
static enum latch_status
history_checks(struct db *db, struct validation *v, json_t *checks_base,
               struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *older = NULL;
    bool has = false;
    bool reused = false;

    (void)checks_base;
    st = db_prepare(db,
                    "SELECT id, device_id FROM enrollments WHERE ak_name = ? "
                    "AND device_id <> ? AND state IN ('valid', "
                    "'needs_override', 'approved') ORDER BY id LIMIT 1",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, v->ak_name);
    db_bind_text(s, 2, v->device_id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && has) {
        reused = true;
        val_check(v, "ak.unique", LATCH_CHECK_FAIL, VAL_INVALID,
                  "this AK is already enrolled for another device "
                  "(enrollment %lld, device %.16s...): an EK certificate and "
                  "an AK from different TPMs",
                  (long long)db_col_int64(s, 0), db_col_text(s, 1));
    }
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    if (!reused) {
        val_check(v, "ak.unique", LATCH_CHECK_PASS, VAL_OK,
                  "the AK is enrolled for no other device");
    }

    older = json_array();
    if (older == NULL) {
        return core_oom(err);
    }
    st = db_prepare(db,
                    "SELECT id FROM enrollments WHERE device_id = ? AND "
                    "id <> ? AND state = 'approved' AND ak_name <> ? "
                    "ORDER BY id",
                    &s, err);
    if (st != LATCH_OK) {
        json_decref(older);
        return st;
    }
    db_bind_text(s, 1, v->device_id);
    db_bind_int64(s, 2, v->enr_id);
    db_bind_text(s, 3, v->ak_name);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        json_array_append_new(older, json_integer(db_col_int64(s, 0)));
    }
    db_done(s);
    if (st == LATCH_OK && json_array_size(older) > 0) {
        val_check(v, "ak.rotation", LATCH_CHECK_WARN, VAL_OK,
                  "AK rotation: this device already has %zu approved "
                  "enrollment(s) with another AK; approving this one revokes "
                  "their active licenses",
                  json_array_size(older));
        val_fact(v, "rotation_of", json_incref(older));
    }
    json_decref(older);
    return st;
}

static enum latch_status
upsert_device(struct db *db, struct validation *v, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has;

    st = db_prepare(db,
                    "INSERT INTO devices (device_id, ek_template, "
                    "tpm_manufacturer, tpm_model, first_seen) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO NOTHING",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, v->device_id);
    db_bind_text(s, 2, v->ek_template);
    db_bind_text(s, 3, v->tpm_mfr[0] != '\0' ? v->tpm_mfr : NULL);
    db_bind_text(s, 4, v->tpm_model[0] != '\0' ? v->tpm_model : NULL);
    db_bind_int64(s, 5, core_now());
    st = db_step(s, &has, err);
    db_done(s);
    return st;
}

static enum latch_status
finish_job(struct db *db, struct claim *cl, const char *state,
           const char *error, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has;

    st = db_prepare(db,
                    "UPDATE jobs SET state = ?, finished_at = ?, error = ? "
                    "WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, state);
    db_bind_int64(s, 2, core_now());
    db_bind_text(s, 3, error);
    db_bind_int64(s, 4, cl->job_id);
    st = db_step(s, &has, err);
    db_done(s);
    return st;
}

static enum latch_status
store_outcome(struct db *db, struct finish *f, const char *report_text,
              const char *reason, struct latch_err *err)
{
    struct validation *v = f->v;
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has;

    st = db_prepare(db,
                    "UPDATE enrollments SET state = ?, report = ?, "
                    "reason = ?, device_id = ?, ek_template = ?, "
                    "ak_name = ?, is_rotation = ?, updated_at = ? "
                    "WHERE id = ? AND state = 'validating'",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, f->state);
    db_bind_text(s, 2, report_text);
    db_bind_text(s, 3, reason);
    db_bind_text(s, 4, v->has_identity ? v->device_id : NULL);
    db_bind_text(s, 5, v->has_identity ? v->ek_template : NULL);
    db_bind_text(s, 6, v->has_identity ? v->ak_name : NULL);
    db_bind_int64(s, 7, json_object_get(v->facts, "rotation_of") != NULL);
    db_bind_int64(s, 8, core_now());
    db_bind_int64(s, 9, v->enr_id);
    st = db_step(s, &has, err);
    f->stored = st == LATCH_OK && db_changes(s) == 1;
    db_done(s);
    return st;
}

static enum latch_status
finish_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct finish *f = arg;
    struct validation *v = f->v;
    enum latch_status st = LATCH_OK;
    json_t *report = NULL;
    json_t *d = NULL;
    char *text = NULL;
    const char *reason;
    char object[32];
    char final[LATCH_CHECK_DETAIL_MAX + 96];
    size_t nchecks = json_array_size(v->checks);
    enum val_severity saved = v->sev;

    if (f->fail_msg == NULL && v->has_identity) {
        st = history_checks(db, v, NULL, err);
        if (st != LATCH_OK) {
            goto out;
        }
    }
    if (f->fail_msg != NULL) {
        val_outcome(v, VAL_INVALID, f->fail_msg);
    }
    snprintf(f->state, sizeof(f->state), "%s", sev_state(v->sev));
    reason = v->sev == VAL_OK ? NULL : v->reasons[rank(v->sev)];
    report = json_pack("{s:s, s:s?, s:O, s:O}", "outcome", f->state, "reason",
                       reason, "checks", v->checks, "facts", v->facts);
    text = report != NULL ? json_dumps(report, JSON_COMPACT) : NULL;
    if (text == NULL) {
        st = core_oom(err);
        goto out;
    }
    st = store_outcome(db, f, text, reason, err);
    if (st == LATCH_OK && f->stored) {
        snprintf(final, sizeof(final), "validation finished: %s%s%s", f->state,
                 reason != NULL ? ": " : "", reason != NULL ? reason : "");
        st = insert_pending(db, v, err);
        if (st == LATCH_OK) {
            st = core_progress(db, v->enr_id,
                               v->sev == VAL_OK ? "info" : "warn", final, err);
        }
    }
    if (st == LATCH_OK && f->stored &&
        (v->sev == VAL_OK || v->sev == VAL_NEEDS_OVERRIDE)) {
        st = upsert_device(db, v, err);
    }
    if (st == LATCH_OK) {
        st = finish_job(db, f->cl, f->fail_msg != NULL ? "failed" : "done",
                        f->fail_msg, err);
    }
    if (st != LATCH_OK || !f->stored) {
        goto out;
    }
    snprintf(object, sizeof(object), "enrollment:%lld", (long long)v->enr_id);
    st = core_pack(&d, err, "{s:s, s:s?, s:s?}", "outcome", f->state, "reason",
                   reason, "device_id", v->has_identity ? v->device_id : NULL);
    if (st == LATCH_OK) {
        st = core_audit_append(db, f->actor, "enrollment.validate", object, d,
                               err);
    }

out:
    if (st != LATCH_OK) {
        /* A retry runs the history checks again: drop what they added. */
        while (json_array_size(v->checks) > nchecks) {
            json_array_remove(v->checks, json_array_size(v->checks) - 1);
        }
        json_object_del(v->facts, "rotation_of");
        v->sev = saved;
    }
    json_decref(d);
    json_decref(report);
    free(text);
    return st;
}

/* --- one job ----------------------------------------------------------------
 */

static enum latch_status
load_body(struct db *db, int64_t id, uint8_t **body, size_t *len, char *schema,
          size_t cap, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    const uint8_t *p;
    bool has = false;

    *body = NULL;
    st = db_prepare(db,
                    "SELECT body, identity_schema FROM enrollments "
                    "WHERE id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND, "enrollment %lld is gone",
                           (long long)id);
    }
    if (st == LATCH_OK) {
        p = db_col_blob(s, 0, len);
        *body = malloc(*len + 1);
        if (*body == NULL || p == NULL) {
            st = core_oom(err);
        } else {
            memcpy(*body, p, *len);
            (*body)[*len] = '\0';
            snprintf(schema, cap, "%s", db_col_text(s, 1));
        }
    }
    db_done(s);
    return st;
}

static void
run_provider(struct validation *v, const uint8_t *body, size_t len,
             const char *schema, struct latch_err *err, const char **fail)
{
    const struct binding_provider *prov = provider_find(schema);
    struct upload_info info;
    void *parsed = NULL;

    if (prov == NULL) {
        val_check(v, "schema", LATCH_CHECK_FAIL, VAL_INVALID,
                  "unknown identity_schema \"%.64s\" (known: %s)", schema,
                  provider_names());
        return;
    }
    val_check(v, "schema", LATCH_CHECK_PASS, VAL_OK, "%s: %s", prov->schema,
              prov->description);
    if (prov->parse(body, len, &parsed, &info, err) != LATCH_OK) {
        val_check(v, "parse", LATCH_CHECK_FAIL, VAL_INVALID, "%s", err->msg);
        return;
    }
    val_check(v, "parse", LATCH_CHECK_PASS, VAL_OK,
              "strict parse of the whole upload");
    if (prov->validate(v, parsed, err) != LATCH_OK) {
        *fail = err->msg;
    }
    prov->free_parsed(parsed);
}

enum latch_status
core_validate_next(struct core *c, const char *worker, bool *did_one,
                   struct latch_err *err)
{
    struct validation v;
    struct claim cl;
    struct finish f;
    struct latch_err verr;
    enum latch_status st;
    uint8_t *body = NULL;
    size_t len = 0;
    char schema[TEXT_MAX];
    char actor[TEXT_MAX + 8];

    *did_one = false;
    memset(&cl, 0, sizeof(cl));
    cl.worker = worker;
    st = db_transact(c->db, claim_tx, &cl, err);
    if (st != LATCH_OK || !cl.found) {
        return st;
    }
    *did_one = true;
    memset(&v, 0, sizeof(v));
    memset(&f, 0, sizeof(f));
    v.c = c;
    v.enr_id = cl.enr_id;
    v.checks = json_array();
    v.facts = json_object();
    v.pending = json_array();
    clock_gettime(CLOCK_MONOTONIC, &v.last_flush);
    if (v.checks == NULL || v.facts == NULL || v.pending == NULL) {
        st = core_oom(err);
        goto out;
    }
    latch_err_clear(&verr);
    f.v = &v;
    f.cl = &cl;
    snprintf(actor, sizeof(actor), "worker:%s", worker);
    f.actor = actor;
    val_progress(&v, "info", "validation started (%s, attempt %lld)", worker,
                 (long long)cl.attempts);
    if (cl.attempts > JOB_MAX_ATTEMPTS) {
        f.fail_msg = "validation did not finish after 3 attempts (a worker "
                     "died each time); revalidate to try again";
    } else {
        st = load_body(c->db, cl.enr_id, &body, &len, schema, sizeof(schema),
                       err);
        if (st != LATCH_OK) {
            goto out;
        }
        run_provider(&v, body, len, schema, &verr, &f.fail_msg);
    }
    st = db_transact(c->db, finish_tx, &f, err);
    if (st == LATCH_OK) {
        json_array_clear(v.pending);
    }

out:
    free(body);
    if (v.pending != NULL && json_array_size(v.pending) > 0) {
        flush_progress(&v); /* what ran before a failure stays visible */
    }
    json_decref(v.pending);
    json_decref(v.checks);
    json_decref(v.facts);
    return st;
}

/* --- worker threads ----------------------------------------------------------
 */

struct worker {
    struct core_workers *pool;
    pthread_t thread;
    bool started;
    char name[TEXT_MAX];
};

struct core_workers {
    const struct latchd_config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int n;
    struct worker *w;
};

static bool
idle_wait(struct core_workers *p, long ms)
{
    struct timespec ts;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&p->mu);
    if (!p->stop) {
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct core_workers *p = w->pool;
    struct db *db = NULL;
    struct core *c = NULL;
    struct latch_err err;
    bool did = false;

    latch_err_clear(&err);
    for (;;) {
        if (db == NULL && (db_open(p->cfg->database, &db, &err) != LATCH_OK ||
                           core_open(p->cfg, db, &c, &err) != LATCH_OK)) {
            fprintf(stderr, "latchd: %s: %s\n", w->name, err.msg);
            core_free(c);
            c = NULL;
            db_close(db);
            db = NULL;
        }
        did = false;
        if (c != NULL &&
            core_validate_next(c, w->name, &did, &err) != LATCH_OK) {
            fprintf(stderr, "latchd: %s: %s\n", w->name, err.msg);
        }
        if (did) {
            pthread_mutex_lock(&p->mu);
            did = !p->stop;
            pthread_mutex_unlock(&p->mu);
            if (did) {
                continue;
            }
            break;
        }
        if (idle_wait(p, c != NULL ? WORKER_IDLE_MS : 2000)) {
            break;
        }
    }
    core_free(c);
    db_close(db);
    return NULL;
}

enum latch_status
core_workers_start(const struct latchd_config *cfg, int n,
                   struct core_workers **out, struct latch_err *err)
{
    struct core_workers *p;
    char host[32];
    int i;
    int rc;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return core_oom(err);
    }
    p->cfg = cfg;
    p->w = calloc(n > 0 ? (size_t)n : 1, sizeof(*p->w));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (p->w == NULL) {
        core_workers_stop(p);
        return core_oom(err);
    }
    snprintf(host, sizeof(host), "%ld", (long)getpid());
    for (i = 0; i < n; i++) {
        p->w[i].pool = p;
        snprintf(p->w[i].name, sizeof(p->w[i].name), "pid%s-w%d", host, i);
        rc = pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]);
        if (rc != 0) {
            core_workers_stop(p);
            return latch_err_set(err, LATCH_E_INTERNAL, "worker thread: %s",
                                 strerror(rc));
        }
        p->w[i].started = true;
        p->n = i + 1;
    }
    *out = p;
    return LATCH_OK;
}

void
core_workers_stop(struct core_workers *p)
{
    int i;

    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->n; i++) {
        if (p->w[i].started) {
            pthread_join(p->w[i].thread, NULL);
        }
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}
