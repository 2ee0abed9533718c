/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * aia.h: fetching a missing issuer certificate from the caIssuers URL of an
 * Authority Information Access extension, with libcurl and hard limits:
 * http/https only, no redirects, 64 KiB, 5 s, slow senders cut off, and
 * every resolved address checked before connecting (loopback, private,
 * link-local and other special ranges refused unless allowed for tests).
 * The bodies are parsed as certificates and never shown to a user.
 */
#ifndef LATCHD_AIA_H
#define LATCHD_AIA_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"

#define AIA_MAX_BYTES_DEFAULT  65536
#define AIA_TIMEOUT_MS_DEFAULT 5000
#define AIA_URL_MAX            1024

/*
 * Fetch settings, normally from latchd.conf ([aia] section). Zero values
 * mean the defaults. The strings are borrowed and must outlive the use.
 */
struct aia_config {
    bool enabled;       /* false: never touch the network */
    bool allow_private; /* tests only: allow loopback/private targets */
    size_t max_bytes;   /* body cap; 0: AIA_MAX_BYTES_DEFAULT */
    long timeout_ms;    /* whole transfer; 0: AIA_TIMEOUT_MS_DEFAULT */
    long low_speed_bps; /* below this for 2 s: abort; 0: 1024 */
    /*
     * curl resolve entries "HOST:PORT:ADDR", comma separated (tests map
     * vendor host names to 127.0.0.1 with this); NULL for none.
     */
    const char *resolve;
    /*
     * curl connect-to entries "HOST:PORT:HOST2:PORT2", comma separated
     * (tests send a vendor's port 80 to a loopback test server); NULL for
     * none. The address check applies to where it really connects.
     */
    const char *connect_to;
    /* Comma-separated host names allowed; NULL or "": any host. */
    const char *allow_hosts;
    /* CA file for https (NULL: the system default). */
    const char *ca_file;
};

typedef void (*aia_progress_fn)(void *arg, const char *msg);

/*
 * Fetches url and appends every certificate in the body (DER, PEM, or
 * PKCS#7 certs-only, DER or PEM) to out. Each step (URL, address checked,
 * bytes received, certificates found) is reported through progress (may
 * be NULL). Failures name the URL and the limit or check hit, e.g.
 * "redirect refused", "body larger than 65536 bytes", "HTML page, not a
 * certificate", "address 10.0.0.1 is private". Bounded memory: never
 * more than max_bytes + a small constant held.
 * LATCH_E_POLICY: refused by a rule; LATCH_E_IO: network failure;
 * LATCH_E_FORMAT: the body is not a certificate.
 */
enum latch_status aia_fetch(const struct aia_config *cfg, const char *url,
                            STACK_OF(X509) * out, aia_progress_fn progress,
                            void *progress_arg, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Percent-encodes spaces and other bytes not allowed in a URL (real EK
 * certificates carry caIssuers URLs with literal spaces). Fails with
 * LATCH_E_FORMAT on control characters or when out (cap bytes) is short.
 */
enum latch_status aia_url_normalize(const char *in, char *out, size_t cap,
                                    struct latch_err *err)
    __attribute__((warn_unused_result));

/* Call once at start-up, before threads (curl_global_init). */
enum latch_status aia_global_init(struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_AIA_H */
