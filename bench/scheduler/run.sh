#!/usr/bin/env bash
# Scheduler benchmark: wall time, CPU time and peak memory of `vigil simulate -S -x F` next to
# Debian's `crm_simulate -S -x F` (package pacemaker-cli-utils) on the same synthetic CIBs, in one
# run, and whether their Transition Summaries agree (as sets of lines).
# Usage: bench/scheduler/run.sh [BUILD_DIR]   (a release build: cmake --preset release, then
# cmake --build --preset release --target vigil bench_scheduler; BUILD_DIR defaults to build/release)
# A run that crashes, fails or passes the time limit is reported as such, never as a time.
set -euo pipefail
build=${1:-build/release}
limit=${SCHEDULER_BENCH_LIMIT:-3000}   # seconds per run
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v crm_simulate >/dev/null || { echo "crm_simulate not installed (apt-get install pacemaker-cli-utils)" >&2; exit 1; }
"$build/bench/scheduler/bench_scheduler" "$work" >&2

# measure NAME CMD...: runs CMD with its output in $work/NAME.out; prints "wall cpu maxrss_kib"
# or "failed: why".
measure() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" timeout "$limit" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  if [ "$rc" = 124 ]; then echo "failed: over ${limit} s"; return; fi
  if [ "$rc" != 0 ]; then echo "failed: exit $rc ($(grep -m1 -iE 'assert|error|abort' "$work/$name.err" | cut -c1-60))"; return; fi
  tail -1 "$work/$name.time" | awk '{ print $1, $2 + $3, $4 }'
}
# The Transition Summary's lines, whitespace-normalised and sorted.
summary() {
  awk '/^Transition Summary:/ { on = 1; next } on && /^[^ ]/ { on = 0 } on && NF { $1 = $1; print }' "$1" | sort
}
# Wall time on a shared machine includes waiting for the CPU; CPU time (user+sys) is shown too.
printf "| CIB | state | vigil wall s | vigil CPU s | vigil MiB | crm_simulate wall s | crm_simulate CPU s | crm_simulate MiB | CPU ratio | memory ratio | same summary |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
for size in n4-r100 n16-r1000 n32-r10000; do
  for state in cold steady; do
    f="$work/$size-$state.xml"
    v=$(measure vigil "$build/src/vigil" simulate -S -x "$f")
    c=$(measure crm env LC_ALL=C crm_simulate -S -x "$f")
    same="—"
    case "$v $c" in
      failed*|*failed*) ;;
      *) if cmp -s <(summary "$work/vigil.out") <(summary "$work/crm.out"); then same=yes
         else same="no ($(comm -3 <(summary "$work/vigil.out") <(summary "$work/crm.out") | wc -l) lines differ)"; fi ;;
    esac
    awk -v n="$size" -v st="$state" -v v="$v" -v c="$c" -v same="$same" 'BEGIN {
      nv = split(v, a, " "); nc = split(c, b, " ");
      vt = (v ~ /^failed/) ? v " | | " : sprintf("%.2f | %.2f | %.1f", a[1], a[2], a[3] / 1024);
      ct = (c ~ /^failed/) ? c " | | " : sprintf("%.2f | %.2f | %.1f", b[1], b[2], b[3] / 1024);
      ratio = "—"; mem = "—";
      if (v !~ /^failed/ && c !~ /^failed/) {
        ratio = sprintf("%.1fx", b[2] / (a[2] < 0.01 ? 0.01 : a[2])); mem = sprintf("%.1fx less", b[3] / a[3]);
      }
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", n, st, vt, ct, ratio, mem, same }'
  done
done
