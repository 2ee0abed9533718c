/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd.h: the admin CLI verbs of latchd core (one file per verb family,
 * cmd_*.c), registered in verbs.c, and the option helpers they share.
 */
#ifndef LATCHD_CMD_H
#define LATCHD_CMD_H

#include <stdint.h>

#include "latchd.h"

int cmd_init(struct latchd_env *env, int argc, char **argv);
int cmd_ca_install(struct latchd_env *env, int argc, char **argv);

int cmd_enrollment_import(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_list(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_show(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_approve(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_reject(struct latchd_env *env, int argc, char **argv);
int cmd_enrollment_revalidate(struct latchd_env *env, int argc, char **argv);

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

/* Parses a positive decimal id ("12"). */
enum latch_status cmd_parse_id(const char *s, int64_t *out,
                               struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_CMD_H */
