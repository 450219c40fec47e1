#!/bin/bash
# A full mesh of six ikemeshd nodes (fake kernel), every pair `start = "always"`, all started at
# the same moment, in network namespaces on one switch (the drawing is in lib/mesh.sh):
#
#        n1 ---+                    node nK is 10.77.0.K, identity nK.mesh.test; for each pair
#        n2 ---+                    the node with the lower number is the designated initiator
#        n3 ---+--- br0 (switch)    (docs/mesh.md)
#        n4 ---+
#        n5 ---+                    15 pairs
#        n6 ---+
#
# Checks, each bounded in time:
#   1. all 15 pairs come up; once settled (and still after a few more seconds, with liveness
#      checks going on) every pair holds exactly one IKE SA and one CHILD SA pair on both sides,
#      the SPIs agree from both ends, and no IKE SA was left over (each node holds 5);
#   2. SIGKILL of n3: each of its 5 peers declares it dead (monitor event `peer_dead` with its
#      reason, `status` shows the reason) within the bound computed from the config: dpd_delay
#      plus the whole retransmission schedule (plus 1 s of scheduling slack); other pairs keep
#      their SPIs;
#   3. n3 restarted: it rejoins, every pair again has exactly one IKE SA on both sides, n3's pairs
#      have new SPIs and the other pairs the same ones as before;
#   4. fast restart of n1 (SIGKILL and restart at once, before DPD can fire): the peers clear the
#      stale IKE SA on INITIAL_CONTACT (no DPD failure counted) and end with exactly one IKE SA to
#      n1, not two; the other pairs are untouched;
#   5. the same for n6, the follower of all its pairs (it initiates only after its follower delay).
# Needs root (namespaces). Cleans up namespaces, processes and files whatever happens.
set -eu
MESH_TEST=mesh
MESH_DPD_DELAY_S=3
# shellcheck source=tests/integration/lib/mesh.sh
. "$(dirname "$0")/lib/mesh.sh"
mesh_setup

nodes="n1 n2 n3 n4 n5 n6"
for i in 1 2 3 4 5 6; do mesh_node "n$i" "$i"; done
for n in $nodes; do
    # shellcheck disable=SC2046,SC2086 # the other five names, one word each
    mesh_config "$n" $(echo $nodes | tr ' ' '\n' | grep -vx "$n")
done
for n in $nodes; do "$ikemeshd" --check --config "$mesh_dir/$n" >/dev/null || fail "--check rejects $n"; done

# The DPD bound from the config: dpd_delay + the whole retransmission schedule (ike/timer_policy:
# waits timeout * base^n for the first transmission and each of `tries` retransmissions).
bound_ms=$("$py" -c "
t, b, n, d = $MESH_RT_TIMEOUT_MS, $MESH_RT_BASE, $MESH_RT_TRIES, $MESH_DPD_DELAY_S
print(int(d * 1000 + sum(min(t * b ** k, 30000) for k in range(n + 1))))")
slack_ms=1000

# 1. Boot all at once.
for n in $nodes; do mesh_start "$n"; done
t0=$(now_ms)
# shellcheck disable=SC2086
wait_for 60 "all 15 pairs established" mesh_check $nodes
note "15 pairs up after $(($(now_ms) - t0)) ms"
# Settled: the follower delay (up to 3 s) has passed and liveness checks ran; nothing changed.
# shellcheck disable=SC2086
first=$(mesh_check --print $nodes) || fail "mesh not healthy: $(cat "$mesh_dir/mesh_check.last")"
sleep $((MESH_DPD_DELAY_S + 2))
# shellcheck disable=SC2086
settled=$(mesh_check --print $nodes) || fail "mesh not healthy once settled: $(cat "$mesh_dir/mesh_check.last")"
[ "$first" = "$settled" ] || fail "SAs changed while settling: before: $first after: $settled"
[ "$(echo "$settled" | wc -l)" -eq 15 ] || fail "expected 15 pairs, got: $settled"
for n in $nodes; do
    [ "$(mesh_metric "$n" ikemesh_ike_sas)" = 5 ] || fail "$n holds $(mesh_metric "$n" ikemesh_ike_sas) IKE SAs, expected 5"
    [ "$(mesh_metric "$n" ikemesh_child_sas)" = 5 ] || fail "$n holds $(mesh_metric "$n" ikemesh_child_sas) CHILD SAs, expected 5"
done
note "settled: 15 pairs, one IKE SA and one CHILD SA pair each, SPIs agree"

others_of() { # pairs of the SPI map not involving node $1
    echo "$2" | grep -v -e "^$1-" -e "-$1 "
}

# 2. SIGKILL n3; its peers must notice via DPD within the bound.
peers3="n1 n2 n4 n5 n6"
for n in $peers3; do
    ctl "$n" monitor --json >"$mesh_dir/monitor.$n" 2>/dev/null &
    mesh_pids="$mesh_pids $!"
done
sleep 0.5
kill_ms=$(now_ms)
mesh_kill n3
dead_seen() {
    local n
    for n in $peers3; do grep -q '"event":"peer_dead".*"peer":"n3"' "$mesh_dir/monitor.$n" || return 1; done
}
wait_for $(((bound_ms + slack_ms) / 1000 + 5)) "peers declare n3 dead" dead_seen
for n in $peers3; do
    "$py" - "$mesh_dir/monitor.$n" "$kill_ms" "$bound_ms" "$slack_ms" "$n" <<'EOF' || fail "DPD bound on $n"
import datetime, json, sys
path, kill_ms, bound, slack, node = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for line in open(path):
    e = json.loads(line)
    if e.get("event") == "peer_dead" and e.get("peer") == "n3":
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        took = int(t.timestamp() * 1000) - kill_ms
        assert e.get("reason"), f"peer_dead without a reason: {e}"
        assert took <= bound + slack, f"{node} declared n3 dead {took} ms after the kill, bound {bound}+{slack} ms"
        print(f"mesh: {node} declared n3 dead after {took} ms (bound {bound} ms): {e['reason']}")
        break
EOF
    ctl "$n" status --json | "$py" -c '
import json, sys
p = [p for p in json.load(sys.stdin)["peers"] if p["name"] == "n3"][0]
assert p["state"] != "established", p
assert not [s for s in p["ike_sas"] if s["state"] == "established"], p
assert p["last_error"], f"no reason shown: {p}"
' || fail "$n does not show n3 down with a reason"
done
# shellcheck disable=SC2086
after_kill=$(mesh_check --print n1 n2 n4 n5 n6) || fail "the other pairs suffered: $(cat "$mesh_dir/mesh_check.last")"
[ "$after_kill" = "$(others_of n3 "$settled")" ] || fail "other pairs changed SPIs after n3 died"
ctl n1 status | grep -E '^n3 ' | grep -qE 'no response|not responding' || fail "ikectl status does not show why n3 is down: $(ctl n1 status)"

# rejoined NODE PREVIOUS_MAP WHAT: NODE was restarted; wait until the mesh is whole again, let it
# settle, then: one IKE SA per pair on every node, NODE's pairs with new SPIs, the other pairs with
# the SPIs of PREVIOUS_MAP. The new SPI map goes to $map.
rejoined() {
    local t0 spi n
    t0=$(now_ms)
    # shellcheck disable=SC2086
    wait_for 30 "$3: $1 rejoins" mesh_check $nodes
    note "$3: $1 back after $(($(now_ms) - t0)) ms"
    sleep 2
    # shellcheck disable=SC2086
    map=$(mesh_check --print $nodes) || fail "$3: mesh not healthy once settled: $(cat "$mesh_dir/mesh_check.last")"
    [ "$(others_of "$1" "$map")" = "$(others_of "$1" "$2")" ] || fail "$3: pairs without $1 changed SPIs"
    for spi in $(echo "$map" | grep -e "^$1-" -e "-$1 " | cut -d' ' -f2); do
        if echo "$2" | grep -q " $spi "; then fail "$3: a pair with $1 kept its old IKE SPI $spi"; fi
    done
    for n in $nodes; do
        [ "$(mesh_metric "$n" ikemesh_ike_sas)" = 5 ] || fail "$3: $n holds $(mesh_metric "$n" ikemesh_ike_sas) IKE SAs, expected 5"
    done
}

# 3. Restart n3: it rejoins, stale SAs are gone, one IKE SA per pair.
mesh_start n3
rejoined n3 "$settled" "restart after DPD"

# 4. Fast restart of n1 (the designated initiator of all its pairs): killed and started again at
# once, it initiates to everyone with INITIAL_CONTACT before its peers' DPD can declare it dead.
dpd_failures() {
    local n
    for n in $nodes; do [ "$n" = "$1" ] || echo "$n=$(mesh_metric "$n" ikemesh_dpd_failures_total)"; done
}
dpd_before=$(dpd_failures n1)
mesh_kill n1
mesh_start n1
rejoined n1 "$map" "fast restart"
[ "$dpd_before" = "$(dpd_failures n1)" ] ||
    fail "DPD fired during the fast restart ($dpd_before -> $(dpd_failures n1)): INITIAL_CONTACT did not clear the stale SAs"
for n in n2 n3 n4 n5 n6; do
    grep -qE ' n1\[[0-9a-f]{16}:[0-9a-f]{16}\] ike_down: peer restarted \(INITIAL_CONTACT\)$' "$mesh_dir/$n.log" ||
        fail "$n did not delete its stale SA with n1 on INITIAL_CONTACT"
done
note "fast restart: INITIAL_CONTACT cleared the stale SAs, one IKE SA per pair"

# 5. Fast restart of n6, the follower of all its pairs: it waits its follower delay (1-3 s)
# before initiating, and its peers, who hold stale SAs, do not initiate; whether INITIAL_CONTACT
# or DPD gets there first, every pair must end with exactly one IKE SA.
mesh_kill n6
mesh_start n6
rejoined n6 "$map" "fast restart of a follower"
note "OK"
