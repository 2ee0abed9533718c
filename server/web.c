/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web.c: the admin UI and API front door. Every request passes dispatch()
 * before its handler: public routes aside, it needs a valid session
 * (pages) or bearer token (API), the route's role, and for a state change
 * a same-origin request carrying the session's CSRF token. Handlers only
 * ever see requests that passed.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>
#include <openssl/crypto.h>

#include "assets.h"
#include "cmd.h"
#include "ekcert.h"

#define COOKIE_SECURE   "__Host-latchd_session"
#define COOKIE_PLAIN    "latchd_session"
#define TRUST_ERROR_MAX LATCH_ERR_MSG_MAX

struct web_app {
    const struct latchd_config *cfg;
    const struct web_options *opt;
    struct http_config http;
    struct http_server *srv;
    struct ek_trust *trust;
    char trust_error[TRUST_ERROR_MAX];
    pthread_key_t tls;
};

/* One per HTTP thread. */
struct web_tls {
    struct db *db;
    struct core *core;
};

/* Per request, set by dispatch(). */
struct web_ctx {
    bool signed_in;
    struct auth_principal who;
};

/* --- options ---------------------------------------------------------- */

/* Plain decimal digits, no sign or leading zero: the CLI's rule. */
static int
parse_uint(const char *v, unsigned long max, unsigned long *out)
{
    struct latch_err sub;
    int64_t n = 0;

    latch_err_clear(&sub);
    if (cmd_parse_num("value", v, 0, (int64_t)max, &n, &sub) != LATCH_OK) {
        return 0;
    }
    *out = (unsigned long)n;
    return 1;
}

/* Exactly true or false, as in config.c. */
static int
parse_flag(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return 1;
    }
    return 0;
}

/*
 * An origin as browsers send it: http:// or https://, then a host of
 * letters, digits, '-', '.', or an [IPv6] literal, and an optional :port;
 * nothing else (a trailing '/' would never match a browser's Origin).
 */
/* What follows "http://" or "https://" in an origin, or NULL. */
static const char *
origin_host(const char *v)
{
    if (strncmp(v, "http://", 7) == 0) {
        return v + 7;
    }
    if (strncmp(v, "https://", 8) == 0) {
        return v + 8;
    }
    return NULL;
}

static bool
origin_ok(const char *v)
{
    const char *p = origin_host(v);
    size_t n;

    if (p == NULL) {
        return false;
    }
    if (*p == '[') {
        n = strspn(p + 1, "0123456789abcdefABCDEF:.");
        if (n == 0 || p[1 + n] != ']') {
            return false;
        }
        p += n + 2;
    } else {
        n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-.");
        if (n == 0) {
            return false;
        }
        p += n;
    }
    if (*p == ':') {
        n = strspn(p + 1, "0123456789");
        if (n == 0 || n > 5) {
            return false;
        }
        p += n + 1;
    }
    return *p == '\0';
}

/* web_options_load's reader state: the options and the first bad value. */
struct option_load {
    struct web_options *o;
    char bad[200];
};

static int
on_option(void *user, const char *section, const char *name, const char *value)
{
    struct option_load *ol = user;
    struct web_options *o = ol->o;
    const char *want = NULL;
    unsigned long n = 0;
    int ok = 1;

    if (strcmp(section, "http") == 0 && strcmp(name, "threads") == 0) {
        ok = parse_uint(value, 64, &n) && n > 0;
        o->threads = (unsigned)n;
        want = "a number from 1 to 64";
    } else if (strcmp(section, "http") == 0 &&
               strcmp(name, "cookie_secure") == 0) {
        ok = parse_flag(value, &o->cookie_secure);
        want = "true or false";
    } else if (strcmp(section, "http") == 0 && strcmp(name, "origin") == 0) {
        int len =
            snprintf(o->public_origin, sizeof(o->public_origin), "%s", value);

        ok = len >= 0 && (size_t)len < sizeof(o->public_origin) &&
             origin_ok(value);
        want = "http:// or https://, a host and an optional :port";
    } else if (strcmp(section, "session") == 0 &&
               strcmp(name, "idle_minutes") == 0) {
        ok = parse_uint(value, 24 * 60, &n) && n > 0;
        o->lim.idle = (int64_t)n * 60;
        want = "a number from 1 to 1440";
    } else if (strcmp(section, "session") == 0 &&
               strcmp(name, "max_hours") == 0) {
        ok = parse_uint(value, 24 * 30, &n) && n > 0;
        o->lim.absolute = (int64_t)n * 3600;
        want = "a number from 1 to 720";
    }
    if (!ok && ol->bad[0] == '\0') {
        snprintf(ol->bad, sizeof(ol->bad), "[%s] %s = %.60s (%s)", section,
                 name, value, want);
    }
    return ok;
}

/*
 * latchd_config_load has read the file first and refused what is not
 * latchd.conf (syntax, unknown or repeated keys); the values of the web
 * keys are checked here, with the same message shape and exit code.
 */
enum latch_status
web_options_load(const struct latchd_config *cfg, struct web_options *o,
                 struct latch_err *err)
{
    struct option_load ol = {o, ""};
    char path[4096];
    int n;
    int line;

    memset(o, 0, sizeof(*o));
    o->listen = cfg->listen != NULL ? cfg->listen : "127.0.0.1:8080";
    o->threads = 4;
    o->cookie_secure = true;
    o->lim.idle = 30 * 60;
    o->lim.absolute = 12 * 3600;
    if (cfg->data_dir == NULL) {
        return LATCH_OK;
    }
    n = snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, LATCHD_CONF_NAME);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return latch_err_set(err, LATCH_E_USAGE, "config path too long");
    }
    line = ini_parse(path, on_option, &ol);
    if (line < 0) {
        return latch_err_set(err, LATCH_E_IO, "%s: cannot read", path);
    }
    if (line > 0) {
        return latch_err_set(err, LATCH_E_USAGE, "%s:%d: bad value %s", path,
                             line, ol.bad);
    }
    return LATCH_OK;
}

/* --- per-thread core ------------------------------------------------------ */

static void
tls_free(void *p)
{
    struct web_tls *t = p;

    if (t == NULL) {
        return;
    }
    core_free(t->core);
    db_close(t->db);
    free(t);
}

static struct web_app *
app_of(const struct http_req *r)
{
    return http_req_app(r);
}

struct core *
web_core(struct http_req *r)
{
    struct web_app *app = app_of(r);
    struct web_tls *t = pthread_getspecific(app->tls);
    struct latch_err err;
    enum latch_status st;

    if (t != NULL) {
        return t->core;
    }
    latch_err_clear(&err);
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        web_error(r, 500, "internal", "out of memory");
        return NULL;
    }
    st = db_open(app->cfg->database, &t->db, &err);
    if (st == LATCH_OK) {
        st = core_open(app->cfg, t->db, &t->core, &err);
    }
    if (st != LATCH_OK) {
        fprintf(stderr, "latchd: web: %s\n", err.msg);
        tls_free(t);
        web_error(r, 503, "database_unavailable",
                  "the database cannot be reached; see the server log");
        return NULL;
    }
    pthread_setspecific(app->tls, t);
    return t->core;
}

struct db *
web_db(struct http_req *r)
{
    struct core *c = web_core(r);

    return c != NULL ? core_db(c) : NULL;
}

const struct auth_principal *
web_who(const struct http_req *r)
{
    const struct web_ctx *ctx = http_req_user(r);
    static const struct auth_principal nobody;

    return ctx != NULL ? &ctx->who : &nobody;
}

bool
web_can(const struct http_req *r, enum auth_role role)
{
    const struct web_ctx *ctx = http_req_user(r);

    return ctx != NULL && ctx->signed_in && ctx->who.role >= role;
}

const struct latchd_config *
web_cfg(const struct http_req *r)
{
    return app_of(r)->cfg;
}

const struct ek_trust *
web_trust(const struct http_req *r)
{
    return app_of(r)->trust;
}

const char *
web_trust_error(const struct http_req *r)
{
    return app_of(r)->trust_error;
}

int64_t
web_parse_id(const char *s)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] < '1' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0) {
        return 0;
    }
    return (int64_t)v;
}

int64_t
web_seg_id(const struct http_req *r, int i)
{
    return web_parse_id(http_req_seg(r, i));
}

int64_t
web_seg_id_of(struct http_req *r, int i, const char *what)
{
    const char *seg = http_req_seg(r, i);
    int64_t id = web_parse_id(seg);
    char msg[160];

    if (id == 0) {
        snprintf(msg, sizeof(msg),
                 "%s \"%.40s\": no such %s (an id is a positive number)", what,
                 seg != NULL ? seg : "", what);
        web_error(r, 404, "not_found", msg);
    }
    return id;
}

/* --- status mapping -------------------------------------------------- */

unsigned
web_status_http(enum latch_status st)
{
    switch (st) {
    case LATCH_OK:
        return 200;
    case LATCH_E_USAGE:
        return 400;
    case LATCH_E_NOT_FOUND:
        return 404;
    case LATCH_E_POLICY:
        return 409;
    case LATCH_E_FORMAT:
    case LATCH_E_SIGNATURE:
    case LATCH_E_NOT_DEVICE:
    case LATCH_E_VALIDITY:
    case LATCH_E_ROLLBACK:
        return 422;
    case LATCH_E_IO:
    case LATCH_E_TPM:
    case LATCH_E_CRYPTO:
    case LATCH_E_NOMEM:
    case LATCH_E_INTERNAL:
        return 500;
    }
    return 500;
}

const char *
web_status_code(enum latch_status st)
{
    switch (st) {
    case LATCH_OK:
        return "ok";
    case LATCH_E_USAGE:
        return "bad_request";
    case LATCH_E_NOT_FOUND:
        return "not_found";
    case LATCH_E_POLICY:
        return "conflict";
    case LATCH_E_FORMAT:
        return "invalid_format";
    case LATCH_E_SIGNATURE:
        return "bad_signature";
    case LATCH_E_NOT_DEVICE:
        return "wrong_device";
    case LATCH_E_VALIDITY:
        return "not_valid_now";
    case LATCH_E_ROLLBACK:
        return "rollback";
    case LATCH_E_IO:
    case LATCH_E_TPM:
    case LATCH_E_CRYPTO:
    case LATCH_E_NOMEM:
    case LATCH_E_INTERNAL:
        return "internal";
    }
    return "internal";
}

void
web_fail(struct http_req *r, enum latch_status st, const struct latch_err *err)
{
    unsigned status = web_status_http(st);

    if (status >= 500) {
        fprintf(stderr, "latchd: %s %s: %s\n", http_req_method(r),
                http_req_path(r), err != NULL ? err->msg : "failed");
        web_error(r, status, web_status_code(st),
                  "internal error; the server log has the details");
        return;
    }
    web_error(r, status, web_status_code(st),
              err != NULL && err->msg[0] != '\0' ? err->msg : "refused");
}

/* --- JSON helpers ------------------------------------------------------- */

const char *
web_jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int64_t
web_jint(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

void
web_jtext(struct hbuf *b, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_string(v) && json_string_length(v) > 0) {
        html_textn(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        html_fmt(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_true(v)) {
        html_raw(b, "yes");
    } else if (json_is_false(v)) {
        html_raw(b, "no");
    } else {
        html_raw(b, "<span class=\"muted\">\xe2\x80\x94</span>");
    }
}

void
web_jtime(struct hbuf *b, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_integer(v) && json_integer_value(v) != 0) {
        html_time(b, (int64_t)json_integer_value(v));
    } else if (json_is_string(v)) {
        html_text(b, json_string_value(v));
    } else {
        html_raw(b, "<span class=\"muted\">\xe2\x80\x94</span>");
    }
}

void
web_badge(struct hbuf *b, const char *state)
{
    static const char *const known[] = {
        "pending",      "validating", "valid",    "invalid", "needs_override",
        "unknown_root", "approved",   "rejected", "active",  "revoked",
        "superseded",   "pass",       "warn",     "fail",    "skip",
        "ok",           "broken",     "info",     "error",   "admin",
        "approver",     "viewer",     NULL};
    const char *cls = "";

    if (state == NULL) {
        state = "unknown";
    }
    for (size_t i = 0; known[i] != NULL; i++) {
        if (strcmp(known[i], state) == 0) {
            cls = known[i];
        }
    }
    html_fmt(b, "<span class=\"badge %s\">%s</span>", cls, state);
}

void
web_csrf_input(struct hbuf *b, const struct http_req *r)
{
    html_fmt(b, "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">",
             web_who(r)->csrf);
}

void
web_list_opts(const struct http_req *r, struct core_list_opts *o)
{
    const char *limit = http_req_query(r, "limit");

    memset(o, 0, sizeof(*o));
    o->after_id = web_parse_id(http_req_query(r, "after"));
    o->limit = WEB_PAGE_ROWS;
    if (limit != NULL) {
        int64_t n = web_parse_id(limit);

        o->limit = n > 0 && n <= CORE_LIST_MAX ? (int)n : WEB_PAGE_ROWS;
    }
}

void
web_reason_refused(struct http_req *r, const char *button, const char *action,
                   const char *reason, const char *why)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Reason refused", NULL);
    html_raw(&b, "<h1>Reason refused</h1>\n<div class=\"banner bad\" "
                 "role=\"alert\">");
    html_text(&b, why);
    html_raw(&b, ". Nothing was changed: correct the reason (one line) and "
                 "send it again.</div>\n<section class=\"panel\"><form "
                 "method=\"post\" action=\"");
    html_text(&b, action);
    html_raw(&b, "\">");
    web_csrf_input(&b, r);
    html_raw(&b, "<label for=\"reason\">Reason (one line)</label><input "
                 "type=\"text\" id=\"reason\" name=\"reason\" "
                 "maxlength=\"1024\" required value=\"");
    html_text(&b, reason);
    html_raw(&b, "\"><p><button class=\"danger\" type=\"submit\">");
    html_text(&b, button);
    html_raw(&b, "</button></p></form></section>\n");
    web_page_end(r, &b, 400);
}

static bool
list_num_ok(struct http_req *r, const char *name, int64_t max)
{
    const char *v = http_req_query(r, name);
    struct latch_err err;
    int64_t n;

    if (v == NULL || v[0] == '\0') {
        return true;
    }
    n = web_parse_id(v);
    if (n > 0 && n <= max) {
        return true;
    }
    latch_err_clear(&err);
    (void)latch_err_set(&err, LATCH_E_USAGE,
                        "%s \"%.32s\": expected a number from 1 to %lld", name,
                        v, (long long)max);
    web_fail(r, LATCH_E_USAGE, &err);
    return false;
}

bool
web_list_opts_ok(struct http_req *r, struct core_list_opts *o)
{
    if (!list_num_ok(r, "after", INT64_MAX) ||
        !list_num_ok(r, "limit", CORE_LIST_MAX)) {
        return false;
    }
    web_list_opts(r, o);
    return true;
}

const char *
web_filter_arg(struct http_req *r, const char *name, size_t max, bool *bad)
{
    const char *v = http_req_query(r, name);
    struct latch_err err;

    if (*bad || v == NULL || v[0] == '\0') {
        return NULL;
    }
    if (strlen(v) <= max) {
        return v;
    }
    *bad = true;
    latch_err_clear(&err);
    (void)latch_err_set(&err, LATCH_E_USAGE,
                        "%s: %zu bytes, at most %zu are searched", name,
                        strlen(v), max);
    web_fail(r, LATCH_E_USAGE, &err);
    return NULL;
}

void
web_state_filters(struct hbuf *b, const char *base, const char *const *states,
                  const char *const *labels, const char *current,
                  const char *form_attrs)
{
    html_raw(b, "<nav class=\"filters\" aria-label=\"state\"><a href=\"");
    html_raw(b, base);
    html_raw(b, "\"");
    if (current == NULL) {
        html_raw(b, " aria-current=\"true\"");
    }
    html_raw(b, ">all</a>");
    for (size_t i = 0; states[i] != NULL; i++) {
        html_raw(b, "<a href=\"");
        html_raw(b, base);
        html_fmt(b, "?state=%s\"%s>%s</a>", states[i],
                 current != NULL && strcmp(current, states[i]) == 0
                     ? " aria-current=\"true\""
                     : "",
                 labels != NULL ? labels[i] : states[i]);
    }
    html_raw(b, "</nav>\n<form class=\"filters\" method=\"get\" action=\"");
    html_raw(b, base);
    html_raw(b, "\"");
    html_raw(b, form_attrs);
    html_raw(b, ">");
    if (current != NULL) {
        html_fmt(b, "<input type=\"hidden\" name=\"state\" value=\"%s\">",
                 current);
    }
}

void
web_pager(struct hbuf *b, const char *base, const json_t *list,
          const char *const *pairs)
{
    const json_t *next = json_object_get(list, "next");

    if (!json_is_integer(next)) {
        return;
    }
    /* A form, so filter values travel in value attributes, never in a
     * URL attribute. */
    html_raw(b, "<form class=\"pager\" method=\"get\" action=\"");
    html_raw(b, base);
    html_raw(b, "\">");
    for (size_t i = 0; pairs != NULL && pairs[i] != NULL; i += 2) {
        if (pairs[i + 1] == NULL || pairs[i + 1][0] == '\0') {
            continue;
        }
        html_fmt(b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">",
                 pairs[i], pairs[i + 1]);
    }
    html_fmt(b,
             "<input type=\"hidden\" name=\"after\" value=\"%lld\">"
             "<button class=\"secondary\" type=\"submit\">Next page "
             "\xe2\x86\x92</button></form>",
             (long long)json_integer_value(next));
}

void
web_device_link(struct hbuf *b, const char *device_id, bool shorten)
{
    bool hex = device_id != NULL && strlen(device_id) == 64 &&
               strspn(device_id, "0123456789abcdef") == 64;

    if (!hex) {
        html_text(b, device_id != NULL ? device_id : "");
        return;
    }
    html_fmt(b, "<a class=\"mono\" href=\"/devices/%s\" title=\"%s\">",
             device_id, device_id);
    if (shorten) {
        char s[17];

        memcpy(s, device_id, 16);
        s[16] = '\0';
        html_fmt(b, "%s\xe2\x80\xa6</a>", s);
    } else {
        html_fmt(b, "%s</a>", device_id);
    }
}

/* --- layout ------------------------------------------------------------- */

static const struct {
    const char *key;
    const char *href;
    const char *label;
    int role;
} nav_items[] = {
    {"dashboard", "/", "Dashboard", WEB_VIEWER},
    {"enrollments", "/enrollments", "Enrollments", WEB_VIEWER},
    {"devices", "/devices", "Devices", WEB_VIEWER},
    {"licenses", "/licenses", "Licenses", WEB_VIEWER},
    {"customers", "/customers", "Customers", WEB_VIEWER},
    {"plans", "/plans", "Plans", WEB_VIEWER},
    {"audit", "/audit", "Audit log", WEB_VIEWER},
    {"trust", "/trust", "Trust store", WEB_VIEWER},
    {"users", "/users", "Users", WEB_ADMIN},
};

void
web_page_begin(struct hbuf *b, struct http_req *r, const char *title,
               const char *nav)
{
    const struct auth_principal *who = web_who(r);
    bool signed_in = web_can(r, AUTH_VIEWER);

    html_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
                "<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, "
                "initial-scale=1\">\n"
                "<meta name=\"htmx-config\" content='{\"selfRequestsOnly\":"
                "true,\"allowEval\":false,\"allowScriptTags\":false,"
                "\"includeIndicatorStyles\":false,\"historyCacheSize\":0,"
                "\"refreshOnHistoryMiss\":true}'>\n");
    html_fmt(b, "<title>%s \xc2\xb7 latchd</title>\n", title);
    html_raw(b, "<link rel=\"stylesheet\" href=\"/static/app.css\">\n"
                "<script src=\"/static/htmx.min.js\" defer></script>\n"
                "<script src=\"/static/app.js\" defer></script>\n"
                "</head>\n");
    if (signed_in) {
        html_fmt(b, "<body hx-headers='{\"X-CSRF-Token\":\"%s\"}'>\n",
                 who->csrf);
    } else {
        html_raw(b, "<body>\n");
    }
    html_raw(b, "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
                "<header class=\"top\"><a class=\"brand\" href=\"/\">"
                "latchd</a>\n");
    if (signed_in) {
        html_raw(b, "<nav aria-label=\"sections\">");
        for (size_t i = 0; i < sizeof(nav_items) / sizeof(*nav_items); i++) {
            if ((int)who->role < nav_items[i].role) {
                continue;
            }
            html_raw(b, "<a href=\"");
            html_raw(b, nav_items[i].href);
            html_raw(b, "\"");
            if (nav != NULL && strcmp(nav, nav_items[i].key) == 0) {
                html_raw(b, " aria-current=\"page\"");
            }
            html_raw(b, ">");
            html_raw(b, nav_items[i].label);
            html_raw(b, "</a>");
        }
        html_raw(b, "</nav>\n<div class=\"who\">");
        html_fmt(b, "<span>%s \xc2\xb7 %s</span>", who->name,
                 auth_role_str(who->role));
        html_raw(b, "<form method=\"post\" action=\"/signout\">");
        web_csrf_input(b, r);
        html_raw(b, "<button class=\"link\" type=\"submit\">Sign out"
                    "</button></form></div>\n");
    }
    html_raw(b, "</header>\n<main id=\"main\">\n");
}

void
web_page_end(struct http_req *r, struct hbuf *b, unsigned status)
{
    html_raw(b, "\n</main>\n</body>\n</html>\n");
    http_reply_buf(r, status, "text/html; charset=utf-8", b);
}

static bool
is_api(const struct http_req *r)
{
    const struct http_route *route = http_req_route(r);

    if (route != NULL) {
        return (route->flags & WEB_F_API) != 0;
    }
    return strncmp(http_req_path(r), "/api/", 5) == 0;
}

void
web_error(struct http_req *r, unsigned status, const char *code,
          const char *message)
{
    struct hbuf b;
    const char *title = status == 404   ? "Not found"
                        : status == 403 ? "Forbidden"
                        : status == 401 ? "Sign-in needed"
                        : status == 413 ? "Too large"
                        : status >= 500 ? "Server error"
                                        : "Refused";

    if (is_api(r)) {
        api_error(r, status, code, message);
        return;
    }
    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, title, NULL);
    html_fmt(&b,
             "<h1>%s</h1>\n<div class=\"banner bad\" role=\"alert\">"
             "<strong>%s</strong>%s</div>\n",
             title, code, message);
    html_raw(&b, "<p><a href=\"/\">Back to the dashboard</a></p>\n");
    web_page_end(r, &b, status);
}

static void
on_http_error(void *app, struct http_req *r, unsigned status, const char *code,
              const char *message)
{
    (void)app;
    web_error(r, status, code, message);
}

/* --- the front door --------------------------------------------------- */

static void
ctx_free(void *p)
{
    struct web_ctx *ctx = p;

    if (ctx != NULL) {
        OPENSSL_cleanse(ctx, sizeof(*ctx));
        free(ctx);
    }
}

static bool
same_origin(struct http_req *r)
{
    const struct web_app *app = app_of(r);
    const char *site = http_req_header(r, "Sec-Fetch-Site");
    const char *origin = http_req_header(r, "Origin");
    const char *host = http_req_header(r, "Host");
    const char *rest = NULL;

    if (site != NULL && strcmp(site, "same-origin") != 0) {
        return false;
    }
    if (origin == NULL) {
        /* Not a browser (no Origin, no Sec-Fetch-Site): the CSRF token
         * alone decides. */
        return true;
    }
    if (strcmp(origin, "null") == 0) {
        /* Browsers send "Origin: null" on form posts under our
         * Referrer-Policy: no-referrer; Sec-Fetch-Site (which no page can
         * set) then vouches for the request. */
        return site != NULL;
    }
    if (app->opt->public_origin[0] != '\0') {
        return strcmp(origin, app->opt->public_origin) == 0;
    }
    /*
     * Without [http] origin: http:// or https:// plus exactly the Host
     * the request came to. latchd cannot know which scheme the browser
     * saw (plain on loopback, TLS through a proxy in front); either way
     * only this server answers at that host and port, which is what the
     * check is for.
     */
    rest = origin_host(origin);
    return host != NULL && rest != NULL && strcasecmp(rest, host) == 0;
}

static const char *
cookie_name(const struct web_app *app)
{
    return app->opt->cookie_secure ? COOKIE_SECURE : COOKIE_PLAIN;
}

static void
refuse_anonymous(struct http_req *r, bool api)
{
    if (api) {
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"latchd\"");
        api_error(r, 401, "unauthorized", "a valid bearer token is required");
        return;
    }
    if (http_req_header(r, "HX-Request") != NULL) {
        http_add_header(r, "HX-Redirect", "/signin");
        http_reply_text(r, 401, "sign-in needed\n");
        return;
    }
    if (strcmp(http_req_method(r), "GET") == 0 ||
        strcmp(http_req_method(r), "HEAD") == 0) {
        http_redirect(r, "/signin");
        return;
    }
    web_error(r, 401, "unauthorized", "sign in first");
}

static bool
authenticate(struct http_req *r, struct web_ctx *ctx, bool api)
{
    struct web_app *app = app_of(r);
    struct latch_err err;
    struct db *db = NULL;
    bool ok = false;
    enum latch_status st;

    latch_err_clear(&err);
    if (api) {
        const char *h = http_req_header(r, "Authorization");

        /* RFC 7235 2.1: the scheme is case-insensitive. */
        if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
            return false;
        }
        db = web_db(r);
        if (db == NULL) {
            return false;
        }
        st = auth_token_check(db, h + 7 + strspn(h + 7, " "), &ctx->who, &ok,
                              &err);
    } else {
        const char *sid = http_req_cookie(r, cookie_name(app));

        if (sid == NULL) {
            return false;
        }
        db = web_db(r);
        if (db == NULL) {
            return false;
        }
        st = auth_session_check(db, sid, &app->opt->lim, &ctx->who, &ok, &err);
    }
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return false;
    }
    ctx->signed_in = ok;
    return ok;
}

static void
dispatch(void *appv, struct http_req *r, const struct http_route *route)
{
    struct web_ctx *ctx = NULL;
    bool api = (route->flags & WEB_F_API) != 0;
    bool change = strcmp(route->method, "GET") != 0;
    const char *token = NULL;

    (void)appv;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        http_reply_text(r, 500, "out of memory\n");
        return;
    }
    http_req_set_user(r, ctx, ctx_free);
    if (change && !api && !same_origin(r)) {
        web_error(r, 403, "cross_origin",
                  "cross-site request refused (Origin / Sec-Fetch-Site)");
        return;
    }
    if (route->flags & WEB_F_PUBLIC) {
        /* The sign-in page still learns who is signed in, for the
         * header; a failure there is not an error. */
        if (!api && http_req_cookie(r, cookie_name(app_of(r))) != NULL) {
            (void)authenticate(r, ctx, false);
        }
        return;
    }
    if (!authenticate(r, ctx, api)) {
        if (!http_req_answered(r)) {
            refuse_anonymous(r, api);
        }
        return;
    }
    if (change && !api) {
        token = http_req_header(r, "X-CSRF-Token");
        if (token == NULL) {
            token = http_req_form(r, "csrf_token");
        }
        if (!auth_csrf_ok(&ctx->who, token)) {
            web_error(r, 403, "csrf",
                      "missing or wrong CSRF token; reload the page");
            return;
        }
    }
    if (route->role >= 0 && (int)ctx->who.role < route->role) {
        web_error(r, 403, "forbidden",
                  "your role may not do this; ask an administrator");
        return;
    }
}

int64_t
web_enr_current(struct core *c, const json_t *e)
{
    const char *dev = web_jstr(e, "device_id");
    struct latch_err err;
    json_t *d = NULL;
    int64_t cur = 0;

    latch_err_clear(&err);
    if (c == NULL || dev == NULL ||
        core_device_show(c, dev, &d, &err) != LATCH_OK) {
        return 0;
    }
    cur = web_jint(d, "current_enrollment");
    json_decref(d);
    return cur;
}

/* --- session cookie helpers for web_signin.c -------------------------- */

const char *
web_cookie_name(const struct http_req *r)
{
    return cookie_name(app_of(r));
}

const struct auth_limits *
web_limits(const struct http_req *r)
{
    return &app_of(r)->opt->lim;
}

bool
web_cookie_secure(const struct http_req *r)
{
    return app_of(r)->opt->cookie_secure;
}

/* --- static assets -------------------------------------------------------- */

void
web_static(struct http_req *r)
{
    const char *path = http_req_path(r);

    for (const struct latch_asset *a = latch_assets; a->path != NULL; a++) {
        if (strcmp(a->path, path) == 0) {
            http_reply_static(r, a->type, a->data, a->len);
            return;
        }
    }
    web_error(r, 404, "not_found", "no such file");
}

/* --- routes ------------------------------------------------------------- */

#define PAGE(m, p, fn, role)                                                   \
    {                                                                          \
        m, p, fn, HTTP_BODY_NONE, 0, 0, role, 0                                \
    }
#define FORM(p, fn, role)                                                      \
    {                                                                          \
        "POST", p, fn, HTTP_BODY_FORM, WEB_FORM_MAX, 0, role, 0                \
    }
#define API(m, p, fn, role)                                                    \
    {                                                                          \
        m, p, fn, HTTP_BODY_NONE, 0, 0, role, WEB_F_API                        \
    }
#define APIJ(p, fn, role, max)                                                 \
    {                                                                          \
        "POST", p, fn, HTTP_BODY_RAW, max, 0, role, WEB_F_API                  \
    }

static const struct http_route routes[] = {
    {"GET", "/static/*", web_static, HTTP_BODY_NONE, 0, 0, WEB_PUBLIC,
     WEB_F_PUBLIC},
    {"GET", "/signin", web_signin_get, HTTP_BODY_NONE, 0, 0, WEB_PUBLIC,
     WEB_F_PUBLIC},
    {"POST", "/signin", web_signin_post, HTTP_BODY_FORM, WEB_FORM_MAX, 0,
     WEB_PUBLIC, WEB_F_PUBLIC},
    FORM("/signout", web_signout, WEB_VIEWER),
    PAGE("GET", "/", web_dashboard, WEB_VIEWER),

    PAGE("GET", "/enrollments", web_enr_list, WEB_VIEWER),
    PAGE("GET", "/enrollments/upload", web_enr_upload_get, WEB_APPROVER),
    {"POST", "/enrollments/upload", web_enr_upload_post, HTTP_BODY_FORM,
     WEB_UPLOAD_FILES *(WEB_ENROLLMENT_MAX + 1024), WEB_ENROLLMENT_MAX,
     WEB_APPROVER, 0},
    PAGE("GET", "/enrollments/*", web_enr_show, WEB_VIEWER),
    PAGE("GET", "/enrollments/*/progress", web_enr_progress, WEB_VIEWER),
    FORM("/enrollments/*/approve", web_enr_approve, WEB_APPROVER),
    FORM("/enrollments/*/reject", web_enr_reject, WEB_APPROVER),
    FORM("/enrollments/*/revalidate", web_enr_revalidate, WEB_APPROVER),
    PAGE("GET", "/enrollments/*/issue", web_issue_get, WEB_APPROVER),
    FORM("/enrollments/*/issue", web_issue_post, WEB_APPROVER),

    PAGE("GET", "/licenses", web_lic_list, WEB_VIEWER),
    PAGE("GET", "/licenses/*", web_lic_show, WEB_VIEWER),
    PAGE("GET", "/licenses/*/download", web_lic_download, WEB_VIEWER),
    FORM("/licenses/*/revoke", web_lic_revoke, WEB_APPROVER),

    PAGE("GET", "/devices", web_dev_list, WEB_VIEWER),
    PAGE("GET", "/devices/*", web_dev_show, WEB_VIEWER),
    PAGE("GET", "/customers", web_customers, WEB_VIEWER),
    FORM("/customers", web_customer_add, WEB_APPROVER),
    PAGE("GET", "/plans", web_plans, WEB_VIEWER),
    FORM("/plans", web_plan_add, WEB_ADMIN),
    PAGE("GET", "/audit", web_audit, WEB_VIEWER),
    PAGE("GET", "/trust", web_trust_page, WEB_VIEWER),
    PAGE("GET", "/users", web_users, WEB_ADMIN),
    FORM("/users", web_user_add, WEB_ADMIN),
    FORM("/users/*/update", web_user_update, WEB_ADMIN),
    FORM("/tokens", web_token_create, WEB_ADMIN),
    FORM("/tokens/*/revoke", web_token_revoke, WEB_ADMIN),

    API("GET", "/api/v1/openapi.json", api_openapi, WEB_VIEWER),
    API("GET", "/api/v1/enrollments", api_enr_list, WEB_VIEWER),
    APIJ("/api/v1/enrollments", api_enr_upload, WEB_APPROVER,
         WEB_ENROLLMENT_MAX),
    API("GET", "/api/v1/enrollments/*", api_enr_show, WEB_VIEWER),
    API("GET", "/api/v1/enrollments/*/progress", api_enr_progress, WEB_VIEWER),
    APIJ("/api/v1/enrollments/*/approve", api_enr_approve, WEB_APPROVER,
         WEB_FORM_MAX),
    APIJ("/api/v1/enrollments/*/reject", api_enr_reject, WEB_APPROVER,
         WEB_FORM_MAX),
    API("GET", "/api/v1/licenses", api_lic_list, WEB_VIEWER),
    APIJ("/api/v1/licenses", api_lic_issue, WEB_APPROVER, WEB_FORM_MAX),
    API("GET", "/api/v1/licenses/*", api_lic_show, WEB_VIEWER),
    API("GET", "/api/v1/licenses/*/download", api_lic_download, WEB_VIEWER),
    APIJ("/api/v1/licenses/*/revoke", api_lic_revoke, WEB_APPROVER,
         WEB_FORM_MAX),
    API("GET", "/api/v1/devices", api_dev_list, WEB_VIEWER),
    API("GET", "/api/v1/devices/*", api_dev_show, WEB_VIEWER),
    API("GET", "/api/v1/customers", api_customer_list, WEB_VIEWER),
    APIJ("/api/v1/customers", api_customer_add, WEB_APPROVER, WEB_FORM_MAX),
    API("GET", "/api/v1/plans", api_plan_list, WEB_VIEWER),
    APIJ("/api/v1/plans", api_plan_add, WEB_ADMIN, WEB_FORM_MAX),
    API("GET", "/api/v1/audit", api_audit_list, WEB_VIEWER),
    {NULL, NULL, NULL, HTTP_BODY_NONE, 0, 0, 0, 0},
};

/* --- start / stop --------------------------------------------------------- */

/* The listen address parses, and *loopback tells 127.0.0.0/8 and ::1. */
static enum latch_status
listen_loopback(const char *listen, bool *loopback, struct latch_err *err)
{
    struct sockaddr_storage ss;
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
    bool v6 = false;
    enum latch_status st;

    st = http_parse_listen(listen, &ss, &v6, err);
    if (st == LATCH_OK) {
        *loopback = v6 ? IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)
                       : (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
    }
    return st;
}

enum latch_status
web_start(const struct latchd_config *cfg, const struct web_options *o,
          struct web_app **out, struct latch_err *err)
{
    struct web_app *app = NULL;
    struct latch_err terr;
    enum latch_status st;
    bool loopback = false;

    *out = NULL;
    st = listen_loopback(o->listen, &loopback, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (!o->cookie_secure && !loopback) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "[http] cookie_secure = false is only for plain "
                             "HTTP on a loopback address, not %s",
                             o->listen);
    }
    auth_memory_setup();
    app = calloc(1, sizeof(*app));
    if (app == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "web: out of memory");
    }
    app->cfg = cfg;
    app->opt = o;
    if (pthread_key_create(&app->tls, tls_free) != 0) {
        free(app);
        return latch_err_set(err, LATCH_E_INTERNAL,
                             "web: pthread_key_create failed");
    }
    latch_err_clear(&terr);
    if (cfg->trust_dir == NULL) {
        snprintf(app->trust_error, sizeof(app->trust_error),
                 "no trust directory configured ([trust] dir)");
    } else if (ek_trust_load(cfg->trust_dir, &app->trust, NULL, &terr) !=
               LATCH_OK) {
        snprintf(app->trust_error, sizeof(app->trust_error), "%s", terr.msg);
    }
    app->http.listen = o->listen;
    app->http.threads = o->threads;
    app->http.routes = routes;
    app->http.dispatch = dispatch;
    app->http.error = on_http_error;
    app->http.app = app;
    st = http_start(&app->http, &app->srv, err);
    if (st != LATCH_OK) {
        web_stop(app);
        return st;
    }
    *out = app;
    return LATCH_OK;
}

unsigned
web_port(const struct web_app *app)
{
    return http_port(app->srv);
}

void
web_stop(struct web_app *app)
{
    if (app == NULL) {
        return;
    }
    http_stop(app->srv);
    ek_trust_free(app->trust);
    pthread_key_delete(app->tls);
    free(app);
}
