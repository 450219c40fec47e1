# e2e: SA pairs and policies installed through ikemesh's PF_KEY backend carry ESP traffic; cleanup removes only its own
# e2e-timeout: 600
# e2e-cost: 50
#
#   +-------------+         +-----------------+         +-------------+
#   | a           |         | sw              |         | b           |
#   | eth0        |--veth---| a   [br0]   b   |--veth---| eth0        |
#   | 10.0.0.1/24 |         |  tcpdump on br0 |         | 10.0.0.2/24 |
#   | fd00::1/64  |         +-----------------+         | fd00::2/64  |
#   +-------------+                                     +-------------+
#
# kernel_xfrm_backend.sh through kernel/pfkey_kernel (`ikemesh-kernel-tool --kernel pfkey`), on
# the guest kernel's af_key, over IPv6 (ikemesh_pfkey.sh covers IPv4 with two daemons; every
# PF_KEY ADD/UPDATE/REGISTER makes the kernel probe its algorithms, which costs seconds per
# process under TCG, so this scenario keeps the number of tool runs down): the inbound SA on each side by alloc-spi (SADB_GETSPI, larval SA)
# then update-sa (SADB_UPDATE), the outbound SA by add-sa (SADB_ADD), the out/in transport
# policies (SADB_X_SPDADD, ESP request at level unique with the reqid band), the ICMPv6 neighbour
# discovery bypass for IPv6. UDP and TCP pass, both SAs' counters grow (SADB_GET, current
# lifetime), the wire shows only ESP with our SPIs, and remove-owned takes away exactly what the
# backend installed (policies by index with SADB_X_SPDDELETE2): an SA and a policy made by hand
# with `ip xfrm` in the same namespace stay. Also runs the backend's namespace tests
# (unit_kernel "[pfkey-netns]"), which take their af_key branches here: AES-GCM (not offered by
# this kernel's PF_KEY) and ESN refused, ACQUIRE, soft/hard EXPIRE, deletions and flushes by others.

requires esp
requires cmd:tcpdump

TOOL=$IKEMESH_BUILD/kernel/tools/ikemesh-kernel-tool
UNIT=$IKEMESH_BUILD/tests/unit_kernel
requires "cmd:$TOOL"
MARK=ikemesh-pfkey-plaintext

switch sw
host a
host b
link a sw 10.0.0.1/24 fd00::1/64
link b sw 10.0.0.2/24 fd00::2/64
expect a "1 received" ping -c 1 -W 2 "$(ip4 b)"

# install X Y ENCR KEY_XY KEY_YX INTEG IKEY_XY IKEY_YX: an SA pair between hosts a (address X)
# and b (address Y) the way the engine does it; prints "SPI_AB SPI_BA".
install() {
    local x=$1 y=$2 encr=$3 kxy=$4 kyx=$5 integ=$6 ixy=$7 iyx=$8
    local spi_ab spi_ba
    spi_ab=$(in_ns b "$TOOL" --kernel pfkey alloc-spi "$x" "$y" 7)
    spi_ba=$(in_ns a "$TOOL" --kernel pfkey alloc-spi "$y" "$x" 7)
    in_ns b "$TOOL" --kernel pfkey update-sa "$x" "$y" "$spi_ab" 7 "$encr" "$kxy" "$integ" "$ixy" --window 32 >&2
    in_ns a "$TOOL" --kernel pfkey add-sa "$x" "$y" "$spi_ab" 7 "$encr" "$kxy" "$integ" "$ixy" --window 0 >&2
    in_ns a "$TOOL" --kernel pfkey update-sa "$y" "$x" "$spi_ba" 7 "$encr" "$kyx" "$integ" "$iyx" --window 32 >&2
    in_ns b "$TOOL" --kernel pfkey add-sa "$y" "$x" "$spi_ba" 7 "$encr" "$kyx" "$integ" "$iyx" --window 0 >&2
    in_ns a "$TOOL" --kernel pfkey add-policies "$x" "$y" 7 >&2
    in_ns b "$TOOL" --kernel pfkey add-policies "$y" "$x" 7 >&2
    echo "$spi_ab $spi_ba"
}

packets() {
    in_ns "$1" "$TOOL" --kernel pfkey query "$2" "$3" | awk '{ print $4 }'
}

# traffic LABEL DST_B ADDR_A SPI_AB SPI_BA
traffic() {
    local label=$1 dst=$2 src=$3 spi_ab=$4 spi_ba=$5 pcap
    pcap=$E2E_LOG/$label.pcap
    daemon sw "tcpdump-$label" tcpdump -Z root -U -n -i br0 -c 400 -w "$pcap" ip or ip6
    daemon b "echo-$label" e2e-probe serve both 5001 --timeout 30
    eventually 20 - "listening on" cat "$E2E_LOG/tcpdump-$label.log"
    expect a "udp ok 5/5 tcp ok 5/5" e2e-probe send both "$dst" 5001 --count 5 --timeout 20 \
        --message "$MARK"
    at_least "a's outbound SA $spi_ab packets (SADB_GET)" "$(packets a "$dst" "$spi_ab")" 10
    at_least "b's inbound SA $spi_ab packets (SADB_GET)" "$(packets b "$dst" "$spi_ab")" 10
    at_least "a's inbound SA $spi_ba packets (SADB_GET)" "$(packets a "$src" "$spi_ba")" 10
    expect a "add_time [0-9]+ first_use [0-9]+" "$TOOL" --kernel pfkey query "$src" "$spi_ba"
    stop "echo-$label"
    sleep 0.5
    stop "tcpdump-$label"
    on - sh -c "tcpdump -n -r '$pcap' >'$pcap.txt' 2>/dev/null"
    expect - "ESP\\(spi=0x$spi_ab," cat "$pcap.txt"
    expect - "ESP\\(spi=0x$spi_ba," cat "$pcap.txt"
    expect_not - "UDP|Flags \\[" grep -v ICMP6 "$pcap.txt"
    fails - grep -qa "$MARK" "$pcap"
}

cleanup() {
    expect a "removed [1-9]" "$TOOL" --kernel pfkey remove-owned
    expect b "removed [1-9]" "$TOOL" --kernel pfkey remove-owned
    expect a "^$" "$TOOL" --kernel pfkey list
    expect b "^$" "$TOOL" --kernel pfkey list
}

note "the backend's namespace tests on a kernel with af_key (GCM and ESN refused, events, ownership)"
expect - "All tests passed" "$UNIT" "[pfkey-netns]"

# IPv4 ESP through PF_KEY is what ikemesh_pfkey.sh proves with two daemons; here IPv6, with the
# bypass policies neighbour discovery needs, and the cleanup next to another process's state.
note "AES-CBC-256 + HMAC-SHA2-512-256 over IPv6, neighbour discovery bypassed"
on a "$TOOL" --kernel pfkey add-bypass v6 58 135
on a "$TOOL" --kernel pfkey add-bypass v6 58 136
on b "$TOOL" --kernel pfkey add-bypass v6 58 135
on b "$TOOL" --kernel pfkey add-bypass v6 58 136
read -r SPI_AB SPI_BA <<<"$(install "$(ip6 a)" "$(ip6 b)" aes256 \
    000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
    1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100 \
    sha512 "$(printf '%0128d' 1)" "$(printf '%0128d' 2)")"
expect a "policy out fd00::1/128 -> fd00::2/128 ipsec priority 2000 reqid 7" "$TOOL" --kernel pfkey list
# What `ip xfrm` sees of it: the reqid band (0x2000 + 7) and the priority band (0x494b0000 + 2000).
expect a "reqid 8199 mode transport" ip xfrm state list spi "0x$SPI_AB"
expect a "priority 1229653968 ptype main" ip -6 xfrm policy list dir out
traffic cbc6 "$(ip6 b)" "$(ip6 a)" "$SPI_AB" "$SPI_BA"

# Another process's state in the same namespace: a hand-made SA and policy.
on a ip xfrm state add src 10.0.0.1 dst 192.0.2.9 proto esp spi 0x00000777 reqid 99 \
    mode transport enc 'cbc(aes)' 0x000102030405060708090a0b0c0d0e0f auth-trunc 'hmac(sha1)' \
    0x0102030405060708090a0b0c0d0e0f1011121314 96
on a ip xfrm policy add src 10.0.0.1/32 dst 192.0.2.9/32 dir out \
    tmpl src 10.0.0.1 dst 192.0.2.9 proto esp reqid 99 mode transport
cleanup
expect a "spi 0x00000777" ip xfrm state
expect a "dst 192.0.2.9/32" ip xfrm policy
expect_not a "spi 0x$SPI_AB|spi 0x$SPI_BA" ip xfrm state
