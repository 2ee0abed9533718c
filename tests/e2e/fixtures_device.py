# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The device side under test: `device_build` relinks latch and liblatch
against the session's license root (fixtures_pki), as a vendor builds its
firmware; `device` gives a Device per board (its own state directory) that
runs the relinked latch with --tcti and --state-dir; `issue` does the
server's job for an enrollment with tests/tools/mkdevlicense.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from fixtures_paths import (
    REPO,
    build_path,
    device_cmd,
    device_make_args,
    device_path,
)

MKDEVLICENSE = build_path("tests", "tools", "mkdevlicense")

# Exit codes of `latch` (cli/cli.h, docs/operations.md).
EXIT = {
    "ok": 0,
    "usage": 2,
    "io": 3,
    "format": 4,
    "signature": 5,
    "not_device": 6,
    "tpm": 7,
    "validity": 8,
    "rollback": 9,
    "not_found": 10,
}


def run(args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
        env=full_env,
    )


class DeviceBuild:
    """latch, liblatch.so and the example, trusting one license root."""

    def __init__(self, out, example):
        self.out = out
        self.latch = os.path.join(out, "latch")
        self.libdir = out
        self.example = example


@pytest.fixture(scope="session")
def device_build(license_pki):
    out = tempfile.mkdtemp(prefix="latch-dev-")
    try:
        res = run(
            [
                "make", "--no-print-directory", "-C", REPO,
                *device_make_args(), "relink", "OUT=" + out,
                "LATCH_ROOT_CA=" + license_pki.root_pem,
            ]
        )
        assert res.returncode == 0, res.stdout + res.stderr
        example = device_path("examples", "feature_gate")
        yield DeviceBuild(out, example)
    finally:
        shutil.rmtree(out, ignore_errors=True)


class Device:
    """One board as a device: latch with its TCTI and its state dir."""

    def __init__(self, build, board, state):
        self.build = build
        self.board = board
        self.state = state
        self.tcti = board.tcti

    def latch(self, *args, tcti=None, state=None):
        return run(
            device_cmd(
                self.build.latch, args[0],
                "--tcti", tcti or self.tcti,
                "--state-dir", state or self.state,
                *args[1:],
            )
        )

    def enroll(self, out, *args):
        res = self.latch("enroll", "-o", out, *args)
        assert res.returncode == 0, res.stderr
        return out

    def example(self, feature):
        return run(
            device_cmd(self.build.example, feature, self.tcti, self.state),
            env={"LD_LIBRARY_PATH": self.build.libdir},
        )

    def installed(self):
        """Bytes of the installed license, None when there is none."""
        path = os.path.join(self.state, "license.json")
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return f.read()


@pytest.fixture
def device(board, device_build, tmp_path):
    """Factory: device(ek_board=None) -> a Device on a fresh board."""
    count = [0]

    def make(on=None):
        count[0] += 1
        brd = on if on is not None else board()
        state = str(tmp_path / ("state%d" % count[0]))
        return Device(device_build, brd, state)

    return make


@pytest.fixture
def issue(license_pki, tmp_path):
    """issue(enrollment, *mkdevlicense_args) -> path of a signed license."""
    count = [0]

    def make(enrollment, *args, pki=None):
        count[0] += 1
        pki = pki or license_pki
        out = str(tmp_path / ("license%d.json" % count[0]))
        res = run(
            [
                MKDEVLICENSE, "-e", enrollment, "-k", pki.signer_key,
                "-c", pki.signer_pem, "-o", out, *args,
            ]
        )
        assert res.returncode == 0, res.stderr
        return out

    return make
