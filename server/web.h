/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web.h: latchd's admin web UI and JSON API on top of http.h, auth.h and
 * core.h. web.c holds the route table, the dispatcher that authenticates
 * every request and checks roles, CSRF tokens and origins before any
 * handler runs, the page layout and the helpers the page files
 * (web_*.c) and the API (api.c) share.
 *
 * Threading: handlers run on the HTTP pool threads; each thread has its
 * own database connection and core (web_core()).
 */
#ifndef LATCHD_WEB_H
#define LATCHD_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"
#include "core.h"
#include "html.h"
#include "http.h"
#include "latchd.h"

/* Route flags (http_route.flags). */
#define WEB_F_PUBLIC 0x1u /* no sign-in needed (sign-in page, assets) */
#define WEB_F_API    0x2u /* bearer token, JSON errors, no CSRF */
#define WEB_F_ANY    0x4u /* any signed-in role (sign-out) */

/* Role values for http_route.role. */
#define WEB_PUBLIC   (-1)
#define WEB_VIEWER   AUTH_VIEWER
#define WEB_APPROVER AUTH_APPROVER
#define WEB_ADMIN    AUTH_ADMIN

#define WEB_ENROLLMENT_MAX (64u << 10) /* one enrollment.json */
#define WEB_UPLOAD_FILES   32          /* files in one upload form */
#define WEB_FORM_MAX       (64u << 10) /* an ordinary form */
#define WEB_PAGE_ROWS      50

/* [http] and [session] keys of latchd.conf read by the web layer. */
struct web_options {
    const char *listen;
    unsigned threads;        /* [http] threads */
    bool cookie_secure;      /* [http] cookie_secure (default true) */
    char public_origin[256]; /* [http] origin, e.g. https://latch.example */
    struct auth_limits lim;  /* [session] idle_minutes, max_hours */
};

/* Reads the web keys from DATA/latchd.conf over the defaults. */
enum latch_status web_options_load(const struct latchd_config *cfg,
                                   struct web_options *o, struct latch_err *err)
    __attribute__((warn_unused_result));

struct web_app;

/*
 * Starts the web UI and API on o->listen (validation workers are the
 * caller's). cfg and o must outlive the app.
 */
enum latch_status web_start(const struct latchd_config *cfg,
                            const struct web_options *o, struct web_app **out,
                            struct latch_err *err)
    __attribute__((warn_unused_result));
unsigned web_port(const struct web_app *app);
void web_stop(struct web_app *app);

/* --- for handlers ------------------------------------------------------ */

/* This thread's core (opened on first use); NULL after answering 500. */
struct core *web_core(struct http_req *r);
struct db *web_db(struct http_req *r);

/* The signed-in principal (never NULL inside a non-public handler). */
const struct auth_principal *web_who(const struct http_req *r);
bool web_can(const struct http_req *r, enum auth_role role);
const struct latchd_config *web_cfg(const struct http_req *r);
/* Pinned roots loaded at start, or NULL (then web_trust_error() says why). */
const struct ek_trust *web_trust(const struct http_req *r);
const char *web_trust_error(const struct http_req *r);

/* The session cookie's name, whether it is Secure, the session limits. */
const char *web_cookie_name(const struct http_req *r);
bool web_cookie_secure(const struct http_req *r);
const struct auth_limits *web_limits(const struct http_req *r);

/* Parses the i-th path segment as a positive id; 0 when it is not one. */
int64_t web_seg_id(const struct http_req *r, int i);
/*
 * The i-th path segment as the id of a what ("enrollment"); when it is not
 * a positive id answers 404 naming the text given and returns 0.
 */
int64_t web_seg_id_of(struct http_req *r, int i, const char *what);
/*
 * The id of the current enrollment of enrollment e's device (e: from
 * core_enrollment_show); 0 when it cannot be read. An enrollment an AK
 * rotation replaced is no longer current and gets no license.
 */
int64_t web_enr_current(struct core *c, const json_t *e);
/* Parses a positive decimal id; 0 when s is NULL, empty or not one. */
int64_t web_parse_id(const char *s);

/* --- pages ---------------------------------------------------------------- */

/* Opens a page: doctype, head, header with navigation (nav: the current
 * section, e.g. "enrollments"), <main>. */
void web_page_begin(struct hbuf *b, struct http_req *r, const char *title,
                    const char *nav);
/* Closes the page and answers with status. */
void web_page_end(struct http_req *r, struct hbuf *b, unsigned status);

/* A whole error page (or JSON error for API routes). */
void web_error(struct http_req *r, unsigned status, const char *code,
               const char *message);

/* Maps a failed core/auth call to an HTTP status and answers. */
void web_fail(struct http_req *r, enum latch_status st,
              const struct latch_err *err);
unsigned web_status_http(enum latch_status st);
const char *web_status_code(enum latch_status st);

/*
 * A reason (reject, revoke) the core refused: a 400 page saying why with
 * the form to action (a constant-built path) again, the typed text kept.
 */
void web_reason_refused(struct http_req *r, const char *button,
                        const char *action, const char *reason,
                        const char *why);

/* <input type="hidden" name="csrf_token" value="..."> for plain forms. */
void web_csrf_input(struct hbuf *b, const struct http_req *r);

/* <span class="badge STATE">STATE</span> (state is escaped; the class
 * only when it is one of ours). */
void web_badge(struct hbuf *b, const char *state);

/* A string member of o as escaped text, or an em dash. */
void web_jtext(struct hbuf *b, const json_t *o, const char *key);
/* An integer time member of o, or an em dash. */
void web_jtime(struct hbuf *b, const json_t *o, const char *key);
const char *web_jstr(const json_t *o, const char *key);
int64_t web_jint(const json_t *o, const char *key);

/*
 * The state filter of a list page at base (a constant path): an "all" link
 * and one link per state (NULL-terminated; labels[i] is shown for states[i]
 * when labels is not NULL), the current one marked; then the opening of
 * the GET filter form (form_attrs, constant markup, follows its action)
 * carrying the current state in a hidden input. The caller closes the form.
 */
void web_state_filters(struct hbuf *b, const char *base,
                       const char *const *states, const char *const *labels,
                       const char *current, const char *form_attrs);

/* "Next page" button: a GET form to base (a constant path) carrying the
 * filter pairs (name, value, ..., NULL) in hidden inputs and list's
 * keyset cursor "next" as after=; nothing when next is null. */
void web_pager(struct hbuf *b, const char *base, const json_t *list,
               const char *const *pairs);

/* --- handlers (web_*.c, api.c) ------------------------------------------ */

void web_static(struct http_req *r);
void web_signin_get(struct http_req *r);
void web_signin_post(struct http_req *r);
void web_signout(struct http_req *r);
void web_dashboard(struct http_req *r);

void web_enr_list(struct http_req *r);
void web_enr_upload_get(struct http_req *r);
void web_enr_upload_post(struct http_req *r);
void web_enr_show(struct http_req *r);
void web_enr_progress(struct http_req *r);
void web_enr_approve(struct http_req *r);
void web_enr_reject(struct http_req *r);
void web_enr_revalidate(struct http_req *r);

void web_issue_get(struct http_req *r);
void web_issue_post(struct http_req *r);
void web_lic_list(struct http_req *r);
void web_lic_show(struct http_req *r);
void web_lic_download(struct http_req *r);
void web_lic_revoke(struct http_req *r);

void web_dev_list(struct http_req *r);
void web_dev_show(struct http_req *r);
void web_customers(struct http_req *r);
void web_customer_add(struct http_req *r);
void web_plans(struct http_req *r);
void web_plan_add(struct http_req *r);
void web_audit(struct http_req *r);
void web_trust_page(struct http_req *r);
void web_users(struct http_req *r);
void web_user_add(struct http_req *r);
void web_user_update(struct http_req *r);
void web_token_create(struct http_req *r);
void web_token_revoke(struct http_req *r);

void api_openapi(struct http_req *r);
void api_enr_list(struct http_req *r);
void api_enr_upload(struct http_req *r);
void api_enr_show(struct http_req *r);
void api_enr_progress(struct http_req *r);
void api_enr_approve(struct http_req *r);
void api_enr_reject(struct http_req *r);
void api_lic_issue(struct http_req *r);
void api_lic_list(struct http_req *r);
void api_lic_show(struct http_req *r);
void api_lic_download(struct http_req *r);
void api_lic_revoke(struct http_req *r);
void api_dev_list(struct http_req *r);
void api_dev_show(struct http_req *r);
void api_customer_list(struct http_req *r);
void api_customer_add(struct http_req *r);
void api_plan_list(struct http_req *r);
void api_plan_add(struct http_req *r);
void api_audit_list(struct http_req *r);

/* Answers with v as JSON (v is stolen). */
void api_reply(struct http_req *r, unsigned status, json_t *v);
/* {"error": {"code": code, "message": message}} */
void api_error(struct http_req *r, unsigned status, const char *code,
               const char *message);

/*
 * Sends a license file as an attachment named
 * "license-<device_id prefix>-<serial>.json".
 */
void web_send_license_file(struct http_req *r, int64_t id);

/* A link to a device page when device_id is 64 lowercase hex (computed by
 * the server); plain escaped text otherwise. */
void web_device_link(struct hbuf *b, const char *device_id, bool shorten);

/*
 * Enrollments awaiting review (valid, needs_override, unknown_root), newest
 * first, at most limit with id below before (0: from the newest); the
 * core_enrollment_list() result shape.
 */
enum latch_status web_enr_review(struct core *c, int64_t before, int limit,
                                 json_t **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* A table of enrollment summaries (core_enrollment_list items). */
void web_enr_table(struct hbuf *b, const json_t *items);

/* A table of license summaries (core_license_list items). */
void web_lic_table(struct hbuf *b, const json_t *items);

/* Reads keyset paging (?after=N&limit=N) into o. */
void web_list_opts(const struct http_req *r, struct core_list_opts *o);
/*
 * web_list_opts() for a UI list page, stricter: an after= or limit= that is
 * not a positive number (limit at most CORE_LIST_MAX) answers 400 naming it
 * and returns false. An empty value is no value (a GET form's empty box).
 */
bool web_list_opts_ok(struct http_req *r, struct core_list_opts *o);
/* An empty query value counts as none; a value over max bytes answers 400
 * naming name and sets *bad. */
const char *web_filter_arg(struct http_req *r, const char *name, size_t max,
                           bool *bad);

#endif /* LATCHD_WEB_H */
