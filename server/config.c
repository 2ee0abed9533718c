/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * config.c: DIR/latchd.conf, an INI file read with inih and written back
 * by `latchd init`. Relative paths in it are taken relative to DIR.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cmd.h"
#include "ekcert.h"
#include "fsutil.h"
#include "latchd.h"

#define CONF_MAX 16384

/*
 * Every key latchd.conf may hold. The web keys are read and checked by
 * web.c (web_options_load); here they are only counted, so that a key set
 * twice is refused wherever it belongs.
 */
enum conf_kind { CONF_STR, CONF_INT, CONF_BOOL, CONF_WEB };

struct conf_key {
    const char *section;
    const char *name;
    enum conf_kind kind;
    size_t off; /* of the field in struct latchd_config */
    int lo;
    int hi;
    const char *names; /* CONF_STR that may not be empty: what it names */
};

#define CFG(field) offsetof(struct latchd_config, field)

static const struct conf_key conf_keys[] = {
    {"database", "url", CONF_STR, CFG(database), 0, 0, "a database URL"},
    {"trust", "dir", CONF_STR, CFG(trust_dir), 0, 0, "a directory"},
    {"signing", "key", CONF_STR, CFG(signing_key), 0, 0, "a file"},
    {"signing", "cert", CONF_STR, CFG(signing_cert), 0, 0, "a file"},
    {"http", "listen", CONF_STR, CFG(listen), 0, 0, "an address"},
    {"http", "threads", CONF_WEB, 0, 0, 0, NULL},
    {"http", "cookie_secure", CONF_WEB, 0, 0, 0, NULL},
    {"http", "origin", CONF_WEB, 0, 0, 0, NULL},
    {"session", "idle_minutes", CONF_WEB, 0, 0, 0, NULL},
    {"session", "max_hours", CONF_WEB, 0, 0, 0, NULL},
    {"workers", "count", CONF_INT, CFG(workers), 0, 64, NULL},
    {"aia", "enabled", CONF_BOOL, CFG(aia_enabled), 0, 0, NULL},
    {"aia", "allow", CONF_STR, CFG(aia_allow), 0, 0, NULL},
    {"aia", "timeout", CONF_INT, CFG(aia_timeout), 1, 60, NULL},
    {"aia", "allow_private", CONF_BOOL, CFG(aia_allow_private), 0, 0, NULL},
    {"aia", "resolve", CONF_STR, CFG(aia_resolve), 0, 0, NULL},
    {"aia", "connect_to", CONF_STR, CFG(aia_connect_to), 0, 0, NULL},
    {"validation", "deny_firmware", CONF_STR, CFG(deny_firmware), 0, 0, NULL},
};

#define CONF_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/*
 * The reader's state. inih numbers lines by the calls to the reader, so
 * line is the line of the setting the handler is called for.
 */
struct load_state {
    struct latchd_config *cfg;
    const char *pos;      /* next unread byte of the file */
    const char *end;      /* its end */
    int line;             /* the line the reader returned last */
    bool indented;        /* that line starts with white space */
    bool after_key;       /* inih's prev_name: a setting since the header */
    int last;             /* conf_keys index of the previous setting, or -1 */
    int first[CONF_KEYS]; /* line each key was set on, 0 if not yet */
    int bad_line;         /* line of the first error the handler found */
    char bad[320];
};

static int
set_str(char **dst, const char *value)
{
    char *dup = strdup(value);

    if (dup == NULL) {
        return 0;
    }
    free(*dst);
    *dst = dup;
    return 1;
}

/* Plain decimal digits, no sign or leading zero: the CLI's rule. */
static int
parse_int(const char *value, int lo, int hi, int *out)
{
    struct latch_err sub;
    int64_t v = 0;

    latch_err_clear(&sub);
    if (cmd_parse_num("value", value, lo, hi, &v, &sub) != LATCH_OK) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* Exactly true or false. */
static int
parse_bool(const char *value, bool *out)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        *out = value[0] == 't';
        return 1;
    }
    return 0;
}

/* Records the first error found (inih keeps going). */
static int item_error(struct load_state *ls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
item_error(struct load_state *ls, const char *fmt, ...)
{
    va_list ap;

    if (ls->bad_line == 0) {
        ls->bad_line = ls->line;
        va_start(ap, fmt);
        vsnprintf(ls->bad, sizeof(ls->bad), fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* A [section] line: nothing after the ']', a name inside it. */
static int
header_check(struct load_state *ls, const char *s)
{
    const char *end = strchr(s, ']');

    if (end == NULL) {
        return 1; /* inih's syntax error */
    }
    if (end == s + 1) {
        return item_error(ls, "empty section name");
    }
    if (end[1 + strspn(end + 1, " \t")] != '\0') {
        return item_error(ls,
                          "text after [%.*s]: a section header is alone on "
                          "its line",
                          (int)(end - s - 1), s + 1);
    }
    ls->after_key = false;
    return 1;
}

/*
 * Refuses what inih would read loosely: a ';' after white space (its
 * inline comment), ':' between key and value, text after a header.
 */
static int
line_check(struct load_state *ls, const char *line)
{
    const char *s = line;
    size_t n;

    if (ls->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3; /* inih skips a UTF-8 BOM */
    }
    s += strspn(s, " \t");
    if (*s == '\0' || *s == '#' || *s == ';' || (s != line && ls->after_key)) {
        return 1; /* a comment; an indented line is refused by on_item */
    }
    if (strstr(s, " ;") != NULL || strstr(s, "\t;") != NULL) {
        return item_error(ls, "a ';' after white space would start a "
                              "comment: comments take a whole line");
    }
    if (*s == '[') {
        return header_check(ls, s);
    }
    n = strcspn(s, "=:");
    if (s[n] == ':') {
        return item_error(ls, "':' between key and value (use '='): %.60s", s);
    }
    ls->after_key = ls->after_key || s[n] == '=';
    return 1;
}

/*
 * fgets for inih over the file in memory: refuses a line it would split
 * or misread (NUL byte, CR line ending); the CR of CRLF is dropped.
 */
static char *
next_line(char *str, int num, void *stream)
{
    struct load_state *ls = stream;
    const char *s = ls->pos;
    const char *nl = memchr(s, '\n', (size_t)(ls->end - s));
    size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(ls->end - s);
    size_t len = n > 0 && s[n - 1] == '\r' ? n - 1 : n;

    if (s == ls->end) {
        return NULL;
    }
    ls->line++;
    if (memchr(s, '\0', len) != NULL) {
        item_error(ls, "NUL byte in the line");
        return NULL;
    }
    if (memchr(s, '\r', len) != NULL) {
        item_error(ls, "CR line endings are not supported");
        return NULL;
    }
    if (len + 2 > (size_t)num) {
        item_error(ls, "line longer than %d bytes", num - 2);
        return NULL;
    }
    memcpy(str, s, len);
    str[len] = '\0';
    ls->pos += n + (nl != NULL ? 1 : 0);
    if (!line_check(ls, str)) {
        return NULL;
    }
    str[len] = '\n';
    str[len + 1] = '\0';
    ls->indented = s[0] == ' ' || s[0] == '\t';
    s += strspn(s, " \t");
    if (*s == '[' && !(ls->indented && ls->last >= 0)) {
        ls->last = -1; /* inih's header; indented after a key: a value */
    }
    return str;
}

static int
key_index(const char *section, const char *name, bool *section_known)
{
    size_t i;

    *section_known = false;
    for (i = 0; i < CONF_KEYS; i++) {
        if (strcmp(section, conf_keys[i].section) != 0) {
            continue;
        }
        *section_known = true;
        if (strcmp(name, conf_keys[i].name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int
set_item(struct load_state *ls, const struct conf_key *k, const char *value)
{
    char *field = (char *)ls->cfg + k->off;

    switch (k->kind) {
    case CONF_STR:
        if (k->names != NULL && value[0] == '\0') {
            return item_error(ls, "empty value [%s] %s (%s)", k->section,
                              k->name, k->names);
        }
        if (!set_str((char **)(void *)field, value)) {
            return item_error(ls, "out of memory");
        }
        return 1;
    case CONF_INT:
        if (!parse_int(value, k->lo, k->hi, (int *)(void *)field)) {
            return item_error(ls,
                              "bad value [%s] %s = %.60s (a number from %d "
                              "to %d)",
                              k->section, k->name, value, k->lo, k->hi);
        }
        return 1;
    case CONF_BOOL:
        if (!parse_bool(value, (bool *)(void *)field)) {
            return item_error(ls, "bad value [%s] %s = %.60s (true or false)",
                              k->section, k->name, value);
        }
        return 1;
    case CONF_WEB:
        return 1;
    }
    return 0;
}

static int
on_item(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *ls = user;
    bool section_known = false;
    int k = key_index(section, name, &section_known);
    int cont = ls->indented && k >= 0 && k == ls->last;

    ls->last = k;
    if (cont) {
        /* inih reads an indented line as more of the value above. */
        return item_error(ls,
                          "[%s] %s: an indented line continues the value "
                          "above; values are one line (remove the indent)",
                          section, name);
    }
    if (section[0] == '\0') {
        return item_error(ls, "%.60s is set before any [section]", name);
    }
    if (!section_known) {
        /* A misspelt section or key must stop latchd, not be ignored. */
        return item_error(ls, "unknown section [%.40s]", section);
    }
    if (k < 0) {
        return item_error(ls, "unknown key [%.40s] %.60s", section, name);
    }
    if (ls->first[k] != 0) {
        return item_error(ls, "[%s] %s is set twice (first on line %d)",
                          section, name, ls->first[k]);
    }
    ls->first[k] = ls->line;
    return set_item(ls, &conf_keys[k], value);
}

/* Makes *path absolute relative to dir (a NULL path gets dflt). */
static enum latch_status
absolutize(const char *dir, char **path, const char *dflt,
           struct latch_err *err)
{
    char buf[PATH_MAX];
    const char *p = *path != NULL ? *path : dflt;
    int n;

    if (p == NULL) {
        return LATCH_OK;
    }
    if (p[0] == '/') {
        return set_str(path, p)
                   ? LATCH_OK
                   : latch_err_set(err, LATCH_E_NOMEM, "config: out of memory");
    }
    n = snprintf(buf, sizeof(buf), "%s/%s", dir, p);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        return latch_err_set(err, LATCH_E_USAGE, "config: path too long: %s",
                             p);
    }
    return set_str(path, buf)
               ? LATCH_OK
               : latch_err_set(err, LATCH_E_NOMEM, "config: out of memory");
}

/*
 * Parses the file; every error is "PATH:LINE: what" and LATCH_E_USAGE
 * (exit 2, docs/operations.md), the first one in the file.
 */
static enum latch_status
parse(const char *path, const char *buf, size_t len, struct load_state *ls,
      struct latch_err *err)
{
    int rc;

    ls->pos = buf;
    ls->end = buf + len;
    ls->last = -1;
    rc = ini_parse_stream(next_line, ls, on_item, ls);
    if (rc < 0) {
        return latch_err_set(err, LATCH_E_NOMEM, "%s: out of memory", path);
    }
    if (rc > 0 && (ls->bad_line == 0 || rc < ls->bad_line)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s:%d: syntax error: not [section], key = "
                             "value or a comment",
                             path, rc);
    }
    if (ls->bad_line != 0) {
        return latch_err_set(err, LATCH_E_USAGE, "%s:%d: %s", path,
                             ls->bad_line, ls->bad);
    }
    if (ls->cfg->database == NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%s: [database] url is missing", path);
    }
    return LATCH_OK;
}

/* A typo in the deny-list must stop latchd, not silently deny nothing. */
static enum latch_status
parse_deny(const char *path, const struct load_state *ls, struct latch_err *err)
{
    struct latchd_config *cfg = ls->cfg;
    struct latch_err sub;
    bool known = false;
    int k;

    if (cfg->deny_firmware == NULL || cfg->deny_firmware[0] == '\0') {
        return LATCH_OK;
    }
    latch_err_clear(&sub);
    if (ek_denylist_parse(cfg->deny_firmware, &cfg->deny, &sub) == LATCH_OK) {
        return LATCH_OK;
    }
    k = key_index("validation", "deny_firmware", &known);
    return latch_err_set(err, LATCH_E_USAGE,
                         "%s:%d: bad value [validation] deny_firmware: %s",
                         path, ls->first[k], sub.msg);
}

enum latch_status
latchd_config_load(const char *data_dir, struct latchd_config *cfg,
                   struct latch_err *err)
{
    struct load_state ls;
    enum latch_status st;
    char path[PATH_MAX];
    char *abs = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    memset(&ls, 0, sizeof(ls));
    ls.cfg = cfg;
    abs = realpath(data_dir, NULL);
    if (abs == NULL) {
        return latch_err_set(err, LATCH_E_IO, "data directory %s: %s", data_dir,
                             strerror(errno));
    }
    cfg->data_dir = abs;
    rc = snprintf(path, sizeof(path), "%s/" LATCHD_CONF_NAME, abs);
    if (rc < 0 || (size_t)rc >= sizeof(path)) {
        st = latch_err_set(err, LATCH_E_USAGE, "data directory path too long");
        goto out;
    }
    st = latch_read_file(path, CONF_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "no latchd configuration (run latchd init)");
        goto out;
    }
    cfg->workers = 2;
    cfg->aia_timeout = 5;
    st = parse(path, buf, len, &ls, err);
    if (st == LATCH_OK) {
        st = absolutize(abs, &cfg->trust_dir, "trust", err);
    }
    if (st == LATCH_OK) {
        st = absolutize(abs, &cfg->signing_key, "signing.key", err);
    }
    if (st == LATCH_OK) {
        st = absolutize(abs, &cfg->signing_cert, "signing.pem", err);
    }
    if (st == LATCH_OK && cfg->listen == NULL &&
        !set_str(&cfg->listen, "127.0.0.1:8080")) {
        st = latch_err_set(err, LATCH_E_NOMEM, "config: out of memory");
    }
    if (st == LATCH_OK && cfg->aia_allow == NULL &&
        !set_str(&cfg->aia_allow, "")) {
        st = latch_err_set(err, LATCH_E_NOMEM, "config: out of memory");
    }
    if (st == LATCH_OK) {
        st = parse_deny(path, &ls, err);
    }

out:
    free(buf);
    if (st != LATCH_OK) {
        latchd_config_free(cfg);
    }
    return st;
}

/*
 * The longest line the reader takes: inih reads into INI_MAX_LINE bytes
 * (200 in Debian's libinih), newline and NUL included.
 */
#define CONF_LINE_MAX 198

/*
 * What the reader would read back otherwise, or refuse: white space
 * around the value (inih strips it), a ';' after white space (inih's
 * inline comment, refused), nothing where a path, URL or address goes.
 */
static enum latch_status
value_round_trips(const char *name, const char *v, bool required,
                  struct latch_err *err)
{
    size_t n = strlen(v);

    if (n == 0 && required) {
        return latch_err_set(err, LATCH_E_USAGE, "configuration %s is empty",
                             name);
    }
    if (n > 0 && (v[0] == ' ' || v[n - 1] == ' ')) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "configuration %s \"%.120s\": leading or "
                             "trailing white space would be dropped when "
                             "latchd.conf is read",
                             name, v);
    }
    if (strstr(v, " ;") != NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "configuration %s \"%.120s\": a ';' after "
                             "white space would start a comment in "
                             "latchd.conf",
                             name, v);
    }
    return LATCH_OK;
}

/*
 * A value holding a line break would start a new setting or section; a
 * "key = value" line longer than the reader takes would be refused when
 * the file is read back, and so would a value value_round_trips refuses.
 */
static enum latch_status
value_ok(const char *name, const char *key, const char *v, bool required,
         struct latch_err *err)
{
    const unsigned char *p = (const unsigned char *)(v != NULL ? v : "");
    enum latch_status st;
    size_t line;

    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "configuration %s: control character "
                                 "U+%04X not allowed",
                                 name, (unsigned)*p);
        }
    }
    if (key == NULL) {
        return LATCH_OK;
    }
    st = value_round_trips(name, v != NULL ? v : "", required, err);
    if (st != LATCH_OK) {
        return st;
    }
    line = strlen(key) + strlen(" = ") + strlen(v != NULL ? v : "");
    if (line > CONF_LINE_MAX) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "configuration %s is too long: its latchd.conf "
                             "line would be %zu bytes, at most %d are read "
                             "(choose a shorter --data path or value)",
                             name, line, CONF_LINE_MAX);
    }
    return LATCH_OK;
}

enum latch_status
latchd_config_check(const struct latchd_config *cfg, struct latch_err *err)
{
    const struct {
        const char *name;
        const char *key; /* in latchd.conf; NULL: not written there */
        const char *v;
        bool required; /* may not be empty */
    } vals[] = {
        {"data directory", NULL, cfg->data_dir, true},
        {"database url", "url", cfg->database, true},
        {"trust dir", "dir", cfg->trust_dir, true},
        {"signing key", "key", cfg->signing_key, true},
        {"signing cert", "cert", cfg->signing_cert, true},
        {"listen", "listen", cfg->listen, true},
        {"aia allow", "allow", cfg->aia_allow, false},
        {"aia resolve", "resolve", cfg->aia_resolve, false},
        {"aia connect_to", "connect_to", cfg->aia_connect_to, false},
        {"deny_firmware", "deny_firmware", cfg->deny_firmware, false},
    };
    enum latch_status st = LATCH_OK;
    size_t i;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]) && st == LATCH_OK; i++) {
        st = value_ok(vals[i].name, vals[i].key, vals[i].v, vals[i].required,
                      err);
    }
    return st;
}

enum latch_status
latchd_config_write(const struct latchd_config *cfg, struct latch_err *err)
{
    char path[PATH_MAX];
    char buf[CONF_MAX];
    enum latch_status st;
    int n;

    st = latchd_config_check(cfg, err);
    if (st != LATCH_OK) {
        return st;
    }

    n = snprintf(path, sizeof(path), "%s/" LATCHD_CONF_NAME, cfg->data_dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "data directory path too long");
    }
    n = snprintf(
        buf, sizeof(buf),
        "# latchd configuration (written by latchd init)\n"
        "[database]\n"
        "url = %s\n\n"
        "[trust]\n"
        "# pinned TPM vendor roots; latchd only reads it\n"
        "dir = %s\n\n"
        "[signing]\n"
        "key = %s\n"
        "cert = %s\n\n"
        "[http]\n"
        "listen = %s\n\n"
        "[workers]\n"
        "count = %d\n\n"
        "[aia]\n"
        "# fetch missing EK intermediates from their caIssuers URL;\n"
        "# false on air-gapped servers (use trust import-intermediates)\n"
        "enabled = %s\n"
        "# host names AIA may contact, comma separated (empty: any)\n"
        "allow = %s\n"
        "timeout = %d\n"
        "# !!! TESTS ONLY: never set the next three on a real server. !!!\n"
        "# allow_private lets AIA connect to loopback, private and\n"
        "# link-local addresses (server-side request forgery); resolve\n"
        "# (HOST:PORT:ADDR) and connect_to (HOST:PORT:HOST2:PORT2), comma\n"
        "# separated, send vendor host names to a local test server.\n"
        "allow_private = %s\n"
        "resolve = %s\n"
        "connect_to = %s\n\n"
        "[validation]\n"
        "# TPM manufacturer + firmware versions to hold for an override,\n"
        "# comma separated MANUFACTURER:VERSION items, matched against the\n"
        "# EK certificate's SAN (IFX:4.3, or as written:\n"
        "# id:49465800:id:00040003) and against what the TPM reports in\n"
        "# the enrollment (IBM:20191023.0); a trailing * matches a prefix.\n"
        "# Example: IFX:4.3*, STM:73.4 (docs/ek-certificates.md)\n"
        "deny_firmware = %s\n",
        cfg->database, cfg->trust_dir, cfg->signing_key, cfg->signing_cert,
        cfg->listen, cfg->workers, cfg->aia_enabled ? "true" : "false",
        cfg->aia_allow != NULL ? cfg->aia_allow : "", cfg->aia_timeout,
        cfg->aia_allow_private ? "true" : "false",
        cfg->aia_resolve != NULL ? cfg->aia_resolve : "",
        cfg->aia_connect_to != NULL ? cfg->aia_connect_to : "",
        cfg->deny_firmware != NULL ? cfg->deny_firmware : "");
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        return latch_err_set(err, LATCH_E_USAGE, "configuration too long");
    }
    return latch_write_atomic(path, buf, (size_t)n, 0600, err);
}

void
latchd_config_free(struct latchd_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    free(cfg->data_dir);
    free(cfg->database);
    free(cfg->trust_dir);
    free(cfg->signing_key);
    free(cfg->signing_cert);
    free(cfg->listen);
    free(cfg->aia_allow);
    free(cfg->aia_resolve);
    free(cfg->aia_connect_to);
    free(cfg->deny_firmware);
    ek_denylist_free(cfg->deny);
    memset(cfg, 0, sizeof(*cfg));
}
