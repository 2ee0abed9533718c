/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_util.c: option, run and output helpers shared by the latchd verbs.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core.h"

int
cmd_list_opts(int argc, char **argv, unsigned int filters,
              struct core_list_opts *opt)
{
    static const struct option longopts[] = {
        {"state", required_argument, NULL, 's'},
        {"device", required_argument, NULL, 'd'},
        {"enrollment", required_argument, NULL, 'e'},
        {"customer", required_argument, NULL, 'c'},
        {"after", required_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {"newest", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    int64_t v = 0;
    int ch;

    memset(opt, 0, sizeof(*opt));
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        switch (ch) {
        case 's':
            if ((filters & CMD_LIST_STATE) == 0) {
                goto usage;
            }
            opt->state = optarg;
            break;
        case 'd':
            if ((filters & CMD_LIST_DEVICE) == 0) {
                goto usage;
            }
            opt->device_id = optarg;
            if (!cmd_device_id_ok(optarg)) {
                fprintf(stderr,
                        "latchd: --device \"%.70s\": not a device id (64 "
                        "lowercase hex digits)\n",
                        optarg);
                goto usage;
            }
            break;
        case 'e':
            if ((filters & CMD_LIST_ENROLLMENT) == 0) {
                goto usage;
            }
            if (cmd_parse_num("--enrollment", optarg, 1, INT64_MAX,
                              &opt->enrollment_id, &err) != LATCH_OK) {
                goto bad;
            }
            break;
        case 'c':
            if ((filters & CMD_LIST_CUSTOMER) == 0) {
                goto usage;
            }
            opt->customer = optarg;
            if (core_text_check("--customer", optarg, CORE_NAME_MAX, &err) !=
                LATCH_OK) {
                fprintf(stderr, "latchd: %s\n", err.msg);
                goto usage;
            }
            break;
        case 'a':
            if (cmd_parse_num("--after", optarg, 1, INT64_MAX, &opt->after_id,
                              &err) != LATCH_OK) {
                goto bad;
            }
            break;
        case 'l':
            if (cmd_parse_num("--limit", optarg, 1, CORE_LIST_MAX, &v, &err) !=
                LATCH_OK) {
                goto bad;
            }
            opt->limit = (int)v;
            break;
        case 'n':
            opt->newest_first = true;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc) {
        goto usage;
    }
    return 0;

bad:
    fprintf(stderr, "latchd: %s\n", err.msg);
usage:
    fprintf(stderr,
            "usage: %s%s%s%s%s [--after ID] [--limit 1..%d] [--newest] "
            "[--json]\n",
            argv[0], (filters & CMD_LIST_STATE) != 0 ? " [--state S]" : "",
            (filters & CMD_LIST_DEVICE) != 0 ? " [--device DEVICE_ID]" : "",
            (filters & CMD_LIST_ENROLLMENT) != 0 ? " [--enrollment ID]" : "",
            (filters & CMD_LIST_CUSTOMER) != 0 ? " [--customer NAME]" : "",
            CORE_LIST_MAX);
    return 2;
}

int
cmd_list_run(struct latchd_env *env, int argc, char **argv,
             unsigned int filters, cmd_list_fn fn, json_t **page)
{
    struct core_list_opts opt;
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    int rc;

    *page = NULL;
    latch_err_clear(&err);
    rc = cmd_list_opts(argc, argv, filters, &opt);
    if (rc != 0) {
        return rc;
    }
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st == LATCH_OK) {
        st = fn(c, &opt, page, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        json_decref(*page);
        *page = NULL;
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(*page);
        *page = NULL;
    } else {
        cmd_human(*page);
    }
    return 0;
}

int
cmd_show_id(struct latchd_env *env, int argc, char **argv, cmd_show_fn fn,
            json_t **out)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    int64_t id = 0;

    *out = NULL;
    latch_err_clear(&err);
    if (argc != 2) {
        return latchd_usage(argv[0], "ID [--json]");
    }
    st = cmd_parse_id(argv[1], &id, &err);
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = fn(c, id, out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        json_decref(*out);
        *out = NULL;
        return latchd_fail(env, st, &err);
    }
    if (!env->json) {
        cmd_human(*out);
    }
    return 0;
}

int
cmd_with_reason(struct latchd_env *env, int argc, char **argv, cmd_reason_fn fn,
                json_t **out)
{
    static const struct option longopts[] = {
        {"reason", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    const char *reason = NULL;
    int64_t id = 0;
    int ch;

    *out = NULL;
    latch_err_clear(&err);
    for (;;) {
        ch = getopt_long(argc, argv, "", longopts, NULL);
        if (ch == -1) {
            break;
        }
        if (ch != 'r') {
            return latchd_usage(argv[0], "ID --reason TEXT [--json]");
        }
        reason = optarg;
    }
    if (optind + 1 != argc || reason == NULL) {
        return latchd_usage(argv[0], "ID --reason TEXT [--json]");
    }
    st = cmd_parse_id(argv[optind], &id, &err);
    if (st == LATCH_OK) {
        st = core_text_check("--reason", reason, CORE_REASON_MAX, &err);
    }
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = fn(c, env->actor, id, reason, out, &err);
    }
    core_free(c);
    if (st != LATCH_OK) {
        json_decref(*out);
        *out = NULL;
        return latchd_fail(env, st, &err);
    }
    if (!env->json) {
        cmd_human(*out);
    }
    return 0;
}

const char *
cmd_str(const json_t *v)
{
    const char *s = json_string_value(v);

    return s != NULL ? s : "-";
}

void
cmd_print_next(const json_t *page)
{
    const json_t *next = json_object_get(page, "next");

    if (json_is_integer(next)) {
        printf("more: --after %lld\n", (long long)json_integer_value(next));
    }
}

/* s with each newline and tab spelled <U+000A> / <U+0009>; NULL if s has
 * none (or on allocation failure: then the output filter still escapes
 * every other control character). */
static char *
flatten(const char *s)
{
    size_t n = 0;
    size_t i;
    size_t o = 0;
    char *out;

    for (i = 0; s[i] != '\0'; i++) {
        n += s[i] == '\n' || s[i] == '\t';
    }
    if (n == 0 || (out = malloc(i + 7 * n + 1)) == NULL) {
        return NULL;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\n' || s[i] == '\t') {
            o += (size_t)sprintf(out + o, "<U+%04X>", (unsigned)s[i]);
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void
cmd_human(json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;
    char *flat;

    if (json_is_object(v)) {
        json_object_foreach(v, k, e)
        {
            cmd_human(e);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            cmd_human(e);
        }
    } else if (json_is_string(v)) {
        flat = flatten(json_string_value(v));
        if (flat != NULL) {
            json_string_set(v, flat);
            free(flat);
        }
    }
}

bool
cmd_device_id_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return i == 64;
}
