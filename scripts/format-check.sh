#!/bin/sh
# SPDX-License-Identifier: ISC
# Fails when any C file differs from what clang-format makes of it, or has a
# line wider than 80 columns. Prints "format: N passed, N failed".
set -u
pass=0
fail=0
for f in "$@"; do
    if clang-format --dry-run --Werror "$f" >/dev/null 2>&1 &&
        awk 'length($0) > 80 { bad = 1 } END { exit bad }' "$f"; then
        pass=$((pass + 1))
    else
        echo "format: $f is not clang-formatted or too wide (make format)" >&2
        fail=$((fail + 1))
    fi
done
echo "format: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
