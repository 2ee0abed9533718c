/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * core_license.c: customers, feature plans, license issuance and the
 * license and device views. Issuance does the expensive part (the
 * activation proof) before its transaction, then assigns the device's next
 * serial, signs, stores and audits in one transaction; the file goes to
 * the caller only after the commit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "codec.h"
#include "core_int.h"
#include "json.h"
#include "license.h"
#include "mkcred.h"
#include "provider.h"

#define LIC_COLS                                                               \
    "l.id, l.license_id, l.state, l.serial, l.device_id, l.enrollment_id, "    \
    "c.name, p.name, l.issued_at, l.valid_until, l.sha256"
#define LIC_FROM                                                               \
    " FROM licenses l JOIN customers c ON c.id = l.customer_id "               \
    "LEFT JOIN plans p ON p.id = l.plan_id"

/* --- features ---------------------------------------------------------- */

static enum latch_status
parse_until(const char *s, int64_t *out, struct latch_err *err)
{
    char buf[LATCH_TIME_LEN];

    if (strlen(s) == 10) {
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        return latch_time_parse(buf, out, err);
    }
    return latch_time_parse(s, out, err);
}

enum latch_status
core_date_parse(const char *what, const char *s, int64_t *out,
                struct latch_err *err)
{
    struct latch_err ignored;

    if (parse_until(s, out, &ignored) != LATCH_OK) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s: \"%.40s\" is not YYYY-MM-DD or "
                             "YYYY-MM-DDTHH:MM:SSZ",
                             what, s);
    }
    return LATCH_OK;
}

enum latch_status
core_feature_parse(const char *spec, struct core_feature *f,
                   struct latch_err *err)
{
    char buf[256];
    char *at;
    char *eq;
    char *end = NULL;
    long long q;

    memset(f, 0, sizeof(*f));
    if (strlen(spec) >= sizeof(buf)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "feature \"%.40s...\": too "
                             "long",
                             spec);
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    at = strchr(buf, '@');
    if (at != NULL) {
        *at++ = '\0';
        if (parse_until(at, &f->valid_until, err) != LATCH_OK) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "feature %s: until \"%s\" is not "
                                 "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
                                 buf, at);
        }
        f->has_valid_until = true;
    }
    eq = strchr(buf, '=');
    if (eq != NULL) {
        *eq++ = '\0';
        errno = 0;
        q = strtoll(eq, &end, 10);
        /* Plain digits only: no sign, space or leading zero. */
        if (eq[0] < '0' || eq[0] > '9' || (eq[0] == '0' && eq[1] != '\0') ||
            errno != 0 || end == eq || *end != '\0' || q < 0 ||
            q > LATCH_JSON_MAX_INT) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "feature %s: quantity \"%s\" is not a "
                                 "whole number >= 0",
                                 buf, eq);
        }
        f->has_quantity = true;
        f->quantity = (int64_t)q;
    }
    if (!latch_feature_name_ok(buf)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "feature name \"%.64s\" must match "
                             "[a-z0-9][a-z0-9_.-]{0,63}",
                             buf);
    }
    /* latch_feature_name_ok() capped the name at 64 bytes. */
    memcpy(f->name, buf, strlen(buf) + 1);
    return LATCH_OK;
}

/*
 * A feature's own valid_until must be in the future: a feature already
 * expired is dead on arrival (in a license or in a plan).
 */
static enum latch_status
features_future(const struct core_feature *fs, size_t n, struct latch_err *err)
{
    char when[LATCH_TIME_LEN];
    int64_t now = core_now();
    size_t i;

    for (i = 0; i < n; i++) {
        if (fs[i].has_valid_until && fs[i].valid_until <= now) {
            latch_time_format(fs[i].valid_until, when);
            return latch_err_set(err, LATCH_E_USAGE,
                                 "feature %s: until %s is not in the future",
                                 fs[i].name, when);
        }
    }
    return LATCH_OK;
}

/* --- customers ------------------------------------------------------------ */

struct named_tx {
    const char *actor;
    const char *kind; /* "customer", "plan" */
    const char *name;
    const struct core_feature *features;
    size_t nfeatures;
    int64_t id;
};

static enum latch_status
insert_named(struct db *db, struct named_tx *t, const char *sql,
             struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(db, sql, &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, t->name);
    db_bind_int64(s, 2, core_now());
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_POLICY, "%s \"%s\" exists already",
                           t->kind, t->name);
    } else if (st == LATCH_OK) {
        t->id = db_col_int64(s, 0);
    }
    db_done(s);
    return st;
}

static enum latch_status
customer_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct named_tx *t = arg;
    enum latch_status st;
    json_t *d = NULL;
    char object[40];

    st = insert_named(db, t,
                      "INSERT INTO customers (name, created_at) VALUES (?, ?) "
                      "ON CONFLICT (name) DO NOTHING RETURNING id",
                      err);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "customer:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s}", "name", t->name);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "customer.add", object, d, err);
    }
    json_decref(d);
    return st;
}

enum latch_status
core_customer_add(struct core *c, const char *actor, const char *name,
                  json_t **out, struct latch_err *err)
{
    struct named_tx t;
    enum latch_status st;

    *out = NULL;
    st = core_name_check("customer name", name, CORE_NAME_MAX, err);
    if (st != LATCH_OK) {
        return st;
    }
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.kind = "customer";
    t.name = name;
    st = db_transact(c->db, customer_tx, &t, err);
    if (st == LATCH_OK) {
        st = core_pack(out, err, "{s:I, s:s, s:s}", "id", (json_int_t)t.id,
                       "name", name, "state", "active");
    }
    return st;
}

static json_t *
customer_row(struct db_stmt *s)
{
    return json_pack("{s:I, s:o, s:s, s:o}", "id",
                     (json_int_t)db_col_int64(s, 0), "name", core_jtext(s, 1),
                     "state", "active", "created_at", core_jtime(s, 2));
}

enum latch_status
core_customer_list(struct core *c, const struct core_list_opts *opt,
                   json_t **out, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    int limit = core_limit(opt);

    *out = NULL;
    st = db_prepare(c->db,
                    opt->newest_first
                        ? "SELECT id, name, created_at FROM customers "
                          "WHERE id < ? ORDER BY id DESC LIMIT ?"
                        : "SELECT id, name, created_at FROM customers "
                          "WHERE id > ? ORDER BY id LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_after(opt));
    db_bind_int64(s, 2, limit);
    st = core_run_list(s, limit, customer_row, out, err);
    db_done(s);
    return st;
}

/* --- plans ------------------------------------------------------------------
 */

static enum latch_status
plan_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct named_tx *t = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *d = NULL;
    json_t *names = NULL;
    char object[40];
    size_t i;
    bool has;

    st = insert_named(db, t,
                      "INSERT INTO plans (name, created_at) VALUES (?, ?) "
                      "ON CONFLICT (name) DO NOTHING RETURNING id",
                      err);
    if (st != LATCH_OK) {
        return st;
    }
    names = json_array();
    if (names == NULL) {
        return core_oom(err);
    }
    for (i = 0; i < t->nfeatures && st == LATCH_OK; i++) {
        st = db_prepare(db,
                        "INSERT INTO plan_features (plan_id, name, quantity, "
                        "valid_until) VALUES (?, ?, ?, ?)",
                        &s, err);
        if (st != LATCH_OK) {
            break;
        }
        db_bind_int64(s, 1, t->id);
        db_bind_text(s, 2, t->features[i].name);
        if (t->features[i].has_quantity) {
            db_bind_int64(s, 3, t->features[i].quantity);
        } else {
            db_bind_null(s, 3);
        }
        if (t->features[i].has_valid_until) {
            db_bind_int64(s, 4, t->features[i].valid_until);
        } else {
            db_bind_null(s, 4);
        }
        st = db_step(s, &has, err);
        db_done(s);
        s = NULL;
        if (st != LATCH_OK && db_last_errkind(db) == DB_ERR_UNIQUE) {
            st = latch_err_set(err, LATCH_E_USAGE, "feature %s is given twice",
                               t->features[i].name);
        }
        json_array_append_new(names, json_string(t->features[i].name));
    }
    if (st == LATCH_OK) {
        snprintf(object, sizeof(object), "plan:%lld", (long long)t->id);
        st = core_pack(&d, err, "{s:s, s:O}", "name", t->name, "features",
                       names);
    }
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "plan.add", object, d, err);
    }
    json_decref(d);
    json_decref(names);
    return st;
}

/* The features of a plan as a JSON array. */
static enum latch_status
plan_features(struct db *db, int64_t plan_id, json_t **out,
              struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *arr = json_array();
    json_t *f;
    bool has = false;

    *out = NULL;
    if (arr == NULL) {
        return core_oom(err);
    }
    st = db_prepare(db,
                    "SELECT name, quantity, valid_until FROM plan_features "
                    "WHERE plan_id = ? ORDER BY name",
                    &s, err);
    if (st != LATCH_OK) {
        json_decref(arr);
        return st;
    }
    db_bind_int64(s, 1, plan_id);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        f = json_pack("{s:o, s:o, s:o}", "name", core_jtext(s, 0), "quantity",
                      core_jint(s, 1), "valid_until", core_jtime(s, 2));
        if (f == NULL || json_array_append_new(arr, f) != 0) {
            st = core_oom(err);
            break;
        }
    }
    db_done(s);
    if (st != LATCH_OK) {
        json_decref(arr);
        return st;
    }
    *out = arr;
    return LATCH_OK;
}

enum latch_status
core_plan_add(struct core *c, const char *actor, const char *name,
              const struct core_feature *features, size_t nfeatures,
              json_t **out, struct latch_err *err)
{
    struct named_tx t;
    enum latch_status st;
    json_t *fs = NULL;

    *out = NULL;
    st = core_name_check("plan name", name, CORE_NAME_MAX, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (nfeatures == 0 || nfeatures > LATCH_FEATURES_MAX) {
        return latch_err_set(err, LATCH_E_USAGE, "a plan needs 1..%d features",
                             LATCH_FEATURES_MAX);
    }
    st = features_future(features, nfeatures, err);
    if (st != LATCH_OK) {
        return st;
    }
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.kind = "plan";
    t.name = name;
    t.features = features;
    t.nfeatures = nfeatures;
    st = db_transact(c->db, plan_tx, &t, err);
    if (st == LATCH_OK) {
        st = plan_features(c->db, t.id, &fs, err);
    }
    if (st == LATCH_OK) {
        st = core_pack(out, err, "{s:I, s:s, s:s, s:o}", "id", (json_int_t)t.id,
                       "name", name, "state", "active", "features", fs);
    }
    return st;
}

enum latch_status
core_plan_list(struct core *c, const struct core_list_opts *opt, json_t **out,
               struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *page = NULL;
    json_t *items;
    json_t *fs = NULL;
    size_t i;
    int limit = core_limit(opt);

    *out = NULL;
    st =
        db_prepare(c->db,
                   opt->newest_first ? "SELECT id, name, created_at FROM plans "
                                       "WHERE id < ? ORDER BY id DESC LIMIT ?"
                                     : "SELECT id, name, created_at FROM plans "
                                       "WHERE id > ? ORDER BY id LIMIT ?",
                   &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_after(opt));
    db_bind_int64(s, 2, limit);
    st = core_run_list(s, limit, customer_row, &page, err);
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    items = json_object_get(page, "items");
    for (i = 0; i < json_array_size(items) && st == LATCH_OK; i++) {
        st = plan_features(c->db,
                           (int64_t)json_integer_value(
                               json_object_get(json_array_get(items, i), "id")),
                           &fs, err);
        if (st == LATCH_OK) {
            json_object_set_new(json_array_get(items, i), "features", fs);
        }
    }
    if (st != LATCH_OK) {
        json_decref(page);
        return st;
    }
    *out = page;
    return LATCH_OK;
}

/* --- issuance --------------------------------------------------------------
 */

struct issue_tx {
    struct core *c;
    const char *actor;
    const struct core_issue_req *req;
    const json_t *binding;
    const char *device_id;
    json_t *features;
    /* results */
    int64_t id;
    int64_t serial;
    char license_id[40];
    char sha[65];
    char *file;
    size_t filelen;
    json_t *superseded;
};

/* The enrollment as needed for issuance. */
struct issue_enr {
    char state[24];
    char device_id[65];
    char ak_name[2 * LATCH_NAME_MAX + 1];
    char schema[64];
    int64_t current;
    uint8_t *body;
    size_t len;
};

static enum latch_status
issue_load(struct db *db, int64_t id, struct issue_enr *e,
           struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    const uint8_t *p;
    bool has = false;

    st = db_prepare(db,
                    "SELECT e.state, e.device_id, e.ak_name, "
                    "e.identity_schema, d.current_enrollment, e.body "
                    "FROM enrollments e LEFT JOIN devices d "
                    "ON d.device_id = e.device_id WHERE e.id = ?",
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
    if (st != LATCH_OK) {
        goto out;
    }
    snprintf(e->state, sizeof(e->state), "%s", db_col_text(s, 0));
    if (strcmp(e->state, "approved") != 0) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "enrollment %lld is %s; licenses are issued only "
                           "for approved enrollments",
                           (long long)id, e->state);
        goto out;
    }
    snprintf(e->device_id, sizeof(e->device_id), "%s", db_col_text(s, 1));
    snprintf(e->ak_name, sizeof(e->ak_name), "%s", db_col_text(s, 2));
    snprintf(e->schema, sizeof(e->schema), "%s", db_col_text(s, 3));
    e->current = db_col_int64(s, 4);
    if (e->current != id) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "enrollment %lld is no longer the device's "
                           "current enrollment (enrollment %lld replaced its "
                           "AK)",
                           (long long)id, (long long)e->current);
        goto out;
    }
    p = db_col_blob(s, 5, &e->len);
    e->body = malloc(e->len + 1);
    if (e->body == NULL || p == NULL) {
        st = core_oom(err);
        goto out;
    }
    memcpy(e->body, p, e->len);
    e->body[e->len] = '\0';

out:
    db_done(s);
    return st;
}

/*
 * Plan features, then the request's: a request feature named like a plan
 * feature overrides only the attributes it gives (quantity, valid_until)
 * and keeps the plan's others (docs/operations.md, "Features"). A name
 * given twice in one request is refused, as in a plan.
 */
static enum latch_status
issue_features(struct core *c, const struct core_issue_req *req, json_t **out,
               struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    struct db_stmt *s = NULL;
    json_t *fs = json_object();
    json_t *f;
    char until[LATCH_TIME_LEN];
    size_t i;
    bool has = false;

    *out = NULL;
    if (fs == NULL) {
        return core_oom(err);
    }
    st = features_future(req->features, req->nfeatures, err);
    if (st == LATCH_OK && req->has_valid_until &&
        req->valid_until <= core_now()) {
        latch_time_format(req->valid_until, until);
        st = latch_err_set(err, LATCH_E_USAGE,
                           "valid_until %s is not in the future", until);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    if (req->plan != NULL) {
        st = db_prepare(c->db,
                        "SELECT f.name, f.quantity, f.valid_until FROM plans p "
                        "JOIN plan_features f ON f.plan_id = p.id "
                        "WHERE p.name = ?",
                        &s, err);
        if (st != LATCH_OK) {
            goto out;
        }
        db_bind_text(s, 1, req->plan);
        for (;;) {
            st = db_step(s, &has, err);
            if (st != LATCH_OK || !has) {
                break;
            }
            f = json_pack("{s:b}", "enabled", 1);
            if (f != NULL && !db_col_is_null(s, 1)) {
                json_object_set_new(f, "quantity", core_jint(s, 1));
            }
            if (f != NULL && !db_col_is_null(s, 2)) {
                json_object_set_new(f, "valid_until", core_jtime(s, 2));
            }
            if (f == NULL || json_object_set_new(fs, db_col_text(s, 0), f)) {
                st = core_oom(err);
                break;
            }
        }
        db_done(s);
        s = NULL;
        if (st != LATCH_OK) {
            goto out;
        }
        if (json_object_size(fs) == 0) {
            st = latch_err_set(err, LATCH_E_NOT_FOUND,
                               "plan \"%s\": no such plan", req->plan);
            goto out;
        }
    }
    for (i = 0; i < req->nfeatures; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(req->features[j].name, req->features[i].name) == 0) {
                st = latch_err_set(err, LATCH_E_USAGE,
                                   "feature %s is given twice",
                                   req->features[i].name);
                goto out;
            }
        }
        f = json_object_get(fs, req->features[i].name);
        f = f != NULL ? json_deep_copy(f) : json_pack("{s:b}", "enabled", 1);
        if (f != NULL && req->features[i].has_quantity) {
            json_object_set_new(f, "quantity",
                                json_integer(req->features[i].quantity));
        }
        if (f != NULL && req->features[i].has_valid_until) {
            latch_time_format(req->features[i].valid_until, until);
            json_object_set_new(f, "valid_until", json_string(until));
        }
        if (f == NULL || json_object_set_new(fs, req->features[i].name, f)) {
            st = core_oom(err);
            goto out;
        }
    }
    if (json_object_size(fs) == 0) {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "a license needs at least one feature, from "
                           "a plan or given directly");
        goto out;
    }
    if (json_object_size(fs) > LATCH_FEATURES_MAX) {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "%zu features: a license holds at most %d",
                           json_object_size(fs), LATCH_FEATURES_MAX);
        goto out;
    }
    *out = fs;
    fs = NULL;

out:
    json_decref(fs);
    return st;
}

static enum latch_status
lookup_id(struct db *db, const char *sql, const char *name, const char *kind,
          int64_t *id, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(db, sql, &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, name);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND, "%s \"%s\": no such %s",
                           kind, name, kind);
    }
    if (st == LATCH_OK) {
        *id = db_col_int64(s, 0);
    }
    db_done(s);
    return st;
}

static void
new_uuid(char out[40])
{
    uint8_t r[16];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        memset(r, 0, sizeof(r));
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    snprintf(out, 40,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
}

/* Locks the device row and takes its next serial. */
static enum latch_status
next_serial(struct db *db, const char *device_id, int64_t enr_id,
            int64_t *serial, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(db,
                    "UPDATE devices SET last_serial = last_serial + 1 "
                    "WHERE device_id = ? AND current_enrollment = ? "
                    "RETURNING last_serial",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, device_id);
    db_bind_int64(s, 2, enr_id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "enrollment %lld is no longer the device's "
                           "current enrollment",
                           (long long)enr_id);
    }
    if (st == LATCH_OK) {
        *serial = db_col_int64(s, 0);
    }
    db_done(s);
    return st;
}

static enum latch_status
supersede(struct db *db, struct issue_tx *t, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    bool has = false;

    st = db_prepare(db,
                    "UPDATE licenses SET state = 'superseded', "
                    "revoked_at = ?, revoked_by = ?, reason = ? "
                    "WHERE device_id = ? AND state = 'active' RETURNING id",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_now());
    db_bind_text(s, 2, t->actor);
    db_bind_text(s, 3, "superseded by a newer license");
    db_bind_text(s, 4, t->device_id);
    for (;;) {
        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        json_array_append_new(t->superseded, json_integer(db_col_int64(s, 0)));
    }
    db_done(s);
    return st;
}

static enum latch_status
issue_body(struct issue_tx *t, int64_t now, json_t **out, struct latch_err *err)
{
    char issued[LATCH_TIME_LEN];
    char until[LATCH_TIME_LEN];
    char enr[24];
    enum latch_status st;

    latch_time_format(now, issued);
    snprintf(enr, sizeof(enr), "%lld", (long long)t->req->enrollment_id);
    st = core_pack(out, err, "{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:O, s:O}",
                   "license_id", t->license_id, "serial", (json_int_t)t->serial,
                   "issued_at", issued, "device_id", t->device_id,
                   "enrollment_id", enr, "customer", t->req->customer,
                   "valid_from", issued, "features", t->features, "binding",
                   t->binding);
    if (st == LATCH_OK && t->req->has_valid_until) {
        latch_time_format(t->req->valid_until, until);
        if (json_object_set_new(*out, "valid_until", json_string(until))) {
            st = core_oom(err);
        }
    }
    return st;
}

static enum latch_status
issue_insert(struct db *db, struct issue_tx *t, int64_t customer_id,
             int64_t plan_id, int64_t now, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    char *features = NULL;
    bool has = false;

    features = json_dumps(t->features, JSON_COMPACT | JSON_SORT_KEYS);
    if (features == NULL) {
        return core_oom(err);
    }
    st = db_prepare(db,
                    "INSERT INTO licenses (license_id, device_id, serial, "
                    "enrollment_id, customer_id, plan_id, state, issued_at, "
                    "issued_by, valid_from, valid_until, features, body, "
                    "sha256) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, "
                    "?, ?, ?) RETURNING id",
                    &s, err);
    if (st != LATCH_OK) {
        free(features);
        return st;
    }
    db_bind_text(s, 1, t->license_id);
    db_bind_text(s, 2, t->device_id);
    db_bind_int64(s, 3, t->serial);
    db_bind_int64(s, 4, t->req->enrollment_id);
    db_bind_int64(s, 5, customer_id);
    if (plan_id > 0) {
        db_bind_int64(s, 6, plan_id);
    } else {
        db_bind_null(s, 6);
    }
    db_bind_int64(s, 7, now);
    db_bind_text(s, 8, t->actor);
    db_bind_int64(s, 9, now);
    if (t->req->has_valid_until) {
        db_bind_int64(s, 10, t->req->valid_until);
    } else {
        db_bind_null(s, 10);
    }
    db_bind_text(s, 11, features);
    db_bind_blob(s, 12, t->file, t->filelen);
    db_bind_text(s, 13, t->sha);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && has) {
        t->id = db_col_int64(s, 0);
    }
    db_done(s);
    free(features);
    return st;
}

static enum latch_status
issue_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct issue_tx *t = arg;
    enum latch_status st;
    json_t *body = NULL;
    json_t *d = NULL;
    int64_t customer_id = 0;
    int64_t plan_id = 0;
    int64_t now = core_now();
    char object[40];

    free(t->file);
    t->file = NULL;
    json_array_clear(t->superseded);
    st = lookup_id(db, "SELECT id FROM customers WHERE name = ?",
                   t->req->customer, "customer", &customer_id, err);
    if (st == LATCH_OK && t->req->plan != NULL) {
        st = lookup_id(db, "SELECT id FROM plans WHERE name = ?", t->req->plan,
                       "plan", &plan_id, err);
    }
    if (st == LATCH_OK) {
        st = next_serial(db, t->device_id, t->req->enrollment_id, &t->serial,
                         err);
    }
    if (st == LATCH_OK && t->req->supersede) {
        st = supersede(db, t, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    new_uuid(t->license_id);
    st = issue_body(t, now, &body, err);
    if (st == LATCH_OK) {
        st = latch_license_sign(body, t->c->sign_key, t->c->sign_cert, &t->file,
                                &t->filelen, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    core_sha256_hex(t->file, t->filelen, t->sha);
    st = issue_insert(db, t, customer_id, plan_id, now, err);
    if (st != LATCH_OK) {
        goto out;
    }
    snprintf(object, sizeof(object), "license:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s, s:I, s:s, s:I, s:s, s:s, s:O}", "license_id",
                   t->license_id, "serial", (json_int_t)t->serial, "device_id",
                   t->device_id, "enrollment_id",
                   (json_int_t)t->req->enrollment_id, "customer",
                   t->req->customer, "sha256", t->sha, "superseded",
                   t->superseded);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "license.issue", object, d, err);
    }

out:
    json_decref(d);
    json_decref(body);
    return st;
}

/* The binding (activation proof) for an approved enrollment. */
static enum latch_status
issue_proof(struct core *c, const struct issue_enr *e, json_t **binding,
            struct latch_err *err)
{
    const struct binding_provider *prov = provider_find(e->schema);
    struct upload_info info;
    uint8_t secret[LATCH_SECRET_LEN];
    enum latch_status st;
    void *parsed = NULL;

    *binding = NULL;
    if (prov == NULL) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "identity_schema %s: no provider", e->schema);
    }
    st = prov->parse(e->body, e->len, &parsed, &info, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (RAND_priv_bytes(secret, sizeof(secret)) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "activation secret");
    } else {
        st = prov->make_proof(c, parsed, e->device_id, e->ak_name, secret,
                              sizeof(secret), binding, err);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    prov->free_parsed(parsed);
    return st;
}

/* Everything one license needs before its transaction. */
struct issue_prep {
    struct issue_enr e;
    struct issue_tx t;
    json_t *binding;
};

static void
prep_free(struct issue_prep *p)
{
    free(p->t.file);
    json_decref(p->t.features);
    json_decref(p->t.superseded);
    json_decref(p->binding);
    free(p->e.body);
    memset(p, 0, sizeof(*p));
}

static enum latch_status
prep_one(struct core *c, const char *actor, const struct core_issue_req *req,
         struct issue_prep *p, struct latch_err *err)
{
    enum latch_status st;

    memset(p, 0, sizeof(*p));
    if (req->customer == NULL || req->customer[0] == '\0') {
        return latch_err_set(err, LATCH_E_USAGE, "a customer is required");
    }
    st = issue_load(c->db, req->enrollment_id, &p->e, err);
    if (st == LATCH_OK) {
        st = issue_features(c, req, &p->t.features, err);
    }
    if (st == LATCH_OK) {
        st = issue_proof(c, &p->e, &p->binding, err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    p->t.c = c;
    p->t.actor = actor;
    p->t.req = req;
    p->t.binding = p->binding;
    p->t.device_id = p->e.device_id;
    p->t.superseded = json_array();
    return p->t.superseded != NULL ? LATCH_OK : core_oom(err);
}

struct issue_many {
    struct issue_prep *p;
    size_t n;
};

static enum latch_status
issue_many_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct issue_many *m = arg;
    enum latch_status st = LATCH_OK;
    size_t i;

    for (i = 0; i < m->n && st == LATCH_OK; i++) {
        st = issue_tx(db, &m->p[i].t, err);
        if (st != LATCH_OK && m->n > 1) {
            latch_err_prefix(err, "enrollment");
        }
    }
    return st;
}

static enum latch_status
issue_result(struct issue_prep *p, json_t **out, char **file, size_t *filelen,
             struct latch_err *err)
{
    enum latch_status st;

    st = core_pack(
        out, err, "{s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:O}", "id",
        (json_int_t)p->t.id, "license_id", p->t.license_id, "state", "active",
        "serial", (json_int_t)p->t.serial, "device_id", p->t.device_id,
        "enrollment_id", (json_int_t)p->t.req->enrollment_id, "customer",
        p->t.req->customer, "sha256", p->t.sha, "superseded", p->t.superseded);
    if (st == LATCH_OK) {
        *file = p->t.file;
        *filelen = p->t.filelen;
        p->t.file = NULL;
    }
    return st;
}

enum latch_status
core_license_issue_many(struct core *c, const char *actor,
                        const struct core_issue_req *reqs, size_t n,
                        struct core_issued *out, struct latch_err *err)
{
    struct issue_many m = {NULL, 0};
    enum latch_status st;
    size_t i;

    memset(out, 0, n * sizeof(*out));
    st = core_load_signing(c, err);
    if (st != LATCH_OK) {
        return st;
    }
    m.p = calloc(n > 0 ? n : 1, sizeof(*m.p));
    if (m.p == NULL) {
        return core_oom(err);
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        st = prep_one(c, actor, &reqs[i], &m.p[i], err);
        m.n = i + 1;
    }
    if (st == LATCH_OK) {
        st = db_transact(c->db, issue_many_tx, &m, err);
    }
    for (i = 0; i < m.n && st == LATCH_OK; i++) {
        st = issue_result(&m.p[i], &out[i].summary, &out[i].file,
                          &out[i].filelen, err);
    }
    if (st != LATCH_OK) {
        core_issued_free(out, n);
    }
    for (i = 0; i < m.n; i++) {
        prep_free(&m.p[i]);
    }
    free(m.p);
    return st;
}

void
core_issued_free(struct core_issued *out, size_t n)
{
    size_t i;

    for (i = 0; out != NULL && i < n; i++) {
        json_decref(out[i].summary);
        free(out[i].file);
        memset(&out[i], 0, sizeof(out[i]));
    }
}

enum latch_status
core_license_issue(struct core *c, const char *actor,
                   const struct core_issue_req *req, json_t **out, char **file,
                   size_t *filelen, struct latch_err *err)
{
    struct core_issued one;
    enum latch_status st;

    *out = NULL;
    *file = NULL;
    *filelen = 0;
    st = core_license_issue_many(c, actor, req, 1, &one, err);
    if (st == LATCH_OK) {
        *out = one.summary;
        *file = one.file;
        *filelen = one.filelen;
    }
    return st;
}

/* --- license views
 * ------------------------------------------------------------ */

static json_t *
lic_summary(struct db_stmt *s)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", (json_int_t)db_col_int64(s, 0), "license_id",
                     core_jtext(s, 1), "state", core_jtext(s, 2), "serial",
                     core_jint(s, 3), "device_id", core_jtext(s, 4),
                     "enrollment_id", core_jint(s, 5), "customer",
                     core_jtext(s, 6), "plan", core_jtext(s, 7), "issued_at",
                     core_jtime(s, 8), "valid_until", core_jtime(s, 9),
                     "sha256", core_jtext(s, 10));
}

/*
 * The license list query for a filter set, composed only from the constant
 * fragments below (no value ever enters the text).
 */
static enum latch_status
license_sql(const struct core_list_opts *opt, char *buf, size_t cap,
            struct latch_err *err)
{
    size_t n;

    n = (size_t)snprintf(buf, cap, "%s", "SELECT " LIC_COLS LIC_FROM);
    n += (size_t)snprintf(buf + n, cap - n, "%s",
                          opt->newest_first ? " WHERE l.id < ?"
                                            : " WHERE l.id > ?");
    if (opt->state != NULL) {
        n += (size_t)snprintf(buf + n, cap - n, "%s", " AND l.state = ?");
    }
    if (opt->device_id != NULL) {
        n += (size_t)snprintf(buf + n, cap - n, "%s", " AND l.device_id = ?");
    }
    if (opt->enrollment_id > 0) {
        n += (size_t)snprintf(buf + n, cap - n, "%s",
                              " AND l.enrollment_id = ?");
    }
    if (opt->customer != NULL) {
        n += (size_t)snprintf(buf + n, cap - n, "%s", " AND c.name = ?");
    }
    n += (size_t)snprintf(buf + n, cap - n, "%s",
                          opt->newest_first ? " ORDER BY l.id DESC LIMIT ?"
                                            : " ORDER BY l.id LIMIT ?");
    if (n >= cap) {
        return latch_err_set(err, LATCH_E_INTERNAL, "license query too long");
    }
    return LATCH_OK;
}

static const char *const lic_states[] = {"active", "revoked", "superseded",
                                         NULL};

enum latch_status
core_license_list(struct core *c, const struct core_list_opts *opt,
                  json_t **out, struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    char sql[768];
    int limit = core_limit(opt);
    int i = 1;

    *out = NULL;
    st = core_state_check(opt->state, lic_states, "license", err);
    if (st == LATCH_OK) {
        st = license_sql(opt, sql, sizeof(sql), err);
    }
    if (st == LATCH_OK) {
        st = db_prepare(c->db, sql, &s, err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, i++, core_after(opt));
    if (opt->state != NULL) {
        db_bind_text(s, i++, opt->state);
    }
    if (opt->device_id != NULL) {
        db_bind_text(s, i++, opt->device_id);
    }
    if (opt->enrollment_id > 0) {
        db_bind_int64(s, i++, opt->enrollment_id);
    }
    if (opt->customer != NULL) {
        db_bind_text(s, i++, opt->customer);
    }
    db_bind_int64(s, i, limit);
    st = core_run_list(s, limit, lic_summary, out, err);
    db_done(s);
    return st;
}

enum latch_status
core_license_show(struct core *c, int64_t id, json_t **out,
                  struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *obj = NULL;
    json_t *features;
    bool has = false;

    *out = NULL;
    st = db_prepare(c->db,
                    "SELECT " LIC_COLS ", l.features, l.revoked_at, "
                    "l.revoked_by, l.reason, l.issued_by, l.valid_from" LIC_FROM
                    " WHERE l.id = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "license %lld: no such license", (long long)id);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    obj = lic_summary(s);
    features = json_loads(
        db_col_text(s, 11) != NULL ? db_col_text(s, 11) : "{}", 0, NULL);
    if (obj == NULL ||
        json_object_update_new(
            obj, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "features",
                           features != NULL ? features : json_null(),
                           "revoked_at", core_jtime(s, 12), "revoked_by",
                           core_jtext(s, 13), "reason", core_jtext(s, 14),
                           "issued_by", core_jtext(s, 15), "valid_from",
                           core_jtime(s, 16))) != 0) {
        st = core_oom(err);
        goto out;
    }
    *out = obj;
    obj = NULL;

out:
    db_done(s);
    json_decref(obj);
    return st;
}

struct revoke_tx {
    const char *actor;
    int64_t id;
    const char *reason;
};

static enum latch_status
revoke_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct revoke_tx *t = arg;
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *d = NULL;
    char object[40];
    char prev[24];
    bool has = false;

    st = db_prepare(db, "SELECT state FROM licenses WHERE id = ?", &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, t->id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "license %lld: no such license", (long long)t->id);
    }
    if (st == LATCH_OK) {
        snprintf(prev, sizeof(prev), "%s", db_col_text(s, 0));
    }
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    if (strcmp(prev, "revoked") == 0) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "license %lld is revoked already",
                             (long long)t->id);
    }
    st = db_prepare(db,
                    "UPDATE licenses SET state = 'revoked', revoked_at = ?, "
                    "revoked_by = ?, reason = ? WHERE id = ? AND state = ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_now());
    db_bind_text(s, 2, t->actor);
    db_bind_text(s, 3, t->reason);
    db_bind_int64(s, 4, t->id);
    db_bind_text(s, 5, prev);
    st = db_step(s, &has, err);
    db_done(s);
    if (st != LATCH_OK) {
        return st;
    }
    snprintf(object, sizeof(object), "license:%lld", (long long)t->id);
    st = core_pack(&d, err, "{s:s, s:s}", "from", prev, "reason", t->reason);
    if (st == LATCH_OK) {
        st = core_audit_append(db, t->actor, "license.revoke", object, d, err);
    }
    json_decref(d);
    return st;
}

enum latch_status
core_license_revoke(struct core *c, const char *actor, int64_t id,
                    const char *reason, json_t **out, struct latch_err *err)
{
    struct revoke_tx t;
    enum latch_status st;

    *out = NULL;
    st = core_reason_check(reason, err);
    if (st != LATCH_OK) {
        return st;
    }
    t.actor = actor;
    t.id = id;
    t.reason = reason;
    st = db_transact(c->db, revoke_tx, &t, err);
    if (st == LATCH_OK) {
        st = core_license_show(c, id, out, err);
    }
    return st;
}

enum latch_status
core_license_export(struct core *c, int64_t id, char **file, size_t *filelen,
                    struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    const uint8_t *p;
    size_t len = 0;
    bool has = false;

    *file = NULL;
    *filelen = 0;
    st = db_prepare(c->db, "SELECT body FROM licenses WHERE id = ?", &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, id);
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "license %lld: no such license", (long long)id);
    }
    if (st == LATCH_OK) {
        p = db_col_blob(s, 0, &len);
        *file = malloc(len + 1);
        if (*file == NULL || p == NULL) {
            st = core_oom(err);
        } else {
            memcpy(*file, p, len);
            (*file)[len] = '\0';
            *filelen = len;
        }
    }
    db_done(s);
    return st;
}

/* --- devices ---------------------------------------------------------------
 */

#define DEV_COLS                                                               \
    "id, device_id, ek_template, tpm_manufacturer, tpm_model, "                \
    "current_enrollment, last_serial, first_seen"

static json_t *
dev_summary(struct db_stmt *s)
{
    return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)db_col_int64(s, 0), "device_id",
                     core_jtext(s, 1), "state", "active", "ek_template",
                     core_jtext(s, 2), "tpm_manufacturer", core_jtext(s, 3),
                     "tpm_model", core_jtext(s, 4), "current_enrollment",
                     core_jint(s, 5), "last_serial", core_jint(s, 6),
                     "first_seen", core_jtime(s, 7));
}

enum latch_status
core_device_list(struct core *c, const struct core_list_opts *opt, json_t **out,
                 struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    int limit = core_limit(opt);

    *out = NULL;
    st = db_prepare(c->db,
                    opt->newest_first ? "SELECT " DEV_COLS " FROM devices "
                                        "WHERE id < ? ORDER BY id DESC LIMIT ?"
                                      : "SELECT " DEV_COLS " FROM devices "
                                        "WHERE id > ? ORDER BY id LIMIT ?",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_int64(s, 1, core_after(opt));
    db_bind_int64(s, 2, limit);
    st = core_run_list(s, limit, dev_summary, out, err);
    db_done(s);
    return st;
}

static bool
is_number(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return i > 0 && i < 19;
}

enum latch_status
core_device_show(struct core *c, const char *key, json_t **out,
                 struct latch_err *err)
{
    struct core_list_opts opt;
    enum latch_status st;
    struct db_stmt *s = NULL;
    json_t *obj = NULL;
    json_t *page = NULL;
    char device_id[65];
    bool has = false;

    *out = NULL;
    st = db_prepare(
        c->db,
        is_number(key) ? "SELECT " DEV_COLS " FROM devices WHERE id = ?"
                       : "SELECT " DEV_COLS " FROM devices WHERE device_id = ?",
        &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (is_number(key)) {
        db_bind_int64(s, 1, strtoll(key, NULL, 10));
    } else {
        db_bind_text(s, 1, key);
    }
    st = db_step(s, &has, err);
    if (st == LATCH_OK && !has) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "device %.64s: no such device", key);
    }
    if (st == LATCH_OK) {
        obj = dev_summary(s);
        snprintf(device_id, sizeof(device_id), "%s", db_col_text(s, 1));
        if (obj == NULL) {
            st = core_oom(err);
        }
    }
    db_done(s);
    if (st != LATCH_OK) {
        goto out;
    }
    memset(&opt, 0, sizeof(opt));
    opt.device_id = device_id;
    opt.newest_first = true;
    st = core_enrollment_list(c, &opt, &page, err);
    if (st == LATCH_OK) {
        json_object_set(obj, "enrollments", json_object_get(page, "items"));
        json_decref(page);
        page = NULL;
        st = core_license_list(c, &opt, &page, err);
    }
    if (st == LATCH_OK) {
        json_object_set(obj, "licenses", json_object_get(page, "items"));
        *out = obj;
        obj = NULL;
    }

out:
    json_decref(page);
    json_decref(obj);
    return st;
}
