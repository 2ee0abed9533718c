# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Edges of the HTTP layer and the JSON API: every error under /api/v1 is
JSON with a stable code, also for a control character in the path; a body
on GET is ignored (authentication comes first); 405 lists HEAD; an
HTTP/1.1 request needs Host.
"""
import json
import socket

import pytest


def raw(web, request):
    """Sends request bytes as they are; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
    return int(lines[0].split(b" ", 2)[1]), headers, body


def get(web, path, token=None, version=b"HTTP/1.1", host=True):
    req = b"GET " + path + b" " + version + b"\r\n"
    if host:
        req += b"Host: 127.0.0.1\r\n"
    if token is not None:
        req += b"Authorization: Bearer " + token.encode() + b"\r\n"
    return raw(web, req + b"Connection: close\r\n\r\n")


def json_error(headers, body):
    assert headers["content-type"].startswith("application/json"), \
        (headers, body)
    return json.loads(body)["error"]


@pytest.mark.parametrize("path", [
    b"/api/v1/enrollments/2%00", b"/api/v1/enrollments/1%0a/approve",
    b"/api/v1/customers?limit=1%1b",
])
def test_api_control_character_answers_json(web, path):
    status, headers, body = get(web, path, web.token("viewer"))
    assert status == 400, body
    assert json_error(headers, body)["code"] == "bad_request"


def test_get_with_a_body_is_authenticated_first(web):
    res = web.request("GET", "/api/v1/customers", body=b"x")
    assert res.status == 401, res
    assert res.json()["error"]["code"] == "unauthorized"
    token = web.token("viewer")
    res = web.request("GET", "/api/v1/customers", body=b"x", token=token)
    assert res.status == 200, res
    # A page too: the body is ignored, the redirect to sign in comes.
    res = web.request("GET", "/customers", body=b"x")
    assert res.status == 303, res


def test_get_with_a_huge_body_is_still_refused(web):
    res = web.request("GET", "/api/v1/customers", body=b"x" * (65 << 10),
                      token=web.token("viewer"))
    assert res.status == 413, res


def test_405_allow_lists_head_with_get(web):
    res = web.request("DELETE", "/api/v1/customers",
                      token=web.token("admin"))
    assert res.status == 405, res
    allow = [m.strip() for m in res.header("allow").split(",")]
    assert sorted(allow) == ["GET", "HEAD", "POST"], allow
    assert res.json()["error"]["code"] == "method_not_allowed"
    res = web.request("HEAD", "/api/v1/customers", token=web.token("viewer"))
    assert res.status == 200


def test_http11_request_without_host_is_refused(web):
    token = web.token("viewer")
    assert get(web, b"/api/v1/customers", token)[0] == 200
    status, headers, body = get(web, b"/api/v1/customers", token, host=False)
    assert status == 400, body
    assert json_error(headers, body)["code"] == "bad_request"
    assert get(web, b"/signin", host=False)[0] == 400
    # HTTP/1.0 has no Host requirement.
    assert get(web, b"/signin", version=b"HTTP/1.0", host=False)[0] == 200
