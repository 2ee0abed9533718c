# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The liblatch API's error contract (include/latch.h) on a swtpm board:
latch_last_error() is "" after every call that did not fail (no stale
message from an earlier call or from latch_load()'s NV probes), and NULL
or impossible arguments are LATCH_E_USAGE with the name escaped. The
program tests/e2e/api_errors.c is built here against the relinked
liblatch.so, as an application would link it.
"""
import os
import re
import subprocess

import pytest

from fixtures_paths import DEVICE_ARCH, REPO, device_cmd

# enum latch_status (include/latch.h).
OK, USAGE, NOT_FOUND = 0, 1, 9

FEATURES = [
    "--feature", "base",
    "--feature", "seats=16",
    "--disabled", "beta",
    "--feature", "trial=3@+86400",
]

pytestmark = pytest.mark.skipif(
    DEVICE_ARCH != "", reason="built with the native compiler")


@pytest.fixture(scope="session")
def api_errors(device_build, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("api") / "api_errors")
    res = subprocess.run(
        [
            os.environ.get("CC", "cc"), "-std=c17", "-Wall", "-Wextra",
            "-Werror", "-I", os.path.join(REPO, "include"),
            os.path.join(REPO, "tests", "e2e", "api_errors.c"),
            "-o", out, "-L", device_build.libdir, "-l:liblatch.so",
            "-Wl,-rpath," + device_build.libdir,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        check=False, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return out


def run_api(path, dev):
    """{label: (status, raw error bytes)} from one api_errors run."""
    res = subprocess.run(
        device_cmd(path, dev.tcti, dev.state),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    lines = {}
    for line in res.stdout.split(b"\n"):
        m = re.match(rb"^(\w+) st=(-?\d+) err=\[(.*)\]$", line, re.S)
        if m:
            lines[m.group(1).decode()] = (int(m.group(2)), m.group(3))
        elif line:
            key, _, value = line.partition(b"=")
            lines[key.decode()] = value
    return lines


@pytest.fixture
def loaded(device, issue, tmp_path, api_errors):
    dev = device()
    enr = dev.enroll(str(tmp_path / "enr.json"), "--ek", "ecc-p256")
    lic = issue(enr, *FEATURES)
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    return run_api(api_errors, dev)


def test_last_error_is_empty_after_every_success(loaded):
    assert loaded["q_unloaded"] == (NOT_FOUND,
                                    b"no license is loaded (latch_load() "
                                    b"has not succeeded)")
    # latch_load() probes NV indices that an ECC board leaves undefined.
    assert loaded["load"] == (OK, b"")
    assert loaded["q_base"] == (NOT_FOUND,
                                b"feature 'base' carries no quantity")
    assert loaded["q_seats"] == (OK, b"")
    assert loaded["seats"] == b"16"
    assert loaded["v_trial"] == (OK, b"")
    assert loaded["e_seats"] == (1, b"")
    assert loaded["e_beta"] == (0, b"feature 'beta' is disabled")
    assert loaded["q_absent"] == (NOT_FOUND,
                                  b"feature 'absent' is not in the license")


def test_null_arguments_are_usage_errors(loaded):
    assert loaded["open_null"] == b"%d" % USAGE
    assert loaded["load_null"] == b"%d" % USAGE
    assert loaded["last_error_null"] == b"[]"
    # A NULL ctx has no error to set: the one of the call before stays.
    assert loaded["q_ctx_null"][0] == USAGE
    assert loaded["v_ctx_null"][0] == USAGE
    assert loaded["e_ctx_null"][0] == 0
    assert loaded["q_name_null"] == (USAGE, b"feature name is NULL")
    assert loaded["v_name_null"] == (USAGE, b"feature name is NULL")
    assert loaded["e_null"] == (0, b"feature name is NULL")
    assert loaded["q_out_null"] == (USAGE,
                                    b"quantity output pointer is NULL")
    assert loaded["v_until_null"] == (USAGE,
                                      b"valid_until output pointer is NULL")
    assert loaded["v_perpetual_null"] == (USAGE,
                                          b"perpetual output pointer is NULL")


def test_impossible_feature_names_are_usage_errors(loaded):
    for label, shown in [
        ("q_empty", b"''"),
        ("e_empty", b"''"),
        ("q_upper", b"'Seats'"),
        ("v_bad", b"'-x'"),
        ("q_long", None),
        ("q_bytes", rb"'s\xff\x1b[31m\xc3\xa9'"),
    ]:
        st, err = loaded[label]
        assert st == (0 if label.startswith("e_") else USAGE), label
        assert err.startswith(b"feature name "), (label, err)
        assert b"is not valid" in err, (label, err)
        if shown is not None:
            assert shown in err, (label, err)
        assert all(0x20 <= c < 0x7f for c in err), (label, err)


def test_tss_logs_reach_stderr_unless_tss2_log_says_otherwise(
        device, issue, tmp_path, api_errors):
    """docs/device.md: liblatch leaves tpm2-tss's own logging alone."""
    dev = device()
    enr = dev.enroll(str(tmp_path / "enr.json"), "--ek", "ecc-p256")
    res = dev.latch("activate", issue(enr, *FEATURES))
    assert res.returncode == 0, res.stderr
    dev.board.stop()
    env = {k: v for k, v in os.environ.items() if k != "TSS2_LOG"}
    for tss2_log, loud in [(None, True), ("all+none", False)]:
        if tss2_log is not None:
            env["TSS2_LOG"] = tss2_log
        res = subprocess.run(
            device_cmd(api_errors, dev.tcti, dev.state),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
            timeout=120, env=env,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert re.search(rb"^load st=6 err=\[.+\]$", res.stdout, re.M), \
            res.stdout
        tss = re.search(rb"^(WARNING|ERROR):tcti:", res.stderr, re.M)
        assert (tss is not None) == loud, (tss2_log, res.stderr)
