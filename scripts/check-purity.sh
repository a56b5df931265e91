#!/usr/bin/env bash
# The pure cores (DESIGN.md: totem, quorum, groups, node, cib, scheduler, the controller's decisions, history;
# and page, the status page's actions) never read a clock, start a thread, open a socket or file,
# or draw unseeded randomness. This check fails the build's tests if one of them includes or calls
# such a thing.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
pure=(totem quorum groups node cib scheduler controller history page)
pattern='#include <(thread|mutex|condition_variable|future|random|fstream|filesystem|sys/socket\.h|netinet/in\.h|unistd\.h|fcntl\.h|asio\.hpp)>|steady_clock|system_clock|high_resolution_clock|std::rand|\bfopen\(|\btime\(nullptr\)|\bgetenv\(|#include "common/clock.h"'
status=0
for m in "${pure[@]}"; do
  dir="$root/src/$m"
  [ -d "$dir" ] || continue
  # Files named *_io.* hold a module's edge (loading from disk) and are allowed I/O.
  hits=$(grep -nE "$pattern" $(find "$dir" -name '*.h' -o -name '*.cpp' | grep -v '_io\.') 2>/dev/null || true)
  if [ -n "$hits" ]; then
    echo "impure code in pure module $m:"
    echo "$hits"
    status=1
  fi
done
[ $status -eq 0 ] && echo "purity: ${pure[*]} are free of clocks, threads, sockets, files and randomness"
exit $status
