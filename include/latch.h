/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * latch.h: the device API applications link against (pkg-config latch).
 *
 * An application opens a context at start, loads the installed license
 * (which verifies its signature chain to the root compiled into liblatch,
 * checks it names this TPM and proves possession with a fresh
 * TPM2_ActivateCredential), then asks which features it may use.
 *
 * Thread safety: a struct latch_ctx is not safe for concurrent use; give
 * each thread its own context or serialize calls with a lock. Different
 * contexts may be used from different threads, but a TPM without a resource
 * manager (a raw swtpm socket) serves one client at a time.
 *
 * Arguments: ctx, feature names and output pointers must not be NULL. A NULL
 * one is LATCH_E_USAGE (latch_feature_enabled() answers false); so is a
 * feature name that no license can carry: empty, or not matching
 * [a-z0-9][a-z0-9_.-]{0,63} (docs/format.md 5.3; non-ASCII never does).
 * latch_last_error() then names the argument, the name escaped (\xNN).
 * Only latch_open()'s opt, latch_close(NULL) and latch_last_error(NULL)
 * accept NULL. Every call on a context clears its last error first.
 */
#ifndef LATCH_H
#define LATCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LATCH_EXPORT __attribute__((visibility("default")))
#define LATCH_WUR    __attribute__((warn_unused_result))
#else
#define LATCH_EXPORT
#define LATCH_WUR
#endif

/*
 * One status enum for all of liblatch. The latch CLI maps these onto its
 * documented exit codes (docs/operations.md).
 */
enum latch_status {
    LATCH_OK = 0,
    LATCH_E_USAGE,      /* bad arguments from the caller */
    LATCH_E_IO,         /* a file could not be read or written */
    LATCH_E_FORMAT,     /* malformed or non-conforming input */
    LATCH_E_SIGNATURE,  /* bad signature or certificate chain */
    LATCH_E_NOT_DEVICE, /* the license is not for this TPM / AK */
    LATCH_E_TPM,        /* the TPM is unavailable or failed */
    LATCH_E_VALIDITY,   /* expired or not yet valid */
    LATCH_E_ROLLBACK,   /* older than the installed license */
    LATCH_E_NOT_FOUND,  /* nothing installed, no such feature */
    LATCH_E_POLICY,     /* input well formed but refused by policy */
    LATCH_E_CRYPTO,     /* a cryptographic library call failed */
    LATCH_E_NOMEM,      /* out of memory */
    LATCH_E_INTERNAL    /* a bug in latch */
};

struct latch_ctx;

/* Log levels for the optional callback. */
enum latch_log_level {
    LATCH_LOG_ERROR = 0,
    LATCH_LOG_WARN,
    LATCH_LOG_INFO,
    LATCH_LOG_DEBUG
};

typedef void (*latch_log_fn)(void *arg, enum latch_log_level level,
                             const char *msg);

struct latch_options {
    const char *tcti;      /* NULL: $LATCH_TCTI, else device:/dev/tpmrm0 */
    const char *state_dir; /* NULL: $LATCH_STATE_DIR, else /var/lib/latch */
    latch_log_fn log;      /* may be NULL */
    void *log_arg;
};

/*
 * Opens a context. opt may be NULL for the defaults. On success *out must be
 * released with latch_close(). Touches neither the TPM nor the state
 * directory yet. Returns LATCH_E_NOMEM or LATCH_E_USAGE (out is NULL, or a
 * bad option) on failure, with *out set to NULL.
 */
LATCH_EXPORT LATCH_WUR enum latch_status
latch_open(const struct latch_options *opt, struct latch_ctx **out);

/*
 * Loads the installed license and proves it: signature chain to the built-in
 * root, device identity, and a fresh ActivateCredential on the TPM. Until
 * this returns LATCH_OK every feature query answers "not enabled".
 * latch_last_error() names the check that failed.
 */
LATCH_EXPORT LATCH_WUR enum latch_status latch_load(struct latch_ctx *ctx);

/*
 * True when the loaded license enables the feature and it is valid now.
 * When false, latch_last_error() says why (bad name, not loaded, not in the
 * license, disabled, expired).
 */
LATCH_EXPORT bool latch_feature_enabled(struct latch_ctx *ctx,
                                        const char *name);

/*
 * The feature's quantity. LATCH_E_NOT_FOUND when the feature is not enabled
 * or carries no quantity; LATCH_E_USAGE for a NULL or invalid argument.
 */
LATCH_EXPORT LATCH_WUR enum latch_status
latch_feature_quantity(struct latch_ctx *ctx, const char *name,
                       int64_t *quantity);

/*
 * When the feature stops being valid, in seconds since the epoch (UTC): the
 * earlier of the feature's and the license's valid_until. *perpetual is set
 * when neither has one (*valid_until is then 0). LATCH_E_NOT_FOUND when the
 * feature is not enabled; LATCH_E_USAGE for a NULL or invalid argument
 * (both output pointers are required).
 */
LATCH_EXPORT LATCH_WUR enum latch_status
latch_feature_valid_until(struct latch_ctx *ctx, const char *name,
                          int64_t *valid_until, bool *perpetual);

/* A static English description of a status. Never NULL. */
LATCH_EXPORT const char *latch_strerror(enum latch_status st);

/*
 * The message of the last call on this context that failed (names the check
 * and the value, printable ASCII only), or "" when the last call did not
 * fail. Valid until the next call on ctx. "" for a NULL ctx.
 */
LATCH_EXPORT const char *latch_last_error(const struct latch_ctx *ctx);

/* Releases the context; NULL is fine. Wipes license secrets. */
LATCH_EXPORT void latch_close(struct latch_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* LATCH_H */
