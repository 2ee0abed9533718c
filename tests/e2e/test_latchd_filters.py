# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""A list filter with a state that does not exist is refused (exit 2,
listing the valid states) instead of answering an empty list with exit 0,
in the CLI and the JSON API.
"""
import pytest


@pytest.mark.parametrize("verb,valid", [
    ("enrollment", ["pending", "valid", "approved", "rejected"]),
    ("license", ["active", "revoked", "superseded"]),
])
def test_list_refuses_an_unknown_state(web, verb, valid):
    d = web.latchd
    res = d.run(verb, "list", "--state", "bogus")
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "bogus" in res.stderr
    for s in valid:
        assert s in res.stderr, res.stderr
    assert res.stdout == ""
    res = d.run(verb, "list", "--state", valid[0])
    assert res.returncode == 0, res.stderr
    token = web.token("viewer")
    res = web.api("GET", "/api/v1/%ss?state=bogus" % verb, token)
    assert res.status == 400, res
