# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""Headless Chromium for the admin UI tests: a fresh profile per test, the
flags from docs (no background networking, no sync, no QUIC), downloads
allowed into a test directory, performance (network) and console logs
kept so a test can prove which requests a page made. The browser and its
driver are stopped at teardown, also on failure.
"""
import json
import os
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1280,900",
]


class Browser:
    def __init__(self, driver, downloads):
        self.driver = driver
        self.downloads = downloads

    def requests(self):
        """URLs of every request the browser sent since the last call."""
        urls = []
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                urls.append(msg["params"]["request"]["url"])
        return urls

    def console(self):
        return [e["message"] for e in self.driver.get_log("browser")]


@pytest.fixture
def browser():
    profile = tempfile.mkdtemp(prefix="latch-chrome-")
    downloads = tempfile.mkdtemp(prefix="latch-dl-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS + ["--user-data-dir=" + profile]:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs",
                        {"performance": "ALL", "browser": "ALL"})
    opts.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow",
                                "downloadPath": downloads})
        yield Browser(driver, downloads)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)
