#!/usr/bin/env bash
# Regenerates the references of the crmsh differential suite (tests/cib/crmsh-diff): for each
# NAME.crm, what the real crmsh (Debian's crmsh 4.4, with pacemaker-cli-utils) makes of it on an
# empty CIB file — NAME.show (`crm configure show`), NAME.xml (the CIB's <configuration>) and,
# when crmsh refused commands, NAME.refused (its errors). Scripts run in that directory, so that
# `load update NAME.cli` finds the file beside them. Only this script needs the real tools;
# the test (CrmshDiff.*) reads the stored files.
#   scripts/crmsh-diff-regenerate.sh [NAME…]
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/cib/crmsh-diff"
source "$(dirname "$0")/reference-tools.sh"
need_reference_tools crm cibadmin
# Noise of crmsh's commit-time checks on a file with no cluster and no agents' meta-data: not
# refusals of the grammar.
noise='unpack_resources|crm_verify|meta-data|no such resource agent|lack of quorum|cluster_status|STONITH|commit forced|advised|does not exist|not a node|WARNING'
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$dir"/*.crm; do names+=("$(basename "$f" .crm)"); done
fi
for name in "${names[@]}"; do
  cib="$work/$name.xml"
  cibadmin --empty > "$cib"
  { cat "$dir/$name.crm"; echo "commit force"; } |
    (cd "$dir" && CIB_file="$cib" crm -F configure) > "$work/out" 2> "$work/err" || true
  sed 's/\x1b\[[0-9;]*m//g' "$work/err" | grep 'ERROR' | grep -Ev "$noise" > "$work/refused" || true
  if [ -s "$work/refused" ]; then cp "$work/refused" "$dir/$name.refused"; else rm -f "$dir/$name.refused"; fi
  CIB_file="$cib" crm configure show > "$dir/$name.show" 2>/dev/null
  sed -n '/<configuration>/,/<\/configuration>/p' "$cib" > "$dir/$name.xml"
  echo "$name: $(wc -l < "$dir/$name.show") show lines${name:+}$( [ -s "$work/refused" ] && echo ', refused')"
done
