/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* cmd_web.h: latchd verbs of the web front end (cmd_web.c). */
#ifndef LATCHD_CMD_WEB_H
#define LATCHD_CMD_WEB_H

#include "latchd.h"

/* latchd serve [--listen ADDR:PORT] */
int cmd_serve(struct latchd_env *env, int argc, char **argv);
/* latchd user add NAME --role ROLE (password from the terminal or stdin) */
int cmd_user_add(struct latchd_env *env, int argc, char **argv);
/* latchd user list */
int cmd_user_list(struct latchd_env *env, int argc, char **argv);
/* latchd user disable NAME (ends the user's sessions) */
int cmd_user_disable(struct latchd_env *env, int argc, char **argv);
/* latchd user enable NAME */
int cmd_user_enable(struct latchd_env *env, int argc, char **argv);
/* latchd user role NAME ROLE (ends the user's sessions) */
int cmd_user_role(struct latchd_env *env, int argc, char **argv);
/* latchd token create --role ROLE [--name TEXT] (prints the token once) */
int cmd_token_create(struct latchd_env *env, int argc, char **argv);
/* latchd token list: every token, never the secret or its hash */
int cmd_token_list(struct latchd_env *env, int argc, char **argv);
/* latchd token revoke ID */
int cmd_token_revoke(struct latchd_env *env, int argc, char **argv);

#endif /* LATCHD_CMD_WEB_H */
