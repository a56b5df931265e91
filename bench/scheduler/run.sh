#!/usr/bin/env bash
# Scheduler benchmark: wall time and peak memory of `vigil simulate -x F -S` next to Debian's
# `crm_simulate -S -x F` (package pacemaker-cli-utils) on the same synthetic CIBs, in one run.
# Usage: bench/scheduler/run.sh [BUILD_DIR]   (a release build: cmake --preset release -B DIR,
# then cmake --build DIR --target bench_scheduler)
set -euo pipefail
build=${1:-build/scheduler-rel}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/scheduler/bench_scheduler" "$work" >&2
command -v crm_simulate >/dev/null || { echo "crm_simulate not installed (apt-get install pacemaker-cli-utils)" >&2; exit 1; }
measure() {  # prints "wall_seconds cpu_seconds maxrss_kib"
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" timeout 3000 "$@" >/dev/null 2>&1 || true
  tail -1 "$work/t" | awk '{ print $1, $2 + $3, $4 }'
}
# Wall time on a shared machine includes waiting for the CPU; CPU time (user+sys) is shown too.
printf "| CIB | state | vigil wall s | vigil CPU s | vigil MiB | crm_simulate wall s | crm_simulate CPU s | crm_simulate MiB | wall ratio | CPU ratio | memory ratio |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
for size in n4-r100 n16-r1000 n32-r10000; do
  for state in cold steady; do
    f="$work/$size-$state.xml"
    # bench_scheduler simulate F runs what `vigil simulate -x F -S` runs (parse, schedule,
    # carry out, print) without linking the daemon's modules.
    read -r vs vc vk < <(measure "$build/bench/scheduler/bench_scheduler" simulate "$f")
    read -r cs cc ck < <(measure env LC_ALL=C crm_simulate -S -x "$f")
    awk -v n="$size" -v st="$state" -v vs="$vs" -v vc="$vc" -v vk="$vk" -v cs="$cs" -v cc="$cc" -v ck="$ck" 'BEGIN {
      vs = (vs < 0.01 ? 0.01 : vs); vc = (vc < 0.01 ? 0.01 : vc);
      printf "| %s | %s | %.2f | %.2f | %.1f | %.2f | %.2f | %.1f | %.1fx | %.1fx | %.1fx less |\n",
             n, st, vs, vc, vk / 1024, cs, cc, ck / 1024, cs / vs, cc / vc, ck / vk }'
  done
done
