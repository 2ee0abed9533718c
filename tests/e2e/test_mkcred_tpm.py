# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""liblatch's software MakeCredential against a real TPM 2.0 (swtpm with
libtpms): for RSA-2048, P-256 and P-384 EKs, tpm2-tools makes the EK and an
AK on a board, tests/tools/mkcred makes the credential from the board's EK
certificate, and tpm2_activatecredential must recover the secret on that
board and on no other. Also: our TCG EK templates make the certified EK.
"""
import os
import subprocess

import pytest

from fixtures_paths import build_path

# latch EK template -> tpm2_createek -G
KINDS = {"rsa2048": "rsa", "ecc-p256": "ecc", "ecc-p384": "ecc384"}


class Tpm2Tools:
    """tpm2-tools against one board, files in one work directory. A raw
    swtpm has 3 object slots and no resource manager, so every tool that
    loads something is followed by tpm2_flushcontext -t."""

    def __init__(self, board, work):
        self.board = board
        self.work = work
        os.makedirs(work, exist_ok=True)
        self.env = dict(os.environ)
        self.env["TPM2TOOLS_TCTI"] = board.tcti
        self.env["TSS2_LOG"] = "all+none"

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, *args, check=True):
        res = subprocess.run(
            list(args),
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
        if check and res.returncode != 0:
            raise AssertionError(
                "%s failed (%d): %s" % (args[0], res.returncode, res.stderr)
            )
        return res

    def flush(self):
        self.run("tpm2_flushcontext", "-t")

    def create_ek(self, kind):
        self.run(
            "tpm2_createek", "-G", KINDS[kind], "-c", self.path("ek.ctx"),
            "-u", self.path("ek.pub"),
        )
        self.flush()
        return self.path("ek.pub")

    def create_ak(self):
        self.run(
            "tpm2_createak", "-C", self.path("ek.ctx"),
            "-c", self.path("ak.ctx"), "-G", "ecc", "-g", "sha256",
            "-s", "ecdsa", "-u", self.path("ak.pub"),
            "-n", self.path("ak.name"), "-r", self.path("ak.priv"),
        )
        self.flush()
        return self.path("ak.pub")

    def activate(self, kind, cred, out):
        """tpm2_activatecredential with this board's EK and AK. The
        low-range EKs need PolicySecret(endorsement); the high-range P-384
        EK has userWithAuth and takes the empty password."""
        if os.path.exists(out):
            os.unlink(out)
        args = [
            "tpm2_activatecredential", "-c", self.path("ak.ctx"),
            "-C", self.path("ek.ctx"), "-i", cred, "-o", out,
        ]
        session = self.path("session.ctx")
        if kind != "ecc-p384":
            self.run(
                "tpm2_startauthsession", "--policy-session", "-S", session
            )
            self.run("tpm2_policysecret", "-S", session, "-c", "e")
            args += ["-P", "session:" + session]
        res = self.run(*args, check=False)
        if kind != "ecc-p384":
            # A failed command leaves the policy session loaded.
            self.run("tpm2_flushcontext", session, check=False)
        self.flush()
        return res


def ek_cert_file(board, kind, work):
    path = os.path.join(work, "ek-%s.der" % kind)
    with open(path, "wb") as f:
        f.write(board.ek_cert(kind))
    return path


def mkcred(ek, ak_pub, kind, secret, out, check=True):
    res = subprocess.run(
        [build_path("tests", "tools", "mkcred"), ek, ak_pub, kind, secret,
         out],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=30,
        check=False,
    )
    if check:
        assert res.returncode == 0, res.stderr
    return res


def write_secret(path):
    secret = os.urandom(32)
    with open(path, "wb") as f:
        f.write(secret)
    return secret


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ek_template_makes_the_certified_ek(board, tmp_path, kind):
    b = board()
    tools = Tpm2Tools(b, str(tmp_path))
    cert = ek_cert_file(b, kind, str(tmp_path))
    ours = str(tmp_path / "ours.pub")

    res = subprocess.run(
        [build_path("tests", "tools", "ek_primary"), b.tcti, kind, ours,
         cert],
        env=tools.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "ek matches certificate" in res.stdout
    # tpm2-tools' own TCG templates give byte-identical public areas.
    assert read(ours) == read(tools.create_ek(kind))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_tpm_activates_our_credential(board, tmp_path, kind):
    b = board()
    tools = Tpm2Tools(b, str(tmp_path))
    ek_pub = tools.create_ek(kind)
    ak_pub = tools.create_ak()
    cert = ek_cert_file(b, kind, str(tmp_path))

    # The server's way: the EK key from the certificate.
    secret = write_secret(tools.path("secret"))
    res = mkcred(cert, ak_pub, kind, tools.path("secret"), tools.path("cred"))
    # The AK name we computed is the one the TPM reported.
    name = dict(
        line.split(" ", 1) for line in res.stdout.splitlines() if " " in line
    )["name"]
    assert bytes.fromhex(name) == read(tools.path("ak.name"))
    act = tools.activate(kind, tools.path("cred"), tools.path("out"))
    assert act.returncode == 0, act.stderr
    assert read(tools.path("out")) == secret

    # The same from the EK's TPM2B_PUBLIC.
    secret = write_secret(tools.path("secret2"))
    mkcred(ek_pub, ak_pub, kind, tools.path("secret2"), tools.path("cred2"))
    act = tools.activate(kind, tools.path("cred2"), tools.path("out2"))
    assert act.returncode == 0, act.stderr
    assert read(tools.path("out2")) == secret


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_credential_for_board_a_fails_on_board_b(board, tmp_path, kind):
    a = Tpm2Tools(board(), str(tmp_path / "a"))
    b = Tpm2Tools(board(), str(tmp_path / "b"))
    for t in (a, b):
        t.create_ek(kind)
        t.create_ak()
    cert_a = ek_cert_file(a.board, kind, a.work)
    secret = write_secret(a.path("secret"))

    # Made for A (A's EK certificate, A's AK): B cannot open it.
    mkcred(cert_a, a.path("ak.pub"), kind, a.path("secret"), a.path("cred"))
    res = b.activate(kind, a.path("cred"), b.path("out"))
    assert res.returncode != 0
    assert not os.path.exists(b.path("out")) or read(b.path("out")) != secret

    # A's EK certificate combined with B's AK: B's EK cannot open it.
    mkcred(cert_a, b.path("ak.pub"), kind, a.path("secret"), b.path("mix"))
    res = b.activate(kind, b.path("mix"), b.path("out"))
    assert res.returncode != 0
    assert not os.path.exists(b.path("out")) or read(b.path("out")) != secret

    # Control: A opens its own credential, and B still works.
    res = a.activate(kind, a.path("cred"), a.path("out"))
    assert res.returncode == 0, res.stderr
    assert read(a.path("out")) == secret
    cert_b = ek_cert_file(b.board, kind, b.work)
    mkcred(cert_b, b.path("ak.pub"), kind, a.path("secret"), b.path("own"))
    res = b.activate(kind, b.path("own"), b.path("out"))
    assert res.returncode == 0, res.stderr
    assert read(b.path("out")) == secret
