#!/usr/bin/env bash
# Regenerates the references of the `crm resource` differential test (tests/cli/crm-resource-diff):
# runs each line of commands.txt as `crm resource LINE` (Debian's crmsh 4.4 with
# pacemaker-cli-utils) on a copy of start.xml, one after the other, and stores in expected.txt
# what each printed (stdout, then stderr lines marked "! ", without colours) and its exit code,
# and in final.xml the <resources> the commands left. Only this script needs the real tools; the
# test (CrmResourceDiff.*) reads the stored files. Times print in UTC, as the test prints them.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/cli/crm-resource-diff"
source "$(dirname "$0")/reference-tools.sh"
need_reference_tools crm crm_resource
cp "$dir/start.xml" "$work/cib.xml"
export CIB_file="$work/cib.xml" TZ=UTC
: > "$dir/expected.txt"
while IFS= read -r line; do
  # shellcheck disable=SC2086  # the line is the command's words
  rc=0; crm resource $line > "$work/out" 2> "$work/err" || rc=$?
  {
    echo "\$ crm resource $line"
    cat "$work/out"
    sed 's/\x1b\[[0-9;]*m//g; s/^/! /' "$work/err"
    echo "[exit $rc]"
  } >> "$dir/expected.txt"
done < "$dir/commands.txt"
sed -n '/<resources>/,/<\/resources>/p' "$work/cib.xml" > "$dir/final.xml"
echo "$(wc -l < "$dir/commands.txt") commands; $(grep -c '^\[exit 0\]' "$dir/expected.txt") succeeded"
