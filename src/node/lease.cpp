#include "node/lease.h"

#include <algorithm>

namespace vigil::node {

namespace {

// ⌈x · (1 + ρ)⌉
Millis stretched(Millis x) {
  return (x * (100 + kDriftPercent) + 99) / 100;
}

}  // namespace

LeaseTimes LeaseTimes::of(const totem::TotemSettings& resolved, Millis watchdog_timeout) {
  LeaseTimes t;
  t.watchdog_timeout = watchdog_timeout;
  t.span = 2 * resolved.token + resolved.consensus;
  t.wait = stretched(stretched(t.span + watchdog_timeout) + kResetLatency);
  t.lapse = stretched(stretched(t.span));
  t.refused_wait = stretched(stretched(watchdog_timeout) + kResetLatency);
  t.feed_interval = std::max<Millis>(1, watchdog_timeout / 4);
  return t;
}

const char* to_string(LeaseState state) {
  switch (state) {
    case LeaseState::Idle:
      return "idle";
    case LeaseState::Held:
      return "held";
    case LeaseState::Lost:
      return "lost";
  }
  return "lost";
}

void Lease::received(const totem::RingId& ring, bool operational,
                     const std::vector<totem::NodeId>& members, Millis now) {
  for (auto id : members) record_[id] = now;
  const bool completed = operational && started_ && *started_ == ring;
  started_.reset();
  if (!completed || !quorate_ || state_ == LeaseState::Lost) return;
  state_ = LeaseState::Held;
  renewed_from_ = started_at_;
}

void Lease::forwarded(const totem::RingId& ring, Millis now) {
  if (started_) return;  // a retransmission of the token this node already started
  started_ = ring;
  started_at_ = now;
}

void Lease::installed(bool quorate, const std::vector<totem::NodeId>& members, bool joined,
                      Millis now) {
  started_.reset();
  for (auto id : members) refused_.erase(id);
  if (quorate && (joined || !floor_)) {
    floor_ = now;
    // Rule 5 holds only for refusals since the floor: a member that joins may come from a ring
    // where a restarted vigild on a refused host won a lease this node never saw.
    refused_.clear();
  }
  quorum(quorate, now);
}

void Lease::refused(totem::NodeId node, Millis now) { refused_.emplace(node, now); }

void Lease::quorum(bool quorate, Millis now) {
  quorate_ = quorate;
  if (quorate) {
    // Quorum gained within a ring (a quorum device's vote came, the peers' reports arrived):
    // that is this node's first quorate ring, as if installed now (Rule 3's floor, Rule 5's
    // refusals). Without it a node quorate only through the witness would never name anyone
    // reset (stack simulator seed 3, 2 nodes, --witness --watchdog 400 --resources: the
    // survivor of a host gone for good, reset and restarted, waited for it for ever).
    if (!floor_) {
      floor_ = now;
      refused_.clear();
    }
    return;
  }
  floor_.reset();
  if (state_ == LeaseState::Held) lose(now, "quorum lost");
}

bool Lease::feeds(Millis now) {
  if (state_ == LeaseState::Held && now >= *renewed_from_ + times_.span)
    lose(now, "no token rotation completed for " + std::to_string(now - *renewed_from_) + " ms");
  return state_ != LeaseState::Lost;
}

void Lease::lose(Millis now, std::string why) {
  state_ = LeaseState::Lost;
  lost_at_ = now;
  lost_because_ = std::move(why);
}

Millis Lease::anchor(totem::NodeId lost) const {
  auto it = record_.find(lost);
  return it == record_.end() ? *floor_ : std::max(it->second, *floor_);
}

std::optional<Millis> Lease::reset_by(totem::NodeId lost, Millis now) const {
  if (state_ != LeaseState::Held || now >= *renewed_from_ + times_.span || !quorate_ || !floor_)
    return std::nullopt;
  std::optional<Millis> by;
  if (auto it = refused_.find(lost); it != refused_.end()) by = it->second + times_.refused_wait;
  const Millis from = anchor(lost);
  if (*renewed_from_ > from + times_.lapse) by = std::min(by.value_or(from + times_.wait), from + times_.wait);
  return by;
}

std::optional<Millis> Lease::refused_at(totem::NodeId lost) const {
  auto it = refused_.find(lost);
  return it == refused_.end() ? std::nullopt : std::optional<Millis>(it->second);
}

namespace {
// Where a two-node cluster's third vote comes from (quorum/witness.h).
const std::string kWitnessHint =
    "run `vigil witness --listen ADDRESS:5403 --key /etc/corosync/authkey` on a third machine "
    "and add quorum { device { model: net; net { host: ADDRESS } } } to corosync.conf, without "
    "two_node";
}  // namespace

Result<bool> check_watchdog_fencing(const WatchdogConfig& config, const FencingOptions& options) {
  const std::string setting = options.timeout_name + "=" + options.timeout_text;
  const bool watchdog = !config.device.empty();
  if (watchdog && options.no_quorum_policy == "ignore")
    return fail("no-quorum-policy=ignore cannot hold with a watchdog (resources.watchdog_device: " +
                config.device + " in " + config.origin +
                "): a node without quorum loses its lease and is reset, and with watchdog "
                "fencing both halves of a split would keep running, each counting the other as "
                "fenced; a two-node cluster needs a third vote (a witness) instead: " +
                kWitnessHint);
  if (!options.timeout) return fail(setting + ": not a duration");
  if (!options.stonith_enabled || *options.timeout == 0) return false;
  if (!watchdog)
    return fail(setting + ": watchdog fencing needs a watchdog, and resources.watchdog_device is " +
                "off in " + config.origin + " on this node");
  if (!config.quorum_provider)
    return fail(setting + ": watchdog fencing needs quorum { provider: corosync_votequorum } in " +
                config.origin + ": without it every partition counts as quorate and would count "
                "the others as reset");
  if (config.nodes == 2 && !config.auto_tie_breaker && !config.quorum_device)
    return fail(setting + ": watchdog fencing on 2 nodes needs quorum.auto_tie_breaker: 1 in " +
                config.origin + ": with two_node both halves keep quorum after a split and each "
                "would count the other as reset (or give the cluster a third vote, a witness: " +
                kWitnessHint + ")");
  const Millis floor = config.watchdog_timeout + config.times.margin();
  if (*options.timeout > 0 && *options.timeout < floor)
    return fail(setting + " (" + std::to_string(*options.timeout) +
                " ms) is shorter than resources.watchdog_timeout (" +
                std::to_string(config.watchdog_timeout) + " ms) + the lease's margin (" +
                std::to_string(config.times.margin()) + " ms) = " + std::to_string(floor) +
                " ms: a lost node could still run its resources when the survivors start them");
  return true;
}

}  // namespace vigil::node
