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


@pytest.mark.parametrize("args", [
    ("audit", "list"),
    ("trust", "import-intermediates", ""),
    ("enrollment", "import", ""),
    ("ca", "install", ""),
])
def test_empty_path_is_a_usage_error(data, args):
    res = run(*args, data="" if len(args) == 2 else data)
    assert res.returncode == 2, (args, res.returncode, res.stderr)
    assert b"empty path" in res.stderr, res.stderr


def test_data_that_is_a_file_is_named(tmp_path):
    f = tmp_path / "plain"
    f.write_text("x")
    res = run("audit", "list", data=str(f))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert ("--data %s: not a directory" % f).encode() in res.stderr


@pytest.mark.parametrize("args", [
    ("worker", "--once", "extra"),
    ("trust", "list", "extra"),
])
def test_stray_operand_is_a_usage_error(data, args):
    res = run(*args, data=data)
    assert res.returncode == 2, (args, res.returncode, res.stderr)
    assert b'unexpected operand "extra"' in res.stderr


def test_repeated_enrollment_is_refused(data, tmp_path):
    assert run("customer", "add", "ACME", data=data).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    res = run("license", "issue", "--enrollment", "1", "--enrollment", "2",
              "--enrollment", "1", "--customer", "ACME", "--feature", "x",
              "-o", str(out), data=data)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"--enrollment 1 is given twice" in res.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("args,opt,low,high", [
    (("audit", "list", "--limit", "0"), "--limit", 1, 1000),
    (("audit", "list", "--limit", "-1"), "--limit", 1, 1000),
    (("audit", "list", "--limit", "01"), "--limit", 1, 1000),
    (("audit", "list", "--limit", "9" * 30), "--limit", 1, 1000),
    (("enrollment", "list", "--limit", "0"), "--limit", 1, 1000),
    (("license", "list", "--enrollment", "0"), "--enrollment", 1, None),
    (("license", "list", "--after", "x"), "--after", 1, None),
    (("enrollment", "progress", "2", "--since", "abc"), "--since", 0, None),
    (("worker", "--threads", "0"), "--threads", 1, 64),
    (("worker", "--threads", "65"), "--threads", 1, 64),
])
def test_bad_number_names_option_and_range(data, args, opt, low, high):
    res = run(*args, data=data)
    assert res.returncode == 2, (args, res.returncode, res.stderr)
    assert ('%s "%s" is not a number from %d to ' % (opt, args[-1], low)
            ).encode() in res.stderr, res.stderr
    if high is not None:
        assert ("to %d" % high).encode() in res.stderr


def test_since_zero_is_allowed(data):
    res = run("enrollment", "progress", "2", "--since", "0", data=data)
    assert res.returncode == 3, (res.returncode, res.stderr)
    assert b"no such enrollment" in res.stderr
