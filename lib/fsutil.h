/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/* fsutil.h: capped file reads and atomic file writes. */
#ifndef LATCH_FSUTIL_H
#define LATCH_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Reads a whole regular file of at most max bytes into a new NUL-terminated
 * buffer. LATCH_E_IO when unreadable, LATCH_E_FORMAT when larger than max
 * (the message says so and names the limit).
 */
enum latch_status latch_read_file(const char *path, size_t max, char **out,
                                  size_t *outlen, struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * LATCH_OK when path does not exist or is a regular file (lstat: a symlink
 * is refused, not followed); LATCH_E_IO "cannot write PATH: exists and is
 * not a regular file" otherwise.
 */
enum latch_status latch_check_replaceable(const char *path,
                                          struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Writes atomically: temporary file in the same directory (O_EXCL, mode),
 * write, fsync, rename over path, fsync the directory. Refuses a path that
 * exists and is not a regular file (latch_check_replaceable()). On failure
 * path is untouched and the temporary file removed.
 */
enum latch_status latch_write_atomic(const char *path, const void *buf,
                                     size_t len, mode_t mode,
                                     struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCH_FSUTIL_H */
