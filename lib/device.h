/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * device.h: the device side of latch on top of tpm.h: the state directory,
 * enrollment (EK certificate, EK, Attestation Key, enrollment.json),
 * activation of a license (signature, identity, TPM2_ActivateCredential,
 * dates, serial, atomic install) and the fresh proof behind `latch status`
 * and the runtime API.
 *
 * State directory layout (docs/device.md):
 *   ak.pub ak.priv ak.json                  the active AK (0600)
 *   ak-pending.pub ak-pending.priv ak-pending.json
 *                                           the AK made by enroll --rotate
 *   license.json                            the installed license
 * ak.json: { "ek_template", "created_at", "persistent_handle" (optional) }.
 *
 * Each call opens the TPM, uses it and closes it again: nothing stays
 * loaded between calls. A struct latch_device is not thread-safe.
 */
#ifndef LATCH_DEVICE_H
#define LATCH_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "license.h"
#include "report.h"
#include "tpm.h"

#define LATCH_STATE_DIR_DEFAULT "/var/lib/latch"
#define LATCH_STATE_DIR_ENV     "LATCH_STATE_DIR"
#define LATCH_LICENSE_FILE      "license.json"
#define LATCH_LICENSE_FILE_MAX  65536

struct latch_device;

/* Informational, untrusted device description for enrollment.json. */
struct latch_device_info {
    const char *hostname;
    const char *product;
    const char *serial_number;
    const char *firmware_version;
    const char *label;
};

struct latch_enroll_opts {
    const char *ek; /* NULL or "auto", "rsa2048", "ecc-p256", "ecc-p384" */
    enum latch_ak_alg ak_alg;
    bool rotate;     /* make (or reuse) a pending AK beside the active one */
    bool persist_ak; /* keep the AK as a persistent TPM object too */
    struct latch_device_info info;
    bool replace_pending; /* with rotate: a new pending AK even if one
                             exists (else reused, or refused for another
                             --ek) */
};

struct latch_enroll_result {
    char *json; /* enrollment.json, NUL-terminated (free()) */
    size_t len;
    char ek_template[16];
    char ak_name[2 * LATCH_NAME_MAX + 1]; /* lowercase hex */
    bool reused;                          /* an existing AK was reused */
    bool pending;               /* the enrollment is for the pending AK */
    uint32_t persistent_handle; /* 0 when the AK is not persistent */
};

/* What a successful proof used. */
struct latch_proof {
    bool pending_ak; /* the license names the pending AK */
    bool persistent; /* the AK was used through its persistent handle */
    uint32_t handle; /* that handle */
};

/*
 * The state directory to use: dir when not NULL, else $LATCH_STATE_DIR when
 * set and not empty, else LATCH_STATE_DIR_DEFAULT. Never NULL.
 */
const char *latch_device_state_dir(const char *dir);

/*
 * A device handle (tcti and state_dir as in latch_tpm_tcti() and
 * latch_device_state_dir(); both copied). Touches neither the TPM nor the
 * disk. An empty (not NULL) tcti or state_dir is LATCH_E_USAGE. Release
 * with latch_device_close().
 */
enum latch_status latch_device_open(const char *tcti, const char *state_dir,
                                    struct latch_device **out,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

void latch_device_close(struct latch_device *dev);

/*
 * Enrolls: reads the EK certificate, creates the EK from its template and
 * requires its public key to equal the certificate's, creates or reuses the
 * AK (opts->rotate: a pending AK; the active one stays usable) and writes
 * enrollment.json into res (release with latch_enroll_result_clear()).
 * Running it again with the same options reuses the AK and gives the same
 * content.
 */
enum latch_status latch_device_enroll(struct latch_device *dev,
                                      const struct latch_enroll_opts *opts,
                                      struct latch_enroll_result *res,
                                      struct latch_err *err)
    __attribute__((warn_unused_result));

void latch_enroll_result_clear(struct latch_enroll_result *res);

/*
 * Activates the license in buf: verifies the signature chain to the root
 * compiled into liblatch, that device_id is this TPM's EK and ak_name the
 * active or pending AK, the dates at now, that serial is not lower than
 * the installed license's, and proves it with TPM2_ActivateCredential
 * (SHA-256 of the recovered secret equals secret_sha256). Then installs it
 * atomically as license.json; a license for the pending AK makes that AK
 * the active one and destroys the old one. On any failure the installed
 * license is untouched. Each check goes into rep (may be NULL). *out (may
 * be NULL) receives the license on success (latch_license_free()).
 * Statuses: LATCH_E_FORMAT, _SIGNATURE, _NOT_DEVICE (any
 * ActivateCredential refusal), _TPM (TPM unreachable), _VALIDITY,
 * _ROLLBACK, _IO.
 */
enum latch_status
latch_device_activate(struct latch_device *dev, const char *buf, size_t len,
                      int64_t now, struct latch_license **out,
                      struct latch_report *rep, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Reads and parses the installed license without verifying anything, for
 * display. LATCH_E_NOT_FOUND when none is installed.
 */
enum latch_status latch_device_installed(struct latch_device *dev,
                                         struct latch_license **out,
                                         struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Proves the installed license afresh: signature chain, device identity,
 * and a new TPM2_ActivateCredential with the AK it names. Dates are the
 * caller's (latch_license_check_time()). On success *out holds the
 * license (latch_license_free()); proof (may be NULL) says how.
 */
enum latch_status
latch_device_prove(struct latch_device *dev, struct latch_license **out,
                   struct latch_proof *proof, struct latch_report *rep,
                   struct latch_err *err) __attribute__((warn_unused_result));

#endif /* LATCH_DEVICE_H */
