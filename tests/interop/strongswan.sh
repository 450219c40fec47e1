# shellcheck shell=bash
# strongSwan's charon as a test peer: a bash library (source it) and the engine of the `swan`
# command beside it. One charon per state folder DIR, which holds everything of that instance:
# DIR/strongswan.conf (written here), DIR/vici.uri (where its control socket is: a folder of its
# own under /tmp, since DIR may be on a file system that cannot hold sockets, such as the e2e
# guest's 9p out dir), DIR/charon.pid, DIR/charon.log (its file log) and DIR/charon.out.
#
# Each charon runs in a network namespace (or the current one) and in a mount namespace of its
# own with a private tmpfs on /run: two charons on one machine otherwise fight over
# /run/charon.pid (docs/testing.md). Works on the host (IKE only: the host kernel has no ESP, so
# CHILD_SA installs fail there) and in the e2e guest (real ESP).
#
#   swan_start DIR [NETNS]   start charon; wait until its vici socket answers (bounded)
#   swan_ctl DIR --CMD ARGS...  swanctl --CMD --uri (DIR's vici socket) ARGS...
#   swan_load DIR FILE       load connections, secrets and credentials of a swanctl.conf; the
#                            credential folders (x509, x509ca, private, ...) are FILE's siblings
#   swan_initiate DIR --child NAME | --ike NAME
#   swan_list_sas DIR        swanctl --list-sas
#   swan_terminate DIR --ike NAME | --child NAME
#   swan_rekey DIR --ike NAME | --child NAME [--reauth]
#   swan_stop DIR            SIGTERM, then SIGKILL after 5 s; idempotent
#   swan_stop_all            stop every charon this shell started (call it from an EXIT trap)
#
# Settings (environment, read by swan_start):
#   SWAN_LOG      charon file-log levels, e.g. "ike=4 cfg=2 net=4" (default: ike=2 cfg=2 knl=2
#                 net=1 enc=1 default=1). ike 4 logs the DH secret, SKEYSEED and SK_* keys.
#   SWAN_PLUGINS  charon's plugin list (default below: the minimal set for PSK and ECDSA
#                 certificates with AES-GCM, AES-CBC, ChaCha20-Poly1305, X25519/X448, MODP, ECP)
#   SWAN_CHARON   extra lines for the charon { } section of strongswan.conf
#   SWAN_WAIT     seconds to wait for charon to come up (default 60; emulation is slow)

SWAN_CHARON_BIN=${SWAN_CHARON_BIN:-/usr/lib/ipsec/charon}
SWAN_DEFAULT_PLUGINS="random drbg kdf nonce aes sha1 sha2 hmac gcm chapoly curve25519 openssl
    pem pkcs1 pkcs8 x509 pubkey constraints kernel-netlink socket-default vici updown"
declare -a SWAN_STARTED=()

_swan_err() { echo "swan: $*" >&2; }

# Writes DIR/strongswan.conf.
_swan_conf() {
    local dir=$1 levels=${SWAN_LOG:-ike=2 cfg=2 knl=2 net=1 enc=1 default=1} l
    {
        echo "# written by tests/interop/strongswan.sh"
        echo "charon {"
        echo "    load = ${SWAN_PLUGINS:-$SWAN_DEFAULT_PLUGINS}" | tr -s ' \n' ' '
        echo
        echo "    install_routes = no"
        echo "    install_virtual_ip = no"
        echo "    plugins {"
        echo "        vici { socket = $(cat "$dir/vici.uri") }"
        echo "    }"
        echo "    filelog {"
        echo "        charon {"
        echo "            path = $dir/charon.log"
        echo "            time_format = %H:%M:%S"
        echo "            ike_name = yes"
        echo "            append = yes"
        echo "            flush_line = yes"
        for l in $levels; do
            echo "            ${l%%=*} = ${l#*=}"
        done
        echo "        }"
        echo "    }"
        echo "    syslog { daemon { default = -1 } }"
        [ -z "${SWAN_CHARON:-}" ] || printf '    %s\n' "$SWAN_CHARON"
        echo "}"
        # swanctl reads this file too (STRONGSWAN_CONF): only what parsing credentials needs.
        echo "swanctl { load = random openssl pem pkcs1 pkcs8 x509 pubkey }"
    } >"$dir/strongswan.conf"
}

swan_start() {
    local dir=${1:?swan_start DIR [NETNS]} ns=${2:-} pid i wait=${SWAN_WAIT:-60}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/charon.pid" ] && kill -0 "$(cat "$dir/charon.pid")" 2>/dev/null; then
        _swan_err "a charon already runs for $dir (pid $(cat "$dir/charon.pid"))"
        return 1
    fi
    [ -x "$SWAN_CHARON_BIN" ] || { _swan_err "no $SWAN_CHARON_BIN (install strongswan-charon)"; return 1; }
    rm -f "$dir/charon.pid"
    echo "unix://$(mktemp -d /tmp/swan-vici.XXXXXX)/charon.vici" >"$dir/vici.uri"
    _swan_conf "$dir"
    # setsid: its own session, so no terminal signal reaches it by accident. The inner shell
    # writes its own pid, which exec makes charon's, whatever forks on the way.
    local inner='echo $$ >"$1/charon.pid" && mount -t tmpfs run /run && exec "$0"'
    local -a netns=()
    [ -z "$ns" ] || netns=(ip netns exec "$ns")
    STRONGSWAN_CONF=$dir/strongswan.conf setsid "${netns[@]}" \
        unshare -m --propagation private sh -c "$inner" "$SWAN_CHARON_BIN" "$dir" \
        >"$dir/charon.out" 2>&1 </dev/null &
    SWAN_STARTED+=("$dir")
    for ((i = 0; i < 50; i++)); do
        [ -s "$dir/charon.pid" ] && break
        sleep 0.1
    done
    pid=$(cat "$dir/charon.pid" 2>/dev/null) || { _swan_err "charon did not start"; return 1; }
    for ((i = 0; i < wait * 5; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            _swan_err "charon for $dir died at start-up:"
            tail -n 20 "$dir/charon.out" "$dir/charon.log" >&2 2>/dev/null
            return 1
        fi
        if swan_ctl "$dir" --stats >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    _swan_err "charon for $dir did not open its vici socket within ${wait}s"
    swan_stop "$dir"
    return 1
}

# swanctl wants its command first, then the options.
swan_ctl() {
    local dir=${1:?swan_ctl DIR --COMMAND ARGS...} cmd=${2:?swan_ctl DIR --COMMAND ARGS...}
    shift 2
    STRONGSWAN_CONF=$dir/strongswan.conf swanctl "$cmd" --uri "$(cat "$dir/vici.uri")" "$@"
}

# swanctl reads credentials from folders beside the swanctl.conf it loads: give it a private copy
# in DIR/swanctl with every folder present (the source may be read-only, as in the guest).
SWAN_CRED_DIRS="x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8
    pkcs12"
swan_load() {
    local dir=${1:?swan_load DIR FILE} file=${2:?swan_load DIR FILE} src d
    src=$(cd "$(dirname "$file")" && pwd)
    rm -rf "$dir/swanctl"
    mkdir -p "$dir/swanctl"
    cp "$file" "$dir/swanctl/swanctl.conf"
    for d in $SWAN_CRED_DIRS; do
        if [ -d "$src/$d" ]; then
            cp -r "$src/$d" "$dir/swanctl/$d"
        else
            mkdir "$dir/swanctl/$d"
        fi
    done
    swan_ctl "$dir" --load-all --noprompt --file "$dir/swanctl/swanctl.conf"
}
swan_initiate() {
    local dir=$1
    shift
    swan_ctl "$dir" --initiate --timeout "${SWAN_INITIATE_TIMEOUT:-30}" "$@"
}
swan_list_sas() { swan_ctl "$1" --list-sas; }
swan_terminate() {
    local dir=$1
    shift
    swan_ctl "$dir" --terminate --timeout 10 "$@"
}
swan_rekey() {
    local dir=$1
    shift
    swan_ctl "$dir" --rekey "$@"
}

swan_stop() {
    local dir=${1:?swan_stop DIR} pid i
    [ -f "$dir/charon.pid" ] || return 0
    pid=$(cat "$dir/charon.pid")
    if kill -TERM "$pid" 2>/dev/null; then
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/charon.pid"
    if [ -f "$dir/vici.uri" ]; then
        local sock
        sock=$(sed 's|^unix://||' "$dir/vici.uri")
        case "$sock" in /tmp/swan-vici.*/charon.vici) rm -rf "$(dirname "$sock")" ;; esac
    fi
}

swan_stop_all() {
    local dir
    for dir in "${SWAN_STARTED[@]}"; do
        swan_stop "$dir"
    done
    SWAN_STARTED=()
}
