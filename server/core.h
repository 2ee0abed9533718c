/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * core.h: the admin operations the latchd CLI, the web UI and the JSON API
 * all call. Each state change runs in one database transaction together
 * with its audit row. Results are jansson objects (new references, the
 * caller json_decref()s them) that every front end renders as it likes;
 * each object carries "id" and "state" where the object has them.
 *
 * Threading: a struct core wraps one database connection; use one per
 * thread (an HTTP worker thread, a validation worker).
 */
#ifndef LATCHD_CORE_H
#define LATCHD_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "db.h"
#include "latchd.h"

#define CORE_LIST_DEFAULT 50
#define CORE_LIST_MAX     1000
#define CORE_REASON_MAX   1024
#define CORE_NAME_MAX     128

/*
 * Enrollment states (enrollments.state):
 *   pending         stored, queued for validation
 *   validating      a worker is on it
 *   valid           every check passed; may be approved
 *   invalid         a check failed (see the report)
 *   needs_override  valid apart from a check an admin may override
 *                   (expired EK certificate); approve with override
 *   unknown_root    the EK certificate chains to no pinned root
 *   approved        an admin approved it; licenses may be issued
 *   rejected        an admin rejected it
 * License states: active, revoked, superseded.
 */

struct core;

/*
 * Wraps db (borrowed; not closed by core_free) and cfg (borrowed). The
 * signing key and certificate are loaded on first issuance.
 */
enum latch_status core_open(const struct latchd_config *cfg, struct db *db,
                            struct core **out, struct latch_err *err)
    __attribute__((warn_unused_result));
void core_free(struct core *c);
struct db *core_db(struct core *c);

/*
 * Keyset pagination and filters for the list operations: rows with id
 * greater than after_id (0: from the start), at most limit (0: default,
 * capped at CORE_LIST_MAX), ordered by id ascending, or descending when
 * newest_first (then rows with id less than after_id, 0 meaning from the
 * newest). Unused filters are NULL / 0. The result is
 * {"items": [...], "next": ID or null}, next being the after_id of the
 * following page.
 */
struct core_list_opts {
    int64_t after_id;
    int limit;
    bool newest_first;
    const char *state;     /* enrollments, licenses */
    const char *device_id; /* enrollments, licenses: 64 hex */
    int64_t enrollment_id; /* licenses */
    const char *customer;  /* licenses: customer name */
};

/*
 * The one text check of every front end (CLI, web UI, API) for names
 * (customer, plan, token) and reasons: LATCH_E_USAGE naming what (e.g.
 * "customer name") unless s holds 1..max bytes of well-formed UTF-8
 * without control characters (C0, DEL, C1) and is not only white space.
 */
enum latch_status core_text_check(const char *what, const char *s, size_t max,
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

/* core_text_check(), and no leading or trailing space (names). */
enum latch_status core_name_check(const char *what, const char *s, size_t max,
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- enrollments ------------------------------------------------------ */

/*
 * Imports one uploaded enrollment.json (buf: the exact bytes). Parses it
 * strictly and looks up its binding provider before storing anything: a
 * file that fails is not stored; only an audit row records the rejection,
 * and the function returns LATCH_E_FORMAT (or LATCH_E_POLICY for an unknown
 * identity_schema) with the precise reason in err, and *out =
 * {"id": null, "state": "rejected", "reason": ..., "sha256": ...}.
 * Otherwise stores it with a validation job and returns {"id", "state",
 * "sha256", "duplicate": bool}; the same bytes imported again return the
 * existing enrollment with duplicate true. source names the upload (a file
 * name) for the audit row; may be NULL.
 */
enum latch_status core_enrollment_import(struct core *c, const char *actor,
                                         const uint8_t *buf, size_t len,
                                         const char *source, json_t **out,
                                         struct latch_err *err)
    __attribute__((warn_unused_result));

/* Summaries: id, state, device_id, identity_schema, hostname, product,
 * serial_number, label, is_rotation, created_at, updated_at. */
enum latch_status core_enrollment_list(struct core *c,
                                       const struct core_list_opts *opt,
                                       json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Everything about one enrollment: the summary plus sha256, size, the
 * device object as uploaded (untrusted), ek_template, ak_name, the stored
 * report {"outcome", "checks": [{"name","result","detail"}], "facts": {...}}
 * (null before validation), the reason of a rejection, decided_by,
 * decided_at, and its licenses. LATCH_E_NOT_FOUND for an unknown id.
 */
enum latch_status core_enrollment_show(struct core *c, int64_t id, json_t **out,
                                       struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Progress messages of an enrollment's validation with message id greater
 * than since_id: {"id", "state", "messages": [{"id", "time", "level",
 * "text"}], "done": bool} (done when validation has finished). For the UI
 * to poll.
 */
enum latch_status core_enrollment_progress(struct core *c, int64_t id,
                                           int64_t since_id, json_t **out,
                                           struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Approves a valid enrollment (needs_override only with override true).
 * When it is an AK rotation (the device has older enrollments), every
 * active license of the device's older enrollments is revoked in the same
 * transaction with the reason recorded. LATCH_E_POLICY naming the state
 * when it is not approvable. Returns the enrollment summary plus
 * "revoked_licenses": [ids].
 */
enum latch_status core_enrollment_approve(struct core *c, const char *actor,
                                          int64_t id, bool override,
                                          json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Rejects an enrollment that is not approved yet. reason is required. */
enum latch_status core_enrollment_reject(struct core *c, const char *actor,
                                         int64_t id, const char *reason,
                                         json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Queues a new validation of an enrollment that is not approved/rejected
 * (e.g. after a vendor root was added to the trust directory).
 */
enum latch_status core_enrollment_revalidate(struct core *c, const char *actor,
                                             int64_t id, json_t **out,
                                             struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- customers and plans ------------------------------------------------ */

/* A feature as given to a plan or a license. */
struct core_feature {
    char name[65];
    bool has_quantity;
    int64_t quantity;
    bool has_valid_until;
    int64_t valid_until;
};

/*
 * Parses "name[=quantity][@until]" (until: RFC 3339 UTC or YYYY-MM-DD,
 * taken as 00:00:00Z). LATCH_E_USAGE naming the part that is wrong.
 */
enum latch_status core_feature_parse(const char *spec, struct core_feature *f,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/* LATCH_E_POLICY when the name exists already. {"id","name","state"}. */
enum latch_status core_customer_add(struct core *c, const char *actor,
                                    const char *name, json_t **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status core_customer_list(struct core *c,
                                     const struct core_list_opts *opt,
                                     json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* {"id","name","state","features":[{"name","quantity","valid_until"}]} */
enum latch_status
core_plan_add(struct core *c, const char *actor, const char *name,
              const struct core_feature *features, size_t nfeatures,
              json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));
enum latch_status core_plan_list(struct core *c,
                                 const struct core_list_opts *opt, json_t **out,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- licenses ----------------------------------------------------------- */

struct core_issue_req {
    int64_t enrollment_id;
    const char *customer;                /* name, required */
    const char *plan;                    /* name or NULL */
    const struct core_feature *features; /* added to / override the plan */
    size_t nfeatures;
    bool has_valid_until;
    int64_t valid_until;
    bool supersede; /* mark the device's active licenses superseded */
};

/*
 * Issues a license: only for an approved enrollment whose validation was
 * valid (or overridden). MakeCredential to the EK key of the validated
 * certificate and the recomputed AK name, a fresh 32-byte secret
 * (RAND_priv_bytes; only its SHA-256 goes into the license), the next
 * serial of the device, signed with the signing key; stored with its audit
 * row in one transaction. *file receives the license file bytes (free())
 * once committed; the caller writes it. *out = the license summary.
 */
enum latch_status core_license_issue(struct core *c, const char *actor,
                                     const struct core_issue_req *req,
                                     json_t **out, char **file, size_t *filelen,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/* One issued license: its summary and its file (free with
 * core_issued_free()). */
struct core_issued {
    json_t *summary;
    char *file;
    size_t filelen;
};

/*
 * Issues n licenses in one transaction (group commit for bulk work): all
 * or none are stored. out (n entries) receives them in order once
 * committed. Same rules as core_license_issue().
 */
enum latch_status core_license_issue_many(struct core *c, const char *actor,
                                          const struct core_issue_req *reqs,
                                          size_t n, struct core_issued *out,
                                          struct latch_err *err)
    __attribute__((warn_unused_result));

void core_issued_free(struct core_issued *out, size_t n);

/* Summaries: id, license_id, state, serial, device_id, enrollment_id,
 * customer, plan, issued_at, valid_until, sha256. */
enum latch_status core_license_list(struct core *c,
                                    const struct core_list_opts *opt,
                                    json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Summary plus features, revoked_at, revoked_by, reason. */
enum latch_status core_license_show(struct core *c, int64_t id, json_t **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* Revokes an active or superseded license; reason is required. */
enum latch_status core_license_revoke(struct core *c, const char *actor,
                                      int64_t id, const char *reason,
                                      json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* The stored license file, byte for byte (free()). */
enum latch_status core_license_export(struct core *c, int64_t id, char **file,
                                      size_t *filelen, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * What approving enrollment enr_id (an AK rotation) of device_id would
 * revoke: [{"id", "serial"}] of the device's active licenses issued to an
 * enrollment with another AK.
 */
enum latch_status core_rotation_targets(struct core *c, const char *device_id,
                                        int64_t enr_id, json_t **out,
                                        struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * A date as the front ends take it: YYYY-MM-DD (midnight UTC) or
 * YYYY-MM-DDTHH:MM:SSZ. LATCH_E_USAGE naming what otherwise.
 */
enum latch_status core_date_parse(const char *what, const char *s, int64_t *out,
                                  struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- devices ------------------------------------------------------------ */

/* Summaries: id, device_id, state ("active"), ek_template,
 * tpm_manufacturer, current_enrollment, last_serial, first_seen. */
enum latch_status core_device_list(struct core *c,
                                   const struct core_list_opts *opt,
                                   json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* key: the numeric id or the 64-hex device_id. Summary plus enrollments
 * and licenses (newest first, at most CORE_LIST_DEFAULT each). */
enum latch_status core_device_show(struct core *c, const char *key,
                                   json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- audit ---------------------------------------------------------------- */

/* Rows {"id": seq, "seq", "time", "actor", "action", "object",
 * "details"(object), "hash"} with seq > after_id. */
enum latch_status core_audit_list(struct core *c,
                                  const struct core_list_opts *opt,
                                  json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Walks the whole hash chain: {"state": "ok"|"broken", "rows": N,
 * "first_bad_seq": seq or null, "problem": "edited"|"deleted"|"reordered"|
 * "truncated" or null, "detail": text}. Returns LATCH_OK when the walk ran
 * (whatever it found); the caller looks at "state".
 */
enum latch_status core_audit_verify(struct core *c, json_t **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Appends an audit row. Must run inside the caller's transaction (the one
 * that makes the state change), after its other statements: it takes the
 * chain head lock. details may be NULL. For other modules' state changes
 * (users, tokens, trust).
 */
enum latch_status core_audit_append(struct db *db, const char *actor,
                                    const char *action, const char *object,
                                    const json_t *details,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* --- EK intermediate cache ---------------------------------------------- */

struct ek_cache_ops; /* ekcert.h */

/*
 * Fills ops with the aia_cache table behind the EK chain builder's cache
 * interface (lookup by subject, store with ON CONFLICT DO NOTHING), on c's
 * connection. Cached certificates are never anchors.
 */
void core_ek_cache(struct core *c, struct ek_cache_ops *ops);

/* --- validation workers ------------------------------------------------- */

struct core_workers;

/*
 * Starts n validation worker threads, each with its own database
 * connection (opened from cfg->database), claiming jobs until stopped.
 */
enum latch_status core_workers_start(const struct latchd_config *cfg, int n,
                                     struct core_workers **out,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/* Asks the workers to stop, waits for them, frees. NULL is fine. */
void core_workers_stop(struct core_workers *w);

/*
 * Claims one queued validation job and runs it on this connection.
 * *did_one is false when no job was queued.
 */
enum latch_status core_validate_next(struct core *c, const char *worker,
                                     bool *did_one, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_CORE_H */
