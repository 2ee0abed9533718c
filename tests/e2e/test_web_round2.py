# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Web UI and API: the second round of a tester's findings (override is
admin-only, encoded slashes in paths, strict form flags and filters, the
plan features textarea, reasons, replaced enrollments)."""
import re

import pytest

from test_latchd_ek import imported, set_conf


@pytest.fixture
def needs_override(web, device, tmp_path):
    """The id of an enrollment in state needs_override (firmware on the
    deny list), imported with the CLI next to the running server."""
    set_conf(web.latchd, "validation", "deny_firmware", "IBM:20191023*")
    dev = device()
    out = imported(web.latchd, dev.enroll(str(tmp_path / "e.json"), "--ek",
                                          "ecc-p256"))
    assert out["state"] == "needs_override", out
    return out["id"]


def state_of(web, enr_id):
    return web.latchd.json("enrollment", "show", str(enr_id))["state"]


# --- 1: override is admin-only -------------------------------------------

def test_approver_may_not_override_in_the_ui(web, needs_override):
    sid, csrf = web.user_session("approver")
    page = web.get("/enrollments/%d" % needs_override, session=sid)
    assert page.status == 200
    assert 'name="override"' not in page.text
    assert "only an administrator" in page.text
    res = web.form("/enrollments/%d/approve" % needs_override,
                   {"override": "1"}, session=sid, csrf=csrf)
    assert res.status == 403, res
    assert "administrator" in res.text
    assert state_of(web, needs_override) == "needs_override"

    sid, csrf = web.user_session("admin")
    page = web.get("/enrollments/%d" % needs_override, session=sid)
    assert 'name="override"' in page.text
    res = web.form("/enrollments/%d/approve" % needs_override,
                   {"override": "1"}, session=sid, csrf=csrf)
    assert res.status == 303, res
    assert state_of(web, needs_override) == "approved"


def test_approver_may_not_override_in_the_api(web, needs_override):
    path = "/api/v1/enrollments/%d/approve" % needs_override
    res = web.api("POST", path, web.token("approver"), {"override": True})
    assert res.status == 403, res
    assert res.json()["error"]["code"] == "forbidden"
    assert "administrator" in res.json()["error"]["message"]
    assert state_of(web, needs_override) == "needs_override"
    res = web.api("POST", path, web.token("admin"), {"override": True})
    assert res.status == 200, res
    assert res.json()["state"] == "approved"


# --- 2: an encoded slash in the path is not a path separator --------------

def test_encoded_slash_in_the_path_is_404(web, needs_override):
    admin = web.token("admin")
    for enc in ("%2F", "%2f"):
        res = web.api("POST", "/api/v1/enrollments/%d%sapprove"
                      % (needs_override, enc), admin, {"override": True})
        assert res.status == 404, res
        assert "%2F" in res.text
        res = web.api("GET", "/api/v1/enrollments%s%d" % (enc, needs_override),
                      admin)
        assert res.status == 404, res
    assert state_of(web, needs_override) == "needs_override"
    sid, csrf = web.user_session("admin")
    res = web.form("/enrollments/%d%%2Fapprove" % needs_override,
                   {"override": "1"}, session=sid, csrf=csrf)
    assert res.status == 404, res
    assert state_of(web, needs_override) == "needs_override"
    # In the query a %2F is ordinary text.
    res = web.api("GET", "/api/v1/enrollments?state=a%2Fb", admin)
    assert res.status == 400 and "a/b" in res.text, res
    assert web.get("/enrollments?q=a%2Fb", session=sid).status == 200


# --- 3: the plan features textarea keeps the whole line ------------------

@pytest.mark.parametrize("line", ["base junk", "seats=5 @2031-01-01",
                                  "base\tx"])
def test_plan_feature_line_with_inner_blank_is_refused(web, line):
    sid, csrf = web.user_session("admin")
    res = web.form("/plans", {"name": "p1", "features": "ok\n" + line},
                   session=sid, csrf=csrf)
    assert res.status == 400, res
    assert "feature line" in res.text and line.split()[0] in res.text
    plans = web.latchd.json("plan", "list")
    assert not [p for p in plans.get("items", plans) if p["name"] == "p1"]


def test_plan_feature_lines_are_trimmed(web):
    sid, csrf = web.user_session("admin")
    res = web.form("/plans", {"name": "p2",
                              "features": "  base \t\r\n\n\tseats=5@2031-01-01 "},
                   session=sid, csrf=csrf)
    assert res.status == 303, res
    page = web.get("/plans", session=sid).text
    assert "seats" in page and "2031" in page


# --- 4: form flags take only what the forms send; no field twice ----------

def raw_form(web, path, body, sid):
    return web.request("POST", path, body=body.encode(), session=sid,
                       headers={"Content-Type":
                                "application/x-www-form-urlencoded",
                                "Origin": web.origin,
                                "Sec-Fetch-Site": "same-origin"})


def user_id(web, sid, name):
    page = web.get("/users", session=sid).text
    rows = re.findall(r'action="/users/(\d+)/update"', page)
    for uid in rows:
        if re.search(r"<td>%s</td>[\s\S]*?/users/%s/update" % (name, uid),
                     page):
            return int(uid)
    raise AssertionError("no user %s on /users" % name)


def test_user_disabled_flag_takes_only_1(web):
    sid, csrf = web.user_session("admin")
    web.add_user("carol", "viewer")
    uid = user_id(web, sid, "carol")
    res = web.form("/users/%d/update" % uid, {"role": "viewer",
                                              "disabled": "1"},
                   session=sid, csrf=csrf)
    assert res.status == 303, res
    for bad in ("yes", "0", "true", ""):
        res = web.form("/users/%d/update" % uid,
                       {"role": "viewer", "disabled": bad},
                       session=sid, csrf=csrf)
        assert res.status == 400, (bad, res)
        assert "disabled: expected 1" in res.text
    # Still disabled: "yes" did not enable the account.
    assert 'name="disabled" value="1" checked' in \
        web.get("/users", session=sid).text


def test_override_flag_takes_only_1(web, needs_override):
    sid, csrf = web.user_session("admin")
    for bad in ("yes", "true", "0"):
        res = web.form("/enrollments/%d/approve" % needs_override,
                       {"override": bad}, session=sid, csrf=csrf)
        assert res.status == 400, (bad, res)
        assert "override: expected 1" in res.text
    assert state_of(web, needs_override) == "needs_override"


def test_form_field_given_twice_is_400(web):
    sid, csrf = web.user_session("admin")
    res = raw_form(web, "/customers",
                   "name=D6&name=D7&csrf_token=%s" % csrf, sid)
    assert res.status == 400, res
    assert 'form field &quot;name&quot; given more than once' in res.text
    res = raw_form(web, "/customers",
                   "name=D8&csrf_token=%s&csrf_token=%s" % (csrf, csrf), sid)
    assert res.status == 400, res
    assert "csrf_token" in res.text
    page = web.get("/customers", session=sid).text
    assert "D6" not in page and "D7" not in page and "D8" not in page
    res = raw_form(web, "/customers", "name=D9&csrf_token=%s" % csrf, sid)
    assert res.status == 303, res


def test_two_authorization_headers_are_400(web):
    import http.client

    admin = web.token("admin")
    viewer = web.token("viewer")
    for pair in ((viewer, admin), (admin, admin)):
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        try:
            conn.putrequest("POST", "/api/v1/customers", skip_host=True)
            conn.putheader("Host", "127.0.0.1:%d" % web.port)
            for t in pair:
                conn.putheader("Authorization", "Bearer " + t)
            body = b'{"name": "TwoAuth"}'
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        assert resp.status == 400, data
        assert b"Authorization" in data
    res = web.api("GET", "/api/v1/customers", admin)
    assert "TwoAuth" not in res.text


# --- 5: an enrollment replaced by an AK rotation gets no issue form ------

def test_replaced_enrollment_has_no_issue_form(web, device, tmp_path):
    dev = device()
    first = imported(web.latchd, dev.enroll(str(tmp_path / "1.json")))
    assert first["state"] == "valid", first
    web.latchd.json("enrollment", "approve", str(first["id"]))
    sid, _ = web.user_session("approver")
    page = web.get("/enrollments/%d" % first["id"], session=sid)
    assert "/enrollments/%d/issue" % first["id"] in page.text
    assert web.get("/enrollments/%d/issue" % first["id"],
                   session=sid).status == 200

    second = imported(web.latchd, dev.enroll(str(tmp_path / "2.json"),
                                             "--rotate"))
    web.latchd.json("enrollment", "approve", str(second["id"]))
    page = web.get("/enrollments/%d" % first["id"], session=sid)
    assert page.status == 200
    assert "/enrollments/%d/issue" % first["id"] not in page.text
    assert "replaced its AK" in page.text
    res = web.get("/enrollments/%d/issue" % first["id"], session=sid)
    assert res.status == 409, res
    assert "no longer the device&#39;s current enrollment" in res.text or \
        "no longer the device's current enrollment" in res.text
    assert "/enrollments/%d" % second["id"] in res.text
    assert web.get("/enrollments/%d/issue" % second["id"],
                   session=sid).status == 200


# --- 6: a bad list filter is 400, not the unfiltered list ----------------

@pytest.mark.parametrize("path,word", [
    ("/audit?actor=" + "a" * 257, "actor"),
    ("/audit?action=" + "a" * 257, "action"),
    ("/audit?object=" + "a" * 257, "object"),
    ("/enrollments?q=" + "q" * 200, "q"),
    ("/enrollments?state=bogus", "bogus"),
    ("/licenses?state=bogus", "bogus"),
    ("/enrollments?after=abc", "after"),
    ("/licenses?limit=0", "limit"),
    ("/audit?after=abc", "after"),
    ("/customers?limit=0", "limit"),
])
def test_bad_list_filter_is_400(web, path, word):
    sid, _ = web.user_session("viewer")
    res = web.get(path, session=sid)
    assert res.status == 400, (path, res)
    assert word in res.text


@pytest.mark.parametrize("path", [
    "/audit?actor=&action=&object=", "/enrollments?q=&state=",
    "/enrollments?state=review", "/licenses?state=active&after=5&limit=10",
])
def test_empty_or_good_list_filters_still_work(web, path):
    sid, _ = web.user_session("viewer")
    assert web.get(path, session=sid).status == 200, path


# --- 7: the reason is one line; a refused one is shown with the text kept

def test_refused_reject_reason_keeps_the_text(web, needs_override):
    sid, csrf = web.user_session("approver")
    page = web.get("/enrollments/%d" % needs_override, session=sid).text
    assert "<textarea" not in page
    assert re.search(r'<input type="text" id="reason" name="reason"', page)
    res = web.form("/enrollments/%d/reject" % needs_override,
                   {"reason": "bad <fw>\nsecond line"}, session=sid,
                   csrf=csrf)
    assert res.status == 400, res
    assert "Reason refused" in res.text and "reason" in res.text
    assert 'value="bad &lt;fw&gt;' in res.text
    assert 'action="/enrollments/%d/reject"' % needs_override in res.text
    assert state_of(web, needs_override) == "needs_override"
    res = web.form("/enrollments/%d/reject" % needs_override,
                   {"reason": "bad firmware"}, session=sid, csrf=csrf)
    assert res.status == 303, res
    assert state_of(web, needs_override) == "rejected"


# --- a license's valid_until: named as itself, refused in the past -------

@pytest.mark.parametrize("until,status,words", [
    ("2030-02-30", 400, ["valid_until", "YYYY-MM-DD"]),
    ("soon", 400, ["valid_until", "YYYY-MM-DD"]),
    ("2020-01-01", 400, ["valid_until", "not in the future"]),
])
def test_api_valid_until_errors_name_valid_until(web, device, tmp_path,
                                                 until, status, words):
    dev = device()
    enr = imported(web.latchd, dev.enroll(str(tmp_path / "e.json")))
    web.latchd.json("enrollment", "approve", str(enr["id"]))
    web.latchd.run("customer", "add", "ACME")
    res = web.api("POST", "/api/v1/licenses", web.token("admin"),
                  {"enrollment_id": enr["id"], "customer": "ACME",
                   "features": ["base"], "valid_until": until})
    assert res.status == status, res
    msg = res.json()["error"]["message"]
    assert all(w in msg for w in words), msg
    assert "feature x" not in msg
    assert web.latchd.json("license", "list")["items"] == []


def test_needs_override_message_says_who_may_override(web, needs_override):
    path = "/api/v1/enrollments/%d/approve" % needs_override
    res = web.api("POST", path, web.token("admin"), {})
    assert res.status == 409, res
    msg = res.json()["error"]["message"]
    assert "an administrator may approve it with override" in msg, msg
