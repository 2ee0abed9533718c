# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The device side as aarch64 code: the cross-built `latch` runs under
qemu-aarch64 against swtpm boards on this host (unix-socket TCTIs), while
the licenses come from the x86-64 side (tests/tools/mkdevlicense, the
server's issuing code in-process) and the native x86-64 `latch` reads the
same state directory, so both architectures share one file format.

Runs only when scripts/check-arm64.sh sets LATCH_DEVICE_ARCH (see
fixtures_paths.py); in the plain e2e suite every test here is skipped.
"""
import base64
import json
import os
import re
import shutil
import subprocess

import pytest

from fixtures_paths import (
    DEVICE_ARCH,
    DEVICE_EXEC,
    REPO,
    build_path,
    device_cmd,
    device_make_args,
    device_path,
)

pytestmark = pytest.mark.skipif(
    not DEVICE_ARCH,
    reason="the cross-built device side runs only from scripts/check-arm64.sh",
)

MKDEVLICENSE = build_path("tests", "tools", "mkdevlicense")

# cli/cli.h: documented exit codes of `latch`.
EXIT_NOT_DEVICE = 6
EXIT_ROLLBACK = 9
EXIT_NOT_FOUND = 10


def run(args, **kw):
    return subprocess.run(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        **kw,
    )


def must(args, **kw):
    res = run(args, **kw)
    assert res.returncode == 0, "%s -> %d\n%s%s" % (
        " ".join(args), res.returncode, res.stdout, res.stderr)
    return res


def license_signing_eku():
    with open(os.path.join(REPO, "lib", "license.h")) as f:
        text = f.read()
    m = re.search(
        r'#define LATCH_EKU_LICENSE_SIGNING_OID\s*\\?\s*"([0-9.]+)"', text
    )
    assert m, "LATCH_EKU_LICENSE_SIGNING_OID not found in lib/license.h"
    return m.group(1)


@pytest.fixture(scope="module")
def arm64_pki(tmp_path_factory):
    """A license root and a signing certificate with the latch profile."""
    d = str(tmp_path_factory.mktemp("arm64-pki"))
    p = {k: os.path.join(d, k) for k in
         ("root.key", "root.pem", "sign.key", "sign.csr", "sign.pem",
          "sign.ext")}
    must(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", p["root.key"],
          "-out", p["root.pem"], "-days", "30",
          "-subj", "/CN=latch arm64 e2e root",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    must(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", p["sign.key"],
          "-out", p["sign.csr"], "-subj", "/CN=latch arm64 e2e signing"])
    with open(p["sign.ext"], "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=%s\n" % license_signing_eku())
    must(["openssl", "x509", "-req", "-in", p["sign.csr"],
          "-CA", p["root.pem"], "-CAkey", p["root.key"], "-CAcreateserial",
          "-out", p["sign.pem"], "-days", "30", "-extfile", p["sign.ext"]])
    return p


@pytest.fixture(scope="module")
def latch_bins(arm64_pki, tmp_path_factory):
    """The aarch64 and x86-64 `latch`, relinked to trust arm64_pki's root."""
    d = str(tmp_path_factory.mktemp("arm64-bins"))
    arm, x86 = os.path.join(d, "arm64"), os.path.join(d, "x86")
    must(["make", "--no-print-directory", "-C", REPO, "relink",
          *device_make_args(), "OUT=" + arm,
          "LATCH_ROOT_CA=" + arm64_pki["root.pem"]])
    must(["make", "--no-print-directory", "-C", REPO, "relink",
          "BUILD=" + build_path(), "OUT=" + x86,
          "LATCH_ROOT_CA=" + arm64_pki["root.pem"]])
    arm_latch = os.path.join(arm, "latch")
    kind = must(["file", "-b", arm_latch]).stdout
    assert "ARM aarch64" in kind, kind
    assert DEVICE_EXEC, "no emulator prefix for a foreign device build"
    return {
        "arm64": arm_latch,
        "x86": os.path.join(x86, "latch"),
        # The example links liblatch.so (RUNPATH $ORIGIN/..): run the cross
        # build's example with the relinked aarch64 liblatch.so first.
        "example": device_path("examples", "feature_gate"),
        "arm64_libdir": arm,
    }


class Device:
    """One board with its own state directory, driven by the aarch64
    `latch` under qemu (or the native one, for the interop checks)."""

    def __init__(self, board, state, bins):
        self.board = board
        self.state = state
        self.bins = bins

    def latch(self, *args, native=False):
        common = ["--tcti", self.board.tcti, "--state-dir", self.state]
        if native:
            return run([self.bins["x86"], args[0], *common, *args[1:]])
        return run(device_cmd(self.bins["arm64"], args[0], *common,
                              *args[1:]))

    def feature_gate(self, feature):
        """The example application, on the aarch64 liblatch.so."""
        env = dict(os.environ, LD_LIBRARY_PATH=self.bins["arm64_libdir"])
        return run(device_cmd(self.bins["example"], feature, self.board.tcti,
                              self.state), env=env)

    def status(self, native=False):
        res = self.latch("status", "--json", native=native)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)


@pytest.fixture
def arm64_device(board, latch_bins, tmp_path):
    n = [0]

    def make(state=None):
        n[0] += 1
        if state is None:
            state = str(tmp_path / ("state%d" % n[0]))
        return Device(board(), state, latch_bins)

    return make


def issue(pki, enrollment, out, serial, *features):
    """The x86-64 issuer: a license for the enrollment, signed."""
    args = [MKDEVLICENSE, "-e", enrollment, "-k", pki["sign.key"],
            "-c", pki["sign.pem"], "-o", out, "--serial", str(serial)]
    for f in features:
        args += ["--feature", f]
    must(args)
    return out


def enroll(dev, tmp_path, name="enrollment.json"):
    out = str(tmp_path / name)
    res = dev.latch("enroll", "-o", out)
    assert res.returncode == 0, res.stderr
    return out


def test_aarch64_enroll_reads_this_boards_ek_certificate(
    arm64_device, tmp_path
):
    dev = arm64_device()
    path = enroll(dev, tmp_path)
    with open(path) as f:
        doc = json.load(f)
    assert doc["format"] == "latch.enrollment.v1"
    ident = doc["identity"]
    assert ident["ek_template"] == "ecc-p256"
    assert base64.b64decode(ident["ek_certificate"]) == dev.board.ek_cert(
        "ecc-p256")
    assert re.fullmatch(r"000b[0-9a-f]{64}", ident["ak_name"])
    # The AK blobs the aarch64 build wrote stay in its state directory.
    assert os.listdir(dev.state)


def test_aarch64_activates_x86_issued_license_and_x86_reads_it(
    arm64_device, arm64_pki, tmp_path
):
    dev = arm64_device()
    lic = issue(arm64_pki, enroll(dev, tmp_path), str(tmp_path / "lic.json"),
                3, "pro", "seats=16")
    res = dev.latch("activate", lic)
    assert res.returncode == 0, res.stderr
    assert "serial 3" in res.stdout

    assert dev.latch("check", "pro").returncode == 0
    seats = dev.latch("check", "seats", "--quantity")
    assert (seats.returncode, seats.stdout) == (0, "16\n"), seats
    assert dev.latch("check", "absent").returncode == EXIT_NOT_FOUND
    gate = dev.feature_gate("seats")
    assert gate.returncode == 0, gate.stderr
    assert gate.stdout == "seats: licensed, quantity 16\n"
    assert dev.feature_gate("absent").returncode == 1

    for native in (False, True):
        st = dev.status(native=native)
        assert st["serial"] == 3
        assert st["proof"]["ok"] is True, st
        assert st["features"]["pro"]["enabled"] is True, st
    # And the other way: an x86-64 activation the aarch64 build trusts.
    assert dev.latch("activate", lic, native=True).returncode == 0
    assert dev.status()["proof"]["ok"] is True


def test_aarch64_refuses_a_cloned_state_on_another_board(
    arm64_device, arm64_pki, tmp_path
):
    genuine = arm64_device()
    lic = issue(arm64_pki, enroll(genuine, tmp_path),
                str(tmp_path / "lic.json"), 1, "pro")
    assert genuine.latch("activate", lic).returncode == 0

    clone_state = str(tmp_path / "clone-state")
    shutil.copytree(genuine.state, clone_state)
    clone = arm64_device(state=clone_state)

    res = clone.latch("activate", lic)
    assert res.returncode == EXIT_NOT_DEVICE, (res.returncode, res.stderr)
    assert "not for this TPM" in res.stderr
    # The copied license file proves nothing on the other TPM either.
    assert clone.latch("check", "pro").returncode != 0
    st = clone.latch("status", "--json")
    assert st.returncode != 0 or json.loads(st.stdout)["proof"]["ok"] is False
    # The genuine board is unaffected.
    assert genuine.latch("check", "pro").returncode == 0


def test_aarch64_refuses_a_lower_serial_and_keeps_the_installed_one(
    arm64_device, arm64_pki, tmp_path
):
    dev = arm64_device()
    enr = enroll(dev, tmp_path)
    newer = issue(arm64_pki, enr, str(tmp_path / "lic5.json"), 5, "pro",
                  "seats=8")
    older = issue(arm64_pki, enr, str(tmp_path / "lic4.json"), 4, "pro",
                  "seats=64")
    assert dev.latch("activate", newer).returncode == 0

    res = dev.latch("activate", older)
    assert res.returncode == EXIT_ROLLBACK, (res.returncode, res.stderr)
    assert "serial" in res.stderr and "4" in res.stderr
    st = dev.status()
    assert st["serial"] == 5
    assert dev.latch("check", "seats", "--quantity").stdout == "8\n"
