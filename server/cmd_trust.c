/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_trust.c: `latchd trust import-intermediates FILE|DIR...` (offline
 * intermediate bundles into the untrusted cache) and `latchd trust list`
 * (pinned roots from the read-only trust directory, cached intermediates).
 * Nothing here can add a trust anchor.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cmd.h"
#include "cmd_ek.h"
#include "core.h"
#include "db.h"
#include "ekcert.h"
#include "ekcert_int.h"
#include "ekfmt.h"
#include "fsutil.h"

#define IMPORT_FILE_MAX (4 * 1024 * 1024)
#define IMPORT_DEPTH    3

struct import {
    struct ek_cache_ops cache;
    struct db *db;
    const char *trust_dir; /* named when a root is refused */
    json_t *items;
    size_t stored;
    size_t cached; /* already in the cache before this import */
    size_t skipped;
    size_t refused;
    size_t unreadable; /* inputs that could not be read (exit 4) */
};

/* Whether the cache holds the certificate with this DER SHA-256. */
static enum latch_status
in_cache(struct db *db, const char *sha, bool *has, struct latch_err *err)
{
    struct db_stmt *s = NULL;
    enum latch_status st;

    *has = false;
    st = db_prepare(db, "SELECT 1 FROM aia_cache WHERE sha256 = ?", &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    db_bind_text(s, 1, sha);
    st = db_step(s, has, err);
    db_done(s);
    return st;
}

static void
note(struct import *im, const char *file, const char *sha, const char *subj,
     const char *state, const char *why)
{
    json_array_append_new(im->items,
                          json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sha,
                                    "state", state, "file", file, "subject",
                                    subj, "detail", why));
}

/* A root is pinned by hand in the trust directory, never cached here. */
static void
refuse_root(struct import *im, const char *file, size_t nth, const char *sha,
            const char *subj)
{
    char why[1536];

    snprintf(why, sizeof(why),
             "certificate %zu (subject %s, SHA-256 %s) is self-signed: a "
             "root is not an intermediate; to trust it, add it to the trust "
             "directory %s (see docs/ek-certificates.md, \"When the root is "
             "unknown\")",
             nth, subj, sha, im->trust_dir);
    note(im, file, sha, subj, "refused", why);
    im->refused++;
}

/* nth: the certificate's place in its file, from 1. */
static enum latch_status
import_cert(struct import *im, const char *file, size_t nth, X509 *x,
            struct latch_err *err)
{
    unsigned char *der = NULL;
    char sha[EK_HEX256_LEN];
    char key[EK_HEX256_LEN];
    char subj[EK_STR_MAX];
    enum latch_status st;
    bool had = false;
    int n;

    n = i2d_X509(x, &der);
    if (n <= 0) {
        return latch_err_set(err, LATCH_E_FORMAT, "%s: unencodable", file);
    }
    ek_sha256_hex(der, (size_t)n, sha);
    ek_name_str(X509_get_subject_name(x), subj);
    if (ek_self_signed(x)) {
        refuse_root(im, file, nth, sha, subj);
        OPENSSL_free(der);
        return LATCH_OK;
    }
    /* Only CAs help build chains; leaf certificates are not cached. */
    if ((X509_get_extension_flags(x) & EXFLAG_CA) == 0) {
        note(im, file, sha, subj, "skipped", "not a CA certificate");
        im->skipped++;
        OPENSSL_free(der);
        return LATCH_OK;
    }
    st = in_cache(im->db, sha, &had, err);
    if (st == LATCH_OK) {
        st = ek_name_key(X509_get_subject_name(x), key, err);
    }
    if (st == LATCH_OK && !had) {
        st =
            im->cache.store(im->cache.arg, NULL, der, (size_t)n, sha, key, err);
    }
    OPENSSL_free(der);
    if (st != LATCH_OK) {
        return st;
    }
    if (had) {
        note(im, file, sha, subj, "known", "already cached");
        im->cached++;
        return LATCH_OK;
    }
    note(im, file, sha, subj, "cached", "untrusted intermediate");
    im->stored++;
    return LATCH_OK;
}

/*
 * An input that cannot be read (LATCH_E_IO) or is too large to be a bundle
 * (LATCH_E_FORMAT) is reported and the import goes on with the next one;
 * any other failure (database, memory) stops it.
 */
static enum latch_status
input_failed(struct import *im, const char *path, enum latch_status st,
             struct latch_err *err)
{
    if (st != LATCH_E_IO && st != LATCH_E_FORMAT) {
        return st;
    }
    if (st == LATCH_E_IO) {
        note(im, path, "", "", "unreadable", err->msg);
        im->unreadable++;
    } else {
        note(im, path, "", "", "refused", err->msg);
        im->refused++;
    }
    latch_err_clear(err);
    return LATCH_OK;
}

static enum latch_status
import_path(struct import *im, const char *path, int depth,
            struct latch_err *err)
{
    STACK_OF(X509) *certs = NULL;
    struct latch_report rep;
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    size_t rejected = 0;
    size_t i;
    enum latch_status st;

    if (stat(path, &sb) != 0) {
        st = latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
        return input_failed(im, path, st, err);
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d;
        struct dirent *de;

        if (depth >= IMPORT_DEPTH) {
            return LATCH_OK;
        }
        d = opendir(path);
        if (d == NULL) {
            st = latch_err_set(err, LATCH_E_IO, "%s: cannot open: %s", path,
                               strerror(errno));
            return input_failed(im, path, st, err);
        }
        st = LATCH_OK;
        while (st == LATCH_OK && (de = readdir(d)) != NULL) {
            char sub[1024];
            int w;

            if (de->d_name[0] == '.') {
                continue;
            }
            w = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
            if (w > 0 && (size_t)w < sizeof(sub)) {
                st = import_path(im, sub, depth + 1, err);
            }
        }
        closedir(d);
        return st;
    }
    st = latch_read_file(path, IMPORT_FILE_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return input_failed(im, path, st, err);
    }
    memset(&rep, 0, sizeof(rep));
    certs = sk_X509_new_null();
    if (certs == NULL) {
        free(buf);
        return latch_err_set(err, LATCH_E_NOMEM, "import: stack");
    }
    if (ek_certs_from_buf((const uint8_t *)buf, len, certs, &rejected, &rep,
                          err) != LATCH_OK &&
        rejected == 0) {
        note(im, path, "", "", "refused", err->msg);
        im->refused++;
        latch_err_clear(err);
    }
    for (i = 0; i < rep.n; i++) {
        note(im, path, "", "", "refused", rep.items[i].detail);
        im->refused++;
    }
    st = LATCH_OK;
    for (i = 0; st == LATCH_OK && i < (size_t)sk_X509_num(certs); i++) {
        st = import_cert(im, path, i + 1, sk_X509_value(certs, (int)i), err);
    }
    sk_X509_pop_free(certs, X509_free);
    free(buf);
    return st;
}

/* One report for every input: one JSON document, or a line each. */
static void
import_print(struct latchd_env *env, const struct import *im)
{
    const char *state;
    size_t i;
    json_t *it;

    if (env->json) {
        latchd_print_json(json_pack(
            "{s:O, s:I, s:I, s:I, s:I, s:I}", "items", im->items, "stored",
            (json_int_t)im->stored, "already_cached", (json_int_t)im->cached,
            "skipped", (json_int_t)im->skipped, "refused",
            (json_int_t)im->refused, "unreadable", (json_int_t)im->unreadable));
        return;
    }
    cmd_human(im->items);
    json_array_foreach(im->items, i, it)
    {
        state = json_string_value(json_object_get(it, "state"));
        if (strcmp(state, "unreadable") == 0) {
            fprintf(stderr, "latchd: %s\n",
                    json_string_value(json_object_get(it, "detail")));
            continue;
        }
        printf("%-8s %s %s: %s\n", state,
               json_string_value(json_object_get(it, "id")),
               json_string_value(json_object_get(it, "file")),
               json_string_value(json_object_get(it, "detail")));
    }
    printf("%zu stored, %zu already cached, %zu skipped, %zu refused",
           im->stored, im->cached, im->skipped, im->refused);
    if (im->unreadable > 0) {
        printf(", %zu unreadable", im->unreadable);
    }
    printf(" (untrusted intermediates; no anchor was added)\n");
}

int
cmd_trust_import(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct import im;
    struct latch_err err;
    struct core *c = NULL;
    enum latch_status st;
    json_t *details = NULL;
    int ch;
    int a;

    memset(&im, 0, sizeof(im));
    latch_err_clear(&err);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch != 'j') {
            return latchd_usage(argv[0], CMD_TRUST_IMPORT_USAGE);
        }
        env->json = true;
    }
    if (optind >= argc) {
        return latchd_usage(argv[0], CMD_TRUST_IMPORT_USAGE);
    }
    for (a = optind; a < argc; a++) {
        if (argv[a][0] == '\0') {
            st = latch_err_set(&err, LATCH_E_USAGE, "empty path");
            return latchd_fail(env, st, &err);
        }
    }
    im.items = json_array();
    im.db = env->db;
    im.trust_dir = env->cfg.trust_dir;
    st = core_open(&env->cfg, env->db, &c, &err);
    if (st == LATCH_OK) {
        core_ek_cache(c, &im.cache);
        if (im.cache.store == NULL) {
            st = latch_err_set(&err, LATCH_E_INTERNAL, "no cache store");
        }
    }
    for (a = optind; st == LATCH_OK && a < argc; a++) {
        st = import_path(&im, argv[a], 0, &err);
    }
    if (st == LATCH_OK) {
        details = json_pack(
            "{s:I, s:I, s:I, s:I, s:I}", "stored", (json_int_t)im.stored,
            "already_cached", (json_int_t)im.cached, "skipped",
            (json_int_t)im.skipped, "refused", (json_int_t)im.refused,
            "unreadable", (json_int_t)im.unreadable);
        st = core_audit_append(env->db, env->actor, "trust.import", "aia_cache",
                               details, &err);
        json_decref(details);
    }
    core_free(c);
    if (st != LATCH_OK) {
        json_decref(im.items);
        return latchd_fail(env, st, &err);
    }
    import_print(env, &im);
    json_decref(im.items);
    /* The worst code over all inputs: unreadable 4, then refused 1. */
    if (im.unreadable > 0) {
        return latchd_exit_code(LATCH_E_IO);
    }
    return im.refused > 0 ? 1 : 0;
}

static enum latch_status
list_cache(struct db *db, json_t *out, struct latch_err *err)
{
    struct db_stmt *s = NULL;
    enum latch_status st;
    bool has = false;

    st = db_prepare(db,
                    "SELECT sha256, url, der, fetched_at FROM aia_cache "
                    "ORDER BY id",
                    &s, err);
    if (st != LATCH_OK) {
        return st;
    }
    for (;;) {
        const uint8_t *der;
        const unsigned char *p;
        size_t len = 0;
        X509 *x;
        char subj[EK_STR_MAX] = "";

        st = db_step(s, &has, err);
        if (st != LATCH_OK || !has) {
            break;
        }
        der = db_col_blob(s, 2, &len);
        p = der;
        x = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
        if (x != NULL) {
            ek_name_str(X509_get_subject_name(x), subj);
        }
        X509_free(x);
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s, s:s?, s:I}", "sha256",
                           db_col_text(s, 0), "kind", "intermediate", "subject",
                           subj, "url", db_col_text(s, 1), "cached_at",
                           (json_int_t)db_col_int64(s, 3)));
    }
    db_done(s);
    return st;
}

int
cmd_trust_list(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct ek_trust *t = NULL;
    struct latch_report rep;
    struct latch_err err;
    enum latch_status st;
    json_t *anchors = json_array();
    json_t *cached = json_array();
    json_t *it;
    size_t i;
    int ch;

    memset(&rep, 0, sizeof(rep));
    latch_err_clear(&err);
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch != 'j') {
            json_decref(anchors);
            json_decref(cached);
            return latchd_usage(argv[0], CMD_TRUST_LIST_USAGE);
        }
        env->json = true;
    }
    if (optind != argc) {
        json_decref(anchors);
        json_decref(cached);
        return latchd_usage_extra(argv[0], argv[optind], CMD_TRUST_LIST_USAGE);
    }
    st = ek_trust_load(env->cfg.trust_dir, &t, &rep, &err);
    if (st == LATCH_E_NOT_FOUND) {
        latch_err_clear(&err);
        st = LATCH_OK;
    }
    for (i = 0; st == LATCH_OK && i < ek_trust_count(t); i++) {
        const struct ek_anchor *a = ek_trust_get(t, i);
        char na[32];

        ek_time_str(a->not_after, na);
        json_array_append_new(
            anchors,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "sha256", a->sha256,
                      "kind", "pinned-root", "subject", a->subject, "file",
                      a->path, "not_after", na, "self_signed", a->self_signed));
    }
    if (st == LATCH_OK) {
        st = list_cache(env->db, cached, &err);
    }
    ek_trust_free(t);
    if (st != LATCH_OK) {
        json_decref(anchors);
        json_decref(cached);
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(json_pack("{s:s, s:o, s:o}", "trust_dir",
                                    env->cfg.trust_dir, "pinned", anchors,
                                    "intermediates", cached));
        return 0;
    }
    cmd_human(anchors);
    cmd_human(cached);
    printf("pinned roots in %s (read-only; latchd never adds one):\n",
           env->cfg.trust_dir);
    json_array_foreach(anchors, i, it)
    {
        printf("  %s %s%s\n", json_string_value(json_object_get(it, "sha256")),
               json_string_value(json_object_get(it, "subject")),
               json_is_true(json_object_get(it, "self_signed"))
                   ? ""
                   : " (not self-signed)");
    }
    printf("cached intermediates (untrusted helpers):\n");
    json_array_foreach(cached, i, it)
    {
        printf("  %s %s\n", json_string_value(json_object_get(it, "sha256")),
               json_string_value(json_object_get(it, "subject")));
    }
    json_decref(anchors);
    json_decref(cached);
    return 0;
}
