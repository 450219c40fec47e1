# e2e: ikemeshd CHILD and IKE rekeys under a continuous UDP stream lose at most a handful (10 of 400); hard expiry removes SAs
# e2e-timeout: 420
# e2e-cost: 47
#
#   +------------------+                      +------------------+
#   | a  ikemeshd      |                      | b  ikemeshd      |
#   | eth0             |------ veth pair -----| eth0             |
#   | 10.0.2.1/24      |   numbered UDP ->    | 10.0.2.2/24      |
#   |                  |   <- echoes          | echo server      |
#   +------------------+                      +------------------+
#
# A numbered UDP stream from a to b's echo server runs while a rekeys the CHILD SA and b rekeys the
# IKE SA (`ikectl rekey`): the SPIs change, at most a handful of datagrams (or their echoes) are
# lost, and afterwards each side has exactly one IKE SA and one CHILD SA, in ikectl and in the
# kernel. Then hard expiry with no rekey: both daemons are frozen (SIGSTOP, so nothing can rekey)
# while a sends past the CHILD SA's hard packet limit (`child_lifetime_packets`): the kernel
# removes a's outbound SA by itself. Thawed, the daemons learn of the expiry, replace the CHILD SA and
# traffic flows again over exactly one pair.

requires esp

host a
host b
wire a b 10.0.2.1/24 10.0.2.2/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

LIMIT=1000
for n in a b; do
    ikm_node "$n" "child_lifetime_packets = $LIMIT"
done
ikm_peer a b
ikm_peer b a
ikm_start a
ikm_start b
ikm_wait_pairs 60 a 1
ikm_wait_pairs 20 b 1
daemon b echo e2e-probe serve udp 5001 --timeout 120
expect a "udp ok 3/3" e2e-probe send udp "$(ip4 b)" 5001 --count 3 --timeout 20

# differs NODE PEER FIELD OLD: "differs ..." once field FIELD (1-based, of `ikm_sas NODE spis
# PEER`: 2 spi_i, 5 spi_in) is set and no longer OLD.
differs() {
    local now
    now=$(ikm_sas "$1" spis "$2" | awk -v f="$3" '{ print $f }')
    if [ "$now" != "$4" ] && [ "$now" != "-" ]; then echo "differs: $now"; else echo "same: $now"; fi
}

daemon a tcpdump tcpdump -Z root -U -n -i eth0 -c 3000 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"
read -r _ IKE_I _ _ CHILD_IN _ <<<"$(ikm_sas a spis b)"
note "a 400-datagram stream (10 s) while a rekeys the CHILD SA and b the IKE SA"
daemon a stream e2e-probe stream "$(ip4 b)" 5001 --count 400 --interval 0.025 --wait 3
sleep 2
on - ikm_ctl a rekey b
eventually 20 - "^differs" differs a b 5 "$CHILD_IN"
ikm_wait_pairs 20 a 1
sleep 1
on - ikm_ctl b rekey a --ike
eventually 20 - "^differs" differs a b 2 "$IKE_I"
ikm_wait_pairs 20 a 1
eventually 90 - "^stream sent" cat "$E2E_LOG/stream.log"
note "$(head -n 2 "$E2E_LOG/stream.log" | tr '\n' ' ')"
lost=$(sed -n 's/^stream sent [0-9]* received [0-9]* lost \([0-9]*\)$/\1/p' "$E2E_LOG/stream.log")
[[ "$lost" =~ ^[0-9]+$ ]] || _fail "no stream report"
# A handful: 0 in most runs; one run lost 6 in a row (150 ms) around a CHILD rekey (docs/testing.md).
[ "$lost" -le 10 ] || _fail "the stream lost $lost datagrams across the rekeys (at most 10 allowed)"
echo "  ok the stream lost $lost of 400 datagrams across two rekeys"
stop stream
stop tcpdump
ikm_wait_pairs 20 a 1
ikm_wait_pairs 20 b 1
read -r _ _ _ _ IN OUT <<<"$(ikm_sas a spis b)"
expect a "udp ok 3/3" e2e-probe send udp "$(ip4 b)" 5001 --count 3 --timeout 20

note "hard expiry without rekey: daemons frozen, $LIMIT+ packets through a's outbound SA"
signal ikemeshd-a STOP
signal ikemeshd-b STOP
expect a "stream sent 1200" e2e-probe stream "$(ip4 b)" 5002 --oneway --count 1200 --interval 0.001
# a's outbound SA reached its hard packet limit: the kernel deleted it. (b's inbound twin saw
# exactly the limit and expires only on the next packet it gets: the kernel checks on use.)
expect_not a "spi 0x$OUT " ip xfrm state
expect b "spi 0x$OUT " ip xfrm state
signal ikemeshd-a CONT
signal ikemeshd-b CONT
eventually 30 - "^differs" differs a b 6 "$OUT"
ikm_wait_pairs 40 a 1
ikm_wait_pairs 20 b 1
expect a "udp ok 3/3" e2e-probe send udp "$(ip4 b)" 5001 --count 3 --timeout 20
expect - "hard lifetime reached" cat "$E2E_LOG/ikemeshd-a.log"
