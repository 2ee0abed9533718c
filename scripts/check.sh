#!/bin/sh
# SPDX-License-Identifier: ISC
# `make check`: runs every test suite against real parts (swtpm boards, a
# throwaway PostgreSQL cluster, latchd, headless Chromium: the pytest
# fixtures start and stop them) and ends with one line
# "check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
PYTEST="/usr/bin/python3 -m pytest"
logdir=$BUILD/check-logs
mkdir -p "$logdir"

total_pass=0
total_fail=0
failed_suites=""

# count NAME LOG: adds the "N passed" / "N failed" of the last summary line.
count() {
    line=$(grep -E '[0-9]+ (passed|failed)' "$2" | tail -1)
    p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    e=$(printf '%s' "$line" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+')
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-0} + ${e:-0}))
}

suite() {
    name=$1
    shift
    echo "=== $name"
    log=$logdir/$name.log
    "$@" >"$log" 2>&1
    rc=$?
    tail -n 40 "$log"
    count "$name" "$log"
    if [ $rc -ne 0 ]; then
        failed_suites="$failed_suites $name"
        if ! grep -qE '[0-9]+ failed' "$log"; then
            total_fail=$((total_fail + 1))
        fi
    fi
}

suite format make --no-print-directory format-check
suite unit make --no-print-directory unit
if ls tests/e2e/test_*.py >/dev/null 2>&1; then
    suite e2e $PYTEST -q -p no:cacheprovider tests/e2e
fi
if ls tests/browser/test_*.py >/dev/null 2>&1; then
    suite browser $PYTEST -q -p no:cacheprovider tests/browser
fi
if [ -x scripts/fuzz.sh ]; then
    suite fuzz scripts/fuzz.sh smoke
fi
if [ -x scripts/check-arm64.sh ]; then
    suite arm64 scripts/check-arm64.sh
fi

if [ -n "$failed_suites" ]; then
    echo "check: failing suites:$failed_suites (logs in $logdir)"
fi
echo "check: $total_pass passed, $total_fail failed"
[ -z "$failed_suites" ]
