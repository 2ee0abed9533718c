/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * provider.h: binding providers, keyed by an enrollment's identity_schema.
 * A provider parses its schema's uploads, validates them (writing checks
 * and progress through struct validation) and makes the binding object of
 * a license (the activation proof). Adding a schema means adding a
 * provider to the table in provider.c: no SQL and no page changes.
 */
#ifndef LATCHD_PROVIDER_H
#define LATCHD_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "report.h"

struct core;
struct validation;

/* What import stores from an upload for lists (all untrusted, may be
 * NULL; borrowed from the parsed object). */
struct upload_info {
    const char *hostname;
    const char *product;
    const char *serial_number;
    const char *label;
};

struct binding_provider {
    const char *schema;
    const char *description;

    /* Strict parse of a whole upload; *parsed is freed with free_parsed. */
    enum latch_status (*parse)(const uint8_t *buf, size_t len, void **parsed,
                               struct upload_info *info, struct latch_err *err);
    void (*free_parsed)(void *parsed);

    /*
     * Runs every check and records it with val_check(); sets the
     * identity with val_identity(). Returns an error status only when it
     * could not run (memory, database); refusals are checks.
     */
    enum latch_status (*validate)(struct validation *v, const void *parsed,
                                  struct latch_err *err);

    /*
     * The license's `binding` object for the validated identity: device
     * id and AK name as recorded by validation (re-derived from the
     * upload and compared), the secret to wrap (its SHA-256 goes into
     * the license).
     */
    enum latch_status (*make_proof)(struct core *c, const void *parsed,
                                    const char *device_id,
                                    const char *ak_name_hex,
                                    const uint8_t *secret, size_t secretlen,
                                    json_t **binding, struct latch_err *err);
};

/* The providers (provider_<schema>.c). */
extern const struct binding_provider provider_tpm2;

/* NULL for an unknown schema. */
const struct binding_provider *provider_find(const char *schema);

/* "tpm2_ek_ak_binding, ..." for messages. */
const char *provider_names(void);

/* --- what validators call --------------------------------------------- */

enum val_severity {
    VAL_OK = 0,
    VAL_INVALID,        /* the enrollment is refused */
    VAL_NEEDS_OVERRIDE, /* genuine, but an admin must decide */
    VAL_UNKNOWN_ROOT    /* chains to no pinned root */
};

/* The core the validation runs on (for the trust store, cache, db). */
struct core *val_core(struct validation *v);

/* The enrollment being validated. */
int64_t val_enrollment_id(const struct validation *v);

/* A human-readable progress line (level "info", "warn"). */
void val_progress(struct validation *v, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Records a check in the report and as progress. A FAIL check makes the
 * outcome invalid unless sev says otherwise (VAL_NEEDS_OVERRIDE,
 * VAL_UNKNOWN_ROOT); the first deciding failure becomes the reason.
 */
void val_check(struct validation *v, const char *name,
               enum latch_check_result result, enum val_severity sev,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Imports checks another module already wrote into rep (items from index
 * `from`): each becomes a report item and a progress line, with sev
 * applied to its failures.
 */
void val_import_report(struct validation *v, const struct latch_report *rep,
                       size_t from, enum val_severity sev);

/* Raises the outcome without a report line (the check already has one). */
void val_outcome(struct validation *v, enum val_severity sev,
                 const char *reason);

/* A fact shown with the report (steals value). */
void val_fact(struct validation *v, const char *key, json_t *value);

/* The identity established by validation. Strings are copied. */
void val_identity(struct validation *v, const char *device_id,
                  const char *ak_name_hex, const char *ek_template,
                  const char *tpm_manufacturer, const char *tpm_model);

#endif /* LATCHD_PROVIDER_H */
