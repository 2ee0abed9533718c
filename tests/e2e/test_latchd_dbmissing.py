# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Only `latchd init` creates the database: a deleted or emptied database
is an error naming the file (exit 4) in every other verb, never silently
recreated empty (device serial counters would restart at 1 and devices
would refuse the next license as a rollback). docs/operations.md, "Exit
codes".
"""
import os
import subprocess

import pytest

from fixtures_latchd import LATCHD

VERBS = [
    ("license", "list"),
    ("migrate",),
    ("audit", "verify"),
    ("audit", "list"),
    ("serve", "--listen", "127.0.0.1:0"),
]


def run(data, *args):
    env = dict(os.environ)
    env.pop("LATCHD_DATA", None)
    return subprocess.run([LATCHD, "--data", data, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30, check=False, env=env)


@pytest.fixture
def data(tmp_path):
    d = str(tmp_path / "d")
    res = subprocess.run([LATCHD, "init", "--data", d, "--dev-pki"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    return d


def drop_db(data):
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(data, "latchd.db" + suffix)
        if os.path.exists(path):
            os.unlink(path)


@pytest.mark.parametrize("verb", VERBS)
def test_missing_database_is_not_recreated(data, verb):
    drop_db(data)
    res = run(data, *verb)
    assert res.returncode == 4, (verb, res.returncode, res.stderr)
    db = os.path.join(data, "latchd.db")
    assert "database %s is missing" % db in res.stderr
    assert "latchd init" in res.stderr
    assert not os.path.exists(db)


@pytest.mark.parametrize("verb", VERBS)
def test_empty_database_gets_no_schema(data, verb):
    drop_db(data)
    db = os.path.join(data, "latchd.db")
    open(db, "wb").close()
    res = run(data, *verb)
    assert res.returncode == 4, (verb, res.returncode, res.stderr)
    assert "database %s is empty" % db in res.stderr
    assert os.path.getsize(db) == 0


def test_initialised_database_still_opens(data):
    res = run(data, "migrate")
    assert res.returncode == 0, res.stderr
    assert "schema up to date" in res.stdout
    res = run(data, "audit", "verify")
    assert res.returncode == 0, res.stderr


def test_empty_postgresql_database_is_refused(pg_cluster, tmp_path):
    url = pg_cluster.create_db()
    d = str(tmp_path / "d")
    res = subprocess.run([LATCHD, "init", "--data", d, "--dev-pki",
                          "--database", url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    pg_cluster.psql(url.rsplit("/", 1)[1],
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    res = run(d, "migrate")
    assert res.returncode == 4, (res.returncode, res.stderr)
    assert "is empty (no latchd schema)" in res.stderr
