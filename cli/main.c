/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * main.c: `latch` dispatches to one verb; the table comes from LATCH_VERBS
 * in cli.h and also drives `latch --help`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LATCH_VERB_ENTRY(name, args, help) {#name, cmd_##name, args, help},

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
    fprintf(out, "\n`latch VERB --help` shows a verb's options; exit codes "
                 "are listed in docs/operations.md.\n");
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
        return CLI_EXIT_OK;
    }
    v = cli_verb_find(argv[1]);
    if (v == NULL) {
        cli_safe_text(argv[1], shown, sizeof(shown));
        fprintf(stderr, "latch: unknown verb '%s'\n\n", shown);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return v->fn(argc - 1, argv + 1);
}
