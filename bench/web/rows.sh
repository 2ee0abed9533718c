#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# The admin UI's lists at a million rows: keyset pages must cost the same
# on the first page and deep in the list. Fills a fresh SQLite latchd with
# N synthetic enrollment rows and N audit rows (plain SQL: the rows are
# for paging, not for validation), then times each page with curl.
#
#   bench/web/rows.sh [N]    (default 1000000; BUILD as for make)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-1000000}
make --no-print-directory BUILD="$BUILD" -j2 "$BUILD/latchd" >/dev/null
LATCHD=$PWD/$BUILD/latchd
work=$(mktemp -d /tmp/latch-rows-XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LATCHD" init --data "$work/d" --dev-pki >/dev/null 2>&1
"$LATCHD" --data "$work/d" migrate >/dev/null
pw=$(openssl rand -hex 16)
printf '%s\n' "$pw" | "$LATCHD" --data "$work/d" user add bench \
    --role viewer >/dev/null
t0=$(date +%s)
sqlite3 "$work/d/latchd.db" <<EOF
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO enrollments (sha256, body, size, source, identity_schema, state,
    device_id, ek_template, ak_name, is_rotation, hostname, product,
    serial_number, label, created_at, updated_at)
SELECT printf('%064x', i), x'7b7d', 2, 'bench', 'tpm2_ek_ak_binding',
    CASE i % 4 WHEN 0 THEN 'valid' WHEN 1 THEN 'invalid'
        WHEN 2 THEN 'approved' ELSE 'rejected' END,
    printf('%064x', i % 5000), 'ecc-p256', 'x', 0, 'host-' || i, 'product',
    'SN' || i, 'label ' || i, 1700000000 + i, 1700000000 + i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO audit_log (seq, time, actor, action, object, details, prev_hash,
    hash)
SELECT 100 + i, 1700000000 + i, 'cli:bench' || (i % 50),
    'bench.action' || (i % 7), 'obj:' || i, '{}', 'x', 'y' FROM n;
EOF
echo "rows: $N enrollments and $N audit rows inserted in" \
    "$(($(date +%s) - t0)) s"

"$LATCHD" --data "$work/d" serve --listen 127.0.0.1:0 \
    >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
i=0
while ! grep -q "listening on" "$work/serve.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || exit 1
    sleep 0.1
done
base=$(sed -n 's/.*listening on \(http:[^ ]*\)\/ .*/\1/p' "$work/serve.out")
sid=$(curl -sS --noproxy '*' -o /dev/null -D - -H "Origin: $base" \
    --data-urlencode "name=bench" --data-urlencode "password=$pw" \
    "$base/signin" |
    sed -n 's/^Set-Cookie: __Host-latchd_session=\([0-9a-f]*\);.*/\1/p')
half=$((N / 2))
for path in /enrollments "/enrollments?after=$half" "/enrollments?after=60" \
    "/enrollments?state=valid" "/enrollments?state=valid&after=$half" \
    "/enrollments?state=review&after=$half" / /audit \
    "/audit?after=$((half + 100))" "/audit?actor=cli%3Abench7" \
    "/audit?actor=cli%3Abench7&after=$((half + 100))" \
    "/audit?action=bench.action3" "/audit?object=obj%3A777" \
    "/enrollments?q=host-$N"; do
    # best of three, so one scheduling hiccup does not count
    best=$(for k in 1 2 3; do
        curl -sS --noproxy '*' -o /dev/null -w '%{time_total}\n' \
            -H "Cookie: __Host-latchd_session=$sid" "$base$path"
    done | sort -n | head -1)
    code=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' \
        -H "Cookie: __Host-latchd_session=$sid" "$base$path")
    printf '%s  %6.1f ms  %s\n' "$code" \
        "$(awk -v t="$best" 'BEGIN { print t * 1000 }')" "GET $path"
done
echo "(the last line is a substring search: a full scan by design)"
