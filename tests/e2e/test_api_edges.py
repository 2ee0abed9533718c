# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Edges of the HTTP layer and the JSON API: every error under /api/v1 is
JSON with a stable code, also for invalid UTF-8 or a control character in
the path or a query value; a body on GET is ignored (authentication comes
first); query parameters follow one rule (unknown, repeated or valueless
ones are bad_query); 405 lists HEAD; an HTTP/1.1 request needs Host.
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


@pytest.mark.parametrize("path,status,code", [
    (b"/api/v1/enrollments?state=%ff", 400, "bad_query"),
    (b"/api/v1/devices/%ff", 404, "not_found"),
    (b"/api/v1/enrollments/%ff", 404, "not_found"),
    (b"/api/v1/licenses/%c3%28", 404, "not_found"),
])
def test_api_invalid_utf8_answers_json_with_escaped_text(web, path, status,
                                                         code):
    status_got, headers, body = get(web, path, web.token("viewer"))
    assert status_got == status, body
    err = json_error(headers, body)
    assert err["code"] == code, err
    assert "\\x" in err["message"], err


@pytest.mark.parametrize("path", [
    b"/api/v1/enrollments/2%00", b"/api/v1/enrollments/1%0a/approve",
    b"/api/v1/customers?limit=1%1b",
])
def test_api_control_character_answers_json(web, path):
    status, headers, body = get(web, path, web.token("viewer"))
    assert status == 400, body
    assert json_error(headers, body)["code"] == "bad_request"


def test_api_x_filename_must_be_utf8(web):
    token = web.token("approver")
    res = web.request("POST", "/api/v1/enrollments", body=b"{}",
                      headers={"Content-Type": "application/json",
                               "X-Filename": "\xff.json"}, token=token)
    assert res.status == 400, res
    err = res.json()["error"]
    assert err["code"] == "bad_request" and "X-Filename" in err["message"]
    assert web.api("GET", "/api/v1/enrollments", token).json()["items"] == []


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


@pytest.mark.parametrize("path,name", [
    ("/api/v1/audit?state=x", "state"),
    ("/api/v1/customers?state=x", "state"),
    ("/api/v1/plans?state=active", "state"),
    ("/api/v1/devices?customer=a", "customer"),
    ("/api/v1/enrollments?customer=a", "customer"),
    ("/api/v1/enrollments?limt=5", "limt"),
    ("/api/v1/enrollments/1?x=1", "x"),
    ("/api/v1/enrollments/1/progress?after=1", "after"),
    ("/api/v1/openapi.json?v=1", "v"),
])
def test_api_unknown_query_parameter_is_named(web, path, name):
    res = web.api("GET", path, web.token("viewer"))
    assert res.status == 400, res
    err = res.json()["error"]
    assert err["code"] == "bad_query", err
    assert '"%s" is unknown' % name in err["message"], err
    assert "expected one of" not in err["message"]


def test_api_unknown_query_parameter_on_post(web):
    res = web.api("POST", "/api/v1/customers?dry_run=1", web.token("admin"),
                  {"name": "ACME"})
    assert res.status == 400 and "dry_run" in res.json()["error"]["message"]
    assert web.api("GET", "/api/v1/customers",
                   web.token("viewer")).json()["items"] == []


@pytest.mark.parametrize("query,name", [
    ("limit=1&limit=2", "limit"), ("state=valid&state=approved", "state"),
    ("limit", "limit"), ("limit=", "limit"), ("order", "order"),
    ("device_id=abc", "device_id"), ("device_id=" + "A" * 64, "device_id"),
    ("device_id=" + "0" * 65, "device_id"),
])
def test_api_repeated_bare_or_bad_query_parameter(web, query, name):
    res = web.api("GET", "/api/v1/enrollments?" + query, web.token("viewer"))
    assert res.status == 400, res
    err = res.json()["error"]
    assert err["code"] == "bad_query" and name in err["message"], err


def test_api_good_query_parameters_still_work(web):
    token = web.token("viewer")
    res = web.api("GET", "/api/v1/enrollments?device_id=" + "0" * 64
                  + "&limit=5&order=newest", token)
    assert res.status == 200, res
    res = web.api("GET", "/api/v1/audit?order=newest&limit=2&after=0", token)
    assert res.status == 200, res
    res = web.api("GET", "/api/v1/devices/" + "0" * 64, token)
    assert res.status == 404 and res.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("seg", ["abc", "0", "-1", "A" * 64, "0" * 63])
def test_api_device_show_checks_the_id_pattern(web, seg):
    res = web.api("GET", "/api/v1/devices/" + seg, web.token("viewer"))
    assert res.status == 404, res
    err = res.json()["error"]
    assert err["code"] == "not_found" and '"%s"' % seg in err["message"], err
    assert "64 lowercase hex" in err["message"], err
    # A numeric id is a device's row id: looked up, not refused.
    res = web.api("GET", "/api/v1/devices/7", web.token("viewer"))
    assert res.status == 404, res
    assert "64 lowercase hex" not in res.json()["error"]["message"]


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


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(web, scheme):
    token = web.token("viewer")
    res = web.request("GET", "/api/v1/customers",
                      headers={"Authorization": scheme + " " + token})
    assert res.status == 200, res
    res = web.request("GET", "/api/v1/customers",
                      headers={"Authorization": scheme + " lt_" + "0" * 64})
    assert res.status == 401, res
    res = web.request("GET", "/api/v1/customers",
                      headers={"Authorization": "Basic " + token})
    assert res.status == 401, res


@pytest.mark.parametrize("name,why", [
    ("   ", "only white space"),
    ("\u3000\u00a0", "only white space"),
    ("a\u0085b", "control character U+0085"),
    ("a\tb", "control character U+0009"),
    ("", "required"),
])
def test_api_customer_and_plan_names_get_the_shared_text_check(web, name,
                                                               why):
    token = web.token("admin")
    res = web.api("POST", "/api/v1/customers", token, {"name": name})
    assert res.status == 400, res
    assert why in res.json()["error"]["message"], res.json()
    res = web.api("POST", "/api/v1/plans", token,
                  {"name": name, "features": [{"name": "base"}]})
    assert res.status == 400, res
    assert why in res.json()["error"]["message"], res.json()
    res = web.api("GET", "/api/v1/customers", token)
    assert res.json()["items"] == [], res.json()


@pytest.mark.parametrize("name", [" ACME", "ACME ", " "])
def test_api_names_with_outer_spaces_are_refused(web, name):
    token = web.token("admin")
    res = web.api("POST", "/api/v1/customers", token, {"name": name})
    assert res.status == 400, res
    assert "customer name" in res.json()["error"]["message"], res.json()
    res = web.api("POST", "/api/v1/customers", token, {"name": "AC ME"})
    assert res.status == 201, res
