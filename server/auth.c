/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * auth.c: users, sessions, API tokens and the sign-in throttle on top of
 * db.h. Passwords are hashed with argon2id (libargon2) at the parameters
 * OWASP names for interactive logins (19 MiB, 2 passes); session ids and
 * tokens are stored only as SHA-256 and wiped from our buffers after use.
 */
#include "auth.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "codec.h"
#include "core.h"

#define ARGON_T       2
#define ARGON_M_KIB   19456
#define ARGON_P       1
#define ARGON_SALT    16
#define ARGON_HASH    32
#define ARGON_ENC_MAX 160
#define HEX256_LEN    65
#define TOUCH_EVERY   60 /* most seconds between last_seen writes */
#define KEY_MAX       (AUTH_NAME_MAX + 64) /* "user:NAME", "addr:IP" */

static const char *const role_names[] = {"viewer", "approver", "admin"};

const char *
auth_role_str(enum auth_role r)
{
    if ((int)r < 0 || (size_t)r >= sizeof(role_names) / sizeof(*role_names)) {
        return "unknown";
    }
    return role_names[r];
}

enum latch_status
auth_role_parse(const char *s, enum auth_role *out, struct latch_err *err)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(*role_names); i++) {
        if (s != NULL && strcmp(s, role_names[i]) == 0) {
            *out = (enum auth_role)i;
            return LATCH_OK;
        }
    }
    return latch_err_set(err, LATCH_E_USAGE,
                         "role '%s': expected viewer, approver or admin",
                         s != NULL ? s : "");
}

static bool
role_from_db(const char *s, enum auth_role *out)
{
    return auth_role_parse(s, out, NULL) == LATCH_OK;
}

enum latch_status
auth_random_hex(char *out, size_t n, struct latch_err *err)
{
    uint8_t raw[32];

    if (n > sizeof(raw)) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "auth: %zu random bytes asked, at most 32", n);
    }
    if (RAND_bytes(raw, (int)n) != 1) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "auth: RAND_bytes");
    }
    latch_hex_encode(raw, n, out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return LATCH_OK;
}

static enum latch_status
sha256_hex(const char *s, char out[HEX256_LEN], struct latch_err *err)
{
    uint8_t md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != sizeof(md)) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "auth: SHA-256");
    }
    latch_hex_encode(md, sizeof(md), out);
    return LATCH_OK;
}

static bool
is_hex(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return i == len && s[i] == '\0';
}

/*
 * Looks up the row whose SHA-256 column (the one parameter of sql) matches
 * the hash of secret. Returns LATCH_OK with *out on that row (the caller
 * calls db_done) or NULL when there is none.
 */
static enum latch_status
find_by_hash(struct db *db, const char *sql, const char *secret,
             struct db_stmt **out, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    char hash[HEX256_LEN];
    bool row = false;
    enum latch_status rc;

    *out = NULL;
    rc = sha256_hex(secret, hash, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    rc = db_prepare(db, sql, &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, hash);
    rc = db_step(st, &row, err);
    if (rc != LATCH_OK || !row) {
        db_done(st);
        return rc;
    }
    *out = st;
    return LATCH_OK;
}

/* Runs a statement with two integer parameters and no result rows. */
static enum latch_status
exec_id(struct db *db, const char *sql, int64_t a, int64_t b,
        struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db, sql, &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, a);
    db_bind_int64(st, 2, b);
    rc = db_step(st, &row, err);
    db_done(st);
    return rc;
}

/* A user's state in lists and answers: "active" or "disabled". */
static const char *
user_state(bool disabled)
{
    return disabled ? "disabled" : "active";
}

static enum latch_status
check_name(const char *name, struct latch_err *err)
{
    size_t len = name != NULL ? strlen(name) : 0;
    enum latch_status rc;

    rc = core_text_check("user name", name, AUTH_NAME_MAX, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9');

        if (!alnum &&
            (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-'))) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "user name: '%c' at position %zu: only "
                                 "letters, digits and ._@- (not first) are "
                                 "allowed",
                                 c, i + 1);
        }
    }
    return LATCH_OK;
}

/*
 * argon2 takes ARGON_M_KIB per hash from malloc. glibc raises its mmap
 * threshold to the size of the first such block once it is freed, so
 * later ones come from the calling thread's arena, whose top chunk is not
 * given back (not even by malloc_trim()): every HTTP thread that hashed
 * once kept 19 MiB. A fixed threshold keeps every block from 1 MiB up
 * mmap()ed, so the memory goes back to the system after each hash.
 */
void
auth_memory_setup(void)
{
    (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

static enum latch_status
hash_password(const char *password, char *enc, size_t enclen,
              struct latch_err *err)
{
    uint8_t salt[ARGON_SALT];
    size_t plen = strlen(password);
    int rc;

    if (plen < AUTH_PASSWORD_MIN || plen > AUTH_PASSWORD_MAX) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "password: %d to %d bytes (got %zu)",
                             AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX, plen);
    }
    if (argon2_encodedlen(ARGON_T, ARGON_M_KIB, ARGON_P, ARGON_SALT, ARGON_HASH,
                          Argon2_id) > enclen) {
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "auth: argon2 encoding buffer too small");
    }
    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "auth: RAND_bytes");
    }
    rc = argon2id_hash_encoded(ARGON_T, ARGON_M_KIB, ARGON_P, password, plen,
                               salt, sizeof(salt), ARGON_HASH, enc, enclen);
    if (rc != ARGON2_OK) {
        return latch_err_set(err, LATCH_E_CRYPTO, "auth: argon2id: %s",
                             argon2_error_message(rc));
    }
    return LATCH_OK;
}

/* A hash of a random password, verified against for unknown names. */
static char dummy_hash[ARGON_ENC_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
    char pw[33];

    if (auth_random_hex(pw, 16, NULL) != LATCH_OK ||
        hash_password(pw, dummy_hash, sizeof(dummy_hash), NULL) != LATCH_OK) {
        dummy_hash[0] = '\0';
    }
    OPENSSL_cleanse(pw, sizeof(pw));
}

static bool
password_matches(const char *enc, const char *password)
{
    size_t plen = strlen(password);
    int rc;

    if (plen > AUTH_PASSWORD_MAX || enc == NULL || enc[0] == '\0') {
        return false;
    }
    rc = argon2id_verify(enc, password, plen);
    return rc == ARGON2_OK;
}

/* --- users --------------------------------------------------------------- */

struct user_add_tx {
    const char *actor;
    const char *name;
    enum auth_role role;
    const char *hash;
    int64_t id;
};

static enum latch_status
user_add_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct user_add_tx *t = arg;
    struct db_stmt *st = NULL;
    json_t *details = NULL;
    char object[AUTH_NAME_MAX + 8];
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db,
                    "INSERT INTO users (name, role, password_hash, disabled, "
                    "created_at, created_by) VALUES (?, ?, ?, 0, ?, ?) "
                    "RETURNING id",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, t->name);
    db_bind_text(st, 2, auth_role_str(t->role));
    db_bind_text(st, 3, t->hash);
    db_bind_int64(st, 4, (int64_t)time(NULL));
    db_bind_text(st, 5, t->actor);
    rc = db_step(st, &row, err);
    if (rc != LATCH_OK) {
        if (db_last_errkind(db) == DB_ERR_UNIQUE) {
            rc = latch_err_set(err, LATCH_E_POLICY, "user '%s' exists already",
                               t->name);
        }
        goto out;
    }
    t->id = row ? db_col_int64(st, 0) : 0;
    db_done(st);
    st = NULL;
    snprintf(object, sizeof(object), "user:%s", t->name);
    details = json_pack("{s:s}", "role", auth_role_str(t->role));
    rc = core_audit_append(db, t->actor, "user.add", object, details, err);

out:
    db_done(st);
    json_decref(details);
    return rc;
}

enum latch_status
auth_user_add(struct db *db, const char *actor, const char *name,
              enum auth_role role, const char *password, json_t **out,
              struct latch_err *err)
{
    struct user_add_tx t = {actor, name, role, NULL, 0};
    char enc[ARGON_ENC_MAX];
    enum latch_status rc;

    *out = NULL;
    rc = check_name(name, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    rc = hash_password(password, enc, sizeof(enc), err);
    if (rc != LATCH_OK) {
        return rc;
    }
    t.hash = enc;
    rc = db_transact(db, user_add_fn, &t, err);
    OPENSSL_cleanse(enc, sizeof(enc));
    if (rc != LATCH_OK) {
        return rc;
    }
    *out = json_pack("{s:I,s:s,s:s,s:b,s:s}", "id", (json_int_t)t.id, "name",
                     name, "role", auth_role_str(role), "disabled", 0, "state",
                     user_state(false));
    return *out != NULL
               ? LATCH_OK
               : latch_err_set(err, LATCH_E_NOMEM, "auth: out of memory");
}

static json_t *
int_or_null(struct db_stmt *st, int col)
{
    if (db_col_is_null(st, col)) {
        return json_null();
    }
    return json_integer((json_int_t)db_col_int64(st, col));
}

static json_t *
user_row(struct db_stmt *st)
{
    bool disabled = db_col_int64(st, 3) != 0;

    return json_pack("{s:I,s:s,s:s,s:b,s:s,s:I,s:o,s:s}", "id",
                     (json_int_t)db_col_int64(st, 0), "name",
                     db_col_text(st, 1), "role", db_col_text(st, 2), "disabled",
                     disabled, "state", user_state(disabled), "created_at",
                     (json_int_t)db_col_int64(st, 4), "last_signin_at",
                     int_or_null(st, 5), "created_by", db_col_text(st, 6));
}

/* Runs a query without parameters into {"items": [row_of(each row)]}. */
static enum latch_status
list_rows(struct db *db, const char *sql, json_t *(*row_of)(struct db_stmt *),
          json_t **out, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    json_t *items = json_array();
    bool row = false;
    enum latch_status rc;

    *out = NULL;
    if (items == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "auth: out of memory");
    }
    rc = db_prepare(db, sql, &st, err);
    while (rc == LATCH_OK) {
        json_t *v = NULL;

        rc = db_step(st, &row, err);
        if (rc != LATCH_OK || !row) {
            break;
        }
        v = row_of(st);
        if (v == NULL || json_array_append_new(items, v) != 0) {
            rc = latch_err_set(err, LATCH_E_NOMEM, "auth: out of memory");
        }
    }
    db_done(st);
    if (rc != LATCH_OK) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:o}", "items", items);
    return LATCH_OK;
}

enum latch_status
auth_user_list(struct db *db, json_t **out, struct latch_err *err)
{
    return list_rows(db,
                     "SELECT id, name, role, disabled, created_at, "
                     "last_signin_at, created_by FROM users ORDER BY name",
                     user_row, out, err);
}

struct user_update_tx {
    const char *actor;
    int64_t id;
    char name[AUTH_NAME_MAX + 1];
    enum auth_role role_was;
    bool disabled_was;
    enum auth_role role_now;
    bool disabled_now;
    bool changed;
    const enum auth_role *role;
    const bool *disabled;
};

/* Reads the user's name, role and disabled flag; LATCH_E_NOT_FOUND. */
static enum latch_status
user_load_by_id(struct db *db, struct user_update_tx *t, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    bool known = false;
    enum latch_status rc;

    rc = db_prepare(db, "SELECT name, role, disabled FROM users WHERE id = ?",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, t->id);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row) {
        snprintf(t->name, sizeof(t->name), "%s", db_col_text(st, 0));
        known = role_from_db(db_col_text(st, 1), &t->role_was);
        t->disabled_was = db_col_int64(st, 2) != 0;
    }
    db_done(st);
    if (rc == LATCH_OK && !known) {
        rc = latch_err_set(err, LATCH_E_NOT_FOUND, "no user with id %lld",
                           (long long)t->id);
    }
    return rc;
}

/*
 * Refuses a change that leaves no enabled admin, as nobody could then
 * manage users on the web. The web cannot get there on its own (an admin
 * cannot demote or disable themselves) unless two admins demote each
 * other at once; the CLI could.
 */
static enum latch_status
keep_one_admin(struct db *db, const struct user_update_tx *t,
               struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    int64_t others = 0;
    enum latch_status rc;

    if (t->role_was != AUTH_ADMIN || t->disabled_was ||
        (t->role_now == AUTH_ADMIN && !t->disabled_now)) {
        return LATCH_OK;
    }
    rc = db_prepare(db,
                    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND "
                    "disabled = 0 AND id <> ?",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, t->id);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row) {
        others = db_col_int64(st, 0);
    }
    db_done(st);
    if (rc == LATCH_OK && others == 0) {
        rc = latch_err_set(err, LATCH_E_POLICY,
                           "user '%s' is the last enabled admin: add another "
                           "admin first (latchd user add NAME --role admin)",
                           t->name);
    }
    return rc;
}

/* Writes the new role and flag. */
static enum latch_status
user_store(struct db *db, const struct user_update_tx *t, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db, "UPDATE users SET role = ?, disabled = ? WHERE id = ?",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, auth_role_str(t->role_now));
    db_bind_int64(st, 2, t->disabled_now ? 1 : 0);
    db_bind_int64(st, 3, t->id);
    rc = db_step(st, &row, err);
    db_done(st);
    return rc;
}

/* Deletes every session of the user (a disabled user's too). */
static enum latch_status
end_sessions(struct db *db, int64_t user_id, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db, "DELETE FROM sessions WHERE user_id = ?", &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, user_id);
    rc = db_step(st, &row, err);
    db_done(st);
    return rc;
}

static enum latch_status
user_update_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct user_update_tx *t = arg;
    json_t *details = NULL;
    char object[AUTH_NAME_MAX + 8];
    enum latch_status rc;

    rc = user_load_by_id(db, t, err);
    if (rc != LATCH_OK) {
        return rc;
    }

    t->role_now = t->role != NULL ? *t->role : t->role_was;
    t->disabled_now = t->disabled != NULL ? *t->disabled : t->disabled_was;
    t->changed =
        t->role_now != t->role_was || t->disabled_now != t->disabled_was;
    if (!t->changed) {
        return LATCH_OK; /* a no-op: sessions kept, no audit row */
    }
    rc = keep_one_admin(db, t, err);
    if (rc == LATCH_OK) {
        rc = user_store(db, t, err);
    }
    if (rc == LATCH_OK) {
        rc = end_sessions(db, t->id, err);
    }
    if (rc != LATCH_OK) {
        return rc;
    }

    snprintf(object, sizeof(object), "user:%s", t->name);
    details = json_pack("{s:s,s:b}", "role", auth_role_str(t->role_now),
                        "disabled", t->disabled_now);
    rc = core_audit_append(db, t->actor, "user.update", object, details, err);
    json_decref(details);
    return rc;
}

enum latch_status
auth_user_update(struct db *db, const char *actor, int64_t id,
                 const enum auth_role *role, const bool *disabled, json_t **out,
                 struct latch_err *err)
{
    struct user_update_tx t;
    enum latch_status rc;

    *out = NULL;
    memset(&t, 0, sizeof(t));
    t.actor = actor;
    t.id = id;
    t.role = role;
    t.disabled = disabled;
    rc = db_transact(db, user_update_fn, &t, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    *out = json_pack("{s:I,s:s,s:s,s:b,s:s,s:b}", "id", (json_int_t)id, "name",
                     t.name, "role", auth_role_str(t.role_now), "disabled",
                     t.disabled_now, "state", user_state(t.disabled_now),
                     "changed", t.changed);
    return *out != NULL
               ? LATCH_OK
               : latch_err_set(err, LATCH_E_NOMEM, "auth: out of memory");
}

enum latch_status
auth_user_id(struct db *db, const char *name, int64_t *id,
             struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    *id = 0;
    rc = check_name(name, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    rc = db_prepare(db, "SELECT id FROM users WHERE name = ?", &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, name);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row) {
        *id = db_col_int64(st, 0);
    }
    db_done(st);
    if (rc == LATCH_OK && !row) {
        rc = latch_err_set(err, LATCH_E_NOT_FOUND, "no user named '%s'", name);
    }
    return rc;
}

/* --- throttle ---------------------------------------------------------- */

/* A key's lock end (0: not locked) and its failures in the window. */
static enum latch_status
throttle_locked(struct db *db, const char *key, int64_t now, int64_t *until,
                int64_t *failures, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    *until = 0;
    *failures = 0;
    rc = db_prepare(db,
                    "SELECT locked_until, failures, window_start "
                    "FROM signin_throttle WHERE scope_key = ?",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, key);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row && db_col_int64(st, 0) > now) {
        *until = db_col_int64(st, 0);
    }
    if (rc == LATCH_OK && row && db_col_int64(st, 2) > now - AUTH_WINDOW) {
        *failures = db_col_int64(st, 1);
    }
    db_done(st);
    return rc;
}

/*
 * Whether the throttle refuses a sign-in without looking at the password.
 * A locked account always is. A locked address is too, except that once
 * its lock has gone past the first one (a sustained attack, or many
 * clients behind one proxy address) a name without failures in the window
 * gets its password checked: one guess per name per window, so the
 * address lock cannot keep a user who has not failed out for good. The
 * rule looks only at throttle rows, which unknown names get too, so it
 * does not tell which names exist.
 */
static bool
throttle_refuses(int64_t now, int64_t until_user, int64_t until_addr,
                 int64_t fails_user, int64_t fails_addr)
{
    if (until_user > now) {
        return true;
    }
    if (until_addr <= now) {
        return false;
    }
    return fails_user > 0 || fails_addr <= AUTH_ADDR_FAILURES;
}

/* Counts one failure for key; *locked_until is set when it locks. */
static enum latch_status
throttle_fail(struct db *db, const char *key, int64_t threshold, int64_t now,
              int64_t *locked_until, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    int64_t failures = 1;
    int64_t start = now;
    int64_t until = 0;
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db,
                    "SELECT failures, window_start FROM signin_throttle "
                    "WHERE scope_key = ?",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, key);
    rc = db_step(st, &row, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    if (row && db_col_int64(st, 1) > now - AUTH_WINDOW) {
        failures = db_col_int64(st, 0) + 1;
        start = db_col_int64(st, 1);
    }
    db_done(st);
    st = NULL;
    if (failures >= threshold) {
        int64_t shift = failures - threshold;
        int64_t lock = shift >= 10 ? AUTH_WINDOW : AUTH_LOCK_BASE << shift;

        until = now + (lock < AUTH_WINDOW ? lock : AUTH_WINDOW);
    }
    rc = db_prepare(db,
                    "INSERT INTO signin_throttle (scope_key, failures, "
                    "window_start, locked_until) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (scope_key) DO UPDATE SET "
                    "failures = excluded.failures, "
                    "window_start = excluded.window_start, "
                    "locked_until = excluded.locked_until",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, key);
    db_bind_int64(st, 2, failures);
    db_bind_int64(st, 3, start);
    db_bind_int64(st, 4, until);
    rc = db_step(st, &row, err);
    if (until > *locked_until) {
        *locked_until = until;
    }

out:
    db_done(st);
    return rc;
}

/* --- sign-in ------------------------------------------------------------ */

struct signin_tx {
    const char *name;
    const char *peer;
    const struct auth_limits *lim;
    bool ok;
    const char *why; /* failure reason for the audit row */
    int64_t user_id;
    char sid_hash[HEX256_LEN];
    char csrf[AUTH_CSRF_LEN];
    int64_t session_id;
    int64_t locked_until;
};

static int64_t
lim_idle(const struct auth_limits *lim)
{
    return lim != NULL && lim->idle > 0 ? lim->idle : 30 * 60;
}

/*
 * last_seen is written when it is at least this old: a minute, or a
 * quarter of the idle time when that is shorter. A session ends once
 * last_seen is older than idle + this, so it never ends sooner than idle
 * after its last request, and at most this much later.
 */
static int64_t
touch_every(const struct auth_limits *lim)
{
    int64_t q = lim_idle(lim) / 4;

    return q < 1 ? 1 : q < TOUCH_EVERY ? q : TOUCH_EVERY;
}

static int64_t
lim_absolute(const struct auth_limits *lim)
{
    return lim != NULL && lim->absolute > 0 ? lim->absolute : 12 * 3600;
}

static enum latch_status
signin_ok_fn(struct db *db, struct signin_tx *t, int64_t now,
             struct latch_err *err)
{
    struct db_stmt *st = NULL;
    json_t *details = NULL;
    char key[KEY_MAX];
    char object[AUTH_NAME_MAX + 8];
    bool row = false;
    enum latch_status rc;

    snprintf(key, sizeof(key), "user:%s", t->name);
    rc = db_prepare(db, "DELETE FROM signin_throttle WHERE scope_key = ?", &st,
                    err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, key);
    rc = db_step(st, &row, err);
    db_done(st);
    st = NULL;
    if (rc != LATCH_OK) {
        goto out;
    }
    rc = db_prepare(db,
                    "DELETE FROM sessions WHERE last_seen < ? OR "
                    "created_at < ?",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_int64(st, 1, now - lim_idle(t->lim) - touch_every(t->lim));
    db_bind_int64(st, 2, now - lim_absolute(t->lim));
    rc = db_step(st, &row, err);
    db_done(st);
    st = NULL;
    if (rc != LATCH_OK) {
        goto out;
    }
    rc = db_prepare(db,
                    "INSERT INTO sessions (sid_sha256, user_id, csrf, "
                    "created_at, last_seen, peer) VALUES (?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, t->sid_hash);
    db_bind_int64(st, 2, t->user_id);
    db_bind_text(st, 3, t->csrf);
    db_bind_int64(st, 4, now);
    db_bind_int64(st, 5, now);
    db_bind_text(st, 6, t->peer);
    rc = db_step(st, &row, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    t->session_id = row ? db_col_int64(st, 0) : 0;
    db_done(st);
    st = NULL;
    rc = db_prepare(db, "UPDATE users SET last_signin_at = ? WHERE id = ?", &st,
                    err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, t->user_id);
    rc = db_step(st, &row, err);
    db_done(st);
    st = NULL;
    if (rc != LATCH_OK) {
        goto out;
    }
    snprintf(object, sizeof(object), "user:%s", t->name);
    details = json_pack("{s:s}", "peer", t->peer);
    rc = core_audit_append(db, object, "auth.signin", object, details, err);

out:
    db_done(st);
    json_decref(details);
    return rc;
}

static enum latch_status
signin_fail_fn(struct db *db, struct signin_tx *t, int64_t now,
               struct latch_err *err)
{
    json_t *details = NULL;
    char key[KEY_MAX];
    char object[AUTH_NAME_MAX + 8];
    enum latch_status rc;

    t->locked_until = 0;
    rc = exec_id(db,
                 "DELETE FROM signin_throttle WHERE window_start < ? AND "
                 "locked_until < ?",
                 now - AUTH_WINDOW, now, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    snprintf(key, sizeof(key), "user:%s", t->name);
    rc = throttle_fail(db, key, AUTH_USER_FAILURES, now, &t->locked_until, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    snprintf(key, sizeof(key), "addr:%s", t->peer);
    rc = throttle_fail(db, key, AUTH_ADDR_FAILURES, now, &t->locked_until, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    snprintf(object, sizeof(object), "user:%s", t->name);
    details = json_pack("{s:s,s:s,s:I}", "peer", t->peer, "reason", t->why,
                        "locked_until", (json_int_t)t->locked_until);
    rc = core_audit_append(db, "anonymous", "auth.signin_failed", object,
                           details, err);
    json_decref(details);
    return rc;
}

static enum latch_status
signin_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct signin_tx *t = arg;
    int64_t now = (int64_t)time(NULL);

    if (t->ok) {
        return signin_ok_fn(db, t, now, err);
    }
    return signin_fail_fn(db, t, now, err);
}

/* Looks the user up; *enc gets the stored hash ("" when unknown). */
static enum latch_status
load_user(struct db *db, const char *name, int64_t *id, enum auth_role *role,
          bool *disabled, char *enc, size_t enclen, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    *id = 0;
    enc[0] = '\0';
    rc = db_prepare(db,
                    "SELECT id, role, password_hash, disabled FROM users "
                    "WHERE name = ?",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, name);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row && role_from_db(db_col_text(st, 1), role)) {
        *id = db_col_int64(st, 0);
        *disabled = db_col_int64(st, 3) != 0;
        snprintf(enc, enclen, "%s", db_col_text(st, 2));
    }
    db_done(st);
    return rc;
}

enum latch_status
auth_signin(struct db *db, const char *name, const char *password,
            const char *peer, const struct auth_limits *lim,
            enum auth_signin_result *result, int64_t *retry_after,
            char sid[AUTH_SID_LEN], struct auth_principal *p,
            struct latch_err *err)
{
    struct signin_tx t;
    char key[KEY_MAX];
    char enc[ARGON_ENC_MAX];
    int64_t now = (int64_t)time(NULL);
    int64_t until_user = 0;
    int64_t until_addr = 0;
    int64_t fails_user = 0;
    int64_t fails_addr = 0;
    enum auth_role role = AUTH_VIEWER;
    bool disabled = false;
    bool match;
    enum latch_status rc;

    memset(&t, 0, sizeof(t));
    memset(p, 0, sizeof(*p));
    sid[0] = '\0';
    *result = AUTH_SIGNIN_BAD;
    *retry_after = 0;
    if (check_name(name, NULL) != LATCH_OK) {
        name = "(invalid)";
    }
    t.name = name;
    t.peer = peer;
    t.lim = lim;
    snprintf(key, sizeof(key), "user:%s", name);
    rc = throttle_locked(db, key, now, &until_user, &fails_user, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    snprintf(key, sizeof(key), "addr:%s", peer);
    rc = throttle_locked(db, key, now, &until_addr, &fails_addr, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    if (throttle_refuses(now, until_user, until_addr, fails_user, fails_addr)) {
        *result = AUTH_SIGNIN_THROTTLED;
        *retry_after =
            (until_user > until_addr ? until_user : until_addr) - now;
        return LATCH_OK;
    }
    rc = load_user(db, name, &t.user_id, &role, &disabled, enc, sizeof(enc),
                   err);
    if (rc != LATCH_OK) {
        return rc;
    }
    if (t.user_id == 0) {
        pthread_once(&dummy_once, make_dummy_hash);
        (void)password_matches(dummy_hash, password);
        t.why = "unknown user";
    } else {
        match = password_matches(enc, password);
        t.why = !match ? "wrong password" : disabled ? "disabled" : NULL;
    }
    OPENSSL_cleanse(enc, sizeof(enc));
    t.ok = t.why == NULL;
    if (t.ok) {
        rc = auth_random_hex(sid, 16, err);
        if (rc == LATCH_OK) {
            rc = sha256_hex(sid, t.sid_hash, err);
        }
        if (rc == LATCH_OK) {
            rc = auth_random_hex(t.csrf, 16, err);
        }
        if (rc != LATCH_OK) {
            OPENSSL_cleanse(sid, AUTH_SID_LEN);
            return rc;
        }
    }
    rc = db_transact(db, signin_fn, &t, err);
    if (rc != LATCH_OK || !t.ok) {
        OPENSSL_cleanse(sid, AUTH_SID_LEN);
        sid[0] = '\0';
        if (rc == LATCH_OK && t.locked_until > now) {
            *result = AUTH_SIGNIN_THROTTLED;
            *retry_after = t.locked_until - now;
        }
        return rc;
    }
    *result = AUTH_SIGNIN_OK;
    p->user_id = t.user_id;
    p->session_id = t.session_id;
    p->role = role;
    snprintf(p->name, sizeof(p->name), "%s", name);
    memcpy(p->csrf, t.csrf, sizeof(p->csrf));
    snprintf(p->actor, sizeof(p->actor), "web:%s", name);
    return LATCH_OK;
}

/* --- sessions ------------------------------------------------------------ */

enum latch_status
auth_session_check(struct db *db, const char *sid,
                   const struct auth_limits *lim, struct auth_principal *p,
                   bool *ok, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    int64_t now = (int64_t)time(NULL);
    int64_t created;
    int64_t seen;
    bool expired;
    enum latch_status rc;

    *ok = false;
    memset(p, 0, sizeof(*p));
    if (sid == NULL || !is_hex(sid, AUTH_SID_LEN - 1)) {
        return LATCH_OK;
    }
    rc = find_by_hash(db,
                      "SELECT s.id, s.user_id, s.csrf, s.created_at, "
                      "s.last_seen, u.name, u.role, u.disabled "
                      "FROM sessions s JOIN users u ON u.id = s.user_id "
                      "WHERE s.sid_sha256 = ?",
                      sid, &st, err);
    if (rc != LATCH_OK || st == NULL) {
        return rc;
    }
    p->session_id = db_col_int64(st, 0);
    p->user_id = db_col_int64(st, 1);
    snprintf(p->csrf, sizeof(p->csrf), "%s", db_col_text(st, 2));
    created = db_col_int64(st, 3);
    seen = db_col_int64(st, 4);
    snprintf(p->name, sizeof(p->name), "%s", db_col_text(st, 5));
    expired = !role_from_db(db_col_text(st, 6), &p->role) ||
              db_col_int64(st, 7) != 0 ||
              now - seen >= lim_idle(lim) + touch_every(lim) ||
              now - created > lim_absolute(lim);
    db_done(st);
    if (expired) {
        rc = exec_id(db, "DELETE FROM sessions WHERE id = ? OR id = ?",
                     p->session_id, p->session_id, err);
        memset(p, 0, sizeof(*p));
        return rc;
    }
    if (now - seen >= touch_every(lim)) {
        rc = exec_id(db, "UPDATE sessions SET last_seen = ? WHERE id = ?", now,
                     p->session_id, err);
        if (rc != LATCH_OK) {
            return rc;
        }
    }
    snprintf(p->actor, sizeof(p->actor), "web:%s", p->name);
    *ok = true;
    return LATCH_OK;
}

struct signout_tx {
    const char *hash;
    const char *actor;
};

static enum latch_status
signout_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct signout_tx *t = arg;
    struct db_stmt *st = NULL;
    bool row = false;
    int64_t n;
    enum latch_status rc;

    rc = db_prepare(db, "DELETE FROM sessions WHERE sid_sha256 = ?", &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_text(st, 1, t->hash);
    rc = db_step(st, &row, err);
    n = rc == LATCH_OK ? db_changes(st) : 0;
    db_done(st);
    if (rc != LATCH_OK || n == 0) {
        return rc;
    }
    return core_audit_append(db, t->actor, "auth.signout", t->actor, NULL, err);
}

enum latch_status
auth_signout(struct db *db, const char *sid, const char *actor,
             struct latch_err *err)
{
    struct signout_tx t;
    char hash[HEX256_LEN];
    enum latch_status rc;

    if (sid == NULL || !is_hex(sid, AUTH_SID_LEN - 1)) {
        return LATCH_OK;
    }
    rc = sha256_hex(sid, hash, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    t.hash = hash;
    t.actor = actor != NULL ? actor : "anonymous";
    return db_transact(db, signout_fn, &t, err);
}

bool
auth_csrf_ok(const struct auth_principal *p, const char *token)
{
    size_t n = AUTH_CSRF_LEN - 1;

    if (token == NULL || strlen(token) != n || strlen(p->csrf) != n) {
        return false;
    }
    return CRYPTO_memcmp(p->csrf, token, n) == 0;
}

/* --- API tokens ---------------------------------------------------------- */

struct token_tx {
    const char *actor;
    enum auth_role role;
    const char *name;
    const char *hash;
    int64_t id;
};

static enum latch_status
token_create_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct token_tx *t = arg;
    struct db_stmt *st = NULL;
    json_t *details = NULL;
    char object[32];
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db,
                    "INSERT INTO api_tokens (name, role, token_sha256, "
                    "created_at, created_by) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id",
                    &st, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    db_bind_text(st, 1, t->name);
    db_bind_text(st, 2, auth_role_str(t->role));
    db_bind_text(st, 3, t->hash);
    db_bind_int64(st, 4, (int64_t)time(NULL));
    db_bind_text(st, 5, t->actor);
    rc = db_step(st, &row, err);
    if (rc != LATCH_OK) {
        goto out;
    }
    t->id = row ? db_col_int64(st, 0) : 0;
    db_done(st);
    st = NULL;
    snprintf(object, sizeof(object), "token:%lld", (long long)t->id);
    details =
        json_pack("{s:s,s:s}", "role", auth_role_str(t->role), "name", t->name);
    rc = core_audit_append(db, t->actor, "token.create", object, details, err);

out:
    db_done(st);
    json_decref(details);
    return rc;
}

enum latch_status
auth_token_create(struct db *db, const char *actor, enum auth_role role,
                  const char *name, char token[AUTH_TOKEN_LEN], json_t **out,
                  struct latch_err *err)
{
    struct token_tx t;
    char hash[HEX256_LEN];
    enum latch_status rc;

    *out = NULL;
    token[0] = '\0';
    if (name == NULL || name[0] == '\0') {
        name = "token";
    }
    rc = core_text_check("token name", name, AUTH_NAME_MAX, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    memcpy(token, "lt_", 3);
    rc = auth_random_hex(token + 3, 32, err);
    if (rc == LATCH_OK) {
        rc = sha256_hex(token, hash, err);
    }
    if (rc != LATCH_OK) {
        OPENSSL_cleanse(token, AUTH_TOKEN_LEN);
        return rc;
    }
    t.actor = actor;
    t.role = role;
    t.name = name;
    t.hash = hash;
    t.id = 0;
    rc = db_transact(db, token_create_fn, &t, err);
    if (rc != LATCH_OK) {
        OPENSSL_cleanse(token, AUTH_TOKEN_LEN);
        token[0] = '\0';
        return rc;
    }
    *out = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)t.id, "name", name,
                     "role", auth_role_str(role), "state", "active");
    return LATCH_OK;
}

static json_t *
token_row(struct db_stmt *st)
{
    bool revoked = !db_col_is_null(st, 6);

    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:o,s:o,s:s}", "id",
                     (json_int_t)db_col_int64(st, 0), "name",
                     db_col_text(st, 1), "role", db_col_text(st, 2),
                     "created_at", (json_int_t)db_col_int64(st, 3),
                     "created_by", db_col_text(st, 4), "last_used_at",
                     int_or_null(st, 5), "revoked_at", int_or_null(st, 6),
                     "state", revoked ? "revoked" : "active");
}

enum latch_status
auth_token_list(struct db *db, json_t **out, struct latch_err *err)
{
    return list_rows(db,
                     "SELECT id, name, role, created_at, created_by, "
                     "last_used_at, revoked_at FROM api_tokens ORDER BY id",
                     token_row, out, err);
}

struct revoke_tx {
    const char *actor;
    int64_t id;
};

/* Why token id could not be revoked: revoked already, or no such token. */
static enum latch_status
token_absent(struct db *db, int64_t id, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    rc = db_prepare(db, "SELECT id FROM api_tokens WHERE id = ?", &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, id);
    rc = db_step(st, &row, err);
    db_done(st);
    if (rc != LATCH_OK) {
        return rc;
    }
    if (row) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "token %lld is revoked already", (long long)id);
    }
    return latch_err_set(err, LATCH_E_NOT_FOUND, "no token with id %lld",
                         (long long)id);
}

static enum latch_status
token_revoke_fn(struct db *db, void *arg, struct latch_err *err)
{
    struct revoke_tx *t = arg;
    struct db_stmt *st = NULL;
    char object[32];
    bool row = false;
    int64_t n;
    enum latch_status rc;

    rc = db_prepare(db,
                    "UPDATE api_tokens SET revoked_at = ? "
                    "WHERE id = ? AND revoked_at IS NULL",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, (int64_t)time(NULL));
    db_bind_int64(st, 2, t->id);
    rc = db_step(st, &row, err);
    n = rc == LATCH_OK ? db_changes(st) : 0;
    db_done(st);
    if (rc != LATCH_OK) {
        return rc;
    }
    if (n == 0) {
        return token_absent(db, t->id, err);
    }
    snprintf(object, sizeof(object), "token:%lld", (long long)t->id);
    return core_audit_append(db, t->actor, "token.revoke", object, NULL, err);
}

enum latch_status
auth_token_revoke(struct db *db, const char *actor, int64_t id,
                  struct latch_err *err)
{
    struct revoke_tx t = {actor, id};

    return db_transact(db, token_revoke_fn, &t, err);
}

enum latch_status
auth_token_check(struct db *db, const char *token, struct auth_principal *p,
                 bool *ok, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    int64_t now = (int64_t)time(NULL);
    int64_t used;
    bool valid;
    enum latch_status rc;

    *ok = false;
    memset(p, 0, sizeof(*p));
    if (token == NULL || strncmp(token, "lt_", 3) != 0 ||
        !is_hex(token + 3, AUTH_TOKEN_LEN - 4)) {
        return LATCH_OK;
    }
    rc = find_by_hash(db,
                      "SELECT id, name, role, revoked_at, last_used_at "
                      "FROM api_tokens WHERE token_sha256 = ?",
                      token, &st, err);
    if (rc != LATCH_OK || st == NULL) {
        return rc;
    }
    p->token_id = db_col_int64(st, 0);
    snprintf(p->name, sizeof(p->name), "%s", db_col_text(st, 1));
    valid = role_from_db(db_col_text(st, 2), &p->role) && db_col_is_null(st, 3);
    used = db_col_int64(st, 4);
    db_done(st);
    if (!valid) {
        memset(p, 0, sizeof(*p));
        return LATCH_OK;
    }
    if (now - used >= TOUCH_EVERY) {
        rc = exec_id(db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                     now, p->token_id, err);
        if (rc != LATCH_OK) {
            return rc;
        }
    }
    snprintf(p->actor, sizeof(p->actor), "api:%s#%lld", p->name,
             (long long)p->token_id);
    *ok = true;
    return LATCH_OK;
}
