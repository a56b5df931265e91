#!/usr/bin/env bash
# The README's main job: set up, build (release) and show the guide's cluster configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
shared=${VIGIL_SHARED:-}
for candidate in ../shared /work/shared; do
  [ -n "$shared" ] || { [ -f "$candidate/DESIGN.md" ] && shared=$candidate; }
done
exec build/release/vigil config show --config "$shared/examples/corosync-guide.conf"
