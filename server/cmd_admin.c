/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_admin.c: `latchd customer add|list`, `plan add|list`, `device
 * list|show`, `audit list|verify` and `worker` (validation workers in the
 * foreground, for a deployment without `latchd serve`).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "core.h"
#include "license.h"

/* Runs a list operation and prints JSON or "id name" lines. */
static int
run_list(struct latchd_env *env, int argc, char **argv, cmd_list_fn fn,
         const char *field)
{
    json_t *page = NULL;
    json_t *r;
    size_t i;
    int rc;

    rc = cmd_list_run(env, argc, argv, 0, fn, &page);
    if (rc != 0 || page == NULL) {
        return rc;
    }
    json_array_foreach(json_object_get(page, "items"), i, r)
    {
        printf("%-6lld %s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               cmd_str(json_object_get(r, field)));
    }
    cmd_print_next(page);
    json_decref(page);
    return 0;
}

static int
print_obj(struct latchd_env *env, json_t *out, const char *what)
{
    if (env->json) {
        latchd_print_json(out);
    } else {
        cmd_human(out);
        printf("%s %lld: %s\n", what,
               (long long)json_integer_value(json_object_get(out, "id")),
               cmd_str(json_object_get(out, "name")));
        json_decref(out);
    }
    return 0;
}

int
cmd_customer_add(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *out = NULL;

    latch_err_clear(&err);
    if (argc != 2) {
        return latchd_usage(argv[0], "NAME [--json]");
    }
    st = core_text_check("customer name", argv[1], CORE_NAME_MAX, &err);
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = core_customer_add(c, env->actor, argv[1], &out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return print_obj(env, out, "customer");
}

int
cmd_customer_list(struct latchd_env *env, int argc, char **argv)
{
    return run_list(env, argc, argv, core_customer_list, "name");
}

int
cmd_plan_add(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"feature", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct core_feature *fs = NULL;
    struct latch_err err;
    enum latch_status st = LATCH_OK;
    struct core *c = NULL;
    json_t *out = NULL;
    size_t n = 0;
    int ch;

    latch_err_clear(&err);
    fs = calloc(LATCH_FEATURES_MAX, sizeof(*fs));
    if (fs == NULL) {
        return latchd_fail(env, LATCH_E_NOMEM, NULL);
    }
    while (st == LATCH_OK) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch != 'f' || n >= LATCH_FEATURES_MAX) {
            free(fs);
            return latchd_usage(argv[0], "NAME --feature "
                                         "name[=quantity][@until] ...");
        }
        st = core_feature_parse(optarg, &fs[n++], &err);
    }
    if (st == LATCH_OK && optind + 1 != argc) {
        free(fs);
        return latchd_usage(argv[0], "NAME --feature name[=quantity][@until] "
                                     "...");
    }
    if (st == LATCH_OK) {
        st = core_text_check("plan name", argv[optind], CORE_NAME_MAX, &err);
    }
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = core_plan_add(c, env->actor, argv[optind], fs, n, &out, &err);
    }
    core_free(c);
    free(fs);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return print_obj(env, out, "plan");
}

int
cmd_plan_list(struct latchd_env *env, int argc, char **argv)
{
    return run_list(env, argc, argv, core_plan_list, "name");
}

int
cmd_device_list(struct latchd_env *env, int argc, char **argv)
{
    return run_list(env, argc, argv, core_device_list, "device_id");
}

int
cmd_device_show(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *out = NULL;
    json_t *r;
    int64_t id = 0;
    size_t i;

    latch_err_clear(&err);
    if (argc != 2) {
        return latchd_usage(argv[0], "ID|DEVICE_ID [--json]");
    }
    st = LATCH_OK;
    if (!cmd_device_id_ok(argv[1]) &&
        cmd_parse_id(argv[1], &id, &err) != LATCH_OK) {
        latch_err_clear(&err);
        st = latch_err_set(&err, LATCH_E_USAGE,
                           "\"%.70s\" is neither an id nor a device id (64 "
                           "lowercase hex digits)",
                           argv[1]);
    }
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = core_device_show(c, argv[1], &out, &err);
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
    printf("device %lld: %s\n  ek_template %s\n  manufacturer %s\n",
           (long long)json_integer_value(json_object_get(out, "id")),
           cmd_str(json_object_get(out, "device_id")),
           cmd_str(json_object_get(out, "ek_template")),
           cmd_str(json_object_get(out, "tpm_manufacturer")));
    json_array_foreach(json_object_get(out, "enrollments"), i, r)
    {
        printf("  enrollment %lld: %s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               cmd_str(json_object_get(r, "state")));
    }
    json_array_foreach(json_object_get(out, "licenses"), i, r)
    {
        printf("  license %lld: serial %lld, %s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               (long long)json_integer_value(json_object_get(r, "serial")),
               cmd_str(json_object_get(r, "state")));
    }
    json_decref(out);
    return 0;
}

int
cmd_audit_list(struct latchd_env *env, int argc, char **argv)
{
    json_t *page = NULL;
    json_t *r;
    char *details;
    size_t i;
    int rc;

    rc = cmd_list_run(env, argc, argv, 0, core_audit_list, &page);
    if (rc != 0 || page == NULL) {
        return rc;
    }
    json_array_foreach(json_object_get(page, "items"), i, r)
    {
        details = json_dumps(json_object_get(r, "details"),
                             JSON_COMPACT | JSON_ENSURE_ASCII);
        printf("%-6lld %s %-16s %-26s %-22s %s\n",
               (long long)json_integer_value(json_object_get(r, "seq")),
               cmd_str(json_object_get(r, "time")),
               cmd_str(json_object_get(r, "actor")),
               cmd_str(json_object_get(r, "action")),
               cmd_str(json_object_get(r, "object")),
               details != NULL ? details : "");
        free(details);
    }
    cmd_print_next(page);
    json_decref(page);
    return 0;
}

int
cmd_audit_verify(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    json_t *out = NULL;
    bool ok;

    latch_err_clear(&err);
    if (argc != 1) {
        return latchd_usage(argv[0], "[--json]");
    }
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st == LATCH_OK) {
        st = core_audit_verify(c, &out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    ok = strcmp(cmd_str(json_object_get(out, "state")), "ok") == 0;
    if (env->json) {
        latchd_print_json(out);
    } else {
        if (ok) {
            printf("audit chain ok: %lld rows\n",
                   (long long)json_integer_value(json_object_get(out, "rows")));
        } else {
            printf("audit chain BROKEN at row %lld (%s): %s\n",
                   (long long)json_integer_value(
                       json_object_get(out, "first_bad_seq")),
                   cmd_str(json_object_get(out, "problem")),
                   cmd_str(json_object_get(out, "detail")));
        }
        json_decref(out);
    }
    return ok ? 0 : 1;
}

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

#define WORKERS_MAX 64

int
cmd_worker(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, 't'},
        {"once", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct core_workers *w = NULL;
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    int64_t n = env->cfg.workers > 0 ? env->cfg.workers : 1;
    bool once = false;
    bool did = true;
    int ch;

    latch_err_clear(&err);
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch == 't' && cmd_parse_num("--threads", optarg, 1, WORKERS_MAX, &n,
                                       &err) == LATCH_OK) {
            continue;
        }
        if (ch == 't') {
            fprintf(stderr, "latchd: %s\n", err.msg);
        }
        if (ch == 'o') {
            once = true;
            continue;
        }
        return latchd_usage(argv[0], "[--threads 1..64] [--once]");
    }
    if (optind != argc) {
        return latchd_usage_extra(argv[0], argv[optind],
                                  "[--threads 1..64] [--once]");
    }
    if (once) {
        /* Drain the queue on this connection, then exit. */
        st = core_open(&env->cfg, env->db, &c, &err);
        while (st == LATCH_OK && did) {
            st = core_validate_next(c, "cli-once", &did, &err);
        }
        core_free(c);
        return st == LATCH_OK ? 0 : latchd_fail(env, st, &err);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    st = core_workers_start(&env->cfg, (int)n, &w, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    fprintf(stderr, "latchd: %lld validation worker(s) running\n",
            (long long)n);
    while (!stop_requested) {
        pause();
    }
    core_workers_stop(w);
    return 0;
}
