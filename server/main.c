/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * main.c: latchd's entry point. Takes the global options (--data DIR,
 * --json) from anywhere on the command line, finds the verb in the table
 * (verbs.c), prepares what it needs (configuration, database) and runs it.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "latchd.h"
#include "safeout.h"

#define ARGV0_MAX 96

static void
print_verbs(FILE *f)
{
    const struct latchd_verb *v;

    fprintf(f, "usage: latchd [--data DIR] [--json] VERB ...\n\nverbs:\n");
    for (v = latchd_verbs; v->verb != NULL; v++) {
        fprintf(f, "  latchd %s%s%s %s\n", v->verb, v->sub != NULL ? " " : "",
                v->sub != NULL ? v->sub : "", v->usage);
    }
    fprintf(f, "\nThe data directory comes from --data DIR or LATCHD_DATA.\n");
}

/*
 * Removes --data DIR, --data=DIR and --json from argv (in place), setting
 * env. Returns the new argc, or -1 on a --data without a value.
 */
static int
take_globals(struct latchd_env *env, int argc, char **argv)
{
    int i;
    int o = 1;
    bool rest = false;

    for (i = 1; i < argc; i++) {
        if (rest) {
            argv[o++] = argv[i];
        } else if (strcmp(argv[i], "--") == 0) {
            rest = true;
            argv[o++] = argv[i];
        } else if (strcmp(argv[i], "--json") == 0) {
            env->json = true;
        } else if (strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= argc) {
                return -1;
            }
            env->data_dir = argv[++i];
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            env->data_dir = argv[i] + 7;
        } else {
            argv[o++] = argv[i];
        }
    }
    argv[o] = NULL;
    return o;
}

static const struct latchd_verb *
find_verb(int argc, char **argv, bool *verb_known)
{
    const struct latchd_verb *v;

    *verb_known = false;
    for (v = latchd_verbs; v->verb != NULL; v++) {
        if (strcmp(v->verb, argv[1]) != 0) {
            continue;
        }
        *verb_known = true;
        if (v->sub == NULL) {
            return v;
        }
        if (argc > 2 && strcmp(v->sub, argv[2]) == 0) {
            return v;
        }
    }
    return NULL;
}

static void
set_actor(struct latchd_env *env)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *name = pw != NULL ? pw->pw_name : "unknown";

    snprintf(env->actor, sizeof(env->actor), "cli:%s", name);
}

/* Set by main: where the data directory came from, for messages. */
static const char *data_from = "--data";

/* An existing data directory that is not one is a bad command line. */
static enum latch_status
data_dir_check(const char *dir, struct latch_err *err)
{
    struct stat sb;

    if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_USAGE, "%s %s: not a directory",
                             data_from, dir);
    }
    return LATCH_OK;
}

static int
prepare(struct latchd_env *env, enum latchd_needs needs)
{
    struct latch_err err;
    enum latch_status st;

    latch_err_clear(&err);
    if (needs == LATCHD_NEEDS_NOTHING) {
        return 0;
    }
    if (env->data_dir == NULL) {
        st = latch_err_set(&err, LATCH_E_USAGE,
                           "no data directory: give --data DIR or set "
                           "LATCHD_DATA");
        return latchd_fail(env, st, &err);
    }
    st = data_dir_check(env->data_dir, &err);
    if (st == LATCH_OK) {
        st = latchd_config_load(env->data_dir, &env->cfg, &err);
    }
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (needs == LATCHD_NEEDS_DB) {
        st = db_open(env->cfg.database, &env->db, &err);
        if (st != LATCH_OK) {
            return latchd_fail(env, st, &err);
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct latchd_env env;
    const struct latchd_verb *v;
    const char *env_dir;
    char argv0[ARGV0_MAX];
    bool known = false;
    int skip;
    int rc;

    memset(&env, 0, sizeof(env));
    signal(SIGPIPE, SIG_IGN);
    env.data_dir = getenv("LATCHD_DATA");
    if (env.data_dir != NULL && env.data_dir[0] == '\0') {
        env.data_dir = NULL;
    }
    if (env.data_dir != NULL) {
        data_from = "LATCHD_DATA";
    }
    env_dir = env.data_dir;
    argc = take_globals(&env, argc, argv);
    safeout_install(env.json);
    if (argc < 0) {
        fprintf(stderr, "latchd: --data needs a directory\n");
        return 2;
    }
    if (env.data_dir != env_dir) {
        data_from = "--data";
    }
    if (env.data_dir != NULL && env.data_dir[0] == '\0') {
        fprintf(stderr, "latchd: --data: empty path\n");
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "help") == 0 ||
        strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_verbs(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    v = find_verb(argc, argv, &known);
    if (v == NULL) {
        fprintf(stderr, "latchd: unknown %s: %s%s%s (latchd help lists them)\n",
                known ? "subcommand" : "verb", argv[1], known ? " " : "",
                known && argc > 2 ? argv[2] : "");
        return 2;
    }
    set_actor(&env);
    rc = prepare(&env, v->needs);
    if (rc != 0) {
        goto out;
    }
    skip = v->sub != NULL ? 2 : 1;
    snprintf(argv0, sizeof(argv0), "latchd %s%s%s", v->verb,
             v->sub != NULL ? " " : "", v->sub != NULL ? v->sub : "");
    argv[skip] = argv0;
    rc = v->fn(&env, argc - skip, argv + skip);

out:
    db_close(env.db);
    latchd_config_free(&env.cfg);
    return rc;
}
