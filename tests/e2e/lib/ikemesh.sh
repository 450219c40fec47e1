# shellcheck shell=bash
# ikemeshd nodes in e2e scenarios: source it after the topology is declared (it reads the hosts'
# addresses). Each node's configuration folder is $E2E_LOG/NODE (kept with the logs); control
# sockets live under /tmp (the out dir, shared over 9p, cannot hold sockets); the PSK is one
# random key for the whole mesh.
#
#   ikm_node NODE [LINE...]         write NODE's ikemesh.conf; LINEs go into [defaults] (a LINE
#                                   replaces the default written here for its key)
#   ikm_peer NODE PEER [LINE...]    NODE's peers.d/PEER.conf (address: PEER's first IPv4, or IPv6
#                                   with IKM_FAMILY=6, unless a LINE sets `address`); LINEs go
#                                   into [peer.PEER]
#   ikm_mesh NODE...                ikm_node for each, and ikm_peer for every other one
#   ikm_start NODE                  start ikemeshd in NODE's namespace, wait until ikectl answers
#   ikm_ctl NODE ARGS...            ikectl against NODE's daemon (any namespace: it is a socket)
#   ikm_sas NODE pairs N | spis [PEER] | packets [PEER] | kernel   see tests/e2e/lib/bin/ikm-sas
#   ikm_wait_pairs SECS NODE N      eventually NODE has N peers, one IKE and one CHILD SA each,
#                                   and the kernel holds exactly those ESP states (its own)
# Settings: IKM_KERNEL (default xfrm), IKM_LOG_LEVEL (default debug), IKM_IKE, IKM_ESP,
# IKM_BYPASS (the inside of the bypass list, default '"tcp/22", "icmp"');
# IKM_PKI=DIR: authenticate with certificates DIR/NODE.pem, DIR/NODE.key (mode 0600) and the CA
# DIR/ca.pem instead of the mesh PSK.

IKM_BIN=$IKEMESH_BUILD/daemon
IKM_RUN=$(mktemp -d /tmp/ikm.XXXXXX)
at_exit rm -rf "$IKM_RUN"
(umask 077 && echo "0s$(head -c 32 /dev/urandom | base64)" >"$IKM_RUN/mesh.psk")

_ikm_listen() {
    local out=""
    [ -z "${E2E_IP4[$1]:-}" ] || out="\"$(ip4 "$1")\""
    [ -z "${E2E_IP6[$1]:-}" ] || out="$out${out:+, }\"$(ip6 "$1")\""
    echo "[$out]"
}

# _ikm_def KEY VALUE LINE...: "KEY = VALUE" unless one of the LINEs sets KEY.
_ikm_def() {
    local key=$1 value=$2 l
    shift 2
    for l in "$@"; do
        case "$l" in "$key "* | "$key="*) return 0 ;; esac
    done
    echo "$key = $value"
}

ikm_node() {
    local n=$1 dir=$E2E_LOG/$1
    shift
    local IKM_BYPASS_LIST='"tcp/22", "icmp"'
    [ -z "${IKM_BYPASS+x}" ] || IKM_BYPASS_LIST=$IKM_BYPASS
    mkdir -p "$dir/peers.d"
    {
        cat <<EOF
[daemon]
control_socket = "$IKM_RUN/$n.sock"
kernel = "${IKM_KERNEL:-xfrm}"
listen = $(_ikm_listen "$n")
log_level = "${IKM_LOG_LEVEL:-debug}"

[local]
id = "$n.mesh.test"
$(if [ -n "${IKM_PKI:-}" ]; then
    printf 'auth = "cert"\ncert = "%s"\nkey = "%s"\nca = "%s"\n' "$IKM_PKI/$n.pem" \
        "$IKM_PKI/$n.key" "$IKM_PKI/ca.pem"
fi)

[tuning]
retransmit_timeout = "1s"
retransmit_tries = 3
reinitiate_base = "1s"
reinitiate_max = "4s"

[defaults]
EOF
        [ -n "${IKM_PKI:-}" ] || _ikm_def psk_file "\"$IKM_RUN/mesh.psk\"" "$@"
        _ikm_def ike "[\"${IKM_IKE:-aes128gcm16-prfsha256-x25519}\"]" "$@"
        _ikm_def esp "[\"${IKM_ESP:-aes128gcm16}\"]" "$@"
        _ikm_def start '"always"' "$@"
        _ikm_def dpd_delay '"10s"' "$@"
        _ikm_def bypass "[$IKM_BYPASS_LIST]" "$@"
        [ $# -eq 0 ] || printf '%s\n' "$@"
    } >"$dir/ikemesh.conf"
    chmod 0600 "$dir/ikemesh.conf"
}

ikm_peer() {
    local n=$1 p=$2 f=$E2E_LOG/$1/peers.d/$2.conf
    shift 2
    {
        echo "[peer.$p]"
        if ! printf '%s\n' "$@" | grep -q '^address'; then
            if [ "${IKM_FAMILY:-4}" = 6 ]; then
                echo "address = \"$(ip6 "$p")\""
            else
                echo "address = \"$(ip4 "$p")\""
            fi
        fi
        echo "id = \"$p.mesh.test\""
        [ $# -eq 0 ] || printf '%s\n' "$@"
    } >"$f"
    chmod 0600 "$f"
}

ikm_mesh() {
    local n p
    for n in "$@"; do
        ikm_node "$n"
        for p in "$@"; do
            [ "$p" = "$n" ] || ikm_peer "$n" "$p"
        done
    done
}

ikm_ctl() {
    local n=$1
    shift
    "$IKM_BIN/ikectl" --socket "$IKM_RUN/$n.sock" "$@"
}

ikm_start() {
    daemon "$1" "ikemeshd-$1" "$IKM_BIN/ikemeshd" --foreground --config "$E2E_LOG/$1"
    eventually 30 - "^ikemeshd " ikm_ctl "$1" version
}

ikm_sas() {
    local n=$1
    shift
    ikm-sas "$IKM_RUN/$n.sock" "$(ns_of "$n")" "$@"
}

ikm_wait_pairs() {
    eventually "$1" - "^pairs ok $3\$" ikm_sas "$2" pairs "$3"
    printf '%s\n' "$E2E_OUT" | sed 1d | sed 's/^/      /'
}

# For scenarios with one ikemeshd node `a` and third-party peers (ikemesh_strongswan,
# ikemesh_libreswan); echo servers (e2e-probe serve both 5001) must run on a and the peers.

# ikm_esp_states NODE: how many ESP states NODE's kernel holds.
ikm_esp_states() { ip -n "$(ns_of "$1")" xfrm state | grep -c 'proto esp' || true; }

# ikm_both_ways NODE: UDP and TCP from a to NODE and from NODE to a, as ESP on both kernels.
ikm_both_ways() {
    local before
    before=$(esp_packets "$1")
    expect a "udp ok 3/3 tcp ok 3/3" e2e-probe send both "$(ip4 "$1")" 5001 --count 3 --timeout 20
    expect "$1" "udp ok 3/3 tcp ok 3/3" e2e-probe send both "$(ip4 a)" 5001 --count 3 --timeout 20
    at_least "ESP packets counted by $1's states" "$(esp_packets "$1")" $((before + 12))
}

# ikm_one_pair NODE PAIRS: a holds one IKE and one CHILD SA with NODE (and its kernel only those
# of its PAIRS established pairs), and NODE's kernel holds exactly one ESP pair.
ikm_one_pair() {
    eventually 30 - "^2$" ikm_esp_states "$1"
    eventually 30 - "^pairs ok $2\$" ikm_sas a pairs "$2"
    expect - "^ike [0-9a-f]+ [0-9a-f]+ child [0-9a-f]{8} [0-9a-f]{8}\$" ikm_sas a spis "$1"
}

# ikm_rekeyed NODE OLD_IN: a's CHILD SA with NODE now has an inbound SPI other than OLD_IN.
ikm_rekeyed() {
    eventually 30 - "^ike [0-9a-f]+ [0-9a-f]+ child [0-9a-f]{8} [0-9a-f]{8}\$" sh -c \
        "ikm-sas '$IKM_RUN/a.sock' '$(ns_of a)' spis $1 | grep -v ' $2 '"
}
