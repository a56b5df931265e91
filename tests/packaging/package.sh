#!/usr/bin/env bash
# package.sh CPACK_CONFIG: builds the .deb from a configured and built tree with CPack, unpacks it
# into a scratch root (dpkg-deb -x: no root, nothing on this machine changes) and checks what a
# user gets: the programs, the agents where resource-agents puts them, the unit, the conffile, the
# haclient group's postinst, manual pages; `vigil ra list ocf vigil` and `vigil ra info
# ocf:vigil:webserver` against the unpacked agents; and lintian without an error.
set -euo pipefail
config=${1:?usage: package.sh CPACK_CONFIG}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cpack --config "$config" -B "$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/vigil_*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
root="$work/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$work/control"

for f in usr/sbin/vigild usr/sbin/vigil usr/bin/vigil-webserver \
         usr/lib/ocf/resource.d/vigil/vip usr/lib/ocf/resource.d/vigil/webserver; do
  [ -x "$root/$f" ] || fail "/$f is missing or not executable"
done
for f in lib/systemd/system/vigil.service etc/default/vigil usr/share/doc/vigil/copyright \
         usr/share/doc/vigil/changelog.gz usr/share/man/man8/vigil.8.gz \
         usr/share/man/man8/vigild.8.gz usr/share/man/man1/vigil-webserver.1.gz; do
  [ -f "$root/$f" ] || fail "/$f is missing"
done
[ -d "$root/etc/vigil" ] || fail "/etc/vigil is missing"
grep -qx /etc/default/vigil "$work/control/conffiles" || fail "/etc/default/vigil is not a conffile"
grep -q "addgroup --system haclient" "$work/control/postinst" || fail "postinst makes no haclient group"
grep -q '^ExecStart=/usr/sbin/vigild ' "$root/lib/systemd/system/vigil.service" ||
  fail "the unit does not start /usr/sbin/vigild"
grep -q '^Type=notify' "$root/lib/systemd/system/vigil.service" || fail "the unit is not Type=notify"

version=$("$root/usr/sbin/vigild" --version)
[ "$version" = "vigild $("$root/usr/sbin/vigil" --version | cut -d' ' -f2)" ] ||
  fail "vigild and vigil disagree on the version: $version"

# The installed agents, as vigil finds them under OCF_ROOT (/usr/lib/ocf once installed).
export OCF_ROOT="$root/usr/lib/ocf" PATH="$root/usr/bin:$PATH"
listed=$("$root/usr/sbin/vigil" ra list ocf vigil)
echo "vigil ra list ocf vigil: $listed"
for a in vip webserver; do grep -qw "$a" <<<"$listed" || fail "ra list ocf vigil lacks $a"; done
info=$("$root/usr/sbin/vigil" ra info ocf:vigil:webserver)
grep -q "ocf:vigil:webserver" <<<"$info" || fail "ra info ocf:vigil:webserver: $info"
grep -q "ip\*" <<<"$info" || fail "ra info does not show the required parameter ip: $info"

# --fail-on error: a warning (no manual page for a program, say) is shown but does not fail.
lintian --fail-on error --tag-display-limit 0 "$deb" || fail "lintian reports errors (above)"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "package layout, agents and lintian: ok"
