/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* report.c: named check results. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

void
latch_report_add(struct latch_report *r, const char *name,
                 enum latch_check_result result, const char *fmt, ...)
{
    struct latch_check *c;
    va_list ap;

    if (r == NULL || r->n >= LATCH_REPORT_MAX) {
        return;
    }
    c = &r->items[r->n++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->result = result;
    va_start(ap, fmt);
    if (vsnprintf(c->detail, sizeof(c->detail), fmt, ap) < 0) {
        c->detail[0] = '\0';
    }
    va_end(ap);
}

const char *
latch_check_result_str(enum latch_check_result result)
{
    switch (result) {
    case LATCH_CHECK_PASS:
        return "pass";
    case LATCH_CHECK_WARN:
        return "warn";
    case LATCH_CHECK_FAIL:
        return "fail";
    case LATCH_CHECK_SKIP:
        return "skip";
    }
    return "?";
}

int
latch_report_ok(const struct latch_report *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (r->items[i].result == LATCH_CHECK_FAIL) {
            return 0;
        }
    }
    return 1;
}
