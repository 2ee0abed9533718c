# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Users and API tokens from the command line (docs/operations.md, "Users
and API tokens"): `latchd token list|revoke` and `latchd
user disable|enable|role` do what the web Users page does, through the
same core calls: a token revoked on the server's command line is refused
by a running `latchd serve` at once, a disabled user's sessions end, the
audit rows match the web's, and the last enabled admin stays.
"""
import hashlib
import json
import os
import pwd
import subprocess

import pytest

from fixtures_latchd import LATCHD


def cli_actor():
    return "cli:" + pwd.getpwuid(os.geteuid()).pw_name


def audit_rows(latchd, action):
    rows = latchd.json("audit", "list", "--limit", "1000")["items"]
    return [r for r in rows if r["action"] == action]


def token_id(latchd, name):
    items = latchd.json("token", "list")["items"]
    return [t["id"] for t in items if t["name"] == name][0]


def test_token_revoked_from_cli_gets_401_from_the_api(web_any):
    web = web_any
    d = web.latchd
    leaked = web.token("viewer", "leaked")
    kept = web.token("viewer", "kept")
    assert web.api("GET", "/api/v1/enrollments", leaked).status == 200
    tid = token_id(d, "leaked")

    res = d.run("token", "revoke", str(tid))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "token %d revoked\n" % tid

    assert web.api("GET", "/api/v1/enrollments", leaked).status == 401
    assert web.api("GET", "/api/v1/enrollments", kept).status == 200
    listed = {t["name"]: t for t in d.json("token", "list")["items"]}
    assert listed["leaked"]["state"] == "revoked"
    assert listed["leaked"]["revoked_at"] is not None
    assert listed["kept"]["state"] == "active"
    rows = audit_rows(d, "token.revoke")
    assert [(r["actor"], r["object"]) for r in rows] == [
        (cli_actor(), "token:%d" % tid)]


def test_token_revoke_audits_as_the_web_does(web):
    d = web.latchd
    web.token("viewer", "by-web")
    web.token("viewer", "by-cli")
    sid, csrf = web.user_session("admin", "root")
    res = web.form("/tokens/%d/revoke" % token_id(d, "by-web"), {},
                   session=sid, csrf=csrf)
    assert res.status == 303, res
    out = d.json("token", "revoke", str(token_id(d, "by-cli")))
    assert out == {"id": token_id(d, "by-cli"), "state": "revoked"}

    by_web, by_cli = audit_rows(d, "token.revoke")
    assert by_web["actor"] == "web:root" and by_cli["actor"] == cli_actor()
    assert by_web["object"] == "token:%d" % token_id(d, "by-web")
    assert by_cli["object"] == "token:%d" % token_id(d, "by-cli")
    assert by_web["details"] == by_cli["details"]
    # The Users page shows both revoked (its badge is the core's state).
    page = web.get("/users", session=sid).text
    assert page.count(">revoked<") == 2, page


def test_token_revoke_twice_unknown_and_bad_ids(web):
    d = web.latchd
    web.token("approver", "ci")
    tid = token_id(d, "ci")
    assert d.run("token", "revoke", str(tid)).returncode == 0

    # As on the web (409): revoking a revoked token is refused, exit 1.
    res = d.run("token", "revoke", str(tid))
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert res.stderr == "latchd: token %d is revoked already\n" % tid
    sid, csrf = web.user_session("admin")
    assert web.form("/tokens/%d/revoke" % tid, {}, session=sid,
                    csrf=csrf).status == 409

    res = d.run("--json", "token", "revoke", "999")
    assert res.returncode == 3, (res.returncode, res.stdout)
    assert json.loads(res.stdout) == {
        "id": None, "state": "error", "error": "no token with id 999",
        "status": "not found"}
    for bad in ("0", "-1", "1x", "01"):
        res = d.run("token", "revoke", bad)
        assert res.returncode == 2, (bad, res.returncode, res.stderr)
    assert d.run("token", "revoke").returncode == 2
    assert d.run("token", "revoke", "1", "2").returncode == 2
    assert len(audit_rows(d, "token.revoke")) == 1


def test_token_list_never_shows_the_secret(web):
    d = web.latchd
    token = web.token("admin", "ops")
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert web.api("GET", "/api/v1/enrollments", token).status == 200

    human = d.run("token", "list")
    assert human.returncode == 0, human.stderr
    raw = d.run("--json", "token", "list")
    for out in (human.stdout, raw.stdout):
        assert token not in out and token[3:] not in out
        assert digest not in out
    item = json.loads(raw.stdout)["items"][0]
    assert set(item) == {"id", "name", "role", "created_at", "created_by",
                         "last_used_at", "revoked_at", "state"}
    assert item["name"] == "ops" and item["role"] == "admin"
    assert item["state"] == "active" and item["created_by"] == cli_actor()
    assert item["last_used_at"] is not None
    line = human.stdout.splitlines()[1].split()
    assert line[:4] == [str(item["id"]), "active", "admin", "ops"]
    assert line[-1] == cli_actor()


def test_user_disable_ends_sessions_and_enable_restores(web):
    d = web.latchd
    pw = web.add_user("frank", "approver")
    sid, _ = web.signin("frank", pw)
    assert web.get("/", session=sid).status == 200

    out = d.json("user", "disable", "frank")
    assert out["state"] == "disabled" and out["disabled"] is True
    assert out["role"] == "approver" and isinstance(out["id"], int)
    assert web.get("/", session=sid).status == 303
    assert web.signin_raw("frank", pw).status == 401
    assert d.sql("SELECT COUNT(*) FROM sessions")[0][0] == 0

    res = d.run("user", "enable", "frank")
    assert res.returncode == 0, res.stderr
    assert "frank: active, role approver" in res.stdout
    sid, _ = web.signin("frank", pw)
    assert web.get("/", session=sid).status == 200
    rows = audit_rows(d, "user.update")
    assert [(r["actor"], r["object"], r["details"]) for r in rows] == [
        (cli_actor(), "user:frank", {"role": "approver", "disabled": True}),
        (cli_actor(), "user:frank", {"role": "approver", "disabled": False}),
    ]


def test_user_role_changes_only_the_role(web):
    d = web.latchd
    pw = web.add_user("gina", "viewer")
    sid, _ = web.signin("gina", pw)
    out = d.json("user", "role", "gina", "approver")
    assert (out["role"], out["state"]) == ("approver", "active")
    # A role change ends the sessions, as on the web.
    assert web.get("/", session=sid).status == 303

    d.json("user", "disable", "gina")
    out = d.json("user", "role", "gina", "admin")
    assert (out["role"], out["state"]) == ("admin", "disabled")
    users = {u["name"]: u for u in d.json("user", "list")["items"]}
    assert users["gina"]["role"] == "admin"
    assert users["gina"]["state"] == "disabled"


def test_last_enabled_admin_is_kept(web):
    d = web.latchd
    web.add_user("root", "admin")
    web.add_user("ivan", "admin")
    d.json("user", "disable", "ivan")
    for args in (("user", "disable", "root"),
                 ("user", "role", "root", "approver")):
        res = d.run(*args)
        assert res.returncode == 1, (args, res.returncode, res.stderr)
        assert "'root' is the last enabled admin" in res.stderr
    users = {u["name"]: u for u in d.json("user", "list")["items"]}
    assert (users["root"]["role"], users["root"]["state"]) == ("admin",
                                                               "active")

    # With another enabled admin it is allowed; a disabled admin's role
    # may change freely.
    d.json("user", "role", "ivan", "viewer")
    d.json("user", "role", "ivan", "admin")
    d.json("user", "enable", "ivan")
    assert d.json("user", "disable", "root")["state"] == "disabled"


@pytest.mark.parametrize("args,code,msg", [
    (("user", "disable", "nobody"), 3, "no user named 'nobody'"),
    (("user", "enable", "nobody"), 3, "no user named 'nobody'"),
    (("user", "role", "nobody", "admin"), 3, "no user named 'nobody'"),
    (("user", "role", "kim", "boss"), 2, "role 'boss'"),
    (("user", "disable", "k m"), 2, "user name: ' ' at position 2"),
    (("user", "disable"), 2, "usage: latchd user disable NAME"),
    (("user", "disable", "kim", "extra"), 2, "usage:"),
    (("user", "enable", "--force"), 2, "usage: latchd user enable NAME"),
    (("user", "role", "kim"), 2, "usage: latchd user role NAME"),
    (("token", "list", "extra"), 2, "usage: latchd token list"),
])
def test_bad_user_and_token_arguments(web, args, code, msg):
    web.add_user("kim", "viewer")
    res = web.latchd.run(*args)
    assert res.returncode == code, (args, res.returncode, res.stderr)
    assert msg in res.stderr, res.stderr
    users = web.latchd.json("user", "list")["items"]
    assert [(u["role"], u["state"]) for u in users] == [("viewer", "active")]


def test_help_lists_the_verbs():
    res = subprocess.run([LATCHD, "help"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    for verb in ("user disable NAME", "user enable NAME",
                 "user role NAME", "token list", "token revoke ID"):
        assert "latchd " + verb in res.stdout, res.stdout


def add_user_raw(d, *args):
    return subprocess.run([LATCHD, "--data", d.data, "user", "add", *args],
                          input="goodpassword12\n", capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("args,msg", [
    (("user", "enable", "lena"), "lena is enabled already\n"),
    (("user", "role", "lena", "approver"), "lena is approver already\n"),
])
def test_user_noop_changes_nothing(web, args, msg):
    d = web.latchd
    pw = web.add_user("lena", "approver")
    sid, _ = web.signin("lena", pw)
    before = len(audit_rows(d, "user.update"))

    res = d.run(*args)
    assert res.returncode == 0, res.stderr
    assert res.stdout == msg
    assert web.get("/", session=sid).status == 200
    assert len(audit_rows(d, "user.update")) == before
    out = d.json(*args)
    assert out["changed"] is False and out["state"] == "active"
    assert web.get("/", session=sid).status == 200

    d.json("user", "disable", "lena")
    res = d.run("user", "disable", "lena")
    assert (res.returncode, res.stdout) == (0, "lena is disabled already\n")
    assert len(audit_rows(d, "user.update")) == before + 1


def test_web_noop_save_keeps_sessions(web):
    d = web.latchd
    pw = web.add_user("mona", "viewer")
    sid, _ = web.signin("mona", pw)
    admin_sid, csrf = web.user_session("admin", "root")
    uid = d.json("user", "list")["items"]
    uid = [u["id"] for u in uid if u["name"] == "mona"][0]
    res = web.form("/users/%d/update" % uid, {"role": "viewer"},
                   session=admin_sid, csrf=csrf)
    assert res.status == 303, res
    assert web.get("/", session=sid).status == 200
    assert audit_rows(d, "user.update") == []


@pytest.mark.parametrize("args,flag", [
    (("user", "add", "newv", "--role", "viewer", "--role", "admin"),
     "--role"),
    (("token", "create", "--role", "viewer", "--role", "admin"), "--role"),
    (("token", "create", "--role", "viewer", "--name", "a", "--name", "b"),
     "--name"),
])
def test_flag_given_twice_is_refused(web, args, flag):
    d = web.latchd
    if args[0] == "user":
        res = add_user_raw(d, *args[2:])
    else:
        res = d.run(*args)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert res.stderr == "latchd: %s is given twice\n" % flag
    assert d.json("user", "list")["items"] == []
    assert d.json("token", "list")["items"] == []


@pytest.mark.parametrize("args,extra,usage", [
    (("user", "list", "extra"), "extra", "[--json]"),
    (("token", "list", "extra"), "extra", "[--json]"),
    (("token", "revoke", "10", "11"), "11", "ID [--json]"),
    (("user", "disable", "alice", "bob"), "bob", "NAME [--json]"),
    (("user", "enable", "alice", "bob"), "bob", "NAME [--json]"),
    (("user", "role", "alice", "admin", "x"), "x",
     "NAME viewer|approver|admin [--json]"),
    (("token", "create", "--role", "admin", "x"), "x",
     "--role viewer|approver|admin [--name TEXT]"),
    (("user", "add", "a", "b", "--role", "admin"), "b",
     "NAME --role viewer|approver|admin"),
])
def test_extra_operand_is_named(web, args, extra, usage):
    res = web.latchd.run(*args)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stderr == ('latchd: unexpected operand "%s"\n'
                          "usage: latchd %s %s %s\n"
                          % (extra, args[0], args[1], usage))


def test_token_revoke_large_ids(web):
    d = web.latchd
    for big in ("9223372036854775807", "1000000000000000000"):
        res = d.run("token", "revoke", big)
        assert res.returncode == 3, (big, res.returncode, res.stderr)
        assert res.stderr == "latchd: no token with id %s\n" % big
    res = d.run("token", "revoke", "9223372036854775808")
    assert res.returncode == 2, res.stderr
    assert "9223372036854775808" in res.stderr


def test_json_errors_carry_the_known_id(web):
    d = web.latchd
    web.token("viewer", "ci")
    tid = token_id(d, "ci")
    d.json("token", "revoke", str(tid))
    res = d.run("--json", "token", "revoke", str(tid))
    assert res.returncode == 1
    assert json.loads(res.stdout) == {
        "id": tid, "state": "error",
        "error": "token %d is revoked already" % tid, "status": "refused by policy"}

    web.add_user("solo", "admin")
    uid = d.json("user", "list")["items"][0]["id"]
    res = d.run("--json", "user", "disable", "solo")
    assert res.returncode == 1
    out = json.loads(res.stdout)
    assert out["id"] == uid and out["state"] == "error"


def test_token_create_json_has_state(web):
    out = web.latchd.json("token", "create", "--role", "viewer")
    assert out["state"] == "active" and isinstance(out["id"], int)
    assert out["token"].startswith("lt_")


def test_user_list_has_header_and_ids(web):
    d = web.latchd
    web.add_user("olga", "approver")
    web.add_user("pete", "viewer")
    d.json("user", "disable", "pete")
    ids = {u["name"]: u["id"] for u in d.json("user", "list")["items"]}
    res = d.run("user", "list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATE", "ROLE", "NAME", "CREATED",
                                "LAST", "SIGN-IN", "CREATED", "BY"]
    assert lines[1].split()[:4] == [str(ids["olga"]), "active", "approver",
                                    "olga"]
    assert lines[2].split()[:4] == [str(ids["pete"]), "disabled", "viewer",
                                    "pete"]
    assert lines[1].split()[-1] == cli_actor()
