# SPDX-License-Identifier: ISC
"""A vendor web server on 127.0.0.1 for the AIA tests, and the ekcheck tool.

The server runs in a thread of the test process (http.server), so it stops
with the fixture. Paths serve real vendor intermediates (DER, PEM, PKCS#7)
and every misbehaviour latch must refuse: redirects, oversize bodies, a
slow drip, HTML error pages. Vendor host names reach it through curl's
connect-to option (HOST:80 -> 127.0.0.1:PORT), given to ekcheck.
"""
import collections
import http.server
import json
import os
import subprocess
import threading
import time

import pytest

from fixtures_paths import REPO, build_path

DATA = os.path.join(REPO, "tests", "data")
ANCHORS = os.path.join(DATA, "roots", "anchors")
INTER = os.path.join(DATA, "roots", "intermediates")
EK = os.path.join(DATA, "ek")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _pem(der):
    out = subprocess.run(["openssl", "x509", "-inform", "DER"], input=der,
                         capture_output=True, check=True)
    return out.stdout


def _pkcs7(der):
    pem = _pem(der)
    tmp = "/tmp/aia-p7-%d.pem" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(pem)
    try:
        out = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile",
                              tmp, "-outform", "DER"], capture_output=True,
                             check=True)
    finally:
        os.unlink(tmp)
    return out.stdout


class VendorServer:
    """Routes: path -> (status, headers, body or callable(handler))."""

    def __init__(self):
        self.routes = {}
        self.hits = collections.Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.hits[self.path] += 1
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, headers, body = route
                if callable(body):
                    body(self)
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def route(self, path, body, status=200, ctype="application/pkix-cert"):
        self.routes[path] = (status, {"Content-Type": ctype}, body)


def _big_body(handler):
    """10 MB announced and sent, in 64 KiB pieces, until the client goes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/pkix-cert")
    handler.send_header("Content-Length", str(10 * 1024 * 1024))
    handler.end_headers()
    chunk = b"\x30" * 65536
    try:
        for _ in range(160):
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _big_chunked(handler):
    """Same without a Content-Length, so only the byte cap can stop it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/pkix-cert")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    chunk = b"\x30" * 65536
    try:
        for _ in range(160):
            handler.wfile.write(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _slow_drip(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/pkix-cert")
    handler.send_header("Content-Length", "1500")
    handler.end_headers()
    try:
        for _ in range(60):
            handler.wfile.write(b"\x30")
            handler.wfile.flush()
            time.sleep(0.25)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _redirect(handler):
    handler.send_response(302)
    handler.send_header("Location", "http://169.254.169.254/latest/meta-data/")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _openssl(*args, stdin=None):
    subprocess.run(["openssl", *args], input=stdin, check=True,
                   capture_output=True)


class TestPKI:
    """A test vendor (root + issuing CA) and EK leaves whose caIssuers URL
    is chosen per test: spaces, file://, gopher://."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "trust"))
        root_key = os.path.join(d, "root.key")
        self.root = os.path.join(d, "trust", "root.pem")
        int_key = os.path.join(d, "int.key")
        self.inter = os.path.join(d, "int.pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", root_key,
                 "-out", self.root, "-days", "3650", "-subj",
                 "/O=AIA Test Vendor/CN=AIA Test Vendor EK Root CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        csr = os.path.join(d, "int.csr")
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", int_key,
                 "-out", csr, "-subj",
                 "/O=AIA Test Vendor/CN=AIA Test Vendor EK Issuing CA")
        ext = os.path.join(d, "int.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n")
        _openssl("x509", "-req", "-in", csr, "-CA", self.root, "-CAkey",
                 root_key, "-CAcreateserial", "-out", self.inter, "-days",
                 "3650", "-extfile", ext)
        self.int_key = int_key
        self.int_der = subprocess.run(
            ["openssl", "x509", "-in", self.inter, "-outform", "DER"],
            capture_output=True, check=True).stdout
        self.n = 0

    def leaf(self, aia_url):
        self.n += 1
        key = os.path.join(self.d, "ek%d.key" % self.n)
        csr = os.path.join(self.d, "ek%d.csr" % self.n)
        out = os.path.join(self.d, "ek%d.der" % self.n)
        ext = os.path.join(self.d, "ek%d.ext" % self.n)
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                 "-out", csr, "-subj", "/")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,keyAgreement\n"
                    "extendedKeyUsage=2.23.133.8.1\n"
                    "authorityKeyIdentifier=keyid\n"
                    "authorityInfoAccess=caIssuers;URI:%s\n" % aia_url)
        _openssl("x509", "-req", "-in", csr, "-CA", self.inter, "-CAkey",
                 self.int_key, "-CAcreateserial", "-out", out, "-outform",
                 "DER", "-days", "365", "-extfile", ext)
        return out


class EkCheck:
    """Runs tests/tools/ekcheck with AIA pointed at the vendor server."""

    def __init__(self, server, cache_dir):
        self.server = server
        self.cache_dir = cache_dir
        self.hosts = ["secure.globalsign.com", "pki.infineon.com",
                      "upgrades.intel.com", "vendor.test"]

    def run(self, cert, trust=ANCHORS, aia=True, allow_private=True,
            extra=(), timeout=30):
        """Returns (result, stderr text, peak RSS in KiB, seconds)."""
        args = [build_path("tests", "tools", "ekcheck"), "--trust", trust,
                "--cache-dir", self.cache_dir, "--json", "--progress"]
        if aia:
            args.append("--aia")
        if allow_private:
            args.append("--allow-private")
        for h in self.hosts:
            args += ["--connect-to",
                     "%s:80:127.0.0.1:%d" % (h, self.server.port)]
        args += list(extra)
        args.append(cert)
        t0 = time.monotonic()
        p = subprocess.Popen(args, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        try:
            err = p.stderr.read()
            out = p.stdout.read()
            # wait4 gives this child's own peak RSS (ru_maxrss, KiB).
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - t0
        assert p.returncode in (0, 1), (p.returncode, err.decode())
        res = json.loads(out.decode().strip().splitlines()[-1])
        return res, err.decode(), ru.ru_maxrss, elapsed


@pytest.fixture
def vendor_server():
    s = VendorServer()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def ekcheck(vendor_server, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    return EkCheck(vendor_server, str(cache))


@pytest.fixture
def aia_pki(tmp_path):
    return TestPKI(str(tmp_path / "pki"))


__all__ = ["VendorServer", "EkCheck", "TestPKI", "_read", "_pem", "_pkcs7",
           "_big_body", "_big_chunked", "_slow_drip", "_redirect", "ANCHORS",
           "INTER", "EK"]
