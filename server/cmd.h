/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd.h: the admin CLI verbs of latchd core (one file per verb family,
 * cmd_*.c), registered in verbs.c, and the option helpers they share.
 */
#ifndef LATCHD_CMD_H
#define LATCHD_CMD_H

#include <stdint.h>

#include <jansson.h>

#include "latchd.h"

int cmd_init(struct latchd_env *env, int argc, char **argv);
int cmd_ca_install(struct latchd_env *env, int argc, char **argv);

int cmd_enrollment_import(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_list(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_show(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_approve(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_reject(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_revalidate(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_progress(struct latchd_env *env, int argc, char **argv);

int cmd_customer_add(struct latchd_env *env, int argc, char **argv);
int cmd_customer_list(struct latchd_env *env, int argc, char **argv);
int cmd_plan_add(struct latchd_env *env, int argc, char **argv);
int cmd_plan_list(struct latchd_env *env, int argc, char **argv);

int cmd_license_issue(struct latchd_env *env, int argc, char **argv);
int cmd_license_list(struct latchd_env *env, int argc, char **argv);
int cmd_license_show(struct latchd_env *env, int argc, char **argv);
int cmd_license_revoke(struct latchd_env *env, int argc, char **argv);
int cmd_license_export(struct latchd_env *env, int argc, char **argv);

int cmd_device_list(struct latchd_env *env, int argc, char **argv);
int cmd_device_show(struct latchd_env *env, int argc, char **argv);

int cmd_audit_list(struct latchd_env *env, int argc, char **argv);
int cmd_audit_verify(struct latchd_env *env, int argc, char **argv);

int cmd_worker(struct latchd_env *env, int argc, char **argv);
int cmd_migrate(struct latchd_env *env, int argc, char **argv);

/* Filters cmd_list_opts() accepts besides --after, --limit, --newest. */
#define CMD_LIST_STATE      0x1
#define CMD_LIST_DEVICE     0x2
#define CMD_LIST_ENROLLMENT 0x4
#define CMD_LIST_CUSTOMER   0x8

struct core;
struct core_list_opts;

/*
 * Parses the list options into opt (pointing into argv). Returns 0, or the
 * usage exit code after printing the usage.
 */
int cmd_list_opts(int argc, char **argv, unsigned int filters,
                  struct core_list_opts *opt);

typedef enum latch_status (*cmd_list_fn)(struct core *c,
                                         const struct core_list_opts *opt,
                                         json_t **out, struct latch_err *err);

/*
 * Parses the list options (as cmd_list_opts), opens the core and runs fn.
 * Returns 0 with the page in *page (the caller prints and releases it), 0
 * with *page NULL when --json has already printed it, or the usage or
 * failure exit code with *page NULL.
 */
int cmd_list_run(struct latchd_env *env, int argc, char **argv,
                 unsigned int filters, cmd_list_fn fn, json_t **page);

typedef enum latch_status (*cmd_show_fn)(struct core *c, int64_t id,
                                         json_t **out, struct latch_err *err);

/*
 * "VERB ID": parses the one ID argument, opens the core and runs fn.
 * Returns 0 with the record in *out (owned by the caller), or the usage or
 * failure exit code with *out NULL.
 */
int cmd_show_id(struct latchd_env *env, int argc, char **argv, cmd_show_fn fn,
                json_t **out);

typedef enum latch_status (*cmd_reason_fn)(struct core *c, const char *actor,
                                           int64_t id, const char *reason,
                                           json_t **out, struct latch_err *err);

/*
 * "VERB ID --reason TEXT": parses the arguments, opens the core and runs fn
 * as env->actor. Returns 0 with the result in *out (owned by the caller),
 * or the usage or failure exit code with *out NULL.
 */
int cmd_with_reason(struct latchd_env *env, int argc, char **argv,
                    cmd_reason_fn fn, json_t **out);

/*
 * Prepares a result for human output: every string in v (recursively)
 * gets its newlines and tabs spelled <U+000A> / <U+0009>, so text from
 * data (device labels, names, reasons, certificate strings) cannot forge
 * lines or columns; the output filter (safeout.h) escapes the other
 * control characters. Not for --json output, which must stay exact.
 */
void cmd_human(json_t *v);

/* A JSON string's value, or "-" for null/absent. */
const char *cmd_str(const json_t *v);

/* "more: --after N" when the page has a next cursor. */
void cmd_print_next(const json_t *page);

/*
 * Runs validation jobs in this process until every enrollment id in ids
 * (a JSON array; non-integers skipped) has an outcome.
 */
enum latch_status cmd_wait_validated(struct latchd_env *env, struct core *c,
                                     json_t *ids, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Parses a decimal number of plain digits (no sign, space or leading zero)
 * within min..max; the message names what ("--count").
 */
enum latch_status cmd_parse_num(const char *what, const char *s, int64_t min,
                                int64_t max, int64_t *out,
                                struct latch_err *err)
    __attribute__((warn_unused_result));

/* A device id: 64 lowercase hex digits (docs/format.md, 5.6). */
bool cmd_device_id_ok(const char *s);

/* Parses a positive decimal id ("12"): plain digits, as cmd_parse_num. */
enum latch_status cmd_parse_id(const char *s, int64_t *out,
                               struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_CMD_H */
