#!/usr/bin/env bash
# The long simulator sweep (not run by ctest): every fault class over many seeds and cluster
# sizes, then a standing one-way failure sweep. Usage: scripts/sim-sweep.sh [build-dir] [seeds]
# Any failure prints the seed and checker and a replay command; add it to tests/sim/regressions.txt.
set -euo pipefail
build=${1:-build/ci}
seeds=${2:-2000}
sim="$build/tests/sim/vigil-sim"
[ -x "$sim" ] || { echo "no $sim: build the vigil-sim target first" >&2; exit 2; }
"$sim" --nodes 2..9 --seeds "1..$seeds" --faults all
"$sim" --nodes 10..16 --seeds "1..$((seeds / 10))" --faults all
"$sim" --nodes 2..9 --seeds "1..$((seeds / 4))" --faults loss,dup,reorder --oneway-forever
