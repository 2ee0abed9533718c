# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The `latch` command line around the device proofs, on swtpm boards:
status fails closed, enroll never writes over its own state, inputs that
are not regular files, messages that name the caller's paths, option
errors, unwritable stdout, empty settings, help and version, and the
enrollment argument checks.
"""
import json
import os
import re
import stat
import subprocess

import pytest

from fixtures_device import EXIT, run
from fixtures_paths import device_cmd
from fixtures_pki import LATCH, LATCH_CA, default_body
from test_device import FEATURES, activated, enrolled


def test_status_json_features_are_unusable_when_the_proof_fails(
        device, issue, tmp_path):
    a = device()
    b = device()
    activated(a, issue, tmp_path)
    enrolled(b, tmp_path, "enr-b")
    st = json.loads(a.latch("status", "--json").stdout)
    assert st["proof"]["ok"] is True
    assert st["features"]["base"]["usable"] is True

    # A's state on B's TPM: the proof fails, so nothing is usable.
    res = a.latch("status", "--json", tcti=b.tcti)
    assert res.returncode == EXIT["not_device"], res.stderr
    st = json.loads(res.stdout)
    assert st["proof"]["ok"] is False
    assert st["features"]["base"]["enabled"] is True
    assert all(not f["usable"] for f in st["features"].values())

    # No TPM at all.
    res = a.latch("status", "--json", tcti="swtpm:path=/nonexist")
    assert res.returncode == EXIT["tpm"], res.stderr
    st = json.loads(res.stdout)
    assert st["proof"]["ok"] is False
    assert all(not f["usable"] for f in st["features"].values())


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_enroll_refuses_to_write_its_output_over_the_state(device, tmp_path):
    dev = device()
    enrolled(dev, tmp_path)
    blobs = {n: _read(os.path.join(dev.state, n))
             for n in ("ak.pub", "ak.priv", "ak.json")}
    name = os.path.basename(dev.state)
    for out in (os.path.join(dev.state, "ak.pub"),
                os.path.join(dev.state, "..", name, "ak.priv"),
                os.path.join(dev.state, "enrollment.json")):
        res = dev.latch("enroll", "-o", out)
        assert res.returncode == EXIT["usage"], (out, res.stderr)
        assert "-o " + out in res.stderr and "state" in res.stderr
    assert not os.path.exists(os.path.join(dev.state, "enrollment.json"))

    # A link elsewhere to a state file is refused too.
    link = str(tmp_path / "link.pub")
    os.link(os.path.join(dev.state, "ak.pub"), link)
    res = dev.latch("enroll", "-o", link)
    assert res.returncode == EXIT["usage"], res.stderr
    assert "state file" in res.stderr
    for n, data in blobs.items():
        assert _read(os.path.join(dev.state, n)) == data, n
    # The AK still works: enrolling elsewhere reuses it.
    res = dev.latch("enroll", "-o", str(tmp_path / "again.json"))
    assert res.returncode == EXIT["ok"], res.stderr
    assert "existing" in res.stdout


def test_a_fifo_as_input_is_refused_not_waited_on(device, license_pki,
                                                  tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    dev = device()
    lic = license_pki.sign(default_body(), str(tmp_path / "lic.json"))
    for res in (run([LATCH, "verify", fifo], timeout=20),
                run([LATCH, "verify", lic, "--root", fifo],
                    timeout=20),
                dev.latch("activate", fifo)):
        assert res.returncode == EXIT["io"], res.args
        assert fifo + ": not a regular file" in res.stderr, res.stderr
    # latch-ca exits 1 on any failure.
    res = run([LATCH_CA, "show", fifo], timeout=20)
    assert res.returncode == 1
    assert fifo + ": not a regular file" in res.stderr, res.stderr


def test_write_errors_name_the_path_given_not_a_temp_file(device, tmp_path):
    dev = device()
    res = dev.latch("enroll", "-o", "/nonexistent/e.json")
    assert res.returncode == EXIT["io"], res.stderr
    assert ("cannot write /nonexistent/e.json: No such file or directory"
            in res.stderr), res.stderr
    assert ".tmp" not in res.stderr


@pytest.mark.parametrize("args,message", [
    (["verify", "lic.json", "--root"],
     "latch verify: --root needs an argument"),
    (["verify", "lic.json", "-r"], "latch verify: -r needs an argument"),
    (["verify", "--bogus", "lic.json"],
     "latch verify: unknown option '--bogus'"),
    (["status", "-x"], "latch status: unknown option '-x'"),
    (["status", "--tcti"], "latch status: --tcti needs an argument"),
    (["enroll", "-o"], "latch enroll: -o needs an argument"),
    (["check", "--quantity=3", "base"],
     "latch check: --quantity takes no argument"),
])
def test_option_errors_give_one_clear_message(args, message):
    res = run([LATCH, *args])
    assert res.returncode == EXIT["usage"]
    lines = res.stderr.splitlines()
    assert lines[0] == message, res.stderr
    # Then only the verb's usage, no second complaint from getopt.
    assert lines[1].startswith("usage: latch " + args[0]), res.stderr
    assert "option" not in "\n".join(lines[1:]), res.stderr


def _to_full(args):
    with open("/dev/full", "w", encoding="utf-8") as full:
        return subprocess.run(args, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60, check=False)


def test_output_that_cannot_be_written_is_a_failure(device, issue,
                                                    license_pki, tmp_path):
    lic = license_pki.sign(default_body(), str(tmp_path / "lic.json"))
    assert run([LATCH, "verify", lic, "--root",
                license_pki.root_pem]).returncode == EXIT["ok"]
    res = _to_full([LATCH, "verify", lic, "--root", license_pki.root_pem])
    assert res.returncode == EXIT["io"], res.stderr
    assert ("latch verify: cannot write standard output: No space left on "
            "device") in res.stderr

    dev = device()
    activated(dev, issue, tmp_path)
    assert dev.latch("status").returncode == EXIT["ok"]
    for verb in (("status",), ("status", "--json"), ("check", "seats",
                                                     "--quantity")):
        res = _to_full(device_cmd(dev.build.latch, verb[0], "--tcti",
                                  dev.tcti, "--state-dir", dev.state,
                                  *verb[1:]))
        assert res.returncode == EXIT["io"], (verb, res.stderr)
        assert "cannot write standard output" in res.stderr
    res = _to_full([LATCH, "--help"])
    assert res.returncode == EXIT["io"]


@pytest.mark.parametrize("verb", [("status",), ("check", "base"),
                                  ("activate", "lic.json"),
                                  ("enroll", "-o", "x.json")])
def test_empty_state_dir_or_tcti_is_refused(verb, device):
    dev = device()
    # Device.latch() would take its own state for "": build argv by hand.
    res = run(device_cmd(dev.build.latch, verb[0], "--tcti", dev.tcti,
                         "--state-dir", "", *verb[1:]))
    assert res.returncode == EXIT["usage"], res.stderr
    assert "state directory: empty path" in res.stderr
    res = run(device_cmd(dev.build.latch, verb[0], "--tcti", "",
                         "--state-dir", dev.state, *verb[1:]))
    assert res.returncode == EXIT["usage"], res.stderr
    assert "TCTI: empty string" in res.stderr
    assert not os.path.exists(dev.state)


@pytest.mark.parametrize("args", [["--help"], ["help"], ["status", "--help"],
                                  ["enroll", "--help"], ["activate", "-h"],
                                  ["check", "--help"], ["help", "check"]])
def test_help_names_the_common_options_and_their_variables(args):
    res = run([LATCH, *args])
    assert res.returncode == EXIT["ok"], res.stderr
    for word in ("--tcti TCTI", "--state-dir DIR", "$LATCH_TCTI",
                 "$LATCH_STATE_DIR", "/var/lib/latch", "device:/dev/tpmrm0"):
        assert word in res.stdout, (word, res.stdout)


def test_version_is_printed():
    res = run([LATCH, "--version"])
    assert res.returncode == EXIT["ok"], res.stderr
    assert re.fullmatch(r"latch \d+\.\d+\.\d+\n", res.stdout), res.stdout


def test_failed_enroll_leaves_no_state_directory(device, tmp_path):
    dev = device()
    out = str(tmp_path / "enr.json")
    res = dev.latch("enroll", "-o", out, "--ek", "rsa4096")
    assert res.returncode == EXIT["usage"], res.stderr
    assert "unknown EK type 'rsa4096'" in res.stderr
    assert not os.path.exists(dev.state)

    res = dev.latch("enroll", "-o", out,
                    tcti="swtpm:path=" + str(tmp_path / "no.sock"))
    assert res.returncode == EXIT["tpm"], res.stderr
    assert not os.path.exists(dev.state)
    assert not os.path.exists(out)

    # Under a missing parent too: nothing is created on the way.
    deep = device()
    deep.state = str(tmp_path / "parent" / "state")
    res = deep.latch("enroll", "-o", out, "--ek", "bogus")
    assert res.returncode == EXIT["usage"], res.stderr
    assert not os.path.exists(str(tmp_path / "parent"))

    enrolled(dev, tmp_path)
    assert os.path.isdir(dev.state)


def test_unknown_ek_is_reported_before_the_enrolled_ek(device, tmp_path):
    dev = device()
    enrolled(dev, tmp_path, "enr", "--ek", "ecc-p256")
    res = dev.latch("enroll", "-o", str(tmp_path / "x.json"), "--ek",
                    "rsa4096")
    assert res.returncode == EXIT["usage"], res.stderr
    assert "unknown EK type 'rsa4096'" in res.stderr
    assert "use --rotate" not in res.stderr


def _persistent(board):
    env = dict(os.environ, TPM2TOOLS_TCTI=board.tcti, TSS2_LOG="all+none")
    res = subprocess.run(["tpm2_getcap", "handles-persistent"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=True, timeout=30)
    return [line.strip("- ").lower() for line in res.stdout.splitlines()
            if line.strip()]


def test_rotate_never_silently_replaces_a_pending_ak(device, issue, tmp_path):
    dev = device()
    enr1, _ = activated(dev, issue, tmp_path, "--serial", "1")
    enr2 = enrolled(dev, tmp_path, "rot", "--rotate", "--ek", "ecc-p256",
                    "--persist-ak")
    ak2 = json.loads(_read(enr2))["identity"]["ak_name"]
    pending = os.path.join(dev.state, "ak-pending.pub")
    blob = _read(pending)
    handle2 = json.loads(_read(os.path.join(dev.state, "ak-pending.json")))[
        "persistent_handle"]
    assert handle2.lower() in _persistent(dev.board)

    # Another EK for the rotation: refused while the pending AK waits.
    res = dev.latch("enroll", "-o", str(tmp_path / "x.json"), "--rotate",
                    "--ek", "rsa2048")
    assert res.returncode == EXIT["usage"], res.stderr
    assert "--replace-pending" in res.stderr
    assert _read(pending) == blob
    res = dev.latch("enroll", "-o", str(tmp_path / "x.json"),
                    "--replace-pending")
    assert res.returncode == EXIT["usage"], res.stderr
    assert "--replace-pending needs --rotate" in res.stderr

    # Asked for explicitly, with a warning: a new pending AK, the old
    # one's persistent object evicted, its license refused.
    enr3 = str(tmp_path / "rot3.json")
    res = dev.latch("enroll", "-o", enr3, "--rotate", "--replace-pending",
                    "--ek", "rsa2048")
    assert res.returncode == EXIT["ok"], res.stderr
    assert "warning: --replace-pending" in res.stderr
    assert json.loads(_read(enr3))["identity"]["ak_name"] != ak2
    assert handle2.lower() not in _persistent(dev.board)
    res = dev.latch("activate", issue(enr2, "--feature", "a", "--serial", "2"))
    assert res.returncode == EXIT["not_device"], res.stderr
    res = dev.latch("activate", issue(enr3, "--feature", "b", "--serial", "3"))
    assert res.returncode == EXIT["ok"], res.stderr
    assert dev.latch("check", "b").returncode == EXIT["ok"]


def test_first_enroll_into_its_own_state_directory_keeps_the_ak(device,
                                                                 tmp_path):
    # The state directory does not exist yet: enroll creates it, then
    # refuses to write the enrollment over the AK it just made.
    dev = device()
    res = dev.latch("enroll", "-o", os.path.join(dev.state, "ak.pub"))
    assert res.returncode == EXIT["usage"], res.stderr
    assert "inside the state directory" in res.stderr
    res = dev.latch("enroll", "-o", str(tmp_path / "enr.json"))
    assert res.returncode == EXIT["ok"], res.stderr
    assert "existing" in res.stdout


def test_enroll_never_replaces_what_is_not_a_regular_file(device, tmp_path):
    dev = device()
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    target = tmp_path / "target.json"
    target.write_bytes(b"keep me\n")
    link = str(tmp_path / "link.json")
    os.symlink(str(target), link)
    for out in (fifo, link):
        res = dev.latch("enroll", "-o", out)
        assert res.returncode == EXIT["usage"], (out, res.stderr)
        assert ("-o %s: exists and is not a regular file" % out
                in res.stderr), res.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.path.islink(link)
    assert target.read_bytes() == b"keep me\n"
    assert not os.path.exists(dev.state)

    # stdout and a regular file are still written.
    res = dev.latch("enroll", "-o", "-")
    assert res.returncode == EXIT["ok"], res.stderr
    assert json.loads(res.stdout)["format"] == "latch.enrollment.v1"
    res = dev.latch("enroll", "-o", str(target))
    assert res.returncode == EXIT["ok"], res.stderr
    assert json.loads(target.read_bytes())["format"] == "latch.enrollment.v1"


def test_device_tcti_must_name_a_character_device(device, issue, tmp_path):
    dev = device()
    activated(dev, issue, tmp_path)
    victim = tmp_path / "victim"
    victim.write_bytes(b"root:x:0:0:root:/root:/bin/sh\n")
    link = str(tmp_path / "tpm-link")
    os.symlink(str(victim), link)
    fifo = str(tmp_path / "tpm-fifo")
    os.mkfifo(fifo)
    not_chr = " is not a character device"
    cases = [("device:" + str(victim), str(victim) + not_chr),
             ("device:" + link, link + not_chr),
             ("libtss2-tcti-device.so.0:" + str(victim),
              str(victim) + not_chr),
             ("pcap:device:" + str(victim), str(victim) + not_chr),
             ("pcap:" * 6 + "device:" + str(victim), "nested more than"),
             ("device:" + fifo, fifo + not_chr)]
    for tcti, message in cases:
        for verb in (("status",), ("check", "base"),
                     ("enroll", "-o", str(tmp_path / "e.json"))):
            res = dev.latch(*verb, tcti=tcti)
            assert res.returncode == EXIT["tpm"], (tcti, verb, res.stderr)
            assert message in res.stderr, res.stderr
    assert victim.read_bytes() == b"root:x:0:0:root:/root:/bin/sh\n"
    assert not os.path.exists(str(tmp_path / "e.json"))
    # The real TPM still works.
    assert dev.latch("check", "base").returncode == EXIT["ok"]


@pytest.mark.parametrize("args,message", [
    (["enroll", "-o", ""], "latch enroll: -o: empty path"),
    (["verify", ""], "latch verify: LICENSE: empty path"),
    (["verify", "lic.json", "--root", ""], "latch verify: --root: empty path"),
    (["verify", "lic.json", "--root="], "latch verify: --root: empty path"),
    (["activate", ""], "latch activate: LICENSE: empty path"),
])
def test_empty_paths_are_usage_errors(args, message, device):
    dev = device()
    res = run(device_cmd(dev.build.latch, *args))
    assert res.returncode == EXIT["usage"], res.stderr
    assert res.stderr.startswith(message), res.stderr
    assert not os.path.exists(dev.state)


@pytest.mark.parametrize("args", [
    ["check", "a\x1b[31m"],
    ["enroll", "-o", "x.json", "--ak", "e\x1b[31m"],
    ["verify", "--b\x1b[31m", "lic.json"],
])
def test_messages_escape_control_characters(args):
    res = run([LATCH, *args])
    assert res.returncode == EXIT["usage"], res.stderr
    assert "\x1b" not in res.stderr, res.stderr
    assert "<U+001B>[31m" in res.stderr, res.stderr


def test_status_json_prints_an_object_when_the_license_is_unreadable(
        device, issue, tmp_path):
    dev = device()
    activated(dev, issue, tmp_path)
    path = os.path.join(dev.state, "license.json")
    good = _read(path)
    with open(path, "wb") as f:
        f.write(good[:-20])
    res = dev.latch("status", "--json")
    assert res.returncode == EXIT["format"], res.stderr
    st = json.loads(res.stdout)
    assert st["installed"] is True
    assert "license.json" in st["error"]
    assert st["proof"] == {"ok": False, "error": st["error"]}
    assert st["features"] == {}

    os.unlink(path)
    os.mkdir(path)
    res = dev.latch("status", "--json")
    assert res.returncode == EXIT["io"], res.stderr
    st = json.loads(res.stdout)
    assert st["installed"] is True
    assert "license.json: not a regular file" in st["error"]
    assert st["proof"]["ok"] is False and st["features"] == {}


def test_enroll_checks_the_label_before_the_tpm(device, tmp_path):
    dev = device()
    out = str(tmp_path / "e.json")
    nowhere = "swtpm:path=" + str(tmp_path / "no.sock")
    for label, message in (("x" * 257, "--label: 257 bytes, the limit is 256"),
                           (b"rack \xff", "--label: not valid UTF-8")):
        argv = device_cmd(dev.build.latch, "enroll", "--tcti", nowhere,
                          "--state-dir", dev.state, "-o", out, "--label",
                          label)
        res = run(argv)
        assert res.returncode == EXIT["usage"], res.stderr
        assert message in res.stderr, res.stderr
    assert not os.path.exists(out)

    # 256 bytes of UTF-8 (with a control character, as the format allows).
    label = "\u00e9" * 127 + "\t."
    assert len(label.encode()) == 256
    res = dev.latch("enroll", "-o", out, "--label", label)
    assert res.returncode == EXIT["ok"], res.stderr
    with open(out, encoding="utf-8") as f:
        assert json.load(f)["device"]["label"] == label


def test_enroll_escapes_the_output_path_it_reports(device, tmp_path):
    dev = device()
    out = str(tmp_path / "e\x1b[31m.json")
    res = dev.latch("enroll", "-o", out)
    assert res.returncode == EXIT["ok"], res.stderr
    assert "\x1b" not in res.stdout, res.stdout
    assert "e<U+001B>[31m.json: send it" in res.stdout, res.stdout
    assert os.path.exists(out)
