# e2e: two ikemeshd with kernel = "pfkey" negotiate, install ESP through PF_KEY, carry traffic, and remove only their own state on SIGTERM
# e2e-timeout: 600
# e2e-cost: 44
#
#   +----------------+         +-----------------+         +----------------+
#   | a  ikemeshd    |         | sw              |         | b  ikemeshd    |
#   | eth0           |--veth---| a   [br0]   b   |--veth---| eth0           |
#   | 10.0.0.1/24    |         |  tcpdump on br0 |         | 10.0.0.2/24    |
#   +----------------+         +-----------------+         +----------------+
#
# Both daemons run the PF_KEY backend (kernel/pfkey_kernel) on the guest kernel's af_key, with
# the pfkey defaults (ESP aes128-sha384, replay window 32). They bring up one IKE SA and one
# CHILD SA; the kernel holds an SA pair and the out/in policies from PF_KEY (reqid band
# 0x2000+, priority band 0x494b0000+), IKE itself passes through the per-socket bypass
# (IP_IPSEC_POLICY), UDP and TCP between the hosts cross as ESP only, the SA counters seen by
# `ikemesh-kernel-tool --kernel pfkey query` grow. On SIGTERM each daemon removes exactly its own
# SAs and policies: a hand-made SA in the same namespace survives.

requires esp
requires cmd:tcpdump

IKEMESHD=$IKEMESH_BUILD/daemon/ikemeshd
IKECTL=$IKEMESH_BUILD/daemon/ikectl
TOOL=$IKEMESH_BUILD/kernel/tools/ikemesh-kernel-tool
requires "cmd:$IKEMESHD"
requires "cmd:$TOOL"
MARK=ikemesh-pfkey-daemon-plaintext

switch sw
host a
host b
link a sw 10.0.0.1/24
link b sw 10.0.0.2/24
expect a "1 received" ping -c 1 -W 2 "$(ip4 b)"

CONF=$E2E_LOG/conf
# Control sockets live on tmpfs: the out dir is 9p, which cannot hold a unix socket.
RUN=$(mktemp -d /tmp/ikemesh-pfkey-XXXXXX)
at_exit rm -rf "$RUN"
PSK="0s$(head -c 32 /dev/urandom | base64)"

# node NAME ADDRESS PEER PEER_ADDRESS
node() {
    mkdir -p "$CONF/$1/peers.d" "$RUN/$1"
    cat >"$CONF/$1/ikemesh.conf" <<CONF
[daemon]
control_socket = "$RUN/$1/ikemesh.sock"
kernel = "pfkey"
listen = ["$2"]
log_level = "debug"

[local]
id = "$1.mesh.test"

[defaults]
ike = ["aes128gcm16-prfsha256-x25519"]
start = "always"
psk = "$PSK"
CONF
    cat >"$CONF/$1/peers.d/$3.conf" <<CONF
[peer.$3]
address = "$4"
id = "$3.mesh.test"
CONF
    chmod 0600 "$CONF/$1/ikemesh.conf" "$CONF/$1/peers.d/$3.conf"
}
on - node a "$(ip4 a)" b "$(ip4 b)"
on - node b "$(ip4 b)" a "$(ip4 a)"
expect - "" "$IKEMESHD" --check --config "$CONF/a"

# What `ikectl status --json` says of the one peer: "SPI_IN SPI_OUT" once established.
child_spis() {
    "$IKECTL" --socket "$RUN/$1/ikemesh.sock" status --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["peers"][0]
if p["state"] == "established" and len(p["ike_sas"]) == 1 and len(p["child_sas"]) == 1:
    c = p["child_sas"][0]
    print("up", c["spi_in"], c["spi_out"])
else:
    print("not-ready", p["state"])
' 2>/dev/null || echo no-answer
}

# A hand-made SA of another process, which SIGTERM must leave alone.
on a ip xfrm state add src 10.0.0.1 dst 192.0.2.9 proto esp spi 0x00000777 reqid 99 \
    mode transport enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f auth-trunc 'hmac(sha1)' \
    0x0102030405060708090a0b0c0d0e0f1011121314 96

note "both daemons on PF_KEY"
daemon a ikemeshd-a "$IKEMESHD" --config "$CONF/a"
daemon b ikemeshd-b "$IKEMESHD" --config "$CONF/b"
eventually 60 - "^up " child_spis a
eventually 30 - "^up " child_spis b
read -r _ SPI_A_IN SPI_A_OUT <<<"$(child_spis a)"
read -r _ SPI_B_IN SPI_B_OUT <<<"$(child_spis b)"
[ "$SPI_A_IN" = "$SPI_B_OUT" ] && [ "$SPI_A_OUT" = "$SPI_B_IN" ] ||
    _fail "CHILD SPIs do not pair: a in/out $SPI_A_IN/$SPI_A_OUT, b in/out $SPI_B_IN/$SPI_B_OUT"
echo "  ok CHILD SA a->b $SPI_A_OUT, b->a $SPI_A_IN"

# The kernel's view through the PF_KEY backend: the SA pair and both policies, ours by band.
expect a "sa 10.0.0.1 -> 10.0.0.2 spi $SPI_A_OUT" "$TOOL" --kernel pfkey list
expect a "sa 10.0.0.2 -> 10.0.0.1 spi $SPI_A_IN" "$TOOL" --kernel pfkey list
expect a "policy out 10.0.0.1/32 -> 10.0.0.2/32 ipsec priority 2000" "$TOOL" --kernel pfkey list
expect a "policy in 10.0.0.2/32 -> 10.0.0.1/32 ipsec priority 2000" "$TOOL" --kernel pfkey list
expect a "auth-trunc hmac\\(sha384\\) 0x[0-9a-f]+ 192" ip xfrm state list spi "0x$SPI_A_OUT"

note "traffic crosses as ESP only"
PCAP=$E2E_LOG/daemons.pcap
daemon sw tcpdump tcpdump -Z root -U -n -i br0 -c 400 -w "$PCAP" ip
daemon b echo e2e-probe serve both 5001 --timeout 30
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"
expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$(ip4 b)" 5001 --count 5 --timeout 20 \
    --message "$MARK"
packets() { in_ns "$1" "$TOOL" --kernel pfkey query "$2" "$3" | awk '{ print $4 }'; }
at_least "a's outbound SA $SPI_A_OUT packets" "$(packets a "$(ip4 b)" "$SPI_A_OUT")" 10
at_least "a's inbound SA $SPI_A_IN packets" "$(packets a "$(ip4 a)" "$SPI_A_IN")" 10
stop echo
sleep 0.5
stop tcpdump
on - sh -c "tcpdump -n -r '$PCAP' >'$PCAP.txt' 2>/dev/null"
expect - "ESP\\(spi=0x$SPI_A_OUT," cat "$PCAP.txt"
expect - "ESP\\(spi=0x$SPI_A_IN," cat "$PCAP.txt"
expect_not - "10.0.0.1.5001|10.0.0.2.5001" cat "$PCAP.txt"
fails - grep -qa "$MARK" "$PCAP"

note "SIGTERM: each daemon removes its own SAs and policies, nothing else"
stop ikemeshd-a
stop ikemeshd-b
expect a "^$" "$TOOL" --kernel pfkey list
expect b "^$" "$TOOL" --kernel pfkey list
expect a "spi 0x00000777" ip xfrm state
expect_not a "spi 0x$SPI_A_OUT|spi 0x$SPI_A_IN" ip xfrm state
on a ip xfrm state delete src 10.0.0.1 dst 192.0.2.9 proto esp spi 0x00000777
