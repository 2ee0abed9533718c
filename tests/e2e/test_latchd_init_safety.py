# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""`latchd init` never overwrites: a data directory holding anything init
would make (a previous installation without its latchd.conf, a signing key
made with openssl as docs/operations.md section 3 shows) is refused with
exit 1 naming the file, before anything is created or removed; a
PostgreSQL database that holds tables already is refused the same way.
`latchd serve` refuses at start a signing certificate that is not for the
signing key (docs/operations.md, "Exit codes").
"""
import hashlib
import os
import shutil
import sqlite3
import subprocess

import pytest

from fixtures_latchd import LATCHD

PREVIOUS = ["signing.key", "signing.csr", "signing.pem", "latchd.db",
            "dev-root/root.key", "dev-root/root.pem"]


def latchd(data, *args, timeout=60):
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    return subprocess.run([LATCHD, "--data", str(data), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, check=False, env=env)


def snapshot(top):
    """Every path under top with the SHA-256 of each file's bytes."""
    out = {}
    for root, dirs, files in os.walk(top):
        for d in dirs:
            out[os.path.join(root, d)] = "dir"
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[p] = hashlib.sha256(fh.read()).hexdigest()
    return out


@pytest.fixture
def previous(tmp_path):
    """A data directory of an earlier installation whose latchd.conf is
    gone (every other file it made is still there)."""
    data = tmp_path / "d"
    res = latchd(data, "init", "--dev-pki")
    assert res.returncode == 0, res.stderr
    os.unlink(data / "latchd.conf")
    return data


def audit_count(db):
    con = sqlite3.connect(str(db))
    try:
        return con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("dev_pki", [False, True])
def test_init_refuses_a_previous_installation(previous, dev_pki):
    before = snapshot(previous)
    rows = audit_count(previous / "latchd.db")
    args = ["init"] + (["--dev-pki"] if dev_pki else [])
    res = latchd(previous, *args)
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "exists: latchd init never overwrites" in res.stderr, res.stderr
    assert snapshot(previous) == before
    assert audit_count(previous / "latchd.db") == rows
    assert not (previous / "latchd.conf").exists()


@pytest.mark.parametrize("name", PREVIOUS + ["latchd.db-wal",
                                             "latchd.db-journal"])
def test_init_refuses_each_file_it_would_make(tmp_path, name):
    """Any one of them alone is enough, and is the one the message names;
    init creates nothing (no latchd.conf, no database, no trust/)."""
    data = tmp_path / "d"
    path = data / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"kept\n")
    before = snapshot(data)
    res = latchd(data, "init", "--dev-pki")
    assert res.returncode == 1, (res.returncode, res.stderr)
    first = name.split("/")[0]
    assert "%s exists" % os.path.join(os.path.realpath(data), first) \
        in res.stderr, res.stderr
    assert snapshot(data) == before


def test_init_keeps_a_signing_key_made_by_hand(tmp_path):
    """docs/operations.md section 3: the admin made signing.key with
    openssl in the data directory before running init."""
    data = tmp_path / "d"
    data.mkdir()
    res = subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         str(data / "signing.key"), "-subj", "/CN=latchd license signing",
         "-out", str(data / "signing.csr")],
        capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    before = snapshot(data)
    res = latchd(data, "init")
    assert res.returncode == 1, res.stderr
    assert "signing.key exists" in res.stderr
    assert snapshot(data) == before


def test_init_refuses_a_custom_sqlite_file_that_exists(tmp_path):
    db = tmp_path / "other.db"
    db.write_bytes(b"")
    data = tmp_path / "d"
    res = latchd(data, "init", "--database", "sqlite:%s" % db)
    assert res.returncode == 1, res.stderr
    assert "%s exists" % db in res.stderr
    # The data directory init made for this run is gone again.
    assert not data.exists()
    assert db.read_bytes() == b""


def test_refused_init_into_an_existing_dir_removes_nothing(tmp_path):
    """The undo after a refusal touches nothing that was there before."""
    data = tmp_path / "d"
    (data / "trust").mkdir(parents=True)
    (data / "trust" / "root.pem").write_text("pinned\n")
    (data / "dev-root").mkdir()
    before = snapshot(data)
    res = latchd(data, "init")
    assert res.returncode == 1, res.stderr
    assert "dev-root exists" in res.stderr
    assert snapshot(data) == before


def test_init_still_works_in_an_empty_existing_dir(tmp_path):
    data = tmp_path / "d"
    (data / "trust").mkdir(parents=True)
    res = latchd(data, "init")
    assert res.returncode == 0, res.stderr


def test_init_refuses_a_postgresql_database_with_tables(pg_cluster,
                                                       tmp_path):
    url = pg_cluster.create_db()
    name = url.rsplit("/", 1)[1]
    res = latchd(tmp_path / "a", "init", "--database", url)
    assert res.returncode == 0, res.stderr
    rows = pg_cluster.psql(name, "SELECT count(*) FROM audit_log").strip()

    res = latchd(tmp_path / "b", "init", "--database", url)
    assert res.returncode == 1, res.stderr
    assert "holds tables already" in res.stderr, res.stderr
    assert "copy the first server's data directory" in res.stderr
    assert not (tmp_path / "b").exists()
    assert pg_cluster.psql(name,
                           "SELECT count(*) FROM audit_log").strip() == rows

    other = pg_cluster.create_db()
    pg_cluster.psql(other.rsplit("/", 1)[1], "CREATE TABLE t (x int)")
    res = latchd(tmp_path / "c", "init", "--database", other)
    assert res.returncode == 1, res.stderr
    assert "holds tables already (t)" in res.stderr, res.stderr


def serve(data):
    """Starts serve; returns its result, or fails when it keeps running."""
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    proc = subprocess.Popen([LATCHD, "--data", str(data), "serve",
                             "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("serve started with a certificate for another key")
    return proc.returncode, err


@pytest.mark.parametrize("other", ["signing.pem", "dev-root/root.pem"])
def test_serve_refuses_a_certificate_for_another_key(tmp_path, other):
    """Another server's signing certificate, or the dev root's: both are
    for another key, which ca install refuses (exit 1) too."""
    data = tmp_path / "d"
    second = tmp_path / "e"
    for d in (data, second):
        res = latchd(d, "init", "--dev-pki")
        assert res.returncode == 0, res.stderr
    shutil.copy(second / other, data / "signing.pem")
    rc, err = serve(data)
    assert rc == 1, err
    key = os.path.join(os.path.realpath(data), "signing.key")
    cert = os.path.join(os.path.realpath(data), "signing.pem")
    assert "[signing] cert %s does not fit [signing] key %s" % (cert, key) \
        in err, err
    assert "its public key is not the signing key's" in err
    res = latchd(data, "ca", "install", str(second / other))
    assert res.returncode == rc
