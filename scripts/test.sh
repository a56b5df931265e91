#!/usr/bin/env bash
# Sets up, builds and runs every vigil test: the README's test command, and all that .ci/run does.
#   scripts/test.sh            # full run, as CI
#   FUZZ_SECONDS=0 scripts/test.sh   # skip the libFuzzer runs
# ctest's summary is the last thing printed (CI reads it); it ends with the skipped tests, and the
# test skips_allowed fails the run on a skip tests/skips-allowed.txt does not list.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# 5 s each: the 27 targets start from their checked-in corpora (which the gcc build's fuzz_replay_*
# tests replay too), so a run only adds exploration; 10 s each was 313 s of the 30 min on 2 cores.
fuzz_seconds=${FUZZ_SECONDS:-5}
# Empty VIGIL_FUZZ_DIR: no libFuzzer tests, also in a build tree configured with them before.
fuzz=(-DVIGIL_FUZZ_DIR=)
if [ "$fuzz_seconds" != 0 ]; then
  if command -v clang++ >/dev/null; then
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz --target fuzzers
    fuzz=(-DVIGIL_FUZZ_DIR="$PWD/build/fuzz" -DVIGIL_FUZZ_SECONDS="$fuzz_seconds")
  elif [ -n "${CI:-}" ]; then
    echo "scripts/test.sh: clang++ not found (scripts/setup.sh installs clang): CI runs the fuzzers" >&2
    exit 1
  else
    echo "scripts/test.sh: clang++ not found: the libFuzzer runs are left out (FUZZ_SECONDS=0 to say so)" >&2
  fi
fi
cmake --preset ci "${fuzz[@]}" >/dev/null
cmake --build --preset ci
ctest --preset ci
