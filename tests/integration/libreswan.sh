#!/bin/bash
# ikemeshd against Libreswan 4.10's pluto (Debian 12), IKE only: the host kernel has no ESP, so
# ikemeshd runs with the fake kernel and pluto's CHILD SA installs fail.
#
#      namespace ikmI-$$                        namespace ikmL-$$
#   +----------------------+                +---------------------------------+
#   | ikemeshd 10.97.0.1   |--- veth pair --| pluto 10.97.0.2 (conn "ls-r")   |
#   +----------------------+                |       10.97.0.3 (conn "ls-i")   |
#                                           +---------------------------------+
#
#   ls-r: pluto initiates (PSK, X25519, AES-GCM-16, transport), ikemeshd is passive
#   ls-i: ikemeshd initiates (PSK, MODP-3072, AES-CBC + HMAC-SHA2-256), pluto only responds
#
# Checks, each bounded in time:
#   1. pluto's IKE SA comes up on ikemeshd; pluto cannot install the CHILD SA, drops its IKE SA
#      without a Delete and revives the connection (Libreswan's way): with initial-contact=yes its
#      new IKE SA's INITIAL_CONTACT clears the stale one, so ikemeshd holds exactly one;
#   2. ikemeshd's IKE SA comes up on pluto; pluto answers the CHILD SA with TS_UNACCEPTABLE (how
#      it reports the failed install): ikemeshd keeps the IKE SA, shows the reason and retries
#      with back-off;
#   3. IKE SA rekey started by ikemeshd and by pluto: ikemeshd holds exactly one IKE SA with new
#      SPIs, pluto one established IKE SA;
#   4. delete started by ikemeshd: pluto drops the IKE SA.
# Needs root (namespaces) and Libreswan unpacked by tests/interop/libreswan.sh (ls_fetch: apt-get
# download; its package conflicts with strongSwan's). Cleans up whatever happens
# (IKEMESH_KEEP_LOGS=1 keeps the logs and configurations).
set -eu
build=${IKEMESH_BUILD:-build}
src=${IKEMESH_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
ikemeshd="$build/daemon/ikemeshd"
ikectl="$build/daemon/ikectl"
t_start=$(date +%s)

# shellcheck source=tests/interop/libreswan.sh
. "$src/tests/interop/libreswan.sh"
# shellcheck source=tests/integration/lib/ikemesh.sh
. "$src/tests/integration/lib/ikemesh.sh"

nsi="ikmI-$$"
nsl="ikmL-$$"
dir=$(mktemp -d /tmp/ikemesh-ls-XXXXXX)
pid=""

fail() {
    echo "libreswan.sh: FAIL: $*" >&2
    [ -f "$dir/ikm.log" ] && { echo "--- ikemeshd (last 25 lines)" >&2; tail -n 25 "$dir/ikm.log" >&2; }
    [ -f "$dir/pluto/pluto.log" ] && { echo "--- pluto (last 25 lines)" >&2; tail -n 25 "$dir/pluto/pluto.log" >&2; }
    exit 1
}
cleanup() {
    [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    ls_stop_all
    ip netns del "$nsi" 2>/dev/null || true
    ip netns del "$nsl" 2>/dev/null || true
    if [ -n "${IKEMESH_KEEP_LOGS:-}" ]; then echo "libreswan.sh: logs kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM

[ -x "$ikemeshd" ] || fail "$ikemeshd is not built"
[ -x "$ikectl" ] || fail "$ikectl is not built"
ls_fetch >"$dir/fetch.log" 2>&1 || fail "cannot unpack Libreswan: $(tail -n 5 "$dir/fetch.log")"

ip netns add "$nsi"
ip netns add "$nsl"
ip link add "ikmli$$" netns "$nsi" type veth peer name "ikmll$$" netns "$nsl"
ip -n "$nsi" addr add 10.97.0.1/24 dev "ikmli$$"
ip -n "$nsl" addr add 10.97.0.2/24 dev "ikmll$$"
ip -n "$nsl" addr add 10.97.0.3/24 dev "ikmll$$"
for ns in "$nsi" "$nsl"; do ip -n "$ns" link set lo up; done
ip -n "$nsi" link set "ikmli$$" up
ip -n "$nsl" link set "ikmll$$" up

psk="libreswan-interop-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
mkdir -p "$dir/ikm/peers.d"
cat >"$dir/ikm/ikemesh.conf" <<EOF
[daemon]
control_socket = "$dir/ikm/run/ikemesh.sock"
kernel = "fake"
listen = ["10.97.0.1"]
log_level = "debug"

[local]
id = "ikm.mesh.test"

[defaults]
psk = "$psk"
dpd_delay = 0

[tuning]
reinitiate_base = "1s"

[peer.ls-r]
address = "10.97.0.2"
id = "ls-r.mesh.test"
start = "passive"
ike = "aes128gcm16-prfsha256-x25519"
esp = "aes128gcm16"

[peer.ls-i]
address = "10.97.0.3"
id = "ls-i.mesh.test"
start = "always"
ike = "aes256-sha256-modp3072"
esp = "aes256-sha256"
EOF
chmod 0600 "$dir/ikm/ikemesh.conf"
# conn NAME ADDRESS IKE ESP
conn() {
    cat <<EOF
conn $1
    left=$2
    right=10.97.0.1
    leftid=@$1.mesh.test
    rightid=@ikm.mesh.test
    authby=secret
    ikev2=insist
    type=transport
    ike=$3
    esp=$4
    pfs=no
    initial-contact=yes
    auto=add
EOF
}
{
    conn ls-r 10.97.0.2 aes_gcm128-sha2_256-dh31 aes_gcm128
    conn ls-i 10.97.0.3 aes-sha2_256-modp3072 aes256-sha2_256
} >"$dir/pluto.conf"
{
    echo "@ls-r.mesh.test @ikm.mesh.test : PSK \"$psk\""
    echo "@ls-i.mesh.test @ikm.mesh.test : PSK \"$psk\""
} >"$dir/pluto.secrets"

LS_WAIT=30 ls_start "$dir/pluto" "$nsl" || fail "pluto did not start"
ls_load "$dir/pluto" "$dir/pluto.conf" "$dir/pluto.secrets" >"$dir/load.out" 2>&1 ||
    fail "pluto could not load the conns: $(cat "$dir/load.out")"
ip netns exec "$nsi" "$ikemeshd" --foreground --config "$dir/ikm" >"$dir/ikm.log" 2>&1 &
pid=$!
IKM_PIDS=$pid

# peer NAME: see ikm_peer
peer() { ikm_peer "$dir/ikm/run/ikemesh.sock" "$1"; }
# pluto_ike NAME: how many established IKE SAs pluto holds for conn NAME
pluto_ike() {
    ls_whack "$dir/pluto" --showstates 2>/dev/null | grep -c "\"$1\":500 STATE_V2_ESTABLISHED_IKE_SA" || true
}
sock_up() { [ -S "$dir/ikm/run/ikemesh.sock" ]; }
ikm_wait_for 10 "ikemeshd did not open its control socket" sock_up

# --- 1. pluto initiates -------------------------------------------------------------------------
LS_WHACK_TIMEOUT=20 ls_initiate "$dir/pluto" ls-r >"$dir/init-ls-r.out" 2>&1 || true
grep -q "established IKE SA" "$dir/init-ls-r.out" ||
    fail "pluto did not establish its IKE SA with ikemeshd: $(tail -n 5 "$dir/init-ls-r.out")"
one_ike() { set -- $(peer "$1"); [ "$1" = established ] && [ "$2" = 1 ]; }
ikm_wait_for 10 "ls-r: not established with one IKE SA on ikemeshd ($(peer ls-r))" one_ike ls-r
# pluto's revival (about 5 s later) replaces its IKE SA; INITIAL_CONTACT clears the old one
revived() { grep -q "ls-r.*peer restarted (INITIAL_CONTACT)" "$dir/ikm.log" && one_ike ls-r; }
ikm_wait_for 20 "ls-r: pluto's revived IKE SA did not replace the old one on ikemeshd ($(peer ls-r))" revived
echo "libreswan.sh: pluto -> ikemeshd: IKE SA up, pluto's silent re-creation healed by INITIAL_CONTACT"

# --- 2. ikemeshd initiates -------------------------------------------------------------------------
child_refused() {
    set -- $(peer ls-i)
    [ "$1 $2 $3" = "established 1 0" ] && [ "$7" = "peer~answered~TS_UNACCEPTABLE" ] &&
        [ "$(pluto_ike ls-i)" = 1 ]
}
ikm_wait_for 20 "ls-i: no IKE SA with the CHILD failure shown ($(peer ls-i); pluto: $(pluto_ike ls-i))" child_refused
echo "libreswan.sh: ikemeshd -> pluto: IKE SA up, CHILD SA refused (TS_UNACCEPTABLE), shown"

# --- 3. IKE SA rekeys -------------------------------------------------------------------------------
rekeyed() { # rekeyed OLD_SPI_I
    set -- "$1" $(peer ls-i)
    [ "$2 $3" = "established 1" ] && [ "$5" != "$1" ] && [ "$(pluto_ike ls-i)" = 1 ]
}
set -- $(peer ls-i)
old=$4
"$ikectl" --socket "$dir/ikm/run/ikemesh.sock" rekey ls-i --ike >/dev/null || fail "ikectl rekey --ike"
ikm_wait_for 15 "ls-i: IKE rekey by ikemeshd ($(peer ls-i); pluto: $(pluto_ike ls-i))" rekeyed "$old"
set -- $(peer ls-i)
old=$4
LS_WHACK_TIMEOUT=15 ls_rekey "$dir/pluto" ls-i ike >"$dir/rekey.out" 2>&1 || true
ikm_wait_for 15 "ls-i: IKE rekey by pluto ($(peer ls-i); pluto: $(pluto_ike ls-i))" rekeyed "$old"
echo "libreswan.sh: IKE SA rekeyed by ikemeshd and by pluto"

# The CHILD SA is retried (1 s base, doubling, +-50% jitter), a bounded number of times.
child_attempts() { grep -c "ls-i.*child_failed: peer answered TS_UNACCEPTABLE" "$dir/ikm.log" || true; }
retried() { [ "$(child_attempts)" -ge 2 ]; }
ikm_wait_for 10 "ls-i: the CHILD SA was not retried" retried
window=$(($(date +%s) - t_start))
attempts=$(child_attempts)
[ "$attempts" -le 9 ] || fail "ls-i: $attempts CHILD SA attempts in $window s: no back-off"
echo "libreswan.sh: ls-i: $attempts CHILD SA attempts in $window s"

# --- 4. delete by ikemeshd ---------------------------------------------------------------------------
"$ikectl" --socket "$dir/ikm/run/ikemesh.sock" terminate ls-i >/dev/null || fail "ikectl terminate"
pluto_dropped() { [ "$(pluto_ike ls-i)" = 0 ]; }
ikm_wait_for 10 "ls-i: pluto kept the IKE SA ikemeshd deleted" pluto_dropped
echo "libreswan.sh: delete by ikemeshd honoured"

ikm_stop "$pid"
pid=""
echo "libreswan.sh: OK in $(($(date +%s) - t_start)) s"
