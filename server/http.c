/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * http.c: libmicrohttpd behind latchd's own request/response API. Bodies
 * are capped while they arrive: a declared Content-Length over the route's
 * cap is refused before a byte of the body is read, and a chunked body
 * that grows past it is discarded as it comes, so memory stays flat
 * whatever a client sends.
 */
#include "http.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

/*
 * Bytes of an over-cap body read and dropped so the client still gets its
 * 413 (MHD cannot answer in the middle of a body, and browsers do not
 * read an early answer). Past this the connection is closed.
 */
#define DISCARD_MAX     (16u << 20)
#define IGNORED_MAX     (64u << 10) /* a body sent to a route taking none */
#define HEADERS_MAX     16
#define PP_BUFFER       (16u << 10)
#define CONN_MEMORY_MAX (32u << 10)

static const char csp[] = "default-src 'self'; script-src 'self'; "
                          "style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; object-src 'none'; "
                          "base-uri 'none'; frame-ancestors 'none'; "
                          "form-action 'self'";

struct http_server {
    struct MHD_Daemon *d;
    const struct http_config *cfg;
    unsigned port;
};

struct hdr {
    char *name;
    char *value;
};

struct field {
    char *name;
    char *filename;
    struct hbuf data;
};

enum req_state { REQ_READING = 0, REQ_DISCARDING, REQ_FAILED };

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const struct http_route *route;
    char method[16];
    char *path;
    char *segs[HTTP_SEG_MAX];
    enum req_state state;
    bool answer_now; /* refused from the headers: answer before the body */
    unsigned fail_status;
    const char *fail_code;
    const char *fail_msg;
    size_t seen; /* body bytes received */
    struct hbuf body;
    struct MHD_PostProcessor *pp;
    struct field fields[HTTP_FIELDS_MAX];
    struct http_field pub[HTTP_FIELDS_MAX];
    size_t nfields;
    bool form_ready;
    char peer[INET6_ADDRSTRLEN];
    struct hdr hdrs[HEADERS_MAX];
    size_t nhdrs;
    bool answered;
    void *user;
    void (*user_free)(void *);
    bool begun;          /* req_begin ran (uri_log_cb allocates before) */
    bool slash_escape;   /* the raw path holds %2F */
    char fail_text[128]; /* fail_msg naming a field */
};

static void log_warnx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("latchd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* --- listen address ------------------------------------------------------ */

enum latch_status
http_parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
                  struct latch_err *err)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon = NULL;
    const char *h = listen;
    const char *p;
    size_t hlen;
    unsigned long port;

    memset(ss, 0, sizeof(*ss));
    colon = strrchr(listen, ':');
    if (colon == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "listen address '%s': expected ADDR:PORT", listen);
    }
    hlen = (size_t)(colon - listen);
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
        h = listen + 1;
        hlen -= 2;
    } else if (memchr(listen, ':', hlen) != NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "listen address '%s': an IPv6 address goes in "
                             "brackets, [::1]:8080",
                             listen);
    }
    if (hlen == 0 || hlen >= sizeof(host)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "listen address '%s': bad host part", listen);
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    for (p = colon + 1; *p >= '0' && *p <= '9'; p++) {
    }
    port = p - colon <= 6 ? strtoul(colon + 1, NULL, 10) : 65536;
    if (p == colon + 1 || *p != '\0' || port > 65535) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "listen address '%s': bad port", listen);
    }
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *v6 = false;
        return LATCH_OK;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) ==
        1) {
        if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)ss)->sin6_addr)) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "listen address '%s': give the IPv4 "
                                 "address itself, not its IPv6 mapping",
                                 listen);
        }
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return LATCH_OK;
    }
    return latch_err_set(err, LATCH_E_USAGE,
                         "listen address '%s': '%s' is not a numeric IPv4 "
                         "or IPv6 address",
                         listen, host);
}

/* --- routing ---------------------------------------------------------- */

static bool
method_matches(const char *route_method, const char *method)
{
    if (strcmp(route_method, method) == 0) {
        return true;
    }
    return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

/*
 * Matches path against pattern segment by segment; on success copies the
 * "*" segments into segs (caller frees).
 */
static bool
pattern_matches(const char *pattern, const char *path, char *segs[HTTP_SEG_MAX])
{
    const char *p = pattern;
    const char *u = path;
    int nseg = 0;

    while (*p != '\0' && *u != '\0') {
        const char *pe = strchr(p + 1, '/');
        const char *ue = strchr(u + 1, '/');
        size_t pl;
        size_t ul;

        if (*p != '/' || *u != '/') {
            goto fail;
        }
        pe = pe == NULL ? p + strlen(p) : pe;
        ue = ue == NULL ? u + strlen(u) : ue;
        pl = (size_t)(pe - p - 1);
        ul = (size_t)(ue - u - 1);
        if (pl == 1 && p[1] == '*') {
            if (ul == 0 || nseg >= HTTP_SEG_MAX) {
                goto fail;
            }
            if (segs != NULL) {
                segs[nseg] = strndup(u + 1, ul);
                if (segs[nseg] == NULL) {
                    goto fail;
                }
            }
            nseg++;
        } else if (pl != ul || memcmp(p + 1, u + 1, pl) != 0) {
            goto fail;
        }
        p = pe;
        u = ue;
    }
    if (*p == '\0' && *u == '\0') {
        return true;
    }
fail:
    for (int i = 0; segs != NULL && i < HTTP_SEG_MAX; i++) {
        free(segs[i]);
        segs[i] = NULL;
    }
    return false;
}

/* Finds the route; *path_known tells a 405 from a 404 when none matches. */
static const struct http_route *
route_find(const struct http_route *routes, const char *method,
           const char *path, char *segs[HTTP_SEG_MAX], bool *path_known)
{
    *path_known = false;
    for (const struct http_route *r = routes; r->method != NULL; r++) {
        if (!pattern_matches(r->pattern, path, NULL)) {
            continue;
        }
        *path_known = true;
        if (method_matches(r->method, method)) {
            if (!pattern_matches(r->pattern, path, segs)) {
                return NULL;
            }
            return r;
        }
    }
    return NULL;
}

static void
allow_header(struct http_req *req)
{
    char allow[64] = "";
    size_t used = 0;

    for (const struct http_route *r = req->srv->cfg->routes; r->method != NULL;
         r++) {
        int n;

        if (!pattern_matches(r->pattern, req->path, NULL) ||
            strstr(allow, r->method) != NULL) {
            continue;
        }
        n = snprintf(allow + used, sizeof(allow) - used, "%s%s%s",
                     used > 0 ? ", " : "", r->method,
                     strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
        if (n < 0 || (size_t)n >= sizeof(allow) - used) {
            break;
        }
        used += (size_t)n;
    }
    http_add_header(req, "Allow", allow);
}

/* --- requests ------------------------------------------------------------ */

static void
req_free(struct http_req *req)
{
    if (req == NULL) {
        return;
    }
    if (req->pp != NULL) {
        MHD_destroy_post_processor(req->pp);
    }
    /* Bodies carry passwords and tokens: wipe before freeing. */
    for (size_t i = 0; i < req->nfields; i++) {
        free(req->fields[i].name);
        free(req->fields[i].filename);
        if (req->fields[i].data.p != NULL) {
            OPENSSL_cleanse(req->fields[i].data.p, req->fields[i].data.len);
        }
        hbuf_free(&req->fields[i].data);
    }
    for (size_t i = 0; i < req->nhdrs; i++) {
        free(req->hdrs[i].name);
        free(req->hdrs[i].value);
    }
    for (int i = 0; i < HTTP_SEG_MAX; i++) {
        free(req->segs[i]);
    }
    if (req->user_free != NULL) {
        req->user_free(req->user);
    }
    if (req->body.p != NULL) {
        OPENSSL_cleanse(req->body.p, req->body.len);
    }
    hbuf_free(&req->body);
    free(req->path);
    free(req);
}

static void
set_peer(struct http_req *req)
{
    const union MHD_ConnectionInfo *ci = NULL;
    const struct sockaddr *sa = NULL;
    socklen_t salen;

    snprintf(req->peer, sizeof(req->peer), "unknown");
    ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    sa = ci->client_addr;
    salen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                      : sizeof(struct sockaddr_in);
    if (getnameinfo(sa, salen, req->peer, sizeof(req->peer), NULL, 0,
                    NI_NUMERICHOST) != 0) {
        snprintf(req->peer, sizeof(req->peer), "unknown");
    }
}

/* Remembers why the request fails; the answer goes out at the end. */
static void
req_fail(struct http_req *req, unsigned status, const char *code,
         const char *msg)
{
    if (req->state == REQ_FAILED || req->state == REQ_DISCARDING) {
        return;
    }
    req->state = status == 413 ? REQ_DISCARDING : REQ_FAILED;
    req->fail_status = status;
    req->fail_code = code;
    req->fail_msg = msg;
}

static void
send_error(struct http_req *req, unsigned status, const char *code,
           const char *msg)
{
    const struct http_config *cfg = req->srv->cfg;

    if (status == 405) {
        allow_header(req);
    }
    if (cfg->error != NULL) {
        cfg->error(cfg->app, req, status, code, msg);
    }
    if (!req->answered) {
        http_reply_text(req, status, msg);
    }
}

static enum MHD_Result
post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *filename, const char *content_type,
          const char *transfer_encoding, const char *data, uint64_t off,
          size_t size)
{
    struct http_req *req = cls;
    struct field *f = NULL;
    size_t cap;

    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (req->state != REQ_READING) {
        return MHD_NO;
    }
    if (off == 0) {
        if (req->nfields >= HTTP_FIELDS_MAX) {
            req_fail(req, 413, "too_many_fields",
                     "too many form fields or files");
            return MHD_NO;
        }
        f = &req->fields[req->nfields++];
        cap = filename != NULL ? req->route->file_max : HTTP_FIELD_MAX;
        hbuf_init(&f->data, cap);
        f->name = strdup(key != NULL ? key : "");
        f->filename = filename != NULL ? strdup(filename) : NULL;
        if (f->name == NULL || (filename != NULL && f->filename == NULL)) {
            req_fail(req, 500, "internal", "out of memory");
            return MHD_NO;
        }
    } else if (req->nfields == 0) {
        return MHD_NO;
    }
    f = &req->fields[req->nfields - 1];
    if (f->filename == NULL && memchr(data, '\0', size) != NULL) {
        /* Fields are read as C strings: a NUL would silently cut one
         * ("Evil%00Corp" stored as "Evil", a password's tail ignored). */
        req_fail(req, 400, "bad_request", "a form field holds a NUL byte");
        return MHD_NO;
    }
    hbuf_put(&f->data, data, size);
    if (f->data.failed) {
        req_fail(req, 413, "file_too_large",
                 f->filename != NULL ? "an uploaded file is over the limit"
                                     : "a form field is over the limit");
        return MHD_NO;
    }
    return MHD_YES;
}

/*
 * The declared Content-Length, or 0 when there is none. A malformed one
 * counts as endless.
 */
static unsigned long long
declared_length(struct http_req *req)
{
    const char *cl = NULL;
    char *end = NULL;
    unsigned long long n;

    cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL) {
        return 0;
    }
    errno = 0;
    n = strtoull(cl, &end, 10);
    if (errno != 0 || *end != '\0' || cl[0] == '-') {
        return ULLONG_MAX;
    }
    return n;
}

/*
 * A declared body over the cap. With "Expect: 100-continue", or when it
 * is far over, the 413 goes out at once and the body is never read. A
 * browser does not wait for an early answer, though: it keeps sending and
 * shows a reset connection instead of the 413. So a body up to
 * DISCARD_MAX over the cap is read and dropped, and answered at its end.
 */
static void
refuse_declared(struct http_req *req, unsigned long long n)
{
    const char *expect = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_EXPECT);

    req_fail(req, 413, "body_too_large", "request body over the limit");
    if (expect != NULL || n - req->route->body_max > DISCARD_MAX) {
        req->answer_now = true;
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Percent-decodes the path or a query value in place. A decoded NUL would
 * silently cut the C string ("/static/app.css%00.js" serving the CSS), so
 * every control character becomes a DEL, which the request checks then
 * refuse with 400. The rest of the text stays, so a refused API path still
 * starts with "/api/" and gets a JSON answer.
 */
static size_t
unescape_cb(void *cls, struct MHD_Connection *conn, char *s)
{
    char *w = s;
    int hi, lo;

    (void)cls;
    (void)conn;
    for (const char *r = s; *r != '\0'; r++) {
        unsigned char c = (unsigned char)*r;

        if (c == '%') {
            hi = hexval(r[1]);
            lo = hi >= 0 ? hexval(r[2]) : -1;
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi * 16 + lo);
                r += 2;
            }
        }
        *w++ = (char)(c < 0x20 ? 0x7f : c);
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* True when v[0..n) holds a control character (a tab only if tab_ok). */
static bool
has_control(const char *v, size_t n, bool tab_ok)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f) {
            return true;
        }
    }
    return false;
}

static enum MHD_Result
value_check(void *cls, enum MHD_ValueKind kind, const char *key,
            size_t key_size, const char *value, size_t value_size)
{
    bool *bad = cls;
    bool tab_ok = kind == MHD_HEADER_KIND;

    if (has_control(key, key_size, false) ||
        has_control(value, value_size, tab_ok) ||
        (value != NULL && strlen(value) != value_size)) {
        *bad = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/*
 * Refuses a request whose decoded path, query, header or cookie holds NUL
 * or another control character (tab allowed in header values).
 */
static bool
req_controls_ok(struct http_req *req, const char *url)
{
    bool bad = has_control(url, strlen(url), false);

    if (!bad) {
        MHD_get_connection_values_n(req->conn,
                                    MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND |
                                        MHD_COOKIE_KIND,
                                    value_check, &bad);
    }
    return !bad;
}

/*
 * RFC 9112 section 3.2: an HTTP/1.1 request without Host is answered 400.
 * (HTTP/1.0 predates Host.)
 */
static bool
req_host_ok(struct http_req *req, const char *version)
{
    return strcmp(version, MHD_HTTP_VERSION_1_1) != 0 ||
           MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_HOST) != NULL;
}

/*
 * A route that takes no body ignores one (RFC 9110 gives a GET body no
 * meaning): it is read and dropped, so the request is still authenticated
 * and answered as usual. Only a body over IGNORED_MAX is refused (413).
 */
static void
req_body_none(struct http_req *req, unsigned long long declared)
{
    if (declared > IGNORED_MAX) {
        req_fail(req, 413, "body_too_large", "request body over the limit");
        req->answer_now = true;
    }
}

static enum MHD_Result
count_authorization(void *cls, enum MHD_ValueKind kind, const char *key,
                    const char *value)
{
    unsigned *n = cls;

    (void)kind;
    (void)value;
    if (key != NULL && strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
        (*n)++;
    }
    return MHD_YES;
}

/* True when the request carries at most one Authorization header. */
static bool
req_one_authorization(struct http_req *req)
{
    unsigned n = 0;

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_authorization,
                              &n);
    return n <= 1;
}

/*
 * MHD hands over the request's URI before decoding it: the only place to
 * see an encoded slash in the path. "/api/v1/enrollments/30%2Fapprove"
 * would otherwise route as ".../30/approve" and slip past a proxy rule on
 * that path. Allocates the request (MHD keeps it as the connection's
 * context) and notes whether the path, not the query, holds "%2F".
 */
static void *
uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_req *req = calloc(1, sizeof(*req));
    size_t n = strcspn(uri, "?");

    (void)cls;
    (void)conn;
    if (req == NULL) {
        return NULL;
    }
    for (size_t i = 0; i + 2 < n; i++) {
        if (uri[i] == '%' && uri[i + 1] == '2' &&
            (uri[i + 2] == 'f' || uri[i + 2] == 'F')) {
            req->slash_escape = true;
        }
    }
    return req;
}

/*
 * First call: route, check the declared length, set up body reading. req is
 * the one uri_log_cb allocated, or NULL; freed on failure.
 */
static struct http_req *
req_begin(struct http_server *srv, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, struct http_req *req)
{
    bool path_known = false;
    unsigned long long declared;

    if (req == NULL) {
        req = calloc(1, sizeof(*req));
    }
    if (req == NULL) {
        return NULL;
    }
    req->begun = true;
    req->srv = srv;
    req->conn = conn;
    snprintf(req->method, sizeof(req->method), "%s", method);
    req->path = strdup(url);
    if (req->path == NULL) {
        free(req);
        return NULL;
    }
    set_peer(req);
    if (!req_controls_ok(req, url)) {
        req_fail(req, 400, "bad_request",
                 "control character (or NUL) in the path, query or a header");
        return req;
    }
    if (req->slash_escape) {
        req_fail(req, 404, "not_found",
                 "encoded slash (%2F) in the path: no such page");
        return req;
    }
    if (!req_one_authorization(req)) {
        req_fail(req, 400, "bad_request", "more than one Authorization header");
        return req;
    }
    if (!req_host_ok(req, version)) {
        req_fail(req, 400, "bad_request", "HTTP/1.1 request without Host");
        return req;
    }
    req->route =
        route_find(srv->cfg->routes, method, url, req->segs, &path_known);
    if (req->route == NULL) {
        if (path_known) {
            req_fail(req, 405, "method_not_allowed",
                     "method not allowed for this path");
        } else {
            req_fail(req, 404, "not_found", "no such page");
        }
        return req;
    }
    declared = declared_length(req);
    if (req->route->body == HTTP_BODY_NONE) {
        req_body_none(req, declared);
        return req;
    }
    if (declared > req->route->body_max) {
        refuse_declared(req, declared);
        return req;
    }
    if (req->route->body == HTTP_BODY_RAW) {
        hbuf_init(&req->body, req->route->body_max);
        return req;
    }
    req->pp = MHD_create_post_processor(conn, PP_BUFFER, post_iter, req);
    if (req->pp == NULL) {
        req_fail(req, 415, "unsupported_media_type",
                 "expected a form (urlencoded or multipart)");
    }
    return req;
}

/*
 * A form field given twice ("name=D6&name=D7", two csrf_token) is refused
 * rather than one of them silently winning; only uploaded files share a
 * name.
 */
static bool
req_fields_unique(struct http_req *req)
{
    for (size_t i = 0; i < req->nfields; i++) {
        for (size_t j = 0; j < i; j++) {
            if (req->fields[i].filename == NULL &&
                req->fields[j].filename == NULL &&
                strcmp(req->fields[i].name, req->fields[j].name) == 0) {
                snprintf(req->fail_text, sizeof(req->fail_text),
                         "form field \"%.60s\" given more than once",
                         req->fields[i].name);
                req_fail(req, 400, "bad_form", req->fail_text);
                return false;
            }
        }
    }
    return true;
}

/* Takes size bytes of body. Returns false to drop the connection. */
static bool
req_data(struct http_req *req, const char *data, size_t size)
{
    req->seen += size;
    if (req->state == REQ_DISCARDING) {
        return req->route == NULL ||
               req->seen - size <= req->route->body_max + DISCARD_MAX;
    }
    if (req->state != REQ_READING) {
        return true;
    }
    if (req->route != NULL && req->route->body == HTTP_BODY_NONE) {
        if (req->seen > IGNORED_MAX) {
            req_fail(req, 413, "body_too_large", "request body over the limit");
        }
        return true;
    }
    if (req->route == NULL || req->seen > req->route->body_max) {
        req_fail(req, 413, "body_too_large", "request body over the limit");
        return true;
    }
    if (req->route->body == HTTP_BODY_RAW) {
        hbuf_put(&req->body, data, size);
        if (req->body.failed) {
            req_fail(req, 413, "body_too_large", "request body over the limit");
        }
        return true;
    }
    if (MHD_post_process(req->pp, data, size) != MHD_YES &&
        req->state == REQ_READING) {
        req_fail(req, 400, "bad_form", "malformed form body");
    }
    return true;
}

static void
req_finish(struct http_req *req)
{
    const struct http_config *cfg = req->srv->cfg;

    if (req->state == REQ_READING && req->pp != NULL) {
        MHD_destroy_post_processor(req->pp);
        req->pp = NULL;
        for (size_t i = 0; i < req->nfields; i++) {
            struct field *f = &req->fields[i];

            if (f->data.p == NULL) {
                hbuf_put(&f->data, "", 0);
            }
            req->pub[i].name = f->name;
            req->pub[i].filename = f->filename;
            req->pub[i].data = f->data.p;
            req->pub[i].len = f->data.len;
        }
        req->form_ready = req_fields_unique(req);
    }
    if (req->state != REQ_READING) {
        send_error(req, req->fail_status, req->fail_code, req->fail_msg);
        return;
    }
    if (cfg->dispatch != NULL) {
        cfg->dispatch(cfg->app, req, req->route);
    }
    if (!req->answered) {
        req->route->fn(req);
    }
    if (!req->answered) {
        log_warnx("%s %s: handler sent no answer", req->method, req->path);
        http_reply_text(req, 500, "internal error\n");
    }
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_req *req = *con_cls;

    if (req == NULL || !req->begun) {
        *con_cls = NULL;
        req = req_begin(srv, conn, url, method, version, req);
        if (req == NULL) {
            return MHD_NO;
        }
        *con_cls = req;
        if (req->route != NULL && req->route->body != HTTP_BODY_NONE) {
            /* A body may take longer than headers; a slow one still ends.
             * XXX: libmicrohttpd 0.9.75 has no absolute deadline for the
             * header phase, only this idle timeout; the per-address and
             * total connection limits bound a slow-header client. */
            MHD_set_connection_option(
                conn, MHD_CONNECTION_OPTION_TIMEOUT,
                srv->cfg->body_timeout > 0 ? srv->cfg->body_timeout : 30u);
        }
        /*
         * A request refused from its headers alone (no route, a declared
         * length far over the cap) is answered now: MHD then closes the
         * connection without reading a body.
         */
        if (req->state == REQ_FAILED || req->answer_now) {
            send_error(req, req->fail_status, req->fail_code, req->fail_msg);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (req->answered) {
            return MHD_YES;
        }
        return req_data(req, upload_data, n) ? MHD_YES : MHD_NO;
    }
    if (!req->answered) {
        req_finish(req);
    }
    return MHD_YES;
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_free(*con_cls);
    *con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_warnx("http: %s", msg);
}

enum latch_status
http_start(const struct http_config *cfg, struct http_server **out,
           struct latch_err *err)
{
    struct http_server *s = NULL;
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *di = NULL;
    bool v6 = false;
    unsigned flags;
    enum latch_status st;

    *out = NULL;
    st = http_parse_listen(cfg->listen, &ss, &v6, err);
    if (st != LATCH_OK) {
        return st;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "http: out of memory");
    }
    s->cfg = cfg;
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (v6) {
        flags |= MHD_USE_IPv6;
    }
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads > 0 ? cfg->threads : 4u,
        MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->idle_timeout > 0 ? cfg->idle_timeout : 10u,
        MHD_OPTION_CONNECTION_LIMIT,
        cfg->conn_limit > 0 ? cfg->conn_limit : 256u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->per_ip_limit > 0 ? cfg->per_ip_limit : 64u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_MAX,
        MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, NULL, MHD_OPTION_END);
    if (s->d == NULL) {
        free(s);
        return latch_err_set(err, LATCH_E_IO,
                             "http: cannot listen on %s (in use, or not an "
                             "address of this machine)",
                             cfg->listen);
    }
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : 0;
    *out = s;
    return LATCH_OK;
}

unsigned
http_port(const struct http_server *s)
{
    return s->port;
}

void
http_stop(struct http_server *s)
{
    if (s == NULL) {
        return;
    }
    if (s->d != NULL) {
        MHD_stop_daemon(s->d);
    }
    free(s);
}

/* --- request accessors ------------------------------------------------ */

const char *
http_req_method(const struct http_req *r)
{
    return r->method;
}

const char *
http_req_path(const struct http_req *r)
{
    return r->path;
}

const char *
http_req_seg(const struct http_req *r, int i)
{
    if (i < 0 || i >= HTTP_SEG_MAX) {
        return NULL;
    }
    return r->segs[i];
}

const char *
http_req_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_walk {
    http_query_fn fn;
    void *cls;
    bool stop;
};

static enum MHD_Result
query_step(void *cls, enum MHD_ValueKind kind, const char *key,
           const char *value)
{
    struct query_walk *w = cls;

    (void)kind;
    if (w->stop || !w->fn(w->cls, key != NULL ? key : "", value)) {
        w->stop = true;
        return MHD_NO;
    }
    return MHD_YES;
}

size_t
http_req_queries(const struct http_req *r, http_query_fn fn, void *cls)
{
    struct query_walk w = {fn, cls, false};
    int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
                                      query_step, &w);

    return n > 0 ? (size_t)n : 0;
}

const char *
http_req_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_req_cookie(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *
http_req_peer(const struct http_req *r)
{
    return r->peer;
}

const struct http_route *
http_req_route(const struct http_req *r)
{
    return r->route;
}

void *
http_req_app(const struct http_req *r)
{
    return r->srv->cfg->app;
}

const char *
http_req_body(const struct http_req *r, size_t *len)
{
    if (len != NULL) {
        *len = r->body.len;
    }
    return r->body.p != NULL ? r->body.p : "";
}

const char *
http_req_form(const struct http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++) {
        if (r->pub[i].filename == NULL && r->pub[i].name != NULL &&
            strcmp(r->pub[i].name, name) == 0) {
            return r->pub[i].data;
        }
    }
    return NULL;
}

size_t
http_req_nfields(const struct http_req *r)
{
    return r->form_ready ? r->nfields : 0;
}

const struct http_field *
http_req_field(const struct http_req *r, size_t i)
{
    if (i >= http_req_nfields(r)) {
        return NULL;
    }
    return &r->pub[i];
}

void
http_req_set_user(struct http_req *r, void *user, void (*free_fn)(void *))
{
    if (r->user_free != NULL) {
        r->user_free(r->user);
    }
    r->user = user;
    r->user_free = free_fn;
}

void *
http_req_user(const struct http_req *r)
{
    return r->user;
}

bool
http_req_answered(const struct http_req *r)
{
    return r->answered;
}

/* --- responses ---------------------------------------------------------- */

static bool
header_value_ok(const char *v)
{
    for (; *v != '\0'; v++) {
        if ((unsigned char)*v < 0x20 && *v != '\t') {
            return false;
        }
        if (*v == 0x7f) {
            return false;
        }
    }
    return true;
}

void
http_add_header(struct http_req *r, const char *name, const char *value)
{
    struct hdr *h = NULL;

    if (!header_value_ok(name) || !header_value_ok(value)) {
        log_warnx("%s %s: dropped header %s with a control character",
                  r->method, r->path, name);
        return;
    }
    if (r->nhdrs >= HEADERS_MAX) {
        log_warnx("%s %s: too many response headers", r->method, r->path);
        return;
    }
    h = &r->hdrs[r->nhdrs];
    h->name = strdup(name);
    h->value = strdup(value);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return;
    }
    r->nhdrs++;
}

static void
queue(struct http_req *r, unsigned status, const char *ctype, const void *body,
      size_t len, bool cacheable)
{
    struct MHD_Response *resp = NULL;

    if (r->answered) {
        return;
    }
    r->answered = true;
    resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
                                           MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        log_warnx("%s %s: cannot create a response", r->method, r->path);
        return;
    }
    if (ctype != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    }
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
                            "same-origin");
    MHD_add_response_header(resp, "Cache-Control",
                            cacheable ? "public, max-age=3600" : "no-store");
    for (size_t i = 0; i < r->nhdrs; i++) {
        MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
    }
    if (MHD_queue_response(r->conn, status, resp) != MHD_YES) {
        log_warnx("%s %s: cannot queue the %u response", r->method, r->path,
                  status);
    }
    MHD_destroy_response(resp);
}

void
http_reply(struct http_req *r, unsigned status, const char *ctype,
           const void *body, size_t len)
{
    queue(r, status, ctype, body, len, false);
}

void
http_reply_buf(struct http_req *r, unsigned status, const char *ctype,
               struct hbuf *b)
{
    if (b->failed) {
        hbuf_free(b);
        log_warnx("%s %s: response over its size cap or out of memory",
                  r->method, r->path);
        http_reply_text(r, 500, "internal error: response too large\n");
        return;
    }
    queue(r, status, ctype, b->p != NULL ? b->p : "", b->len, false);
    hbuf_free(b);
}

void
http_reply_static(struct http_req *r, const char *ctype, const void *body,
                  size_t len)
{
    queue(r, 200, ctype, body, len, true);
}

void
http_redirect(struct http_req *r, const char *path)
{
    if (path[0] != '/' || path[1] == '/' || path[1] == '\\') {
        path = "/";
    }
    http_add_header(r, "Location", path);
    queue(r, 303, "text/plain; charset=utf-8", "", 0, false);
}

void
http_reply_text(struct http_req *r, unsigned status, const char *text)
{
    queue(r, status, "text/plain; charset=utf-8", text, strlen(text), false);
}
