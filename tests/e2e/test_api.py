# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The whole flow through the JSON API (/api/v1) with bearer tokens, on
SQLite and PostgreSQL: a swtpm board enrolls, the enrollment is uploaded,
validated (progress polled), approved, a license issued and downloaded,
activated on the board, refused by a second board, revoked; plus the
error format, token scoping and the OpenAPI document.
"""
import json
import os
import re
import time

import pytest

from fixtures_device import EXIT

WEB_C = os.path.join(os.path.dirname(__file__), "..", "..", "server",
                     "web.c")


def wait_done(web, token, enr_id, timeout=60):
    """Polls progress the way a client would; returns the last answer."""
    deadline = time.time() + timeout
    seen = 0
    texts = []
    while time.time() < deadline:
        res = web.api("GET", "/api/v1/enrollments/%d/progress?since=%d"
                      % (enr_id, seen), token)
        assert res.status == 200, res
        prog = res.json()
        for m in prog["messages"]:
            assert m["id"] > seen
            seen = m["id"]
            texts.append(m["text"])
        if prog["done"]:
            prog["all_texts"] = texts
            return prog
        time.sleep(0.2)
    raise AssertionError("validation of %d did not finish" % enr_id)


def test_api_flow_enroll_validate_approve_issue_download_activate(
        web_any, device, tmp_path):
    web = web_any
    admin = web.token("admin", "automation")
    assert re.fullmatch(r"lt_[0-9a-f]{64}", admin)
    dev = device()
    enr_path = dev.enroll(str(tmp_path / "enr.json"), "--label", "api board")
    body = open(enr_path, "rb").read()

    res = web.api("POST", "/api/v1/customers", admin, {"name": "ACME"})
    assert res.status == 201, res
    res = web.api("POST", "/api/v1/plans", admin,
                  {"name": "pro", "features": ["base", "seats=8"]})
    assert res.status == 201, res

    res = web.api("POST", "/api/v1/enrollments", admin, raw=body,
                  headers={"X-Filename": "enr.json"})
    assert res.status == 201, res
    enr = res.json()
    assert isinstance(enr["id"], int) and enr["duplicate"] is False
    # The same bytes again find the same enrollment.
    again = web.api("POST", "/api/v1/enrollments", admin, raw=body)
    assert again.status == 200 and again.json()["id"] == enr["id"]
    assert again.json()["duplicate"] is True

    prog = wait_done(web, admin, enr["id"])
    assert prog["state"] == "valid", prog
    assert len(prog["all_texts"]) >= 3, prog
    doc = web.api("GET", "/api/v1/openapi.json", admin).json()
    full = web.api("GET", "/api/v1/enrollments/%d/progress?since=0"
                   % enr["id"], admin).json()
    assert full["messages"]
    check_schema(doc, {"$ref": "#/components/schemas/Progress"}, full)

    show = web.api("GET", "/api/v1/enrollments/%d" % enr["id"], admin)
    assert show.status == 200
    show = show.json()
    assert show["report"]["outcome"] == "valid"
    assert show["label"] == "api board"
    listed = web.api("GET", "/api/v1/enrollments?state=valid", admin).json()
    assert [e["id"] for e in listed["items"]] == [enr["id"]]

    res = web.api("POST", "/api/v1/enrollments/%d/approve" % enr["id"],
                  admin)
    assert res.status == 200, res
    assert res.json()["state"] == "approved"

    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": enr["id"], "customer": "ACME", "plan": "pro",
        "features": [{"name": "seats", "quantity": 16},
                     {"name": "trial", "valid_until": "2031-01-01"}],
        "valid_until": "2032-01-01T00:00:00Z", "supersede": True})
    assert res.status == 201, res
    issued = res.json()
    lic = issued["license"]
    assert lic["state"] == "active" and lic["serial"] == 1
    check_schema(doc, {"$ref": "#/components/schemas/IssueResult"}, issued)
    assert issued["file"]["license"]["features"]["seats"]["quantity"] == 16
    assert "base" in issued["file"]["license"]["features"]

    dl = web.api("GET", issued["download"], admin)
    assert dl.status == 200
    disp = dl.header("content-disposition")
    assert disp == 'attachment; filename="license-%s-1.json"' % \
        show["device_id"][:16], disp
    assert json.loads(dl.body) == issued["file"]
    lic_path = str(tmp_path / "license.json")
    with open(lic_path, "wb") as f:
        f.write(dl.body)

    res = dev.latch("activate", lic_path)
    assert res.returncode == 0, res.stderr
    other = device()
    other.enroll(str(tmp_path / "enr-b.json"))
    res = other.latch("activate", lic_path)
    assert res.returncode == EXIT["not_device"], res.stderr
    assert other.installed() is None

    res = web.api("POST", "/api/v1/licenses/%d/revoke" % lic["id"], admin,
                  {"reason": "returned hardware"})
    assert res.status == 200 and res.json()["state"] == "revoked"
    shown = web.api("GET", "/api/v1/licenses/%d" % lic["id"], admin).json()
    assert shown["reason"] == "returned hardware"

    audit = web.api("GET", "/api/v1/audit?limit=1000", admin).json()
    actors = {row["actor"] for row in audit["items"]}
    assert any(a.startswith("api:automation#") for a in actors), actors
    devices = web.api("GET", "/api/v1/devices", admin).json()
    assert show["device_id"] in [d["device_id"] for d in devices["items"]]


def test_api_errors_are_json_with_stable_codes(web):
    admin = web.token("admin")
    res = web.api("POST", "/api/v1/enrollments", admin, raw=b"{\"format\":1}")
    assert res.status == 422, res
    err = res.json()["error"]
    assert err["code"] == "invalid_enrollment" and err["message"]

    res = web.api("POST", "/api/v1/enrollments/1/reject", admin,
                  raw=b"{\"reason\": ")
    assert res.status == 400 and res.json()["error"]["code"] == "bad_json"
    res = web.api("GET", "/api/v1/licenses/999999", admin)
    assert res.status == 404 and res.json()["error"]["code"] == "not_found"
    res = web.api("GET", "/api/v1/nothing-here", admin)
    assert res.status == 404 and res.json()["error"]["code"] == "not_found"
    res = web.api("DELETE", "/api/v1/enrollments", admin)
    assert res.status == 405
    assert res.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in res.header("allow") and "POST" in res.header("allow")


def test_api_tokens_are_scoped_and_unknown_ones_refused(web):
    viewer = web.token("viewer", "dash")
    approver = web.token("approver")
    res = web.api("POST", "/api/v1/customers", viewer, {"name": "X"})
    assert res.status == 403 and res.json()["error"]["code"] == "forbidden"
    res = web.api("POST", "/api/v1/customers", approver, {"name": "X"})
    assert res.status == 201
    res = web.api("POST", "/api/v1/plans", approver, {"name": "p"})
    assert res.status == 403
    assert web.api("GET", "/api/v1/customers", viewer).status == 200
    bad = "lt_" + "0" * 64
    res = web.api("GET", "/api/v1/customers", bad)
    assert res.status == 401
    assert res.json()["error"]["code"] == "unauthorized"
    assert res.header("www-authenticate").startswith("Bearer")
    # Stored hashed: the token text appears nowhere in the database.
    rows = web.latchd.sql("SELECT token_sha256 FROM api_tokens")
    assert all(viewer not in r[0] and approver not in r[0] for r in rows)


def test_openapi_document_lists_every_api_route(web):
    token = web.token("viewer")
    res = web.api("GET", "/api/v1/openapi.json", token)
    assert res.status == 200
    doc = res.json()
    assert doc["openapi"].startswith("3.")
    for path in ("/enrollments", "/enrollments/{id}",
                 "/enrollments/{id}/progress", "/enrollments/{id}/approve",
                 "/enrollments/{id}/reject", "/licenses", "/licenses/{id}",
                 "/licenses/{id}/download", "/licenses/{id}/revoke",
                 "/devices", "/devices/{id}", "/customers", "/plans",
                 "/audit"):
        assert path in doc["paths"], path


# --- the OpenAPI document against the server ------------------------------

JSON_TYPES = {"integer": int, "string": str, "boolean": bool, "object": dict,
              "array": list, "number": (int, float)}


def resolve(doc, schema):
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def check_schema(doc, schema, value, where="$"):
    """The few JSON Schema keywords the document uses: type, nullable,
    properties, required, additionalProperties, items, enum, pattern,
    oneOf. An object schema with properties admits no other member unless
    additionalProperties is a schema for them: the document is read as
    additionalProperties: false, so a member the server adds and the
    document omits fails here."""
    schema = resolve(doc, schema)
    if value is None:
        assert schema.get("nullable") or "type" not in schema, where
        return
    if "oneOf" in schema:
        for alt in schema["oneOf"]:
            try:
                check_schema(doc, alt, value, where)
                return
            except AssertionError:
                pass
        raise AssertionError("%s: %r matches no alternative" % (where, value))
    want = schema.get("type")
    if want is not None:
        ok = isinstance(value, JSON_TYPES[want]) and not \
            (want in ("integer", "number") and isinstance(value, bool))
        assert ok, "%s: %r is not %s" % (where, value, want)
    if "enum" in schema:
        assert value in schema["enum"], (where, value)
    if "pattern" in schema:
        assert re.search(schema["pattern"], value), (where, value)
    if schema.get("format") == "date-time":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value), \
            (where, value)
    if isinstance(value, dict):
        check_members(doc, schema, value, where)
    if "items" in schema and isinstance(value, list):
        for i, item in enumerate(value):
            check_schema(doc, schema["items"], item, "%s[%d]" % (where, i))


def check_members(doc, schema, value, where):
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", not props)
    for name in schema.get("required", []):
        assert name in value, "%s: required member %s missing" % (where, name)
    for name, member in value.items():
        sub = props.get(name, extra)
        if sub is False:
            raise AssertionError("%s: member %s is not in the document"
                                 % (where, name))
        if isinstance(sub, dict):
            check_schema(doc, sub, member, where + "." + name)


def router_api_routes():
    """(method, path) of every /api/v1 route in server/web.c's table."""
    with open(WEB_C) as f:
        text = f.read()
    routes = set()
    for m in re.finditer(r'API\("(\w+)",\s*"(/api/v1[^"]*)"', text):
        routes.add((m.group(1), m.group(2)))
    for m in re.finditer(r'APIJ\("(/api/v1[^"]*)"', text):
        routes.add(("POST", m.group(1)))
    assert len(routes) > 10, routes
    return routes


def doc_routes(doc):
    out = {}
    for path, ops in doc["paths"].items():
        real = "/api/v1" + re.sub(r"\{[^}]+\}", "*", path)
        for method, op in ops.items():
            if method in ("get", "post", "delete"):
                out[(method.upper(), real)] = (path, op)
    return out


def sample(doc, param):
    schema = resolve(doc, param.get("schema", {}))
    if "enum" in schema:
        return schema["enum"][-1]
    if schema.get("pattern", "").startswith("^[0-9a-f]{64}"):
        return "0" * 64
    return "1" if schema.get("type") == "integer" else "x"


def concrete(path):
    return path.replace("*", "1")


def test_openapi_document_matches_the_router(web):
    """Every /api/v1 route is documented with the methods the router has,
    every documented query parameter is taken and nothing else is, and
    each status the probes below get is listed for the route."""
    admin = web.token("admin")
    doc = web.api("GET", "/api/v1/openapi.json", admin).json()
    documented = doc_routes(doc)
    router = router_api_routes()
    assert set(documented) == router, set(documented) ^ router

    for (method, path), (name, op) in sorted(documented.items()):
        listed = set(op["responses"])
        url = concrete(path)
        body = b"{}" if method == "POST" else None
        got = {}
        params = [resolve(doc, p) for p in
                  op.get("parameters", []) + doc["paths"][name].get(
                      "parameters", [])]
        for p in params:
            if p["in"] != "query":
                continue
            res = web.api(method, "%s?%s=%s" % (url, p["name"],
                                               sample(doc, p)), admin,
                          raw=body)
            assert not (res.status == 400 and "is unknown" in res.text), \
                (method, path, p["name"], res)
            got[res.status] = p["name"]
        res = web.api(method, url + "?undocumented=1", admin, raw=body)
        assert res.status == 400, (method, path, res)
        assert res.json()["error"]["code"] == "bad_query"
        got[res.status] = "unknown parameter"
        res = web.request(method, url, body=body)
        assert res.status == 401, (method, path, res)
        got[401] = "no token"
        others = {"GET", "POST", "DELETE"} - {m for m, p in router
                                              if p == path}
        res = web.api(sorted(others)[0], url, admin)
        assert res.status == 405, (method, path, res)
        allow = {m.strip() for m in res.header("allow").split(",")}
        want = {m for m, p in router if p == path}
        assert allow == want | ({"HEAD"} if "GET" in want else set())
        got[405] = "method"
        if method == "POST":
            res = web.api(method, url, admin, raw=b"{}",
                          headers={"Content-Type": "text/plain"})
            got[res.status] = "content type"
            res = web.api(method, url, admin, raw=b" " * (65 << 10))
            got[res.status] = "large body"
        res = web.api(method, url, admin, raw=body)
        got[res.status] = "plain"
        missing = {str(s) for s in got} - listed
        assert not missing, (method, path, missing, got)


def test_openapi_feature_limits_match_the_server(web):
    admin = web.token("admin")
    doc = web.api("GET", "/api/v1/openapi.json", admin).json()
    issue = doc["components"]["schemas"]["IssueRequest"]["properties"]
    plan = doc["paths"]["/plans"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    n = issue["features"]["maxItems"]
    assert plan["properties"]["features"]["maxItems"] == n
    feats = ["f%d" % i for i in range(n)]
    res = web.api("POST", "/api/v1/plans", admin,
                  {"name": "big", "features": feats})
    assert res.status == 201, res
    res = web.api("POST", "/api/v1/plans", admin,
                  {"name": "bigger", "features": feats + ["one-more"]})
    assert res.status == 400, res
    # features is required, as documented.
    assert "features" in plan["required"]
    res = web.api("POST", "/api/v1/plans", admin, {"name": "empty"})
    assert res.status == 400, res
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": 999, "customer": "nobody", "features": feats})
    assert "at most" not in res.text, res
    res = web.api("POST", "/api/v1/licenses", admin, {
        "enrollment_id": 999, "customer": "nobody",
        "features": feats + ["one-more"]})
    assert res.status == 400 and "at most %d" % n in res.text, res


@pytest.mark.parametrize("path", ["/audit", "/devices", "/customers",
                                  "/plans", "/enrollments", "/licenses"])
def test_openapi_lists_take_order_newest(web, path):
    doc = web.api("GET", "/api/v1/openapi.json", web.token("viewer")).json()
    names = [resolve(doc, p)["name"]
             for p in doc["paths"][path]["get"]["parameters"]]
    assert "order" in names, names
    res = web.api("GET", "/api/v1" + path + "?order=newest",
                  web.token("viewer"))
    assert res.status == 200, res


# --- every success answer against its schema ------------------------------


class SchemaProbe:
    """Calls the API and checks each success answer against the schema the
    document gives for that route and status; remembers what it checked."""

    def __init__(self, web, token):
        self.web = web
        self.token = token
        self.doc = web.api("GET", "/api/v1/openapi.json", token).json()
        self.seen = set()

    def call(self, method, route, status, url=None, payload=None, raw=None,
             headers=None):
        url = url or route
        res = self.web.api(method, "/api/v1" + url, self.token, payload,
                           raw=raw, headers=headers)
        assert res.status == status, (method, url, res)
        op = self.doc["paths"][route][method.lower()]
        content = op["responses"][str(status)]["content"]
        schema = content["application/json"]["schema"]
        value = json.loads(res.body)
        check_schema(self.doc, schema, value, "%s %s" % (method, url))
        self.seen.add((method, route, str(status)))
        return value

    def page(self, route, url=None):
        """A list route, which must hold at least one item."""
        out = self.call("GET", route, 200, url)
        assert out["items"], (route, out)
        return out["items"]

    def documented(self):
        out = set()
        for route, ops in self.doc["paths"].items():
            for method, op in ops.items():
                for status in op.get("responses", {}):
                    if status.startswith("2"):
                        out.add((method.upper(), route, status))
        return out


def probe_upload(probe, path):
    """Uploads path, checks the answer while validation may still run,
    waits for it and returns the enrollment id."""
    body = open(path, "rb").read()
    enr = probe.call("POST", "/enrollments", 201, raw=body,
                     headers={"X-Filename": os.path.basename(path)})
    probe.call("GET", "/enrollments/{id}", 200, "/enrollments/%d" % enr["id"])
    again = probe.call("POST", "/enrollments", 200, raw=body)
    assert again["duplicate"] is True and again["id"] == enr["id"]
    assert wait_done(probe.web, probe.token, enr["id"])["state"] == "valid"
    probe.call("GET", "/enrollments/{id}/progress", 200,
               "/enrollments/%d/progress?since=0" % enr["id"])
    return enr["id"]


def probe_licenses(probe, enr_id):
    """Issues a license with everything, supersedes it by one with nothing
    optional (plan and valid_until null); returns both ids."""
    full = probe.call("POST", "/licenses", 201, payload={
        "enrollment_id": enr_id, "customer": "ACME", "plan": "pro",
        "features": ["seats=16", {"name": "trial",
                                  "valid_until": "2031-01-01"}],
        "valid_until": "2032-01-01T00:00:00Z"})
    bare = probe.call("POST", "/licenses", 201, payload={
        "enrollment_id": enr_id, "customer": "ACME", "features": ["base"],
        "supersede": True})
    first, second = full["license"]["id"], bare["license"]["id"]
    assert bare["license"]["superseded"] == [first]
    for lic in (first, second):
        shown = probe.call("GET", "/licenses/{id}", 200, "/licenses/%d" % lic)
        got = probe.call("GET", "/licenses/{id}/download", 200,
                         "/licenses/%d/download" % lic)
        assert got["license"]["license_id"] == shown["license_id"]
    assert shown["plan"] is None and shown["valid_until"] is None
    return first, second


def test_api_every_success_answer_matches_its_schema(web_any, device,
                                                     tmp_path):
    """A full flow on real boards: each success status of each route in the
    document is met at least once and its body checked member by member
    (no undocumented member, every required one present, null only where
    nullable), lists with at least one item."""
    probe = SchemaProbe(web_any, web_any.token("admin", "schema"))
    probe.call("GET", "/openapi.json", 200)
    probe.call("POST", "/customers", 201, payload={"name": "ACME"})
    probe.page("/customers")
    probe.call("POST", "/plans", 201, payload={
        "name": "pro", "features": ["base", "seats=8", {
            "name": "trial", "valid_until": "2031-01-01"}]})
    probe.page("/plans")

    dev, other = device(), device()
    first = probe_upload(probe, dev.enroll(str(tmp_path / "a.json"),
                                           "--label", "schema board"))
    refused = probe_upload(probe, other.enroll(str(tmp_path / "b.json")))
    probe.call("POST", "/enrollments/{id}/reject", 200,
               "/enrollments/%d/reject" % refused,
               payload={"reason": "not ours"})
    probe.call("POST", "/enrollments/{id}/approve", 200,
               "/enrollments/%d/approve" % first)
    _, second = probe_licenses(probe, first)

    rotated = probe_upload(probe, dev.enroll(str(tmp_path / "c.json"),
                                             "--rotate"))
    out = probe.call("POST", "/enrollments/{id}/approve", 200,
                     "/enrollments/%d/approve" % rotated, payload={})
    assert out["revoked_licenses"] == [second], out
    third = probe.call("POST", "/licenses", 201, payload={
        "enrollment_id": rotated, "customer": "ACME", "plan": "pro"})
    probe.call("POST", "/licenses/{id}/revoke", 200,
               "/licenses/%d/revoke" % third["license"]["id"],
               payload={"reason": "returned hardware"})
    for enr in (first, refused, rotated):
        probe.call("GET", "/enrollments/{id}", 200, "/enrollments/%d" % enr)

    probe.page("/enrollments")
    probe.page("/licenses", "/licenses?order=newest")
    devices = probe.page("/devices")
    for d in devices:
        probe.call("GET", "/devices/{id}", 200, "/devices/%d" % d["id"])
        probe.call("GET", "/devices/{id}", 200, "/devices/" + d["device_id"])
    probe.page("/audit", "/audit?limit=1000")
    assert probe.seen == probe.documented(), \
        probe.documented() ^ probe.seen


def test_openapi_objects_say_what_else_they_admit(web):
    """check_schema reads an object schema with properties as closed; the
    document says so itself wherever it describes members."""
    doc = web.api("GET", "/api/v1/openapi.json", web.token("viewer")).json()
    open_ones = []

    def walk(node, where):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                open_ones.append(where)
            for k, v in node.items():
                walk(v, where + "/" + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (where, i))

    walk(doc["paths"], "#/paths")
    walk(doc["components"], "#/components")
    assert not open_ones, open_ones
