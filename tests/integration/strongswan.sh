#!/bin/bash
# ikemeshd against strongSwan's charon (5.9.8), IKE only: the host kernel has XFRM netlink but no
# ESP, so ikemeshd runs with the fake kernel and charon's CHILD SA installs fail.
#
#      namespace ikmI-$$                              namespace ikmS-$$
#   +----------------------------+                +------------------------------+
#   | ikemeshd "psk"  10.98.0.1  |                | charon (one process)         |
#   | ikemeshd "cert" 10.98.0.2  |--- veth pair --| 10.98.0.11 ... 10.98.0.20,   |
#   +----------------------------+                | one address per connection   |
#                                                 +------------------------------+
#
# One charon, ten connections, each on an address of its own with an identity of its own, so
# every combination is one peer of ikemeshd (control sockets in a private temporary directory):
#
#   connection   addr  who initiates  auth  IKE proposal              what else is checked
#   i-psk-gcm    .11   ikemeshd       PSK   aes128gcm16-prfsha256-x25519  CHILD failure + back-off
#   i-psk-cbc    .12   ikemeshd       PSK   aes256-sha256-modp3072    IKE rekey by ikemeshd
#   i-cert-gcm   .13   ikemeshd       ECDSA aes128gcm16-prfsha256-x25519  IKE rekey by charon
#   i-cert-cbc   .14   ikemeshd       ECDSA aes256-sha256-modp3072    delete by ikemeshd
#   r-psk-gcm    .15   charon         PSK   aes128gcm16-prfsha256-x25519  delete by charon
#   r-psk-cbc    .16   charon         PSK   aes256-sha256-modp3072    IKE rekey by ikemeshd
#   r-cert-gcm   .17   charon         ECDSA aes128gcm16-prfsha256-x25519  IKE rekey by charon
#   r-cert-cbc   .18   charon         ECDSA aes256-sha256-modp3072    delete by ikemeshd
#   i-dpd        .19   ikemeshd       PSK   (x25519, GCM; childless)  ikemeshd's DPD answered
#   r-dpd        .20   charon         PSK   (x25519, GCM; childless)  charon's DPD answered
#
# Checks, each bounded in time:
#   1. every IKE SA comes up with the negotiated proposal, and ikemeshd and charon agree on its
#      SPIs; the ECDSA connections authenticated with signatures both ways (charon's log);
#   2. the CHILD SA fails on charon's side (no ESP): ikemeshd keeps the IKE SA, shows the reason
#      in `ikectl status` (JSON child_error and the human table) and, where it initiated, retries
#      with back-off (the CREATE_CHILD_SA retries charon sees come when the back-off schedule
#      says, and no more of them);
#   3. IKE SA rekey started by either side: SPIs change, exactly one IKE SA after, on both sides;
#   4. DPD: charon answers ikemeshd's liveness checks and ikemeshd answers charon's (the SA stays);
#   5. delete started by either side: the other side drops the IKE SA.
# Needs root (namespaces) and strongSwan (packaging/install-deps.sh test). Cleans up namespaces,
# processes and files whatever happens (IKEMESH_KEEP_LOGS=1 keeps the logs and configurations).
set -eu
build=${IKEMESH_BUILD:-build}
src=${IKEMESH_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
ikemeshd="$build/daemon/ikemeshd"
ikectl="$build/daemon/ikectl"
t_start=$(date +%s)

# shellcheck source=tests/interop/strongswan.sh
. "$src/tests/interop/strongswan.sh"
# shellcheck source=tests/interop/pki.sh
. "$src/tests/interop/pki.sh"
# shellcheck source=tests/integration/lib/ikemesh.sh
. "$src/tests/integration/lib/ikemesh.sh"

# the CHILD SA retry back-off of both daemons (reinitiate_base), in whole seconds
reinit_base_s=1

nsi="ikmI-$$"
nss="ikmS-$$"
dir=$(mktemp -d /tmp/ikemesh-swan-XXXXXX)
IKM_PIDS=""

fail() {
    echo "strongswan.sh: FAIL: $*" >&2
    for n in psk cert; do
        [ -f "$dir/$n.log" ] && { echo "--- ikemeshd $n (last 25 lines)" >&2; tail -n 25 "$dir/$n.log" >&2; }
    done
    [ -f "$dir/charon/charon.log" ] && { echo "--- charon (last 40 lines)" >&2; tail -n 40 "$dir/charon/charon.log" >&2; }
    exit 1
}
cleanup() {
    for p in $IKM_PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $IKM_PIDS; do wait "$p" 2>/dev/null || true; done
    swan_stop_all
    ip netns del "$nsi" 2>/dev/null || true
    ip netns del "$nss" 2>/dev/null || true
    if [ -n "${IKEMESH_KEEP_LOGS:-}" ]; then echo "strongswan.sh: logs kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM

[ -x "$ikemeshd" ] || fail "$ikemeshd is not built"
[ -x "$ikectl" ] || fail "$ikectl is not built"
[ -x "$SWAN_CHARON_BIN" ] && command -v swanctl >/dev/null ||
    fail "strongSwan is not installed (packaging/install-deps.sh test)"

# --- topology ---------------------------------------------------------------------------------
ip netns add "$nsi"
ip netns add "$nss"
ip link add "ikmsi$$" netns "$nsi" type veth peer name "ikmss$$" netns "$nss"
ip -n "$nsi" addr add 10.98.0.1/24 dev "ikmsi$$"
ip -n "$nsi" addr add 10.98.0.2/24 dev "ikmsi$$"
for a in 11 12 13 14 15 16 17 18 19 20; do
    ip -n "$nss" addr add "10.98.0.$a/24" dev "ikmss$$"
done
for ns in "$nsi" "$nss"; do ip -n "$ns" link set lo up; done
ip -n "$nsi" link set "ikmsi$$" up
ip -n "$nss" link set "ikmss$$" up

# name address initiator auth ike-proposal esp-proposal
conns="i-psk-gcm 11 ikm psk gcm
i-psk-cbc 12 ikm psk cbc
i-cert-gcm 13 ikm cert gcm
i-cert-cbc 14 ikm cert cbc
r-psk-gcm 15 swan psk gcm
r-psk-cbc 16 swan psk cbc
r-cert-gcm 17 swan cert gcm
r-cert-cbc 18 swan cert cbc
i-dpd 19 ikm psk dpd
r-dpd 20 swan psk dpd"
ike_of() { case $1 in cbc) echo aes256-sha256-modp3072 ;; *) echo aes128gcm16-prfsha256-x25519 ;; esac; }
esp_of() { case $1 in cbc) echo aes256-sha256 ;; *) echo aes128gcm16 ;; esac; }

# --- credentials: a PSK and a P-256 PKI made here -------------------------------------------------
psk="0s$(head -c 32 /dev/urandom | base64)"
pki=$dir/pki
{
    pki_ca "$pki" "ikemesh interop CA" &&
        pki_cert "$pki" ikm ikm-cert.mesh.test &&
        # charon: one certificate naming the identity of every certificate connection
        pki_cert "$pki" swan i-cert-gcm.swan.test i-cert-cbc.swan.test r-cert-gcm.swan.test \
            r-cert-cbc.swan.test &&
        swan_creds "$pki" swan "$dir/swan"
} >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; fail "openssl could not make the PKI"; }

# --- charon's swanctl.conf ------------------------------------------------------------------------
{
    echo "connections {"
    echo "$conns" | while read -r name a who auth alg; do
        if [ "$auth" = cert ]; then mine="ikm-cert.mesh.test" ikm=10.98.0.2; else mine="ikm-psk.mesh.test" ikm=10.98.0.1; fi
        cat <<EOF
    $name {
        local_addrs = 10.98.0.$a
        remote_addrs = $ikm
        proposals = $(ike_of "$alg")
        dpd_delay = $([ "$name" = r-dpd ] && echo 1s || echo 0s)
        local {
            auth = $([ "$auth" = cert ] && echo pubkey || echo psk)
            id = $name.swan.test
$([ "$auth" = cert ] && echo "            certs = swan.pem")
        }
        remote {
            auth = $([ "$auth" = cert ] && echo pubkey || echo psk)
            id = $mine
        }
EOF
        if [ "$alg" != dpd ]; then
            cat <<EOF
        children {
            $name {
                mode = transport
                esp_proposals = $(esp_of "$alg")
            }
        }
EOF
        fi
        echo "    }"
    done
    echo "}"
    echo "secrets {"
    printf '    ike-mesh {\n        id = ikm-psk.mesh.test\n        secret = %s\n    }\n' "$psk"
    echo "}"
} >"$dir/swan/swanctl.conf"

# --- the two ikemeshd configurations ------------------------------------------------------------
# node NAME ADDRESS AUTH
node() {
    mkdir -p "$dir/$1/peers.d"
    {
        cat <<EOF
[daemon]
control_socket = "$dir/$1/run/ikemesh.sock"
kernel = "fake"
listen = ["$2"]
log_level = "debug"

[local]
id = "ikm-$1.mesh.test"
EOF
        if [ "$3" = cert ]; then
            printf 'auth = "cert"\ncert = "%s"\nkey = "%s"\nca = "%s"\n' "$pki/ikm.pem" "$pki/ikm.key" "$pki/ca.pem"
        fi
        cat <<EOF

[defaults]
dpd_delay = 0
$([ "$3" = psk ] && echo "psk = \"$psk\"")

[tuning]
reinitiate_base = "${reinit_base_s}s"
EOF
    } >"$dir/$1/ikemesh.conf"
    chmod 0600 "$dir/$1/ikemesh.conf"
}
node psk 10.98.0.1 psk
node cert 10.98.0.2 cert
echo "$conns" | while read -r name a who auth alg; do
    {
        echo "[peer.$name]"
        echo "address = \"10.98.0.$a\""
        echo "id = \"$name.swan.test\""
        echo "start = \"$([ "$who" = ikm ] && echo always || echo passive)\""
        if [ "$alg" = dpd ]; then
            echo 'ike = "aes128gcm16-prfsha256-x25519"'
            echo 'childless = true'
            [ "$name" = i-dpd ] && echo 'dpd_delay = "1s"'
        else
            echo "ike = \"$(ike_of "$alg")\""
            echo "esp = \"$(esp_of "$alg")\""
        fi
    } >"$dir/$auth/peers.d/$name.conf"
    chmod 0600 "$dir/$auth/peers.d/$name.conf"
done
for n in psk cert; do
    "$ikemeshd" --check --config "$dir/$n" >"$dir/check-$n.out" 2>&1 ||
        fail "ikemeshd --check rejects the $n node: $(cat "$dir/check-$n.out")"
done

# --- start charon, then the two daemons -----------------------------------------------------------
SWAN_LOG="ike=2 cfg=1 knl=1 net=1 enc=1 default=1" SWAN_WAIT=30 swan_start "$dir/charon" "$nss" ||
    fail "charon did not start"
swan_load "$dir/charon" "$dir/swan/swanctl.conf" >"$dir/load.out" 2>&1 ||
    fail "swanctl could not load the connections: $(cat "$dir/load.out")"
grep -q "successfully loaded 10 connections" "$dir/load.out" && ! grep -q "ignored" "$dir/load.out" || fail "charon: $(cat "$dir/load.out")"
for n in psk cert; do
    ip netns exec "$nsi" "$ikemeshd" --foreground --config "$dir/$n" >"$dir/$n.log" 2>&1 &
    IKM_PIDS="$IKM_PIDS $!"
done

ctl() { # ctl NODE ARGS...
    local n=$1
    shift
    "$ikectl" --socket "$dir/$n/run/ikemesh.sock" "$@"
}
node_of() { case $1 in *cert*) echo cert ;; *) echo psk ;; esac; }

# peer NAME: see ikm_peer
peer() { ikm_peer "$dir/$(node_of "$1")/run/ikemesh.sock" "$1"; }
# swan_sas NAME: "SPI_I SPI_R" of each ESTABLISHED IKE SA of charon's connection NAME, one a line
swan_sas() {
    swan_ctl "$dir/charon" --list-sas --ike "$1" 2>/dev/null |
        sed -n "s/^$1: #[0-9]*, ESTABLISHED, IKEv2, \([0-9a-f]*\)_i\*\{0,1\} \([0-9a-f]*\)_r\*\{0,1\}$/\1 \2/p"
}
# established NAME: one IKE SA on each side, same SPIs
established() {
    set -- "$1" $(peer "$1")
    [ "$2" = established ] && [ "$3" = 1 ] && [ "$(swan_sas "$1")" = "$5 $6" ]
}

# --- 1. every IKE SA comes up -----------------------------------------------------------------------
# both daemons listen first (their control sockets appear after the IKE sockets are bound)
sockets_up() { [ -S "$dir/psk/run/ikemesh.sock" ] && [ -S "$dir/cert/run/ikemesh.sock" ]; }
ikm_wait_for 10 "the daemons did not open their control sockets" sockets_up
for name in r-psk-gcm r-psk-cbc r-cert-gcm r-cert-cbc; do
    # charon asks for a CHILD SA with the IKE SA; it cannot install it, so "initiate" fails
    swan_initiate "$dir/charon" --child "$name" --ike "$name" >"$dir/init-$name.out" 2>&1 || true
done
swan_initiate "$dir/charon" --ike r-dpd >"$dir/init-r-dpd.out" 2>&1 ||
    fail "charon could not bring up r-dpd: $(tail -n 5 "$dir/init-r-dpd.out")"
echo "$conns" | while read -r name a who auth alg; do
    ikm_wait_for 30 "$name: no IKE SA with the same SPIs on both sides ($(peer "$name"); charon: $(swan_sas "$name"))" \
        established "$name"
    set -- $(peer "$name")
    want=$(ike_of "$alg" | sed 's/sha256-modp/sha256-prfsha256-modp/') # the PRF implied, as printed
    [ "$6" = "$want" ] || fail "$name negotiated $6, expected $want"
done
for name in i-cert-gcm i-cert-cbc r-cert-gcm r-cert-cbc; do
    grep -Eq "<$name\|[0-9]+> authentication of 'ikm-cert.mesh.test' with (ECDSA|RFC7427)[^']*successful" \
        "$dir/charon/charon.log" || fail "$name: charon did not verify ikemeshd's ECDSA signature"
done
grep -q "<i-psk-gcm|[0-9]*> authentication of 'ikm-psk.mesh.test' with pre-shared key successful" \
    "$dir/charon/charon.log" || fail "charon did not log the PSK authentication"
echo "strongswan.sh: 10 IKE SAs up (after $(($(date +%s) - t_start)) s)"

# --- 2. the CHILD SA fails on charon's side; ikemeshd keeps the IKE SA and says why ----------------
child_failed() {
    set -- "$1" $(peer "$1")
    [ "$2" = established ] && [ "$3" = 1 ] && [ "$4" = 0 ] && [ "$8" != - ]
}
for name in i-psk-gcm i-psk-cbc i-cert-gcm i-cert-cbc r-psk-gcm r-psk-cbc r-cert-gcm r-cert-cbc; do
    ikm_wait_for 10 "$name: no CHILD failure shown while the IKE SA stands ($(peer "$name"))" child_failed "$name"
    # i-psk-gcm's first CHILD failure (in IKE_AUTH) happened by now: its retries are due from here
    if [ "$name" = i-psk-gcm ]; then child_fail_seen_ms=$(date +%s%3N); fi
done
set -- $(peer i-psk-gcm)
reason_i=$(echo "$7" | tr "~" " ")
set -- $(peer r-psk-gcm)
reason_r=$(echo "$7" | tr "~" " ")
echo "strongswan.sh: CHILD SA failure shown: initiator side '$reason_i', responder side '$reason_r'"
rc=0
ctl psk status >"$dir/status.txt" || rc=$?
[ $rc -eq 0 ] || fail "ikectl status exit $rc (every start = \"always\" peer is up)"
grep "^i-psk-gcm .*established" "$dir/status.txt" | grep -qF "CHILD SA: $reason_i" ||
    fail "the human status does not show the CHILD failure of i-psk-gcm: $(cat "$dir/status.txt")"
grep -q "NO_PROPOSAL_CHOSEN\|TS_UNACCEPTABLE" <<<"$reason_i" ||
    fail "i-psk-gcm: the CHILD failure does not name charon's notify: $reason_i"

# --- 3. IKE SA rekey started by either side ---------------------------------------------------------
# rekeyed NAME OLD_SPI_I: one IKE SA on each side, new SPIs, the same on both sides
rekeyed() {
    set -- "$1" "$2" $(peer "$1")
    [ "$3" = established ] && [ "$4" = 1 ] && [ "$6" != "$2" ] && [ "$(swan_sas "$1")" = "$6 $7" ]
}
for name in i-psk-cbc r-psk-cbc i-cert-gcm r-cert-gcm; do
    set -- $(peer "$name")
    old=$4
    case $name in
        *-psk-cbc) ctl "$(node_of "$name")" rekey "$name" --ike >/dev/null || fail "ikectl rekey $name --ike" ;;
        *) swan_rekey "$dir/charon" --ike "$name" >/dev/null 2>&1 || fail "swanctl --rekey --ike $name" ;;
    esac
    ikm_wait_for 15 "$name: IKE rekey did not leave exactly one new IKE SA on both sides ($(peer "$name"); charon: $(swan_sas "$name"))" \
        rekeyed "$name" "$old"
done
echo "strongswan.sh: IKE SAs rekeyed by ikemeshd (i-psk-cbc, r-psk-cbc) and by charon (i-cert-gcm, r-cert-gcm)"

# --- 5. delete started by either side ---------------------------------------------------------------
# gone NAME SPI_I: ikemeshd has no IKE SA with this SPI and charon none at all
gone_both() {
    set -- "$1" "$2" $(peer "$1")
    [ "$5" != "$2" ] && [ -z "$(swan_sas "$1")" ]
}
set -- $(peer i-cert-cbc)
old=$4
ctl cert terminate i-cert-cbc >/dev/null || fail "ikectl terminate i-cert-cbc"
ikm_wait_for 10 "i-cert-cbc: charon kept the IKE SA ikemeshd deleted" gone_both i-cert-cbc "$old"
set -- $(peer r-cert-cbc)
old=$4
ctl cert terminate r-cert-cbc >/dev/null || fail "ikectl terminate r-cert-cbc"
ikm_wait_for 10 "r-cert-cbc: charon kept the IKE SA ikemeshd deleted" gone_both r-cert-cbc "$old"
swan_terminate "$dir/charon" --ike r-psk-gcm >/dev/null 2>&1 || fail "swanctl --terminate r-psk-gcm"
ikm_down() { set -- $(peer "$1"); [ "$2" = 0 ]; }
ikm_wait_for 10 "r-psk-gcm: ikemeshd kept the IKE SA charon deleted ($(peer r-psk-gcm))" ikm_down r-psk-gcm
grep -q "<i-cert-cbc|[0-9]*> received DELETE for IKE_SA" "$dir/charon/charon.log" ||
    fail "charon did not log ikemeshd's IKE delete"
echo "strongswan.sh: deletes by ikemeshd (i-cert-cbc, r-cert-cbc) and by charon (r-psk-gcm) honoured"

# --- 4. DPD both ways (1 s on one side each); then the back-off count of step 2 ---------------------
# Charon logs each INFORMATIONAL it parses; empty ones are liveness checks or their answers.
dpd_seen() {
    [ "$(grep -c "<i-dpd|[0-9]*> parsed INFORMATIONAL request [0-9]* \[ \]" "$dir/charon/charon.log")" -ge 3 ] &&
        [ "$(grep -c "<r-dpd|[0-9]*> parsed INFORMATIONAL response [0-9]* \[ \]" "$dir/charon/charon.log")" -ge 3 ]
}
ikm_wait_for 20 "fewer than 3 liveness checks answered each way (i-dpd requests: $(grep -c '<i-dpd|.*parsed INFORMATIONAL request' "$dir/charon/charon.log"); r-dpd answers: $(grep -c '<r-dpd|.*parsed INFORMATIONAL response' "$dir/charon/charon.log"))" \
    dpd_seen
for name in i-dpd r-dpd; do
    established "$name" || fail "$name: the IKE SA did not survive the liveness checks ($(peer "$name"))"
done
grep -q "checking liveness" "$dir/psk.log" || fail "ikemeshd did not log its liveness checks"
echo "strongswan.sh: DPD answered both ways, both IKE SAs still up"

# CHILD retries of i-psk-gcm: the CREATE_CHILD_SA requests with traffic selectors charon parses.
# (Charon logs the IKE_AUTH request before it picks the connection, as "<9> parsed IKE_AUTH", so
# the first attempt carries no connection name and is not counted here.) The second retry is due
# at most 1.5 * base * 3 after the first failure (lib/ikemesh.sh); wait for it that long, plus 1 s
# for the failed exchanges' round trips and the 0.2 s polling. Then the count must stay under the most
# retries the back-off allows since the start of the script (before the first failure, so the
# bound is generous); a tight loop would be hundreds.
retries() {
    grep -c "<i-psk-gcm|[0-9]*> parsed CREATE_CHILD_SA request [0-9]* \[.*TSi TSr" \
        "$dir/charon/charon.log" || true
}
retried_twice() { [ "$(retries)" -ge 2 ]; }
# The first failure: ikemeshd's log line (local time, as `date -d` reads it), else when step 2 saw it.
first=$(grep -m1 " i-psk-gcm\[.*child_failed" "$dir/psk.log" | cut -c1-23)
t_child_fail_ms=$(date -d "$first" +%s%3N 2>/dev/null) || t_child_fail_ms=$child_fail_seen_ms
if [ -z "$first" ] || [ "$t_child_fail_ms" -gt "$child_fail_seen_ms" ]; then
    t_child_fail_ms=$child_fail_seen_ms
fi
due_ms=$((t_child_fail_ms + $(ikm_retry_deadline_ms $((reinit_base_s * 1000)) 2) + 1000))
ikm_wait_until "$due_ms" \
    "i-psk-gcm: fewer than 2 CHILD SA retries by 1.5 * $reinit_base_s s * (1 + 2) + 1 s after the first failure ($first)" \
    retried_twice
window_ms=$(($(date +%s%3N) - t_start * 1000))
attempts=$(retries)
most=$(ikm_retries_max $((reinit_base_s * 1000)) "$window_ms")
[ "$attempts" -le "$most" ] ||
    fail "i-psk-gcm: $attempts CHILD SA retries in $((window_ms / 1000)) s, the back-off allows $most: no back-off"
set -- $(peer i-psk-gcm)
[ "$1 $2 $3" = "established 1 0" ] || fail "i-psk-gcm lost its IKE SA while retrying the CHILD SA"
echo "strongswan.sh: i-psk-gcm: $attempts CHILD SA retries in $((window_ms / 1000)) s (at most $most), IKE SA kept"

# Both daemons still answer and stop cleanly.
for n in psk cert; do ctl "$n" version >/dev/null || fail "ikemeshd $n no longer answers"; done
# i-cert-cbc was terminated by the operator: a start = "always" peer down, so status exits 4
rc=0
ctl cert status >/dev/null || rc=$?
[ $rc -eq 4 ] || fail "ikectl status exit $rc with i-cert-cbc terminated, expected 4"
for p in $IKM_PIDS; do ikm_stop "$p"; done
IKM_PIDS=""
echo "strongswan.sh: OK in $(($(date +%s) - t_start)) s"
