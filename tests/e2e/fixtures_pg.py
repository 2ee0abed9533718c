# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""A throwaway PostgreSQL cluster for the session: initdb as the postgres
user (initdb refuses root) into a temporary directory, listening only on
127.0.0.1 and a unix socket in that directory, stopped with pg_ctl by its
data directory at teardown (also on failure). `pg_cluster.create_db()`
gives each test its own database.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not installed "
                           "(scripts/install-deps.sh installs postgresql)")
    return os.path.dirname(found[-1])


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args, timeout=60):
    res = subprocess.run(
        ["runuser", "-u", "postgres", "--", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s %s" % (
            " ".join(args), res.returncode, res.stdout, res.stderr))
    return res.stdout


class PgCluster:
    def __init__(self, path, port, pgbin):
        self.path = path
        self.port = port
        self.pgbin = pgbin
        self.data = os.path.join(path, "data")
        self.count = 0

    def url(self, dbname):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, dbname)

    def psql(self, dbname, *commands):
        args = [os.path.join(self.pgbin, "psql"), "-X", "-q", "-At",
                "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", dbname]
        for c in commands:
            args += ["-c", c]
        res = subprocess.run(args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60,
                             check=False)
        if res.returncode != 0:
            raise RuntimeError("psql: %s" % res.stderr)
        return res.stdout

    def create_db(self):
        """A fresh, empty database; returns its URL."""
        self.count += 1
        name = "latch_t%d" % self.count
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    pgbin = _pg_bin()
    path = tempfile.mkdtemp(prefix="latch-pg-", dir="/tmp")
    shutil.chown(path, "postgres", "postgres")
    os.chmod(path, 0o700)
    port = _free_port()
    cluster = PgCluster(path, port, pgbin)
    started = False
    try:
        _as_postgres(os.path.join(pgbin, "initdb"), "-D", cluster.data,
                     "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--locale=C.UTF-8", "--no-sync")
        _as_postgres(
            os.path.join(pgbin, "pg_ctl"), "-D", cluster.data,
            "-l", os.path.join(path, "pg.log"), "-w", "-t", "60",
            "-o", "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200" % (port, path),
            "start")
        started = True
        yield cluster
    finally:
        if started:
            _as_postgres(os.path.join(pgbin, "pg_ctl"), "-D", cluster.data,
                         "-m", "fast", "-w", "stop")
        shutil.rmtree(path, ignore_errors=True)
