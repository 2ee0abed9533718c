/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ekbench.c: EK certificate validation throughput with cached
 * intermediates: every certificate of tests/data/ek is parsed and verified
 * in a loop against the pinned roots, the intermediates coming from an
 * in-memory cache behind the same interface latchd's aia_cache uses.
 * Prints verifications per CPU second on one thread (so per core),
 * per file and overall.
 *
 *   ekbench SECONDS_PER_FILE
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "ekcert.h"
#include "fsutil.h"

#define EK_DIR   "tests/data/ek"
#define ANCHORS  "tests/data/roots/anchors"
#define INTERMED "tests/data/roots/intermediates"
#define MAX_C    1024

struct mem_cache {
    X509 *certs[MAX_C];
    char keys[MAX_C][EK_HEX256_LEN];
    size_t n;
    size_t lookups;
};

static enum latch_status
lookup(void *arg, const char *subject_key, const char *aki,
       STACK_OF(X509) * out, struct latch_err *err)
{
    struct mem_cache *m = arg;
    size_t i;

    (void)aki;
    (void)err;
    m->lookups++;
    for (i = 0; i < m->n; i++) {
        if (strcmp(m->keys[i], subject_key) == 0 && X509_up_ref(m->certs[i])) {
            sk_X509_push(out, m->certs[i]);
        }
    }
    return LATCH_OK;
}

static void
load_cache(struct mem_cache *m, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        char path[1024];
        STACK_OF(X509) * st;
        struct latch_err err;
        char *buf = NULL;
        size_t len = 0;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            load_cache(m, path);
            continue;
        }
        if (latch_read_file(path, 1 << 20, &buf, &len, &err) != LATCH_OK) {
            continue;
        }
        st = sk_X509_new_null();
        if (ek_certs_from_buf((const uint8_t *)buf, len, st, NULL, NULL,
                              &err) == LATCH_OK) {
            while (sk_X509_num(st) > 0 && m->n < MAX_C) {
                X509 *x = sk_X509_shift(st);

                if (ek_name_key(X509_get_subject_name(x), m->keys[m->n],
                                &err) == LATCH_OK) {
                    m->certs[m->n++] = x;
                } else {
                    X509_free(x);
                }
            }
        }
        sk_X509_pop_free(st, X509_free);
        free(buf);
    }
    if (d != NULL) {
        closedir(d);
    }
}

/* CPU time of this process: the rate per core, whatever else runs. */
static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    static struct mem_cache cache;
    struct ek_cache_ops ops;
    struct ek_verify_opts opts;
    struct ek_trust *trust = NULL;
    struct latch_err err;
    double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    char *names[64];
    size_t nn = 0;
    double total_n = 0;
    double total_t = 0;
    DIR *d;
    struct dirent *de;
    size_t i;

    if (ek_trust_load(ANCHORS, &trust, NULL, &err) != LATCH_OK) {
        fprintf(stderr, "ekbench: %s\n", err.msg);
        return 1;
    }
    load_cache(&cache, INTERMED);
    memset(&ops, 0, sizeof(ops));
    ops.arg = &cache;
    ops.lookup = lookup;
    memset(&opts, 0, sizeof(opts));
    opts.cache = &ops;
    opts.now = 1796256000; /* 2026-12-03: fixed, so verdicts stay put */
    d = opendir(EK_DIR);
    while (d != NULL && (de = readdir(d)) != NULL && nn < 64) {
        if (de->d_name[0] != '.' && strstr(de->d_name, ".md") == NULL) {
            names[nn++] = strdup(de->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    qsort(names, nn, sizeof(*names), name_cmp);
    printf("pinned roots %zu, cached intermediates %zu, %.1f s per file\n",
           ek_trust_count(trust), cache.n, secs);
    printf("%-56s %-15s %10s\n", "file", "outcome", "verif/cpu-s");
    for (i = 0; i < nn; i++) {
        char path[512];
        char *buf = NULL;
        size_t len = 0;
        double t0;
        double t;
        long n = 0;
        struct ek_result res;

        snprintf(path, sizeof(path), EK_DIR "/%s", names[i]);
        if (latch_read_file(path, EK_NV_MAX, &buf, &len, &err) != LATCH_OK) {
            continue;
        }
        memset(&res, 0, sizeof(res));
        t0 = now_s();
        do {
            struct ek_cert *c = NULL;
            struct latch_report rep;

            memset(&rep, 0, sizeof(rep));
            if (ek_cert_parse((const uint8_t *)buf, len, &c, &rep, &err) !=
                    LATCH_OK ||
                ek_verify(trust, c, NULL, &opts, &res, &rep, &err) !=
                    LATCH_OK) {
                fprintf(stderr, "ekbench: %s: %s\n", names[i], err.msg);
                return 1;
            }
            ek_cert_free(c);
            n++;
            t = now_s() - t0;
        } while (t < secs);
        printf("%-56s %-15s %10.0f\n", names[i], ek_outcome_str(res.outcome),
               (double)n / t);
        total_n += (double)n;
        total_t += t;
        free(buf);
        free(names[i]);
    }
    printf("%-56s %-15s %10.0f\n", "all files (mean over the corpus)", "",
           total_n / total_t);
    ek_trust_free(trust);
    for (i = 0; i < cache.n; i++) {
        X509_free(cache.certs[i]);
    }
    return 0;
}
