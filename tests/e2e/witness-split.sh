#!/usr/bin/env bash
# Two hosts and a witness (issue 21): the guide's web service on two hosts whose corosync.conf has
# a quorum device, `vigil witness` in a third namespace, and no-quorum-policy=stop. The link
# between the two hosts is cut (their bridge ports isolated from each other, so both still reach
# the witness and the client): the witness gives its vote to one half, the other half loses
# quorum and stops, and once the page answers from that one host, every sample for SAMPLE seconds
# finds the VIP on it alone and the other half without quorum. Then the link is restored and both
# hosts are online again with the service on one of them.
#
#   witness-split.sh [--runs N] [--sample SECONDS] [--watchdog SECONDS] [--keep]
#
# Odd runs move the service to the half that will lose before the cut, even runs to the other.
# Prints, per run, the host that had the VIP before the cut, the one that kept it, the
# milliseconds until the split settled, and the milliseconds the probe (every 50 ms) saw the
# VIP on both hosts meanwhile: without fencing, the half that lost quorum stops its resources
# while the other starts them, and nothing orders the two.
#
# --watchdog: every host has a watchdog of SECONDS (vigil-watchdog-emulator, path in
# WATCHDOG_EMULATOR; its reset is a power loss), and the cluster runs with stonith-enabled=true and
# stonith-watchdog-timeout=-1: the half that lost quorum loses its lease and is reset, and the
# other starts the service only once that reset is certain (node/lease.h). The split has settled
# once the loser was reset; its host then boots again, still cut off, and stays without quorum.
# Then a single probe sample with the VIP on both hosts, from before the cut to the end of the
# samples, fails the run.
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/guide.sh
source "$E2E_DIR/guide.sh"

readonly SPLIT_LIMIT=60   # seconds the split may take to settle
readonly SETTLE_LIMIT=90  # seconds the cluster may take to settle once the link is back

# ffsplit's tie-breaker, corosync-qdevice's default (lowest): of two halves of one node each,
# the one with the lowest node id gets the vote.
readonly WINNER=node1 LOSER=node2

# `vigil quorum status`'s table; it exits 2 when not quorate, as corosync-quorumtool -s does.
quorum_out() { vigil_on "$1" quorum status 2>/dev/null || true; }

# NODE's partition is NODE alone, with or without quorum (WANT = Yes | No).
alone_and_quorate() {
  local out
  out=$(quorum_out "$1")
  grep -Eq '^Nodes: +1$' <<<"$out" && grep -Eq "^Quorate: +$2\$" <<<"$out"
}

# Both hosts count the witness's vote (the Qdevice column of their own row says V).
device_counts_on_both() {
  local node
  for node in "${E2E_HOSTS[@]}"; do
    quorum_out "$node" | grep -Eq '^ +[0-9]+ +1 +A,V,NMW .*\(local\)$' || return 1
  done
}

ports_isolated() {
  local node
  for node in "${E2E_HOSTS[@]}"; do
    bridge link set dev "vg${E2E_TAG}n${node#node}" isolated "$1"
  done
}

# The split settled: the winner alone with quorum, the loser alone without, the VIP on the
# winner only, and the page answers from it.
# With a watchdog the loser is down by then: its watchdog reset it.
split_settled() {
  alone_and_quorate "$WINNER" Yes &&
    if [ -n "${E2E_WATCHDOG:-}" ]; then was_reset "$LOSER"; else alone_and_quorate "$LOSER" No; fi &&
    [ "$(e2e_vip_holders | tr '\n' ' ')" = "$WINNER " ] && [ "$(e2e_served_by)" = "$WINNER" ]
}

# For SECONDS after the split settled at T (epoch ms): the loser stays without quorum (asked
# every 200 ms, at most 100 times), and every line the VIP probe (PROBE) wrote since T finds the
# VIP on the winner alone. Dies at the first that does not; sets SAMPLES to the probe's count.
check_split() {
  local seconds=$1 t=$2 probe=$3 end=$((SECONDS + $1)) i bad
  for ((i = 1; i <= 100 && SECONDS < end; i++)); do
    alone_and_quorate "$LOSER" No || e2e_die "check $i of the split: $LOSER is not alone without quorum"
    sleep 0.2
  done
  e2e_stop_probe
  bad=$(awk -v t="$t" -v w="$WINNER" '$1 >= t && (NF != 2 || $2 != w) { print; exit }' "$probe")
  [ -z "$bad" ] || e2e_die "a sample of the split (epoch ms, holders): $bad"
  SAMPLES=$(awk -v t="$t" '$1 >= t { n++ } END { print n + 0 }' "$probe")
}

# Back together: both online with quorum and the witness's vote, the VIP on one host only.
rejoined() {
  e2e_all_online && device_counts_on_both && [ "$(e2e_vip_holders | wc -l)" -eq 1 ]
}

served_from() { [ "$(e2e_wait_service 1)" = "$1" ]; }

# Odd runs cut with the service on the half that will lose, even runs on the half that keeps it.
split_once() {
  local run=$1 active t0 t1 probe overlap start=$WINNER
  if [ $((run % 2)) -eq 1 ]; then start=$LOSER; fi
  # Moved once the cluster settled (guide.sh): a move made while the group's first transitions
  # still ran was once never scheduled (the constraint was in the CIB, no transition followed).
  wait_for "$SETTLE_LIMIT" settled || e2e_die "run $run: the cluster did not settle before the move"
  vigil_on "$WINNER" resource move webservice "$start" >/dev/null ||
    e2e_die "run $run: resource move webservice $start failed"
  wait_for "$SETTLE_LIMIT" served_from "$start" || e2e_die "run $run: the service did not move to $start"
  wait_for "$SETTLE_LIMIT" settled || e2e_die "run $run: the cluster did not settle after the move"
  active=$start
  wait_for 30 device_counts_on_both ||
    e2e_die "run $run: the witness's vote does not count on both hosts: $(quorum_out "$WINNER" | tail -n 4)"
  probe="$E2E_WORK/vip-probe.$run"
  e2e_start_vip_probe "$probe"
  t0=$(date +%s%3N)
  ports_isolated on
  e2e_log "run $run: link between the hosts cut (VIP on $active)"
  wait_for "$SPLIT_LIMIT" split_settled ||
    e2e_die "run $run: ${SPLIT_LIMIT}s after the cut: VIP on [ $(e2e_vip_holders | tr '\n' ' ')], page served by '$(e2e_served_by)'; $WINNER: $(quorum_out "$WINNER" | grep -E '^(Nodes|Quorate):' | tr -s ' \n' ' ')$LOSER: $(quorum_out "$LOSER" | grep -E '^(Nodes|Quorate):' | tr -s ' \n' ' ')"
  t1=$(date +%s%3N)
  if [ -n "${E2E_WATCHDOG:-}" ]; then
    restart_after_reset "$LOSER"  # the host boots again, still cut off
    wait_for 30 alone_and_quorate "$LOSER" No || e2e_die "run $run: $LOSER did not come back alone without quorum after its reset"
  fi
  check_split "$SAMPLE" "$t1" "$probe"
  overlap=$(e2e_overlap_ms "$probe")
  if [ -n "${E2E_WATCHDOG:-}" ] && [ "$overlap" -gt 0 ]; then
    e2e_die "run $run: with a watchdog both hosts held the VIP for $overlap ms, first at: $(awk 'NF > 2 { print; exit }' "$probe")"
  fi
  e2e_log "run $run: $WINNER alone keeps the VIP ($SAMPLES samples in ${SAMPLE}s)"
  ports_isolated off
  wait_for "$SETTLE_LIMIT" rejoined || e2e_die "run $run: the hosts did not rejoin with one VIP after the link came back"
  vigil_on "$WINNER" resource clear webservice >/dev/null || e2e_die "run $run: resource clear webservice failed"
  e2e_wait_service "$SETTLE_LIMIT" >/dev/null || e2e_die "run $run: no single host serves the page after the rejoin"
  printf 'run %s: VIP on %s before the cut, on %s after; settled %s ms after the cut; VIP on both hosts %s ms%s\n' \
    "$run" "$active" "$WINNER" "$((t1 - t0))" "$overlap" "${E2E_WATCHDOG:+ (watchdog ${E2E_WATCHDOG} s, $LOSER reset)}"
}

main() {
  local runs=1
  SAMPLE=5
  SAMPLES=0
  while [ $# -gt 0 ]; do
    case $1 in
      --runs) runs=$2; shift 2 ;;
      --sample) SAMPLE=$2; shift 2 ;;
      --watchdog) export E2E_WATCHDOG=$2; shift 2 ;;
      --keep) export E2E_KEEP_LOGS=1; shift ;;
      *) e2e_die "unknown argument $1" ;;
    esac
  done
  e2e_require
  command -v bridge >/dev/null || e2e_skip "needs bridge (iproute2)"
  e2e_setup 2
  e2e_add_witness
  if [ -n "${E2E_WATCHDOG:-}" ]; then start_watchdogs; fi
  # The guide's bridge ports can be isolated from each other (not every kernel has it).
  bridge link set dev "vg${E2E_TAG}n1" isolated off 2>/dev/null || e2e_skip "bridge ports cannot be isolated"
  e2e_guide_cluster_up nodelist
  e2e_guide_configure
  local run
  for run in $(seq 1 "$runs"); do split_once "$run"; done
  grep -q 'the vote goes to nodes 1$' "$E2E_WORK/witness.log" ||
    e2e_die "the witness never logged its vote for node 1 alone"
}

main "$@"
