#!/bin/bash
# Every ikectl verb of docs/ikectl.md against a running ikemeshd (fake kernel), the control
# socket's protection and robustness, and the secrets rules. Nodes on one switch (lib/mesh.sh):
#
#   n1 (ikemeshd, debug log, control_group nogroup) ---- n2 (ikemeshd)
#        |  \--------------------------------------------- n3 (strongSwan charon, logs SK_* keys)
#         \----------------------------------------------- n9 (10.77.0.9: nobody answers)
#
# Checks, each bounded in time:
#   1. the control socket is mode 0660, group nogroup (the configured control_group);
#   2. status, list-peers, list-sas: aligned tables (every cell starts under its header) and
#      --json; status exits 4 while the always-peer n9 is down and shows why; 0 once it is gone;
#   3. version, metrics (Prometheus text checked by a small parser, required families present,
#      --json a string), check-config and reload (human and --json);
#   4. terminate and initiate (human and --json) with monitor (human and --json) showing the
#      events with reasons; rekey of the CHILD SA and of the IKE SA (--ike): SPIs change, still
#      exactly one pair on both sides;
#   5. exit codes: 1 unknown peer, 2 bad command line, 3 unreachable socket (and monitor when the
#      daemon goes away), 4 as above;
#   6. requests that are not JSON, unknown commands and an oversized request each get a clear
#      error and the daemon carries on;
#   7. n1 logs at debug level: neither the PSK nor any SK_* key of the IKE SA with charon (which
#      logs them at ike=4) appears in its log; a psk_file of mode 0644 is refused at start.
# Needs root (namespaces) and strongSwan's charon. Cleans up whatever happens.
# shellcheck disable=SC2015 # "A && B || fail": fail when either check fails, as intended
set -eu
MESH_TEST=ikectl
MESH_LOG_LEVEL=debug
MESH_CONTROL_GROUP=nogroup
# shellcheck source=tests/integration/lib/mesh.sh
. "$(dirname "$0")/lib/mesh.sh"
# shellcheck source=tests/interop/strongswan.sh
. "$source_dir/tests/interop/strongswan.sh"
mesh_setup
trap 'swan_stop_all; mesh_cleanup' EXIT

for i in 1 2 3; do mesh_node "n$i" "$i"; done
# A long re-initiation back-off keeps n9 down (not connecting) for 10-30 s after each attempt.
MESH_REINIT_BASE=20s MESH_REINIT_MAX=20s mesh_config n1 n2 n3 n9
mesh_peer_file n1 n3 'childless = true' # charon cannot install a CHILD SA on this kernel
MESH_LOG_LEVEL=info MESH_CONTROL_GROUP=root mesh_config n2 n1
SWAN_LOG="ike=4 cfg=1 default=0" swan_start "$mesh_dir/charon" "${mesh_tag}n3" >/dev/null
cat >"$mesh_dir/charon.conf" <<EOF
connections {
    n1 {
        local_addrs = 10.77.0.3
        remote_addrs = 10.77.0.1
        proposals = aes128gcm16-prfsha256-x25519
        mobike = no
        local {
            auth = psk
            id = n3.mesh.test
        }
        remote {
            auth = psk
            id = n1.mesh.test
        }
    }
}
secrets {
    ike-n1 {
        id-n1 = n1.mesh.test
        secret = "$mesh_psk"
    }
}
EOF
swan_load "$mesh_dir/charon" "$mesh_dir/charon.conf" >/dev/null
mesh_start n1
mesh_start n2
wait_for 30 "n1-n2 up" mesh_check n1 n2
charon_up() { swan_list_sas "$mesh_dir/charon" | grep -q ESTABLISHED; }
wait_for 30 "n1-charon IKE SA up" charon_up
rc_of() { # rc_of CMD...: the exit code of CMD, output in $mesh_dir/out and $mesh_dir/err
    local rc=0
    "$@" >"$mesh_dir/out" 2>"$mesh_dir/err" || rc=$?
    echo $rc
}

# 1. Socket protection.
[ "$(stat -c '%a %G' "$mesh_dir/n1/run/ikemesh.sock")" = "660 nogroup" ] ||
    fail "control socket is $(stat -c '%a %G' "$mesh_dir/n1/run/ikemesh.sock"), expected 660 nogroup"

# 2. Tables. aligned FILE: every row's cells start where the header's columns start (cells are
# separated by two or more spaces; a table ends at a blank line or at a line of a new shape).
aligned() {
    "$py" - "$1" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
tables = 0
i = 0
while i < len(lines):
    if not re.match(r"^[A-Z][A-Z_/() ]+$", lines[i]) or "  " not in lines[i]:
        i += 1
        continue
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", lines[i])]
    rows = 0
    for row in lines[i + 1:]:
        if not row.strip() or re.match(r"^\d+ peers?:", row) or row.endswith(":"):
            break
        cells = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", row)]
        assert set(cells) <= set(starts), f"misaligned row {row!r} under {lines[i]!r}"
        assert cells and cells[0] == 0, row
        rows += 1
    assert rows > 0, f"table without rows: {lines[i]!r}"
    tables += 1
    i += rows + 1
assert tables > 0, "no table"
EOF
}
n9_down() { [ "$(rc_of ctl n1 status)" = 4 ] && grep -qE '^n9 .* down .*no response to IKE_SA_INIT' "$mesh_dir/out"; }
wait_for 20 "status exit 4 and a reason while always-peer n9 is down" n9_down
cp "$mesh_dir/out" "$mesh_dir/status.txt"
aligned "$mesh_dir/status.txt" || fail "status table: $(cat "$mesh_dir/status.txt")"
head -n 1 "$mesh_dir/status.txt" | grep -q '^PEER  *ADDRESS  *LOCAL  *STATE  *IKE SA (I/R)  *CHILD SA (IN/OUT)  *BYTES (IN/OUT)  *REASON$' ||
    fail "status header: $(head -n 1 "$mesh_dir/status.txt")"
grep -qE '^n2  +10\.77\.0\.2  +10\.77\.0\.1  +established  +[0-9a-f]{16}/[0-9a-f]{16}  +[0-9a-f]{8}/[0-9a-f]{8} ' "$mesh_dir/status.txt" ||
    fail "status row of n2: $(cat "$mesh_dir/status.txt")"
grep -qx '3 peers: 2 established, 0 connecting, 1 down' "$mesh_dir/status.txt" || fail "status summary: $(cat "$mesh_dir/status.txt")"
[ "$(rc_of ctl n1 status --json)" = 4 ] || fail "status --json exit code differs from status"
"$py" - "$mesh_dir/out" <<'EOF' || fail "status --json: $(cat "$mesh_dir/out")"
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["peers"]}
assert set(p) == {"n2", "n3", "n9"}, p.keys()
assert p["n9"]["state"] == "down" and p["n9"]["last_error"].startswith("no response to IKE_SA_INIT"), p["n9"]
assert p["n3"]["state"] == "established" and len(p["n3"]["ike_sas"]) == 1 and not p["n3"]["child_sas"], p["n3"]
c = p["n2"]["child_sas"][0]
assert c["mode"] == "transport" and c["state"] == "installed", c
for k in ("bytes_in", "bytes_out", "packets_in", "packets_out", "reqid"):
    assert isinstance(c[k], int), (k, c)
assert d["summary"] == {"peers": 3, "established": 2, "connecting": 0, "down": 1}, d["summary"]
EOF
[ "$(rc_of ctl n1 list-peers)" = 0 ] || fail "list-peers exit code"
aligned "$mesh_dir/out" || fail "list-peers table: $(cat "$mesh_dir/out")"
grep -qE '^n2  +10\.77\.0\.2  +n2\.mesh\.test  +always  +established  +1  +1$' "$mesh_dir/out" || fail "list-peers row: $(cat "$mesh_dir/out")"
grep -qE '^n9 .* down .*no response to IKE_SA_INIT after 2 retransmissions$' "$mesh_dir/out" || fail "list-peers shows no reason for n9: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 list-peers --json)" = 0 ] || fail "list-peers --json exit code"
"$py" -c '
import json, sys
p = {x["name"]: x for x in json.load(open(sys.argv[1]))["peers"]}
assert p["n2"]["ike_sas"] == 1 and p["n2"]["child_sas"] == 1 and p["n2"]["id"] == "n2.mesh.test", p["n2"]
assert p["n9"]["ike_sas"] == 0 and p["n9"]["start"] == "always", p["n9"]
' "$mesh_dir/out" || fail "list-peers --json: $(cat "$mesh_dir/out")"
spis=$(mesh_pair n1 n2)
# shellcheck disable=SC2086
set -- $spis
[ "$(rc_of ctl n1 list-sas)" = 0 ] || fail "list-sas exit code"
aligned "$mesh_dir/out" || fail "list-sas tables: $(cat "$mesh_dir/out")"
grep -qx 'IKE SAs:' "$mesh_dir/out" && grep -qx 'CHILD SAs:' "$mesh_dir/out" || fail "list-sas sections: $(cat "$mesh_dir/out")"
grep -qE "^n2  +$1  +$2  +(initiator|responder)  +established  +aes128gcm16-prfsha256-x25519  +10\.77\.0\.2:500 " "$mesh_dir/out" ||
    fail "list-sas lacks n2's IKE SA $1/$2: $(cat "$mesh_dir/out")"
grep -qE "^n2  +$3  +$4  +transport  +installed  +aes128gcm16 " "$mesh_dir/out" || fail "list-sas lacks n2's CHILD SA: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 list-sas --json)" = 0 ] || fail "list-sas --json exit code"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
ike = [s for s in d["ike_sas"] if s["peer"] == "n2"]
child = [s for s in d["child_sas"] if s["peer"] == "n2"]
assert [(s["spi_i"], s["spi_r"]) for s in ike] == [(sys.argv[2], sys.argv[3])], ike
assert [(s["spi_in"], s["spi_out"]) for s in child] == [(sys.argv[4], sys.argv[5])], child
assert len([s for s in d["ike_sas"] if s["peer"] == "n3"]) == 1, d
' "$mesh_dir/out" "$@" || fail "list-sas --json: $(cat "$mesh_dir/out")"
note "status, list-peers, list-sas: tables aligned, JSON complete, exit 4 while n9 is down"

# 3. version, metrics, check-config, reload.
[ "$(rc_of ctl n1 version)" = 0 ] || fail "version exit code"
grep -qE '^ikectl [0-9]+\.[0-9]+\.[0-9]+$' "$mesh_dir/out" && grep -qE '^ikemeshd [0-9]+\.[0-9]+\.[0-9]+$' "$mesh_dir/out" ||
    fail "version: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 version --json)" = 0 ] || fail "version --json exit code"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["daemon"] == "ikemeshd" and d["kernel"] == "fake" and d["pid"] == int(sys.argv[2]), d
assert d["config_dir"] == sys.argv[3] and d["uptime_seconds"] >= 0, d
' "$mesh_dir/out" "$(mesh_pid n1)" "$mesh_dir/n1" || fail "version --json: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 metrics)" = 0 ] || fail "metrics exit code"
"$py" "$mesh_lib/prometheus_check.py" "$mesh_dir/out" ikemesh_peers ikemesh_peer_up ikemesh_ike_sas \
    ikemesh_child_sas ikemesh_handshakes_started_total ikemesh_handshakes_completed_total \
    ikemesh_handshakes_failed_total ikemesh_retransmissions_total ikemesh_dpd_failures_total \
    ikemesh_rekeys_total ikemesh_esp_bytes_total ikemesh_esp_packets_total ikemesh_reloads_total \
    ikemesh_control_requests_total ikemesh_uptime_seconds ikemesh_build_info || fail "metrics text"
grep -qx 'ikemesh_peers{state="established"} 2' "$mesh_dir/out" || fail "metrics: not 2 established peers"
grep -qE '^ikemesh_handshakes_failed_total\{reason="peer_dead"\} [1-9]' "$mesh_dir/out" ||
    fail "metrics: n9's failures not counted by reason: $(grep handshakes_failed "$mesh_dir/out")"
[ "$(rc_of ctl n1 metrics --json)" = 0 ] || fail "metrics --json exit code"
"$py" -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert isinstance(s, str) and "\nikemesh_peers{state=\"established\"} 2\n" in s, s[:300]
' "$mesh_dir/out" || fail "metrics --json is not the text as a string"
[ "$(rc_of ctl n1 check-config)" = 0 ] || fail "check-config: $(cat "$mesh_dir/err")"
grep -q '^configuration is valid: 3 peers; against the running daemon: 0 added, 0 removed, 0 changed, 3 unchanged' "$mesh_dir/out" ||
    fail "check-config: $(cat "$mesh_dir/out")"
rm "$mesh_dir/n1/peers.d/n9.conf"
[ "$(rc_of ctl n1 check-config --json)" = 0 ] || fail "check-config --json: $(cat "$mesh_dir/err")"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True and d["peers"] == 2 and d["removed"] == ["n9"] and d["unchanged"] == 2, d
' "$mesh_dir/out" || fail "check-config --json: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 reload --json)" = 0 ] || fail "reload --json: $(cat "$mesh_dir/err")"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["applied"] is True and d["removed"] == ["n9"] and d["added"] == [] and d["unchanged"] == 2, d
' "$mesh_dir/out" || fail "reload --json: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 status)" = 0 ] || fail "status exit $(rc_of ctl n1 status) with every always-peer up: $(cat "$mesh_dir/out")"
[ "$(rc_of ctl n1 reload)" = 0 ] && grep -q '^configuration reloaded: 2 peers (0 added, 0 removed, 0 changed, 2 unchanged)$' "$mesh_dir/out" ||
    fail "reload: $(cat "$mesh_dir/out" "$mesh_dir/err")"
note "version, metrics, check-config, reload: ok; status exit 0 once n9 is gone"

# 4. terminate, initiate, rekey; monitor sees the events.
ctl n1 monitor --json >"$mesh_dir/monitor.json" 2>&1 &
mon_json=$!
ctl n1 monitor >"$mesh_dir/monitor.txt" 2>&1 &
mon_txt=$!
mesh_pids="$mesh_pids $mon_json $mon_txt"
sleep 0.3
[ "$(rc_of ctl n1 terminate n2)" = 0 ] && grep -qx 'terminate n2: ok' "$mesh_dir/out" || fail "terminate: $(cat "$mesh_dir/out" "$mesh_dir/err")"
seen() { grep -q "$2" "$mesh_dir/monitor.$1"; }
wait_for 10 "monitor shows the terminate" seen json '"event":"ike_down".*"peer":"n2"'
grep '"event":"ike_down"' "$mesh_dir/monitor.json" | grep -q '"reason":"[^"]' || fail "ike_down without a reason: $(cat "$mesh_dir/monitor.json")"
wait_for 5 "human monitor shows the terminate" seen txt '^[0-9T:.-]*Z  ike_down  n2  [0-9a-f]\{16\}/[0-9a-f]\{16\}  (.\+)$'
[ "$(rc_of ctl n1 initiate n2 --json)" = 0 ] || fail "initiate --json: $(cat "$mesh_dir/err")"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["peer"] == "n2" and d["action"] == "initiate", d
' "$mesh_dir/out" || fail "initiate --json: $(cat "$mesh_dir/out")"
wait_for 15 "n1-n2 up again after initiate" mesh_check n1 n2
wait_for 5 "monitor shows the initiate" seen json '"event":"ike_up".*"peer":"n2"'
seen json '"event":"child_up".*"peer":"n2".*' || fail "no child_up event: $(cat "$mesh_dir/monitor.json")"
seen txt '  ike_up  n2  ' || fail "human monitor shows no ike_up: $(cat "$mesh_dir/monitor.txt")"
sleep 1
spis=$(mesh_pair n1 n2)
# shellcheck disable=SC2086
set -- $spis
[ "$(rc_of ctl n1 rekey n2)" = 0 ] && grep -qx 'rekey n2: ok' "$mesh_dir/out" || fail "rekey: $(cat "$mesh_dir/out" "$mesh_dir/err")"
# rekeyed IKE|CHILD OLD_SPIS...: one healthy pair whose IKE (or CHILD) SPIs are new and the others kept.
rekeyed() {
    local kind=$1 now
    shift
    now=$(mesh_check --print n1 n2) || return 1
    # shellcheck disable=SC2086
    set -- $now "$@" # $2..$5 now, $6..$9 before
    if [ "$kind" = IKE ]; then
        [ "$2 $3" != "$6 $7" ] && [ "$4 $5" = "$8 $9" ]
    else
        [ "$2 $3" = "$6 $7" ] && [ "$4" != "$8" ] && [ "$5" != "$9" ]
    fi
}
wait_for 10 "CHILD SA rekeyed (new CHILD SPIs, same IKE SA, one pair)" rekeyed CHILD "$@"
seen json '"event":"child_rekeyed".*"peer":"n2"' || fail "no child_rekeyed event"
spis=$(mesh_pair n1 n2)
# shellcheck disable=SC2086
set -- $spis
[ "$(rc_of ctl n1 rekey n2 --ike)" = 0 ] && grep -qx 'rekey (IKE SA) n2: ok' "$mesh_dir/out" || fail "rekey --ike: $(cat "$mesh_dir/out" "$mesh_dir/err")"
wait_for 10 "IKE SA rekeyed (new IKE SPIs, CHILD SA kept, one pair)" rekeyed IKE "$@"
seen json '"event":"ike_rekeyed".*"peer":"n2"' || fail "no ike_rekeyed event"
[ "$(rc_of ctl n1 rekey n2 --ike --json)" = 0 ] || fail "rekey --ike --json"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"peer": "n2", "action": "rekey", "ike": True}, d
' "$mesh_dir/out" || fail "rekey --json: $(cat "$mesh_dir/out")"
sleep 1
mesh_check n1 n2 || fail "not exactly one pair after rekeys: $(cat "$mesh_dir/mesh_check.last")"
note "terminate, initiate, rekey (CHILD and IKE): events seen, one pair left with new SPIs"

# 5. Exit codes.
[ "$(rc_of ctl n1 terminate n7)" = 1 ] && grep -q 'unknown peer: n7' "$mesh_dir/err" || fail "unknown peer: exit/stderr $(cat "$mesh_dir/err")"
[ "$(rc_of ctl n1 frobnicate)" = 2 ] || fail "unknown command: not exit 2"
[ "$(rc_of ctl n1 initiate)" = 2 ] || fail "initiate without a peer: not exit 2"
[ "$(rc_of ctl n1 status --bogus)" = 2 ] || fail "unknown option: not exit 2"
[ "$(rc_of "$ikectl" --socket "$mesh_dir/nowhere.sock" status)" = 3 ] || fail "unreachable socket: not exit 3"
[ -s "$mesh_dir/err" ] || fail "unreachable socket: no message"

# 6. Bad requests on the socket: a clear error each, and the daemon carries on.
"$py" - "$mesh_dir/n1/run/ikemesh.sock" <<'EOF' || fail "bad requests"
import json, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s.makefile("rwb")
f = conn()
for req, code in ((b"this is not json\n", "control_bad_request"),
                  (b'{"command":"selfdestruct"}\n', "control_unknown_command"),
                  (b'{"command":"status","extra":1}\n', "control_bad_request"),
                  (b"[1,2,3]\n", "control_bad_request")):
    f.write(req); f.flush()
    r = json.loads(f.readline())
    assert r["ok"] is False and r["code"] == code and r["error"], (req, r)
f.write(b'{"command":"version"}\n'); f.flush()
assert json.loads(f.readline())["ok"] is True, "the connection is unusable after errors"
f = conn()
f.write(b"x" * 70000); f.flush()
r = json.loads(f.readline())
assert r["ok"] is False and r["code"] == "control_bad_request" and "65536" in r["error"], r
try:  # closed: EOF, or a reset since the rest of our request was never read
    assert f.readline() == b"", "the connection stays open after an oversized request"
except ConnectionResetError:
    pass
EOF
[ "$(rc_of ctl n1 status)" = 0 ] || fail "status does not answer after bad requests"
note "exit codes 1/2/3 and bad requests: ok"

# 7. Secrets: nothing of the PSK or of the IKE SA keys with charon is in n1's debug log.
grep -q 'DEBUG\|debug' "$mesh_dir/n1.log" || fail "n1 does not log at debug level"
"$py" - "$mesh_dir/charon/charon.log" "$mesh_dir/n1.log" "$mesh_psk" <<'EOF' || fail "a secret reached the log"
import base64, re, sys
charon, log, psk = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read(), sys.argv[3]
keys, i = {}, 0
while i < len(charon):  # charon's %B dumps: "LABEL => N bytes @ 0x..." then "  0: AB CD ..." lines
    m = re.search(r"\] (?:<[^>]*> )?(Sk_\w+ secret) => (\d+) bytes", charon[i])
    i += 1
    if not m:
        continue
    data = b""
    while i < len(charon) and len(data) < int(m.group(2)):
        h = re.search(r"\]\s+(?:<[^>]*> )?\s*\d+: ((?:[0-9A-F]{2} )+)", charon[i])
        if not h:
            break
        data += bytes.fromhex(h.group(1))
        i += 1
    keys[m.group(1)] = data
need = {f"Sk_{k} secret" for k in ("d", "ei", "er", "pi", "pr")}  # AES-GCM: no SK_a*
assert need <= set(keys) and all(len(v) >= 16 for v in keys.values()), f"charon logged {sorted(keys)}"
sk_d = keys["Sk_d secret"]  # the parser read the dumps right: charon's own text holds them
assert " ".join(f"{b:02X}" for b in sk_d[:8]) in open(sys.argv[1]).read()
raw = base64.b64decode(psk[2:])
keys["psk"] = raw
forms = [psk, psk[2:]]
for name, k in keys.items():
    for part in (k, k[:8], k[-8:]):  # whole keys and 8-byte pieces of them
        forms += [part.hex(), part.hex().upper(), " ".join(f"{b:02x}" for b in part),
                  " ".join(f"{b:02X}" for b in part), base64.b64encode(part).decode().rstrip("=")]
low = log.lower()
for f in forms:
    assert f.lower() not in low, f"secret material {f[:12]}... in the log"
print(f"ikectl: {len(keys)} secrets ({', '.join(sorted(keys))}) absent from a {len(log)}-byte debug log")
EOF
# A psk_file readable by others is refused at start.
bad="$mesh_dir/bad"
mkdir -p "$bad/peers.d"
sed -e "s|$mesh_dir/n1/run|$bad/run|" -e 's|^listen = .*|listen = ["127.0.0.1"]|' "$mesh_dir/n1/ikemesh.conf" >"$bad/ikemesh.conf"
cp "$mesh_dir/n1/peers.d/n2.conf" "$bad/peers.d/"
install -m 0644 "$mesh_dir/mesh.psk" "$bad/mesh.psk"
rc=0
timeout 10 ip netns exec "${mesh_tag}n1" "$ikemeshd" --foreground --config "$bad" >"$mesh_dir/bad.log" 2>&1 || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "ikemeshd started with a 0644 psk_file (exit $rc)"
grep -q 'psk_file' "$mesh_dir/bad.log" && grep -qE 'readable|mode' "$mesh_dir/bad.log" || fail "no clear error for a 0644 psk_file: $(cat "$mesh_dir/bad.log")"
grep -qF "${mesh_psk#0s}" "$mesh_dir/bad.log" && fail "the refusal prints the PSK"
note "a 0644 psk_file is refused at start: $(grep psk_file "$mesh_dir/bad.log" | head -n 1)"

# terminate --json (the IKE SA with charon): charon is told.
[ "$(rc_of ctl n1 terminate n3 --json)" = 0 ] || fail "terminate --json: $(cat "$mesh_dir/err")"
"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"peer": "n3", "action": "terminate"}, d
' "$mesh_dir/out" || fail "terminate --json: $(cat "$mesh_dir/out")"
charon_down() { ! swan_list_sas "$mesh_dir/charon" | grep -q ESTABLISHED; }
wait_for 10 "charon sees the Delete" charon_down

# 5 (end). monitor exits 3 when the daemon goes away.
mesh_kill n1
i=0
while kill -0 "$mon_json" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
rc=0
wait "$mon_json" || rc=$?
[ $rc -eq 3 ] || fail "monitor exit $rc when the daemon went away, expected 3"
note "OK"
