#include "node/controller_part.h"

#include <algorithm>

#include "controller/status_ops.h"
#include "scheduler/model.h"
#include "scheduler/options.h"
#include "scheduler/scheduler.h"

namespace vigil::node {

namespace {

// Pacemaker's durations, and a leading minus for stonith-watchdog-timeout's negative values.
std::optional<Millis> signed_duration(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  auto ms = scheduler::parse_interval_ms(negative ? text.substr(1) : text);
  if (!ms) return std::nullopt;
  return negative ? -*ms : *ms;
}

// A fenced node's state says so, and its terminate request is gone with its attributes.
bool fenced(const cib::Cib& c, const std::string& node) {
  auto state = c.status().find_child_by_attribute("node_state", "uname", node.c_str());
  return state && std::string_view(state.attribute("expected").value()) == "down" &&
         std::string_view(state.attribute("crmd").value()) == "offline" &&
         !state.child("transient_attributes").find_node([](pugi::xml_node n) {
           return std::string_view(n.attribute("name").value()) == "terminate";
         });
}

}  // namespace

FencingOptions fencing_options(const cib::Cib& cib) {
  FencingOptions o;
  o.stonith_enabled = scheduler::is_true(controller::cluster_option(cib, "stonith-enabled"));
  o.no_quorum_policy = controller::cluster_option(cib, "no-quorum-policy");
  for (const char* name : {"stonith-watchdog-timeout", "fencing-watchdog-timeout"}) {
    auto value = controller::cluster_option(cib, name);
    if (value == scheduler::option_default(name)) continue;
    o.timeout_name = name;
    o.timeout_text = value;
  }
  o.timeout = signed_duration(o.timeout_text);
  return o;
}

ControllerPart::ControllerPart(totem::NodeId self, ControllerSettings settings,
                               std::vector<ListedNode> nodelist)
    : self_(self),
      pid_(settings.pid),
      name_(settings.node_name),
      wall_offset_(settings.wall_offset),
      watchdog_(std::move(settings.watchdog)),
      nodelist_(std::move(nodelist)),
      core_(controller::Member{self, settings.node_name}, settings.nonce, settings.core),
      alerts_(std::make_shared<const std::vector<controller::Alert>>()) {}

ControllerStep ControllerPart::event(const groups::GroupEvent& e, Millis now) {
  ControllerStep step;
  if (stopped_) return step;
  if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
    controllers_.clear();
    for (const auto& m : change->members) controllers_.push_back(m.node);
    std::sort(controllers_.begin(), controllers_.end());
    controllers_.erase(std::unique(controllers_.begin(), controllers_.end()), controllers_.end());
    push_view(now, step);
    return step;
  }
  const auto& m = std::get<groups::GroupMessage>(e);
  auto decoded = controller::decode(
      std::string_view(reinterpret_cast<const char*>(m.data.data()), m.data.size()));
  if (!decoded.ok()) {
    step.warn.push_back("from node " + std::to_string(m.sender.node) + ": " +
                        decoded.error().message);
    return step;
  }
  carry_out(core_.message(m.sender.node, *decoded, wall(now)), step);
  return step;
}

// The agreed document may come as a change of `synced` alone (every copy was equal): the
// documents shown while this node was not synced never reached the core, so it hears it then.
ControllerStep ControllerPart::cib_changed(const CibChanged& change, Millis now) {
  ControllerStep step;
  const bool agreed_again = change.synced && !synced_ && cib_;
  synced_ = change.synced;
  if (stopped_ || !synced_) return step;
  cib_ = change.cib;
  unpack_alerts(step);
  carry_out(agreed_again ? core_.cib_agreed(*cib_, wall(now)) : core_.cib_changed(*cib_, wall(now)),
            step);
  check_fenced(step);
  // A peer's entry in the node list named it, or the watchdog fencing settings changed.
  if (viewed_ && (names_changed() || watchdog_fencing() != pushed_fencing_)) push_view(now, step);
  return step;
}

ControllerStep ControllerPart::view(const std::vector<totem::NodeId>& members, bool quorate,
                                    bool leased, const std::vector<totem::NodeId>& reset,
                                    Millis now) {
  ControllerStep step;
  if (stopped_) return step;
  members_ = members;
  quorate_ = quorate;
  leased_ = leased;
  reset_ = reset;
  push_view(now, step);
  return step;
}

ControllerStep ControllerPart::nodelist(std::vector<ListedNode> nodelist, Millis now) {
  ControllerStep step;
  nodelist_ = std::move(nodelist);
  if (!stopped_ && viewed_ && names_changed()) push_view(now, step);
  return step;
}

ControllerStep ControllerPart::agent_result(const AgentResult& r) {
  ControllerStep step;
  if (!stopped_) carry_out(core_.action_done(r.token, r.result, wall(r.now)), step);
  return step;
}

ControllerStep ControllerPart::tick(Millis now, std::optional<Millis> wall_now) {
  ControllerStep step;
  if (wall_now) wall_offset_ = *wall_now - now;
  if (!stopped_) carry_out(core_.tick(wall(now)), step);
  return step;
}

ControllerStep ControllerPart::fence(const FenceRequest& f) {
  ControllerStep step;
  auto refuse = [&](Error e) { step.answers.push_back(FenceAnswer{f.ticket, std::move(e)}); };
  if (stopped_) {
    refuse(fail("controller_fence: this node is stopping"));
  } else if (!synced_) {
    refuse(fail("controller_fence: this node holds no agreed CIB yet"));
  } else if (!scheduler::cluster_state(*cib_, wall(f.now)).stonith_enabled) {
    refuse(fail("controller_fence: fencing is disabled (stonith-enabled=false)"));
  } else if (auto op = core_.fence_request(f.node); !op.ok()) {
    refuse(op.error());
  } else {
    // The request is the node's terminate attribute; the DC's scheduler fences it.
    step.info.push_back("fencing of " + f.node + " requested");
    const auto own = own_tickets_++;
    fence_commits_[own] = {f.ticket, f.node};
    step.commits.push_back(CibCommit{own, std::move(*op), f.now});
  }
  return step;
}

// The answer waits until the CIB shows the node fenced, or the time runs out.
ControllerStep ControllerPart::committed(std::uint64_t ticket, const Result<cib::Cib>& result,
                                         Millis now) {
  ControllerStep step;
  release_acks(ticket, step);
  auto it = fence_commits_.find(ticket);
  if (it == fence_commits_.end()) {
    if (!result.ok()) step.warn.push_back("CIB update refused: " + result.error().message);
    return step;
  }
  auto [client, node] = std::move(it->second);
  fence_commits_.erase(it);
  if (!result.ok()) {
    step.answers.push_back(FenceAnswer{client, result.error()});
    return step;
  }
  if (fenced(result.value(), node)) {
    step.answers.push_back(FenceAnswer{client, node});
    return step;
  }
  if (stopped_) {
    step.answers.push_back(FenceAnswer{client, fail("controller_fence: this node is stopping")});
    return step;
  }
  fence_waits_.push_back(FenceWait{client, std::move(node), now + kFenceWait});
  return step;
}

ControllerStep ControllerPart::shutdown(Millis now) {
  ControllerStep step;
  if (stopped_ || told_ready_) {
    step.ready_to_leave = true;
    return step;
  }
  if (!shutdown_) {
    shutdown_ = true;
    carry_out(core_.request_shutdown(wall(now)), step);
  }
  return step;
}

ControllerStep ControllerPart::stop() {
  ControllerStep step;
  stopped_ = true;
  held_acks_.clear();
  for (auto& w : fence_waits_)
    step.answers.push_back(FenceAnswer{w.ticket, fail("controller_fence: this node is stopping")});
  fence_waits_.clear();
  return step;
}

std::optional<Millis> ControllerPart::fence_due() const {
  std::optional<Millis> due;
  for (const auto& w : fence_waits_) due = std::min(due.value_or(w.until), w.until);
  return due;
}

ControllerStep ControllerPart::fence_timer(Millis now) {
  ControllerStep step;
  std::erase_if(fence_waits_, [&](const FenceWait& w) {
    if (now < w.until) return false;
    step.answers.push_back(FenceAnswer{w.ticket, fail("controller_fence: " + w.node +
                                                      " was not fenced within " +
                                                      std::to_string(kFenceWait / 1000) + " s")});
    return true;
  });
  return step;
}

void ControllerPart::carry_out(controller::Output out, ControllerStep& step) {
  for (auto& line : out.log) {
    auto& to = line.level == controller::LogLine::Level::info      ? step.info
               : line.level == controller::LogLine::Level::warning ? step.warn
                                                                   : step.error;
    to.push_back(std::move(line.text));
  }
  for (auto& op : out.commits) step.commits.push_back(CibCommit{own_tickets_++, std::move(op), 0});
  for (const auto& m : out.send) {
    // The ack follows the report committed in the same output: it waits for that commit.
    if (std::holds_alternative<controller::JoinAck>(m) && !out.commits.empty())
      held_acks_.emplace(own_tickets_ - 1, controller::encode(m));
    else
      step.send.push_back(controller::encode(m));
  }
  step.cancel.insert(step.cancel.end(), out.cancel.begin(), out.cancel.end());
  for (auto& t : out.transitions) step.transitions.push_back(std::move(t));
  for (auto& f : out.watchdog_fencings) step.watchdog_fencings.push_back(std::move(f));
  for (auto& a : out.run) step.run.push_back(std::move(a));
  for (auto& e : out.alerts) {
    if (!alerts_->empty()) step.alerts.push_back(AlertSend{alerts_, std::move(e)});
  }
  if (out.wake_at) step.wake_at = *out.wake_at - wall_offset_;
  check_ready(step);
}

// Sent whatever the answer: a report refused because a reconciliation replaced the copy it was
// applied to is asked for again, by the round the DC starts once the CIB is agreed again.
void ControllerPart::release_acks(std::uint64_t ticket, ControllerStep& step) {
  auto [first, last] = held_acks_.equal_range(ticket);
  for (auto it = first; it != last; ++it) step.send.push_back(std::move(it->second));
  held_acks_.erase(first, last);
}

// Once, after a shutdown request, when the core has handed this node's resources over.
void ControllerPart::check_ready(ControllerStep& step) {
  if (!shutdown_ || told_ready_ || !core_.ready_to_leave()) return;
  told_ready_ = true;
  step.ready_to_leave = true;
  step.info.push_back("this node's resources are handed over: leaving");
}

// A node that lost its lease shows the core no quorum: its partition stops what it runs
// (no-quorum-policy, which cannot be ignore with a watchdog) while the watchdog comes.
void ControllerPart::push_view(Millis now, ControllerStep& step) {
  controller::ClusterView v;
  pushed_names_.clear();
  for (auto id : members_) v.members.push_back({id, pushed_names_[id] = name_of(id)});
  v.quorate = quorate_ && leased_;
  v.watchdog_fencing = pushed_fencing_ = watchdog_fencing();
  v.reset = reset_;
  v.controllers = controllers_;
  viewed_ = true;
  carry_out(core_.view_changed(v, wall(now)), step);
}

// corosync.conf's nodelist, else the entry the peer made in the CIB's node list (the CIB part
// does that on every node), else its id.
std::string ControllerPart::name_of(totem::NodeId id) const {
  if (id == self_) return name_;
  for (const auto& n : nodelist_) {
    if (n.id == id) return n.name.empty() && !n.addresses.empty() ? n.addresses[0] : n.name;
  }
  const std::string key = std::to_string(id);
  if (!cib_) return key;
  const auto entry =
      cib_->configuration().child("nodes").find_child_by_attribute("node", "id", key.c_str());
  if (entry && *entry.attribute("uname").value()) return entry.attribute("uname").value();
  return key;
}

bool ControllerPart::names_changed() const {
  for (auto id : members_) {
    auto it = pushed_names_.find(id);
    if (it == pushed_names_.end() || it->second != name_of(id)) return true;
  }
  return false;
}

// Whether the DC may count a lost node as fenced by its watchdog: this node has a watchdog, and
// the CIB's settings pass the lease's check against this node's corosync.conf.
bool ControllerPart::watchdog_fencing() const {
  if (watchdog_.device.empty() || !synced_) return false;
  auto config = watchdog_;
  if (!nodelist_.empty()) config.nodes = nodelist_.size();
  auto on = check_watchdog_fencing(config, fencing_options(*cib_));
  return on.ok() && *on;
}

// Unpacked only when the section's text changed: most CIB changes are status updates. Its
// warnings are logged when they change.
void ControllerPart::unpack_alerts(ControllerStep& step) {
  const auto section = cib_->configuration().child("alerts");
  std::string text = cib::element_xml(section);
  if (text == alerts_text_) return;
  alerts_text_ = std::move(text);
  auto next = controller::unpack_alerts(section);
  if (next.warnings != alert_warnings_) {
    for (const auto& w : next.warnings) step.warn.push_back(w);
  }
  alert_warnings_ = std::move(next.warnings);
  alerts_ = std::make_shared<const std::vector<controller::Alert>>(std::move(next.alerts));
}

void ControllerPart::check_fenced(ControllerStep& step) {
  std::erase_if(fence_waits_, [&](const FenceWait& w) {
    if (!fenced(*cib_, w.node)) return false;
    step.answers.push_back(FenceAnswer{w.ticket, w.node});
    return true;
  });
}

void ControllerPart::check_invariants() const {
  core_.check_invariants();
  VIGIL_ASSERT(std::is_sorted(controllers_.begin(), controllers_.end()));
  VIGIL_ASSERT(!stopped_ || fence_waits_.empty());
  VIGIL_ASSERT(!told_ready_ || shutdown_);
  for (const auto& [own, wait] : fence_commits_) VIGIL_ASSERT(own >= kOwnTickets && own < own_tickets_);
  for (const auto& [own, ack] : held_acks_) VIGIL_ASSERT(own >= kOwnTickets && own < own_tickets_);
  VIGIL_ASSERT(!stopped_ || held_acks_.empty());
}

}  // namespace vigil::node
