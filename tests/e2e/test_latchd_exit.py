# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd's exit codes (docs/operations.md, "latchd"): a refused input
makes the verb fail (trust import-intermediates with garbage exits 1),
and a missing input file gives 4 in every verb that reads one.
"""
import pytest

from fixtures_latchd import make_latchd


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def test_import_intermediates_exits_1_when_anything_is_refused(sq_latchd,
                                                               tmp_path):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 not a certificate " * 8)
    res = sq_latchd.run("trust", "import-intermediates", str(garbage))
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "1 refused" in res.stdout
    res = sq_latchd.run("--json", "trust", "import-intermediates",
                        str(garbage))
    assert res.returncode == 1, res.stdout


@pytest.mark.parametrize("verb", [
    ("enrollment", "import"), ("trust", "import-intermediates"),
    ("ca", "install"),
])
def test_missing_input_file_exits_4_everywhere(sq_latchd, tmp_path, verb):
    missing = str(tmp_path / "missing.pem")
    res = sq_latchd.run(*verb, missing)
    assert res.returncode == 4, (verb, res.returncode, res.stderr)
    assert "missing.pem" in res.stderr
