/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * err.h: how liblatch reports failures. Library code never prints or exits:
 * it returns an enum latch_status and leaves one human-readable message,
 * naming the check and the offending value, in a struct latch_err.
 */
#ifndef LATCH_ERR_H
#define LATCH_ERR_H

#include "latch.h"

#define LATCH_ERR_MSG_MAX 512

struct latch_err {
    enum latch_status status;
    char msg[LATCH_ERR_MSG_MAX];
};

/*
 * Records st and the formatted message in e (which may be NULL) and returns
 * st, so callers can write `return latch_err_set(e, LATCH_E_FORMAT, ...)`.
 * A message already present is replaced.
 */
enum latch_status latch_err_set(struct latch_err *e, enum latch_status st,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Like latch_err_set() for a failed OpenSSL call: appends the first reason
 * on OpenSSL's error queue and drains the queue.
 */
enum latch_status latch_err_ossl(struct latch_err *e, enum latch_status st,
                                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in e with "prefix: ". */
void latch_err_prefix(struct latch_err *e, const char *prefix);

void latch_err_clear(struct latch_err *e);

#endif /* LATCH_ERR_H */
