# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd end to end on swtpm boards, on SQLite and on PostgreSQL (every
test using `latchd` runs on both): `latch enroll` -> `latchd enrollment
import --wait` -> valid -> approve -> `latchd license issue` -> `latch
activate` on the board, and `latch verify` on the license.
"""
import json
import os

import pytest

from fixtures_paths import device_cmd
from fixtures_pki import LATCH, run

EK_TEMPLATES = ["rsa2048", "ecc-p256", "ecc-p384"]


def enroll(dev, tmp_path, name, *args):
    return dev.enroll(str(tmp_path / (name + ".json")), *args)


def imported(latchd, path):
    out = latchd.json("enrollment", "import", path, "--wait", ok=False)
    assert isinstance(out["id"], int), out
    return out


def checks_of(latchd, enr_id):
    show = latchd.json("enrollment", "show", str(enr_id))
    return {c["name"]: c for c in show["report"]["checks"]}, show


def approve_and_issue(latchd, enr_id, out, *args, customer="ACME"):
    latchd.run("customer", "add", customer)
    res = latchd.json("enrollment", "approve", str(enr_id))
    assert res["state"] == "approved"
    return latchd.json("license", "issue", "--enrollment", str(enr_id),
                       "--customer", customer, "-o", out, *args)


@pytest.mark.parametrize("ek", EK_TEMPLATES)
def test_enroll_import_approve_issue_activate(ek, latchd, device, tmp_path,
                                              license_pki):
    dev = device()
    enr = enroll(dev, tmp_path, "enr", "--ek", ek, "--label", "rack 7")

    out = imported(latchd, enr)
    assert out["state"] == "valid", out
    checks, show = checks_of(latchd, out["id"])
    assert show["ek_template"] == ek
    assert show["label"] == "rack 7"
    assert all(c["result"] in ("pass", "warn") for c in checks.values()), \
        checks
    for name in ("ek.certificate", "ek.public_matches_certificate",
                 "ak.fixed_tpm", "ak.restricted", "ak.name", "device_id"):
        assert checks[name]["result"] == "pass", checks[name]

    lic = str(tmp_path / "license.json")
    issued = approve_and_issue(latchd, out["id"], lic, "--feature", "base",
                               "--feature", "seats=16",
                               "--valid-until", "2031-01-01")
    assert issued["state"] == "active" and issued["serial"] == 1
    doc = json.load(open(lic))
    assert doc["license"]["device_id"] == show["device_id"]
    assert doc["license"]["binding"]["ak_name"] == show["ak_name"]
    assert doc["license"]["features"]["seats"] == {"enabled": True,
                                                   "quantity": 16}

    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    res = run(device_cmd(dev.build.latch, "verify", lic))
    assert res.returncode == 0, res.stdout + res.stderr
    res = run([LATCH, "verify", lic, "--root", license_pki.root_pem])
    assert res.returncode == 0, res.stdout + res.stderr

    # The stored license is the file, byte for byte.
    exported = str(tmp_path / "exported.json")
    latchd.json("license", "export", str(issued["id"]), "-o", exported)
    assert open(exported, "rb").read() == open(lic, "rb").read()
    assert latchd.json("audit", "verify")["state"] == "ok"


def test_same_file_twice_is_one_enrollment(latchd, device, tmp_path):
    dev = device()
    enr = enroll(dev, tmp_path, "enr")
    first = latchd.json("enrollment", "import", enr)
    second = latchd.json("enrollment", "import", enr)
    assert first["id"] == second["id"]
    assert first["duplicate"] is False and second["duplicate"] is True
    assert len(latchd.json("enrollment", "list")["items"]) == 1


def test_worker_threads_validate_queued_enrollments(latchd, device,
                                                    tmp_path):
    import signal
    import subprocess
    import time

    from fixtures_latchd import LATCHD

    ids = []
    for i in range(3):
        enr = enroll(device(), tmp_path, "e%d" % i)
        out = latchd.json("enrollment", "import", enr)
        assert out["state"] == "pending"
        ids.append(out["id"])
    worker = subprocess.Popen(
        [LATCHD, "--data", latchd.data, "worker", "--threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        for i in ids:
            while True:
                prog = latchd.json("enrollment", "progress", str(i))
                if prog["done"]:
                    break
                assert time.time() < deadline and worker.poll() is None
                time.sleep(0.1)
            assert prog["state"] == "valid", prog
            texts = [m["text"] for m in prog["messages"]]
            assert texts[0].startswith("uploaded")
            assert any(t.startswith("validation started") for t in texts)
            assert any(t.startswith("pass ak.fixed_tpm") for t in texts)
            assert texts[-1] == "validation finished: valid"
            later = latchd.json("enrollment", "progress", str(i), "--since",
                                str(prog["messages"][-2]["id"]))
            assert [m["text"] for m in later["messages"]] == texts[-1:]
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    jobs = latchd.sql("SELECT state, attempts FROM jobs")
    assert sorted(tuple(str(x) for x in j) for j in jobs) == \
        [("done", "1")] * 3


def test_untrusted_strings_are_stored_verbatim(latchd, device, tmp_path):
    hostile = "x'); DROP TABLE devices;-- \u202e<b>"
    enr = enroll(device(), tmp_path, "enr", "--label", hostile)
    out = imported(latchd, enr)
    assert out["state"] == "valid"
    assert latchd.json("enrollment", "show", str(out["id"]))["label"] == \
        hostile
    assert len(latchd.json("device", "list")["items"]) == 1


def test_init_refuses_an_initialised_directory(latchd):
    res = latchd.run("init")
    assert res.returncode == 1 and "initialised already" in res.stderr


def test_ca_install_checks_key_and_usage(latchd, license_pki, tmp_path):
    import subprocess

    # A certificate for another key.
    res = latchd.run("ca", "install", license_pki.signer_pem)
    assert res.returncode == 1
    assert "not the signing key's" in res.stderr
    # The right key but no keyUsage / latch EKU (openssl x509 -req copies
    # no extensions).
    bare = str(tmp_path / "bare.pem")
    subprocess.run(
        ["openssl", "x509", "-req", "-in",
         os.path.join(latchd.data, "signing.csr"), "-CA",
         license_pki.root_pem, "-CAkey", license_pki.root_key,
         "-CAcreateserial", "-days", "30", "-out", bare],
        check=True, capture_output=True)
    res = latchd.run("ca", "install", bare)
    assert res.returncode == 1
    assert "digitalSignature" in res.stderr or "EKU" in res.stderr


def test_init_creates_a_missing_postgresql_database(pg_cluster, tmp_path):
    """`latchd init --database postgresql://.../NAME` creates NAME when the
    cluster does not have it yet, then migrates it; a second init on the
    same database is refused (it holds latchd's tables: init never reuses
    a database) and leaves it as it was."""
    import subprocess

    from fixtures_latchd import LATCHD

    name = "latch_fresh_%d" % os.getpid()
    url = pg_cluster.url(name)
    before = pg_cluster.psql("postgres",
                             "SELECT count(*) FROM pg_database "
                             "WHERE datname = '%s'" % name)
    assert before.strip() == "0"
    for sub, rc in (("a", 0), ("b", 1)):
        res = subprocess.run(
            [LATCHD, "init", "--data", str(tmp_path / sub), "--database",
             url], capture_output=True, text=True, timeout=60)
        assert res.returncode == rc, res.stderr
    assert "holds tables already" in res.stderr
    after = pg_cluster.psql("postgres",
                            "SELECT count(*) FROM pg_database "
                            "WHERE datname = '%s'" % name)
    assert after.strip() == "1"
    tables = pg_cluster.psql(name, "SELECT count(*) FROM audit_log")
    assert int(tables.strip()) >= 0
