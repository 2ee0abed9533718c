/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * latchd.h: what every latchd verb gets: the parsed configuration
 * (DIR/latchd.conf), an open database connection and the global options;
 * the verb function signature and the verb table; output helpers shared by
 * the verbs (exit codes, --json printing, messages on stderr).
 */
#ifndef LATCHD_H
#define LATCHD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "db.h"

#define LATCHD_CONF_NAME "latchd.conf"

struct ek_denylist; /* ekcert.h */

/*
 * DIR/latchd.conf (INI, read with inih). Paths are absolute after loading
 * (relative ones are taken relative to the data directory).
 *
 *   [database]  url = sqlite:/var/lib/latchd/latchd.db
 *   [trust]     dir = /var/lib/latchd/trust       (read-only to latchd)
 *   [signing]   key = .../signing.key  cert = .../signing.pem
 *   [http]      listen = 127.0.0.1:8080
 *   [workers]   count = 2
 *   [aia]       enabled = false  allow = host1,host2  timeout = 5
 *               allow_private = false  resolve =  connect_to =  (tests only)
 *   [validation] deny_firmware = IFX:4.3*, id:00001014:id:20191023
 */
struct latchd_config {
    char *data_dir;
    char *database; /* "sqlite:PATH" or "postgresql://..." */
    char *trust_dir;
    char *signing_key;
    char *signing_cert;
    char *listen;
    int workers;
    bool aia_enabled;
    char *aia_allow; /* comma-separated host allowlist, may be "" */
    int aia_timeout; /* seconds */
    /* Tests only: loopback/private AIA targets, curl resolve/connect-to. */
    bool aia_allow_private;
    char *aia_resolve;    /* "HOST:PORT:ADDR[,...]", may be "" */
    char *aia_connect_to; /* "HOST:PORT:HOST2:PORT2[,...]", may be "" */
    /* TPM manufacturer + firmware deny-list (ek_denylist_parse syntax). */
    char *deny_firmware;      /* as written, may be "" */
    struct ek_denylist *deny; /* parsed; NULL when the list is empty */
};

/* Reads DIR/latchd.conf into cfg (zeroed first). */
enum latch_status latchd_config_load(const char *data_dir,
                                     struct latchd_config *cfg,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

/* What latchd_config_write() would refuse, checked before anything is made. */
enum latch_status latchd_config_check(const struct latchd_config *cfg,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

/* Writes cfg as DIR/latchd.conf (atomically, 0600). */
enum latch_status latchd_config_write(const struct latchd_config *cfg,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

void latchd_config_free(struct latchd_config *cfg);

struct latchd_env {
    /* --data DIR or $LATCHD_DATA; NULL if neither */
    const char *data_dir;
    /* --json: machine output on stdout */
    bool json;
    /* loaded / opened when the verb needs them (enum latchd_needs) */
    struct latchd_config cfg;
    struct db *db;
    /* audit actor: "cli:<user>" */
    char actor[128];
};

/*
 * A verb: argv[0] is "latchd VERB [SUB]" (for messages and getopt), the
 * rest its own arguments with the global options (--data, --json) already
 * removed. Returns the process exit code (latchd_exit_code()).
 */
typedef int (*latchd_verb_fn)(struct latchd_env *env, int argc, char **argv);

/* What main prepares before calling the verb. */
enum latchd_needs {
    LATCHD_NEEDS_NOTHING = 0, /* e.g. init, ek verify */
    LATCHD_NEEDS_CONFIG,      /* env->cfg loaded */
    LATCHD_NEEDS_DB           /* env->cfg loaded and env->db open */
};

struct latchd_verb {
    const char *verb; /* "enrollment" */
    const char *sub;  /* "import", or NULL for a verb without subverbs */
    latchd_verb_fn fn;
    enum latchd_needs needs;
    const char *usage; /* one line: "FILE... [--wait] [--json]" */
};

/* The table in verbs.c; ends with an entry whose verb is NULL. */
extern const struct latchd_verb latchd_verbs[];

/*
 * Exit codes (docs/operations.md): 0 ok, 1 refused/invalid input or state
 * (format, policy, signature, validity), 2 usage, 3 not found, 4 I/O or
 * database, 5 internal/crypto/memory.
 */
int latchd_exit_code(enum latch_status st);

/*
 * Prints err's message as "latchd: MESSAGE" on stderr (or, with --json,
 * {"error": MESSAGE, "status": "..."} on stdout) and returns
 * latchd_exit_code(st).
 */
int latchd_fail(const struct latchd_env *env, enum latch_status st,
                const struct latch_err *err);

/* As latchd_fail, with "id": id (not null) in the --json output when
 * id > 0: the failure concerns a record that exists. */
int latchd_fail_id(const struct latchd_env *env, enum latch_status st,
                   const struct latch_err *err, int64_t id);

/* Prints v (steals the reference) as indented JSON with a newline. */
void latchd_print_json(json_t *v);

/* "usage: latchd VERB SUB USAGE" on stderr; returns 2. */
int latchd_usage(const char *argv0, const char *usage);
/* The usage line, after naming an operand too many (extra: or NULL). */
int latchd_usage_extra(const char *argv0, const char *extra, const char *usage);

#endif /* LATCHD_H */
