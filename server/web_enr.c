/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web_enr.c: enrollment pages: list with state filters and search, upload
 * (several files, drag and drop), detail with live validation progress,
 * the EK certificate and AK facts, the check report, approval and
 * rejection. Everything from an enrollment file or a certificate is
 * untrusted and goes through the escaping writers only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define SEARCH_MAX 128

static const char *const state_filters[] = {
    "review",         "pending",      "validating", "valid",    "invalid",
    "needs_override", "unknown_root", "approved",   "rejected", NULL};

/* What the state filter shows for each of state_filters. */
static const char *const state_labels[] = {
    "awaiting review", "pending",      "validating", "valid",    "invalid",
    "needs_override",  "unknown_root", "approved",   "rejected", NULL};

static bool
known_state(const char *s)
{
    for (size_t i = 0; s != NULL && state_filters[i] != NULL; i++) {
        if (strcmp(s, state_filters[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* --- search (the one list core.h does not offer) ---------------------- */

static json_t *
summary_row(struct db_stmt *st)
{
    json_t *o = json_object();
    static const char *const text_cols[] = {
        NULL,       "state",   "device_id",     "identity_schema",
        "hostname", "product", "serial_number", "label"};

    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "id", json_integer(db_col_int64(st, 0)));
    for (int i = 1; i < 8; i++) {
        const char *v = db_col_text(st, i);

        json_object_set_new(o, text_cols[i],
                            v != NULL ? json_string(v) : json_null());
    }
    json_object_set_new(o, "is_rotation",
                        json_boolean(db_col_int64(st, 8) != 0));
    json_object_set_new(o, "created_at", json_integer(db_col_int64(st, 9)));
    json_object_set_new(o, "updated_at", json_integer(db_col_int64(st, 10)));
    return o;
}

/* Copies q into pat as "%q%" with LIKE's wildcards escaped by '\'. */
static bool
like_pattern(const char *q, char *pat, size_t cap)
{
    size_t o = 0;

    if (cap < 3) {
        return false;
    }
    pat[o++] = '%';
    for (; *q != '\0'; q++) {
        if (o + 3 >= cap) {
            return false;
        }
        if (*q == '%' || *q == '_' || *q == '\\') {
            pat[o++] = '\\';
        }
        pat[o++] = *q;
    }
    pat[o++] = '%';
    pat[o] = '\0';
    return true;
}

/*
 * Newest first, keyset by id, matching q in the device's hostname, label,
 * serial number, product or device id. Same result shape as
 * core_enrollment_list().
 */
static enum latch_status
search(struct db *db, const char *q, const char *state, int64_t before,
       int limit, json_t **out, struct latch_err *err)
{
    struct db_stmt *st = NULL;
    json_t *items = json_array();
    char pat[2 * SEARCH_MAX + 4];
    int64_t last = 0;
    int n = 0;
    bool row = false;
    enum latch_status rc;

    *out = NULL;
    if (items == NULL || !like_pattern(q, pat, sizeof(pat))) {
        json_decref(items);
        return latch_err_set(err, LATCH_E_USAGE, "search text too long");
    }
    rc = db_prepare(db,
                    "SELECT id, state, device_id, identity_schema, hostname, "
                    "product, serial_number, label, is_rotation, created_at, "
                    "updated_at FROM enrollments WHERE id < ? "
                    "AND (CAST(? AS TEXT) = '' OR state = ?) "
                    "AND (hostname LIKE ? ESCAPE '\\' "
                    "OR label LIKE ? ESCAPE '\\' "
                    "OR serial_number LIKE ? ESCAPE '\\' "
                    "OR product LIKE ? ESCAPE '\\' "
                    "OR device_id LIKE ? ESCAPE '\\') "
                    "ORDER BY id DESC LIMIT ?",
                    &st, err);
    if (rc != LATCH_OK) {
        json_decref(items);
        return rc;
    }
    db_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
    db_bind_text(st, 2, state != NULL ? state : "");
    db_bind_text(st, 3, state != NULL ? state : "");
    for (int i = 4; i <= 8; i++) {
        db_bind_text(st, i, pat);
    }
    db_bind_int64(st, 9, limit + 1);
    while (rc == LATCH_OK) {
        json_t *o = NULL;

        rc = db_step(st, &row, err);
        if (rc != LATCH_OK || !row) {
            break;
        }
        if (n == limit) {
            break;
        }
        o = summary_row(st);
        if (o == NULL || json_array_append_new(items, o) != 0) {
            rc = latch_err_set(err, LATCH_E_NOMEM, "out of memory");
            break;
        }
        last = db_col_int64(st, 0);
        n++;
    }
    db_done(st);
    if (rc != LATCH_OK) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:o,s:o}", "items", items, "next",
                     row && n == limit ? json_integer(last) : json_null());
    return LATCH_OK;
}

/* --- list ----------------------------------------------------------------- */

static void
device_cell(struct hbuf *b, const json_t *e)
{
    const char *host = web_jstr(e, "hostname");
    const char *label = web_jstr(e, "label");

    if (host != NULL && host[0] != '\0') {
        html_fmt(b, "%s", host);
    }
    if (label != NULL && label[0] != '\0') {
        html_fmt(b, "<div class=\"muted small\">%s</div>", label);
    }
    if ((host == NULL || host[0] == '\0') &&
        (label == NULL || label[0] == '\0')) {
        html_raw(b, "<span class=\"muted\">(no name)</span>");
    }
}

static void
short_hex(struct hbuf *b, const char *hex)
{
    char s[17];

    if (hex == NULL || hex[0] == '\0') {
        html_raw(b, "<span class=\"muted\">\xe2\x80\x94</span>");
        return;
    }
    snprintf(s, sizeof(s), "%s", hex);
    html_fmt(b, "<code title=\"%s\">%s\xe2\x80\xa6</code>", hex, s);
}

void
web_enr_table(struct hbuf *b, const json_t *items)
{
    size_t i;
    const json_t *e;

    if (json_array_size(items) == 0) {
        html_raw(b, "<p class=\"empty\">No enrollments.</p>\n");
        return;
    }
    html_raw(b, "<table>\n<thead><tr><th>#</th><th>State</th><th>Device"
                "</th><th>Product</th><th>Serial number</th><th>Device id"
                "</th><th>Uploaded</th></tr></thead>\n<tbody hx-disable>\n");
    json_array_foreach(items, i, e)
    {
        int64_t id = web_jint(e, "id");

        html_fmt(b, "<tr><td><a href=\"/enrollments/%lld\">%lld</a></td><td>",
                 (long long)id, (long long)id);
        web_badge(b, web_jstr(e, "state"));
        if (json_is_true(json_object_get(e, "is_rotation"))) {
            html_raw(b, " <span class=\"badge warn\">AK rotation</span>");
        }
        html_raw(b, "</td><td>");
        device_cell(b, e);
        html_raw(b, "</td><td>");
        web_jtext(b, e, "product");
        html_raw(b, "</td><td>");
        web_jtext(b, e, "serial_number");
        html_raw(b, "</td><td>");
        short_hex(b, web_jstr(e, "device_id"));
        html_raw(b, "</td><td>");
        web_jtime(b, e, "created_at");
        html_raw(b, "</td></tr>\n");
    }
    html_raw(b, "</tbody></table>\n");
}

static int
by_id_desc(const void *a, const void *b)
{
    int64_t x = web_jint(*(json_t *const *)a, "id");
    int64_t y = web_jint(*(json_t *const *)b, "id");

    return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Enrollments awaiting a decision (valid, needs_override, unknown_root),
 * newest first, paged by keyset: each state's (state, id) index gives its
 * next limit + 1 rows below the cursor, and the merge keeps the newest.
 */
enum latch_status
web_enr_review(struct core *c, int64_t before, int limit, json_t **out,
               struct latch_err *err)
{
    static const char *const review[] = {"valid", "needs_override",
                                         "unknown_root"};
    json_t *rows[3 * (CORE_LIST_MAX + 1)];
    json_t *parts[3] = {NULL, NULL, NULL};
    json_t *items = NULL;
    size_t n = 0;
    enum latch_status rc = LATCH_OK;

    *out = NULL;
    if (limit <= 0 || limit >= CORE_LIST_MAX) {
        limit = CORE_LIST_DEFAULT;
    }
    for (size_t i = 0; i < 3 && rc == LATCH_OK; i++) {
        struct core_list_opts o;
        const json_t *e;
        size_t j;

        memset(&o, 0, sizeof(o));
        o.state = review[i];
        o.newest_first = true;
        o.after_id = before;
        o.limit = limit + 1;
        rc = core_enrollment_list(c, &o, &parts[i], err);
        json_array_foreach(json_object_get(parts[i], "items"), j, e)
        {
            rows[n++] = (json_t *)(uintptr_t)e;
        }
    }
    if (rc == LATCH_OK) {
        qsort(rows, n, sizeof(*rows), by_id_desc);
        items = json_array();
        for (size_t i = 0; items != NULL && i < n && i < (size_t)limit; i++) {
            json_array_append(items, rows[i]);
        }
        *out = json_pack("{s:o,s:o}", "items", items, "next",
                         n > (size_t)limit
                             ? json_integer(web_jint(rows[limit - 1], "id"))
                             : json_null());
    }
    for (size_t i = 0; i < 3; i++) {
        json_decref(parts[i]);
    }
    return rc;
}

void
web_enr_list(struct http_req *r)
{
    const char *state = http_req_query(r, "state");
    const char *q = NULL;
    bool bad = false;
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *list = NULL;
    struct hbuf b;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (state != NULL && state[0] == '\0') {
        state = NULL;
    }
    if (state != NULL && !known_state(state)) {
        latch_err_set(&err, LATCH_E_USAGE, "state \"%.32s\": no such state",
                      state);
        web_fail(r, LATCH_E_USAGE, &err);
        return;
    }
    q = web_filter_arg(r, "q", SEARCH_MAX, &bad);
    if (bad || !web_list_opts_ok(r, &o)) {
        return;
    }
    o.newest_first = true;
    if (q != NULL) {
        st =
            search(core_db(c), q,
                   state != NULL && strcmp(state, "review") != 0 ? state : NULL,
                   o.after_id, o.limit, &list, &err);
    } else if (state != NULL && strcmp(state, "review") == 0) {
        st = web_enr_review(c, o.after_id, o.limit, &list, &err);
    } else {
        o.state = state;
        st = core_enrollment_list(c, &o, &list, &err);
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Enrollments", "enrollments");
    html_raw(&b, "<div class=\"row\"><h1>Enrollments</h1>");
    if (web_can(r, AUTH_APPROVER)) {
        html_raw(&b, "<a class=\"button\" href=\"/enrollments/upload\">"
                     "Upload enrollments</a>");
    }
    html_raw(&b, "</div>\n");
    web_state_filters(&b, "/enrollments", state_filters, state_labels, state,
                      " role=\"search\"");
    html_fmt(&b,
             "<label for=\"q\" class=\"small\">Search</label>"
             "<input type=\"search\" id=\"q\" name=\"q\" maxlength=\"128\" "
             "placeholder=\"hostname, label, serial, device id\" "
             "value=\"%s\"><button class=\"secondary\" type=\"submit\">"
             "Search</button></form>\n",
             q != NULL ? q : "");
    web_enr_table(&b, json_object_get(list, "items"));
    {
        const char *pairs[] = {"state", state, "q", q, NULL};

        web_pager(&b, "/enrollments", list, pairs);
    }
    json_decref(list);
    web_page_end(r, &b, 200);
}

/* --- upload ---------------------------------------------------------- */

static void
upload_form(struct hbuf *b, struct http_req *r)
{
    html_raw(b, "<form class=\"panel\" method=\"post\" "
                "action=\"/enrollments/upload\" "
                "enctype=\"multipart/form-data\">\n");
    web_csrf_input(b, r);
    html_raw(b, "<div class=\"dropzone\" data-dropzone>\n"
                "<label for=\"files\">enrollment.json files (drop them "
                "here or choose; up to 32 at a time, 64 KiB each)"
                "</label>\n"
                "<input type=\"file\" id=\"files\" name=\"files\" "
                "accept=\".json,application/json\" multiple required>\n"
                "<ul aria-live=\"polite\"></ul>\n</div>\n"
                "<p><button type=\"submit\">Upload and validate</button></p>\n"
                "</form>\n");
}

void
web_enr_upload_get(struct http_req *r)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Upload enrollments", "enrollments");
    html_raw(&b, "<h1>Upload enrollments</h1>\n<p>Files written by "
                 "<code>latch enroll</code> on a device. Each is checked "
                 "strictly, stored and validated in the background; "
                 "nothing is trusted until validation and approval.</p>\n");
    upload_form(&b, r);
    web_page_end(r, &b, 200);
}

static size_t
count_files(const struct http_req *r)
{
    size_t n = 0;

    for (size_t i = 0; i < http_req_nfields(r); i++) {
        const struct http_field *f = http_req_field(r, i);

        n += f->filename != NULL && strcmp(f->name, "files") == 0;
    }
    return n;
}

/* More files than one upload takes: the whole upload is refused. */
static void
too_many_files(struct http_req *r, size_t n)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Upload refused", "enrollments");
    html_fmt(&b,
             "<h1>Upload refused</h1>\n<div class=\"banner bad\">%zu files "
             "in one upload; at most %d are taken at a time. Nothing was "
             "stored: upload them in smaller batches.</div>\n",
             n, WEB_UPLOAD_FILES);
    upload_form(&b, r);
    web_page_end(r, &b, 413);
}

void
web_enr_upload_post(struct http_req *r)
{
    struct core *c = web_core(r);
    struct hbuf b;
    size_t nfiles = 0;
    int64_t only_id = 0;
    bool all_ok = true;

    if (c == NULL) {
        return;
    }
    nfiles = count_files(r);
    if (nfiles > WEB_UPLOAD_FILES) {
        too_many_files(r, nfiles);
        return;
    }
    nfiles = 0;
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Upload results", "enrollments");
    html_raw(&b, "<h1>Upload results</h1>\n<table>\n<thead><tr><th>File"
                 "</th><th>Outcome</th><th>Details</th></tr></thead>\n"
                 "<tbody hx-disable>\n");
    for (size_t i = 0; i < http_req_nfields(r); i++) {
        const struct http_field *f = http_req_field(r, i);
        struct latch_err err;
        json_t *out = NULL;
        enum latch_status st;

        if (f->filename == NULL || strcmp(f->name, "files") != 0) {
            continue;
        }
        nfiles++;
        latch_err_clear(&err);
        st = core_enrollment_import(c, web_who(r)->actor,
                                    (const uint8_t *)f->data, f->len,
                                    f->filename, &out, &err);
        html_fmt(&b, "<tr><td>%s</td><td>", f->filename);
        if (st == LATCH_OK) {
            int64_t id = web_jint(out, "id");

            web_badge(&b, web_jstr(out, "state"));
            html_fmt(&b,
                     "</td><td><a href=\"/enrollments/%lld\">enrollment "
                     "%lld</a>%s",
                     (long long)id, (long long)id,
                     json_is_true(json_object_get(out, "duplicate"))
                         ? " (this file was uploaded before)"
                         : "");
            only_id = id;
        } else {
            all_ok = false;
            web_badge(&b, "rejected");
            html_fmt(&b, "</td><td>%s", err.msg);
        }
        html_raw(&b, "</td></tr>\n");
        json_decref(out);
    }
    html_raw(&b, "</tbody></table>\n");
    if (nfiles == 0) {
        hbuf_free(&b);
        web_error(r, 400, "no_files", "choose at least one file");
        return;
    }
    if (nfiles == 1 && all_ok && only_id > 0) {
        char path[64];

        hbuf_free(&b);
        snprintf(path, sizeof(path), "/enrollments/%lld", (long long)only_id);
        http_redirect(r, path);
        return;
    }
    html_raw(&b, "<p><a href=\"/enrollments?state=review\">Enrollments "
                 "awaiting review</a> \xc2\xb7 <a href=\"/enrollments/upload\">"
                 "Upload more</a></p>\n");
    web_page_end(r, &b, all_ok ? 200 : 422);
}

/* --- progress ------------------------------------------------------------- */

static bool
is_running(const char *state)
{
    return state != NULL &&
           (strcmp(state, "pending") == 0 || strcmp(state, "validating") == 0);
}

static void
progress_block(struct hbuf *b, int64_t id, const json_t *prog, bool poll)
{
    const json_t *msgs = json_object_get(prog, "messages");
    const json_t *m;
    size_t i;

    html_fmt(b, "<div id=\"progress\" class=\"progress\" aria-live=\"polite\"");
    if (poll) {
        html_fmt(b,
                 " hx-get=\"/enrollments/%lld/progress\" "
                 "hx-trigger=\"every 1s\" hx-swap=\"outerHTML\"",
                 (long long)id);
    }
    html_raw(b, "><ol>");
    json_array_foreach(msgs, i, m)
    {
        const char *level = web_jstr(m, "level");
        const char *cls = "";

        if (level != NULL && strcmp(level, "warn") == 0) {
            cls = "warn";
        } else if (level != NULL && strcmp(level, "error") == 0) {
            cls = "error";
        }
        html_fmt(b, "<li class=\"%s\"><span class=\"t\">", cls);
        web_jtime(b, m, "time");
        html_raw(b, "</span>");
        web_jtext(b, m, "text");
        html_raw(b, "</li>");
    }
    if (json_array_size(msgs) == 0) {
        html_raw(b, "<li>queued for validation\xe2\x80\xa6</li>");
    }
    html_raw(b, "</ol><div class=\"state\">State: ");
    web_badge(b, web_jstr(prog, "state"));
    html_raw(b, "</div></div>\n");
}

void
web_enr_progress(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *prog = NULL;
    struct hbuf b;
    bool done;
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    st = core_enrollment_progress(c, id, 0, &prog, &err);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    done = json_is_true(json_object_get(prog, "done"));
    hbuf_init(&b, HBUF_PAGE_MAX);
    progress_block(&b, id, prog, !done);
    json_decref(prog);
    if (done) {
        /* Reload once so the report and the actions appear. */
        http_add_header(r, "HX-Refresh", "true");
    }
    http_reply_buf(r, 200, "text/html; charset=utf-8", &b);
}

/* --- detail ----------------------------------------------------------- */

static void
fact_row(struct hbuf *b, const char *label, const json_t *o, const char *key)
{
    html_fmt(b, "<tr><th scope=\"row\">%s</th><td>", label);
    web_jtext(b, o, key);
    html_raw(b, "</td></tr>\n");
}

static void
device_facts(struct hbuf *b, const json_t *e)
{
    const json_t *dev = json_object_get(e, "device");

    if (!json_is_object(dev)) {
        dev = e;
    }
    html_raw(b, "<section class=\"panel\" hx-disable>\n<h2>Device (as "
                "reported, not verified)</h2>\n<table class=\"facts\">\n");
    fact_row(b, "Hostname", dev, "hostname");
    fact_row(b, "Product", dev, "product");
    fact_row(b, "Serial number", dev, "serial_number");
    if (json_object_get(dev, "firmware_version") != NULL) {
        fact_row(b, "Firmware", dev, "firmware_version");
    }
    fact_row(b, "Label", dev, "label");
    html_raw(b, "</table>\n</section>\n");
}

static void
ek_facts(struct hbuf *b, const json_t *facts)
{
    const json_t *cert = json_object_get(facts, "ek_certificate");
    const json_t *chain = json_object_get(facts, "ek_chain");
    const json_t *root = json_object_get(facts, "unknown_root");
    const json_t *c;
    size_t i;

    html_raw(b, "<section class=\"panel\" hx-disable>\n<h2>EK certificate"
                "</h2>\n");
    if (!json_is_object(cert)) {
        html_raw(b, "<p class=\"empty\">Not parsed yet.</p>\n</section>\n");
        return;
    }
    html_raw(b, "<table class=\"facts\">\n");
    fact_row(b, "TPM vendor", cert, "tpm_manufacturer");
    fact_row(b, "TPM model", cert, "tpm_model");
    fact_row(b, "TPM firmware", cert, "tpm_version");
    fact_row(b, "Subject", cert, "subject");
    fact_row(b, "Issuer", cert, "issuer");
    fact_row(b, "Serial", cert, "serial");
    fact_row(b, "Valid from", cert, "not_before");
    fact_row(b, "Valid until", cert, "not_after");
    html_raw(b, "<tr><th scope=\"row\">Key</th><td>");
    web_jtext(b, cert, "key");
    html_raw(b, " ");
    web_jtext(b, cert, "key_bits");
    html_raw(b, "</td></tr>\n");
    fact_row(b, "EK certificate EKU", cert, "eku_ek_certificate");
    html_raw(b, "<tr><th scope=\"row\">SHA-256</th><td class=\"mono\">");
    web_jtext(b, cert, "sha256");
    html_raw(b, "</td></tr>\n</table>\n");
    if (json_array_size(chain) > 0) {
        html_raw(b, "<h3>Chain (leaf first)</h3>\n<table>\n<thead><tr>"
                    "<th>Subject</th><th>SHA-256</th><th>Anchor</th></tr>"
                    "</thead>\n<tbody>\n");
        json_array_foreach(chain, i, c)
        {
            html_raw(b, "<tr><td>");
            web_jtext(b, c, "subject");
            html_raw(b, "</td><td class=\"mono\">");
            web_jtext(b, c, "sha256");
            html_raw(b, "</td><td>");
            html_raw(b, json_is_true(json_object_get(c, "pinned"))
                            ? "<span class=\"badge ok\">pinned root</span>"
                            : "");
            html_raw(b, "</td></tr>\n");
        }
        html_raw(b, "</tbody></table>\n");
    }
    if (json_is_object(root)) {
        html_raw(b, "<div class=\"banner warn\"><strong>Unknown root"
                    "</strong>The chain ends at a root that is not pinned: ");
        web_jtext(b, root, "subject");
        html_raw(b, ", SHA-256 <code>");
        web_jtext(b, root, "sha256");
        html_raw(b, "</code>. Check the fingerprint with the TPM vendor "
                    "before an operator pins it (see the trust store "
                    "page).</div>\n");
    }
    html_raw(b, "</section>\n");
}

static void
ak_facts(struct hbuf *b, const json_t *e)
{
    html_raw(b, "<section class=\"panel\" hx-disable>\n<h2>Identity</h2>\n"
                "<table class=\"facts\">\n");
    fact_row(b, "Identity schema", e, "identity_schema");
    html_raw(b, "<tr><th scope=\"row\">Device id</th><td class=\"mono\">");
    web_jtext(b, e, "device_id");
    html_raw(b, "</td></tr>\n");
    fact_row(b, "EK template", e, "ek_template");
    html_raw(b, "<tr><th scope=\"row\">AK name</th><td class=\"mono\">");
    web_jtext(b, e, "ak_name");
    html_raw(b, "</td></tr>\n");
    html_raw(b, "<tr><th scope=\"row\">File SHA-256</th><td class=\"mono\">");
    web_jtext(b, e, "sha256");
    html_raw(b, "</td></tr>\n");
    fact_row(b, "Size (bytes)", e, "size");
    html_raw(b, "</table>\n</section>\n");
}

static void
report_section(struct hbuf *b, const json_t *report)
{
    const json_t *checks = json_object_get(report, "checks");
    const json_t *facts = json_object_get(report, "facts");
    const json_t *ch;
    const char *key;
    json_t *v;
    size_t i;

    html_raw(b, "<section class=\"panel\" hx-disable>\n<h2>Check report"
                "</h2>\n");
    if (!json_is_object(report)) {
        html_raw(b, "<p class=\"empty\">No report yet.</p>\n</section>\n");
        return;
    }
    html_raw(b, "<p>Outcome: ");
    web_badge(b, web_jstr(report, "outcome"));
    html_raw(b, "</p>\n<table>\n<thead><tr><th>Check</th><th>Result</th>"
                "<th>Detail</th></tr></thead>\n<tbody>\n");
    json_array_foreach(checks, i, ch)
    {
        html_raw(b, "<tr><td><code>");
        web_jtext(b, ch, "name");
        html_raw(b, "</code></td><td>");
        web_badge(b, web_jstr(ch, "result"));
        html_raw(b, "</td><td>");
        web_jtext(b, ch, "detail");
        html_raw(b, "</td></tr>\n");
    }
    html_raw(b, "</tbody></table>\n");
    json_object_foreach((json_t *)(uintptr_t)facts, key, v)
    {
        char *text = NULL;

        if (strcmp(key, "ek_certificate") == 0 ||
            strcmp(key, "ek_chain") == 0 || strcmp(key, "unknown_root") == 0) {
            continue;
        }
        text = json_dumps(v, JSON_ENCODE_ANY | JSON_INDENT(2));
        html_fmt(b, "<h3>%s</h3><pre class=\"json\">%s</pre>\n", key,
                 text != NULL ? text : "");
        free(text);
    }
    html_raw(b, "</section>\n");
}

/* What approving this AK rotation revokes (core_rotation_targets()). */
static void
rotation_banner(struct hbuf *b, struct core *c, const json_t *e)
{
    struct latch_err err;
    json_t *list = NULL;
    const json_t *l;
    const char *device_id = web_jstr(e, "device_id");
    size_t i;

    latch_err_clear(&err);
    html_raw(b, "<div class=\"banner warn\" role=\"status\"><strong>AK "
                "rotation</strong>This device already has an enrollment "
                "with another attestation key. ");
    if (device_id == NULL ||
        core_rotation_targets(c, device_id, web_jint(e, "id"), &list, &err) !=
            LATCH_OK) {
        html_fmt(b,
                 "The licenses approval would revoke cannot be listed: "
                 "%s</div>\n",
                 err.msg);
        return;
    }
    json_array_foreach(list, i, l)
    {
        html_raw(b, i == 0 ? "Approving it revokes these active licenses: "
                           : ", ");
        html_fmt(b,
                 "<a href=\"/licenses/%lld\">license %lld (serial %lld)"
                 "</a>",
                 (long long)web_jint(l, "id"), (long long)web_jint(l, "id"),
                 (long long)web_jint(l, "serial"));
    }
    if (json_array_size(list) == 0) {
        html_raw(b, "No active license of the device is affected.");
    }
    html_raw(b, "</div>\n");
    json_decref(list);
}

static void
actions(struct hbuf *b, struct http_req *r, const json_t *e)
{
    const char *state = web_jstr(e, "state");
    int64_t id = web_jint(e, "id");
    bool admin = web_can(r, AUTH_ADMIN);
    bool approvable = state != NULL && (strcmp(state, "valid") == 0 ||
                                        strcmp(state, "needs_override") == 0);
    bool open = state != NULL && strcmp(state, "approved") != 0 &&
                strcmp(state, "rejected") != 0;

    if (!web_can(r, AUTH_APPROVER)) {
        return;
    }
    html_raw(b, "<section class=\"panel\">\n<h2>Decision</h2>\n"
                "<div class=\"actions\">\n");
    if (approvable && (admin || strcmp(state, "needs_override") != 0)) {
        html_fmt(b,
                 "<form method=\"post\" action=\"/enrollments/%lld/"
                 "approve\">",
                 (long long)id);
        web_csrf_input(b, r);
        if (strcmp(state, "needs_override") == 0) {
            html_raw(b, "<label><input type=\"checkbox\" name=\"override\" "
                        "value=\"1\" required> I reviewed the check that "
                        "needs an override</label>");
        }
        html_raw(b, "<button type=\"submit\">Approve</button></form>\n");
    } else if (approvable) {
        html_raw(b, "<p class=\"small muted\">Approving needs an override; "
                    "only an administrator may give one.</p>\n");
    }
    if (open) {
        html_fmt(b,
                 "<form method=\"post\" action=\"/enrollments/%lld/reject\">",
                 (long long)id);
        web_csrf_input(b, r);
        html_raw(b, "<label for=\"reason\">Reason for rejecting</label>"
                    "<input type=\"text\" id=\"reason\" name=\"reason\" "
                    "maxlength=\"1024\" required><button class=\"danger\" "
                    "type=\"submit\">Reject</button></form>\n");
        html_fmt(b,
                 "<form method=\"post\" action=\"/enrollments/%lld/"
                 "revalidate\">",
                 (long long)id);
        web_csrf_input(b, r);
        html_raw(b, "<p class=\"small muted\">After a vendor root was "
                    "pinned:</p><button class=\"secondary\" type=\"submit\">"
                    "Validate again</button></form>\n");
    }
    if (state != NULL && strcmp(state, "approved") == 0) {
        int64_t cur = web_enr_current(web_core(r), e);

        if (cur == id) {
            html_fmt(b,
                     "<p><a class=\"button\" href=\"/enrollments/%lld/"
                     "issue\">Issue a license</a></p>\n",
                     (long long)id);
        } else if (cur > 0) {
            html_fmt(b,
                     "<p class=\"small muted\">No longer the device's "
                     "current enrollment: <a href=\"/enrollments/%lld\">"
                     "enrollment %lld</a> replaced its AK.</p>\n",
                     (long long)cur, (long long)cur);
        }
    }
    html_raw(b, "</div>\n</section>\n");
}

static void
licenses_section(struct hbuf *b, const json_t *e)
{
    const json_t *lics = json_object_get(e, "licenses");
    const json_t *l;
    size_t i;

    html_raw(b, "<section class=\"panel\">\n<h2>Licenses</h2>\n");
    if (json_array_size(lics) == 0) {
        html_raw(b, "<p class=\"empty\">None issued for this enrollment."
                    "</p>\n</section>\n");
        return;
    }
    html_raw(b, "<table>\n<thead><tr><th>#</th><th>Serial</th><th>State"
                "</th><th>Customer</th><th>Issued</th><th>Valid until</th>"
                "</tr></thead>\n<tbody>\n");
    json_array_foreach(lics, i, l)
    {
        html_fmt(b, "<tr><td><a href=\"/licenses/%lld\">%lld</a></td><td>",
                 (long long)web_jint(l, "id"), (long long)web_jint(l, "id"));
        web_jtext(b, l, "serial");
        html_raw(b, "</td><td>");
        web_badge(b, web_jstr(l, "state"));
        html_raw(b, "</td><td>");
        web_jtext(b, l, "customer");
        html_raw(b, "</td><td>");
        web_jtime(b, l, "issued_at");
        html_raw(b, "</td><td>");
        web_jtime(b, l, "valid_until");
        html_raw(b, "</td></tr>\n");
    }
    html_raw(b, "</tbody></table>\n</section>\n");
}

void
web_enr_show(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *e = NULL;
    json_t *prog = NULL;
    const char *state;
    struct hbuf b;
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    st = core_enrollment_show(c, id, &e, &err);
    if (st == LATCH_OK) {
        st = core_enrollment_progress(c, id, 0, &prog, &err);
    }
    if (st != LATCH_OK) {
        json_decref(e);
        web_fail(r, st, &err);
        return;
    }
    state = web_jstr(e, "state");
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Enrollment", "enrollments");
    html_fmt(&b, "<h1>Enrollment %lld ", (long long)id);
    web_badge(&b, state);
    html_raw(&b, "</h1>\n");
    if (json_is_true(json_object_get(e, "is_rotation")) &&
        !(state != NULL &&
          (strcmp(state, "approved") == 0 || strcmp(state, "rejected") == 0))) {
        rotation_banner(&b, c, e);
    }
    if (state != NULL && strcmp(state, "rejected") == 0) {
        html_raw(&b, "<div class=\"banner bad\"><strong>Rejected</strong>");
        web_jtext(&b, e, "reason");
        html_raw(&b, " \xe2\x80\x94 ");
        web_jtext(&b, e, "decided_by");
        html_raw(&b, "</div>\n");
    } else if (state != NULL && strcmp(state, "approved") == 0) {
        html_raw(&b, "<div class=\"banner ok\"><strong>Approved</strong>by ");
        web_jtext(&b, e, "decided_by");
        html_raw(&b, ", ");
        web_jtime(&b, e, "decided_at");
        html_raw(&b, "</div>\n");
    }
    html_raw(&b, "<section class=\"panel\">\n<h2>Validation</h2>\n");
    progress_block(&b, id, prog, is_running(state));
    html_raw(&b, "</section>\n");
    actions(&b, r, e);
    html_raw(&b, "<div class=\"grid\">\n");
    device_facts(&b, e);
    ak_facts(&b, e);
    html_raw(&b, "</div>\n");
    ek_facts(&b, json_object_get(json_object_get(e, "report"), "facts"));
    report_section(&b, json_object_get(e, "report"));
    licenses_section(&b, e);
    json_decref(prog);
    json_decref(e);
    web_page_end(r, &b, 200);
}

/* --- decisions ------------------------------------------------------------ */

static void
after_decision(struct http_req *r, int64_t id, enum latch_status st,
               const struct latch_err *err, json_t *out)
{
    char path[64];

    json_decref(out);
    if (st != LATCH_OK) {
        web_fail(r, st, err);
        return;
    }
    snprintf(path, sizeof(path), "/enrollments/%lld", (long long)id);
    http_redirect(r, path);
}

void
web_enr_approve(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    const char *ov = http_req_form(r, "override");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (ov != NULL && strcmp(ov, "1") != 0) {
        web_error(r, 400, "bad_override",
                  "override: expected 1 (the checkbox) or nothing");
        return;
    }
    if (ov != NULL && !web_can(r, AUTH_ADMIN)) {
        web_error(r, 403, "forbidden",
                  "only an administrator may approve with override");
        return;
    }
    st = core_enrollment_approve(c, web_who(r)->actor, id, ov != NULL, &out,
                                 &err);
    after_decision(r, id, st, &err, out);
}

void
web_enr_reject(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    const char *reason = http_req_form(r, "reason");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (reason == NULL || reason[0] == '\0') {
        web_error(r, 400, "reason_required", "give a reason for rejecting");
        return;
    }
    st = core_enrollment_reject(c, web_who(r)->actor, id, reason, &out, &err);
    if (st == LATCH_E_USAGE) {
        char path[64];

        json_decref(out);
        snprintf(path, sizeof(path), "/enrollments/%lld/reject", (long long)id);
        web_reason_refused(r, "Reject", path, reason, err.msg);
        return;
    }
    after_decision(r, id, st, &err, out);
}

void
web_enr_revalidate(struct http_req *r)
{
    int64_t id = web_seg_id_of(r, 0, "enrollment");
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    if (id == 0) {
        return;
    }

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    st = core_enrollment_revalidate(c, web_who(r)->actor, id, &out, &err);
    after_decision(r, id, st, &err, out);
}
