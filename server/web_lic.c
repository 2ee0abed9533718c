/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web_lic.c: the issue form for an approved enrollment, the license list,
 * the license page (the signed file shown as readable JSON, a download
 * button) and revocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "web.h"

#define FEATURE_ROWS 12
#define SPEC_MAX     (64 + 24 + 24)

static const char *const lic_states[] = {"active", "revoked", "superseded",
                                         NULL};

/* --- issue ---------------------------------------------------------------- */

static void
options_of(struct hbuf *b, const json_t *list, const char *empty)
{
    const json_t *it;
    size_t i;

    if (empty != NULL) {
        html_fmt(b, "<option value=\"\">%s</option>", empty);
    }
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        html_fmt(b, "<option value=\"%s\">%s</option>", web_jstr(it, "name"),
                 web_jstr(it, "name"));
    }
}

/* Feature names the plans know, offered as rows of the form. */
static size_t
plan_feature_names(const json_t *plans, const char **names, size_t cap)
{
    const json_t *p;
    const json_t *f;
    size_t i;
    size_t j;
    size_t n = 0;

    json_array_foreach(json_object_get(plans, "items"), i, p)
    {
        json_array_foreach(json_object_get(p, "features"), j, f)
        {
            const char *name = web_jstr(f, "name");
            bool seen = false;

            for (size_t k = 0; name != NULL && k < n; k++) {
                seen = seen || strcmp(names[k], name) == 0;
            }
            if (name != NULL && !seen && n < cap) {
                names[n++] = name;
            }
        }
    }
    return n;
}

static bool
is_approved(const json_t *e)
{
    const char *state = web_jstr(e, "state");

    return state != NULL && strcmp(state, "approved") == 0;
}

/* The issue page of an enrollment that cannot get a license: no form. */
static void
not_approved(struct http_req *r, int64_t id, const json_t *e)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Issue a license", "licenses");
    html_fmt(&b, "<h1>Issue a license for enrollment %lld</h1>\n",
             (long long)id);
    html_raw(&b, "<div class=\"banner bad\" role=\"alert\">This "
                 "enrollment is ");
    web_badge(&b, web_jstr(e, "state"));
    html_fmt(&b,
             ": only an approved enrollment can get a license. <a "
             "href=\"/enrollments/%lld\">Review and approve it</a> "
             "first.</div>\n",
             (long long)id);
    web_page_end(r, &b, 409);
}

/* The issue page of an enrollment an AK rotation replaced: no form. */
static void
not_current(struct http_req *r, int64_t id, int64_t cur)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Issue a license", "licenses");
    html_fmt(&b,
             "<h1>Issue a license for enrollment %lld</h1>\n<div "
             "class=\"banner bad\" role=\"alert\">Enrollment %lld is no "
             "longer the device's current enrollment (<a href=\""
             "/enrollments/%lld\">enrollment %lld</a> replaced its AK): "
             "issue licenses for that one.</div>\n",
             (long long)id, (long long)id, (long long)cur, (long long)cur);
    web_page_end(r, &b, 409);
}

static void
issue_form(struct http_req *r, int64_t id, unsigned status, const char *problem)
{
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *e = NULL;
    json_t *customers = NULL;
    json_t *plans = NULL;
    const char *names[FEATURE_ROWS];
    size_t nnames;
    struct hbuf b;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    memset(&o, 0, sizeof(o));
    o.limit = CORE_LIST_MAX;
    st = core_enrollment_show(c, id, &e, &err);
    if (st == LATCH_OK) {
        st = core_customer_list(c, &o, &customers, &err);
    }
    if (st == LATCH_OK) {
        st = core_plan_list(c, &o, &plans, &err);
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        goto out;
    }
    if (!is_approved(e)) {
        not_approved(r, id, e);
        goto out;
    }
    if (web_enr_current(c, e) != id) {
        not_current(r, id, web_enr_current(c, e));
        goto out;
    }
    nnames = plan_feature_names(plans, names, FEATURE_ROWS);
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Issue a license", "licenses");
    html_fmt(&b, "<h1>Issue a license for enrollment %lld</h1>\n",
             (long long)id);
    if (problem != NULL) {
        html_fmt(&b, "<div class=\"banner bad\" role=\"alert\">%s</div>\n",
                 problem);
    }
    html_raw(&b, "<p hx-disable>Device ");
    web_jtext(&b, e, "hostname");
    html_raw(&b, " \xc2\xb7 <code>");
    web_jtext(&b, e, "device_id");
    html_raw(&b, "</code> \xc2\xb7 state ");
    web_badge(&b, web_jstr(e, "state"));
    html_raw(&b, "</p>\n");
    html_fmt(&b,
             "<form class=\"panel\" method=\"post\" "
             "action=\"/enrollments/%lld/issue\">\n",
             (long long)id);
    web_csrf_input(&b, r);
    html_raw(&b, "<div class=\"row\"><div><label for=\"customer\">Customer"
                 "</label><select id=\"customer\" name=\"customer\" "
                 "required>");
    options_of(&b, customers, "choose\xe2\x80\xa6");
    html_raw(&b, "</select></div><div><label for=\"plan\">Plan</label>"
                 "<select id=\"plan\" name=\"plan\">");
    options_of(&b, plans, "no plan");
    html_raw(&b, "</select></div><div><label for=\"valid_until\">License "
                 "valid until</label><input type=\"date\" id=\"valid_until\" "
                 "name=\"valid_until\"></div></div>\n"
                 "<p class=\"small muted\">Empty date: perpetual. The plan's "
                 "features are included; rows below add or override "
                 "them.</p>\n<fieldset><legend>Features</legend>\n"
                 "<table class=\"features\">\n<thead><tr><th>Enable</th>"
                 "<th>Name</th><th>Quantity</th><th>Expires</th></tr>"
                 "</thead>\n<tbody>\n");
    for (size_t i = 0; i < FEATURE_ROWS / 2 + nnames && i < FEATURE_ROWS; i++) {
        html_fmt(&b,
                 "<tr><td><input type=\"checkbox\" name=\"f%zu_on\" "
                 "value=\"1\" aria-label=\"enable feature %zu\"%s></td>"
                 "<td><input type=\"text\" name=\"f%zu_name\" maxlength=\"64\" "
                 "pattern=\"[a-z0-9][a-z0-9_.\\-]{0,63}\" "
                 "aria-label=\"feature %zu name\" value=\"%s\"></td>"
                 "<td><input type=\"number\" name=\"f%zu_qty\" min=\"0\" "
                 "aria-label=\"feature %zu quantity\"></td>"
                 "<td><input type=\"date\" name=\"f%zu_until\" "
                 "aria-label=\"feature %zu expiry\"></td></tr>\n",
                 i, i + 1, i < nnames ? " checked" : "", i, i + 1,
                 i < nnames ? names[i] : "", i, i + 1, i, i + 1);
    }
    html_raw(&b, "</tbody></table>\n</fieldset>\n"
                 "<label><input type=\"checkbox\" name=\"supersede\" "
                 "value=\"1\" checked> Mark the device's active licenses "
                 "superseded</label>\n"
                 "<p><button type=\"submit\">Issue and sign</button></p>\n"
                 "</form>\n");
    web_page_end(r, &b, status);

out:
    json_decref(e);
    json_decref(customers);
    json_decref(plans);
}

void
web_issue_get(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");

    if (id > 0) {
        issue_form(r, id, 200, NULL);
    }
}

void
web_issue_post(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    struct core_feature feats[FEATURE_ROWS];
    struct core_issue_req req;
    struct latch_err err;
    struct core *c = web_core(r);
    const char *until = http_req_form(r, "valid_until");
    const char *sup = http_req_form(r, "supersede");
    json_t *out = NULL;
    char *file = NULL;
    size_t filelen = 0;
    char path[64];
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    memset(&req, 0, sizeof(req));
    req.enrollment_id = id;
    req.customer = http_req_form(r, "customer");
    req.plan = http_req_form(r, "plan");
    if (req.plan != NULL && req.plan[0] == '\0') {
        req.plan = NULL;
    }
    req.supersede = sup != NULL && strcmp(sup, "1") == 0;
    if (sup != NULL && !req.supersede) {
        issue_form(r, id, 400,
                   "supersede: expected 1 (box ticked) or nothing (box "
                   "clear).");
        return;
    }
    if (req.customer == NULL || req.customer[0] == '\0') {
        issue_form(r, id, 400, "Choose a customer.");
        return;
    }
    if (until != NULL && until[0] != '\0') {
        if (core_date_parse("License valid until", until, &req.valid_until,
                            &err) != LATCH_OK) {
            issue_form(r, id, 400, err.msg);
            return;
        }
        req.has_valid_until = true;
    }
    for (size_t i = 0; i < FEATURE_ROWS; i++) {
        char key[32];
        char spec[SPEC_MAX];
        const char *on;
        const char *name;
        const char *qty;
        const char *fu;
        int n;

        snprintf(key, sizeof(key), "f%zu_on", i);
        on = http_req_form(r, key);
        snprintf(key, sizeof(key), "f%zu_name", i);
        name = http_req_form(r, key);
        snprintf(key, sizeof(key), "f%zu_qty", i);
        qty = http_req_form(r, key);
        snprintf(key, sizeof(key), "f%zu_until", i);
        fu = http_req_form(r, key);
        if (on != NULL && strcmp(on, "1") != 0) {
            issue_form(r, id, 400,
                       "Enable: expected 1 (box ticked) or nothing (box "
                       "clear).");
            return;
        }
        if (on == NULL || name == NULL || name[0] == '\0') {
            continue;
        }
        n = snprintf(
            spec, sizeof(spec), "%s%s%s%s%s", name,
            qty != NULL && qty[0] != '\0' ? "=" : "", qty != NULL ? qty : "",
            fu != NULL && fu[0] != '\0' ? "@" : "", fu != NULL ? fu : "");
        if (n < 0 || (size_t)n >= sizeof(spec)) {
            issue_form(r, id, 400, "A feature row is too long.");
            return;
        }
        if (core_feature_parse(spec, &feats[req.nfeatures], &err) != LATCH_OK) {
            issue_form(r, id, 400, err.msg);
            return;
        }
        req.nfeatures++;
    }
    req.features = feats;
    st = core_license_issue(c, web_who(r)->actor, &req, &out, &file, &filelen,
                            &err);
    free(file);
    if (st != LATCH_OK) {
        json_decref(out);
        if (web_status_http(st) < 500) {
            issue_form(r, id, web_status_http(st), err.msg);
        } else {
            web_fail(r, st, &err);
        }
        return;
    }
    snprintf(path, sizeof(path), "/licenses/%lld?issued=1",
             (long long)web_jint(out, "id"));
    json_decref(out);
    http_redirect(r, path);
}

/* --- list ----------------------------------------------------------------- */

void
web_lic_table(struct hbuf *b, const json_t *items)
{
    const json_t *l;
    size_t i;

    if (json_array_size(items) == 0) {
        html_raw(b, "<p class=\"empty\">No licenses.</p>\n");
        return;
    }
    html_raw(b, "<table>\n<thead><tr><th>#</th><th>State</th><th>Customer"
                "</th><th>Plan</th><th>Device id</th><th>Serial</th>"
                "<th>Issued</th><th>Valid until</th></tr></thead>\n"
                "<tbody hx-disable>\n");
    json_array_foreach(items, i, l)
    {
        html_fmt(b, "<tr><td><a href=\"/licenses/%lld\">%lld</a></td><td>",
                 (long long)web_jint(l, "id"), (long long)web_jint(l, "id"));
        web_badge(b, web_jstr(l, "state"));
        html_raw(b, "</td><td>");
        web_jtext(b, l, "customer");
        html_raw(b, "</td><td>");
        web_jtext(b, l, "plan");
        html_raw(b, "</td><td>");
        web_device_link(b, web_jstr(l, "device_id"), true);
        html_raw(b, "</td><td>");
        web_jtext(b, l, "serial");
        html_raw(b, "</td><td>");
        web_jtime(b, l, "issued_at");
        html_raw(b, "</td><td>");
        web_jtime(b, l, "valid_until");
        html_raw(b, "</td></tr>\n");
    }
    html_raw(b, "</tbody></table>\n");
}

/* The name of customer id into name (empty when there is none). */
static enum latch_status
customer_name(struct db *db, int64_t id, char *name, size_t cap,
              struct latch_err *err)
{
    struct db_stmt *st = NULL;
    bool row = false;
    enum latch_status rc;

    name[0] = '\0';
    rc = db_prepare(db, "SELECT name FROM customers WHERE id = ?", &st, err);
    if (rc != LATCH_OK) {
        return rc;
    }
    db_bind_int64(st, 1, id);
    rc = db_step(st, &row, err);
    if (rc == LATCH_OK && row) {
        snprintf(name, cap, "%s", db_col_text(st, 0));
    }
    db_done(st);
    return rc;
}

void
web_lic_list(struct http_req *r)
{
    const char *state = http_req_query(r, "state");
    const char *customer = http_req_query(r, "customer");
    const char *cid = http_req_query(r, "customer_id");
    int64_t customer_id = web_parse_id(cid);
    char cname[CORE_NAME_MAX * 4 + 1] = "";
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *list = NULL;
    struct hbuf b;
    bool known = false;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; state != NULL && lic_states[i] != NULL; i++) {
        known = known || strcmp(state, lic_states[i]) == 0;
    }
    if (state != NULL && state[0] == '\0') {
        state = NULL;
    }
    if (state != NULL && !known) {
        latch_err_set(&err, LATCH_E_USAGE, "state \"%.32s\": no such state",
                      state);
        web_fail(r, LATCH_E_USAGE, &err);
        return;
    }
    if (cid != NULL && customer_id == 0) {
        latch_err_set(&err, LATCH_E_USAGE,
                      "customer_id \"%.32s\": expected a customer's id "
                      "(a positive number)",
                      cid);
        web_fail(r, LATCH_E_USAGE, &err);
        return;
    }
    if (customer_id > 0) {
        st = customer_name(core_db(c), customer_id, cname, sizeof(cname), &err);
        if (st != LATCH_OK) {
            web_fail(r, st, &err);
            return;
        }
        customer = cname;
    }
    if (customer != NULL && customer[0] == '\0' && customer_id == 0) {
        customer = NULL;
    }
    if (!web_list_opts_ok(r, &o)) {
        return;
    }
    o.newest_first = true;
    o.state = state;
    o.customer = customer;
    if (customer != NULL && customer[0] == '\0') {
        /* An unknown customer_id: its licenses are none. */
        list = json_pack("{s:[], s:n}", "items", "next");
        st = list != NULL ? LATCH_OK
                          : latch_err_set(&err, LATCH_E_NOMEM, "out of memory");
    } else {
        st = core_license_list(c, &o, &list, &err);
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Licenses", "licenses");
    html_raw(&b, "<h1>Licenses</h1>\n");
    if (customer_id > 0 && cname[0] == '\0') {
        html_fmt(&b, "<p>No customer with id %lld.</p>\n",
                 (long long)customer_id);
    }
    web_state_filters(&b, "/licenses", lic_states, NULL, state, "");
    html_fmt(&b,
             "<label for=\"customer\" class=\"small\">Customer</label>"
             "<input type=\"search\" id=\"customer\" name=\"customer\" "
             "value=\"%s\"><button class=\"secondary\" type=\"submit\">"
             "Filter</button></form>\n",
             customer != NULL ? customer : "");
    web_lic_table(&b, json_object_get(list, "items"));
    {
        const char *pairs[] = {"state", state, "customer", customer, NULL};

        web_pager(&b, "/licenses", list, pairs);
    }
    json_decref(list);
    web_page_end(r, &b, 200);
}

/* --- detail ----------------------------------------------------------------
 */

static void
features_table(struct hbuf *b, const json_t *features)
{
    const char *name;
    json_t *f;

    if (json_is_array(features)) {
        const json_t *it;
        size_t i;

        html_raw(b, "<table>\n<thead><tr><th>Feature</th><th>Quantity</th>"
                    "<th>Expires</th></tr></thead>\n<tbody>\n");
        json_array_foreach(features, i, it)
        {
            html_raw(b, "<tr><td><code>");
            web_jtext(b, it, "name");
            html_raw(b, "</code></td><td>");
            web_jtext(b, it, "quantity");
            html_raw(b, "</td><td>");
            web_jtime(b, it, "valid_until");
            html_raw(b, "</td></tr>\n");
        }
        html_raw(b, "</tbody></table>\n");
        return;
    }
    if (!json_is_object(features) || json_object_size(features) == 0) {
        html_raw(b, "<p class=\"empty\">No features.</p>\n");
        return;
    }
    html_raw(b, "<table>\n<thead><tr><th>Feature</th><th>Enabled</th>"
                "<th>Quantity</th><th>Expires</th></tr></thead>\n<tbody>\n");
    json_object_foreach((json_t *)(uintptr_t)features, name, f)
    {
        html_fmt(b, "<tr><td><code>%s</code></td><td>", name);
        web_jtext(b, f, "enabled");
        html_raw(b, "</td><td>");
        web_jtext(b, f, "quantity");
        html_raw(b, "</td><td>");
        web_jtime(b, f, "valid_until");
        html_raw(b, "</td></tr>\n");
    }
    html_raw(b, "</tbody></table>\n");
}

/*
 * The record and the file of license id, or false when the failure reply
 * has been sent. The caller releases *l and frees *file.
 */
static bool
load_license(struct http_req *r, int64_t id, json_t **l, char **file,
             size_t *filelen)
{
    struct latch_err err;
    struct core *c = web_core(r);
    enum latch_status st;

    *l = NULL;
    *file = NULL;
    *filelen = 0;
    latch_err_clear(&err);
    if (c == NULL) {
        return false;
    }
    st = core_license_show(c, id, l, &err);
    if (st == LATCH_OK) {
        st = core_license_export(c, id, file, filelen, &err);
    }
    if (st != LATCH_OK) {
        json_decref(*l);
        *l = NULL;
        free(*file);
        *file = NULL;
        web_fail(r, st, &err);
        return false;
    }
    return true;
}

void
web_lic_show(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "license");
    json_t *l = NULL;
    json_t *doc = NULL;
    char *file = NULL;
    char *pretty = NULL;
    size_t filelen = 0;
    const char *state;
    struct hbuf b;

    if (id == 0) {
        return;
    }

    if (!load_license(r, id, &l, &file, &filelen)) {
        return;
    }
    doc = json_loadb(file, filelen, 0, NULL);
    pretty = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    state = web_jstr(l, "state");
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "License", "licenses");
    html_fmt(&b, "<h1>License %lld ", (long long)id);
    web_badge(&b, state);
    html_raw(&b, "</h1>\n");
    if (http_req_query(r, "issued") != NULL) {
        html_raw(&b, "<div class=\"banner ok\" role=\"status\"><strong>"
                     "License issued and signed</strong>Download it and "
                     "copy it to the device, then run <code>latch activate "
                     "license.json</code> there.</div>\n");
    }
    if (state != NULL && strcmp(state, "revoked") == 0) {
        html_raw(&b, "<div class=\"banner bad\"><strong>Revoked</strong>");
        web_jtext(&b, l, "reason");
        html_raw(&b, " \xe2\x80\x94 ");
        web_jtext(&b, l, "revoked_by");
        html_raw(&b, ", ");
        web_jtime(&b, l, "revoked_at");
        html_raw(&b, "</div>\n");
    }
    html_fmt(&b,
             "<p><a class=\"button\" href=\"/licenses/%lld/download\" "
             "download>Download license.json</a></p>\n",
             (long long)id);
    html_raw(&b, "<div class=\"grid\">\n<section class=\"panel\" "
                 "hx-disable>\n<h2>Summary</h2>\n<table class=\"facts\">\n");
    html_raw(&b, "<tr><th scope=\"row\">License id</th><td class=\"mono\">");
    web_jtext(&b, l, "license_id");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Serial</th><td>");
    web_jtext(&b, l, "serial");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Customer</th><td>");
    web_jtext(&b, l, "customer");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Plan</th><td>");
    web_jtext(&b, l, "plan");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Device</th><td>");
    web_device_link(&b, web_jstr(l, "device_id"), false);
    html_fmt(&b,
             "</td></tr>\n<tr><th scope=\"row\">Enrollment</th><td>"
             "<a href=\"/enrollments/%lld\">%lld</a></td></tr>\n",
             (long long)web_jint(l, "enrollment_id"),
             (long long)web_jint(l, "enrollment_id"));
    html_raw(&b, "<tr><th scope=\"row\">Issued</th><td>");
    web_jtime(&b, l, "issued_at");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">Valid until</th><td>");
    web_jtime(&b, l, "valid_until");
    html_raw(&b, "</td></tr>\n<tr><th scope=\"row\">File SHA-256</th>"
                 "<td class=\"mono\">");
    web_jtext(&b, l, "sha256");
    html_raw(&b, "</td></tr>\n</table>\n</section>\n<section class=\"panel\" "
                 "hx-disable>\n<h2>Features</h2>\n");
    features_table(&b, json_object_get(l, "features"));
    html_raw(&b, "</section>\n</div>\n");
    if (web_can(r, AUTH_APPROVER) && state != NULL &&
        strcmp(state, "revoked") != 0) {
        html_fmt(&b,
                 "<section class=\"panel\"><h2>Revoke</h2><form "
                 "method=\"post\" action=\"/licenses/%lld/revoke\">",
                 (long long)id);
        web_csrf_input(&b, r);
        html_raw(&b, "<label for=\"reason\">Reason (one line)</label><input "
                     "type=\"text\" id=\"reason\" name=\"reason\" "
                     "maxlength=\"1024\" required><p><button class=\"danger\" "
                     "type=\"submit\">Revoke license</button></p></form>"
                     "</section>\n");
    }
    html_raw(&b, "<section class=\"panel\">\n<h2>license.json</h2>\n"
                 "<pre class=\"json\" hx-disable>");
    html_text(&b, pretty != NULL ? pretty : file);
    html_raw(&b, "</pre>\n</section>\n");
    free(pretty);
    json_decref(doc);
    free(file);
    json_decref(l);
    web_page_end(r, &b, 200);
}

void
web_send_license_file(struct http_req *r, int64_t id)
{
    json_t *l = NULL;
    char *file = NULL;
    size_t filelen = 0;
    char dev[17] = "device";
    char disp[128];
    const char *d;

    if (!load_license(r, id, &l, &file, &filelen)) {
        return;
    }
    d = web_jstr(l, "device_id");
    if (d != NULL && strlen(d) >= 16 && strspn(d, "0123456789abcdef") >= 16) {
        snprintf(dev, sizeof(dev), "%.16s", d);
    }
    snprintf(disp, sizeof(disp),
             "attachment; filename=\"license-%s-%lld.json\"", dev,
             (long long)web_jint(l, "serial"));
    http_add_header(r, "Content-Disposition", disp);
    http_reply(r, 200, "application/json", file, filelen);
    free(file);
    json_decref(l);
}

void
web_lic_download(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "license");

    if (id > 0) {
        web_send_license_file(r, id);
    }
}

void
web_lic_revoke(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "license");
    const char *reason = http_req_form(r, "reason");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    char path[64];
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (reason == NULL || reason[0] == '\0') {
        web_error(r, 400, "reason_required", "give a reason for revoking");
        return;
    }
    st = core_license_revoke(c, web_who(r)->actor, id, reason, &out, &err);
    json_decref(out);
    if (st == LATCH_E_USAGE) {
        snprintf(path, sizeof(path), "/licenses/%lld/revoke", (long long)id);
        web_reason_refused(r, "Revoke license", path, reason, err.msg);
        return;
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    snprintf(path, sizeof(path), "/licenses/%lld", (long long)id);
    http_redirect(r, path);
}
