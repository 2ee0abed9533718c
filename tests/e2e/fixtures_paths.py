# SPDX-License-Identifier: ISC
"""Where the built programs and the repository are."""
import os

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
