#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The latch authors
# Hermetic software-TPM "boards" for tests and the demo: a throwaway TPM
# vendor PKI, swtpm instances provisioned with EK certificates from it
# (RSA-2048, ECC P-256 added as a manufacturing step, the P-384 high-range
# EK swtpm makes itself), started and stopped on unix sockets by pid.
# Never touches /var/lib/swtpm-localca or the system swtpm configuration.
#
#   board.sh ca DIR          make the vendor PKI and swtpm_setup config
#   board.sh create DIR CA   provision a board in DIR with the CA in CA
#   board.sh start DIR       start it; prints the TCTI string
#   board.sh stop DIR        orderly: TPM2_Shutdown, then stop it by pid
#   board.sh kill DIR        power cut: SIGKILL by pid, no TPM2_Shutdown
#   board.sh tcti DIR        print the TCTI string
set -eu

# sun_path holds 108 bytes; swtpm appends ".ctrl" to the control socket.
SOCK_MAX=100

die() {
    echo "board.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '9,15p' "$0" | sed 's/^# //' >&2
    exit 2
}

abspath() {
    mkdir -p "$1"
    (cd "$1" && pwd)
}

# --- vendor PKI ---------------------------------------------------------
cmd_ca() {
    dir=$(abspath "$1")
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
        -keyout "$dir/root.key" -out "$dir/root.pem" -days 3650 \
        -subj "/O=Test TPM Vendor/CN=Test TPM Vendor EK Root CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>"$dir/openssl.log" || die "root CA: see $dir/openssl.log"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
        -keyout "$dir/signkey.pem" -out "$dir/int.csr" \
        -subj "/O=Test TPM Vendor/CN=Test TPM Vendor EK Issuing CA 01" \
        2>>"$dir/openssl.log" || die "issuing CA key: see $dir/openssl.log"
    printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
        "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" \
        >"$dir/int.ext"
    openssl x509 -req -in "$dir/int.csr" -CA "$dir/root.pem" \
        -CAkey "$dir/root.key" -CAcreateserial -out "$dir/issuercert.pem" \
        -days 3650 -extfile "$dir/int.ext" \
        2>>"$dir/openssl.log" || die "issuing CA cert: see $dir/openssl.log"
    # swtpm_localca ignores a certserial with a trailing newline.
    printf 100 >"$dir/certserial"
    cat >"$dir/swtpm-localca.conf" <<EOF
statedir = $dir
signingkey = $dir/signkey.pem
issuercert = $dir/issuercert.pem
certserial = $dir/certserial
EOF
    printf '%s\n' "--platform-manufacturer TestVendor" \
        "--platform-version 1.0" "--platform-model TestBoard" \
        >"$dir/swtpm-localca.options"
    cat >"$dir/swtpm_setup.conf" <<EOF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $dir/swtpm-localca.conf
create_certs_tool_options = $dir/swtpm-localca.options
active_pcr_banks = sha256
EOF
    chmod 0644 "$dir/root.pem" "$dir/issuercert.pem"
    echo "$dir"
}

# --- one swtpm process ----------------------------------------------------
sock_of() {
    printf '%s/tpm.sock' "$1"
}

pid_alive() {
    # Exited daemons can linger as zombies here, and kill -0 succeeds on
    # them: ask ps for the state instead.
    st=$(ps -o stat= -p "$1" 2>/dev/null || true)
    [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

cmd_start() {
    dir=$(abspath "$1")
    sock=$(sock_of "$dir")
    [ -d "$dir/state" ] || die "$dir: no board here (run create first)"
    [ ${#sock} -le $SOCK_MAX ] ||
        die "$sock: socket path longer than $SOCK_MAX bytes"
    if [ -f "$dir/swtpm.pid" ] && pid_alive "$(cat "$dir/swtpm.pid")"; then
        die "$dir: already running as pid $(cat "$dir/swtpm.pid")"
    fi
    rm -f "$sock" "$sock.ctrl" "$dir/swtpm.pid"
    swtpm socket --tpm2 --tpmstate dir="$dir/state" \
        --server type=unixio,path="$sock" \
        --ctrl type=unixio,path="$sock.ctrl" \
        --flags not-need-init,startup-clear \
        --log file="$dir/swtpm.log",level=1 \
        --pid file="$dir/swtpm.pid" --daemon ||
        die "swtpm did not start: see $dir/swtpm.log"
    i=0
    while [ ! -S "$sock" ] || [ ! -s "$dir/swtpm.pid" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || die "swtpm socket $sock did not appear"
        sleep 0.05
    done
    echo "swtpm:path=$sock"
}

# stop DIR [orderly|cut]: an orderly stop sends TPM2_Shutdown(CLEAR) first,
# as an OS does at reboot. Without it the next start counts as a power cut,
# and libtpms adds a dictionary-attack failure if DA-protected
# authorization was used (three of those lock the TPM out for 1000 s).
cmd_stop() {
    dir=$(abspath "$1")
    how=${2:-orderly}
    [ -f "$dir/swtpm.pid" ] || return 0
    pid=$(cat "$dir/swtpm.pid")
    case $pid in
    '' | *[!0-9]*) die "$dir/swtpm.pid: not a pid: '$pid'" ;;
    esac
    if pid_alive "$pid" && [ "$how" = orderly ]; then
        TSS2_LOG=all+none TPM2TOOLS_TCTI="swtpm:path=$(sock_of "$dir")" \
            timeout 10 tpm2_shutdown -c >/dev/null 2>&1 || true
    fi
    if pid_alive "$pid"; then
        if [ "$how" = orderly ]; then
            kill -TERM "$pid" 2>/dev/null || true
        else
            kill -KILL "$pid" 2>/dev/null || true
        fi
        i=0
        while pid_alive "$pid"; do
            i=$((i + 1))
            if [ $i -eq 100 ]; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
            [ $i -le 200 ] || die "pid $pid did not stop"
            sleep 0.05
        done
    fi
    rm -f "$dir/swtpm.pid" "$(sock_of "$dir")" "$(sock_of "$dir").ctrl"
}

# --- provisioning ---------------------------------------------------------
# The manufacturing step swtpm_setup does not do: an EK certificate for the
# TCG L-2 (ECC P-256) EK at NV 0x01c0000a, written and locked with platform
# authorization like swtpm's own indices.
add_p256_cert() {
    dir=$1
    ca=$2
    work="$dir/mfg"
    mkdir -p "$work/p256"
    TPM2TOOLS_TCTI=$(cmd_start "$dir")
    export TPM2TOOLS_TCTI
    trap 'cmd_stop "$dir"' EXIT
    tpm2_createek -c "$work/ek.ctx" -G ecc -u "$work/ek.pub" >/dev/null
    tpm2_flushcontext -t
    x=$(tpm2_print -t TPM2B_PUBLIC "$work/ek.pub" | awk '/^x:/{print $2}')
    y=$(tpm2_print -t TPM2B_PUBLIC "$work/ek.pub" | awk '/^y:/{print $2}')
    [ -n "$x" ] && [ -n "$y" ] || die "could not read the P-256 EK point"
    swtpm_localca --type ek --ek "x=$x,y=$y,id=secp256r1" \
        --dir "$work/p256" --tpm2 \
        --tpm-spec-family 2.0 --tpm-spec-level 0 --tpm-spec-revision 164 \
        --tpm-manufacturer id:00001014 --tpm-model swtpm \
        --tpm-version id:20191023 \
        --configfile "$ca/swtpm-localca.conf" \
        --optsfile "$ca/swtpm-localca.options" >"$work/localca.log" 2>&1 ||
        die "swtpm_localca (P-256 EK): see $work/localca.log"
    size=$(stat -c %s "$work/p256/ek.cert")
    tpm2_nvdefine 0x01c0000a -C p -s "$size" \
        -a "ppwrite|ppread|ownerread|authread|no_da|platformcreate|writedefine" \
        >/dev/null
    tpm2_nvwrite 0x01c0000a -C p -i "$work/p256/ek.cert"
    tpm2_nvwritelock 0x01c0000a -C p
    cp "$work/p256/ek.cert" "$dir/certs/ek-secp256r1.crt"
    trap - EXIT
    cmd_stop "$dir"
}

cmd_create() {
    dir=$(abspath "$1")
    ca=$(cd "$2" && pwd) || die "$2: no such CA directory"
    [ -f "$ca/swtpm_setup.conf" ] || die "$ca: not a board CA (run ca)"
    [ ! -e "$dir/state" ] || die "$dir: a board already exists here"
    mkdir -p "$dir/state" "$dir/certs"
    swtpm_setup --tpm2 --config "$ca/swtpm_setup.conf" \
        --tpmstate "$dir/state" --create-ek-cert --create-platform-cert \
        --lock-nvram --pcr-banks sha256 \
        --write-ek-cert-files "$dir/certs" >"$dir/setup.log" 2>&1 ||
        die "swtpm_setup: see $dir/setup.log"
    TSS2_LOG=all+none add_p256_cert "$dir" "$ca"
    echo "$dir"
}

[ $# -ge 2 ] || usage
verb=$1
shift
case $verb in
ca) cmd_ca "$1" ;;
create)
    [ $# -eq 2 ] || usage
    cmd_create "$1" "$2"
    ;;
start) cmd_start "$1" ;;
stop) cmd_stop "$1" orderly ;;
kill) cmd_stop "$1" cut ;;
tcti) echo "swtpm:path=$(sock_of "$(abspath "$1")")" ;;
*) usage ;;
esac
