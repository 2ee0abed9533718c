# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""The admin UI in headless Chromium against a real `latchd serve` and
swtpm boards: sign in, upload an enrollment, watch its validation
progress reach valid (htmx polling), approve, add a customer, issue,
download the license and activate it on the board; and a hostile
enrollment that renders as text and makes the browser send no request.

Screenshots of the main pages go to $BUILD/screenshots; with
LATCH_UPDATE_SCREENSHOTS=1 the dashboard and the enrollment detail are
also written to docs/screenshots/ (the two the README shows).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import time

import pytest
from selenium.common.exceptions import (
    NoAlertPresentException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from fixtures_latchd import LATCHD, make_latchd
from fixtures_paths import BUILD, REPO
from fixtures_web import serve, stop

SHOTS = os.path.join(BUILD, "screenshots")
DOC_SHOTS = os.path.join(REPO, "docs", "screenshots")


@pytest.fixture
def ui(vendor_ca, license_pki, tmp_path):
    """latchd serve on SQLite with no in-process validation workers, so
    the test decides when validation runs (`latchd worker --once`)."""
    d = make_latchd(str(tmp_path), ("sqlite", None), vendor_ca, license_pki)
    w = serve(d, extra_conf="[workers]\ncount = 0")
    try:
        yield w
    finally:
        stop(w.proc)
        w.log.close()


def shot(browser, name, doc=False):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    d = browser.driver
    height = d.execute_script("return document.body.scrollHeight")
    d.set_window_size(1280, max(800, min(height + 40, 2400)))
    d.save_screenshot(path)
    d.set_window_size(1280, 900)
    if doc and os.environ.get("LATCH_UPDATE_SCREENSHOTS") == "1":
        os.makedirs(DOC_SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(DOC_SHOTS, name + ".png"))


def sign_in(browser, web, name, password):
    d = browser.driver
    d.get(web.origin + "/signin")
    d.find_element(By.ID, "name").send_keys(name)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(d, 10).until(lambda x: x.title.startswith("Dashboard"))


def run_worker(web):
    res = subprocess.run([LATCHD, "--data", web.latchd.data, "worker",
                          "--once"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr


def h1_state(d):
    """The state badge in the page title; None while the page reloads."""
    try:
        badges = d.find_elements(By.CSS_SELECTOR, "h1 .badge")
        return badges[0].text if badges else None
    except StaleElementReferenceException:
        return None


def test_sign_in_upload_watch_approve_issue_download(ui, browser, device,
                                                     tmp_path):
    web = ui
    d = browser.driver
    pw = web.add_user("operator", "admin")
    dev = device()
    enr = dev.enroll(str(tmp_path / "enrollment.json"), "--label",
                     "line 3, station 12")

    d.get(web.origin + "/")
    WebDriverWait(d, 10).until(lambda x: x.title.startswith("Sign in"))
    shot(browser, "signin")
    sign_in(browser, web, "operator", pw)

    # Upload through the file picker.
    d.get(web.origin + "/enrollments/upload")
    d.find_element(By.ID, "files").send_keys(enr)
    names = d.find_elements(By.CSS_SELECTOR, "[data-dropzone] ul li")
    assert len(names) == 1 and "enrollment.json" in names[0].text
    d.find_element(By.CSS_SELECTOR, "form.panel button[type=submit]").click()
    WebDriverWait(d, 10).until(
        lambda x: re.search(r"/enrollments/\d+$", x.current_url))
    enr_url = d.current_url
    # The URL changes when navigation commits, before the new page's DOM
    # is there: wait for the badge rather than read it at once.
    WebDriverWait(d, 10).until(lambda x: h1_state(x) is not None)
    assert h1_state(d) == "pending"
    progress = d.find_element(By.ID, "progress")
    assert progress.get_attribute("hx-trigger") == "every 1s"

    # Validation runs now; the polling page notices and reloads itself.
    run_worker(web)
    WebDriverWait(d, 20).until(lambda x: h1_state(x) == "valid")
    items = d.find_elements(By.CSS_SELECTOR, "#progress li")
    assert len(items) >= 3, [i.text for i in items]
    assert d.find_element(By.ID, "progress").get_attribute(
        "hx-trigger") is None
    page = d.find_element(By.TAG_NAME, "main").text
    assert "EK certificate" in page and "Check report" in page
    assert "line 3, station 12" in page
    shot(browser, "enrollment", doc=True)

    d.find_element(By.XPATH, "//button[text()='Approve']").click()
    WebDriverWait(d, 10).until(lambda x: h1_state(x) == "approved")

    d.get(web.origin + "/customers")
    d.find_element(By.ID, "name").send_keys("ACME Robotics")
    d.find_element(By.XPATH, "//button[text()='Add']").click()
    # htmx swaps the table: an element read mid-swap goes stale.
    WebDriverWait(d, 10, ignored_exceptions=(
        StaleElementReferenceException,)).until(
        lambda x: "ACME Robotics" in x.find_element(By.TAG_NAME,
                                                    "table").text)

    d.get(enr_url)
    d.find_element(By.LINK_TEXT, "Issue a license").click()
    WebDriverWait(d, 10).until(lambda x: x.title.startswith("Issue"))
    Select(d.find_element(By.ID, "customer")).select_by_visible_text(
        "ACME Robotics")
    d.find_element(By.NAME, "f0_on").click()
    d.find_element(By.NAME, "f0_name").send_keys("base")
    d.find_element(By.NAME, "f1_on").click()
    d.find_element(By.NAME, "f1_name").send_keys("seats")
    d.find_element(By.NAME, "f1_qty").send_keys("16")
    d.execute_script("arguments[0].value = '2031-01-01'",
                     d.find_element(By.ID, "valid_until"))
    shot(browser, "issue")
    d.find_element(By.XPATH, "//button[text()='Issue and sign']").click()
    WebDriverWait(d, 10).until(lambda x: x.title.startswith("License"))
    assert "License issued and signed" in d.page_source
    shown = json.loads(d.find_element(By.CSS_SELECTOR, "pre.json").text)
    assert shown["license"]["features"]["seats"]["quantity"] == 16
    assert shown["license"]["valid_until"] == "2031-01-01T00:00:00Z"
    shot(browser, "license")

    d.find_element(By.PARTIAL_LINK_TEXT, "Download").click()
    deadline = time.time() + 10
    files = []
    while time.time() < deadline:
        files = glob.glob(os.path.join(browser.downloads, "license-*.json"))
        if files:
            break
        time.sleep(0.1)
    assert len(files) == 1, os.listdir(browser.downloads)
    assert re.fullmatch(r"license-[0-9a-f]{16}-1\.json",
                        os.path.basename(files[0]))
    assert json.load(open(files[0])) == shown
    res = dev.latch("activate", files[0])
    assert res.returncode == 0, res.stderr

    for name, path in [("dashboard", "/"), ("enrollments", "/enrollments"),
                       ("licenses", "/licenses"), ("devices", "/devices"),
                       ("audit", "/audit"), ("trust", "/trust"),
                       ("users", "/users")]:
        d.get(web.origin + path)
        assert "Server error" not in d.title
        shot(browser, name, doc=(name == "dashboard"))
    d.get(web.origin + "/")
    assert "ACME Robotics" in d.find_element(By.TAG_NAME, "main").text
    # Nothing on these pages broke the CSP.
    assert not [m for m in browser.console()
                if "Content Security Policy" in m]


PAYLOADS = {
    "hostname": "<img src=\"/xss-probe-img\" onerror=\"fetch('/xss-probe-"
                "js')\">",
    "label": "\" hx-get=\"/xss-probe-htmx\" hx-trigger=\"load\" x=\"",
    "product": "<script>fetch('/xss-probe-script')</script>",
    "serial_number": "</td></tr></table><form action=\"/xss-probe-form\">"
                     "<button>win</button></form>",
}


def test_hostile_enrollment_renders_as_text_and_sends_no_request(
        ui, browser, device, tmp_path):
    web = ui
    d = browser.driver
    pw = web.add_user("reviewer", "approver")
    token = web.token("approver")
    dev = device()
    doc = json.load(open(dev.enroll(str(tmp_path / "e.json"))))
    doc["device"] = dict(PAYLOADS)
    res = web.api("POST", "/api/v1/enrollments", token,
                  raw=json.dumps(doc).encode())
    assert res.status == 201, res
    enr_id = res.json()["id"]
    run_worker(web)

    sign_in(browser, web, "reviewer", pw)
    browser.requests()
    browser.console()
    for path in ("/enrollments/%d" % enr_id, "/enrollments", "/"):
        d.get(web.origin + path)
        WebDriverWait(d, 10).until(
            lambda x: x.execute_script("return document.readyState")
            == "complete")
        time.sleep(1.5)  # time for htmx to process the page
        try:
            alert = d.switch_to.alert
            raise AssertionError("an alert opened: " + alert.text)
        except NoAlertPresentException:
            pass
        assert d.execute_script(
            "return document.querySelectorAll('img, iframe, main form"
            "[action^=\"/xss\"]').length") == 0
        assert d.execute_script(
            "return document.querySelectorAll('[hx-trigger=\"load\"]')"
            ".length") == 0
        sent = browser.requests()
        assert not [u for u in sent if "xss-probe" in u], sent
        assert all(u.startswith(web.origin) for u in sent), sent

    d.get(web.origin + "/enrollments/%d" % enr_id)
    cells = {row.find_element(By.TAG_NAME, "th").text:
             row.find_element(By.TAG_NAME, "td").text
             for row in d.find_elements(By.CSS_SELECTOR,
                                        "section table.facts tr")}
    assert cells["Hostname"] == PAYLOADS["hostname"]
    assert cells["Label"] == PAYLOADS["label"]
    assert cells["Product"] == PAYLOADS["product"]
    assert cells["Serial number"] == PAYLOADS["serial_number"]
    assert not [m for m in browser.console()
                if "Content Security Policy" in m]
