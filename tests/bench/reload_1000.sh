#!/bin/bash
# Daemon-level reload benchmark (issue 5): one ikemeshd (fake kernel) in a network namespace with
# 1,000 peers configured `start = "on-demand"` (trap policies only, so nothing is sent), one peer
# file changed per run, `ikectl reload` timed end to end (fork of ikectl, request, parse and
# validation of 1,001 files, diff, engine work for the changed peer, answer). Prints each run and
# the median; checks that every run changed exactly that one peer and left the 999 others alone
# (same peers, same states, reload output "1 changed, 999 unchanged").
#
#   sudo IKEMESH_BUILD=build tests/bench/reload_1000.sh [RUNS]     (default 11 runs)
#
# Not run by CTest. Needs root (namespace). Cleans up whatever happens.
set -eu
MESH_TEST=reload_1000
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib/mesh.sh
. "$here/../integration/lib/mesh.sh"
runs=${1:-11}
peers=1000
mesh_setup
mesh_node n1 1
MESH_START=on-demand mesh_config n1
"$py" - "$mesh_dir/n1/peers.d" "$peers" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, f"peer{i:04d}.conf"), "w") as f:
        f.write(f'[peer.peer{i:04d}]\naddress = "10.78.{i // 250}.{i % 250 + 1}"\nid = "peer{i:04d}.mesh.test"\n')
EOF
start_ms=$(now_ms)
mesh_start n1
ready() {
    ctl n1 list-peers --json | "$py" -c "import json,sys; assert len(json.load(sys.stdin)['peers']) == $peers"
}
wait_for 60 "ikemeshd up with $peers peers" ready
note "ikemeshd answered with $peers peers $(($(now_ms) - start_ms)) ms after start"
ctl n1 list-peers --json >"$mesh_dir/peers.before"

"$py" - "$ikectl" "$mesh_dir/n1/run/ikemesh.sock" "$mesh_dir/n1/peers.d/peer0500.conf" "$runs" "$peers" <<'EOF' || fail "benchmark"
import statistics, subprocess, sys, time
ikectl, sock, changed, runs, peers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
base = open(changed).read()
times = []
for run in range(runs):
    with open(changed, "w") as f:  # alternate between two dpd_delay values: always a change
        f.write(base + f'dpd_delay = "{10 + run % 2}s"\n')
    t = time.perf_counter()
    out = subprocess.run([ikectl, "--socket", sock, "reload"], capture_output=True, text=True, timeout=30)
    ms = (time.perf_counter() - t) * 1000
    want = f"configuration reloaded: {peers} peers (0 added, 0 removed, 1 changed, {peers - 1} unchanged)"
    assert out.returncode == 0 and out.stdout.splitlines()[:1] == [want], (out.returncode, out.stdout, out.stderr)
    assert "changed: peer0500" in out.stdout.splitlines(), out.stdout
    times.append(ms)
    print(f"reload_1000: run {run + 1}: {ms:.1f} ms")
print(f"reload_1000: median of {runs} runs: {statistics.median(times):.1f} ms "
      f"(min {min(times):.1f}, max {max(times):.1f})")
EOF
ctl n1 list-peers --json >"$mesh_dir/peers.after"
"$py" - "$mesh_dir/peers.before" "$mesh_dir/peers.after" <<'EOF' || fail "the 999 unchanged peers were touched"
import json, sys
a, b = (json.load(open(p))["peers"] for p in sys.argv[1:3])
key = lambda p: {k: p[k] for k in ("name", "address", "id", "start", "state", "ike_sas", "child_sas")}
assert len(a) == len(b) == 1000
diff = [x["name"] for x, y in zip(a, b) if key(x) != key(y)]
assert diff == [], diff[:10]
EOF
note "the other $((peers - 1)) peers are untouched"
