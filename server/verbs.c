/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * verbs.c: the table of latchd verbs and the output helpers they share.
 * Other modules register their verbs here with one line each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_ek.h"
#include "codec.h"
#include "cmd_web.h"
#include "latchd.h"

const struct latchd_verb latchd_verbs[] = {
    {"init", NULL, cmd_init, LATCHD_NEEDS_NOTHING,
     "--data DIR [--database URL] [--trust DIR] [--listen ADDR] "
     "[--dev-pki]"},
    {"migrate", NULL, cmd_migrate, LATCHD_NEEDS_DB, ""},
    {"ca", "install", cmd_ca_install, LATCHD_NEEDS_DB, "CERT"},
    {"enrollment", "import", cmd_enrollment_import, LATCHD_NEEDS_DB,
     "FILE... [--wait] [--json]"},
    {"enrollment", "list", cmd_enrollment_list, LATCHD_NEEDS_DB,
     "[--state S] [--device ID] [--after ID] [--limit N] [--json]"},
    {"enrollment", "show", cmd_enrollment_show, LATCHD_NEEDS_DB, "ID [--json]"},
    {"enrollment", "approve", cmd_enrollment_approve, LATCHD_NEEDS_DB,
     "ID [--override] [--json]"},
    {"enrollment", "reject", cmd_enrollment_reject, LATCHD_NEEDS_DB,
     "ID --reason TEXT [--json]"},
    {"enrollment", "revalidate", cmd_enrollment_revalidate, LATCHD_NEEDS_DB,
     "ID [--wait] [--json]"},
    {"enrollment", "progress", cmd_enrollment_progress, LATCHD_NEEDS_DB,
     "ID [--since MSG_ID] [--json]"},
    {"customer", "add", cmd_customer_add, LATCHD_NEEDS_DB, "NAME [--json]"},
    {"customer", "list", cmd_customer_list, LATCHD_NEEDS_DB,
     "[--after ID] [--limit N] [--json]"},
    {"plan", "add", cmd_plan_add, LATCHD_NEEDS_DB,
     "NAME --feature name[=quantity][@until] ... [--json]"},
    {"plan", "list", cmd_plan_list, LATCHD_NEEDS_DB,
     "[--after ID] [--limit N] [--json]"},
    {"license", "issue", cmd_license_issue, LATCHD_NEEDS_DB,
     "--enrollment ID... --customer NAME [--plan NAME] [--feature SPEC]... "
     "[--valid-until DATE] [--supersede] [--count N] -o FILE|DIR [--json]"},
    {"license", "list", cmd_license_list, LATCHD_NEEDS_DB,
     "[--state S] [--device ID] [--enrollment ID] [--customer NAME] "
     "[--after ID] [--limit N] [--json]"},
    {"license", "show", cmd_license_show, LATCHD_NEEDS_DB, "ID [--json]"},
    {"license", "revoke", cmd_license_revoke, LATCHD_NEEDS_DB,
     "ID --reason TEXT [--json]"},
    {"license", "export", cmd_license_export, LATCHD_NEEDS_DB,
     "ID -o FILE|- [--json]"},
    {"device", "list", cmd_device_list, LATCHD_NEEDS_DB,
     "[--after ID] [--limit N] [--json]"},
    {"device", "show", cmd_device_show, LATCHD_NEEDS_DB,
     "ID|DEVICE_ID [--json]"},
    {"audit", "list", cmd_audit_list, LATCHD_NEEDS_DB,
     "[--after SEQ] [--limit N] [--json]"},
    {"audit", "verify", cmd_audit_verify, LATCHD_NEEDS_DB, "[--json]"},
    {"worker", NULL, cmd_worker, LATCHD_NEEDS_DB,
     "[--threads N] [--once]  (validation workers in the foreground)"},
    {"serve", NULL, cmd_serve, LATCHD_NEEDS_DB, "[--listen ADDR:PORT]"},
    {"user", "add", cmd_user_add, LATCHD_NEEDS_DB, "NAME --role ROLE"},
    {"user", "list", cmd_user_list, LATCHD_NEEDS_DB, "[--json]"},
    {"user", "disable", cmd_user_disable, LATCHD_NEEDS_DB,
     "NAME [--json]  (ends the user's sessions)"},
    {"user", "enable", cmd_user_enable, LATCHD_NEEDS_DB, "NAME [--json]"},
    {"user", "role", cmd_user_role, LATCHD_NEEDS_DB,
     "NAME viewer|approver|admin [--json]  (ends the user's sessions)"},
    {"token", "create", cmd_token_create, LATCHD_NEEDS_DB,
     "--role ROLE [--name TEXT]  (prints the token once)"},
    {"token", "list", cmd_token_list, LATCHD_NEEDS_DB, "[--json]"},
    {"token", "revoke", cmd_token_revoke, LATCHD_NEEDS_DB, "ID [--json]"},
    {"ek", "verify", cmd_ek_verify, LATCHD_NEEDS_NOTHING, CMD_EK_VERIFY_USAGE},
    {"trust", "import-intermediates", cmd_trust_import, LATCHD_NEEDS_DB,
     CMD_TRUST_IMPORT_USAGE},
    {"trust", "list", cmd_trust_list, LATCHD_NEEDS_DB, CMD_TRUST_LIST_USAGE},
    {NULL, NULL, NULL, LATCHD_NEEDS_NOTHING, NULL},
};

int
latchd_exit_code(enum latch_status st)
{
    switch (st) {
    case LATCH_OK:
        return 0;
    case LATCH_E_USAGE:
        return 2;
    case LATCH_E_NOT_FOUND:
        return 3;
    case LATCH_E_IO:
        return 4;
    case LATCH_E_CRYPTO:
    case LATCH_E_NOMEM:
    case LATCH_E_INTERNAL:
    case LATCH_E_TPM:
        return 5;
    case LATCH_E_FORMAT:
    case LATCH_E_SIGNATURE:
    case LATCH_E_NOT_DEVICE:
    case LATCH_E_VALIDITY:
    case LATCH_E_ROLLBACK:
    case LATCH_E_POLICY:
        return 1;
    }
    return 5;
}

/* msg with each byte that is not UTF-8 as '?', for a JSON string. */
static void
utf8_copy(const char *msg, char out[LATCH_ERR_MSG_MAX])
{
    size_t len = strnlen(msg, LATCH_ERR_MSG_MAX - 1);
    size_t i = 0;
    size_t n;
    uint32_t cp;

    while (i < len) {
        n = latch_utf8_next((const uint8_t *)msg + i, len - i, &cp);
        if (n == 0) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, msg + i, n);
        i += n;
    }
    out[i] = '\0';
}

int
latchd_fail(const struct latchd_env *env, enum latch_status st,
            const struct latch_err *err)
{
    return latchd_fail_id(env, st, err, 0);
}

int
latchd_fail_id(const struct latchd_env *env, enum latch_status st,
               const struct latch_err *err, int64_t id)
{
    const char *msg =
        err != NULL && err->msg[0] != '\0' ? err->msg : latch_strerror(st);
    char clean[LATCH_ERR_MSG_MAX];

    if (env != NULL && env->json) {
        utf8_copy(msg, clean);
        latchd_print_json(json_pack(
            "{s:o, s:s, s:s, s:s}", "id",
            id > 0 ? json_integer((json_int_t)id) : json_null(), "state",
            "error", "error", clean, "status", latch_strerror(st)));
    } else {
        fprintf(stderr, "latchd: %s\n", msg);
    }
    return latchd_exit_code(st);
}

void
latchd_print_json(json_t *v)
{
    if (v == NULL) {
        return;
    }
    if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0) {
        fputc('\n', stdout);
    }
    fflush(stdout);
    json_decref(v);
}

int
latchd_usage(const char *argv0, const char *usage)
{
    fprintf(stderr, "usage: %s %s\n", argv0, usage);
    return 2;
}

int
latchd_usage_extra(const char *argv0, const char *extra, const char *usage)
{
    if (extra != NULL) {
        fprintf(stderr, "latchd: unexpected operand \"%.40s\"\n", extra);
    }
    return latchd_usage(argv0, usage);
}

enum latch_status
cmd_parse_num(const char *what, const char *s, int64_t min, int64_t max,
              int64_t *out, struct latch_err *err)
{
    int64_t v = 0;
    size_t i;

    /* Plain digits: no sign, space or leading zero (strtoll takes all);
     * a value past INT64_MAX stops the loop before it overflows. */
    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (INT64_MAX - (s[i] - '0')) / 10) {
            break;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0 || s[i] != '\0' || (s[0] == '0' && i > 1) || v < min ||
        v > max) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s \"%.40s\" is not a number from %lld to %lld",
                             what, s, (long long)min, (long long)max);
    }
    *out = v;
    return LATCH_OK;
}

enum latch_status
cmd_parse_id(const char *s, int64_t *out, struct latch_err *err)
{
    if (cmd_parse_num("id", s, 1, INT64_MAX, out, err) != LATCH_OK) {
        latch_err_clear(err);
        return latch_err_set(err, LATCH_E_USAGE,
                             "\"%.40s\" is not an id (a positive number)", s);
    }
    return LATCH_OK;
}
