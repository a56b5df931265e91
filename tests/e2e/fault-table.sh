#!/usr/bin/env bash
# Faults against the guide's web service, timed from the client namespace: from the fault until
# `curl http://VIP/` answers again (polled every 100 ms), with a probe of `ip addr` in every host
# namespace that records any moment two hosts held the VIP. Prints a table: per fault the median
# and max over the runs, the VIP overlap, and the breakdown vigild's logs give (first log line of
# each phase, in seconds from the fault).
#
#   fault-table.sh [--runs N] [--hosts N] [--config multicast|nodelist] [--token MS]
#                  [--faults kill9,link,webserver,standby,freeze,power] [--watchdog SECONDS] [--keep]
#
# power: the active host loses power: its link goes down and every process of it dies at once.
# --watchdog: every host has a watchdog of SECONDS (vigil-watchdog-emulator, path in
# WATCHDOG_EMULATOR, outside the host so that a frozen host's watchdog still fires) whose reset is a
# power loss; the cluster runs with stonith-enabled=true and stonith-watchdog-timeout=-1 instead of
# the guide's no fencing, on 3 hosts or more. A host that was reset is started again by the undo.
#
# Fails if a fault never recovers or ends with the VIP on two hosts; with --watchdog also if two
# hosts held the VIP at any moment, or a host that lost its lease was not reset.
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/guide.sh
source "$E2E_DIR/guide.sh"

readonly RECOVERY_LIMIT=60   # seconds a fault may take to recover before the run fails
readonly SETTLE_LIMIT=90     # seconds the cluster may take to settle after a fault is undone

# The phases of a recovery and the vigild log lines that mark them (extended regexps). Detection,
# membership and schedule count the first such line after the fault; stops, starts and the
# transition's completion the last one before the page answered again. Lines from the hosts that
# kept running.
PHASES=(detected membership schedule stops starts complete)
declare -A PHASE_RE=(
  [detected]='failed \(token lost\)|[Tt]oken has not been received|processor failed|_monitor_[0-9]+ on [^ ]+ failed| monitor of [^ ]+: rc=[1-9]'
  [membership]='A new membership \('
  [schedule]='transition [0-9]+: [0-9]+ actions'
  [stops]=' stop of [^ ]+: rc=0 '
  [starts]=' start of [^ ]+: rc=0 '
  [complete]='transition [0-9]+ complete'
  [reset]='is reset by its watchdog by now'
)
declare -A PHASE_PICK=([detected]=first [membership]=first [schedule]=first [stops]=last
  [starts]=last [complete]=last [reset]=first)

WATCHDOG=""                # --watchdog SECONDS, empty without one
declare -A RESULT_MS=()    # "<fault> <run>" → ms until the page answered again
declare -A OVERLAP_MS=()   # "<fault> <run>" → ms with the VIP on two hosts
declare -A PHASE_MS=()     # "<fault> <run> <phase>" → ms from the fault to the phase's log line

now_ms() { date +%s%3N; }

# Epoch ms of a vigild log line ("Nov 25 02:11:23.795 [pid] …").
log_line_ms() {
  local stamp
  stamp=$(cut -d' ' -f1-3 <<<"$1")
  date -d "$stamp" +%s%3N 2>/dev/null
}

log_lines() { wc -l <"$E2E_WORK/$1/log/vigil/vigild.log"; }

# Records, for each phase, its log line's time from the fault (T0) among lines logged up to the
# answer (T1) on the given hosts (LOG_FROM = their line counts at the fault).
record_phases() {
  local key=$1 t0=$2 t1=$3; shift 3
  local phase node line ms best
  for phase in "${PHASES[@]}"; do
    best=""
    for node in "$@"; do
      while IFS= read -r line; do
        ms=$(log_line_ms "$line") || continue
        [ "$ms" -le "$t1" ] || continue
        if [ -z "$best" ] ||
          { [ "${PHASE_PICK[$phase]}" = first ] && [ "$ms" -lt "$best" ]; } ||
          { [ "${PHASE_PICK[$phase]}" = last ] && [ "$ms" -gt "$best" ]; }; then
          best=$ms
        fi
      done < <(tail -n +"$((${LOG_FROM[$node]:-0} + 1))" "$E2E_WORK/$node/log/vigil/vigild.log" |
        grep -E "${PHASE_RE[$phase]}" || true)
    done
    if [ -n "$best" ]; then PHASE_MS["$key $phase"]=$((best - t0)); fi
  done
}

inject() {
  local fault=$1 node=$2 pid
  case $fault in
    power)
      ip link set "vg${E2E_TAG}n${node#node}" down
      "$E2E_WORK/$node/reset.sh"
      ;;
    kill9) kill -KILL "${E2E_VIGILD[$node]}" ;;
    link) ip link set "vg${E2E_TAG}n${node#node}" down ;;
    webserver)
      for pid in $(host_pids "$node"); do
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = apache2 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      done
      ;;
    standby) vigil_on "$node" node standby "$node" >/dev/null ;;
    # A process listed a moment ago may have ended since (an agent's monitor): that is no error.
    freeze) for pid in $(host_pids "$node"); do kill -STOP "$pid" 2>/dev/null || true; done ;;
  esac
}

undo() {
  local fault=$1 node=$2 pid
  if [ -n "$WATCHDOG" ]; then
    case $fault in
      kill9 | link | freeze)
        # The host lost its lease when the fault began: its watchdog has reset it by now.
        wait_for 10 was_reset "$node" ||
          e2e_die "$fault: $node lost its lease but its watchdog did not reset it ($(tail -n 1 "$E2E_WORK/$node/watchdog.out"))"
        [ "$fault" != link ] || ip link set "vg${E2E_TAG}n${node#node}" up
        restart_after_reset "$node"
        return
        ;;
    esac
  fi
  case $fault in
    power)
      ip link set "vg${E2E_TAG}n${node#node}" up
      restart_after_reset "$node"
      ;;
    kill9)
      wait_for 10 e2e_gone "${E2E_VIGILD[$node]}" || e2e_die "$node: the killed vigild is still there"
      e2e_start_vigild "$node"
      ;;
    link) ip link set "vg${E2E_TAG}n${node#node}" up ;;
    webserver) vigil_on "$node" resource cleanup httpd >/dev/null ;;
    standby) vigil_on "$node" node online "$node" >/dev/null ;;
    freeze) for pid in $(host_pids "$node"); do kill -CONT "$pid" 2>/dev/null || true; done ;;
  esac
}

# True when the page answers; for faults that move the service, only from another host.
answered() {
  local fault=$1 failed=$2 served
  served=$(e2e_served_by)
  [ -n "$served" ] || return 1
  [ "$fault" = webserver ] || [ "$served" != "$failed" ]
}

page_down() { ! client curl -s --max-time 0.5 -o /dev/null "http://$E2E_VIP/"; }

run_fault() {
  local fault=$1 run=$2 key="$1 $2" active node t0 probe
  wait_for "$SETTLE_LIMIT" settled || e2e_die "$key: the cluster did not settle before the fault"
  active=$(e2e_wait_service "$SETTLE_LIMIT") || e2e_die "$key: no single host serves the page"
  declare -gA LOG_FROM=()
  for node in "${E2E_HOSTS[@]}"; do LOG_FROM[$node]=$(log_lines "$node"); done
  probe="$E2E_WORK/vip-probe.$fault.$run"
  e2e_start_vip_probe "$probe"
  t0=$(now_ms)
  inject "$fault" "$active"
  # Only an answer after the page went down counts: one from the server still dying is no recovery.
  if [ "$fault" = webserver ]; then
    wait_for 5 page_down || e2e_die "$key: the page still answered 5 s after its web server was killed"
  fi
  local deadline=$((SECONDS + RECOVERY_LIMIT))
  until answered "$fault" "$active"; do
    [ "$SECONDS" -lt "$deadline" ] || { undo "$fault" "$active"; e2e_die "$key: no answer in ${RECOVERY_LIMIT}s"; }
    sleep 0.1
  done
  local t1
  t1=$(now_ms)
  RESULT_MS[$key]=$((t1 - t0))
  local survivors=()
  for node in "${E2E_HOSTS[@]}"; do
    [ "$node" = "$active" ] && [ "$fault" != webserver ] && [ "$fault" != standby ] && continue
    survivors+=("$node")
  done
  record_phases "$key" "$t0" "$t1" "${survivors[@]}"
  undo "$fault" "$active"
  wait_for "$SETTLE_LIMIT" settled || e2e_die "$key: the cluster did not settle after undoing the fault"
  e2e_wait_service "$SETTLE_LIMIT" >/dev/null || e2e_die "$key: no single host serves the page at the end"
  e2e_stop_probe
  OVERLAP_MS[$key]=$(e2e_overlap_ms "$probe")
  if [ -n "$WATCHDOG" ] && [ "${OVERLAP_MS[$key]}" -gt 0 ]; then
    e2e_die "$key: with a watchdog two hosts held the VIP for ${OVERLAP_MS[$key]} ms (probe $probe)"
  fi
  local holders
  holders=$(e2e_vip_holders | wc -l)
  [ "$holders" -eq 1 ] || e2e_die "$key: the fault ended with the VIP on $holders hosts"
  e2e_log "$key: answered after ${RESULT_MS[$key]} ms (was on $active), VIP overlap ${OVERLAP_MS[$key]} ms"
}

median_max() {   # prints "median max" of ms values, in seconds
  sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-", "-"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f\n", m / 1000, v[NR] / 1000 }'
}

print_table() {
  local runs=$1; shift
  printf '\n%-10s %8s %8s %10s' fault median_s max_s overlap_s
  local phase fault run
  for phase in "${PHASES[@]}"; do printf ' %11s' "$phase"; done
  printf '\n'
  for fault in "$@"; do
    local values=() overlaps=()
    for run in $(seq 1 "$runs"); do
      values+=("${RESULT_MS["$fault $run"]}")
      overlaps+=("${OVERLAP_MS["$fault $run"]}")
    done
    read -r med max < <(printf '%s\n' "${values[@]}" | median_max)
    read -r _ omax < <(printf '%s\n' "${overlaps[@]}" | median_max)
    printf '%-10s %8s %8s %10s' "$fault" "$med" "$max" "$omax"
    for phase in "${PHASES[@]}"; do
      local got=()
      for run in $(seq 1 "$runs"); do
        if [ -n "${PHASE_MS["$fault $run $phase"]:-}" ]; then got+=("${PHASE_MS["$fault $run $phase"]}"); fi
      done
      if [ "${#got[@]}" -eq 0 ]; then
        printf ' %11s' "not-logged"
      else
        read -r pmed _ < <(printf '%s\n' "${got[@]}" | median_max)
        printf ' %11s' "$pmed"
      fi
    done
    printf '\n'
  done
  printf '(median/max: seconds from the fault until curl http://VIP/ answers from the client; overlap:\n'
  printf ' longest total time two hosts held the VIP in a run)\n'
  printf '(phases: median seconds from the fault to the vigild log line of that phase on the hosts that\n'
  printf ' kept running: the first for detected/membership/schedule, the last before the answer for\n'
  printf ' stops/starts/complete; not-logged = vigild wrote no such line)\n'
  if [ -n "$WATCHDOG" ]; then printf '(reset: the first survivor to count the lost host reset by its watchdog)\n'; fi
}

main() {
  # nodelist by default: with the guide's multicast config vigild does not yet show peers by name.
  local runs=5 hosts=2 mode=nodelist token=3000 faults=kill9,link,webserver,standby,freeze
  while [ $# -gt 0 ]; do
    case $1 in
      --runs) runs=$2; shift 2 ;;
      --hosts) hosts=$2; shift 2 ;;
      --config) mode=$2; shift 2 ;;
      --token) token=$2; shift 2 ;;
      --faults) faults=$2; shift 2 ;;
      --watchdog) WATCHDOG=$2; shift 2 ;;
      --keep) export E2E_KEEP_LOGS=1; shift ;;
      *) e2e_die "unknown argument $1" ;;
    esac
  done
  # The guide's httpd has no monitor, so no cluster manager would notice the web server dying:
  # here it gets the same monitor as the vip.
  export E2E_HTTPD_OPS="op monitor interval=10s timeout=20s"
  e2e_require
  if [ -n "$WATCHDOG" ]; then
    # Two hosts would need a third vote: with two_node both halves of a split keep quorum.
    [ "$hosts" -ge 3 ] || e2e_die "--watchdog needs --hosts 3 or more (lease.h: no witness yet)"
    [ "$mode" = nodelist ] || e2e_die "--watchdog needs --config nodelist (votequorum counts the nodelist)"
    export E2E_WATCHDOG=$WATCHDOG
    # With a watchdog the survivors wait until the lost host's lease has run out.
    PHASES=(detected membership reset schedule stops starts complete)
  fi
  e2e_setup "$hosts"
  if [ -n "$WATCHDOG" ]; then
    start_watchdogs
  else
    # The power fault's reset, without a watchdog to run it.
    local node i=0
    for node in "${E2E_HOSTS[@]}"; do
      i=$((i + 1))
      write_reset_script "$node" "$E2E_NET.$((10 + i))"
    done
  fi
  e2e_guide_cluster_up "$mode" "$token"
  local list fault run
  IFS=, read -r -a list <<<"$faults"
  e2e_guide_configure
  for fault in "${list[@]}"; do
    case $fault in kill9 | link | webserver | standby | freeze | power) ;; *) e2e_die "unknown fault $fault" ;; esac
    for run in $(seq 1 "$runs"); do run_fault "$fault" "$run"; done
  done
  echo "vigil, $hosts hosts, $mode config, token $token ms, ${WATCHDOG:+watchdog $WATCHDOG s, }$runs run(s) per fault"
  print_table "$runs" "${list[@]}"
}

main "$@"
