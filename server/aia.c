/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * aia.c: the one place latchd talks to the network on its own: fetching a
 * missing issuer certificate from a caIssuers URL, with libcurl held to
 * http/https, no redirects, a byte cap, a time cap, a minimum speed and
 * an address check on every socket before it connects. The response body
 * is never shown: only what it was (certificates, HTML, too big).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "aia.h"
#include "ekcert.h"

#define AIA_LOW_SPEED_DEFAULT 1024
#define AIA_LOW_SPEED_TIME    2

struct fetch {
    const struct aia_config *cfg;
    aia_progress_fn progress;
    void *parg;
    unsigned char *body;
    size_t len;
    size_t cap;
    bool too_big;
    bool refused;
    char refused_msg[160];
};

static void say(struct fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct fetch *f, const char *fmt, ...)
{
    char msg[LATCH_CHECK_DETAIL_MAX];
    va_list ap;

    if (f->progress == NULL) {
        return;
    }
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0) {
        msg[0] = '\0';
    }
    va_end(ap);
    f->progress(f->parg, msg);
}

enum latch_status
aia_global_init(struct latch_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return latch_err_set(err, LATCH_E_INTERNAL, "curl_global_init");
    }
    return LATCH_OK;
}

enum latch_status
aia_url_normalize(const char *in, char *out, size_t cap, struct latch_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char unsafe[] = " \"<>\\^`{|}";
    size_t o = 0;
    const unsigned char *p;

    for (p = (const unsigned char *)in; *p != '\0'; p++) {
        bool enc = *p > 0x7e || strchr(unsafe, *p) != NULL;

        if (*p < 0x20 || *p == 0x7f) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "AIA URL contains control character 0x%02x",
                                 *p);
        }
        if (o + (enc ? 3 : 1) >= cap) {
            return latch_err_set(err, LATCH_E_FORMAT,
                                 "AIA URL longer than %zu bytes", cap - 1);
        }
        if (enc) {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    return LATCH_OK;
}

/* NULL when the address may be contacted, else what kind it is. */
static const char *
v4_kind(uint32_t a)
{
    if ((a >> 24) == 127) {
        return "loopback";
    }
    if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8) {
        return "private";
    }
    if ((a >> 16) == 0xa9fe) {
        return "link-local";
    }
    if ((a >> 24) == 0) {
        return "unspecified";
    }
    if ((a >> 22) == (100u << 2 | 1u)) {
        return "shared (carrier-grade NAT)";
    }
    if ((a >> 28) == 0xe) {
        return "multicast";
    }
    if ((a >> 28) == 0xf) {
        return "reserved";
    }
    if ((a >> 8) == 0xc00000 || (a >> 8) == 0xc00002 || (a >> 8) == 0xc63364 ||
        (a >> 8) == 0xcb0071 || (a >> 17) == (0xc612u >> 1)) {
        return "special-purpose";
    }
    return NULL;
}

static const char *
v6_kind(const unsigned char *b)
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (memcmp(b, zero, 15) == 0 && b[15] == 1) {
        return "loopback";
    }
    if (memcmp(b, zero, 16) == 0) {
        return "unspecified";
    }
    if (memcmp(b, mapped, 12) == 0) {
        uint32_t a = ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) |
                     ((uint32_t)b[14] << 8) | b[15];

        return v4_kind(a);
    }
    if ((b[0] & 0xfe) == 0xfc) {
        return "private (unique local)";
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        return "link-local";
    }
    if (b[0] == 0xff) {
        return "multicast";
    }
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
        return "documentation";
    }
    return NULL;
}

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct fetch *f = arg;
    char text[INET6_ADDRSTRLEN] = "?";
    const char *kind = NULL;

    if (purpose != CURLSOCKTYPE_IPCXN) {
        return CURL_SOCKET_BAD;
    }
    if (addr->family == AF_INET) {
        const struct sockaddr_in *sin = (const void *)&addr->addr;

        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
        kind = v4_kind(ntohl(sin->sin_addr.s_addr));
    } else if (addr->family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const void *)&addr->addr;

        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
        kind = v6_kind(sin6->sin6_addr.s6_addr);
    } else {
        kind = "not an internet address";
    }
    if (kind != NULL && !f->cfg->allow_private) {
        f->refused = true;
        if (snprintf(f->refused_msg, sizeof(f->refused_msg),
                     "address %s is %s (refused)", text, kind) < 0) {
            f->refused_msg[0] = '\0';
        }
        return CURL_SOCKET_BAD;
    }
    say(f, "connecting to %s", text);
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;
    size_t len = size * n;

    if (len > f->cap - f->len) {
        f->too_big = true;
        return 0; /* aborts the transfer */
    }
    memcpy(f->body + f->len, data, len);
    f->len += len;
    return len;
}

static bool
host_allowed(const char *list, const char *host)
{
    const char *p = list;
    size_t hl = strlen(host);

    if (list == NULL || list[0] == '\0') {
        return true;
    }
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t n;

        if (e == NULL) {
            e = p + strlen(p);
        }
        while (p < e && *p == ' ') {
            p++;
        }
        n = (size_t)(e - p);
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        if (n == hl && strncasecmp(p, host, n) == 0) {
            return true;
        }
        p = *e == ',' ? e + 1 : e;
    }
    return false;
}

/* Scheme and host checks before anything touches the network. */
static enum latch_status
check_url(const struct aia_config *cfg, const char *url, struct latch_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    char *host = NULL;
    enum latch_status st = LATCH_OK;

    if (u == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "curl_url");
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        st = latch_err_set(err, LATCH_E_FORMAT, "AIA URL %.120s: malformed",
                           url);
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "AIA URL %.120s: scheme %.20s refused (http and "
                           "https only)",
                           url, scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        st = latch_err_set(err, LATCH_E_FORMAT, "AIA URL %.120s: no host", url);
        goto out;
    }
    if (!host_allowed(cfg->allow_hosts, host)) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "AIA URL %.120s: host %.100s is not in the AIA "
                           "host allowlist",
                           url, host);
    }

out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return st;
}

static enum latch_status
resolve_list(const char *spec, struct curl_slist **out, struct latch_err *err)
{
    const char *p = spec;

    *out = NULL;
    while (p != NULL && *p != '\0') {
        const char *e = strchr(p, ',');
        char item[256];
        size_t n;
        struct curl_slist *nl;

        if (e == NULL) {
            e = p + strlen(p);
        }
        n = (size_t)(e - p);
        if (n >= sizeof(item)) {
            curl_slist_free_all(*out);
            *out = NULL;
            return latch_err_set(err, LATCH_E_USAGE,
                                 "AIA resolve/connect-to entry too long");
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (n > 0) {
            nl = curl_slist_append(*out, item);
            if (nl == NULL) {
                curl_slist_free_all(*out);
                *out = NULL;
                return latch_err_set(err, LATCH_E_NOMEM, "curl_slist_append");
            }
            *out = nl;
        }
        p = *e == ',' ? e + 1 : e;
    }
    return LATCH_OK;
}

static bool
is_html(const char *ctype, const unsigned char *b, size_t n)
{
    size_t i = 0;

    if (ctype != NULL && strncasecmp(ctype, "text/html", 9) == 0) {
        return true;
    }
    while (i < n &&
           (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
        i++;
    }
    return i < n && b[i] == '<';
}

static enum latch_status
setup(CURL *h, struct fetch *f, const char *url, struct curl_slist *res,
      struct curl_slist *cto, char *errbuf)
{
    const struct aia_config *c = f->cfg;
    long tmo = c->timeout_ms > 0 ? c->timeout_ms : AIA_TIMEOUT_MS_DEFAULT;
    long slow = c->low_speed_bps > 0 ? c->low_speed_bps : AIA_LOW_SPEED_DEFAULT;
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK) {                                                  \
            rc = curl_easy_setopt(h, opt, val);                                \
        }                                                                      \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_MAXREDIRS, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, tmo);
    SET(CURLOPT_CONNECTTIMEOUT_MS, tmo);
    SET(CURLOPT_LOW_SPEED_LIMIT, slow);
    SET(CURLOPT_LOW_SPEED_TIME, (long)AIA_LOW_SPEED_TIME);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->cap);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, f);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, f);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_USERAGENT, "latchd-aia/1");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL) {
        SET(CURLOPT_CAINFO, c->ca_file);
    }
    if (res != NULL) {
        SET(CURLOPT_RESOLVE, res);
    }
    if (cto != NULL) {
        SET(CURLOPT_CONNECT_TO, cto);
    }
#undef SET
    return rc == CURLE_OK ? LATCH_OK : LATCH_E_INTERNAL;
}

static enum latch_status
transfer_error(struct fetch *f, CURLcode rc, const char *url,
               const char *errbuf, struct latch_err *err)
{
    if (f->refused) {
        return latch_err_set(err, LATCH_E_POLICY, "AIA %.120s: %s", url,
                             f->refused_msg);
    }
    if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "AIA %.120s: body larger than %zu bytes "
                             "(refused)",
                             url, f->cap);
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        return latch_err_set(err, LATCH_E_IO,
                             "AIA %.120s: too slow or timed out (%.160s)", url,
                             errbuf[0] ? errbuf : "timeout");
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
        return latch_err_set(err, LATCH_E_POLICY,
                             "AIA %.120s: protocol refused (http and https "
                             "only)",
                             url);
    }
    return latch_err_set(err, LATCH_E_IO, "AIA %.120s: %s (%.160s)", url,
                         curl_easy_strerror(rc), errbuf);
}

enum latch_status
aia_fetch(const struct aia_config *cfg, const char *url, STACK_OF(X509) * out,
          aia_progress_fn progress, void *progress_arg, struct latch_err *err)
{
    struct fetch f;
    struct curl_slist *res = NULL;
    struct curl_slist *cto = NULL;
    CURL *h = NULL;
    char errbuf[CURL_ERROR_SIZE];
    char *ctype = NULL;
    long code = 0;
    size_t nrej = 0;
    int before;
    CURLcode rc;
    enum latch_status st;

    memset(&f, 0, sizeof(f));
    errbuf[0] = '\0';
    f.cfg = cfg;
    f.progress = progress;
    f.parg = progress_arg;
    f.cap = cfg->max_bytes > 0 ? cfg->max_bytes : AIA_MAX_BYTES_DEFAULT;
    if (!cfg->enabled) {
        return latch_err_set(err, LATCH_E_POLICY, "AIA fetching is off");
    }
    say(&f, "fetching issuer certificate from %s", url);
    st = check_url(cfg, url, err);
    if (st != LATCH_OK) {
        say(&f, "%s", err != NULL ? err->msg : "AIA URL refused");
        return st;
    }
    st = resolve_list(cfg->resolve, &res, err);
    if (st == LATCH_OK) {
        st = resolve_list(cfg->connect_to, &cto, err);
    }
    if (st != LATCH_OK) {
        curl_slist_free_all(res);
        return st;
    }
    f.body = malloc(f.cap);
    h = curl_easy_init();
    if (f.body == NULL || h == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "AIA: allocation");
        goto out;
    }
    if (setup(h, &f, url, res, cto, errbuf) != LATCH_OK) {
        st = latch_err_set(err, LATCH_E_INTERNAL, "AIA: curl options");
        goto out;
    }
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        st = transfer_error(&f, rc, url, errbuf, err);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    say(&f, "received %zu bytes, HTTP %ld, %s", f.len, code,
        ctype != NULL ? ctype : "no content type");
    if (code >= 300 && code < 400) {
        char *loc = NULL;

        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        st = latch_err_set(err, LATCH_E_POLICY,
                           "AIA %.120s: redirect refused (HTTP %ld to "
                           "%.120s)",
                           url, code, loc != NULL ? loc : "?");
        goto out;
    }
    if (is_html(ctype, f.body, f.len)) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "AIA %.120s: HTTP %ld returned an HTML page, not "
                           "a certificate",
                           url, code);
        goto out;
    }
    if (code != 200) {
        st = latch_err_set(err, LATCH_E_IO, "AIA %.120s: HTTP %ld", url, code);
        goto out;
    }
    before = sk_X509_num(out);
    if (ek_certs_from_buf(f.body, f.len, out, &nrej, NULL, err) != LATCH_OK) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "AIA %.120s: body (%zu bytes) is not a DER, PEM "
                           "or PKCS#7 certificate",
                           url, f.len);
        goto out;
    }
    say(&f, "%d certificate(s) read from %s", sk_X509_num(out) - before, url);
    st = LATCH_OK;

out:
    if (st != LATCH_OK && err != NULL) {
        say(&f, "%s", err->msg);
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(res);
    curl_slist_free_all(cto);
    free(f.body);
    return st;
}
