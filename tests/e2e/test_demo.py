# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""`make demo` (scripts/demo.sh) end to end, non-interactively: the flow
runs to board B's refusal and prints a working admin sign-in; Ctrl-C
(SIGINT) stops everything the script started.
"""
import os
import re
import select
import signal
import subprocess
import time
import urllib.parse

from fixtures_paths import BUILD, REPO
from fixtures_web import Web, session_of

DEMO = os.path.join(REPO, "scripts", "demo.sh")


def demo_env(tmp_path, **extra):
    env = dict(os.environ)
    env.update({"BUILD": os.path.relpath(BUILD, REPO),
                "DEMO_DIR": str(tmp_path / "demo"),
                "DEMO_LISTEN": "127.0.0.1:0"})
    env.update(extra)
    return env


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def started_pids(demo_dir):
    pids = []
    for b in ("board-a", "board-b"):
        try:
            pids.append(int(open(os.path.join(demo_dir, b,
                                              "swtpm.pid")).read()))
        except (OSError, ValueError):
            pass
    return pids


def test_demo_runs_the_whole_flow_and_stops_everything(tmp_path):
    res = subprocess.run([DEMO], env=demo_env(tmp_path, DEMO_EXIT_AFTER="1"),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=600, check=False)
    out = res.stdout
    assert res.returncode == 0, out
    assert "state: valid" in out
    assert "features:\n  base: enabled\n  seats: enabled, quantity 16" in out
    assert "license is not for this TPM" in out
    assert "board B: refused, as it must be" in out
    assert re.search(r"password: \S{12,}", out)
    demo = str(tmp_path / "demo")
    assert os.path.exists(os.path.join(demo, "board-a", "latch",
                                       "license.json"))
    assert not os.path.exists(os.path.join(demo, "board-b", "latch",
                                           "license.json"))
    # Stopped: no board left running, no latchd answering.
    assert started_pids(demo) == []
    url = re.search(r"  (http://127\.0\.0\.1:\d+)/\n", out).group(1)
    port = int(url.rsplit(":", 1)[1])
    s = subprocess.run(["ss", "-ltn", "sport = :%d" % port],
                       stdout=subprocess.PIPE, text=True, check=False)
    assert ":%d" % port not in s.stdout


def test_demo_keeps_latchd_up_until_ctrl_c(tmp_path):
    proc = subprocess.Popen([DEMO], env=demo_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    try:
        deadline = time.time() + 300
        while b"Ctrl-C stops" not in out and time.time() < deadline:
            r, _, _ = select.select([proc.stdout], [], [], 1)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        text = out.decode()
        assert "Ctrl-C stops" in text, text
        url = re.search(r"  (http://127\.0\.0\.1:\d+)/\n", text).group(1)
        password = re.search(r"password: (\S+)", text).group(1)
        demo = str(tmp_path / "demo")
        boards = started_pids(demo)
        assert len(boards) == 2 and all(alive(p) for p in boards)

        # The printed sign-in works while the demo waits.
        web = Web(None, None, int(url.rsplit(":", 1)[1]), None)
        res = web.request("POST", "/signin",
                          body=urllib.parse.urlencode(
                              {"name": "admin", "password": password}),
                          headers={"Content-Type":
                                   "application/x-www-form-urlencoded"})
        assert res.status == 303, res
        cookie = [c for c in res.all("set-cookie")][0]
        sid = re.match(r"latchd_session=([0-9a-f]{32});", cookie).group(1)
        page = web.request("GET", "/licenses",
                           headers={"Cookie": "latchd_session=" + sid})
        assert page.status == 200 and "Demo Customer" in page.text
        assert session_of(res) is None  # plain-HTTP loopback cookie name

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        assert b"stopped latchd and the boards" in rest, rest
        assert not any(alive(p) for p in boards)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in started_pids(str(tmp_path / "demo")):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
