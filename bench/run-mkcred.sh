#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# Builds and runs the software MakeCredential benchmark (bench/mkcred.c)
# against BUILD's liblatch.a, then `openssl speed` for the primitives that
# dominate it (RSA-2048 public-key encryption, ECDH P-256/P-384), both on
# one core. Run from the repository root:
#   BUILD=build bench/run-mkcred.sh [SECONDS]
set -eu
BUILD=${BUILD:-build}
SECONDS_PER=${1:-2}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
CC=${CC:-cc}

make --no-print-directory BUILD="$BUILD" "$BUILD/liblatch.a" >/dev/null
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046
$CC -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -Ilib \
    $($PKG_CONFIG --cflags libcrypto tss2-mu) bench/mkcred.c \
    "$BUILD/liblatch.a" \
    $($PKG_CONFIG --libs libcrypto tss2-esys tss2-mu tss2-tctildr tss2-rc \
        jansson) \
    -o "$BUILD/bench/mkcred"

echo "== liblatch MakeCredential ($SECONDS_PER s per EK kind)"
"$BUILD/bench/mkcred" "$SECONDS_PER"
echo "== openssl speed -seconds $SECONDS_PER rsa2048 ecdhp256 ecdhp384"
openssl speed -seconds "$SECONDS_PER" rsa2048 ecdhp256 ecdhp384 2>/dev/null |
    sed -n '/sign.*verify/,$p'
