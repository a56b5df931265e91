#!/usr/bin/env bash
# The guide's walk-through (../shared/examples/pacemaker-corosync-guide.md) in vigil's CLI, on
# hosts in network namespaces: its corosync.conf on the test subnet, keygen and key copy, vigild on
# every host, status, the two properties, the agent listings, the vip + httpd group, and finally
# the page fetched from a client namespace through the virtual IP.
#
#   guide.sh [--hosts N] [--config multicast|nodelist] [--keep]
#
# Also sourced by fault-table.sh for e2e_guide_cluster (the cluster up with the web service).
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$E2E_DIR/lib.sh"

# Both members of the group show Started on `active` in node $1's status.
group_started() {
  local out
  out=$(vigil_on "$1" status) || return 1
  grep -Eq "vip[[:space:]]+\(ocf:heartbeat:IPaddr\):[[:space:]]+Started $2" <<<"$out" &&
    grep -Eq "httpd[[:space:]]+\(lsb:apache2\):[[:space:]]+Started $2" <<<"$out"
}

# A DC is elected: the first host's status names it.
e2e_has_dc() {
  vigil_on "${E2E_HOSTS[0]}" status 2>/dev/null | grep -q "Current DC: node"
}

# The first host's status answers and no longer says it waits for the CIB.
e2e_cib_agreed() {
  local out
  out=$(vigil_on "${E2E_HOSTS[0]}" status 2>&1) && ! grep -q 'not yet agreed on the CIB' <<<"$out"
}

# The cluster formed: every host's status names all hosts online (by their names, also in the
# multicast config, which has no nodelist) with quorum; then the CIB agreed.
e2e_guide_cluster_up() {
  local mode=$1 token=${2:-3000} node
  e2e_write_config "$mode" "$token"
  e2e_distribute_config
  # The witness first: the nodes' first rings already get its vote.
  if [ -n "$E2E_WITNESS" ]; then e2e_start_witness; fi
  for node in "${E2E_HOSTS[@]}"; do e2e_start_vigild "$node"; done
  if ! wait_for 30 e2e_all_online; then
    e2e_check_vigild_alive
    e2e_die "status never showed Online: [ ${E2E_HOSTS[*]} ] with quorum on every host; on ${E2E_HOSTS[0]}: $(vigil_on "${E2E_HOSTS[0]}" status 2>&1 | grep -E 'Online:|quorum')"
  fi
  e2e_log "all hosts online, partition with quorum"
  # With the replicated CIB, a node refuses changes until it agreed on the CIB with the others.
  wait_for 20 e2e_cib_agreed ||
    e2e_die "20 s after all hosts were online, status still says: $(vigil_on "${E2E_HOSTS[0]}" status 2>&1 | grep -m1 'not yet agreed')"
}

# The guide's resource configuration; VIP on the test subnet, nic = the hosts' veth.
# E2E_HTTPD_OPS: operations added to httpd (the guide gives it none).
e2e_guide_configure() {
  local node=${E2E_HOSTS[0]}
  [ -x /etc/init.d/apache2 ] || e2e_die "apache2 is not installed (scripts/setup.sh installs it)"
  [ -x /usr/lib/ocf/resource.d/heartbeat/IPaddr ] || e2e_die "resource-agents is not installed"
  # The guide runs without fencing and ignores quorum; with a watchdog (E2E_WATCHDOG) the lost
  # hosts count as fenced once their lease ran out, and a partition without quorum stops; with a
  # witness (E2E_WITNESS) its vote decides which half of a split keeps running, so the half
  # without quorum stops too.
  local properties=("property stonith-enabled=false" "property no-quorum-policy=ignore")
  if [ -n "${E2E_WATCHDOG:-}" ]; then
    properties=("property stonith-enabled=true" "property stonith-watchdog-timeout=-1")
  elif [ -n "$E2E_WITNESS" ]; then
    properties=("property stonith-enabled=false" "property no-quorum-policy=stop")
  fi
  local steps=(
    "${properties[@]}"
    "primitive vip ocf:heartbeat:IPaddr params ip=$E2E_VIP nic=veth0 cidr_netmask=24 op monitor interval=10s timeout=20s on-fail=restart"
    "primitive httpd lsb:apache2${E2E_HTTPD_OPS:+ $E2E_HTTPD_OPS}"
    "group webservice vip httpd"
  )
  local step
  for step in "${steps[@]}"; do
    # shellcheck disable=SC2086  # each step is a crmsh command line, split into words on purpose
    vigil_on "$node" configure $step || e2e_die "vigil configure $step failed"
  done
  wait_for 20 e2e_has_dc ||
    e2e_die 'status still shows "Current DC: NONE" 20 s after configuring: no controller was elected'
}

# Waits until one host holds the VIP and the page answers from it; prints that host.
e2e_wait_service() {
  local seconds=$1 holders served deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    holders=$(e2e_vip_holders)
    served=$(e2e_served_by)
    if [ "$(wc -w <<<"$holders")" -eq 1 ] && [ "$served" = "$holders" ]; then
      echo "$served"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# Every host's controller is idle (the DC has no transition under way).
controllers_idle() {
  local node
  for node in "${E2E_HOSTS[@]}"; do
    vigil_on "$node" cluster status 2>/dev/null | grep -q '^controller: idle' || return 1
  done
}

# Settled: status shows nothing in flux, and the DC stays idle for a second (a cleanup's probes
# and the monitors after them come in a few transitions: a fault injected among them is timed
# against a cluster that was already acting, which once made a web server kill look 0.3 s long).
settled() {
  e2e_all_online || return 1
  local node=${E2E_HOSTS[0]} out
  out=$(vigil_on "$node" status 2>/dev/null) || return 1
  grep -Eqi 'failed|starting|stopping|pending|unclean' <<<"$out" && return 1
  controllers_idle && sleep 1 && controllers_idle
}

e2e_guide_main() {
  local hosts=2 mode=multicast
  while [ $# -gt 0 ]; do
    case $1 in
      --hosts) hosts=$2; shift 2 ;;
      --config) mode=$2; shift 2 ;;
      --keep) export E2E_KEEP_LOGS=1; shift ;;
      *) e2e_die "unknown argument $1" ;;
    esac
  done
  e2e_require
  e2e_setup "$hosts"
  e2e_guide_cluster_up "$mode"
  local node=${E2E_HOSTS[0]} out
  vigil_on "$node" status

  out=$(vigil_on "$node" ra classes) || e2e_die "ra classes failed"
  for class in lsb ocf service stonith; do
    grep -qx "$class" <<<"$out" || grep -q "^$class" <<<"$out" || e2e_die "ra classes lacks $class"
  done
  out=$(vigil_on "$node" ra list ocf heartbeat) || e2e_die "ra list ocf heartbeat failed"
  grep -qw IPaddr <<<"$out" || e2e_die "ra list ocf heartbeat lacks IPaddr"
  out=$(vigil_on "$node" ra info ocf:heartbeat:IPaddr) || e2e_die "ra info ocf:heartbeat:IPaddr failed"
  grep -q "ip\*" <<<"$out" || grep -q "^ip " <<<"$out" || e2e_die "ra info IPaddr shows no ip parameter"
  e2e_log "ra classes / list / info answer"

  e2e_guide_configure
  local active
  active=$(e2e_wait_service 60) || e2e_die "the web service never answered on http://$E2E_VIP/"
  e2e_log "curl http://$E2E_VIP/ from the client answers from $active"
  # The page can answer a moment before the start's result is in the CIB ("Starting").
  wait_for 15 group_started "$node" "$active" || true
  out=$(vigil_on "$node" status) || e2e_die "status failed"
  echo "$out"
  grep -qF "partition with quorum" <<<"$out" || e2e_die "status does not say partition with quorum"
  grep -Eq "vip[[:space:]]+\(ocf:heartbeat:IPaddr\):[[:space:]]+Started $active" <<<"$out" ||
    e2e_die "status does not show vip Started $active"
  grep -Eq "httpd[[:space:]]+\(lsb:apache2\):[[:space:]]+Started $active" <<<"$out" ||
    e2e_die "status does not show httpd Started $active"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then e2e_guide_main "$@"; fi
