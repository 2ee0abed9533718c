# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd flows beyond the happy path, on SQLite and PostgreSQL: an EK
certificate of board A paired with board B's AK, AK rotation with `latch
enroll --rotate`, the audit chain under tampering, two latchd processes
issuing licenses for one device at once, and kill -9 in the middle of a
bulk issuance.
"""
import glob
import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

from fixtures_device import EXIT
from fixtures_latchd import LATCHD


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(doc, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return path


def imported(latchd, path):
    res = latchd.run("--json", "enrollment", "import", path, "--wait")
    return json.loads(res.stdout)


def approved_enrollment(latchd, dev, tmp_path, name="enr", *args):
    enr = dev.enroll(str(tmp_path / (name + ".json")), *args)
    out = imported(latchd, enr)
    assert out["state"] == "valid", out
    latchd.json("enrollment", "approve", str(out["id"]))
    return out["id"]


def issue(latchd, enr_id, out, *args):
    return latchd.json("license", "issue", "--enrollment", str(enr_id),
                       "--customer", "ACME", "--feature", "base", "-o", out,
                       *args)


# --- A's EK certificate with B's AK ----------------------------------------


def test_ek_of_a_with_ak_of_b_activates_on_neither(latchd, device,
                                                   tmp_path):
    a, b = device(), device()
    ea = load(a.enroll(str(tmp_path / "a.json")))
    eb_path = b.enroll(str(tmp_path / "b.json"))
    eb = load(eb_path)
    mix = dict(ea)
    mix["identity"] = dict(ea["identity"])
    mix["identity"]["ak_public"] = eb["identity"]["ak_public"]
    mix["identity"]["ak_name"] = eb["identity"]["ak_name"]
    latchd.run("customer", "add", "ACME")

    # Nothing in the upload betrays the pairing, so it validates; the
    # credential goes to A's EK for B's AK, which no TPM holds together.
    out = imported(latchd, save(mix, str(tmp_path / "mix.json")))
    assert out["state"] == "valid", out
    latchd.json("enrollment", "approve", str(out["id"]))
    lic = str(tmp_path / "mix-license.json")
    issue(latchd, out["id"], lic)
    res_a = a.latch("activate", lic)
    res_b = b.latch("activate", lic)
    assert res_a.returncode != 0 and res_b.returncode != 0
    assert res_b.returncode == EXIT["not_device"], res_b.stderr
    assert a.installed() is None and b.installed() is None

    # B's genuine enrollment now names an AK bound to another device.
    out_b = imported(latchd, eb_path)
    assert out_b["state"] == "invalid"
    assert out_b["reason"].startswith("ak.unique:"), out_b["reason"]


def test_ek_of_a_with_ak_of_b_is_refused_once_b_is_known(latchd, device,
                                                        tmp_path):
    a, b = device(), device()
    ea = load(a.enroll(str(tmp_path / "a.json")))
    eb_path = b.enroll(str(tmp_path / "b.json"))
    assert imported(latchd, eb_path)["state"] == "valid"
    eb = load(eb_path)
    ea["identity"]["ak_public"] = eb["identity"]["ak_public"]
    ea["identity"]["ak_name"] = eb["identity"]["ak_name"]
    out = imported(latchd, save(ea, str(tmp_path / "mix.json")))
    assert out["state"] == "invalid"
    assert "already enrolled for another device" in out["reason"]


# --- AK rotation --------------------------------------------------------------


def test_rotation_approval_revokes_older_licenses(latchd, device, tmp_path):
    dev = device()
    latchd.run("customer", "add", "ACME")
    first = approved_enrollment(latchd, dev, tmp_path, "e1")
    lic1 = str(tmp_path / "l1.json")
    l1 = issue(latchd, first, lic1)
    assert dev.latch("activate", lic1).returncode == 0

    enr2 = dev.enroll(str(tmp_path / "e2.json"), "--rotate")
    out = imported(latchd, enr2)
    assert out["state"] == "valid" and out["is_rotation"] is True, out
    show = latchd.json("enrollment", "show", str(out["id"]))
    rot = [c for c in show["report"]["checks"] if c["name"] == "ak.rotation"]
    assert rot and "AK rotation" in rot[0]["detail"]
    assert show["report"]["facts"]["rotation_of"] == [first]

    approved = latchd.json("enrollment", "approve", str(out["id"]))
    assert approved["revoked_licenses"] == [l1["id"]]
    old = latchd.json("license", "show", str(l1["id"]))
    assert old["state"] == "revoked"
    assert "AK rotation" in old["reason"]

    # The retired AK gets no new license; the new one does, next serial.
    res = latchd.run("license", "issue", "--enrollment", str(first),
                     "--customer", "ACME", "--feature", "base", "-o",
                     str(tmp_path / "no.json"))
    assert res.returncode == 1 and "no longer" in res.stderr
    lic2 = str(tmp_path / "l2.json")
    l2 = issue(latchd, out["id"], lic2)
    assert l2["serial"] == 2
    assert dev.latch("activate", lic2).returncode == 0
    actions = [r["action"] for r in
               latchd.json("audit", "list", "--limit", "1000")["items"]]
    assert actions.count("license.revoke") == 1
    assert latchd.json("audit", "verify")["state"] == "ok"

    # The current enrollment uploaded again (same EK and AK, other bytes):
    # approving it revokes nothing issued to that same AK.
    again = save(load(enr2), str(tmp_path / "e2-again.json"))
    with open(again, "a", encoding="utf-8") as f:
        f.write("\n")
    out3 = imported(latchd, again)
    assert out3["id"] not in (first, out["id"]), out3
    approved = latchd.json("enrollment", "approve", str(out3["id"]))
    assert approved["revoked_licenses"] == [], approved
    assert latchd.json("license", "show", str(l2["id"]))["state"] == "active"
    assert dev.latch("activate", lic2).returncode == 0


# --- audit chain ------------------------------------------------------------------


def _edit(latchd):
    latchd.sql("UPDATE audit_log SET actor = 'cli:mallory' WHERE seq = 3")
    return 3, "edited"


def _delete(latchd):
    latchd.sql("DELETE FROM audit_log WHERE seq = 3")
    return 3, "deleted"


def _swap(latchd):
    latchd.sql("UPDATE audit_log SET seq = -1 WHERE seq = 3")
    latchd.sql("UPDATE audit_log SET seq = 3 WHERE seq = 4")
    latchd.sql("UPDATE audit_log SET seq = 4 WHERE seq = -1")
    return 3, "reordered"


def _truncate(latchd):
    last = latchd.json("audit", "list", "--newest", "--limit", "1")
    seq = last["items"][0]["seq"]
    latchd.sql("DELETE FROM audit_log WHERE seq = %d" % seq)
    return seq, "truncated"


@pytest.mark.parametrize("tamper", [_edit, _delete, _swap, _truncate],
                         ids=["edited", "deleted", "swapped", "truncated"])
def test_audit_verify_names_the_first_bad_row(tamper, latchd):
    for i in range(6):
        latchd.json("customer", "add", "customer %d" % i)
    assert latchd.json("audit", "verify")["state"] == "ok"
    seq, problem = tamper(latchd)
    res = latchd.run("--json", "audit", "verify")
    out = json.loads(res.stdout)
    assert res.returncode == 1
    assert out["state"] == "broken"
    assert out["first_bad_seq"] == seq, out
    assert out["problem"] == problem, out


# --- concurrency and crashes ---------------------------------------------------


def licensed_device(latchd, device, tmp_path):
    dev = device()
    latchd.run("customer", "add", "ACME")
    return approved_enrollment(latchd, dev, tmp_path)


def rows(latchd):
    return latchd.json("license", "list", "--limit", "1000")["items"]


def test_two_processes_issue_for_one_device(latchd, device, tmp_path):
    enr = licensed_device(latchd, device, tmp_path)
    procs = []
    for name in ("p1", "p2"):
        out = tmp_path / name
        out.mkdir()
        procs.append(subprocess.Popen(
            [LATCHD, "--data", latchd.data, "license", "issue",
             "--enrollment", str(enr), "--customer", "ACME", "--feature",
             "base", "--count", "100", "-o", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err

    got = rows(latchd)
    serials = sorted(r["serial"] for r in got)
    assert serials == list(range(1, 201))
    assert len({r["license_id"] for r in got}) == 200
    files = glob.glob(str(tmp_path / "p?" / "*.json"))
    assert len(files) == 200
    by_sha = {r["sha256"]: r for r in got}
    for f in files:
        data = open(f, "rb").read()
        row = by_sha[hashlib.sha256(data).hexdigest()]
        assert json.loads(data)["license"]["serial"] == row["serial"]
    # The two runs really overlapped: their serials interleave.
    per = {}
    for name in ("p1", "p2"):
        per[name] = sorted(
            json.load(open(f))["license"]["serial"]
            for f in glob.glob(str(tmp_path / name / "*.json")))
        assert len(per[name]) == 100
    assert per["p1"][0] < per["p2"][-1] and per["p2"][0] < per["p1"][-1]
    assert latchd.json("audit", "verify")["state"] == "ok"


def test_kill_9_during_bulk_issuance(latchd, device, tmp_path, license_pki):
    enr = licensed_device(latchd, device, tmp_path)
    out = tmp_path / "bulk"
    out.mkdir()
    p = subprocess.Popen(
        [LATCHD, "--data", latchd.data, "license", "issue", "--enrollment",
         str(enr), "--customer", "ACME", "--feature", "base", "--count",
         "2000", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while len(glob.glob(str(out / "*.json"))) < 25:
            assert time.time() < deadline and p.poll() is None
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGKILL

    got = rows(latchd)
    assert 25 <= len(got) < 2000
    serials = sorted(r["serial"] for r in got)
    assert serials == list(range(1, len(got) + 1))
    by_sha = {r["sha256"]: r for r in got}
    # Every stored license is complete: its exported bytes are the ones
    # hashed at issuance and they verify against the license root.
    for r in got[:: max(1, len(got) // 10)]:
        # export never overwrites: one new file per license.
        path = str(tmp_path / ("exp-%d.json" % r["id"]))
        latchd.json("license", "export", str(r["id"]), "-o", path)
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        res = subprocess.run(
            [os.path.join(os.path.dirname(LATCHD), "latch"), "verify", path,
             "--root", license_pki.root_pem], capture_output=True)
        assert res.returncode == 0, res.stdout
    # Every file written belongs to a committed row.
    files = glob.glob(str(out / "*.json"))
    assert len(files) <= len(got)
    for f in files:
        assert hashlib.sha256(open(f, "rb").read()).hexdigest() in by_sha
    # After the restart issuance goes on with the next serial.
    nxt = issue(latchd, enr, str(tmp_path / "next.json"))
    assert nxt["serial"] == len(got) + 1
    assert latchd.json("audit", "verify")["state"] == "ok"


def test_supersede_and_revoke(latchd, device, tmp_path):
    enr = licensed_device(latchd, device, tmp_path)
    first = issue(latchd, enr, str(tmp_path / "a.json"))
    kept = issue(latchd, enr, str(tmp_path / "b.json"))
    assert latchd.json("license", "show", str(first["id"]))["state"] == \
        "active"
    third = issue(latchd, enr, str(tmp_path / "c.json"), "--supersede")
    assert sorted(third["superseded"]) == sorted([first["id"], kept["id"]])
    assert latchd.json("license", "show", str(first["id"]))["state"] == \
        "superseded"
    out = latchd.json("license", "revoke", str(third["id"]), "--reason",
                      "customer left")
    assert out["state"] == "revoked" and out["reason"] == "customer left"
    res = latchd.run("license", "revoke", str(third["id"]), "--reason", "x")
    assert res.returncode == 1 and "revoked already" in res.stderr
    res = latchd.run("license", "revoke", str(third["id"]))
    assert res.returncode == 2
    states = {r["id"]: r["state"] for r in rows(latchd)}
    assert states == {first["id"]: "superseded", kept["id"]: "superseded",
                      third["id"]: "revoked"}
    assert latchd.json("audit", "verify")["state"] == "ok"
