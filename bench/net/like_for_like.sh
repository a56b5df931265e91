#!/usr/bin/env bash
# Ordered messaging like for like, in one run: three vigild processes on 127.0.0.1-3 with a
# client process on each talking to its vigild through the control socket (bench_cpg_socket),
# then Debian's Corosync, three processes in three network namespaces, with a libcpg client
# process on each (corosync_compare.sh --messages, cpg_bench.c). Crypto on (aes256 + sha256),
# token 1000, 64 B and 1 KiB, every client sending; the same window (500 messages not yet
# delivered back) and the same measures: ordered msg/s seen by the slowest client, and the
# latency of one client sending one message at a time until its own delivery.
# Corosync's half needs root, corosync and libcpg-dev; without them it prints vigil's rows alone.
# vigil's clients send and read payloads raw (version-2 frames); --hex makes them use hex in JSON
# (version 1, as clients before it).
#   bench/net/like_for_like.sh BUILD_DIR [--quick] [--hex]  (BUILD_DIR: a release build, e.g. build/release)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?"usage: like_for_like.sh BUILD_DIR [--quick]"}
shift
quick= hex=
for arg in "$@"; do
  case $arg in
    --quick) quick=--quick ;;
    --hex) hex=--hex ;;
    *) echo "like_for_like: unknown argument $arg" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/vigil-like-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$build/bench/net/bench_cpg_socket" $quick $hex | tee "$work/vigil"
echo
corosync=
if [ "$(id -u)" = 0 ] && command -v corosync >/dev/null && [ -f /usr/include/corosync/cpg.h ]; then
  "$here/corosync_compare.sh" --messages $quick | tee "$work/corosync"
  corosync=1
else
  echo "like_for_like: Corosync's half skipped (needs root, corosync and libcpg-dev)"
fi
[ -n "$corosync" ] || exit 0

# Rows: crypto size msg/s p50 p99.
rows() { awk '$1 == "on" && $2 ~ /^[0-9]+$/ {print $2, $3, $4, $5}' "$1"; }
echo
printf '%-6s %14s %14s %8s %12s %12s %12s %12s\n' size "vigil msg/s" "Corosync msg/s" ratio \
  "vigil p50 us" "Corosync p50" "vigil p99 us" "Corosync p99"
awk 'NR == FNR {tp[$1] = $2; p50[$1] = $3; p99[$1] = $4; next}
     $1 in tp {printf "%-6s %14s %14s %7.2fx %12s %12s %12s %12s\n", $1, tp[$1], $2,
                      ($2 > 0 ? tp[$1] / $2 : 0), p50[$1], $3, p99[$1], $4}' \
  <(rows "$work/vigil") <(rows "$work/corosync")
