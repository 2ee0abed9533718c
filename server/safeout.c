/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * safeout.c: escapes control and bidi characters in latchd's human output
 * (a fopencookie stream over the real stdout/stderr) and cuts table
 * columns at UTF-8 character boundaries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safeout.h"

struct filt {
    FILE *under;
    unsigned char pend[4]; /* start of a UTF-8 sequence split by a write */
    size_t npend;
};

/*
 * Length of the UTF-8 sequence at p[0..len) and its code point; 0 if
 * invalid, or -1 (as SIZE_MAX) if it may be valid but is cut at len.
 */
static size_t
utf8_seq(const unsigned char *p, size_t len, uint32_t *cp)
{
    size_t n, i;
    uint32_t v;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        v = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        v = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        v = p[0] & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (i >= len) {
            return SIZE_MAX;
        }
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    *cp = v;
    return n;
}

/* Characters a terminal acts on or that reorder what is shown. */
static bool
hidden(uint32_t cp)
{
    return (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f ||
           (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes p[0..len) escaped; returns how many bytes it consumed (a cut
 * sequence at the end is left when more may follow). */
static size_t
emit(struct filt *f, const unsigned char *p, size_t len, bool final)
{
    size_t i = 0, n;
    uint32_t cp = 0;

    while (i < len) {
        n = utf8_seq(p + i, len - i, &cp);
        if (n == SIZE_MAX && !final) {
            break;
        }
        if (n == 0 || n == SIZE_MAX) {
            fprintf(f->under, "<x%02X>", p[i]);
            i++;
        } else if (hidden(cp)) {
            fprintf(f->under, "<U+%04X>", (unsigned)cp);
            i += n;
        } else {
            fwrite(p + i, 1, n, f->under);
            i += n;
        }
    }
    return i;
}

static ssize_t
filt_write(void *cookie, const char *buf, size_t size)
{
    struct filt *f = cookie;
    unsigned char *all = NULL;
    size_t n = f->npend + size;
    size_t k;

    all = malloc(n);
    if (all == NULL) {
        return -1;
    }
    memcpy(all, f->pend, f->npend);
    memcpy(all + f->npend, buf, size);
    k = emit(f, all, n, false);
    /* Only a cut sequence (at most 3 bytes) is left over. */
    f->npend = n - k;
    memcpy(f->pend, all + k, f->npend);
    free(all);
    fflush(f->under);
    return (ssize_t)size;
}

static int
filt_close(void *cookie)
{
    struct filt *f = cookie;

    if (f->npend > 0) {
        emit(f, f->pend, f->npend, true);
    }
    fflush(f->under);
    free(f);
    return 0;
}

static FILE *
wrap(FILE *under, int mode)
{
    cookie_io_functions_t io = {NULL, filt_write, NULL, filt_close};
    struct filt *f = calloc(1, sizeof(*f));
    FILE *out;

    if (f == NULL) {
        return under;
    }
    f->under = under;
    out = fopencookie(f, "w", io);
    if (out == NULL) {
        free(f);
        return under;
    }
    setvbuf(out, NULL, mode, BUFSIZ);
    return out;
}

static FILE *real_stdout;
static FILE *real_stderr;

/* Flushes and closes the wrappers (freeing them), restoring the originals. */
static void
safeout_uninstall(void)
{
    FILE *f;

    if (real_stdout != NULL && stdout != real_stdout) {
        f = stdout;
        fflush(f);
        stdout = real_stdout;
        fclose(f);
    }
    if (real_stderr != NULL && stderr != real_stderr) {
        f = stderr;
        fflush(f);
        stderr = real_stderr;
        fclose(f);
    }
    fflush(stdout);
    fflush(stderr);
}

void
safeout_install(bool json)
{
    real_stdout = stdout;
    real_stderr = stderr;
    stderr = wrap(stderr, _IOLBF);
    if (!json) {
        stdout = wrap(stdout, _IOFBF);
    }
    /* At exit, after main returns or exit(): nothing leaks. */
    (void)atexit(safeout_uninstall);
}

const char *
safeout_col(const char *s, size_t width, char *buf, size_t cap)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "-");
    size_t i = 0, chars = 0, n;
    uint32_t cp;

    if (cap == 0) {
        return "";
    }
    while (p[i] != '\0' && chars < width) {
        n = utf8_seq(p + i, strlen((const char *)p + i), &cp);
        if (n == 0 || n == SIZE_MAX) {
            n = 1;
        }
        if (i + n >= cap) {
            break;
        }
        i += n;
        chars++;
    }
    memcpy(buf, p, i);
    buf[i] = '\0';
    return buf;
}
