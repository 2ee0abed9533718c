#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# The aarch64 check (run by scripts/check.sh, or `make check-arm64`):
# installs the arm64 cross packages when missing, cross-builds the device
# side, checks every device artefact is aarch64 code with pointer
# authentication, then runs the device end-to-end tests with the aarch64
# `latch` under qemu-aarch64 against swtpm boards on this host, with
# licenses from the x86-64 side. Ends with "arm64: N passed, N failed".
#
#   BUILD        native build directory (default build): the x86-64 side
#   ARM64_BUILD  cross build directory (default build/aarch64)
#   NATIVE_GOALS what to build natively first (default all)
#   ARM64_TESTS  the pytest selection to run under qemu (default below)
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
ARM64_BUILD=${ARM64_BUILD:-build/aarch64}
ARCH=aarch64
JOBS=${JOBS:-2}
NATIVE_GOALS=${NATIVE_GOALS:-all}
export BUILD

pass=0
fail=0

ok() {
    pass=$((pass + 1))
    echo "ok: $*"
}

bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

finish() {
    echo "arm64: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
}

# --- packages and builds --------------------------------------------------
if ! scripts/install-deps.sh --arm64; then
    bad "install-deps.sh --arm64: the arm64 cross packages are missing"
    finish
fi
# shellcheck disable=SC2086
if ! make --no-print-directory -j"$JOBS" BUILD="$BUILD" $NATIVE_GOALS; then
    bad "native build ($BUILD)"
    finish
fi
if ! make --no-print-directory -j"$JOBS" cross ARCH=$ARCH \
    BUILD="$ARM64_BUILD"; then
    bad "make cross ARCH=$ARCH"
    finish
fi
ok "make cross ARCH=$ARCH"

# --- every device artefact is aarch64 -------------------------------------
# elf_is_arm64 FILE: `file` names the machine of an ELF file.
elf_is_arm64() {
    file -b "$1" | grep -q "ELF 64-bit LSB .*ARM aarch64"
}

arts="$ARM64_BUILD/latch $ARM64_BUILD/liblatch.so"
for ex in examples/*.c; do
    [ -e "$ex" ] || continue
    name=$(basename "$ex" .c)
    arts="$arts $ARM64_BUILD/examples/$name"
done
for a in $arts; do
    if [ -f "$a" ] && elf_is_arm64 "$a"; then
        ok "$a: $(file -b "$a" | cut -d, -f1-2)"
    else
        bad "$a: not an aarch64 ELF file: $(file -b "$a" 2>&1)"
    fi
done

# The static library: every member object.
tmp=$(mktemp -d /tmp/latch-arm64.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
members=0
others=""
lib_a=$(pwd)/$ARM64_BUILD/liblatch.a
if (cd "$tmp" && aarch64-linux-gnu-ar x "$lib_a"); then
    for o in "$tmp"/*.o; do
        [ -e "$o" ] || continue
        members=$((members + 1))
        elf_is_arm64 "$o" || others="$others $(basename "$o")"
    done
fi
if [ "$members" -gt 0 ] && [ -z "$others" ]; then
    ok "$ARM64_BUILD/liblatch.a: $members aarch64 objects"
else
    bad "$lib_a: $members members; not aarch64:${others:- (none read)}"
fi

# -mbranch-protection=standard: functions that spill the link register sign
# it (paciasp) and check it (autiasp).
for a in "$ARM64_BUILD/latch" "$ARM64_BUILD/liblatch.so"; do
    [ -f "$a" ] || continue
    n=$(aarch64-linux-gnu-objdump -d "$a" | grep -c 'paciasp')
    if [ "$n" -gt 0 ]; then
        ok "$a: $n paciasp (branch protection)"
    else
        bad "$a: no paciasp: not built with -mbranch-protection=standard"
    fi
done

# The binary runs under qemu and finds its arm64 libraries.
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM64_BUILD/latch" --help 2>&1)
if printf '%s\n' "$out" | grep -q '^usage: latch VERB'; then
    ok "qemu-aarch64 $ARM64_BUILD/latch --help"
else
    bad "qemu-aarch64 $ARM64_BUILD/latch --help: $out"
fi

# --- the device end-to-end tests under qemu ---------------------------------
# fixtures_paths.py reads these: the device programs come from the cross
# build and run through qemu; everything else (latchd, test tools, the PKI)
# is the native build.
LATCH_DEVICE_ARCH=$ARCH
LATCH_DEVICE_BUILD=$ARM64_BUILD
LATCH_DEVICE_EXEC="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export LATCH_DEVICE_ARCH LATCH_DEVICE_BUILD LATCH_DEVICE_EXEC
# test_device_arm64.py: the aarch64 build's own checks and the x86-64
# latch on the same state; test_device.py: every device test; test_latchd:
# an x86-64 latchd (SQLite) validating and licensing aarch64 enrollments.
default_tests="tests/e2e/test_device_arm64.py tests/e2e/test_device.py
tests/e2e/test_latchd.py::test_enroll_import_approve_issue_activate"
tests=${ARM64_TESTS:-$default_tests}
first=${tests%% *}
first=${first%%::*}
if [ -f "$first" ]; then
    # shellcheck disable=SC2086
    /usr/bin/python3 -m pytest -q -p no:cacheprovider -k "not postgresql" \
        $tests >"$tmp/pytest.log" 2>&1
    rc=$?
    cat "$tmp/pytest.log"
    line=$(grep -E '[0-9]+ (passed|failed)' "$tmp/pytest.log" | tail -1)
    p=$(printf '%s' "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
    f=$(printf '%s' "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
    e=$(printf '%s' "$line" | grep -oE '[0-9]+ errors?' | grep -oE '[0-9]+')
    pass=$((pass + ${p:-0}))
    fail=$((fail + ${f:-0} + ${e:-0}))
    if [ "$rc" -ne 0 ] && [ -z "$f$e" ]; then
        bad "pytest $tests exited $rc"
    fi
else
    bad "$first: missing (the device end-to-end tests under qemu)"
fi
finish
