#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# Regenerates the golden TPM files in this directory from a fresh hermetic
# swtpm board (scripts/board.sh) with tpm2-tools, and the expected device
# ids with the openssl CLI. See README.md; run from the repository root:
#   tests/data/tpm/make-golden.sh
set -eu
out=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$out/../../.." && pwd)
work=$(mktemp -d /tmp/latch-golden-XXXXXX)
board="$work/b"
trap '"$repo/scripts/board.sh" stop "$board" >/dev/null 2>&1 || true;
      rm -rf "$work"' EXIT

"$repo/scripts/board.sh" ca "$work/ca" >/dev/null
"$repo/scripts/board.sh" create "$board" "$work/ca" >/dev/null
TPM2TOOLS_TCTI=$("$repo/scripts/board.sh" start "$board")
export TPM2TOOLS_TCTI TSS2_LOG=all+none
cd "$work"

# EKs from the TCG templates (L-1, L-2, H-3); flush after every tool:
# a raw swtpm has only 3 object slots.
tpm2_createek -c ek-rsa.ctx -G rsa -u "$out/ek-rsa2048.pub" >/dev/null
tpm2_flushcontext -t
tpm2_createek -c ek-p256.ctx -G ecc -u "$out/ek-ecc-p256.pub" >/dev/null
tpm2_flushcontext -t
tpm2_createek -c ek-p384.ctx -G ecc384 -u "$out/ek-ecc-p384.pub" >/dev/null
tpm2_flushcontext -t

# AKs and the names the TPM reports for them.
tpm2_createak -C ek-rsa.ctx -c ak1.ctx -G ecc -g sha256 -s ecdsa \
    -u "$out/ak-ecc.pub" -n "$out/ak-ecc.name" -r ak1.priv >/dev/null
tpm2_flushcontext -t
tpm2_createak -C ek-rsa.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa \
    -u "$out/ak-rsa.pub" -n "$out/ak-rsa.name" -r ak2.priv >/dev/null
tpm2_flushcontext -t
tpm2_createak -C ek-p384.ctx -c ak3.ctx -G ecc -g sha256 -s ecdsa \
    -u "$out/ak-sha384.pub" -n "$out/ak-sha384.name" -r ak3.priv >/dev/null
tpm2_flushcontext -t

cp "$board/certs/ek-rsa2048.crt" "$out/ek-rsa2048.crt"
cp "$board/certs/ek-secp256r1.crt" "$out/ek-ecc-p256.crt"
cp "$board/certs/ek-secp384r1.crt" "$out/ek-ecc-p384.crt"

# device_id = SHA-256 of the SubjectPublicKeyInfo, computed by openssl.
: >"$out/device-ids.txt"
for k in rsa2048 ecc-p256 ecc-p384; do
    id=$(openssl x509 -inform DER -in "$out/ek-$k.crt" -pubkey -noout |
        openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
    echo "$k $id" >>"$out/device-ids.txt"
done
echo "golden files written to $out"
