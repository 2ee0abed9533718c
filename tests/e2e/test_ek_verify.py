# SPDX-License-Identifier: ISC
"""`latchd ek verify` and `latchd trust import-intermediates|list` on the
real EK corpus: the same answers as the library (tests/tools/ekcheck), and
offline intermediate bundles feeding the chain builder through the cache."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from fixtures_aia import ANCHORS, EK, INTER
from fixtures_latchd import Latchd
from fixtures_paths import build_path

NOW = "1796256000"  # 2026-12-03, the date of the unit test table

EXPECTED = {
    "google-gce-vtpm-pca-rsa.pem": ("valid", "none", "", "", ""),
    "google-gce-vtpm-uca-ecc-p256.pem": ("valid", "none", "GOOG", "vTPM",
                                         "8214.1297"),
    "google-gce-vtpm-uca-rsa.pem": ("valid", "none", "GOOG", "vTPM",
                                    "8214.1297"),
    "infineon-slb9635-tpm12-rsaoaep-nvblob-tcg-header.bin": (
        "invalid", "tpm12", "IFX", "SLB9635TT1.2", "3.19"),
    "infineon-slb9635-tpm12-rsaoaep-stripped.der": (
        "invalid", "tpm12", "IFX", "SLB9635TT1.2", "3.19"),
    "infineon-slb9670-ecc-p256.der": ("valid", "none", "IFX",
                                      "SLB 9670 TPM2.0", "7.63"),
    "infineon-slb9670-rsa.der": ("valid", "none", "IFX", "SLB 9670 TPM2.0",
                                 "7.63"),
    "intel-ptt-spt-rsa-ecdsa-signed.pem": ("valid", "none", "INTC", "SPT",
                                           "2.0"),
    "nuvoton-npct75x-rsa-nonder-san-set.der": ("valid", "none", "NTC",
                                               "NPCT75x", "7.2"),
    "stm-st33htph-ecc-p256.der": ("valid", "none", "STM", "ST33HTPHAHB4",
                                  "73.4"),
    "stm-st33htph-rsa-ff-padded-1600.der": ("valid", "none", "STM",
                                            "ST33HTPHAHB4", "73.4"),
    "stm-st33zp24-rsaoaep-sha1-ab21ccf2.pem": ("invalid", "tpm12", "STM",
                                               "ST33ZP24PVSP", "13.12"),
    "stm-st33zp24-rsaoaep-sha1-nuc1.pem": ("invalid", "tpm12", "STM",
                                           "ST33ZP24PVSP", "13.12"),
    "stm-st33zp24-rsaoaep-sha1-nuc2.pem": ("invalid", "tpm12", "STM",
                                           "ST33ZP24PVSP", "13.12"),
    "swtpm-localca-rsa.der": ("invalid", "issuer-not-found", "", "swtpm",
                              "8217.4131"),
}


def _run(args):
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env=env, check=False)


def test_ek_verify_gives_the_library_answers_on_every_corpus_file():
    files = sorted(f for f in os.listdir(EK) if f != "README.md")
    assert sorted(EXPECTED) == files
    paths = [os.path.join(EK, f) for f in files]
    res = _run([build_path("latchd"), "ek", "verify", "--json", "--trust",
                ANCHORS, "--untrusted", INTER, "--now", NOW, *paths])
    assert res.returncode == 1, res.stderr  # some are not valid
    items = json.loads(res.stdout)["items"]
    assert len(items) == len(files)
    tool = _run([build_path("tests", "tools", "ekcheck"), "--json", "--trust",
                 ANCHORS, "--untrusted", INTER, "--now", NOW, *paths])
    lib = [json.loads(line) for line in tool.stdout.splitlines()]
    for item, ref, name in zip(items, lib, files):
        want = EXPECTED[name]
        tpm = item["certificate"]["tpm"]
        got = (item["outcome"], item["reason"], tpm["vendor"], tpm["model"],
               tpm["firmware"])
        assert got == want, (name, item["detail"])
        assert item["state"] == item["outcome"]
        assert item["id"] == item["certificate"]["sha256"]
        assert item["outcome"] == ref["outcome"]
        assert item["reason"] == ref["reason"]
        assert [c["sha256"] for c in item["chain"]] == \
            [c["sha256"] for c in ref["chain"]]
    # One valid file alone exits 0; text output names the outcome.
    one = _run([build_path("latchd"), "ek", "verify", "--trust", ANCHORS,
                "--untrusted", INTER, "--now", NOW,
                os.path.join(EK, "infineon-slb9670-rsa.der")])
    assert one.returncode == 0, one.stderr
    assert "infineon-slb9670-rsa.der: valid" in one.stdout
    assert "IFX SLB 9670 TPM2.0 firmware 7.63" in one.stdout


def test_ek_verify_refuses_junk_and_names_unknown_roots(tmp_path):
    junk = tmp_path / "junk.der"
    junk.write_bytes(open(os.path.join(EK, "infineon-slb9670-rsa.der"),
                          "rb").read() + b"JUNK")
    res = _run([build_path("latchd"), "ek", "verify", "--json", "--trust",
                ANCHORS, str(junk)])
    assert res.returncode == 1
    item = json.loads(res.stdout)["items"][0]
    assert item["reason"] == "parse"
    assert "junk after certificate" in item["detail"]
    # Trust only Intel; hand the Infineon root over as a helper.
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "intel.cer").write_bytes(
        open(os.path.join(ANCHORS, "Intel", "EKRootPublicKey.cer"),
             "rb").read())
    root = os.path.join(ANCHORS, "Infineon",
                        "Infineon_OPTIGA_TM_RSA_Root_CA.crt")
    res = _run([build_path("latchd"), "ek", "verify", "--json", "--trust",
                str(trust), "--untrusted", INTER, "--untrusted", root,
                "--now", NOW, os.path.join(EK, "infineon-slb9670-rsa.der")])
    item = json.loads(res.stdout)["items"][0]
    assert item["outcome"] == "unknown-root"
    assert item["root"]["sha256"] == hashlib.sha256(
        open(root, "rb").read()).hexdigest()
    assert "trust directory" in item["root"]["pinning_steps"]


@pytest.fixture
def ek_latchd(latchd_db, tmp_path):
    """latchd init (SQLite or PostgreSQL) trusting the STMicro roots."""
    url, pg = latchd_db
    data = str(tmp_path / "latchd")
    trust = str(tmp_path / "trust")
    shutil.copytree(os.path.join(ANCHORS, "STMicro"), trust)
    args = [build_path("latchd"), "init", "--data", data, "--trust", trust]
    if url != "sqlite":
        args += ["--database", url]
    res = _run(args)
    assert res.returncode == 0, res.stderr
    if url == "sqlite":
        url = "sqlite:" + os.path.join(data, "latchd.db")
    d = Latchd(data, url, pg)
    d.trust = trust
    return d


def test_trust_import_feeds_the_cache_and_trust_list_shows_it(ek_latchd):
    latchd = ek_latchd
    stm = os.path.join(INTER, "STMicro")
    # Anything refused makes the import exit 1 (docs/operations.md).
    res = latchd.run("--json", "trust", "import-intermediates", stm)
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert out["stored"] >= 10
    refused = [i for i in out["items"] if i["state"] == "refused"]
    # The seven non-DER STMicro copies are named, not stored.
    assert len(refused) == 7
    assert all("non-minimal INTEGER" in i["detail"] for i in refused)
    # Importing twice stores nothing new.
    res = latchd.run("--json", "trust", "import-intermediates", stm)
    assert res.returncode == 1, res.stderr
    again = json.loads(res.stdout)
    listing = latchd.json("trust", "list")
    shas = {i["sha256"] for i in listing["intermediates"]}
    int05 = os.path.join(stm, "STM_TPM_EK_Intermediate_CA_05_2.crt")
    assert hashlib.sha256(open(int05, "rb").read()).hexdigest() in shas
    assert len(shas) == len(listing["intermediates"])
    assert again["stored"] == 0
    assert again["already_cached"] == out["stored"]
    assert len(listing["pinned"]) == 6
    gs = os.path.join(latchd.trust, "GlobalSign_Trusted_Computing_CA.crt")
    assert hashlib.sha256(open(gs, "rb").read()).hexdigest() in \
        {p["sha256"] for p in listing["pinned"]}
    for p in listing["pinned"]:
        assert p["kind"] == "pinned-root" and len(p["sha256"]) == 64
    # ek verify with the data directory uses its trust directory and that
    # cache: no --trust, no --untrusted.
    res = latchd.json("ek", "verify", "--now", NOW,
                      os.path.join(EK, "stm-st33htph-rsa-ff-padded-1600.der"))
    assert res["items"][0]["outcome"] == "valid", res["items"][0]["detail"]
    # A leaf is not an intermediate.
    leaf = latchd.json("trust", "import-intermediates",
                       os.path.join(EK, "infineon-slb9670-rsa.der"))
    assert leaf["stored"] == 0 and leaf["skipped"] == 1


def test_trust_import_refuses_a_root_and_says_where_roots_go(ek_latchd,
                                                             tmp_path):
    """A self-signed certificate is a root to pin, not an intermediate: it
    is refused, named (file, place, subject, fingerprint), and not cached;
    the rest of the bundle is imported and the verb exits 1."""
    import ssl

    latchd = ek_latchd
    inter = os.path.join(INTER, "STMicro",
                         "STM_TPM_ECC384_Intermediate_CA_01.der")
    root = os.path.join(ANCHORS, "Infineon",
                        "Infineon_OPTIGA_TM_RSA_Root_CA.crt")
    root_sha = hashlib.sha256(open(root, "rb").read()).hexdigest()
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(ssl.DER_cert_to_PEM_cert(open(inter, "rb").read()) +
                      ssl.DER_cert_to_PEM_cert(open(root, "rb").read()))

    res = latchd.run("--json", "trust", "import-intermediates", str(bundle))
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert (out["stored"], out["refused"]) == (1, 1), out
    item = [i for i in out["items"] if i["state"] == "refused"][0]
    assert item["id"] == root_sha
    assert item["detail"] == (
        "certificate 2 (subject %s, SHA-256 %s) is self-signed: a root is "
        "not an intermediate; to trust it, add it to the trust directory %s "
        "(see docs/ek-certificates.md, \"When the root is unknown\")"
        % (item["subject"], root_sha, os.path.realpath(latchd.trust)))
    assert "Infineon" in item["subject"]

    listing = latchd.json("trust", "list")
    assert root_sha not in {i["sha256"] for i in listing["intermediates"]}
    assert root_sha not in {i["sha256"] for i in listing["pinned"]}
    # The human form names the file first, as the other refusals do.
    res = latchd.run("trust", "import-intermediates", root)
    assert res.returncode == 1
    assert "%s: certificate 1 (subject " % root in res.stdout, res.stdout
    assert "is self-signed: a root is not an intermediate" in res.stdout


def test_trust_import_handles_every_input_then_exits_4(ek_latchd, tmp_path):
    """An unreadable input (missing file, FIFO, dangling symlink) does not
    stop the import: every input is handled and reported, the trust.import
    audit row counts what was stored, and the verb exits 4, the worst code
    (docs/operations.md, "Exit codes")."""
    latchd = ek_latchd
    stm = os.path.join(INTER, "STMicro")
    good = [os.path.join(stm, "STM_TPM_ECC384_Intermediate_CA_01.der"),
            os.path.join(stm, "STM_TPM_ECC384_Intermediate_CA_02.der")]
    missing = str(tmp_path / "missing.pem")
    fifo = str(tmp_path / "fifo.pem")
    os.mkfifo(fifo)
    dangling = str(tmp_path / "dangling.pem")
    os.symlink(str(tmp_path / "nowhere"), dangling)
    inputs = [good[0], missing, fifo, dangling, good[1]]

    res = latchd.run("--json", "trust", "import-intermediates", *inputs)
    assert res.returncode == 4, (res.returncode, res.stdout, res.stderr)
    out = json.loads(res.stdout)
    assert (out["stored"], out["unreadable"]) == (2, 3), out
    bad = [i for i in out["items"] if i["state"] == "unreadable"]
    assert [i["file"] for i in bad] == [missing, fifo, dangling]
    assert "No such file" in bad[0]["detail"]
    assert "not a regular file" in bad[1]["detail"]
    listing = latchd.json("trust", "list")
    shas = {i["sha256"] for i in listing["intermediates"]}
    for g in good:
        assert hashlib.sha256(open(g, "rb").read()).hexdigest() in shas
    rows = latchd.sql("SELECT details FROM audit_log WHERE action = "
                      "'trust.import' ORDER BY seq")
    assert len(rows) == 1
    details = json.loads(rows[0][0])
    assert (details["stored"], details["unreadable"]) == (2, 3), details

    # The human form: each unreadable input on stderr, the rest on stdout.
    res = latchd.run("trust", "import-intermediates", *inputs)
    assert res.returncode == 4, (res.returncode, res.stdout, res.stderr)
    for p in (missing, fifo, dangling):
        assert "latchd: %s: " % p in res.stderr, res.stderr
    assert res.stdout.count("already cached") == 3, res.stdout
    assert "0 stored, 2 already cached, 0 skipped, 0 refused, " \
        "3 unreadable" in res.stdout
    assert len(latchd.sql("SELECT seq FROM audit_log WHERE action = "
                          "'trust.import'")) == 2
