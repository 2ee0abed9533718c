# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd's EK certificate handling end to end on swtpm boards, on SQLite
and PostgreSQL: the [validation] deny_firmware list, the TPM manufacturer
in the enrollment against the certificate (threat B11), AIA fetching by
latchd's own worker from a vendor server on 127.0.0.1 (fixtures_aia) with
the intermediate cache, eviction of a poisoned cache entry, and a TPM 2.0
EK certificate whose RSA key is published under rsaesOaep, from `latch
enroll` to `latch activate`.

Boards get new EK certificates as a manufacturing step: tests/tools/
mk_ekcert issues them over the board's own EK with the test vendor's
issuing CA, and they replace the certificate in the TCG NV index.
"""
import hashlib
import json
import os
import re
import subprocess

import pytest

from fixtures_paths import build_path

MK_EKCERT = build_path("tests", "tools", "mk_ekcert")
NV_RSA2048 = 0x01C00002
NV_P256 = 0x01C0000A
AIA_HOST = "vendor.test"
AIA_PATH = "/ek-issuing-ca-01.crt"
AIA_URL = "http://%s%s" % (AIA_HOST, AIA_PATH)


# --- helpers ------------------------------------------------------------------


def set_conf(latchd, section, key, value):
    """Sets `key = value` in [section] of latchd.conf (replaced in place
    when latchd init wrote it, else added to the section)."""
    path = os.path.join(latchd.data, "latchd.conf")
    with open(path) as f:
        lines = f.read().splitlines()
    out, cur, done = [], None, False
    for line in lines:
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            if cur == section and not done:
                out.append("%s = %s" % (key, value))
                done = True
            cur = m.group(1)
        elif cur == section and re.match(r"\s*%s\s*=" % re.escape(key), line):
            line = "%s = %s" % (key, value)
            done = True
        out.append(line)
    if not done:
        if cur != section:
            out.append("[%s]" % section)
        out.append("%s = %s" % (key, value))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def imported(latchd, path):
    out = latchd.json("enrollment", "import", path, "--wait", ok=False)
    assert isinstance(out.get("id"), int), out
    return out


def checks_of(latchd, enr_id):
    show = latchd.json("enrollment", "show", str(enr_id))
    return {c["name"]: c for c in show["report"]["checks"]}, show


def progress_of(latchd, enr_id):
    out = latchd.json("enrollment", "progress", str(enr_id))
    return "\n".join(m["text"] for m in out["messages"])


def tpm2(board, *args):
    env = dict(os.environ, TPM2TOOLS_TCTI=board.tcti, TSS2_LOG="all+none")
    res = subprocess.run(list(args), env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, (args, res.stderr)
    return res


def reissue_ek_cert(board, kind, *tool_args):
    """Replaces the board's EK certificate for kind ("rsa2048" or
    "ecc-p256") with one from mk_ekcert over the board's own EK (the TCG
    template key tpm2_createek makes), issued by the test vendor's issuing
    CA. Returns the certificate's DER."""
    d = os.path.join(board.path, "mfg-" + kind)
    os.makedirs(d, exist_ok=True)
    pub = os.path.join(d, "ek.pem")
    tpm2(board, "tpm2_createek", "-c", os.path.join(d, "ek.ctx"), "-G",
         "rsa" if kind == "rsa2048" else "ecc", "-u", pub, "-f", "pem")
    tpm2(board, "tpm2_flushcontext", "-t")
    der = os.path.join(d, "ek.der")
    res = subprocess.run(
        [MK_EKCERT, "--ca-key", os.path.join(board.ca.path, "signkey.pem"),
         "--ca-cert", board.ca.issuer_pem, "--pub", pub, "-o", der,
         *tool_args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    with open(der, "rb") as f:
        data = f.read()
    index = NV_RSA2048 if kind == "rsa2048" else NV_P256
    board.nv_undefine(index)
    board.nv_write(index, data)
    return data


def pem_to_der(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
                          capture_output=True, check=True).stdout


def aia_latchd(latchd, vendor_server, enabled=True):
    """latchd without the vendor intermediate, fetching it by AIA from
    the vendor server (vendor.test:80 -> 127.0.0.1:PORT)."""
    latchd.sql("DELETE FROM aia_cache")
    assert latchd.sql("SELECT count(*) FROM aia_cache")[0][0] in (0, "0")
    set_conf(latchd, "aia", "enabled", "true" if enabled else "false")
    set_conf(latchd, "aia", "allow_private", "true")
    set_conf(latchd, "aia", "connect_to",
             "%s:80:127.0.0.1:%d" % (AIA_HOST, vendor_server.port))
    vendor_server.route(AIA_PATH, pem_to_der(latchd.vendor_issuer))


@pytest.fixture
def vlatchd(latchd, vendor_ca):
    latchd.vendor_issuer = vendor_ca.issuer_pem
    return latchd


# --- [validation] deny_firmware -----------------------------------------------


def test_init_writes_the_new_keys_with_their_warnings(latchd):
    with open(os.path.join(latchd.data, "latchd.conf")) as f:
        conf = f.read()
    assert re.search(r"^\[validation\]\s*$", conf, re.M)
    assert re.search(r"^deny_firmware =\s*$", conf, re.M)
    assert "TESTS ONLY" in conf
    for key in ("allow_private = false", "resolve =", "connect_to ="):
        assert re.search(r"^%s\s*$" % re.escape(key), conf, re.M), key
    # latchd reads back what it wrote.
    assert latchd.run("enrollment", "list").returncode == 0


def test_deny_firmware_typo_stops_latchd(latchd):
    set_conf(latchd, "validation", "deny_firmware", "IFX")
    res = latchd.run("enrollment", "list")
    assert res.returncode != 0
    assert "deny_firmware" in res.stderr
    assert "MANUFACTURER:FIRMWARE" in res.stderr


# The swtpm board: TPM_PT_MANUFACTURER "IBM", firmware 0x20191023.0; its
# certificates' SAN say id:00001014 / id:20191023.
@pytest.mark.parametrize("spec,check", [
    ("STM:73.4, IBM:20191023*", "tpm.denylist"),
    ("id:00001014:id:20191023", "ek-denylist"),
])
def test_denylisted_tpm_firmware_needs_override(spec, check, latchd, device,
                                                tmp_path):
    set_conf(latchd, "validation", "deny_firmware", spec)
    dev = device()
    enr = dev.enroll(str(tmp_path / "enr.json"), "--ek", "ecc-p256")
    doc = json.load(open(enr))
    assert doc["identity"]["tpm"]["manufacturer"] == "IBM"
    assert doc["identity"]["tpm"]["firmware_version"].startswith("20191023")

    out = imported(latchd, enr)
    assert out["state"] == "needs_override", out
    assert "deny" in out["reason"], out["reason"]
    checks, _ = checks_of(latchd, out["id"])
    assert checks[check]["result"] == "fail", checks
    assert "deny" in checks[check]["detail"]

    res = latchd.run("enrollment", "approve", str(out["id"]))
    assert res.returncode != 0
    assert "--override" in res.stderr
    approved = latchd.json("enrollment", "approve", str(out["id"]),
                           "--override")
    assert approved["state"] == "approved"
    latchd.run("customer", "add", "ACME")
    lic = str(tmp_path / "license.json")
    latchd.json("license", "issue", "--enrollment", str(out["id"]),
                "--customer", "ACME", "--feature", "base", "-o", lic)
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr


def test_other_firmware_on_the_deny_list_passes(latchd, device, tmp_path):
    set_conf(latchd, "validation", "deny_firmware", "IBM:2020*, IFX:4.3*")
    dev = device()
    out = imported(latchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                      "ecc-p256"))
    assert out["state"] == "valid", out
    checks, _ = checks_of(latchd, out["id"])
    assert checks["tpm.denylist"]["result"] == "pass"


# --- B11: TPM manufacturer claimed vs certified ----------------------------------


def test_claimed_manufacturer_must_match_the_certificate(latchd, device,
                                                         tmp_path):
    dev = device()
    path = dev.enroll(str(tmp_path / "genuine.json"), "--ek", "ecc-p256")
    doc = json.load(open(path))
    # The upload is untrusted: an attacker may edit what the TPM reported.
    doc["identity"]["tpm"]["manufacturer"] = "IFX"
    forged = str(tmp_path / "forged.json")
    with open(forged, "w") as f:
        json.dump(doc, f)
    out = imported(latchd, forged)
    assert out["state"] == "invalid", out
    assert out["reason"].startswith("tpm.manufacturer:"), out["reason"]
    assert "IFX" in out["reason"] and "id:00001014" in out["reason"]

    out = imported(latchd, path)
    assert out["state"] == "valid", out
    checks, _ = checks_of(latchd, out["id"])
    assert checks["tpm.manufacturer"]["result"] == "pass"


def test_hex_vendor_id_claim_is_compared_as_an_id(latchd, device, tmp_path):
    dev = device()
    doc = json.load(open(dev.enroll(str(tmp_path / "g.json"), "--ek",
                                    "ecc-p256")))
    doc["identity"]["tpm"]["manufacturer"] = "0x53544D20"  # "STM "
    p = str(tmp_path / "stm.json")
    with open(p, "w") as f:
        json.dump(doc, f)
    out = imported(latchd, p)
    assert out["state"] == "invalid", out
    assert "0x53544d20" in out["reason"], out["reason"]


def test_certificate_without_san_only_warns(latchd, device, tmp_path):
    dev = device()
    reissue_ek_cert(dev.board, "ecc-p256", "--no-san")
    out = imported(latchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                      "ecc-p256"))
    assert out["state"] == "valid", out
    checks, _ = checks_of(latchd, out["id"])
    assert checks["tpm.manufacturer"]["result"] == "warn"
    assert "no TCG SAN" in checks["tpm.manufacturer"]["detail"]


# --- AIA from latchd's worker ----------------------------------------------------


def test_latchd_completes_the_chain_through_aia(vlatchd, device,
                                                vendor_server, tmp_path):
    aia_latchd(vlatchd, vendor_server)
    a, b = device(), device()
    for dev in (a, b):
        reissue_ek_cert(dev.board, "ecc-p256", "--aia", AIA_URL)

    out = imported(vlatchd, a.enroll(str(tmp_path / "a.json"), "--ek",
                                     "ecc-p256"))
    assert out["state"] == "valid", out
    text = progress_of(vlatchd, out["id"])
    assert "fetching issuer certificate from %s" % AIA_URL in text, text
    assert "connecting to 127.0.0.1" in text
    assert vendor_server.hits[AIA_PATH] == 1
    sha = hashlib.sha256(pem_to_der(vlatchd.vendor_issuer)).hexdigest()
    rows = vlatchd.sql("SELECT url FROM aia_cache WHERE sha256 = '%s'" % sha)
    assert [r[0] for r in rows] == [AIA_URL]

    # Same vendor, second board: the cache answers, no fetch.
    out = imported(vlatchd, b.enroll(str(tmp_path / "b.json"), "--ek",
                                     "ecc-p256"))
    assert out["state"] == "valid", out
    text = progress_of(vlatchd, out["id"])
    assert "(intermediate cache)" in text, text
    assert "fetching" not in text
    assert vendor_server.hits[AIA_PATH] == 1


def test_aia_switched_off_never_fetches(vlatchd, device, vendor_server,
                                        tmp_path):
    aia_latchd(vlatchd, vendor_server, enabled=False)
    dev = device()
    reissue_ek_cert(dev.board, "ecc-p256", "--aia", AIA_URL)
    out = imported(vlatchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                       "ecc-p256"))
    assert out["state"] == "invalid", out
    assert "not found" in out["reason"], out["reason"]
    assert vendor_server.hits[AIA_PATH] == 0


def test_poisoned_cache_entry_fails_and_is_evicted(vlatchd, vendor_ca,
                                                   device, vendor_server,
                                                   tmp_path):
    aia_latchd(vlatchd, vendor_server)
    # A certificate with the issuing CA's name and key id but another key,
    # signed by the vendor root, cached under the AIA URL.
    d = str(tmp_path / "forged")
    os.makedirs(d)
    ski = subprocess.run(
        ["openssl", "x509", "-in", vendor_ca.issuer_pem, "-noout", "-ext",
         "subjectKeyIdentifier"], capture_output=True, text=True,
        check=True).stdout.splitlines()[-1].strip()
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                "keyUsage=critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=%s\n"
                "authorityKeyIdentifier=keyid\n" % ski)
    subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-384", "-nodes", "-keyout",
         os.path.join(d, "key"), "-out", os.path.join(d, "csr"), "-subj",
         "/O=Test TPM Vendor/CN=Test TPM Vendor EK Issuing CA 01"],
        capture_output=True, check=True)
    forged = os.path.join(d, "forged.pem")
    subprocess.run(
        ["openssl", "x509", "-req", "-in", os.path.join(d, "csr"), "-CA",
         vendor_ca.root_pem, "-CAkey", os.path.join(vendor_ca.path,
                                                    "root.key"),
         "-set_serial", "4242", "-out", forged, "-days", "30", "-extfile",
         os.path.join(d, "ext")], capture_output=True, check=True)
    res = vlatchd.run("trust", "import-intermediates", forged)
    assert res.returncode == 0, res.stdout + res.stderr
    bad = hashlib.sha256(pem_to_der(forged)).hexdigest()
    vlatchd.sql("UPDATE aia_cache SET url = '%s' WHERE sha256 = '%s'"
                % (AIA_URL, bad))
    assert len(vlatchd.sql("SELECT url FROM aia_cache WHERE sha256 = '%s' "
                           "AND url = '%s'" % (bad, AIA_URL))) == 1

    a, b = device(), device()
    for dev in (a, b):
        reissue_ek_cert(dev.board, "ecc-p256", "--aia", AIA_URL)
    out = imported(vlatchd, a.enroll(str(tmp_path / "a.json"), "--ek",
                                     "ecc-p256"))
    assert out["state"] == "invalid", out
    assert "signature" in out["reason"], out["reason"]
    assert "evicted cached intermediate %s" % bad[:16] in \
        progress_of(vlatchd, out["id"])
    assert vlatchd.sql("SELECT count(*) FROM aia_cache WHERE sha256 = '%s'"
                       % bad)[0][0] in (0, "0")

    # The poison is gone: the next enrollment fetches the real one.
    out = imported(vlatchd, b.enroll(str(tmp_path / "b.json"), "--ek",
                                     "ecc-p256"))
    assert out["state"] == "valid", out
    assert vendor_server.hits[AIA_PATH] == 1


# --- rsaesOaep TPM 2.0 EK certificate ---------------------------------------------


def test_rsaes_oaep_ek_certificate_from_enroll_to_activate(latchd, device,
                                                           tmp_path):
    dev = device()
    der = reissue_ek_cert(dev.board, "rsa2048", "--oaep")
    spki = subprocess.run(["openssl", "asn1parse", "-inform", "DER"],
                          input=der, capture_output=True,
                          check=True).stdout.decode()
    assert "rsaesOaep" in spki

    enr = dev.enroll(str(tmp_path / "enr.json"), "--ek", "rsa2048")
    out = imported(latchd, enr)
    assert out["state"] == "valid", out
    checks, show = checks_of(latchd, out["id"])
    assert checks["ek-spki"]["result"] == "warn"
    assert "rsaesOaep" in checks["ek-spki"]["detail"]
    assert "ek-tpm-version" not in checks or \
        checks["ek-tpm-version"]["result"] == "pass"
    assert checks["ek.public_matches_certificate"]["result"] == "pass"
    assert show["ek_template"] == "rsa2048"

    latchd.run("customer", "add", "ACME")
    assert latchd.json("enrollment", "approve",
                       str(out["id"]))["state"] == "approved"
    lic = str(tmp_path / "license.json")
    latchd.json("license", "issue", "--enrollment", str(out["id"]),
                "--customer", "ACME", "--feature", "base", "-o", lic)
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    res = dev.example("base")
    assert res.returncode == 0, res.stdout + res.stderr


def test_ek_verify_with_data_uses_the_configured_deny_list(latchd, board,
                                                           tmp_path):
    b = board(start=False)
    cert = str(tmp_path / "ek.der")
    with open(cert, "wb") as f:
        f.write(b.ek_cert("ecc-p256"))
    out = latchd.json("ek", "verify", cert, ok=False)
    assert out["items"][0]["outcome"] == "valid", out
    set_conf(latchd, "validation", "deny_firmware", "id:00001014:id:2019*")
    out = latchd.json("ek", "verify", cert, ok=False)
    assert out["items"][0]["outcome"] == "needs-override", out
    assert out["items"][0]["reason"] == "denylist", out


def test_aia_resolve_entry_maps_the_vendor_host(vlatchd, device,
                                                vendor_server, tmp_path):
    aia_latchd(vlatchd, vendor_server)
    set_conf(vlatchd, "aia", "connect_to", "")
    set_conf(vlatchd, "aia", "resolve",
             "%s:%d:127.0.0.1" % (AIA_HOST, vendor_server.port))
    url = "http://%s:%d%s" % (AIA_HOST, vendor_server.port, AIA_PATH)
    dev = device()
    reissue_ek_cert(dev.board, "ecc-p256", "--aia", url)
    out = imported(vlatchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                       "ecc-p256"))
    assert out["state"] == "valid", out
    assert "fetching issuer certificate from %s" % url in \
        progress_of(vlatchd, out["id"])
    assert vendor_server.hits[AIA_PATH] == 1


def test_aia_private_address_refused_without_allow_private(vlatchd, device,
                                                           vendor_server,
                                                           tmp_path):
    aia_latchd(vlatchd, vendor_server)
    set_conf(vlatchd, "aia", "allow_private", "false")
    dev = device()
    reissue_ek_cert(dev.board, "ecc-p256", "--aia", AIA_URL)
    out = imported(vlatchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                       "ecc-p256"))
    assert out["state"] == "invalid", out
    assert "127.0.0.1" in out["reason"], out["reason"]
    assert vendor_server.hits[AIA_PATH] == 0
