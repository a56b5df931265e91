#!/usr/bin/env bash
# Sets up, builds and runs every vigil test: the README's test command, and all that .ci/run does.
#   scripts/test.sh            # full run, as CI
#   FUZZ_SECONDS=0 scripts/test.sh   # skip the libFuzzer runs
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

fuzz_seconds=${FUZZ_SECONDS:-20}
extra=()
if [ "$fuzz_seconds" != 0 ] && command -v clang++ >/dev/null; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzzers
  extra=(-DVIGIL_FUZZ_DIR="$PWD/build/fuzz" -DVIGIL_FUZZ_SECONDS="$fuzz_seconds")
fi
cmake --preset ci "${extra[@]}" >/dev/null
cmake --build --preset ci
ctest --preset ci
