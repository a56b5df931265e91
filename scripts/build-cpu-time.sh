#!/usr/bin/env bash
# The CPU seconds a clean build of a preset costs, as CI builds it (no ccache), and its 15 most
# expensive files:
#   scripts/build-cpu-time.sh ci      # build/cpu-ci, everything
#   scripts/build-cpu-time.sh fuzz    # build/cpu-fuzz, the fuzzers target
# Each compile and link runs under scripts/cpu-time.sh, which logs its user+sys time.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:?usage: scripts/build-cpu-time.sh ci|fuzz}
dir=build/cpu-$preset
target=all
[ "$preset" = fuzz ] && target=fuzzers
rm -rf "$dir"
cmake --preset "$preset" -B "$dir" -DCMAKE_CXX_COMPILER_LAUNCHER="$PWD/scripts/cpu-time.sh" \
      -DCMAKE_CXX_LINKER_LAUNCHER="$PWD/scripts/cpu-time.sh" >/dev/null
start=$(date +%s)
cmake --build "$dir" -j2 --target "$target" >"$dir/build.log"
echo "$preset: $(($(date +%s) - start)) s wall"
awk -F'\t' '{ sum += $1 } END { printf "%.0f CPU s in %d commands\n", sum, NR }' "$dir/cpu-time.log"
sort -rn "$dir/cpu-time.log" | head -15
