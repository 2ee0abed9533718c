/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web_admin.c: devices, customers and plans, the audit log with filters,
 * the trust store (read only: the UI can never add an anchor), and the
 * users and API tokens page for administrators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ekcert.h"
#include "web.h"

#define PLAN_FEATURES_MAX 64
#define FILTER_MAX        256

typedef enum latch_status (*list_fn)(struct core *c,
                                     const struct core_list_opts *opt,
                                     json_t **out, struct latch_err *err);

/*
 * The page of fn that the request asks for (after=, limit=), or NULL when
 * the failure reply has been sent.
 */
static json_t *
fetch_list(struct http_req *r, list_fn fn, bool newest_first)
{
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *list = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return NULL;
    }
    if (!web_list_opts_ok(r, &o)) {
        return NULL;
    }
    o.newest_first = newest_first;
    st = fn(c, &o, &list, &err);
    if (st != LATCH_OK) {
        json_decref(list);
        web_fail(r, st, &err);
        return NULL;
    }
    return list;
}

/* Opens a page with its heading and, when there is one, a problem banner. */
static void
page_begin(struct hbuf *b, struct http_req *r, const char *title,
           const char *nav, const char *heading, const char *problem)
{
    hbuf_init(b, HBUF_PAGE_MAX);
    web_page_begin(b, r, title, nav);
    html_fmt(b, "<h1>%s</h1>\n", heading);
    if (problem != NULL) {
        html_fmt(b, "<div class=\"banner bad\" role=\"alert\">%s</div>\n",
                 problem);
    }
}

/* --- devices ---------------------------------------------------------- */

void
web_dev_list(struct http_req *r)
{
    json_t *list = fetch_list(r, core_device_list, true);
    const json_t *d;
    struct hbuf b;
    size_t i;

    if (list == NULL) {
        return;
    }
    page_begin(&b, r, "Devices", "devices", "Devices", NULL);
    if (json_array_size(json_object_get(list, "items")) == 0) {
        html_raw(&b, "<p class=\"empty\">No devices yet: a device appears "
                     "with its first validated enrollment.</p>\n");
    } else {
        html_raw(&b, "<table>\n<thead><tr><th>#</th><th>Device id</th>"
                     "<th>EK template</th><th>TPM vendor</th><th>Current "
                     "enrollment</th><th>Last serial</th><th>First seen</th>"
                     "</tr></thead>\n<tbody hx-disable>\n");
    }
    json_array_foreach(json_object_get(list, "items"), i, d)
    {
        html_raw(&b, "<tr><td>");
        web_jtext(&b, d, "id");
        html_raw(&b, "</td><td>");
        web_device_link(&b, web_jstr(d, "device_id"), false);
        html_raw(&b, "</td><td>");
        web_jtext(&b, d, "ek_template");
        html_raw(&b, "</td><td>");
        web_jtext(&b, d, "tpm_manufacturer");
        html_raw(&b, "</td><td>");
        if (web_jint(d, "current_enrollment") > 0) {
            html_fmt(&b, "<a href=\"/enrollments/%lld\">%lld</a>",
                     (long long)web_jint(d, "current_enrollment"),
                     (long long)web_jint(d, "current_enrollment"));
        } else {
            html_raw(&b, "<span class=\"muted\">none</span>");
        }
        html_raw(&b, "</td><td>");
        web_jtext(&b, d, "last_serial");
        html_raw(&b, "</td><td>");
        web_jtime(&b, d, "first_seen");
        html_raw(&b, "</td></tr>\n");
    }
    if (json_array_size(json_object_get(list, "items")) > 0) {
        html_raw(&b, "</tbody></table>\n");
    }
    web_pager(&b, "/devices", list, NULL);
    json_decref(list);
    web_page_end(r, &b, 200);
}

void
web_dev_show(struct http_req *r)
{
    const char *key = http_req_seg(r, 0);
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *d = NULL;
    struct hbuf b;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    st = core_device_show(c, key, &d, &err);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Device", "devices");
    html_raw(&b, "<h1>Device</h1>\n<section class=\"panel\" hx-disable>\n"
                 "<table class=\"facts\">\n<tr><th scope=\"row\">Device id"
                 "</th><td class=\"mono\">");
    web_jtext(&b, d, "device_id");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">EK template</th><td>");
    web_jtext(&b, d, "ek_template");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">TPM vendor</th><td>");
    web_jtext(&b, d, "tpm_manufacturer");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Last serial</th><td>");
    web_jtext(&b, d, "last_serial");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">First seen</th><td>");
    web_jtime(&b, d, "first_seen");
    html_raw(&b, "</td></tr>\n</table>\n</section>\n<section "
                 "class=\"panel\">\n<h2>Enrollment history</h2>\n");
    web_enr_table(&b, json_object_get(d, "enrollments"));
    html_raw(&b, "</section>\n<section class=\"panel\">\n<h2>Licenses</h2>\n");
    web_lic_table(&b, json_object_get(d, "licenses"));
    html_raw(&b, "</section>\n");
    json_decref(d);
    web_page_end(r, &b, 200);
}

/* --- customers and plans ---------------------------------------------------
 */

static void
customers_page(struct http_req *r, unsigned status, const char *problem)
{
    json_t *list = fetch_list(r, core_customer_list, false);
    const json_t *it;
    struct hbuf b;
    size_t i;

    if (list == NULL) {
        return;
    }
    page_begin(&b, r, "Customers", "customers", "Customers", problem);
    if (web_can(r, AUTH_APPROVER)) {
        html_raw(&b, "<form class=\"panel row\" method=\"post\" "
                     "action=\"/customers\">");
        web_csrf_input(&b, r);
        html_raw(&b, "<div><label for=\"name\">New customer</label><input "
                     "type=\"text\" id=\"name\" name=\"name\" "
                     "maxlength=\"128\" required></div><button "
                     "type=\"submit\">Add</button></form>\n");
    }
    html_raw(&b, "<table>\n<thead><tr><th>#</th><th>Name</th><th>Licenses"
                 "</th><th>Added</th></tr></thead>\n<tbody hx-disable>\n");
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        html_raw(&b, "<tr><td>");
        web_jtext(&b, it, "id");
        html_raw(&b, "</td><td>");
        web_jtext(&b, it, "name");
        html_fmt(&b,
                 "</td><td><a href=\"/licenses?customer_id=%lld\">licenses"
                 "</a></td><td>",
                 (long long)web_jint(it, "id"));
        web_jtime(&b, it, "created_at");
        html_raw(&b, "</td></tr>\n");
    }
    html_raw(&b, "</tbody></table>\n");
    web_pager(&b, "/customers", list, NULL);
    json_decref(list);
    web_page_end(r, &b, status);
}

void
web_customers(struct http_req *r)
{
    customers_page(r, 200, NULL);
}

void
web_customer_add(struct http_req *r)
{
    const char *name = http_req_form(r, "name");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (name == NULL || name[0] == '\0') {
        customers_page(r, 400, "Give the customer a name.");
        return;
    }
    if (core_text_check("customer name", name, CORE_NAME_MAX, &err) !=
        LATCH_OK) {
        customers_page(r, 400, err.msg);
        return;
    }
    st = core_customer_add(c, web_who(r)->actor, name, &out, &err);
    json_decref(out);
    if (st != LATCH_OK && web_status_http(st) < 500) {
        customers_page(r, web_status_http(st), err.msg);
        return;
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    http_redirect(r, "/customers");
}

static void
plans_page(struct http_req *r, unsigned status, const char *problem)
{
    json_t *list = fetch_list(r, core_plan_list, false);
    const json_t *it;
    const json_t *f;
    struct hbuf b;
    size_t i;
    size_t j;

    if (list == NULL) {
        return;
    }
    page_begin(&b, r, "Plans", "plans", "Feature plans", problem);
    html_raw(&b, "<table>\n<thead><tr><th>#</th><th>Name</th><th>Features"
                 "</th></tr></thead>\n<tbody hx-disable>\n");
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        html_raw(&b, "<tr><td>");
        web_jtext(&b, it, "id");
        html_raw(&b, "</td><td>");
        web_jtext(&b, it, "name");
        html_raw(&b, "</td><td>");
        json_array_foreach(json_object_get(it, "features"), j, f)
        {
            html_raw(&b, j > 0 ? ", <code>" : "<code>");
            web_jtext(&b, f, "name");
            if (json_is_integer(json_object_get(f, "quantity"))) {
                html_raw(&b, "=");
                web_jtext(&b, f, "quantity");
            }
            html_raw(&b, "</code>");
            if (json_object_get(f, "valid_until") != NULL &&
                !json_is_null(json_object_get(f, "valid_until"))) {
                html_raw(&b, " until ");
                web_jtime(&b, f, "valid_until");
            }
        }
        html_raw(&b, "</td></tr>\n");
    }
    html_raw(&b, "</tbody></table>\n");
    web_pager(&b, "/plans", list, NULL);
    if (web_can(r, AUTH_ADMIN)) {
        html_raw(&b, "<form class=\"panel\" method=\"post\" "
                     "action=\"/plans\">\n<h2>New plan</h2>\n");
        web_csrf_input(&b, r);
        html_raw(&b, "<label for=\"name\">Name</label><input type=\"text\" "
                     "id=\"name\" name=\"name\" maxlength=\"128\" required>"
                     "<label for=\"features\">Features, one per line: "
                     "<code>name[=quantity][@YYYY-MM-DD]</code></label>"
                     "<textarea id=\"features\" name=\"features\" "
                     "rows=\"5\"></textarea><p><button type=\"submit\">"
                     "Add plan</button></p></form>\n");
    }
    json_decref(list);
    web_page_end(r, &b, status);
}

void
web_plans(struct http_req *r)
{
    plans_page(r, 200, NULL);
}

/* line without its leading and trailing spaces and tabs (cut in place). */
static char *
trim_blank(char *line)
{
    size_t n;

    line += strspn(line, " \t");
    n = strlen(line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t')) {
        line[--n] = '\0';
    }
    return line;
}

void
web_plan_add(struct http_req *r)
{
    const char *name = http_req_form(r, "name");
    const char *text = http_req_form(r, "features");
    struct core_feature *feats = NULL;
    size_t n = 0;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    char *copy = NULL;
    char *save = NULL;
    enum latch_status st = LATCH_OK;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (name == NULL || name[0] == '\0') {
        plans_page(r, 400, "Give the plan a name.");
        return;
    }
    if (core_text_check("plan name", name, CORE_NAME_MAX, &err) != LATCH_OK) {
        plans_page(r, 400, err.msg);
        return;
    }
    feats = calloc(PLAN_FEATURES_MAX, sizeof(*feats));
    copy = strdup(text != NULL ? text : "");
    if (feats == NULL || copy == NULL) {
        st = latch_err_set(&err, LATCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (char *line = strtok_r(copy, "\r\n", &save); line != NULL;
         line = strtok_r(NULL, "\r\n", &save)) {
        line = trim_blank(line);
        if (line[0] == '\0') {
            continue;
        }
        if (n == PLAN_FEATURES_MAX) {
            st = latch_err_set(&err, LATCH_E_USAGE,
                               "at most %d features in a plan",
                               PLAN_FEATURES_MAX);
            goto out;
        }
        st = core_feature_parse(line, &feats[n], &err);
        if (st != LATCH_OK) {
            char why[sizeof(err.msg)];

            snprintf(why, sizeof(why), "%s", err.msg);
            st = latch_err_set(&err, st, "feature line \"%.80s\": %s", line,
                               why);
            goto out;
        }
        n++;
    }
    st = core_plan_add(c, web_who(r)->actor, name, feats, n, &out, &err);

out:
    free(copy);
    free(feats);
    json_decref(out);
    if (st == LATCH_OK) {
        http_redirect(r, "/plans");
    } else if (web_status_http(st) < 500) {
        plans_page(r, web_status_http(st), err.msg);
    } else {
        web_fail(r, st, &err);
    }
}

/* --- audit log --------------------------------------------------------------
 */

/*
 * Chooses the constant statement that can use an index: the object
 * filter first (most selective), then the actor, then the action; the
 * other filters are applied as (CAST(? AS TEXT) = '' OR col = ?).
 */
static enum latch_status
audit_query(struct db *db, const char *actor, const char *action,
            const char *object, int64_t before, int limit, struct db_stmt **out,
            struct latch_err *err)
{
    static const char *const by_object =
        "SELECT seq, time, actor, action, object, details, hash "
        "FROM audit_log WHERE object = ? AND seq < ? "
        "AND (CAST(? AS TEXT) = '' OR actor = ?) AND (CAST(? AS TEXT) = '' OR "
        "action = ?) "
        "ORDER BY object DESC, seq DESC LIMIT ?";
    static const char *const by_actor =
        "SELECT seq, time, actor, action, object, details, hash "
        "FROM audit_log WHERE actor = ? AND seq < ? "
        "AND (CAST(? AS TEXT) = '' OR action = ?) AND (CAST(? AS TEXT) = '' OR "
        "object = ?) "
        "ORDER BY actor DESC, seq DESC LIMIT ?";
    static const char *const by_action =
        "SELECT seq, time, actor, action, object, details, hash "
        "FROM audit_log WHERE action = ? AND seq < ? "
        "AND (CAST(? AS TEXT) = '' OR actor = ?) AND (CAST(? AS TEXT) = '' OR "
        "object = ?) "
        "ORDER BY action DESC, seq DESC LIMIT ?";
    static const char *const all =
        "SELECT seq, time, actor, action, object, details, hash "
        "FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?";
    const char *first = NULL;
    const char *a = "";
    const char *b = "";
    enum latch_status rc;

    if (object != NULL) {
        rc = db_prepare(db, by_object, out, err);
        first = object;
        a = actor;
        b = action;
    } else if (actor != NULL) {
        rc = db_prepare(db, by_actor, out, err);
        first = actor;
        a = action;
    } else if (action != NULL) {
        rc = db_prepare(db, by_action, out, err);
        first = action;
    } else {
        rc = db_prepare(db, all, out, err);
        if (rc == LATCH_OK) {
            db_bind_int64(*out, 1, before > 0 ? before : INT64_MAX);
            db_bind_int64(*out, 2, limit + 1);
        }
        return rc;
    }
    if (rc != LATCH_OK) {
        return rc;
    }
    a = a != NULL ? a : "";
    b = b != NULL ? b : "";
    db_bind_text(*out, 1, first);
    db_bind_int64(*out, 2, before > 0 ? before : INT64_MAX);
    db_bind_text(*out, 3, a);
    db_bind_text(*out, 4, a);
    db_bind_text(*out, 5, b);
    db_bind_text(*out, 6, b);
    db_bind_int64(*out, 7, limit + 1);
    return LATCH_OK;
}

void
web_audit(struct http_req *r)
{
    bool bad = false;
    const char *actor = web_filter_arg(r, "actor", FILTER_MAX, &bad);
    const char *action = web_filter_arg(r, "action", FILTER_MAX, &bad);
    const char *object = web_filter_arg(r, "object", FILTER_MAX, &bad);
    struct core_list_opts o;
    struct latch_err err;
    struct db *db = web_db(r);
    struct db_stmt *st = NULL;
    struct hbuf b;
    int64_t last = 0;
    int n = 0;
    bool row = false;
    enum latch_status rc;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    if (bad || !web_list_opts_ok(r, &o)) {
        return;
    }
    rc = audit_query(db, actor, action, object, o.after_id, o.limit, &st, &err);
    if (rc != LATCH_OK) {
        web_fail(r, rc, &err);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Audit log", "audit");
    html_fmt(&b,
             "<h1>Audit log</h1>\n<form class=\"filters\" method=\"get\" "
             "action=\"/audit\"><label for=\"actor\" class=\"small\">Actor"
             "</label><input type=\"text\" id=\"actor\" name=\"actor\" "
             "value=\"%s\"><label for=\"action\" class=\"small\">Action"
             "</label><input type=\"text\" id=\"action\" name=\"action\" "
             "value=\"%s\"><label for=\"object\" class=\"small\">Object"
             "</label><input type=\"text\" id=\"object\" name=\"object\" "
             "value=\"%s\"><button class=\"secondary\" type=\"submit\">"
             "Filter</button> <a href=\"/audit\">clear</a></form>\n",
             actor != NULL ? actor : "", action != NULL ? action : "",
             object != NULL ? object : "");
    html_raw(&b, "<table>\n<thead><tr><th>Seq</th><th>Time</th><th>Actor"
                 "</th><th>Action</th><th>Object</th><th>Details</th></tr>"
                 "</thead>\n<tbody hx-disable>\n");
    while (rc == LATCH_OK) {
        rc = db_step(st, &row, &err);
        if (rc != LATCH_OK || !row || n == o.limit) {
            break;
        }
        last = db_col_int64(st, 0);
        n++;
        html_fmt(&b, "<tr><td title=\"%s\">%lld</td><td>", db_col_text(st, 6),
                 (long long)last);
        html_time(&b, db_col_int64(st, 1));
        html_raw(&b, "</td><td>");
        html_text(&b, db_col_text(st, 2));
        html_raw(&b, "</td><td>");
        html_text(&b, db_col_text(st, 3));
        html_raw(&b, "</td><td>");
        html_text(&b, db_col_text(st, 4));
        html_fmt(&b, "</td><td><code class=\"small\">%s</code></td></tr>\n",
                 db_col_text(st, 5));
    }
    db_done(st);
    if (rc != LATCH_OK) {
        hbuf_free(&b);
        web_fail(r, rc, &err);
        return;
    }
    html_raw(&b, "</tbody></table>\n");
    if (n == 0) {
        html_raw(&b, "<p class=\"empty\">No matching entries.</p>\n");
    }
    if (row && n == o.limit) {
        json_t *next = json_pack("{s:I}", "next", (json_int_t)last);
        const char *pairs[] = {"actor",  actor,  "action", action,
                               "object", object, NULL};

        web_pager(&b, "/audit", next, pairs);
        json_decref(next);
    }
    web_page_end(r, &b, 200);
}

/* --- trust store ---------------------------------------------------------- */

static void
der_subject(struct hbuf *b, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *bio = NULL;
    char *text = NULL;
    long n;

    if (x == NULL) {
        html_raw(b, "<span class=\"muted\">(unparsable)</span>");
        return;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio != NULL &&
        X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_get_mem_data(bio, &text);
        if (n > 0) {
            html_textn(b, text, (size_t)n);
        }
    }
    BIO_free(bio);
    X509_free(x);
}

static enum latch_status
intermediates(struct db *db, struct hbuf *b, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    int n = 0;
    enum latch_status rc;

    rc = db_prepare(db,
                    "SELECT sha256, url, fetched_at, der FROM aia_cache "
                    "ORDER BY id DESC LIMIT 200",
                    &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    while (rc == LATCH_OK) {
        const uint8_t *der;
        size_t len = 0;

        rc = db_step(st, &row, err);
        if (rc != LATCH_OK || !row) {
            break;
        }
        if (n++ == 0) {
            html_raw(b, "<table>\n<thead><tr><th>Subject</th><th>SHA-256"
                        "</th><th>Source</th><th>Cached</th></tr></thead>\n"
                        "<tbody hx-disable>\n");
        }
        der = db_col_blob(st, 3, &len);
        html_raw(b, "<tr><td>");
        der_subject(b, der, len);
        html_fmt(b,
                 "</td><td class=\"mono\">%s</td><td class=\"mono\">%s"
                 "</td><td>",
                 db_col_text(st, 0),
                 db_col_text(st, 1) != NULL ? db_col_text(st, 1)
                                            : "operator import");
        html_time(b, db_col_int64(st, 2));
        html_raw(b, "</td></tr>\n");
    }
    db_done(st);
    if (rc == LATCH_OK) {
        html_raw(b, n > 0 ? "</tbody></table>\n"
                          : "<p class=\"empty\">No cached intermediates."
                            "</p>\n");
    }
    return rc;
}

void
web_trust_page(struct http_req *r)
{
    const struct ek_trust *t = web_trust(r);
    struct latch_err err;
    struct db *db = web_db(r);
    struct hbuf b;
    enum latch_status rc;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Trust store", "trust");
    html_raw(&b, "<h1>Trust store</h1>\n<p>Pinned TPM vendor roots are the "
                 "only anchors of EK certificate chains. They are read from "
                 "the trust directory when latchd starts; this page cannot "
                 "change them.</p>\n<section class=\"panel\">\n<h2>Pinned "
                 "roots</h2>\n");
    if (t == NULL) {
        html_fmt(&b,
                 "<div class=\"banner warn\"><strong>No anchors loaded"
                 "</strong>%s</div>\n",
                 web_trust_error(r));
    } else {
        html_raw(&b, "<table>\n<thead><tr><th>Subject</th><th>SHA-256</th>"
                     "<th>Valid until</th><th>File</th></tr></thead>\n"
                     "<tbody hx-disable>\n");
        for (size_t i = 0; i < ek_trust_count(t); i++) {
            const struct ek_anchor *a = ek_trust_get(t, i);

            html_fmt(&b, "<tr><td>%s%s</td><td class=\"mono\">%s</td><td>",
                     a->subject, a->self_signed ? "" : " (not self-signed)",
                     a->sha256);
            html_time(&b, a->not_after);
            html_fmt(&b, "</td><td class=\"mono small\">%s</td></tr>\n",
                     a->path);
        }
        html_raw(&b, "</tbody></table>\n");
    }
    html_raw(&b, "</section>\n<section class=\"panel\">\n<h2>Cached "
                 "intermediates (untrusted)</h2>\n<p class=\"small "
                 "muted\">Learned from enrollments and AIA fetches; used "
                 "only to build chains to a pinned root, never as "
                 "anchors.</p>\n");
    rc = intermediates(db, &b, &err);
    if (rc != LATCH_OK) {
        hbuf_free(&b);
        web_fail(r, rc, &err);
        return;
    }
    html_fmt(&b,
             "</section>\n<section class=\"panel\">\n<h2>Pinning a root"
             "</h2>\n<pre>%s</pre>\n</section>\n",
             ek_pinning_steps());
    web_page_end(r, &b, 200);
}

/* --- users and tokens ---------------------------------------------------- */

static void
role_select(struct hbuf *b, const char *name, const char *current)
{
    static const char *const roles[] = {"viewer", "approver", "admin"};

    html_fmt(b, "<select name=\"%s\" aria-label=\"role\">", name);
    for (size_t i = 0; i < 3; i++) {
        html_fmt(b, "<option%s>%s</option>",
                 current != NULL && strcmp(current, roles[i]) == 0 ? " selected"
                                                                   : "",
                 roles[i]);
    }
    html_raw(b, "</select>");
}

static void
users_page(struct http_req *r, unsigned status, const char *problem,
           const char *new_token)
{
    struct latch_err err;
    struct db *db = web_db(r);
    json_t *users = NULL;
    json_t *tokens = NULL;
    const json_t *u;
    struct hbuf b;
    size_t i;
    enum latch_status st;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    st = auth_user_list(db, &users, &err);
    if (st == LATCH_OK) {
        st = auth_token_list(db, &tokens, &err);
    }
    if (st != LATCH_OK) {
        json_decref(users);
        web_fail(r, st, &err);
        return;
    }
    page_begin(&b, r, "Users", "users", "Users and API tokens", problem);
    if (new_token != NULL) {
        html_fmt(&b,
                 "<div class=\"banner ok\" role=\"status\"><strong>New API "
                 "token (shown once; only its SHA-256 is kept)</strong>"
                 "<code class=\"mono\">%s</code></div>\n",
                 new_token);
    }
    html_raw(&b, "<section class=\"panel\">\n<h2>Users</h2>\n<table>\n"
                 "<thead><tr><th>Name</th><th>Role</th><th>Disabled</th>"
                 "<th>Last sign-in</th><th></th></tr></thead>\n<tbody>\n");
    json_array_foreach(json_object_get(users, "items"), i, u)
    {
        html_raw(&b, "<tr><td>");
        web_jtext(&b, u, "name");
        html_fmt(&b,
                 "</td><td colspan=\"2\"><form class=\"row\" method=\"post\" "
                 "action=\"/users/%lld/update\">",
                 (long long)web_jint(u, "id"));
        web_csrf_input(&b, r);
        role_select(&b, "role", web_jstr(u, "role"));
        html_fmt(&b,
                 "<label class=\"small\"><input type=\"checkbox\" "
                 "name=\"disabled\" value=\"1\"%s> disabled</label>"
                 "<button class=\"secondary\" type=\"submit\">Save</button>"
                 "</form></td><td>",
                 json_is_true(json_object_get(u, "disabled")) ? " checked"
                                                              : "");
        web_jtime(&b, u, "last_signin_at");
        html_raw(&b, "</td><td></td></tr>\n");
    }
    html_raw(&b, "</tbody></table>\n<form class=\"row\" method=\"post\" "
                 "action=\"/users\">");
    web_csrf_input(&b, r);
    html_raw(&b, "<div><label for=\"uname\">New user</label><input "
                 "type=\"text\" id=\"uname\" name=\"name\" maxlength=\"64\" "
                 "required></div><div><label for=\"urole\">Role</label>");
    role_select(&b, "role", "viewer");
    html_raw(&b, "</div><div><label for=\"upw\">Password (12+ "
                 "characters)</label><input type=\"password\" id=\"upw\" "
                 "name=\"password\" minlength=\"12\" "
                 "autocomplete=\"new-password\" required></div><button "
                 "type=\"submit\">Add user</button></form>\n</section>\n");
    html_raw(&b, "<section class=\"panel\">\n<h2>API tokens</h2>\n<table>\n"
                 "<thead><tr><th>#</th><th>Name</th><th>Role</th><th>Created"
                 "</th><th>Last used</th><th>State</th><th></th></tr></thead>"
                 "\n<tbody hx-disable>\n");
    json_array_foreach(json_object_get(tokens, "items"), i, u)
    {
        bool revoked = strcmp(web_jstr(u, "state"), "revoked") == 0;

        html_raw(&b, "<tr><td>");
        web_jtext(&b, u, "id");
        html_raw(&b, "</td><td>");
        web_jtext(&b, u, "name");
        html_raw(&b, "</td><td>");
        web_jtext(&b, u, "role");
        html_raw(&b, "</td><td>");
        web_jtime(&b, u, "created_at");
        html_raw(&b, " by ");
        web_jtext(&b, u, "created_by");
        html_raw(&b, "</td><td>");
        web_jtime(&b, u, "last_used_at");
        html_raw(&b, "</td><td>");
        web_badge(&b, web_jstr(u, "state"));
        html_raw(&b, "</td><td>");
        if (!revoked) {
            html_fmt(&b,
                     "<form method=\"post\" action=\"/tokens/%lld/revoke\">",
                     (long long)web_jint(u, "id"));
            web_csrf_input(&b, r);
            html_raw(&b, "<button class=\"danger\" type=\"submit\">Revoke"
                         "</button></form>");
        }
        html_raw(&b, "</td></tr>\n");
    }
    html_raw(&b, "</tbody></table>\n<form class=\"row\" method=\"post\" "
                 "action=\"/tokens\">");
    web_csrf_input(&b, r);
    html_raw(&b, "<div><label for=\"tname\">Token name</label><input "
                 "type=\"text\" id=\"tname\" name=\"name\" maxlength=\"64\">"
                 "</div><div><label for=\"trole\">Role</label>");
    role_select(&b, "role", "viewer");
    html_raw(&b, "</div><button type=\"submit\">Create token</button>"
                 "</form>\n</section>\n");
    json_decref(users);
    json_decref(tokens);
    web_page_end(r, &b, status);
}

void
web_users(struct http_req *r)
{
    users_page(r, 200, NULL, NULL);
}

void
web_user_add(struct http_req *r)
{
    const char *name = http_req_form(r, "name");
    const char *pw = http_req_form(r, "password");
    enum auth_role role;
    struct latch_err err;
    struct db *db = web_db(r);
    json_t *out = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    st = auth_role_parse(http_req_form(r, "role"), &role, &err);
    if (st == LATCH_OK) {
        st = auth_user_add(db, web_who(r)->actor, name != NULL ? name : "",
                           role, pw != NULL ? pw : "", &out, &err);
    }
    json_decref(out);
    if (st != LATCH_OK && web_status_http(st) < 500) {
        users_page(r, web_status_http(st), err.msg, NULL);
        return;
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    http_redirect(r, "/users");
}

void
web_user_update(struct http_req *r)
{
    const char *dis = http_req_form(r, "disabled");
    bool disabled = dis != NULL;
    enum auth_role role;
    struct latch_err err;
    struct db *db = web_db(r);
    json_t *out = NULL;
    int64_t id = web_seg_id_of(r, 0, "user");
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    if (id == web_who(r)->user_id) {
        users_page(r, 409,
                   "You cannot change your own role or disable yourself; "
                   "ask another administrator.",
                   NULL);
        return;
    }
    if (dis != NULL && strcmp(dis, "1") != 0) {
        users_page(r, 400,
                   "disabled: expected 1 (box ticked) or nothing (box clear).",
                   NULL);
        return;
    }
    st = auth_role_parse(http_req_form(r, "role"), &role, &err);
    if (st == LATCH_OK) {
        st = auth_user_update(db, web_who(r)->actor, id, &role, &disabled, &out,
                              &err);
    }
    json_decref(out);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    http_redirect(r, "/users");
}

void
web_token_create(struct http_req *r)
{
    enum auth_role role;
    struct latch_err err;
    struct db *db = web_db(r);
    json_t *out = NULL;
    char token[AUTH_TOKEN_LEN];
    enum latch_status st;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    st = auth_role_parse(http_req_form(r, "role"), &role, &err);
    if (st == LATCH_OK) {
        st = auth_token_create(db, web_who(r)->actor, role,
                               http_req_form(r, "name"), token, &out, &err);
    }
    json_decref(out);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    users_page(r, 201, NULL, token);
    OPENSSL_cleanse(token, sizeof(token));
}

void
web_token_revoke(struct http_req *r)
{
    struct latch_err err;
    struct db *db = web_db(r);
    int64_t id;
    enum latch_status st;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    id = web_seg_id_of(r, 0, "token");
    if (id == 0) {
        return;
    }
    st = auth_token_revoke(db, web_who(r)->actor, id, &err);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    http_redirect(r, "/users");
}
