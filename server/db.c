/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * db.c: the SQL layer over SQLite and libpq. Statements are prepared once
 * per connection and cached by their (constant) text; `?` placeholders are
 * rewritten to $N for PostgreSQL. Results from PostgreSQL come as text and
 * bytea is unescaped on access.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "db.h"

#define DB_MAX_PARAMS     32
#define DB_CACHE_MAX      128
#define DB_TX_TRIES       20
#define DB_BUSY_MS        10000
#define DB_MIGRATE_LOCKID 7061746368

struct pg_param {
    char *val; /* NULL: SQL NULL */
    int len;
    int is_binary;
};

struct db_stmt {
    struct db *db;
    char *key; /* a copy of the SQL text (cache key) */
    bool in_use;
    enum latch_status bind_st;
    char bind_msg[128];

    /* SQLite */
    sqlite3_stmt *lite;
    int lite_rc; /* last sqlite3_step() result */
    bool lite_done;

    /* PostgreSQL */
    char pg_name[16];
    int nparams;
    struct pg_param params[DB_MAX_PARAMS];
    PGresult *res;
    bool executed;
    int row; /* current row, -1 before the first */
    uint8_t *blobs[DB_MAX_PARAMS];
};

struct db {
    enum db_kind kind;
    sqlite3 *lite;
    PGconn *pg;
    enum db_errkind errkind;
    bool in_tx;
    struct db_stmt *cache[DB_CACHE_MAX];
    size_t ncache;
    unsigned next_name;
};

static enum latch_status
lite_fail(struct db *db, struct latch_err *err, const char *what)
{
    int rc = sqlite3_extended_errcode(db->lite);
    int prim = rc & 0xff;

    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        db->errkind = DB_ERR_RETRY;
    } else if (rc == SQLITE_CONSTRAINT_UNIQUE ||
               rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        db->errkind = DB_ERR_UNIQUE;
    } else {
        db->errkind = DB_ERR_OTHER;
    }
    return latch_err_set(err, LATCH_E_IO, "database: %s: %s", what,
                         sqlite3_errmsg(db->lite));
}

static enum latch_status
pg_fail(struct db *db, const PGresult *res, struct latch_err *err,
        const char *what)
{
    const char *state = NULL;
    const char *msg = NULL;
    size_t n;
    char buf[256];

    if (res != NULL) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    }
    if (msg == NULL) {
        msg = PQerrorMessage(db->pg);
    }
    snprintf(buf, sizeof(buf), "%s", msg != NULL ? msg : "unknown error");
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
    if (state != NULL &&
        (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
         strcmp(state, "55P03") == 0)) {
        db->errkind = DB_ERR_RETRY;
    } else if (state != NULL && strcmp(state, "23505") == 0) {
        db->errkind = DB_ERR_UNIQUE;
    } else {
        db->errkind = DB_ERR_OTHER;
    }
    return latch_err_set(err, LATCH_E_IO, "database: %s: %s%s%s%s", what, buf,
                         state != NULL ? " (SQLSTATE " : "",
                         state != NULL ? state : "", state != NULL ? ")" : "");
}

#define DB_RESTORE_HINT                                                        \
    "restore it from backup, or run latchd init for a new server"

/* Only `latchd init` creates a database: a missing file is an error. */
static enum latch_status has_schema(struct db *db, const char *url,
                                    struct latch_err *err);

static enum latch_status
sqlite_exists(const char *path, struct latch_err *err)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) {
            return latch_err_set(err, LATCH_E_IO,
                                 "database %s is missing: " DB_RESTORE_HINT,
                                 path);
        }
        return latch_err_set(err, LATCH_E_IO, "database %s: %s", path,
                             strerror(errno));
    }
    return LATCH_OK;
}

static enum latch_status
open_sqlite(struct db *db, const char *path, bool create, struct latch_err *err)
{
    enum latch_status st;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc;

    if (create) {
        flags |= SQLITE_OPEN_CREATE;
    } else if ((st = sqlite_exists(path, err)) != LATCH_OK) {
        return st;
    }
    rc = sqlite3_open_v2(path, &db->lite, flags, NULL);
    if (rc != SQLITE_OK) {
        return latch_err_set(err, LATCH_E_IO, "database %s: %s", path,
                             db->lite != NULL ? sqlite3_errmsg(db->lite)
                                              : "cannot open");
    }
    sqlite3_extended_result_codes(db->lite, 1);
    sqlite3_busy_timeout(db->lite, DB_BUSY_MS);
    /* Before the pragmas: WAL mode would write a header into an empty file */
    if (!create && (st = has_schema(db, path, err)) != LATCH_OK) {
        return st;
    }
    /*
     * WAL lets readers run beside the one writer; synchronous=FULL makes a
     * commit durable before latchd writes the file that depends on it.
     * temp_store=MEMORY keeps statement journals (the undo of one statement
     * inside a transaction, never needed after a crash) in memory: in a
     * file they grew by ~5 pages per license of a bulk transaction.
     */
    st = db_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                 "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
                 err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, path);
    }
    return st;
}

static enum latch_status
open_pg(struct db *db, const char *url, struct latch_err *err)
{
    PGresult *res;

    db->pg = PQconnectdb(url);
    if (db->pg == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
    }
    if (PQstatus(db->pg) != CONNECTION_OK) {
        return pg_fail(db, NULL, err, "connect");
    }
    res = PQexec(db->pg, "SET client_min_messages = warning");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_fail(db, res, err, "set-up");
        PQclear(res);
        return LATCH_E_IO;
    }
    PQclear(res);
    return LATCH_OK;
}

/* Connects with url's parameters, but to the database named dbname. */
static PGconn *
pg_connect_to(PQconninfoOption *opts, const char *dbname)
{
    const char *keys[64];
    const char *vals[64];
    PQconninfoOption *o;
    size_t n = 0;

    for (o = opts; o->keyword != NULL && n < 63; o++) {
        if (o->val == NULL || strcmp(o->keyword, "dbname") == 0) {
            continue;
        }
        keys[n] = o->keyword;
        vals[n] = o->val;
        n++;
    }
    keys[n] = "dbname";
    vals[n] = dbname;
    keys[n + 1] = NULL;
    vals[n + 1] = NULL;
    return PQconnectdbParams(keys, vals, 0);
}

static const char *
conninfo_get(PQconninfoOption *opts, const char *key)
{
    PQconninfoOption *o;

    for (o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, key) == 0) {
            return o->val;
        }
    }
    return NULL;
}

/* CREATE DATABASE takes no parameters: the name is quoted by libpq. */
static enum latch_status
pg_create_named(PGconn *pg, const char *name, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    const char *params[1] = {name};
    PGresult *res = NULL;
    char *ident = NULL;
    char *sql = NULL;
    size_t len;

    res = PQexecParams(pg, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                       NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        st = latch_err_set(err, LATCH_E_IO, "database: %s", PQerrorMessage(pg));
        goto out;
    }
    if (PQntuples(res) > 0) {
        goto out;
    }
    ident = PQescapeIdentifier(pg, name, strlen(name));
    len = ident == NULL ? 0 : strlen(ident) + 32;
    sql = ident == NULL ? NULL : malloc(len);
    if (sql == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
        goto out;
    }
    snprintf(sql, len, "CREATE DATABASE %s", ident);
    PQclear(res);
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        st = latch_err_set(err, LATCH_E_IO, "database: create %s: %s", name,
                           PQerrorMessage(pg));
    }

out:
    PQclear(res);
    PQfreemem(ident);
    free(sql);
    return st;
}

enum latch_status
db_create_database(const char *url, struct latch_err *err)
{
    enum latch_status st;
    PQconninfoOption *opts = NULL;
    PGconn *pg = NULL;
    const char *name;
    char *perr = NULL;

    if (strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0) {
        return LATCH_OK;
    }
    opts = PQconninfoParse(url, &perr);
    if (opts == NULL) {
        st = latch_err_set(err, LATCH_E_USAGE, "database url: %s",
                           perr != NULL ? perr : "out of memory");
        PQfreemem(perr);
        return st;
    }
    name = conninfo_get(opts, "dbname");
    if (name == NULL || strcmp(name, "postgres") == 0) {
        PQconninfoFree(opts);
        return LATCH_OK;
    }
    pg = pg_connect_to(opts, "postgres");
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        st = latch_err_set(err, LATCH_E_IO,
                           "database: connect to create %s: %s", name,
                           pg != NULL ? PQerrorMessage(pg) : "out of memory");
    } else {
        st = pg_create_named(pg, name, err);
    }
    PQfinish(pg);
    PQconninfoFree(opts);
    return st;
}

static enum latch_status
open_any(const char *url, bool create, struct db **out, struct latch_err *err)
{
    enum latch_status st;
    struct db *db = NULL;

    *out = NULL;
    db = calloc(1, sizeof(*db));
    if (db == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
    }
    if (strncmp(url, "sqlite:", 7) == 0 && url[7] != '\0') {
        db->kind = DB_SQLITE;
        st = open_sqlite(db, url + 7, create, err);
    } else if (strncmp(url, "postgresql://", 13) == 0 ||
               strncmp(url, "postgres://", 11) == 0) {
        db->kind = DB_POSTGRES;
        st = open_pg(db, url, err);
        if (st == LATCH_OK && !create) {
            st = has_schema(db, "(PostgreSQL)", err);
        }
    } else {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "database url must start with sqlite: or "
                           "postgresql://");
    }
    if (st != LATCH_OK) {
        db_close(db);
        return st;
    }
    *out = db;
    return LATCH_OK;
}

/*
 * LATCH_OK when the database holds latchd's schema (init migrated it);
 * name: the file or "(PostgreSQL)" for the message.
 */
static enum latch_status
has_schema(struct db *db, const char *name, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    enum latch_status rc;
    bool row = false;

    rc = db_prepare(db,
                    db_sql(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'schema_migrations'",
                           "SELECT 1 WHERE to_regclass('schema_migrations') "
                           "IS NOT NULL"),
                    &st, err);
    if (rc == LATCH_OK) {
        rc = db_step(st, &row, err);
    }
    db_done(st);
    if (rc == LATCH_OK && !row) {
        rc = latch_err_set(
            err, LATCH_E_IO,
            "database %s is empty (no latchd schema): " DB_RESTORE_HINT, name);
    }
    return rc;
}

enum latch_status
db_open(const char *url, struct db **out, struct latch_err *err)
{
    return open_any(url, false, out, err);
}

enum latch_status
db_open_new(const char *url, struct db **out, struct latch_err *err)
{
    return open_any(url, true, out, err);
}

static void
stmt_clear(struct db_stmt *st)
{
    int i;

    for (i = 0; i < DB_MAX_PARAMS; i++) {
        free(st->params[i].val);
        st->params[i].val = NULL;
        st->params[i].len = 0;
        st->params[i].is_binary = 0;
        PQfreemem(st->blobs[i]);
        st->blobs[i] = NULL;
    }
    PQclear(st->res);
    st->res = NULL;
    st->executed = false;
    st->row = -1;
    st->bind_st = LATCH_OK;
    st->bind_msg[0] = '\0';
    st->lite_done = false;
    st->lite_rc = SQLITE_OK;
    if (st->lite != NULL) {
        sqlite3_reset(st->lite);
        sqlite3_clear_bindings(st->lite);
    }
}

static void
stmt_free(struct db_stmt *st)
{
    if (st == NULL) {
        return;
    }
    stmt_clear(st);
    sqlite3_finalize(st->lite);
    free(st->key);
    free(st);
}

void
db_close(struct db *db)
{
    size_t i;

    if (db == NULL) {
        return;
    }
    for (i = 0; i < db->ncache; i++) {
        stmt_free(db->cache[i]);
    }
    if (db->lite != NULL) {
        sqlite3_close_v2(db->lite);
    }
    if (db->pg != NULL) {
        PQfinish(db->pg);
    }
    free(db);
}

enum db_kind
db_kind(const struct db *db)
{
    return db->kind;
}

const char *
db_sql(const struct db *db, const char *sqlite_sql, const char *postgres_sql)
{
    return db->kind == DB_SQLITE ? sqlite_sql : postgres_sql;
}

enum db_errkind
db_last_errkind(const struct db *db)
{
    return db->errkind;
}

enum latch_status
db_exec(struct db *db, const char *sql, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    PGresult *res;
    char *msg = NULL;

    if (db->kind == DB_SQLITE) {
        if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
            st = lite_fail(db, err, "exec");
        }
        sqlite3_free(msg);
        return st;
    }
    res = PQexec(db->pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        PQresultStatus(res) != PGRES_TUPLES_OK) {
        st = pg_fail(db, res, err, "exec");
    }
    PQclear(res);
    return st;
}

/*
 * Rewrites `?` placeholders as $1..$N, leaving quoted literals and
 * identifiers alone. *nparams receives N.
 */
static char *
pg_translate(const char *sql, int *nparams)
{
    size_t len = strlen(sql);
    size_t cap = len + 1;
    size_t o = 0;
    char *out;
    char quote = 0;
    int n = 0;
    int w;
    const char *p;

    for (p = sql; *p != '\0'; p++) {
        if (*p == '?') {
            cap += 4;
        }
    }
    out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    for (p = sql; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == quote) {
                quote = 0;
            }
            out[o++] = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            out[o++] = *p;
        } else if (*p == '?') {
            n++;
            w = snprintf(out + o, cap - o, "$%d", n);
            if (w < 0 || (size_t)w >= cap - o) {
                free(out);
                return NULL;
            }
            o += (size_t)w;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    *nparams = n;
    return out;
}

static enum latch_status
stmt_create(struct db *db, const char *sql, struct db_stmt **out,
            struct latch_err *err)
{
    enum latch_status st = LATCH_E_IO;
    struct db_stmt *s;
    PGresult *res = NULL;
    char *text = NULL;

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
    }
    s->db = db;
    s->key = strdup(sql);
    s->row = -1;
    if (s->key == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
        goto out;
    }
    if (db->kind == DB_SQLITE) {
        if (sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT,
                               &s->lite, NULL) != SQLITE_OK) {
            st = lite_fail(db, err, "prepare");
            goto out;
        }
        s->nparams = sqlite3_bind_parameter_count(s->lite);
    } else {
        text = pg_translate(sql, &s->nparams);
        if (text == NULL) {
            st = latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
            goto out;
        }
        if (s->nparams > DB_MAX_PARAMS) {
            st = latch_err_set(err, LATCH_E_INTERNAL,
                               "database: %d parameters, the limit is %d",
                               s->nparams, DB_MAX_PARAMS);
            goto out;
        }
        snprintf(s->pg_name, sizeof(s->pg_name), "s%u", db->next_name++);
        res = PQprepare(db->pg, s->pg_name, text, s->nparams, NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            st = pg_fail(db, res, err, "prepare");
            goto out;
        }
    }
    *out = s;
    s = NULL;
    st = LATCH_OK;

out:
    PQclear(res);
    free(text);
    stmt_free(s);
    return st;
}

enum latch_status
db_prepare(struct db *db, const char *sql, struct db_stmt **out,
           struct latch_err *err)
{
    enum latch_status st;
    struct db_stmt *s = NULL;
    size_t i;

    *out = NULL;
    for (i = 0; i < db->ncache; i++) {
        s = db->cache[i];
        if (!s->in_use && strcmp(s->key, sql) == 0) {
            s->in_use = true;
            *out = s;
            return LATCH_OK;
        }
    }
    st = stmt_create(db, sql, &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    s->in_use = true;
    if (db->ncache < DB_CACHE_MAX) {
        db->cache[db->ncache++] = s;
    }
    *out = s;
    return LATCH_OK;
}

static bool
bind_ok(struct db_stmt *st, int idx)
{
    if (st->bind_st != LATCH_OK) {
        return false;
    }
    if (idx < 1 || idx > st->nparams) {
        st->bind_st = LATCH_E_INTERNAL;
        snprintf(st->bind_msg, sizeof(st->bind_msg),
                 "parameter %d out of range 1..%d", idx, st->nparams);
        return false;
    }
    return true;
}

static void
bind_fail(struct db_stmt *st, const char *what)
{
    st->bind_st = LATCH_E_NOMEM;
    snprintf(st->bind_msg, sizeof(st->bind_msg), "bind %s failed", what);
}

static void
pg_set(struct db_stmt *st, int idx, const void *p, size_t len, int binary)
{
    struct pg_param *pp = &st->params[idx - 1];

    free(pp->val);
    pp->val = NULL;
    pp->len = 0;
    pp->is_binary = binary;
    if (p == NULL) {
        return;
    }
    if (len > INT32_MAX) {
        bind_fail(st, "(too long)");
        return;
    }
    pp->val = malloc(len + 1);
    if (pp->val == NULL) {
        bind_fail(st, "(memory)");
        return;
    }
    memcpy(pp->val, p, len);
    pp->val[len] = '\0';
    pp->len = (int)len;
}

void
db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    char buf[24];
    int n;

    if (!bind_ok(st, idx)) {
        return;
    }
    if (st->lite != NULL) {
        if (sqlite3_bind_int64(st->lite, idx, v) != SQLITE_OK) {
            bind_fail(st, "int64");
        }
        return;
    }
    n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    pg_set(st, idx, buf, (size_t)n, 0);
}

void
db_bind_text(struct db_stmt *st, int idx, const char *s)
{
    if (!bind_ok(st, idx)) {
        return;
    }
    if (s == NULL) {
        db_bind_null(st, idx);
        return;
    }
    if (st->lite != NULL) {
        if (sqlite3_bind_text(st->lite, idx, s, -1, SQLITE_TRANSIENT) !=
            SQLITE_OK) {
            bind_fail(st, "text");
        }
        return;
    }
    pg_set(st, idx, s, strlen(s), 0);
}

void
db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
    static const uint8_t empty[1];

    if (!bind_ok(st, idx)) {
        return;
    }
    if (p == NULL) {
        p = empty;
        len = 0;
    }
    if (st->lite != NULL) {
        if (sqlite3_bind_blob64(st->lite, idx, p, len, SQLITE_TRANSIENT) !=
            SQLITE_OK) {
            bind_fail(st, "blob");
        }
        return;
    }
    pg_set(st, idx, p, len, 1);
}

void
db_bind_null(struct db_stmt *st, int idx)
{
    if (!bind_ok(st, idx)) {
        return;
    }
    if (st->lite != NULL) {
        sqlite3_bind_null(st->lite, idx);
        return;
    }
    pg_set(st, idx, NULL, 0, 0);
}

static enum latch_status
pg_execute(struct db_stmt *st, struct latch_err *err)
{
    const char *vals[DB_MAX_PARAMS];
    int lens[DB_MAX_PARAMS];
    int fmts[DB_MAX_PARAMS];
    ExecStatusType es;
    int i;

    for (i = 0; i < st->nparams; i++) {
        vals[i] = st->params[i].val;
        lens[i] = st->params[i].len;
        fmts[i] = st->params[i].is_binary;
    }
    st->res = PQexecPrepared(st->db->pg, st->pg_name, st->nparams, vals, lens,
                             fmts, 0);
    st->executed = true;
    es = PQresultStatus(st->res);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        return pg_fail(st->db, st->res, err, "query");
    }
    return LATCH_OK;
}

enum latch_status
db_step(struct db_stmt *st, bool *has_row, struct latch_err *err)
{
    enum latch_status rc;
    int i;

    *has_row = false;
    if (st->bind_st != LATCH_OK) {
        st->db->errkind = DB_ERR_OTHER;
        return latch_err_set(err, st->bind_st, "database: %s", st->bind_msg);
    }
    if (st->lite != NULL) {
        if (st->lite_done) {
            return LATCH_OK;
        }
        st->lite_rc = sqlite3_step(st->lite);
        if (st->lite_rc == SQLITE_ROW) {
            *has_row = true;
            st->db->errkind = DB_ERR_NONE;
            return LATCH_OK;
        }
        st->lite_done = true;
        if (st->lite_rc == SQLITE_DONE) {
            st->db->errkind = DB_ERR_NONE;
            return LATCH_OK;
        }
        return lite_fail(st->db, err, "step");
    }
    if (!st->executed) {
        rc = pg_execute(st, err);
        if (rc != LATCH_OK) {
            return rc;
        }
        st->db->errkind = DB_ERR_NONE;
    }
    for (i = 0; i < DB_MAX_PARAMS; i++) {
        PQfreemem(st->blobs[i]);
        st->blobs[i] = NULL;
    }
    if (st->row + 1 < PQntuples(st->res)) {
        st->row++;
        *has_row = true;
    }
    return LATCH_OK;
}

bool
db_col_is_null(struct db_stmt *st, int col)
{
    if (st->lite != NULL) {
        return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
    }
    if (st->res == NULL || st->row < 0 || col >= PQnfields(st->res)) {
        return true;
    }
    return PQgetisnull(st->res, st->row, col) != 0;
}

int64_t
db_col_int64(struct db_stmt *st, int col)
{
    const char *s;
    char *end = NULL;
    long long v;

    if (st->lite != NULL) {
        return sqlite3_column_int64(st->lite, col);
    }
    if (db_col_is_null(st, col)) {
        return 0;
    }
    s = PQgetvalue(st->res, st->row, col);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        return 0;
    }
    return (int64_t)v;
}

const char *
db_col_text(struct db_stmt *st, int col)
{
    if (st->lite != NULL) {
        return (const char *)sqlite3_column_text(st->lite, col);
    }
    if (db_col_is_null(st, col)) {
        return NULL;
    }
    return PQgetvalue(st->res, st->row, col);
}

const uint8_t *
db_col_blob(struct db_stmt *st, int col, size_t *len)
{
    static const uint8_t empty[1];
    const void *p;
    size_t n = 0;

    *len = 0;
    if (st->lite != NULL) {
        p = sqlite3_column_blob(st->lite, col);
        *len = (size_t)sqlite3_column_bytes(st->lite, col);
        return p != NULL ? p : empty;
    }
    if (db_col_is_null(st, col) || col >= DB_MAX_PARAMS) {
        return NULL;
    }
    PQfreemem(st->blobs[col]);
    st->blobs[col] = PQunescapeBytea(
        (const unsigned char *)PQgetvalue(st->res, st->row, col), &n);
    if (st->blobs[col] == NULL) {
        return NULL;
    }
    *len = n;
    return st->blobs[col];
}

int64_t
db_changes(struct db_stmt *st)
{
    const char *s;

    if (st->lite != NULL) {
        return sqlite3_changes64(st->db->lite);
    }
    if (st->res == NULL) {
        return 0;
    }
    s = PQcmdTuples(st->res);
    return s[0] != '\0' ? strtoll(s, NULL, 10) : 0;
}

void
db_done(struct db_stmt *st)
{
    size_t i;

    if (st == NULL) {
        return;
    }
    stmt_clear(st);
    st->in_use = false;
    for (i = 0; i < st->db->ncache; i++) {
        if (st->db->cache[i] == st) {
            return;
        }
    }
    stmt_free(st); /* not cached: the cache was full */
}

enum latch_status
db_begin(struct db *db, struct latch_err *err)
{
    enum latch_status st;

    if (db->in_tx) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "database: transaction already open");
    }
    st = db_exec(db, db_sql(db, "BEGIN IMMEDIATE", "BEGIN"), err);
    if (st == LATCH_OK) {
        db->in_tx = true;
    }
    return st;
}

enum latch_status
db_commit(struct db *db, struct latch_err *err)
{
    enum latch_status st;

    st = db_exec(db, "COMMIT", err);
    if (st != LATCH_OK) {
        db_rollback(db);
        return st;
    }
    db->in_tx = false;
    return LATCH_OK;
}

void
db_rollback(struct db *db)
{
    struct latch_err ignored;
    enum db_errkind saved = db->errkind;
    size_t i;

    /* Statements still stepping would keep SQLite's read lock. */
    for (i = 0; i < db->ncache; i++) {
        if (db->cache[i]->lite != NULL) {
            sqlite3_reset(db->cache[i]->lite);
        }
    }
    if (db->kind == DB_SQLITE && sqlite3_get_autocommit(db->lite)) {
        db->in_tx = false;
        return;
    }
    if (db_exec(db, "ROLLBACK", &ignored) != LATCH_OK) {
        (void)0; /* nothing more to do: the connection resets on COMMIT */
    }
    db->errkind = saved;
    db->in_tx = false;
}

static void
backoff(int attempt)
{
    struct timespec ts;
    unsigned int r = 0;
    long ms;

    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
        r = (unsigned int)attempt * 7919u;
    }
    ms = 2L << (attempt < 6 ? attempt : 6);
    ms = ms / 2 + (long)(r % (unsigned int)ms);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        continue;
    }
}

enum latch_status
db_transact(struct db *db, db_tx_fn fn, void *arg, struct latch_err *err)
{
    enum latch_status st = LATCH_E_INTERNAL;
    int attempt;

    for (attempt = 0; attempt < DB_TX_TRIES; attempt++) {
        db->errkind = DB_ERR_NONE;
        st = db_begin(db, err);
        if (st == LATCH_OK) {
            st = fn(db, arg, err);
        }
        if (st == LATCH_OK) {
            st = db_commit(db, err);
        }
        if (st == LATCH_OK) {
            return LATCH_OK;
        }
        db_rollback(db);
        if (db->errkind != DB_ERR_RETRY) {
            return st;
        }
        backoff(attempt);
    }
    latch_err_prefix(err, "gave up after repeated conflicts");
    return st;
}

/* --- migrations ---------------------------------------------------------- */

/* Replaces every @ID@ with the driver's auto-increment key column. */
static char *
migration_text(const struct db *db, const char *sql)
{
    const char *id = db->kind == DB_SQLITE
                         ? "INTEGER PRIMARY KEY"
                         : "BIGINT GENERATED BY DEFAULT AS IDENTITY "
                           "PRIMARY KEY";
    size_t idlen = strlen(id);
    size_t n = 0;
    size_t o = 0;
    const char *p;
    char *out;

    for (p = strstr(sql, "@ID@"); p != NULL; p = strstr(p + 4, "@ID@")) {
        n++;
    }
    out = malloc(strlen(sql) + n * idlen + 1);
    if (out == NULL) {
        return NULL;
    }
    for (p = sql; *p != '\0';) {
        if (strncmp(p, "@ID@", 4) == 0) {
            memcpy(out + o, id, idlen);
            o += idlen;
            p += 4;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

struct migrate_one {
    const struct db_migration *m;
    bool applied;
};

static enum latch_status
migrate_lock(struct db *db, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    enum latch_status rc;
    bool row;

    if (db->kind == DB_SQLITE) {
        return LATCH_OK; /* BEGIN IMMEDIATE serializes already */
    }
    rc = db_prepare(db, "SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))", &st,
                    err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, DB_MIGRATE_LOCKID);
    rc = db_step(st, &row, err);
    db_done(st);
    return rc;
}

static enum latch_status
migrate_table_tx(struct db *db, void *arg, struct latch_err *err)
{
    enum latch_status rc;

    (void)arg;
    rc = migrate_lock(db, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                   err);
}

static enum latch_status
migrate_one_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct migrate_one *mo = arg;
    struct db_stmt *st = NULL;
    enum latch_status rc;
    char *text = NULL;
    bool row = false;

    mo->applied = false;
    rc = migrate_lock(db, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    rc = db_prepare(db, "SELECT 1 FROM schema_migrations WHERE name = ?", &st,
                    err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, mo->m->name);
    rc = db_step(st, &row, err);
    db_done(st);
    st = NULL;
    if (rc != LATCH_OK || row) {
        goto out;
    }
    text = migration_text(db, mo->m->sql);
    if (text == NULL) {
        rc = latch_err_set(err, LATCH_E_NOMEM, "database: out of memory");
        goto out;
    }
    rc = db_exec(db, text, err);
    if (rc != LATCH_OK) {
        latch_err_prefix(err, mo->m->name);
        goto out;
    }
    rc = db_prepare(db,
                    "INSERT INTO schema_migrations (name, applied_at) "
                    "VALUES (?, ?)",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, mo->m->name);
    db_bind_int64(st, 2, (int64_t)time(NULL));
    rc = db_step(st, &row, err);
    mo->applied = rc == LATCH_OK;

out:
    db_done(st);
    free(text);
    return rc;
}

enum latch_status
db_migrate(struct db *db, struct latch_err *err)
{
    enum latch_status rc;
    struct migrate_one mo;
    size_t i;

    rc = db_transact(db, migrate_table_tx, NULL, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    for (i = 0; latch_migrations[i].name != NULL; i++) {
        mo.m = &latch_migrations[i];
        rc = db_transact(db, migrate_one_tx, &mo, err);
        if (rc != LATCH_OK) {
            return rc;
        }
    }
    return LATCH_OK;
}
