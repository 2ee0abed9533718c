# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The swtpm test boards themselves: side by side, genuine EK certificates
from the test vendor CA at the TCG NV indices, stopped by pid."""
import os
import subprocess

import pytest

EK_INDICES = {
    "rsa2048": "0x01c00002",
    "ecc-p256": "0x01c0000a",
    "ecc-p384": "0x01c00016",
}


def tpm2(tcti, *args, out=None):
    env = dict(os.environ, TPM2TOOLS_TCTI=tcti, TSS2_LOG="all+none")
    return subprocess.run(
        ["tpm2_" + args[0], *args[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=True,
        timeout=30,
    ).stdout


def verify_cert(ca, der_path):
    pem = der_path + ".pem"
    subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", der_path, "-out", pem],
        check=True,
    )
    return subprocess.run(
        [
            "openssl", "verify", "-x509_strict", "-CAfile", ca.root_pem,
            "-untrusted", ca.issuer_pem, pem,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def test_two_boards_run_side_by_side_with_distinct_genuine_ek_certs(
    board, tmp_path
):
    a = board()
    b = board()
    seen = {}
    for name, brd in (("a", a), ("b", b)):
        handles = tpm2(brd.tcti, "getcap", "handles-nv-index").decode()
        for template, index in EK_INDICES.items():
            assert index[2:].upper().lstrip("0") in handles.upper()
            der = str(tmp_path / ("%s-%s.der" % (name, template)))
            tpm2(brd.tcti, "nvread", "-C", "o", index, "-o", der)
            with open(der, "rb") as f:
                nv = f.read()
            assert nv == brd.ek_cert(template)
            res = verify_cert(brd.ca, der)
            assert res.returncode == 0, res.stdout
            seen[(name, template)] = nv
    for template in EK_INDICES:
        assert seen[("a", template)] != seen[("b", template)]


def test_p256_cert_index_is_written_and_locked_like_swtpm_indices(board):
    a = board()
    out = tpm2(a.tcti, "nvreadpublic", "0x01c0000a").decode()
    assert "0x62072801" in out


def test_stop_ends_the_process_and_a_foreign_ca_does_not_verify(
    board, vendor_ca, tmp_path
):
    a = board()
    pid = a.pid
    assert a.running
    a.stop()
    assert not a.running
    stat = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    ).stdout.strip()
    assert stat == "" or stat.startswith("Z")
    with pytest.raises(subprocess.CalledProcessError):
        tpm2(a.tcti, "getcap", "properties-fixed")
    # The EK cert does not chain to an unrelated root.
    other = tmp_path / "other"
    subprocess.run(
        [os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                      "board.sh"), "ca", str(other)],
        check=True, stdout=subprocess.DEVNULL,
    )
    der = str(tmp_path / "ek.der")
    with open(der, "wb") as f:
        f.write(a.ek_cert("rsa2048"))

    class Other:
        root_pem = str(other / "root.pem")
        issuer_pem = str(other / "issuercert.pem")

    assert verify_cert(Other, der).returncode != 0
