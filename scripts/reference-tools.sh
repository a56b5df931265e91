# Sourced by the scripts that regenerate a differential test's references with the real tools
# (crmsh, pacemaker-cli-utils): refuses to run without them, and gives a scratch directory,
# $work, removed on exit. Only these scripts need the real tools; the tests read stored files.
#   source scripts/reference-tools.sh; need_reference_tools crm cibadmin
need_reference_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null ||
      { echo "needs $* (Debian's crmsh and pacemaker-cli-utils); $tool is missing" >&2; exit 2; }
  done
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
}
