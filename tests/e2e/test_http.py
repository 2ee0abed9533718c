# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The admin web UI and API at the HTTP level: anonymous access, roles,
CSRF and origin checks, body limits with flat memory, escaping of hostile
values from enrollments, certificates and users, sessions, throttling,
and the security headers. Black-box against `latchd serve` (SQLite).
"""
import base64
import json
import os
import re
import secrets
import subprocess
import time
from html.parser import HTMLParser

import pytest

from fixtures_paths import REPO
from fixtures_latchd import make_latchd
from fixtures_web import SESSION_COOKIE, serve, session_of, stop
from test_api import wait_done

WEB_C = os.path.join(REPO, "server", "web.c")

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_ATTR = '" hx-post="/enrollments/1/approve" x="'
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_BIDI = "invoice\u202etxt.exe"


def routes():
    """(method, pattern, api) of every route in server/web.c's table."""
    src = open(WEB_C).read()
    table = src[src.index("static const struct http_route routes[]"):]
    out = []
    for m in re.finditer(r'\b(PAGE|API)\("(GET|POST)", "([^"]+)"', table):
        out.append((m.group(2), m.group(3), m.group(1) == "API"))
    for m in re.finditer(r'\b(FORM|APIJ)\("([^"]+)"', table):
        out.append(("POST", m.group(2), m.group(1) == "APIJ"))
    for m in re.finditer(r'\{"(GET|POST)", "([^"]+)", \w+', table):
        out.append((m.group(1), m.group(2), m.group(2).startswith("/api/")))
    return out


PUBLIC = {("GET", "/static/*"), ("GET", "/signin"), ("POST", "/signin")}


class Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


OUR_HX = {"hx-get", "hx-trigger", "hx-swap", "hx-headers", "hx-disable"}


def assert_escaped(html, *payloads):
    """None of the payloads appears raw, and the parsed page has only the
    elements and attributes latchd writes itself: no event handlers, no
    injected htmx attributes, no script but the two files."""
    for p in payloads:
        assert p not in html, "raw payload in page: %r" % p
    parser = Tags()
    parser.feed(html)
    scripts = [a for t, a in parser.tags if t == "script"]
    assert scripts == [{"src": "/static/htmx.min.js", "defer": None},
                       {"src": "/static/app.js", "defer": None}], scripts
    for tag, attrs in parser.tags:
        assert tag not in ("img", "iframe", "object", "embed", "base"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", (tag, name)
            if name.startswith("hx-"):
                assert name in OUR_HX, (tag, name, value)
            if name == "hx-get":
                assert re.fullmatch(r"/enrollments/\d+/progress", value)
            if name in ("href", "action", "src") and value != "#main":
                assert value.startswith("/") and not value.startswith("//"), \
                    (tag, name, value)
                assert "<" not in value and "script" not in value.lower()


def enroll_json(device, tmp_path, name="enr"):
    dev = device()
    path = dev.enroll(str(tmp_path / (name + ".json")))
    return dev, json.load(open(path))


def multipart(files):
    boundary = "----latchtest" + secrets.token_hex(8)
    parts = []
    for fname, data in files:
        parts.append(("--%s\r\nContent-Disposition: form-data; "
                      "name=\"files\"; filename=\"%s\"\r\nContent-Type: "
                      "application/json\r\n\r\n" % (boundary, fname)).encode()
                     + data + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
    return body, "multipart/form-data; boundary=" + boundary


def upload(web, sid, csrf, files):
    body, ctype = multipart(files)
    return web.request("POST", "/enrollments/upload", body=body, headers={
        "Content-Type": ctype, "Origin": web.origin,
        "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": csrf}, session=sid)


# --- anonymous access -----------------------------------------------------


def test_every_page_and_api_route_refuses_anonymous_access(web):
    table = routes()
    assert len(table) >= 45, table
    checked = 0
    for method, pattern, api in table:
        if (method, pattern) in PUBLIC:
            continue
        path = pattern.replace("*", "1")
        if method == "GET":
            res = web.get(path)
        else:
            res = web.form(path, {}, csrf="0" * 32)
        if api:
            assert res.status == 401, (method, path, res)
            assert res.json()["error"]["code"] == "unauthorized"
        elif method == "GET":
            assert res.status == 303, (method, path, res)
            assert res.header("location") == "/signin"
            assert res.body == b""
        else:
            assert res.status == 401, (method, path, res)
        checked += 1
    assert checked >= 40
    # A forged session cookie is no better than none.
    res = web.get("/", session="0" * 32)
    assert res.status == 303
    res = web.get("/api/v1/enrollments", session=secrets.token_hex(16))
    assert res.status == 401
    # htmx requests get a redirect header instead of a page.
    res = web.get("/enrollments/1/progress", headers={"HX-Request": "true"})
    assert res.status == 401 and res.header("hx-redirect") == "/signin"


def test_public_routes_are_only_sign_in_and_assets(web):
    assert web.get("/signin").status == 200
    res = web.get("/static/htmx.min.js")
    assert res.status == 200 and b"htmx" in res.body
    assert res.header("content-type").startswith("text/javascript")
    assert web.get("/static/app.css").status == 200
    assert web.get("/static/nothing.js").status == 404


# --- roles -------------------------------------------------------------------


@pytest.fixture
def issued(web, device, tmp_path):
    """An approved enrollment with an active license, made by an admin."""
    admin = web.token("admin")
    dev, doc = enroll_json(device, tmp_path)
    res = web.api("POST", "/api/v1/enrollments", admin,
                  raw=json.dumps(doc).encode())
    assert res.status == 201, res
    enr_id = res.json()["id"]
    assert wait_done(web, admin, enr_id)["state"] == "valid"
    assert web.api("POST", "/api/v1/customers", admin,
                   {"name": "ACME"}).status == 201
    res = web.api("POST", "/api/v1/enrollments/%d/approve" % enr_id, admin)
    assert res.status == 200, res
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr_id, "customer": "ACME", "features": ["base"]})
    assert res.status == 201, res
    return admin, enr_id, res.json()["license"]["id"]


def test_viewer_cannot_approve_issue_or_revoke(web, issued, device,
                                               tmp_path):
    admin, enr_id, lic_id = issued
    # A second, valid enrollment a viewer might try to approve.
    _, doc = enroll_json(device, tmp_path, "second")
    res = web.api("POST", "/api/v1/enrollments", admin,
                  raw=json.dumps(doc).encode())
    second = res.json()["id"]
    assert wait_done(web, admin, second)["state"] == "valid"

    sid, csrf = web.user_session("viewer")
    page = web.get("/enrollments/%d" % second, session=sid)
    assert page.status == 200 and "Approve</button>" not in page.text
    tries = [
        ("/enrollments/%d/approve" % second, {}),
        ("/enrollments/%d/reject" % second, {"reason": "x"}),
        ("/enrollments/%d/issue" % enr_id, {"customer": "ACME"}),
        ("/licenses/%d/revoke" % lic_id, {"reason": "x"}),
        ("/customers", {"name": "new"}),
        ("/plans", {"name": "p"}),
        ("/users", {"name": "mallory", "role": "admin",
                    "password": "x" * 16}),
    ]
    for path, fields in tries:
        res = web.form(path, fields, session=sid, csrf=csrf)
        assert res.status == 403, (path, res)
        assert "forbidden" in res.text
    assert web.get("/enrollments/%d/issue" % enr_id,
                   session=sid).status == 403
    assert web.get("/users", session=sid).status == 403

    viewer = web.token("viewer")
    for path, payload in [
            ("/api/v1/enrollments/%d/approve" % second, {}),
            ("/api/v1/licenses", {"enrollment_id": enr_id,
                                  "customer": "ACME"}),
            ("/api/v1/licenses/%d/revoke" % lic_id, {"reason": "x"})]:
        res = web.api("POST", path, viewer, payload)
        assert res.status == 403, (path, res)
    # Nothing changed.
    show = web.api("GET", "/api/v1/enrollments/%d" % second, admin).json()
    assert show["state"] == "valid"
    lic = web.api("GET", "/api/v1/licenses/%d" % lic_id, admin).json()
    assert lic["state"] == "active"
    lics = web.api("GET", "/api/v1/licenses", admin).json()["items"]
    assert len(lics) == 1
    # An approver may.
    sid_a, csrf_a = web.user_session("approver")
    res = web.form("/licenses/%d/revoke" % lic_id, {"reason": "test"},
                   session=sid_a, csrf=csrf_a)
    assert res.status == 303, res
    lic = web.api("GET", "/api/v1/licenses/%d" % lic_id, admin).json()
    assert lic["state"] == "revoked"


# --- CSRF and origins ------------------------------------------------------


def test_csrf_token_and_same_origin_are_required_for_changes(web):
    sid, csrf = web.user_session("approver")

    def customers():
        res = web.api("GET", "/api/v1/customers?limit=1000",
                      web.token("viewer"))
        return [c["name"] for c in res.json()["items"]]

    res = web.form("/customers", {"name": "no-token"}, session=sid)
    assert res.status == 403 and "csrf" in res.text
    res = web.form("/customers", {"name": "wrong"}, session=sid,
                   csrf="f" * 32)
    assert res.status == 403
    res = web.form("/customers", {"name": "cross"}, session=sid, csrf=csrf,
                   origin=False, headers={"Origin": "http://evil.example",
                                          "Sec-Fetch-Site": "cross-site"})
    assert res.status == 403 and "cross_origin" in res.text
    res = web.form("/customers", {"name": "origin-only"}, session=sid,
                   csrf=csrf, origin=False,
                   headers={"Origin": "http://evil.example"})
    assert res.status == 403
    res = web.form("/customers", {"name": "site-only"}, session=sid,
                   csrf=csrf, origin=False,
                   headers={"Sec-Fetch-Site": "same-site"})
    assert res.status == 403
    res = web.form("/customers", {"name": "null-origin"}, session=sid,
                   csrf=csrf, origin=False, headers={"Origin": "null"})
    assert res.status == 403
    assert customers() == []

    # What a browser sends for a form post under Referrer-Policy:
    # no-referrer: Origin null, vouched for by Sec-Fetch-Site.
    res = web.form("/customers", {"name": "null-origin"}, session=sid,
                   csrf=csrf, origin=False, headers={
                       "Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert res.status == 303, res
    web.latchd.sql("DELETE FROM customers")

    # The right token, in the form or in htmx's header, same origin: done.
    res = web.form("/customers", {"name": "by-form"}, session=sid, csrf=csrf)
    assert res.status == 303, res
    res = web.form("/customers", {"name": "by-header"}, session=sid,
                   headers={"X-CSRF-Token": csrf})
    assert res.status == 303, res
    assert sorted(customers()) == ["by-form", "by-header"]

    # Another user's token does not fit this session.
    _, other = web.user_session("approver")
    res = web.form("/customers", {"name": "other"}, session=sid, csrf=other)
    assert res.status == 403


def test_origin_check_compares_host_and_port(web):
    """Without [http] origin, Origin must be http:// or https:// plus the
    Host the request came to (host without case); anything else is
    another origin."""
    sid, csrf = web.user_session("approver")
    host = "127.0.0.1:%d" % web.port
    for origin in ("ftp://" + host, "http://" + host + "x",
                   "http://127.0.0.1", "https://127.0.0.1:%d" % (web.port + 1),
                   "http://" + host + "/", "javascript://" + host):
        res = web.form("/customers", {"name": "c"}, session=sid, csrf=csrf,
                       origin=False, headers={"Origin": origin,
                                              "Sec-Fetch-Site": "same-origin"})
        assert res.status == 403 and "cross_origin" in res.text, origin
    for i, origin in enumerate(("http://" + host, "https://" + host)):
        res = web.form("/customers", {"name": "c%d" % i}, session=sid,
                       csrf=csrf, origin=False,
                       headers={"Origin": origin,
                                "Sec-Fetch-Site": "same-origin"})
        assert res.status == 303, (origin, res)


def test_configured_public_origin_is_the_only_one(vendor_ca, license_pki,
                                                  tmp_path):
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d, "[http]\norigin = https://latch.example")
    try:
        own = w.origin
        w.origin = "https://latch.example"  # what browsers now send
        sid, csrf = w.user_session("approver")
        for origin, want in (("https://latch.example", 303),
                             ("http://latch.example", 403),
                             (own, 403)):
            res = w.form("/customers", {"name": "c" + str(want)},
                         session=sid, csrf=csrf, origin=False,
                         headers={"Origin": origin,
                                  "Sec-Fetch-Site": "same-origin"})
            assert res.status == want, (origin, res)
    finally:
        stop(w.proc)
        w.log.close()


def test_no_state_change_on_get(web):
    sid, _ = web.user_session("admin")
    for path in ("/enrollments/1/approve", "/enrollments/1/reject",
                 "/licenses/1/revoke", "/signout", "/tokens",
                 "/users/1/update"):
        res = web.get(path, session=sid)
        assert res.status == 405, (path, res)
        assert "POST" in res.header("allow")
    res = web.get("/api/v1/enrollments/1/approve", token=web.token("admin"))
    assert res.status == 405


# --- body limits --------------------------------------------------------------


def test_large_uploads_get_413_with_flat_memory(web):
    token = web.token("approver")
    sid, csrf = web.user_session("approver")
    ten_mb = os.urandom(10 * 1024 * 1024)
    # Warm up the pool threads and allocator first.
    for _ in range(3):
        web.api("POST", "/api/v1/enrollments", token, raw=b"{}")
    before = web.rss_kib()

    for _ in range(3):
        res = web.api("POST", "/api/v1/enrollments", token, raw=ten_mb)
        assert res.status == 413, res
        assert res.json()["error"]["code"] == "body_too_large"
        res = upload(web, sid, csrf, [("big.json", ten_mb)])
        assert res.status == 413, res
        # Without a declared length (chunked) the body is dropped as it
        # arrives.
        res = web.request("POST", "/api/v1/enrollments",
                          body=iter([ten_mb[i:i + 65536] for i in
                                     range(0, len(ten_mb), 65536)]),
                          headers={"Content-Type": "application/json",
                                   "Transfer-Encoding": "chunked"},
                          token=token, chunked=True)
        assert res.status == 413, res
    after = web.rss_kib()
    assert after - before < 2048, (before, after)

    # The cap is 64 KiB exactly: one byte less is parsed (and refused as
    # JSON), one more is not read at all.
    small = b" " * (64 * 1024 - 2) + b"{}"
    assert web.api("POST", "/api/v1/enrollments", token,
                   raw=small).status == 422
    assert web.api("POST", "/api/v1/enrollments", token,
                   raw=small + b" ").status == 413
    # A multipart file of 64 KiB + 1 byte is over, whatever the total.
    res = upload(web, sid, csrf, [("a.json", b" " * (64 * 1024 + 1))])
    assert res.status == 413


# --- hostile values --------------------------------------------------------------


def xss_cert_der(tmp_path):
    out = str(tmp_path / "xss.der")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         str(tmp_path / "xss.key"), "-days", "30", "-outform", "DER",
         "-out", out, "-subj",
         r'/CN=<script>alert(1)<\/script>/O=" hx-post="\/enrollments\/1'
         r'\/approve/OU=<img src=x onerror=alert(1)>'],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return open(out, "rb").read()


def test_hostile_values_come_back_escaped(web, device, tmp_path):
    admin = web.token("admin")
    sid, csrf = web.user_session("admin")
    _, doc = enroll_json(device, tmp_path)
    doc["device"] = {"hostname": XSS_SCRIPT, "label": XSS_ATTR,
                     "product": XSS_IMG, "serial_number": XSS_BIDI}
    res = upload(web, sid, csrf, [("hostile.json",
                                   json.dumps(doc).encode())])
    assert res.status == 303, res
    enr_id = int(res.header("location").rsplit("/", 1)[1])
    assert wait_done(web, admin, enr_id)["state"] == "valid"

    # A certificate whose subject carries the payloads (validation fails,
    # but its facts are shown).
    _, doc2 = enroll_json(device, tmp_path, "cert")
    doc2["identity"]["ek_certificate"] = base64.b64encode(
        xss_cert_der(tmp_path)).decode()
    res = web.api("POST", "/api/v1/enrollments", admin,
                  raw=json.dumps(doc2).encode())
    assert res.status == 201, res
    cert_id = res.json()["id"]
    assert wait_done(web, admin, cert_id)["state"] != "valid"

    # A customer named like an attack, and a license for it.
    customer = XSS_SCRIPT + XSS_ATTR
    assert web.api("POST", "/api/v1/customers", admin,
                   {"name": customer}).status == 201
    assert web.api("POST", "/api/v1/enrollments/%d/approve" % enr_id,
                   admin).status == 200
    res = web.api("POST", "/api/v1/licenses", admin,
                  {"enrollment_id": enr_id, "customer": customer,
                   "features": ["base"]})
    assert res.status == 201, res
    lic_id = res.json()["license"]["id"]

    raw = (XSS_SCRIPT, XSS_IMG, 'hx-post="/enrollments/1/approve"',
           "\u202e")
    pages = {
        "detail": "/enrollments/%d" % enr_id,
        "cert": "/enrollments/%d" % cert_id,
        "list": "/enrollments",
        "search": "/enrollments?q=%3Cscript",
        "dashboard": "/",
        "customers": "/customers",
        "licenses": "/licenses",
        "license": "/licenses/%d" % lic_id,
        "issue": "/enrollments/%d/issue" % enr_id,
        "audit": "/audit",
        "device": "/devices/" + web.api(
            "GET", "/api/v1/enrollments/%d" % enr_id,
            admin).json()["device_id"],
    }
    for name, path in pages.items():
        res = web.get(path, session=sid)
        assert res.status == 200, (name, res)
        assert_escaped(res.text, *raw)
    detail = web.get(pages["detail"], session=sid).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "&quot; hx-post=&quot;/enrollments/1/approve&quot; x=&quot;" in \
        detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "invoice[U+202E]txt.exe" in detail
    cert = web.get(pages["cert"], session=sid).text
    # The subject is shown RFC 2253-escaped, then HTML-escaped.
    assert "CN=\\&lt;script\\&gt;alert(1)\\&lt;/script\\&gt;" in cert
    assert "OU=\\&lt;img src=x onerror=alert(1)\\&gt;" in cert
    assert "hx-post=" in cert  # as text, escaped, inside the subject
    lic = web.get(pages["license"], session=sid).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; hx-post=" in lic
    search = web.get(pages["search"], session=sid).text
    assert "/enrollments/%d\"" % enr_id in search
    # The download's file name is built from hex only.
    dl = web.get("/licenses/%d/download" % lic_id, session=sid)
    assert re.fullmatch(r'attachment; filename="license-[0-9a-f]{16}-1\.json"',
                        dl.header("content-disposition"))


# --- sessions -------------------------------------------------------------------


def test_session_id_changes_at_sign_in_and_dies_at_sign_out(web):
    pw = web.add_user("erin", "viewer")
    planted = "ab" * 16
    res = web.signin_raw("erin", pw, session=planted)
    assert res.status == 303
    sid1 = session_of(res)
    assert sid1 and sid1 != planted and re.fullmatch("[0-9a-f]{32}", sid1)
    cookie = [c for c in res.all("set-cookie")
              if c.startswith(SESSION_COOKIE)][0]
    for attr in ("Path=/", "HttpOnly", "SameSite=Strict", "Secure"):
        assert attr in cookie, cookie
    assert "Domain" not in cookie
    assert web.get("/", session=planted).status == 303

    # Signing in again from the same browser: a new id, the old one ends.
    res = web.signin_raw("erin", pw, session=sid1)
    sid2 = session_of(res)
    assert sid2 and sid2 != sid1
    assert web.get("/", session=sid1).status == 303
    assert web.get("/", session=sid2).status == 200

    csrf = web.csrf(sid2)
    res = web.form("/signout", {}, session=sid2, csrf=csrf)
    assert res.status == 303 and res.header("location") == "/signin"
    assert any("Max-Age=0" in c for c in res.all("set-cookie"))
    assert web.get("/", session=sid2).status == 303
    # Only hashes are stored.
    rows = web.latchd.sql("SELECT sid_sha256 FROM sessions")
    assert all(sid1 not in r[0] and sid2 not in r[0] for r in rows)


def test_idle_and_absolute_session_timeouts(web):
    sid, _ = web.user_session("viewer")
    assert web.get("/", session=sid).status == 200
    # last_seen is written at most every 60 s, so a session ends once it
    # is 30 min + 60 s old: never before 30 min without a request.
    web.latchd.sql("UPDATE sessions SET last_seen = last_seen - 1799")
    assert web.get("/", session=sid).status == 200
    web.latchd.sql("UPDATE sessions SET last_seen = last_seen - 1860")
    assert web.get("/", session=sid).status == 303
    sid, _ = web.user_session("viewer")
    web.latchd.sql("UPDATE sessions SET created_at = created_at - 43201")
    assert web.get("/", session=sid).status == 303
    assert web.latchd.sql("SELECT COUNT(*) FROM sessions")[0][0] == 0


def test_disabled_user_loses_sessions_and_cannot_sign_in(web):
    sid_admin, csrf = web.user_session("admin", "root")
    pw = web.add_user("frank", "approver")
    sid, _ = web.signin("frank", pw)
    uid = web.latchd.sql("SELECT id FROM users WHERE name = 'frank'")[0][0]
    res = web.form("/users/%d/update" % uid,
                   {"role": "approver", "disabled": "1"},
                   session=sid_admin, csrf=csrf)
    assert res.status == 303, res
    assert web.get("/", session=sid).status == 303
    assert web.signin_raw("frank", pw).status == 401


# --- throttling -----------------------------------------------------------------


def test_sign_in_is_throttled_per_account(web):
    pw = web.add_user("grace", "viewer")
    for _ in range(4):
        res = web.signin_raw("grace", "wrong password!")
        assert res.status == 401, res
        assert session_of(res) is None
    res = web.signin_raw("grace", "wrong password!")
    assert res.status == 429
    # Locked: even the right password is refused, without a session.
    res = web.signin_raw("grace", pw)
    assert res.status == 429, res
    assert int(res.header("retry-after")) > 0
    assert session_of(res) is None
    # Another account from the same address is not locked.
    pw2 = web.add_user("heidi", "viewer")
    assert web.signin_raw("heidi", pw2).status == 303
    audit = web.api("GET", "/api/v1/audit?limit=1000",
                    web.token("viewer")).json()["items"]
    failed = [a for a in audit if a["action"] == "auth.signin_failed"]
    assert len(failed) == 5


def test_sign_in_is_throttled_per_address(web):
    pw = web.add_user("ivan", "viewer")
    for i in range(20):
        res = web.signin_raw("nobody%d" % i, "guess guess guess")
        assert res.status in (401, 429), res
    res = web.signin_raw("ivan", pw)
    assert res.status == 429, res


# --- headers -----------------------------------------------------------------


def test_security_headers_on_every_response(web):
    sid, _ = web.user_session("viewer")
    for res, page in [(web.get("/", session=sid), True),
                      (web.get("/signin"), True),
                      (web.get("/nowhere", session=sid), True),
                      (web.get("/static/app.js"), False),
                      (web.get("/api/v1/enrollments"), False),
                      (web.form("/signin", {"name": "x", "password": "y"}),
                       True)]:
        csp = res.header("content-security-policy")
        assert csp is not None, res
        for d in ("default-src 'self'", "script-src 'self'",
                  "object-src 'none'", "base-uri 'none'",
                  "frame-ancestors 'none'"):
            assert d in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert res.header("x-content-type-options") == "nosniff"
        assert res.header("referrer-policy") == "no-referrer"
        if page:
            assert res.header("cache-control") == "no-store"
    page = web.get("/", session=sid).text
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    cfg = json.loads(meta.group(1))
    assert cfg["selfRequestsOnly"] is True
    assert cfg["allowEval"] is False and cfg["allowScriptTags"] is False


def test_slow_headers_are_dropped_after_the_idle_timeout(web):
    import socket

    s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t0 = time.time()
        data = s.recv(4096)
        waited = time.time() - t0
    finally:
        s.close()
    assert data == b"" and 8 < waited < 20, (data, waited)


# --- both databases ------------------------------------------------------------


def test_every_page_and_filter_renders_on_both_databases(web_any):
    web = web_any
    admin = web.token("admin")
    sid, csrf = web.user_session("admin", "pat")
    assert web.form("/customers", {"name": "ACME"}, session=sid,
                    csrf=csrf).status == 303
    assert web.form("/plans", {"name": "pro",
                               "features": "base\nseats=4@2031-01-01"},
                    session=sid, csrf=csrf).status == 303
    plans = web.api("GET", "/api/v1/plans", admin).json()["items"]
    assert plans[0]["name"] == "pro" and len(plans[0]["features"]) == 2
    for path in ("/", "/enrollments", "/enrollments?state=review",
                 "/enrollments?state=valid", "/enrollments?q=a%25_b",
                 "/enrollments?q=x&state=valid&after=5", "/licenses",
                 "/licenses?state=active", "/licenses?customer_id=1",
                 "/licenses?customer=ACME", "/devices", "/customers",
                 "/plans", "/audit", "/audit?actor=web%3Apat",
                 "/audit?action=customer.add",
                 "/audit?object=customer%3AACME&actor=web%3Apat",
                 "/audit?actor=web%3Apat&action=plan.add", "/audit?after=3",
                 "/trust", "/users"):
        res = web.get(path, session=sid)
        assert res.status == 200, (path, res)
    audit = web.get("/audit?actor=web%3Apat", session=sid).text
    assert "customer" in audit and "plan" in audit
    assert "Test TPM Vendor" in web.get("/trust", session=sid).text


def test_insecure_cookies_only_on_a_loopback_address(vendor_ca, license_pki,
                                                     tmp_path):
    from fixtures_latchd import LATCHD, conf_set, make_latchd

    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    conf_set(d.data, "[http]\ncookie_secure = false")
    # A documentation address (never bound: the check comes first).
    res = subprocess.run([LATCHD, "--data", d.data, "serve", "--listen",
                          "192.0.2.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30,
                         check=False)
    assert res.returncode == 2, res
    assert "cookie_secure = false is only for plain HTTP on a loopback" in \
        res.stderr


def test_ak_rotation_banner_names_the_licenses_approval_revokes(web, device,
                                                                 tmp_path):
    admin = web.token("admin")
    dev = device()

    def upload_api(path):
        res = web.api("POST", "/api/v1/enrollments", admin,
                      raw=open(path, "rb").read())
        assert res.status == 201, res
        enr_id = res.json()["id"]
        assert wait_done(web, admin, enr_id)["state"] == "valid"
        return enr_id

    first = upload_api(dev.enroll(str(tmp_path / "first.json")))
    assert web.api("POST", "/api/v1/customers", admin,
                   {"name": "ACME"}).status == 201
    web.api("POST", "/api/v1/enrollments/%d/approve" % first, admin)
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": first, "customer": "ACME", "features": ["base"]})
    lic_id = res.json()["license"]["id"]

    rotated = upload_api(dev.enroll(str(tmp_path / "rotated.json"),
                                    "--rotate"))
    sid, csrf = web.user_session("approver")
    page = web.get("/enrollments/%d" % rotated, session=sid).text
    assert "AK rotation" in page
    assert "Approving it revokes these active licenses" in page
    assert 'href="/licenses/%d"' % lic_id in page
    # The first enrollment's page has no such banner.
    assert "Approving it revokes" not in web.get(
        "/enrollments/%d" % first, session=sid).text

    res = web.form("/enrollments/%d/approve" % rotated, {}, session=sid,
                   csrf=csrf)
    assert res.status == 303, res
    lic = web.api("GET", "/api/v1/licenses/%d" % lic_id, admin).json()
    assert lic["state"] == "revoked"
    page = web.get("/enrollments/%d" % rotated, session=sid).text
    assert "Approved" in page and "Approving it revokes" not in page
