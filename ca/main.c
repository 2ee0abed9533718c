/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * main.c: latch-ca dispatches to one verb. Exit codes: 0 success, 2 bad
 * command line, 1 any other failure (docs/operations.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ca.h"

struct ca_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

static const struct ca_verb verbs[] = {
    {"root", ca_cmd_root,
     "root init --out DIR [--subject TEXT] [--days N]\n"
     "      make the ECDSA P-384 root: DIR/root.pem, DIR/root.key (0600)"},
    {"sign", ca_cmd_sign,
     "sign --root DIR --csr FILE [--days N] -o FILE\n"
     "      issue a license signing certificate from a CSR"},
    {"show", ca_cmd_show,
     "show FILE\n"
     "      print subject, key, validity, fingerprint and usages"},
    {"csr", ca_cmd_csr,
     "csr --key OUT.key --subject TEXT [--type p256|p384|ed25519] -o FILE\n"
     "      make a signing key and its CSR (for tests and small setups)"},
};

static void
usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: latch-ca VERB ...\n\n"
                 "The offline root CA of latch: run it on an offline "
                 "machine.\n\n");
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        fprintf(out, "  latch-ca %s\n", verbs[i].usage);
    }
}

int
ca_exit_code(enum latch_status st)
{
    if (st == LATCH_OK) {
        return 0;
    }
    return st == LATCH_E_USAGE ? 2 : 1;
}

int
ca_fail(const char *verb, const struct latch_err *err)
{
    fprintf(stderr, "latch-ca %s: %s\n", verb,
            err->msg[0] != '\0' ? err->msg : latch_strerror(err->status));
    return ca_exit_code(err->status);
}

int
ca_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    size_t i;

    fprintf(stderr, "latch-ca %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(verbs[i].name, verb) == 0) {
            fprintf(stderr, "usage: latch-ca %s\n", verbs[i].usage);
        }
    }
    return 2;
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(verbs[i].name, argv[1]) == 0) {
            return verbs[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "latch-ca: unknown verb (try latch-ca --help)\n");
    return 2;
}
