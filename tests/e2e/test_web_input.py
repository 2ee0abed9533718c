# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Web UI input and sign-in edge cases: text fields that are not valid
UTF-8, hold control characters or only white space are refused with 400
naming the field (not 500 "out of memory"); list filters, the upload file
limit, session idle time, the per-address sign-in lock, the issue form
and the messages naming what was given.
"""
import json
import os
import sqlite3
from urllib.parse import quote_from_bytes

from fixtures_latchd import make_latchd
from fixtures_web import serve, stop
from test_api import wait_done
from test_http import enroll_json, issued, multipart, upload  # noqa: F401


def raw_form(web, path, pairs, sid, csrf):
    """POSTs urlencoded bytes as they are (values may be invalid UTF-8)."""
    body = "&".join("%s=%s" % (k, quote_from_bytes(v))
                    for k, v in pairs + [("csrf_token", csrf.encode())])
    return web.request("POST", path, body=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": web.origin, "Sec-Fetch-Site": "same-origin"}, session=sid)


BAD_TEXT = [b"\xff\xfe", b"   ", b"\xc2\xa0 \xe3\x80\x80", b"a\x01b",
            b"a\xc2\x85b"]


def test_text_fields_refuse_invalid_utf8_controls_and_blanks(web):
    sid, csrf = web.user_session("admin")
    cases = [("/customers", "name", "customer name"),
             ("/plans", "name", "plan name"),
             ("/tokens", "name", "token name"),
             ("/users", "name", "user name"),
             ("/enrollments/1/reject", "reason", "reason"),
             ("/licenses/1/revoke", "reason", "reason")]
    extra = {"/plans": [("features", b"f1")],
             "/tokens": [("role", b"viewer")],
             "/users": [("role", b"viewer"),
                        ("password", b"correct horse battery")]}
    for path, field, what in cases:
        for value in BAD_TEXT:
            if path == "/users" and value == b"   ":
                continue  # a user name is ASCII: refused by its charset
            res = raw_form(web, path, [(field, value)] + extra.get(path, []),
                           sid, csrf)
            assert res.status == 400, (path, value, res)
            assert "out of memory" not in res.text, (path, value)
            assert what + ":" in res.text, (path, value, res.text[-800:])
            assert b"\xff\xfe" not in res.body
    res = raw_form(web, "/customers", [("name", b"\xff\xfe")], sid, csrf)
    assert "customer name: not valid UTF-8" in res.text
    res = raw_form(web, "/customers", [("name", b"   ")], sid, csrf)
    assert "customer name: only white space" in res.text
    # Ordinary text still works.
    res = raw_form(web, "/customers", [("name", "Åke AB".encode())], sid,
                   csrf)
    assert res.status == 303, res


def test_upload_with_invalid_utf8_file_name_is_refused_by_name(web):
    sid, csrf = web.user_session("admin")
    body, ctype = multipart([("x.json", b"{}")])
    body = body.replace(b'filename="x.json"', b'filename="\xff\xfe.json"')
    res = web.request("POST", "/enrollments/upload", body=body, headers={
        "Content-Type": ctype, "Origin": web.origin,
        "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": csrf}, session=sid)
    assert res.status in (400, 422), res
    assert "out of memory" not in res.text
    assert "file name: not valid UTF-8" in res.text
    assert b"\xff\xfe" not in res.body


# --- list filter, upload limit -------------------------------------------


def test_licenses_customer_id_filter(web, issued):
    sid, _ = web.user_session("viewer")
    all_page = web.get("/licenses", session=sid)
    assert all_page.status == 200 and "ACME" in all_page.text
    for bad in ("0", "abc", "-1", "", "1x"):
        res = web.get("/licenses?customer_id=" + bad, session=sid)
        assert res.status == 400, (bad, res)
        assert "customer_id" in res.text
    res = web.get("/licenses?customer_id=99999", session=sid)
    assert res.status == 200, res
    assert "No customer with id 99999" in res.text
    assert "ACME" not in res.text
    res = web.get("/licenses?customer_id=1", session=sid)
    assert res.status == 200 and "ACME" in res.text


def test_upload_over_the_file_limit_is_refused_whole(web):
    sid, csrf = web.user_session("approver")
    files = [("f%02d.json" % i, b'{"n": %d}' % i) for i in range(40)]
    res = upload(web, sid, csrf, files)
    assert res.status == 413, res
    assert "40 files" in res.text and "at most 32" in res.text
    assert "Nothing was stored" in res.text
    audit = web.get("/audit", session=web.user_session("admin")[0])
    assert "upload_rejected" not in audit.text
    # 32 is still fine (each file is refused on its own merits).
    res = upload(web, sid, csrf, files[:32])
    assert res.status == 422, res
    assert res.text.count("not a JSON object") + \
        res.text.count("identity_schema") >= 32


# --- sessions ------------------------------------------------------------


def shift_sessions(web, seconds):
    """Moves every session's clock back, as if seconds had passed."""
    con = sqlite3.connect(os.path.join(web.latchd.data, "latchd.db"))
    try:
        con.execute("UPDATE sessions SET last_seen = last_seen - ?, "
                    "created_at = created_at - ?", (seconds, seconds))
        con.commit()
    finally:
        con.close()


def test_short_idle_session_is_not_expired_early(vendor_ca, license_pki,
                                                  tmp_path):
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d, extra_conf="[session]\nidle_minutes = 1")
    try:
        sid, _ = w.user_session("viewer")
        shift_sessions(w, 40)
        assert w.get("/", session=sid).status == 200  # used at t=40
        shift_sessions(w, 40)
        # t=80: 40 s since the last request, under the minute.
        assert w.get("/", session=sid).status == 200
        shift_sessions(w, 76)
        res = w.get("/", session=sid)  # 76 s idle: over
        assert res.status == 303 and res.header("location") == "/signin"
    finally:
        stop(w.proc)
        w.log.close()


# --- sign-in throttle ----------------------------------------------------


def end_locks(web):
    con = sqlite3.connect(os.path.join(web.latchd.data, "latchd.db"))
    try:
        con.execute("UPDATE signin_throttle SET locked_until = 0")
        con.commit()
    finally:
        con.close()


def test_sustained_address_lock_still_lets_a_user_without_failures_in(web):
    """Behind a same-host proxy every client is 127.0.0.1: a flood of bad
    guesses must not lock the right password out for good."""
    pw = web.add_user("olga", "admin")
    pw2 = web.add_user("pete", "viewer")
    assert web.signin_raw("pete", "wrong password!").status == 401
    for i in range(19):
        res = web.signin_raw("nobody%d" % i, "guess guess guess")
        assert res.status in (401, 429), res
    # The first address lock holds for everyone (test_http checks it too).
    assert web.signin_raw("olga", pw).status == 429
    end_locks(web)
    res = web.signin_raw("nobody99", "guess guess guess")
    assert res.status == 429 and int(res.header("retry-after")) > 30, res
    # Sustained: a name without failures gets its password checked once.
    res = web.signin_raw("olga", pw)
    assert res.status == 303, res
    # A name that failed in the window stays locked out, right or wrong.
    assert web.signin_raw("pete", pw2).status == 429
    # A wrong guess for a fresh name is counted: no second try.
    assert web.signin_raw("quinn", "guess guess guess").status == 429
    assert web.signin_raw("quinn", "guess guess guess").status == 429


# --- issue form, messages ------------------------------------------------


def test_issue_form_checks_supersede_and_the_enrollment_state(web, issued,
                                                               device,
                                                               tmp_path):
    _, enr_id, _ = issued
    sid, csrf = web.user_session("admin")
    res = web.form("/enrollments/%d/issue" % enr_id,
                   {"customer": "ACME", "supersede": "maybe",
                    "f0_on": "1", "f0_name": "base"}, session=sid, csrf=csrf)
    assert res.status == 400, res
    assert "supersede: expected 1" in res.text
    lics = web.api("GET", "/api/v1/licenses", web.token("viewer")).json()
    assert len(lics["items"]) == 1
    # An enrollment that is valid but not approved gets no form.
    admin = web.token("admin")
    _, doc = enroll_json(device, tmp_path, "second")
    res = web.api("POST", "/api/v1/enrollments", admin,
                  raw=json.dumps(doc).encode())
    second = res.json()["id"]
    assert wait_done(web, admin, second)["state"] == "valid"
    res = web.get("/enrollments/%d/issue" % second, session=sid)
    assert res.status == 409, res
    assert "only an approved enrollment can get a license" in res.text
    assert 'name="customer"' not in res.text
    res = web.get("/enrollments/%d/issue" % enr_id, session=sid)
    assert res.status == 200 and 'name="customer"' in res.text


def test_messages_name_the_text_given(web):
    sid, csrf = web.user_session("admin")
    res = web.get("/enrollments/abc", session=sid)
    assert res.status == 404
    assert 'enrollment &quot;abc&quot;: no such enrollment' in res.text
    assert "enrollment 0" not in res.text
    res = web.form("/tokens/abc/revoke", {}, session=sid, csrf=csrf)
    assert res.status == 404
    assert "token &quot;abc&quot;" in res.text and "id 0" not in res.text
    for path in ("/licenses/0", "/licenses/x1/revoke",
                 "/enrollments/007/issue"):
        if path.endswith("revoke"):
            res = web.form(path, {"reason": "r"}, session=sid, csrf=csrf)
        else:
            res = web.get(path, session=sid)
        assert res.status == 404, (path, res)
        assert "an id is a positive number" in res.text


def test_revoking_a_revoked_token_is_a_conflict(web):
    sid, csrf = web.user_session("admin")
    web.token("viewer", name="ci")
    res = web.form("/tokens/1/revoke", {}, session=sid, csrf=csrf)
    assert res.status == 303, res
    res = web.form("/tokens/1/revoke", {}, session=sid, csrf=csrf)
    assert res.status == 409, res
    assert "token 1 is revoked already" in res.text
    res = web.form("/tokens/99/revoke", {}, session=sid, csrf=csrf)
    assert res.status == 404 and "no token with id 99" in res.text


def test_rejecting_a_rejected_enrollment_gives_no_wrong_advice(web, device,
                                                               tmp_path):
    admin = web.token("admin")
    _, doc = enroll_json(device, tmp_path)
    res = web.api("POST", "/api/v1/enrollments", admin,
                  raw=json.dumps(doc).encode())
    enr_id = res.json()["id"]
    wait_done(web, admin, enr_id)
    sid, csrf = web.user_session("approver")
    path = "/enrollments/%d/reject" % enr_id
    assert web.form(path, {"reason": "no"}, session=sid,
                    csrf=csrf).status == 303
    res = web.form(path, {"reason": "no"}, session=sid, csrf=csrf)
    assert res.status == 409, res
    assert "is rejected already" in res.text
    assert "revoke its licenses" not in res.text


# --- memory ------------------------------------------------------------------


def test_sign_ins_give_argon2_memory_back(web):
    """argon2id takes 19 MiB per hash; glibc kept it in each HTTP thread's
    arena (RSS 18 -> ~95 MB after the first sign-ins)."""
    pw = web.add_user("rita", "viewer")
    web.get("/signin")
    before = web.rss_kib()
    for _ in range(10):
        assert web.signin_raw("rita", pw).status == 303
        assert web.signin_raw("rita", "wrong password!").status == 401
        web.signin_raw("nobody", "guess guess guess")
    after = web.rss_kib()
    print("RSS before %d KiB, after 10 sign-ins %d KiB" % (before, after))
    assert after < 60 * 1024, (before, after)
    assert after - before < 30 * 1024, (before, after)
