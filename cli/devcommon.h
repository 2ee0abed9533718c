/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * devcommon.h: what the device verbs (enroll, activate, status, check)
 * share: quiet TSS logging, feature state and its display.
 */
#ifndef LATCH_CLI_DEVCOMMON_H
#define LATCH_CLI_DEVCOMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "license.h"

/*
 * tpm2-tss logs its own errors to stderr; the verbs report failures
 * themselves, so they silence it unless $TSS2_LOG says otherwise.
 */
void dev_quiet_tss(void);

/*
 * The state of one feature at now: LATCH_OK when enabled and valid,
 * LATCH_E_NOT_FOUND when disabled, LATCH_E_VALIDITY when it or the whole
 * license is outside its dates.
 */
enum latch_status dev_feature_state(const struct latch_license *lic,
                                    const struct latch_feature *f, int64_t now);

/* Prints one indented line per feature. */
void dev_print_features(FILE *out, const struct latch_license *lic,
                        int64_t now);

/*
 * The features as a JSON object (new reference), NULL on allocation failure.
 * "usable" is true only when proven (the TPM proof succeeded) and the
 * feature is enabled and valid at now.
 */
json_t *dev_features_json(const struct latch_license *lic, int64_t now,
                          bool proven);

#endif /* LATCH_CLI_DEVCOMMON_H */
