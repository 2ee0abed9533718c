/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_license.c: `latchd license issue|list|show|revoke|export`. Issue and
 * export write the file atomically, and issue only after the license row
 * is committed, so every file on disk has its row.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "codec.h"
#include "core.h"
#include "filebatch.h"
#include "fsutil.h"
#include "license.h"
#include "outfile.h"
#include "safeout.h"

#define ISSUE_USAGE                                                            \
    "--enrollment ID... --customer NAME [--plan NAME] [--feature SPEC]... "    \
    "[--valid-until DATE] [--supersede] [--count N] -o FILE|DIR [--json]"
#define ISSUE_MAX_ENR   100000
#define ISSUE_MAX_COUNT 1000000
#define ISSUE_BATCH     64 /* licenses per transaction in bulk mode */

struct issue_args {
    struct core_issue_req req;
    struct core_feature features[LATCH_FEATURES_MAX];
    int64_t *enrollments;
    size_t nenrollments;
    int64_t count;
    const char *out;
    size_t stored; /* licenses committed so far */
};

static enum latch_status
add_enrollment(struct issue_args *a, const char *s, struct latch_err *err)
{
    int64_t *grown;

    if (a->nenrollments >= ISSUE_MAX_ENR) {
        return latch_err_set(err, LATCH_E_USAGE, "at most %d enrollments",
                             ISSUE_MAX_ENR);
    }
    grown = realloc(a->enrollments,
                    (a->nenrollments + 1) * sizeof(*a->enrollments));
    if (grown == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
    }
    a->enrollments = grown;
    return cmd_parse_id(s, &a->enrollments[a->nenrollments++], err);
}

static int
id_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x;
    int64_t b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

/* One license per enrollment and call: a repeat is a typo, not two. */
static enum latch_status
enrollments_once(const struct issue_args *a, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    int64_t *ids;
    size_t i;

    if (a->nenrollments < 2) {
        return LATCH_OK;
    }
    ids = malloc(a->nenrollments * sizeof(*ids));
    if (ids == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
    }
    memcpy(ids, a->enrollments, a->nenrollments * sizeof(*ids));
    qsort(ids, a->nenrollments, sizeof(*ids), id_cmp);
    for (i = 1; i < a->nenrollments && st == LATCH_OK; i++) {
        if (ids[i] == ids[i - 1]) {
            st = latch_err_set(err, LATCH_E_USAGE,
                               "--enrollment %lld is given twice",
                               (long long)ids[i]);
        }
    }
    free(ids);
    return st;
}

/*
 * The checks that need no database, made before the enrollments' state:
 * an enrollment or a feature named twice, a --valid-until that is not in
 * the future.
 */
static enum latch_status
issue_checks(const struct issue_args *a, struct latch_err *err)
{
    char when[LATCH_TIME_LEN];
    enum latch_status st;
    size_t i;
    size_t j;

    st = enrollments_once(a, err);
    if (st != LATCH_OK) {
        return st;
    }
    for (i = 0; i < a->req.nfeatures; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(a->features[i].name, a->features[j].name) == 0) {
                return latch_err_set(err, LATCH_E_USAGE,
                                     "feature %s is given twice",
                                     a->features[i].name);
            }
        }
    }
    if (a->req.has_valid_until && a->req.valid_until <= (int64_t)time(NULL)) {
        latch_time_format(a->req.valid_until, when);
        return latch_err_set(err, LATCH_E_USAGE,
                             "--valid-until %s is not in the future", when);
    }
    return LATCH_OK;
}

static int
issue_opts(int argc, char **argv, struct issue_args *a, struct latch_err *err)
{
    static const struct option longopts[] = {
        {"enrollment", required_argument, NULL, 'e'},
        {"customer", required_argument, NULL, 'c'},
        {"plan", required_argument, NULL, 'p'},
        {"feature", required_argument, NULL, 'f'},
        {"valid-until", required_argument, NULL, 'u'},
        {"supersede", no_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    enum latch_status st = LATCH_OK;
    int ch;

    a->count = 1;
    while (st == LATCH_OK) {
        ch = getopt_long(argc, argv, "o:", longopts, NULL);
        if (ch == -1) {
            break;
        }
        switch (ch) {
        case 'e':
            st = add_enrollment(a, optarg, err);
            break;
        case 'c':
            a->req.customer = optarg;
            st = core_text_check("--customer", optarg, CORE_NAME_MAX, err);
            break;
        case 'p':
            a->req.plan = optarg;
            st = core_text_check("--plan", optarg, CORE_NAME_MAX, err);
            break;
        case 'f':
            if (a->req.nfeatures >= LATCH_FEATURES_MAX) {
                st = latch_err_set(err, LATCH_E_USAGE, "too many features");
                break;
            }
            st =
                core_feature_parse(optarg, &a->features[a->req.nfeatures], err);
            a->req.nfeatures++;
            break;
        case 'u':
            st = core_date_parse("--valid-until", optarg, &a->req.valid_until,
                                 err);
            a->req.has_valid_until = true;
            break;
        case 's':
            a->req.supersede = true;
            break;
        case 'n':
            st = cmd_parse_num("--count", optarg, 1, ISSUE_MAX_COUNT, &a->count,
                               err);
            break;
        case 'o':
            a->out = optarg;
            break;
        default:
            return 2;
        }
    }
    if (st != LATCH_OK) {
        return -1;
    }
    if (optind != argc || a->nenrollments == 0 || a->req.customer == NULL ||
        a->out == NULL) {
        return 2;
    }
    a->req.features = a->features;
    return issue_checks(a, err) == LATCH_OK ? 0 : -1;
}

/* Where license number i goes: -o FILE for one, DIR/license-ID.json for
 * many. */
static enum latch_status
out_path(const struct issue_args *a, bool many, const json_t *lic, char *buf,
         size_t cap, struct latch_err *err)
{
    int n;

    if (!many) {
        n = snprintf(buf, cap, "%s", a->out);
    } else {
        n = snprintf(buf, cap, "%s/license-%lld.json", a->out,
                     (long long)json_integer_value(json_object_get(lic, "id")));
    }
    if (n < 0 || (size_t)n >= cap) {
        return latch_err_set(err, LATCH_E_USAGE, "output path too long");
    }
    return LATCH_OK;
}

/*
 * Issues one license and writes its file; the file is written only after
 * its row is committed, so a crash leaves no file without a row.
 */
static enum latch_status
issue_one(struct latchd_env *env, struct core *c, struct issue_args *a,
          bool many, json_t **out, struct latch_err *err)
{
    enum latch_status st;
    char path[4096];
    char msg[160];
    char *file = NULL;
    size_t len = 0;

    st = core_license_issue(c, env->actor, &a->req, out, &file, &len, err);
    if (st == LATCH_OK) {
        a->stored++;
        st = out_path(a, many, *out, path, sizeof(path), err);
    }
    if (st == LATCH_OK) {
        st = out_write_new(path, file, len, 0644, err);
        if (st != LATCH_OK) {
            snprintf(
                msg, sizeof(msg),
                "license %lld stored, but its file could not be "
                "written (recover it with: latchd license export %lld "
                "-o FILE)",
                (long long)json_integer_value(json_object_get(*out, "id")),
                (long long)json_integer_value(json_object_get(*out, "id")));
            latch_err_prefix(err, msg);
        }
    }
    if (st == LATCH_OK) {
        json_object_set_new(*out, "file", json_string(path));
    }
    free(file);
    return st;
}

/*
 * Bulk mode: ISSUE_BATCH licenses per transaction, their files written
 * after the commit with two flushes per batch. A crash loses at most the
 * files of the last committed batch, never leaves a file without its row.
 */
/* Whether dir/name holds exactly f's bytes (this batch placed it). */
static bool
placed(const char *dir, const struct file_item *f)
{
    struct latch_err err;
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    bool same;

    latch_err_clear(&err);
    snprintf(path, sizeof(path), "%s/%s", dir, f->name);
    if (latch_read_file(path, f->len + 1, &buf, &len, &err) != LATCH_OK) {
        return false;
    }
    same = len == f->len && memcmp(buf, f->data, len) == 0;
    free(buf);
    return same;
}

/*
 * After a failed batch write: names on stderr each license that is stored
 * but has no file, with the command that writes it, and says so in err.
 */
static void
unwritten_report(const char *dir, const struct file_item *files,
                 const struct core_issued *issued, size_t n,
                 struct latch_err *err)
{
    char msg[200];
    size_t missing = 0;
    size_t i;
    long long id;

    for (i = 0; i < n; i++) {
        if (placed(dir, &files[i])) {
            continue;
        }
        id = (long long)json_integer_value(
            json_object_get(issued[i].summary, "id"));
        fprintf(stderr,
                "latchd: license %lld stored without its file %s/%s; "
                "write it with: latchd license export %lld -o FILE\n",
                id, dir, files[i].name, id);
        missing++;
    }
    snprintf(msg, sizeof(msg),
             "%zu stored license(s) have no file (listed above with the "
             "command that writes each)",
             missing);
    latch_err_prefix(err, msg);
}

static enum latch_status
issue_batch(struct latchd_env *env, struct core *c, struct issue_args *a,
            struct core_issue_req *reqs, size_t n, json_t *items,
            struct latch_err *err)
{
    struct core_issued issued[ISSUE_BATCH];
    struct file_item files[ISSUE_BATCH];
    char names[ISSUE_BATCH][48];
    char path[4096];
    enum latch_status st;
    size_t i;

    st = core_license_issue_many(c, env->actor, reqs, n, issued, err);
    if (st != LATCH_OK) {
        return st;
    }
    a->stored += n;
    for (i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "license-%lld.json",
                 (long long)json_integer_value(
                     json_object_get(issued[i].summary, "id")));
        files[i].name = names[i];
        files[i].data = issued[i].file;
        files[i].len = issued[i].filelen;
    }
    st = files_write_batch(a->out, files, n, 0644, err);
    if (st != LATCH_OK) {
        unwritten_report(a->out, files, issued, n, err);
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        snprintf(path, sizeof(path), "%s/%s", a->out, names[i]);
        json_object_set_new(issued[i].summary, "file", json_string(path));
        json_array_append(items, issued[i].summary);
    }
    core_issued_free(issued, n);
    return st;
}

static enum latch_status
issue_bulk(struct latchd_env *env, struct core *c, struct issue_args *a,
           json_t *items, struct latch_err *err)
{
    struct core_issue_req reqs[ISSUE_BATCH];
    enum latch_status st = LATCH_OK;
    size_t n = 0;
    size_t i;
    int64_t k;

    for (i = 0; st == LATCH_OK && i < a->nenrollments; i++) {
        for (k = 0; st == LATCH_OK && k < a->count; k++) {
            reqs[n] = a->req;
            reqs[n].enrollment_id = a->enrollments[i];
            n++;
            if (n == ISSUE_BATCH) {
                st = issue_batch(env, c, a, reqs, n, items, err);
                n = 0;
            }
        }
    }
    if (st == LATCH_OK && n > 0) {
        st = issue_batch(env, c, a, reqs, n, items, err);
    }
    return st;
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
issue_report(struct latchd_env *env, json_t *items, double secs)
{
    json_t *one = json_array_get(items, 0);
    size_t n = json_array_size(items);

    if (n == 1) {
        if (env->json) {
            latchd_print_json(json_incref(one));
        } else {
            printf(
                "license %lld: serial %lld for device %.16s..., written "
                "to %s\n",
                (long long)json_integer_value(json_object_get(one, "id")),
                (long long)json_integer_value(json_object_get(one, "serial")),
                cmd_str(json_object_get(one, "device_id")),
                cmd_str(json_object_get(one, "file")));
        }
        return 0;
    }
    if (env->json) {
        latchd_print_json(
            json_pack("{s:n, s:s, s:I, s:f, s:f, s:O}", "id", "state", "issued",
                      "count", (json_int_t)n, "seconds", secs, "per_second",
                      secs > 0 ? (double)n / secs : 0.0, "items", items));
    } else {
        printf("issued %zu licenses in %.3f s (%.1f per second)\n", n, secs,
               secs > 0 ? (double)n / secs : 0.0);
    }
    return 0;
}

int
cmd_license_issue(struct latchd_env *env, int argc, char **argv)
{
    struct issue_args *a = NULL;
    struct latch_err err;
    enum latch_status st = LATCH_OK;
    struct core *c = NULL;
    json_t *items = NULL;
    json_t *out = NULL;
    double t0;
    bool many;
    int rc;

    latch_err_clear(&err);
    a = calloc(1, sizeof(*a));
    items = json_array();
    if (a == NULL || items == NULL) {
        free(a);
        json_decref(items);
        return latchd_fail(env, LATCH_E_NOMEM, NULL);
    }
    rc = issue_opts(argc, argv, a, &err);
    if (rc == -1) {
        rc = latchd_fail(env, LATCH_E_USAGE, &err);
        goto out;
    }
    if (rc != 0) {
        rc = latchd_usage(argv[0], ISSUE_USAGE);
        goto out;
    }
    many = a->nenrollments > 1 || a->count > 1;
    /* Checked before anything is issued: no license row whose file cannot
     * be written, never over an existing file or into the data dir. */
    st = out_check(a->out, many, env->cfg.data_dir, &err);
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    t0 = now_seconds();
    if (st == LATCH_OK && many) {
        st = issue_bulk(env, c, a, items, &err);
    } else if (st == LATCH_OK) {
        a->req.enrollment_id = a->enrollments[0];
        st = issue_one(env, c, a, many, &out, &err);
        if (st == LATCH_OK) {
            json_array_append_new(items, out);
        }
    }
    if (st != LATCH_OK) {
        if (many && a->stored > 0) {
            char msg[96];

            snprintf(msg, sizeof(msg),
                     "stopped after %zu license(s) were "
                     "stored",
                     a->stored);
            latch_err_prefix(&err, msg);
        }
        rc = latchd_fail(env, st, &err);
        goto out;
    }
    rc = issue_report(env, items, now_seconds() - t0);

out:
    json_decref(items);
    core_free(c);
    free(a->enrollments);
    free(a);
    return rc;
}

int
cmd_license_list(struct latchd_env *env, int argc, char **argv)
{
    char col[96];
    json_t *page = NULL;
    json_t *r;
    size_t i;
    int rc;

    rc = cmd_list_run(env, argc, argv,
                      CMD_LIST_STATE | CMD_LIST_DEVICE | CMD_LIST_ENROLLMENT |
                          CMD_LIST_CUSTOMER,
                      core_license_list, &page);
    if (rc != 0 || page == NULL) {
        return rc;
    }
    printf("%-6s %-11s %-6s %-18s %-6s %-20s %s\n", "ID", "STATE", "SERIAL",
           "DEVICE", "ENR", "CUSTOMER", "ISSUED");
    json_array_foreach(json_object_get(page, "items"), i, r)
    {
        printf(
            "%-6lld %-11s %-6lld %-18.16s %-6lld %-20s %s\n",
            (long long)json_integer_value(json_object_get(r, "id")),
            cmd_str(json_object_get(r, "state")),
            (long long)json_integer_value(json_object_get(r, "serial")),
            cmd_str(json_object_get(r, "device_id")),
            (long long)json_integer_value(json_object_get(r, "enrollment_id")),
            safeout_col(cmd_str(json_object_get(r, "customer")), 20, col,
                        sizeof(col)),
            cmd_str(json_object_get(r, "issued_at")));
    }
    cmd_print_next(page);
    json_decref(page);
    return 0;
}

static int
print_license(struct latchd_env *env, json_t *out)
{
    const char *k;
    json_t *v;

    if (env->json) {
        latchd_print_json(out);
        return 0;
    }
    printf("license %lld: %s\n",
           (long long)json_integer_value(json_object_get(out, "id")),
           cmd_str(json_object_get(out, "state")));
    json_object_foreach(out, k, v)
    {
        if (json_is_string(v) && strcmp(k, "state") != 0) {
            printf("  %-14s %s\n", k, json_string_value(v));
        } else if (json_is_integer(v) && strcmp(k, "id") != 0) {
            printf("  %-14s %lld\n", k, (long long)json_integer_value(v));
        }
    }
    json_object_foreach(json_object_get(out, "features"), k, v)
    {
        printf("  feature %-24s", k);
        if (json_is_integer(json_object_get(v, "quantity"))) {
            printf(" quantity %lld", (long long)json_integer_value(
                                         json_object_get(v, "quantity")));
        }
        if (json_is_string(json_object_get(v, "valid_until"))) {
            printf(" until %s", cmd_str(json_object_get(v, "valid_until")));
        }
        printf("\n");
    }
    json_decref(out);
    return 0;
}

int
cmd_license_show(struct latchd_env *env, int argc, char **argv)
{
    json_t *out = NULL;
    int rc;

    rc = cmd_show_id(env, argc, argv, core_license_show, &out);
    if (rc != 0) {
        return rc;
    }
    return print_license(env, out);
}

int
cmd_license_revoke(struct latchd_env *env, int argc, char **argv)
{
    json_t *out = NULL;
    int rc;

    rc = cmd_with_reason(env, argc, argv, core_license_revoke, &out);
    if (rc != 0) {
        return rc;
    }
    return print_license(env, out);
}

/* The file's exact bytes on fd 1, past the escaping stdout filter. */
static enum latch_status
write_stdout(const char *buf, size_t len, struct latch_err *err)
{
    ssize_t w;

    fflush(stdout);
    while (len > 0) {
        w = write(STDOUT_FILENO, buf, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return latch_err_set(err, LATCH_E_IO, "standard output: %s",
                                 w < 0 ? strerror(errno) : "short write");
        }
        buf += w;
        len -= (size_t)w;
    }
    return LATCH_OK;
}

int
cmd_license_export(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    struct core *c = NULL;
    const char *path = NULL;
    char *file = NULL;
    size_t len = 0;
    int64_t id = 0;
    bool to_stdout;
    int ch;

    latch_err_clear(&err);
    for (;;) {
        ch = getopt(argc, argv, "o:");
        if (ch == -1) {
            break;
        }
        if (ch != 'o') {
            return latchd_usage(argv[0], "ID -o FILE|- [--json]");
        }
        path = optarg;
    }
    if (optind + 1 != argc || path == NULL) {
        return latchd_usage(argv[0], "ID -o FILE|- [--json]");
    }
    to_stdout = strcmp(path, "-") == 0;
    st = cmd_parse_id(argv[optind], &id, &err);
    if (st == LATCH_OK && to_stdout && env->json) {
        st = latch_err_set(&err, LATCH_E_USAGE,
                           "-o - (the file on standard output) and --json "
                           "exclude each other");
    }
    if (st == LATCH_OK && !to_stdout) {
        st = out_check(path, false, env->cfg.data_dir, &err);
    }
    if (st == LATCH_OK) {
        st = core_open(&env->cfg, env->db, &c, &err);
    }
    if (st == LATCH_OK) {
        st = core_license_export(c, id, &file, &len, &err);
    }
    if (st == LATCH_OK && to_stdout) {
        st = write_stdout(file, len, &err);
    } else if (st == LATCH_OK) {
        st = out_write_new(path, file, len, 0644, &err);
    }
    free(file);
    core_free(c);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id,
                                    "state", "exported", "file", path));
    } else if (to_stdout) {
        fprintf(stderr, "latchd: license %lld written to standard output\n",
                (long long)id);
    } else {
        printf("license %lld written to %s\n", (long long)id, path);
    }
    return 0;
}
