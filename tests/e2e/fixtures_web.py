# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd serving its web UI and JSON API for the end-to-end tests.

`serve(latchd)` starts `latchd serve` on a free loopback port (port 0,
read back from its first output line) and stops it by pid at teardown,
also on failure. `web` is one on SQLite; `web_any` runs on SQLite and on
PostgreSQL (through fixtures_latchd's parametrized `latchd`). The client
is http.client on purpose: no proxies from the environment, no cookie
jar, every header visible to the test.
"""
import http.client
import json
import os
import re
import secrets
import select
import signal
import subprocess
import time

import pytest

from fixtures_latchd import LATCHD, conf_set, make_latchd

SESSION_COOKIE = "__Host-latchd_session"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name lowercased, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:200])


class Web:
    """A running `latchd serve` and helpers to talk to it."""

    def __init__(self, latchd, proc, port, log):
        self.latchd = latchd
        self.proc = proc
        self.port = port
        self.log = log
        self.origin = "http://127.0.0.1:%d" % port

    @property
    def pid(self):
        return self.proc.pid

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for pid %d" % self.pid)

    def request(self, method, path, body=None, headers=None, session=None,
                token=None, timeout=30, chunked=False):
        h = {"Host": "127.0.0.1:%d" % self.port}
        if session is not None:
            h["Cookie"] = "%s=%s" % (SESSION_COOKIE, session)
        if token is not None:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h,
                         encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status,
                            [(k.lower(), v) for k, v in resp.getheaders()],
                            data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def form(self, path, fields, session=None, csrf=None, origin=True,
             headers=None):
        """POSTs an urlencoded form the way a same-origin browser does."""
        from urllib.parse import urlencode

        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin:
            h["Origin"] = self.origin
            h["Sec-Fetch-Site"] = "same-origin"
        f = dict(fields)
        if csrf is not None:
            f["csrf_token"] = csrf
        h.update(headers or {})
        return self.request("POST", path, body=urlencode(f).encode(),
                            headers=h, session=session)

    def api(self, method, path, token, payload=None, raw=None, headers=None):
        h = dict(headers or {})
        body = raw
        if payload is not None:
            body = json.dumps(payload).encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        return self.request(method, path, body=body, headers=h, token=token)

    # --- accounts -------------------------------------------------------

    def add_user(self, name, role, password=None):
        password = password or secrets.token_urlsafe(18)
        res = subprocess.run(
            [LATCHD, "--data", self.latchd.data, "user", "add", name,
             "--role", role],
            input=password + "\n", stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=60, check=False)
        assert res.returncode == 0, res.stderr
        return password

    def token(self, role, name=None):
        args = [LATCHD, "--data", self.latchd.data, "token", "create",
                "--role", role]
        if name:
            args += ["--name", name]
        res = subprocess.run(args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60,
                             check=False)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    def signin_raw(self, name, password, session=None):
        return self.form("/signin", {"name": name, "password": password},
                         session=session)

    def signin(self, name, password):
        """Signs in; returns (session id, CSRF token)."""
        res = self.signin_raw(name, password)
        assert res.status == 303, res
        sid = session_of(res)
        assert sid is not None, res.headers
        return sid, self.csrf(sid)

    def csrf(self, sid):
        page = self.get("/", session=sid)
        assert page.status == 200, page
        m = re.search(r'hx-headers=\'\{"X-CSRF-Token":"([0-9a-f]{32})"\}\'',
                      page.text)
        assert m, page.text[:500]
        return m.group(1)

    def user_session(self, role, name=None):
        name = name or "%s%s" % (role, secrets.token_hex(3))
        pw = self.add_user(name, role)
        sid, csrf = self.signin(name, pw)
        return sid, csrf


def session_of(res):
    for c in res.all("set-cookie"):
        m = re.match(r"__Host-latchd_session=([^;]*)", c)
        if m:
            return m.group(1)
    return None


def serve(latchd, extra_conf=None, env=None):
    """Starts `latchd serve` on 127.0.0.1:0; returns a Web. extra_conf
    (INI text) replaces or adds those keys in latchd.conf (conf_set)."""
    if extra_conf:
        conf_set(latchd.data, extra_conf)
    log = open(os.path.join(latchd.data, "serve.log"), "w")
    full_env = dict(os.environ)
    full_env.pop("LATCHD_DATA", None)
    full_env.update(env or {})
    proc = subprocess.Popen(
        [LATCHD, "--data", latchd.data, "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=log, env=full_env)
    line = b""
    deadline = time.time() + 30
    while time.time() < deadline and b"\n" not in line:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
    m = re.search(rb"127\.0\.0\.1:(\d+)/", line)
    if m is None:
        stop(proc)
        log.close()
        with open(os.path.join(latchd.data, "serve.log")) as f:
            raise AssertionError("latchd serve did not start: %r %s"
                                 % (line, f.read()))
    return Web(latchd, proc, int(m.group(1)), log)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture
def web(vendor_ca, license_pki, tmp_path):
    """latchd serve on SQLite, trusting the test TPM vendor."""
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d)
    try:
        yield w
    finally:
        stop(w.proc)
        w.log.close()


@pytest.fixture
def web_any(latchd):
    """latchd serve on SQLite and on PostgreSQL (parametrized)."""
    w = serve(latchd)
    try:
        yield w
    finally:
        stop(w.proc)
        w.log.close()
