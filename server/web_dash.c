/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web_dash.c: the dashboard: enrollments awaiting review, recent
 * issuance, licenses expiring within 30 days and a bar chart of licenses
 * issued per week, drawn as inline SVG on the server (no script).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "web.h"

#define WEEKS       12
#define WEEK        (7 * 86400)
#define SHOW_ROWS   10
#define EXPIRY_DAYS 30

static enum latch_status
weekly_counts(struct db *db, int64_t start, int64_t counts[WEEKS],
              struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    memset(counts, 0, sizeof(int64_t) * WEEKS);
    rc = db_prepare(db,
                    "SELECT (issued_at - ?) / 604800, COUNT(*) FROM licenses "
                    "WHERE issued_at >= ? GROUP BY 1",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, start);
    db_bind_int64(st, 2, start);
    while (rc == LATCH_OK) {
        int64_t w;

        rc = db_step(st, &row, err);
        if (rc != LATCH_OK || !row) {
            break;
        }
        w = db_col_int64(st, 0);
        if (w >= 0 && w < WEEKS) {
            counts[w] = db_col_int64(st, 1);
        }
    }
    db_done(st);
    return rc;
}

static void
chart(struct hbuf *b, int64_t start, const int64_t counts[WEEKS])
{
    const int w = 560;
    const int h = 170;
    const int top = 18;
    const int base = 140;
    const int slot = (w - 20) / WEEKS;
    int64_t max = 1;
    int64_t total = 0;

    for (int i = 0; i < WEEKS; i++) {
        max = counts[i] > max ? counts[i] : max;
        total += counts[i];
    }
    html_fmt(b,
             "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
             "aria-label=\"Licenses issued per week, last %d weeks: "
             "%lld in total\">\n",
             w, h, WEEKS, (long long)total);
    html_fmt(b, "<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", base,
             w - 10, base);
    for (int i = 0; i < WEEKS; i++) {
        int bh = (int)(counts[i] * (base - top) / max);
        int x = 10 + i * slot + 4;
        time_t t = (time_t)(start + (int64_t)i * WEEK);
        struct tm tm;
        char label[8] = "";

        if (gmtime_r(&t, &tm) != NULL) {
            strftime(label, sizeof(label), "%m-%d", &tm);
        }
        html_fmt(b,
                 "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" "
                 "height=\"%d\"><title>week of %s: %lld</title></rect>\n",
                 x, base - bh, slot - 8, bh, label, (long long)counts[i]);
        html_fmt(b,
                 "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%lld</text>"
                 "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                 x + (slot - 8) / 2, base - bh - 4, (long long)counts[i],
                 x + (slot - 8) / 2, base + 14, label);
    }
    html_raw(b, "</svg>\n");
}

static enum latch_status
expiring(struct db *db, int64_t now, struct hbuf *b, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    int n = 0;
    enum latch_status rc;

    rc = db_prepare(db,
                    "SELECT l.id, l.serial, l.device_id, c.name, "
                    "l.valid_until FROM licenses l JOIN customers c "
                    "ON c.id = l.customer_id WHERE l.valid_until >= ? AND "
                    "l.valid_until < ? AND l.state = 'active' "
                    "ORDER BY l.valid_until, l.id LIMIT 20",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, now + EXPIRY_DAYS * 86400);
    while (rc == LATCH_OK) {
        char dev[17];

        rc = db_step(st, &row, err);
        if (rc != LATCH_OK || !row) {
            break;
        }
        if (n++ == 0) {
            html_raw(b, "<table>\n<thead><tr><th>#</th><th>Customer</th>"
                        "<th>Device</th><th>Serial</th><th>Expires</th></tr>"
                        "</thead>\n<tbody hx-disable>\n");
        }
        snprintf(dev, sizeof(dev), "%s",
                 db_col_text(st, 2) != NULL ? db_col_text(st, 2) : "");
        html_fmt(b,
                 "<tr><td><a href=\"/licenses/%lld\">%lld</a></td><td>%s</td>"
                 "<td><code>%s\xe2\x80\xa6</code></td><td>%lld</td><td>",
                 (long long)db_col_int64(st, 0), (long long)db_col_int64(st, 0),
                 db_col_text(st, 3), dev, (long long)db_col_int64(st, 1));
        html_time(b, db_col_int64(st, 4));
        html_raw(b, "</td></tr>\n");
    }
    db_done(st);
    if (rc == LATCH_OK) {
        html_raw(b, n > 0 ? "</tbody></table>\n"
                          : "<p class=\"empty\">None in the next 30 days."
                            "</p>\n");
    }
    return rc;
}

void
web_dashboard(struct http_req *r)
{
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *review = NULL;
    json_t *recent = NULL;
    int64_t counts[WEEKS];
    int64_t now = (int64_t)time(NULL);
    int64_t start;
    struct hbuf b;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    /* Weeks start on the UTC day boundary WEEKS weeks before today's end. */
    start = (now / 86400 + 1) * 86400 - (int64_t)WEEKS * WEEK;
    memset(&o, 0, sizeof(o));
    o.newest_first = true;
    o.limit = SHOW_ROWS;
    st = web_enr_review(c, 0, SHOW_ROWS, &review, &err);
    if (st == LATCH_OK) {
        st = core_license_list(c, &o, &recent, &err);
    }
    if (st == LATCH_OK) {
        st = weekly_counts(core_db(c), start, counts, &err);
    }
    if (st != LATCH_OK) {
        json_decref(review);
        json_decref(recent);
        web_fail(r, st, &err);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Dashboard", "dashboard");
    html_raw(&b, "<h1>Dashboard</h1>\n<div class=\"grid\">\n"
                 "<section class=\"panel\">\n<h2>Awaiting review</h2>\n");
    web_enr_table(&b, json_object_get(review, "items"));
    html_raw(&b, "<p><a href=\"/enrollments?state=review\">All awaiting "
                 "review</a></p>\n</section>\n<section class=\"panel\">\n"
                 "<h2>Licenses issued per week</h2>\n");
    chart(&b, start, counts);
    html_raw(&b, "</section>\n</div>\n<section class=\"panel\">\n<h2>"
                 "Recently issued</h2>\n");
    web_lic_table(&b, json_object_get(recent, "items"));
    html_raw(&b, "</section>\n<section class=\"panel\">\n<h2>Expiring "
                 "within 30 days</h2>\n");
    st = expiring(core_db(c), now, &b, &err);
    json_decref(review);
    json_decref(recent);
    if (st != LATCH_OK) {
        hbuf_free(&b);
        web_fail(r, st, &err);
        return;
    }
    html_raw(&b, "</section>\n");
    web_page_end(r, &b, 200);
}
