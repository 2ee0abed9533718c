/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * web_signin.c: the sign-in page, sign-in and sign-out. A sign-in always
 * creates a new session id (and drops the one the browser had), so a
 * planted cookie never becomes a signed-in session.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "web.h"

static void
signin_form(struct http_req *r, unsigned status, const char *problem,
            const char *name)
{
    struct hbuf b;

    hbuf_init(&b, HBUF_PAGE_MAX);
    web_page_begin(&b, r, "Sign in", NULL);
    html_raw(&b, "<div class=\"signin panel\">\n<h1>Sign in</h1>\n");
    if (problem != NULL) {
        html_fmt(&b, "<div class=\"banner bad\" role=\"alert\">%s</div>\n",
                 problem);
    }
    html_raw(&b, "<form method=\"post\" action=\"/signin\">\n"
                 "<label for=\"name\">User name</label>\n"
                 "<input type=\"text\" id=\"name\" name=\"name\" "
                 "autocomplete=\"username\" required autofocus");
    if (name != NULL) {
        html_fmt(&b, " value=\"%s\"", name);
    }
    html_raw(&b, ">\n<label for=\"password\">Password</label>\n"
                 "<input type=\"password\" id=\"password\" name=\"password\" "
                 "autocomplete=\"current-password\" required>\n"
                 "<button type=\"submit\">Sign in</button>\n</form>\n"
                 "<p class=\"muted small\">Accounts are created by an "
                 "administrator with <code>latchd user add</code>.</p>\n"
                 "</div>\n");
    web_page_end(r, &b, status);
}

void
web_signin_get(struct http_req *r)
{
    if (web_can(r, AUTH_VIEWER)) {
        http_redirect(r, "/");
        return;
    }
    signin_form(r, 200, NULL, NULL);
}

static void
set_cookie(struct http_req *r, const char *value, bool clear)
{
    char c[256];
    int n;

    n = snprintf(c, sizeof(c), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
                 web_cookie_name(r), value,
                 web_cookie_secure(r) ? "; Secure" : "",
                 clear ? "; Max-Age=0" : "");
    if (n > 0 && (size_t)n < sizeof(c)) {
        http_add_header(r, "Set-Cookie", c);
    }
    OPENSSL_cleanse(c, sizeof(c));
}

void
web_signin_post(struct http_req *r)
{
    const char *name = http_req_form(r, "name");
    const char *password = http_req_form(r, "password");
    const char *old = http_req_cookie(r, web_cookie_name(r));
    struct auth_principal p;
    enum auth_signin_result res = AUTH_SIGNIN_BAD;
    struct latch_err err;
    struct db *db = NULL;
    char sid[AUTH_SID_LEN];
    char msg[128];
    int64_t retry = 0;
    enum latch_status st;

    latch_err_clear(&err);
    if (name == NULL || password == NULL) {
        signin_form(r, 400, "Enter a user name and a password.", name);
        return;
    }
    db = web_db(r);
    if (db == NULL) {
        return;
    }
    st = auth_signin(db, name, password, http_req_peer(r), web_limits(r), &res,
                     &retry, sid, &p, &err);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    if (res == AUTH_SIGNIN_THROTTLED) {
        snprintf(msg, sizeof(msg), "%lld", (long long)retry);
        http_add_header(r, "Retry-After", msg);
        snprintf(msg, sizeof(msg),
                 "Too many failed sign-ins. Try again in %lld seconds.",
                 (long long)retry);
        signin_form(r, 429, msg, name);
        return;
    }
    if (res != AUTH_SIGNIN_OK) {
        signin_form(r, 401, "Wrong user name or password.", name);
        return;
    }
    if (old != NULL) {
        /* The browser's previous session (if any) ends here. */
        if (auth_signout(db, old, p.actor, &err) != LATCH_OK) {
            fprintf(stderr, "latchd: sign-in: dropping the old session: %s\n",
                    err.msg);
        }
    }
    set_cookie(r, sid, false);
    OPENSSL_cleanse(sid, sizeof(sid));
    OPENSSL_cleanse(&p, sizeof(p));
    http_redirect(r, "/");
}

void
web_signout(struct http_req *r)
{
    const char *sid = http_req_cookie(r, web_cookie_name(r));
    struct latch_err err;
    struct db *db = web_db(r);
    enum latch_status st;

    latch_err_clear(&err);
    if (db == NULL) {
        return;
    }
    st = auth_signout(db, sid, web_who(r)->actor, &err);
    if (st != LATCH_OK) {
        web_fail(r, st, &err);
        return;
    }
    set_cookie(r, "", true);
    http_redirect(r, "/signin");
}
