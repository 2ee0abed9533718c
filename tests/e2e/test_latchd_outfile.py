# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""`latchd license issue -o` and `license export -o` never overwrite a
file (DATA/signing.key, latchd.conf, an earlier license), never write into
the data directory, and check the output path before issuing, so no
license is stored whose file cannot be written.
"""
import hashlib
import os

import pytest

from fixtures_latchd import make_latchd


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def approved(latchd, dev, tmp_path):
    enr = dev.enroll(str(tmp_path / "enr.json"))
    out = latchd.json("enrollment", "import", enr, "--wait")
    assert out["state"] == "valid", out
    latchd.json("enrollment", "approve", str(out["id"]))
    return out["id"]


def issue(latchd, enr_id, out, *args):
    return latchd.run("license", "issue", "--enrollment", str(enr_id),
                      "--customer", "ACME", "--feature", "base", "-o", out,
                      *args)


def stored(latchd):
    return latchd.json("license", "list")["items"]


def test_issue_and_export_refuse_to_overwrite_or_write_into_data(
        sq_latchd, device, tmp_path):
    d = sq_latchd
    assert d.run("customer", "add", "ACME").returncode == 0
    enr_id = approved(d, device(), tmp_path)
    key = os.path.join(d.data, "signing.key")
    conf = os.path.join(d.data, "latchd.conf")
    before = {p: digest(p) for p in (key, conf)}
    other = tmp_path / "precious.txt"
    other.write_text("keep me\n")

    for target, why in ((key, "already exists"), (conf, "already exists"),
                        (str(other), "already exists"),
                        (os.path.join(d.data, "new.json"), "data directory"),
                        (str(tmp_path / "nodir" / "l.json"), "nodir")):
        res = issue(d, enr_id, target)
        assert res.returncode != 0, (target, res.stdout)
        assert why in res.stderr, (target, res.stderr)
        assert stored(d) == [], target
    # --count N needs a directory.
    res = issue(d, enr_id, str(tmp_path / "one.json"), "--count", "2")
    assert res.returncode != 0 and "one.json" in res.stderr, res.stderr
    assert stored(d) == []
    assert {p: digest(p) for p in (key, conf)} == before
    assert other.read_text() == "keep me\n"

    good = str(tmp_path / "lic.json")
    res = issue(d, enr_id, good)
    assert res.returncode == 0, res.stderr
    lic_id = stored(d)[0]["id"]
    first = digest(good)
    for target in (key, conf, good, os.path.join(d.data, "x.json")):
        res = d.run("license", "export", str(lic_id), "-o", target)
        assert res.returncode != 0, (target, res.stdout)
        assert target in res.stderr, res.stderr
    assert {p: digest(p) for p in (key, conf)} == before
    assert digest(good) == first
    again = str(tmp_path / "again.json")
    res = d.run("license", "export", str(lic_id), "-o", again)
    assert res.returncode == 0, res.stderr
    assert digest(again) == first
    # Bulk into a directory still works; into the data dir it does not.
    res = issue(d, enr_id, d.data, "--count", "2", "--supersede")
    assert res.returncode != 0 and "data directory" in res.stderr
    bulk = tmp_path / "bulk"
    bulk.mkdir()
    res = issue(d, enr_id, str(bulk), "--count", "2", "--supersede")
    assert res.returncode == 0, res.stderr
    assert len(os.listdir(bulk)) == 2
    # A file of the same name in the bulk directory (another database's
    # license-N.json) is never replaced either.
    nxt = max(r["id"] for r in stored(d)) + 1
    bulk2 = tmp_path / "bulk2"
    bulk2.mkdir()
    (bulk2 / ("license-%d.json" % nxt)).write_text("keep me\n")
    res = issue(d, enr_id, str(bulk2), "--count", "2", "--supersede")
    assert res.returncode != 0 and "overwrite" in res.stderr, res.stderr
    assert (bulk2 / ("license-%d.json" % nxt)).read_text() == "keep me\n"
