/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * x509util.c: the certificate plumbing latch-ca's verbs share: subjects,
 * serials, extensions, key policy, loading and exclusive writing of PEM
 * files, and the human-readable certificate report.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "codec.h"
#include "fsutil.h"
#include "license.h"

enum latch_status
ca_parse_days(const char *s, long *out, struct latch_err *err)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > CA_MAX_DAYS) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--days: '%s' is not a number of days in 1..%d", s,
                             CA_MAX_DAYS);
    }
    *out = v;
    return LATCH_OK;
}

/* Adds one "key=value" component (already unescaped) to name. */
static enum latch_status
add_component(X509_NAME *name, char *comp, struct latch_err *err)
{
    char *eq = strchr(comp, '=');
    char *key = comp;

    while (*key == ' ') {
        key++;
    }
    if (eq == NULL || eq == key || eq[1] == '\0') {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--subject: '%s' is not ATTRIBUTE=value", comp);
    }
    *eq = '\0';
    if (X509_NAME_add_entry_by_txt(name, key, MBSTRING_UTF8,
                                   (const unsigned char *)(eq + 1), -1, -1,
                                   0) != 1) {
        return latch_err_ossl(err, LATCH_E_USAGE,
                              "--subject: attribute '%s' is unknown or its "
                              "value is invalid",
                              key);
    }
    return LATCH_OK;
}

enum latch_status
ca_parse_subject(const char *text, X509_NAME **out, struct latch_err *err)
{
    char comp[CA_SUBJECT_MAX + 1];
    X509_NAME *name = NULL;
    enum latch_status st = LATCH_OK;
    const char *p = text;
    size_t n = 0;
    char sep = ',';

    *out = NULL;
    if (strlen(text) > CA_SUBJECT_MAX) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "--subject: longer than %d bytes", CA_SUBJECT_MAX);
    }
    for (const char *q = text; *q != '\0'; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f) {
            return latch_err_set(err, LATCH_E_USAGE,
                                 "--subject: control character 0x%02x",
                                 (unsigned)(unsigned char)*q);
        }
    }
    if (*p == '/') {
        sep = '/';
        p++;
    }
    name = X509_NAME_new();
    if (name == NULL) {
        return latch_err_set(err, LATCH_E_NOMEM, "--subject: out of memory");
    }
    for (;; p++) {
        if (*p == '\\' && p[1] == '\0') {
            st = latch_err_set(err, LATCH_E_USAGE,
                               "--subject: ends with a lone '\\'");
            break;
        }
        if (*p == '\\') {
            comp[n++] = *++p;
            continue;
        }
        if (*p != sep && *p != '\0') {
            comp[n++] = *p;
            continue;
        }
        comp[n] = '\0';
        st = add_component(name, comp, err);
        if (st != LATCH_OK || *p == '\0') {
            break;
        }
        n = 0;
    }
    if (st == LATCH_OK) {
        *out = name;
        name = NULL;
    }
    X509_NAME_free(name);
    return st;
}

static bool
ec_named(EVP_PKEY *key, int *nid)
{
    char group[64];
    int explicit_params = 0;

    if (EVP_PKEY_get_int_param(key,
                               OSSL_PKEY_PARAM_EC_DECODED_FROM_EXPLICIT_PARAMS,
                               &explicit_params) == 1 &&
        explicit_params != 0) {
        return false;
    }
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) != 1) {
        return false;
    }
    *nid = OBJ_sn2nid(group);
    if (*nid == NID_undef) {
        *nid = EC_curve_nist2nid(group);
    }
    return true;
}

enum latch_status
ca_key_check(EVP_PKEY *key, char *desc, size_t cap, struct latch_err *err)
{
    int nid = NID_undef;
    int id = EVP_PKEY_get_base_id(key);
    const char *type = EVP_PKEY_get0_type_name(key);

    if (id == EVP_PKEY_ED25519) {
        snprintf(desc, cap, "Ed25519");
        return LATCH_OK;
    }
    if (id == EVP_PKEY_EC) {
        if (!ec_named(key, &nid)) {
            ERR_clear_error();
            snprintf(desc, cap, "EC with explicit curve parameters");
        } else if (nid == NID_X9_62_prime256v1) {
            snprintf(desc, cap, "EC P-256");
            return LATCH_OK;
        } else if (nid == NID_secp384r1) {
            snprintf(desc, cap, "EC P-384");
            return LATCH_OK;
        } else {
            snprintf(desc, cap, "EC %s",
                     nid != NID_undef ? OBJ_nid2sn(nid) : "unknown curve");
        }
    } else {
        snprintf(desc, cap, "%s %d bits", type != NULL ? type : "unknown",
                 EVP_PKEY_get_bits(key));
    }
    return latch_err_set(err, LATCH_E_POLICY,
                         "weak or unsupported key: %s (accepted: EC P-256, "
                         "EC P-384, Ed25519)",
                         desc);
}

const EVP_MD *
ca_md_for(EVP_PKEY *key)
{
    int nid = NID_undef;

    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && ec_named(key, &nid) &&
        nid == NID_X9_62_prime256v1) {
        return EVP_sha256();
    }
    return EVP_sha384();
}

enum latch_status
ca_set_serial(X509 *cert, struct latch_err *err)
{
    unsigned char raw[16];
    BIGNUM *bn = NULL;
    enum latch_status st = LATCH_OK;

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "serial: RAND_bytes");
    }
    /* Positive, and exactly 16 bytes in DER. */
    raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (bn == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "serial: encoding");
    }
    BN_free(bn);
    return st;
}

enum latch_status
ca_add_ext(X509 *cert, X509 *issuer, int nid, const char *value,
           struct latch_err *err)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext = NULL;
    enum latch_status st = LATCH_OK;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || X509_add_ext(cert, ext, -1) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "extension %s = %s",
                            OBJ_nid2sn(nid), value);
    }
    X509_EXTENSION_free(ext);
    return st;
}

enum latch_status
ca_set_validity(X509 *cert, long days, struct latch_err *err)
{
    time_t now = time(NULL);

    if (X509_time_adj_ex(X509_getm_notBefore(cert), 0, -CA_BACKDATE_SECS,
                         &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, &now) ==
            NULL) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "validity dates");
    }
    return LATCH_OK;
}

/*
 * Reads a capped file; *is_pem tells whether it looks like PEM. A PEM file
 * must hold one block: a second certificate or CSR would otherwise be
 * silently ignored, and the operator may believe it was the one used.
 */
static enum latch_status
read_input(const char *path, char **buf, size_t *len, bool *is_pem,
           struct latch_err *err)
{
    enum latch_status st;
    const char *first;

    st = latch_read_file(path, CA_FILE_MAX, buf, len, err);
    if (st != LATCH_OK) {
        return st;
    }
    first = memmem(*buf, *len, "-----BEGIN ", 11);
    *is_pem = first != NULL;
    if (first != NULL && memmem(first + 11, *len - (size_t)(first + 11 - *buf),
                                "-----BEGIN ", 11) != NULL) {
        free(*buf);
        *buf = NULL;
        return latch_err_set(err, LATCH_E_FORMAT,
                             "%s: holds more than one PEM block; give one "
                             "certificate or CSR per file",
                             path);
    }
    return LATCH_OK;
}

enum latch_status
ca_load_cert(const char *path, X509 **out, struct latch_err *err)
{
    const unsigned char *p;
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    bool pem = false;
    enum latch_status st;

    *out = NULL;
    st = read_input(path, &buf, &len, &pem, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (pem) {
        bio = BIO_new_mem_buf(buf, (int)len);
        *out = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    } else {
        p = (const unsigned char *)buf;
        *out = d2i_X509(NULL, &p, (long)len);
        if (*out != NULL && p != (const unsigned char *)buf + len) {
            X509_free(*out);
            *out = NULL;
        }
    }
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "%s: not a PEM or DER X.509 certificate", path);
    }
    BIO_free(bio);
    free(buf);
    return st;
}

enum latch_status
ca_load_csr(const char *path, X509_REQ **out, struct latch_err *err)
{
    const unsigned char *p;
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    bool pem = false;
    enum latch_status st;

    *out = NULL;
    st = read_input(path, &buf, &len, &pem, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (pem) {
        bio = BIO_new_mem_buf(buf, (int)len);
        *out =
            bio != NULL ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    } else {
        p = (const unsigned char *)buf;
        *out = d2i_X509_REQ(NULL, &p, (long)len);
        if (*out != NULL && p != (const unsigned char *)buf + len) {
            X509_REQ_free(*out);
            *out = NULL;
        }
    }
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "%s: not a PEM or DER certificate request (CSR)",
                            path);
    }
    BIO_free(bio);
    free(buf);
    return st;
}

/* Refuses encrypted keys instead of prompting on the terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

enum latch_status
ca_load_key(const char *path, EVP_PKEY **out, struct latch_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    enum latch_status st;

    *out = NULL;
    st = latch_read_file(path, CA_FILE_MAX, &buf, &len, err);
    if (st != LATCH_OK) {
        return st;
    }
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio != NULL) {
        *out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    }
    if (*out == NULL) {
        st = latch_err_ossl(err, LATCH_E_FORMAT,
                            "%s: not an unencrypted PEM private key", path);
    }
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return st;
}

enum latch_status
ca_write_new(const char *path, const void *buf, size_t len, mode_t mode,
             struct latch_err *err)
{
    const char *p = buf;
    enum latch_status st = LATCH_OK;
    ssize_t w;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            return latch_err_set(err, LATCH_E_IO,
                                 "%s: already exists; refusing to overwrite",
                                 path);
        }
        return latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
    }
    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            st = latch_err_set(err, LATCH_E_IO, "%s: write: %s", path,
                               strerror(errno));
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (st == LATCH_OK && (fchmod(fd, mode) != 0 || fsync(fd) != 0)) {
        st = latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (close(fd) != 0 && st == LATCH_OK) {
        st = latch_err_set(err, LATCH_E_IO, "%s: close: %s", path,
                           strerror(errno));
    }
    if (st != LATCH_OK) {
        unlink(path);
    }
    return st;
}

/* Writes what a BIO collected into a new file. */
static enum latch_status
write_bio(const char *path, BIO *bio, mode_t mode, struct latch_err *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);

    if (n <= 0) {
        return latch_err_ossl(err, LATCH_E_CRYPTO, "%s: PEM encoding", path);
    }
    return ca_write_new(path, data, (size_t)n, mode, err);
}

enum latch_status
ca_write_cert(const char *path, X509 *cert, struct latch_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    enum latch_status st;

    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "%s: PEM encoding", path);
    } else {
        st = write_bio(path, bio, 0644, err);
    }
    BIO_free(bio);
    return st;
}

enum latch_status
ca_write_csr(const char *path, X509_REQ *req, struct latch_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    enum latch_status st;

    if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "%s: PEM encoding", path);
    } else {
        st = write_bio(path, bio, 0644, err);
    }
    BIO_free(bio);
    return st;
}

enum latch_status
ca_write_key(const char *path, EVP_PKEY *key, struct latch_err *err)
{
    /* The secure-memory BIO wipes its buffer when freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    enum latch_status st;

    if (bio == NULL ||
        PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        st = latch_err_ossl(err, LATCH_E_CRYPTO, "%s: PEM encoding", path);
    } else {
        st = write_bio(path, bio, 0600, err);
    }
    BIO_free(bio);
    return st;
}

void
ca_fingerprint(X509 *cert, char out[CA_FINGERPRINT_SZ])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    size_t o = 0;

    out[0] = '\0';
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1) {
        return;
    }
    for (i = 0; i < n; i++) {
        o += (size_t)snprintf(out + o, CA_FINGERPRINT_SZ - o, "%s%02X",
                              i > 0 ? ":" : "", md[i]);
    }
}

void
ca_name_text(const X509_NAME *name, char *out, size_t cap)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n = 0;

    out[0] = '\0';
    if (bio == NULL) {
        return;
    }
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >=
        0) {
        n = BIO_read(bio, out, (int)cap - 1);
    }
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
}

bool
ca_time_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

/* One extension's value as OpenSSL prints it, on one line. */
static void
ext_text(X509 *cert, int nid, char *out, size_t cap)
{
    X509_EXTENSION *ext;
    BIO *bio = NULL;
    int idx, n = 0;
    char *nl;

    snprintf(out, cap, "(absent)");
    idx = X509_get_ext_by_NID(cert, nid, -1);
    if (idx < 0) {
        return;
    }
    ext = X509_get_ext(cert, idx);
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || X509V3_EXT_print(bio, ext, 0, 0) != 1) {
        snprintf(out, cap, "(unreadable)");
        BIO_free(bio);
        return;
    }
    n = BIO_read(bio, out, (int)cap - 16);
    n = n > 0 ? n : 0;
    out[n] = '\0';
    for (nl = out; *nl != '\0'; nl++) {
        if (*nl == '\n') {
            *nl = ' ';
        }
    }
    if (X509_EXTENSION_get_critical(ext)) {
        snprintf(out + n, cap - (size_t)n, " (critical)");
    }
    BIO_free(bio);
}

/* The EKU list, naming the latch license-signing purpose. */
static void
eku_text(X509 *cert, char *out, size_t cap, bool *has_latch)
{
    STACK_OF(ASN1_OBJECT) *eku = NULL;
    ASN1_OBJECT *latch = OBJ_txt2obj(LATCH_EKU_LICENSE_SIGNING_OID, 1);
    char oid[96];
    size_t o = 0;
    int i, crit = 0;

    *has_latch = false;
    snprintf(out, cap, "(absent)");
    eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
        const ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);

        if (latch != NULL && OBJ_cmp(obj, latch) == 0) {
            *has_latch = true;
            snprintf(oid, sizeof(oid),
                     "latch license signing (" LATCH_EKU_LICENSE_SIGNING_OID
                     ")");
        } else if (OBJ_obj2txt(oid, sizeof(oid), obj, 0) <= 0) {
            snprintf(oid, sizeof(oid), "?");
        }
        if (o + strlen(oid) + 3 < cap) {
            o += (size_t)snprintf(out + o, cap - o, "%s%s", i > 0 ? ", " : "",
                                  oid);
        }
    }
    if (eku != NULL && crit == 1 && o + 12 < cap) {
        snprintf(out + o, cap - o, " (critical)");
    }
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    ASN1_OBJECT_free(latch);
    ERR_clear_error();
}

static void
print_time(FILE *out, const char *label, const ASN1_TIME *t)
{
    char s[LATCH_TIME_LEN];
    int64_t v = 0;

    if (ca_time_epoch(t, &v)) {
        latch_time_format(v, s);
        fprintf(out, "%-19s %s\n", label, s);
    } else {
        fprintf(out, "%-19s (unreadable)\n", label);
    }
}

void
ca_print_cert(FILE *out, X509 *cert)
{
    struct latch_err e = {LATCH_OK, ""};
    char text[1024];
    char fp[CA_FINGERPRINT_SZ];
    EVP_PKEY *key = X509_get0_pubkey(cert);
    uint32_t flags = X509_get_extension_flags(cert);
    bool has_latch = false;
    BIGNUM *serial = NULL;
    char *hex = NULL;

    ca_name_text(X509_get_subject_name(cert), text, sizeof(text));
    fprintf(out, "%-19s %s\n", "subject:", text);
    ca_name_text(X509_get_issuer_name(cert), text, sizeof(text));
    fprintf(out, "%-19s %s%s\n", "issuer:", text,
            (flags & EXFLAG_SS) != 0 ? " (self-signed)" : "");
    serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    hex = serial != NULL ? BN_bn2hex(serial) : NULL;
    fprintf(out, "%-19s %s\n", "serial:", hex != NULL ? hex : "?");
    if (key == NULL) {
        fprintf(out, "%-19s (unreadable)\n", "key:");
    } else {
        if (ca_key_check(key, text, sizeof(text), &e) == LATCH_OK) {
            fprintf(out, "%-19s %s (%d bits)\n", "key:", text,
                    EVP_PKEY_get_bits(key));
        } else {
            fprintf(out, "%-19s %s (not accepted for license signing)\n",
                    "key:", text);
        }
    }
    print_time(out, "not before:", X509_get0_notBefore(cert));
    print_time(out, "not after:", X509_get0_notAfter(cert));
    ca_fingerprint(cert, fp);
    fprintf(out, "%-19s %s\n", "sha256 fingerprint:", fp);
    ext_text(cert, NID_basic_constraints, text, sizeof(text));
    fprintf(out, "%-19s %s\n", "basic constraints:", text);
    ext_text(cert, NID_key_usage, text, sizeof(text));
    fprintf(out, "%-19s %s\n", "key usage:", text);
    eku_text(cert, text, sizeof(text), &has_latch);
    fprintf(out, "%-19s %s\n", "extended key usage:", text);
    ext_text(cert, NID_subject_key_identifier, text, sizeof(text));
    fprintf(out, "%-19s %s\n", "subject key id:", text);
    ext_text(cert, NID_authority_key_identifier, text, sizeof(text));
    fprintf(out, "%-19s %s\n", "authority key id:", text);
    if ((flags & EXFLAG_CA) != 0) {
        fprintf(out, "%-19s certificate authority (CA:TRUE)\n", "role:");
    } else if (has_latch &&
               (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE) != 0) {
        fprintf(out, "%-19s latch license signing certificate\n", "role:");
    } else {
        fprintf(out,
                "%-19s end entity WITHOUT the latch signing profile: "
                "devices reject licenses it signs\n",
                "role:");
    }
    OPENSSL_free(hex);
    BN_free(serial);
    ERR_clear_error();
}
