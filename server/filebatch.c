/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * filebatch.c: batched atomic file writes: temporary files, one syncfs,
 * renames, one directory fsync.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filebatch.h"

#define TMP_NAME_MAX 512

static enum latch_status
tmp_name(const char *name, char out[TMP_NAME_MAX], struct latch_err *err)
{
    int n;

    if (strchr(name, '/') != NULL || name[0] == '\0' || name[0] == '.') {
        return latch_err_set(err, LATCH_E_USAGE, "bad file name \"%s\"", name);
    }
    n = snprintf(out, TMP_NAME_MAX, ".%s.tmp.%ld", name, (long)getpid());
    if (n < 0 || n >= TMP_NAME_MAX) {
        return latch_err_set(err, LATCH_E_USAGE, "file name too long: %s",
                             name);
    }
    return LATCH_OK;
}

static enum latch_status
write_one(int dirfd, const char *dir, const struct file_item *it,
          const char *tmp, mode_t mode, struct latch_err *err)
{
    size_t off = 0;
    ssize_t w;
    int fd;

    fd = openat(dirfd, tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s/%s: %s", dir, tmp,
                             strerror(errno));
    }
    while (off < it->len) {
        w = write(fd, it->data + off, it->len - off);
        if (w == -1 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            latch_err_set(err, LATCH_E_IO, "%s/%s: %s", dir, tmp,
                          w == -1 ? strerror(errno) : "short write");
            close(fd);
            return LATCH_E_IO;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, mode) == -1 || close(fd) == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s/%s: %s", dir, tmp,
                             strerror(errno));
    }
    return LATCH_OK;
}

/*
 * Renames from to to in dirfd unless to exists (a license file from
 * another run or database is never replaced). Filesystems without
 * RENAME_NOREPLACE get link + unlink, which refuses an existing name too.
 */
static int
rename_noreplace(int dirfd, const char *from, const char *to)
{
    if (renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS) {
        return -1;
    }
    if (linkat(dirfd, from, dirfd, to, 0) == -1) {
        return -1;
    }
    return unlinkat(dirfd, from, 0);
}

enum latch_status
files_write_batch(const char *dir, const struct file_item *items, size_t n,
                  mode_t mode, struct latch_err *err)
{
    enum latch_status st = LATCH_OK;
    char tmp[TMP_NAME_MAX];
    size_t written = 0;
    size_t renamed = 0;
    size_t i;
    int dirfd;

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd == -1) {
        return latch_err_set(err, LATCH_E_IO, "%s: %s", dir, strerror(errno));
    }
    for (i = 0; i < n && st == LATCH_OK; i++) {
        st = tmp_name(items[i].name, tmp, err);
        if (st == LATCH_OK) {
            st = write_one(dirfd, dir, &items[i], tmp, mode, err);
        }
        if (st == LATCH_OK) {
            written = i + 1;
        }
    }
    if (st == LATCH_OK && syncfs(dirfd) == -1) {
        st = latch_err_set(err, LATCH_E_IO, "%s: syncfs: %s", dir,
                           strerror(errno));
    }
    for (i = 0; i < written && st == LATCH_OK; i++) {
        if (tmp_name(items[i].name, tmp, err) != LATCH_OK ||
            rename_noreplace(dirfd, tmp, items[i].name) == -1) {
            int e = errno;

            st = latch_err_set(err, LATCH_E_IO, "%s/%s: rename: %s%s", dir,
                               items[i].name, strerror(e),
                               e == EEXIST ? "; refusing to overwrite" : "");
            break;
        }
        renamed = i + 1;
    }
    if (st == LATCH_OK && fsync(dirfd) == -1) {
        st = latch_err_set(err, LATCH_E_IO, "%s: fsync: %s", dir,
                           strerror(errno));
    }
    for (i = renamed; i < written && st != LATCH_OK; i++) {
        if (tmp_name(items[i].name, tmp, NULL) == LATCH_OK) {
            unlinkat(dirfd, tmp, 0);
        }
    }
    close(dirfd);
    return st;
}
