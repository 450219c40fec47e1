# shellcheck shell=bash
# The e2e scenario language: a scenario file is a bash script sourced by tests/e2e/runner after
# this file, in a subshell of its own with `set -eE -o pipefail`. It declares hosts (network
# namespaces), links and addresses, then runs steps; the first failing step fails the scenario,
# and everything it created (namespaces, background daemons) is removed on exit, pass or fail.
#
# Topology
#   host NAME                      a network namespace (loopback up)
#   switch NAME                    a namespace holding bridge br0 (a bridge in the root namespace
#                                  drops forwarded IP on these machines: docs/testing.md)
#   link NAME SWITCH ADDR/LEN...   a veth from host NAME (ethN there) to SWITCH's bridge
#   wire A B ADDR_A/LEN ADDR_B/LEN a direct veth pair between two hosts
#   ip4 NAME, ip6 NAME             print the host's first IPv4 / IPv6 address (no prefix length)
# Steps
#   on NAME CMD...                 run CMD in NAME's namespace; it must exit 0
#   fails NAME CMD...              CMD must exit non-zero
#   expect NAME REGEX CMD...       CMD must exit 0 and its output match REGEX (grep -E)
#   expect_not NAME REGEX CMD...   CMD's output must not match REGEX
#   eventually SECS NAME REGEX CMD...  retry CMD (every 0.2 s) until its output matches REGEX
#   daemon NAME TAG CMD...         start CMD in the background, output to $E2E_LOG/TAG.log;
#                                  stopped when the scenario ends
#   stop TAG                       stop a daemon now (SIGTERM, then SIGKILL) and wait for it
#   signal TAG SIG                 send SIG (KILL, STOP, CONT, HUP, ...) to a daemon's process
#                                  group; after KILL it is reaped and forgotten, as after stop
#   requires WHAT                  skip the scenario unless WHAT holds: esp (the kernel can
#                                  install ESP states), cmd:PROGRAM, root, systemd (PID 1 is
#                                  systemd: the guest of tests/e2e/vm --systemd)
#   at_least WHAT VALUE MIN        VALUE must be an integer >= MIN (WHAT names it in the report)
#   note TEXT                      narrate
#   _fail TEXT                     fail the scenario here
#   at_exit CMD...                 run CMD (in the runner's namespace) when the scenario ends,
#                                  before its namespaces go; e.g. at_exit swan_stop DIR
# Helpers
#   ns_of NAME                     the namespace name of host NAME (for ip -n, swan_start, ...)
#   esp_counter NAME SPI bytes|packets   one SA's current lifetime counter
#   esp_packets NAME               packets counted by all of NAME's ESP states
# NAME "-" means the namespace the runner itself is in; only there can a step be a shell function.
# Scenario-local files go to $E2E_LOG. The runner puts tests/e2e/lib/bin (e2e-probe) and
# tests/interop on PATH.

E2E_PREFIX=${E2E_PREFIX:-e2e$$-}
E2E_LOG=${E2E_LOG:-$(mktemp -d)}
E2E_STEP=0
declare -A E2E_IP4=() E2E_IP6=() E2E_NIF=() E2E_PID=()
declare -a E2E_NS=() E2E_AT_EXIT=()

note() { echo "  * $*"; }

_fail() {
    echo "  FAILED: $*" >&2
    exit 1
}

# The namespace of a scenario host name ("-" is the runner's own).
ns_of() {
    if [ "$1" = - ]; then
        echo -
    else
        [ -n "${E2E_NIF[$1]+x}" ] || _fail "unknown host '$1'"
        echo "$E2E_PREFIX$1"
    fi
}

# in NAME CMD...: exec CMD inside NAME's namespace.
in_ns() {
    local ns
    ns=$(ns_of "$1")
    shift
    if [ "$ns" = - ]; then
        "$@"
    else
        ip netns exec "$ns" "$@"
    fi
}

host() {
    local name=$1 ns=$E2E_PREFIX$1
    [ ${#ns} -le 30 ] || _fail "namespace name $ns too long"
    ip netns add "$ns" || _fail "ip netns add $ns"
    E2E_NS+=("$ns")
    E2E_NIF[$name]=0
    ip -n "$ns" link set lo up
}

switch() {
    host "$1"
    ip -n "$E2E_PREFIX$1" link add br0 type bridge
    ip -n "$E2E_PREFIX$1" link set br0 up
}

_addr() {
    local name=$1 dev=$2 a
    shift 2
    for a in "$@"; do
        case "$a" in
            *:*)
                # nodad: the address is usable at once, no 1-2 s of duplicate detection.
                ip -n "$E2E_PREFIX$name" addr add "$a" dev "$dev" nodad
                [ -n "${E2E_IP6[$name]:-}" ] || E2E_IP6[$name]=${a%/*}
                ;;
            *)
                ip -n "$E2E_PREFIX$name" addr add "$a" dev "$dev"
                [ -n "${E2E_IP4[$name]:-}" ] || E2E_IP4[$name]=${a%/*}
                ;;
        esac
    done
}

# _new_if NAME: sets E2E_DEV to NAME's next free ethN (no subshell, so the count sticks).
_new_if() {
    E2E_DEV=eth${E2E_NIF[$1]}
    E2E_NIF[$1]=$((E2E_NIF[$1] + 1))
}

# _veth NS1 DEV1 NS2 DEV2: a veth pair made under temporary names in the current namespace, then
# moved and renamed (made directly in the target namespaces, the kernel checks the names against
# the current namespace too, where eth0 may exist).
_veth() {
    local t1=ve$$x$RANDOM t2=ve$$y$RANDOM
    ip link add "$t1" type veth peer name "$t2" || return 1
    ip link set dev "$t1" netns "$1" name "$2" &&
        ip link set dev "$t2" netns "$3" name "$4" || {
        ip link del "$t2" 2>/dev/null
        return 1
    }
}

link() {
    local name=$1 sw=$2 dev
    shift 2
    ns_of "$name" >/dev/null
    ns_of "$sw" >/dev/null
    _new_if "$name"
    dev=$E2E_DEV
    _veth "$E2E_PREFIX$name" "$dev" "$E2E_PREFIX$sw" "$name" || _fail "veth $name-$sw"
    ip -n "$E2E_PREFIX$sw" link set dev "$name" master br0 up
    _addr "$name" "$dev" "$@"
    ip -n "$E2E_PREFIX$name" link set dev "$dev" up
}

wire() {
    local a=$1 b=$2 da db
    ns_of "$a" >/dev/null
    ns_of "$b" >/dev/null
    _new_if "$a"
    da=$E2E_DEV
    _new_if "$b"
    db=$E2E_DEV
    _veth "$E2E_PREFIX$a" "$da" "$E2E_PREFIX$b" "$db" || _fail "veth $a-$b"
    _addr "$a" "$da" "$3"
    _addr "$b" "$db" "$4"
    ip -n "$E2E_PREFIX$a" link set dev "$da" up
    ip -n "$E2E_PREFIX$b" link set dev "$db" up
}

ip4() { echo "${E2E_IP4[$1]:?host $1 has no IPv4 address}"; }
ip6() { echo "${E2E_IP6[$1]:?host $1 has no IPv6 address}"; }

# Runs a step, keeping its output in $E2E_LOG/steps.log and in $E2E_OUT for the caller.
_run() {
    local name=$1 rc=0
    shift
    E2E_STEP=$((E2E_STEP + 1))
    echo "### $EPOCHREALTIME step $E2E_STEP [$name] $*" >>"$E2E_LOG/steps.log"
    E2E_OUT=$(in_ns "$name" "$@" 2>&1) || rc=$?
    printf '%s\n(exit %s)\n' "$E2E_OUT" "$rc" >>"$E2E_LOG/steps.log"
    return "$rc"
}

_show() {
    printf '%s\n' "$E2E_OUT" | tail -n 20 | sed 's/^/    | /' >&2
}

on() {
    local name=$1
    shift
    _run "$name" "$@" || {
        _show
        _fail "[$name] $* (exit $?)"
    }
    echo "  ok [$name] $*"
}

fails() {
    local name=$1
    shift
    if _run "$name" "$@"; then
        _show
        _fail "[$name] $* succeeded, expected a failure"
    fi
    echo "  ok [$name] fails: $*"
}

expect() {
    local name=$1 re=$2
    shift 2
    _run "$name" "$@" || {
        _show
        _fail "[$name] $* (exit $?)"
    }
    printf '%s\n' "$E2E_OUT" | grep -Eq -- "$re" || {
        _show
        _fail "[$name] $*: output does not match /$re/"
    }
    echo "  ok [$name] $* ~ /$re/"
}

expect_not() {
    local name=$1 re=$2
    shift 2
    _run "$name" "$@" || true
    if printf '%s\n' "$E2E_OUT" | grep -Eq -- "$re"; then
        _show
        _fail "[$name] $*: output matches /$re/, it must not"
    fi
    echo "  ok [$name] $* !~ /$re/"
}

eventually() {
    local secs=$1 name=$2 re=$3 deadline
    shift 3
    deadline=$(($(date +%s%N) + secs * 1000000000))
    while :; do
        if _run "$name" "$@" && printf '%s\n' "$E2E_OUT" | grep -Eq -- "$re"; then
            echo "  ok [$name] $* ~ /$re/ (eventually)"
            return 0
        fi
        if [ "$(date +%s%N)" -ge "$deadline" ]; then
            _show
            _fail "[$name] $*: no match for /$re/ within ${secs}s"
        fi
        sleep 0.2
    done
}

daemon() {
    local name=$1 tag=$2
    shift 2
    [ -z "${E2E_PID[$tag]:-}" ] || _fail "daemon $tag already running"
    # setsid: its own process group, so stop can reach the children too.
    if [ "$(ns_of "$name")" = - ]; then
        setsid "$@" >"$E2E_LOG/$tag.log" 2>&1 &
    else
        setsid ip netns exec "$(ns_of "$name")" "$@" >"$E2E_LOG/$tag.log" 2>&1 &
    fi
    E2E_PID[$tag]=$!
    echo "  started [$name] $tag: $* (pid $!)"
}

stop() {
    local tag=$1 pid
    pid=${E2E_PID[$tag]:-}
    [ -n "$pid" ] || _fail "no daemon $tag"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "E2E_PID[$tag]"
    echo "  stopped $tag"
}

signal() {
    local tag=$1 sig=$2 pid
    pid=${E2E_PID[$tag]:-}
    [ -n "$pid" ] || _fail "no daemon $tag"
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" || _fail "kill -$sig $tag"
    if [ "$sig" = KILL ]; then
        wait "$pid" 2>/dev/null || true
        unset "E2E_PID[$tag]"
    fi
    echo "  ok SIG$sig to $tag"
}

# at_least WHAT VALUE MIN: VALUE must be an integer >= MIN.
at_least() {
    [[ "$2" =~ ^[0-9]+$ ]] || _fail "$1: '$2' is not a number"
    [ "$2" -ge "$3" ] || _fail "$1: $2 < $3"
    echo "  ok $1: $2 >= $3"
}

_skip() {
    echo "  SKIP: $*"
    exit 77
}

requires() {
    local what=$1 ns
    case "$what" in
        root) [ "$(id -u)" -eq 0 ] || _skip "needs root" ;;
        cmd:*) command -v "${what#cmd:}" >/dev/null || _skip "needs ${what#cmd:}" ;;
        systemd)
            [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] ||
                _skip "needs systemd as PID 1 (run it in the systemd guest: tests/e2e/vm --systemd)" ;;
        esp)
            # A throw-away namespace: can this kernel hold an ESP state at all?
            ns=${E2E_PREFIX}probe
            ip netns add "$ns"
            if ! ip -n "$ns" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 \
                mode transport aead 'rfc4106(gcm(aes))' 0x"$(printf '%040d' 0)" 128 2>/dev/null; then
                ip netns del "$ns"
                _skip "the kernel cannot install ESP states (run it in the guest: tests/e2e/vm)"
            fi
            ip netns del "$ns"
            ;;
        *) _fail "requires: unknown '$what'" ;;
    esac
}

at_exit() { E2E_AT_EXIT+=("$(printf '%q ' "$@")"); }

_cleanup() {
    local tag pid ns cmd
    for cmd in "${E2E_AT_EXIT[@]}"; do
        eval "$cmd" >/dev/null 2>&1 || true
    done
    for tag in "${!E2E_PID[@]}"; do
        pid=${E2E_PID[$tag]}
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for ns in "${E2E_NS[@]}"; do
        # Whatever still runs inside our namespaces is ours.
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
    done
    sleep 0.2
    for tag in "${!E2E_PID[@]}"; do
        kill -KILL -- "-${E2E_PID[$tag]}" 2>/dev/null || true
    done
    for ns in "${E2E_NS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap _cleanup EXIT
trap 'exit 143' TERM INT # so that a runner timeout still cleans up
trap 'echo "  FAILED: line $LINENO: $BASH_COMMAND (exit $?)" >&2' ERR

# --- helpers for IPsec scenarios ------------------------------------------------------------------

# esp_counter NAME SPI bytes|packets: the SA's current lifetime counter (from ip -s xfrm state).
esp_counter() {
    in_ns "$1" ip -s xfrm state list spi "$2" |
        awk -v what="$3" '/lifetime current:/ { getline; gsub(/\(bytes\),|\(packets\)/, " ");
            if (what == "bytes") print $1; else print $2; exit }'
}

# esp_packets NAME: packets counted by all of NAME's ESP states together.
esp_packets() {
    in_ns "$1" ip -s xfrm state |
        awk '/lifetime current:/ { getline; gsub(/\(bytes\),|\(packets\)/, " "); n += $2 }
            END { print n + 0 }'
}
