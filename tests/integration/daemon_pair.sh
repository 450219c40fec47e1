#!/bin/sh
# Two ikemeshd processes in two network namespaces, with the fake kernel backend, end to end
# through their real UDP sockets and control sockets:
#
#      namespace ikmA-$$                    namespace ikmB-$$
#   +---------------------+              +---------------------+
#   | ikemeshd (node a)   |              | ikemeshd (node b)   |
#   | 10.99.0.1 veth ---------- veth ------- 10.99.0.2         |
#   +---------------------+              +---------------------+
#        control sockets in a private temporary directory (reached from the root namespace)
#
# Checks, each bounded in time:
#   1. both come up and `ikectl status --json` shows the peer established, with exactly one
#      IKE SA and one CHILD SA on each side, and the same SPIs seen from both ends;
#   2. the control sockets are mode 0660; `ikectl version`, `metrics` and `monitor` answer, and
#      so does the Prometheus listener (GET /metrics inside node a's namespace);
#   3. reloads as sd_notify sees them: a broken one (refused), a valid one, and SIGHUP (what a
#      reload does to SAs, and every kind of broken file, is reload.sh's);
#   4. node a runs with NOTIFY_SOCKET and WATCHDOG_USEC as under systemd: it reports READY=1,
#      STATUS= with its peer counts, WATCHDOG=1 pings, RELOADING=1/READY=1 around a reload
#      (SIGHUP too) and STOPPING=1;
#   5. SIGTERM stops a daemon cleanly (exit 0, control socket removed) and its peer notices (the
#      pair is no longer established there); then the other one stops cleanly too.
# Needs root (namespaces). Cleans up namespaces, processes and files whatever happens.
set -eu
build=${IKEMESH_BUILD:-build}
ikemeshd="$build/daemon/ikemeshd"
ikectl="$build/daemon/ikectl"
py=/usr/bin/python3
[ -x "$py" ] || py=python3

fail() {
    echo "daemon_pair.sh: FAIL: $*" >&2
    for n in a b; do
        [ -f "$dir/$n.log" ] && { echo "--- log of node $n (last 30 lines)" >&2; tail -n 30 "$dir/$n.log" >&2; }
    done
    exit 1
}

[ -x "$ikemeshd" ] || { echo "daemon_pair.sh: FAIL: $ikemeshd is not built" >&2; exit 1; }
[ -x "$ikectl" ] || { echo "daemon_pair.sh: FAIL: $ikectl is not built" >&2; exit 1; }

nsa="ikmA-$$"
nsb="ikmB-$$"
dir=$(mktemp -d /tmp/ikemesh-pair-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

ip netns add "$nsa"
ip netns add "$nsb"
ip link add "ikmva$$" netns "$nsa" type veth peer name "ikmvb$$" netns "$nsb"
ip -n "$nsa" addr add 10.99.0.1/24 dev "ikmva$$"
ip -n "$nsb" addr add 10.99.0.2/24 dev "ikmvb$$"
for ns in "$nsa" "$nsb"; do
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "ikmva$$" up
ip -n "$nsb" link set "ikmvb$$" up

# 32 random bytes, base64 with strongSwan's 0s prefix (config.md: PSKs of at least 32 bytes).
psk="0s$(head -c 32 /dev/urandom | base64)"

# write_node NAME ADDRESS PEER PEER_ADDRESS
write_node() {
    mkdir -p "$dir/$1/peers.d"
    cat >"$dir/$1/ikemesh.conf" <<EOF
[daemon]
control_socket = "$dir/$1/run/ikemesh.sock"
kernel = "fake"
listen = ["$2"]
log_level = "debug"

[local]
id = "$1.mesh.test"

[defaults]
ike = ["aes128gcm16-prfsha256-x25519"]
esp = ["aes128gcm16"]
start = "always"
dpd_delay = "5s"
psk = "$psk"

[metrics]
listen = "127.0.0.1:9810"
EOF
    cat >"$dir/$1/peers.d/$3.conf" <<EOF
[peer.$3]
address = "$4"
id = "$3.mesh.test"
EOF
    chmod 0600 "$dir/$1/ikemesh.conf" "$dir/$1/peers.d/$3.conf"
}
write_node a 10.99.0.1 b 10.99.0.2
write_node b 10.99.0.2 a 10.99.0.1

"$ikemeshd" --check --config "$dir/a" >/dev/null || fail "ikemeshd --check rejects node a's config"

# A stand-in for systemd's notification socket: record every datagram node a sends.
"$py" - "$dir/notify" "$dir/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1.0)
deadline = time.time() + 240
with open(sys.argv[2], "a", buffering=1) as log:
    while time.time() < deadline:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        log.write(msg.replace("\n", " ") + "\n")
        if msg.startswith("STOPPING=1"):
            break
PYEOF
notify_pid=$!
pids="$notify_pid"
i=0
while [ ! -S "$dir/notify" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
ip netns exec "$nsa" env NOTIFY_SOCKET="$dir/notify" WATCHDOG_USEC=1000000 \
    "$ikemeshd" --foreground --config "$dir/a" >"$dir/a.log" 2>&1 &
pid_a=$!
ip netns exec "$nsb" "$ikemeshd" --foreground --config "$dir/b" >"$dir/b.log" 2>&1 &
pid_b=$!
pids="$pids $pid_a $pid_b"

ctl() { # ctl NODE ARGS...
    node=$1
    shift
    "$ikectl" --socket "$dir/$node/run/ikemesh.sock" "$@"
}

# The pair's SA summary as seen from NODE: "ike_i ike_r child_in child_out" or a reason.
pair_state() {
    ctl "$1" status --json 2>/dev/null | "$py" -c '
import json, sys
d = json.load(sys.stdin)
p = d["peers"][0]
if p["state"] != "established" or len(p["ike_sas"]) != 1 or len(p["child_sas"]) != 1:
    print("not-ready", p["state"], len(p["ike_sas"]), len(p["child_sas"]))
else:
    i, c = p["ike_sas"][0], p["child_sas"][0]
    print(i["spi_i"], i["spi_r"], c["spi_in"], c["spi_out"])
' 2>/dev/null || echo "no-answer"
}

wait_established() {
    i=0
    while [ $i -lt 150 ]; do # 30 s
        sa=$(pair_state a)
        sb=$(pair_state b)
        case "$sa $sb" in
        *not-ready* | *no-answer*) ;;
        *) return 0 ;;
        esac
        kill -0 "$pid_a" 2>/dev/null || fail "node a exited"
        kill -0 "$pid_b" 2>/dev/null || fail "node b exited"
        sleep 0.2
        i=$((i + 1))
    done
    fail "the pair did not come up within 30 s (a: $sa; b: $sb)"
}

# 1. Up, one IKE SA and one CHILD SA each, SPIs agree crosswise.
wait_established
set -- $sa
a_ike_i=$1 a_ike_r=$2 a_in=$3 a_out=$4
set -- $sb
[ "$a_ike_i $a_ike_r" = "$1 $2" ] || fail "IKE SPIs differ: a=$a_ike_i/$a_ike_r b=$1/$2"
[ "$a_in" = "$4" ] && [ "$a_out" = "$3" ] || fail "CHILD SPIs do not pair: a=$a_in/$a_out b=$3/$4"
echo "daemon_pair.sh: established: IKE $a_ike_i/$a_ike_r, CHILD $a_in/$a_out"

# 2. Control socket permissions and the other verbs.
mode=$(stat -c %a "$dir/a/run/ikemesh.sock")
[ "$mode" = 660 ] || fail "control socket mode $mode, expected 660"
ctl a version | grep -q '^ikemeshd ' || fail "ikectl version"
ctl a metrics | grep -q '^ikemesh_peers{state="established"} 1$' || fail "metrics: no established peer"
ctl a status >/dev/null || fail "ikectl status exit $? with the peer up"
ctl a list-sas | grep -q "$a_ike_i" || fail "list-sas lacks the IKE SA"
ip netns exec "$nsa" "$py" -c '
import urllib.request
r = urllib.request.urlopen("http://127.0.0.1:9810/metrics", timeout=5)
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
body = r.read().decode()
assert "ikemesh_peers{state=\"established\"} 1" in body, body[:500]
' || fail "the metrics HTTP listener does not serve the peer metrics"

# 3. Reloads for the notifications below: a broken one, then one adding a passive peer c
# (tests/integration/reload.sh checks what reloads do to SAs).
printf '[peer.c]\nadress = "10.99.0.3"\n' >"$dir/a/peers.d/c.conf"
chmod 0600 "$dir/a/peers.d/c.conf"
if ctl a reload >"$dir/reload.out" 2>&1; then fail "reload accepted a broken peer file"; fi
printf '[peer.c]\naddress = "10.99.0.3"\nid = "c.mesh.test"\nstart = "passive"\n' >"$dir/a/peers.d/c.conf"
ctl a reload >"$dir/reload.out" 2>&1 || fail "valid reload refused: $(cat "$dir/reload.out")"

# SIGHUP reloads like `ikectl reload` (a third reload attempt, all counted).
kill -HUP "$pid_a"
i=0
while [ $i -lt 50 ] && ! ctl a metrics | grep -q '^ikemesh_reloads_total 3$'; do
    sleep 0.1
    i=$((i + 1))
done
ctl a metrics | grep -q '^ikemesh_reloads_total 3$' || fail "SIGHUP did not reload"
ctl a metrics | grep -q '^ikemesh_reload_failures_total 1$' || fail "reload failures not counted"

# Monitor: subscribe, then provoke an event (a rekey of the CHILD SA) and expect a line.
ctl a monitor --json >"$dir/monitor.out" 2>/dev/null &
mon=$!
pids="$pids $mon"
sleep 0.5
ctl b rekey a >/dev/null || fail "ikectl rekey"
i=0
while [ $i -lt 50 ] && ! grep -q '"event"' "$dir/monitor.out"; do
    sleep 0.2
    i=$((i + 1))
done
grep -q '"event"' "$dir/monitor.out" || fail "monitor saw no event after a rekey"
kill "$mon" 2>/dev/null || true

# 4. The notifications node a sent so far.
grep -qx 'READY=1' "$dir/notify.log" || fail "no READY=1 (got: $(cat "$dir/notify.log"))"
[ "$(head -n 1 "$dir/notify.log")" = "READY=1" ] || fail "the first notification is not READY=1"
[ "$(grep -c '^WATCHDOG=1$' "$dir/notify.log")" -ge 2 ] || fail "fewer than 2 watchdog pings"
[ "$(grep -c '^RELOADING=1$' "$dir/notify.log")" -eq 3 ] || fail "not 3 RELOADING=1 for 3 reloads"
[ "$(grep -c '^READY=1$' "$dir/notify.log")" -eq 4 ] || fail "not READY=1 after each reload"
i=0 # the STATUS line is refreshed at most every 2 s
while [ $i -lt 50 ] && ! grep -q '^STATUS=2 peers, 1 established, 0 connecting, 1 down$' "$dir/notify.log"; do
    sleep 0.1
    i=$((i + 1))
done
grep -q '^STATUS=2 peers, 1 established, 0 connecting, 1 down$' "$dir/notify.log" ||
    fail "no STATUS line with the peer counts (got: $(grep STATUS "$dir/notify.log" | tail -n 1))"

# stop_node NAME PID: SIGTERM, at most 10 s to exit, exit status 0.
stop_node() {
    kill -TERM "$2"
    i=0
    while kill -0 "$2" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$2" 2>/dev/null && fail "node $1 did not stop within 10 s of SIGTERM"
    rc=0
    wait "$2" || rc=$?
    [ $rc -eq 0 ] || fail "node $1 exited $rc after SIGTERM"
}

# 5. SIGTERM: clean exit, and the peer notices.
stop_node b "$pid_b"
[ ! -e "$dir/b/run/ikemesh.sock" ] || fail "node b left its control socket behind"
i=0
while [ $i -lt 100 ]; do
    state=$(ctl a status --json | "$py" -c 'import json,sys; print([p["state"] for p in json.load(sys.stdin)["peers"] if p["name"]=="b"][0])')
    [ "$state" != established ] && break
    sleep 0.2
    i=$((i + 1))
done
[ "$state" != established ] || fail "node a still shows b established 20 s after b stopped"

# Node a, which went through reloads and a monitor client, stops cleanly too (under ASan this
# also proves a leak-free shutdown: LeakSanitizer turns leaks into a non-zero exit).
stop_node a "$pid_a"
i=0
while [ $i -lt 50 ] && ! grep -q '^STOPPING=1$' "$dir/notify.log"; do
    sleep 0.1
    i=$((i + 1))
done
grep -q '^STOPPING=1$' "$dir/notify.log" || fail "no STOPPING=1"
echo "daemon_pair.sh: OK"
