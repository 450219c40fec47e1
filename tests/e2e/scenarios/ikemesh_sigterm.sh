# e2e: ikemeshd stopped by SIGTERM removes exactly its own SAs and policies; a restart after SIGKILL clears exactly the killed run's SAs, once the new pair is up
# e2e-timeout: 300
# e2e-cost: 27
#
#   +------------------+                      +------------------+
#   | a  ikemeshd      |                      | b  ikemeshd      |
#   | eth0             |------ veth pair -----| eth0             |
#   | 10.0.1.1/24      |                      | 10.0.1.2/24      |
#   | + a hand-made SA |                      |                  |
#   |   and policy     |                      |                  |
#   +------------------+                      +------------------+
#
# Another process's state in a's namespace (an SA and a policy made with `ip xfrm`, not tagged as
# ikemesh's) must survive everything ikemeshd does there. SIGTERM: the daemon deletes its SAs
# (telling b, which removes its side too) and its policies, and the SPD and SAD are then exactly
# what they were before it started. SIGKILL leaves its marked SAs and policies behind; the
# restarted daemon (with tcp/22 dropped from its bypass classes) flushes nothing: it takes its
# policies over (no duplicates), removes those of the dropped class, keeps the previous
# run's SAs (recognisable by their owner tag, `ikemesh-kernel-tool list`) while it negotiates a
# new pair, and removes them once the new pair is up in both directions; b drops its old pair on
# INITIAL_CONTACT. A last SIGTERM leaves the SAD and SPD exactly as they were before the first start.

requires esp

TOOL=$IKEMESH_BUILD/kernel/tools/ikemesh-kernel-tool
requires "cmd:$TOOL"

host a
host b
wire a b 10.0.1.1/24 10.0.1.2/24
# shellcheck source=tests/e2e/lib/ikemesh.sh
. "$IKEMESH_SOURCE/tests/e2e/lib/ikemesh.sh"

note "another process's SA and policy in a's namespace"
on a ip xfrm state add src 10.0.1.1 dst 192.0.2.9 proto esp spi 0x00000777 reqid 99 \
    mode transport aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
on a ip xfrm policy add src 10.0.1.1/32 dst 192.0.2.9/32 dir out \
    tmpl src 10.0.1.1 dst 192.0.2.9 proto esp reqid 99 mode transport
ip -n "$(ns_of a)" xfrm state >"$E2E_LOG/a-state.before"
ip -n "$(ns_of a)" xfrm policy >"$E2E_LOG/a-policy.before"
expect a "^$" "$TOOL" list

ikm_mesh a b
ikm_start a
ikm_start b
ikm_wait_pairs 60 a 1
ikm_wait_pairs 20 b 1
daemon b echo e2e-probe serve udp 5001 --timeout 120
expect a "udp ok 3/3" e2e-probe send udp "$(ip4 b)" 5001 --count 3 --timeout 20
expect a "spi 0x00000777" ip xfrm state
expect a "dst 192.0.2.9/32" ip xfrm policy
expect a "policy out 10.0.1.1/32 -> 10.0.1.2/32 ipsec" "$TOOL" list
expect_not a "spi 00000777|192\\.0\\.2\\.9" "$TOOL" list

note "SIGTERM: a removes exactly what it installed; b hears of it"
stop ikemeshd-a
on - sh -c "ip -n '$(ns_of a)' xfrm state >'$E2E_LOG/a-state.after'"
on - sh -c "ip -n '$(ns_of a)' xfrm policy >'$E2E_LOG/a-policy.after'"
on - diff -u "$E2E_LOG/a-state.before" "$E2E_LOG/a-state.after"
on - diff -u "$E2E_LOG/a-policy.before" "$E2E_LOG/a-policy.after"
expect a "^$" "$TOOL" list
eventually 20 - "^kernel 0\$" ikm_sas b kernel
expect - "down|connecting" ikm_ctl b status

note "SIGKILL, then a restart: nothing is flushed; the old pair goes once the new one is up"
ikm_start a
ikm_wait_pairs 60 a 1
ikm_wait_pairs 20 b 1
read -r _ _ _ _ OLD_IN OLD_OUT <<<"$(ikm_sas a spis b)"
signal ikemeshd-a KILL
expect a "sa .*$OLD_IN" "$TOOL" list
expect a "sa .*$OLD_OUT" "$TOOL" list
expect a "^policy .*\\[22\\]" "$TOOL" list
on a sh -c "'$TOOL' list | grep '^policy' | sort >'$E2E_LOG/a-policies.killed'"
# The restart comes with a configuration that no longer bypasses tcp/22.
IKM_BYPASS='"icmp"' ikm_node a
ikm_start a
# b learns of the restart by INITIAL_CONTACT and keeps only the new pair.
ikm_wait_pairs 60 b 1
eventually 30 - "^ike [0-9a-f]+ [0-9a-f]+ child [0-9a-f]{8} [0-9a-f]{8}\$" ikm_sas a spis b
read -r _ _ _ _ NEW_IN NEW_OUT <<<"$(ikm_sas a spis b)"
[ "$NEW_IN" != "$OLD_IN" ] || _fail "the restarted daemon kept the old inbound SPI"
note "old pair $OLD_IN/$OLD_OUT, new pair $NEW_IN/$NEW_OUT"
# The previous run's SAs go once the new pair is up both ways (a responder installs its outbound
# half at the first packet from b or after a 10 s grace); nothing else changed.
eventually 30 a "^old pair gone$" sh -c "'$TOOL' list | grep -Eq '$OLD_IN|$OLD_OUT' || echo old pair gone"
expect a "sa .*$NEW_IN" "$TOOL" list
expect a "sa .*$NEW_OUT" "$TOOL" list
expect a "spi 0x00000777" ip xfrm state
expect a "dst 192.0.2.9/32" ip xfrm policy
# Its policies were taken over (no duplicates), those of the dropped tcp/22 class removed.
on a sh -c "'$TOOL' list | grep '^policy' | sort >'$E2E_LOG/a-policies.restarted'"
on - sh -c "grep -v '\\[22\\]' '$E2E_LOG/a-policies.killed' >'$E2E_LOG/a-policies.expected'"
on - diff -u "$E2E_LOG/a-policies.expected" "$E2E_LOG/a-policies.restarted"
expect a "udp ok 3/3" e2e-probe send udp "$(ip4 b)" 5001 --count 3 --timeout 20

note "SIGTERM again: the SAD and SPD are exactly what they were before the first start"
stop ikemeshd-a
expect a "^$" "$TOOL" list
on - sh -c "ip -n '$(ns_of a)' xfrm state >'$E2E_LOG/a-state.after2'"
on - sh -c "ip -n '$(ns_of a)' xfrm policy >'$E2E_LOG/a-policy.after2'"
on - diff -u "$E2E_LOG/a-state.before" "$E2E_LOG/a-state.after2"
on - diff -u "$E2E_LOG/a-policy.before" "$E2E_LOG/a-policy.after2"
stop ikemeshd-b
expect - "^kernel 0\$" ikm_sas b kernel
