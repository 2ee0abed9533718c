#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds and runs the libFuzzer harnesses tests/fuzz/fuzz_*.c with clang,
# ASan and UBSan. The library sources lib/*.c are compiled here directly
# (with coverage instrumentation), not through the Makefile.
#
#   scripts/fuzz.sh smoke          build all, run each for FUZZ_SECONDS
#                                  (default 20) over its committed corpus;
#                                  prints "fuzz: N passed, N failed"
#   scripts/fuzz.sh build          build all harnesses only
#   scripts/fuzz.sh run NAME [S]   run one harness for S seconds (default
#                                  600); new inputs go to the scratch corpus
#
# Committed seeds live in tests/fuzz/corpus/<name>/ and are never written;
# an optional dictionary is tests/fuzz/<name>.dict. Output goes under
# FUZZ_BUILD (default build/fuzz): binaries, scratch corpora, and crash
# artifacts (<name>-crash-*) to reproduce with `build/fuzz/<name> FILE`.
set -u

mode=${1:-smoke}
out=${FUZZ_BUILD:-build/fuzz}
clang=${CLANG:-clang}
seconds=${FUZZ_SECONDS:-20}
pkgs="libcrypto tss2-esys tss2-mu tss2-tctildr tss2-rc jansson"

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $san
-Iinclude -Ilib $(pkg-config --cflags $pkgs)"
libs=$(pkg-config --libs $pkgs)

die() {
    echo "fuzz: $*" >&2
    exit 1
}

build_lib() {
    mkdir -p "$out/obj" || die "cannot create $out"
    scripts/embed-root.sh "" >"$out/obj/root_ca.c" || die "embed-root failed"
    objs="$out/obj/root_ca.o"
    # shellcheck disable=SC2086
    $clang $cflags -c "$out/obj/root_ca.c" -o "$out/obj/root_ca.o" ||
        die "cannot compile root_ca.c"
    for src in lib/*.c; do
        obj="$out/obj/$(basename "$src" .c).o"
        # shellcheck disable=SC2086
        $clang $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj" ||
            die "cannot compile $src"
        objs="$objs $obj"
    done
    rm -f "$out/liblatch-fuzz.a"
    # shellcheck disable=SC2086
    ar rcs "$out/liblatch-fuzz.a" $objs || die "ar failed"
}

build_harness() {
    name=$1
    # shellcheck disable=SC2086
    $clang $cflags -fsanitize=fuzzer "tests/fuzz/$name.c" \
        "$out/liblatch-fuzz.a" $libs -o "$out/$name"
}

# Runs one harness; returns libFuzzer's status (0 = no finding).
run_harness() {
    name=$1
    budget=$2
    scratch="$out/corpus/$name"
    seeds="tests/fuzz/corpus/$name"
    mkdir -p "$scratch" "$out/artifacts"
    set -- -max_total_time="$budget" -max_len=70000 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name-"
    if [ -f "tests/fuzz/$name.dict" ]; then
        set -- "$@" -dict="tests/fuzz/$name.dict"
    fi
    if [ -d "$seeds" ]; then
        set -- "$@" "$scratch" "$seeds"
    else
        set -- "$@" "$scratch"
    fi
    "$out/$name" "$@"
}

command -v "$clang" >/dev/null 2>&1 || die "$clang not found"
harnesses=""
for f in tests/fuzz/fuzz_*.c; do
    [ -f "$f" ] || continue
    harnesses="$harnesses $(basename "$f" .c)"
done
[ -n "$harnesses" ] || die "no harnesses in tests/fuzz"

case "$mode" in
build | smoke)
    build_lib
    pass=0
    fail=0
    for h in $harnesses; do
        if ! build_harness "$h"; then
            echo "fuzz: $h: build failed" >&2
            fail=$((fail + 1))
            continue
        fi
        if [ "$mode" = build ]; then
            pass=$((pass + 1))
        elif run_harness "$h" "$seconds"; then
            pass=$((pass + 1))
        else
            echo "fuzz: $h: finding, see $out/artifacts/" >&2
            fail=$((fail + 1))
        fi
    done
    echo "fuzz: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    ;;
run)
    [ $# -ge 2 ] || die "usage: scripts/fuzz.sh run NAME [SECONDS]"
    [ -f "tests/fuzz/$2.c" ] || die "no harness tests/fuzz/$2.c"
    build_lib
    build_harness "$2" || die "$2: build failed"
    run_harness "$2" "${3:-600}"
    ;;
*)
    die "usage: scripts/fuzz.sh smoke|build|run NAME [SECONDS]"
    ;;
esac
