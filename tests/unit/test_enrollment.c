/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_enrollment.c: enrollment.json read/write round trips and strict
 * rejections, each with the member it names. The blobs are opaque to this
 * module (the server validates them), so arbitrary bytes stand in for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "enrollment.h"

/* A document as `latch enroll` writes it (format.md example). */
static const char sample[] = "{\n"
                             "  \"format\": \"latch.enrollment.v1\",\n"
                             "  \"identity_schema\": \"tpm2_ek_ak_binding\",\n"
                             "  \"created_at\": \"2026-12-03T18:00:00Z\",\n"
                             "  \"device\": {\n"
                             "    \"hostname\": \"board-07\",\n"
                             "    \"product\": \"gateway\",\n"
                             "    \"serial_number\": \"SN-0042\",\n"
                             "    \"firmware_version\": \"1.2.3\",\n"
                             "    \"label\": \"lab \\u00e9 rack 3\"\n"
                             "  },\n"
                             "  \"identity\": {\n"
                             "    \"ek_template\": \"ecc-p256\",\n"
                             "    \"ek_certificate\": \"MIIBAA==\",\n"
                             "    \"ek_intermediates\": [\"MIIC\", \"MIID\"],\n"
                             "    \"ek_public\": \"AHoAIwAL\",\n"
                             "    \"ak_public\": \"AFgAIwAL\",\n"
                             "    \"ak_name\": "
                             "\"000b0123456789abcdef0123456789abcdef0123456789a"
                             "bcdef0123456789abcdef\",\n"
                             "    \"tpm\": {\n"
                             "      \"manufacturer\": \"IBM\",\n"
                             "      \"vendor\": \"SW  TPM\",\n"
                             "      \"firmware_version\": \"20191023.0\",\n"
                             "      \"spec_revision\": 164\n"
                             "    }\n"
                             "  }\n"
                             "}\n";

static struct latch_enrollment *
must_parse(const char *s, size_t len)
{
    struct latch_enrollment *e = NULL;
    struct latch_err err;

    if (latch_enrollment_parse(s, len, &e, &err) != LATCH_OK) {
        fail_msg("%s", err.msg);
    }
    return e;
}

static void
test_parse_reads_every_member(void **state)
{
    struct latch_enrollment *e = must_parse(sample, strlen(sample));

    (void)state;
    assert_string_equal(e->identity_schema, "tpm2_ek_ak_binding");
    assert_int_equal(e->created_at, 1796320800);
    assert_string_equal(e->hostname, "board-07");
    assert_string_equal(e->product, "gateway");
    assert_string_equal(e->serial_number, "SN-0042");
    assert_string_equal(e->firmware_version, "1.2.3");
    assert_string_equal(e->label, "lab \xc3\xa9 rack 3");
    assert_string_equal(e->ek_template, "ecc-p256");
    assert_int_equal(e->ek_certificate.len, 4);
    assert_memory_equal(e->ek_certificate.data, "\x30\x82\x01\x00", 4);
    assert_int_equal(e->nintermediates, 2);
    assert_memory_equal(e->intermediates[1].data, "\x30\x82\x03", 3);
    assert_int_equal(e->ek_public.len, 6);
    assert_int_equal(e->ak_public.len, 6);
    assert_int_equal(e->ak_name_len, 34);
    assert_int_equal(e->ak_name[0], 0x00);
    assert_int_equal(e->ak_name[1], 0x0b);
    assert_int_equal(e->ak_name[33], 0xef);
    assert_string_equal(e->tpm_manufacturer, "IBM");
    assert_string_equal(e->tpm_vendor, "SW  TPM");
    assert_string_equal(e->tpm_firmware, "20191023.0");
    assert_int_equal(e->tpm_spec_revision, 164);
    latch_enrollment_free(e);
    latch_enrollment_free(NULL);
}

static void
test_parse_accepts_missing_optional_objects(void **state)
{
    const char *min =
        "{\"format\":\"latch.enrollment.v1\",\"identity_schema\":"
        "\"tpm2_ek_ak_binding\",\"created_at\":\"2026-12-03T18:00:00Z\","
        "\"identity\":{\"ek_template\":\"rsa2048\",\"ek_certificate\":\"AA==\","
        "\"ek_intermediates\":[],\"ek_public\":\"AA==\",\"ak_public\":\"AA==\","
        "\"ak_name\":\"000b"
        "0000000000000000000000000000000000000000000000000000000000000000\"}}";
    struct latch_enrollment *e = must_parse(min, strlen(min));

    (void)state;
    assert_null(e->hostname);
    assert_null(e->label);
    assert_null(e->tpm_vendor);
    assert_int_equal(e->tpm_spec_revision, 0);
    assert_int_equal(e->nintermediates, 0);
    assert_int_equal(e->ak_name_len, 34);
    latch_enrollment_free(e);
}

static void
assert_same(const struct latch_enrollment *a, const struct latch_enrollment *b)
{
    size_t i;

    assert_int_equal(a->created_at, b->created_at);
    assert_string_equal(a->hostname, b->hostname);
    assert_string_equal(a->label, b->label);
    assert_string_equal(a->ek_template, b->ek_template);
    assert_int_equal(a->ek_certificate.len, b->ek_certificate.len);
    assert_memory_equal(a->ek_certificate.data, b->ek_certificate.data,
                        a->ek_certificate.len);
    assert_int_equal(a->nintermediates, b->nintermediates);
    for (i = 0; i < a->nintermediates; i++) {
        assert_int_equal(a->intermediates[i].len, b->intermediates[i].len);
        assert_memory_equal(a->intermediates[i].data, b->intermediates[i].data,
                            a->intermediates[i].len);
    }
    assert_memory_equal(a->ek_public.data, b->ek_public.data, a->ek_public.len);
    assert_memory_equal(a->ak_public.data, b->ak_public.data, a->ak_public.len);
    assert_int_equal(a->ak_name_len, b->ak_name_len);
    assert_memory_equal(a->ak_name, b->ak_name, a->ak_name_len);
    assert_string_equal(a->tpm_vendor, b->tpm_vendor);
    assert_int_equal(a->tpm_spec_revision, b->tpm_spec_revision);
}

static void
test_write_then_parse_round_trips(void **state)
{
    struct latch_enrollment *a = must_parse(sample, strlen(sample)), *b;
    struct latch_err err;
    char *out = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(latch_enrollment_write(a, &out, &len, &err), LATCH_OK);
    assert_int_equal(strlen(out), len);
    assert_int_equal(out[len - 1], '\n');
    assert_non_null(strstr(out, "\n  \"identity\": {"));
    b = must_parse(out, len);
    assert_same(a, b);
    free(out);
    latch_enrollment_free(a);
    latch_enrollment_free(b);
}

static void
test_write_carries_large_blobs_and_four_intermediates(void **state)
{
    static uint8_t cert[LATCH_CERT_MAX], pub[LATCH_TPM_PUBLIC_MAX];
    struct latch_enrollment e, *b = NULL;
    struct latch_err err;
    char *out = NULL;
    size_t len, i;

    (void)state;
    for (i = 0; i < sizeof(cert); i++) {
        cert[i] = (uint8_t)(i * 31);
    }
    for (i = 0; i < sizeof(pub); i++) {
        pub[i] = (uint8_t)(i ^ 0x5a);
    }
    memset(&e, 0, sizeof(e));
    e.created_at = 1796320800;
    e.hostname = "h\xe2\x80\xae";
    e.label = "x";
    e.ek_template = "ecc-p384";
    e.ek_certificate = (struct latch_blob){cert, sizeof(cert)};
    for (i = 0; i < LATCH_ENROLL_MAX_INTERMEDIATE; i++) {
        e.intermediates[i] = (struct latch_blob){cert + i, 100 + i};
    }
    e.nintermediates = LATCH_ENROLL_MAX_INTERMEDIATE;
    e.ek_public = (struct latch_blob){pub, sizeof(pub)};
    e.ak_public = (struct latch_blob){pub + 1, 90};
    e.ak_name[1] = 0x0c;
    e.ak_name_len = 50;
    e.tpm_vendor = "v";
    assert_int_equal(latch_enrollment_write(&e, &out, &len, &err), LATCH_OK);
    b = must_parse(out, len);
    assert_same(&e, b);
    free(out);
    latch_enrollment_free(b);
}

static void
test_write_refuses_what_the_reader_rejects(void **state)
{
    struct latch_enrollment *a = must_parse(sample, strlen(sample));
    struct latch_err err;
    char *out = NULL;
    size_t len = 0;
    const char *tmpl = a->ek_template;

    (void)state;
    a->ek_template = "rsa1024";
    assert_int_equal(latch_enrollment_write(a, &out, &len, &err),
                     LATCH_E_FORMAT);
    assert_null(out);
    assert_non_null(strstr(err.msg, "refusing to write: enrollment: "
                                    "identity.ek_template"));
    a->ek_template = tmpl;
    a->ak_name_len = 33;
    assert_int_equal(latch_enrollment_write(a, &out, &len, &err),
                     LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "identity.ak_name"));
    a->ak_name_len = 34;
    a->hostname = "\xff";
    assert_int_equal(latch_enrollment_write(a, &out, &len, &err),
                     LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "hostname is not valid UTF-8"));
    latch_enrollment_free(a);
}

/*
 * Applies one edit to the sample: sets path (dot-separated objects) to the
 * JSON text value, or deletes it when value is NULL. Expects the parser to
 * reject with a message containing want.
 */
static void
assert_edit_rejected(const char *path, const char *value, const char *want)
{
    json_error_t je;
    json_t *doc = json_loads(sample, 0, &je), *obj = doc, *v;
    struct latch_enrollment *e = NULL;
    struct latch_err err;
    char buf[256], *dot, *seg, *txt;

    assert_non_null(doc);
    snprintf(buf, sizeof(buf), "%s", path);
    seg = buf;
    while ((dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        obj = json_object_get(obj, seg);
        assert_non_null(obj);
        seg = dot + 1;
    }
    if (value == NULL) {
        assert_int_equal(json_object_del(obj, seg), 0);
    } else {
        v = json_loads(value, JSON_DECODE_ANY, &je);
        assert_non_null(v);
        json_object_set_new(obj, seg, v);
    }
    txt = json_dumps(doc, JSON_INDENT(1));
    assert_int_equal(latch_enrollment_parse(txt, strlen(txt), &e, &err),
                     LATCH_E_FORMAT);
    assert_null(e);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("%s: message \"%s\" lacks \"%s\"", path, err.msg, want);
    }
    free(txt);
    json_decref(doc);
}

static void
test_parse_rejects_unknown_members_at_every_level(void **state)
{
    (void)state;
    assert_edit_rejected("extra", "1", "enrollment: extra: unknown member");
    assert_edit_rejected("Format", "\"x\"", "Format: unknown member");
    assert_edit_rejected("device.mac", "\"x\"", "device.mac: unknown member");
    assert_edit_rejected("identity.ek_cert", "\"AA==\"",
                         "identity.ek_cert: unknown member");
    assert_edit_rejected("identity.tpm.family", "\"2.0\"",
                         "identity.tpm.family: unknown member");
}

static void
test_parse_rejects_each_missing_required_member(void **state)
{
    static const char *const required[] = {
        "format",
        "identity_schema",
        "created_at",
        "identity",
        "identity.ek_template",
        "identity.ek_certificate",
        "identity.ek_intermediates",
        "identity.ek_public",
        "identity.ak_public",
        "identity.ak_name",
    };
    char want[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        snprintf(want, sizeof(want), "%s: required member missing",
                 required[i]);
        assert_edit_rejected(required[i], NULL, want);
    }
}

static void
test_parse_rejects_wrong_values(void **state)
{
    (void)state;
    assert_edit_rejected("format", "\"latch.enrollment.v2\"",
                         "format: 'latch.enrollment.v2' is not "
                         "latch.enrollment.v1");
    assert_edit_rejected("identity_schema", "\"tpm2_ek\"",
                         "identity_schema: 'tpm2_ek' is not "
                         "tpm2_ek_ak_binding");
    assert_edit_rejected("created_at", "\"2026-12-03 18:00:00\"",
                         "created_at: time: not of the form");
    assert_edit_rejected("created_at", "1796320800",
                         "created_at: expected a string, got an integer");
    assert_edit_rejected("device", "[]",
                         "device: expected an object, got an array");
    assert_edit_rejected("device.hostname", "7",
                         "device.hostname: expected a string");
    assert_edit_rejected("identity.ek_template", "\"rsa1024\"",
                         "identity.ek_template: not a known EK template");
    assert_edit_rejected("identity.ek_certificate", "\"MIIB AA==\"",
                         "identity.ek_certificate: base64: ");
    assert_edit_rejected("identity.ek_certificate", "\"\"",
                         "identity.ek_certificate: empty");
    assert_edit_rejected("identity.ek_intermediates", "[\"AA==\", 5]",
                         "identity.ek_intermediates[1]: expected a base64");
    assert_edit_rejected("identity.ek_intermediates", "[\"AA=\"]",
                         "identity.ek_intermediates[0]: base64: ");
    assert_edit_rejected("identity.ek_intermediates", "[\"\"]",
                         "identity.ek_intermediates[0]: empty");
    assert_edit_rejected("identity.ek_intermediates",
                         "[\"AA==\",\"AA==\",\"AA==\",\"AA==\",\"AA==\"]",
                         "5 certificates, more than the 4 allowed");
    assert_edit_rejected("identity.ak_name", "\"000B0123\"",
                         "identity.ak_name: hex: ");
    assert_edit_rejected("identity.ak_name", "\"000b0123\"",
                         "identity.ak_name: algorithm 0x000b with a 2-byte "
                         "digest is not a SHA-256");
    assert_edit_rejected("identity.ak_name",
                         "\"0004000000000000000000000000000000000000\"",
                         "algorithm 0x0004 with a 18-byte digest is not a "
                         "SHA-256 or SHA-384 TPM name");
    assert_edit_rejected("identity.ak_name", "\"00\"",
                         "identity.ak_name: 1 bytes, too short");
    assert_edit_rejected("identity.tpm.spec_revision", "-1",
                         "identity.tpm.spec_revision: negative");
    assert_edit_rejected("identity.tpm.spec_revision", "\"164\"",
                         "identity.tpm.spec_revision: expected an integer");
    assert_edit_rejected("identity.tpm", "\"IBM\"",
                         "identity.tpm: expected an object");
}

static void
test_parse_enforces_size_caps(void **state)
{
    char big[2 * LATCH_CERT_MAX], text[300];
    size_t n;

    (void)state;
    /* 8193 bytes of certificate: 10924 base64 characters + quotes */
    n = (LATCH_CERT_MAX + 1 + 2) / 3 * 4;
    big[0] = '"';
    memset(big + 1, 'A', n);
    big[n + 1] = '"';
    big[n + 2] = '\0';
    assert_edit_rejected("identity.ek_certificate", big,
                         "base64: decodes to 8193 bytes, more than the 8192");
    n = (LATCH_TPM_PUBLIC_MAX + 1 + 2) / 3 * 4;
    memset(big + 1, 'A', n);
    big[n + 1] = '"';
    big[n + 2] = '\0';
    assert_edit_rejected("identity.ak_public", big,
                         "identity.ak_public: base64: decodes to 1026 bytes");
    text[0] = '"';
    memset(text + 1, 'h', LATCH_ENROLL_TEXT_MAX + 1);
    memcpy(text + LATCH_ENROLL_TEXT_MAX + 2, "\"", 2);
    assert_edit_rejected("device.label", text,
                         "device.label: longer than 256 bytes");
}

static void
test_parse_applies_the_strict_json_rules(void **state)
{
    struct latch_enrollment *e = NULL;
    struct latch_err err;
    char *dup = malloc(sizeof(sample) + 64);
    const char *p = strstr(sample, "\"created_at\"");

    (void)state;
    assert_non_null(dup);
    /* a second, escaped created_at after the first */
    snprintf(dup, sizeof(sample) + 64,
             "%.*s\"cre\\u0061ted_at\": "
             "\"2030-01-01T00:00:00Z\", %s",
             (int)(p - sample), sample, p);
    assert_int_equal(latch_enrollment_parse(dup, strlen(dup), &e, &err),
                     LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "created_at: duplicate member name"));
    free(dup);
    assert_edit_rejected("identity.tpm.spec_revision", "1.0", "not an integer");
    assert_int_equal(latch_enrollment_parse("[]", 2, &e, &err), LATCH_E_FORMAT);
    assert_non_null(strstr(err.msg, "expected an object"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reads_every_member),
        cmocka_unit_test(test_parse_accepts_missing_optional_objects),
        cmocka_unit_test(test_write_then_parse_round_trips),
        cmocka_unit_test(test_write_carries_large_blobs_and_four_intermediates),
        cmocka_unit_test(test_write_refuses_what_the_reader_rejects),
        cmocka_unit_test(test_parse_rejects_unknown_members_at_every_level),
        cmocka_unit_test(test_parse_rejects_each_missing_required_member),
        cmocka_unit_test(test_parse_rejects_wrong_values),
        cmocka_unit_test(test_parse_enforces_size_caps),
        cmocka_unit_test(test_parse_applies_the_strict_json_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
