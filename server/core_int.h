/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * core_int.h: what the core modules (core*.c, audit.c, validate.c,
 * provider_*.c) share and nobody else needs: the struct core, list paging
 * and small row-to-JSON helpers.
 */
#ifndef LATCHD_CORE_INT_H
#define LATCHD_CORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core.h"
#include "db.h"

struct ek_trust;

struct core {
    const struct latchd_config *cfg;
    struct db *db;
    EVP_PKEY *sign_key; /* loaded on first issuance */
    X509 *sign_cert;
    struct ek_trust *trust; /* loaded on first validation */
    bool trust_loaded;
    char trust_msg[LATCH_ERR_MSG_MAX]; /* why loading found no anchor */
};

int64_t core_now(void);

/* Clamps opt->limit into 1..CORE_LIST_MAX (0 gives the default). */
int core_limit(const struct core_list_opts *opt);

/* A text column as a JSON string, or null. */
json_t *core_jtext(struct db_stmt *st, int col);
/* An integer column as a JSON integer, or null. */
json_t *core_jint(struct db_stmt *st, int col);
/* A time column (seconds) as an RFC 3339 string, or null. */
json_t *core_jtime(struct db_stmt *st, int col);

/*
 * Builds {"items": items, "next": last_id or null}; steals items. next is
 * set when items holds limit rows.
 */
json_t *core_page(json_t *items, int limit, int64_t last_id);

/* The keyset bound for a list: after_id, or INT64_MAX for the newest. */
int64_t core_after(const struct core_list_opts *opt);

/*
 * LATCH_OK when state is NULL or one of the NULL-terminated valid list;
 * otherwise LATCH_E_USAGE naming what ("enrollment"), the state and the
 * valid ones, so a list filter with a typo is refused, not empty.
 */
enum latch_status core_state_check(const char *state, const char *const *valid,
                                   const char *what, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Steps a prepared list query whose first column is the row id and pages
 * the rows through fn into *out (core_page()).
 */
enum latch_status core_run_list(struct db_stmt *s, int limit,
                                json_t *(*fn)(struct db_stmt *), json_t **out,
                                struct latch_err *err)
    __attribute__((warn_unused_result));

/* LATCH_E_NOMEM with a message. */
enum latch_status core_oom(struct latch_err *err);

/* Lowercase hex SHA-256 of buf (out: 65 bytes). */
void core_sha256_hex(const void *buf, size_t len, char out[65]);

/*
 * Sets *out to a new object built by json_pack-style fmt; LATCH_E_NOMEM if
 * that failed.
 */
enum latch_status core_pack(json_t **out, struct latch_err *err,
                            const char *fmt, ...);

/* Queues a validation job for an enrollment (inside a transaction). */
enum latch_status core_job_queue(struct db *db, int64_t enrollment_id,
                                 struct latch_err *err)
    __attribute__((warn_unused_result));

/* Adds a progress message for an enrollment (own statement, autocommit
 * outside a transaction). level: "info", "pass", "warn", "fail". */
enum latch_status core_progress(struct db *db, int64_t enrollment_id,
                                const char *level, const char *text,
                                struct latch_err *err)
    __attribute__((warn_unused_result));

/* Loads the signing key and certificate (once per core). */
enum latch_status core_load_signing(struct core *c, struct latch_err *err)
    __attribute__((warn_unused_result));

/* Loads the trust directory (once per core); NULL trust when empty. */
void core_load_trust(struct core *c);

/* core_text_check("reason", reason, CORE_REASON_MAX). */
enum latch_status core_reason_check(const char *reason, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_CORE_INT_H */
