# e2e: two strongSwan charons, transport mode on demand (trap), PSK: ESP on the wire, rekey, delete
# e2e-timeout: 600
# e2e-suite: harness
#
#   +--------------+         +-----------------+         +--------------+
#   | a (charon)   |         | sw              |         | b (charon)   |
#   | eth0         |--veth---| a   [br0]   b   |--veth---| eth0         |
#   | 10.0.0.1/24  |         |  tcpdump on br0 |         | 10.0.0.2/24  |
#   +--------------+         +-----------------+         +--------------+
#
# The reference peer in the guest, through tests/interop/strongswan.sh: trap policies, the first
# packet triggers IKE and the CHILD SA, UDP and TCP pass as ESP, a CHILD rekey started by b keeps
# traffic flowing with one SA pair, a delete started by a removes the kernel state on both.

requires esp
requires cmd:swanctl
requires cmd:tcpdump
# shellcheck source=tests/interop/strongswan.sh
. "$IKEMESH_SOURCE/tests/interop/strongswan.sh"

switch sw
host a
host b
link a sw 10.0.0.1/24
link b sw 10.0.0.2/24

# peer_conf LOCAL REMOTE LOCAL_ID REMOTE_ID
peer_conf() {
    cat <<EOF
connections {
    peer {
        local_addrs = $1
        remote_addrs = $2
        proposals = aes128gcm16-prfsha256-x25519
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
                esp_proposals = aes128gcm16
                start_action = trap
            }
        }
    }
}
secrets {
    ike-ab {
        id-a = a.e2e.test
        id-b = b.e2e.test
        secret = "e2e-strongswan-psk-0123456789"
    }
}
EOF
}
A=$E2E_LOG/charon-a
B=$E2E_LOG/charon-b
mkdir -p "$A" "$B"
peer_conf "$(ip4 a)" "$(ip4 b)" a.e2e.test b.e2e.test >"$A.conf"
peer_conf "$(ip4 b)" "$(ip4 a)" b.e2e.test a.e2e.test >"$B.conf"

at_exit swan_stop "$A"
at_exit swan_stop "$B"
on - swan_start "$A" "$(ns_of a)"
on - swan_start "$B" "$(ns_of b)"
expect - "loaded connection 'peer'" swan_load "$A" "$A.conf"
expect - "loaded connection 'peer'" swan_load "$B" "$B.conf"
expect a "dir out" ip xfrm policy
expect_not a "proto esp" ip xfrm state

note "the first packet triggers IKE_SA_INIT, IKE_AUTH and the CHILD SA"
daemon sw tcpdump tcpdump -Z root -U -n -i br0 -c 1000 -w "$E2E_LOG/wire.pcap" ip
daemon b echo e2e-probe serve both 5001 --timeout 120
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"
expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 b)" 5001 --count 5 --timeout 60
expect - "INSTALLED, TRANSPORT" swan_list_sas "$A"
expect - "INSTALLED, TRANSPORT" swan_list_sas "$B"
at_least "ESP packets counted by a's SAs" "$(esp_packets a)" 10
at_least "ESP packets counted by b's SAs" "$(esp_packets b)" 10

note "CHILD rekey started by b"
spis_before=$(ip -n "$(ns_of a)" xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort | tr '\n' ' ')
expect - "rekey completed" swan_rekey "$B" --child peer
eventually 30 a "^2$" sh -c "ip xfrm state | grep -c 'proto esp'"
spis_after=$(ip -n "$(ns_of a)" xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort | tr '\n' ' ')
note "SPIs before: $spis_before, after: $spis_after"
[ "$spis_before" != "$spis_after" ] || _fail "the rekey left the same SPIs"
expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 b)" 5001 --count 5 --timeout 30
expect b "^2$" sh -c "ip xfrm state | grep -c 'proto esp'"

note "delete started by a removes the SAs on both sides"
expect - "terminate completed" swan_terminate "$A" --ike peer
eventually 30 a "^0$" sh -c "ip xfrm state | grep -c 'proto esp' || true"
eventually 30 b "^0$" sh -c "ip xfrm state | grep -c 'proto esp' || true"
expect_not - "ESTABLISHED" swan_list_sas "$B"

stop echo
sleep 0.5
stop tcpdump
on - sh -c "tcpdump -n -r '$E2E_LOG/wire.pcap' >'$E2E_LOG/wire.txt' 2>/dev/null"
expect - "ESP\\(spi=0x" cat "$E2E_LOG/wire.txt"
expect - "\\.500: isakmp" cat "$E2E_LOG/wire.txt"
# Between the two hosts only IKE (UDP 500/4500) and ESP: no plaintext probe traffic.
expect_not - "\\.5001[: ]" cat "$E2E_LOG/wire.txt"
