# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latch-ca black-box: the root ceremony, issuing signing certificates
from CSRs (checked by `openssl verify`), refusals, and `show`."""
import base64
import hashlib
import os
import re
import stat

import pytest

from fixtures_pki import LATCH_CA, run

EKU_OID = "2.25.42383924505484888768200975379162033952"


def x509_text(path):
    return run(["openssl", "x509", "-in", path, "-noout", "-text"],
               check=True).stdout


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def openssl_csr(workdir, name, newkey):
    key = os.path.join(workdir, name + ".key")
    csr = os.path.join(workdir, name + ".csr")
    run(["openssl", "req", "-new", *newkey, "-nodes", "-keyout", key,
         "-subj", "/CN=" + name + "/O=Example Ltd", "-out", csr], check=True)
    return csr


@pytest.fixture
def root(workdir):
    d = os.path.join(workdir, "root")
    res = run([LATCH_CA, "root", "init", "--out", d, "--subject",
               "CN=test root,O=Example Ltd", "--days", "3650"])
    assert res.returncode == 0, res.stderr
    return d


def test_root_init_makes_p384_ca_with_private_key_0600(root):
    pem = os.path.join(root, "root.pem")
    key = os.path.join(root, "root.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    text = x509_text(pem)
    assert "NIST CURVE: P-384" in text or "secp384r1" in text
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE, pathlen:0",
                     text)
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign",
                     text)
    assert "Subject Key Identifier" in text
    assert "Subject: CN = test root, O = Example Ltd" in text
    # The key file is the root's key.
    pub_cert = run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"],
                   check=True).stdout
    pub_key = run(["openssl", "pkey", "-in", key, "-pubout"],
                  check=True).stdout
    assert pub_cert == pub_key
    res = run(["openssl", "verify", "-x509_strict", "-CAfile", pem, pem])
    assert res.returncode == 0, res.stdout + res.stderr


def test_root_init_refuses_to_overwrite(root):
    before = {n: sha256_file(os.path.join(root, n))
              for n in ("root.pem", "root.key")}
    res = run([LATCH_CA, "root", "init", "--out", root])
    assert res.returncode == 1
    assert "refusing to overwrite" in res.stderr
    after = {n: sha256_file(os.path.join(root, n))
             for n in ("root.pem", "root.key")}
    assert before == after
    # One file left over from a half-done ceremony is refused too.
    os.unlink(os.path.join(root, "root.pem"))
    res = run([LATCH_CA, "root", "init", "--out", root])
    assert res.returncode == 1
    assert not os.path.exists(os.path.join(root, "root.pem"))


@pytest.mark.parametrize("name,newkey", [
    ("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
    ("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]),
    ("ed25519", ["-newkey", "ed25519"]),
])
def test_sign_issues_cert_that_openssl_verify_accepts(root, workdir, name,
                                                     newkey):
    csr = openssl_csr(workdir, name, newkey)
    out = os.path.join(workdir, name + ".pem")
    res = run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out])
    assert res.returncode == 0, res.stderr
    pem = os.path.join(root, "root.pem")
    res = run(["openssl", "verify", "-x509_strict", "-CAfile", pem, out])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == out + ": OK"
    text = x509_text(out)
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s+Digital Signature\s", text)
    assert re.search(r"Extended Key Usage:\s+" + re.escape(EKU_OID), text)
    assert "Authority Key Identifier" in text
    assert "Subject: CN = %s, O = Example Ltd" % name in text
    assert "Issuer: CN = test root, O = Example Ltd" in text
    serial = run(["openssl", "x509", "-in", out, "-noout", "-serial"],
                 check=True).stdout.strip().split("=")[1]
    assert len(serial) == 32  # 16 random bytes


def test_two_signing_certs_get_different_serials(root, workdir):
    csr = openssl_csr(workdir, "a", ["-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:P-256"])
    serials = set()
    for i in range(2):
        out = os.path.join(workdir, "a%d.pem" % i)
        run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out],
            check=True)
        serials.add(run(["openssl", "x509", "-in", out, "-noout", "-serial"],
                        check=True).stdout)
    assert len(serials) == 2


@pytest.mark.parametrize("newkey,shown", [
    (["-newkey", "rsa:1024"], "RSA 1024 bits"),
    (["-newkey", "rsa:3072"], "RSA 3072 bits"),
    (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
     "EC secp256k1"),
])
def test_sign_rejects_weak_or_unsupported_csr_key(root, workdir, newkey,
                                                  shown):
    csr = openssl_csr(workdir, "weak", newkey)
    out = os.path.join(workdir, "weak.pem")
    res = run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out])
    assert res.returncode == 1
    assert "weak or unsupported key: " + shown in res.stderr
    assert "accepted: EC P-256, EC P-384, Ed25519" in res.stderr
    assert not os.path.exists(out)


def test_sign_rejects_csr_with_bad_signature(root, workdir):
    csr = openssl_csr(workdir, "forged", ["-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:P-256"])
    with open(csr, encoding="ascii") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("---")]
    der = bytearray(base64.b64decode("".join(lines)))
    i = der.find(b"forged")
    der[i] ^= 0x20  # "Forged": the subject changed after signing
    bad = os.path.join(workdir, "forged.der")
    with open(bad, "wb") as f:
        f.write(bytes(der))
    out = os.path.join(workdir, "forged.pem")
    res = run([LATCH_CA, "sign", "--root", root, "--csr", bad, "-o", out])
    assert res.returncode == 1
    assert "signature does not verify" in res.stderr
    assert not os.path.exists(out)


def test_sign_refuses_to_outlive_root_or_overwrite(root, workdir):
    csr = openssl_csr(workdir, "long", ["-newkey", "ec", "-pkeyopt",
                                        "ec_paramgen_curve:P-256"])
    out = os.path.join(workdir, "long.pem")
    res = run([LATCH_CA, "sign", "--root", root, "--csr", csr,
               "--days", "4000", "-o", out])
    assert res.returncode == 2
    assert "would end after the root" in res.stderr
    assert not os.path.exists(out)
    run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out],
        check=True)
    before = sha256_file(out)
    res = run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out])
    assert res.returncode == 1
    assert "refusing to overwrite" in res.stderr
    assert sha256_file(out) == before


def show_field(text, label):
    for line in text.splitlines():
        if line.startswith(label + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no %r in:\n%s" % (label, text))


def test_show_prints_fingerprint_usages_and_latch_eku(root, workdir):
    csr = openssl_csr(workdir, "shown", ["-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:P-256"])
    cert = os.path.join(workdir, "shown.pem")
    run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", cert],
        check=True)
    for path in (cert, os.path.join(root, "root.pem")):
        res = run([LATCH_CA, "show", path])
        assert res.returncode == 0, res.stderr
        want = run(["openssl", "x509", "-in", path, "-noout", "-fingerprint",
                    "-sha256"], check=True).stdout.strip().split("=", 1)[1]
        assert show_field(res.stdout, "sha256 fingerprint") == want
    text = run([LATCH_CA, "show", cert], check=True).stdout
    assert show_field(text, "subject") == "CN=shown,O=Example Ltd"
    assert show_field(text, "issuer") == "CN=test root,O=Example Ltd"
    assert show_field(text, "key") == "EC P-256 (256 bits)"
    assert show_field(text, "basic constraints") == "CA:FALSE (critical)"
    assert show_field(text, "key usage") == "Digital Signature (critical)"
    assert show_field(text, "extended key usage") == (
        "latch license signing (%s)" % EKU_OID)
    assert show_field(text, "role") == "latch license signing certificate"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                    show_field(text, "not after"))
    # DER input works too.
    der = os.path.join(workdir, "shown.der")
    run(["openssl", "x509", "-in", cert, "-outform", "DER", "-out", der],
        check=True)
    assert run([LATCH_CA, "show", der], check=True).stdout == text


def test_show_flags_a_cert_without_the_latch_profile(workdir):
    key = os.path.join(workdir, "tls.key")
    pem = os.path.join(workdir, "tls.pem")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", pem,
         "-subj", "/CN=tls", "-days", "1", "-addext", "basicConstraints=CA:FALSE",
         "-addext", "extendedKeyUsage=serverAuth"], check=True)
    text = run([LATCH_CA, "show", pem], check=True).stdout
    assert "TLS Web Server Authentication" in show_field(
        text, "extended key usage")
    assert "WITHOUT the latch signing profile" in show_field(text, "role")


def test_csr_verb_makes_key_and_request_latch_ca_signs(root, workdir):
    key = os.path.join(workdir, "srv.key")
    csr = os.path.join(workdir, "srv.csr")
    res = run([LATCH_CA, "csr", "--key", key, "--subject",
               "CN=latchd signer 2027", "--type", "p384", "-o", csr])
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    res = run(["openssl", "req", "-in", csr, "-noout", "-verify"])
    assert res.returncode == 0
    out = os.path.join(workdir, "srv.pem")
    run([LATCH_CA, "sign", "--root", root, "--csr", csr, "-o", out],
        check=True)
    res = run(["openssl", "verify", "-CAfile",
               os.path.join(root, "root.pem"), out])
    assert res.returncode == 0
    res = run([LATCH_CA, "csr", "--key", key, "--subject", "CN=x", "-o",
               os.path.join(workdir, "other.csr")])
    assert res.returncode == 1
    assert "refusing to overwrite" in res.stderr


def test_usage_errors_exit_2(workdir):
    assert run([LATCH_CA]).returncode == 2
    assert run([LATCH_CA, "frobnicate"]).returncode == 2
    assert run([LATCH_CA, "root", "init"]).returncode == 2
    assert run([LATCH_CA, "root", "init", "--out", workdir,
                "--days", "0"]).returncode == 2
    res = run([LATCH_CA, "root", "init", "--out",
               os.path.join(workdir, "r"), "--subject", "XX=nope"])
    assert res.returncode == 2
    assert "XX" in res.stderr
    assert run([LATCH_CA, "sign", "--root", workdir]).returncode == 2
    assert run([LATCH_CA, "--help"]).returncode == 0


@pytest.mark.parametrize("subject,why", [
    ("XX=nope", "XX"),
    ("CN=a\\", "lone"),
    ("CN=a\x01b", "control character 0x01"),
    ("CN=a\\\x1bb", "control character 0x1b"),
    ("CN=line\nO=x", "control character 0x0a"),
])
def test_root_init_with_a_bad_subject_leaves_nothing(workdir, subject, why):
    d = os.path.join(workdir, "r")
    res = run([LATCH_CA, "root", "init", "--out", d, "--subject", subject])
    assert res.returncode == 2, res.stderr
    assert why in res.stderr
    assert not os.path.exists(d)


def test_root_init_keeps_an_existing_empty_dir_on_failure(workdir):
    d = os.path.join(workdir, "mine")
    os.mkdir(d)
    res = run([LATCH_CA, "root", "init", "--out", d, "--subject", "CN=a\\"])
    assert res.returncode == 2
    assert os.path.isdir(d) and os.listdir(d) == []


def test_empty_paths_are_usage_errors(root, workdir):
    csr = openssl_csr(workdir, "e", ["-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:P-256"])
    out = os.path.join(workdir, "e.pem")
    for argv, opt in [
            (["root", "init", "--out", ""], "--out"),
            (["sign", "--root", root, "--csr", csr, "-o", ""], "-o"),
            (["sign", "--root", "", "--csr", csr, "-o", out], "--root"),
            (["sign", "--root", root, "--csr", "", "-o", out], "--csr"),
            (["csr", "--key", "", "--subject", "CN=x", "-o", out], "--key"),
            (["show", ""], "FILE")]:
        res = run([LATCH_CA, *argv])
        assert res.returncode == 2, (argv, res.stderr)
        assert opt in res.stderr and "usage:" in res.stderr, res.stderr
    assert not os.path.exists(out)


def test_sign_refuses_a_csr_file_with_two_requests(root, workdir):
    a = openssl_csr(workdir, "first", ["-newkey", "ec", "-pkeyopt",
                                       "ec_paramgen_curve:P-256"])
    b = openssl_csr(workdir, "second", ["-newkey", "ec", "-pkeyopt",
                                        "ec_paramgen_curve:P-256"])
    both = os.path.join(workdir, "both.csr")
    with open(both, "w", encoding="ascii") as f:
        f.write(open(a, encoding="ascii").read())
        f.write(open(b, encoding="ascii").read())
    out = os.path.join(workdir, "both.pem")
    res = run([LATCH_CA, "sign", "--root", root, "--csr", both, "-o", out])
    assert res.returncode != 0
    assert "more than one PEM block" in res.stderr
    assert not os.path.exists(out)
