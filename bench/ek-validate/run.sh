#!/bin/sh
# SPDX-License-Identifier: ISC
# EK validation throughput with cached intermediates over tests/data/ek.
# Builds latch's libraries in $BUILD (default build), links ekbench against
# them, runs it from the repository root on one thread. Not part of `make`.
#   bench/ek-validate/run.sh [SECONDS_PER_FILE]
set -eu
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
make -s BUILD="$B" "$B/libsrv.a" "$B/liblatch.a"
PKGS="libcrypto tss2-esys tss2-mu tss2-tctildr tss2-rc jansson libmicrohttpd sqlite3 libpq libcurl libargon2 inih"
mkdir -p "$B/bench"
cc -std=c17 -D_GNU_SOURCE -O2 -Iinclude -Ilib -Iserver \
    $(pkg-config --cflags $PKGS) bench/ek-validate/ekbench.c \
    -o "$B/bench/ekbench" "$B/libsrv.a" "$B/liblatch.a" \
    $(pkg-config --libs $PKGS) -lpthread
echo "openssl speed (same run, for scale):"
openssl speed -seconds 1 rsa2048 ecdsap256 ecdsap384 2>/dev/null | \
    grep -E "^(rsa|[ ]*[0-9]+ bits ecdsa)" || true
"$B/bench/ekbench" "${1:-1}"
