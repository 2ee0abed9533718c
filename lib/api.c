/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * api.c: the application API of include/latch.h on top of device.c. A
 * context answers feature queries only after latch_load() proved the
 * installed license with the TPM; dates are checked at every query.
 */
#include "latch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"
#include "err.h"
#include "license.h"

struct latch_ctx {
    struct latch_device *dev;
    struct latch_license *lic; /* NULL until latch_load() succeeds */
    struct latch_err err;
    latch_log_fn log;
    void *log_arg;
};

static void emit(struct latch_ctx *ctx, enum latch_log_level level,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
emit(struct latch_ctx *ctx, enum latch_log_level level, const char *fmt, ...)
{
    char msg[LATCH_ERR_MSG_MAX + 64];
    va_list ap;

    if (ctx->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) {
        msg[0] = '\0';
    }
    va_end(ap);
    ctx->log(ctx->log_arg, level, msg);
}

enum latch_status
latch_open(const struct latch_options *opt, struct latch_ctx **out)
{
    struct latch_ctx *ctx;
    enum latch_status st;

    if (out == NULL) {
        return LATCH_E_USAGE;
    }
    *out = NULL;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return LATCH_E_NOMEM;
    }
    if (opt != NULL) {
        ctx->log = opt->log;
        ctx->log_arg = opt->log_arg;
    }
    st = latch_device_open(opt != NULL ? opt->tcti : NULL,
                           opt != NULL ? opt->state_dir : NULL, &ctx->dev,
                           &ctx->err);
    if (st != LATCH_OK) {
        free(ctx);
        return st;
    }
    *out = ctx;
    return LATCH_OK;
}

enum latch_status
latch_load(struct latch_ctx *ctx)
{
    struct latch_license *lic = NULL;
    enum latch_status st;

    if (ctx == NULL) {
        return LATCH_E_USAGE;
    }
    latch_license_free(ctx->lic);
    ctx->lic = NULL;
    latch_err_clear(&ctx->err);
    st = latch_device_prove(ctx->dev, &lic, NULL, NULL, &ctx->err);
    if (st == LATCH_OK) {
        st = latch_license_check_time(lic, (int64_t)time(NULL), &ctx->err);
    }
    if (st != LATCH_OK) {
        latch_license_free(lic);
        emit(ctx, LATCH_LOG_ERROR, "license not loaded: %s", ctx->err.msg);
        return st;
    }
    ctx->lic = lic;
    /* Probes that were expected to fail (absent NV indices) leave nothing. */
    latch_err_clear(&ctx->err);
    emit(ctx, LATCH_LOG_INFO, "license %s serial %lld proven by the TPM",
         lic->license_id, (long long)lic->serial);
    return LATCH_OK;
}

/*
 * Every call on a context starts here: the last error is cleared, so
 * latch_last_error() is "" after a call that did not fail, and the feature
 * name is checked. A name that no license can carry (not the pattern of
 * docs/format.md 5.3, which also rules out non-ASCII) is a usage error,
 * shown escaped.
 */
static enum latch_status
begin(struct latch_ctx *ctx, const char *name)
{
    char shown[LATCH_FEATURE_NAME_MAX * 4 + 8];

    if (ctx == NULL) {
        return LATCH_E_USAGE;
    }
    latch_err_clear(&ctx->err);
    if (name == NULL) {
        return latch_err_set(&ctx->err, LATCH_E_USAGE, "feature name is NULL");
    }
    if (!latch_feature_name_ok(name)) {
        latch_text_escape(name, shown, sizeof(shown));
        return latch_err_set(&ctx->err, LATCH_E_USAGE,
                             "feature name '%s' is not valid (1 to 64 of "
                             "[a-z0-9_.-], starting with [a-z0-9])",
                             shown);
    }
    return LATCH_OK;
}

/* The feature when it is enabled and both it and the license are valid. */
static const struct latch_feature *
usable(struct latch_ctx *ctx, const char *name)
{
    const struct latch_feature *f;
    int64_t now = (int64_t)time(NULL);

    if (ctx->lic == NULL) {
        latch_err_set(&ctx->err, LATCH_E_NOT_FOUND,
                      "no license is loaded (latch_load() has not succeeded)");
        return NULL;
    }
    if (latch_license_check_time(ctx->lic, now, &ctx->err) != LATCH_OK) {
        return NULL;
    }
    f = latch_license_feature(ctx->lic, name);
    if (f == NULL) {
        latch_err_set(&ctx->err, LATCH_E_NOT_FOUND,
                      "feature '%s' is not in the license", name);
        return NULL;
    }
    if (!f->enabled) {
        latch_err_set(&ctx->err, LATCH_E_NOT_FOUND, "feature '%s' is disabled",
                      name);
        return NULL;
    }
    if (f->has_valid_until && now >= f->valid_until) {
        latch_err_set(&ctx->err, LATCH_E_VALIDITY, "feature '%s' has expired",
                      name);
        return NULL;
    }
    return f;
}

bool
latch_feature_enabled(struct latch_ctx *ctx, const char *name)
{
    if (begin(ctx, name) != LATCH_OK) {
        return false;
    }
    return usable(ctx, name) != NULL;
}

enum latch_status
latch_feature_quantity(struct latch_ctx *ctx, const char *name,
                       int64_t *quantity)
{
    const struct latch_feature *f;
    enum latch_status st = begin(ctx, name);

    if (st != LATCH_OK) {
        return st;
    }
    if (quantity == NULL) {
        return latch_err_set(&ctx->err, LATCH_E_USAGE,
                             "quantity output pointer is NULL");
    }
    f = usable(ctx, name);
    if (f == NULL) {
        return LATCH_E_NOT_FOUND;
    }
    if (!f->has_quantity) {
        return latch_err_set(&ctx->err, LATCH_E_NOT_FOUND,
                             "feature '%s' carries no quantity", name);
    }
    *quantity = f->quantity;
    return LATCH_OK;
}

enum latch_status
latch_feature_valid_until(struct latch_ctx *ctx, const char *name,
                          int64_t *valid_until, bool *perpetual)
{
    const struct latch_feature *f;
    enum latch_status st = begin(ctx, name);
    bool have = false;
    int64_t t = 0;

    if (st != LATCH_OK) {
        return st;
    }
    if (valid_until == NULL || perpetual == NULL) {
        return latch_err_set(&ctx->err, LATCH_E_USAGE,
                             "%s output pointer is NULL",
                             valid_until == NULL ? "valid_until" : "perpetual");
    }
    f = usable(ctx, name);
    if (f == NULL) {
        return LATCH_E_NOT_FOUND;
    }
    if (ctx->lic->has_valid_until) {
        t = ctx->lic->valid_until;
        have = true;
    }
    if (f->has_valid_until && (!have || f->valid_until < t)) {
        t = f->valid_until;
        have = true;
    }
    *valid_until = have ? t : 0;
    *perpetual = !have;
    return LATCH_OK;
}

const char *
latch_last_error(const struct latch_ctx *ctx)
{
    return ctx == NULL ? "" : ctx->err.msg;
}

void
latch_close(struct latch_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    latch_license_free(ctx->lic);
    latch_device_close(ctx->dev);
    free(ctx);
}
