#!/bin/bash
# Captures real IKEv2 exchanges between two strongSwan charons and turns them into test vectors
# (see README.md beside this file). Two network namespaces joined by a veth pair, PSK
# authentication with a known PSK, charon logging at `ike 4` so that it prints the DH secret,
# SKEYSEED, the SK_* keys and the AUTH computation; tcpdump records the messages; extract.py
# writes them out and checks every key, decryption and AUTH value independently.
#
#   tests/vectors/strongswan/capture.sh [--vm] [--out DIR]
#     (default)  run here. On the host kernel (no ESP) charon's CHILD_SA cannot be installed:
#                the responder answers IKE_AUTH with NO_PROPOSAL_CHOSEN and there is no CHILD
#                rekey to capture.
#     --vm       run inside the e2e QEMU guest (tests/e2e/vm), where ESP works: IKE_AUTH carries
#                the CHILD SA, a CHILD rekey is captured and the CHILD keys are checked against
#                the kernel's SAs. This produced the committed vectors.
#     --out DIR  where the runs go (default: this folder)
#     --check    capture nothing: re-run extract.py on the stored inputs of each run in the out
#                folder (pcap, charon logs, xfrm dumps) and compare with the stored vectors
# Each run: IKE_SA_INIT, IKE_AUTH (with the first CHILD SA), CREATE_CHILD_SA (CHILD rekey, if a
# CHILD SA exists), CREATE_CHILD_SA (IKE rekey), INFORMATIONAL (delete of the old IKE SA, then of
# the new one on terminate).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$here
vm=0
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --vm) vm=1; shift ;;
        --check) check=1; shift ;;
        --out) out=${2:?}; shift 2 ;;
        *) echo "usage: $0 [--vm | --check] [--out DIR]" >&2; exit 2 ;;
    esac
done
PSK="ikemesh-strongswan-capture-psk-2024"
ID_I=initiator.ikemesh.test
ID_R=responder.ikemesh.test

need=""
for p in strongswan-charon strongswan-swanctl libstrongswan-standard-plugins \
    libstrongswan-extra-plugins tcpdump python3 python3-cryptography; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
    echo "capture: installing$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ "$check" = 1 ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    rc=0
    for d in "$out"/*/; do
        name=$(basename "$d")
        k=$d/keys.txt
        xfrm=()
        for x in "$d"/xfrm*.txt; do [ -f "$x" ] && xfrm+=(--xfrm "$x"); done
        /usr/bin/python3 "$here/extract.py" --pcap "$d/capture.pcap" \
            --log-initiator "$d/charon-initiator.log.gz" \
            --log-responder "$d/charon-responder.log.gz" \
            --psk "$PSK" --id-i "$ID_I" --id-r "$ID_R" \
            --ike "$(sed -n 's/^ike_proposal = \(.*\) (text)$/\1/p' "$k")" \
            --esp "$(sed -n 's/^esp_proposal = \(.*\) (text)$/\1/p' "$k")" "${xfrm[@]}" \
            --note "$(sed -n '2s/^# //p' "$k")" --out "$tmp/$name" || rc=1
        diff -r -q -x capture.pcap -x '*.gz' -x 'xfrm*' "$tmp/$name" "$d" || rc=1
    done
    [ "$rc" = 0 ] && echo "capture: stored vectors reproduce from their inputs"
    exit "$rc"
fi
[ "$(id -u)" -eq 0 ] || { echo "capture: needs root (network namespaces)" >&2; exit 2; }

if [ "$vm" = 1 ]; then
    build=${IKEMESH_BUILD:-$repo/build}
    vmout=$build/capture-vm
    rm -rf "$vmout/vectors"
    mkdir -p "$vmout"
    "$repo/tests/e2e/vm" --out "$vmout" --timeout 1200 \
        --run "tests/vectors/strongswan/capture.sh --out $vmout/vectors"
    mkdir -p "$out"
    for d in "$vmout"/vectors/*/; do
        name=$(basename "$d")
        rm -rf "${out:?}/$name"
        cp -r "$d" "$out/$name"
    done
    echo "capture: copied $(ls "$vmout/vectors" | tr '\n' ' ')to $out"
    exit 0
fi

# shellcheck source=tests/interop/strongswan.sh
. "$repo/tests/interop/strongswan.sh"

ADDR_I=192.0.2.1
ADDR_R=192.0.2.2
ns_i=ikecap$$-i
ns_r=ikecap$$-r
work=$(mktemp -d /tmp/ikemesh-capture.XXXXXX)
tcpdump_pid=""

cleanup() {
    [ -z "$tcpdump_pid" ] || kill "$tcpdump_pid" 2>/dev/null || true
    swan_stop_all
    ip netns del "$ns_i" 2>/dev/null || true
    ip netns del "$ns_r" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

ip netns add "$ns_i"
ip netns add "$ns_r"
ip link add capv$$i type veth peer name capv$$r
ip link set capv$$i netns "$ns_i" name eth0
ip link set capv$$r netns "$ns_r" name eth0
ip -n "$ns_i" addr add "$ADDR_I/24" dev eth0
ip -n "$ns_r" addr add "$ADDR_R/24" dev eth0
for ns in "$ns_i" "$ns_r"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
done

# swanctl_conf LOCAL_ADDR REMOTE_ADDR LOCAL_ID REMOTE_ID IKE_PROPOSAL ESP_PROPOSAL
# mobike = no keeps IKE on port 500 (with MOBIKE charon moves to 4500 for IKE_AUTH).
swanctl_conf() {
    cat <<EOF
connections {
    peer {
        local_addrs = $1
        remote_addrs = $2
        proposals = $5
        mobike = no
        local {
            auth = psk
            id = $3
        }
        remote {
            auth = psk
            id = $4
        }
        children {
            peer {
                mode = transport
                esp_proposals = $6
            }
        }
    }
}
secrets {
    ike-capture {
        id-i = $ID_I
        id-r = $ID_R
        secret = "$PSK"
    }
}
EOF
}

# capture NAME IKE_PROPOSAL ESP_PROPOSAL
capture() {
    local name=$1 ike=$2 esp=$3 d=$work/$1 child=1 xfrm=()
    mkdir -p "$d/i" "$d/r"
    swanctl_conf $ADDR_I $ADDR_R $ID_I $ID_R "$ike" "$esp" >"$d/i.conf"
    swanctl_conf $ADDR_R $ADDR_I $ID_R $ID_I "$ike" "$esp" >"$d/r.conf"
    SWAN_LOG="ike=4 cfg=2 net=2 enc=2 knl=2 chd=2 default=1" swan_start "$d/i" "$ns_i"
    SWAN_LOG="ike=4 cfg=2 net=2 enc=2 knl=2 chd=2 default=1" swan_start "$d/r" "$ns_r"
    swan_load "$d/i" "$d/i.conf" >/dev/null
    swan_load "$d/r" "$d/r.conf" >/dev/null

    ip netns exec "$ns_i" tcpdump -Z root -U -n -i eth0 -w "$d/capture.pcap" \
        udp port 500 or udp port 4500 >"$d/tcpdump.log" 2>&1 &
    tcpdump_pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$d/tcpdump.log" && break
        sleep 0.1
    done

    echo "capture: $name: initiate"
    swan_initiate "$d/i" --child peer >"$d/initiate.log" 2>&1 || child=0
    swan_list_sas "$d/i" | grep -q ESTABLISHED || { cat "$d/initiate.log"; return 1; }
    if [ "$child" = 1 ]; then
        ip -n "$ns_i" xfrm state >"$d/xfrm.txt"
        xfrm=(--xfrm "$d/xfrm.txt")
        echo "capture: $name: CHILD rekey"
        swan_rekey "$d/i" --child peer >/dev/null
        sleep 1
        ip -n "$ns_i" xfrm state >"$d/xfrm-rekeyed.txt"
        xfrm+=(--xfrm "$d/xfrm-rekeyed.txt")
    else
        echo "capture: $name: no CHILD SA (no ESP in this kernel); IKE only"
    fi
    echo "capture: $name: IKE rekey"
    swan_rekey "$d/i" --ike peer >/dev/null
    sleep 1
    echo "capture: $name: terminate"
    swan_terminate "$d/i" --ike peer >/dev/null
    sleep 1
    kill "$tcpdump_pid"
    wait "$tcpdump_pid" 2>/dev/null || true
    tcpdump_pid=""
    swan_stop "$d/i"
    swan_stop "$d/r"

    /usr/bin/python3 "$here/extract.py" --pcap "$d/capture.pcap" \
        --log-initiator "$d/i/charon.log" --log-responder "$d/r/charon.log" \
        --psk "$PSK" --id-i "$ID_I" --id-r "$ID_R" --ike "$ike" --esp "$esp" "${xfrm[@]}" \
        --note "$(date -u +%Y-%m-%d) $(uname -r) strongSwan $(dpkg-query -W -f='${Version}' strongswan-charon)" \
        --out "$out/$name"
    # The inputs, so that extract.py can re-check the vectors without a new capture.
    cp "$d/capture.pcap" "$out/$name/capture.pcap"
    gzip -9c "$d/i/charon.log" >"$out/$name/charon-initiator.log.gz"
    gzip -9c "$d/r/charon.log" >"$out/$name/charon-responder.log.gz"
    cp "$d"/xfrm*.txt "$out/$name/" 2>/dev/null || true
}

mkdir -p "$out"
capture x25519-aes128gcm16 aes128gcm16-prfsha256-x25519 aes128gcm16
capture modp3072-aes256cbc-sha256 aes256-sha256-modp3072 aes128gcm16
