# shellcheck shell=bash
# Helpers shared by the interop integration scripts (strongswan.sh, libreswan.sh): bounded waits,
# one peer's state from `ikectl status --json`, a clean stop. Source it after defining `fail MSG`
# (prints and exits) and setting IKM_PIDS (the ikemeshd processes that must stay alive).

IKM_PY=/usr/bin/python3
[ -x "$IKM_PY" ] || IKM_PY=python3
IKM_PIDS=${IKM_PIDS:-}

# ikm_wait_until MS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds; fails with
# DESCRIPTION when the wall clock passes MS (milliseconds since the epoch, as `date +%s%3N`) or an
# ikemeshd of IKM_PIDS exits. COMMAND is tried once more at the deadline.
ikm_wait_until() {
    local deadline=$1 what=$2 p
    shift 2
    while [ "$(date +%s%3N)" -lt "$deadline" ]; do
        "$@" && return 0
        for p in $IKM_PIDS; do kill -0 "$p" 2>/dev/null || fail "an ikemeshd exited"; done
        sleep 0.2
    done
    "$@" && return 0
    fail "$what"
}

# ikm_wait_for SECONDS DESCRIPTION COMMAND...: the same, SECONDS of wall clock from now
ikm_wait_for() {
    local limit=$1 what=$2
    shift 2
    ikm_wait_until $(($(date +%s%3N) + limit * 1000)) "$what (not within $limit s)" "$@"
}

# ikm_peer SOCKET NAME: "STATE IKE_COUNT CHILD_COUNT SPI_I SPI_R PROPOSAL CHILD_ERROR" of peer NAME
# (of its first IKE SA; "-" for what is missing; spaces in CHILD_ERROR become "~")
ikm_peer() {
    "$ikectl" --socket "$1" status --json 2>/dev/null | "$IKM_PY" -c '
import json, sys
p = [p for p in json.load(sys.stdin)["peers"] if p["name"] == sys.argv[1]][0]
sas = p["ike_sas"]
first = sas[0] if sas else {"spi_i": "-", "spi_r": "-", "proposal": "-"}
print(p["state"], len(sas), len(p["child_sas"]), first["spi_i"], first["spi_r"],
      first["proposal"] or "-", p["child_error"].replace(" ", "~") or "-")
' "$2" 2>/dev/null || echo "no-answer 0 0 - - - -"
}

# ikm_stop PID: SIGTERM, at most 10 s to exit, exit status 0 (fails otherwise)
ikm_stop() {
    local i=0 rc=0
    kill -TERM "$1"
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -0 "$1" 2>/dev/null && fail "ikemeshd $1 did not stop within 10 s of SIGTERM"
    wait "$1" || rc=$?
    [ $rc -eq 0 ] || fail "ikemeshd $1 exited $rc after SIGTERM"
}

# The CHILD SA retry schedule of ikemeshd (docs/config.md, `reinitiate_base`; ike/timer_policy.cpp):
# the k-th retry waits base * 2^(k-1) times a jitter factor in [0.5, 1.5), so the n-th retry comes
# between 0.5 and 1.5 times base * (2^n - 1) after the first failure (later only by the round
# trips of the failed exchanges). reinitiate_max is far above what these scripts wait for.
#
# ikm_retry_deadline_ms BASE_MS N: by how many ms after the first failure the N-th retry is due
ikm_retry_deadline_ms() { echo $((3 * $1 * ((1 << $2) - 1) / 2)); }
# ikm_retries_max BASE_MS WINDOW_MS: the most retries that can start within WINDOW_MS of the first
# failure (the largest n with 0.5 * base * (2^n - 1) <= window)
ikm_retries_max() {
    local n=0
    while [ $(($1 * ((1 << (n + 1)) - 1) / 2)) -le "$2" ] && [ $n -lt 30 ]; do n=$((n + 1)); done
    echo $n
}
