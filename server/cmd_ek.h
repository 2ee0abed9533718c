/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_ek.h: the EK certificate verbs of latchd, for the verb table:
 *   {"ek", "verify", cmd_ek_verify, LATCHD_NEEDS_NOTHING, CMD_EK_VERIFY_USAGE}
 *   {"trust", "import-intermediates", cmd_trust_import, LATCHD_NEEDS_DB,
 *    CMD_TRUST_IMPORT_USAGE}
 *   {"trust", "list", cmd_trust_list, LATCHD_NEEDS_DB, CMD_TRUST_LIST_USAGE}
 */
#ifndef LATCHD_CMD_EK_H
#define LATCHD_CMD_EK_H

#include "latchd.h"

#define CMD_EK_VERIFY_USAGE                                                    \
    "CERT... [--trust DIR] [--untrusted FILE|DIR]... [--now EPOCH] "           \
    "[--deny MFR:FW,...] [--no-aia] [--json]"
#define CMD_TRUST_IMPORT_USAGE "FILE|DIR... [--json]"
#define CMD_TRUST_LIST_USAGE   "[--json]"

/*
 * `latchd ek verify`: the enrollment pipeline's certificate checks on bare
 * EK certificates (DER, PEM or a raw TPM NV blob), for support staff. The
 * trust directory is --trust or the configured one (--data/LATCHD_DATA);
 * with a configuration the intermediate cache and the AIA settings are
 * used too. Exit 0 when every certificate is valid, 1 when one is not.
 */
int cmd_ek_verify(struct latchd_env *env, int argc, char **argv);

/*
 * `latchd trust import-intermediates`: PEM bundles, DER files and PKCS#7
 * bundles (files or directories) into the intermediate cache, as
 * untrusted helpers for servers without internet. Only CA certificates are
 * stored; each import is audited. Never adds a trust anchor.
 */
int cmd_trust_import(struct latchd_env *env, int argc, char **argv);

/* `latchd trust list`: pinned roots and cached intermediates, SHA-256. */
int cmd_trust_list(struct latchd_env *env, int argc, char **argv);

#endif /* LATCHD_CMD_EK_H */
