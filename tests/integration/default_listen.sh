#!/bin/bash
# README's configuration: no `listen` key (wildcard sockets), so each node's local address
# towards a peer is the source of its route to it (docs/config.md, "How the local address is
# chosen"). Four ikemeshd nodes (fake kernel) in namespaces on one switch (drawing in
# lib/mesh.sh); n4 sits in another subnet on the same wire:
#
#        n1 10.77.0.1 ---+                 n1, n2, n3: a full mesh
#        n2 10.77.0.2 ---+--- br0          n4 and n1: peers of each other only; at first
#        n3 10.77.0.3 ---+                 neither has a route to the other's subnet
#        n4 10.77.1.4 ---+
#
# Checks, each bounded in time:
#   1. n1-n2-n3 come up from the wildcard sockets; every peer's `local_address` (JSON) and LOCAL
#      column is the node's own address, and every IKE SA's local endpoint is that address (the
#      datagrams left from it: the peer accepted them);
#   2. n1's peer n4 is down with "no local address to reach 10.77.1.4 (no route to it)", and no
#      SA is attempted; routes added in n1 and n4 bring the pair up within seconds, without a
#      restart or reload; n1's other pairs keep their SPIs;
#   3. the route to n4 removed in n1: the pair goes down with that reason; re-added: it comes back
#      with new SPIs; n1's other pairs keep theirs;
#   4. `ip addr add 10.77.1.1/24` in n1: its route to n4 now prefers 10.77.1.1, and the status
#      `local_address` of n4 on n1 follows; n1-n2 and n1-n3 keep their SPIs;
#   5. several addresses (docs/config.md, "Several addresses"): n1's n2 becomes
#      ["fd77::2", "10.77.0.99", "10.77.0.2"] (n2 passive towards n1, so n1 initiates): the IPv6
#      address has no route and is skipped at once, 10.77.0.99 gets no answer and n1 falls back
#      to 10.77.0.2, which status shows as the address in use (JSON `address`, `addresses`, and
#      the ADDRESS column); n1-n3 keeps its SPIs.
# Needs root (namespaces). Cleans up namespaces, processes and files whatever happens.
set -eu
MESH_TEST=default_listen
MESH_NO_LISTEN=1
# shellcheck source=tests/integration/lib/mesh.sh
. "$(dirname "$0")/lib/mesh.sh"
mesh_setup

for i in 1 2 3 4; do mesh_node "n$i" "$i"; done
ns4="${mesh_tag}n4"
ip -n "$ns4" addr flush dev "${mesh_tag}v4"
ip -n "$ns4" addr add 10.77.1.4/24 dev "${mesh_tag}v4"
mesh_config n1 n2 n3
mesh_config n2 n1 n3
mesh_config n3 n1 n2
mesh_config n4 n1
cat >"$mesh_dir/n1/peers.d/n4.conf" <<EOF
[peer.n4]
address = "10.77.1.4"
id = "n4.mesh.test"
EOF
for n in n1 n2 n3 n4; do
    grep -q '^listen' "$mesh_dir/$n/ikemesh.conf" && fail "$n's configuration has a listen key"
    "$ikemeshd" --check --config "$mesh_dir/$n" >/dev/null || fail "--check rejects $n"
done

# status_field NODE PEER FIELD: one field of one peer of NODE's `status --json`
status_field() {
    ctl "$1" status --json 2>/dev/null | "$py" -c '
import json, sys
p = [p for p in json.load(sys.stdin)["peers"] if p["name"] == sys.argv[1]][0]
print(p[sys.argv[2]])' "$2" "$3" || true
}

# 1. The mesh from the wildcard sockets.
for n in n1 n2 n3 n4; do mesh_start "$n"; done
t0=$(now_ms)
wait_for 30 "n1-n2-n3 established" mesh_check n1 n2 n3
note "3 pairs up from wildcard sockets after $(($(now_ms) - t0)) ms"
for n in n1 n2 n3; do
    grep -q 'listening on 0.0.0.0:500' "$mesh_dir/$n.log" || fail "$n is not on the wildcard socket"
    ctl "$n" status --json | "$py" -c '
import json, sys
me, peers = sys.argv[1], sys.argv[2:]
for p in json.load(sys.stdin)["peers"]:
    if p["name"] not in peers:
        continue
    assert p["local_address"] == me, p
    for sa in p["ike_sas"]:
        assert sa["local"] == me + ":500", sa
        # Sent from another source than the one hashed in NAT_DETECTION_SOURCE_IP, the peer
        # would see a NAT: the pktinfo source of the wildcard socket is the chosen address.
        assert not sa["nat_detected"], sa
' "$(mesh_addr "$n")" n1 n2 n3 || fail "$n: local addresses: $(ctl "$n" status --json)"
done
ctl n1 status >"$mesh_dir/status.txt" || [ $? -eq 4 ]
head -n 1 "$mesh_dir/status.txt" | grep -q '^PEER  *ADDRESS  *LOCAL  *STATE ' || fail "status header: $(head -n 1 "$mesh_dir/status.txt")"
grep -qE '^n2  +10\.77\.0\.2  +10\.77\.0\.1  +established ' "$mesh_dir/status.txt" || fail "status row of n2: $(cat "$mesh_dir/status.txt")"
note "every peer's local address is the node's own, in JSON and in the table"

# 2. No route to n4 (nor from n4 to n1): down with the reason, no attempt.
reason="no local address to reach 10.77.1.4 (no route to it)"
[ "$(status_field n1 n4 state)" = down ] || fail "n1's n4 is $(status_field n1 n4 state)"
[ "$(status_field n1 n4 last_error)" = "$reason" ] || fail "n1's n4 reason: $(status_field n1 n4 last_error)"
[ "$(status_field n1 n4 local_address)" = "" ] || fail "n1's n4 has a local address"
grep -qE '^n4  +10\.77\.1\.4  +-  +down .*no route to it' "$mesh_dir/status.txt" || fail "status row of n4: $(cat "$mesh_dir/status.txt")"
before=$(mesh_check --print n1 n2 n3) || fail "n1-n2-n3: $(cat "$mesh_dir/mesh_check.last")"
ip -n "${mesh_tag}n1" route add 10.77.1.0/24 dev "${mesh_tag}v1"
ip -n "$ns4" route add 10.77.0.0/24 dev "${mesh_tag}v4"
t0=$(now_ms)
wait_for 15 "n1-n4 up once routes exist" mesh_check n1 n4
note "n1-n4 up $(($(now_ms) - t0)) ms after the routes were added"
[ "$(status_field n1 n4 local_address)" = 10.77.0.1 ] || fail "n1's n4 local address: $(status_field n1 n4 local_address)"
[ "$(mesh_check --print n1 n2 n3)" = "$before" ] || fail "n1-n2-n3 changed SPIs when n4 came up"

# 3. The route goes and comes back.
n14=$(mesh_check --print n1 n4)
ip -n "${mesh_tag}n1" route del 10.77.1.0/24 dev "${mesh_tag}v1"
n4_gone() { [ "$(status_field n1 n4 state)" = down ] && [ "$(status_field n1 n4 last_error)" = "$reason" ]; }
wait_for 5 "n1's n4 down with '$reason'" n4_gone
ip -n "${mesh_tag}n1" route add 10.77.1.0/24 dev "${mesh_tag}v1"
wait_for 15 "n1-n4 back once the route is back" mesh_check n1 n4
[ "$(mesh_check --print n1 n4)" != "$n14" ] || fail "n1-n4 kept its SPIs across the route's absence"
[ "$(mesh_check --print n1 n2 n3)" = "$before" ] || fail "n1-n2-n3 changed SPIs with n1's route to n4"
note "route to n4 removed and re-added: n1-n4 down with the reason, then up with new SPIs; others untouched"

# 4. An address of n1 in n4's subnet: the route to n4 now prefers it.
ip -n "${mesh_tag}n1" route del 10.77.1.0/24 dev "${mesh_tag}v1"
ip -n "${mesh_tag}n1" addr add 10.77.1.1/24 dev "${mesh_tag}v1"
ip -n "${mesh_tag}n1" route get 10.77.1.4 | grep -q 'src 10.77.1.1' || fail "ip route get: $(ip -n "${mesh_tag}n1" route get 10.77.1.4)"
moved() { [ "$(status_field n1 n4 local_address)" = 10.77.1.1 ]; }
wait_for 5 "n1's local address towards n4 follows to 10.77.1.1" moved
sleep 1
[ "$(mesh_check --print n1 n2 n3)" = "$before" ] || fail "n1-n2-n3 changed SPIs with n1's new address"
[ "$(status_field n1 n2 local_address)" = 10.77.0.1 ] || fail "n1's n2 local address moved"
note "ip addr add in n1: its local address towards n4 moved to 10.77.1.1; n1-n2 and n1-n3 untouched"

# 5. Several addresses, tried in order.
n13=$(mesh_check --print n1 n3)
mesh_peer_file n2 n1 'start = "passive"'
ctl n2 reload >/dev/null || fail "reload n2"
wait_for 15 "n1-n2 back after n2's reload" mesh_check n1 n2
cat >"$mesh_dir/n1/peers.d/n2.conf" <<EOF
[peer.n2]
address = ["fd77::2", "10.77.0.99", "10.77.0.2"]
id = "n2.mesh.test"
EOF
"$ikemeshd" --check --config "$mesh_dir/n1" >/dev/null || fail "--check rejects the address list"
t0=$(now_ms)
ctl n1 reload >/dev/null || fail "reload n1"
wait_for 20 "n1-n2 up on its third address" mesh_check n1 n2
note "n1-n2 up on 10.77.0.2 $(($(now_ms) - t0)) ms after the reload (10.77.0.99 unanswered first)"
[ "$(status_field n1 n2 address)" = 10.77.0.2 ] || fail "n1's n2 address in use: $(status_field n1 n2 address)"
[ "$(status_field n1 n2 addresses)" = "['fd77::2', '10.77.0.99', '10.77.0.2']" ] ||
    fail "n1's n2 addresses: $(status_field n1 n2 addresses)"
grep -q 'no response to IKE_SA_INIT .* at 10.77.0.99; trying 10.77.0.2' "$mesh_dir/n1.log" ||
    fail "n1's log does not say it fell back: $(grep 'peer n2' "$mesh_dir/n1.log" | tail -5)"
ctl n1 status >"$mesh_dir/status.txt" || [ $? -eq 4 ]
grep -qE '^n2  +10\.77\.0\.2  +10\.77\.0\.1  +established ' "$mesh_dir/status.txt" || fail "status row of n2: $(cat "$mesh_dir/status.txt")"
[ "$(mesh_check --print n1 n3)" = "$n13" ] || fail "n1-n3 changed SPIs with n1's reload of n2"
note "n1's n2 at [fd77::2, 10.77.0.99, 10.77.0.2]: no route skipped, no answer fell back, 10.77.0.2 in use; n1-n3 untouched"
note "PASS"
