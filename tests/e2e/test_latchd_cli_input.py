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
     b"token name: required (1..64 bytes)"),
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


def approved(d, dev, tmp_path):
    enr = dev.enroll(str(tmp_path / "enr.json"))
    out = d.json("enrollment", "import", enr, "--wait")
    assert out["state"] == "valid", out
    d.json("enrollment", "approve", str(out["id"]))
    return out["id"]


def issue(d, enr_id, out, *args):
    return run("license", "issue", "--enrollment", str(enr_id),
               "--customer", "ACME", "--feature", "base", "-o", out, *args,
               data=d.data)


@pytest.mark.parametrize("until", ["2020-01-01", "today"])
def test_issue_valid_until_in_the_past_is_a_usage_error(sq_latchd, device,
                                                        tmp_path, until):
    import datetime
    d = sq_latchd
    assert run("customer", "add", "ACME", data=d.data).returncode == 0
    enr_id = approved(d, device(), tmp_path)
    if until == "today":
        until = datetime.datetime.utcnow().strftime("%Y-%m-%d")
    res = issue(d, enr_id, str(tmp_path / "l.json"), "--valid-until", until)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"is not in the future" in res.stderr, res.stderr


@pytest.mark.parametrize("count", ["0", "-1", "01"])
def test_issue_count_message_names_count(sq_latchd, count, tmp_path):
    res = issue(sq_latchd, 1, str(tmp_path), "--count", count)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"--count" in res.stderr and b"not an id" not in res.stderr


def test_issue_argument_checks_come_before_the_enrollment_state(
        sq_latchd, device, tmp_path):
    d = sq_latchd
    assert run("customer", "add", "ACME", data=d.data).returncode == 0
    enr = d.json("enrollment", "import",
                 device().enroll(str(tmp_path / "e.json")))
    # Not approved: a duplicate feature is still a usage error (exit 2).
    res = run("license", "issue", "--enrollment", str(enr["id"]),
              "--customer", "ACME", "--feature", "x", "--feature", "x=2",
              "-o", str(tmp_path / "l.json"), data=d.data)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert b"feature x is given twice" in res.stderr


def test_bulk_problem_before_any_license_does_not_claim_some_were(
        sq_latchd, tmp_path):
    res = issue(sq_latchd, 999, str(tmp_path), "--count", "3")
    assert res.returncode == 3, (res.returncode, res.stderr)
    assert b"already issued" not in res.stderr
    assert b"stopped after" not in res.stderr


def test_bulk_file_collision_names_each_stored_license_and_its_export(
        sq_latchd, device, tmp_path):
    d = sq_latchd
    assert run("customer", "add", "ACME", data=d.data).returncode == 0
    enr_id = approved(d, device(), tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "license-2.json").write_text("someone else's\n")
    res = issue(d, enr_id, str(out), "--count", "3")
    assert res.returncode != 0, res.stderr
    ids = sorted(i["id"] for i in d.json("license", "list")["items"])
    assert ids == [1, 2, 3], ids
    err = res.stderr.decode()
    # Every stored license is either on disk or named with its recovery.
    for lic in ids:
        f = out / ("license-%d.json" % lic)
        if lic == 2:
            assert f.read_text() == "someone else's\n"
        if lic == 2 or not f.exists():
            assert "latchd license export %d -o FILE" % lic in err, err
    assert "stopped after 3 license(s) were stored" in err, err
    # The recovery command works.
    rec = tmp_path / "lic2.json"
    res = run("license", "export", "2", "-o", str(rec), data=d.data)
    assert res.returncode == 0, res.stderr


def test_license_export_dash_means_standard_output(sq_latchd, device,
                                                   tmp_path, monkeypatch):
    d = sq_latchd
    assert run("customer", "add", "ACME", data=d.data).returncode == 0
    enr_id = approved(d, device(), tmp_path)
    lic = tmp_path / "l.json"
    assert issue(d, enr_id, str(lic)).returncode == 0
    monkeypatch.chdir(tmp_path)
    res = run("license", "export", "1", "-o", "-", data=d.data)
    assert res.returncode == 0, res.stderr
    assert res.stdout == lic.read_bytes()
    assert not (tmp_path / "-").exists()
    res = run("--json", "license", "export", "1", "-o", "-", data=d.data)
    assert res.returncode == 2, res.stderr


def test_import_of_an_already_cached_certificate_says_so(sq_latchd,
                                                         vendor_ca,
                                                         tmp_path):
    # The fixture imported the vendor's issuing CA once already.
    pem = open(vendor_ca.issuer_pem).read()
    dup = tmp_path / "dup.pem"
    dup.write_text(pem + pem)
    res = run("trust", "import-intermediates", str(dup),
              data=sq_latchd.data)
    assert res.returncode == 0, res.stderr
    assert b"0 stored, 2 already cached" in res.stdout, res.stdout
    res = run("--json", "trust", "import-intermediates", str(dup),
              data=sq_latchd.data)
    assert b'"already_cached": 2' in res.stdout, res.stdout


def test_json_error_with_invalid_utf8_in_the_message_is_still_printed(
        sq_latchd):
    import json
    res = run("--json", "plan", "add", "p", "--feature", b"x@\xff",
              data=sq_latchd.data)
    assert res.returncode == 2, res.stderr
    out = json.loads(res.stdout)
    assert out["state"] == "error" and "until" in out["error"], out
