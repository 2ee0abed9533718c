#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# The admin UI on loopback under wrk (design section 8: p99 under 10 ms at
# 64 concurrent clients, idle RSS under 16 MiB). Two signed-in pages: the
# enrollment list (a session check, a keyset query of 50 rows, escaping
# and rendering) and a license download (a session check, two lookups,
# the stored file). Prints p50/p99 latency and requests per second for
# each, and latchd's RSS idle and at its peak under load.
#
#   bench/web/run.sh [N]   N synthesized enrollments (default 300)
#
# WRK_SECONDS (default 10), WRK_CONNECTIONS (64), WRK_THREADS (2),
# BENCH_DATABASE=postgresql://... for PostgreSQL, BUILD as for make.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-300}
SECS=${WRK_SECONDS:-10}
CONNS=${WRK_CONNECTIONS:-64}
THREADS=${WRK_THREADS:-2}
make --no-print-directory BUILD="$BUILD" -j2 "$BUILD/latchd" \
    "$BUILD/tests/tools/synth_enroll" >/dev/null
LATCHD=$PWD/$BUILD/latchd
SYNTH=$PWD/$BUILD/tests/tools/synth_enroll
work=$(mktemp -d /tmp/latch-webbench-XXXXXX)
pid=""
sampler=""
cleanup() {
    if [ -n "$sampler" ]; then
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
    fi
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# CPU time of a process (user + system) in clock ticks.
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# --- data: N validated enrollments, one approved with a license -------
scripts/board.sh ca "$work/ca" >/dev/null
mkdir -p "$work/trust" "$work/enr"
cp "$work/ca/root.pem" "$work/trust/"
"$SYNTH" --ca-key "$work/ca/signkey.pem" --ca-cert "$work/ca/issuercert.pem" \
    --ek ecc-p256 --count "$N" --out "$work/enr" --prefix web >/dev/null
dbopt=""
if [ -n "${BENCH_DATABASE:-}" ]; then
    dbopt="--database $BENCH_DATABASE"
fi
# shellcheck disable=SC2086
"$LATCHD" init --data "$work/d" --trust "$work/trust" --dev-pki $dbopt \
    >/dev/null 2>&1
L="$LATCHD --data $work/d"
$L trust import-intermediates "$work/ca/issuercert.pem" >/dev/null
$L enrollment import "$work"/enr/*.json >/dev/null
$L worker --once
first=$($L --json enrollment list --state valid --limit 1 |
    sed -n 's/^ *"id": \([0-9]*\),$/\1/p' | head -1)
$L enrollment approve "$first" >/dev/null
$L customer add bench >/dev/null
$L --json license issue --enrollment "$first" --customer bench \
    --feature base --feature seats=16 -o "$work/lic.json" >"$work/issue.json"
lic=$(sed -n 's/^ *"id": \([0-9]*\),$/\1/p' "$work/issue.json" | head -1)
pw=$(openssl rand -hex 16)
printf '%s\n' "$pw" | $L user add bench --role viewer >/dev/null

# --- server -------------------------------------------------------------
printf '\n[workers]\ncount = 0\n' >>"$work/d/latchd.conf"
$L serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
i=0
while ! grep -q "listening on" "$work/serve.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || {
        cat "$work/serve.log" >&2
        exit 1
    }
    sleep 0.1
done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$work/serve.out")
base="http://127.0.0.1:$port"
sid=$(curl -sS --noproxy '*' -o /dev/null -D - \
    -H "Origin: $base" -H "Sec-Fetch-Site: same-origin" \
    --data-urlencode "name=bench" --data-urlencode "password=$pw" \
    "$base/signin" | sed -n 's/^Set-Cookie: __Host-latchd_session=\([0-9a-f]*\);.*/\1/p')
[ -n "$sid" ] || {
    echo "bench: sign-in failed" >&2
    exit 1
}
cookie="Cookie: __Host-latchd_session=$sid"
for path in /enrollments "/licenses/$lic/download"; do
    code=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' \
        -H "$cookie" "$base$path")
    [ "$code" = 200 ] || {
        echo "bench: GET $path gave $code" >&2
        exit 1
    }
done
sleep 1
idle=$(rss "$pid")

echo "latchd web bench: $N enrollments, $CONNS connections, $THREADS wrk" \
    "threads, ${SECS}s per page, $(nproc) CPUs shared with wrk"
echo "RSS idle (after sign-in and one request per page): $idle KiB"
for path in /enrollments "/licenses/$lic/download"; do
    peakfile="$work/peak"
    echo 0 >"$peakfile"
    (
        peak=0
        while kill -0 "$pid" 2>/dev/null; do
            r=$(rss "$pid")
            if [ "$r" -gt "$peak" ]; then
                peak=$r
                echo "$peak" >"$peakfile"
            fi
            sleep 0.1
        done
    ) &
    sampler=$!
    t0=$(cpu_ticks "$pid")
    wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -H "$cookie" \
        "$base$path" >"$work/wrk.out"
    t1=$(cpu_ticks "$pid")
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampler=""
    p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")
    rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$work/wrk.out")
    n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$work/wrk.out")
    us=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f", (b - a) * 1e6 / hz / n }')
    errs=$(grep -E "Non-2xx|Socket errors" "$work/wrk.out" || true)
    printf '%-26s p50 %-8s p99 %-8s %9s req/s  %4s us CPU/req  RSS ' \
        "GET $path" "$p50" "$p99" "$rps" "$us"
    printf 'peak %s KiB %s\n' "$(cat "$peakfile")" "$errs"
done
echo "RSS after load: $(rss "$pid") KiB"
