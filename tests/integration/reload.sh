#!/bin/bash
# Reload of a running ikemeshd (fake kernel) that changes one peer, adds one, removes one, and
# broken reloads that must change nothing. Five nodes on one switch (drawing in lib/mesh.sh):
#
#   n1 (reloaded) ---- n2  unchanged: keeps its SAs (same IKE and CHILD SPIs on both sides)
#        |  \--------- n3  changed (dpd_delay): re-established, new SPIs
#        |   \-------- n4  removed: deleted politely, n4 sees the Delete (no DPD, no peer_dead)
#        \------------ n5  added: comes up (n5 is configured passive towards n1 until then)
#
# Checks, each bounded in time:
#   1. n1 comes up with n2, n3, n4; then `ikectl reload` applies the change set above and says so;
#   2. SIGHUP reloads the same way (n3 changed back: new SPIs again; n2, n5 untouched);
#   3. broken configurations are refused, by `ikectl reload` (exit 1, per docs/ikectl.md) and by
#      SIGHUP, with an error naming file, line and key, and nothing changes (every SPI the same,
#      ikemesh_reload_failures_total counts them): a TOML syntax error, an unknown key, and a
#      psk_file readable by others.
# daemon_pair.sh covers sd_notify around reloads; this script covers what a reload does to SAs.
# Needs root (namespaces). Cleans up namespaces, processes and files whatever happens.
set -eu
MESH_TEST=reload
# shellcheck source=tests/integration/lib/mesh.sh
. "$(dirname "$0")/lib/mesh.sh"
mesh_setup

for i in 1 2 3 4 5; do mesh_node "n$i" "$i"; done
mesh_config n1 n2 n3 n4
mesh_config n2 n1
mesh_config n3 n1
mesh_config n4 n1
mesh_peer_file n4 n1 'start = "passive"' # after n1 removes it, n4 must not call back
mesh_config n5 n1
mesh_peer_file n5 n1 'start = "passive"' # n1 does not know n5 yet
for n in n1 n2 n3 n4 n5; do mesh_start "$n"; done
ctl_ok() { ctl "$@" >/dev/null 2>&1; }
for n in n1 n2 n3 n4 n5; do wait_for 10 "$n answers" ctl_ok "$n" version; done
wait_for 30 "n1 up with n2, n3, n4" mesh_check n1 n2 n3 n4

n2_before=$(mesh_pair n1 n2)
n3_before=$(mesh_pair n1 n3)
ctl n4 monitor --json >"$mesh_dir/monitor.n4" 2>/dev/null &
mesh_pids="$mesh_pids $!"
ctl n1 monitor --json >"$mesh_dir/monitor.n1" 2>/dev/null &
mesh_pids="$mesh_pids $!"
sleep 0.3

# 1. One reload: change n3, remove n4, add n5.
mesh_peer_file n1 n3 'dpd_delay = "5s"'
rm "$mesh_dir/n1/peers.d/n4.conf"
mesh_peer_file n1 n5
ctl n1 reload >"$mesh_dir/reload.out" 2>&1 || fail "reload refused: $(cat "$mesh_dir/reload.out")"
for want in 'configuration reloaded: 3 peers (1 added, 1 removed, 1 changed, 1 unchanged)' \
    'added: n5' 'removed: n4' 'changed: n3'; do
    grep -qxF "$want" "$mesh_dir/reload.out" || fail "reload output lacks '$want': $(cat "$mesh_dir/reload.out")"
done
n3_new() {
    local s
    s=$(mesh_check --print n1 n3) && [ "${s#* }" != "$n3_before" ]
}
wait_for 15 "changed peer n3 re-established" n3_new
wait_for 15 "added peer n5 up" mesh_check n1 n5
[ "$(mesh_pair n1 n2)" = "$n2_before" ] || fail "unchanged peer n2 lost its SAs: $n2_before -> $(mesh_pair n1 n2)"
n3_after=$(mesh_pair n1 n3)
for a in $n3_before; do
    case " $n3_after " in *" $a "*) fail "changed peer n3 kept SPI $a ($n3_before -> $n3_after)" ;; esac
done
# n4 was told (Delete), did not find out by itself: an ike_down event, and no liveness failure.
n4_down() { grep -q '"event":"ike_down".*"peer":"n1"' "$mesh_dir/monitor.n4"; }
wait_for 10 "n4 sees the Delete of its IKE SA" n4_down
n4_state() {
    ctl n4 status --json | "$py" -c '
import json, sys
p = json.load(sys.stdin)["peers"][0]
assert p["state"] == "down" and not p["ike_sas"] and not p["child_sas"], p
'
}
wait_for 5 "n4 shows n1 down without SAs" n4_state
grep -q '"event":"peer_dead"' "$mesh_dir/monitor.n4" && fail "n4 declared n1 dead instead of seeing the Delete: $(cat "$mesh_dir/monitor.n4")"
[ "$(mesh_metric n4 ikemesh_dpd_failures_total)" = 0 ] || fail "n4 counted a DPD failure"
grep '"event":"ike_down"' "$mesh_dir/monitor.n4" | grep -q '"reason":"[^"]*[Dd]elete' ||
    fail "n4's ike_down does not say it was deleted: $(grep ike_down "$mesh_dir/monitor.n4")"
ctl n1 status --json | "$py" -c '
import json, sys
names = sorted(p["name"] for p in json.load(sys.stdin)["peers"])
assert names == ["n2", "n3", "n5"], names
' || fail "n1 still lists n4 or lacks n5"
note "reload: n2 kept $n2_before; n3 re-established ($n3_after); n4 deleted politely; n5 up"

# 2. SIGHUP: change n3 back (the default dpd_delay).
mesh_peer_file n1 n3
n3_before=$n3_after
n5_before=$(mesh_pair n1 n5)
reloads=$(mesh_metric n1 ikemesh_reloads_total)
kill -HUP "$(mesh_pid n1)"
wait_for 15 "SIGHUP re-establishes n3" n3_new
[ "$(mesh_metric n1 ikemesh_reloads_total)" = $((reloads + 1)) ] || fail "SIGHUP not counted as a reload"
[ "$(mesh_pair n1 n2)" = "$n2_before" ] || fail "SIGHUP: unchanged peer n2 lost its SAs"
[ "$(mesh_pair n1 n5)" = "$n5_before" ] || fail "SIGHUP: unchanged peer n5 lost its SAs"
note "SIGHUP: n3 re-established, n2 and n5 untouched"

# 3. Broken configurations: refused, reported with file, line and key; nothing changes.
spis_all() { mesh_check --print n1 n2 n3 n5 || echo "unhealthy: $(cat "$mesh_dir/mesh_check.last")"; }
before=$(spis_all)
failures=$(mesh_metric n1 ikemesh_reload_failures_total)
good_n2=$(cat "$mesh_dir/n1/peers.d/n2.conf")
failures_are() { [ "$(mesh_metric n1 ikemesh_reload_failures_total)" = "$1" ]; }
# broken NAME EXPECTED_REGEX: n1 refuses its current directory by `ikectl reload` and by SIGHUP.
broken() {
    local rc=0
    ctl n1 reload >"$mesh_dir/reload.out" 2>&1 || rc=$?
    [ $rc -eq 1 ] || fail "$1: reload exit $rc, expected 1: $(cat "$mesh_dir/reload.out")"
    grep -qE "$2" "$mesh_dir/reload.out" || fail "$1: error does not match /$2/: $(cat "$mesh_dir/reload.out")"
    if ctl n1 check-config >/dev/null 2>&1; then fail "$1: check-config accepts it"; fi
    kill -HUP "$(mesh_pid n1)"
    failures=$((failures + 2))
    wait_for 5 "$1: SIGHUP counted as a failed reload" failures_are "$failures"
    note "$1 refused: $(head -n 1 "$mesh_dir/reload.out")"
}
# Each broken file also carries a real change (n2's dpd_delay) that must not be applied.
printf '%s\ndpd_delay = "7s"\n[peer.n2\n' "$good_n2" >"$mesh_dir/n1/peers.d/n2.conf"
broken "syntax error" 'peers\.d/n2\.conf:[0-9]+'
printf '%s\ndpd_delay = "7s"\nadress = "10.77.0.9"\n' "$good_n2" >"$mesh_dir/n1/peers.d/n2.conf"
broken "unknown key" 'peers\.d/n2\.conf:5:.*peer\.n2\.adress.*unknown key'
printf '%s\ndpd_delay = "7s"\n' "$good_n2" >"$mesh_dir/n1/peers.d/n2.conf"
chmod 0644 "$mesh_dir/n1/mesh.psk"
broken "world-readable psk_file" 'ikemesh\.conf:[0-9]+:.*psk_file.*(readable|mode)'
chmod 0600 "$mesh_dir/n1/mesh.psk"
echo "$good_n2" >"$mesh_dir/n1/peers.d/n2.conf"
[ "$(spis_all)" = "$before" ] || fail "a refused reload changed SAs: before: $before after: $(spis_all)"
ctl n1 check-config >"$mesh_dir/check.out" 2>&1 || fail "the repaired configuration is refused: $(cat "$mesh_dir/check.out")"
grep -q '0 added, 0 removed, 0 changed, 3 unchanged' "$mesh_dir/check.out" ||
    fail "check-config against the running daemon: $(cat "$mesh_dir/check.out")"
note "OK"
