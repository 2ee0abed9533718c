/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The latch authors */
/*
 * test_fsutil.c: atomic writes replace a regular file or create one, and
 * refuse anything else at the path (a FIFO, a symlink, a directory): the
 * rename would replace the node itself.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"

struct dir {
    char path[64];
};

static int
setup(void **state)
{
    static struct dir d;

    snprintf(d.path, sizeof(d.path), "/tmp/latch-fsutil-XXXXXX");
    if (mkdtemp(d.path) == NULL) {
        return -1;
    }
    *state = &d;
    return 0;
}

static int
teardown(void **state)
{
    struct dir *d = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
    return system(cmd) == 0 ? 0 : -1;
}

static void
join(const struct dir *d, const char *name, char *out, size_t cap)
{
    assert_true((size_t)snprintf(out, cap, "%s/%s", d->path, name) < cap);
}

static void
assert_content(const char *path, const char *want)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(latch_read_file(path, 1024, &buf, &len, NULL), LATCH_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    free(buf);
}

static void
test_write_creates_and_replaces_a_regular_file(void **state)
{
    struct latch_err err = {LATCH_OK, ""};
    char path[128];

    join(*state, "f.json", path, sizeof(path));
    assert_int_equal(latch_write_atomic(path, "one", 3, 0600, &err), LATCH_OK);
    assert_content(path, "one");
    assert_int_equal(latch_write_atomic(path, "two!", 4, 0600, &err), LATCH_OK);
    assert_content(path, "two!");
}

static void
assert_refused(const char *path)
{
    struct latch_err err = {LATCH_OK, ""};
    char want[256];

    assert_int_equal(latch_write_atomic(path, "x", 1, 0600, &err), LATCH_E_IO);
    snprintf(want, sizeof(want),
             "cannot write %s: exists and is not a regular file", path);
    assert_string_equal(err.msg, want);
}

static void
test_write_refuses_a_fifo_a_symlink_and_a_directory(void **state)
{
    char fifo[128], link[128], target[128], dir[128];
    struct stat sb;

    join(*state, "fifo", fifo, sizeof(fifo));
    join(*state, "link", link, sizeof(link));
    join(*state, "target", target, sizeof(target));
    join(*state, "dir", dir, sizeof(dir));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(latch_write_atomic(target, "keep", 4, 0600, NULL),
                     LATCH_OK);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(mkdir(dir, 0700), 0);

    assert_refused(fifo);
    assert_refused(link);
    assert_refused(dir);
    assert_int_equal(lstat(fifo, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_content(target, "keep");

    /* A dangling symlink is refused too: the rename would replace it. */
    assert_int_equal(unlink(target), 0);
    assert_refused(link);
    assert_int_equal(access(target, F_OK), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_write_creates_and_replaces_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_write_refuses_a_fifo_a_symlink_and_a_directory, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
