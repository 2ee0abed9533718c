/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * bench/mkcred: software MakeCredential per second for RSA-2048, P-256 and
 * P-384 EKs, in one process on one core, as latchd runs it for a license.
 * Built and run by bench/run-mkcred.sh.
 *
 *   mkcred [SECONDS]    (default 2 per EK kind)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "license.h"
#include "mkcred.h"
#include "tpmt.h"

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY *
ek_key(enum latch_ek_kind kind)
{
    switch (kind) {
    case LATCH_EK_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case LATCH_EK_ECC_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case LATCH_EK_ECC_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case LATCH_EK_KIND_COUNT:
        break;
    }
    return NULL;
}

/* Runs MakeCredential for about `seconds`; returns calls per second. */
static int
bench_kind(enum latch_ek_kind kind, double seconds)
{
    const struct latch_ek_info *info = latch_ek_info_by_kind(kind);
    uint8_t name[2 + 32];
    uint8_t secret[LATCH_SECRET_LEN];
    struct latch_err err;
    EVP_PKEY *ek;
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;
    double t0;
    double t;
    long n = 0;

    ek = ek_key(kind);
    if (ek == NULL) {
        fprintf(stderr, "mkcred bench: no %s key\n", info->name);
        return 1;
    }
    memset(name, 0x5a, sizeof(name));
    name[0] = 0x00;
    name[1] = 0x0b;
    memset(secret, 0xa5, sizeof(secret));
    t0 = now();
    do {
        if (latch_make_credential(ek, info, name, sizeof(name), secret,
                                  sizeof(secret), &blob, &bloblen, &enc,
                                  &enclen, &err) != LATCH_OK) {
            fprintf(stderr, "mkcred bench: %s\n", err.msg);
            EVP_PKEY_free(ek);
            return 1;
        }
        free(blob);
        free(enc);
        n++;
        t = now() - t0;
    } while (t < seconds);
    printf("makecredential %-8s %8ld calls in %.2f s: %9.1f/s %8.1f us/call\n",
           info->name, n, t, (double)n / t, t * 1e6 / (double)n);
    EVP_PKEY_free(ek);
    return 0;
}

int
main(int argc, char **argv)
{
    double seconds = 2.0;
    char *end = NULL;
    int k;

    if (argc > 1) {
        seconds = strtod(argv[1], &end);
        if (end == argv[1] || *end != '\0' || seconds <= 0 || seconds > 60) {
            fprintf(stderr, "usage: mkcred [SECONDS]\n");
            return 2;
        }
    }
    for (k = 0; k < LATCH_EK_KIND_COUNT; k++) {
        if (bench_kind((enum latch_ek_kind)k, seconds) != 0) {
            return 1;
        }
    }
    return 0;
}
