/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* fsutil.c: capped file reads and atomic writes (temp, fsync, rename). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

enum latch_status
latch_read_file(const char *path, size_t max, char **out, size_t *outlen,
                struct latch_err *err)
{
    enum latch_status st = LATCH_E_IO;
    struct stat sb;
    char *buf = NULL;
    size_t got = 0;
    ssize_t n;
    int fd;
    int fl;

    /*
     * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever. Only regular files are read, in blocking mode.
     */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &sb) == -1) {
        latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        latch_err_set(err, LATCH_E_IO, "%s: not a regular file", path);
        goto out;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        latch_err_set(err, LATCH_E_IO, "%s: fcntl: %s", path, strerror(errno));
        goto out;
    }
    if ((size_t)sb.st_size > max) {
        st = latch_err_set(err, LATCH_E_FORMAT,
                           "%s: file is %lld bytes, the limit is %zu", path,
                           (long long)sb.st_size, max);
        goto out;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        st = latch_err_set(err, LATCH_E_NOMEM, "%s: out of memory", path);
        goto out;
    }

    /* Read up to max+1 bytes: a file that grew past the cap is refused. */
    for (;;) {
        n = read(fd, buf + got, max + 1 - got);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1) {
            latch_err_set(err, LATCH_E_IO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
        if (got > max) {
            st = latch_err_set(err, LATCH_E_FORMAT,
                               "%s: file is larger than the limit of %zu "
                               "bytes",
                               path, max);
            goto out;
        }
    }

    buf[got] = '\0';
    *out = buf;
    *outlen = got;
    buf = NULL;
    st = LATCH_OK;

out:
    free(buf);
    close(fd);
    return st;
}

static enum latch_status
write_all(int fd, const void *buf, size_t len, const char *path,
          struct latch_err *err)
{
    const char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1) {
            return latch_err_set(err, LATCH_E_IO, "cannot write %s: %s", path,
                                 strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return LATCH_OK;
}

static enum latch_status
fsync_dir_of(const char *path, struct latch_err *err)
{
    char copy[4096];
    int dfd;
    int rc;

    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
        return latch_err_set(err, LATCH_E_IO, "%s: path too long", path);
    }
    dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s: open directory: %s", path,
                             strerror(errno));
    }
    rc = fsync(dfd);
    close(dfd);
    if (rc == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s: fsync directory: %s", path,
                             strerror(errno));
    }
    return LATCH_OK;
}

/*
 * rename() replaces whatever path names: a device node, a FIFO, a symlink
 * (not its target). Only a regular file, or nothing, may be replaced.
 */
enum latch_status
latch_check_replaceable(const char *path, struct latch_err *err)
{
    struct stat sb;

    if (lstat(path, &sb) == -1) {
        if (errno == ENOENT) {
            return LATCH_OK;
        }
        return latch_err_set(err, LATCH_E_IO, "cannot write %s: %s", path,
                             strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        return latch_err_set(err, LATCH_E_IO,
                             "cannot write %s: exists and is not a regular "
                             "file",
                             path);
    }
    return LATCH_OK;
}

enum latch_status
latch_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
                   struct latch_err *err)
{
    enum latch_status st;
    char tmp[4096];
    int fd;

    st = latch_check_replaceable(path, err);
    if (st != LATCH_OK) {
        return st;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        return latch_err_set(err, LATCH_E_IO, "%s: path too long", path);
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd == -1) {
        return latch_err_set(err, LATCH_E_IO, "cannot write %s: %s", path,
                             strerror(errno));
    }

    st = write_all(fd, buf, len, path, err);
    if (st == LATCH_OK && fchmod(fd, mode) == -1) {
        st = latch_err_set(err, LATCH_E_IO, "cannot write %s: chmod: %s", path,
                           strerror(errno));
    }
    if (st == LATCH_OK && fsync(fd) == -1) {
        st = latch_err_set(err, LATCH_E_IO, "cannot write %s: fsync: %s", path,
                           strerror(errno));
    }
    if (close(fd) == -1 && st == LATCH_OK) {
        st = latch_err_set(err, LATCH_E_IO, "cannot write %s: close: %s", path,
                           strerror(errno));
    }
    if (st == LATCH_OK && rename(tmp, path) == -1) {
        st = latch_err_set(err, LATCH_E_IO, "cannot write %s: rename: %s", path,
                           strerror(errno));
    }
    if (st != LATCH_OK) {
        unlink(tmp);
        return st;
    }

    return fsync_dir_of(path, err);
}
