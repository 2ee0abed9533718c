/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* devcommon.c: feature state and display shared by the device verbs. */
#include "devcommon.h"

#include <stdlib.h>

#include "cli.h"
#include "codec.h"

void
dev_quiet_tss(void)
{
    setenv("TSS2_LOG", "all+none", 0);
}

enum latch_status
dev_feature_state(const struct latch_license *lic,
                  const struct latch_feature *f, int64_t now)
{
    if (latch_license_check_time(lic, now, NULL) != LATCH_OK) {
        return LATCH_E_VALIDITY;
    }
    if (!f->enabled) {
        return LATCH_E_NOT_FOUND;
    }
    if (f->has_valid_until && now >= f->valid_until) {
        return LATCH_E_VALIDITY;
    }
    return LATCH_OK;
}

static const char *
state_word(enum latch_status st)
{
    if (st == LATCH_OK) {
        return "enabled";
    }
    return st == LATCH_E_NOT_FOUND ? "disabled" : "expired or not yet valid";
}

void
dev_print_features(FILE *out, const struct latch_license *lic, int64_t now)
{
    char when[LATCH_TIME_LEN];
    const struct latch_feature *f;

    if (lic->nfeatures == 0) {
        fprintf(out, "  (no features)\n");
    }
    for (size_t i = 0; i < lic->nfeatures; i++) {
        f = &lic->features[i];
        fprintf(out, "  %s: %s", f->name,
                state_word(dev_feature_state(lic, f, now)));
        if (f->has_quantity) {
            fprintf(out, ", quantity %lld", (long long)f->quantity);
        }
        if (f->has_valid_until) {
            latch_time_format(f->valid_until, when);
            fprintf(out, ", until %s", when);
        }
        fputc('\n', out);
    }
}

json_t *
dev_features_json(const struct latch_license *lic, int64_t now, bool proven)
{
    char when[LATCH_TIME_LEN];
    const struct latch_feature *f;
    json_t *all = json_object();
    json_t *one;
    int bad = all == NULL;

    for (size_t i = 0; !bad && i < lic->nfeatures; i++) {
        f = &lic->features[i];
        /* Fail closed: nothing is usable without a successful proof. */
        one = json_pack("{s:b, s:b}", "enabled", f->enabled, "usable",
                        proven && dev_feature_state(lic, f, now) == LATCH_OK);
        bad = one == NULL;
        if (!bad && f->has_quantity) {
            bad = json_object_set_new(one, "quantity",
                                      json_integer(f->quantity)) != 0;
        }
        if (!bad && f->has_valid_until) {
            latch_time_format(f->valid_until, when);
            bad =
                json_object_set_new(one, "valid_until", json_string(when)) != 0;
        }
        if (one != NULL && json_object_set_new(all, f->name, one) != 0) {
            bad = 1;
        }
    }
    if (bad) {
        json_decref(all);
        return NULL;
    }
    return all;
}
