# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd data directories for the end-to-end tests, on SQLite and on the
session's PostgreSQL cluster (`latchd_db` is parametrized over both, so
every test that uses `latchd` runs on both). Set-up is the operator's:
`latchd init` with the test vendor root in the trust directory, the
signing CSR signed by the license root with `latch-ca sign`, `latchd ca
install`, and the test vendor's issuing CA imported as an untrusted
intermediate.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

from fixtures_paths import build_path

LATCHD = build_path("latchd")
LATCH_CA = build_path("latch-ca")


class Latchd:
    """One latchd data directory and its database."""

    def __init__(self, data, db_url, pg=None):
        self.data = data
        self.db_url = db_url
        self.pg = pg
        self.trust = os.path.join(data, "trust")

    def run(self, *args, timeout=300, env=None):
        """Runs latchd with --data; returns the CompletedProcess."""
        full_env = dict(os.environ)
        full_env.pop("LATCHD_DATA", None)
        full_env.update(env or {})
        return subprocess.run(
            [LATCHD, "--data", self.data, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
            env=full_env,
        )

    def json(self, *args, ok=True, **kw):
        """Runs latchd --json; asserts the exit code when ok; parses."""
        res = self.run("--json", *args, **kw)
        if ok:
            assert res.returncode == 0, (args, res.stdout, res.stderr)
        try:
            return json.loads(res.stdout)
        except ValueError:
            raise AssertionError("not JSON: %r / %r" % (res.stdout,
                                                        res.stderr))

    def sql(self, statement, params=()):
        """Runs SQL directly on the database (tests that tamper)."""
        if self.pg is None:
            path = self.db_url[len("sqlite:"):]
            con = sqlite3.connect(path)
            try:
                cur = con.execute(statement, params)
                rows = cur.fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        assert not params, "psql helper takes literal SQL only"
        out = self.pg.psql(self.db_url.rsplit("/", 1)[1], statement)
        return [tuple(line.split("|")) for line in out.splitlines() if line]


@pytest.fixture(params=["sqlite", "postgresql"])
def latchd_db(request):
    """A database URL for a fresh latchd: SQLite file or a new PG db."""
    if request.param == "sqlite":
        return ("sqlite", None)
    pg = request.getfixturevalue("pg_cluster")
    return (pg.create_db(), pg)


def make_latchd(path, db, vendor_ca, license_pki):
    url, pg = db
    data = os.path.join(path, "latchd")
    trust = os.path.join(path, "trust")
    os.makedirs(trust)
    shutil.copy(vendor_ca.root_pem, os.path.join(trust, "vendor-root.pem"))
    args = [LATCHD, "init", "--data", data, "--trust", trust]
    if url != "sqlite":
        args += ["--database", url]
    res = subprocess.run(args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    signed = os.path.join(path, "signing-signed.pem")
    res = subprocess.run(
        [LATCH_CA, "sign", "--root", license_pki.root_dir,
         "--csr", os.path.join(data, "signing.csr"), "-o", signed],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    if url == "sqlite":
        url = "sqlite:" + os.path.join(data, "latchd.db")
    d = Latchd(data, url, pg)
    d.trust = trust
    res = d.run("ca", "install", signed)
    assert res.returncode == 0, res.stderr
    import_intermediate(d, vendor_ca.issuer_pem)
    return d


def import_intermediate(d, pem_path):
    """Puts CA certificates into latchd's untrusted intermediate cache."""
    res = d.run("trust", "import-intermediates", pem_path)
    assert res.returncode == 0, res.stdout + res.stderr


def conf_set(data, text):
    """Applies INI text ("[section]" lines and "key = value" lines) to
    DATA/latchd.conf: a key the section already holds is replaced in place,
    a new one is added to the section (or a new section at the end). latchd
    refuses a key set twice, so tests never append one `latchd init`
    wrote."""
    path = os.path.join(data, "latchd.conf")
    with open(path) as f:
        lines = f.read().splitlines()
    section = None
    for raw in text.splitlines():
        m = re.match(r"\s*\[([^\]]+)\]\s*$", raw)
        if m:
            section = m.group(1)
            continue
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        key, value = (p.strip() for p in raw.split("=", 1))
        lines = _conf_put(lines, section, key, value)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _conf_put(lines, section, key, value):
    setting = "%s = %s" % (key, value)
    cur, end = None, None
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            cur = m.group(1)
            if cur == section:
                end = i + 1
            continue
        if cur == section and re.match(r"%s\s*=" % re.escape(key), line):
            return lines[:i] + [setting] + lines[i + 1:]
        if cur == section:
            end = i + 1
    if end is None:
        return lines + ["", "[%s]" % section, setting]
    return lines[:end] + [setting] + lines[end:]


@pytest.fixture
def latchd(latchd_db, vendor_ca, license_pki, tmp_path):
    """A ready latchd (SQLite or PostgreSQL) trusting the test vendor."""
    return make_latchd(str(tmp_path), latchd_db, vendor_ca, license_pki)
