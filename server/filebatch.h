/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * filebatch.h: atomic writes of many files into one directory with two
 * disk flushes for the whole batch instead of two per file (bulk license
 * issuance).
 */
#ifndef LATCHD_FILEBATCH_H
#define LATCHD_FILEBATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct file_item {
    const char *name; /* file name inside the directory, no '/' */
    const char *data;
    size_t len;
};

/*
 * Writes every item as dir/name: each into a temporary file (O_EXCL),
 * then one syncfs() so every file's data is on disk, then the renames
 * into place, then one fsync of the directory. A file is never visible
 * under its name with partial contents. On failure the temporary files
 * are removed; files already renamed stay.
 */
enum latch_status files_write_batch(const char *dir,
                                    const struct file_item *items, size_t n,
                                    mode_t mode, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_FILEBATCH_H */
