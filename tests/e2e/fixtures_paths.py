# SPDX-License-Identifier: ISC
"""Where the built programs and the repository are."""
import os
import shlex

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))


def build_path(*parts):
    """Path of a built artefact, e.g. build_path("latch")."""
    return os.path.join(BUILD, *parts)


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def build_dir():
    return BUILD


# The device side (latch, liblatch, the examples) may come from a cross
# build run through an emulator, while everything else (latchd, latch-ca,
# test tools) stays native: scripts/check-arm64.sh sets
#   LATCH_DEVICE_ARCH=aarch64  LATCH_DEVICE_BUILD=build/aarch64
#   LATCH_DEVICE_EXEC="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# Unset, the device side is the native BUILD and runs directly.
DEVICE_ARCH = os.environ.get("LATCH_DEVICE_ARCH", "")
DEVICE_BUILD = os.path.join(
    REPO,
    os.environ.get("LATCH_DEVICE_BUILD") or os.environ.get("BUILD", "build"),
)
DEVICE_EXEC = shlex.split(os.environ.get("LATCH_DEVICE_EXEC", ""))


def device_path(*parts):
    """Path of a device artefact, e.g. device_path("latch")."""
    return os.path.join(DEVICE_BUILD, *parts)


def device_cmd(program, *args):
    """argv running a device program (a device_path() or a relinked copy):
    prefixed with the emulator when the device build is foreign."""
    return [*DEVICE_EXEC, program, *args]


def device_make_args():
    """make arguments selecting the device build, e.g. for
    `make relink OUT=... LATCH_ROOT_CA=...`."""
    args = ["BUILD=" + DEVICE_BUILD]
    if DEVICE_ARCH:
        args.append("ARCH=" + DEVICE_ARCH)
    return args
