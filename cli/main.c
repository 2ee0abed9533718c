/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * main.c: `latch` dispatches to one verb; the table comes from LATCH_VERBS
 * in cli.h and also drives `latch --help`.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef LATCH_VERSION
#define LATCH_VERSION "unknown"
#endif

#define LATCH_VERB_ENTRY(name, args, help, device)                             \
    {#name, cmd_##name, args, help, device},

static const struct cli_verb verbs[] = {LATCH_VERBS(LATCH_VERB_ENTRY)};

const struct cli_verb *
cli_verb_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(verbs[i].name, name) == 0) {
            return &verbs[i];
        }
    }
    return NULL;
}

static void
usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: latch VERB [OPTIONS] [ARGS]\n\n"
                 "TPM 2.0-bound offline licenses for this device.\n\n"
                 "verbs:\n");
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
    }
    fprintf(out, "\noptions of every verb but verify:\n");
    cli_common_help(out);
    fprintf(out, "\n`latch VERB --help` shows a verb's options; "
                 "`latch --version` the version;\nexit codes are listed in "
                 "docs/operations.md.\n");
}

/*
 * Output that could not be written (a full disk, a closed pipe) must not
 * look like success: flush stdout and exit 3 when it failed.
 */
static int
finish(const char *verb, int rc)
{
    int e = 0;

    errno = 0;
    if (fflush(stdout) != 0) {
        e = errno;
    }
    if (ferror(stdout) || e != 0) {
        fprintf(stderr, "latch%s%s: cannot write standard output: %s\n",
                verb[0] != '\0' ? " " : "", verb,
                e != 0 ? strerror(e) : "write error");
        return rc == CLI_EXIT_OK ? CLI_EXIT_IO : rc;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    const struct cli_verb *v;
    char shown[128];

    /*
     * A TPM behind a socket TCTI (swtpm, mssim, tabrmd) that goes away
     * mid-command must give "TPM unavailable" (exit 7), not kill latch on
     * the next write.
     */
    signal(SIGPIPE, SIG_IGN);
    /* The verbs report bad options themselves (cli_bad_option()). */
    opterr = 0;
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && cli_verb_find(argv[2]) != NULL) {
            cli_verb_help(stdout, argv[2]);
        } else {
            usage(stdout);
        }
        return finish("", CLI_EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("latch %s\n", LATCH_VERSION);
        return finish("", CLI_EXIT_OK);
    }
    v = cli_verb_find(argv[1]);
    if (v == NULL) {
        cli_safe_text(argv[1], shown, sizeof(shown));
        fprintf(stderr, "latch: unknown verb '%s'\n\n", shown);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return finish(v->name, v->fn(argc - 1, argv + 1));
}
