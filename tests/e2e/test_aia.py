# SPDX-License-Identifier: ISC
"""AIA fetching of missing EK intermediates, against a vendor web server on
127.0.0.1 (fixtures_aia). Real vendor EK certificates carry the caIssuers
URLs; curl's connect-to sends those hosts to the local server."""
import glob
import hashlib
import os

from fixtures_aia import (EK, INTER, _big_body, _big_chunked, _pkcs7, _pem,
                          _read, _redirect, _slow_drip)

STM_RSA = os.path.join(EK, "stm-st33htph-rsa-ff-padded-1600.der")
STM_INT05 = os.path.join(INTER, "STMicro", "STM_TPM_EK_Intermediate_CA_05_2.crt")
IFX_RSA = os.path.join(EK, "infineon-slb9670-rsa.der")
IFX_ECC = os.path.join(EK, "infineon-slb9670-ecc-p256.der")
IFX_RSA_INT = os.path.join(
    INTER, "Infineon",
    "Infineon_OPTIGA_TM_RSA_Manufacturing_CA_035_Issued_by_RootCA.crt")
IFX_ECC_INT = os.path.join(INTER, "Infineon",
                           "Infineon_OPTIGA_TM__ECC_Manufacturing_CA_035.crt")
STM_PATH = "/stmtpmekint05.crt"
IFX_RSA_PATH = "/OptigaRsaMfrCA035/OptigaRsaMfrCA035.crt"
IFX_ECC_PATH = "/OptigaEccMfrCA035/OptigaEccMfrCA035.crt"
RSS_LIMIT_KIB = 48 * 1024


def _der(path):
    data = _read(path)
    if data.startswith(b"-----"):
        import subprocess
        data = subprocess.run(["openssl", "x509", "-outform", "DER"],
                              input=data, capture_output=True,
                              check=True).stdout
    return data


def test_chain_completes_through_aia(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _der(STM_INT05))
    res, err, _, _ = ekcheck.run(STM_RSA)
    assert res["outcome"] == "valid", res["detail"]
    assert res["aia_fetches"] == 1
    assert vendor_server.hits[STM_PATH] == 1
    assert "fetching issuer certificate from http://secure.globalsign.com" \
        "/stmtpmekint05.crt" in err
    assert "connecting to 127.0.0.1" in err
    # Cached under subject key + DER hash; still an untrusted helper.
    cached = glob.glob(os.path.join(ekcheck.cache_dir, "*.der"))
    assert len(cached) == 1
    sha = hashlib.sha256(_der(STM_INT05)).hexdigest()
    assert cached[0].endswith("-%s.der" % sha)
    assert not res["chain"][1]["pinned"]


def test_second_verification_from_the_vendor_needs_no_fetch(ekcheck,
                                                            vendor_server):
    vendor_server.route(STM_PATH, _der(STM_INT05))
    first, _, _, _ = ekcheck.run(STM_RSA)
    assert first["outcome"] == "valid"
    second, err, _, _ = ekcheck.run(STM_RSA)
    assert second["outcome"] == "valid"
    assert second["aia_fetches"] == 0
    assert vendor_server.hits[STM_PATH] == 1
    assert "(intermediate cache)" in err


def test_pem_and_pkcs7_bodies_are_read(ekcheck, vendor_server):
    vendor_server.route(IFX_RSA_PATH, _pem(_der(IFX_RSA_INT)),
                        ctype="application/x-pem-file")
    vendor_server.route(IFX_ECC_PATH, _pkcs7(_der(IFX_ECC_INT)),
                        ctype="application/pkcs7-mime")
    res, _, _, _ = ekcheck.run(IFX_RSA)
    assert res["outcome"] == "valid", res["detail"]
    assert res["aia_fetches"] == 1
    res, _, _, _ = ekcheck.run(IFX_ECC)
    assert res["outcome"] == "valid", res["detail"]
    assert res["aia_fetches"] == 1


def test_aia_url_with_spaces_is_percent_encoded(ekcheck, vendor_server,
                                                aia_pki):
    leaf = aia_pki.leaf("http://vendor.test/ca certs/Issuing CA 01.crt")
    vendor_server.route("/ca%20certs/Issuing%20CA%2001.crt", aia_pki.int_der)
    res, _, _, _ = ekcheck.run(leaf, trust=os.path.dirname(aia_pki.root))
    assert res["outcome"] == "valid", res["detail"]
    assert vendor_server.hits["/ca%20certs/Issuing%20CA%2001.crt"] == 1


def test_redirect_is_refused(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _redirect)
    res, err, _, _ = ekcheck.run(STM_RSA)
    assert res["outcome"] == "invalid"
    assert res["reason"] == "issuer-not-found"
    assert "redirect refused (HTTP 302 to http://169.254.169.254/" in \
        res["detail"]
    assert glob.glob(os.path.join(ekcheck.cache_dir, "*")) == []


def test_oversize_body_is_refused_with_bounded_memory(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _big_body)
    res, _, rss, _ = ekcheck.run(STM_RSA)
    assert res["reason"] == "issuer-not-found"
    assert "body larger than 65536 bytes" in res["detail"]
    assert rss < RSS_LIMIT_KIB, rss
    # Without a Content-Length only the write callback can stop it.
    vendor_server.route(STM_PATH, _big_chunked)
    res, _, rss, _ = ekcheck.run(STM_RSA)
    assert "body larger than 65536 bytes" in res["detail"]
    assert rss < RSS_LIMIT_KIB, rss


def test_slow_drip_is_cut_off(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _slow_drip)
    res, _, _, elapsed = ekcheck.run(STM_RSA)
    assert res["reason"] == "issuer-not-found"
    assert "too slow or timed out" in res["detail"]
    assert elapsed < 8.0, elapsed


def test_html_error_page_is_refused(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, b"<html><body><h1>404 Not Found</h1>"
                        b"</body></html>", status=404, ctype="text/html")
    res, _, _, _ = ekcheck.run(STM_RSA)
    assert "returned an HTML page, not a certificate" in res["detail"]
    # An HTML page served as 200 with a certificate content type too.
    vendor_server.route(STM_PATH, b"\n<!DOCTYPE html><p>maintenance</p>")
    res, _, _, _ = ekcheck.run(STM_RSA)
    assert "HTML page, not a certificate" in res["detail"]


def test_file_and_gopher_urls_are_refused(ekcheck, vendor_server, aia_pki):
    trust = os.path.dirname(aia_pki.root)
    for url, scheme in (("file:///etc/passwd", "file"),
                        ("gopher://vendor.test/1/ca.crt", "gopher")):
        res, _, _, _ = ekcheck.run(aia_pki.leaf(url), trust=trust)
        assert res["outcome"] == "invalid"
        assert "scheme %s refused (http and https only)" % scheme in \
            res["detail"], res["detail"]
    assert sum(vendor_server.hits.values()) == 0


def test_loopback_target_refused_unless_allowed(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _der(STM_INT05))
    res, _, _, _ = ekcheck.run(STM_RSA, allow_private=False)
    assert "address 127.0.0.1 is loopback (refused)" in res["detail"]
    assert vendor_server.hits[STM_PATH] == 0


def test_host_allowlist_and_switch_off(ekcheck, vendor_server):
    vendor_server.route(STM_PATH, _der(STM_INT05))
    res, _, _, _ = ekcheck.run(STM_RSA,
                               extra=["--allow-hosts", "pki.infineon.com"])
    assert "not in the AIA host allowlist" in res["detail"]
    res, _, _, _ = ekcheck.run(STM_RSA, aia=False)
    assert res["reason"] == "issuer-not-found"
    assert "AIA fetching is off" in res["detail"]
    assert vendor_server.hits[STM_PATH] == 0


def test_wrong_certificate_at_the_url_does_not_complete_the_chain(
        ekcheck, vendor_server):
    # The server answers with another vendor's intermediate: not stored.
    vendor_server.route(STM_PATH, _der(IFX_RSA_INT))
    res, _, _, _ = ekcheck.run(STM_RSA)
    assert res["outcome"] == "invalid"
    assert glob.glob(os.path.join(ekcheck.cache_dir, "*")) == []
