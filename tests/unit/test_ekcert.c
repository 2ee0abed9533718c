/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_ekcert.c: EK certificates from real TPMs (tests/data/ek, pinned
 * roots in tests/data/roots/anchors, intermediates in
 * tests/data/roots/intermediates) and synthetic ones made here with
 * OpenSSL for each rejection kind; ROCA moduli; MakeCredential to every
 * real EK key. The clock is fixed so expiry does not move the results.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "aia.h"
#include "ekcert.h"
#include "fsutil.h"
#include "mkcred.h"
#include "tpmt.h"

#define EK_DIR   "tests/data/ek/"
#define ANCHORS  "tests/data/roots/anchors"
#define INTERMED "tests/data/roots/intermediates"
#define BUNDLES  "tests/data/roots/bundles/"
#define ROCA_DIR "tests/data/roca/"
#define NOW      1796256000LL /* 2026-12-03T00:00:00Z */
#define LATER    2032732800LL /* 2034-06-01 */
#define EARLIER  1496275200LL /* 2017-06-01 */
#define DAY      86400LL

static struct ek_trust *trust;
static STACK_OF(X509) * intermediates;

/* ---- helpers ------------------------------------------------------------ */

static void
load_dir(const char *dir, STACK_OF(X509) * out)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[1024];
        struct stat sb;
        char *buf = NULL;
        size_t len = 0;
        struct latch_err err;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        assert_int_equal(stat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            load_dir(path, out);
            continue;
        }
        assert_int_equal(latch_read_file(path, 1 << 20, &buf, &len, &err),
                         LATCH_OK);
        /* Only the non-DER STMicro copies may be refused. */
        if (ek_certs_from_buf((const uint8_t *)buf, len, out, NULL, NULL,
                              &err) != LATCH_OK &&
            strstr(path, "STMicro") == NULL) {
            fail_msg("%s: %s", path, err.msg);
        }
        free(buf);
    }
    closedir(d);
}

static int
setup(void **state)
{
    struct latch_err err;

    (void)state;
    if (ek_trust_load(ANCHORS, &trust, NULL, &err) != LATCH_OK) {
        fprintf(stderr, "trust: %s\n", err.msg);
        return -1;
    }
    intermediates = sk_X509_new_null();
    load_dir(INTERMED, intermediates);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    ek_trust_free(trust);
    sk_X509_pop_free(intermediates, X509_free);
    return 0;
}

static uint8_t *
read_all(const char *path, size_t *len)
{
    struct latch_err err;
    char *buf = NULL;

    assert_int_equal(latch_read_file(path, 1 << 20, &buf, len, &err), LATCH_OK);
    return (uint8_t *)buf;
}

static struct ek_cert *
parse_file(const char *name)
{
    char path[512];
    struct ek_cert *c = NULL;
    struct latch_err err;
    uint8_t *buf;
    size_t len = 0;

    snprintf(path, sizeof(path), EK_DIR "%s", name);
    buf = read_all(path, &len);
    if (ek_cert_parse(buf, len, &c, NULL, &err) != LATCH_OK) {
        fail_msg("%s: %s", name, err.msg);
    }
    free(buf);
    return c;
}

static void
verify(const struct ek_trust *t, const struct ek_cert *c,
       STACK_OF(X509) * helpers, int64_t now, struct ek_result *res,
       struct latch_report *rep)
{
    struct ek_verify_opts o;
    struct latch_err err;

    memset(&o, 0, sizeof(o));
    memset(rep, 0, sizeof(*rep));
    o.now = now;
    assert_int_equal(ek_verify(t, c, helpers, &o, res, rep, &err), LATCH_OK);
}

static bool
report_has(const struct latch_report *rep, const char *name,
           enum latch_check_result r)
{
    size_t i;

    for (i = 0; i < rep->n; i++) {
        if (strcmp(rep->items[i].name, name) == 0 &&
            rep->items[i].result == r) {
            return true;
        }
    }
    return false;
}

/* ---- the real corpus ----------------------------------------------------- */

struct corpus_case {
    const char *file;
    enum ek_outcome outcome;
    enum ek_reason reason;
    const char *vendor; /* decoded SAN manufacturer */
    const char *model;
    const char *version; /* SAN as written */
    const char *firmware;
    enum ek_form form;
    enum ek_key_type key;
    bool oaep;
};

static const struct corpus_case corpus[] = {
    {"google-gce-vtpm-pca-rsa.pem", EK_VALID, EK_R_NONE, "", "", "", "",
     EK_FORM_PEM, EK_KEY_RSA, false},
    {"google-gce-vtpm-uca-ecc-p256.pem", EK_VALID, EK_R_NONE, "GOOG", "vTPM",
     "id:20160511", "8214.1297", EK_FORM_PEM, EK_KEY_EC, false},
    {"google-gce-vtpm-uca-rsa.pem", EK_VALID, EK_R_NONE, "GOOG", "vTPM",
     "id:20160511", "8214.1297", EK_FORM_PEM, EK_KEY_RSA, false},
    {"infineon-slb9635-tpm12-rsaoaep-nvblob-tcg-header.bin", EK_INVALID,
     EK_R_TPM12, "IFX", "SLB9635TT1.2", "id:0313", "3.19", EK_FORM_NV_HEADER,
     EK_KEY_RSA, true},
    {"infineon-slb9635-tpm12-rsaoaep-stripped.der", EK_INVALID, EK_R_TPM12,
     "IFX", "SLB9635TT1.2", "id:0313", "3.19", EK_FORM_DER_FILL, EK_KEY_RSA,
     true},
    {"infineon-slb9670-ecc-p256.der", EK_VALID, EK_R_NONE, "IFX",
     "SLB 9670 TPM2.0", "id:073f", "7.63", EK_FORM_DER, EK_KEY_EC, false},
    {"infineon-slb9670-rsa.der", EK_VALID, EK_R_NONE, "IFX", "SLB 9670 TPM2.0",
     "id:073f", "7.63", EK_FORM_DER, EK_KEY_RSA, false},
    {"intel-ptt-spt-rsa-ecdsa-signed.pem", EK_VALID, EK_R_NONE, "INTC", "SPT",
     "id:00020000", "2.0", EK_FORM_PEM, EK_KEY_RSA, false},
    {"nuvoton-npct75x-rsa-nonder-san-set.der", EK_VALID, EK_R_NONE, "NTC",
     "NPCT75x", "id:00070002", "7.2", EK_FORM_DER, EK_KEY_RSA, false},
    {"stm-st33htph-ecc-p256.der", EK_VALID, EK_R_NONE, "STM", "ST33HTPHAHB4",
     "id:00490004", "73.4", EK_FORM_DER, EK_KEY_EC, false},
    {"stm-st33htph-rsa-ff-padded-1600.der", EK_VALID, EK_R_NONE, "STM",
     "ST33HTPHAHB4", "id:00490004", "73.4", EK_FORM_DER_FILL, EK_KEY_RSA,
     false},
    {"stm-st33zp24-rsaoaep-sha1-ab21ccf2.pem", EK_INVALID, EK_R_TPM12, "STM",
     "ST33ZP24PVSP", "id:0D0C", "13.12", EK_FORM_PEM, EK_KEY_RSA, true},
    {"stm-st33zp24-rsaoaep-sha1-nuc1.pem", EK_INVALID, EK_R_TPM12, "STM",
     "ST33ZP24PVSP", "id:0D0C", "13.12", EK_FORM_PEM, EK_KEY_RSA, true},
    {"stm-st33zp24-rsaoaep-sha1-nuc2.pem", EK_INVALID, EK_R_TPM12, "STM",
     "ST33ZP24PVSP", "id:0D0C", "13.12", EK_FORM_PEM, EK_KEY_RSA, true},
    {"swtpm-localca-rsa.der", EK_INVALID, EK_R_ISSUER_NOT_FOUND, "", "swtpm",
     "id:20191023", "8217.4131", EK_FORM_DER, EK_KEY_RSA, false},
};

static void
test_corpus_outcomes_match_the_table(void **state)
{
    size_t i;
    size_t files = 0;
    DIR *d;
    struct dirent *de;

    (void)state;
    for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        const struct corpus_case *t = &corpus[i];
        struct ek_cert *c = parse_file(t->file);
        struct ek_result res;
        struct latch_report rep;

        verify(trust, c, intermediates, NOW, &res, &rep);
        if (res.outcome != t->outcome || res.reason != t->reason) {
            fail_msg("%s: got %s/%s (%s), want %s/%s", t->file,
                     ek_outcome_str(res.outcome), ek_reason_str(res.reason),
                     res.detail, ek_outcome_str(t->outcome),
                     ek_reason_str(t->reason));
        }
        assert_string_equal(c->tpm_vendor, t->vendor);
        assert_string_equal(c->tpm_model, t->model);
        assert_string_equal(c->tpm_version, t->version);
        assert_string_equal(c->tpm_firmware, t->firmware);
        assert_int_equal(c->form, t->form);
        assert_int_equal(c->key_type, t->key);
        assert_int_equal(c->spki_rsaes_oaep, t->oaep);
        assert_non_null(c->pkey);
        if (t->outcome == EK_VALID) {
            /* A valid chain ends at a pinned root and is 2..4 long. */
            assert_true(res.chain_len >= 2 && res.chain_len <= 4);
            assert_true(res.chain[res.chain_len - 1].pinned);
            assert_string_equal(res.chain[0].sha256, c->sha256);
            assert_true(report_has(&rep, "ek-chain", LATCH_CHECK_PASS));
        }
        ek_cert_free(c);
    }
    /* Every file in the folder has a row: a new file needs a verdict. */
    d = opendir(EK_DIR);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' && strcmp(de->d_name, "README.md") != 0) {
            bool found = false;

            for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
                found |= strcmp(corpus[i].file, de->d_name) == 0;
            }
            if (!found) {
                fail_msg("%s has no row in the corpus table", de->d_name);
            }
            files++;
        }
    }
    closedir(d);
    assert_int_equal(files, sizeof(corpus) / sizeof(corpus[0]));
}

static void
test_tpm12_chains_still_verify_to_their_roots(void **state)
{
    static const char *const files[] = {
        "stm-st33zp24-rsaoaep-sha1-nuc1.pem",
        "infineon-slb9635-tpm12-rsaoaep-nvblob-tcg-header.bin"};
    size_t i;

    (void)state;
    /* Rejected for being TPM 1.2, not for the chain: SHA-1, rsaesOaep and
     * the AKI quirk are handled and reported. */
    for (i = 0; i < 2; i++) {
        struct ek_cert *c = parse_file(files[i]);
        struct ek_result res;
        struct latch_report rep;

        assert_true(c->is_tpm12);
        verify(trust, c, intermediates, NOW, &res, &rep);
        assert_int_equal(res.reason, EK_R_TPM12);
        assert_true(report_has(&rep, "ek-chain", LATCH_CHECK_PASS));
        assert_true(report_has(&rep, "ek-sha1", LATCH_CHECK_WARN));
        assert_true(res.sha1);
        assert_true(res.expired);
        assert_int_equal(res.chain_len, 4);
        if (i == 1) {
            /* Old Infineon AKIs name another issuer serial: a warning. */
            assert_true(report_has(&rep, "ek-aki", LATCH_CHECK_WARN));
        }
        ek_cert_free(c);
    }
}

static void
test_profile_deviations_are_warnings(void **state)
{
    struct ek_cert *c = parse_file("google-gce-vtpm-pca-rsa.pem");
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    verify(trust, c, intermediates, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_VALID);
    assert_true(report_has(&rep, "ek-eku", LATCH_CHECK_WARN));
    assert_true(report_has(&rep, "ek-san", LATCH_CHECK_WARN));
    assert_true(report_has(&rep, "ek-subject", LATCH_CHECK_WARN));
    assert_true(res.warnings >= 3);
    ek_cert_free(c);
}

static void
test_expired_ek_needs_override(void **state)
{
    struct ek_cert *c = parse_file("infineon-slb9670-rsa.der");
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    verify(trust, c, intermediates, LATER, &res, &rep);
    assert_int_equal(res.outcome, EK_NEEDS_OVERRIDE);
    assert_int_equal(res.reason, EK_R_EXPIRED);
    assert_true(res.expired);
    ek_cert_free(c);
}

static void
test_not_yet_valid_ek_is_invalid(void **state)
{
    struct ek_cert *c = parse_file("infineon-slb9670-rsa.der");
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    verify(trust, c, intermediates, EARLIER, &res, &rep);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_NOT_YET_VALID);
    ek_cert_free(c);
}

static X509 *
x509_file(const char *path)
{
    STACK_OF(X509) *st = sk_X509_new_null();
    struct latch_err err;
    uint8_t *buf;
    size_t len = 0;
    X509 *x;

    buf = read_all(path, &len);
    assert_int_equal(ek_certs_from_buf(buf, len, st, NULL, NULL, &err),
                     LATCH_OK);
    free(buf);
    x = sk_X509_shift(st);
    sk_X509_pop_free(st, X509_free);
    return x;
}

static struct ek_trust *
trust_of(const char *const *paths, size_t n)
{
    STACK_OF(X509) *st = sk_X509_new_null();
    struct ek_trust *t = NULL;
    struct latch_err err;
    size_t i;

    for (i = 0; i < n; i++) {
        sk_X509_push(st, x509_file(paths[i]));
    }
    assert_int_equal(ek_trust_from_stack(st, &t, &err), LATCH_OK);
    sk_X509_pop_free(st, X509_free);
    return t;
}

static void
test_unknown_root_names_the_root_and_its_fingerprint(void **state)
{
    static const char *const other[] = {ANCHORS "/Intel/EKRootPublicKey.cer"};
    const char *root = ANCHORS "/Infineon/Infineon_OPTIGA_TM_RSA_Root_CA.crt";
    struct ek_trust *t = trust_of(other, 1);
    struct ek_cert *c = parse_file("infineon-slb9670-rsa.der");
    STACK_OF(X509) *helpers = sk_X509_dup(intermediates);
    X509 *rx = x509_file(root);
    struct ek_result res;
    struct latch_report rep;
    uint8_t *der;
    size_t len = 0;
    char sha[EK_HEX256_LEN];

    (void)state;
    /* The root arrives as an untrusted helper (as AIA would bring it). */
    sk_X509_push(helpers, rx);
    verify(t, c, helpers, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_UNKNOWN_ROOT);
    assert_int_equal(res.reason, EK_R_UNKNOWN_ROOT);
    der = read_all(root, &len);
    ek_sha256_hex(der, len, sha);
    assert_string_equal(res.root_sha256, sha);
    assert_non_null(strstr(res.root_subject, "Infineon OPTIGA(TM) RSA Root"));
    assert_non_null(strstr(ek_pinning_steps(), "trust directory"));
    free(der);

    /* Without the root at all the chain is merely incomplete. */
    verify(t, c, intermediates, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_ISSUER_NOT_FOUND);
    sk_X509_free(helpers);
    X509_free(rx);
    ek_cert_free(c);
    ek_trust_free(t);
}

static void
test_vendor_root_issued_by_another_root_can_be_the_anchor(void **state)
{
    static const char *const stm[] = {ANCHORS
                                      "/STMicro/ST_TPM_Root_Certificate.crt"};
    struct ek_trust *t = trust_of(stm, 1);
    struct ek_cert *c = parse_file("stm-st33htph-rsa-ff-padded-1600.der");
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    verify(t, c, intermediates, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_VALID);
    assert_int_equal(res.chain_len, 3);
    assert_true(res.chain[2].pinned);
    assert_true(report_has(&rep, "ek-anchor", LATCH_CHECK_WARN));
    ek_cert_free(c);
    ek_trust_free(t);
}

static void
test_non_der_intermediates_are_refused_and_named(void **state)
{
    STACK_OF(X509) *st = sk_X509_new_null();
    STACK_OF(X509) *only_bad = sk_X509_new_null();
    struct latch_report rep;
    struct latch_err err;
    size_t rejected = 0;
    size_t len = 0;
    uint8_t *buf;
    struct ek_cert *c;
    struct ek_result res;

    (void)state;
    memset(&rep, 0, sizeof(rep));
    buf = read_all(INTERMED "/STMicro/STM_TPM_EK_Intermediate_CA_05.crt", &len);
    assert_int_equal(ek_certs_from_buf(buf, len, st, &rejected, &rep, &err),
                     LATCH_E_FORMAT);
    assert_int_equal(rejected, 1);
    assert_non_null(strstr(rep.items[0].detail, "non-minimal INTEGER"));
    free(buf);
    /* The DER-clean re-issue of the same CA is accepted. */
    buf =
        read_all(INTERMED "/STMicro/STM_TPM_EK_Intermediate_CA_05_2.crt", &len);
    assert_int_equal(ek_certs_from_buf(buf, len, st, &rejected, NULL, &err),
                     LATCH_OK);
    assert_int_equal(sk_X509_num(st), 1);
    free(buf);
    /* With only the non-DER copy around, the chain stays incomplete. */
    c = parse_file("stm-st33htph-rsa-ff-padded-1600.der");
    verify(trust, c, only_bad, NOW, &res, &rep);
    assert_int_equal(res.reason, EK_R_ISSUER_NOT_FOUND);
    verify(trust, c, st, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_VALID);
    ek_cert_free(c);
    sk_X509_pop_free(st, X509_free);
    sk_X509_free(only_bad);
}

static void
test_trust_loads_pem_bundles_and_lists_fingerprints(void **state)
{
    char dir[] = "/tmp/ektrustXXXXXX";
    char path[512];
    struct ek_trust *t = NULL;
    struct latch_err err;
    uint8_t *buf;
    size_t len = 0;
    size_t i;
    struct ek_cert *c;
    struct ek_result res;
    struct latch_report rep;
    STACK_OF(X509) *inter = sk_X509_new_null();

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf = read_all(BUNDLES "tpm-ca-certificates.MIRROR.pem", &len);
    snprintf(path, sizeof(path), "%s/bundle.pem", dir);
    assert_int_equal(latch_write_atomic(path, buf, len, 0644, &err), LATCH_OK);
    free(buf);
    assert_int_equal(ek_trust_load(dir, &t, NULL, &err), LATCH_OK);
    assert_true(ek_trust_count(t) >= 20);
    for (i = 0; i < ek_trust_count(t); i++) {
        assert_int_equal(strlen(ek_trust_get(t, i)->sha256), 64);
        assert_true(ek_trust_has(t, ek_trust_get(t, i)->sha256));
    }
    assert_null(ek_trust_get(t, ek_trust_count(t)));
    buf = read_all(BUNDLES "tpm-intermediate-ca-certificates.MIRROR.pem", &len);
    assert_int_equal(ek_certs_from_buf(buf, len, inter, NULL, NULL, &err),
                     LATCH_OK);
    free(buf);
    c = parse_file("infineon-slb9670-rsa.der");
    verify(t, c, inter, NOW, &res, &rep);
    assert_int_equal(res.outcome, EK_VALID);
    ek_cert_free(c);
    ek_trust_free(t);
    sk_X509_pop_free(inter, X509_free);
    unlink(path);
    rmdir(dir);
    /* An empty directory is no trust store. */
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(ek_trust_load(dir, &t, NULL, &err), LATCH_E_NOT_FOUND);
    rmdir(dir);
}

/* ---- framing ------------------------------------------------------------ */

static uint8_t *
corpus_der(size_t *len)
{
    return read_all(EK_DIR "infineon-slb9670-rsa.der", len);
}

static enum latch_status
parse_buf(const uint8_t *b, size_t n, struct latch_err *err)
{
    struct ek_cert *c = NULL;
    enum latch_status st = ek_cert_parse(b, n, &c, NULL, err);

    ek_cert_free(c);
    return st;
}

static void
test_parse_accepts_ff_and_zero_fill(void **state)
{
    size_t len = 0;
    uint8_t *der = corpus_der(&len);
    uint8_t *b = malloc(len + 600);
    struct ek_cert *c = NULL;
    struct latch_err err;

    (void)state;
    memcpy(b, der, len);
    memset(b + len, 0xff, 600);
    assert_int_equal(ek_cert_parse(b, len + 600, &c, NULL, &err), LATCH_OK);
    assert_int_equal(c->form, EK_FORM_DER_FILL);
    assert_int_equal(c->fill_len, 600);
    assert_int_equal(c->der_len, len);
    assert_memory_equal(c->der, der, len);
    ek_cert_free(c);
    memset(b + len, 0x00, 600);
    assert_int_equal(parse_buf(b, len + 600, &err), LATCH_OK);
    free(b);
    free(der);
}

static void
test_parse_rejects_junk_after_der(void **state)
{
    size_t len = 0;
    uint8_t *der = corpus_der(&len);
    uint8_t *b = malloc(len + 16);
    struct latch_err err;

    (void)state;
    memcpy(b, der, len);
    memcpy(b + len, "XYZ", 3);
    assert_int_equal(parse_buf(b, len + 3, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "junk after certificate"));
    /* Fill that changes value is junk too. */
    memset(b + len, 0xff, 16);
    b[len + 15] = 0x00;
    assert_int_equal(parse_buf(b, len + 16, &err), LATCH_E_FORMAT);
    /* A second certificate is not fill. */
    free(b);
    b = malloc(2 * len);
    memcpy(b, der, len);
    memcpy(b + len, der, len);
    assert_int_equal(parse_buf(b, 2 * len, &err), LATCH_E_FORMAT);
    free(b);
    free(der);
}

static void
test_parse_checks_nv_header_bounds(void **state)
{
    size_t len = 0;
    uint8_t *der = corpus_der(&len);
    uint8_t *b = malloc(len + 7 + 10);
    struct latch_err err;
    size_t declared = len + 2;

    (void)state;
    b[0] = 0x10;
    b[1] = 0x01;
    b[2] = 0x00;
    b[3] = (uint8_t)(declared >> 8);
    b[4] = (uint8_t)declared;
    b[5] = 0x10;
    b[6] = 0x02;
    memcpy(b + 7, der, len);
    assert_int_equal(parse_buf(b, len + 7, &err), LATCH_OK);
    /* Size past the end of the buffer. */
    b[3] = 0xff;
    b[4] = 0xff;
    assert_int_equal(parse_buf(b, len + 7, &err), LATCH_E_FORMAT);
    /* Size that disagrees with the DER. */
    b[3] = (uint8_t)((declared - 1) >> 8);
    b[4] = (uint8_t)(declared - 1);
    assert_int_equal(parse_buf(b, len + 7, &err), LATCH_E_FORMAT);
    /* Header only. */
    assert_int_equal(parse_buf(b, 7, &err), LATCH_E_FORMAT);
    /* Truncated DER. */
    assert_int_equal(parse_buf(der, len - 1, &err), LATCH_E_FORMAT);
    assert_int_equal(parse_buf(der, 1, &err), LATCH_E_FORMAT);
    free(b);
    free(der);
}

/* ---- synthetic PKI ------------------------------------------------------ */

struct pki {
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *int_key;
    X509 *inter;
    EVP_PKEY *ek_key; /* RSA-2048 */
    struct ek_trust *trust;
    STACK_OF(X509) * helpers;
};

static struct pki pki;

static EVP_PKEY *
ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    assert_non_null(k);
    return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

static X509 *
new_cert(const char *subject_cn, X509 *issuer, EVP_PKEY *pub, long serial,
         int64_t nb, int64_t na)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    if (subject_cn != NULL) {
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                   (const unsigned char *)"Test TPM Vendor", -1,
                                   -1, 0);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                   (const unsigned char *)subject_cn, -1, -1,
                                   0);
    }
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
    X509_set_pubkey(x, pub);
    return x;
}

static void
sign(X509 *x, EVP_PKEY *key)
{
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
}

static X509 *
make_ca(const char *cn, X509 *issuer, EVP_PKEY *key, EVP_PKEY *ikey)
{
    X509 *x = new_cert(cn, issuer, key, 1, NOW - 365 * DAY, NOW + 3650 * DAY);

    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x, x, NID_subject_key_identifier, "hash");
    if (issuer != NULL) {
        add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    }
    sign(x, ikey);
    return x;
}

struct ek_opts {
    int64_t nb;
    int64_t na;
    const char *eku;      /* NULL: 2.23.133.8.1 */
    const char *critical; /* extra critical OID, or NULL */
    const char *mfr;      /* SAN manufacturer */
    const char *ver;      /* SAN version */
    const char *cn;       /* subject CN, may hold NUL via cn_len */
    size_t cn_len;
    EVP_PKEY *pub; /* NULL: pki.ek_key */
    bool oaep;     /* publish the RSA key under id-RSAES-OAEP */
};

/*
 * Replaces x's SPKI algorithm with id-RSAES-OAEP (SHA-256, MGF1-SHA-256,
 * no label: a TPM 2.0 chip, not the "TCPA" label of TPM 1.2); the key
 * stays the PKCS#1 RSAPublicKey of pub.
 */
static void
set_oaep_spki(X509 *x, EVP_PKEY *pub)
{
    RSA_OAEP_PARAMS *prm = RSA_OAEP_PARAMS_new();
    X509_ALGOR *mgfhash = X509_ALGOR_new();
    ASN1_STRING *mgfparam;
    ASN1_STRING *seq;
    unsigned char *der = NULL;
    int len = i2d_PublicKey(pub, &der);

    assert_true(len > 0);
    assert_non_null(prm);
    prm->hashFunc = X509_ALGOR_new();
    prm->maskGenFunc = X509_ALGOR_new();
    X509_ALGOR_set_md(prm->hashFunc, EVP_sha256());
    X509_ALGOR_set_md(mgfhash, EVP_sha256());
    mgfparam = ASN1_item_pack(mgfhash, ASN1_ITEM_rptr(X509_ALGOR), NULL);
    assert_non_null(mgfparam);
    assert_int_equal(X509_ALGOR_set0(prm->maskGenFunc, OBJ_nid2obj(NID_mgf1),
                                     V_ASN1_SEQUENCE, mgfparam),
                     1);
    seq = ASN1_item_pack(prm, ASN1_ITEM_rptr(RSA_OAEP_PARAMS), NULL);
    assert_non_null(seq);
    assert_int_equal(X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
                                            OBJ_nid2obj(NID_rsaesOaep),
                                            V_ASN1_SEQUENCE, seq, der, len),
                     1);
    X509_ALGOR_free(mgfhash);
    RSA_OAEP_PARAMS_free(prm);
}

static X509 *
make_ek(const struct ek_opts *o, X509 *issuer, EVP_PKEY *ikey)
{
    X509 *x = new_cert(NULL, issuer, o->pub != NULL ? o->pub : pki.ek_key, 7,
                       o->nb != 0 ? o->nb : NOW - DAY,
                       o->na != 0 ? o->na : NOW + 3650 * DAY);

    if (o->cn != NULL) {
        X509_NAME *n = X509_NAME_new();
        ASN1_STRING *s = ASN1_UTF8STRING_new();

        ASN1_STRING_set(s, o->cn, (int)o->cn_len);
        X509_NAME_add_entry_by_NID(n, NID_commonName, V_ASN1_UTF8STRING,
                                   ASN1_STRING_get0_data(s),
                                   ASN1_STRING_length(s), -1, 0);
        X509_set_subject_name(x, n);
        X509_NAME_free(n);
        ASN1_STRING_free(s);
    }
    {
        /* SAN dirName with the TCG attributes, built by hand. */
        GENERAL_NAMES *gens = GENERAL_NAMES_new();
        GENERAL_NAME *g = GENERAL_NAME_new();
        X509_NAME *dn = X509_NAME_new();

        X509_NAME_add_entry_by_txt(
            dn, "2.23.133.2.1", MBSTRING_UTF8,
            (const unsigned char *)(o->mfr != NULL ? o->mfr : "id:54455354"),
            -1, -1, 0);
        X509_NAME_add_entry_by_txt(dn, "2.23.133.2.2", MBSTRING_UTF8,
                                   (const unsigned char *)"TestTPM", -1, -1, 0);
        X509_NAME_add_entry_by_txt(
            dn, "2.23.133.2.3", MBSTRING_UTF8,
            (const unsigned char *)(o->ver != NULL ? o->ver : "id:00010002"),
            -1, -1, 0);
        GENERAL_NAME_set0_value(g, GEN_DIRNAME, dn);
        sk_GENERAL_NAME_push(gens, g);
        assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1, 0),
                         1);
        GENERAL_NAMES_free(gens);
    }
    add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, x, NID_key_usage, "critical,keyEncipherment");
    add_ext(x, x, NID_ext_key_usage, o->eku != NULL ? o->eku : "2.23.133.8.1");
    add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    if (o->critical != NULL) {
        ASN1_OBJECT *obj = OBJ_txt2obj(o->critical, 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        X509_EXTENSION *e;

        ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
        e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    if (o->oaep) {
        set_oaep_spki(x, o->pub != NULL ? o->pub : pki.ek_key);
    }
    sign(x, ikey);
    return x;
}

static struct ek_cert *
to_ek(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    struct ek_cert *c = NULL;
    struct latch_err err;

    assert_true(n > 0);
    if (ek_cert_parse(der, (size_t)n, &c, NULL, &err) != LATCH_OK) {
        fail_msg("synthetic parse: %s", err.msg);
    }
    OPENSSL_free(der);
    X509_free(x);
    return c;
}

static void
synth_verify(const struct ek_opts *o, struct ek_result *res,
             struct latch_report *rep, struct ek_denylist *deny)
{
    struct ek_cert *c = to_ek(make_ek(o, pki.inter, pki.int_key));
    struct ek_verify_opts vo;
    struct latch_err err;

    memset(&vo, 0, sizeof(vo));
    memset(rep, 0, sizeof(*rep));
    vo.now = NOW;
    vo.deny = deny;
    assert_int_equal(ek_verify(pki.trust, c, pki.helpers, &vo, res, rep, &err),
                     LATCH_OK);
    ek_cert_free(c);
}

static int
pki_setup(void **state)
{
    STACK_OF(X509) *roots = sk_X509_new_null();
    struct latch_err err;

    (void)state;
    pki.root_key = EVP_EC_gen("P-256");
    pki.int_key = EVP_EC_gen("P-256");
    pki.ek_key = EVP_RSA_gen(2048);
    if (pki.root_key == NULL || pki.int_key == NULL || pki.ek_key == NULL) {
        return -1;
    }
    pki.root =
        make_ca("Test TPM Vendor EK Root CA", NULL, pki.root_key, pki.root_key);
    pki.inter = make_ca("Test TPM Vendor EK Issuing CA 01", pki.root,
                        pki.int_key, pki.root_key);
    sk_X509_push(roots, pki.root);
    if (ek_trust_from_stack(roots, &pki.trust, &err) != LATCH_OK) {
        return -1;
    }
    sk_X509_free(roots);
    pki.helpers = sk_X509_new_null();
    X509_up_ref(pki.inter);
    sk_X509_push(pki.helpers, pki.inter);
    return 0;
}

static int
pki_teardown(void **state)
{
    (void)state;
    ek_trust_free(pki.trust);
    sk_X509_pop_free(pki.helpers, X509_free);
    X509_free(pki.root);
    X509_free(pki.inter);
    EVP_PKEY_free(pki.root_key);
    EVP_PKEY_free(pki.int_key);
    EVP_PKEY_free(pki.ek_key);
    return 0;
}

static void
test_synthetic_baseline_is_valid(void **state)
{
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    synth_verify(&o, &res, &rep, NULL);
    if (res.outcome != EK_VALID) {
        fail_msg("baseline: %s", res.detail);
    }
    assert_int_equal(res.chain_len, 3);
}

/*
 * A TPM 2.0 EK certificate whose RSA key is published under rsaesOaep (as
 * on some real chips): not TPM 1.2, its key is the modulus and exponent
 * from the BIT STRING, it chains, and MakeCredential takes the key.
 */
static void
test_tpm20_rsaes_oaep_ek_is_accepted_and_chains(void **state)
{
    const struct latch_ek_info *info = latch_ek_info_by_name("rsa2048");
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;
    struct ek_verify_opts vo;
    struct latch_err err;
    struct ek_cert *c;
    BIGNUM *n1 = NULL;
    BIGNUM *n2 = NULL;
    uint8_t name[34];
    uint8_t secret[32];
    uint8_t *blob = NULL;
    uint8_t *enc = NULL;
    size_t bloblen = 0;
    size_t enclen = 0;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.oaep = true;
    c = to_ek(make_ek(&o, pki.inter, pki.int_key));
    assert_true(c->spki_rsaes_oaep);
    assert_false(c->is_tpm12);
    assert_int_equal(c->key_type, EK_KEY_RSA);
    assert_int_equal(c->key_bits, 2048);
    assert_int_equal(EVP_PKEY_get_bn_param(c->pkey, OSSL_PKEY_PARAM_RSA_N, &n1),
                     1);
    assert_int_equal(
        EVP_PKEY_get_bn_param(pki.ek_key, OSSL_PKEY_PARAM_RSA_N, &n2), 1);
    assert_int_equal(BN_cmp(n1, n2), 0);
    BN_free(n1);
    BN_free(n2);

    memset(&vo, 0, sizeof(vo));
    memset(&rep, 0, sizeof(rep));
    vo.now = NOW;
    assert_int_equal(
        ek_verify(pki.trust, c, pki.helpers, &vo, &res, &rep, &err), LATCH_OK);
    if (res.outcome != EK_VALID) {
        fail_msg("rsaesOaep TPM 2.0 EK: %s", res.detail);
    }
    assert_int_equal(res.chain_len, 3);
    assert_true(res.chain[2].pinned);

    memset(name, 0x0b, sizeof(name));
    name[0] = 0x00;
    memset(secret, 0x5a, sizeof(secret));
    assert_non_null(info);
    if (latch_make_credential(c->pkey, info, name, sizeof(name), secret,
                              sizeof(secret), &blob, &bloblen, &enc, &enclen,
                              &err) != LATCH_OK) {
        fail_msg("make credential: %s", err.msg);
    }
    assert_int_equal(enclen, 2 + 256);
    free(blob);
    free(enc);
    ek_cert_free(c);
}

static void
test_verify_rejects_unknown_critical_extension(void **state)
{
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.critical = "1.3.6.1.4.1.99999.1";
    synth_verify(&o, &res, &rep, NULL);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_CRITICAL_EXT);
}

static void
test_verify_rejects_not_before_in_future(void **state)
{
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.nb = NOW + 7 * DAY;
    synth_verify(&o, &res, &rep, NULL);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_NOT_YET_VALID);
}

static void
test_verify_expired_synthetic_needs_override(void **state)
{
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.nb = NOW - 30 * DAY;
    o.na = NOW - DAY;
    synth_verify(&o, &res, &rep, NULL);
    assert_int_equal(res.outcome, EK_NEEDS_OVERRIDE);
    assert_int_equal(res.reason, EK_R_EXPIRED);
}

static void
test_verify_rejects_bad_signature_in_chain(void **state)
{
    EVP_PKEY *other = ec_key();
    struct ek_opts o;
    struct ek_cert *c;
    struct ek_result res;
    struct latch_report rep;
    struct ek_verify_opts vo;
    struct latch_err err;
    unsigned char *der = NULL;
    int n;
    X509 *x;

    (void)state;
    memset(&rep, 0, sizeof(rep));
    memset(&o, 0, sizeof(o));
    memset(&vo, 0, sizeof(vo));
    vo.now = NOW;
    /* Signed by another key under the issuing CA's name and key id. */
    x = make_ek(&o, pki.inter, other);
    c = to_ek(x);
    assert_int_equal(
        ek_verify(pki.trust, c, pki.helpers, &vo, &res, &rep, &err), LATCH_OK);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_BAD_SIGNATURE);
    ek_cert_free(c);
    /* One flipped bit in a good signature. */
    x = make_ek(&o, pki.inter, pki.int_key);
    n = i2d_X509(x, &der);
    der[n - 5] ^= 0x01;
    assert_int_equal(ek_cert_parse(der, (size_t)n, &c, NULL, &err), LATCH_OK);
    assert_int_equal(
        ek_verify(pki.trust, c, pki.helpers, &vo, &res, &rep, &err), LATCH_OK);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_BAD_SIGNATURE);
    ek_cert_free(c);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(other);
}

static void
test_verify_rejects_self_signed_fake_intermediate(void **state)
{
    EVP_PKEY *fk = ec_key();
    X509 *fake;
    STACK_OF(X509) *helpers = sk_X509_new_null();
    struct ek_opts o;
    struct ek_cert *c;
    struct ek_result res;
    struct latch_report rep;
    struct ek_verify_opts vo;
    struct latch_err err;

    (void)state;
    memset(&rep, 0, sizeof(rep));
    memset(&o, 0, sizeof(o));
    memset(&vo, 0, sizeof(vo));
    vo.now = NOW;
    /* Same subject as the real issuing CA, self-signed by the attacker. */
    fake = make_ca("Test TPM Vendor EK Issuing CA 01", NULL, fk, fk);
    sk_X509_push(helpers, fake);
    X509_up_ref(pki.inter);
    sk_X509_push(helpers, pki.inter);
    c = to_ek(make_ek(&o, fake, fk));
    assert_int_equal(ek_verify(pki.trust, c, helpers, &vo, &res, &rep, &err),
                     LATCH_OK);
    assert_int_not_equal(res.outcome, EK_VALID);
    assert_int_equal(res.outcome, EK_UNKNOWN_ROOT);
    ek_cert_free(c);
    /* The fake is junk beside a genuine chain: still valid. */
    c = to_ek(make_ek(&o, pki.inter, pki.int_key));
    assert_int_equal(ek_verify(pki.trust, c, helpers, &vo, &res, &rep, &err),
                     LATCH_OK);
    assert_int_equal(res.outcome, EK_VALID);
    ek_cert_free(c);
    sk_X509_pop_free(helpers, X509_free);
    EVP_PKEY_free(fk);
}

static void
test_verify_rejects_server_auth_only_eku(void **state)
{
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.eku = "serverAuth";
    synth_verify(&o, &res, &rep, NULL);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_PROFILE);
    assert_true(report_has(&rep, "ek-eku", LATCH_CHECK_FAIL));
}

static void
test_verify_flags_denylisted_firmware(void **state)
{
    struct ek_denylist *d = NULL;
    struct latch_err err;
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.mfr = "id:49465800"; /* IFX */
    o.ver = "id:00040020"; /* 4.32 */
    assert_int_equal(ek_denylist_parse("STM:73.*, IFX:4.3*", &d, &err),
                     LATCH_OK);
    synth_verify(&o, &res, &rep, d);
    assert_int_equal(res.outcome, EK_NEEDS_OVERRIDE);
    assert_int_equal(res.reason, EK_R_DENYLIST);
    assert_true(res.denylisted);
    o.ver = "id:00050000"; /* 5.0: not listed */
    synth_verify(&o, &res, &rep, d);
    assert_int_equal(res.outcome, EK_VALID);
    ek_denylist_free(d);
}

static void
test_denylist_parse_and_match(void **state)
{
    struct ek_denylist *d = NULL;
    struct latch_err err;

    (void)state;
    assert_int_equal(ek_denylist_parse("IFX:4.32, id:53544D20:73.4", &d, &err),
                     LATCH_OK);
    assert_true(ek_denylist_match(d, "IFX", "4.32"));
    assert_true(ek_denylist_match(d, "ifx", "4.32"));
    assert_false(ek_denylist_match(d, "IFX", "4.320"));
    assert_true(ek_denylist_match(d, "id:53544D20", "73.4"));
    assert_false(ek_denylist_match(d, "NTC", "4.32"));
    assert_false(ek_denylist_match(d, NULL, "4.32"));
    ek_denylist_free(d);
    assert_int_equal(ek_denylist_parse("IFX", &d, &err), LATCH_E_USAGE);
    assert_int_equal(ek_denylist_parse("IFX:", &d, &err), LATCH_E_USAGE);
    assert_int_equal(ek_denylist_parse("", &d, &err), LATCH_OK);
    assert_false(ek_denylist_match(d, "IFX", "4.32"));
    ek_denylist_free(d);
}

static void
test_hostile_subject_strings_are_escaped_and_capped(void **state)
{
    static const char nul_cn[] = {'a', 'b', '\0', 'c', '\n', 'd'};
    char big[10001];
    struct ek_opts o;
    struct ek_cert *c;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.cn = nul_cn;
    o.cn_len = sizeof(nul_cn);
    c = to_ek(make_ek(&o, pki.inter, pki.int_key));
    /* OpenSSL's RFC 2253 escapes come first; nothing raw gets through. */
    if (strstr(c->subject, "ab\\00c\\0Ad") == NULL) {
        fail_msg("subject: %s", c->subject);
    }
    for (size_t i = 0; c->subject[i] != '\0'; i++) {
        assert_true((unsigned char)c->subject[i] >= 0x20);
    }
    ek_cert_free(c);
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    o.cn = big;
    o.cn_len = 5000;
    c = to_ek(make_ek(&o, pki.inter, pki.int_key));
    assert_true(strlen(c->subject) <= EK_STR_MAX - 1);
    assert_true(strlen(c->subject) > 200);
    ek_cert_free(c);
    /* 10 000 characters make a certificate past the 8 KiB cap. */
    {
        X509 *x;
        unsigned char *der = NULL;
        int n;
        struct latch_err err;

        o.cn_len = 10000;
        x = make_ek(&o, pki.inter, pki.int_key);
        n = i2d_X509(x, &der);
        assert_int_equal(parse_buf(der, (size_t)n, &err), LATCH_E_FORMAT);
        OPENSSL_free(der);
        X509_free(x);
    }
}

/* ---- ROCA --------------------------------------------------------------- */

static BIGNUM *
hex_modulus(const char *file)
{
    char path[512];
    size_t len = 0;
    char *buf;
    BIGNUM *n = NULL;

    snprintf(path, sizeof(path), ROCA_DIR "%s", file);
    buf = (char *)read_all(path, &len);
    buf[strcspn(buf, "\r\n")] = '\0';
    assert_true(BN_hex2bn(&n, buf + (strncmp(buf, "0x", 2) == 0 ? 2 : 0)) > 0);
    free(buf);
    return n;
}

static void
test_roca_flags_vulnerable_moduli_only(void **state)
{
    static const struct {
        const char *file;
        bool vulnerable;
    } mods[] = {
        {"mod01.txt", true},  {"mod02.txt", true},  {"mod03.txt", true},
        {"mod04.txt", false}, {"mod05.txt", false}, {"mod06.txt", false},
        {"mod07.txt", false}, {"mod08.txt", true},  {"mod09.txt", true}};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
        BIGNUM *n = hex_modulus(mods[i].file);

        if (ek_roca_modulus(n) != mods[i].vulnerable) {
            fail_msg("%s: expected %s", mods[i].file,
                     mods[i].vulnerable ? "vulnerable" : "clean");
        }
        BN_free(n);
    }
}

static void
test_roca_on_certificates_and_keys(void **state)
{
    static const struct {
        const char *file;
        bool vulnerable;
    } certs[] = {{"cert01.pem", false}, {"cert02.pem", false},
                 {"cert03.pem", false}, {"cert04.pem", true},
                 {"cert05.pem", true},  {"cert06.pem", false}};
    size_t i;
    FILE *fp;
    EVP_PKEY *k;

    (void)state;
    for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        char path[512];
        X509 *x;

        snprintf(path, sizeof(path), ROCA_DIR "%s", certs[i].file);
        x = x509_file(path);
        if (ek_roca_key(X509_get0_pubkey(x)) != certs[i].vulnerable) {
            fail_msg("%s", certs[i].file);
        }
        X509_free(x);
    }
    fp = fopen(ROCA_DIR "pubkey01.pem", "r");
    k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_false(ek_roca_key(k));
    EVP_PKEY_free(k);
    fp = fopen(ROCA_DIR "pubkey03.pem", "r");
    k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_true(ek_roca_key(k));
    EVP_PKEY_free(k);
    /* EC keys never match. */
    k = ec_key();
    assert_false(ek_roca_key(k));
    EVP_PKEY_free(k);
}

static void
test_roca_residue_test_flags_the_fake_moduli(void **state)
{
    size_t len = 0;
    char *buf = (char *)read_all(ROCA_DIR "derived-fake-moduli-dec.txt", &len);
    char *line;
    char *save = NULL;
    int count = 0;

    (void)state;
    /* The residue method (implemented here) reports these as positive;
     * only the discrete-log method can tell them apart. */
    for (line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        BIGNUM *n = NULL;

        assert_true(BN_dec2bn(&n, line) > 0);
        assert_true(ek_roca_modulus(n));
        BN_free(n);
        count++;
    }
    assert_int_equal(count, 10);
    free(buf);
}

static void
test_verify_flags_roca_key_for_override(void **state)
{
    X509 *vuln = x509_file(ROCA_DIR "cert04.pem");
    struct ek_opts o;
    struct ek_result res;
    struct latch_report rep;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.pub = X509_get0_pubkey(vuln);
    synth_verify(&o, &res, &rep, NULL);
    assert_int_equal(res.outcome, EK_NEEDS_OVERRIDE);
    assert_int_equal(res.reason, EK_R_ROCA);
    assert_true(res.roca);
    X509_free(vuln);
}

/* ---- MakeCredential to every real EK key ----------------------------------
 */

static void
test_make_credential_accepts_every_real_ek_key(void **state)
{
    uint8_t name[34];
    uint8_t secret[LATCH_SECRET_LEN];
    size_t i;

    (void)state;
    name[0] = 0x00;
    name[1] = 0x0b; /* SHA-256 */
    assert_int_equal(RAND_bytes(name + 2, 32), 1);
    assert_int_equal(RAND_bytes(secret, sizeof(secret)), 1);
    for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        struct ek_cert *c = parse_file(corpus[i].file);
        const struct latch_ek_info *info = latch_ek_info_by_kind(
            c->key_type == EK_KEY_RSA ? LATCH_EK_RSA2048 : LATCH_EK_ECC_P256);
        uint8_t *blob = NULL;
        uint8_t *enc = NULL;
        size_t bloblen = 0;
        size_t enclen = 0;
        size_t off = 0;
        TPM2B_ID_OBJECT id;
        TPM2B_ENCRYPTED_SECRET es;
        struct latch_err err;

        if (latch_make_credential(c->pkey, info, name, sizeof(name), secret,
                                  sizeof(secret), &blob, &bloblen, &enc,
                                  &enclen, &err) != LATCH_OK) {
            fail_msg("%s: %s", corpus[i].file, err.msg);
        }
        /* TPM2B_ID_OBJECT: size, HMAC (2 + 32), encrypted TPM2B (2 + 32). */
        assert_int_equal(bloblen, 2 + 34 + 34);
        assert_int_equal(
            Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, bloblen, &off, &id),
            TSS2_RC_SUCCESS);
        assert_int_equal(off, bloblen);
        /* TPM2B_ENCRYPTED_SECRET: RSA-2048 ciphertext, or a P-256 point. */
        assert_int_equal(
            enclen, c->key_type == EK_KEY_RSA ? 2 + 256 : 2 + 2 + 32 + 2 + 32);
        off = 0;
        assert_int_equal(
            Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, enclen, &off, &es),
            TSS2_RC_SUCCESS);
        assert_int_equal(off, enclen);
        free(blob);
        free(enc);
        ek_cert_free(c);
    }
}

/* An in-memory cache that records evictions. */
struct memcache {
    X509 *certs[4];
    size_t n;
    char evicted[EK_HEX256_LEN];
    size_t lookups;
};

static enum latch_status
mc_lookup(void *arg, const char *subject_key, const char *aki,
          STACK_OF(X509) * out, struct latch_err *err)
{
    struct memcache *m = arg;
    size_t i;

    (void)aki;
    m->lookups++;
    for (i = 0; i < m->n; i++) {
        char key[EK_HEX256_LEN];

        if (ek_name_key(X509_get_subject_name(m->certs[i]), key, err) ==
                LATCH_OK &&
            strcmp(key, subject_key) == 0) {
            X509_up_ref(m->certs[i]);
            sk_X509_push(out, m->certs[i]);
        }
    }
    return LATCH_OK;
}

static void
mc_evict(void *arg, const char *sha256)
{
    struct memcache *m = arg;

    snprintf(m->evicted, sizeof(m->evicted), "%s", sha256);
}

static void
test_poisoned_cache_entry_fails_and_is_evicted(void **state)
{
    EVP_PKEY *fk = ec_key();
    X509 *fake;
    struct memcache mc;
    struct ek_cache_ops ops;
    struct ek_verify_opts vo;
    struct ek_opts o;
    struct ek_cert *c;
    struct ek_result res;
    struct latch_report rep;
    struct latch_err err;
    const ASN1_OCTET_STRING *skid;
    ASN1_OCTET_STRING *kid;
    char sha[EK_HEX256_LEN];
    unsigned char *der = NULL;
    int n;

    (void)state;
    memset(&mc, 0, sizeof(mc));
    memset(&ops, 0, sizeof(ops));
    memset(&vo, 0, sizeof(vo));
    memset(&o, 0, sizeof(o));
    memset(&rep, 0, sizeof(rep));
    /* Same subject and key id as the real issuing CA, another key. */
    fake = new_cert("Test TPM Vendor EK Issuing CA 01", pki.root, fk, 99,
                    NOW - DAY, NOW + 365 * DAY);
    add_ext(fake, fake, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(fake, fake, NID_key_usage, "critical,keyCertSign");
    skid = X509_get0_subject_key_id(pki.inter);
    assert_non_null(skid);
    kid = ASN1_OCTET_STRING_dup(skid);
    assert_int_equal(
        X509_add1_ext_i2d(fake, NID_subject_key_identifier, kid, 0, 0), 1);
    ASN1_OCTET_STRING_free(kid);
    sign(fake, pki.root_key);
    mc.certs[mc.n++] = fake;
    ops.arg = &mc;
    ops.lookup = mc_lookup;
    ops.evict = mc_evict;
    vo.now = NOW;
    vo.cache = &ops;
    c = to_ek(make_ek(&o, pki.inter, pki.int_key));
    assert_int_equal(ek_verify(pki.trust, c, NULL, &vo, &res, &rep, &err),
                     LATCH_OK);
    assert_int_equal(res.outcome, EK_INVALID);
    assert_int_equal(res.reason, EK_R_BAD_SIGNATURE);
    n = i2d_X509(fake, &der);
    ek_sha256_hex(der, (size_t)n, sha);
    assert_string_equal(mc.evicted, sha);
    assert_true(mc.lookups >= 1);
    /* The genuine CA in the cache completes the same chain. */
    X509_up_ref(pki.inter);
    mc.certs[0] = pki.inter;
    mc.evicted[0] = '\0';
    memset(&rep, 0, sizeof(rep));
    assert_int_equal(ek_verify(pki.trust, c, NULL, &vo, &res, &rep, &err),
                     LATCH_OK);
    assert_int_equal(res.outcome, EK_VALID);
    assert_string_equal(mc.evicted, "");
    X509_free(pki.inter);
    OPENSSL_free(der);
    X509_free(fake);
    ek_cert_free(c);
    EVP_PKEY_free(fk);
}

static void
test_aia_url_normalize_encodes_spaces_and_refuses_controls(void **state)
{
    char out[256];
    struct latch_err err;

    (void)state;
    assert_int_equal(
        aia_url_normalize("https://www.nuvoton.com/security/NTC-TPM-EK-Cert/"
                          "Nuvoton TPM Root CA 2111.cer",
                          out, sizeof(out), &err),
        LATCH_OK);
    assert_string_equal(out, "https://www.nuvoton.com/security/NTC-TPM-EK-"
                             "Cert/Nuvoton%20TPM%20Root%20CA%202111.cer");
    assert_int_equal(aia_url_normalize("http://a/\x01", out, sizeof(out), &err),
                     LATCH_E_FORMAT);
    assert_int_equal(
        aia_url_normalize("http://a/\xc3\xa9", out, sizeof(out), &err),
        LATCH_OK);
    assert_string_equal(out, "http://a/%C3%A9");
    assert_int_equal(aia_url_normalize("http://a/b\nc", out, sizeof(out), &err),
                     LATCH_E_FORMAT);
    assert_int_equal(aia_url_normalize("http://a/   ", out, 12, &err),
                     LATCH_E_FORMAT);
}

int
main(void)
{
    const struct CMUnitTest corpus_tests[] = {
        cmocka_unit_test(test_corpus_outcomes_match_the_table),
        cmocka_unit_test(test_tpm12_chains_still_verify_to_their_roots),
        cmocka_unit_test(test_profile_deviations_are_warnings),
        cmocka_unit_test(test_expired_ek_needs_override),
        cmocka_unit_test(test_not_yet_valid_ek_is_invalid),
        cmocka_unit_test(test_unknown_root_names_the_root_and_its_fingerprint),
        cmocka_unit_test(
            test_vendor_root_issued_by_another_root_can_be_the_anchor),
        cmocka_unit_test(test_non_der_intermediates_are_refused_and_named),
        cmocka_unit_test(test_trust_loads_pem_bundles_and_lists_fingerprints),
        cmocka_unit_test(test_parse_accepts_ff_and_zero_fill),
        cmocka_unit_test(test_parse_rejects_junk_after_der),
        cmocka_unit_test(test_parse_checks_nv_header_bounds),
        cmocka_unit_test(test_roca_flags_vulnerable_moduli_only),
        cmocka_unit_test(test_roca_on_certificates_and_keys),
        cmocka_unit_test(test_roca_residue_test_flags_the_fake_moduli),
        cmocka_unit_test(test_denylist_parse_and_match),
        cmocka_unit_test(
            test_aia_url_normalize_encodes_spaces_and_refuses_controls),
        cmocka_unit_test(test_make_credential_accepts_every_real_ek_key),
    };
    const struct CMUnitTest synthetic_tests[] = {
        cmocka_unit_test(test_synthetic_baseline_is_valid),
        cmocka_unit_test(test_tpm20_rsaes_oaep_ek_is_accepted_and_chains),
        cmocka_unit_test(test_verify_rejects_unknown_critical_extension),
        cmocka_unit_test(test_verify_rejects_not_before_in_future),
        cmocka_unit_test(test_verify_expired_synthetic_needs_override),
        cmocka_unit_test(test_verify_rejects_bad_signature_in_chain),
        cmocka_unit_test(test_verify_rejects_self_signed_fake_intermediate),
        cmocka_unit_test(test_verify_rejects_server_auth_only_eku),
        cmocka_unit_test(test_verify_flags_denylisted_firmware),
        cmocka_unit_test(test_verify_flags_roca_key_for_override),
        cmocka_unit_test(test_hostile_subject_strings_are_escaped_and_capped),
        cmocka_unit_test(test_poisoned_cache_entry_fails_and_is_evicted),
    };
    int rc;

    rc = cmocka_run_group_tests(corpus_tests, setup, teardown);
    rc += cmocka_run_group_tests(synthetic_tests, pki_setup, pki_teardown);
    return rc;
}
