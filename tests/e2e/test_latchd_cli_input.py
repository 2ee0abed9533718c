# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd's command line: it frees what it allocates (sanitizer builds give
the verb's real exit code), refuses malformed arguments with exit 2 naming
the argument, and `init` neither writes a bogus setting nor leaves a
half-made data directory behind.
"""
import os
import shutil
import subprocess

import pytest

from fixtures_latchd import LATCHD, make_latchd


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def run(*args, data=None):
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    cmd = [LATCHD] + (["--data", data] if data else []) + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=120,
                          check=False, env=env)


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="valgrind not installed")
@pytest.mark.parametrize("args", [["help"], ["--json", "help"],
                                  ["customer", "list"]])
def test_output_wrappers_are_freed_at_exit(sq_latchd, args):
    # The stdout/stderr escaping wrappers used to stay allocated, so every
    # verb of a SANITIZE=1 build exited 1 on LeakSanitizer's report.
    res = subprocess.run(
        ["valgrind", "--leak-check=full", "--show-leak-kinds=all",
         LATCHD, "--data", sq_latchd.data] + args,
        capture_output=True, timeout=300, check=False, text=True)
    assert res.returncode == 0, res.stderr
    assert "safeout" not in res.stderr, res.stderr
