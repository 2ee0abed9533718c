# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""`latch verify` black-box: licenses signed through latch_license_sign()
by a PKI that latch-ca made, checked offline with --root or the root
compiled in, with the documented exit codes."""
import datetime
import json
import os
import subprocess

import pytest

from fixtures_paths import BUILD, REPO
from fixtures_pki import LATCH, default_body, now_utc, rfc3339, run

# docs/operations.md
EXIT_OK, EXIT_USAGE, EXIT_IO, EXIT_FORMAT, EXIT_SIGNATURE = 0, 2, 3, 4, 5
EXIT_VALIDITY = 8

CHECKS = [
    "file", "format", "root", "cert.basic-constraints", "cert.key-usage",
    "cert.eku", "cert.valid-at-issue", "cert.chain", "cert.key",
    "signature.algorithm", "signature.encoding", "signature.value",
    "license.validity",
]


def verify(path, root=None, json_out=False, latch=LATCH):
    args = [latch, "verify", path]
    if root is not None:
        args += ["--root", root]
    if json_out:
        args.append("--json")
    return run(args)


def verify_json(path, root):
    res = verify(path, root, json_out=True)
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == res.returncode
    return res, doc


def edit(src, dst, change):
    with open(src, encoding="utf-8") as f:
        doc = json.load(f)
    change(doc)
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return dst


@pytest.fixture
def good(license_pki, workdir):
    return license_pki.sign(default_body(), os.path.join(workdir, "lic.json"))


def test_good_license_passes_every_check(license_pki, good):
    res = verify(good, license_pki.root_pem)
    assert res.returncode == EXIT_OK, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    for name in CHECKS:
        assert any(l.split()[:2] == ["pass", name] for l in lines), name
    assert lines[-1] == "verify: ok"
    assert "feature fast-mode" in res.stdout
    assert "quantity 16" in res.stdout
    assert res.stderr == ""


@pytest.mark.parametrize("key_type,curve", [("ec", "P-384"),
                                            ("ed25519", None)])
def test_other_key_types_verify(make_pki, workdir, key_type, curve):
    pki = make_pki("kt", key_type=key_type, curve=curve)
    lic = pki.sign(default_body(), os.path.join(workdir, "lic.json"))
    res, doc = verify_json(lic, pki.root_pem)
    assert res.returncode == EXIT_OK, res.stdout
    algs = {c["name"]: c for c in doc["checks"]}
    want = "ES384" if curve == "P-384" else "EdDSA"
    assert "'%s'" % want in algs["signature.algorithm"]["detail"]


def test_json_output_parses_and_carries_the_signed_content(license_pki,
                                                           good):
    res, doc = verify_json(good, license_pki.root_pem)
    assert res.returncode == EXIT_OK
    assert doc["ok"] is True
    assert [c["name"] for c in doc["checks"]] == CHECKS
    assert all(c["result"] == "pass" for c in doc["checks"])
    signed = doc["signed"]
    assert signed["license_id"] == "lic-e2e-0001"
    assert signed["serial"] == 1
    assert signed["features"]["fast-mode"] == {"enabled": True,
                                               "quantity": 16}
    assert signed["features"]["export.csv"] == {"enabled": False}


def test_reformatted_license_still_verifies(license_pki, good, workdir):
    def reorder(doc):
        doc["license"] = dict(reversed(list(doc["license"].items())))

    out = edit(good, os.path.join(workdir, "re.json"), reorder)
    assert verify(out, license_pki.root_pem).returncode == EXIT_OK


@pytest.mark.parametrize("change", [
    lambda d: d["license"]["features"]["fast-mode"].update(quantity=17),
    lambda d: d["license"]["features"].update(extra={"enabled": True}),
    lambda d: d["license"].update(serial=2),
    lambda d: d["license"].update(customer="ACME Corq"),
    lambda d: d["license"].pop("valid_until"),
], ids=["quantity", "added-feature", "serial", "customer", "removed-until"])
def test_tampered_license_exits_5(license_pki, good, workdir, change):
    out = edit(good, os.path.join(workdir, "t.json"), change)
    res, doc = verify_json(out, license_pki.root_pem)
    assert res.returncode == EXIT_SIGNATURE
    checks = {c["name"]: c["result"] for c in doc["checks"]}
    assert checks["signature.value"] == "fail"
    assert checks["cert.chain"] == "pass"
    assert "signed" not in doc
    res = verify(out, license_pki.root_pem)
    assert res.returncode == EXIT_SIGNATURE
    assert "signature.value: signature: does not verify" in res.stderr
    assert "feature" not in res.stdout  # nothing unverified is shown


def test_wrong_root_exits_5(make_pki, good):
    other = make_pki("other")
    res, doc = verify_json(good, other.root_pem)
    assert res.returncode == EXIT_SIGNATURE
    chain = [c for c in doc["checks"] if c["name"] == "cert.chain"][0]
    assert chain["result"] == "fail"
    assert "does not chain to root" in chain["detail"]


def test_lying_algorithm_member_changes_nothing(license_pki, good, workdir):
    for lie in ("none", "HS256", "ES384"):
        out = edit(good, os.path.join(workdir, "alg.json"),
                   lambda d: d["signature"].update(algorithm=lie))
        res, doc = verify_json(out, license_pki.root_pem)
        assert res.returncode == EXIT_OK
        alg = [c for c in doc["checks"]
               if c["name"] == "signature.algorithm"][0]
        assert alg["result"] == "warn"
        assert "ignored" in alg["detail"]


def test_expired_license_exits_8(license_pki, workdir):
    now = now_utc()
    body = default_body(
        valid_from=rfc3339(now - datetime.timedelta(days=30)),
        valid_until=rfc3339(now - datetime.timedelta(days=1)))
    lic = license_pki.sign(body, os.path.join(workdir, "old.json"))
    res, doc = verify_json(lic, license_pki.root_pem)
    assert res.returncode == EXIT_VALIDITY
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["signature.value"]["result"] == "pass"
    assert checks["license.validity"]["result"] == "fail"
    assert "expired" in checks["license.validity"]["detail"]


def test_not_yet_valid_license_exits_8(license_pki, workdir):
    body = default_body(
        valid_from=rfc3339(now_utc() + datetime.timedelta(days=3)))
    lic = license_pki.sign(body, os.path.join(workdir, "future.json"))
    res = verify(lic, license_pki.root_pem)
    assert res.returncode == EXIT_VALIDITY
    assert "not valid before" in res.stderr


def test_signature_failure_outranks_expiry(license_pki, workdir):
    now = now_utc()
    body = default_body(
        valid_from=rfc3339(now - datetime.timedelta(days=30)),
        valid_until=rfc3339(now - datetime.timedelta(days=1)))
    lic = license_pki.sign(body, os.path.join(workdir, "old.json"))
    out = edit(lic, os.path.join(workdir, "old2.json"),
               lambda d: d["license"].update(serial=9))
    assert verify(out, license_pki.root_pem).returncode == EXIT_SIGNATURE


@pytest.mark.parametrize("change,needle", [
    (lambda d: d.update(features={"all": {"enabled": True}}),
     "features: unknown member"),
    (lambda d: d["license"]["features"].update(
        {"Fast": {"enabled": True}}), "license.features"),
    (lambda d: d["license"].update(serial="1"), "license.serial"),
    (lambda d: d["signature"].pop("value"), "signature.value"),
], ids=["features-outside-license", "feature-name", "serial-type",
        "no-signature"])
def test_malformed_license_exits_4(license_pki, good, workdir, change,
                                   needle):
    out = edit(good, os.path.join(workdir, "m.json"), change)
    res = verify(out, license_pki.root_pem)
    assert res.returncode == EXIT_FORMAT
    assert needle in res.stderr


def test_duplicate_member_exits_4(license_pki, good, workdir):
    with open(good, encoding="utf-8") as f:
        text = f.read()
    out = os.path.join(workdir, "dup.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write(text.replace('"serial": 1,', '"serial": 1, "serial": 7,', 1))
    assert verify(out, license_pki.root_pem).returncode == EXIT_FORMAT


def test_unreadable_files_exit_3(license_pki, good, workdir):
    res = verify(os.path.join(workdir, "missing.json"), license_pki.root_pem)
    assert res.returncode == EXIT_IO
    res = verify(good, os.path.join(workdir, "missing.pem"))
    assert res.returncode == EXIT_IO


def test_usage_errors_exit_2(good):
    assert run([LATCH, "verify"]).returncode == EXIT_USAGE
    assert run([LATCH, "verify", good, good]).returncode == EXIT_USAGE
    assert run([LATCH, "verify", "--bogus", good]).returncode == EXIT_USAGE
    assert run([LATCH, "nosuchverb"]).returncode == EXIT_USAGE
    res = run([LATCH, "--help"])
    assert res.returncode == 0
    assert "verify" in res.stdout


def test_display_text_is_escaped(license_pki, workdir):
    body = default_body(customer="ACME \u202eprocA")
    lic = license_pki.sign(body, os.path.join(workdir, "bidi.json"))
    res = verify(lic, license_pki.root_pem)
    assert res.returncode == EXIT_OK
    assert "\u202e" not in res.stdout
    assert "ACME <U+202E>procA" in res.stdout


def embedded_root_is_empty():
    with open(os.path.join(BUILD, "gen", "root_ca.c"), encoding="utf-8") as f:
        return "BEGIN CERTIFICATE" not in f.read()


def test_without_root_uses_the_embedded_one(license_pki, good):
    res = verify(good)
    if embedded_root_is_empty():
        assert res.returncode == EXIT_USAGE
        assert "no root certificate" in res.stderr
        assert "LATCH_ROOT_CA" in res.stderr
    else:
        # A root from the build, not this test's: the chain must fail.
        assert res.returncode == EXIT_SIGNATURE
        assert "cert.chain" in res.stderr


def test_relinked_device_build_trusts_its_root(license_pki, make_pki, good,
                                               workdir):
    out = os.path.join(workdir, "dev")
    res = subprocess.run(
        ["make", "--no-print-directory", "-C", REPO,
         "BUILD=" + os.path.relpath(BUILD, REPO),
         # A sanitizer build re-links with the sanitizer runtime.
         "SANITIZE=" + os.environ.get("SANITIZE", ""), "relink", "OUT=" + out,
         "LATCH_ROOT_CA=" + license_pki.root_pem],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600, check=False)
    assert res.returncode == 0, res.stdout
    latch = os.path.join(out, "latch")
    res = verify(good, latch=latch)
    assert res.returncode == EXIT_OK, res.stdout + res.stderr
    assert "(built in)" in res.stdout
    other = make_pki("other2")
    lic = other.sign(default_body(), os.path.join(workdir, "other.json"))
    assert verify(lic, latch=latch).returncode == EXIT_SIGNATURE
