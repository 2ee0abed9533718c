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

import pytest

from fixtures_device import EXIT, run
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
