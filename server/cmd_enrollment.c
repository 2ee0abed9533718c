/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_enrollment.c: `latchd enrollment import|list|show|approve|reject|
 * revalidate`. `import --wait` validates in this process (beside any
 * running workers) until every imported enrollment has an outcome.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "core.h"
#include "fsutil.h"
#include "safeout.h"

#define IMPORT_READ_MAX (1024 * 1024) /* larger files are not even read */
#define WAIT_SECONDS    600

static bool
is_final(const char *state)
{
    return state != NULL && strcmp(state, "pending") != 0 &&
           strcmp(state, "validating") != 0;
}

static enum latch_status
state_of(struct core *c, int64_t id, json_t **show, struct latch_err *err)
{
    return core_enrollment_show(c, id, show, err);
}

/*
 * Validates queued jobs in this process until every enrollment in ids
 * (JSON integers; nulls skipped) has an outcome.
 */
enum latch_status
cmd_wait_validated(struct latchd_env *env, struct core *c, json_t *ids,
                   struct latch_err *err)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    enum latch_status st;
    json_t *show = NULL;
    time_t deadline = time(NULL) + WAIT_SECONDS;
    char worker[48];
    size_t i;
    bool did;
    bool pending;

    snprintf(worker, sizeof(worker), "cli-%ld", (long)getpid());
    (void)env;
    for (;;) {
        pending = false;
        for (i = 0; i < json_array_size(ids) && !pending; i++) {
            if (!json_is_integer(json_array_get(ids, i))) {
                continue;
            }
            st = state_of(c, json_integer_value(json_array_get(ids, i)), &show,
                          err);
            if (st != LATCH_OK) {
                return st;
            }
            pending =
                !is_final(json_string_value(json_object_get(show, "state")));
            json_decref(show);
            show = NULL;
        }
        if (!pending) {
            return LATCH_OK;
        }
        if (time(NULL) > deadline) {
            return latch_err_set(err, LATCH_E_IO,
                                 "validation did not finish within %d s",
                                 WAIT_SECONDS);
        }
        st = core_validate_next(c, worker, &did, err);
        if (st != LATCH_OK) {
            return st;
        }
        if (!did) {
            nanosleep(&pause, NULL);
        }
    }
}

/* Replaces each result with the enrollment's state after validation. */
static enum latch_status
refresh(struct core *c, json_t *results, struct latch_err *err)
{
    enum latch_status st;
    json_t *r;
    json_t *show = NULL;
    size_t i;

    for (i = 0; i < json_array_size(results); i++) {
        r = json_array_get(results, i);
        if (!json_is_integer(json_object_get(r, "id"))) {
            continue;
        }
        st = core_enrollment_show(
            c, json_integer_value(json_object_get(r, "id")), &show, err);
        if (st != LATCH_OK) {
            return st;
        }
        json_object_set(r, "state", json_object_get(show, "state"));
        json_object_set(r, "reason", json_object_get(show, "reason"));
        json_object_set(r, "device_id", json_object_get(show, "device_id"));
        json_object_set(r, "is_rotation", json_object_get(show, "is_rotation"));
        json_decref(show);
        show = NULL;
    }
    return LATCH_OK;
}

/* *failed: refused; *unreadable: the file could not be read (exit 4). */
static json_t *
import_one(struct latchd_env *env, struct core *c, const char *path,
           bool *failed, bool *unreadable)
{
    struct latch_err err;
    enum latch_status st;
    json_t *out = NULL;
    char *buf = NULL;
    size_t len = 0;

    latch_err_clear(&err);
    st = latch_read_file(path, IMPORT_READ_MAX, &buf, &len, &err);
    if (st == LATCH_E_IO) {
        *unreadable = true;
    }
    if (st == LATCH_OK) {
        st = core_enrollment_import(c, env->actor, (const uint8_t *)buf, len,
                                    path, &out, &err);
    }
    free(buf);
    if (st != LATCH_OK) {
        *failed = true;
        if (out == NULL) {
            out = json_pack("{s:n, s:s, s:s}", "id", "state", "rejected",
                            "reason", err.msg);
        }
        if (!env->json) {
            fprintf(stderr, "latchd: %s: rejected: %s\n", path, err.msg);
        }
    }
    if (out != NULL) {
        json_object_set_new(out, "file", json_string(path));
    }
    return out;
}

static void
print_import(const json_t *r)
{
    const char *reason = json_string_value(json_object_get(r, "reason"));

    if (!json_is_integer(json_object_get(r, "id"))) {
        return; /* already reported on stderr */
    }
    printf("enrollment %lld: %s%s%s%s%s\n",
           (long long)json_integer_value(json_object_get(r, "id")),
           json_string_value(json_object_get(r, "state")),
           json_is_true(json_object_get(r, "duplicate")) ? " (already imported)"
                                                         : "",
           json_is_true(json_object_get(r, "is_rotation")) ? " (AK rotation)"
                                                           : "",
           reason != NULL ? ": " : "", reason != NULL ? reason : "");
}

int
cmd_enrollment_import(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"wait", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *results = NULL;
    json_t *ids = NULL;
    json_t *r;
    const char *state;
    bool wait = false;
    bool failed = false;
    bool unreadable = false;
    int ch;
    int i;
    int rc = 0;

    latch_err_clear(&err);
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch != 'w') {
            return latchd_usage(argv[0], "FILE... [--wait] [--json]");
        }
        wait = true;
    }
    if (optind >= argc) {
        return latchd_usage(argv[0], "FILE... [--wait] [--json]");
    }
    for (i = optind; i < argc; i++) {
        if (argv[i][0] == '\0') {
            st = latch_err_set(&err, LATCH_E_USAGE, "empty path");
            return latchd_fail(env, st, &err);
        }
    }
    results = json_array();
    ids = json_array();
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st != LATCH_OK || results == NULL || ids == NULL) {
        rc = latchd_fail(env, st != LATCH_OK ? st : LATCH_E_NOMEM, &err);
        goto out;
    }
    for (i = optind; i < argc; i++) {
        r = import_one(env, c, argv[i], &failed, &unreadable);
        if (r != NULL) {
            json_array_append(ids, json_object_get(r, "id"));
            json_array_append_new(results, r);
        }
    }
    if (wait) {
        st = cmd_wait_validated(env, c, ids, &err);
        if (st == LATCH_OK) {
            st = refresh(c, results, &err);
        }
        if (st != LATCH_OK) {
            rc = latchd_fail(env, st, &err);
            goto out;
        }
    }
    for (i = 0; (size_t)i < json_array_size(results); i++) {
        r = json_array_get(results, i);
        state = json_string_value(json_object_get(r, "state"));
        if (state != NULL && (strcmp(state, "invalid") == 0 ||
                              strcmp(state, "unknown_root") == 0)) {
            failed = true;
        }
        if (!env->json) {
            cmd_human(r);
            print_import(r);
        }
    }
    if (env->json) {
        latchd_print_json(json_array_size(results) == 1
                              ? json_incref(json_array_get(results, 0))
                              : json_incref(results));
    }
    /* Same codes as every verb: an unreadable input file is 4. */
    rc = unreadable ? latchd_exit_code(LATCH_E_IO) : failed ? 1 : 0;

out:
    json_decref(ids);
    json_decref(results);
    core_free(c);
    return rc;
}

int
cmd_enrollment_list(struct latchd_env *env, int argc, char **argv)
{
    char col[96];
    json_t *page = NULL;
    json_t *r;
    size_t i;
    int rc;

    rc = cmd_list_run(env, argc, argv, CMD_LIST_STATE | CMD_LIST_DEVICE,
                      core_enrollment_list, &page);
    if (rc != 0 || page == NULL) {
        return rc;
    }
    printf("%-6s %-15s %-18s %-20s %s\n", "ID", "STATE", "DEVICE", "HOSTNAME",
           "CREATED");
    json_array_foreach(json_object_get(page, "items"), i, r)
    {
        printf("%-6lld %-15s %-18.16s %-20s %s%s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "state")),
               cmd_str(json_object_get(r, "device_id")),
               safeout_col(cmd_str(json_object_get(r, "hostname")), 20, col,
                           sizeof(col)),
               cmd_str(json_object_get(r, "created_at")),
               json_is_true(json_object_get(r, "is_rotation"))
                   ? " (AK rotation)"
                   : "");
    }
    cmd_print_next(page);
    json_decref(page);
    return 0;
}

static void
print_show(json_t *e)
{
    const json_t *report = json_object_get(e, "report");
    const json_t *item;
    const char *k;
    json_t *v;
    size_t i;

    printf("enrollment %lld: %s%s\n",
           (long long)json_integer_value(json_object_get(e, "id")),
           json_string_value(json_object_get(e, "state")),
           json_is_true(json_object_get(e, "is_rotation")) ? " (AK rotation)"
                                                           : "");
    json_object_foreach(e, k, v)
    {
        if (json_is_string(v) && strcmp(k, "state") != 0) {
            printf("  %-16s %s\n", k, cmd_str(v));
        }
    }
    if (json_is_object(report)) {
        printf("checks:\n");
        json_array_foreach(json_object_get(report, "checks"), i, item)
        {
            printf("  %-5s %-32s %s\n",
                   cmd_str(json_object_get(item, "result")),
                   cmd_str(json_object_get(item, "name")),
                   cmd_str(json_object_get(item, "detail")));
        }
    }
    json_array_foreach(json_object_get(e, "licenses"), i, item)
    {
        printf("license %lld: serial %lld, %s\n",
               (long long)json_integer_value(json_object_get(item, "id")),
               (long long)json_integer_value(json_object_get(item, "serial")),
               cmd_str(json_object_get(item, "state")));
    }
}

int
cmd_enrollment_show(struct latchd_env *env, int argc, char **argv)
{
    json_t *out = NULL;
    int rc;

    rc = cmd_show_id(env, argc, argv, core_enrollment_show, &out);
    if (rc != 0) {
        return rc;
    }
    if (env->json) {
        latchd_print_json(out);
    } else {
        print_show(out);
        json_decref(out);
    }
    return 0;
}

/* Prints an enrollment summary after a decision. */
static int
print_decision(struct latchd_env *env, json_t *out, const char *verb)
{
    const json_t *rev = json_object_get(out, "revoked_licenses");

    if (env->json) {
        latchd_print_json(out);
        return 0;
    }
    printf("enrollment %lld %s\n",
           (long long)json_integer_value(json_object_get(out, "id")), verb);
    if (json_array_size(rev) > 0) {
        printf("AK rotation: revoked %zu license(s) of older enrollments\n",
               json_array_size(rev));
    }
    json_decref(out);
    return 0;
}

/*
 * Parses "ID [--flag]" into *id and *set. Returns 0, or the exit code after
 * printing the usage or the malformed ID.
 */
static int
id_and_flag(struct latchd_env *env, int argc, char **argv, const char *flag,
            const char *usage, int64_t *id, bool *set)
{
    const struct option longopts[] = {
        {flag, no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    enum latch_status st;
    int ch;

    *set = false;
    latch_err_clear(&err);
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch != 'f') {
            return latchd_usage(argv[0], usage);
        }
        *set = true;
    }
    if (optind + 1 != argc) {
        return latchd_usage(argv[0], usage);
    }
    st = cmd_parse_id(argv[optind], id, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return 0;
}

int
cmd_enrollment_approve(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *out = NULL;
    bool override = false;
    int64_t id = 0;
    int rc;

    rc = id_and_flag(env, argc, argv, "override", "ID [--override] [--json]",
                     &id, &override);
    if (rc != 0) {
        return rc;
    }
    latch_err_clear(&err);
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st == LATCH_OK) {
        st = core_enrollment_approve(c, env->actor, id, override, &out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return print_decision(env, out, "approved");
}

int
cmd_enrollment_reject(struct latchd_env *env, int argc, char **argv)
{
    json_t *out = NULL;
    int rc;

    rc = cmd_with_reason(env, argc, argv, core_enrollment_reject, &out);
    if (rc != 0) {
        return rc;
    }
    return print_decision(env, out, "rejected");
}

int
cmd_enrollment_revalidate(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *out = NULL;
    json_t *ids = NULL;
    bool wait = false;
    int64_t id = 0;
    int rc;

    rc = id_and_flag(env, argc, argv, "wait", "ID [--wait] [--json]", &id,
                     &wait);
    if (rc != 0) {
        return rc;
    }
    latch_err_clear(&err);
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st == LATCH_OK) {
        st = core_enrollment_revalidate(c, env->actor, id, &out, &err);
    }
    if (st == LATCH_OK && wait) {
        ids = json_pack("[I]", (json_int_t)id);
        st =
            ids != NULL ? cmd_wait_validated(env, c, ids, &err) : LATCH_E_NOMEM;
        json_decref(out);
        out = NULL;
        if (st == LATCH_OK) {
            st = core_enrollment_show(c, id, &out, &err);
        }
    }
    json_decref(ids);
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(out);
    } else {
        printf("enrollment %lld: %s\n", (long long)id,
               json_string_value(json_object_get(out, "state")));
        json_decref(out);
    }
    return 0;
}

int
cmd_enrollment_progress(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"since", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    enum latch_status st = LATCH_OK;
    struct core *c = NULL;
    json_t *out = NULL;
    json_t *m;
    int64_t since = 0;
    int64_t id = 0;
    size_t i;
    int ch;

    latch_err_clear(&err);
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch != 's') {
            return latchd_usage(argv[0], "ID [--since MSG_ID] [--json]");
        }
        if (cmd_parse_num("--since", optarg, 0, INT64_MAX, &since, &err) !=
            LATCH_OK) {
            fprintf(stderr, "latchd: %s\n", err.msg);
            return latchd_usage(argv[0], "ID [--since MSG_ID] [--json]");
        }
    }
    if (optind + 1 != argc) {
        return latchd_usage(argv[0], "ID [--since MSG_ID] [--json]");
    }
    st = cmd_parse_id(argv[optind], &id, &err);
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = core_enrollment_progress(c, id, since, &out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(out);
        return 0;
    }
    cmd_human(out);
    json_array_foreach(json_object_get(out, "messages"), i, m)
    {
        printf("%-6lld %s %-5s %s\n",
               (long long)json_integer_value(json_object_get(m, "id")),
               cmd_str(json_object_get(m, "time")),
               cmd_str(json_object_get(m, "level")),
               cmd_str(json_object_get(m, "text")));
    }
    json_decref(out);
    return 0;
}
