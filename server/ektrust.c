/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * ektrust.c: the pinned vendor roots (read-only trust directory) and the
 * reading of certificate files and bundles (DER, PEM, PKCS#7). The store
 * is built once and never changes: latchd adds no anchor by itself.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ekcert.h"
#include "ekcert_int.h"
#include "fsutil.h"

#define TRUST_FILE_MAX   (1024 * 1024)
#define TRUST_MAX_ANCHOR 1024
#define TRUST_MAX_LEVELS 2

struct ek_trust {
    X509_STORE *store;
    STACK_OF(X509) * certs;
    struct ek_anchor *info;
    size_t n;
};

static const char *
reject_reason(void)
{
    unsigned long e = ERR_peek_error();

    if (ERR_GET_LIB(e) == ERR_LIB_ASN1 &&
        ERR_GET_REASON(e) == ASN1_R_ILLEGAL_PADDING) {
        return "non-minimal INTEGER encoding (e.g. a non-DER serial "
               "number); use the vendor's re-issued DER-clean copy";
    }
    if (e != 0) {
        const char *r = ERR_reason_error_string(e);

        return r != NULL ? r : "not a certificate";
    }
    return "not a certificate";
}

static void
note_reject(struct latch_report *rep, size_t *nrejected, size_t idx)
{
    latch_report_add(rep, "certificate-unreadable", LATCH_CHECK_WARN,
                     "certificate #%zu refused: %s", idx + 1, reject_reason());
    ERR_clear_error();
    (*nrejected)++;
}

static enum latch_status
push_copy(STACK_OF(X509) * out, X509 *x, struct latch_err *err)
{
    if (!X509_up_ref(x)) {
        return latch_err_ossl(err, LATCH_E_INTERNAL, "X509_up_ref");
    }
    if (sk_X509_push(out, x) <= 0) {
        X509_free(x);
        return latch_err_set(err, LATCH_E_NOMEM, "sk_X509_push");
    }
    return LATCH_OK;
}

static enum latch_status
from_pkcs7(PKCS7 *p7, STACK_OF(X509) * out, size_t *count,
           struct latch_err *err)
{
    STACK_OF(X509) *certs = NULL;
    int i;
    enum latch_status st;

    if (OBJ_obj2nid(p7->type) == NID_pkcs7_signed && p7->d.sign != NULL) {
        certs = p7->d.sign->cert;
    }
    for (i = 0; i < sk_X509_num(certs); i++) {
        st = push_copy(out, sk_X509_value(certs, i), err);
        if (st != LATCH_OK) {
            return st;
        }
        (*count)++;
    }
    return LATCH_OK;
}

/* One DER element at buf: a certificate or a PKCS#7 ContentInfo. */
static enum latch_status
der_element(const uint8_t *buf, size_t len, STACK_OF(X509) * out, size_t *count,
            size_t *nrejected, size_t idx, struct latch_report *rep,
            struct latch_err *err)
{
    const unsigned char *p = buf;
    X509 *x;
    PKCS7 *p7;
    enum latch_status st;

    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p == buf + len) {
        st = push_copy(out, x, err);
        X509_free(x);
        if (st == LATCH_OK) {
            (*count)++;
        }
        return st;
    }
    X509_free(x);
    p = buf;
    ERR_set_mark();
    p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7 != NULL) {
        ERR_pop_to_mark();
        st = from_pkcs7(p7, out, count, err);
        PKCS7_free(p7);
        return st;
    }
    ERR_pop_to_mark();
    note_reject(rep, nrejected, idx);
    return LATCH_OK;
}

static enum latch_status
from_pem(const uint8_t *buf, size_t len, STACK_OF(X509) * out, size_t *count,
         size_t *nrejected, struct latch_report *rep, struct latch_err *err)
{
    BIO *bio = NULL;
    enum latch_status st = LATCH_OK;
    size_t idx = 0;

    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL) {
        return latch_err_ossl(err, LATCH_E_NOMEM, "BIO_new_mem_buf");
    }
    for (;;) {
        char *name = NULL;
        char *header = NULL;
        unsigned char *data = NULL;
        long n = 0;

        if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
            ERR_clear_error();
            break;
        }
        if (strcmp(name, "CERTIFICATE") == 0 ||
            strcmp(name, "X509 CERTIFICATE") == 0 ||
            strcmp(name, "PKCS7") == 0 || strcmp(name, "CMS") == 0) {
            st = der_element(data, (size_t)n, out, count, nrejected, idx, rep,
                             err);
            idx++;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (st != LATCH_OK) {
            break;
        }
    }
    BIO_free(bio);
    return st;
}

static bool
is_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";

    return len >= sizeof(tag) - 1 &&
           memmem(buf, len, tag, sizeof(tag) - 1) != NULL && buf[0] != 0x30;
}

enum latch_status
ek_certs_from_buf(const uint8_t *buf, size_t len, STACK_OF(X509) * out,
                  size_t *nrejected, struct latch_report *rep,
                  struct latch_err *err)
{
    size_t count = 0;
    size_t rejected = 0;
    size_t off = 0;
    size_t idx = 0;
    enum latch_status st = LATCH_OK;

    if (is_pem(buf, len)) {
        st = from_pem(buf, len, out, &count, &rejected, rep, err);
    } else {
        /* One or more DER elements back to back. */
        while (off < len && st == LATCH_OK) {
            size_t n;
            size_t hl = 2;

            if (len - off < 2 || buf[off] != 0x30) {
                break;
            }
            if (buf[off + 1] < 0x80) {
                n = buf[off + 1];
            } else {
                size_t k = buf[off + 1] & 0x7f;
                size_t i;

                if (k == 0 || k > 3 || len - off < 2 + k) {
                    break;
                }
                n = 0;
                for (i = 0; i < k; i++) {
                    n = (n << 8) | buf[off + 2 + i];
                }
                hl += k;
            }
            if (n > len - off - hl) {
                break;
            }
            st = der_element(buf + off, hl + n, out, &count, &rejected, idx,
                             rep, err);
            off += hl + n;
            idx++;
        }
    }
    if (nrejected != NULL) {
        *nrejected = rejected;
    }
    if (st != LATCH_OK) {
        return st;
    }
    if (count == 0) {
        return latch_err_set(err, LATCH_E_FORMAT,
                             "no readable certificate (%zu refused)", rejected);
    }
    return LATCH_OK;
}

bool
ek_issued(X509 *issuer, X509 *x)
{
    int e = X509_check_issued(issuer, x);

    ERR_clear_error();
    return e == X509_V_OK || e == X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH;
}

static int
store_check_issued(X509_STORE_CTX *ctx, X509 *x, X509 *issuer)
{
    (void)ctx;
    return ek_issued(issuer, x) ? 1 : 0;
}

static enum latch_status
trust_new(struct ek_trust **out, struct latch_err *err)
{
    struct ek_trust *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (t == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "trust: calloc");
    }
    t->store = X509_STORE_new();
    t->certs = sk_X509_new_null();
    t->info = calloc(TRUST_MAX_ANCHOR, sizeof(*t->info));
    if (t->store == NULL || t->certs == NULL || t->info == NULL) {
        ek_trust_free(t);
        return latch_err_set(err, LATCH_E_NOMEM, "trust: allocation");
    }
    X509_STORE_set_check_issued(t->store, store_check_issued);
    *out = t;
    return LATCH_OK;
}

static enum latch_status
trust_add(struct ek_trust *t, X509 *x, const char *path,
          struct latch_report *rep, struct latch_err *err)
{
    struct ek_anchor *a;
    char sha[EK_HEX256_LEN];

    if (!ek_x509_sha256(x, sha)) {
        return latch_err_set(err, LATCH_E_FORMAT, "trust: %s: unencodable",
                             path);
    }
    if (ek_trust_has(t, sha)) {
        return LATCH_OK; /* same root in a file and a bundle */
    }
    if (t->n >= TRUST_MAX_ANCHOR) {
        return latch_err_set(err, LATCH_E_FORMAT, "trust: more than %d anchors",
                             TRUST_MAX_ANCHOR);
    }
    /* Cache the extensions now, before worker threads share x. */
    (void)X509_check_purpose(x, -1, 0);
    if (X509_STORE_add_cert(t->store, x) != 1 ||
        push_copy(t->certs, x, err) != LATCH_OK) {
        return latch_err_ossl(err, LATCH_E_NOMEM, "trust: add %s", path);
    }
    a = &t->info[t->n++];
    snprintf(a->path, sizeof(a->path), "%s", path);
    ek_name_str(X509_get_subject_name(x), a->subject);
    memcpy(a->sha256, sha, sizeof(sha));
    if (!ek_time(X509_get0_notAfter(x), &a->not_after)) {
        a->not_after = 0;
    }
    a->self_signed = ek_self_signed(x);
    if (!a->self_signed) {
        latch_report_add(rep, "trust-anchor", LATCH_CHECK_WARN,
                         "%s: anchor '%s' is not self-signed (issued by "
                         "another root); it is pinned as it is",
                         path, a->subject);
    }
    return LATCH_OK;
}

static enum latch_status
load_file(struct ek_trust *t, const char *path, struct latch_report *rep,
          struct latch_err *err)
{
    STACK_OF(X509) *certs = NULL;
    char *buf = NULL;
    size_t len = 0;
    size_t rejected = 0;
    struct latch_err e2;
    enum latch_status st;
    int i;

    memset(&e2, 0, sizeof(e2));
    st = latch_read_file(path, TRUST_FILE_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return st;
    }
    certs = sk_X509_new_null();
    if (certs == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "trust: stack");
        goto out;
    }
    if (ek_certs_from_buf((const uint8_t *)buf, len, certs, &rejected, rep,
                          &e2) != LATCH_OK) {
        latch_report_add(rep, "trust-file", LATCH_CHECK_WARN, "%s skipped: %s",
                         path, e2.msg);
        st = LATCH_OK;
        goto out;
    }
    for (i = 0; i < sk_X509_num(certs); i++) {
        st = trust_add(t, sk_X509_value(certs, i), path, rep, err);
        if (st != LATCH_OK) {
            goto out;
        }
    }

out:
    sk_X509_pop_free(certs, X509_free);
    free(buf);
    return st;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum latch_status
load_dir(struct ek_trust *t, const char *dir, int level,
         struct latch_report *rep, struct latch_err *err)
{
    DIR *d = NULL;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    size_t cap = 0;
    size_t i;
    enum latch_status st = LATCH_OK;

    d = opendir(dir);
    if (d == NULL) {
        return latch_err_set(err, LATCH_E_IO, "trust directory %s: %s", dir,
                             strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            size_t nc = cap == 0 ? 32 : cap * 2;
            char **nn;

            if (nc > 65536) {
                st = latch_err_set(err, LATCH_E_FORMAT,
                                   "trust directory %s: too many entries", dir);
                goto out;
            }
            nn = realloc(names, nc * sizeof(*nn));
            if (nn == NULL) {
                st = latch_err_set(err, LATCH_E_NOMEM, "trust: dir list");
                goto out;
            }
            names = nn;
            cap = nc;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            st = latch_err_set(err, LATCH_E_NOMEM, "trust: strdup");
            goto out;
        }
        n++;
    }
    /* Sorted, so the anchor list reads the same on every start. */
    if (n > 0) {
        qsort(names, n, sizeof(*names), name_cmp);
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        char path[1024];
        struct stat sb;
        int w;

        w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (w < 0 || (size_t)w >= sizeof(path)) {
            st = latch_err_set(err, LATCH_E_IO, "trust: path too long: %s/%s",
                               dir, names[i]);
            break;
        }
        if (stat(path, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (level < TRUST_MAX_LEVELS) {
                st = load_dir(t, path, level + 1, rep, err);
            }
        } else if (S_ISREG(sb.st_mode)) {
            st = load_file(t, path, rep, err);
        }
    }

out:
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return st;
}

enum latch_status
ek_trust_load(const char *dir, struct ek_trust **out, struct latch_report *rep,
              struct latch_err *err)
{
    struct ek_trust *t = NULL;
    enum latch_status st;

    *out = NULL;
    st = trust_new(&t, err);
    if (st != LATCH_OK) {
        return st;
    }
    st = load_dir(t, dir, 0, rep, err);
    if (st == LATCH_OK && t->n == 0) {
        st = latch_err_set(err, LATCH_E_NOT_FOUND,
                           "trust directory %s holds no certificate", dir);
    }
    if (st != LATCH_OK) {
        ek_trust_free(t);
        return st;
    }
    *out = t;
    return LATCH_OK;
}

enum latch_status
ek_trust_from_stack(STACK_OF(X509) * anchors, struct ek_trust **out,
                    struct latch_err *err)
{
    struct ek_trust *t = NULL;
    enum latch_status st;
    int i;

    *out = NULL;
    st = trust_new(&t, err);
    if (st != LATCH_OK) {
        return st;
    }
    for (i = 0; i < sk_X509_num(anchors) && st == LATCH_OK; i++) {
        st = trust_add(t, sk_X509_value(anchors, i), "(memory)", NULL, err);
    }
    if (st != LATCH_OK) {
        ek_trust_free(t);
        return st;
    }
    *out = t;
    return LATCH_OK;
}

size_t
ek_trust_count(const struct ek_trust *t)
{
    return t == NULL ? 0 : t->n;
}

const struct ek_anchor *
ek_trust_get(const struct ek_trust *t, size_t i)
{
    if (t == NULL || i >= t->n) {
        return NULL;
    }
    return &t->info[i];
}

bool
ek_trust_has(const struct ek_trust *t, const char *sha256_hex)
{
    size_t i;

    if (t == NULL || sha256_hex == NULL) {
        return false;
    }
    for (i = 0; i < t->n; i++) {
        if (strcmp(t->info[i].sha256, sha256_hex) == 0) {
            return true;
        }
    }
    return false;
}

X509_STORE *
ek_trust_store(const struct ek_trust *t)
{
    return t->store;
}

size_t
ek_trust_ncerts(const struct ek_trust *t)
{
    return t->n;
}

X509 *
ek_trust_cert(const struct ek_trust *t, size_t i)
{
    return sk_X509_value(t->certs, (int)i);
}

void
ek_trust_free(struct ek_trust *t)
{
    if (t == NULL) {
        return;
    }
    X509_STORE_free(t->store);
    sk_X509_pop_free(t->certs, X509_free);
    free(t->info);
    free(t);
}
