# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd serve refuses what it cannot honour before it starts (an
unbracketed IPv6 or IPv4-mapped listen address, a bad address checked
before the cookie rule, an [http] origin no browser sends), and a form
field holding a NUL byte is refused instead of cut short."""
import subprocess

import pytest

from fixtures_latchd import LATCHD, conf_set, make_latchd


def start_fails(d, listen, conf=""):
    if conf:
        conf_set(d.data, conf)
    res = subprocess.run([LATCHD, "--data", d.data, "serve", "--listen",
                          listen], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30,
                         check=False)
    assert res.returncode == 2, (listen, conf, res.returncode, res.stderr)
    return res.stderr


@pytest.mark.parametrize("listen,why", [
    ("::1:18107", "in brackets"),
    ("[::ffff:127.0.0.1]:0", "IPv6 mapping"),
    ("127.0.0.1: 80", "bad port"),
    ("127.0.0.1:+80", "bad port"),
])
def test_listen_addresses_are_checked(vendor_ca, license_pki, tmp_path,
                                      listen, why):
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    assert why in start_fails(d, listen)


@pytest.mark.parametrize("listen", ["localhost:18106", ":18106",
                                    "[::1]18106", "256.0.0.1:18106"])
def test_a_bad_address_is_named_before_the_cookie_rule(vendor_ca,
                                                       license_pki, tmp_path,
                                                       listen):
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    err = start_fails(d, listen, "[http]\ncookie_secure = false")
    assert "listen address" in err and "cookie_secure" not in err, err


@pytest.mark.parametrize("origin", ["https://latch.example.com/",
                                    "latch.example.com", "not a url",
                                    "https://", "https://a b",
                                    "https://[::1", "https://x:123456",
                                    "ftp://latch.example.com"])
def test_origin_setting_must_be_an_origin(vendor_ca, license_pki, tmp_path,
                                          origin):
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    err = start_fails(d, "127.0.0.1:0", "[http]\norigin = " + origin)
    assert "origin" in err, err


def test_form_field_with_a_nul_byte_is_refused(web):
    sid, csrf = web.user_session("admin")
    res = web.request(
        "POST", "/customers",
        body=("csrf_token=%s&name=Evil%%00Corp" % csrf).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Origin": web.origin, "Sec-Fetch-Site": "same-origin"},
        session=sid)
    assert res.status == 400, res
    assert "NUL" in res.text
    listed = web.get("/customers", session=sid).text
    assert "Evil" not in listed


@pytest.mark.parametrize("origin", ["https://latch.example.com",
                                    "http://127.0.0.1:8080",
                                    "https://[::1]:8443"])
def test_good_origin_settings_start(vendor_ca, license_pki, tmp_path,
                                    origin):
    from fixtures_web import serve, stop

    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d, "[http]\norigin = " + origin)
    stop(w.proc)
    w.log.close()


def state_of(web, token, enr_id):
    res = web.api("GET", "/api/v1/enrollments/%d" % enr_id, token)
    assert res.status == 200, res
    return res.json()["state"]


def test_workers_count_zero_starts_no_validation_workers(
        vendor_ca, license_pki, device, tmp_path):
    """docs/web.md: `[workers] count = 0` runs no workers in `serve`
    (another host runs `latchd worker`); it used to start two."""
    import time
    from fixtures_web import serve, stop

    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d, extra_conf="[workers]\ncount = 0")
    try:
        admin = w.token("admin", "automation")
        enr = device().enroll(str(tmp_path / "enr.json"))
        res = w.api("POST", "/api/v1/enrollments", admin,
                    raw=open(enr, "rb").read())
        assert res.status == 201, res
        enr_id = res.json()["id"]
        # An idle worker polls every 200 ms: ten polls would have claimed it.
        time.sleep(2)
        assert state_of(w, admin, enr_id) == "pending"
        res = subprocess.run([LATCHD, "--data", d.data, "worker", "--once"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr
        assert state_of(w, admin, enr_id) == "valid"
    finally:
        stop(w.proc)
        w.log.close()
