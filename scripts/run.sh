#!/usr/bin/env bash
# The README's main job: set up, build (release) and run `vigil demo` — a 3-node cluster on
# 127.0.0.1-3 serving a web page, the active node losing power, and the failover timed. No root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/src/vigil demo "$@"
