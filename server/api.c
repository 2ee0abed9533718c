/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * api.c: the JSON API under /api/v1 for automation, with bearer tokens
 * (checked by web.c before any handler runs). Request bodies are read by
 * the same strict JSON reader as enrollment and license files. Errors are
 * {"error": {"code": "<stable code>", "message": "<text>"}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets.h"
#include "codec.h"
#include "json.h"
#include "license.h"
#include "web.h"

#define API_FEATURES_MAX LATCH_FEATURES_MAX
#define SPEC_MAX         160

void
api_reply(struct http_req *r, unsigned status, json_t *v)
{
    char *text = NULL;

    if (v == NULL) {
        api_error(r, 500, "internal", "out of memory");
        return;
    }
    text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    json_decref(v);
    if (text == NULL) {
        http_reply_text(r, 500, "internal error\n");
        return;
    }
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

/* True when s is well-formed UTF-8 (RFC 3629). */
static bool
utf8_ok(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    uint32_t cp;

    while (n > 0) {
        size_t k = latch_utf8_next(p, n, &cp);

        if (k == 0) {
            return false;
        }
        p += k;
        n -= k;
    }
    return true;
}

/*
 * Copies s into out (size outsz, truncated) as valid UTF-8: each byte that
 * is not part of a well-formed sequence becomes "\xNN", so a message
 * echoing client text (a path id, a query value) still makes a JSON
 * string.
 */
static void
utf8_clean(const char *s, char *out, size_t outsz)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    size_t w = 0;
    uint32_t cp;

    while (n > 0 && w + 5 < outsz) {
        size_t k = latch_utf8_next(p, n, &cp);

        if (k == 0) {
            snprintf(out + w, outsz - w, "\\x%02x", p[0]);
            w += 4;
            k = 1;
        } else {
            memcpy(out + w, p, k);
            w += k;
        }
        p += k;
        n -= k;
    }
    out[w] = '\0';
}

void
api_error(struct http_req *r, unsigned status, const char *code,
          const char *message)
{
    char clean[2048];
    json_t *v = NULL;
    char *text = NULL;

    utf8_clean(message != NULL ? message : "", clean, sizeof(clean));
    v = json_pack("{s:{s:s,s:s}}", "error", "code",
                  code != NULL ? code : "error", "message", clean);
    text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL) {
        http_reply_text(r, status, "error\n");
        return;
    }
    http_reply(r, status, "application/json", text, strlen(text));
    free(text);
}

static void
api_fail(struct http_req *r, enum latch_status st, const struct latch_err *err)
{
    web_fail(r, st, err);
}

/*
 * True when the request declares Content-Type application/json (parameters
 * such as "; charset=utf-8" allowed); otherwise answers 415 naming what
 * was sent.
 */
static bool
json_content_type(struct http_req *r)
{
    const char *ct = http_req_header(r, "Content-Type");
    size_t n = 0;
    char msg[160];

    if (ct != NULL) {
        n = strcspn(ct, "; \t");
        if (n == strlen("application/json") &&
            strncasecmp(ct, "application/json", n) == 0) {
            return true;
        }
    }
    snprintf(msg, sizeof(msg),
             "Content-Type \"%.60s\": expected application/json",
             ct != NULL ? ct : "(none)");
    api_error(r, 415, "unsupported_media_type", msg);
    return false;
}

/*
 * Parses the body as a JSON object (an empty body is {} when allowed) with
 * no member outside the NULL-terminated list allowed: a misspelt member
 * ("valid_untill") is refused rather than silently ignored.
 */
static json_t *
body_object(struct http_req *r, bool empty_ok, const char *const *allowed)
{
    struct latch_err err;
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *doc = NULL;

    latch_err_clear(&err);
    if (len == 0 && empty_ok) {
        return json_object();
    }
    if (!json_content_type(r)) {
        return NULL;
    }
    if (latch_json_parse(body, len, &doc, &err) != LATCH_OK) {
        api_error(r, 400, "bad_json", err.msg);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        api_error(r, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    if (latch_json_only_members(doc, allowed, "body", &err) != LATCH_OK) {
        json_decref(doc);
        api_error(r, 400, "unknown_member", err.msg);
        return NULL;
    }
    return doc;
}

/*
 * Fails naming key unless the member is absent or has the JSON type want
 * (JSON_TRUE stands for either boolean).
 */
static enum latch_status
member_type(const json_t *o, const char *key, json_type want,
            struct latch_err *err)
{
    const json_t *v = json_object_get(o, key);
    const char *name = want == JSON_STRING    ? "a string"
                       : want == JSON_INTEGER ? "an integer"
                       : want == JSON_ARRAY   ? "an array"
                       : want == JSON_OBJECT  ? "an object"
                                              : "true or false";

    if (v == NULL || json_typeof(v) == want ||
        (want == JSON_TRUE && json_is_boolean(v))) {
        return LATCH_OK;
    }
    return latch_err_set(err, LATCH_E_USAGE, "\"%s\": expected %s", key, name);
}

/*
 * The record id in path segment i: a decimal integer in 1..2^53-1. Anything
 * else answers 404 naming the text given (never "enrollment 0") and
 * returns 0.
 */
static int64_t
api_seg_id(struct http_req *r, int i, const char *what)
{
    const char *seg = http_req_seg(r, i);
    int64_t id = web_parse_id(seg);
    char msg[160];

    if (id > 0 && id <= LATCH_JSON_MAX_INT) {
        return id;
    }
    snprintf(msg, sizeof(msg), "no %s \"%.64s\": ids are positive integers",
             what, seg != NULL ? seg : "");
    api_error(r, 404, "not_found", msg);
    return 0;
}

/*
 * Query parameter name as a positive integer (or 0 when allow_zero) up to
 * max. Absent leaves *out untouched. Anything else answers 400 naming the
 * parameter and the text and returns false.
 */
static bool
query_int(struct http_req *r, const char *name, bool allow_zero, int64_t max,
          int64_t *out)
{
    const char *s = http_req_query(r, name);
    int64_t v;
    char msg[200];

    if (s == NULL) {
        return true;
    }
    v = allow_zero && strcmp(s, "0") == 0 ? 0 : web_parse_id(s);
    if ((v > 0 || (allow_zero && strcmp(s, "0") == 0)) && v <= max) {
        *out = v;
        return true;
    }
    snprintf(msg, sizeof(msg),
             "query %s=\"%.64s\": expected an integer in "
             "%d..%lld",
             name, s, allow_zero ? 0 : 1, (long long)max);
    api_error(r, 400, "bad_query", msg);
    return false;
}

/* Query parameter name, when given, must be one of the NULL-terminated
 * list ok; otherwise answers 400 listing them and returns false. */
static bool
query_enum(struct http_req *r, const char *name, const char *const *ok)
{
    const char *s = http_req_query(r, name);
    char msg[400];
    int n;

    if (s == NULL) {
        return true;
    }
    for (size_t i = 0; ok[i] != NULL; i++) {
        if (strcmp(s, ok[i]) == 0) {
            return true;
        }
    }
    n = snprintf(msg, sizeof(msg), "query %s=\"%.64s\": expected one of", name,
                 s);
    for (size_t i = 0; ok[i] != NULL && n > 0 && (size_t)n < sizeof(msg); i++) {
        n += snprintf(msg + n, sizeof(msg) - (size_t)n, "%s %s",
                      i > 0 ? "," : "", ok[i]);
    }
    api_error(r, 400, "bad_query", msg);
    return false;
}

#define QUERY_KNOWN_MAX 8

struct query_check {
    const char *const *known;
    bool seen[QUERY_KNOWN_MAX];
    char msg[400];
};

static void
query_known_list(struct query_check *q, int n)
{
    size_t used = (size_t)n;

    if (q->known[0] == NULL) {
        snprintf(q->msg + used, sizeof(q->msg) - used,
                 "; this route takes none");
        return;
    }
    for (size_t i = 0; q->known[i] != NULL && used < sizeof(q->msg); i++) {
        n = snprintf(q->msg + used, sizeof(q->msg) - used, "%s %s",
                     i > 0 ? "," : "; this route takes", q->known[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

static bool
query_check_one(void *cls, const char *name, const char *value)
{
    struct query_check *q = cls;
    size_t i = 0;

    while (q->known[i] != NULL && strcmp(q->known[i], name) != 0) {
        i++;
    }
    if (q->known[i] == NULL) {
        query_known_list(q, snprintf(q->msg, sizeof(q->msg),
                                     "query parameter \"%.64s\" is unknown",
                                     name));
        return false;
    }
    if (q->seen[i]) {
        snprintf(q->msg, sizeof(q->msg),
                 "query parameter %s: given more than once", name);
        return false;
    }
    if (value == NULL) {
        snprintf(q->msg, sizeof(q->msg),
                 "query parameter %s: no value (expected %s=...)", name, name);
        return false;
    }
    q->seen[i] = true;
    return true;
}

/*
 * The query string may hold only the parameters in known (NULL-terminated,
 * at most QUERY_KNOWN_MAX), each once and with "=value"; otherwise answers
 * 400 bad_query naming the parameter and returns false, as unknown JSON
 * members are refused rather than ignored.
 */
static bool
query_only(struct http_req *r, const char *const *known)
{
    struct query_check q;

    memset(&q, 0, sizeof(q));
    q.known = known;
    http_req_queries(r, query_check_one, &q);
    if (q.msg[0] != '\0') {
        api_error(r, 400, "bad_query", q.msg);
        return false;
    }
    return true;
}

static const char *const no_params[] = {NULL};

/* True for a device id: 64 lowercase hex digits (the EK public key hash). */
static bool
device_id_ok(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");

    return n == 64 && s[n] == '\0';
}

static const char *
jstring(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* --- OpenAPI ----------------------------------------------------------------
 */

void
api_openapi(struct http_req *r)
{
    if (!query_only(r, no_params)) {
        return;
    }
    for (const struct latch_asset *a = latch_assets; a->path != NULL; a++) {
        if (strcmp(a->path, "/api/v1/openapi.json") == 0) {
            http_reply(r, 200, "application/json", a->data, a->len);
            return;
        }
    }
    api_error(r, 404, "not_found", "no OpenAPI document built in");
}

/* --- enrollments ------------------------------------------------------------
 */

static const char *const enr_states[] = {
    "pending",      "validating", "valid",    "invalid", "needs_override",
    "unknown_root", "approved",   "rejected", NULL};
static const char *const lic_states[] = {"active", "revoked", "superseded",
                                         NULL};
static const char *const no_states[] = {NULL};

static const char *const enr_params[] = {"limit", "after",     "order",
                                         "state", "device_id", NULL};
static const char *const lic_params[] = {
    "limit",     "after",         "order",    "state",
    "device_id", "enrollment_id", "customer", NULL};
static const char *const page_params[] = {"limit", "after", "order", NULL};

/*
 * The list options from the query, each checked: a bad limit, after,
 * order, state or enrollment_id answers 400 naming it (returns false)
 * instead of falling back to a default that hides the mistake.
 */
static bool
list_opts(struct http_req *r, struct core_list_opts *o,
          const char *const *states, const char *const *params)
{
    static const char *const orders[] = {"oldest", "newest", NULL};
    const char *order = http_req_query(r, "order");
    const char *dev = http_req_query(r, "device_id");
    int64_t limit = WEB_PAGE_ROWS;
    int64_t after = 0;
    int64_t enr = 0;
    char msg[160];

    web_list_opts(r, o);
    if (!query_only(r, params)) {
        return false;
    }
    if (dev != NULL && !device_id_ok(dev)) {
        snprintf(msg, sizeof(msg),
                 "query device_id=\"%.70s\": expected 64 lowercase hex "
                 "digits",
                 dev);
        api_error(r, 400, "bad_query", msg);
        return false;
    }
    if (!query_int(r, "limit", false, CORE_LIST_MAX, &limit) ||
        !query_int(r, "after", true, LATCH_JSON_MAX_INT, &after) ||
        !query_int(r, "enrollment_id", false, LATCH_JSON_MAX_INT, &enr) ||
        !query_enum(r, "order", orders) || !query_enum(r, "state", states)) {
        return false;
    }
    o->limit = (int)limit;
    o->after_id = after;
    o->newest_first = order != NULL && strcmp(order, "newest") == 0;
    o->state = http_req_query(r, "state");
    o->device_id = http_req_query(r, "device_id");
    o->customer = http_req_query(r, "customer");
    o->enrollment_id = enr;
    return true;
}

typedef enum latch_status (*list_fn)(struct core *c,
                                     const struct core_list_opts *opt,
                                     json_t **out, struct latch_err *err);

static void
api_list(struct http_req *r, list_fn fn, const char *const *states,
         const char *const *params)
{
    struct core_list_opts o;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!list_opts(r, &o, states, params)) {
        return;
    }
    st = fn(c, &o, &out, &err);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

typedef enum latch_status (*show_fn)(struct core *c, int64_t id, json_t **out,
                                     struct latch_err *err);

/* GET of one record by the numeric id in the first path segment. */
static void
api_show(struct http_req *r, show_fn fn, const char *what)
{
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    int64_t id;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    id = api_seg_id(r, 0, what);
    if (id == 0) {
        return;
    }
    st = fn(c, id, &out, &err);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

typedef enum latch_status (*reason_fn)(struct core *c, const char *actor,
                                       int64_t id, const char *reason,
                                       json_t **out, struct latch_err *err);

/*
 * A state change on the record named by the first path segment that needs
 * a non-empty "reason" in the body (reject, revoke).
 */
static void
api_with_reason(struct http_req *r, reason_fn fn, const char *what)
{
    static const char *const allowed[] = {"reason", NULL};
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *body = NULL;
    json_t *out = NULL;
    const char *reason;
    int64_t id;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    id = api_seg_id(r, 0, what);
    if (id == 0) {
        return;
    }
    body = body_object(r, false, allowed);
    if (body == NULL) {
        return;
    }
    reason = jstring(body, "reason");
    if (reason == NULL || reason[0] == '\0') {
        json_decref(body);
        api_error(r, 400, "reason_required", "give a \"reason\" string");
        return;
    }
    st = fn(c, web_who(r)->actor, id, reason, &out, &err);
    json_decref(body);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_enr_list(struct http_req *r)
{
    api_list(r, core_enrollment_list, enr_states, enr_params);
}

void
api_enr_upload(struct http_req *r)
{
    struct latch_err err;
    struct core *c = web_core(r);
    const char *source = http_req_header(r, "X-Filename");
    size_t len = 0;
    const char *body = http_req_body(r, &len);
    json_t *out = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    if (source != NULL && !utf8_ok(source)) {
        api_error(r, 400, "bad_request", "X-Filename header: not valid UTF-8");
        return;
    }
    if (!json_content_type(r)) {
        return;
    }
    st =
        core_enrollment_import(c, web_who(r)->actor, (const uint8_t *)body, len,
                               source != NULL ? source : "api", &out, &err);
    if (st == LATCH_E_FORMAT || st == LATCH_E_POLICY) {
        json_decref(out);
        api_error(r, 422,
                  st == LATCH_E_FORMAT ? "invalid_enrollment"
                                       : "unsupported_identity_schema",
                  err.msg);
        return;
    }
    if (st != LATCH_OK) {
        json_decref(out);
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, json_is_true(json_object_get(out, "duplicate")) ? 200 : 201,
              out);
}

void
api_enr_show(struct http_req *r)
{
    api_show(r, core_enrollment_show, "enrollment");
}

void
api_enr_progress(struct http_req *r)
{
    static const char *const since_params[] = {"since", NULL};
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    int64_t id;
    int64_t since = 0;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    id = api_seg_id(r, 0, "enrollment");
    if (id == 0 || !query_only(r, since_params) ||
        !query_int(r, "since", true, LATCH_JSON_MAX_INT, &since)) {
        return;
    }
    st = core_enrollment_progress(c, id, since, &out, &err);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_enr_approve(struct http_req *r)
{
    static const char *const allowed[] = {"override", NULL};
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *body = NULL;
    json_t *out = NULL;
    int64_t id;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    id = api_seg_id(r, 0, "enrollment");
    if (id == 0) {
        return;
    }
    body = body_object(r, true, allowed);
    if (body == NULL) {
        return;
    }
    st = member_type(body, "override", JSON_TRUE, &err);
    if (st == LATCH_OK && json_is_true(json_object_get(body, "override")) &&
        !web_can(r, AUTH_ADMIN)) {
        json_decref(body);
        api_error(r, 403, "forbidden",
                  "only an administrator may approve with override");
        return;
    }
    if (st == LATCH_OK) {
        st = core_enrollment_approve(
            c, web_who(r)->actor, id,
            json_is_true(json_object_get(body, "override")), &out, &err);
    }
    json_decref(body);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_enr_reject(struct http_req *r)
{
    api_with_reason(r, core_enrollment_reject, "enrollment");
}

/* --- licenses --------------------------------------------------------- */

/*
 * One feature from "name[=quantity][@until]" or {"name", "quantity",
 * "valid_until"}. An object with any other member fails with
 * LATCH_E_FORMAT (the caller answers unknown_member); every other mistake
 * is LATCH_E_USAGE.
 */
static enum latch_status
feature_of(const json_t *v, struct core_feature *f, struct latch_err *err)
{
    static const char *const allowed[] = {"name", "quantity", "valid_until",
                                          NULL};
    char spec[SPEC_MAX];
    const json_t *q;
    const char *name;
    const char *until;
    int n;
    enum latch_status st;

    if (json_is_string(v)) {
        return core_feature_parse(json_string_value(v), f, err);
    }
    if (!json_is_object(v)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "features: each item is a string or an object");
    }
    st = latch_json_only_members(v, allowed, "features[]", err);
    if (st == LATCH_OK) {
        st = member_type(v, "valid_until", JSON_STRING, err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    name = jstring(v, "name");
    q = json_object_get(v, "quantity");
    until = jstring(v, "valid_until");
    if (name == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "features: \"name\" missing");
    }
    if (q != NULL && !json_is_integer(q)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "features.%s.quantity: expected an integer", name);
    }
    n = snprintf(spec, sizeof(spec), "%s", name);
    if (n >= 0 && q != NULL) {
        n += snprintf(spec + n, sizeof(spec) - (size_t)n, "=%lld",
                      (long long)json_integer_value(q));
    }
    if (n >= 0 && (size_t)n < sizeof(spec) && until != NULL) {
        n += snprintf(spec + n, sizeof(spec) - (size_t)n, "@%s", until);
    }
    if (n < 0 || (size_t)n >= sizeof(spec)) {
        return latch_err_set(err, LATCH_E_USAGE, "features: item too long");
    }
    return core_feature_parse(spec, f, err);
}

static enum latch_status
issue_req_of(const json_t *body, struct core_issue_req *req,
             struct core_feature *feats, struct latch_err *err)
{
    const json_t *fl = json_object_get(body, "features");
    const json_t *eid = json_object_get(body, "enrollment_id");
    const char *until = jstring(body, "valid_until");
    const json_t *v;
    size_t i;
    enum latch_status st;

    memset(req, 0, sizeof(*req));
    st = member_type(body, "plan", JSON_STRING, err);
    if (st == LATCH_OK) {
        st = member_type(body, "valid_until", JSON_STRING, err);
    }
    if (st == LATCH_OK) {
        st = member_type(body, "supersede", JSON_TRUE, err);
    }
    if (st != LATCH_OK) {
        return st;
    }
    if (!json_is_integer(eid) || json_integer_value(eid) <= 0) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "\"enrollment_id\": expected a positive integer");
    }
    req->enrollment_id = (int64_t)json_integer_value(eid);
    req->customer = jstring(body, "customer");
    if (req->customer == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "\"customer\": expected the customer's name");
    }
    req->plan = jstring(body, "plan");
    req->supersede = json_is_true(json_object_get(body, "supersede"));
    if (until != NULL) {
        st = core_date_parse("valid_until", until, &req->valid_until, err);
        if (st != LATCH_OK) {
            return st;
        }
        req->has_valid_until = true;
    }
    if (fl != NULL && !json_is_array(fl)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "\"features\": expected an array");
    }
    if (json_array_size(fl) > API_FEATURES_MAX) {
        return latch_err_set(err, LATCH_E_USAGE, "\"features\": at most %d",
                             API_FEATURES_MAX);
    }
    json_array_foreach(fl, i, v)
    {
        st = feature_of(v, &feats[i], err);
        if (st != LATCH_OK) {
            return st;
        }
    }
    req->features = feats;
    req->nfeatures = json_array_size(fl);
    return LATCH_OK;
}

void
api_lic_issue(struct http_req *r)
{
    static const char *const allowed[] = {
        "enrollment_id", "customer",  "plan", "valid_until",
        "features",      "supersede", NULL};
    struct core_feature *feats = NULL;
    struct core_issue_req req;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *body = NULL;
    json_t *out = NULL;
    json_t *file_doc = NULL;
    char *file = NULL;
    size_t filelen = 0;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    body = body_object(r, false, allowed);
    if (body == NULL) {
        return;
    }
    feats = calloc(API_FEATURES_MAX, sizeof(*feats));
    if (feats == NULL) {
        st = latch_err_set(&err, LATCH_E_NOMEM, "out of memory");
        goto out;
    }
    st = issue_req_of(body, &req, feats, &err);
    if (st == LATCH_E_FORMAT) {
        json_decref(body);
        free(feats);
        api_error(r, 400, "unknown_member", err.msg);
        return;
    }
    if (st == LATCH_OK) {
        st = core_license_issue(c, web_who(r)->actor, &req, &out, &file,
                                &filelen, &err);
    }
    if (st == LATCH_OK) {
        file_doc = json_loadb(file, filelen, 0, NULL);
    }

out:
    json_decref(body);
    free(feats);
    free(file);
    if (st != LATCH_OK) {
        json_decref(out);
        api_fail(r, st, &err);
        return;
    }
    {
        char path[64];

        snprintf(path, sizeof(path), "/api/v1/licenses/%lld/download",
                 (long long)json_integer_value(json_object_get(out, "id")));
        api_reply(r, 201,
                  json_pack("{s:o,s:o*,s:s}", "license", out, "file", file_doc,
                            "download", path));
    }
}

void
api_lic_list(struct http_req *r)
{
    api_list(r, core_license_list, lic_states, lic_params);
}

void
api_lic_show(struct http_req *r)
{
    api_show(r, core_license_show, "license");
}

void
api_lic_download(struct http_req *r)
{
    int64_t id = api_seg_id(r, 0, "license");

    if (id != 0 && query_only(r, no_params)) {
        web_send_license_file(r, id);
    }
}

void
api_lic_revoke(struct http_req *r)
{
    api_with_reason(r, core_license_revoke, "license");
}

/* --- devices, customers, plans, audit ------------------------------------- */

void
api_dev_list(struct http_req *r)
{
    api_list(r, core_device_list, no_states, page_params);
}

void
api_dev_show(struct http_req *r)
{
    const char *dev = http_req_seg(r, 0);
    char msg[200];
    int64_t id;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *out = NULL;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    id = web_parse_id(dev);
    if (!device_id_ok(dev) && !(id > 0 && id <= LATCH_JSON_MAX_INT)) {
        snprintf(msg, sizeof(msg),
                 "no device \"%.70s\": expected a positive integer id or "
                 "a device_id of 64 lowercase hex digits",
                 dev);
        api_error(r, 404, "not_found", msg);
        return;
    }
    st = core_device_show(c, dev, &out, &err);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_customer_list(struct http_req *r)
{
    api_list(r, core_customer_list, no_states, page_params);
}

void
api_customer_add(struct http_req *r)
{
    static const char *const allowed[] = {"name", NULL};
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *body = NULL;
    json_t *out = NULL;
    const char *name;
    enum latch_status st;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    body = body_object(r, false, allowed);
    if (body == NULL) {
        return;
    }
    name = jstring(body, "name");
    if (name == NULL) {
        json_decref(body);
        api_error(r, 400, "bad_request", "give a \"name\" string");
        return;
    }
    st = core_customer_add(c, web_who(r)->actor, name, &out, &err);
    json_decref(body);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 201, out);
}

void
api_plan_list(struct http_req *r)
{
    api_list(r, core_plan_list, no_states, page_params);
}

void
api_plan_add(struct http_req *r)
{
    static const char *const allowed[] = {"name", "features", NULL};
    struct core_feature *feats = NULL;
    struct latch_err err;
    struct core *c = web_core(r);
    json_t *body = NULL;
    json_t *out = NULL;
    const json_t *fl;
    const json_t *v;
    const char *name;
    size_t i;
    enum latch_status st = LATCH_OK;

    latch_err_clear(&err);
    if (c == NULL) {
        return;
    }
    if (!query_only(r, no_params)) {
        return;
    }
    body = body_object(r, false, allowed);
    if (body == NULL) {
        return;
    }
    name = jstring(body, "name");
    fl = json_object_get(body, "features");
    feats = calloc(API_FEATURES_MAX, sizeof(*feats));
    if (feats == NULL) {
        st = latch_err_set(&err, LATCH_E_NOMEM, "out of memory");
    } else if (name == NULL) {
        st = latch_err_set(&err, LATCH_E_USAGE, "give a \"name\" string");
    } else if (fl != NULL &&
               (!json_is_array(fl) || json_array_size(fl) > API_FEATURES_MAX)) {
        st = latch_err_set(&err, LATCH_E_USAGE,
                           "\"features\": an array of at most %d",
                           API_FEATURES_MAX);
    }
    json_array_foreach(fl, i, v)
    {
        if (st == LATCH_OK) {
            st = feature_of(v, &feats[i], &err);
        }
    }
    if (st == LATCH_E_FORMAT) {
        json_decref(body);
        free(feats);
        api_error(r, 400, "unknown_member", err.msg);
        return;
    }
    if (st == LATCH_OK) {
        st = core_plan_add(c, web_who(r)->actor, name, feats,
                           json_array_size(fl), &out, &err);
    }
    json_decref(body);
    free(feats);
    if (st != LATCH_OK) {
        api_fail(r, st, &err);
        return;
    }
    api_reply(r, 201, out);
}

void
api_audit_list(struct http_req *r)
{
    api_list(r, core_audit_list, no_states, page_params);
}
