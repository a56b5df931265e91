#!/usr/bin/env bash
# Debian's Corosync 3 on the same machine, measured like bench_net: three nodes in three network
# namespaces joined by a bridge (Corosync cannot run three instances in one namespace: its IPC
# names and lock file are per machine), each with private /run, /dev/shm and /var/lib/corosync.
# Prints ordered messages/s (every node sending) and p50/p99 latency for 64 B and 1 KiB payloads,
# crypto on and off, and the kill -9 → configuration change time at token 1000 and 3000.
# Needs root, corosync and libcpg-dev (installed only for this comparison). Cleans up on exit.
# --messages: crypto on only, no kill -9 (what like_for_like.sh sets beside vigild).
#   bench/net/corosync_compare.sh [--quick] [--messages]
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "corosync_compare: needs root (network namespaces); skipped"; exit 0; }
command -v corosync >/dev/null || { echo "corosync_compare: corosync is not installed"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
quick= messages=
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --messages) messages=1 ;;
    *) echo "corosync_compare: unknown argument $arg" >&2; exit 2 ;;
  esac
done
tag=vb$$
work=$(mktemp -d /tmp/vigil-corosync-XXXXXX)
declare -A pids=()

cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  for i in 1 2 3 br; do ip netns del "${tag}$i" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -o "$work/cpg_bench" "$here/cpg_bench.c" -lcpg
ip netns add "${tag}br"
ip -n "${tag}br" link add br0 type bridge
ip -n "${tag}br" link set br0 up
for i in 1 2 3; do
  ip netns add "${tag}$i"
  ip link add "${tag}v$i" type veth peer name "${tag}p$i"
  ip link set "${tag}v$i" netns "${tag}$i"
  ip link set "${tag}p$i" netns "${tag}br"
  ip -n "${tag}$i" addr add "10.251.0.$i/24" dev "${tag}v$i"
  ip -n "${tag}$i" link set "${tag}v$i" up
  ip -n "${tag}$i" link set lo up
  ip -n "${tag}br" link set "${tag}p$i" master br0
  ip -n "${tag}br" link set "${tag}p$i" up
done
head -c 256 /dev/urandom > "$work/authkey"
chmod 400 "$work/authkey"

config() {  # crypto token
  local cipher=none hash=none
  [ "$1" = on ] && cipher=aes256 hash=sha256
  cat > "$work/corosync.conf" <<CONF
totem {
  version: 2
  cluster_name: compare
  transport: knet
  crypto_cipher: $cipher
  crypto_hash: $hash
  token: $2
  keyfile: $work/authkey
}
nodelist {
  node {
    ring0_addr: 10.251.0.1
    nodeid: 1
  }
  node {
    ring0_addr: 10.251.0.2
    nodeid: 2
  }
  node {
    ring0_addr: 10.251.0.3
    nodeid: 3
  }
}
quorum {
  provider: corosync_votequorum
}
logging {
  to_syslog: no
  to_stderr: no
  to_logfile: yes
  logfile: $work/corosync.log
}
CONF
}

start() {  # node
  ip netns exec "${tag}$1" unshare -m --propagation private sh -c "
    mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /dev/shm && mount -t tmpfs tmpfs /var/lib/corosync &&
    mkdir -p /run/corosync && exec corosync -f -c $work/corosync.conf" >/dev/null 2>&1 &
  pids[$1]=$!
}
stop_all() {
  for i in 1 2 3; do [ -n "${pids[$i]:-}" ] && kill -9 "${pids[$i]}" 2>/dev/null || true; done
  for i in 1 2 3; do [ -n "${pids[$i]:-}" ] && wait "${pids[$i]}" 2>/dev/null || true; pids[$i]=""; done
}
# Runs a command in node i's namespaces (network and the private mounts of its corosync).
on() { local i=$1; shift; nsenter -t "$(pgrep -P "${pids[$i]}" corosync || echo "${pids[$i]}")" -m -n "$@"; }
members() { on "$1" corosync-quorumtool -s 2>/dev/null | awk '/^Nodes:/ {print $2}'; }
wait_members() {  # node count
  for _ in $(seq 1 600); do [ "$(members "$1" || true)" = "$2" ] && return 0; sleep 0.05; done
  echo "corosync_compare: node $1 never saw $2 members" >&2; tail -5 "$work/corosync.log" >&2; return 1
}

echo "Corosync $(corosync -v | head -1 | sed 's/.*version .\(.*\).$/\1/') on 3 network namespaces (knet over veth + bridge)"
echo
printf '%-8s %-6s %14s %16s %14s\n' crypto size "ordered msg/s" "latency p50 us" "latency p99 us"
for crypto in on $([ -n "$messages" ] || echo off); do
  config "$crypto" 1000
  for i in 1 2 3; do start "$i"; done
  for i in 1 2 3; do wait_members "$i" 3; done
  for size in 64 1024; do
    if [ -n "$quick" ]; then per=5000; else per=$([ "$size" = 64 ] && echo 100000 || echo 40000); fi
    clients=()
    for i in 1 2 3; do on "$i" "$work/cpg_bench" throughput "$per" "$size" 3 > "$work/tp$i" & clients+=($!); done
    wait "${clients[@]}"
    slowest=$(sort -n "$work"/tp? | head -1)
    lat=$(on 1 "$work/cpg_bench" latency "$([ -n "$quick" ] && echo 200 || echo 2000)" "$size")
    printf '%-8s %-6s %14s %16s %14s\n' "$crypto" "$size" "$slowest" ${lat}
  done
  stop_all
done

[ -n "$messages" ] && exit 0
echo
echo "kill -9 of 1 of 3 corosync -> survivors' configuration change"
printf '%-6s %12s %s\n' token "median ms" "runs ms"
for token in 1000 3000; do
  runs=()
  for _ in $(seq 1 "$([ -n "$quick" ] && echo 1 || echo 5)"); do
    config on "$token"
    for i in 1 2 3; do start "$i"; done
    for i in 1 2 3; do wait_members "$i" 3; done
    sleep 0.5
    t0=$(date +%s%N)
    kill -9 "$(pgrep -P "${pids[3]}" corosync || echo "${pids[3]}")" "${pids[3]}" 2>/dev/null || true
    wait_members 1 2
    runs+=($(( ($(date +%s%N) - t0) / 1000000 )))
    stop_all
  done
  median=$(printf '%s\n' "${runs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-6s %12s %s\n' "$token" "$median" "${runs[*]}"
done
