/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * common.c: what every latch verb shares: the exit-code map, error and
 * usage messages, the common options, and terminal-safe text.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "tpm.h"

int
cli_exit_code(enum latch_status st)
{
    switch (st) {
    case LATCH_OK:
        return CLI_EXIT_OK;
    case LATCH_E_USAGE:
        return CLI_EXIT_USAGE;
    case LATCH_E_IO:
        return CLI_EXIT_IO;
    case LATCH_E_FORMAT:
        return CLI_EXIT_FORMAT;
    case LATCH_E_SIGNATURE:
        return CLI_EXIT_SIGNATURE;
    case LATCH_E_NOT_DEVICE:
        return CLI_EXIT_NOT_DEVICE;
    case LATCH_E_TPM:
        return CLI_EXIT_TPM;
    case LATCH_E_VALIDITY:
        return CLI_EXIT_VALIDITY;
    case LATCH_E_ROLLBACK:
        return CLI_EXIT_ROLLBACK;
    case LATCH_E_NOT_FOUND:
        return CLI_EXIT_NOT_FOUND;
    case LATCH_E_POLICY:
    case LATCH_E_CRYPTO:
    case LATCH_E_NOMEM:
    case LATCH_E_INTERNAL:
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_FAILURE;
}

/*
 * "latch VERB: message" on stderr, the message escaped: it may quote the
 * caller's arguments, which may hold terminal control sequences.
 */
static void __attribute__((format(printf, 2, 0)))
vwarn(const char *verb, const char *fmt, va_list ap)
{
    char raw[2 * LATCH_ERR_MSG_MAX], shown[4 * LATCH_ERR_MSG_MAX];

    vsnprintf(raw, sizeof(raw), fmt, ap);
    cli_safe_text(raw, shown, sizeof(shown));
    fprintf(stderr, "latch %s: %s\n", verb, shown);
}

void
cli_warnx(const char *verb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(verb, fmt, ap);
    va_end(ap);
}

int
cli_fail(const char *verb, const struct latch_err *err)
{
    if (err->msg[0] != '\0') {
        cli_warnx(verb, "%s", err->msg);
    } else {
        cli_warnx(verb, "%s", latch_strerror(err->status));
    }
    return cli_exit_code(err->status);
}

void
cli_common_help(FILE *out)
{
    fprintf(out,
            "  --tcti TCTI      the TPM: swtpm:..., device:/dev/tpmrm0, ...\n"
            "                   (default $%s, else %s)\n"
            "  --state-dir DIR  the AK and license files\n"
            "                   (default $%s, else %s)\n",
            LATCH_TPM_TCTI_ENV, LATCH_TPM_DEFAULT_TCTI, LATCH_STATE_DIR_ENV,
            LATCH_STATE_DIR_DEFAULT);
}

static void
usage_line(FILE *out, const struct cli_verb *v)
{
    fprintf(out, "usage: latch %s %s%s\n  %s\n", v->name, v->args,
            v->device ? " [--tcti TCTI] [--state-dir DIR]" : "", v->help);
}

void
cli_verb_help(FILE *out, const char *verb)
{
    const struct cli_verb *v = cli_verb_find(verb);

    if (v == NULL) {
        return;
    }
    usage_line(out, v);
    if (v->device) {
        fprintf(out, "\noptions of every device verb:\n");
        cli_common_help(out);
    }
}

int
cli_usage(const char *verb, const char *fmt, ...)
{
    const struct cli_verb *v = cli_verb_find(verb);
    va_list ap;

    va_start(ap, fmt);
    vwarn(verb, fmt, ap);
    va_end(ap);
    if (v != NULL) {
        usage_line(stderr, v);
    }
    return CLI_EXIT_USAGE;
}

int
cli_bad_option(const char *verb, int c, char *const *argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    char name[128], shown[160];
    bool is_long = arg != NULL && strncmp(arg, "--", 2) == 0;
    size_t n;

    /*
     * glibc: optopt is 0 for an unknown long option, the option's value
     * for a known one given a missing or an unwanted "=ARG".
     */
    bool unwanted =
        is_long && c == '?' && optopt != 0 && strchr(arg, '=') != NULL;

    if (is_long && (c == ':' || optopt == 0 || unwanted)) {
        n = strcspn(arg, "=");
        snprintf(name, sizeof(name), "%.*s", (int)(n < 100 ? n : 100), arg);
    } else {
        snprintf(name, sizeof(name), "-%c", optopt);
    }
    cli_safe_text(name, shown, sizeof(shown));
    if (c == ':') {
        return cli_usage(verb, "%s needs an argument", shown);
    }
    if (unwanted) {
        return cli_usage(verb, "%s takes no argument", shown);
    }
    return cli_usage(verb, "unknown option '%s'", shown);
}

bool
cli_common_opt(int opt, const char *arg, struct cli_common *c)
{
    switch (opt) {
    case CLI_OPT_TCTI:
        c->tcti = arg;
        return true;
    case CLI_OPT_STATE_DIR:
        c->state_dir = arg;
        return true;
    case CLI_OPT_JSON:
        c->json = true;
        return true;
    default:
        return false;
    }
}

/* Length of the UTF-8 sequence at p and its code point; 0 if invalid. */
static size_t
utf8_next(const unsigned char *p, uint32_t *cp)
{
    size_t n, i;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        *cp = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        *cp = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        *cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        *cp = (*cp << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))) ||
        (n == 4 && (*cp < 0x10000 || *cp > 0x10ffff))) {
        return 0;
    }
    return n;
}

static bool
is_hidden(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void
cli_safe_text(const char *in, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, n;
    uint32_t cp = 0;

    while (*p != '\0') {
        if (o + 12 >= cap) {
            snprintf(out + o, cap - o, "...");
            return;
        }
        n = utf8_next(p, &cp);
        if (n == 0) {
            o += (size_t)snprintf(out + o, cap - o, "<x%02X>", p[0]);
            p++;
        } else if (is_hidden(cp)) {
            o += (size_t)snprintf(out + o, cap - o, "<U+%04X>", (unsigned)cp);
            p += n;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    out[o] = '\0';
}
