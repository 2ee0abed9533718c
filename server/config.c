/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * config.c: DIR/latchd.conf, an INI file read with inih and written back
 * by `latchd init`. Relative paths in it are taken relative to DIR.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "ekcert.h"
#include "fsutil.h"
#include "latchd.h"

#define CONF_MAX 16384

struct load_state {
    struct latchd_config *cfg;
    char bad[160];
};

/* Settings web.c reads from the same file (web_options_load). */
static const char *const web_keys[] = {
    "http",    "threads",      "http",    "cookie_secure", "http", "origin",
    "session", "idle_minutes", "session", "max_hours",     NULL};

static bool
web_key(const char *section, const char *name)
{
    for (size_t i = 0; web_keys[i] != NULL; i += 2) {
        if (strcmp(section, web_keys[i]) == 0 &&
            strcmp(name, web_keys[i + 1]) == 0) {
            return true;
        }
    }
    return false;
}

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

static int
parse_int(const char *value, int lo, int hi, int *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < lo || v > hi) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int
parse_bool(const char *value, bool *out)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
        strcmp(value, "1") == 0) {
        *out = true;
        return 1;
    }
    if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
        strcmp(value, "0") == 0) {
        *out = false;
        return 1;
    }
    return 0;
}

static int
on_item(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *ls = user;
    struct latchd_config *cfg = ls->cfg;
    int ok = 0;

    if (strcmp(section, "database") == 0 && strcmp(name, "url") == 0) {
        ok = set_str(&cfg->database, value);
    } else if (strcmp(section, "trust") == 0 && strcmp(name, "dir") == 0) {
        ok = set_str(&cfg->trust_dir, value);
    } else if (strcmp(section, "signing") == 0 && strcmp(name, "key") == 0) {
        ok = set_str(&cfg->signing_key, value);
    } else if (strcmp(section, "signing") == 0 && strcmp(name, "cert") == 0) {
        ok = set_str(&cfg->signing_cert, value);
    } else if (strcmp(section, "http") == 0 && strcmp(name, "listen") == 0) {
        ok = set_str(&cfg->listen, value);
    } else if (strcmp(section, "workers") == 0 && strcmp(name, "count") == 0) {
        ok = parse_int(value, 0, 64, &cfg->workers);
    } else if (strcmp(section, "aia") == 0 && strcmp(name, "enabled") == 0) {
        ok = parse_bool(value, &cfg->aia_enabled);
    } else if (strcmp(section, "aia") == 0 && strcmp(name, "allow") == 0) {
        ok = set_str(&cfg->aia_allow, value);
    } else if (strcmp(section, "aia") == 0 && strcmp(name, "timeout") == 0) {
        ok = parse_int(value, 1, 60, &cfg->aia_timeout);
    } else if (strcmp(section, "aia") == 0 &&
               strcmp(name, "allow_private") == 0) {
        ok = parse_bool(value, &cfg->aia_allow_private);
    } else if (strcmp(section, "aia") == 0 && strcmp(name, "resolve") == 0) {
        ok = set_str(&cfg->aia_resolve, value);
    } else if (strcmp(section, "aia") == 0 && strcmp(name, "connect_to") == 0) {
        ok = set_str(&cfg->aia_connect_to, value);
    } else if (strcmp(section, "validation") == 0 &&
               strcmp(name, "deny_firmware") == 0) {
        ok = set_str(&cfg->deny_firmware, value);
    } else if (web_key(section, name)) {
        /* web.c reads and checks these. */
        ok = 1;
    } else {
        /* A misspelt key (cookie_secur) must stop latchd, not be ignored. */
        if (ls->bad[0] == '\0') {
            snprintf(ls->bad, sizeof(ls->bad), "unknown key [%.40s] %.80s",
                     section, name);
        }
        return 0;
    }
    if (!ok && ls->bad[0] == '\0') {
        snprintf(ls->bad, sizeof(ls->bad), "[%s] %s = %s", section, name,
                 value);
    }
    return ok;
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
    rc = ini_parse_string(buf, on_item, &ls);
    if (rc != 0) {
        st = latch_err_set(err, LATCH_E_FORMAT, "%s: line %d: bad setting %s",
                           path, rc, ls.bad[0] != '\0' ? ls.bad : "(syntax)");
        goto out;
    }
    if (cfg->database == NULL) {
        st = latch_err_set(err, LATCH_E_FORMAT, "%s: [database] url is missing",
                           path);
        goto out;
    }
    st = absolutize(abs, &cfg->trust_dir, "trust", err);
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
    if (st == LATCH_OK && cfg->deny_firmware != NULL &&
        cfg->deny_firmware[0] != '\0') {
        /* A typo must stop latchd, not silently deny nothing. */
        st = ek_denylist_parse(cfg->deny_firmware, &cfg->deny, err);
        if (st != LATCH_OK) {
            latch_err_prefix(err, "[validation] deny_firmware");
            latch_err_prefix(err, path);
        }
    }

out:
    free(buf);
    if (st != LATCH_OK) {
        latchd_config_free(cfg);
    }
    return st;
}

/* A value holding a line break would start a new setting or section. */
static enum latch_status
value_ok(const char *name, const char *v, struct latch_err *err)
{
    const unsigned char *p = (const unsigned char *)(v != NULL ? v : "");

    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "configuration %s: control character "
                                 "U+%04X not allowed",
                                 name, (unsigned)*p);
        }
    }
    return LATCH_OK;
}

static enum latch_status
values_ok(const struct latchd_config *cfg, struct latch_err *err)
{
    const struct {
        const char *name;
        const char *v;
    } vals[] = {
        {"data directory", cfg->data_dir},
        {"database url", cfg->database},
        {"trust dir", cfg->trust_dir},
        {"signing key", cfg->signing_key},
        {"signing cert", cfg->signing_cert},
        {"listen", cfg->listen},
        {"aia allow", cfg->aia_allow},
        {"aia resolve", cfg->aia_resolve},
        {"aia connect_to", cfg->aia_connect_to},
        {"deny_firmware", cfg->deny_firmware},
    };
    enum latch_status st = LATCH_OK;
    size_t i;

    for (i = 0; i < sizeof(vals) / sizeof(vals[0]) && st == LATCH_OK; i++) {
        st = value_ok(vals[i].name, vals[i].v, err);
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

    st = values_ok(cfg, err);
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
