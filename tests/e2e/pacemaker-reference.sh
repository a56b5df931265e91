#!/usr/bin/env bash
# The reference figure beside vigil's: Debian's Corosync 3 + Pacemaker 2.1 in the same namespace
# cluster (2 hosts, the same vip + httpd group through the same agents), kill -9 of corosync on the
# active host, timed from the client until the page answers from the other host.
#
#   pacemaker-reference.sh [--runs N] [--token MS] [--keep]
#
# Not a ctest test (it measures another product); needs corosync and pacemaker installed.
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export VIGILD=${VIGILD:-/bin/true} VIGIL=${VIGIL:-/bin/true}   # lib.sh checks them; unused here
# shellcheck source=tests/e2e/lib.sh
source "$E2E_DIR/lib.sh"

# Corosync 3's own default transport (knet) with a nodelist naming the hosts, the guide's totem
# timings, two_node quorum.
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
    printf '}\nquorum {\n    provider: corosync_votequorum\n    two_node: 1\n}\n'
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
    <primitive id=\"httpd\" class=\"lsb\" type=\"apache2\"/>
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

main() {
  local runs=5 token=3000
  while [ $# -gt 0 ]; do
    case $1 in
      --runs) runs=$2; shift 2 ;;
      --token) token=$2; shift 2 ;;
      --keep) export E2E_KEEP_LOGS=1; shift ;;
      *) e2e_die "unknown argument $1" ;;
    esac
  done
  e2e_require
  if ! command -v pacemakerd >/dev/null || ! command -v corosync >/dev/null; then
    e2e_skip "needs pacemaker and corosync"
  fi
  e2e_setup 2
  pcmk_write_config "$token"
  local node
  for node in "${E2E_HOSTS[@]}"; do pcmk_mount_host "$node"; pcmk_start "$node"; done
  wait_for 90 pcmk_online || e2e_die "pacemaker never showed both nodes online"
  pcmk_configure
  local results=() run
  for run in $(seq 1 "$runs"); do
    wait_for 120 pcmk_settled || e2e_die "run $run: pacemaker did not settle"
    local active t0 ms
    active=$(pcmk_wait_service 60) || e2e_die "run $run: the page never answered"
    local pid
    pid=$(for p in $(ip netns pids "${E2E_NS[$active]}"); do
      if [ "$(cat /proc/"$p"/comm 2>/dev/null)" = corosync ]; then echo "$p"; fi
    done)
    t0=$(date +%s%3N)
    kill -KILL "$pid"
    local deadline=$((SECONDS + 60)) served=""
    until served=$(e2e_served_by) && [ -n "$served" ] && [ "$served" != "$active" ]; do
      [ "$SECONDS" -lt "$deadline" ] || e2e_die "run $run: no failover in 60 s"
      sleep 0.1
    done
    ms=$(($(date +%s%3N) - t0))
    results+=("$ms")
    e2e_log "run $run: kill -9 corosync on $active → page from $served after $ms ms"
    # Back to a clean two-node cluster: the old host's whole stack and its leftover VIP and
    # web server go (as a reboot would), then it rejoins.
    for p in $(ip netns pids "${E2E_NS[$active]}"); do
      [ "$p" = "${E2E_HOLDER[$active]}" ] || kill -KILL "$p" 2>/dev/null || true
    done
    on "$active" ip addr del "$E2E_VIP/24" dev veth0 2>/dev/null || true
    on "$active" sh -c 'rm -rf /run/apache2/* /dev/shm/*'
    sleep 1
    pcmk_start "$active"
    wait_for 90 pcmk_online || e2e_die "run $run: $active did not rejoin"
  done
  printf 'Pacemaker %s + Corosync %s, 2 hosts, knet nodelist, token %s ms, kill -9 corosync on the active host\n' \
    "$(pacemakerd --version | head -n 1 | awk '{print $2}')" "$(corosync -v | sed -n 's/.*version .\([0-9.]*\).*/\1/p')" "$token"
  printf '%s\n' "${results[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "runs %d  median %.2f s  max %.2f s\n", NR, m / 1000, v[NR] / 1000 }'
}

main "$@"
