/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * http.h: latchd's one wrapper around libmicrohttpd. It binds the listen
 * address, routes method + path patterns to handlers, enforces body caps
 * while reading (a too large body gets 413 without being buffered), parses
 * form bodies with MHD's post processor, and adds the security headers to
 * every response. Nothing outside http.c sees a libmicrohttpd type.
 *
 * Threading: handlers run on MHD's pool threads, several at once; a
 * request object belongs to the one thread running its handler.
 */
#ifndef LATCHD_HTTP_H
#define LATCHD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "html.h"

struct http_server;
struct http_req;
struct http_route;

typedef void (*http_handler_fn)(struct http_req *req);

/*
 * Called for every routed request before the route's handler, with the
 * route that matched. It may answer the request itself (refusing it); when
 * it has not answered, the handler runs. Runs after the body was read.
 */
typedef void (*http_dispatch_fn)(void *app, struct http_req *req,
                                 const struct http_route *route);

/*
 * Renders an error the wrapper found itself (404, 405, 413, 415, 400 for a
 * malformed form) in the application's format. code is a stable token
 * ("not_found", "method_not_allowed", "body_too_large", ...). When NULL,
 * a short plain-text answer is sent.
 */
typedef void (*http_error_fn)(void *app, struct http_req *req, unsigned status,
                              const char *code, const char *message);

/* How a route's body is read. */
enum http_body {
    HTTP_BODY_NONE = 0, /* a body is ignored (over 64 KiB: 413) */
    HTTP_BODY_RAW,      /* kept as bytes, up to body_max */
    HTTP_BODY_FORM      /* urlencoded or multipart, through MHD's parser */
};

/*
 * A route. pattern is a path whose segments are literal or "*" (one
 * non-empty segment, available as http_req_seg()); there are no prefix
 * wildcards: every page has its exact shape. A path that matches a
 * pattern of another method only gets 405 with an Allow header.
 */
struct http_route {
    const char *method; /* "GET" (also answers HEAD), "POST", "DELETE" */
    const char *pattern;
    http_handler_fn fn;
    enum http_body body;
    size_t body_max; /* whole request body, bytes */
    size_t file_max; /* HTTP_BODY_FORM: each uploaded file, bytes */
    int role;        /* for the dispatcher: minimum role, or -1 public */
    unsigned flags;  /* for the dispatcher */
};

struct http_config {
    const char *listen; /* "127.0.0.1:8080", "[::1]:8080"; port 0 = any */
    unsigned threads;   /* pool size; 0 = 4 */
    /* Seconds without traffic before the connection is dropped: while
     * headers arrive and between keep-alive requests (0 = 10), and while a
     * request body arrives (0 = 30). */
    unsigned idle_timeout;
    unsigned body_timeout;
    unsigned conn_limit;             /* 0 = 256 */
    unsigned per_ip_limit;           /* 0 = 64 */
    const struct http_route *routes; /* ends with a NULL method */
    http_dispatch_fn dispatch;       /* NULL: handlers run directly */
    http_error_fn error;             /* NULL: plain text */
    void *app;
};

#define HTTP_SEG_MAX    4
#define HTTP_FIELDS_MAX 64
#define HTTP_FIELD_MAX  (16u << 10) /* a non-file form value */

/* One form field or uploaded file of an HTTP_BODY_FORM request. */
struct http_field {
    const char *name;
    const char *filename; /* NULL for plain fields */
    const char *data;     /* NUL-terminated (files may hold NULs) */
    size_t len;
};

/*
 * Parses "ADDR:PORT" (numeric IPv4, or IPv6 in brackets; the port in
 * decimal digits, 0..65535); LATCH_E_USAGE naming what is wrong.
 */
enum latch_status http_parse_listen(const char *listen,
                                    struct sockaddr_storage *ss, bool *v6,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Starts the server: binds cfg->listen and starts the thread pool.
 * LATCH_E_USAGE for an unparsable address, LATCH_E_IO when binding fails.
 * cfg (and its route table) must outlive the server.
 */
enum latch_status http_start(const struct http_config *cfg,
                             struct http_server **out, struct latch_err *err)
    __attribute__((warn_unused_result));

/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http_server *s);

/* Stops accepting, waits for running handlers, frees. NULL is fine. */
void http_stop(struct http_server *s);

/* --- request ------------------------------------------------------------ */

const char *http_req_method(const struct http_req *r);
const char *http_req_path(const struct http_req *r);
/* The i-th "*" segment of the matched pattern (URL-decoded), or NULL. */
const char *http_req_seg(const struct http_req *r, int i);
/* A query-string value, or NULL (also for a bare "?name"). */
const char *http_req_query(const struct http_req *r, const char *name);
/*
 * Calls fn for each query parameter in order; value is NULL for a bare
 * "?name". Stops early when fn returns false. Returns the number of
 * parameters visited.
 */
typedef bool (*http_query_fn)(void *cls, const char *name, const char *value);
size_t http_req_queries(const struct http_req *r, http_query_fn fn, void *cls);
/* A request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* A cookie value, or NULL. */
const char *http_req_cookie(const struct http_req *r, const char *name);
/* The client address as text ("127.0.0.1", "::1"). */
const char *http_req_peer(const struct http_req *r);
/* The matched route. */
const struct http_route *http_req_route(const struct http_req *r);
/* The application pointer given in http_config. */
void *http_req_app(const struct http_req *r);

/* HTTP_BODY_RAW: the body bytes (NUL-terminated; len excludes the NUL). */
const char *http_req_body(const struct http_req *r, size_t *len);

/* HTTP_BODY_FORM: the first plain field with this name, or NULL. */
const char *http_req_form(const struct http_req *r, const char *name);
/* HTTP_BODY_FORM: the number of fields and files, and the i-th of them. */
size_t http_req_nfields(const struct http_req *r);
const struct http_field *http_req_field(const struct http_req *r, size_t i);

/*
 * A per-request slot for the dispatcher (e.g. the signed-in principal). The
 * pointer is freed with free_fn when the request ends.
 */
void http_req_set_user(struct http_req *r, void *user, void (*free_fn)(void *));
void *http_req_user(const struct http_req *r);

/* True once a response has been queued. */
bool http_req_answered(const struct http_req *r);

/* --- response ----------------------------------------------------------- */

/*
 * Adds a response header for the answer to come (Set-Cookie, Location,
 * Content-Disposition, HX-*). Values are checked for CR/LF; a bad one is
 * dropped and logged. Copies both strings.
 */
void http_add_header(struct http_req *r, const char *name, const char *value);

/*
 * Answers with status, content type and body (copied). Adds the security
 * headers; pages (text/html) and API answers get Cache-Control: no-store.
 * A second answer for the same request is ignored.
 */
void http_reply(struct http_req *r, unsigned status, const char *ctype,
                const void *body, size_t len);

/*
 * Answers with the contents of b (taken; b is left empty). A failed buffer
 * (over its cap, out of memory) turns into a 500.
 */
void http_reply_buf(struct http_req *r, unsigned status, const char *ctype,
                    struct hbuf *b);

/* Static assets: cacheable for an hour, same security headers. */
void http_reply_static(struct http_req *r, const char *ctype, const void *body,
                       size_t len);

/* 303 See Other to a local path (must start with '/'). */
void http_redirect(struct http_req *r, const char *path);

/* Short plain-text answer ("forbidden\n") for errors outside pages/API. */
void http_reply_text(struct http_req *r, unsigned status, const char *text);

#endif /* LATCHD_HTTP_H */
