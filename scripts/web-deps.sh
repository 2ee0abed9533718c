#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# Makes web/static/htmx.min.js the htmx version pinned in web/package.json
# and web/package-lock.json: runs `npm ci` in web/ when node_modules lacks
# that version (integrity-checked against the lock file), then copies the
# file. Called by scripts/embed-assets.sh on every build, so a fresh
# checkout builds with `make` alone once npm is installed
# (scripts/install-deps.sh). Serialized with flock: parallel builds share
# web/.
#
#   web-deps.sh [WEBDIR]
set -eu
dir=${1:-web}
want=$(sed -n 's/.*"htmx.org": *"\([0-9.]*\)".*/\1/p' "$dir/package.json")
[ -n "$want" ] || {
    echo "web-deps.sh: no htmx.org pin in $dir/package.json" >&2
    exit 1
}
src="$dir/node_modules/htmx.org/dist/htmx.min.js"
dst="$dir/static/htmx.min.js"

have() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$dir/node_modules/htmx.org/package.json" 2>/dev/null | head -1
}

exec 9>"$dir/.web-deps.lock"
flock 9
if [ "$(have)" != "$want" ] || [ ! -f "$src" ]; then
    command -v npm >/dev/null 2>&1 || {
        echo "web-deps.sh: npm is missing (scripts/install-deps.sh" \
            "installs it); needed once to fetch htmx $want" >&2
        exit 1
    }
    echo "web-deps.sh: npm ci in $dir (htmx.org $want)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >&2)
    [ "$(have)" = "$want" ] || {
        echo "web-deps.sh: npm installed htmx.org $(have), want $want" >&2
        exit 1
    }
fi
if ! cmp -s "$src" "$dst"; then
    cp "$src" "$dst.tmp.$$"
    mv "$dst.tmp.$$" "$dst"
fi
