# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd's human-readable output never hands untrusted text (a device's
hostname from an uploaded enrollment, a customer name) to the terminal as
control or bidi characters: they are shown as <U+XXXX>, and a truncated
column never ends inside a UTF-8 character. --json stays JSON.
"""
import json

import pytest

from fixtures_latchd import make_latchd

ESC_TITLE = "\x1b]0;owned\x07"
RLO = "\u202e"


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def raw_run(latchd, *args):
    """latchd's output as bytes, so nothing is decoded away."""
    import subprocess

    from fixtures_latchd import LATCHD
    return subprocess.run([LATCHD, "--data", latchd.data, *args],
                          capture_output=True, timeout=120, check=False)


def assert_clean(data):
    for bad in (b"\x1b", b"\x07", RLO.encode()):
        assert bad not in data, data
    data.decode("utf-8")  # whole characters only


def test_hostile_hostname_is_escaped_in_list_and_show(sq_latchd, device,
                                                      tmp_path):
    d = sq_latchd
    enr = json.load(open(device().enroll(str(tmp_path / "e.json"))))
    enr["device"]["hostname"] = ESC_TITLE + "box" + RLO + "gpj.exe"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(enr))
    res = raw_run(d, "enrollment", "import", str(hostile))
    assert_clean(res.stdout + res.stderr)
    listed = raw_run(d, "enrollment", "list")
    assert listed.returncode == 0, listed.stderr
    assert_clean(listed.stdout)
    assert b"<U+001B>" in listed.stdout, listed.stdout
    ids = json.loads(raw_run(d, "--json", "enrollment", "list").stdout)
    enr_id = ids["items"][0]["id"]
    shown = raw_run(d, "enrollment", "show", str(enr_id))
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown.stdout)
    assert b"<U+202E>" in shown.stdout and b"<U+0007>" in shown.stdout
    # --json keeps the exact text, escaped by JSON itself.
    as_json = raw_run(d, "--json", "enrollment", "show", str(enr_id))
    assert b"\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["hostname"] == enr["device"]["hostname"]


def test_truncated_column_keeps_whole_characters(sq_latchd, device,
                                                 tmp_path):
    d = sq_latchd
    enr = json.load(open(device().enroll(str(tmp_path / "e.json"))))
    enr["device"]["hostname"] = "a" + "\u00e9" * 30
    path = tmp_path / "long.json"
    path.write_text(json.dumps(enr))
    raw_run(d, "enrollment", "import", str(path))
    listed = raw_run(d, "enrollment", "list")
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout.decode("utf-8")  # fails on a cut sequence
    assert ("a" + "\u00e9" * 19 + " ") in text, text


def test_bidi_in_customer_name_is_escaped(sq_latchd):
    d = sq_latchd
    res = raw_run(d, "customer", "add", "ACME" + RLO + "evil")
    assert res.returncode == 0, res.stderr
    assert_clean(res.stdout)
    listed = raw_run(d, "customer", "list")
    assert_clean(listed.stdout)
    assert b"ACME<U+202E>evil" in listed.stdout, listed.stdout


FAKE_LINE = "x\n  state            approved by security team"


def test_newline_and_tab_in_device_fields_cannot_forge_lines(sq_latchd,
                                                             device,
                                                             tmp_path):
    d = sq_latchd
    enr = json.load(open(device().enroll(str(tmp_path / "e.json"))))
    enr["device"]["label"] = FAKE_LINE
    enr["device"]["hostname"] = "host\nfake-row\tcol"
    path = tmp_path / "nl.json"
    path.write_text(json.dumps(enr))
    res = raw_run(d, "enrollment", "import", str(path))
    assert_clean(res.stdout + res.stderr)
    listed = raw_run(d, "enrollment", "list")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.decode().splitlines()
    assert len(rows) == 2, rows  # the header and one enrollment
    assert "host<U+000A>fake-row<U+0009>col"[:20] in rows[1], rows
    enr_id = json.loads(raw_run(d, "--json", "enrollment", "list")
                        .stdout)["items"][0]["id"]
    shown = raw_run(d, "enrollment", "show", str(enr_id)).stdout.decode()
    assert "x<U+000A>  state            approved" in shown, shown
    for line in shown.splitlines():
        assert not line.lstrip().startswith("state"), shown
        assert "\t" not in line, shown
    # --json still carries the exact value.
    as_json = json.loads(raw_run(d, "--json", "enrollment", "show",
                                 str(enr_id)).stdout)
    assert as_json["label"] == FAKE_LINE
