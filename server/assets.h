/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* assets.h: static files embedded at build time (scripts/embed-assets.sh). */
#ifndef LATCHD_ASSETS_H
#define LATCHD_ASSETS_H

#include <stddef.h>

struct latch_asset {
    const char *path; /* "/static/htmx.min.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* Terminated by an entry whose path is NULL. */
extern const struct latch_asset latch_assets[];

#endif /* LATCHD_ASSETS_H */
