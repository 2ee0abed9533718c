# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The device side end to end on software TPMs: `latch enroll`, a license
made the server's way (EK key from the EK certificate, AK name from the AK
public area, software MakeCredential, signature), `latch activate`,
`latch check`, `latch status` and the liblatch API, against swtpm boards
with EK certificates from a test vendor CA. Every refusal leaves the
installed license byte for byte as it was.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from fixtures_device import EXIT
from fixtures_paths import device_cmd

EK_TEMPLATES = ["rsa2048", "ecc-p256", "ecc-p384"]

FEATURES = [
    "--feature", "base",
    "--feature", "seats=16",
    "--disabled", "beta",
    "--feature", "old@-60",
    "--feature", "trial=3@+86400",
]


def tpm_leftovers(board):
    """Transient objects and sessions still loaded in the board's TPM."""
    env = dict(os.environ, TPM2TOOLS_TCTI=board.tcti, TSS2_LOG="all+none")
    out = []
    for what in ("handles-transient", "handles-loaded-session"):
        res = subprocess.run(
            ["tpm2_getcap", what], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, check=True, timeout=30,
        )
        out.extend(line for line in res.stdout.splitlines() if line.strip())
    return out


def enrolled(dev, tmp_path, name="enr", *args):
    path = str(tmp_path / (name + ".json"))
    return dev.enroll(path, *args)


def activated(dev, issue, tmp_path, *args, ek="ecc-p256"):
    enr = enrolled(dev, tmp_path, "enr-" + os.path.basename(dev.state),
                   "--ek", ek)
    lic = issue(enr, *FEATURES, *args)
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    return enr, lic


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --- the happy path, per EK type -------------------------------------------


@pytest.mark.parametrize("ek", EK_TEMPLATES)
def test_enroll_license_activate_check_per_ek_type(ek, device, issue,
                                                    tmp_path):
    dev = device()
    enr = enrolled(dev, tmp_path, "enr", "--ek", ek, "--label", "rack 7")

    doc = load_json(enr)
    ident = doc["identity"]
    assert doc["format"] == "latch.enrollment.v1"
    assert ident["ek_template"] == ek
    assert base64.b64decode(ident["ek_certificate"]) == dev.board.ek_cert(ek)
    assert doc["device"]["label"] == "rack 7"
    assert ident["tpm"]["manufacturer"] == "IBM"
    assert tpm_leftovers(dev.board) == []

    lic = issue(enr, *FEATURES, "--serial", "5")
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    assert "seats: enabled, quantity 16" in res.stdout
    with open(lic, "rb") as f:
        assert dev.installed() == f.read()

    assert dev.latch("check", "base").returncode == EXIT["ok"]
    q = dev.latch("check", "seats", "--quantity")
    assert (q.returncode, q.stdout) == (EXIT["ok"], "16\n")
    assert dev.latch("check", "trial").returncode == EXIT["ok"]
    beta = dev.latch("check", "beta")
    assert beta.returncode == EXIT["not_found"]
    assert "disabled" in beta.stderr
    old = dev.latch("check", "old")
    assert old.returncode == EXIT["validity"]
    assert "expired" in old.stderr
    assert dev.latch("check", "absent").returncode == EXIT["not_found"]
    noq = dev.latch("check", "base", "--quantity")
    assert noq.returncode == EXIT["not_found"]
    assert "no quantity" in noq.stderr
    assert tpm_leftovers(dev.board) == []


def test_enroll_again_reuses_the_ak_and_writes_the_same_enrollment(
    device, tmp_path
):
    dev = device()
    first = enrolled(dev, tmp_path, "first", "--label", "x")
    second = enrolled(dev, tmp_path, "second", "--label", "x")
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()
    res = dev.latch("enroll", "-o", str(tmp_path / "third.json"), "--ek",
                    "rsa2048")
    assert res.returncode == EXIT["usage"]
    assert "--rotate" in res.stderr


def test_enroll_auto_prefers_the_p256_ek_and_keeps_blobs_private(
    device, tmp_path
):
    dev = device()
    enr = load_json(enrolled(dev, tmp_path))
    assert enr["identity"]["ek_template"] == "ecc-p256"
    for name in ("ak.pub", "ak.priv", "ak.json"):
        mode = os.stat(os.path.join(dev.state, name)).st_mode & 0o777
        assert mode == 0o600, name


def test_enroll_auto_takes_p384_before_rsa_when_p256_is_not_certified(
    device, issue, tmp_path
):
    """--ek auto tries ecc-p256, ecc-p384, rsa2048, by EK certificate."""
    dev = device()
    dev.board.nv_undefine(0x01C0000A)
    enr = enrolled(dev, tmp_path, "p384")
    assert load_json(enr)["identity"]["ek_template"] == "ecc-p384"
    assert dev.latch("activate", issue(enr, "--feature", "base")
                     ).returncode == EXIT["ok"]

    other = device()
    other.board.nv_undefine(0x01C0000A)
    other.board.nv_undefine(0x01C00016)
    enr = enrolled(other, tmp_path, "rsa")
    assert load_json(enr)["identity"]["ek_template"] == "rsa2048"

    none = device()
    for index in (0x01C0000A, 0x01C00016, 0x01C00002):
        none.board.nv_undefine(index)
    res = none.latch("enroll", "-o", str(tmp_path / "none.json"))
    assert res.returncode == EXIT["not_found"], res.stderr
    assert "no EK certificate" in res.stderr


def test_status_reports_license_features_and_a_fresh_proof(device, issue,
                                                           tmp_path):
    dev = device()
    activated(dev, issue, tmp_path, "--serial", "3")
    res = dev.latch("status", "--json")
    assert res.returncode == EXIT["ok"], res.stderr
    st = json.loads(res.stdout)
    assert st["installed"] is True and st["valid"] is True
    assert st["serial"] == 3
    assert st["proof"] == {"ok": True, "ak": "active"}
    assert st["features"]["seats"] == {
        "enabled": True, "usable": True, "quantity": 16}
    assert st["features"]["old"]["usable"] is False

    # The proof is fresh: with the TPM gone, status says so.
    dev.board.stop()
    res = dev.latch("status", "--json")
    assert res.returncode == EXIT["tpm"]
    assert json.loads(res.stdout)["proof"]["ok"] is False


def test_status_without_a_license_is_not_found(device):
    dev = device()
    res = dev.latch("status")
    assert res.returncode == EXIT["not_found"]
    assert "no license installed" in res.stderr


def test_runtime_api_example_gates_features(device, issue, tmp_path):
    dev = device()
    activated(dev, issue, tmp_path)
    res = dev.example("seats")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "seats: licensed, quantity 16" in res.stdout
    res = dev.example("trial")
    assert res.returncode == 0 and ", until " in res.stdout
    assert dev.example("beta").returncode == 1
    assert dev.example("old").returncode == 1
    dev.board.stop()
    res = dev.example("seats")
    assert res.returncode == 1
    assert "TPM" in res.stdout


# --- not this device ---------------------------------------------------------


def test_board_b_refuses_board_a_license(device, issue, tmp_path):
    a = device()
    b = device()
    _, lic = activated(a, issue, tmp_path)
    enrolled(b, tmp_path, "enr-b")
    res = b.latch("activate", lic)
    assert res.returncode == EXIT["not_device"]
    assert "not for this TPM" in res.stderr
    assert b.installed() is None
    assert tpm_leftovers(b.board) == []


def test_copy_of_a_state_directory_on_b_still_refuses(device, issue,
                                                      tmp_path):
    a = device()
    b = device()
    enr_a, lic_a = activated(a, issue, tmp_path)
    enr_b = enrolled(b, tmp_path, "enr-b")
    shutil.rmtree(b.state)
    shutil.copytree(a.state, b.state)

    for verb in (("status",), ("check", "base"), ("activate", lic_a)):
        res = b.latch(*verb)
        assert res.returncode == EXIT["not_device"], (verb, res.stderr)

    # A license naming B's EK and the copied AK gets past the identity
    # checks: B's TPM itself refuses to load A's AK blob.
    forged = issue(enr_b, "--ak-from", enr_a, "--feature", "base",
                   "--serial", "9")
    before = b.installed()
    res = b.latch("activate", forged)
    assert res.returncode == EXIT["not_device"]
    assert "does not load" in res.stderr
    assert b.installed() == before
    assert tpm_leftovers(b.board) == []


def test_a_ek_with_b_ak_activates_on_neither(device, issue, tmp_path):
    a = device()
    b = device()
    enr_a = enrolled(a, tmp_path, "enr-a")
    enr_b = enrolled(b, tmp_path, "enr-b")
    mixed = issue(enr_a, "--ak-from", enr_b, "--feature", "base")
    assert a.latch("activate", mixed).returncode == EXIT["not_device"]
    assert b.latch("activate", mixed).returncode == EXIT["not_device"]

    # Even with B's AK blob copied into A's state directory (so every
    # name matches), A's TPM cannot load it.
    for name in ("ak.pub", "ak.priv", "ak.json"):
        shutil.copy(os.path.join(b.state, name), os.path.join(a.state, name))
    res = a.latch("activate", mixed)
    assert res.returncode == EXIT["not_device"]
    assert a.installed() is None and b.installed() is None


# --- refused licenses leave the installed one untouched ----------------------


def test_lower_serial_is_refused_equal_and_higher_accepted(device, issue,
                                                          tmp_path):
    dev = device()
    enr, lic5 = activated(dev, issue, tmp_path, "--serial", "5")
    before = dev.installed()
    lic4 = issue(enr, "--feature", "everything", "--serial", "4")
    res = dev.latch("activate", lic4)
    assert res.returncode == EXIT["rollback"]
    assert "serial: 4 is lower" in res.stderr
    assert dev.installed() == before
    assert dev.latch("check", "everything").returncode == EXIT["not_found"]

    assert dev.latch("activate", lic5).returncode == EXIT["ok"]
    lic6 = issue(enr, "--feature", "everything", "--serial", "6")
    assert dev.latch("activate", lic6).returncode == EXIT["ok"]
    assert dev.latch("check", "everything").returncode == EXIT["ok"]


@pytest.mark.parametrize(
    "dates,word",
    [
        (("--valid-from", "-7200", "--valid-until", "-60"), "expired"),
        (("--valid-from", "+3600"), "not valid before"),
    ],
)
def test_expired_and_not_yet_valid_licenses_are_refused(
    dates, word, device, issue, tmp_path
):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path)
    before = dev.installed()
    lic = issue(enr, "--feature", "base", "--serial", "2", *dates)
    res = dev.latch("activate", lic)
    assert res.returncode == EXIT["validity"]
    assert word in res.stderr
    assert dev.installed() == before


@pytest.mark.parametrize("ek", ["rsa2048", "ecc-p256"])
@pytest.mark.parametrize("part", ["blob", "secret", "digest"])
def test_corrupted_credential_or_digest_is_refused(part, ek, device, issue,
                                                   tmp_path):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path, ek=ek)
    before = dev.installed()
    lic = issue(enr, "--feature", "base", "--serial", "2", "--corrupt", part)
    res = dev.latch("activate", lic)
    assert res.returncode == EXIT["not_device"], res.stderr
    assert "not for this TPM" in res.stderr
    assert dev.installed() == before
    assert tpm_leftovers(dev.board) == []


def test_license_from_another_root_is_refused(device, issue, make_pki,
                                              tmp_path):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path)
    before = dev.installed()
    other = make_pki("other-root")
    lic = issue(enr, "--feature", "base", "--serial", "2", pki=other)
    assert dev.latch("activate", lic).returncode == EXIT["signature"]
    assert dev.installed() == before


# --- AK rotation and persistence -------------------------------------------


def test_ak_rotation(device, issue, tmp_path):
    dev = device()
    enr1, _ = activated(dev, issue, tmp_path, "--serial", "1")
    ak1 = load_json(enr1)["identity"]["ak_name"]

    enr2 = enrolled(dev, tmp_path, "rotated", "--rotate")
    ak2 = load_json(enr2)["identity"]["ak_name"]
    assert ak2 != ak1
    assert os.path.exists(os.path.join(dev.state, "ak-pending.pub"))
    # Running it again gives the same pending enrollment.
    again = enrolled(dev, tmp_path, "rotated-again", "--rotate")
    assert load_json(again)["identity"]["ak_name"] == ak2
    # The old AK keeps working until a license for the new one arrives.
    assert dev.latch("check", "base").returncode == EXIT["ok"]

    lic2 = issue(enr2, "--feature", "rotated", "--serial", "2")
    res = dev.latch("activate", lic2)
    assert res.returncode == EXIT["ok"], res.stderr
    assert not os.path.exists(os.path.join(dev.state, "ak-pending.pub"))
    assert dev.latch("check", "rotated").returncode == EXIT["ok"]
    st = json.loads(dev.latch("status", "--json").stdout)
    assert st["proof"] == {"ok": True, "ak": "active"}

    # The old AK is gone: even a newer license for it no longer activates.
    lic_old = issue(enr1, "--feature", "base", "--serial", "3")
    before = dev.installed()
    res = dev.latch("activate", lic_old)
    assert res.returncode == EXIT["not_device"]
    assert "ak_name" in res.stderr
    assert dev.installed() == before
    assert load_json(enrolled(dev, tmp_path, "after"))["identity"][
        "ak_name"] == ak2


def test_persistent_ak_survives_a_lost_state_directory(device, issue,
                                                       tmp_path):
    dev = device()
    enr = enrolled(dev, tmp_path, "enr", "--persist-ak")
    meta = load_json(os.path.join(dev.state, "ak.json"))
    assert meta["persistent_handle"].startswith("0x81000a")
    lic = issue(enr, "--feature", "base")
    assert dev.latch("activate", lic).returncode == EXIT["ok"]

    # A rewritten root file system: the whole state directory is gone.
    shutil.rmtree(dev.state)
    assert dev.latch("check", "base").returncode == EXIT["not_found"]
    res = dev.latch("activate", lic)
    assert res.returncode == EXIT["ok"], res.stderr
    assert dev.latch("check", "base").returncode == EXIT["ok"]
    st = json.loads(dev.latch("status", "--json").stdout)
    assert st["proof"]["ok"] is True


# --- the TPM goes away ------------------------------------------------------


def test_no_tpm_gives_a_clear_error_and_keeps_the_license(device, issue,
                                                          tmp_path):
    dev = device()
    enr, lic = activated(dev, issue, tmp_path)
    before = dev.installed()
    bad = "swtpm:path=" + str(tmp_path / "no-such.sock")
    lic2 = issue(enr, "--feature", "more", "--serial", "2")
    for verb in (("activate", lic2), ("enroll", "-o",
                                      str(tmp_path / "x.json")),
                 ("status",), ("check", "base")):
        res = dev.latch(*verb, tcti=bad)
        assert res.returncode == EXIT["tpm"], (verb, res.stderr)
        assert "TPM unavailable" in res.stderr
    assert dev.installed() == before


def test_tpm_stopped_between_enroll_and_activate(device, issue, tmp_path):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path)
    before = dev.installed()
    lic2 = issue(enr, "--feature", "more", "--serial", "2")
    dev.board.stop()
    res = dev.latch("activate", lic2)
    assert res.returncode == EXIT["tpm"]
    assert dev.installed() == before
    dev.board.start()
    assert dev.latch("activate", lic2).returncode == EXIT["ok"]


def test_tpm_killed_during_activate_installs_all_or_nothing(device, issue,
                                                            tmp_path):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path)
    t0 = time.monotonic()
    assert dev.latch("status").returncode == EXIT["ok"]
    took = time.monotonic() - t0
    outcomes = []
    for i in range(18):
        before = dev.installed()
        lic = issue(enr, "--feature", "f%d" % i, "--serial", str(10 + i))
        with open(lic, "rb") as f:
            new = f.read()
        # SIGKILL straight from here: a power cut at moments spread over
        # (and past) the time one activation takes.
        killer = threading.Timer(took * i / 12, os.kill,
                                 (dev.board.pid, signal.SIGKILL))
        killer.start()
        res = dev.latch("activate", lic)
        killer.join()
        assert res.returncode in (EXIT["ok"], EXIT["tpm"]), (i, res.stderr)
        if res.returncode == EXIT["ok"]:
            assert dev.installed() == new
        else:
            assert dev.installed() == before
            assert "TPM" in res.stderr
        outcomes.append(res.returncode)
        dev.board.kill()
        dev.board.start()
    assert EXIT["tpm"] in outcomes, outcomes
    # Which late kills still land depends on the machine's load; one
    # activation without a kill must succeed after all those power cuts.
    lic = issue(enr, "--feature", "after", "--serial", "100")
    res = dev.latch("activate", lic)
    assert res.returncode == EXIT["ok"], (outcomes, res.stderr)
    with open(lic, "rb") as f:
        assert dev.installed() == f.read()


# --- the TPM bus (security-threats D36) --------------------------------------


@pytest.mark.parametrize("ek", EK_TEMPLATES)
def test_activation_secret_never_crosses_the_bus_in_clear(ek, device, issue,
                                                          tmp_path):
    """Every TPM command and response of `latch activate` is captured with
    tpm2-tss's pcap TCTI: the AK public area (sent in clear to TPM2_Load)
    is in the capture, the credential blob and the recovered secret are
    not, because ActivateCredential runs in a session salted to the EK
    with parameter encryption both ways."""
    dev = device()
    enr = enrolled(dev, tmp_path, "enr", "--ek", ek)
    secret_file = str(tmp_path / "secret.bin")
    lic = issue(enr, "--feature", "base", "--secret-out", secret_file)
    capture = str(tmp_path / "bus.pcap")
    res = subprocess.run(
        device_cmd(dev.build.latch, "activate", "--tcti", "pcap:" + dev.tcti,
                   "--state-dir", dev.state, lic),
        env=dict(os.environ, TCTI_PCAP_FILE=capture),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60, check=False,
    )
    assert res.returncode == EXIT["ok"], res.stderr
    with open(capture, "rb") as f:
        bus = f.read()
    with open(secret_file, "rb") as f:
        secret = f.read()
    activation = load_json(lic)["license"]["binding"]["activation"]
    blob = base64.b64decode(activation["credential_blob"])
    ak_public = base64.b64decode(load_json(enr)["identity"]["ak_public"])
    assert len(secret) == 32
    assert ak_public[2:] in bus
    assert secret not in bus
    assert blob[2:] not in bus


# --- bad input and damaged state ---------------------------------------------


def test_unreadable_or_malformed_license_files(device, issue, tmp_path):
    dev = device()
    enr, _ = activated(dev, issue, tmp_path)
    before = dev.installed()
    res = dev.latch("activate", str(tmp_path / "missing.json"))
    assert res.returncode == EXIT["io"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "latch.license.v1", "format": 1}')
    res = dev.latch("activate", str(bad))
    assert res.returncode == EXIT["format"]
    assert dev.installed() == before
    assert dev.latch("activate").returncode == EXIT["usage"]


def test_damaged_ak_state_is_reported_not_silently_replaced(device,
                                                            tmp_path):
    dev = device()
    first = load_json(enrolled(dev, tmp_path, "first"))
    meta = os.path.join(dev.state, "ak.json")
    with open(meta, "w", encoding="utf-8") as f:
        f.write("{ not json")
    res = dev.latch("enroll", "-o", str(tmp_path / "second.json"))
    assert res.returncode == EXIT["format"]
    assert "AK state" in res.stderr
    with open(os.path.join(dev.state, "ak.pub"), "rb") as f:
        pub = f.read()
    assert base64.b64decode(first["identity"]["ak_public"]) == pub


def test_enroll_reads_ek_chain_certificates_larger_than_one_nv_read(
    device, tmp_path
):
    """swtpm reads at most 1024 bytes per TPM2_NV_Read: a 1.8 KB chain
    certificate at the TCG EK chain index comes back whole."""
    dev = device()
    der = str(tmp_path / "chain.der")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         str(tmp_path / "chain.key"), "-subj", "/CN=EK chain test",
         "-addext", "nsComment=" + "x" * 1400, "-outform", "DER",
         "-out", der],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with open(der, "rb") as f:
        chain = f.read()
    assert len(chain) > 1024
    dev.board.nv_write(0x01C00100, chain)
    ident = load_json(enrolled(dev, tmp_path))["identity"]
    assert [base64.b64decode(c) for c in ident["ek_intermediates"]] == [chain]
    assert tpm_leftovers(dev.board) == []


def test_ek_nonce_index_is_honoured_and_a_mismatch_with_the_cert_refused(
    device, tmp_path
):
    """With an EK nonce at 0x01c0000b the P-256 EK is made with it as its
    unique field, so it no longer equals the key certified at provisioning
    (made without one): enrollment must refuse rather than enroll an EK
    the certificate does not vouch for."""
    dev = device()
    dev.board.nv_write(0x01C0000B, b"latch-nonce-test")
    res = dev.latch("enroll", "-o", str(tmp_path / "e.json"), "--ek",
                    "ecc-p256")
    assert res.returncode == 1, res.stderr
    assert "does not match the key in the EK certificate" in res.stderr
    assert not os.path.exists(os.path.join(dev.state, "ak.pub"))
    # The RSA EK has no nonce: it still enrolls.
    enrolled(dev, tmp_path, "rsa", "--ek", "rsa2048")


# --- power cuts and the TPM's dictionary-attack protection -------------------


def da_state(board):
    """(TPM2_PT_LOCKOUT_COUNTER, inLockout) read with tpm2_getcap."""
    env = dict(os.environ, TPM2TOOLS_TCTI=board.tcti, TSS2_LOG="all+none")
    res = subprocess.run(
        ["tpm2_getcap", "properties-variable"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        check=True, timeout=30,
    )
    counter = lockout = None
    for line in res.stdout.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "TPM2_PT_LOCKOUT_COUNTER":
            counter = int(value.strip(), 0)
        elif key == "inLockout":
            lockout = int(value.strip(), 0)
    assert counter is not None and lockout is not None, res.stdout
    return counter, lockout


@pytest.mark.parametrize("ek", EK_TEMPLATES)
def test_power_cuts_after_proofs_never_count_as_dictionary_attacks(
    ek, device, issue, tmp_path
):
    """Every proof authorizes the EK. A power cut (no TPM2_Shutdown) after
    DA-protected authorization adds a failure at the next boot, and swtpm
    locks out after 3. The EK must be authorized in a way the TPM does not
    count (PolicySecret(endorsement), for P-384 with PolicyOR into the TCG
    PolicyB), so the lockout counter stays 0 however often power is cut
    after activation and proofs."""
    dev = device()
    activated(dev, issue, tmp_path, ek=ek)
    seen = []
    for i in range(4):
        dev.board.kill()
        dev.board.start()
        seen.append(da_state(dev.board))
        res = dev.latch("status")
        assert res.returncode == EXIT["ok"], (i, seen, res.stderr)
    dev.board.kill()
    dev.board.start()
    seen.append(da_state(dev.board))
    assert seen == [(0, 0)] * 5, seen
    assert tpm_leftovers(dev.board) == []
