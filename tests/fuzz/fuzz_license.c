/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * fuzz_license.c: libFuzzer harness for license.json reading and
 * verification. The seeds in tests/fuzz/corpus/fuzz_license/ are signed
 * under the root below, so mutations reach the chain and signature code.
 * Invariants: every rejection by the reader is a format error with a
 * message; a license that verifies also verifies after a compact
 * re-serialization, and every feature it lists can be looked up. Built
 * only by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "license.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A throwaway test root made with latch-ca (public certificate only). */
static const char fuzz_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB1jCCAVugAwIBAgIQfIc7jAYUbRolix7Wm4Jc2TAKBggqhkjOPQQDAzAaMRgw\n"
    "FgYDVQQDDA9sYXRjaCBmdXp6IHJvb3QwHhcNMjYxMjAzMTc0NjI0WhcNNDYxMTI4\n"
    "MTg0NjI0WjAaMRgwFgYDVQQDDA9sYXRjaCBmdXp6IHJvb3QwdjAQBgcqhkjOPQIB\n"
    "BgUrgQQAIgNiAAQClVlpR0D+iQv5vtLpVJqOAGvMMRs7Y5hZmF5pjJ3/tOtvXzss\n"
    "1iYXzQUinj7AZUuxJsncIdqXaqbdo9BvDsrQLBlYenarrndh9vFmR6VFcDgp91kI\n"
    "KD/aYOFn2gXGymajZjBkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQD\n"
    "AgEGMB0GA1UdDgQWBBQkNcmszbJG55Hva6fcUU3qR8th5zAfBgNVHSMEGDAWgBQk\n"
    "NcmszbJG55Hva6fcUU3qR8th5zAKBggqhkjOPQQDAwNpADBmAjEA0aY8KrgElnFX\n"
    "YkVfk6fp5VWqEaxOdbUPOA+CxEhvA/zwDO2b8/ce2JIRCL21dHulAjEArFFc1gF/\n"
    "gOMviQC737nN4nl2pEEJGciSZ3d4k4b90NDhjBF5oUim5jeP08Yf5ISa\n"
    "-----END CERTIFICATE-----\n";

static X509 *root;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct latch_err err;

    (void)argc;
    (void)argv;
    if (latch_cert_from_pem(fuzz_root_pem, &root, &err) != LATCH_OK) {
        abort();
    }
    return 0;
}

static void
check_verified(const struct latch_license *lic)
{
    struct latch_license *again = NULL;
    struct latch_err err;
    char *text = NULL;
    size_t i;

    for (i = 0; i < lic->nfeatures; i++) {
        if (latch_license_feature(lic, lic->features[i].name) !=
                &lic->features[i] ||
            !latch_feature_name_ok(lic->features[i].name)) {
            abort();
        }
    }
    (void)latch_license_check_time(lic, 0, &err);
    (void)latch_license_check_time(lic, INT64_MAX / 2, &err);
    text = json_dumps(lic->doc, JSON_COMPACT);
    if (text == NULL) {
        return; /* out of memory */
    }
    if (latch_license_parse(text, strlen(text), &again, &err) != LATCH_OK ||
        latch_license_verify(again, root, NULL, &err) != LATCH_OK) {
        abort();
    }
    latch_license_free(again);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct latch_license *lic = NULL;
    struct latch_report rep;
    struct latch_err err;
    enum latch_status st;

    memset(&rep, 0, sizeof(rep));
    st = latch_license_parse((const char *)data, size, &lic, &err);
    if (st != LATCH_OK) {
        if ((err.status != LATCH_E_FORMAT && err.status != LATCH_E_NOMEM) ||
            err.msg[0] == '\0' || lic != NULL) {
            abort();
        }
        return 0;
    }
    st = latch_license_verify(lic, root, &rep, &err);
    if (st == LATCH_OK) {
        if (!latch_report_ok(&rep)) {
            abort();
        }
        check_verified(lic);
    } else if (st != LATCH_E_SIGNATURE || latch_report_ok(&rep)) {
        abort(); /* a failure always names a failed check */
    }
    latch_license_free(lic);
    return 0;
}
