# shellcheck shell=bash
# Libreswan's pluto as a test peer, beside strongSwan: a bash library (source it). Debian 12's
# libreswan package conflicts with strongSwan's, so it is not installed: ls_fetch unpacks it with
# `dpkg -x` into a cache folder (after installing its library dependencies, which do not
# conflict). pluto starts its helpers from the fixed path /usr/libexec/ipsec/; each pluto runs in a
# mount namespace of its own where a tmpfs over /usr/libexec holds a bind of the unpacked folder,
# and a private /run, so nothing on the machine changes and several plutos can run at once.
#
# One pluto per state folder DIR: DIR/ipsec.conf (its `config setup` and the loaded conns),
# DIR/ipsec.secrets, DIR/nss (its NSS database), DIR/pluto.log, DIR/pluto.out, DIR/pluto.pid and
# DIR/ctl.path (its control socket lives in a folder of its own under /tmp: DIR may be on a file
# system without sockets).
#
#   ls_fetch                 make sure the unpacked package is there (idempotent)
#   ls_start DIR [NETNS]     start pluto, wait until whack answers (bounded)
#   ls_load DIR CONF [SECRETS]  add the conns of an ipsec.conf fragment (conn sections) and the
#                            secrets; every conn gets Libreswan's own _updown
#   ls_whack DIR ARGS...     whack --ctlsocket (DIR's) ARGS...
#   ls_initiate DIR NAME | ls_terminate DIR NAME | ls_rekey DIR NAME ike|ipsec
#   ls_status DIR            whack --trafficstatus and --showstates
#   ls_stop DIR              whack --shutdown, then SIGTERM/SIGKILL; idempotent
#   ls_stop_all              stop every pluto this shell started (call it from an EXIT trap)
# Settings: LS_CACHE (default REPO/.cache/interop), LS_DEBUG (plutodebug, default "none"; "base"
# or "all" log much), LS_WAIT (seconds to wait for pluto, default 60), LS_WHACK_TIMEOUT (default
# 60: whack waits for the outcome of what it asked, and for a refused rekey it waits forever).
# pluto's CHILD rekeys use PFS unless a conn says pfs=no: against a peer whose ESP proposal has no
# DH group that rekey is refused with NO_PROPOSAL_CHOSEN.

LS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LS_CACHE=${LS_CACHE:-$LS_REPO/.cache/interop}
LS_ROOT=$LS_CACHE/libreswan
LS_LIBEXEC=$LS_ROOT/usr/libexec/ipsec
declare -a LS_STARTED=()

_ls_err() { echo "libreswan: $*" >&2; }

ls_fetch() {
    local deps="libnss3 libnss3-tools libcurl3-nss libevent-core-2.1-7 libevent-pthreads-2.1-7
        libldns3 libunbound8 libcap-ng0 libaudit1 libldap-2.5-0 dns-root-data" missing="" p deb
    for p in $deps; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "libreswan: installing$missing" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            $missing >/dev/null || return 1
    fi
    [ -f "$LS_ROOT/.unpacked" ] && return 0
    mkdir -p "$LS_CACHE"
    # `make test` runs the integration tests and the guests at once, and both may fetch: one
    # does, the other waits for it.
    (
        flock 8
        [ -f "$LS_ROOT/.unpacked" ] && exit 0
        rm -rf "$LS_ROOT" "$LS_CACHE"/libreswan_*.deb
        if ! (cd "$LS_CACHE" && apt-get download -q libreswan >"$LS_CACHE/download.log" 2>&1); then
            apt-get update -qq >/dev/null 2>&1 || true # stale lists: the archive moved on
            (cd "$LS_CACHE" && apt-get download -q libreswan >"$LS_CACHE/download.log" 2>&1) ||
                { cat "$LS_CACHE/download.log" >&2; exit 1; }
        fi
        deb=$(ls "$LS_CACHE"/libreswan_*.deb)
        dpkg -x "$deb" "$LS_ROOT"
        rm -f "$deb"
        touch "$LS_ROOT/.unpacked"
    ) 8>"$LS_CACHE/.lock"
}

ls_whack() {
    local dir=${1:?ls_whack DIR ARGS...}
    shift
    # whack waits for the outcome and, when a rekey is refused, forever: bound it.
    timeout "${LS_WHACK_TIMEOUT:-60}" "$LS_LIBEXEC/whack" --ctlsocket "$(cat "$dir/ctl.path")" "$@"
}

ls_start() {
    local dir=${1:?ls_start DIR [NETNS]} ns=${2:-} pid i rundir
    ls_fetch || return 1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/pluto.pid" ] && kill -0 "$(cat "$dir/pluto.pid")" 2>/dev/null; then
        _ls_err "a pluto already runs for $dir"
        return 1
    fi
    rm -rf "$dir/nss" "$dir/pluto.pid"
    mkdir -p "$dir/nss" "$dir/ipsec.d"
    certutil -N -d "sql:$dir/nss" --empty-password || return 1
    rundir=$(mktemp -d /tmp/ls-run.XXXXXX)
    echo "$rundir/pluto.ctl" >"$dir/ctl.path"
    cat >"$dir/ipsec.conf" <<EOF
# written by tests/interop/libreswan.sh
config setup
    logfile=$dir/pluto.log
    logappend=yes
    plutodebug=${LS_DEBUG:-none}
    dumpdir=$rundir
EOF
    : >"$dir/ipsec.secrets"
    local inner='echo $$ >"$1/pluto.pid" && mount -t tmpfs run /run &&
        mount -t tmpfs libexec /usr/libexec && mkdir /usr/libexec/ipsec &&
        mount --bind "$2" /usr/libexec/ipsec &&
        exec /usr/libexec/ipsec/pluto --nofork --config "$1/ipsec.conf" --rundir "$3" \
            --secretsfile "$1/ipsec.secrets" --ipsecdir "$1/ipsec.d" --nssdir "$1/nss" \
            --no-dnssec'
    local -a netns=()
    [ -z "$ns" ] || netns=(ip netns exec "$ns")
    setsid "${netns[@]}" unshare -m --propagation private sh -c "$inner" pluto "$dir" \
        "$LS_LIBEXEC" "$rundir" >"$dir/pluto.out" 2>&1 </dev/null &
    LS_STARTED+=("$dir")
    for ((i = 0; i < 50; i++)); do
        [ -s "$dir/pluto.pid" ] && break
        sleep 0.1
    done
    pid=$(cat "$dir/pluto.pid" 2>/dev/null) || { _ls_err "pluto did not start"; return 1; }
    for ((i = 0; i < ${LS_WAIT:-60} * 5; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            _ls_err "pluto for $dir died at start-up:"
            tail -n 20 "$dir/pluto.out" >&2
            return 1
        fi
        ls_whack "$dir" --status >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    _ls_err "pluto for $dir did not answer within ${LS_WAIT:-60}s"
    ls_stop "$dir"
    return 1
}

ls_load() {
    local dir=${1:?ls_load DIR CONF [SECRETS]} conf=${2:?} secrets=${3:-}
    # Libreswan's own updown: strongSwan's /usr/lib/ipsec/_updown would be found first otherwise,
    # and the CHILD SA would fail in a loop.
    sed "s|^\(conn [^%].*\)$|\1\n    leftupdown=/usr/libexec/ipsec/_updown|" "$conf" >>"$dir/ipsec.conf"
    [ -z "$secrets" ] || cat "$secrets" >>"$dir/ipsec.secrets"
    ls_whack "$dir" --rereadsecrets || return 1
    "$LS_LIBEXEC/addconn" --config "$dir/ipsec.conf" --ctlsocket "$(cat "$dir/ctl.path")" --autoall
}

ls_initiate() { ls_whack "$1" --name "${2:?}" --initiate; }
ls_terminate() { ls_whack "$1" --name "${2:?}" --terminate; }
ls_rekey() { ls_whack "$1" --name "${2:?}" "--rekey-${3:-ike}"; }
ls_status() {
    ls_whack "$1" --trafficstatus
    ls_whack "$1" --showstates
}

ls_stop() {
    local dir=${1:?ls_stop DIR} pid i
    [ -f "$dir/pluto.pid" ] || return 0
    pid=$(cat "$dir/pluto.pid")
    ls_whack "$dir" --shutdown >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null && sleep 0.5
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/pluto.pid"
    local ctl
    ctl=$(cat "$dir/ctl.path" 2>/dev/null) || return 0
    case "$ctl" in /tmp/ls-run.*/pluto.ctl) rm -rf "$(dirname "$ctl")" ;; esac
}

ls_stop_all() {
    local dir
    for dir in "${LS_STARTED[@]}"; do
        ls_stop "$dir"
    done
    LS_STARTED=()
}
