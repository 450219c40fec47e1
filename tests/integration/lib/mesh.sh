# shellcheck shell=bash
# Shared helpers of the namespace integration scripts (sourced, not a test: the CMake glob only
# takes tests/integration/*.sh). Each node is a network namespace with one veth into a "switch"
# namespace that holds a bridge (a bridge in the root namespace drops forwarded IP on these
# machines, see ../shared/docs/testing.md):
#
#   namespace ikm$$n1         namespace ikm$$sw                namespace ikm$$nN
#   +----------------+       +-------------------+            +----------------+
#   | ikemeshd n1    |       |    bridge br0     |            | ikemeshd nN    |
#   | 10.77.0.1  veth ------ s1               sN ------ veth   10.77.0.N     |
#   +----------------+       +-------------------+            +----------------+
#
# Every node runs ikemeshd with kernel = "fake" (the host kernel has no ESP); control sockets,
# configurations and logs live in a private temporary directory reached from the root namespace.
#
# A script sets MESH_TEST (its name, for messages), sources this file, calls mesh_setup, then
# mesh_node for each node. Cleanup (processes, namespaces, files) runs on every exit.
# Needs bash and python3.

# shellcheck disable=SC2034 # ikemeshd, py, ... are used by the scripts that source this file
build=${IKEMESH_BUILD:-build}
source_dir=${IKEMESH_SOURCE:-.}
ikemeshd="$build/daemon/ikemeshd"
ikectl="$build/daemon/ikectl"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mesh_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mesh_tag="ikm$$"
mesh_nodes=""
mesh_pids=""
mesh_dir=""
# Timing of every node (short, so the suite stays fast). DPD bound, see mesh_dpd_bound_ms.
MESH_DPD_DELAY_S=${MESH_DPD_DELAY_S:-2}
MESH_RT_TIMEOUT_MS=${MESH_RT_TIMEOUT_MS:-500}
MESH_RT_BASE=${MESH_RT_BASE:-1.5}
MESH_RT_TRIES=${MESH_RT_TRIES:-2}
MESH_LOG_LEVEL=${MESH_LOG_LEVEL:-info}

fail() {
    echo "$MESH_TEST: FAIL: $*" >&2
    if [ -s "$mesh_dir/out" ] || [ -s "$mesh_dir/err" ]; then
        echo "--- output of the last command run by rc_of" >&2
        cat "$mesh_dir/out" "$mesh_dir/err" >&2 2>/dev/null
    fi
    for n in $mesh_nodes; do
        if [ -f "$mesh_dir/$n.log" ]; then
            echo "--- log of node $n (last 25 lines)" >&2
            tail -n 25 "$mesh_dir/$n.log" >&2
        fi
    done
    exit 1
}

note() { echo "$MESH_TEST: $*"; }

mesh_cleanup() {
    set +e
    for p in $mesh_pids; do kill -KILL "$p" 2>/dev/null; done
    for p in $mesh_pids; do wait "$p" 2>/dev/null; done
    for n in $mesh_nodes sw; do ip netns del "$mesh_tag$n" 2>/dev/null; done
    [ -n "$mesh_dir" ] && rm -rf "$mesh_dir"
}

mesh_setup() {
    [ -x "$ikemeshd" ] || { echo "$MESH_TEST: FAIL: $ikemeshd is not built" >&2; exit 1; }
    [ -x "$ikectl" ] || { echo "$MESH_TEST: FAIL: $ikectl is not built" >&2; exit 1; }
    mesh_dir=$(mktemp -d "/tmp/ikemesh-$MESH_TEST-XXXXXX")
    trap mesh_cleanup EXIT
    trap 'exit 1' INT TERM
    ip netns add "${mesh_tag}sw"
    ip -n "${mesh_tag}sw" link add br0 type bridge
    ip -n "${mesh_tag}sw" link set br0 up
    # 32 random bytes (config.md: PSKs of at least 32 bytes), in a file only root reads.
    mesh_psk="0s$(head -c 32 /dev/urandom | base64)"
    (umask 077 && echo "$mesh_psk" >"$mesh_dir/mesh.psk")
}

# mesh_node NAME INDEX: namespace NAME with address 10.77.0.INDEX on the switch.
mesh_node() {
    local ns="$mesh_tag$1"
    ip netns add "$ns"
    mesh_nodes="$mesh_nodes $1"
    ip link add "${mesh_tag}v$2" netns "$ns" type veth peer name "${mesh_tag}s$2" netns "${mesh_tag}sw"
    ip -n "$ns" addr add "10.77.0.$2/24" dev "${mesh_tag}v$2"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "${mesh_tag}v$2" up
    ip -n "${mesh_tag}sw" link set "${mesh_tag}s$2" master br0 up
}

mesh_addr() { echo "10.77.0.${1#n}"; }

# mesh_config NODE PEERS...: ikemesh.conf for NODE (named nINDEX) and one drop-in per peer.
# MESH_START (default "always"), MESH_LOG_LEVEL, MESH_CONTROL_GROUP, MESH_REINIT_BASE and
# MESH_REINIT_MAX adjust it; MESH_NO_LISTEN=1 leaves out the `listen` key (README's way: wildcard
# sockets, local addresses from the routes).
mesh_config() {
    local node=$1 d="$mesh_dir/$1"
    shift
    mkdir -p "$d/peers.d" "$d/run"
    cp "$mesh_dir/mesh.psk" "$d/mesh.psk"
    cat >"$d/ikemesh.conf" <<EOF
[daemon]
control_socket = "$d/run/ikemesh.sock"
control_group = "${MESH_CONTROL_GROUP:-root}"
kernel = "fake"
$([ "${MESH_NO_LISTEN:-0}" = 1 ] || echo "listen = [\"$(mesh_addr "$node")\"]")
log_level = "$MESH_LOG_LEVEL"

[local]
id = "$node.mesh.test"

[defaults]
ike = ["aes128gcm16-prfsha256-x25519"]
esp = ["aes128gcm16"]
start = "${MESH_START:-always}"
dpd_delay = "${MESH_DPD_DELAY_S}s"
psk_file = "mesh.psk"

[tuning]
retransmit_timeout = "${MESH_RT_TIMEOUT_MS}ms"
retransmit_base = $MESH_RT_BASE
retransmit_tries = $MESH_RT_TRIES
reinitiate_base = "${MESH_REINIT_BASE:-1s}"
reinitiate_max = "${MESH_REINIT_MAX:-4s}"
EOF
    for p in "$@"; do mesh_peer_file "$node" "$p"; done
}

# mesh_peer_file NODE PEER [EXTRA_LINE...]: NODE's drop-in for PEER.
mesh_peer_file() {
    local f="$mesh_dir/$1/peers.d/$2.conf" peer=$2
    shift 2
    {
        echo "[peer.$peer]"
        echo "address = \"$(mesh_addr "$peer")\""
        echo "id = \"$peer.mesh.test\""
        for line in "$@"; do echo "$line"; done
    } >"$f"
}

# mesh_start NODE: start NODE's daemon in its namespace; its pid goes to pid_NODE.
mesh_start() {
    ip netns exec "$mesh_tag$1" "$ikemeshd" --foreground --config "$mesh_dir/$1" \
        >>"$mesh_dir/$1.log" 2>&1 &
    eval "pid_$1=$!"
    mesh_pids="$mesh_pids $!"
}

mesh_pid() { eval "echo \$pid_$1"; }

# mesh_kill NODE: SIGKILL, reaped.
mesh_kill() {
    local p
    p=$(mesh_pid "$1")
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

ctl() { # ctl NODE ARGS...
    local node=$1
    shift
    "$ikectl" --socket "$mesh_dir/$node/run/ikemesh.sock" "$@"
}

# wait_for SECONDS WHAT CMD...: run CMD every 0.2 s until it succeeds; fail after SECONDS (with
# the problems of the last mesh_check, if CMD ran one).
wait_for() {
    local limit=$1 what=$2 end
    shift 2
    end=$(($(date +%s%N) / 1000000 + limit * 1000))
    rm -f "$mesh_dir/mesh_check.last"
    while ! "$@" >/dev/null 2>&1; do
        if [ $(($(date +%s%N) / 1000000)) -ge "$end" ]; then
            [ -s "$mesh_dir/mesh_check.last" ] && what="$what; last check: $(head -n 5 "$mesh_dir/mesh_check.last")"
            fail "$what: not within $limit s"
        fi
        sleep 0.2
    done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# mesh_snapshot OUT NODE...: every node's `ikectl status --json` into OUT/NODE.json.
mesh_snapshot() {
    local out=$1 n
    shift
    mkdir -p "$out"
    for n in "$@"; do
        # exit 4 (an always-peer is down) still prints the status
        ctl "$n" status --json >"$out/$n.json" 2>/dev/null || [ $? -eq 4 ] || echo '{}' >"$out/$n.json"
    done
}

# mesh_check [--print] NODE...: succeeds when every pair of the given nodes (nodes that have each
# other configured) holds exactly one IKE SA and one CHILD SA pair, established on both
# sides, with SPIs that agree. --print writes the SPI map (pair -> ike_i ike_r child_in child_out).
mesh_check() {
    local print=""
    [ "$1" = --print ] && { print=--print; shift; }
    local snap="$mesh_dir/snap.$$"
    rm -rf "$snap"
    mesh_snapshot "$snap" "$@"
    "$py" "$mesh_lib/mesh_check.py" $print "$snap" "$@"
}

# mesh_pair A B: "ike_spi_i ike_spi_r a_child_in a_child_out" of a healthy pair; fails otherwise.
mesh_pair() {
    local out
    out=$(mesh_check --print "$1" "$2") || fail "pair $1-$2 not healthy: $(cat "$mesh_dir/mesh_check.last")"
    echo "${out#* }"
}

# mesh_metric NODE NAME{LABELS}: the value of one sample of NODE's `ikectl metrics`.
mesh_metric() {
    ctl "$1" metrics | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "absent" }'
}
