# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
"""latchd.conf is read strictly: an unknown section or key (a misspelt
cookie_secure), a key set twice, a syntax error and a bad value (in
config.c's keys or web.c's [http] and [session] ones) all stop latchd with
exit 2 and one message shape, "DATA/latchd.conf:LINE: what". `serve`
checks at start that the signing key and certificate load and that the
trust directory exists.
"""
import os
import re
import shutil
import subprocess

import pytest

from fixtures_latchd import LATCHD, make_latchd


@pytest.fixture
def sq_latchd(vendor_ca, license_pki, tmp_path):
    return make_latchd(str(tmp_path), ("sqlite", None), vendor_ca,
                       license_pki)


def append(d, text):
    path = os.path.join(d.data, "latchd.conf")
    with open(path, "a") as f:
        f.write("\n" + text + "\n")
    with open(path) as f:
        return len(f.read().splitlines())


@pytest.mark.parametrize("text,named", [
    ("[http]\ncookie_secur = false", "cookie_secur"),
    ("[sesion]\nidle_minutes = 5", "sesion"),
    ("[database]\nurll = sqlite:x", "urll"),
])
def test_unknown_key_stops_latchd_naming_it_and_the_line(sq_latchd, text,
                                                         named):
    d = sq_latchd
    assert d.run("customer", "list").returncode == 0
    last = append(d, text)
    res = d.run("customer", "list")
    assert res.returncode != 0, res.stdout
    assert named in res.stderr, res.stderr
    assert "latchd.conf:%d: " % last in res.stderr, res.stderr
    assert res.returncode == 2, res.stderr


def test_known_web_keys_are_accepted(sq_latchd):
    d = sq_latchd
    append(d, "[http]\ncookie_secure = true\nthreads = 2\n"
           "[session]\nidle_minutes = 10\nmax_hours = 2")
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr


def test_bad_web_value_names_the_key(sq_latchd):
    d = sq_latchd
    append(d, "[session]\nmax_hours = lots")
    res = subprocess.run([LATCHD, "--data", d.data, "serve", "--listen",
                          "127.0.0.1:0"], capture_output=True, text=True,
                         timeout=30, check=False)
    assert res.returncode != 0
    assert "max_hours" in res.stderr, res.stderr


def conf_lines(d):
    with open(os.path.join(d.data, "latchd.conf")) as f:
        return f.read().splitlines()


def line_of(d, text):
    return conf_lines(d).index(text) + 1


def serve_once(d, timeout=30):
    """Runs `latchd serve` that must stop at start; its CompletedProcess."""
    return subprocess.run([LATCHD, "--data", d.data, "serve", "--listen",
                           "127.0.0.1:0"], capture_output=True, text=True,
                          timeout=timeout, check=False)


def assert_conf_error(res, d, line, what):
    """Exit 2 and the one message shape: "DATA/latchd.conf:LINE: what"."""
    assert res.returncode == 2, (res.returncode, res.stderr)
    want = "latchd: %s:%d: %s" % (os.path.join(os.path.realpath(d.data),
                                               "latchd.conf"), line, what)
    assert want in res.stderr, (want, res.stderr)


def test_a_key_set_twice_names_both_lines(sq_latchd):
    d = sq_latchd
    first = line_of(d, "count = 2")
    last = append(d, "[workers]\ncount = 0")
    assert_conf_error(d.run("customer", "list"), d, last,
                      "[workers] count is set twice (first on line %d)"
                      % first)


def test_a_key_set_twice_in_one_section_is_refused(sq_latchd):
    d = sq_latchd
    lines = conf_lines(d)
    at = lines.index("timeout = 5")
    lines.insert(at + 1, "timeout = 7")
    with open(os.path.join(d.data, "latchd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    assert_conf_error(d.run("customer", "list"), d, at + 2,
                      "[aia] timeout is set twice (first on line %d)"
                      % (at + 1))


def test_a_web_key_set_twice_is_refused_by_every_verb(sq_latchd):
    d = sq_latchd
    last = append(d, "[http]\nthreads = 2\nthreads = 8")
    assert_conf_error(d.run("customer", "list"), d, last,
                      "[http] threads is set twice (first on line %d)"
                      % (last - 1))
    assert_conf_error(serve_once(d), d, last,
                      "[http] threads is set twice (first on line %d)"
                      % (last - 1))


def test_a_section_may_appear_twice_when_its_keys_do_not_repeat(sq_latchd):
    d = sq_latchd
    append(d, "[workers]\n[http]\nthreads = 2\n[aia]\ntimeout = 5")
    res = d.run("customer", "list")
    assert res.returncode == 2
    assert "[aia] timeout is set twice" in res.stderr, res.stderr
    lines = conf_lines(d)[:-1]
    with open(os.path.join(d.data, "latchd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr


def test_an_indented_line_is_not_a_silent_second_value(sq_latchd):
    # inih reads it as a continuation: the value would become "2" then "3".
    d = sq_latchd
    lines = conf_lines(d)
    at = lines.index("count = 2")
    lines.insert(at + 1, "  3")
    with open(os.path.join(d.data, "latchd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    assert_conf_error(d.run("customer", "list"), d, at + 2,
                      "[workers] count: an indented line continues the "
                      "value above")


@pytest.mark.parametrize("text,what", [
    ("[workers]\nthis is not a setting",
     "syntax error: not [section], key = value or a comment"),
    ("[workers]\n[aia", "syntax error"),
    ("[sesion]\nidle_minutes = 5", "unknown section [sesion]"),
    ("[http]\ncookie_secur = false", "unknown key [http] cookie_secur"),
    ("[aia]\nallow = " + "a" * 300, "line longer than 198 bytes"),
])
def test_config_errors_share_one_shape_and_exit_2(sq_latchd, text, what):
    d = sq_latchd
    last = append(d, text)
    assert_conf_error(d.run("customer", "list"), d, last, what)


@pytest.mark.parametrize("old,new,what", [
    ("count = 2", "count = 65", "bad value [workers] count = 65 (a number "
     "from 0 to 64)"),
    ("timeout = 5", "timeout = soon", "bad value [aia] timeout = soon"),
    ("enabled = false", "enabled = maybe", "bad value [aia] enabled = maybe "
     "(true or false)"),
    ("deny_firmware = ", "deny_firmware = IFX", "bad value [validation] "
     "deny_firmware: deny-list: entry 1 is not MANUFACTURER:FIRMWARE"),
])
def test_bad_values_share_the_shape_and_exit_2(sq_latchd, old, new, what):
    d = sq_latchd
    lines = conf_lines(d)
    at = [ln.rstrip() for ln in lines].index(old.rstrip())
    lines[at] = new
    with open(os.path.join(d.data, "latchd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    assert_conf_error(d.run("customer", "list"), d, at + 1, what)


@pytest.mark.parametrize("text,what", [
    ("[session]\nmax_hours = lots",
     "bad value [session] max_hours = lots (a number from 1 to 720)"),
    ("[http]\nthreads = 0",
     "bad value [http] threads = 0 (a number from 1 to 64)"),
    ("[http]\norigin = https://example.com/",
     "bad value [http] origin = https://example.com/"),
])
def test_bad_web_values_share_the_shape_and_exit_2(sq_latchd, text, what):
    d = sq_latchd
    last = append(d, text)
    assert_conf_error(serve_once(d), d, last, what)


def test_a_missing_database_url_is_a_config_error(sq_latchd):
    d = sq_latchd
    lines = [ln for ln in conf_lines(d) if not ln.startswith("url = ")]
    with open(os.path.join(d.data, "latchd.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")
    res = d.run("customer", "list")
    assert res.returncode == 2, res.stderr
    assert "latchd.conf: [database] url is missing" in res.stderr


# --- serve checks its files at start ------------------------------------------


def test_serve_stops_at_start_without_the_trust_directory(sq_latchd):
    d = sq_latchd
    shutil.rmtree(d.trust)
    res = serve_once(d)
    assert res.returncode == 4, res.stderr
    assert re.search(r"\[trust\] dir \S+/trust: No such file or directory",
                     res.stderr), res.stderr
    assert "listening" not in res.stdout


def test_serve_stops_at_start_without_the_signing_key(sq_latchd):
    d = sq_latchd
    os.remove(os.path.join(d.data, "signing.key"))
    res = serve_once(d)
    assert res.returncode == 4, res.stderr
    assert "[signing] key: " in res.stderr and "signing.key" in res.stderr
    assert "listening" not in res.stdout


def test_serve_stops_at_start_on_a_bad_signing_certificate(sq_latchd):
    d = sq_latchd
    with open(os.path.join(d.data, "signing.pem"), "w") as f:
        f.write("not a certificate\n")
    res = serve_once(d)
    assert res.returncode == 1, res.stderr
    assert "[signing] cert: " in res.stderr, res.stderr
    assert "not a PEM or DER certificate" in res.stderr


def test_serve_starts_before_ca_install(tmp_path):
    """init, then serve: the documented flow installs the certificate
    later, so its absence is only noted."""
    from fixtures_web import serve, stop

    data = str(tmp_path / "d")
    res = subprocess.run([LATCHD, "init", "--data", data], capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert not os.path.exists(os.path.join(data, "signing.pem"))

    class Bare:
        pass

    d = Bare()
    d.data = data
    w = serve(d)
    try:
        assert w.get("/signin").status == 200
    finally:
        stop(w.proc)
        w.log.close()
    with open(os.path.join(data, "serve.log")) as f:
        assert "no signing certificate" in f.read()


@pytest.mark.parametrize("long_url", [False, True])
def test_init_refuses_a_config_line_it_could_not_read_back(tmp_path,
                                                          long_url):
    """A --data path long enough to make a latchd.conf line longer than
    the reader takes used to give a server no verb could use; init now
    refuses it before it makes anything."""
    db = str(tmp_path / ("d" * 200 + ".db"))
    extra = ["--database", "sqlite:" + db] if long_url else []
    parent = tmp_path / ("p" * 120)
    parent.mkdir()
    data = str(parent / ("q" * 80 if not extra else "d"))
    res = subprocess.run([LATCHD, "init", "--data", data] + extra,
                         capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 2, res.stderr
    assert re.search(r"database url is too long: its latchd.conf line "
                     r"would be \d+ bytes, at most 198", res.stderr), \
        res.stderr
    assert not os.path.exists(data)
    assert os.listdir(str(parent)) == []
    assert not os.path.exists(db)


def test_init_writes_a_config_it_reads_back_at_the_length_limit(tmp_path):
    """The longest accepted line is read back: writer and reader agree."""
    base = str(tmp_path)
    # "url = sqlite:" + DATA + "/latchd.db" is the longest line.
    room = 198 - len("url = sqlite:") - len("/latchd.db") - len(base) - 1
    data = os.path.join(base, "r" * room)
    res = subprocess.run([LATCHD, "init", "--data", data],
                         capture_output=True, text=True, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr
    with open(os.path.join(data, "latchd.conf")) as f:
        assert max(len(x) for x in f.read().splitlines()) == 198
    res = subprocess.run([LATCHD, "--data", data, "enrollment", "list"],
                         capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 0, res.stderr


# --- strict values and lines (second tester pass) ----------------------------


def write_conf(d, lines, raw=None):
    path = os.path.join(d.data, "latchd.conf")
    with open(path, "wb") as f:
        f.write(raw if raw is not None else
                ("\n".join(lines) + "\n").encode())


def replace_line(d, old, new):
    """Replaces the line `old` by `new`; its 1-based line number."""
    lines = conf_lines(d)
    at = lines.index(old)
    lines[at] = new
    write_conf(d, lines)
    return at + 1


@pytest.mark.parametrize("key,what", [
    ("url", "empty value [database] url (a database URL)"),
    ("dir", "empty value [trust] dir (a directory)"),
    ("key", "empty value [signing] key (a file)"),
    ("cert", "empty value [signing] cert (a file)"),
    ("listen", "empty value [http] listen (an address)"),
])
def test_an_empty_path_url_or_address_is_refused(sq_latchd, key, what):
    """`[trust] dir =` made the data directory the trust directory: its
    dev-root/ (private key beside it) became a pinned vendor root."""
    d = sq_latchd
    old = [ln for ln in conf_lines(d) if ln.startswith(key + " = ")][0]
    at = replace_line(d, old, key + " =")
    assert_conf_error(d.run("customer", "list"), d, at, what)
    assert_conf_error(serve_once(d), d, at, what)


def test_keys_documented_as_possibly_empty_stay_allowed(sq_latchd):
    d = sq_latchd
    for key in ("allow", "resolve", "connect_to", "deny_firmware"):
        old = [ln for ln in conf_lines(d) if ln.startswith(key + " =")][0]
        replace_line(d, old, key + " =")
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("old,new", [
    ("count = 2", "count = 2 ; two"),
    ("count = 2", "count = 2\t;two"),
    ("allow = ", "allow = a.example ;b.example"),
    ("[workers]", "[workers] ; the pool"),
])
def test_a_semicolon_after_white_space_is_refused(sq_latchd, old, new):
    """inih cut the value at " ;" without a word: a password or path
    holding it was silently shortened."""
    d = sq_latchd
    at = replace_line(d, old, new)
    assert_conf_error(d.run("customer", "list"), d, at,
                      "a ';' after white space would start a comment: "
                      "comments take a whole line")


def test_a_semicolon_inside_a_value_and_comment_lines_are_kept(sq_latchd):
    d = sq_latchd
    replace_line(d, "allow = ", "allow = a;b")
    lines = conf_lines(d)
    lines.insert(0, "  ; an indented comment ; with ; semicolons")
    lines.insert(0, "# a comment ;with a semicolon")
    write_conf(d, lines)
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr


def test_a_hash_after_a_value_is_part_of_the_value(sq_latchd):
    d = sq_latchd
    at = replace_line(d, "count = 2", "count = 2 # two")
    assert_conf_error(d.run("customer", "list"), d, at,
                      "bad value [workers] count = 2 # two")


@pytest.mark.parametrize("old,new,what", [
    ("count = 2", "count: 2", "':' between key and value (use '='): "
     "count: 2"),
    ("count = 2", "count : 2 = 3", "':' between key and value (use '='): "
     "count : 2 = 3"),
    ("[workers]", "[workers] x", "text after [workers]: a section header "
     "is alone on its line"),
    ("[workers]", "[]", "empty section name"),
    ("count = 2", "count = +2", "bad value [workers] count = +2 (a number "
     "from 0 to 64)"),
    ("count = 2", "count = 02", "bad value [workers] count = 02"),
    ("timeout = 5", "timeout = 05", "bad value [aia] timeout = 05"),
    ("enabled = false", "enabled = TRUE", "bad value [aia] enabled = TRUE "
     "(true or false)"),
    ("enabled = false", "enabled = yes", "bad value [aia] enabled = yes"),
    ("enabled = false", "enabled = 0", "bad value [aia] enabled = 0"),
])
def test_loose_lines_and_values_are_refused(sq_latchd, old, new, what):
    d = sq_latchd
    at = replace_line(d, old, new)
    assert_conf_error(d.run("customer", "list"), d, at, what)


@pytest.mark.parametrize("text,what", [
    ("[http]\nthreads = +4", "bad value [http] threads = +4 (a number "
     "from 1 to 64)"),
    ("[session]\nidle_minutes = 010", "bad value [session] idle_minutes "
     "= 010"),
    ("[http]\ncookie_secure = yes", "bad value [http] cookie_secure = yes "
     "(true or false)"),
    ("[http]\ncookie_secure = False", "bad value [http] cookie_secure = "
     "False"),
])
def test_loose_web_values_are_refused(sq_latchd, text, what):
    d = sq_latchd
    last = append(d, text)
    assert_conf_error(serve_once(d), d, last, what)


def test_a_nul_byte_is_refused_not_the_end_of_the_file(sq_latchd):
    """The reader stopped at a NUL: the lines after it were never read
    (here a key set twice)."""
    d = sq_latchd
    lines = conf_lines(d)
    at = lines.index("count = 2")
    raw = ("\n".join(lines[:at]) + "\ncount = 2\0 x\n" +
           "\n".join(lines[at + 1:]) + "\n[workers]\ncount = 3\n").encode()
    write_conf(d, None, raw)
    assert_conf_error(d.run("customer", "list"), d, at + 1,
                      "NUL byte in the line")


def test_cr_line_endings_are_named(sq_latchd):
    d = sq_latchd
    raw = "\r".join(conf_lines(d)).encode() + b"\r"
    write_conf(d, None, raw)
    assert_conf_error(d.run("customer", "list"), d, 1,
                      "CR line endings are not supported")


def test_crlf_is_read_and_its_cr_does_not_count(sq_latchd):
    """A 198-byte line is the limit with LF; with CRLF too."""
    d = sq_latchd
    lines = conf_lines(d)
    at = lines.index("allow = ")
    lines[at] = "allow = " + "a" * (198 - len("allow = "))
    write_conf(d, None, "\r\n".join(lines).encode() + b"\r\n")
    res = d.run("customer", "list")
    assert res.returncode == 0, res.stderr
    lines[at] += "a"
    write_conf(d, None, "\r\n".join(lines).encode() + b"\r\n")
    assert_conf_error(d.run("customer", "list"), d, at + 1,
                      "line longer than 198 bytes")


def init(args, timeout=120):
    return subprocess.run([LATCHD, "init"] + args, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_init_refuses_a_data_path_the_reader_would_cut(tmp_path):
    """"DIR/semi ;colon" would be read back as "DIR/semi"."""
    data = str(tmp_path / "semi ;colon")
    res = init(["--data", data])
    assert res.returncode == 2, res.stderr
    assert "semi ;colon" in res.stderr, res.stderr
    assert "a ';' after white space would start a comment" in res.stderr
    assert os.listdir(str(tmp_path)) == []


def test_init_refuses_white_space_around_a_value(tmp_path):
    """init --trust "DIR/tr " wrote a config that pointed at "DIR/tr"."""
    trust = tmp_path / "tr "
    trust.mkdir()
    data = str(tmp_path / "d")
    res = init(["--data", data, "--trust", str(trust)])
    assert res.returncode == 2, res.stderr
    assert ("configuration trust dir \"%s\": leading or trailing white "
            "space would be dropped" % trust) in res.stderr, res.stderr
    assert not os.path.exists(data)
    res = init(["--data", data, "--listen", " 127.0.0.1:0"])
    assert res.returncode == 2, res.stderr
    assert not os.path.exists(data)
