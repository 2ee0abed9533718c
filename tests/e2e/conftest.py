# SPDX-License-Identifier: ISC
"""Shared pytest set-up for the end-to-end tests.

Fixtures live in one plugin module per kind of real part, so each can grow
on its own: swtpm boards, the PKI, the PostgreSQL cluster, latchd.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

pytest_plugins = [
    "fixtures_paths",
    "fixtures_aia",
    "fixtures_boards",
    "fixtures_pki",
    "fixtures_device",
    "fixtures_pg",
    "fixtures_latchd",
    "fixtures_web",
]
