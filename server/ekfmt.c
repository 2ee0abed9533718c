/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* ekfmt.c: EK verification results as JSON and as text. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ekfmt.h"

const char *
ek_form_str(enum ek_form f)
{
    switch (f) {
    case EK_FORM_DER:
        return "der";
    case EK_FORM_DER_FILL:
        return "der+fill";
    case EK_FORM_NV_HEADER:
        return "nv-header";
    case EK_FORM_PEM:
        return "pem";
    }
    return "?";
}

void
ek_time_str(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        memcpy(out, "?", 2);
    }
}

/* json_object_set_new that tolerates a NULL value (allocation failure). */
static int
put(json_t *o, const char *k, json_t *v)
{
    if (o == NULL || v == NULL) {
        json_decref(v);
        return -1;
    }
    return json_object_set_new(o, k, v);
}

static json_t *
cert_json(const struct ek_cert *c)
{
    json_t *o = json_object();
    json_t *tpm = json_object();
    json_t *key = json_object();
    char nb[32];
    char na[32];

    ek_time_str(c->not_before, nb);
    ek_time_str(c->not_after, na);
    put(tpm, "manufacturer", json_string(c->tpm_manufacturer));
    put(tpm, "vendor", json_string(c->tpm_vendor));
    put(tpm, "model", json_string(c->tpm_model));
    put(tpm, "version", json_string(c->tpm_version));
    put(tpm, "firmware", json_string(c->tpm_firmware));
    put(key, "type", json_string(c->key_type == EK_KEY_RSA ? "rsa" : "ec"));
    put(key, "bits", json_integer(c->key_bits));
    put(key, "rsaes_oaep", json_boolean(c->spki_rsaes_oaep));
    put(o, "sha256", json_string(c->sha256));
    put(o, "form", json_string(ek_form_str(c->form)));
    put(o, "fill_bytes", json_integer((json_int_t)c->fill_len));
    put(o, "tpm12", json_boolean(c->is_tpm12));
    put(o, "tpm", tpm);
    put(o, "key", key);
    put(o, "subject", json_string(c->subject));
    put(o, "issuer", json_string(c->issuer));
    put(o, "serial", json_string(c->serial));
    put(o, "not_before", json_string(nb));
    put(o, "not_after", json_string(na));
    put(o, "aia_url", json_string(c->aia_url));
    return o;
}

json_t *
ek_result_json(const char *file, const struct ek_cert *c,
               const struct ek_result *res, const struct latch_report *rep)
{
    json_t *o = json_object();
    json_t *chain = json_array();
    json_t *checks = json_array();
    size_t i;

    if (o == NULL || chain == NULL || checks == NULL) {
        json_decref(o);
        json_decref(chain);
        json_decref(checks);
        return NULL;
    }
    if (file != NULL) {
        put(o, "file", json_string(file));
    }
    put(o, "outcome", json_string(ek_outcome_str(res->outcome)));
    put(o, "reason", json_string(ek_reason_str(res->reason)));
    put(o, "detail", json_string(res->detail));
    if (c != NULL) {
        put(o, "certificate", cert_json(c));
    }
    for (i = 0; i < res->chain_len; i++) {
        json_t *e = json_object();

        put(e, "subject", json_string(res->chain[i].subject));
        put(e, "sha256", json_string(res->chain[i].sha256));
        put(e, "pinned", json_boolean(res->chain[i].pinned));
        json_array_append_new(chain, e);
    }
    put(o, "chain", chain);
    if (res->outcome == EK_UNKNOWN_ROOT) {
        json_t *r = json_object();

        put(r, "subject", json_string(res->root_subject));
        put(r, "sha256", json_string(res->root_sha256));
        put(r, "pinning_steps", json_string(ek_pinning_steps()));
        put(o, "root", r);
    }
    put(o, "expired", json_boolean(res->expired));
    put(o, "sha1", json_boolean(res->sha1));
    put(o, "roca", json_boolean(res->roca));
    put(o, "denylisted", json_boolean(res->denylisted));
    put(o, "aia_fetches", json_integer((json_int_t)res->aia_fetches));
    put(o, "warnings", json_integer((json_int_t)res->warnings));
    for (i = 0; rep != NULL && i < rep->n; i++) {
        json_t *e = json_object();

        put(e, "name", json_string(rep->items[i].name));
        put(e, "result",
            json_string(latch_check_result_str(rep->items[i].result)));
        put(e, "detail", json_string(rep->items[i].detail));
        json_array_append_new(checks, e);
    }
    put(o, "checks", checks);
    return o;
}

void
ek_result_print(FILE *fp, const char *file, const struct ek_cert *c,
                const struct ek_result *res, const struct latch_report *rep)
{
    size_t i;

    fprintf(fp, "%s: %s", file != NULL ? file : "EK certificate",
            ek_outcome_str(res->outcome));
    if (res->reason != EK_R_NONE) {
        fprintf(fp, " (%s: %s)", ek_reason_str(res->reason), res->detail);
    }
    fputc('\n', fp);
    if (c != NULL) {
        char na[32];

        ek_time_str(c->not_after, na);
        fprintf(fp, "  sha256 %s (%s)\n", c->sha256, ek_form_str(c->form));
        fprintf(fp, "  tpm    %s %s firmware %s (%s, %s)\n",
                c->tpm_vendor[0] ? c->tpm_vendor : "?",
                c->tpm_model[0] ? c->tpm_model : "?",
                c->tpm_firmware[0] ? c->tpm_firmware : "?", c->tpm_manufacturer,
                c->tpm_version);
        fprintf(fp, "  key    %s-%d%s, valid until %s\n",
                c->key_type == EK_KEY_RSA ? "RSA" : "EC", c->key_bits,
                c->spki_rsaes_oaep ? " (rsaesOaep SPKI)" : "", na);
    }
    for (i = 0; i < res->chain_len; i++) {
        fprintf(fp, "  chain  %zu %s%s\n         sha256 %s\n", i,
                res->chain[i].subject[0] ? res->chain[i].subject
                                         : "(empty subject)",
                res->chain[i].pinned ? " [pinned]" : "", res->chain[i].sha256);
    }
    if (res->outcome == EK_UNKNOWN_ROOT) {
        fprintf(fp, "  root   %s\n         sha256 %s\n  %s\n",
                res->root_subject, res->root_sha256, ek_pinning_steps());
    }
    for (i = 0; rep != NULL && i < rep->n; i++) {
        fprintf(fp, "  [%s] %s: %s\n",
                latch_check_result_str(rep->items[i].result),
                rep->items[i].name, rep->items[i].detail);
    }
}
