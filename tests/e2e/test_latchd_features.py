# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""How a plan's features and a request's --feature merge
(docs/operations.md section 7): a request feature overrides only the
attributes it names; a name given twice is refused in the CLI and the
API; the API takes as many features as the format allows (256).
"""
import json


def approved(latchd, dev, tmp_path):
    enr = dev.enroll(str(tmp_path / "enr.json"))
    out = latchd.json("enrollment", "import", enr, "--wait")
    assert out["state"] == "valid", out
    latchd.json("enrollment", "approve", str(out["id"]))
    return out["id"]


def features_of(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["license"]["features"]


def test_feature_overrides_only_the_attributes_it_names(web, device,
                                                        tmp_path):
    d = web.latchd
    assert d.run("customer", "add", "ACME").returncode == 0
    res = d.run("plan", "add", "pro", "--feature", "x=5@2027-01-01",
                "--feature", "y=3@2029-01-01", "--feature", "z")
    assert res.returncode == 0, res.stderr
    enr_id = approved(d, device(), tmp_path)

    out = str(tmp_path / "l1.json")
    res = d.run("license", "issue", "--enrollment", str(enr_id),
                "--customer", "ACME", "--plan", "pro", "--feature", "x=7",
                "--feature", "y@2030-01-01", "--feature", "w=1", "-o", out)
    assert res.returncode == 0, res.stderr
    fs = features_of(out)
    assert fs["x"]["quantity"] == 7
    assert fs["x"]["valid_until"].startswith("2027-01-01"), fs["x"]
    assert fs["y"]["quantity"] == 3
    assert fs["y"]["valid_until"].startswith("2030-01-01"), fs["y"]
    assert fs["w"]["quantity"] == 1 and "z" in fs

    before = d.json("license", "list")["items"]
    res = d.run("license", "issue", "--enrollment", str(enr_id),
                "--customer", "ACME", "--feature", "x=1", "--feature", "x=2",
                "--supersede", "-o", str(tmp_path / "dup.json"))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "x" in res.stderr and "twice" in res.stderr
    assert d.json("license", "list")["items"] == before

    admin = web.token("admin")
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME", "supersede": True,
        "features": ["a=1", {"name": "a", "quantity": 2}]})
    assert res.status == 400, res
    assert "twice" in res.json()["error"]["message"]

    many = ["f%d" % i for i in range(200)]
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME", "supersede": True,
        "features": many})
    assert res.status == 201, res
    assert len(res.json()["file"]["license"]["features"]) == 200
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME", "supersede": True,
        "features": ["g%d" % i for i in range(257)]})
    assert res.status == 400, res
    assert "256" in res.json()["error"]["message"]


def test_feature_until_in_the_past_is_refused(web, device, tmp_path):
    """A feature that expired already is dead on arrival: refused at
    license issue (CLI and API, both through the core) and in a plan."""
    d = web.latchd
    assert d.run("customer", "add", "ACME").returncode == 0
    res = d.run("plan", "add", "p2", "--feature", "a=1@2020-01-01")
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "feature a" in res.stderr and "not in the future" in res.stderr
    assert d.json("plan", "list")["items"] == []

    enr_id = approved(d, device(), tmp_path)
    res = d.run("license", "issue", "--enrollment", str(enr_id),
                "--customer", "ACME", "--feature", "new=1@2099-01-01",
                "--feature", "old=3@2026-01-01",
                "-o", str(tmp_path / "l.json"))
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "feature old" in res.stderr
    assert "not in the future" in res.stderr
    assert d.json("license", "list")["items"] == []

    admin = web.token("admin")
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME",
        "features": ["old=3@2026-01-01"]})
    assert res.status == 400, res
    assert "feature old" in res.json()["error"]["message"]
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME",
        "features": ["ok=1@2099-01-01"]})
    assert res.status == 201, res
