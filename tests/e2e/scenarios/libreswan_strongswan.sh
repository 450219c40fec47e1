# e2e: Libreswan's pluto and strongSwan's charon in transport mode, PSK: ESP both ways, rekey, deletes
# e2e-timeout: 600
# e2e-suite: harness
#
#   +--------------+         +-----------------+         +--------------+
#   | a (pluto)    |         | sw              |         | b (charon)   |
#   | eth0         |--veth---| a   [br0]   b   |--veth---| eth0         |
#   | 10.0.0.1/24  |         |  tcpdump on br0 |         | 10.0.0.2/24  |
#   +--------------+         +-----------------+         +--------------+
#
# The second reference peer (tests/interop/libreswan.sh; the package is unpacked on the host by
# tests/e2e/run before the guest boots, the guest has no network): pluto initiates, UDP and TCP
# pass as ESP both ways, pluto rekeys the CHILD SA, a delete by either side removes the kernel
# state on both.

requires esp
requires cmd:swanctl
requires cmd:certutil
# shellcheck source=tests/interop/libreswan.sh
. "$IKEMESH_SOURCE/tests/interop/libreswan.sh"
# shellcheck source=tests/interop/strongswan.sh
. "$IKEMESH_SOURCE/tests/interop/strongswan.sh"
[ -f "$LS_ROOT/.unpacked" ] || _fail "Libreswan is not unpacked in $LS_ROOT (tests/e2e/run does it)"

switch sw
host a
host b
link a sw 10.0.0.1/24
link b sw 10.0.0.2/24

PSK="e2e-libreswan-psk-0123456789"
cat >"$E2E_LOG/pluto-a.conf" <<CONF
conn peer
    left=$(ip4 a)
    right=$(ip4 b)
    leftid=@a.e2e.test
    rightid=@b.e2e.test
    authby=secret
    ikev2=insist
    type=transport
    ike=aes_gcm128-sha2_256-dh31
    esp=aes_gcm128
    pfs=no
    auto=add
CONF
echo "@a.e2e.test @b.e2e.test : PSK \"$PSK\"" >"$E2E_LOG/pluto-a.secrets"
cat >"$E2E_LOG/charon-b.conf" <<CONF
connections {
    peer {
        local_addrs = $(ip4 b)
        remote_addrs = $(ip4 a)
        proposals = aes128gcm16-prfsha256-x25519
        local {
            auth = psk
            id = b.e2e.test
        }
        remote {
            auth = psk
            id = a.e2e.test
        }
        children {
            peer {
                mode = transport
                esp_proposals = aes128gcm16
            }
        }
    }
}
secrets {
    ike-ab {
        id-a = a.e2e.test
        id-b = b.e2e.test
        secret = "$PSK"
    }
}
CONF
A=$E2E_LOG/pluto-a
B=$E2E_LOG/charon-b

at_exit ls_stop "$A"
at_exit swan_stop "$B"
on - ls_start "$A" "$(ns_of a)"
on - ls_load "$A" "$A.conf" "$A.secrets"
on - swan_start "$B" "$(ns_of b)"
expect - "loaded connection 'peer'" swan_load "$B" "$B.conf"

note "pluto initiates: IKE SA and CHILD SA"
daemon sw tcpdump tcpdump -Z root -U -n -i br0 -c 1000 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"
expect - "established Child SA" ls_initiate "$A" peer
expect - "INSTALLED, TRANSPORT" swan_list_sas "$B"
daemon b echo-b e2e-probe serve both 5001 --timeout 120
daemon a echo-a e2e-probe serve both 5002 --timeout 120
expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 b)" 5001 --count 5 --timeout 30
expect b "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 a)" 5002 --count 5 --timeout 30
at_least "ESP packets counted by a's SAs" "$(esp_packets a)" 20
at_least "ESP packets counted by b's SAs" "$(esp_packets b)" 20

note "pluto rekeys the CHILD SA"
spis_before=$(ip -n "$(ns_of b)" xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort | tr '\n' ' ')
on - ls_rekey "$A" peer ipsec
eventually 30 b "^2$" sh -c "ip xfrm state | grep -c 'proto esp'"
spis_after=$(ip -n "$(ns_of b)" xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort | tr '\n' ' ')
note "SPIs before: $spis_before, after: $spis_after"
[ "$spis_before" != "$spis_after" ] || _fail "the rekey left the same SPIs"
expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 b)" 5001 --count 5 --timeout 30

note "charon deletes the IKE SA: its SAs go on both sides; pluto revives the connection it was"
note "told to initiate (Libreswan's policy), so a new pair comes up"
expect - "terminate completed" swan_terminate "$B" --ike peer
for h in a b; do
    for spi in $spis_after; do
        [ "$spi" = spi ] && continue
        eventually 30 "$h" "^0$" sh -c "ip xfrm state | grep -c 'spi $spi' || true"
    done
done
eventually 60 b "^2$" sh -c "ip xfrm state | grep -c 'proto esp' || true"

note "pluto deletes: the kernel state goes on both sides"
on - ls_terminate "$A" peer
eventually 30 a "^0$" sh -c "ip xfrm state | grep -c 'proto esp' || true"
eventually 30 b "^0$" sh -c "ip xfrm state | grep -c 'proto esp' || true"
expect_not - "ESTABLISHED" swan_list_sas "$B"

stop echo-a
stop echo-b
sleep 0.5
stop tcpdump
on - sh -c "tcpdump -n -r '$E2E_LOG/wire.pcap' >'$E2E_LOG/wire.txt' 2>/dev/null"
expect - "ESP\\(spi=0x" cat "$E2E_LOG/wire.txt"
expect_not - "\\.500[12][: ]" cat "$E2E_LOG/wire.txt"
on - ls_stop "$A"
