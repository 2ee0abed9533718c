/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_init.c: `latchd init` (data directory, configuration, database and
 * migrations, signing key and CSR, optional development PKI), `latchd ca
 * install` and `latchd migrate`.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cmd.h"
#include "core.h"
#include "fsutil.h"
#include "http.h"
#include "signing.h"

struct init_opts {
    const char *database;
    const char *trust;
    const char *listen;
    int workers;
    bool dev_pki;
};

/* What a failed init removes: the paths below that did not exist before. */
enum {
    MADE_DATA, /* the top-most directory mkdir_p made for the data dir */
    MADE_CONF,
    MADE_KEY,
    MADE_CSR,
    MADE_CERT,
    MADE_DEVROOT,
    MADE_TRUST, /* the default trust dir only */
    MADE_DB,
    MADE_DB_WAL,
    MADE_DB_SHM,
    MADE_DB_JOURNAL,
    MADE_MAX
};

struct init_made {
    char path[MADE_MAX][PATH_MAX];
    bool ours[MADE_MAX];
};

/*
 * Makes path and its missing parents; the top-most directory it made (""
 * if none) goes to made[PATH_MAX].
 */
static enum latch_status
mkdir_p(const char *path, mode_t mode, char *made, struct latch_err *err)
{
    char buf[PATH_MAX];
    size_t i;
    int n;
    int r;

    made[0] = '\0';
    n = snprintf(buf, sizeof(buf), "%s", path);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        return latch_err_set(err, LATCH_E_USAGE, "path too long: %s", path);
    }
    for (i = 1; buf[i] != '\0'; i++) {
        if (buf[i] != '/') {
            continue;
        }
        buf[i] = '\0';
        r = mkdir(buf, 0755);
        if (r == -1 && errno != EEXIST) {
            return latch_err_set(err, LATCH_E_IO, "%s: %s", buf,
                                 strerror(errno));
        }
        if (r == 0 && made[0] == '\0') {
            memcpy(made, buf, i + 1);
        }
        buf[i] = '/';
    }
    r = mkdir(buf, mode);
    if (r == -1 && errno != EEXIST) {
        return latch_err_set(err, LATCH_E_IO, "%s: %s", buf, strerror(errno));
    }
    if (r == 0 && made[0] == '\0') {
        memcpy(made, buf, (size_t)n + 1);
    }
    return LATCH_OK;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes what a failed init made (only paths recorded as ours). */
static void
init_undo(const struct init_made *m)
{
    int i;

    for (i = MADE_MAX - 1; i >= 0; i--) {
        if (m->ours[i] && m->path[i][0] != '\0') {
            nftw(m->path[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
        }
    }
}

/* Records path as ours when it does not exist yet. */
static void
made_if_new(struct init_made *m, int slot, const char *dir, const char *name)
{
    struct stat sb;
    int n = snprintf(m->path[slot], sizeof(m->path[slot]), "%s%s%s", dir,
                     name[0] != '\0' ? "/" : "", name);

    m->ours[slot] = n > 0 && (size_t)n < sizeof(m->path[slot]) &&
                    lstat(m->path[slot], &sb) == -1 && errno == ENOENT;
}

/* Records the paths init may create under abs (and the SQLite file). */
static void
init_plan(struct init_made *m, const char *abs, const struct init_opts *o)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char db[PATH_MAX];
    int i;

    made_if_new(m, MADE_CONF, abs, LATCHD_CONF_NAME);
    made_if_new(m, MADE_KEY, abs, "signing.key");
    made_if_new(m, MADE_CSR, abs, "signing.csr");
    made_if_new(m, MADE_CERT, abs, "signing.pem");
    made_if_new(m, MADE_DEVROOT, abs, "dev-root");
    if (o->trust == NULL) {
        made_if_new(m, MADE_TRUST, abs, "trust");
    }
    if (o->database == NULL) {
        snprintf(db, sizeof(db), "%s/latchd.db", abs);
    } else if (strncmp(o->database, "sqlite:", 7) == 0) {
        snprintf(db, sizeof(db), "%s", o->database + 7);
    } else {
        return;
    }
    for (i = 0; i < 4; i++) {
        char name[PATH_MAX + 16];

        snprintf(name, sizeof(name), "%s%s", db, sfx[i]);
        made_if_new(m, MADE_DB + i, name, "");
    }
}

/*
 * Refuses a data directory that holds anything init would make (a previous
 * installation, a signing key made by hand): init never overwrites.
 */
static enum latch_status
init_refuse_existing(const struct init_made *m, struct latch_err *err)
{
    struct stat sb;
    int i;

    for (i = MADE_CONF; i < MADE_MAX; i++) {
        if (i == MADE_TRUST || m->path[i][0] == '\0') {
            continue; /* an existing trust directory is the operator's */
        }
        if (lstat(m->path[i], &sb) == 0) {
            return latch_err_set(err, LATCH_E_POLICY,
                                 "%s exists: latchd init never overwrites "
                                 "a file (a previous installation? move it "
                                 "away or choose another --data)",
                                 m->path[i]);
        }
        if (errno != ENOENT) {
            return latch_err_set(err, LATCH_E_IO, "%s: %s", m->path[i],
                                 strerror(errno));
        }
    }
    return LATCH_OK;
}

/* A database init fills must hold no table yet (PostgreSQL: it may exist). */
static enum latch_status
init_db_empty(struct db *db, struct latch_err *err)
{
    struct db_stmt *s = NULL;
    enum latch_status st;
    bool row = false;

    st = db_prepare(db,
                    db_sql(db,
                           "SELECT name FROM sqlite_master WHERE type = "
                           "'table' LIMIT 1",
                           "SELECT table_name::text FROM "
                           "information_schema.tables WHERE table_schema = "
                           "current_schema() LIMIT 1"),
                    &s, err);
    if (st == LATCH_OK) {
        st = db_step(s, &row, err);
    }
    if (st == LATCH_OK && row) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "database: it holds tables already (%s): latchd "
                           "init needs an empty database; to run another "
                           "latchd on it, copy the first server's data "
                           "directory",
                           db_col_text(s, 0));
    }
    db_done(s);
    return st;
}

/* The check `latchd serve` makes of ADDR:PORT. */
static enum latch_status
listen_check(const char *listen, struct latch_err *err)
{
    struct sockaddr_storage ss;
    bool v6;

    return http_parse_listen(listen, &ss, &v6, err);
}

/*
 * Checks every argument init writes into latchd.conf before anything is
 * created: no control character can start a new setting there.
 */
static enum latch_status
init_check(const char *data_dir, const struct init_opts *o,
           struct latch_err *err)
{
    enum latch_status st;

    st = core_text_check("--data", data_dir, PATH_MAX - 64, err);
    if (st == LATCH_OK && o->trust != NULL) {
        st = core_text_check("--trust", o->trust, PATH_MAX - 64, err);
    }
    if (st == LATCH_OK && o->listen != NULL) {
        st = core_text_check("--listen", o->listen, 256, err);
        if (st == LATCH_OK) {
            st = listen_check(o->listen, err);
        }
    }
    if (st != LATCH_OK || o->database == NULL) {
        return st;
    }
    st = core_text_check("--database", o->database, PATH_MAX - 64, err);
    if (st == LATCH_OK &&
        !(strncmp(o->database, "sqlite:", 7) == 0 && o->database[7] != '\0') &&
        strncmp(o->database, "postgresql://", 13) != 0 &&
        strncmp(o->database, "postgres://", 11) != 0) {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "--database: the url must start with sqlite: or "
                           "postgresql://");
    }
    return st;
}

static enum latch_status
path_join(char *out, size_t cap, const char *dir, const char *name,
          struct latch_err *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap) {
        return latch_err_set(err, LATCH_E_USAGE, "path too long: %s/%s", dir,
                             name);
    }
    return LATCH_OK;
}

static char *
dup_or(const char *s, const char *dflt)
{
    return strdup(s != NULL ? s : dflt);
}

/* Fills cfg for a fresh data directory at abs. */
static enum latch_status
init_config(const char *abs, const struct init_opts *o,
            struct latchd_config *cfg, struct latch_err *err)
{
    char buf[PATH_MAX + 16];
    char made[PATH_MAX];
    enum latch_status st;
    struct stat sb;

    memset(cfg, 0, sizeof(*cfg));
    cfg->data_dir = strdup(abs);
    if (o->database == NULL) {
        snprintf(buf, sizeof(buf), "sqlite:%s/latchd.db", abs);
    }
    cfg->database = dup_or(o->database, buf);
    st = path_join(buf, sizeof(buf), abs, "trust", err);
    if (st != LATCH_OK) {
        return st;
    }
    cfg->trust_dir = dup_or(o->trust, buf);
    st = path_join(buf, sizeof(buf), abs, "signing.key", err);
    cfg->signing_key = strdup(buf);
    if (st == LATCH_OK) {
        st = path_join(buf, sizeof(buf), abs, "signing.pem", err);
    }
    cfg->signing_cert = strdup(buf);
    cfg->listen = dup_or(o->listen, "127.0.0.1:8080");
    cfg->aia_allow = strdup("");
    cfg->workers = o->workers;
    cfg->aia_timeout = 5;
    if (cfg->data_dir == NULL || cfg->database == NULL ||
        cfg->trust_dir == NULL || cfg->signing_key == NULL ||
        cfg->signing_cert == NULL || cfg->listen == NULL ||
        cfg->aia_allow == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
    }
    if (st != LATCH_OK) {
        return st;
    }
    if (o->trust == NULL) {
        /* The default trust directory starts empty; the operator fills it. */
        return mkdir_p(cfg->trust_dir, 0755, made, err);
    }
    if (stat(cfg->trust_dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "trust directory %s does not exist",
                             cfg->trust_dir);
    }
    return LATCH_OK;
}

struct audit_init {
    const char *actor;
    const char *action;
    const char *object;
    json_t *details;
};

static enum latch_status
audit_one_tx(struct db *db, void *arg, struct latch_err *err)
{
    struct audit_init *a = arg;

    return core_audit_append(db, a->actor, a->action, a->object, a->details,
                             err);
}

static enum latch_status
audit_one(struct db *db, const char *actor, const char *action,
          const char *object, json_t *details, struct latch_err *err)
{
    struct audit_init a = {actor, action, object, details};
    enum latch_status st;

    if (details == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
    }
    st = db_transact(db, audit_one_tx, &a, err);
    json_decref(details);
    return st;
}

static enum latch_status
init_run(struct latchd_env *env, const struct init_opts *o, json_t **out,
         struct latch_err *err)
{
    struct latchd_config cfg;
    enum latch_status st;
    struct init_made *made = NULL;
    struct db *db = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char *abs = NULL;
    char path[PATH_MAX];
    char sha[65];

    memset(&cfg, 0, sizeof(cfg));
    st = init_check(env->data_dir, o, err);
    if (st != LATCH_OK) {
        return st;
    }
    made = calloc(1, sizeof(*made));
    if (made == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "out of memory");
    }
    st = mkdir_p(env->data_dir, 0700, made->path[MADE_DATA], err);
    made->ours[MADE_DATA] = true;
    if (st == LATCH_OK) {
        abs = realpath(env->data_dir, NULL);
        if (abs == NULL) {
            st = latch_err_set(err, LATCH_E_IO, "%s: %s", env->data_dir,
                               strerror(errno));
        }
    }
    if (st == LATCH_OK) {
        st = path_join(path, sizeof(path), abs, LATCHD_CONF_NAME, err);
    }
    if (st == LATCH_OK && access(path, F_OK) == 0) {
        st = latch_err_set(err, LATCH_E_POLICY,
                           "%s exists: this data directory is initialised "
                           "already",
                           path);
    }
    if (st == LATCH_OK) {
        init_plan(made, abs, o);
        st = init_refuse_existing(made, err);
    }
    if (st == LATCH_OK) {
        st = init_config(abs, o, &cfg, err);
    }
    if (st == LATCH_OK) {
        st = latchd_config_check(&cfg, err);
    }
    if (st == LATCH_OK) {
        st = db_create_database(cfg.database, err);
    }
    if (st == LATCH_OK) {
        st = db_open_new(cfg.database, &db, err);
    }
    if (st == LATCH_OK) {
        st = init_db_empty(db, err);
    }
    if (st == LATCH_OK) {
        st = db_migrate(db, err);
    }
    if (st == LATCH_OK) {
        st = signing_keygen(cfg.signing_key, &key, err);
    }
    if (st == LATCH_OK) {
        st = path_join(path, sizeof(path), abs, "signing.csr", err);
    }
    if (st == LATCH_OK) {
        st = signing_write_csr(key, path, err);
    }
    if (st == LATCH_OK && o->dev_pki) {
        st = signing_dev_pki(abs, key, cfg.signing_cert, err);
        if (st == LATCH_OK) {
            st = signing_load_cert(cfg.signing_cert, &cert, err);
        }
        if (st == LATCH_OK) {
            st = signing_cert_sha256(cert, sha, err);
        }
        if (st == LATCH_OK) {
            st = audit_one(db, env->actor, "signing.install", "signing",
                           json_pack("{s:s, s:b}", "sha256", sha, "dev_pki", 1),
                           err);
        }
    }
    if (st == LATCH_OK) {
        st = latchd_config_write(&cfg, err);
    }
    if (st == LATCH_OK) {
        st = audit_one(
            db, env->actor, "server.init", abs,
            json_pack("{s:s, s:b}", "database",
                      db_kind(db) == DB_SQLITE ? "sqlite" : "postgresql",
                      "dev_pki", o->dev_pki),
            err);
    }
    if (st == LATCH_OK) {
        *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", abs, "state",
                         "initialised", "database", cfg.database, "trust_dir",
                         cfg.trust_dir, "csr", path, "dev_pki", o->dev_pki);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    db_close(db);
    if (st != LATCH_OK) {
        init_undo(made);
    }
    free(made);
    latchd_config_free(&cfg);
    free(abs);
    return st;
}

int
cmd_init(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"database", required_argument, NULL, 'd'},
        {"trust", required_argument, NULL, 't'},
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"dev-pki", no_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    struct init_opts o = {NULL, NULL, NULL, 2, false};
    struct latch_err err;
    enum latch_status st;
    json_t *out = NULL;
    int64_t n = 0;
    int ch;

    latch_err_clear(&err);
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o.database = optarg;
            break;
        case 't':
            o.trust = optarg;
            break;
        case 'l':
            o.listen = optarg;
            break;
        case 'w':
            if (cmd_parse_id(optarg, &n, &err) != LATCH_OK || n > 64) {
                return latchd_usage(argv[0], "--workers 1..64");
            }
            o.workers = (int)n;
            break;
        case 'D':
            o.dev_pki = true;
            break;
        default:
            return latchd_usage(argv[0], latchd_verbs[0].usage);
        }
    }
    if (optind != argc || env->data_dir == NULL) {
        return latchd_usage(argv[0], latchd_verbs[0].usage);
    }
    st = init_run(env, &o, &out, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (o.dev_pki) {
        fprintf(stderr,
                "latchd: WARNING: DEVELOPMENT PKI. A throwaway root was made "
                "in %s/dev-root and signed this server's signing "
                "certificate. Licenses it issues verify only on devices "
                "built with that root. Never use it in production.\n",
                json_string_value(json_object_get(out, "id")));
    }
    if (env->json) {
        latchd_print_json(out);
    } else {
        printf("initialised %s\n  database  %s\n  trust dir %s (read-only to "
               "latchd; put pinned TPM vendor roots here)\n  CSR       %s "
               "(sign with latch-ca, then latchd ca install CERT)\n",
               json_string_value(json_object_get(out, "id")),
               json_string_value(json_object_get(out, "database")),
               json_string_value(json_object_get(out, "trust_dir")),
               json_string_value(json_object_get(out, "csr")));
        json_decref(out);
    }
    return 0;
}

/* --- ca install --------------------------------------------------------- */

static enum latch_status
install_run(struct latchd_env *env, const char *path, json_t **out,
            struct latch_err *err)
{
    enum latch_status st;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    BIO *bio = NULL;
    char *pem = NULL;
    long len;
    char sha[65];
    char subject[256];

    st = signing_load_key(env->cfg.signing_key, &key, err);
    if (st == LATCH_OK) {
        st = signing_load_cert(path, &cert, err);
    }
    if (st == LATCH_OK) {
        st = signing_check_cert(key, cert, err);
    }
    if (st == LATCH_OK) {
        st = signing_cert_sha256(cert, sha, err);
    }
    if (st != LATCH_OK) {
        goto out;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "certificate encoding");
        goto out;
    }
    len = BIO_get_mem_data(bio, &pem);
    st = latch_write_atomic(env->cfg.signing_cert, pem, (size_t)len, 0644, err);
    if (st != LATCH_OK) {
        goto out;
    }
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
    st = audit_one(env->db, env->actor, "signing.install", "signing",
                   json_pack("{s:s, s:s}", "sha256", sha, "subject", subject),
                   err);
    if (st == LATCH_OK) {
        *out =
            json_pack("{s:s, s:s, s:s, s:s}", "id", sha, "state", "installed",
                      "subject", subject, "path", env->cfg.signing_cert);
    }

out:
    BIO_free(bio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return st;
}

int
cmd_ca_install(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;
    json_t *out = NULL;

    latch_err_clear(&err);
    if (argc != 2) {
        return latchd_usage(argv[0], "CERT");
    }
    if (argv[1][0] == '\0') {
        st = latch_err_set(&err, LATCH_E_USAGE, "empty path");
        return latchd_fail(env, st, &err);
    }
    st = install_run(env, argv[1], &out, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(out);
    } else {
        printf("installed signing certificate %s (sha256 %s)\n",
               json_string_value(json_object_get(out, "subject")),
               json_string_value(json_object_get(out, "id")));
        json_decref(out);
    }
    return 0;
}

int
cmd_migrate(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum latch_status st;

    latch_err_clear(&err);
    if (argc != 1) {
        return latchd_usage(argv[0], "");
    }
    st = db_migrate(env->db, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(json_pack("{s:n, s:s}", "id", "state", "migrated"));
    } else {
        printf("schema up to date\n");
    }
    return 0;
}
