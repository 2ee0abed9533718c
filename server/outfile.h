/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * outfile.h: checks and writes for the files latchd verbs write where the
 * operator says (-o): never over an existing file, never inside the data
 * directory, and checked before anything is issued.
 */
#ifndef LATCHD_OUTFILE_H
#define LATCHD_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Checks that path can be written as a new file: it does not exist (not
 * even as a dangling link), its directory exists and is writable, and that
 * directory is not data_dir or inside it (data_dir may be NULL). With
 * is_dir, path itself must be such a writable directory instead.
 * LATCH_E_USAGE naming the path and the reason.
 */
enum latch_status out_check(const char *path, bool is_dir, const char *data_dir,
                            struct latch_err *err)
    __attribute__((warn_unused_result));

/*
 * Writes buf as the new file path: a temporary file in the same directory
 * (O_EXCL, mode), fsync, then link() to path, which fails rather than
 * replace an existing file, then the temporary name removed and the
 * directory synced. The file appears whole or not at all.
 */
enum latch_status out_write_new(const char *path, const void *buf, size_t len,
                                mode_t mode, struct latch_err *err)
    __attribute__((warn_unused_result));

#endif /* LATCHD_OUTFILE_H */
