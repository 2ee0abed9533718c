/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * Unit tests for server/auth.c on a real SQLite database (migrated like
 * latchd's): argon2id users, sign-in and its throttle, session timeouts,
 * sign-out, CSRF comparison and API tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "db.h"

#define PW "correct horse battery staple"

struct fx {
    char dir[64];
    struct db *db;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct latch_err err;
    char url[128];

    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/latch-auth-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
    if (db_open_new(url, &f->db, &err) != LATCH_OK ||
        db_migrate(f->db, &err) != LATCH_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char path[128];

    db_close(f->db);
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/t.db-wal", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/t.db-shm", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
add_user(struct fx *f, const char *name, enum auth_role role)
{
    struct latch_err err;
    json_t *out = NULL;

    assert_int_equal(auth_user_add(f->db, "test", name, role, PW, &out, &err),
                     LATCH_OK);
    json_decref(out);
}

static enum auth_signin_result
signin(struct fx *f, const char *name, const char *pw, const char *peer,
       char sid[AUTH_SID_LEN], struct auth_principal *p, int64_t *retry)
{
    enum auth_signin_result res = AUTH_SIGNIN_BAD;
    struct latch_err err;

    assert_int_equal(
        auth_signin(f->db, name, pw, peer, NULL, &res, retry, sid, p, &err),
        LATCH_OK);
    return res;
}

static void
exec(struct fx *f, const char *sql)
{
    struct latch_err err;

    assert_int_equal(db_exec(f->db, sql, &err), LATCH_OK);
}

static void
test_user_add_refuses_short_passwords_and_odd_names(void **state)
{
    struct fx *f = *state;
    struct latch_err err;
    json_t *out = NULL;

    assert_int_equal(
        auth_user_add(f->db, "t", "ann", AUTH_ADMIN, "elevenchars", &out, &err),
        LATCH_E_USAGE);
    assert_non_null(strstr(err.msg, "password"));
    assert_int_equal(
        auth_user_add(f->db, "t", "-ann", AUTH_ADMIN, PW, &out, &err),
        LATCH_E_USAGE);
    assert_int_equal(
        auth_user_add(f->db, "t", "a<b", AUTH_ADMIN, PW, &out, &err),
        LATCH_E_USAGE);
    assert_int_equal(auth_user_add(f->db, "t", "", AUTH_ADMIN, PW, &out, &err),
                     LATCH_E_USAGE);
    add_user(f, "ann", AUTH_ADMIN);
    assert_int_equal(
        auth_user_add(f->db, "t", "ann", AUTH_VIEWER, PW, &out, &err),
        LATCH_E_POLICY);
    assert_null(out);
}

static void
test_password_is_stored_as_argon2id_only(void **state)
{
    struct fx *f = *state;
    struct db_stmt *st = NULL;
    struct latch_err err;
    bool row = false;

    add_user(f, "bob", AUTH_VIEWER);
    assert_int_equal(db_prepare(f->db,
                                "SELECT password_hash FROM users "
                                "WHERE name = 'bob'",
                                &st, &err),
                     LATCH_OK);
    assert_int_equal(db_step(st, &row, &err), LATCH_OK);
    assert_true(row);
    assert_non_null(
        strstr(db_col_text(st, 0), "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_null(strstr(db_col_text(st, 0), PW));
    db_done(st);
}

static void
test_signin_gives_a_fresh_session_with_role_and_csrf(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct auth_principal q;
    struct latch_err err;
    char sid[AUTH_SID_LEN];
    char sid2[AUTH_SID_LEN];
    int64_t retry = 0;
    bool ok = false;

    add_user(f, "cat", AUTH_APPROVER);
    assert_int_equal(signin(f, "cat", PW, "127.0.0.1", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    assert_int_equal(strlen(sid), 32);
    assert_int_equal(strlen(p.csrf), 32);
    assert_int_equal(p.role, AUTH_APPROVER);
    assert_string_equal(p.actor, "web:cat");
    assert_int_equal(auth_session_check(f->db, sid, NULL, &q, &ok, &err),
                     LATCH_OK);
    assert_true(ok);
    assert_string_equal(q.name, "cat");
    assert_string_equal(q.csrf, p.csrf);

    assert_int_equal(signin(f, "cat", PW, "127.0.0.1", sid2, &q, &retry),
                     AUTH_SIGNIN_OK);
    assert_string_not_equal(sid, sid2);
    assert_string_not_equal(p.csrf, q.csrf);
}

static void
test_wrong_password_unknown_user_and_disabled_user_are_refused(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct latch_err err;
    char sid[AUTH_SID_LEN];
    int64_t retry = 0;
    json_t *out = NULL;
    const bool yes = true;

    add_user(f, "dan", AUTH_VIEWER);
    assert_int_equal(
        signin(f, "dan", "not the password", "10.0.0.1", sid, &p, &retry),
        AUTH_SIGNIN_BAD);
    assert_string_equal(sid, "");
    assert_int_equal(signin(f, "nobody", PW, "10.0.0.1", sid, &p, &retry),
                     AUTH_SIGNIN_BAD);
    assert_int_equal(signin(f, "<bad name>", PW, "10.0.0.1", sid, &p, &retry),
                     AUTH_SIGNIN_BAD);
    assert_int_equal(auth_user_update(f->db, "t", 1, NULL, &yes, &out, &err),
                     LATCH_OK);
    json_decref(out);
    assert_int_equal(signin(f, "dan", PW, "10.0.0.2", sid, &p, &retry),
                     AUTH_SIGNIN_BAD);
}

static void
test_five_failures_lock_the_account_not_others(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    char sid[AUTH_SID_LEN];
    int64_t retry = 0;

    add_user(f, "eve", AUTH_VIEWER);
    add_user(f, "fay", AUTH_VIEWER);
    for (int i = 0; i < AUTH_USER_FAILURES - 1; i++) {
        assert_int_equal(
            signin(f, "eve", "wrong wrong wrong", "10.0.0.3", sid, &p, &retry),
            AUTH_SIGNIN_BAD);
    }
    assert_int_equal(
        signin(f, "eve", "wrong wrong wrong", "10.0.0.3", sid, &p, &retry),
        AUTH_SIGNIN_THROTTLED);
    assert_int_equal(signin(f, "eve", PW, "10.0.0.4", sid, &p, &retry),
                     AUTH_SIGNIN_THROTTLED);
    assert_true(retry > 0 && retry <= AUTH_LOCK_BASE);
    assert_string_equal(sid, "");
    assert_int_equal(signin(f, "fay", PW, "10.0.0.3", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    /* The lock ends. */
    exec(f, "UPDATE signin_throttle SET locked_until = 0");
    assert_int_equal(signin(f, "eve", PW, "10.0.0.3", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
}

static void
test_one_address_is_locked_after_twenty_failures(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    char sid[AUTH_SID_LEN];
    char name[32];
    int64_t retry = 0;

    add_user(f, "gus", AUTH_VIEWER);
    for (int i = 0; i < AUTH_ADDR_FAILURES; i++) {
        snprintf(name, sizeof(name), "guess%d", i);
        (void)signin(f, name, "wrong wrong wrong", "192.0.2.7", sid, &p,
                     &retry);
    }
    assert_int_equal(signin(f, "gus", PW, "192.0.2.7", sid, &p, &retry),
                     AUTH_SIGNIN_THROTTLED);
    assert_int_equal(signin(f, "gus", PW, "192.0.2.8", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
}

static void
test_a_sustained_address_lock_checks_names_without_failures(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    char sid[AUTH_SID_LEN];
    char name[32];
    int64_t retry = 0;

    add_user(f, "ida", AUTH_VIEWER);
    add_user(f, "jon", AUTH_VIEWER);
    add_user(f, "kim", AUTH_VIEWER);
    assert_int_equal(
        signin(f, "jon", "wrong wrong wrong", "192.0.2.9", sid, &p, &retry),
        AUTH_SIGNIN_BAD);
    for (int i = 1; i < AUTH_ADDR_FAILURES; i++) {
        snprintf(name, sizeof(name), "guess%d", i);
        (void)signin(f, name, "wrong wrong wrong", "192.0.2.9", sid, &p,
                     &retry);
    }
    /* The first lock holds for everyone. */
    assert_int_equal(signin(f, "ida", PW, "192.0.2.9", sid, &p, &retry),
                     AUTH_SIGNIN_THROTTLED);
    /* It ends; one more failure locks the address again, longer. */
    exec(f, "UPDATE signin_throttle SET locked_until = 0");
    assert_int_equal(
        signin(f, "guess99", "wrong wrong wrong", "192.0.2.9", sid, &p, &retry),
        AUTH_SIGNIN_THROTTLED);
    assert_true(retry > AUTH_LOCK_BASE);
    /* A name that failed in the window stays refused, even with its
     * password; a name without failures gets one check. */
    assert_int_equal(signin(f, "jon", PW, "192.0.2.9", sid, &p, &retry),
                     AUTH_SIGNIN_THROTTLED);
    assert_int_equal(signin(f, "ida", PW, "192.0.2.9", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    assert_int_equal(
        signin(f, "kim", "wrong wrong wrong", "192.0.2.9", sid, &p, &retry),
        AUTH_SIGNIN_THROTTLED);
    assert_int_equal(signin(f, "kim", PW, "192.0.2.9", sid, &p, &retry),
                     AUTH_SIGNIN_THROTTLED);
}

static void
test_sessions_end_when_idle_too_old_or_signed_out(void **state)
{
    struct fx *f = *state;
    struct auth_limits lim = {60, 3600};
    struct auth_principal p;
    struct latch_err err;
    char sid[AUTH_SID_LEN];
    int64_t retry = 0;
    bool ok = true;

    add_user(f, "hal", AUTH_VIEWER);
    assert_int_equal(signin(f, "hal", PW, "::1", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    /* last_seen is written in steps of idle/4 (15 s here): a session
     * ends once it is idle + 15 s old, never before idle. */
    exec(f, "UPDATE sessions SET last_seen = last_seen - 74");
    assert_int_equal(auth_session_check(f->db, sid, &lim, &p, &ok, &err),
                     LATCH_OK);
    assert_true(ok);
    exec(f, "UPDATE sessions SET last_seen = last_seen - 75");
    assert_int_equal(auth_session_check(f->db, sid, &lim, &p, &ok, &err),
                     LATCH_OK);
    assert_false(ok);

    assert_int_equal(signin(f, "hal", PW, "::1", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    exec(f, "UPDATE sessions SET created_at = created_at - 3601");
    assert_int_equal(auth_session_check(f->db, sid, &lim, &p, &ok, &err),
                     LATCH_OK);
    assert_false(ok);

    assert_int_equal(signin(f, "hal", PW, "::1", sid, &p, &retry),
                     AUTH_SIGNIN_OK);
    assert_int_equal(auth_signout(f->db, sid, p.actor, &err), LATCH_OK);
    assert_int_equal(auth_session_check(f->db, sid, &lim, &p, &ok, &err),
                     LATCH_OK);
    assert_false(ok);
    /* Malformed ids never reach the database. */
    assert_int_equal(
        auth_session_check(f->db, "zz' OR 1=1 --", &lim, &p, &ok, &err),
        LATCH_OK);
    assert_false(ok);
}

static void
test_csrf_token_must_match_exactly(void **state)
{
    struct auth_principal p;

    (void)state;
    memset(&p, 0, sizeof(p));
    snprintf(p.csrf, sizeof(p.csrf), "0123456789abcdef0123456789abcdef");
    assert_true(auth_csrf_ok(&p, "0123456789abcdef0123456789abcdef"));
    assert_false(auth_csrf_ok(&p, "0123456789abcdef0123456789abcdee"));
    assert_false(auth_csrf_ok(&p, "0123456789abcdef0123456789abcde"));
    assert_false(auth_csrf_ok(&p, ""));
    assert_false(auth_csrf_ok(&p, NULL));
    p.csrf[0] = '\0';
    assert_false(auth_csrf_ok(&p, ""));
}

static void
test_tokens_carry_their_role_and_die_when_revoked(void **state)
{
    struct fx *f = *state;
    struct auth_principal p;
    struct latch_err err;
    char token[AUTH_TOKEN_LEN];
    json_t *out = NULL;
    bool ok = false;

    assert_int_equal(auth_token_create(f->db, "cli:root", AUTH_APPROVER, "ci",
                                       token, &out, &err),
                     LATCH_OK);
    assert_int_equal(strlen(token), AUTH_TOKEN_LEN - 1);
    assert_memory_equal(token, "lt_", 3);
    assert_int_equal(auth_token_check(f->db, token, &p, &ok, &err), LATCH_OK);
    assert_true(ok);
    assert_int_equal(p.role, AUTH_APPROVER);
    assert_string_equal(p.actor, "api:ci#1");
    token[10] = token[10] == 'a' ? 'b' : 'a';
    assert_int_equal(auth_token_check(f->db, token, &p, &ok, &err), LATCH_OK);
    assert_false(ok);
    token[10] = token[10] == 'a' ? 'b' : 'a';
    assert_int_equal(
        auth_token_revoke(f->db, "cli:root",
                          json_integer_value(json_object_get(out, "id")), &err),
        LATCH_OK);
    assert_int_equal(auth_token_check(f->db, token, &p, &ok, &err), LATCH_OK);
    assert_false(ok);
    assert_int_equal(auth_token_revoke(f->db, "cli:root", 1, &err),
                     LATCH_E_POLICY);
    assert_string_equal(err.msg, "token 1 is revoked already");
    assert_int_equal(auth_token_revoke(f->db, "cli:root", 99, &err),
                     LATCH_E_NOT_FOUND);
    json_decref(out);
}

static void
test_roles_parse_and_print(void **state)
{
    enum auth_role r = AUTH_ADMIN;

    (void)state;
    assert_int_equal(auth_role_parse("viewer", &r, NULL), LATCH_OK);
    assert_int_equal(r, AUTH_VIEWER);
    assert_int_equal(auth_role_parse("approver", &r, NULL), LATCH_OK);
    assert_string_equal(auth_role_str(r), "approver");
    assert_int_equal(auth_role_parse("root", &r, NULL), LATCH_E_USAGE);
    assert_int_equal(auth_role_parse(NULL, &r, NULL), LATCH_E_USAGE);
    assert_true(AUTH_VIEWER < AUTH_APPROVER && AUTH_APPROVER < AUTH_ADMIN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_user_add_refuses_short_passwords_and_odd_names, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_password_is_stored_as_argon2id_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_signin_gives_a_fresh_session_with_role_and_csrf, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_wrong_password_unknown_user_and_disabled_user_are_refused,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_five_failures_lock_the_account_not_others, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_one_address_is_locked_after_twenty_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_sustained_address_lock_checks_names_without_failures, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_sessions_end_when_idle_too_old_or_signed_out, setup, teardown),
        cmocka_unit_test(test_csrf_token_must_match_exactly),
        cmocka_unit_test_setup_teardown(
            test_tokens_carry_their_role_and_die_when_revoked, setup, teardown),
        cmocka_unit_test(test_roles_parse_and_print),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
