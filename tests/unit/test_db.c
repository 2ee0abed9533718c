/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * Unit tests for server/db.c and the audit chain in server/audit.c, on a
 * SQLite file in a temporary directory. The e2e suite runs the same code
 * on PostgreSQL.
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

#include "core.h"
#include "db.h"

struct fixture {
    char dir[64];
    char url[128];
    struct db *db;
    struct core *core;
    struct latchd_config cfg;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct latch_err err;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/latch-dbtest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    latch_err_clear(&err);
    assert_int_equal(db_open_new(f->url, &f->db, &err), LATCH_OK);
    assert_int_equal(db_migrate(f->db, &err), LATCH_OK);
    assert_int_equal(core_open(&f->cfg, f->db, &f->core, &err), LATCH_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    core_free(f->core);
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
exec_ok(struct db *db, const char *sql)
{
    struct latch_err err;

    latch_err_clear(&err);
    assert_int_equal(db_exec(db, sql, &err), LATCH_OK);
}

static void
test_every_type_round_trips_through_bound_parameters(void **state)
{
    struct fixture *f = *state;
    static const uint8_t blob[] = {0x00, 0xff, 0x27, 0x5c, 0x00};
    struct db_stmt *s = NULL;
    struct latch_err err;
    const uint8_t *p;
    size_t len = 0;
    bool row = false;

    latch_err_clear(&err);
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, i BIGINT, s TEXT, "
                   "b BYTEA)");
    assert_int_equal(
        db_prepare(f->db, "INSERT INTO t (i, s, b) VALUES (?, ?, ?)", &s, &err),
        LATCH_OK);
    db_bind_int64(s, 1, INT64_MIN);
    db_bind_text(s, 2, "x'); DROP TABLE t;-- ?");
    db_bind_blob(s, 3, blob, sizeof(blob));
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    db_done(s);
    assert_int_equal(
        db_prepare(f->db, "INSERT INTO t (i, s, b) VALUES (?, ?, ?)", &s, &err),
        LATCH_OK);
    db_bind_int64(s, 1, INT64_MAX);
    db_bind_null(s, 2);
    db_bind_blob(s, 3, NULL, 0);
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    db_done(s);

    assert_int_equal(
        db_prepare(f->db, "SELECT i, s, b FROM t ORDER BY id", &s, &err),
        LATCH_OK);
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    assert_true(row);
    assert_true(db_col_int64(s, 0) == INT64_MIN);
    assert_string_equal(db_col_text(s, 1), "x'); DROP TABLE t;-- ?");
    p = db_col_blob(s, 2, &len);
    assert_int_equal(len, sizeof(blob));
    assert_memory_equal(p, blob, sizeof(blob));
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    assert_true(row);
    assert_true(db_col_int64(s, 0) == INT64_MAX);
    assert_true(db_col_is_null(s, 1));
    assert_null(db_col_text(s, 1));
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    assert_false(row);
    db_done(s);
}

static void
test_bad_parameter_index_fails_at_step(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *s = NULL;
    struct latch_err err;
    bool row;

    latch_err_clear(&err);
    assert_int_equal(db_prepare(f->db, "SELECT ?", &s, &err), LATCH_OK);
    db_bind_int64(s, 2, 1);
    assert_int_equal(db_step(s, &row, &err), LATCH_E_INTERNAL);
    assert_non_null(strstr(err.msg, "parameter 2 out of range"));
    db_done(s);
}

static void
test_unique_violation_is_reported_as_such(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *s = NULL;
    struct latch_err err;
    bool row;
    int i;

    latch_err_clear(&err);
    for (i = 0; i < 2; i++) {
        assert_int_equal(db_prepare(f->db,
                                    "INSERT INTO customers (name, created_at) "
                                    "VALUES (?, 0)",
                                    &s, &err),
                         LATCH_OK);
        db_bind_text(s, 1, "dup");
        assert_int_equal(db_step(s, &row, &err),
                         i == 0 ? LATCH_OK : LATCH_E_IO);
        db_done(s);
    }
    assert_int_equal(db_last_errkind(f->db), DB_ERR_UNIQUE);
}

struct tx_arg {
    int runs;
};

static enum latch_status
insert_then_fail(struct db *db, void *arg, struct latch_err *err)
{
    struct tx_arg *a = arg;

    a->runs++;
    if (db_exec(db,
                "INSERT INTO customers (name, created_at) VALUES ('gone', 0)",
                err) != LATCH_OK) {
        return LATCH_E_IO;
    }
    return latch_err_set(err, LATCH_E_POLICY, "refused on purpose");
}

static void
test_failed_transaction_leaves_nothing_and_is_not_retried(void **state)
{
    struct fixture *f = *state;
    struct tx_arg a = {0};
    struct db_stmt *s = NULL;
    struct latch_err err;
    bool row = true;

    latch_err_clear(&err);
    assert_int_equal(db_transact(f->db, insert_then_fail, &a, &err),
                     LATCH_E_POLICY);
    assert_int_equal(a.runs, 1);
    assert_int_equal(db_prepare(f->db,
                                "SELECT 1 FROM customers WHERE name = 'gone'",
                                &s, &err),
                     LATCH_OK);
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    assert_false(row);
    db_done(s);
}

static void
test_migrations_run_once(void **state)
{
    struct fixture *f = *state;
    struct db_stmt *s = NULL;
    struct latch_err err;
    int64_t n = 0;
    bool row;
    int i;

    latch_err_clear(&err);
    assert_int_equal(db_migrate(f->db, &err), LATCH_OK);
    for (i = 0; latch_migrations[i].name != NULL; i++) {
        continue;
    }
    assert_int_equal(
        db_prepare(f->db, "SELECT COUNT(*) FROM schema_migrations", &s, &err),
        LATCH_OK);
    assert_int_equal(db_step(s, &row, &err), LATCH_OK);
    n = db_col_int64(s, 0);
    db_done(s);
    assert_int_equal(n, i);
}

static void
test_same_text_can_be_prepared_while_in_use(void **state)
{
    struct fixture *f = *state;
    static const char *const sql = "SELECT ? + 1";
    struct db_stmt *a = NULL;
    struct db_stmt *b = NULL;
    struct latch_err err;
    bool row;

    latch_err_clear(&err);
    assert_int_equal(db_prepare(f->db, sql, &a, &err), LATCH_OK);
    assert_int_equal(db_prepare(f->db, sql, &b, &err), LATCH_OK);
    assert_ptr_not_equal(a, b);
    db_bind_int64(a, 1, 1);
    db_bind_int64(b, 1, 41);
    assert_int_equal(db_step(a, &row, &err), LATCH_OK);
    assert_int_equal(db_step(b, &row, &err), LATCH_OK);
    assert_int_equal(db_col_int64(a, 0), 2);
    assert_int_equal(db_col_int64(b, 0), 42);
    db_done(a);
    db_done(b);
}

static void
test_open_refuses_unknown_scheme(void **state)
{
    struct db *db = NULL;
    struct latch_err err;

    (void)state;
    latch_err_clear(&err);
    assert_int_equal(db_open("mysql://x", &db, &err), LATCH_E_USAGE);
    assert_null(db);
}

/* --- audit chain ---------------------------------------------------------- */

static enum latch_status
append_rows(struct db *db, void *arg, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    json_t *d;
    char object[32];
    int i;

    (void)arg;
    for (i = 1; i <= 6 && st == LATCH_OK; i++) {
        snprintf(object, sizeof(object), "thing:%d", i);
        d = json_pack("{s:i, s:s}", "n", i, "note", "line\nbreak");
        st = core_audit_append(db, "unit", "test.append", object, d, err);
        json_decref(d);
    }
    return st;
}

static json_t *
verify(struct fixture *f)
{
    struct latch_err err;
    json_t *out = NULL;

    latch_err_clear(&err);
    assert_int_equal(core_audit_verify(f->core, &out, &err), LATCH_OK);
    return out;
}

static void
expect_broken(struct fixture *f, int64_t seq, const char *problem)
{
    json_t *out = verify(f);

    assert_string_equal(json_string_value(json_object_get(out, "state")),
                        "broken");
    assert_int_equal(json_integer_value(json_object_get(out, "first_bad_seq")),
                     seq);
    assert_string_equal(json_string_value(json_object_get(out, "problem")),
                        problem);
    json_decref(out);
}

static void
chain_of_six(struct fixture *f)
{
    struct latch_err err;
    json_t *out;

    latch_err_clear(&err);
    assert_int_equal(db_transact(f->db, append_rows, NULL, &err), LATCH_OK);
    out = verify(f);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "ok");
    assert_int_equal(json_integer_value(json_object_get(out, "rows")), 6);
    json_decref(out);
}

static void
test_audit_detects_edited_details(void **state)
{
    struct fixture *f = *state;

    chain_of_six(f);
    exec_ok(f->db, "UPDATE audit_log SET details = '{\"n\":9}' WHERE seq = 4");
    expect_broken(f, 4, "edited");
}

static void
test_audit_detects_a_deleted_row(void **state)
{
    struct fixture *f = *state;

    chain_of_six(f);
    exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 2");
    expect_broken(f, 2, "deleted");
}

static void
test_audit_detects_a_swapped_pair(void **state)
{
    struct fixture *f = *state;

    chain_of_six(f);
    exec_ok(f->db, "UPDATE audit_log SET seq = -1 WHERE seq = 5; "
                   "UPDATE audit_log SET seq = 5 WHERE seq = 6; "
                   "UPDATE audit_log SET seq = 6 WHERE seq = -1");
    expect_broken(f, 5, "reordered");
}

static void
test_audit_detects_a_replaced_hash(void **state)
{
    struct fixture *f = *state;

    chain_of_six(f);
    exec_ok(f->db, "UPDATE audit_log SET hash = "
                   "'1111111111111111111111111111111111111111111111111111111"
                   "111111111' WHERE seq = 3");
    expect_broken(f, 3, "edited");
}

static void
test_audit_detects_truncation_against_the_head(void **state)
{
    struct fixture *f = *state;

    chain_of_six(f);
    exec_ok(f->db, "DELETE FROM audit_log WHERE seq = 6");
    expect_broken(f, 6, "truncated");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_every_type_round_trips_through_bound_parameters, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameter_index_fails_at_step,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unique_violation_is_reported_as_such, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_failed_transaction_leaves_nothing_and_is_not_retried, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_migrations_run_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_same_text_can_be_prepared_while_in_use, setup, teardown),
        cmocka_unit_test(test_open_refuses_unknown_scheme),
        cmocka_unit_test_setup_teardown(test_audit_detects_edited_details,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_detects_a_deleted_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_detects_a_swapped_pair,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_detects_a_replaced_hash,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_audit_detects_truncation_against_the_head, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
