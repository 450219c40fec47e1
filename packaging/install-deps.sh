#!/bin/sh
# Installs the Debian 12 packages ikemesh needs to build, test and run its demo. Idempotent and
# quiet when nothing is missing. Usage: packaging/install-deps.sh [build|test|demo]
#   build: compilers and libraries; test and demo add the tools the test suites use
#   (network namespaces, strongSwan as the reference peer, QEMU for the real-ESP guest, and the
#   libraries of Libreswan, whose package conflicts with strongSwan's and is unpacked by
#   tests/interop/libreswan.sh instead). Also what a Debian 12 minbase lacks and the tests or
#   the demo call: openssl (README's quick start, the test PKIs), adduser (the package's
#   dependency, installed offline in the systemd guest), git (`make format-check` lists the
#   sources with git ls-files), xz-utils (compressed kernel modules), and in build: file
#   (CPack's DEB generator runs it to find the binaries for dpkg-shlibdeps; without it README's
#   `cpack ... -G DEB`, tests/integration/package.sh and the systemd guest's package fail),
#   netbase (/etc/protocols: without it `ip xfrm policy` prints "proto 1" for "proto icmp" and
#   the guest scenarios that read policies fail), nftables and conntrack (the NAT routers of
#   ikemesh_nat and the flush of their mappings).
set -eu
what=${1:-build}

build_pkgs="build-essential cmake ninja-build pkg-config clang lld libclang-rt-14-dev clang-format
libssl-dev libmnl-dev libboost-dev libspdlog-dev libfmt-dev nlohmann-json3-dev catch2
libtomlplusplus-dev libcli11-dev libsystemd-dev libcap-ng-dev libbenchmark-dev file"
test_pkgs="iproute2 iputils-ping tcpdump procps psmisc netcat-openbsd python3 systemd openssl adduser
git xz-utils netbase nftables conntrack
strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libstrongswan-extra-plugins
libcharon-extra-plugins qemu-system-x86 busybox-static cpio kmod libnss3-tools libcurl3-nss
libevent-core-2.1-7 libevent-pthreads-2.1-7 libldns3 libunbound8 libcap-ng0 libaudit1 libldap-2.5-0
dns-root-data man-db"

pkgs=$build_pkgs
[ "$what" = build ] || pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# strongSwan's charon must not start as a service on install: we run it by hand in tests.
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
