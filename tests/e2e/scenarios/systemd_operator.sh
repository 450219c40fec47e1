# e2e: the operator's path under systemd: the .deb installed with apt, README's quick start and configuration as written, the plain unit and two template instances, reload/restart/stop/watchdog/journal/purge
# e2e-suite: systemd
# e2e-timeout: 400
#
# Runs in the guest booted with systemd as PID 1 on a writable overlay (tests/e2e/vm --systemd,
# the CTest entry e2e_systemd = tests/e2e/systemd, which builds the package first):
#
#         +----------------------------------------------+
#         | sw (bridge br0; tcpdump)                     |
#         +-----+------------------+-----------------+---+
#               |                  |                 |
#   guest's root namespace     node2 (netns)     node3 (netns)
#   e2e-n1 10.0.0.1            eth0 10.0.0.2     eth0 10.0.0.3
#   ikemeshd.service           ikemeshd@NS2      ikemeshd@NS3
#   (README's quick start,     (the template unit, NetworkNamespacePath=/run/netns/NS,
#    literally)                 /etc/ikemesh/NS/, /run/ikemesh-NS/ikemesh.sock)
#
# README's "Quick start" commands (the fenced block after <!-- quickstart:commands -->) run line
# by line on node1, with $EDITOR writing the files of README's configuration block (after
# <!-- quickstart:config -->, split at its "# /etc/ikemesh/..." lines); the instances get the
# same files with their own names. No `listen` key: the wildcard default. Then: every pair up;
# UDP and TCP as ESP (counters, tcpdump sees ESP and never the payload); the daemon's
# capabilities; a broken reload fails and changes nothing; restart; the watchdog (node3's
# instance gets a drop-in with WatchdogSec=4s, so that the test waits seconds, not the unit's
# 30 s); the journal's priorities and fields; systemd-analyze security; stop leaves nothing of
# ours in the kernel; apt-get purge leaves nothing running or installed.
requires esp
requires systemd
requires cmd:tcpdump

deb_dir=${IKEMESH_E2E_DEB_DIR:-$IKEMESH_BUILD/e2e-systemd/deb}
deb=$(ls "$deb_dir"/ikemesh_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || _fail "no ikemesh_*.deb in $deb_dir (tests/e2e/systemd builds it)"
readme=$IKEMESH_SOURCE/README.md
# ikm-sas asks the installed ikectl, not the build's.
export IKM_IKECTL=/usr/bin/ikectl
OWNER_UID=1229671729 # kernel/README.md: the tag on everything ikemesh installs

# readme_block MARKER: the fenced block that follows "<!-- MARKER -->" in README.md.
readme_block() {
    awk -v m="<!-- $1 -->" '$0 == m { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$readme"
}
readme_block quickstart:commands >"$E2E_LOG/quickstart.sh"
readme_block quickstart:config >"$E2E_LOG/config.toml"
grep -q 'systemctl enable --now ikemeshd' "$E2E_LOG/quickstart.sh" ||
    _fail "README's quick start block not found (marker quickstart:commands)"
grep -q '^# /etc/ikemesh/ikemesh.conf' "$E2E_LOG/config.toml" ||
    _fail "README's configuration block not found (marker quickstart:config)"
if grep -q '^ *listen *=' "$E2E_LOG/config.toml"; then _fail "README's config sets listen"; fi

# README's files, split at their "# /etc/ikemesh/PATH" lines, into $E2E_LOG/readme/PATH.
mkdir -p "$E2E_LOG/readme/peers.d"
awk -v dir="$E2E_LOG/readme" '/^# \/etc\/ikemesh\// { f = dir "/" substr($2, 14); next }
    f { print > f }' "$E2E_LOG/config.toml"
for f in ikemesh.conf peers.d/node2.conf peers.d/node3.conf; do
    [ -s "$E2E_LOG/readme/$f" ] || _fail "README's configuration has no /etc/ikemesh/$f"
done
# The quick start's $EDITOR: gives each file it is handed README's content for it.
mkdir -p "$E2E_LOG/bin"
printf '%s\n' '#!/bin/sh' 'for f in "$@"; do' \
    "    src=\"$E2E_LOG/readme/\${f#/etc/ikemesh/}\"" \
    '    [ -f "$src" ] || { echo "readme-editor: README says nothing about $f" >&2; exit 1; }' \
    '    cat "$src" >"$f" || exit 1' 'done' >"$E2E_LOG/bin/readme-editor"
chmod 755 "$E2E_LOG/bin/readme-editor"

# --- topology: node1 in the guest's root namespace, nodes 2 and 3 in namespaces ------------------
switch sw
host node2
host node3
link node2 sw 10.0.0.2/24
link node3 sw 10.0.0.3/24
ns2=$(ns_of node2)
ns3=$(ns_of node3)
ip link add e2e-n1 type veth peer name n1 netns "$(ns_of sw)"
at_exit ip link del e2e-n1
ip -n "$(ns_of sw)" link set n1 master br0 up
ip addr add 10.0.0.1/24 dev e2e-n1
ip link set e2e-n1 up
sock1=/run/ikemesh/ikemesh.sock
sock2=/run/ikemesh-$ns2/ikemesh.sock
sock3=/run/ikemesh-$ns3/ikemesh.sock
# If anything fails half-way, nothing of ours may outlive the scenario in this guest.
at_exit systemctl stop ikemeshd.service "ikemeshd@$ns2.service" "ikemeshd@$ns3.service"

# --- node1: README's quick start, line by line ----------------------------------------------------
note "README's quick start on node1 (ikemeshd.service)"
cd "$(dirname "$deb")"
n=0
while IFS= read -r line; do
    cmd=${line%%#*} # README's comments are for the reader
    [ -n "${cmd// /}" ] || continue
    n=$((n + 1))
    echo "\$ $cmd" >>"$E2E_LOG/quickstart.log"
    rc=0
    EDITOR="$E2E_LOG/bin/readme-editor" DEBIAN_FRONTEND=noninteractive \
        bash -c "$cmd" >>"$E2E_LOG/quickstart.log" 2>&1 </dev/null || rc=$?
    # `ikectl status` exits 4 while a start = "always" peer is not up yet: not an error here.
    case "$rc:$cmd" in
        0:* | "4:ikectl status"*) ;;
        *) cat "$E2E_LOG/quickstart.log"; _fail "README's quick start: '$cmd' exited $rc" ;;
    esac
done <"$E2E_LOG/quickstart.sh"
cd "$IKEMESH_SOURCE"
at_least "commands run from README's quick start" "$n" 5
expect - "^active$" systemctl is-active ikemeshd.service
expect - "^enabled$" systemctl is-enabled ikemeshd.service

# --- nodes 2 and 3: the template unit, with README's files under their own names ----------------
# instance_conf NODE DIR: README's configuration as NODE sees it (its id, the other two as peers).
instance_conf() {
    local me=$1 dir=$2 other
    mkdir -p "$dir/peers.d"
    sed "s/node1\.mesh\.example/$me.mesh.example/" "$E2E_LOG/readme/ikemesh.conf" >"$dir/ikemesh.conf"
    for other in node1 node2 node3; do
        [ "$other" != "$me" ] || continue
        sed -e "s/node2/$other/g" -e "s/10\.0\.0\.2/10.0.0.${other#node}/" \
            "$E2E_LOG/readme/peers.d/node2.conf" >"$dir/peers.d/$other.conf"
    done
    install -m 0600 /etc/ikemesh/mesh.psk "$dir/mesh.psk"
}
note "nodes 2 and 3: ikemeshd@NAMESPACE.service"
on - instance_conf node2 "/etc/ikemesh/$ns2"
on - instance_conf node3 "/etc/ikemesh/$ns3"
# The watchdog case below, in seconds instead of the unit's 30 s.
mkdir -p "/etc/systemd/system/ikemeshd@$ns3.service.d"
printf '[Service]\nWatchdogSec=4s\nRestartSec=1s\n' \
    >"/etc/systemd/system/ikemeshd@$ns3.service.d/watchdog.conf"
on - systemctl daemon-reload
for ns in "$ns2" "$ns3"; do
    expect - "configuration OK, 2 peers" ikemeshd --check --config "/etc/ikemesh/$ns"
done
on - systemctl enable --now "ikemeshd@$ns2.service" "ikemeshd@$ns3.service"

# --- every pair up ---------------------------------------------------------------------------------
eventually 90 - "^pairs ok 2$" ikm-sas "$sock1" - pairs 2
eventually 30 - "^pairs ok 2$" ikm-sas "$sock2" "$ns2" pairs 2
eventually 30 - "^pairs ok 2$" ikm-sas "$sock3" "$ns3" pairs 2
expect - '"state": *"established"' ikectl status --json

# --- the daemon's capabilities: CAP_NET_ADMIN and nothing else -------------------------------------
pid1=$(systemctl show -p MainPID --value ikemeshd.service)
expect - "^CapEff:[[:space:]]+0000000000001000$" grep '^CapEff' "/proc/$pid1/status"
expect - "^CapPrm:[[:space:]]+0000000000001000$" grep '^CapPrm' "/proc/$pid1/status"
expect - "^CapAmb:[[:space:]]+0000000000000000$" grep '^CapAmb' "/proc/$pid1/status"
expect - "capabilities: CAP_NET_ADMIN" journalctl -u ikemeshd.service -b --no-pager

# --- UDP and TCP cross as ESP ------------------------------------------------------------------------
daemon sw tcpdump tcpdump -Z root -U -n -i br0 -w "$E2E_LOG/wire.pcap" ip
eventually 20 - "listening on" cat "$E2E_LOG/tcpdump.log"
daemon node2 echo2 e2e-probe serve both 5001
daemon node3 echo3 e2e-probe serve both 5001
daemon - echo1 e2e-probe serve both 5001
before=$(esp_packets -)
payload=operator-secret-payload
expect - "udp ok 3/3 tcp ok 3/3" e2e-probe send both 10.0.0.2 5001 --count 3 --timeout 20 --message "$payload"
expect node2 "udp ok 3/3 tcp ok 3/3" e2e-probe send both 10.0.0.3 5001 --count 3 --timeout 20 --message "$payload"
expect node3 "udp ok 3/3 tcp ok 3/3" e2e-probe send both 10.0.0.1 5001 --count 3 --timeout 20 --message "$payload"
at_least "ESP packets counted by node1's states" "$(esp_packets -)" $((before + 24))
at_least "ESP packets counted by node2's states" "$(esp_packets node2)" 24
sleep 0.5 # tcpdump -U writes each packet at once; this is only for the last one to be counted
stop tcpdump
tcpdump -n -A -r "$E2E_LOG/wire.pcap" >"$E2E_LOG/wire.txt" 2>/dev/null
at_least "ESP packets on the wire" "$(grep -c 'ESP(spi=' "$E2E_LOG/wire.txt")" 36
expect_not - "$payload" cat "$E2E_LOG/wire.txt"

# --- reload: a broken file is refused, the daemon keeps running with the same SAs --------------------
spis=$(ikm-sas "$sock1" - spis)
echo '[peer.broken' >/etc/ikemesh/peers.d/broken.conf
fails - systemctl reload ikemeshd.service
expect - "^active$" systemctl is-active ikemeshd.service
[ "$(ikm-sas "$sock1" - spis)" = "$spis" ] || _fail "a refused reload changed SPIs"
rm /etc/ikemesh/peers.d/broken.conf
# A good reload re-reads every file, mesh.psk (root, 0600) included, with no CAP_DAC_OVERRIDE;
# the explicit default changes nothing, so every SA stays ([defaults] would touch every peer).
sed -i 's/^\[daemon\]/[daemon]\nlog_level = "info"/' /etc/ikemesh/ikemesh.conf
on - systemctl reload ikemeshd.service
[ "$(ikm-sas "$sock1" - spis)" = "$spis" ] || _fail "a settings-only reload changed SPIs"
expect - "configuration applied" journalctl -u ikemeshd.service -b --no-pager -n 20

# --- restart: down politely, up again with new SAs ---------------------------------------------------
on - systemctl restart ikemeshd.service
eventually 60 - "^pairs ok 2$" ikm-sas "$sock1" - pairs 2
[ "$(ikm-sas "$sock1" - spis)" != "$spis" ] || _fail "restart kept the old SPIs"

# --- watchdog: a daemon that stops turning is killed and restarted -----------------------------------
pid3=$(systemctl show -p MainPID --value "ikemeshd@$ns3.service")
kill -STOP "$pid3"
eventually 30 - "^[1-9]" systemctl show -p NRestarts --value "ikemeshd@$ns3.service"
expect - "[Ww]atchdog timeout" journalctl -u "ikemeshd@$ns3.service" -b --no-pager
eventually 30 - "^active$" systemctl is-active "ikemeshd@$ns3.service"
[ "$(systemctl show -p MainPID --value "ikemeshd@$ns3.service")" != "$pid3" ] ||
    _fail "the watchdog did not replace the stopped daemon"
eventually 60 - "^pairs ok 2$" ikm-sas "$sock3" "$ns3" pairs 2

# --- the journal: priorities and structured fields ---------------------------------------------------
journalctl -u ikemeshd.service -b -o json --no-pager >"$E2E_LOG/journal.json"
expect - "^journal ok" python3 "$IKEMESH_SOURCE/tests/e2e/lib/bin/ikm-journal" "$E2E_LOG/journal.json" node2

# --- systemd-analyze security of the running unit ----------------------------------------------------
systemd-analyze security --no-pager ikemeshd.service >"$E2E_LOG/security.txt" 2>&1 || true
expect - "Overall exposure level for ikemeshd.service: ([0-2]\.[0-9]|3\.0) " cat "$E2E_LOG/security.txt"
note "$(grep 'Overall exposure' "$E2E_LOG/security.txt")"

# --- stop: nothing of ours left in the kernel ---------------------------------------------------------
on - systemctl stop ikemeshd.service
expect - "^0$" sh -c "ip xfrm state | grep -c 'proto esp' || true"
expect - "^0$" sh -c "ip xfrm policy | grep -c 'uid $OWNER_UID' || true"

# --- apt-get purge: nothing running, nothing installed ------------------------------------------------
on - env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ikemesh
on - systemctl daemon-reload
fails - pgrep -x ikemeshd
expect - "^none$" sh -c "dpkg-query -W -f='\${db:Status-Abbrev}' ikemesh 2>/dev/null | grep -q . && echo left || echo none"
for path in /usr/sbin/ikemeshd /usr/bin/ikectl /usr/lib/systemd/system/ikemeshd.service \
    /usr/lib/systemd/system/ikemeshd@.service /etc/ikemesh /run/ikemesh "/run/ikemesh-$ns2" \
    "/etc/systemd/system/ikemeshd@$ns3.service.d"; do
    [ ! -e "$path" ] || _fail "$path is still there after purge"
done
expect_not - "ikemeshd" sh -c "ls /etc/systemd/system/*.wants/ 2>/dev/null"
expect_not - "ikemeshd" systemctl list-units --all --no-legend --plain 'ikemeshd*'
fails - getent group ikemesh
for ns in "$ns2" "$ns3"; do
    expect - "^0$" sh -c "ip -n $ns xfrm state | grep -c 'proto esp' || true"
done
