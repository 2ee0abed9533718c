# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The license PKI, made the way an operator makes it: `latch-ca root init`,
a signing key and CSR from `openssl req`, `latch-ca sign`. `license_pki`
is one such PKI per session; `make_pki(dir)` makes more (a wrong root).
Licenses are signed by tests/tools/mklicense (latch_license_sign()).
"""
import copy
import datetime
import json
import os
import subprocess
import tempfile

import pytest

from fixtures_paths import build_path

LATCH = build_path("latch")
LATCH_CA = build_path("latch-ca")
MKLICENSE = build_path("tests", "tools", "mklicense")


def run(args, check=False, **kw):
    """Runs a program, capturing text output; never raises on exit code."""
    res = subprocess.run(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        **kw,
    )
    if check and res.returncode != 0:
        raise RuntimeError(
            "%s failed (%d): %s %s"
            % (" ".join(args), res.returncode, res.stdout, res.stderr)
        )
    return res


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def default_body(**overrides):
    """A well-formed `license` object issued now, valid for a year."""
    now = now_utc()
    body = {
        "license_id": "lic-e2e-0001",
        "serial": 1,
        "issued_at": rfc3339(now),
        "device_id": "9f86d081884c7d659a2feaa0c55ad015"
        "a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "enrollment_id": "enr-e2e-1",
        "customer": "ACME Corp",
        "valid_from": rfc3339(now - datetime.timedelta(days=1)),
        "valid_until": rfc3339(now + datetime.timedelta(days=365)),
        "features": {
            "fast-mode": {"enabled": True, "quantity": 16},
            "export.csv": {"enabled": False},
        },
        "binding": {
            "identity_schema": "tpm2_ek_ak_binding",
            "ek_template": "ecc-p256",
            "ak_name": "000b2cf24dba5fb0a30e26e83b2ac5b9"
            "e29e1b161e5c1fa7425e73043362938b9824",
            "activation": {
                "credential_blob": "ACQAIL7Nq83vASNFZ4mrze8BI0U=",
                "encrypted_secret": "AEQAIMOq2eHw8RI0VniavN7wEjRWeJq83vA=",
                "secret_sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e"
                "1b161e5c1fa7425e73043362938b9824",
            },
        },
    }
    body.update(copy.deepcopy(overrides))
    return body


class PKI:
    """A latch root (root_dir/root.pem, root.key) and one signing cert."""

    def __init__(self, path, key_type="ec", curve="P-256"):
        self.path = path
        self.root_dir = os.path.join(path, "root")
        self.root_pem = os.path.join(self.root_dir, "root.pem")
        self.root_key = os.path.join(self.root_dir, "root.key")
        self.signer_key = os.path.join(path, "signer.key")
        self.signer_csr = os.path.join(path, "signer.csr")
        self.signer_pem = os.path.join(path, "signer.pem")
        run(
            [LATCH_CA, "root", "init", "--out", self.root_dir,
             "--subject", "CN=latch e2e root,O=latch tests"],
            check=True,
        )
        newkey = ["-newkey", "ed25519"] if key_type == "ed25519" else [
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + curve]
        run(
            ["openssl", "req", "-new", *newkey, "-nodes",
             "-keyout", self.signer_key, "-subj", "/CN=latch e2e signer",
             "-out", self.signer_csr],
            check=True,
        )
        run(
            [LATCH_CA, "sign", "--root", self.root_dir,
             "--csr", self.signer_csr, "-o", self.signer_pem],
            check=True,
        )

    def sign(self, body, out):
        """Signs body (a dict) into the license file out; returns out."""
        body_path = out + ".body.json"
        with open(body_path, "w", encoding="utf-8") as f:
            json.dump(body, f)
        run(
            [MKLICENSE, "--body", body_path, "--key", self.signer_key,
             "--cert", self.signer_pem, "-o", out],
            check=True,
        )
        return out


@pytest.fixture(scope="session")
def make_pki(tmp_path_factory):
    """make_pki(name, **kw) -> a fresh PKI under the session's tmp dir."""
    def make(name, **kw):
        return PKI(str(tmp_path_factory.mktemp(name)), **kw)

    return make


@pytest.fixture(scope="session")
def license_pki(make_pki):
    return make_pki("pki")


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="latch-e2e-") as d:
        yield d
