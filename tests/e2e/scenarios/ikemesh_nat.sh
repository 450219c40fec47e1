# e2e: five ikemeshd nodes across NATs: two behind one masquerading router, two behind 1:1 NAT (cloud elastic addresses), one public; UDP-encapsulated ESP both ways; a conntrack flush mid-stream heals
# e2e-timeout: 420
# e2e-cost: 93
#
#          +-----------------------------------------------------------------+
#          | pub                           [br0]            tcpdump on br0    |
#          |    p                      m                       o              |
#          +----|----------------------|-----------------------|--------------+
#               |                      | 203.0.113.1            | 203.0.113.20, .21
#   +-----------+---+      +-----------+----------+  +----------+-----------------------+
#   | p ikemeshd     |      | m  masquerade random |  | o  1:1 NAT: .20 <-> 10.2.0.2     |
#   | 203.0.113.10   |      |    (nftables)        |  |             .21 <-> 10.3.0.2     |
#   | public          |      +-----------+----------+  +------+----------------+---------+
#   +----------------+                  | lan 10.1.0.0/24    |                |
#                          +------------+-----------+  +-----+-------+  +-----+-------+
#                          | m1 10.1.0.2  m2 10.1.0.3 |  | e1 10.2.0.2 |  | e2 10.3.0.2 |
#                          +--------------------------+  +-------------+  +-------------+
#
# The clouds of the seeds: p is a public node; e1 and e2 sit behind 1:1 NATs and do not own the
# public addresses their peers use for them (identities are FQDNs); m1 and m2 share one public
# address behind a masquerading router that picks random ports, so the others tell them apart by
# their `traffic` ports (5001 for m1, 5002 for m2) and wait for them to initiate. Every node has
# every other as a peer (10 pairs). Checked: every pair up with one IKE and one CHILD SA, NAT
# detected on the right side, UDP and TCP both ways across every kind of NAT (masquerade, 1:1,
# both), only UDP-encapsulated ESP and keepalives on the public wire and never the payload, no
# checksum errors; then the masquerading router's mappings are flushed (conntrack -F) while m1
# streams to p and to e1: both pairs heal by themselves (p follows the new mapping at once; e1,
# behind a NAT itself, after a path check) with the same SAs, and m2, idle during the flush, is
# reachable again once it has spoken.

requires esp
requires cmd:tcpdump
requires cmd:nft
requires cmd:conntrack

switch pub
switch lan
host p
host m
host o
host m1
host m2
host e1
host e2
link p pub 203.0.113.10/24
link m pub 203.0.113.1/24
link o pub 203.0.113.20/24 203.0.113.21/24
link m lan 10.1.0.1/24
link m1 lan 10.1.0.2/24
link m2 lan 10.1.0.3/24
wire o e1 10.2.0.1/24 10.2.0.2/24
wire o e2 10.3.0.1/24 10.3.0.2/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

PUB_M=203.0.113.1 PUB_E1=203.0.113.20 PUB_E2=203.0.113.21 P=203.0.113.10
MARK=ikemesh-nat-plaintext-marker
T1='traffic = ["tcp/5001", "udp/5001"]'
T2='traffic = ["tcp/5002", "udp/5002"]'

note "routers: m masquerades the lan with random ports, o maps e1 and e2 one to one"
for r in m o; do on "$r" sysctl -qw net.ipv4.ip_forward=1; done
on m1 ip route add default via 10.1.0.1
on m2 ip route add default via 10.1.0.1
on e1 ip route add default via 10.2.0.1
on e2 ip route add default via 10.3.0.1
cat >"$E2E_LOG/m.nft" <<EOF
table ip nat {
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth0" ip saddr 10.1.0.0/24 masquerade random
    }
}
EOF
cat >"$E2E_LOG/o.nft" <<EOF
table ip nat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr $PUB_E1 dnat to 10.2.0.2
        ip daddr $PUB_E2 dnat to 10.3.0.2
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 10.2.0.2 snat to $PUB_E1
        ip saddr 10.3.0.2 snat to $PUB_E2
    }
}
EOF
on m nft -f "$E2E_LOG/m.nft"
on o nft -f "$E2E_LOG/o.nft"

# csum_errors NODE: UDP and TCP checksum errors NODE's kernel counted (/proc/net/snmp).
csum_errors() {
    in_ns "$1" awk '$1 == "Udp:" || $1 == "Tcp:" {
            if (!($1 in col)) { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") col[$1] = i }
            else n += $col[$1] }
        END { print n + 0 }' /proc/net/snmp
}
# csum_errors_all: the same, summed over the five ikemeshd nodes.
csum_errors_all() {
    local n total=0
    for n in p m1 m2 e1 e2; do total=$((total + $(csum_errors "$n"))); done
    echo "$total"
}

daemon pub tcpdump tcpdump -Z root -U -n -i br0 -c 20000 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"

note "configuration: peers by public address; m1 and m2 share one, told apart by ports"
for n in p m1 m2 e1 e2; do ikm_node "$n"; done
# m1 and m2: their peers outside the lan by public address, each other directly.
for pair in m1:"$T1" m2:"$T2"; do
    n=${pair%%:*} t=${pair#*:}
    ikm_peer "$n" p "address = \"$P\"" "$t"
    ikm_peer "$n" e1 "address = \"$PUB_E1\"" "$t"
    ikm_peer "$n" e2 "address = \"$PUB_E2\"" "$t"
done
ikm_peer m1 m2
ikm_peer m2 m1
# p, e1, e2: m1 and m2 at the masquerading router's address, passive (nothing reaches them
# from outside until they have spoken), the others at their public addresses.
for n in p e1 e2; do
    ikm_peer "$n" m1 "address = \"$PUB_M\"" 'start = "passive"' "$T1"
    ikm_peer "$n" m2 "address = \"$PUB_M\"" 'start = "passive"' "$T2"
done
ikm_peer p e1 "address = \"$PUB_E1\""
ikm_peer p e2 "address = \"$PUB_E2\""
ikm_peer e1 p "address = \"$P\""
ikm_peer e1 e2 "address = \"$PUB_E2\""
ikm_peer e2 p "address = \"$P\""
ikm_peer e2 e1 "address = \"$PUB_E1\""

for n in p m1 m2 e1 e2; do ikm_start "$n"; done
for n in p m1 m2 e1 e2; do ikm_wait_pairs 90 "$n" 4; done

note "NAT detected where it is: m1 and e1 behind one, p not; e1 sees e2 behind one too"
expect - "^nat $P:4500 $PUB_M:[0-9]+ - peer\$" ikm_sas p nat m1
expect - "^nat $P:4500 $PUB_M:[0-9]+ - peer\$" ikm_sas p nat m2
expect - "^nat $P:4500 $PUB_E1:4500 - peer\$" ikm_sas p nat e1
expect - "^nat 10\\.1\\.0\\.2:4500 $P:4500 us -\$" ikm_sas m1 nat p
expect - "^nat 10\\.2\\.0\\.2:4500 $PUB_E2:4500 us peer\$" ikm_sas e1 nat e2
expect - "^nat 10\\.1\\.0\\.2:500 10\\.1\\.0\\.3:500 - -\$" ikm_sas m1 nat m2
expect p "proto esp .*mode transport" ip xfrm state
expect p "encap type espinudp sport 4500 dport [0-9]+" ip xfrm state

note "UDP and TCP both ways: masquerade, 1:1, both at once, and the two behind one address"
for n in p e1 e2; do
    daemon "$n" "echo1-$n" e2e-probe serve both 5001 --timeout 240
    daemon "$n" "echo2-$n" e2e-probe serve both 5002 --timeout 240
done
daemon m1 echo-m1 e2e-probe serve both 5001 --timeout 240
daemon m2 echo-m2 e2e-probe serve both 5002 --timeout 240
for n in p e1 e2; do eventually 20 - "serving both 5002" cat "$E2E_LOG/echo2-$n.log"; done
eventually 20 - "serving both 5001" cat "$E2E_LOG/echo-m1.log"
eventually 20 - "serving both 5002" cat "$E2E_LOG/echo-m2.log"
csum_before=$(csum_errors_all)
before=$(esp_packets p)
# FROM TO PORT: TO as FROM addresses it.
while read -r from to port; do
    expect "$from" "udp ok 3/3 tcp ok 3/3" e2e-probe send both "$to" "$port" --count 3 \
        --timeout 20 --message "$MARK"
done <<EOF
m1 $P 5001
p $PUB_M 5001
m2 $P 5002
p $PUB_M 5002
e1 $P 5001
p $PUB_E1 5001
e1 $PUB_E2 5001
e2 $PUB_E1 5001
m1 $PUB_E1 5001
e2 $PUB_M 5002
m1 10.1.0.3 5002
EOF
at_least "ESP packets counted by p's states" "$(esp_packets p)" $((before + 36))
csum_after=$(csum_errors_all)
[ "$csum_after" -eq "$csum_before" ] ||
    _fail "checksum errors (/proc/net/snmp InCsumErrors): $csum_before before, $csum_after after"
echo "  ok no UDP or TCP checksum errors on any node ($csum_after)"

note "the masquerading router forgets its mappings mid-stream (conntrack -F): the pairs heal"
read -r _ _ m1_at_p _ <<<"$(ikm_sas p nat m1)"
read -r _ _ m1_at_e1 _ <<<"$(ikm_sas e1 nat m1)"
spis_p=$(ikm_sas p spis m1)
spis_e1=$(ikm_sas e1 spis m1)
daemon m1 stream-p e2e-probe stream "$P" 5001 --count 200 --interval 0.05 --wait 3
daemon m1 stream-e1 e2e-probe stream "$PUB_E1" 5001 --count 200 --interval 0.05 --wait 3
sleep 3
on m conntrack -F
eventually 40 - "^stream sent 200 " cat "$E2E_LOG/stream-p.log"
eventually 40 - "^stream sent 200 " cat "$E2E_LOG/stream-e1.log"
cat "$E2E_LOG/stream-p.log" "$E2E_LOG/stream-e1.log"
for to in p e1; do
    lost=$(sed -n 's/^stream sent 200 received [0-9]* lost \([0-9]*\)$/\1/p' \
        "$E2E_LOG/stream-$to.log")
    at_least "m1's datagrams (of 200) that came back from $to across the flush" \
        $((200 - lost)) 180
done
read -r _ _ now_at_p _ <<<"$(ikm_sas p nat m1)"
read -r _ _ now_at_e1 _ <<<"$(ikm_sas e1 nat m1)"
[ "$now_at_p" != "$m1_at_p" ] || _fail "p still sees m1 at $m1_at_p: the mapping did not move"
[ "$now_at_e1" != "$m1_at_e1" ] || _fail "e1 still sees m1 at $m1_at_e1: not followed"
echo "  ok p follows m1 from $m1_at_p to $now_at_p, e1 from $m1_at_e1 to $now_at_e1"
expect - "^$spis_p\$" ikm_sas p spis m1
expect - "^$spis_e1\$" ikm_sas e1 spis m1
expect - "both sides are behind NATs: following it once it answers there" \
    cat "$E2E_LOG/ikemeshd-e1.log"
expect - "peer's NAT mapping moved from $m1_at_e1 to $now_at_e1 \\(IKE, answered there\\)" \
    cat "$E2E_LOG/ikemeshd-e1.log"
note "m2 was idle during the flush: reachable again once it has spoken (liveness, dpd_delay)"
eventually 60 p "udp ok 1/1" e2e-probe send udp "$PUB_M" 5002 --count 1 --timeout 4
for n in p m1 m2 e1 e2; do ikm_wait_pairs 40 "$n" 4; done

note "the public wire: UDP-encapsulated ESP and keepalives only, never plain ESP or the payload"
stop tcpdump
on - sh -c "tcpdump -n -r '$E2E_LOG/wire.pcap' >'$E2E_LOG/wire.txt' 2>/dev/null"
expect - "$PUB_M\\.[0-9]+ > $P\\.4500: UDP-encap: ESP\\(spi=0x" cat "$E2E_LOG/wire.txt"
expect - "$PUB_E1\\.4500 > $P\\.4500: UDP-encap: ESP\\(spi=0x" cat "$E2E_LOG/wire.txt"
expect - "$PUB_M\\.[0-9]+ > $PUB_E1\\.4500: UDP-encap: ESP\\(spi=0x" cat "$E2E_LOG/wire.txt"
expect - "$PUB_M\\.[0-9]+ > $P\\.4500: isakmp-nat-keep-alive" cat "$E2E_LOG/wire.txt"
expect_not - "^[0-9:.]+ IP [0-9.]+ > [0-9.]+: ESP" cat "$E2E_LOG/wire.txt"
expect_not - "\\.500[12][: ]" cat "$E2E_LOG/wire.txt"
fails - grep -qa "$MARK" "$E2E_LOG/wire.pcap"
