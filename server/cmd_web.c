/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_web.c: the latchd verbs of the web front end: `serve` (web UI, API
 * and validation workers until SIGINT/SIGTERM), `user add` / `user list`
 * `user disable|enable|role`, `token create|list|revoke`: the actions of
 * the web Users page, through the same auth.h calls. There is no default
 * account: the first administrator is made with
 * `latchd user add NAME --role admin`.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "codec.h"
#include "cmd.h"
#include "cmd_web.h"
#include "core.h"
#include "safeout.h"
#include "signing.h"
#include "web.h"

#define PW_BUF (AUTH_PASSWORD_MAX + 2)

static int
migrate(struct latchd_env *env)
{
    struct latch_err err;
    enum latch_status st;

    latch_err_clear(&err);
    st = db_migrate(env->db, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return 0;
}

/* "--role is given twice": exit 2, as `license issue` words a repeat. */
static int
given_twice(const struct latchd_env *env, const char *flag)
{
    struct latch_err err;

    latch_err_clear(&err);
    return latchd_fail(
        env, latch_err_set(&err, LATCH_E_USAGE, "%s is given twice", flag),
        &err);
}

/*
 * 0 when argv holds exactly n operands and none looks like an option,
 * else prints the usage (naming an operand too many) and returns 2.
 */
static int
operands(int argc, char **argv, int n, const char *usage)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            return latchd_usage(argv[0], usage);
        }
    }
    if (argc < n + 1) {
        return latchd_usage(argv[0], usage);
    }
    return argc > n + 1 ? latchd_usage_extra(argv[0], argv[n + 1], usage) : 0;
}

/* Parses the --role value, then migrates; 0 or the exit code. */
static int
role_then_migrate(struct latchd_env *env, const char *role_s,
                  enum auth_role *role)
{
    struct latch_err err;
    enum latch_status st;

    latch_err_clear(&err);
    st = auth_role_parse(role_s, role, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return migrate(env);
}

/* --- serve ------------------------------------------------------------- */

/*
 * What serve needs from the data directory, checked at start rather than
 * at first use: the signing key (made by init) loads, the certificate
 * loads if installed (serve may run before `ca install`), the trust
 * directory is a directory (it may still be empty).
 */
static enum latch_status
serve_files_check(const struct latchd_config *cfg, struct latch_err *err)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    struct stat sb;
    DIR *d;
    enum latch_status st;

    st = signing_load_key(cfg->signing_key, &key, err);
    EVP_PKEY_free(key);
    if (st != LATCH_OK) {
        latch_err_prefix(err, "[signing] key");
        return st;
    }
    if (stat(cfg->signing_cert, &sb) != 0 && errno == ENOENT) {
        fprintf(stderr,
                "latchd: no signing certificate %s yet: licenses cannot be "
                "issued until `latchd ca install CERT`\n",
                cfg->signing_cert);
    } else {
        st = signing_load_cert(cfg->signing_cert, &cert, err);
        X509_free(cert);
        if (st != LATCH_OK) {
            latch_err_prefix(err, "[signing] cert");
            return st;
        }
        st = signing_check_files(cfg->signing_key, cfg->signing_cert, err);
        if (st != LATCH_OK) {
            return st;
        }
    }
    d = opendir(cfg->trust_dir);
    if (d == NULL) {
        return latch_err_set(err, LATCH_E_IO, "[trust] dir %s: %s",
                             cfg->trust_dir, strerror(errno));
    }
    closedir(d);
    return LATCH_OK;
}

int
cmd_serve(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct web_options opt;
    struct core_workers *workers = NULL;
    struct web_app *app = NULL;
    struct latch_err err;
    const char *listen = NULL;
    sigset_t set;
    int sig = 0;
    int c;
    int rc;
    enum latch_status st = LATCH_OK;

    latch_err_clear(&err);
    optind = 1;
    for (;;) {
        c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (c == 'l') {
            listen = optarg;
        } else {
            return latchd_usage(argv[0], "[--listen ADDR:PORT]");
        }
    }
    if (optind != argc) {
        return latchd_usage(argv[0], "[--listen ADDR:PORT]");
    }
    st = web_options_load(&env->cfg, &opt, &err);
    if (st == LATCH_OK) {
        st = serve_files_check(&env->cfg, &err);
    }
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    rc = migrate(env);
    if (rc != 0) {
        return rc;
    }
    if (listen != NULL) {
        opt.listen = listen;
    }
    /* Every thread started from here on inherits the blocked signals;
     * only sigwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* [workers] count = 0 means none: another host runs `latchd worker`. */
    st = core_workers_start(&env->cfg, env->cfg.workers, &workers, &err);
    if (st == LATCH_OK) {
        st = web_start(&env->cfg, &opt, &app, &err);
    }
    if (st != LATCH_OK) {
        core_workers_stop(workers);
        return latchd_fail(env, st, &err);
    }
    printf("latchd: listening on http://%.*s:%u/ (cookies %s)\n",
           (int)(strrchr(opt.listen, ':') - opt.listen), opt.listen,
           web_port(app),
           opt.cookie_secure ? "Secure" : "not Secure: plain-HTTP loopback");
    fflush(stdout);
    while (sigwait(&set, &sig) != 0) {
        continue;
    }
    fprintf(stderr, "latchd: signal %d, stopping\n", sig);
    web_stop(app);
    core_workers_stop(workers);
    return 0;
}

/* --- passwords --------------------------------------------------------------
 */

/*
 * Reads one line into buf (newline and a CR before it removed). NULL when
 * done, else what is wrong; at most cap - 2 bytes fit (PW_BUF: the limit).
 */
static const char *
read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int ch;

    for (ch = getc(f); ch != EOF && ch != '\n'; ch = getc(f)) {
        if (ch == '\0') {
            return "it holds a NUL byte";
        }
        if (n + 2 >= cap) {
            return "longer than the limit";
        }
        buf[n++] = (char)ch;
    }
    buf[n] = '\0';
    if (ferror(f) || (ch == EOF && n == 0)) {
        return "nothing to read";
    }
    if (n > 0 && buf[n - 1] == '\r') {
        buf[--n] = '\0';
    }
    return NULL;
}

static bool
read_secret(const char *prompt, char *buf, size_t cap)
{
    struct termios old;
    struct termios quiet;
    bool ok;

    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0) {
        return false;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        return false;
    }
    ok = read_line(stdin, buf, cap) == NULL;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

/* One line from a pipe or file, and nothing after it (docs/web.md). */
static enum latch_status
stdin_password(char *pw, struct latch_err *err)
{
    const char *why = read_line(stdin, pw, PW_BUF);

    if (why == NULL && getc(stdin) != EOF) {
        why = "more than one line";
    }
    if (why != NULL) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "password: expected one line on stdin (at "
                             "most %d bytes): %s",
                             AUTH_PASSWORD_MAX, why);
    }
    return LATCH_OK;
}

/* Browsers send UTF-8: a password that is not could never sign in. */
static enum latch_status
password_utf8(const char *pw, struct latch_err *err)
{
    const uint8_t *p = (const uint8_t *)pw;
    size_t n = strlen(pw);
    size_t len;
    uint32_t cp;

    while (n > 0) {
        len = latch_utf8_next(p, n, &cp);
        if (len == 0) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "password: not valid UTF-8 (a browser "
                                 "could not type it)");
        }
        p += len;
        n -= len;
    }
    return LATCH_OK;
}

/* The new user's password: twice from the terminal, else one stdin line. */
static enum latch_status
get_password(char *pw, char *again, struct latch_err *err)
{
    if (!isatty(STDIN_FILENO)) {
        enum latch_status st = stdin_password(pw, err);

        return st == LATCH_OK ? password_utf8(pw, err) : st;
    }
    if (!read_secret("Password: ", pw, PW_BUF) ||
        !read_secret("Password again: ", again, PW_BUF)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "password: could not read it from the terminal");
    }
    if (strcmp(pw, again) != 0) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "password: the two entries differ");
    }
    return password_utf8(pw, err);
}

/* --- users -----------------------------------------------------------------
 */

int
cmd_user_add(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "NAME --role viewer|approver|admin";
    struct latch_err err;
    enum auth_role role = AUTH_VIEWER;
    const char *role_s = NULL;
    json_t *out = NULL;
    char *pw = NULL;
    char *again = NULL;
    int c;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    optind = 1;
    for (;;) {
        c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (c == 'r' && role_s != NULL) {
            return given_twice(env, "--role");
        }
        if (c != 'r') {
            return latchd_usage(argv[0], usage);
        }
        role_s = optarg;
    }
    if (optind < argc - 1) {
        return latchd_usage_extra(argv[0], argv[optind + 1], usage);
    }
    if (optind != argc - 1 || role_s == NULL) {
        return latchd_usage(argv[0], usage);
    }
    rc = role_then_migrate(env, role_s, &role);
    if (rc != 0) {
        return rc;
    }
    pw = calloc(1, PW_BUF);
    again = calloc(1, PW_BUF);
    if (pw == NULL || again == NULL) {
        st = latch_err_set(&err, LATCH_E_NOMEM, "out of memory");
        goto out;
    }
    st = get_password(pw, again, &err);
    if (st == LATCH_OK) {
        st = auth_user_add(env->db, env->actor, argv[optind], role, pw, &out,
                           &err);
    }

out:
    if (pw != NULL) {
        OPENSSL_cleanse(pw, PW_BUF);
    }
    if (again != NULL) {
        OPENSSL_cleanse(again, PW_BUF);
    }
    free(pw);
    free(again);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        latchd_print_json(out);
    } else {
        printf("user %s added, role %s\n", argv[optind], auth_role_str(role));
        json_decref(out);
    }
    return 0;
}

/* A time column: "YYYY-MM-DDTHH:MM:SSZ", or "-" for null. */
static const char *
time_col(const json_t *v, char out[LATCH_TIME_LEN])
{
    if (!json_is_integer(v)) {
        return "-";
    }
    latch_time_format((int64_t)json_integer_value(v), out);
    return out;
}

/*
 * The user and token lists share one layout: id, state, role, name,
 * created, last use (last: its member and heading), creator.
 */
static int
list_rows(struct latchd_env *env, json_t *out, int width, const char *last,
          const char *last_head)
{
    char created[LATCH_TIME_LEN];
    char used[LATCH_TIME_LEN];
    char col[96];
    const json_t *r;
    size_t i;

    if (env->json) {
        latchd_print_json(out);
        return 0;
    }
    cmd_human(out);
    printf("%-6s %-8s %-9s %-*s %-20s %-20s %s\n", "ID", "STATE", "ROLE", width,
           "NAME", "CREATED", last_head, "CREATED BY");
    json_array_foreach(json_object_get(out, "items"), i, r)
    {
        printf("%-6lld %-8s %-9s %-*s %-20s %-20s %s\n",
               (long long)json_integer_value(json_object_get(r, "id")),
               cmd_str(json_object_get(r, "state")),
               cmd_str(json_object_get(r, "role")), width,
               safeout_col(cmd_str(json_object_get(r, "name")), (size_t)width,
                           col, sizeof(col)),
               time_col(json_object_get(r, "created_at"), created),
               time_col(json_object_get(r, last), used),
               cmd_str(json_object_get(r, "created_by")));
    }
    json_decref(out);
    return 0;
}

/* `user list` and `token list`: list() reads the rows for list_rows(). */
static int
list_verb(struct latchd_env *env, int argc, char **argv,
          enum latch_status (*list)(struct db *, json_t **, struct latch_err *),
          int width, const char *last, const char *last_head)
{
    struct latch_err err;
    json_t *out = NULL;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    rc = operands(argc, argv, 0, "[--json]");
    if (rc != 0) {
        return rc;
    }
    rc = migrate(env);
    if (rc != 0) {
        return rc;
    }
    st = list(env->db, &out, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return list_rows(env, out, width, last, last_head);
}

int
cmd_user_list(struct latchd_env *env, int argc, char **argv)
{
    return list_verb(env, argc, argv, auth_user_list, 24, "last_signin_at",
                     "LAST SIGN-IN");
}

/*
 * Looks the user up by name and applies the change as the web Users
 * page's Save does (auth_user_update: sessions end, one audit row; a
 * change to what the user is already does nothing). already: what the
 * user is when nothing changed ("enabled", "disabled" or the role).
 */
static int
user_change(struct latchd_env *env, const char *name,
            const enum auth_role *role, const bool *disabled,
            const char *already)
{
    struct latch_err err;
    json_t *out = NULL;
    int64_t id = 0;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    rc = migrate(env);
    if (rc != 0) {
        return rc;
    }
    st = auth_user_id(env->db, name, &id, &err);
    if (st == LATCH_OK) {
        st = auth_user_update(env->db, env->actor, id, role, disabled, &out,
                              &err);
    }
    if (st != LATCH_OK) {
        return latchd_fail_id(env, st, &err, id);
    }
    if (env->json) {
        latchd_print_json(out);
        return 0;
    }
    cmd_human(out);
    if (!json_is_true(json_object_get(out, "changed"))) {
        printf("%s is %s already\n", cmd_str(json_object_get(out, "name")),
               already);
        json_decref(out);
        return 0;
    }
    printf("user %s: %s, role %s; their sessions are ended\n",
           cmd_str(json_object_get(out, "name")),
           cmd_str(json_object_get(out, "state")),
           cmd_str(json_object_get(out, "role")));
    json_decref(out);
    return 0;
}

int
cmd_user_disable(struct latchd_env *env, int argc, char **argv)
{
    const bool disabled = true;
    int rc = operands(argc, argv, 1, "NAME [--json]");

    return rc != 0 ? rc
                   : user_change(env, argv[1], NULL, &disabled, "disabled");
}

int
cmd_user_enable(struct latchd_env *env, int argc, char **argv)
{
    const bool disabled = false;
    int rc = operands(argc, argv, 1, "NAME [--json]");

    return rc != 0 ? rc : user_change(env, argv[1], NULL, &disabled, "enabled");
}

int
cmd_user_role(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    enum auth_role role = AUTH_VIEWER;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    rc = operands(argc, argv, 2, "NAME viewer|approver|admin [--json]");
    if (rc != 0) {
        return rc;
    }
    st = auth_role_parse(argv[2], &role, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    return user_change(env, argv[1], &role, NULL, auth_role_str(role));
}

/* --- tokens -----------------------------------------------------------------
 */

int
cmd_token_create(struct latchd_env *env, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    static const char usage[] = "--role viewer|approver|admin [--name TEXT]";
    struct latch_err err;
    enum auth_role role = AUTH_VIEWER;
    const char *role_s = NULL;
    const char *name = NULL;
    char token[AUTH_TOKEN_LEN];
    json_t *out = NULL;
    int c;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    optind = 1;
    for (;;) {
        c = getopt_long(argc, argv, "", longopts, NULL);
        if (c == -1) {
            break;
        }
        if ((c == 'r' && role_s != NULL) || (c == 'n' && name != NULL)) {
            return given_twice(env, c == 'r' ? "--role" : "--name");
        }
        if (c == 'r') {
            role_s = optarg;
        } else if (c == 'n') {
            name = optarg;
        } else {
            return latchd_usage(argv[0], usage);
        }
    }
    if (optind < argc) {
        return latchd_usage_extra(argv[0], argv[optind], usage);
    }
    if (role_s == NULL) {
        return latchd_usage(argv[0], usage);
    }
    if (name != NULL) {
        st = core_text_check("token name", name, AUTH_NAME_MAX, &err);
        if (st != LATCH_OK) {
            return latchd_fail(env, st, &err);
        }
    }
    rc = role_then_migrate(env, role_s, &role);
    if (rc != 0) {
        return rc;
    }
    st = auth_token_create(env->db, env->actor, role, name, token, &out, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    if (env->json) {
        json_object_set_new(out, "token", json_string(token));
        latchd_print_json(out);
    } else {
        printf("%s\n", token);
        fprintf(stderr,
                "latchd: token %lld (%s) created; it is shown only once\n",
                (long long)json_integer_value(json_object_get(out, "id")),
                auth_role_str(role));
        json_decref(out);
    }
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}

int
cmd_token_list(struct latchd_env *env, int argc, char **argv)
{
    return list_verb(env, argc, argv, auth_token_list, 20, "last_used_at",
                     "LAST USED");
}

/* As the web's Revoke button: a revoked token is an error, not a no-op. */
int
cmd_token_revoke(struct latchd_env *env, int argc, char **argv)
{
    struct latch_err err;
    int64_t id = 0;
    int rc;
    enum latch_status st;

    latch_err_clear(&err);
    rc = operands(argc, argv, 1, "ID [--json]");
    if (rc != 0) {
        return rc;
    }
    st = cmd_parse_id(argv[1], &id, &err);
    if (st != LATCH_OK) {
        return latchd_fail(env, st, &err);
    }
    rc = migrate(env);
    if (rc != 0) {
        return rc;
    }
    st = auth_token_revoke(env->db, env->actor, id, &err);
    if (st != LATCH_OK) {
        /* The id names the token unless there is none. */
        return latchd_fail_id(env, st, &err, st == LATCH_E_NOT_FOUND ? 0 : id);
    }
    if (env->json) {
        latchd_print_json(
            json_pack("{s:I,s:s}", "id", (json_int_t)id, "state", "revoked"));
    } else {
        printf("token %lld revoked\n", (long long)id);
    }
    return 0;
}
