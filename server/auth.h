/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * auth.h: who may do what in latchd's web UI and API. Users with argon2id
 * password hashes and a role (viewer < approver < admin); sign-in sessions
 * kept in the database (any latchd instance serves any request), with a
 * CSRF synchronizer token each; API bearer tokens stored as SHA-256; a
 * sign-in throttle per account and per client address. There is no
 * default account.
 *
 * Secrets handed out (session ids, tokens) exist in clear only in the
 * caller's buffers; the database keeps their SHA-256.
 */
#ifndef LATCHD_AUTH_H
#define LATCHD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"
#include "err.h"

enum auth_role { AUTH_VIEWER = 0, AUTH_APPROVER = 1, AUTH_ADMIN = 2 };

#define AUTH_NAME_MAX     64
#define AUTH_PASSWORD_MIN 12
#define AUTH_PASSWORD_MAX 1024
#define AUTH_SID_LEN      33 /* 128-bit session id as hex + NUL */
#define AUTH_CSRF_LEN     33 /* 128-bit CSRF token as hex + NUL */
#define AUTH_TOKEN_LEN    68 /* "lt_" + 256-bit token as hex + NUL */

/* Sign-in throttle: after this many failures within the window a key is
 * locked, for AUTH_LOCK_BASE seconds doubling with each further failure
 * up to the window length. */
#define AUTH_USER_FAILURES 5
#define AUTH_ADDR_FAILURES 20
#define AUTH_WINDOW        900
#define AUTH_LOCK_BASE     30

/* "viewer", "approver", "admin". */
const char *auth_role_str(enum auth_role r);

/* LATCH_E_USAGE naming the value when it is not a role. */
enum latch_status auth_role_parse(const char *s, enum auth_role *out,
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

/* The signed-in user or token of a request. */
struct auth_principal {
    int64_t user_id;  /* 0 for an API token */
    int64_t token_id; /* 0 for a session */
    int64_t session_id;
    char name[AUTH_NAME_MAX + 1];
    enum auth_role role;
    char csrf[AUTH_CSRF_LEN];
    char actor[AUTH_NAME_MAX + 32]; /* audit actor: "web:NAME", "api:..." */
};

/* Session lifetime (seconds). */
struct auth_limits {
    int64_t idle;     /* since the last request; 0 = 30 min */
    int64_t absolute; /* since sign-in; 0 = 12 h */
};

/*
 * User names: 1-64 of [A-Za-z0-9._@-], starting with a letter or digit.
 * Passwords: AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX bytes.
 */
enum latch_status auth_user_add(struct db *db, const char *actor,
                                const char *name, enum auth_role role,
                                const char *password, json_t **out,
                                struct latch_err *err)
    __attribute__((warn_unused_result));

/* {"items": [{"id","name","role","disabled","state","created_at",
 * "last_signin_at","created_by"}]}, ordered by name; users are few.
 * state is "active" or "disabled". */
enum latch_status auth_user_list(struct db *db, json_t **out,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * The id of the user named name: LATCH_E_USAGE when name is not a valid
 * user name, LATCH_E_NOT_FOUND when no user has it.
 */
enum latch_status auth_user_id(struct db *db, const char *name, int64_t *id,
                               struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Sets a user's role and/or disabled flag (NULL: unchanged), deletes the
 * user's sessions and appends a "user.update" audit row, in one
 * transaction; when both are as they were it does nothing (no session
 * ends, no audit row). LATCH_E_NOT_FOUND for an unknown id;
 * LATCH_E_POLICY when it would leave no enabled admin (an enabled admin
 * demoted or disabled while no other is enabled). *out: {"id","name",
 * "role","disabled","state","changed"}.
 */
enum latch_status auth_user_update(struct db *db, const char *actor, int64_t id,
                                   const enum auth_role *role,
                                   const bool *disabled, json_t **out,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));

enum auth_signin_result {
    AUTH_SIGNIN_OK = 0,
    AUTH_SIGNIN_BAD,      /* unknown user, wrong password or disabled */
    AUTH_SIGNIN_THROTTLED /* too many failures: *retry_after seconds */
};

/*
 * Checks name and password (the throttle first: a locked account or
 * address is refused without looking at the password; an unknown name
 * costs the same argon2 time as a known one). On success creates a new
 * session: sid receives the fresh id for the cookie and p the principal.
 * Successes and failures get an audit row (a refusal by the throttle does
 * not, so a flood cannot fill the log); sessions past lim are pruned. The
 * status reports infrastructure failures only; *result says what
 * happened.
 */
enum latch_status auth_signin(struct db *db, const char *name,
                              const char *password, const char *peer,
                              const struct auth_limits *lim,
                              enum auth_signin_result *result,
                              int64_t *retry_after, char sid[AUTH_SID_LEN],
                              struct auth_principal *p, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Looks up a session by its cookie value. *ok is false for an unknown,
 * expired (idle or absolute; the row is deleted) or disabled user's
 * session. Refreshes last_seen when it is a minute old (a quarter of the
 * idle time when that is shorter); a session ends once last_seen is older
 * than the idle time plus that step, so never sooner than the idle time
 * after its last request.
 */
enum latch_status auth_session_check(struct db *db, const char *sid,
                                     const struct auth_limits *lim,
                                     struct auth_principal *p, bool *ok,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/* Deletes the session (sign-out). Unknown ids are fine. */
enum latch_status auth_signout(struct db *db, const char *sid,
                               const char *actor, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Compares a submitted CSRF token with the session's in constant time. */
bool auth_csrf_ok(const struct auth_principal *p, const char *token);

/*
 * Creates an API token for role; token receives it ("lt_" + 64 hex),
 * shown once: only its SHA-256 is stored. name is a label (may be NULL).
 * *out: {"id","name","role","state": "active"}.
 */
enum latch_status auth_token_create(struct db *db, const char *actor,
                                    enum auth_role role, const char *name,
                                    char token[AUTH_TOKEN_LEN], json_t **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* {"items": [{"id","name","role","created_at","created_by",
 * "last_used_at","revoked_at","state"}]} by id; state is "active" or
 * "revoked". Never the token or its hash. */
enum latch_status auth_token_list(struct db *db, json_t **out,
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Revokes token id (it stops working at once) and appends a
 * "token.revoke" audit row. LATCH_E_NOT_FOUND for an unknown id,
 * LATCH_E_POLICY ("token N is revoked already") for a revoked one.
 */
enum latch_status auth_token_revoke(struct db *db, const char *actor,
                                    int64_t id, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Checks a bearer token. *ok is false for an unknown or revoked token.
 * Refreshes last_used_at at most once a minute.
 */
enum latch_status auth_token_check(struct db *db, const char *token,
                                   struct auth_principal *p, bool *ok,
                                   struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Makes malloc hand argon2's 19 MiB blocks back to the system after each
 * hash (a fixed mmap threshold). Call once at start, before threads.
 */
void auth_memory_setup(void);

/* Fills out with n random bytes as lowercase hex (2n+1 bytes). */
enum latch_status auth_random_hex(char *out, size_t n, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_AUTH_H */
