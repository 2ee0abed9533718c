/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* err.c: status strings and the error message buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "err.h"

const char *
latch_strerror(enum latch_status st)
{
    switch (st) {
    case LATCH_OK:
        return "success";
    case LATCH_E_USAGE:
        return "bad arguments";
    case LATCH_E_IO:
        return "file could not be read or written";
    case LATCH_E_FORMAT:
        return "malformed input";
    case LATCH_E_SIGNATURE:
        return "bad signature or certificate chain";
    case LATCH_E_NOT_DEVICE:
        return "not for this device";
    case LATCH_E_TPM:
        return "TPM unavailable or failed";
    case LATCH_E_VALIDITY:
        return "expired or not yet valid";
    case LATCH_E_ROLLBACK:
        return "older than the installed license";
    case LATCH_E_NOT_FOUND:
        return "not found";
    case LATCH_E_POLICY:
        return "refused by policy";
    case LATCH_E_CRYPTO:
        return "cryptographic operation failed";
    case LATCH_E_NOMEM:
        return "out of memory";
    case LATCH_E_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

static void
vset(struct latch_err *e, enum latch_status st, const char *fmt, va_list ap)
{
    e->status = st;
    if (vsnprintf(e->msg, sizeof(e->msg), fmt, ap) < 0) {
        e->msg[0] = '\0';
    }
}

enum latch_status
latch_err_set(struct latch_err *e, enum latch_status st, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL) {
        return st;
    }
    va_start(ap, fmt);
    vset(e, st, fmt, ap);
    va_end(ap);
    return st;
}

enum latch_status
latch_err_ossl(struct latch_err *e, enum latch_status st, const char *fmt, ...)
{
    va_list ap;
    unsigned long code;
    char reason[256];
    size_t len;

    code = ERR_peek_error();
    if (e == NULL) {
        ERR_clear_error();
        return st;
    }
    va_start(ap, fmt);
    vset(e, st, fmt, ap);
    va_end(ap);
    if (code != 0) {
        ERR_error_string_n(code, reason, sizeof(reason));
        len = strlen(e->msg);
        snprintf(e->msg + len, sizeof(e->msg) - len, " (%s)", reason);
    }
    ERR_clear_error();
    return st;
}

void
latch_err_prefix(struct latch_err *e, const char *prefix)
{
    char tmp[2 * LATCH_ERR_MSG_MAX];

    if (e == NULL) {
        return;
    }
    snprintf(tmp, sizeof(tmp), "%s: %s", prefix, e->msg);
    snprintf(e->msg, sizeof(e->msg), "%.*s", LATCH_ERR_MSG_MAX - 1, tmp);
}

void
latch_err_clear(struct latch_err *e)
{
    if (e != NULL) {
        e->status = LATCH_OK;
        e->msg[0] = '\0';
    }
}
