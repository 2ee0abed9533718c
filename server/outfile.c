/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * outfile.c: output-path checks and no-overwrite atomic writes for the
 * latchd verbs that write license files where the operator says.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "outfile.h"

/* The directory part of path ("." when there is none) into buf. */
static enum latch_status
dir_of(const char *path, char *buf, size_t cap, struct latch_err *err)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (slash == NULL) {
        n = 1;
        path = ".";
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
    }
    if (n >= cap) {
        return latch_err_set(err, LATCH_E_USAGE, "%.200s: path too long", path);
    }
    memcpy(buf, path, n);
    buf[n] = '\0';
    return LATCH_OK;
}

/* True when the resolved directory real is data_dir or below it. */
static bool
inside(const char *real, const char *data_dir)
{
    char *d = data_dir != NULL ? realpath(data_dir, NULL) : NULL;
    size_t n;
    bool in;

    if (d == NULL) {
        return false;
    }
    n = strlen(d);
    in = strncmp(real, d, n) == 0 &&
         (real[n] == '\0' || real[n] == '/' || strcmp(d, "/") == 0);
    free(d);
    return in;
}

static enum latch_status
check_dir(const char *dir, const char *shown, const char *data_dir,
          struct latch_err *err)
{
    struct stat sb;
    char *real = NULL;
    enum latch_status st = LATCH_OK;

    if (stat(dir, &sb) != 0) {
        return latch_err_set(err, LATCH_E_USAGE, "%.200s: directory %.200s: %s",
                             shown, dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%.200s: %.200s is not a directory", shown, dir);
    }
    if (access(dir, W_OK | X_OK) != 0) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%.200s: directory %.200s is not writable: %s",
                             shown, dir, strerror(errno));
    }
    real = realpath(dir, NULL);
    if (real == NULL) {
        return latch_err_set(err, LATCH_E_USAGE, "%.200s: %s", shown,
                             strerror(errno));
    }
    if (inside(real, data_dir)) {
        st = latch_err_set(err, LATCH_E_USAGE,
                           "%.200s: inside the data directory %.200s; "
                           "refusing to write there",
                           shown, data_dir);
    }
    free(real);
    return st;
}

enum latch_status
out_check(const char *path, bool is_dir, const char *data_dir,
          struct latch_err *err)
{
    char dir[PATH_MAX];
    struct stat sb;
    enum latch_status st;

    if (path == NULL || path[0] == '\0') {
        return latch_err_set(err, LATCH_E_USAGE, "-o: empty path");
    }
    if (is_dir) {
        return check_dir(path, path, data_dir, err);
    }
    if (lstat(path, &sb) == 0) {
        return latch_err_set(err, LATCH_E_USAGE,
                             "%.200s: already exists; refusing to overwrite",
                             path);
    }
    if (errno != ENOENT) {
        return latch_err_set(err, LATCH_E_USAGE, "%.200s: %s", path,
                             strerror(errno));
    }
    st = dir_of(path, dir, sizeof(dir), err);
    if (st != LATCH_OK) {
        return st;
    }
    return check_dir(dir, path, data_dir, err);
}

static enum latch_status
write_all(int fd, const void *buf, size_t len, const char *shown,
          struct latch_err *err)
{
    const char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return latch_err_set(err, LATCH_E_IO, "%.200s: write: %s", shown,
                                 n < 0 ? strerror(errno) : "no progress");
        }
        p += n;
        len -= (size_t)n;
    }
    return LATCH_OK;
}

enum latch_status
out_write_new(const char *path, const void *buf, size_t len, mode_t mode,
              struct latch_err *err)
{
    char dir[PATH_MAX];
    char tmp[PATH_MAX];
    unsigned char rnd[8];
    enum latch_status st;
    int fd = -1;
    int dfd = -1;
    int n;
    bool made = false;

    st = dir_of(path, dir, sizeof(dir), err);
    if (st != LATCH_OK) {
        goto out;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        st = latch_err_set(err, LATCH_E_CRYPTO, "RAND_bytes failed");
        goto out;
    }
    n = snprintf(tmp, sizeof(tmp),
                 "%s/.latchd-%02x%02x%02x%02x%02x%02x%02x%02x", dir, rnd[0],
                 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        st = latch_err_set(err, LATCH_E_USAGE, "%.200s: path too long", path);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        st = latch_err_set(err, LATCH_E_IO, "%.200s: %s", tmp, strerror(errno));
        goto out;
    }
    made = true;
    st = write_all(fd, buf, len, path, err);
    if (st == LATCH_OK && fsync(fd) != 0) {
        st = latch_err_set(err, LATCH_E_IO, "%.200s: fsync: %s", path,
                           strerror(errno));
    }
    if (st == LATCH_OK && link(tmp, path) != 0) {
        int e = errno;

        st = latch_err_set(err, e == EEXIST ? LATCH_E_USAGE : LATCH_E_IO,
                           "%.200s: %s%s", path, strerror(e),
                           e == EEXIST ? "; refusing to overwrite" : "");
    }
    if (st == LATCH_OK) {
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }

out:
    if (fd >= 0) {
        close(fd);
    }
    if (made) {
        unlink(tmp);
    }
    if (dfd >= 0) {
        if (fsync(dfd) != 0 && st == LATCH_OK) {
            st = latch_err_set(err, LATCH_E_IO, "%.200s: fsync: %s", dir,
                               strerror(errno));
        }
        close(dfd);
    }
    return st;
}
