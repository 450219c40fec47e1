#!/bin/sh
# Builds the Debian package from the CMake build (CPack), then checks what it contains:
#   - dpkg-deb -c lists the binaries, the unit, the man pages, the docs and the example config,
#     and nothing outside /usr;
#   - the control fields (name, version, dependencies, maintainer scripts) are there;
#   - the extracted binaries run (--version / --help) and sit where the unit's ExecStart and
#     ExecReload expect them; the packaged unit is packaging/ikemeshd.service byte for byte (whose
#     validity and hardening systemd_unit.sh checks with systemd-analyze);
#   - the man pages render without warnings.
# Needs: dpkg-deb, cpack, man. Run by CTest (label integration) with IKEMESH_BUILD and
# IKEMESH_SOURCE set, or by hand from the repository root.
set -eu
build=$(cd "${IKEMESH_BUILD:-build}" && pwd)
src=$(cd "${IKEMESH_SOURCE:-.}" && pwd)

fail() {
    echo "package.sh: FAIL: $*" >&2
    exit 1
}

[ -x "$build/daemon/ikectl" ] || fail "$build/daemon/ikectl is not built"
[ -x "$build/daemon/ikemeshd" ] || fail "$build/daemon/ikemeshd is not built"
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake missing (configure first)"

work=$(mktemp -d /tmp/ikemesh-package-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

(cd "$work" && cpack -G DEB -B "$work/out" --config "$build/CPackConfig.cmake") \
    >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/out/ikemesh_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb produced"
echo "package.sh: built $(basename "$deb")"

dpkg-deb -c "$deb" | awk '{print $6}' >"$work/contents"
for path in ./usr/sbin/ikemeshd ./usr/bin/ikectl ./usr/lib/systemd/system/ikemeshd.service \
    ./usr/lib/systemd/system/ikemeshd@.service \
    ./usr/share/man/man8/ikemeshd.8.gz ./usr/share/man/man8/ikectl.8.gz \
    ./usr/share/man/man5/ikemesh.conf.5.gz ./usr/share/doc/ikemesh/ikectl.md \
    ./usr/share/doc/ikemesh/operations.md ./usr/share/doc/ikemesh/examples/ikemesh.conf; do
    grep -qx "$path" "$work/contents" || fail "package lacks $path"
done
# Nothing outside /usr: configuration is the operator's (postinst creates /etc/ikemesh).
if grep -v '^\./usr/' "$work/contents" | grep -v '^\./$' | grep -q .; then
    fail "package installs outside /usr: $(grep -v '^\./usr/' "$work/contents" | head -n 3)"
fi

[ "$(dpkg-deb -f "$deb" Package)" = ikemesh ] || fail "Package field"
dpkg-deb -f "$deb" Version | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+' || fail "Version field"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in adduser libc6 libssl3 libspdlog; do
    echo "$depends" | grep -q "$dep" || fail "Depends lacks $dep: $depends"
done
dpkg-deb -e "$deb" "$work/control"
for script in postinst prerm postrm; do
    [ -x "$work/control/$script" ] || fail "maintainer script $script missing"
    sh -n "$work/control/$script" || fail "$script has a syntax error"
done
grep -q 'addgroup --system' "$work/control/postinst" || fail "postinst does not create the group"

dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/sbin/ikemeshd" --version | grep -q '^ikemeshd ' || fail "ikemeshd --version"
"$work/root/usr/bin/ikectl" --help | grep -q 'list-sas' || fail "ikectl --help"
for page in "$work"/root/usr/share/man/man*/*.gz; do
    warnings=$(MANWIDTH=100 man --warnings -l "$page" 2>&1 >/dev/null || true)
    [ -z "$warnings" ] || fail "man page $(basename "$page"): $warnings"
done

for name in ikemeshd.service ikemeshd@.service; do
    unit="$work/root/usr/lib/systemd/system/$name"
    cmp -s "$unit" "$src/packaging/$name" || fail "packaged $name differs from the source"
    for exe in $(sed -n 's#^Exec[A-Za-z]*=\(/[^ ]*\).*#\1#p' "$unit"); do
        [ -x "$work/root$exe" ] || fail "$name runs $exe, which the package does not install"
    done
done
echo "package.sh: OK"
