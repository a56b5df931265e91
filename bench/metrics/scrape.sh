#!/usr/bin/env bash
# vigild's CPU per /metrics scrape: one vigild on 127.0.0.1 with --http holds a CIB of N
# resources (bench_scheduler's synthetic steady CIBs of 100 and 1 000, under maintenance-mode so
# nothing is started), is scraped S times by curl, and the CPU time the kernel charged vigild meanwhile
# (utime+stime from /proc/PID/stat), less what it spends idle over the same wall time, is divided
# by S. Prints a table; no timed assertions (the goal, < 1 ms a scrape at 1 000 resources, is read
# off it). Also the first scrape after a CIB change, which reads the whole CIB again.
# Usage: bench/metrics/scrape.sh [BUILD_DIR] [SCRAPES]   (BUILD_DIR: default build/release, with
# the targets vigild, vigil and bench_scheduler; a build with sanitizers reads several times
# slower; VIGILD=PATH runs another vigild, e.g. one built from an older commit)
set -euo pipefail
build=${1:-build/release}
scrapes=${2:-500}
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cibs=${CIBS:-$work}  # CIBS=DIR: bench_scheduler's CIBs written there before, not again
[[ -f $cibs/n16-r1000-steady.xml ]] || "$build/bench/scheduler/bench_scheduler" "$cibs" >/dev/null
port=$((20000 + $$ % 20000))
head -c 256 /dev/urandom >"$work/authkey"
chmod 0400 "$work/authkey"
cat >"$work/corosync.conf" <<EOF
totem {
 version: 2
 cluster_name: scrape
 transport: udpu
 keyfile: $work/authkey
 interface {
  linknumber: 0
  mcastport: $port
 }
}
nodelist {
 node {
  ring0_addr: 127.0.0.1
  name: node1
  nodeid: 1
 }
}
quorum {
 provider: corosync_votequorum
}
logging {
 to_stderr: yes
}
EOF

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
vigild=${VIGILD:-$build/src/vigild}
vigil() { VIGIL_SOCKET="$work/run/vigild.sock" "$build/src/vigil" "$@"; }
# The CPU ms vigild used while `$@` ran, less its idle use over the same wall time.
cpu_ms_during() {
  local t0 w0 t1 w1 idle0 idle1
  idle0=$(ticks); sleep 1; idle1=$(ticks)
  t0=$(ticks); w0=$(date +%s%N)
  "$@"
  t1=$(ticks); w1=$(date +%s%N)
  awk -v busy=$((t1 - t0)) -v idle=$((idle1 - idle0)) -v wall=$(((w1 - w0) / 1000000)) -v hz="$hz" \
    'BEGIN { i = idle * 1000 / hz * wall / 1000; b = busy * 1000 / hz - i; print (b < 0 ? 0 : b) }'
}
scrape_n() { for ((i = 0; i < $1; i++)); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done; }
# A change of the CIB (a node attribute) each time, with a scrape after it or not: the difference
# is what reading the CIB again costs a scrape.
changes_n() {
  for ((i = 0; i < $1; i++)); do
    vigil node attribute node1 set bench "$2$i" >/dev/null
    [[ $3 == scrape ]] && curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
  done
}

printf '%-10s %8s %12s %16s %22s\n' resources scrapes "bytes out" "CPU ms/scrape" "after a change ms/scrape"
for nodes_resources in 4-100 16-1000; do
  n=${nodes_resources#*-}
  cib=$cibs/n${nodes_resources%-*}-r$n-steady.xml
  rm -rf "$work/state" "$work/run"; mkdir -p "$work/state" "$work/run"
  "$vigild" --config "$work/corosync.conf" --node node1 --state-dir "$work/state" \
    --run-dir "$work/run" --foreground --http "127.0.0.1:$port" 2>"$work/vigild.log" &
  pid=$!
  for ((i = 0; i < 100; i++)); do vigil status >/dev/null 2>&1 && break; sleep 0.2; done
  # The bench CIB with nothing to do: maintenance-mode.
  # (bench_scheduler's CIBs have stonith-enabled=false already.) Of the status, node1's alone:
  # one change through the ring carries at most 1 MiB, and 16 nodes' histories are 5 MiB.
  sed -e '0,/<cluster_property_set id="[^"]*">/s||&<nvpair id="bench-mm" name="maintenance-mode" value="true"/>|' \
    "$cib" | awk '/<node_state /{skip = ($0 !~ / id="1"/)} !skip{print} /<\/node_state>/{skip = 0}' \
    >"$work/cib.xml"
  grep -q bench-mm "$work/cib.xml" || { echo "no cluster_property_set in $cib" >&2; exit 1; }
  vigil cib replace "$work/cib.xml" >/dev/null
  sleep 3  # the probes and the status updates they bring settle
  bytes=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
  steady=$(cpu_ms_during scrape_n "$scrapes")
  changes=$((scrapes / 10))
  vigil_only=$(cpu_ms_during changes_n "$changes" a none)
  changed=$(cpu_ms_during changes_n "$changes" b scrape)
  printf '%-10s %8s %12s %16.3f %22.3f\n' "$n" "$scrapes" "$bytes" \
    "$(awk -v c="$steady" -v s="$scrapes" 'BEGIN { print c / s }')" \
    "$(awk -v c="$changed" -v v="$vigil_only" -v s="$changes" 'BEGIN { print (c - v) / s }')"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
