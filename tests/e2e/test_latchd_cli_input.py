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


@pytest.mark.parametrize("args,what", [
    (["customer", "add", b"ab\xffcd"], b"customer name: not valid UTF-8"),
    (["plan", "add", b"p\xff", "--feature", "x"],
     b"plan name: not valid UTF-8"),
    (["license", "revoke", "2", "--reason", b"r\xff"],
     b"--reason: not valid UTF-8"),
    (["enrollment", "reject", "1", "--reason", b"r\xff"],
     b"--reason: not valid UTF-8"),
    (["license", "issue", "--enrollment", "1", "--customer", b"c\xff",
      "-o", "x.json"], b"--customer: not valid UTF-8"),
])
def test_invalid_utf8_argument_is_a_usage_error(sq_latchd, args, what):
    # It used to reach json_string(), whose NULL read as "out of memory"
    # (exit 5).
    res = run(*args, data=sq_latchd.data)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert what in res.stderr, res.stderr
    assert b"out of memory" not in res.stderr


@pytest.mark.parametrize("args,what", [
    (["enrollment", "reject", "1", "--reason", "ok\nstate approved"],
     b"--reason: control character U+000A"),
    (["license", "revoke", "1", "--reason", "tab\there"],
     b"--reason: control character U+0009"),
    (["token", "create", "--role", "viewer", "--name", "a\nb"],
     b"token name: control character U+000A"),
    (["token", "create", "--role", "viewer", "--name", ""],
     b"token name: 1..64 bytes"),
    (["customer", "add", "a\nb"], b"customer name: control character"),
])
def test_control_characters_in_text_arguments_are_refused(sq_latchd, args,
                                                          what):
    res = run(*args, data=sq_latchd.data)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert what in res.stderr, res.stderr


@pytest.mark.parametrize("opt", [
    ["--listen", "bogus"], ["--listen", "127.0.0.1:99999"],
    ["--listen", "127.0.0.1:+80"], ["--listen", "localhost:80"],
    ["--listen", "127.0.0.1:18099\n[http]\ncookie_secure = false"],
    ["--database", "bogus://x"],
    ["--database", "sqlite:/x.db\n[http]\nlisten = 0.0.0.0:80"],
    ["--trust", "/tmp\n[http]"],
])
def test_init_refuses_bad_values_before_creating_anything(tmp_path, opt):
    data = tmp_path / "new" / "data"
    res = run("init", *opt, data=str(data))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert not (tmp_path / "new").exists()


def test_init_accepts_what_serve_accepts(tmp_path):
    data = tmp_path / "d"
    res = run("init", "--listen", "[::1]:18099", data=str(data))
    assert res.returncode == 0, res.stderr
    conf = (data / "latchd.conf").read_text()
    assert "listen = [::1]:18099\n" in conf
    assert conf.count("[http]") == 1


@pytest.mark.parametrize("database,code", [
    ("postgresql://127.0.0.1:1/x", 4),          # unreachable server
    ("sqlite:/nonexistent-latch-dir/x.db", 4),  # after the trust dir
])
def test_failed_init_removes_only_what_it_made(tmp_path, database, code):
    fresh = tmp_path / "fresh" / "data"
    res = run("init", "--database", database, data=str(fresh))
    assert res.returncode == code, (res.returncode, res.stderr)
    assert not (tmp_path / "fresh").exists()
    # An existing directory keeps what was there before.
    pre = tmp_path / "pre"
    pre.mkdir()
    (pre / "keep.txt").write_text("mine")
    (pre / "trust").mkdir()
    (pre / "trust" / "root.pem").write_text("pinned")
    res = run("init", "--database", database, data=str(pre))
    assert res.returncode == code, (res.returncode, res.stderr)
    assert sorted(os.listdir(pre)) == ["keep.txt", "trust"]
    assert os.listdir(pre / "trust") == ["root.pem"]


@pytest.mark.parametrize("now", ["abc", "", "0", "12abc", "-5", "+5", " 5",
                                 "253402300800", "99999999999999999999"])
def test_ek_verify_now_is_strict(tmp_path, now):
    # atoll-like parsing made "abc", "" and "0" mean "now", "12abc" 12.
    res = run("ek", "verify", "--trust", str(tmp_path), "--now", now,
              str(tmp_path / "ek.der"))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"--now" in res.stderr, res.stderr


@pytest.mark.parametrize("bad", [" 1", "+1", "01", "1 ", "0", "-1", "1e3"])
def test_ids_are_plain_digits(sq_latchd, bad):
    for args in (["enrollment", "show", bad], ["license", "show", bad],
                 ["enrollment", "list", "--after", bad]):
        res = run(*args, data=sq_latchd.data)
        assert res.returncode == 2, (args, res.returncode, res.stderr)


@pytest.mark.parametrize("qty", [" 5", "+5", "05", "-0", "5 "])
def test_quantities_are_plain_digits(sq_latchd, qty):
    res = run("plan", "add", "p", "--feature", "x=" + qty,
              data=sq_latchd.data)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"quantity" in res.stderr, res.stderr
    res = run("plan", "add", "p", "--feature", "x=0", data=sq_latchd.data)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("dev", ["zz", "A" * 64, "a" * 63, "a" * 65])
def test_device_filter_must_be_a_device_id(sq_latchd, dev):
    for args in (["enrollment", "list", "--device", dev],
                 ["license", "list", "--device", dev],
                 ["device", "show", dev]):
        res = run(*args, data=sq_latchd.data)
        assert res.returncode == 2, (args, res.returncode, res.stderr)
    res = run("enrollment", "list", "--device", "a" * 64,
              data=sq_latchd.data)
    assert res.returncode == 0, res.stderr
