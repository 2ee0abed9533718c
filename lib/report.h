/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * report.h: a list of named checks with their outcome and a reason, as
 * printed by `latch verify` and stored by latchd for every enrollment.
 */
#ifndef LATCH_REPORT_H
#define LATCH_REPORT_H

#include <stddef.h>

#define LATCH_REPORT_MAX       48
#define LATCH_CHECK_NAME_MAX   48
#define LATCH_CHECK_DETAIL_MAX 320

enum latch_check_result {
    LATCH_CHECK_PASS = 0,
    LATCH_CHECK_WARN, /* deviation that does not fail the whole */
    LATCH_CHECK_FAIL,
    LATCH_CHECK_SKIP /* not run because an earlier check failed */
};

struct latch_check {
    char name[LATCH_CHECK_NAME_MAX];
    enum latch_check_result result;
    char detail[LATCH_CHECK_DETAIL_MAX];
};

struct latch_report {
    struct latch_check items[LATCH_REPORT_MAX];
    size_t n;
};

/* Appends a check (silently dropped past LATCH_REPORT_MAX). r may be NULL. */
void latch_report_add(struct latch_report *r, const char *name,
                      enum latch_check_result result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "pass", "warn", "fail", "skip". */
const char *latch_check_result_str(enum latch_check_result result);

/* True when no item failed. */
int latch_report_ok(const struct latch_report *r);

#endif /* LATCH_REPORT_H */
