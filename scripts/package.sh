#!/usr/bin/env bash
# Builds vigil's Debian package from the release build: build/package/vigil_<version>_<arch>.deb,
# then runs lintian on it (errors fail). Install it with `apt install ./build/package/vigil_*.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# No tests or benchmarks: the package holds the programs, the agents, the unit and the pages.
# Its own build tree, so the release tree's settings (benchmarks on) stay as they are.
cmake --preset release -B build/package-release -DVIGIL_BENCH=OFF >/dev/null
cmake --build build/package-release
cpack --config build/package-release/CPackConfig.cmake -B build/package
deb=$(ls -t build/package/vigil_*.deb | head -1)
lintian --fail-on error "$deb"
echo "package: $deb"
