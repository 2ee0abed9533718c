/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cli.h: the frame of the `latch` device CLI. Each verb lives in
 * cli/cmd_<verb>.c and defines `int cmd_<verb>(int argc, char **argv)`,
 * where argv[0] is the verb itself and the verb parses its own options
 * (getopt_long, so options may follow the operands).
 *
 * Adding a verb is one line in LATCH_VERBS below: it declares cmd_<verb>,
 * puts the verb in the dispatch table and in `latch --help`.
 */
#ifndef LATCH_CLI_H
#define LATCH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

/*
 * X(name, operands and options, one-line help, device), in `latch --help`
 * order; device: the verb uses the TPM or the state directory and takes
 * --tcti and --state-dir.
 */
#define LATCH_VERBS(X)                                                         \
    X(verify, "LICENSE [--root PEM] [--json]",                                 \
      "check a license file offline: signature, chain, dates (no TPM)", false) \
    X(enroll,                                                                  \
      "-o FILE [--ek auto|rsa2048|ecc-p256|ecc-p384] [--ak ecc|rsa] [--label " \
      "TEXT] [--rotate [--replace-pending]] [--persist-ak]",                   \
      "enroll this TPM: write enrollment.json for the license server", true)   \
    X(activate, "LICENSE [-v]",                                                \
      "prove a license with this TPM and install it", true)                    \
    X(status, "[--json]",                                                      \
      "the installed license, its features, a fresh TPM proof", true)          \
    X(check, "FEATURE [--quantity]",                                           \
      "exit 0 when FEATURE is enabled and valid now", true)

#define LATCH_VERB_DECLARE(name, args, help, device)                           \
    int cmd_##name(int argc, char **argv);
LATCH_VERBS(LATCH_VERB_DECLARE)

struct cli_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
    bool device; /* takes --tcti and --state-dir */
};

/* The verb called name, or NULL. */
const struct cli_verb *cli_verb_find(const char *name);

/* The options --tcti and --state-dir with their defaults, for help. */
void cli_common_help(FILE *out);

/*
 * Exit codes of `latch` (docs/operations.md). Every verb ends with
 * cli_exit_code() of the status that decided its outcome.
 */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,    /* internal error, out of memory, other */
    CLI_EXIT_USAGE = 2,      /* bad command line */
    CLI_EXIT_IO = 3,         /* a file could not be read or written */
    CLI_EXIT_FORMAT = 4,     /* malformed input */
    CLI_EXIT_SIGNATURE = 5,  /* bad signature or certificate chain */
    CLI_EXIT_NOT_DEVICE = 6, /* not for this device */
    CLI_EXIT_TPM = 7,        /* TPM unavailable or failed */
    CLI_EXIT_VALIDITY = 8,   /* expired or not yet valid */
    CLI_EXIT_ROLLBACK = 9,   /* older than the installed license */
    CLI_EXIT_NOT_FOUND = 10  /* nothing installed, no such feature */
};

/* Maps a library status to the documented exit code. */
int cli_exit_code(enum latch_status st);

/*
 * Prints "latch VERB: message" to stderr, escaped as by cli_safe_text():
 * messages may quote arguments.
 */
void cli_warnx(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints err's message (or the status text) and returns its exit code. */
int cli_fail(const char *verb, const struct latch_err *err);

/*
 * Prints the message (escaped like cli_warnx()), the verb's usage line and
 * its one-line help (not the option list) to stderr; returns CLI_EXIT_USAGE.
 */
int cli_usage(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * For getopt_long()'s '?' or ':' (optstrings start with ':'; main() clears
 * opterr): one message, "latch VERB: --root needs an argument" or
 * "unknown option '--x'", and the usage line. Returns CLI_EXIT_USAGE.
 */
int cli_bad_option(const char *verb, int c, char *const *argv);

/*
 * Prints "usage: latch VERB ARGS", the one-line help and, for the device
 * verbs, the common options and their environment variables to out.
 */
void cli_verb_help(FILE *out, const char *verb);

/*
 * Options every verb that touches the TPM or the state directory accepts;
 * defaults come from $LATCH_TCTI / $LATCH_STATE_DIR inside liblatch when
 * these stay NULL. Put CLI_COMMON_LONGOPTS in a verb's option table and
 * hand each option to cli_common_opt() first.
 */
struct cli_common {
    const char *tcti;
    const char *state_dir;
    bool json;
};

enum {
    CLI_OPT_TCTI = 0x100,
    CLI_OPT_STATE_DIR,
    CLI_OPT_JSON,
    CLI_OPT_HELP = 'h'
};

#define CLI_COMMON_LONGOPTS                                                    \
    {"tcti", required_argument, NULL, CLI_OPT_TCTI},                           \
        {"state-dir", required_argument, NULL, CLI_OPT_STATE_DIR},             \
        {"json", no_argument, NULL, CLI_OPT_JSON},                             \
    {                                                                          \
        "help", no_argument, NULL, CLI_OPT_HELP                                \
    }

/* True when opt was a common option (and stores it in c). */
bool cli_common_opt(int opt, const char *arg, struct cli_common *c);

/*
 * Copies UTF-8 text for a terminal: C0/C1 controls, DEL and the bidi
 * controls (U+200E/F, U+202A-202E, U+2066-2069) become <U+XXXX>; invalid
 * bytes become <xNN>. Truncates to cap with "...".
 */
void cli_safe_text(const char *in, char *out, size_t cap);

#endif /* LATCH_CLI_H */
