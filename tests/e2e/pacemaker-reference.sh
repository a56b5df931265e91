#!/usr/bin/env bash
# The reference figures beside vigil's: Debian's Corosync 3 + Pacemaker 2.1 in the same namespace
# cluster (the same vip + httpd group through the same agents, the same monitors, no fencing and
# no-quorum-policy=ignore as the guide), the same faults as fault-table.sh on the active host,
# timed from the client until the page answers from another host, with the same 50 ms probe of
# every host's VIP.
#
#   pacemaker-reference.sh [--runs N] [--hosts N] [--token MS] [--faults kill9,link,freeze,power]
#                          [--keep]
#
# kill9: kill -9 of corosync; link: the host's link cut, then restored; freeze: every process of
# the host stopped (SIGSTOP), then continued; power: the link down and every process killed at once
# (then the host boots: its stack starts again). After kill9 the host is rebooted the same way
# once the page answered. Not a ctest test (it measures another product); needs corosync and
# pacemaker installed.
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VIGILD=${VIGILD:-/bin/true} VIGIL=${VIGIL:-/bin/true}   # lib.sh checks them; unused here
# shellcheck source=tests/e2e/lib.sh
source "$E2E_DIR/lib.sh"

# Corosync 3's own default transport (knet) with a nodelist naming the hosts, the guide's totem
# timings, two_node quorum on two hosts.
pcmk_write_config() {
  local token=$1 file=$E2E_WORK/corosync.conf i=0 node
  {
    printf 'totem {\n    version: 2\n    cluster_name: pcmk-e2e\n    token: %s\n' "$token"
    printf '    token_retransmits_before_loss_const: 10\n    join: 60\n    consensus: %s\n' \
      "$((token * 12 / 10))"
    printf '    max_messages: 20\n    crypto_cipher: none\n    crypto_hash: none\n}\nnodelist {\n'
    for node in "${E2E_HOSTS[@]}"; do
      i=$((i + 1))
      printf '    node {\n        ring0_addr: %s\n        name: %s\n        nodeid: %d\n    }\n' \
        "$E2E_NET.$((10 + i))" "$node" "$i"
    done
    printf '}\nquorum {\n    provider: corosync_votequorum\n'
    if [ "${#E2E_HOSTS[@]}" -eq 2 ]; then printf '    two_node: 1\n'; fi
    printf '}\n'
    printf 'logging {\n    to_logfile: yes\n    logfile: /var/log/corosync.log\n    to_syslog: no\n'
    printf '    timestamp: hires\n}\n'
  } >"$file"
  for node in "${E2E_HOSTS[@]}"; do cp "$file" "$E2E_WORK/$node/etc-corosync/corosync.conf"; done
}

# Pacemaker's state, IPC shared memory and logs, private to the host.
pcmk_mount_host() {
  local node=$1 dir=$E2E_WORK/$1
  mkdir -p "$dir"/pcmk/{cib,pengine,blackbox,cores} "$dir/corosync-lib" "$dir/log/pacemaker"
  chown -R hacluster:haclient "$dir/pcmk" "$dir/log/pacemaker"
  chmod 750 "$dir"/pcmk/*
  on "$node" sh -euc "
    mount -t tmpfs -o mode=1777 e2e-shm /dev/shm
    mount --bind '$dir/pcmk' /var/lib/pacemaker
    mount --bind '$dir/corosync-lib' /var/lib/corosync"
}

pcmk_start() {
  local node=$1
  on "$node" corosync -f >/dev/null 2>&1 &
  wait_for 10 on "$node" corosync-cfgtool -s || e2e_die "$node: corosync did not start"
  on "$node" pacemakerd -f >/dev/null 2>&1 &
}

pcmk_online() {
  on "${E2E_HOSTS[0]}" crm_mon -1 2>/dev/null | grep -qF "Online: [ ${E2E_HOSTS[*]} ]"
}

pcmk_settled() {
  local out
  out=$(on "${E2E_HOSTS[0]}" crm_mon -1 2>/dev/null) || return 1
  grep -qF "Online: [ ${E2E_HOSTS[*]} ]" <<<"$out" || return 1
  ! grep -Eqi 'failed|starting|stopping|pending|unclean' <<<"$out"
}

pcmk_configure() {
  local node=${E2E_HOSTS[0]}
  on "$node" crm_attribute -t crm_config -n stonith-enabled -v false
  on "$node" crm_attribute -t crm_config -n no-quorum-policy -v ignore
  on "$node" cibadmin -C -o resources -X "<group id=\"webservice\">
    <primitive id=\"vip\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr\">
      <instance_attributes id=\"vip-ia\">
        <nvpair id=\"vip-ip\" name=\"ip\" value=\"$E2E_VIP\"/>
        <nvpair id=\"vip-nic\" name=\"nic\" value=\"veth0\"/>
        <nvpair id=\"vip-mask\" name=\"cidr_netmask\" value=\"24\"/>
      </instance_attributes>
      <operations>
        <op id=\"vip-mon\" name=\"monitor\" interval=\"10s\" timeout=\"20s\" on-fail=\"restart\"/>
      </operations>
    </primitive>
    <primitive id=\"httpd\" class=\"lsb\" type=\"apache2\">
      <operations>
        <op id=\"httpd-mon\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/>
      </operations>
    </primitive>
  </group>"
}

# The first host serving the page alone; prints it.
pcmk_wait_service() {
  local deadline=$((SECONDS + $1)) holders served
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

# The host boots: its IPC shared memory is gone and its stack starts.
pcmk_boot() {
  on "$1" sh -c 'rm -rf /dev/shm/*'
  pcmk_start "$1"
}

pcmk_inject() {
  local fault=$1 node=$2 pid
  case $fault in
    kill9)
      for pid in $(host_pids "$node"); do
        if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = corosync ]; then kill -KILL "$pid"; fi
      done
      ;;
    link) ip link set "vg${E2E_TAG}n${node#node}" down ;;
    freeze) for pid in $(host_pids "$node"); do kill -STOP "$pid" 2>/dev/null || true; done ;;
    power)
      ip link set "vg${E2E_TAG}n${node#node}" down
      "$E2E_WORK/$node/reset.sh"
      ;;
  esac
}

pcmk_undo() {
  local fault=$1 node=$2 pid
  case $fault in
    kill9)
      # Rebooted: its whole stack and leftovers gone, as by the power fault's reset.
      "$E2E_WORK/$node/reset.sh"
      sleep 1
      pcmk_boot "$node"
      ;;
    link) ip link set "vg${E2E_TAG}n${node#node}" up ;;
    freeze) for pid in $(host_pids "$node"); do kill -CONT "$pid" 2>/dev/null || true; done ;;
    power)
      ip link set "vg${E2E_TAG}n${node#node}" up
      pcmk_boot "$node"
      ;;
  esac
}

declare -A RESULT_MS=() OVERLAP_MS=()

pcmk_run_fault() {
  local fault=$1 run=$2 key="$1 $2" active t0 probe
  wait_for 120 pcmk_settled || e2e_die "$key: pacemaker did not settle"
  active=$(pcmk_wait_service 60) || e2e_die "$key: the page never answered"
  probe="$E2E_WORK/vip-probe.$fault.$run"
  e2e_start_vip_probe "$probe"
  t0=$(date +%s%3N)
  pcmk_inject "$fault" "$active"
  local deadline=$((SECONDS + 90)) served=""
  until served=$(e2e_served_by) && [ -n "$served" ] && [ "$served" != "$active" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { pcmk_undo "$fault" "$active"; e2e_die "$key: no failover in 90 s"; }
    sleep 0.1
  done
  RESULT_MS[$key]=$(($(date +%s%3N) - t0))
  pcmk_undo "$fault" "$active"
  wait_for 120 pcmk_online || e2e_die "$key: $active did not rejoin"
  wait_for 120 pcmk_settled || e2e_die "$key: pacemaker did not settle after the undo"
  pcmk_wait_service 60 >/dev/null || e2e_die "$key: no single host serves the page at the end"
  e2e_stop_probe
  OVERLAP_MS[$key]=$(e2e_overlap_ms "$probe")
  e2e_log "$key: page from $served after ${RESULT_MS[$key]} ms (was on $active), VIP overlap ${OVERLAP_MS[$key]} ms"
}

# "median max" in seconds of the ms values on stdin.
median_max() {
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f\n", m / 1000, v[NR] / 1000 }'
}

main() {
  local runs=5 hosts=2 token=3000 faults=kill9
  while [ $# -gt 0 ]; do
    case $1 in
      --runs) runs=$2; shift 2 ;;
      --hosts) hosts=$2; shift 2 ;;
      --token) token=$2; shift 2 ;;
      --faults) faults=$2; shift 2 ;;
      --keep) export E2E_KEEP_LOGS=1; shift ;;
      *) e2e_die "unknown argument $1" ;;
    esac
  done
  local list fault run
  IFS=, read -r -a list <<<"$faults"
  for fault in "${list[@]}"; do
    case $fault in kill9 | link | freeze | power) ;; *) e2e_die "unknown fault $fault" ;; esac
  done
  e2e_require
  if ! command -v pacemakerd >/dev/null || ! command -v corosync >/dev/null; then
    e2e_skip "needs pacemaker and corosync"
  fi
  e2e_setup "$hosts"
  local node i=0
  for node in "${E2E_HOSTS[@]}"; do
    i=$((i + 1))
    write_reset_script "$node" "$E2E_NET.$((10 + i))"
  done
  pcmk_write_config "$token"
  for node in "${E2E_HOSTS[@]}"; do pcmk_mount_host "$node"; pcmk_start "$node"; done
  wait_for 90 pcmk_online || e2e_die "pacemaker never showed every node online"
  pcmk_configure
  for fault in "${list[@]}"; do
    for run in $(seq 1 "$runs"); do pcmk_run_fault "$fault" "$run"; done
  done
  printf 'Pacemaker %s + Corosync %s, %s hosts, knet nodelist, token %s ms, no fencing, %s run(s) per fault\n' \
    "$(pacemakerd --version | head -n 1 | awk '{print $2}')" \
    "$(corosync -v | sed -n 's/.*version .\([0-9.]*\).*/\1/p')" "$hosts" "$token" "$runs"
  printf '%-10s %8s %8s %10s\n' fault median_s max_s overlap_s
  for fault in "${list[@]}"; do
    local values=() overlaps=() med max omax
    for run in $(seq 1 "$runs"); do
      values+=("${RESULT_MS["$fault $run"]}")
      overlaps+=("${OVERLAP_MS["$fault $run"]}")
    done
    read -r med max < <(printf '%s\n' "${values[@]}" | median_max)
    read -r _ omax < <(printf '%s\n' "${overlaps[@]}" | median_max)
    printf '%-10s %8s %8s %10s\n' "$fault" "$med" "$max" "$omax"
  done
  printf '(median/max: seconds from the fault until curl http://VIP/ answers from another host;\n'
  printf ' overlap: the longest total time two hosts held the VIP in a run, sampled every 50 ms)\n'
}

main "$@"
