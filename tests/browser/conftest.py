# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Browser tests reuse the end-to-end fixtures (boards, PKI, device build,
latchd, latchd serve) from tests/e2e and add a headless Chromium driven
through chromedriver (Debian's chromium + chromium-driver, python3-selenium).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))

pytest_plugins = [
    "fixtures_paths",
    "fixtures_boards",
    "fixtures_pki",
    "fixtures_device",
    "fixtures_pg",
    "fixtures_latchd",
    "fixtures_web",
    "fixtures_browser",
]
