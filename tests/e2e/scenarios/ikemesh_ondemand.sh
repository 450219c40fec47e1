# e2e: ikemeshd start = "on-demand" over IPv6: trap policies only, the first packet brings IKE and CHILD SA up, no other loss
# e2e-timeout: 300
# e2e-cost: 21
#
#   +------------------+                      +------------------+
#   | a  ikemeshd      |                      | b  ikemeshd      |
#   | on-demand        |------ veth pair -----| on-demand        |
#   | fd00:3::1/64     |                      | fd00:3::2/64     |
#   +------------------+                      +------------------+
#
# Both nodes have `start = "on-demand"`: after start they hold the out/in policies (whose
# template makes the kernel raise ACQUIRE) and no SA at all, and ikectl shows the peer down
# without failing the health check. The first datagram from a triggers ACQUIRE; IKE_SA_INIT,
# IKE_AUTH and the CHILD SA follow within seconds (measured and reported); only that first
# datagram may be lost: a numbered stream sent right after loses nothing. All of it over IPv6
# only, so neighbour discovery must pass the host-to-host policies (the daemon bypasses it).

requires esp

host a
host b
wire a b fd00:3::1/64 fd00:3::2/64
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

IKM_FAMILY=6
for n in a b; do
    ikm_node "$n" 'start = "on-demand"'
done
ikm_peer a b
ikm_peer b a
ikm_start a
ikm_start b
daemon b echo e2e-probe serve udp 5001 --timeout 120

note "idle: trap policies, no SA"
expect a "dir out priority 2000.*" ip xfrm policy
expect a "tmpl src fd00:3::1 dst fd00:3::2" ip xfrm policy
expect b "tmpl src fd00:3::2 dst fd00:3::1" ip xfrm policy
sleep 2
expect - "^kernel 0\$" ikm_sas a kernel
expect - "^kernel 0\$" ikm_sas b kernel
expect - " down " ikm_ctl a status
on - ikm_ctl a status # exit 0: an on-demand peer that is down is not a failure

note "one datagram triggers the negotiation"
t0=$(date +%s%N)
on a e2e-probe stream "$(ip6 b)" 5001 --count 1 --wait 0.5
ikm_wait_pairs 20 a 1
t1=$(date +%s%N)
ikm_wait_pairs 10 b 1
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
note "IKE and CHILD SA up ${secs}s after the first datagram (guest time, incl. ikectl polling)"
expect - "traffic to .* triggers negotiation" cat "$E2E_LOG/ikemeshd-a.log"
read -r _ _ _ _ IN OUT <<<"$(ikm_sas a spis b)"

note "everything after the first datagram arrives"
expect a "stream sent 100 received 100 lost 0" e2e-probe stream "$(ip6 b)" 5001 --count 100 \
    --interval 0.01
at_least "packets of a's outbound SA" "$(esp_counter a "0x$OUT" packets)" 100
at_least "packets of a's inbound SA" "$(esp_counter a "0x$IN" packets)" 100
