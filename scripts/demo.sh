#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# `make demo`: the whole life of a license on this machine, in about a
# minute. Makes a throwaway license PKI and a SQLite latchd in ./demo-data,
# relinks the device side to trust the demo root, starts two swtpm boards
# and the admin server on 127.0.0.1, then: board A enrolls, its enrollment
# is uploaded through the JSON API, validated, approved, a license issued
# and activated on board A; board B refuses the same license. latchd keeps
# running with the admin sign-in printed until Ctrl-C, which stops
# everything this script started.
#
#   scripts/demo.sh              (make demo runs install-deps and make all)
#   DEMO_EXIT_AFTER=1            stop after the flow instead of waiting
#   DEMO_LISTEN=127.0.0.1:8080   where latchd listens (port 0: any free)
#   DEMO_DIR=demo-data BUILD=build
set -eu

cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${BUILD:-build}
DEMO_DIR=${DEMO_DIR:-demo-data}
DEMO_LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
LATCHD="$REPO/$BUILD/latchd"
BOARD="$REPO/scripts/board.sh"

latchd_pid=""
boards=""

say() {
    printf '\n\033[1m== %s\033[0m\n' "$*"
}

die() {
    echo "demo: $*" >&2
    exit 1
}

cleanup() {
    trap - EXIT INT TERM
    if [ -z "$latchd_pid" ] && [ -z "$boards" ]; then
        return 0
    fi
    if [ -n "$latchd_pid" ] && kill -0 "$latchd_pid" 2>/dev/null; then
        kill -TERM "$latchd_pid" 2>/dev/null || true
        wait "$latchd_pid" 2>/dev/null || true
    fi
    for b in $boards; do
        "$BOARD" stop "$b" || true
    done
    echo "demo: stopped latchd and the boards (data left in $DEMO_DIR)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$LATCHD" ] || die "$LATCHD is missing: run make first"
command -v python3 >/dev/null || die "python3 is needed (install-deps)"
command -v curl >/dev/null || die "curl is needed (install-deps)"

# json FIELD... : reads JSON on stdin, prints obj[FIELD][FIELD]...
json() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$@"
}

api() {
    method=$1
    path=$2
    shift 2
    curl -sS --noproxy '*' -X "$method" -H "Authorization: Bearer $TOKEN" \
        "$@" "$URL/api/v1$path"
}

# Another demo still running in this directory owns its boards: wiping the
# directory under it would orphan their swtpm processes.
for pidfile in "$DEMO_DIR"/*/swtpm.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
    case "$state" in
    "" | Z*) ;;
    *) die "a demo is still running in $DEMO_DIR (swtpm pid $pid);" \
        "stop it with Ctrl-C, or use DEMO_DIR=another-dir" ;;
    esac
done

say "fresh demo directory $DEMO_DIR"
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
D=$(cd "$DEMO_DIR" && pwd)

say "TPM vendor PKI and two swtpm boards (scripts/board.sh)"
"$BOARD" ca "$D/vendor-ca" >/dev/null
for b in board-a board-b; do
    "$BOARD" create "$D/$b" "$D/vendor-ca" >/dev/null
    boards="$boards $D/$b"
    "$BOARD" start "$D/$b" >/dev/null
    echo "$b: $("$BOARD" tcti "$D/$b")"
done

say "latchd data directory with a development license PKI"
"$LATCHD" init --data "$D/latchd" --dev-pki --listen "$DEMO_LISTEN"
cp "$D/vendor-ca/root.pem" "$D/latchd/trust/test-vendor-root.pem"
"$LATCHD" --data "$D/latchd" trust import-intermediates \
    "$D/vendor-ca/issuercert.pem"
# Plain HTTP on loopback: the one case where cookies may go without the
# Secure flag (and the __Host- prefix that needs it).
printf '\n[http]\ncookie_secure = false\n' >>"$D/latchd/latchd.conf"
ROOT="$D/latchd/dev-root/root.pem"
[ -f "$ROOT" ] || die "no development root at $ROOT"

say "device side relinked to trust the demo root"
make --no-print-directory BUILD="$BUILD" relink OUT="$D/device" \
    LATCH_ROOT_CA="$ROOT"
LATCH="$D/device/latch"

say "admin account and an API token"
PASSWORD=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-20)
printf '%s\n' "$PASSWORD" |
    "$LATCHD" --data "$D/latchd" user add admin --role admin
TOKEN=$("$LATCHD" --data "$D/latchd" token create --role admin \
    --name demo 2>/dev/null)

say "latchd serve on $DEMO_LISTEN"
"$LATCHD" --data "$D/latchd" serve >"$D/latchd.out" 2>"$D/latchd.log" &
latchd_pid=$!
i=0
while ! grep -q "listening on" "$D/latchd.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$latchd_pid" 2>/dev/null; then
        cat "$D/latchd.log" >&2
        die "latchd did not start"
    fi
    sleep 0.1
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\)\/ .*/\1/p' "$D/latchd.out")
echo "latchd (pid $latchd_pid) at $URL"

say "board A enrolls"
TCTI_A=$("$BOARD" tcti "$D/board-a")
TCTI_B=$("$BOARD" tcti "$D/board-b")
"$LATCH" enroll --tcti "$TCTI_A" --state-dir "$D/board-a/latch" \
    -o "$D/enrollment-a.json" --label "demo board A"

say "upload through the API"
ENR=$(api POST /enrollments -H "Content-Type: application/json" \
    -H "X-Filename: enrollment-a.json" --data-binary "@$D/enrollment-a.json")
echo "$ENR"
ENR_ID=$(printf '%s' "$ENR" | json id)

say "validation progress of enrollment $ENR_ID"
since=0
done_=False
i=0
while [ "$done_" != True ]; do
    i=$((i + 1))
    [ $i -le 300 ] || die "validation did not finish"
    P=$(api GET "/enrollments/$ENR_ID/progress?since=$since")
    printf '%s' "$P" | python3 -c 'import json, sys
for m in json.load(sys.stdin)["messages"]:
    print("  " + m["text"])'
    since=$(printf '%s' "$P" | python3 -c 'import json, sys
m = json.load(sys.stdin)["messages"]
print(m[-1]["id"] if m else sys.argv[1])' "$since")
    done_=$(printf '%s' "$P" | json done)
    state=$(printf '%s' "$P" | json state)
    [ "$done_" = True ] || sleep 0.2
done
echo "state: $state"
[ "$state" = valid ] || die "enrollment $ENR_ID is $state, not valid"

say "approve, add a customer, issue"
api POST "/enrollments/$ENR_ID/approve" | json state
api POST /customers -H "Content-Type: application/json" \
    --data '{"name": "Demo Customer"}' | json name
UNTIL=$(date -u -d '+1 year' +%Y-%m-%dT00:00:00Z)
LIC=$(api POST /licenses -H "Content-Type: application/json" --data \
    "{\"enrollment_id\": $ENR_ID, \"customer\": \"Demo Customer\",
      \"features\": [\"base\", \"seats=16\"], \"valid_until\": \"$UNTIL\"}")
LIC_ID=$(printf '%s' "$LIC" | json license id)
echo "license $LIC_ID, serial $(printf '%s' "$LIC" | json license serial)," \
    "valid until $UNTIL"
api GET "/licenses/$LIC_ID/download" -o "$D/license-a.json"
echo "downloaded $D/license-a.json"

say "board A activates it"
"$LATCH" activate --tcti "$TCTI_A" --state-dir "$D/board-a/latch" \
    "$D/license-a.json"
"$LATCH" status --tcti "$TCTI_A" --state-dir "$D/board-a/latch"

say "board B refuses the same license (another TPM)"
"$LATCH" enroll --tcti "$TCTI_B" --state-dir "$D/board-b/latch" \
    -o "$D/enrollment-b.json" --label "demo board B" >/dev/null
if "$LATCH" activate --tcti "$TCTI_B" --state-dir "$D/board-b/latch" \
    "$D/license-a.json"; then
    die "board B accepted board A's license"
fi
echo "board B: refused, as it must be"

say "the admin UI"
echo "  $URL/"
echo "  user:     admin"
echo "  password: $PASSWORD"
echo "  (API token for scripts: $TOKEN)"
if [ "${DEMO_EXIT_AFTER:-0}" = 1 ]; then
    echo "demo: DEMO_EXIT_AFTER=1, stopping"
    exit 0
fi
echo "latchd keeps running; Ctrl-C stops it and the boards."
wait "$latchd_pid"
