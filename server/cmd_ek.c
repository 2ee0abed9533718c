/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_ek.c: `latchd ek verify CERT...`: the EK certificate checks of the
 * validation pipeline on bare certificates, with the same trust store,
 * cache and AIA settings, printed as text or JSON.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "aia.h"
#include "cmd.h"
#include "cmd_ek.h"
#include "core.h"
#include "db.h"
#include "ekcert.h"
#include "ekfmt.h"
#include "fsutil.h"

#define HELPER_FILE_MAX (1024 * 1024)
#define HELPER_DEPTH    3

/* Reads helper certificates from a file or (recursively) a directory. */
static enum latch_status
add_helpers(const char *path, int depth, STACK_OF(X509) * out,
            struct latch_err *err)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    DIR *d;
    struct dirent *de;
    enum latch_status st = LATCH_OK;

    if (stat(path, &sb) != 0) {
        return latch_err_set(err, LATCH_E_IO, "%s: cannot stat", path);
    }
    if (!S_ISDIR(sb.st_mode)) {
        st = latch_read_file(path, HELPER_FILE_MAX, &buf, &len, err);
        if (st == LATCH_OK && ek_certs_from_buf((const uint8_t *)buf, len, out,
                                                NULL, NULL, err) != LATCH_OK) {
            fprintf(stderr, "latchd: %s: %s (skipped)\n", path, err->msg);
        }
        free(buf);
        return st;
    }
    if (depth >= HELPER_DEPTH) {
        return LATCH_OK;
    }
    d = opendir(path);
    if (d == NULL) {
        return latch_err_set(err, LATCH_E_IO, "%s: cannot open", path);
    }
    while (st == LATCH_OK && (de = readdir(d)) != NULL) {
        char sub[1024];
        int w;

        if (de->d_name[0] == '.') {
            continue;
        }
        w = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (w < 0 || (size_t)w >= sizeof(sub)) {
            continue;
        }
        st = add_helpers(sub, depth + 1, out, err);
    }
    closedir(d);
    return st;
}

static void
on_progress(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "latchd: %s\n", msg);
}

struct ek_run {
    struct ek_trust *trust;
    STACK_OF(X509) * helpers;
    struct ek_verify_opts opts;
    struct ek_cache_ops cache;
    struct aia_config aia;
    struct ek_denylist *deny;
    struct latchd_config cfg;
    bool have_cfg;
    struct db *db;
    struct core *core;
};

/* One certificate: returns 0 valid, 1 not valid, 4 unreadable. */
static int
verify_one(struct ek_run *r, const char *file, json_t *items, bool json)
{
    struct latch_report rep;
    struct latch_err err;
    struct ek_result res;
    struct ek_cert *c = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(&rep, 0, sizeof(rep));
    memset(&res, 0, sizeof(res));
    latch_err_clear(&err);
    if (latch_read_file(file, EK_NV_MAX, &buf, &len, &err) != LATCH_OK) {
        fprintf(stderr, "latchd: %s\n", err.msg);
        return 4;
    }
    if (ek_cert_parse((const uint8_t *)buf, len, &c, &rep, &err) != LATCH_OK) {
        res.outcome = EK_INVALID;
        res.reason = EK_R_PARSE;
        snprintf(res.detail, sizeof(res.detail), "%.300s", err.msg);
    } else if (ek_verify(r->trust, c, r->helpers, &r->opts, &res, &rep, &err) !=
               LATCH_OK) {
        fprintf(stderr, "latchd: %s: %s\n", file, err.msg);
        ek_cert_free(c);
        free(buf);
        return 5;
    }
    if (json) {
        json_t *o = ek_result_json(file, c, &res, &rep);

        if (o != NULL) {
            json_object_set_new(o, "id",
                                json_string(c != NULL ? c->sha256 : ""));
            json_object_set_new(o, "state",
                                json_string(ek_outcome_str(res.outcome)));
            json_array_append_new(items, o);
        }
    } else {
        ek_result_print(stdout, file, c, &res, &rep);
    }
    rc = res.outcome == EK_VALID ? 0 : 1;
    ek_cert_free(c);
    free(buf);
    return rc;
}

/* The configured trust directory, cache and AIA, when there is a config. */
static const char *
nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

static enum latch_status
from_config(struct latchd_env *env, struct ek_run *r, const char **trust_dir,
            bool no_aia, struct latch_err *err)
{
    enum latch_status st;

    if (env->data_dir == NULL) {
        return LATCH_OK;
    }
    st = latchd_config_load(env->data_dir, &r->cfg, err);
    if (st != LATCH_OK) {
        return st;
    }
    r->have_cfg = true;
    if (*trust_dir == NULL) {
        *trust_dir = r->cfg.trust_dir;
    }
    if (!no_aia) {
        r->aia.enabled = r->cfg.aia_enabled;
        r->aia.allow_hosts = r->cfg.aia_allow;
        r->aia.timeout_ms = (long)r->cfg.aia_timeout * 1000L;
        r->aia.allow_private = r->cfg.aia_allow_private;
        r->aia.resolve = nonempty(r->cfg.aia_resolve);
        r->aia.connect_to = nonempty(r->cfg.aia_connect_to);
    }
    /* The cache helps when the database is there; it is not required. */
    if (db_open(r->cfg.database, &r->db, err) == LATCH_OK &&
        core_open(&r->cfg, r->db, &r->core, err) == LATCH_OK) {
        core_ek_cache(r->core, &r->cache);
        r->opts.cache = &r->cache;
    } else {
        fprintf(stderr, "latchd: intermediate cache unavailable: %s\n",
                err->msg);
        latch_err_clear(err);
    }
    return LATCH_OK;
}

int
cmd_ek_verify(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"trust", required_argument, NULL, 't'},
        {"untrusted", required_argument, NULL, 'u'},
        {"now", required_argument, NULL, 'n'},
        {"deny", required_argument, NULL, 'd'},
        {"no-aia", no_argument, NULL, 'A'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct ek_run r;
    struct latch_err err;
    const char *trust_dir = NULL;
    const char *deny = NULL;
    json_t *items = NULL;
    bool no_aia = false;
    enum latch_status st = LATCH_OK;
    int rc = 0;
    int ch;
    int i;

    memset(&r, 0, sizeof(r));
    latch_err_clear(&err);
    r.helpers = sk_X509_new_null();
    if (r.helpers == NULL) {
        return latchd_fail(env, LATCH_E_NOMEM, NULL);
    }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 't':
            trust_dir = optarg;
            break;
        case 'u':
            st = add_helpers(optarg, 0, r.helpers, &err);
            break;
        case 'n':
            /* Seconds since 1970, up to 9999-12-31T23:59:59Z. */
            st = cmd_parse_num("--now", optarg, 1, 253402300799LL, &r.opts.now,
                               &err);
            break;
        case 'd':
            deny = optarg;
            break;
        case 'A':
            no_aia = true;
            break;
        case 'j':
            env->json = true;
            break;
        default:
            rc = latchd_usage(argv[0], CMD_EK_VERIFY_USAGE);
            goto out;
        }
        if (st != LATCH_OK) {
            rc = latchd_fail(env, st, &err);
            goto out;
        }
    }
    if (optind >= argc) {
        rc = latchd_usage(argv[0], CMD_EK_VERIFY_USAGE);
        goto out;
    }
    st = from_config(env, &r, &trust_dir, no_aia, &err);
    if (st == LATCH_OK && trust_dir == NULL) {
        st = latch_err_set(&err, LATCH_E_USAGE,
                           "ek verify: no trust directory (--trust DIR, or "
                           "--data DIR with a configured one)");
    }
    if (st == LATCH_OK && deny != NULL) {
        st = ek_denylist_parse(deny, &r.deny, &err);
    }
    if (st == LATCH_OK) {
        st = ek_trust_load(trust_dir, &r.trust, NULL, &err);
    }
    if (st == LATCH_OK && r.aia.enabled) {
        st = aia_global_init(&err);
    }
    if (st != LATCH_OK) {
        rc = latchd_fail(env, st, &err);
        goto out;
    }
    r.opts.aia = &r.aia;
    /* --deny replaces the configured [validation] deny_firmware. */
    r.opts.deny = r.deny;
    if (r.deny == NULL && r.have_cfg) {
        r.opts.deny = r.cfg.deny;
    }
    /* The pipeline's progress lines, on stderr, when asked for. */
    if (getenv("LATCHD_EK_PROGRESS") != NULL) {
        r.opts.progress = on_progress;
    }
    items = json_array();
    for (i = optind; i < argc; i++) {
        int one = verify_one(&r, argv[i], items, env->json);

        if (one > rc) {
            rc = one;
        }
    }
    if (env->json) {
        latchd_print_json(json_pack("{s:o}", "items", items));
        items = NULL;
    }

out:
    json_decref(items);
    ek_trust_free(r.trust);
    ek_denylist_free(r.deny);
    sk_X509_pop_free(r.helpers, X509_free);
    core_free(r.core);
    db_close(r.db);
    if (r.have_cfg) {
        latchd_config_free(&r.cfg);
    }
    return rc;
}
