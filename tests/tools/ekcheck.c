/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekcheck.c: test entry point to ek_verify() with every knob on the
 * command line (trust directory, helpers, a file-backed intermediate
 * cache, AIA with curl resolve entries, the clock). Prints one JSON object
 * per certificate (--json) or text. Exit 0 when every certificate is
 * valid, 1 when one is not, 2 on usage errors, 3 when one cannot be read.
 *
 *   ekcheck --trust DIR [--untrusted FILE]... [--cache-dir DIR] [--aia]
 *           [--allow-private] [--resolve HOST:PORT:ADDR]...
 *           [--connect-to HOST:PORT:HOST2:PORT2]...
 *           [--allow-hosts LIST] [--timeout-ms N] [--max-bytes N]
 *           [--low-speed N] [--now EPOCH] [--deny SPEC] [--json]
 *           [--progress] CERT...
 */
#include <sys/stat.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "aia.h"
#include "ekcert.h"
#include "ekfmt.h"
#include "fsutil.h"

struct filecache {
    const char *dir;
    size_t stores;
    size_t lookups;
};

/* Files are named SUBJECTKEY-SHA256.der, so a lookup is a name match. */
static enum latch_status
fc_lookup(void *arg, const char *subject_key, const char *aki_hex,
          STACK_OF(X509) * out, struct latch_err *err)
{
    struct filecache *fc = arg;
    DIR *d;
    struct dirent *de;

    (void)aki_hex;
    fc->lookups++;
    d = opendir(fc->dir);
    if (d == NULL) {
        return LATCH_OK;
    }
    while ((de = readdir(d)) != NULL) {
        char path[1024];
        char *buf = NULL;
        size_t len = 0;

        if (strncmp(de->d_name, subject_key, 64) != 0) {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", fc->dir, de->d_name) >=
                (int)sizeof(path) ||
            latch_read_file(path, 65536, &buf, &len, err) != LATCH_OK) {
            continue;
        }
        if (ek_certs_from_buf((const uint8_t *)buf, len, out, NULL, NULL,
                              err) != LATCH_OK) {
            fprintf(stderr, "ekcheck: cache file %s unreadable\n", path);
        }
        free(buf);
    }
    closedir(d);
    return LATCH_OK;
}

static enum latch_status
fc_store(void *arg, const char *url, const uint8_t *der, size_t len,
         const char *sha256, const char *subject_key, struct latch_err *err)
{
    struct filecache *fc = arg;
    char path[1024];

    (void)url;
    if (snprintf(path, sizeof(path), "%s/%s-%s.der", fc->dir, subject_key,
                 sha256) >= (int)sizeof(path)) {
        return latch_err_set(err, LATCH_E_IO, "cache path too long");
    }
    fc->stores++;
    return latch_write_atomic(path, der, len, 0644, err);
}

static void
fc_evict(void *arg, const char *sha256)
{
    struct filecache *fc = arg;
    DIR *d = opendir(fc->dir);
    struct dirent *de;

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        const char *dash = strchr(de->d_name, '-');
        char path[1024];

        if (dash != NULL && strncmp(dash + 1, sha256, 64) == 0 &&
            snprintf(path, sizeof(path), "%s/%s", fc->dir, de->d_name) <
                (int)sizeof(path)) {
            unlink(path);
        }
    }
    closedir(d);
}

static void
on_progress(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "ekcheck: %s\n", msg);
}

static int load_untrusted(const char *path, STACK_OF(X509) * st);

/* Every file below dir (intermediate folders as shipped by vendors). */
static int
load_untrusted_dir(const char *dir, STACK_OF(X509) * st)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        return -1;
    }
    while ((de = readdir(d)) != NULL && rc == 0) {
        char path[1024];

        if (de->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir,
                                             de->d_name) >= (int)sizeof(path)) {
            continue;
        }
        if (de->d_type == DT_DIR) {
            rc = load_untrusted_dir(path, st);
        } else {
            /* Unreadable files (non-DER serials) are skipped. */
            (void)load_untrusted(path, st);
        }
    }
    closedir(d);
    return rc;
}

static int
load_untrusted(const char *path, STACK_OF(X509) * st)
{
    struct stat sb;
    struct latch_err err;
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;

    memset(&err, 0, sizeof(err));
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        return load_untrusted_dir(path, st);
    }
    if (latch_read_file(path, 1024 * 1024, &buf, &len, &err) != LATCH_OK ||
        ek_certs_from_buf((const uint8_t *)buf, len, st, NULL, NULL, &err) !=
            LATCH_OK) {
        fprintf(stderr, "ekcheck: %s: %s\n", path, err.msg);
        rc = -1;
    }
    free(buf);
    return rc;
}

static bool
append_resolve(char *list, size_t cap, const char *item)
{
    size_t l = strlen(list);
    int w = snprintf(list + l, cap - l, "%s%s", l > 0 ? "," : "", item);

    return w >= 0 && (size_t)w < cap - l;
}

static int
check_one(const char *file, const struct ek_trust *trust,
          STACK_OF(X509) * untrusted, const struct ek_verify_opts *opts,
          int json)
{
    struct latch_report rep;
    struct latch_err err;
    struct ek_result res;
    struct ek_cert *c = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = 1;

    memset(&rep, 0, sizeof(rep));
    memset(&err, 0, sizeof(err));
    memset(&res, 0, sizeof(res));
    if (latch_read_file(file, EK_NV_MAX, &buf, &len, &err) != LATCH_OK) {
        fprintf(stderr, "ekcheck: %s\n", err.msg);
        return 3;
    }
    if (ek_cert_parse((const uint8_t *)buf, len, &c, &rep, &err) != LATCH_OK) {
        res.outcome = EK_INVALID;
        res.reason = EK_R_PARSE;
        snprintf(res.detail, sizeof(res.detail), "%.300s", err.msg);
    } else if (ek_verify(trust, c, untrusted, opts, &res, &rep, &err) !=
               LATCH_OK) {
        fprintf(stderr, "ekcheck: %s: %s\n", file, err.msg);
        rc = 3;
        goto out;
    }
    if (json) {
        json_t *o = ek_result_json(file, c, &res, &rep);

        if (o != NULL) {
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
    } else {
        ek_result_print(stdout, file, c, &res, &rep);
    }
    rc = res.outcome == EK_VALID ? 0 : 1;

out:
    ek_cert_free(c);
    free(buf);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"trust", required_argument, NULL, 't'},
        {"untrusted", required_argument, NULL, 'u'},
        {"cache-dir", required_argument, NULL, 'c'},
        {"aia", no_argument, NULL, 'a'},
        {"allow-private", no_argument, NULL, 'p'},
        {"resolve", required_argument, NULL, 'r'},
        {"allow-hosts", required_argument, NULL, 'H'},
        {"connect-to", required_argument, NULL, 'C'},
        {"timeout-ms", required_argument, NULL, 'T'},
        {"max-bytes", required_argument, NULL, 'M'},
        {"low-speed", required_argument, NULL, 'L'},
        {"now", required_argument, NULL, 'n'},
        {"deny", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"progress", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0}};
    struct aia_config aia;
    struct ek_verify_opts opts;
    struct ek_cache_ops cache;
    struct filecache fc;
    struct ek_trust *trust = NULL;
    struct ek_denylist *deny = NULL;
    struct latch_err err;
    STACK_OF(X509) *untrusted = NULL;
    const char *trust_dir = NULL;
    static char resolve[4096];
    static char connect_to[4096];
    int json = 0;
    int rc = 0;
    int ch;
    int i;

    memset(&aia, 0, sizeof(aia));
    memset(&opts, 0, sizeof(opts));
    memset(&cache, 0, sizeof(cache));
    memset(&fc, 0, sizeof(fc));
    memset(&err, 0, sizeof(err));
    untrusted = sk_X509_new_null();
    if (untrusted == NULL) {
        return 3;
    }
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 't':
            trust_dir = optarg;
            break;
        case 'u':
            if (load_untrusted(optarg, untrusted) != 0) {
                return 3;
            }
            break;
        case 'c':
            fc.dir = optarg;
            break;
        case 'a':
            aia.enabled = true;
            break;
        case 'p':
            aia.allow_private = true;
            break;
        case 'r':
            if (!append_resolve(resolve, sizeof(resolve), optarg)) {
                return 2;
            }
            aia.resolve = resolve;
            break;
        case 'H':
            aia.allow_hosts = optarg;
            break;
        case 'C':
            if (!append_resolve(connect_to, sizeof(connect_to), optarg)) {
                return 2;
            }
            aia.connect_to = connect_to;
            break;
        case 'T':
            aia.timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 'M':
            aia.max_bytes = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'L':
            aia.low_speed_bps = strtol(optarg, NULL, 10);
            break;
        case 'n':
            opts.now = strtoll(optarg, NULL, 10);
            break;
        case 'd':
            if (ek_denylist_parse(optarg, &deny, &err) != LATCH_OK) {
                fprintf(stderr, "ekcheck: %s\n", err.msg);
                return 2;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'P':
            opts.progress = on_progress;
            break;
        default:
            return 2;
        }
    }
    if (trust_dir == NULL || optind >= argc) {
        fprintf(stderr, "usage: ekcheck --trust DIR [options] CERT...\n");
        return 2;
    }
    if (aia_global_init(&err) != LATCH_OK ||
        ek_trust_load(trust_dir, &trust, NULL, &err) != LATCH_OK) {
        fprintf(stderr, "ekcheck: %s\n", err.msg);
        return 3;
    }
    if (fc.dir != NULL) {
        cache.arg = &fc;
        cache.lookup = fc_lookup;
        cache.store = fc_store;
        cache.evict = fc_evict;
        opts.cache = &cache;
    }
    opts.aia = &aia;
    opts.deny = deny;
    for (i = optind; i < argc; i++) {
        int r = check_one(argv[i], trust, untrusted, &opts, json);

        if (r > rc) {
            rc = r;
        }
    }
    if (fc.dir != NULL) {
        fprintf(stderr, "ekcheck: cache lookups %zu, stores %zu\n", fc.lookups,
                fc.stores);
    }
    ek_denylist_free(deny);
    ek_trust_free(trust);
    sk_X509_pop_free(untrusted, X509_free);
    return rc;
}
