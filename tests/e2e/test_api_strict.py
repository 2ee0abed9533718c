# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The JSON API reads request bodies, query parameters and path ids
strictly: an unknown (e.g. misspelt) body member, a bad list parameter or
a non-numeric id answers 400/404 naming what was wrong, instead of being
ignored or replaced by a default.
"""
import pytest


def error_of(res):
    return res.json()["error"]


@pytest.mark.parametrize("path,payload,member", [
    ("/api/v1/licenses", {"enrollment_id": 1, "customer": "ACME",
                          "valid_untill": "2027-01-01"}, "valid_untill"),
    ("/api/v1/licenses", {"enrollment_id": 1, "customer": "ACME",
                          "features": [{"name": "x", "quantyty": 2}]},
     "quantyty"),
    ("/api/v1/customers", {"name": "ACME", "evil": 1}, "evil"),
    ("/api/v1/plans", {"name": "pro", "feature": ["a"]}, "feature"),
    ("/api/v1/plans", {"name": "pro", "features": [{"name": "a", "q": 1}]},
     "q"),
    ("/api/v1/enrollments/1/approve", {"overide": True}, "overide"),
    ("/api/v1/enrollments/1/reject", {"reason": "x", "evil": 1}, "evil"),
    ("/api/v1/licenses/1/revoke", {"reason": "x", "evil": 1}, "evil"),
])
def test_api_refuses_unknown_body_members_naming_them(web, path, payload,
                                                      member):
    admin = web.token("admin")
    res = web.api("POST", path, admin, payload)
    assert res.status == 400, res
    err = error_of(res)
    assert err["code"] == "unknown_member", err
    assert member in err["message"], err
    # Nothing was stored on the way.
    assert web.api("GET", "/api/v1/customers", admin).json()["items"] == []
    assert web.api("GET", "/api/v1/licenses", admin).json()["items"] == []


def test_api_refuses_wrong_member_types(web):
    admin = web.token("admin")
    res = web.api("POST", "/api/v1/enrollments/1/approve", admin,
                  {"override": "yes"})
    assert res.status == 400 and "override" in error_of(res)["message"]
    res = web.api("POST", "/api/v1/licenses", admin,
                  {"enrollment_id": 1, "customer": "A", "valid_until": 7})
    assert res.status == 400 and "valid_until" in error_of(res)["message"]


@pytest.mark.parametrize("query,name", [
    ("limit=0", "limit"), ("limit=-1", "limit"), ("limit=1001", "limit"),
    ("limit=abc", "limit"), ("after=abc", "after"), ("after=-3", "after"),
    ("state=bogus", "state"), ("order=bogus", "order"),
    ("enrollment_id=x", "enrollment_id"),
])
def test_api_list_refuses_bad_query_parameters(web, query, name):
    admin = web.token("viewer")
    path = "/api/v1/licenses" if name == "enrollment_id" \
        else "/api/v1/enrollments"
    res = web.api("GET", path + "?" + query, admin)
    assert res.status == 400, res
    err = error_of(res)
    assert err["code"] == "bad_query", err
    assert name in err["message"] and query.split("=")[1] in err["message"]


def test_api_list_accepts_good_query_parameters(web):
    admin = web.token("viewer")
    res = web.api("GET", "/api/v1/enrollments?limit=1000&after=0&order=newest"
                  "&state=valid", admin)
    assert res.status == 200, res
    res = web.api("GET", "/api/v1/licenses?state=revoked&limit=1", admin)
    assert res.status == 200, res
    res = web.api("GET", "/api/v1/licenses?state=valid", admin)
    assert res.status == 400, res
    assert "active" in error_of(res)["message"]


def test_api_progress_refuses_bad_since(web):
    admin = web.token("viewer")
    res = web.api("GET", "/api/v1/enrollments/1/progress?since=abc", admin)
    assert res.status in (400, 404), res
    assert "since" in error_of(res)["message"] or res.status == 404


@pytest.mark.parametrize("seg", ["abc", "-1", "0", "99999999999999999999999"])
@pytest.mark.parametrize("path", [
    "/api/v1/enrollments/%s", "/api/v1/licenses/%s",
    "/api/v1/enrollments/%s/progress", "/api/v1/licenses/%s/download",
])
def test_api_bad_path_id_names_the_text_given(web, path, seg):
    admin = web.token("viewer")
    res = web.api("GET", path % seg, admin)
    assert res.status == 404, res
    err = error_of(res)
    assert err["code"] == "not_found"
    assert '"%s"' % seg in err["message"], err
    assert " 0" not in err["message"].replace('"0"', "")


def test_api_bad_path_id_on_post_names_the_text_given(web):
    admin = web.token("admin")
    res = web.api("POST", "/api/v1/enrollments/abc/approve", admin, {})
    assert res.status == 404 and '"abc"' in error_of(res)["message"], res
    res = web.api("POST", "/api/v1/licenses/-1/revoke", admin,
                  {"reason": "x"})
    assert res.status == 404 and '"-1"' in error_of(res)["message"], res


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-"
                                   "urlencoded", "application/jsonx", None])
def test_api_bodies_need_json_content_type(web, ctype):
    admin = web.token("admin")
    headers = {} if ctype is None else {"Content-Type": ctype}
    res = web.request("POST", "/api/v1/enrollments", body=b"{\"format\":1}",
                      headers=headers, token=admin)
    assert res.status == 415, res
    assert error_of(res)["code"] == "unsupported_media_type"
    res = web.request("POST", "/api/v1/customers", body=b"{\"name\":\"A\"}",
                      headers=headers, token=admin)
    assert res.status == 415, res
    assert web.api("GET", "/api/v1/customers", admin).json()["items"] == []
    # With charset it is still JSON.
    res = web.api("POST", "/api/v1/customers", admin, {"name": "A"},
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert res.status == 201, res
