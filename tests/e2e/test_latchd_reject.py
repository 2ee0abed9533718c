# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd refuses bad enrollments with a precise reason, on SQLite and
PostgreSQL. Uploads that fail the strict parse are not stored at all: only
the audit row of the rejection exists. Uploads that parse but fail a check
end as `invalid` (or `unknown_root`) with the failing check named, and no
device is recorded for them. AK fixtures are made by editing the marshalled
ak_public of a real enrollment, one attribute at a time, with the AK name
recomputed so that only the attribute check can fail.
"""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from fixtures_boards import Board, VendorCA, _board_sh
from fixtures_latchd import import_intermediate


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(doc, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return path


def import_json(latchd, path):
    res = latchd.run("--json", "enrollment", "import", path, "--wait")
    return res.returncode, json.loads(res.stdout)


def assert_nothing_stored(latchd, reason_part):
    assert latchd.json("enrollment", "list")["items"] == []
    rows = latchd.json("audit", "list", "--newest", "--limit", "1")["items"]
    assert rows[0]["action"] == "enrollment.upload_rejected"
    assert reason_part in rows[0]["details"]["reason"]
    assert latchd.json("audit", "verify")["state"] == "ok"


@pytest.fixture
def real_enrollment(device, tmp_path):
    dev = device()
    path = str(tmp_path / "real.json")
    dev.enroll(path, "--ek", "ecc-p256")
    return dev, path


# --- refused before storing -----------------------------------------------


def _garbage(text):
    return b"\x00\xff\xfegarbage, not JSON"


def _truncated(text):
    return text[: len(text) // 2]


def _duplicate_key(text):
    return text.replace(b"{", b'{"format": "latch.enrollment.v1",', 1)


def _too_big(text):
    return text.rstrip()[:-1] + b" " * (65 * 1024) + b"}"


def _unknown_schema(text):
    doc = json.loads(text)
    doc["identity_schema"] = "tpm3_future_binding"
    return json.dumps(doc).encode()


@pytest.mark.parametrize("name,edit,reason", [
    ("garbage", _garbage, ""),
    ("truncated", _truncated, ""),
    ("duplicate-key", _duplicate_key, "format"),
    ("65KiB", _too_big, "the limit is 65536"),
    ("unknown-schema", _unknown_schema, "tpm3_future_binding"),
])
def test_bad_upload_is_refused_and_not_stored(name, edit, reason, latchd,
                                              real_enrollment, tmp_path):
    _, path = real_enrollment
    with open(path, "rb") as f:
        bad = edit(f.read())
    bad_path = str(tmp_path / (name + ".json"))
    with open(bad_path, "wb") as f:
        f.write(bad)

    rc, out = import_json(latchd, bad_path)
    assert rc == 1
    assert out["id"] is None and out["state"] == "rejected"
    assert reason in out["reason"], out
    if name == "duplicate-key":
        assert "duplicate" in out["reason"]
    if name == "unknown-schema":
        assert "unknown schema" in out["reason"]
    assert_nothing_stored(latchd, reason)


# --- refused by validation ---------------------------------------------------


def ak_edit(doc, attrs_set=0, attrs_clear=0, name_alg=None):
    """Edits the AK public area and recomputes ak_name to match it."""
    ident = doc["identity"]
    pub = bytearray(base64.b64decode(ident["ak_public"]))
    attrs = struct.unpack(">I", pub[6:10])[0]
    attrs = (attrs | attrs_set) & ~attrs_clear
    pub[6:10] = struct.pack(">I", attrs)
    if name_alg is not None:
        pub[4:6] = struct.pack(">H", name_alg)
    alg = struct.unpack(">H", pub[4:6])[0]
    h = {0x0004: hashlib.sha1, 0x000B: hashlib.sha256,
         0x000C: hashlib.sha384}[alg]
    ident["ak_public"] = base64.b64encode(bytes(pub)).decode()
    ident["ak_name"] = (struct.pack(">H", alg) + h(pub[2:]).digest()).hex()
    return doc


FIXED_TPM, ST_CLEAR, FIXED_PARENT, SDO = 0x2, 0x4, 0x10, 0x20
RESTRICTED, DECRYPT, SIGN = 0x10000, 0x20000, 0x40000


@pytest.mark.parametrize("check,kw", [
    ("ak.fixed_tpm", {"attrs_clear": FIXED_TPM}),
    ("ak.fixed_parent", {"attrs_clear": FIXED_PARENT}),
    ("ak.sensitive_data_origin", {"attrs_clear": SDO}),
    ("ak.restricted", {"attrs_clear": RESTRICTED}),
    ("ak.sign", {"attrs_clear": SIGN}),
    ("ak.decrypt", {"attrs_set": DECRYPT}),
    ("ak.st_clear", {"attrs_set": ST_CLEAR}),
])
def test_ak_attribute_violation_is_invalid(check, kw, latchd,
                                            real_enrollment, tmp_path):
    _, path = real_enrollment
    bad = save(ak_edit(load(path), **kw), str(tmp_path / "bad.json"))

    rc, out = import_json(latchd, bad)
    assert rc == 1 and out["state"] == "invalid", out
    assert out["reason"].startswith(check + ":"), out["reason"]
    show = latchd.json("enrollment", "show", str(out["id"]))
    failed = [c["name"] for c in show["report"]["checks"]
              if c["result"] == "fail"]
    assert failed == [check], failed
    assert latchd.json("device", "list")["items"] == []
    res = latchd.run("enrollment", "approve", str(out["id"]))
    assert res.returncode == 1 and "only a valid enrollment" in res.stderr


def test_ak_name_alg_sha1_is_refused(latchd, real_enrollment, tmp_path):
    """A SHA-1 AK name is refused by the strict parse; a SHA-1 nameAlg
    behind a SHA-256-shaped name is refused by the AK policy."""
    _, path = real_enrollment
    bad = save(ak_edit(load(path), name_alg=0x0004), str(tmp_path / "a.json"))
    rc, out = import_json(latchd, bad)
    assert rc == 1 and out["state"] == "rejected", out
    assert "SHA-256 or SHA-384" in out["reason"]

    doc = load(path)
    kept = doc["identity"]["ak_name"]
    doc = ak_edit(doc, name_alg=0x0004)
    doc["identity"]["ak_name"] = kept
    rc, out = import_json(latchd, save(doc, str(tmp_path / "b.json")))
    assert rc == 1 and out["state"] == "invalid", out
    assert out["reason"].startswith("ak.name_alg:"), out["reason"]


def test_ak_name_not_matching_its_public_area(latchd, real_enrollment,
                                              tmp_path):
    _, path = real_enrollment
    doc = load(path)
    name = bytearray(bytes.fromhex(doc["identity"]["ak_name"]))
    name[-1] ^= 1
    doc["identity"]["ak_name"] = name.hex()
    rc, out = import_json(latchd, save(doc, str(tmp_path / "bad.json")))
    assert rc == 1 and out["state"] == "invalid"
    assert out["reason"].startswith("ak.name:"), out["reason"]
    assert "is not the name of its AK public area" in out["reason"]


def test_ek_public_not_matching_certificate(latchd, device, tmp_path):
    a, b = device(), device()
    doc = load(a.enroll(str(tmp_path / "a.json"), "--ek", "rsa2048"))
    other = load(b.enroll(str(tmp_path / "b.json"), "--ek", "rsa2048"))
    doc["identity"]["ek_public"] = other["identity"]["ek_public"]
    rc, out = import_json(latchd, save(doc, str(tmp_path / "mix.json")))
    assert rc == 1 and out["state"] == "invalid"
    assert out["reason"].startswith("ek.public_matches_certificate:"), out


@pytest.fixture
def foreign_board():
    """A board whose EK certificate comes from a vendor latchd does not
    trust."""
    ca_dir = tempfile.mkdtemp(prefix="latch-ca2-", dir="/tmp")
    path = tempfile.mkdtemp(prefix="latch-fb-", dir="/tmp")
    brd = None
    try:
        _board_sh("ca", ca_dir)
        brd = Board(path, VendorCA(ca_dir))
        _board_sh("create", path, ca_dir)
        brd.start()
        yield brd
    finally:
        if brd is not None and brd.pid is not None:
            brd.stop()
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(ca_dir, ignore_errors=True)


def test_ek_certificate_from_unknown_root(latchd, device, foreign_board,
                                          tmp_path):
    dev = device(on=foreign_board)
    enr = dev.enroll(str(tmp_path / "enr.json"))

    # The foreign vendor's issuing CA is nowhere: the chain is incomplete.
    rc, out = import_json(latchd, enr)
    assert rc == 1 and out["state"] == "invalid", out
    assert "chain incomplete" in out["reason"], out["reason"]

    # Its issuer as an untrusted helper is not enough: the root is missing,
    # and trust import-intermediates refuses a root, pointing to the trust
    # directory.
    import_intermediate(latchd, foreign_board.ca.issuer_pem)
    res = latchd.run("trust", "import-intermediates",
                     foreign_board.ca.root_pem)
    assert res.returncode == 1 and "is self-signed" in res.stdout + \
        res.stderr, res.stdout + res.stderr
    latchd.json("enrollment", "revalidate", str(out["id"]), "--wait")
    show = latchd.json("enrollment", "show", str(out["id"]))
    assert show["state"] == "invalid", show
    assert "not found" in show["reason"], show["reason"]

    # A device that carries the root among its NV intermediates completes
    # the chain, which then ends at a root that is not pinned.
    doc = load(enr)
    der = subprocess.run(["openssl", "x509", "-in",
                          foreign_board.ca.root_pem, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    doc["identity"]["ek_intermediates"] = [base64.b64encode(der).decode()]
    rc, out = import_json(latchd, save(doc, str(tmp_path / "root.json")))
    show = latchd.json("enrollment", "show", str(out["id"]))
    assert show["state"] == "unknown_root", show["reason"]
    assert "root" in show["reason"]
    assert latchd.json("device", "list")["items"] == []
    res = latchd.run("enrollment", "approve", str(out["id"]))
    assert res.returncode == 1


def test_software_key_offered_as_ak(latchd, real_enrollment, tmp_path):
    """A key made in software and loaded with tpm2_loadexternal cannot
    carry fixedTPM/fixedParent: its public area is refused."""
    dev, path = real_enrollment
    key = str(tmp_path / "sw.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", key], check=True,
                   capture_output=True)
    env = dict(os.environ, TPM2TOOLS_TCTI=dev.board.tcti)
    ctx, pub, name = (str(tmp_path / n) for n in ("sw.ctx", "sw.pub",
                                                  "sw.name"))
    subprocess.run(["tpm2_loadexternal", "-C", "n", "-G", "ecc", "-r", key,
                    "-c", ctx], check=True, capture_output=True, env=env)
    subprocess.run(["tpm2_readpublic", "-c", ctx, "-o", pub, "-n", name],
                   check=True, capture_output=True, env=env)
    subprocess.run(["tpm2_flushcontext", "-t"], check=True,
                   capture_output=True, env=env)
    doc = load(path)
    doc["identity"]["ak_public"] = base64.b64encode(
        open(pub, "rb").read()).decode()
    doc["identity"]["ak_name"] = open(name, "rb").read().hex()

    rc, out = import_json(latchd, save(doc, str(tmp_path / "sw.json")))
    assert rc == 1 and out["state"] == "invalid", out
    checks, = [latchd.json("enrollment", "show", str(out["id"]))]
    failed = {c["name"] for c in checks["report"]["checks"]
              if c["result"] == "fail"}
    assert {"ak.fixed_tpm", "ak.fixed_parent"} <= failed, failed
    assert "ak.name" not in failed
