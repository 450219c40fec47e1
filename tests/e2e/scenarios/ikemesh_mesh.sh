# e2e: three ikemeshd nodes (kernel xfrm, PSK, start always): one SA pair per peer, UDP+TCP as ESP, bypass in the clear
# e2e-timeout: 420
# e2e-cost: 39
#
#                       +------------------------------+
#                       | sw          [br0]            |
#                       |   a          b          c    |  tcpdump on br0
#                       +---|----------|----------|----+
#                           |veth      |veth      |veth
#                +----------+--+ +-----+-------+ +-+-----------+
#                | a  ikemeshd | | b  ikemeshd | | c  ikemeshd |
#                | 10.0.0.1/24 | | 10.0.0.2/24 | | 10.0.0.3/24 |
#                +-------------+ +-------------+ +-------------+
#
# A full mesh of three real daemons on a kernel with ESP: every node ends with exactly one IKE
# SA and one CHILD SA per peer, the kernel's ESP states are exactly the SPIs ikectl shows, both
# ends of each pair agree on the SPIs, UDP and TCP pass between every pair and are counted by
# the kernel (ip -s xfrm state) and by ikectl, the wire carries ESP and never the payload, and
# the `bypass` classes (tcp/22, icmp) pass in the clear, while the port unreachable answering a
# datagram that came through ESP goes back through ESP, never in clear with the datagram quoted.
# Then a two-node check: stopping c leaves a and b with their pair untouched, and ping to c (IKE
# down) still passes.

requires esp
requires cmd:tcpdump

switch sw
host a
host b
host c
link a sw 10.0.0.1/24
link b sw 10.0.0.2/24
link c sw 10.0.0.3/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

MARK=ikemesh-mesh-plaintext-marker
CLEAR=ikemesh-bypass-cleartext-marker
CLOSED=ikemesh-closed-port-marker

# icmp_out_unreach NAME: ICMP destination unreachables NAME's kernel has sent (/proc/net/snmp).
icmp_out_unreach() {
    in_ns "$1" awk '/^Icmp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "OutDestUnreachs") c = i }
        else { print $c; exit } }' /proc/net/snmp
}

daemon sw tcpdump tcpdump -Z root -U -n -i br0 -c 5000 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"

note "three daemons start at once"
ikm_mesh a b c
for n in a b c; do
    ikm_start "$n"
done
for n in a b c; do
    ikm_wait_pairs 60 "$n" 2
done

note "both ends of each pair see the same SAs (IKE SPIs equal, ESP SPIs crossed)"
declare -A SPIS=()
for x in a b c; do
    while read -r y rest; do SPIS[$x:$y]=$rest; done <<<"$(ikm_sas "$x" spis)"
done
for pair in a:b a:c b:c; do
    x=${pair%:*} y=${pair#*:}
    read -r _ xi xr _ xin xout <<<"${SPIS[$x:$y]}"
    read -r _ yi yr _ yin yout <<<"${SPIS[$y:$x]}"
    [ "$xi/$xr" = "$yi/$yr" ] || _fail "$x and $y disagree on the IKE SA: $xi/$xr vs $yi/$yr"
    [ "$xin/$xout" = "$yout/$yin" ] || _fail "$x and $y disagree on the CHILD SA: $xin/$xout vs $yin/$yout"
    echo "  ok $x-$y: IKE $xi/$xr, ESP $x<-$y $xin, $x->$y $xout"
done
expect - "CHILD SAs:" ikm_ctl a list-sas
read -r _ _ _ _ AB_IN AB_OUT <<<"${SPIS[a:b]}"
expect - "$AB_IN +$AB_OUT +transport" ikm_ctl a list-sas
expect a "proto esp.*mode transport" ip xfrm state
expect a "dir out priority 2000" ip xfrm policy

note "UDP and TCP between every pair, as ESP"
for n in a b c; do
    daemon "$n" "echo-$n" e2e-probe serve both 5001 --timeout 180
done
# Listening first, so that no datagram of the marker meets a closed port (tested below).
for n in a b c; do
    eventually 20 - "serving both 5001" cat "$E2E_LOG/echo-$n.log"
done
before=$(esp_counter a "0x$AB_OUT" packets)
for pair in a:b a:c b:c c:a; do
    x=${pair%:*} y=${pair#*:}
    expect "$x" "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 "$y")" 5001 --count 5 \
        --timeout 20 --message "$MARK"
done
after=$(esp_counter a "0x$AB_OUT" packets)
at_least "packets of a's SA to b (ip -s xfrm state) before" "$before" 0
at_least "packets of a's SA to b (ip -s xfrm state) after" "$after" $((before + 10))
for x in a b c; do
    while read -r y _ pin pout; do
        at_least "ikectl status: $x's packets in from $y" "$pin" 10
        at_least "ikectl status: $x's packets out to $y" "$pout" 10
    done <<<"$(ikm_sas "$x" packets)"
done
at_least "ESP packets counted by c's states" "$(esp_packets c)" 40

note "a datagram through ESP to a closed port: the port unreachable goes back through ESP too"
# The error quotes the start of the decrypted datagram; the `icmp` bypass must not let it out
# in clear (only echo goes out in clear; errors are allowed in, from routers).
unreach_before=$(icmp_out_unreach b)
in_before=$(esp_counter a "0x$AB_IN" packets)
expect a "stream sent 3" e2e-probe stream "$(ip4 b)" 5009 --count 3 --interval 0.2 --oneway \
    --message "$CLOSED"
at_least "port unreachables b sent (/proc/net/snmp)" "$(icmp_out_unreach b)" $((unreach_before + 1))
at_least "packets in on a's SA from b (the errors, as ESP)" "$(esp_counter a "0x$AB_IN" packets)" \
    $((in_before + 1))

note "bypass: tcp/22 and icmp pass in the clear"
daemon b ssh e2e-probe serve tcp 22 --timeout 30
expect a "tcp ok 3/3" e2e-probe send tcp "$(ip4 b)" 22 --count 3 --message "$CLEAR"
expect c "3 received" ping -c 3 -i 0.2 -W 2 "$(ip4 a)"
expect a "dir out priority 1000" ip xfrm policy
expect a "proto icmp type 0 " ip xfrm policy  # echo reply: an exact type 0, not any type

note "the wire: ESP with our SPIs, bypassed traffic in clear, never the ESP payload"
stop ssh
sleep 0.5
stop tcpdump
on - sh -c "tcpdump -n -r '$E2E_LOG/wire.pcap' >'$E2E_LOG/wire.txt' 2>/dev/null"
expect - "ESP\\(spi=0x$AB_OUT," cat "$E2E_LOG/wire.txt"
expect - "10\\.0\\.0\\.3 > 10\\.0\\.0\\.2: ESP" cat "$E2E_LOG/wire.txt"
expect - "\\.500: isakmp: parent_sa ikev2_init" cat "$E2E_LOG/wire.txt"
expect - "10\\.0\\.0\\.1\\.[0-9]+ > 10\\.0\\.0\\.2\\.22: Flags \\[S\\]" cat "$E2E_LOG/wire.txt"
expect - "10\\.0\\.0\\.3 > 10\\.0\\.0\\.1: ICMP echo request" cat "$E2E_LOG/wire.txt"
expect_not - "\\.5001[: ]" cat "$E2E_LOG/wire.txt"
expect_not - "udp port 5009|\\.5009[: ]" cat "$E2E_LOG/wire.txt"
fails - grep -qa "$MARK" "$E2E_LOG/wire.pcap"
fails - grep -qa "$CLOSED" "$E2E_LOG/wire.pcap"
on - grep -qa "$CLEAR" "$E2E_LOG/wire.pcap"

note "two nodes: c stops; a and b keep their pair as it was"
read -r _ _ _ _ AB_IN AB_OUT <<<"$(ikm_sas a spis b)"
stop ikemeshd-c
eventually 30 - "^pairs ok 1$" ikm_sas a pairs 1
expect - "^ike [0-9a-f]+ [0-9a-f]+ child $AB_IN $AB_OUT\$" ikm_sas a spis b
ikm_wait_pairs 10 b 1
expect - "kernel 0\$" ikm_sas c kernel
expect a "udp ok 3/3 tcp ok 3/3" e2e-probe send both "$(ip4 b)" 5001 --count 3 --timeout 20
note "IKE down between a and c: ping still passes, in the clear (icmp bypass)"
expect a "2 received" ping -c 2 -i 0.2 -W 2 "$(ip4 c)"
