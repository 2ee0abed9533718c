#!/bin/sh
# SPDX-License-Identifier: ISC
# Installs the Debian packages latch needs to build and test, and only
# those that are missing. Called by `make demo` and `make check`.
#
#   scripts/install-deps.sh [--arm64]
#
# What it installs and why:
#   build-essential pkg-config       compiler and pkg-config
#   libssl-dev                       OpenSSL 3: crypto, X.509
#   libtss2-dev                      tpm2-tss: ESAPI, TCTI loader, marshalling
#   libjansson-dev                   JSON
#   libmicrohttpd-dev                latchd HTTP server
#   libsqlite3-dev sqlite3           latchd embedded database
#   libpq-dev postgresql             latchd production database, and the
#                                    throwaway cluster the tests start
#   libcurl4-openssl-dev             AIA fetching of EK intermediates
#   libargon2-dev                    password hashing
#   libinih-dev                      latchd.conf reader
#   libcmocka-dev                    unit tests
#   swtpm swtpm-tools tpm2-tools     software TPM boards for the tests/demo
#   python3 python3-pytest           end-to-end test driver
#   chromium                         browser tests of the admin UI
#   chromium-driver python3-selenium the browser tests drive it (WebDriver)
#   clang-format                     make format-check
#   clang libclang-rt-14-dev         libFuzzer harnesses (scripts/fuzz.sh)
#   curl wrk xxd openssl             tests and benchmarks
#   linux-perf valgrind              profiling the benchmarks (perf record
#                                    -g, valgrind --tool=callgrind)
#   nodejs npm                       front-end assets (htmx) at build time
# With --arm64 (the aarch64 cross build): crossbuild-essential-arm64,
#   qemu-user, pkgconf:arm64 and the :arm64 -dev packages of OpenSSL,
#   tpm2-tss and jansson.
set -eu

PKGS="build-essential pkg-config libssl-dev libtss2-dev libjansson-dev
libmicrohttpd-dev libsqlite3-dev sqlite3 libpq-dev postgresql
libcurl4-openssl-dev libargon2-dev libinih-dev libcmocka-dev swtpm
swtpm-tools tpm2-tools python3 python3-pytest chromium chromium-driver
python3-selenium clang-format clang libclang-rt-14-dev curl wrk xxd openssl
file linux-perf valgrind"
ARM64_PKGS="crossbuild-essential-arm64 qemu-user pkgconf:arm64 libssl-dev:arm64
libtss2-dev:arm64 libjansson-dev:arm64"

want="$PKGS"
if [ "${1:-}" = "--arm64" ]; then
    want="$ARM64_PKGS"
fi

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# npm is not a separate package where nodejs comes from elsewhere.
if [ "${1:-}" != "--arm64" ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root, or install them yourself" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
if [ "${1:-}" = "--arm64" ]; then
    dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a parallel install) instead of failing at once.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq
# shellcheck disable=SC2086
apt-get $lock install -y -qq --no-install-recommends $missing
