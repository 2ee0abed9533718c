/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * cmd_enroll.c: `latch enroll -o FILE`: enrolls this device's TPM and
 * writes enrollment.json for the license server. The device description
 * (hostname, DMI or device-tree product and serial) is informational.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "devcommon.h"
#include "device.h"
#include "fsutil.h"

#define INFO_MAX 128

struct info_buf {
    char hostname[INFO_MAX];
    char product[INFO_MAX];
    char serial[INFO_MAX];
    char firmware[INFO_MAX];
};

/*
 * The first readable file of paths, trimmed, when it is printable ASCII;
 * "" otherwise (absent, unreadable as non-root, or binary).
 */
static void
read_info(const char *const *paths, char *out, size_t cap)
{
    char *buf = NULL;
    size_t len = 0;

    out[0] = '\0';
    for (; *paths != NULL && out[0] == '\0'; paths++) {
        if (latch_read_file(*paths, 4096, &buf, &len, NULL) != LATCH_OK) {
            continue;
        }
        while (len > 0 && (buf[len - 1] == '\0' || buf[len - 1] == '\n' ||
                           buf[len - 1] == ' ')) {
            len--;
        }
        bool ok = len > 0 && len < cap;
        for (size_t i = 0; ok && i < len; i++) {
            ok = buf[i] >= 0x20 && buf[i] < 0x7f;
        }
        if (ok) {
            memcpy(out, buf, len);
            out[len] = '\0';
        }
        free(buf);
        buf = NULL;
    }
}

static const char *
nonempty(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

static void
collect_info(struct info_buf *b, struct latch_device_info *info)
{
    static const char *const product[] = {"/sys/class/dmi/id/product_name",
                                          "/proc/device-tree/model", NULL};
    static const char *const serial[] = {"/sys/class/dmi/id/product_serial",
                                         "/proc/device-tree/serial-number",
                                         NULL};
    static const char *const firmware[] = {"/sys/class/dmi/id/bios_version",
                                           NULL};

    if (gethostname(b->hostname, sizeof(b->hostname)) != 0) {
        b->hostname[0] = '\0';
    }
    b->hostname[sizeof(b->hostname) - 1] = '\0';
    read_info(product, b->product, sizeof(b->product));
    read_info(serial, b->serial, sizeof(b->serial));
    read_info(firmware, b->firmware, sizeof(b->firmware));
    info->hostname = nonempty(b->hostname);
    info->product = nonempty(b->product);
    info->serial_number = nonempty(b->serial);
    info->firmware_version = nonempty(b->firmware);
}

/* The files latch keeps in its state directory (lib/device.h). */
static const char *const state_files[] = {
    "ak.pub",          "ak.priv",         "ak.json",          "ak-pending.pub",
    "ak-pending.priv", "ak-pending.json", LATCH_LICENSE_FILE, NULL};

/*
 * Refuses an output path that would replace the device's own state: one
 * whose directory is the state directory or below it, or an existing file
 * that is one of the state files under another name (a link). Also refuses
 * anything there but a regular file (a device, a FIFO, a symlink): the
 * rename would replace it. A directory that cannot be resolved yet is left
 * to the write to report.
 */
static int
check_out_path(const char *out, const char *state, struct latch_err *err)
{
    char copy[PATH_MAX], outdir[PATH_MAX], sdir[PATH_MAX], file[PATH_MAX];
    struct stat osb, ssb;
    size_t n;
    int w;

    if (strcmp(out, "-") == 0) {
        return 0;
    }
    /* The write refuses it too (exit 3), but only after the TPM work. */
    if (lstat(out, &osb) == 0 && !S_ISREG(osb.st_mode)) {
        latch_err_set(err, LATCH_E_USAGE,
                      "-o %s: exists and is not a regular file (refusing to "
                      "replace it)",
                      out);
        return 1;
    }
    if (realpath(state, sdir) == NULL) {
        return 0;
    }
    if (snprintf(copy, sizeof(copy), "%s", out) >= (int)sizeof(copy)) {
        latch_err_set(err, LATCH_E_USAGE, "-o %s: path too long", out);
        return 1;
    }
    if (realpath(dirname(copy), outdir) != NULL) {
        n = strlen(sdir);
        if (strncmp(outdir, sdir, n) == 0 &&
            (outdir[n] == '\0' || outdir[n] == '/' || n == 1)) {
            latch_err_set(err, LATCH_E_USAGE,
                          "-o %s: refusing to write inside the state "
                          "directory %s (it would replace the device's own "
                          "files)",
                          out, state);
            return 1;
        }
    }
    if (stat(out, &osb) != 0) {
        return 0;
    }
    for (size_t i = 0; state_files[i] != NULL; i++) {
        w = snprintf(file, sizeof(file), "%s/%s", sdir, state_files[i]);
        if (w > 0 && w < (int)sizeof(file) && stat(file, &ssb) == 0 &&
            ssb.st_dev == osb.st_dev && ssb.st_ino == osb.st_ino) {
            latch_err_set(err, LATCH_E_USAGE,
                          "-o %s: refusing to write over the state file %s",
                          out, file);
            return 1;
        }
    }
    return 0;
}

static int
write_out(const char *path, const struct latch_enroll_result *res,
          struct latch_err *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(res->json, 1, res->len, stdout) != res->len ||
            fflush(stdout) != 0) {
            latch_err_set(err, LATCH_E_IO, "stdout: %s", strerror(errno));
            return 1;
        }
        return 0;
    }
    return latch_write_atomic(path, res->json, res->len, 0644, err) != LATCH_OK;
}

int
cmd_enroll(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"ek", required_argument, NULL, 'e'},
        {"ak", required_argument, NULL, 'a'},
        {"label", required_argument, NULL, 'l'},
        {"rotate", no_argument, NULL, 'r'},
        {"persist-ak", no_argument, NULL, 'p'},
        {"replace-pending", no_argument, NULL, 'R'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0}};
    struct latch_enroll_opts opts = {.ak_alg = LATCH_AK_ECC_P256};
    struct latch_enroll_result res = {0};
    struct latch_err err = {LATCH_OK, ""};
    struct latch_device *dev = NULL;
    struct cli_common common = {0};
    struct info_buf ib;
    char shown[2 * PATH_MAX];
    const char *out = NULL;
    const char *state;
    FILE *msg;
    int c, rc;

    for (;;) {
        c = getopt_long(argc, argv, ":o:h", longopts, NULL);
        if (c == -1) {
            break;
        }
        if (cli_common_opt(c, optarg, &common)) {
            continue;
        }
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'e':
            opts.ek = optarg;
            break;
        case 'a':
            if (strcmp(optarg, "ecc") == 0) {
                opts.ak_alg = LATCH_AK_ECC_P256;
            } else if (strcmp(optarg, "rsa") == 0) {
                opts.ak_alg = LATCH_AK_RSA2048;
            } else {
                return cli_usage("enroll", "--ak: 'ecc' or 'rsa', not '%s'",
                                 optarg);
            }
            break;
        case 'l':
            opts.info.label = optarg;
            break;
        case 'r':
            opts.rotate = true;
            break;
        case 'p':
            opts.persist_ak = true;
            break;
        case 'R':
            opts.replace_pending = true;
            break;
        case CLI_OPT_HELP:
            cli_verb_help(stdout, "enroll");
            return CLI_EXIT_OK;
        default:
            return cli_bad_option("enroll", c, argv);
        }
    }
    if (out == NULL || optind != argc) {
        return cli_usage("enroll", "needs -o FILE and no operands");
    }
    if (out[0] == '\0') {
        return cli_usage("enroll", "-o: empty path (use -o - for stdout)");
    }

    dev_quiet_tss();
    collect_info(&ib, &opts.info);
    state = latch_device_state_dir(common.state_dir);
    /* Checked again after enrolling: enroll may create the state dir. */
    if (check_out_path(out, state, &err) != 0 ||
        latch_device_open(common.tcti, common.state_dir, &dev, &err) !=
            LATCH_OK ||
        latch_device_enroll(dev, &opts, &res, &err) != LATCH_OK ||
        check_out_path(out, state, &err) != 0 ||
        write_out(out, &res, &err) != 0) {
        rc = cli_fail("enroll", &err);
        goto done;
    }
    msg = strcmp(out, "-") == 0 ? stderr : stdout;
    fprintf(msg, "enrolled: %s EK, %s %s AK %s\n", res.ek_template,
            res.reused ? "existing" : "new",
            res.pending ? "pending (rotation)" : "active", res.ak_name);
    if (opts.replace_pending && res.pending) {
        fprintf(stderr, "latch enroll: warning: --replace-pending: a new "
                        "pending AK; a license issued for an earlier one will "
                        "not activate\n");
    }
    if (res.persistent_handle != 0) {
        fprintf(msg, "AK persistent at 0x%08x\n",
                (unsigned)res.persistent_handle);
    }
    if (strcmp(out, "-") != 0) {
        cli_safe_text(out, shown, sizeof(shown));
        fprintf(msg, "wrote %s: send it to the license server\n", shown);
    }
    rc = CLI_EXIT_OK;

done:
    latch_enroll_result_clear(&res);
    latch_device_close(dev);
    return rc;
}
