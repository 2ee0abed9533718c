# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Software TPM boards (swtpm) with EK certificates from a test vendor CA.

`vendor_ca` makes one throwaway TPM-vendor PKI per session; `board` is a
factory: board() provisions a fresh swtpm board, starts it and returns a
Board; every board is stopped by its pid at teardown, also on failure.
Everything goes through scripts/board.sh, the same script the demo uses.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from fixtures_paths import REPO

BOARD_SH = os.path.join(REPO, "scripts", "board.sh")

# EK certificate files swtpm_setup (and our manufacturing step) leave in
# DIR/certs, by latch EK template name.
EK_CERT_FILES = {
    "rsa2048": "ek-rsa2048.crt",
    "ecc-p256": "ek-secp256r1.crt",
    "ecc-p384": "ek-secp384r1.crt",
}


def _board_sh(*args):
    res = subprocess.run(
        [BOARD_SH, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(
            "board.sh %s failed (%d): %s"
            % (" ".join(args), res.returncode, res.stderr.strip())
        )
    return res.stdout.strip()


def _short_tmpdir(prefix):
    # Unix socket paths are limited to 108 bytes: stay short, under /tmp.
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


class VendorCA:
    """The test TPM vendor PKI (ECDSA P-384 root + issuing CA)."""

    def __init__(self, path):
        self.path = path
        self.root_pem = os.path.join(path, "root.pem")
        self.issuer_pem = os.path.join(path, "issuercert.pem")


class Board:
    """One swtpm board: its directory, TCTI string and EK certificates."""

    def __init__(self, path, ca):
        self.path = path
        self.ca = ca
        self.tcti = "swtpm:path=" + os.path.join(path, "tpm.sock")

    @property
    def pid(self):
        try:
            with open(os.path.join(self.path, "swtpm.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    @property
    def running(self):
        pid = self.pid
        if pid is None:
            return False
        res = subprocess.run(
            ["ps", "-o", "stat=", "-p", str(pid)],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        stat = res.stdout.strip()
        return stat != "" and not stat.startswith("Z")

    def start(self):
        self.tcti = _board_sh("start", self.path)
        return self.tcti

    def stop(self):
        """Orderly: TPM2_Shutdown, then the process ends."""
        _board_sh("stop", self.path)

    def kill(self):
        """A power cut: SIGKILL, no TPM2_Shutdown."""
        _board_sh("kill", self.path)

    def nv_write(self, index, data):
        """Defines NV index (platform-created, owner/auth readable, like
        the TCG certificate indices), writes data and write-locks it."""
        path = os.path.join(self.path, "nv-%08x.bin" % index)
        with open(path, "wb") as f:
            f.write(data)
        env = dict(os.environ, TPM2TOOLS_TCTI=self.tcti, TSS2_LOG="all+none")
        attrs = ("ppwrite|ppread|ownerread|authread|no_da|platformcreate"
                 "|writedefine")
        for args in (
            ["tpm2_nvdefine", "0x%08x" % index, "-C", "p", "-s",
             str(len(data)), "-a", attrs],
            ["tpm2_nvwrite", "0x%08x" % index, "-C", "p", "-i", path],
            ["tpm2_nvwritelock", "0x%08x" % index, "-C", "p"],
        ):
            subprocess.run(args, env=env, check=True, timeout=60,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)

    def nv_undefine(self, index):
        """Removes NV index (platform authorization), e.g. an EK
        certificate index, as on a TPM provisioned without it."""
        env = dict(os.environ, TPM2TOOLS_TCTI=self.tcti, TSS2_LOG="all+none")
        subprocess.run(["tpm2_nvundefine", "0x%08x" % index, "-C", "p"],
                       env=env, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ek_cert(self, template):
        """DER bytes of the EK certificate for "rsa2048" etc."""
        with open(
            os.path.join(self.path, "certs", EK_CERT_FILES[template]), "rb"
        ) as f:
            return f.read()

    def __repr__(self):
        return "Board(%s)" % self.path


@pytest.fixture(scope="session")
def vendor_ca():
    path = _short_tmpdir("latch-ca-")
    try:
        _board_sh("ca", path)
        yield VendorCA(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def board(vendor_ca):
    """Factory: board(start=True) -> a freshly provisioned Board."""
    made = []

    def make(start=True):
        path = _short_tmpdir("latch-b-")
        b = Board(path, vendor_ca)
        made.append(b)
        _board_sh("create", path, vendor_ca.path)
        if start:
            b.start()
        return b

    try:
        yield make
    finally:
        errors = []
        for b in made:
            try:
                b.stop()
            except RuntimeError as e:
                errors.append(str(e))
            shutil.rmtree(b.path, ignore_errors=True)
        if errors:
            raise RuntimeError("; ".join(errors))
