# shellcheck shell=bash
# The namespace cluster the end-to-end tests run on, sourced by the e2e scripts.
#
# Each host is a network namespace plus a mount namespace of its own (a tmpfs /run, its own
# /var/log, /var/www and /etc/corosync, and /var/lib/vigil), joined to the others by a Linux bridge
# on a private /24; one more namespace is the client. Every name carries a per-run tag, so runs can
# overlap. e2e_cleanup (armed on EXIT/INT/TERM by e2e_setup) ends what it started by pid and removes
# every namespace, veth and the bridge it made.
#
# Needs: VIGILD and VIGIL (paths of the binaries). A missing prerequisite (root, namespaces, a tool)
# is a skip: "SKIP: <what>" and exit code 77, which ctest counts as skipped; anything else that goes
# wrong fails. Every sanitizer report of a process the run started (vigild, vigil) fails it too.

set -euo pipefail

readonly E2E_SKIP=77
E2E_TAG="$(printf '%04x%02x' $(($$ & 0xffff)) $((RANDOM & 0xff)))"
E2E_NET="10.213.$((RANDOM % 250 + 1))"   # this run's /24; the bridge is private, so no clash
E2E_VIP="$E2E_NET.100"
E2E_CLIENT_IP="$E2E_NET.200"
E2E_WORK=""
E2E_HOSTS=()          # host names: node1 node2 …
declare -A E2E_NS=()        # node → network namespace name
declare -A E2E_HOLDER=()    # node → pid of the process that holds its mount namespace
declare -A E2E_VIGILD=()    # node → pid of its vigild
E2E_CLIENT_NS=""
E2E_WITNESS_NS=""     # the witness's namespace (e2e_add_witness), empty without one
E2E_WITNESS=""        # its address: e2e_write_config then writes quorum { device { … } }
E2E_BRIDGE=""
E2E_BG_PIDS=()        # other processes this run started (probes)

e2e_log() { printf '[e2e %s] %s\n' "$(date -u +%T.%3N)" "$*" >&2; }
e2e_die() { e2e_log "FAIL: $*"; exit 1; }
e2e_skip() { e2e_log "SKIP: $*"; exit "$E2E_SKIP"; }

# Skips unless this process can make namespaces and bridges and the tools are present.
e2e_require() {
  [ "$(id -u)" -eq 0 ] || e2e_skip "needs root (network namespaces, a bridge)"
  for tool in ip unshare nsenter curl; do
    command -v "$tool" >/dev/null || e2e_skip "needs $tool"
  done
  local probe="vge2eprobe$E2E_TAG"
  ip netns add "$probe" 2>/dev/null || e2e_skip "cannot create network namespaces (ip netns add)"
  ip netns del "$probe"
  ip link add "vgp$E2E_TAG" type bridge 2>/dev/null || e2e_skip "cannot create a Linux bridge"
  ip link del "vgp$E2E_TAG"
  unshare --mount --uts true 2>/dev/null || e2e_skip "cannot create mount namespaces (unshare)"
  [ -x "${VIGILD:-}" ] || e2e_die "VIGILD is not set to the vigild binary"
  [ -x "${VIGIL:-}" ] || e2e_die "VIGIL is not set to the vigil binary"
}

# Runs a command inside a host: its network and mount namespaces.
on() {
  local node=$1; shift
  nsenter -t "${E2E_HOLDER[$node]}" -m -n -u -- "$@"
}

# The CLI on a host, talking to that host's vigild.
vigil_on() {
  local node=$1; shift
  on "$node" env VIGIL_SOCKET=/run/vigil/vigild.sock "$VIGIL" "$@"
}

client() { ip netns exec "$E2E_CLIENT_NS" "$@"; }

# Polls COMMAND every 100 ms until it succeeds or SECONDS pass; returns 1 on timeout.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  while ! "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

e2e_gone() { ! kill -0 "$1" 2>/dev/null; }

# Fails the run when a sanitized process wrote a report: to its own file (log_path, set by
# e2e_setup for every process it starts), or to a vigild log.
e2e_check_sanitizer_reports() {
  local found=0 file
  for file in "$E2E_WORK"/sanitizer/report.* "$E2E_WORK"/*/log/vigil/*.log; do
    [ -f "$file" ] || continue
    if [[ $file == */sanitizer/* ]] || grep -qE 'Sanitizer: |: runtime error: ' "$file"; then
      echo "----- sanitizer report in $file" >&2
      cat "$file" >&2
      found=1
    fi
  done
  return "$found"
}

e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local pid
  for pid in "${E2E_BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  # Everything still running inside a host namespace was started by this run (vigild, the agents'
  # daemons, the namespace holders): thaw it if frozen, then end it by pid.
  local ns
  for ns in "${E2E_NS[@]}" "$E2E_CLIENT_NS" "$E2E_WITNESS_NS"; do
    [ -n "$ns" ] || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; done
  done
  for pid in "${E2E_VIGILD[@]}" "${E2E_HOLDER[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for pid in "${E2E_VIGILD[@]}" "${E2E_HOLDER[@]}"; do wait_for 5 e2e_gone "$pid"; done
  for ns in "${E2E_NS[@]}" "$E2E_CLIENT_NS" "$E2E_WITNESS_NS"; do
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  [ -n "$E2E_BRIDGE" ] && ip link del "$E2E_BRIDGE" 2>/dev/null
  if [ -n "$E2E_WORK" ] && [ -d "$E2E_WORK" ]; then
    if ! e2e_check_sanitizer_reports; then
      e2e_log "FAIL: a process of this run wrote a sanitizer report"
      rc=1
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne "$E2E_SKIP" ] && [ -z "${E2E_KEEP_LOGS:-}" ]; then
      local log
      for log in "$E2E_WORK"/*/log/vigil/vigild.log "$E2E_WORK"/*/log/vigil/stderr.log; do
        [ -s "$log" ] || continue
        echo "----- last lines of $log" >&2
        tail -n 40 "$log" >&2
      done
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne "$E2E_SKIP" ] && [ -z "${E2E_KEEP_LOGS:-}" ] &&
      [ -s "$E2E_WORK/witness.log" ]; then
      echo "----- last lines of $E2E_WORK/witness.log" >&2
      tail -n 40 "$E2E_WORK/witness.log" >&2
    fi
    if [ -n "${E2E_KEEP_LOGS:-}" ]; then
      e2e_log "logs kept in $E2E_WORK"
    else
      rm -rf "$E2E_WORK"
    fi
  fi
  exit "$rc"
}

# veth pair NAME (root side, on the bridge) ↔ veth0 inside namespace NS with address IP.
e2e_plug() {
  local ns=$1 outside=$2 ip=$3
  ip link add "$outside" type veth peer name "${outside}i"
  ip link set "${outside}i" netns "$ns"
  ip -n "$ns" link set "${outside}i" name veth0
  ip -n "$ns" addr add "$ip/24" dev veth0
  ip -n "$ns" link set veth0 up
  ip -n "$ns" link set lo up
  ip link set "$outside" master "$E2E_BRIDGE"
  ip link set "$outside" up
}

e2e_has_own_mounts() {
  [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] &&
    [ "$(readlink "/proc/$1/exe")" = "$(readlink -f "$(command -v sleep)")" ]
}

# Gives host NODE its mount (and UTS, for its host name) namespace: a process that sleeps inside
# the network namespace and a private mount namespace, where its directories are mounted over the system's.
e2e_mount_host() {
  local node=$1 dir=$E2E_WORK/$1
  mkdir -p "$dir"/{log/vigil,log/apache2,www/html,etc-corosync,state}
  printf '<html><body><h1>vigil e2e: served by %s</h1></body></html>\n' "$node" \
    >"$dir/www/html/index.html"
  # Mount points of the state dir (vigil's default path) and of the configuration, which a machine
  # without corosync installed lacks.
  mkdir -p /var/lib/vigil /etc/corosync
  ip netns exec "${E2E_NS[$node]}" unshare --mount --uts --propagation private sleep 100000 &
  E2E_HOLDER[$node]=$!
  disown   # ended by e2e_cleanup; no job notices from bash when it is
  wait_for 5 e2e_has_own_mounts "${E2E_HOLDER[$node]}" || e2e_die "$node: no mount namespace"
  on "$node" sh -euc "
    mount -t tmpfs -o mode=755 e2e-run /run
    mkdir -p /run/lock /run/vigil /run/apache2 /run/lock/apache2 /run/resource-agents
    mount --bind '$dir/log' /var/log
    mount --bind '$dir/www' /var/www
    mount --bind '$dir/etc-corosync' /etc/corosync
    mount --bind '$dir/state' /var/lib/vigil
    hostname '$node'"
}

# Builds the bridge, COUNT hosts (node1…) at .11, .12, … and the client at .200.
e2e_setup() {
  local count=$1
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  E2E_WORK=$(mktemp -d /tmp/vigil-e2e."$E2E_TAG".XXXX)
  # Every sanitized process started from here on (its mount namespaces share /tmp) reports to a
  # file of its own there, which e2e_cleanup reads.
  mkdir "$E2E_WORK/sanitizer"
  local tool options
  for tool in ASAN UBSAN LSAN; do
    options=$(printenv "${tool}_OPTIONS" || true)
    export "${tool}_OPTIONS=${options:+$options:}log_path=$E2E_WORK/sanitizer/report"
  done
  E2E_BRIDGE="vgb$E2E_TAG"
  ip link add "$E2E_BRIDGE" type bridge
  # Multicast must flow without an IGMP querier on this private segment.
  echo 0 >/sys/class/net/"$E2E_BRIDGE"/bridge/multicast_snooping
  ip link set "$E2E_BRIDGE" up
  local i
  for i in $(seq 1 "$count"); do
    local node="node$i"
    E2E_HOSTS+=("$node")
    E2E_NS[$node]="vg$E2E_TAG-n$i"
    ip netns add "${E2E_NS[$node]}"
    e2e_plug "${E2E_NS[$node]}" "vg${E2E_TAG}n$i" "$E2E_NET.$((10 + i))"
    e2e_mount_host "$node"
  done
  E2E_CLIENT_NS="vg$E2E_TAG-cl"
  ip netns add "$E2E_CLIENT_NS"
  e2e_plug "$E2E_CLIENT_NS" "vg${E2E_TAG}cl" "$E2E_CLIENT_IP"
  e2e_log "bridge $E2E_BRIDGE, subnet $E2E_NET.0/24, hosts ${E2E_HOSTS[*]}, work $E2E_WORK"
}

# A namespace for `vigil witness` at .30 on the bridge (a third machine, no cluster host): sets
# E2E_WITNESS, so e2e_write_config gives the cluster a quorum device there. Call after e2e_setup.
e2e_add_witness() {
  E2E_WITNESS_NS="vg$E2E_TAG-wn"
  E2E_WITNESS="$E2E_NET.30"
  ip netns add "$E2E_WITNESS_NS"
  e2e_plug "$E2E_WITNESS_NS" "vg${E2E_TAG}wn" "$E2E_WITNESS"
}

# Starts `vigil witness` in its namespace with the cluster's authkey (after
# e2e_distribute_config); its log is $E2E_WORK/witness.log.
e2e_start_witness() {
  local key=$E2E_WORK/${E2E_HOSTS[0]}/etc-corosync/authkey
  ip netns exec "$E2E_WITNESS_NS" "$VIGIL" witness --listen "$E2E_WITNESS" --key "$key" \
    >>"$E2E_WORK/witness.log" 2>&1 &
  E2E_BG_PIDS+=($!)
  disown   # ended by e2e_cleanup; no job notice from bash when it is
  wait_for 10 grep -q 'listening on TCP' "$E2E_WORK/witness.log" ||
    e2e_die "the witness did not start: $(tail -n 1 "$E2E_WORK/witness.log")"
}

# The guide's corosync.conf on the test subnet: multicast (bindnetaddr, mcastaddr, mcastport), or
# with MODE=nodelist a udpu nodelist of the hosts and the key required (crypto on).
e2e_write_config() {
  local mode=$1 token=${2:-3000} file=$E2E_WORK/corosync.conf
  local port=$((5405 + (RANDOM % 200) * 2))
  {
    cat <<EOF
totem {
    version: 2
    token: $token
    token_retransmits_before_loss_const: 10
    join: 60
    consensus: $((token * 12 / 10))
    vsftype: none
    max_messages: 20
    clear_node_high_bit: yes
EOF
    if [ "$mode" = multicast ]; then
      cat <<EOF
    secauth: off
    threads: 0
    rrp_mode: none
    interface {
        ringnumber: 0
        bindnetaddr: $E2E_NET.0
        mcastaddr: 226.93.2.1
        mcastport: $port
    }
}
EOF
    else
      cat <<EOF
    cluster_name: vigil-e2e
    transport: udpu
    crypto_cipher: aes256
    crypto_hash: sha256
    interface {
        linknumber: 0
        mcastport: $port
    }
}
nodelist {
EOF
      local i=0 node
      for node in "${E2E_HOSTS[@]}"; do
        i=$((i + 1))
        printf '    node {\n        ring0_addr: %s\n        name: %s\n        nodeid: %d\n    }\n' \
          "$E2E_NET.$((10 + i))" "$node" "$i"
      done
      echo "}"
    fi
    # E2E_WATCHDOG: seconds of a watchdog per host, reached at the socket of the host's emulator
    # (fault-table.sh --watchdog starts them).
    if [ -n "${E2E_WATCHDOG:-}" ]; then
      printf 'resources {\n    watchdog_device: unix:/var/lib/vigil/watchdog.sock\n    watchdog_timeout: %s\n}\n' \
        "$E2E_WATCHDOG"
    fi
    cat <<EOF
quorum {
    provider: corosync_votequorum
EOF
    if [ "$mode" = multicast ]; then echo "    expected_votes: 1"; fi
    # With a witness (E2E_WITNESS) its vote breaks a two-node tie instead of two_node, as
    # corosync-qdevice(8) has it: votequorum refuses the two together.
    if [ -n "$E2E_WITNESS" ]; then
      printf '    device {\n        model: net\n        votes: 1\n        net {\n            host: %s\n        }\n    }\n' \
        "$E2E_WITNESS"
    elif [ "${#E2E_HOSTS[@]}" -eq 2 ] && [ "$mode" != multicast ]; then
      echo "    two_node: 1"
    fi
    cat <<EOF
}
logging {
    fileline: off
    to_stderr: no
    to_logfile: yes
    logfile: /var/log/vigil/vigild.log
    to_syslog: no
    debug: off
    timestamp: hires
}
EOF
  } >"$file"
}

# The guide's key steps: keygen on the first host, then the config and the key copied to each
# host's /etc/corosync (the guide's scp -p).
e2e_distribute_config() {
  local first=${E2E_HOSTS[0]} node
  vigil_on "$first" keygen -l --output /etc/corosync/authkey >/dev/null ||
    e2e_die "vigil keygen on $first failed"
  cp "$E2E_WORK/corosync.conf" "$E2E_WORK/$first/etc-corosync/corosync.conf"
  for node in "${E2E_HOSTS[@]:1}"; do
    cp -p "$E2E_WORK/$first/etc-corosync/authkey" "$E2E_WORK/$first/etc-corosync/corosync.conf" \
      "$E2E_WORK/$node/etc-corosync/"
  done
}

e2e_start_vigild() {
  local node=$1
  on "$node" rm -f /run/vigil/vigild.sock   # left behind by a vigild that was killed
  # nsenter itself (not the `on` function, which would fork a subshell) so $! is vigild's pid.
  nsenter -t "${E2E_HOLDER[$node]}" -m -n -u -- "$VIGILD" --config /etc/corosync/corosync.conf --node "$node" \
    --state-dir /var/lib/vigil --run-dir /run/vigil --foreground \
    2>>"$E2E_WORK/$node/log/vigil/stderr.log" &
  E2E_VIGILD[$node]=$!
  disown
  wait_for 10 on "$node" test -S /run/vigil/vigild.sock || e2e_die "$node: vigild did not start"
}

# True when the partition of NODE has quorum: status says so once there is a DC; before one is
# elected crm_mon (and vigil status) print only "Current DC: NONE", so votequorum is asked.
e2e_quorate() {
  local node=$1 out=$2
  grep -qF "partition with quorum" <<<"$out" && return 0
  grep -qF "Current DC: NONE" <<<"$out" || return 1
  vigil_on "$node" quorum status 2>/dev/null | grep -Eq '^Quorate: +Yes'
}

# True when every host's status lists all hosts online and the partition has quorum.
e2e_all_online() {
  local node want="Online: [ ${E2E_HOSTS[*]} ]" out
  for node in "${E2E_HOSTS[@]}"; do
    out=$(vigil_on "$node" status 2>/dev/null) || return 1
    grep -qF "$want" <<<"$out" || return 1
    e2e_quorate "$node" "$out" || return 1
  done
}

# Dies naming the hosts whose vigild has exited, with its last words.
e2e_check_vigild_alive() {
  local node
  for node in "${E2E_HOSTS[@]}"; do
    if e2e_gone "${E2E_VIGILD[$node]}"; then
      e2e_die "vigild on $node exited: $(tail -n 1 "$E2E_WORK/$node/log/vigil/stderr.log" 2>/dev/null)"
    fi
  done
}

# The reset a watchdog (or a power loss) does to host NODE, as a script the emulator can run: every
# process of the host dies at once, its addresses but the base one vanish and its /run is emptied,
# as by a reboot; the host's namespaces stay, for the restart. Writes reset.at last.
write_reset_script() {
  local node=$1 holder=${E2E_HOLDER[$1]} ns=${E2E_NS[$1]} base=$2
  cat >"$E2E_WORK/$node/reset.sh" <<EOF
#!/usr/bin/env bash
mnt=\$(readlink /proc/$holder/ns/mnt)
for pid in \$(ip netns pids $ns); do
  [ "\$pid" = $holder ] && continue
  [ "\$(readlink /proc/\$pid/ns/mnt 2>/dev/null)" = "\$mnt" ] && kill -KILL "\$pid"
done
for addr in \$(ip -n $ns -4 -o addr show dev veth0 | awk '{ print \$4 }'); do
  [ "\$addr" = $base/24 ] || ip -n $ns addr del "\$addr" dev veth0
done
nsenter -t $holder -m -- find /run -mindepth 1 ! -type d -delete
date +%s%3N >"$E2E_WORK/$node/reset.at"
EOF
  chmod +x "$E2E_WORK/$node/reset.sh"
}

# One emulator per host (vigil-watchdog-emulator, path in WATCHDOG_EMULATOR), in the root
# namespaces (a frozen host's processes do not include it); its socket is the host's
# /var/lib/vigil/watchdog.sock, which e2e_write_config names when E2E_WATCHDOG is set. Call after
# e2e_setup.
start_watchdogs() {
  [ -x "${WATCHDOG_EMULATOR:-}" ] || e2e_die "WATCHDOG_EMULATOR is not set to vigil-watchdog-emulator"
  local node i=0 sock
  for node in "${E2E_HOSTS[@]}"; do
    i=$((i + 1))
    write_reset_script "$node" "$E2E_NET.$((10 + i))"
    sock=$E2E_WORK/$node/state/watchdog.sock
    "$WATCHDOG_EMULATOR" --socket "$sock" --on-reset "$E2E_WORK/$node/reset.sh" \
      >"$E2E_WORK/$node/watchdog.out" 2>&1 &
    E2E_BG_PIDS+=($!)
    wait_for 5 test -S "$sock" || e2e_die "$node: the watchdog emulator does not listen on $sock"
  done
}

was_reset() { [ -s "$E2E_WORK/$1/reset.at" ]; }

# After a reset: the host boots, that is its vigild starts again.
restart_after_reset() {
  local node=$1
  wait_for 10 e2e_gone "${E2E_VIGILD[$node]}" || e2e_die "$node: vigild outlived the reset"
  rm -f "$E2E_WORK/$node/reset.at"
  e2e_start_vigild "$node"
}

# Every process of host NODE: in its network namespace and its mount namespace (vigild, the
# agents' daemons, the namespace holder) — not this script's probes that visit the network
# namespace for a moment (`ip -n`), which must keep running while the host is frozen.
host_pids() {
  local mnt pid
  mnt=$(readlink "/proc/${E2E_HOLDER[$1]}/ns/mnt")
  for pid in $(ip netns pids "${E2E_NS[$1]}"); do
    if [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$mnt" ]; then echo "$pid"; fi
  done
}

# The hosts whose veth0 holds the VIP right now, one per line.
e2e_vip_holders() {
  local node
  for node in "${E2E_HOSTS[@]}"; do
    if ip -n "${E2E_NS[$node]}" -4 -o addr show 2>/dev/null | grep -qF " $E2E_VIP/"; then
      echo "$node"
    fi
  done
}

# From the client: the host that served the page (empty when nothing answered in 1 s).
e2e_served_by() {
  client curl -s --max-time 1 "http://$E2E_VIP/" 2>/dev/null |
    sed -n 's/.*served by \(node[0-9]*\).*/\1/p'
}

# Starts a probe that lists the VIP's holders every 50 ms into FILE ("<epoch ms> <holders>"):
# samples are due on a fixed 50 ms grid, so the time a sample takes does not stretch the period
# (one that falls behind starts a new grid rather than sampling in a burst).
# At most 24 000 samples (20 minutes): a probe a run forgot to stop ends on its own.
e2e_start_vip_probe() {
  local file=$1
  (
    local next now i
    next=$((${EPOCHREALTIME/./} / 1000))
    for ((i = 0; i < 24000; i++)); do
      now=$((${EPOCHREALTIME/./} / 1000))
      printf '%s %s\n' "$now" "$(e2e_vip_holders | tr '\n' ' ')"
      next=$((next + 50))
      now=$((${EPOCHREALTIME/./} / 1000))
      if ((next > now)); then sleep "0.$(printf '%03d' $((next - now)))"; else next=$now; fi
    done
  ) >"$file" &
  E2E_BG_PIDS+=($!)
}

e2e_stop_probe() {
  local pid=${E2E_BG_PIDS[-1]}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'E2E_BG_PIDS[-1]'
}

# Milliseconds during which two or more hosts held the VIP in a probe file.
e2e_overlap_ms() {
  awk 'NF > 2 { if (start == "") start = $1; last = $1; next }
       { if (start != "") { total += $1 - start; start = "" } }
       END { if (start != "") total += last - start; print total + 0 }' "$1"
}
