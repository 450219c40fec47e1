# e2e: the `make demo` mesh: three ikemeshd nodes over real ESP, shown step by step (run by tests/e2e/demo)
# e2e-timeout: 300
#
# Not in scenarios/ (the CTest run does not repeat it: ikemesh_mesh.sh proves the same and more).
# Lines meant for the operator start with "demo| "; tests/e2e/demo shows only those (and
# failures). Every step is still a DSL step, so a failure stops the demo with the reason.

requires esp
requires cmd:tcpdump

show() { printf 'demo| %s\n' "$@"; }
heading() {
    show "" "== $* =="
}
# show_cmd TEXT...: indented output of a command, for the operator.
show_block() { sed 's/^/demo|     /'; }

heading "A 3-node ikemesh mesh in network namespaces on $(uname -r)"
show "" \
    "     +---------------------------------------------+" \
    "     | switch (bridge br0, tcpdump listening)      |" \
    "     +--------+-----------------+--------------+---+" \
    "              |                 |              |" \
    "     node1 10.0.0.1    node2 10.0.0.2    node3 10.0.0.3" \
    "     (ikemeshd)        (ikemeshd)        (ikemeshd)" \
    "" \
    "  Each node: ikemeshd with kernel = \"xfrm\", one PSK for the mesh, start = \"always\"," \
    "  ESP aes128gcm16 in transport mode, and one drop-in file per peer in peers.d/."

switch sw
host node1
host node2
host node3
link node1 sw 10.0.0.1/24
link node2 sw 10.0.0.2/24
link node3 sw 10.0.0.3/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"
IKM_LOG_LEVEL=info IKM_BYPASS='"tcp/22"' ikm_mesh node1 node2 node3

heading "node1's configuration"
sed -n '/^\[local\]/,$p' "$E2E_LOG/node1/ikemesh.conf" | grep -v '^$' | show_block
for p in node2 node3; do
    show "    # peers.d/$p.conf"
    show_block <"$E2E_LOG/node1/peers.d/$p.conf"
done

daemon sw tcpdump tcpdump -Z root -U -n -i br0 -c 2000 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"

heading "Starting ikemeshd on all three nodes at once"
t0=$(date +%s%N)
for n in node1 node2 node3; do
    ikm_start "$n" >/dev/null
done
for n in node1 node2 node3; do
    ikm_wait_pairs 60 "$n" 2 >/dev/null
done
secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
show "  every pair is up after ${secs}s: one IKE SA and one CHILD SA per peer on every node"

for n in node1 node2 node3; do
    heading "ikectl status on $n"
    ikm_ctl "$n" status | show_block
done

heading "ping and a UDP exchange across ESP"
expect node1 "3 received" ping -c 3 -i 0.3 -W 2 10.0.0.2
printf '%s\n' "$E2E_OUT" | grep -E "bytes from|packets transmitted" | show_block
daemon node3 echo e2e-probe serve udp 5001 --timeout 60
eventually 20 - "serving udp 5001" cat "$E2E_LOG/echo.log"
expect node2 "udp ok 5/5" e2e-probe send udp 10.0.0.3 5001 --count 5 --timeout 20 \
    --message "hello-from-node2"
show "    node2 -> node3: $E2E_OUT"

heading "ESP counters of node1's SAs (ip -s xfrm state)"
ip -n "$(ns_of node1)" -s xfrm state | awk '
    /^src/ { src = $2; dst = $4 }
    /proto esp spi/ { spi = $4; sub(/\(.*/, "", spi) }
    /lifetime current:/ { getline; gsub(/\(bytes\),|\(packets\)/, " ");
        printf "%-9s -> %-9s  spi %s  %6d packets %8d bytes\n", src, dst, spi, $2, $1 }' |
    show_block

stop echo
sleep 0.5
stop tcpdump
heading "On the wire (tcpdump on the switch): IKE, then only ESP between the nodes"
tcpdump -n -r "$E2E_LOG/wire.pcap" 2>/dev/null >"$E2E_LOG/wire.txt"
{
    grep -m 2 "isakmp" "$E2E_LOG/wire.txt"
    grep -m 6 "ESP(spi=" "$E2E_LOG/wire.txt"
} | cut -c 17- | show_block
fails - grep -qa "hello-from-node2" "$E2E_LOG/wire.pcap"
show "  the UDP payload 'hello-from-node2' never appears on the wire: it travelled inside ESP"
on - sh -c "grep -c 'ESP(spi=' '$E2E_LOG/wire.txt'"
show "  $E2E_OUT ESP packets captured"

heading "Cleaning up: SIGTERM to every daemon (each deletes its SAs and policies)"
for n in node1 node2 node3; do
    stop "ikemeshd-$n" >/dev/null
done
for n in node1 node2 node3; do
    expect - "^kernel 0\$" ikm_sas "$n" kernel
    expect "$n" "^$" ip xfrm policy
done
show "  no ESP state and no policy left on any node; the namespaces go next"
