# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd.conf is read strictly: an unknown section or key (a misspelt
cookie_secure) stops latchd with a message naming it and its line, and a
bad value in [http] or [session] names the key.
"""
import os
import subprocess

import pytest

from fixtures_latchd import LATCHD, make_latchd


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def append(d, text):
    path = os.path.join(d.data, "latchd.conf")
    with open(path, "a") as f:
        f.write("\n" + text + "\n")
    with open(path) as f:
        return len(f.read().splitlines())


@pytest.mark.parametrize("text,named", [
    ("[http]\ncookie_secur = false", "cookie_secur"),
    ("[sesion]\nidle_minutes = 5", "sesion"),
    ("[database]\nurll = sqlite:x", "urll"),
])
def test_unknown_key_stops_latchd_naming_it_and_the_line(sq_latchd, text,
                                                         named):
    d = sq_latchd
    assert d.run("customer", "list").returncode == 0
    last = append(d, text)
    res = d.run("customer", "list")
    assert res.returncode != 0, res.stdout
    assert named in res.stderr, res.stderr
    assert "line %d" % last in res.stderr, res.stderr


def test_known_web_keys_are_accepted(sq_latchd):
    d = sq_latchd
    append(d, "[http]\ncookie_secure = true\nthreads = 2\n"
           "[session]\nidle_minutes = 10\nmax_hours = 2")
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr


def test_bad_web_value_names_the_key(sq_latchd):
    d = sq_latchd
    append(d, "[session]\nmax_hours = lots")
    res = subprocess.run([LATCHD, "--data", d.data, "serve", "--listen",
                          "127.0.0.1:0"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert res.returncode != 0
    assert "max_hours" in res.stderr, res.stderr
