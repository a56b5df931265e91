#!/bin/sh
# Captures what Pacemaker 2.1.5's crm_mon prints for the crm_mon differential suite
# (tests/cli/crm_mon_diff_test.cpp). Needs Debian bookworm's pacemaker-cli-utils (crm_mon); run
# it only to refresh the references, CI reads the stored outputs.
#
#   tests/cli/crm_mon-diff/regenerate.sh [SHARED_DIR]
#
# SHARED_DIR as the build finds it: the argument, else $VIGIL_SHARED, else ../shared beside the
# checkout, else /work/shared.
#
# The corpus: the guide's cluster (reference-output/cibadmin_Q.txt without its "$ command" and
# "[exit N]" lines) and, for each feature tag below, the first PER_TAG tests of
# scheduler-corpus/index.tsv (upstream's order) that carry it; each CIB is read from SHARED_DIR,
# never copied. corpus.tsv records case name and source file (relative to SHARED_DIR). For each
# case: NAME.1.txt (crm_mon -1), NAME.1r.txt (crm_mon -1 -r), NAME.xml (crm_mon --output-as xml),
# stdout only, TZ=UTC and LC_ALL=C.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${1:-${VIGIL_SHARED:-}}
for candidate in "$here/../../../../shared" /work/shared; do
  [ -z "$shared" ] && [ -f "$candidate/DESIGN.md" ] && shared=$(cd "$candidate" && pwd)
done
[ -n "$shared" ] && [ -f "$shared/scheduler-corpus/index.tsv" ] ||
  { echo "usage: $0 SHARED_DIR (with scheduler-corpus/ and reference-output/)" >&2; exit 2; }
command -v crm_mon >/dev/null || { echo "$0: crm_mon not found (apt-get install pacemaker-cli-utils)" >&2; exit 2; }

PER_TAG=5
TAGS="group clone promotable failed-op fail-count standby maintenance unclean offline-node tickets
fencing stonith-rsc no-quorum target-role unmanaged orphan pending-op on-fail live-migration
shutdown node-health remote guest bundle template-tags primitives-only"

export TZ=UTC LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -f "$here"/*.1.txt "$here"/*.1r.txt "$here"/*.xml
printf 'name\tsource\n' > "$here/corpus.tsv"
sed '1d;/^\[exit/d' "$shared/reference-output/cibadmin_Q.txt" > "$tmp/guide.xml"
printf 'guide\treference-output/cibadmin_Q.txt\n' >> "$here/corpus.tsv"
for tag in $TAGS; do
  awk -F'\t' -v tag="$tag" -v n="$PER_TAG" \
    'NR > 1 && ("," $4 ",") ~ ("," tag ",") && taken < n { print $1; taken++ }' \
    "$shared/scheduler-corpus/index.tsv"
done | awk '!seen[$0]++' | while read -r name; do
  printf '%s\tscheduler-corpus/xml/%s.xml\n' "$name" "$name" >> "$here/corpus.tsv"
done

sed 1d "$here/corpus.tsv" | while IFS="$(printf '\t')" read -r name source; do
  cib="$shared/$source"
  [ "$name" = guide ] && cib="$tmp/guide.xml"
  CIB_file="$cib" crm_mon -1 > "$here/$name.1.txt" 2>/dev/null || true
  CIB_file="$cib" crm_mon -1 -r > "$here/$name.1r.txt" 2>/dev/null || true
  CIB_file="$cib" crm_mon --output-as xml > "$here/$name.xml" 2>/dev/null || true
done
echo "$(($(wc -l < "$here/corpus.tsv") - 1)) cases in $here"
