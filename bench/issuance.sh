#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# Bulk license issuance through the latchd CLI, beside OpenSSL's raw
# primitives measured in the same run (design section 8: issuance should
# reach at least half of what the primitives allow per core).
#
#   bench/issuance.sh [N]        N enrollments per EK type (default 500)
#
# Enrollments are synthesized without TPMs (tests/tools/synth_enroll): a
# fresh RSA-2048 or P-256 EK key per enrollment with an EK certificate from
# a throwaway test vendor CA (scripts/board.sh ca), the TCG EK public area
# holding that key, and a software AK public area. They validate like real
# ones; nothing is activated. BENCH_DATABASE=postgresql://... runs on
# PostgreSQL instead of SQLite. BUILD as for make (default build). The
# machine is shared with whatever else runs: compare numbers from one run.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-500}
make --no-print-directory BUILD="$BUILD" -j2 "$BUILD/latchd" \
    "$BUILD/tests/tools/synth_enroll" >/dev/null
LATCHD=$PWD/$BUILD/latchd
SYNTH=$PWD/$BUILD/tests/tools/synth_enroll
work=$(mktemp -d /tmp/latch-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

scripts/board.sh ca "$work/ca" >/dev/null
mkdir -p "$work/trust" "$work/enr" "$work/out-rsa" "$work/out-ecc"
cp "$work/ca/root.pem" "$work/trust/"
t0=$(now)
"$SYNTH" --ca-key "$work/ca/signkey.pem" --ca-cert "$work/ca/issuercert.pem" \
    --ek rsa2048 --count "$N" --out "$work/enr" --prefix rsa
"$SYNTH" --ca-key "$work/ca/signkey.pem" --ca-cert "$work/ca/issuercert.pem" \
    --ek ecc-p256 --count "$N" --out "$work/enr" --prefix ecc
t1=$(now)
echo "synthesized $((2 * N)) enrollments in $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.1f", b - a }') s (key generation dominates)"

dbopt=""
if [ -n "${BENCH_DATABASE:-}" ]; then
    dbopt="--database $BENCH_DATABASE"
fi
# shellcheck disable=SC2086
"$LATCHD" init --data "$work/d" --trust "$work/trust" --dev-pki $dbopt \
    >/dev/null 2>&1
L="$LATCHD --data $work/d"
$L trust import-intermediates "$work/ca/issuercert.pem" >/dev/null

t0=$(now)
$L enrollment import "$work"/enr/*.json >/dev/null
t1=$(now)
$L worker --once
t2=$(now)
valid=$($L --json enrollment list --state valid --limit 1000 |
    grep -c '"state": "valid"' || true)
echo "import:     $((2 * N)) uploads in $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%.2f", b - a }') s ($(rate $((2 * N)) "$t0" "$t1")/s)"
echo "validation: $valid valid, $(rate $((2 * N)) "$t1" "$t2")/s on one" \
    "connection, intermediates from the cache"
[ "$valid" -ge "$((2 * N < 1000 ? 2 * N : 1000))" ] || {
    echo "bench: not every enrollment validated" >&2
    exit 1
}

ids_rsa=""
ids_ecc=""
for id in $($L --json enrollment list --state valid --limit 1000 |
    sed -n 's/^ *"id": \([0-9]*\),$/\1/p'); do
    $L enrollment approve "$id" >/dev/null
done
for id in $($L --json enrollment list --state approved --limit 1000 |
    sed -n 's/^ *"id": \([0-9]*\),$/\1/p'); do
    src=$($L --json enrollment show "$id" | sed -n 's/^ *"source": "\(.*\)",$/\1/p')
    case "$src" in
    *"/rsa-"*) ids_rsa="$ids_rsa --enrollment $id" ;;
    *) ids_ecc="$ids_ecc --enrollment $id" ;;
    esac
done
$L customer add bench >/dev/null

issue() {
    # shellcheck disable=SC2086
    $L --json license issue $2 --customer bench --feature base \
        --feature seats=16 -o "$work/out-$1" |
        sed -n 's/^  "per_second": \([0-9.]*\),*$/\1/p' |
        awk '{ printf "%.1f", $1 }'
}
t0=$(now)
rsa_ps=$(issue rsa "$ids_rsa")
t1=$(now)
ecc_ps=$(issue ecc "$ids_ecc")
t2=$(now)
echo "issuance, RSA-2048 EKs: $rsa_ps licenses/s in latchd" \
    "($(rate "$N" "$t0" "$t1")/s wall, process start included)"
echo "issuance, P-256 EKs:    $ecc_ps licenses/s in latchd" \
    "($(rate "$N" "$t1" "$t2")/s wall, process start included)"
$L audit verify

speed() {
    openssl speed -seconds 3 "$1" 2>/dev/null
}
rsa_line=$(speed rsa2048 | grep '^rsa 2048 bits' | tail -1)
rsa_pub=$(echo "$rsa_line" | awk '{ print $NF }')
ecdsa_line=$(speed ecdsap256 | grep 'ecdsa (nistp256)' | tail -1)
ecdsa_sign=$(echo "$ecdsa_line" | awk '{ print $(NF - 1) }')
ecdsa_verify=$(echo "$ecdsa_line" | awk '{ print $NF }')
ecdh_line=$(speed ecdhp256 | grep 'ecdh (nistp256)' | tail -1)
ecdh=$(echo "$ecdh_line" | awk '{ print $NF }')
echo "openssl speed (one core): RSA-2048 public op $rsa_pub/s," \
    "P-256 ECDH $ecdh/s, P-256 ECDSA sign $ecdsa_sign/s," \
    "verify $ecdsa_verify/s"
# A license costs one EK public-key operation (RSA-OAEP encrypt, or an
# ephemeral P-256 key plus ECDH: two scalar multiplications) and one
# ECDSA P-256 signature; the rest (KDFs, AES, HMAC, SQL) is overhead.
# The signer also verifies every license it wrote (the device's reader
# over the file, then the signature: lib/license.c self_check), which is
# not in the design's bound; the second line shows the ceiling with it.
awk -v r="$rsa_pub" -v d="$ecdh" -v s="$ecdsa_sign" -v v="$ecdsa_verify" \
    -v rr="$rsa_ps" -v er="$ecc_ps" 'BEGIN {
    br = 1 / (1 / r + 1 / s); be = 1 / (2 / d + 1 / s)
    printf "primitive bound: RSA EK %.0f/s, P-256 EK %.0f/s; latchd " \
        "reaches %.0f%% and %.0f%% of it\n", br, be, 100 * rr / br,
        100 * er / be
    cr = 1 / (1 / br + 1 / v); ce = 1 / (1 / be + 1 / v)
    printf "with the post-sign verify: RSA EK %.0f/s (%.0f%% of the " \
        "bound), P-256 EK %.0f/s (%.0f%%); latchd reaches %.0f%% and " \
        "%.0f%% of that\n", cr, 100 * cr / br, ce, 100 * ce / be,
        100 * rr / cr, 100 * er / ce
}'
