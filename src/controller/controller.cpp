// The controller core's public face: each input is a step that runs the node part and the DC role
// in turn, then checks the invariants (common/invariants.h).
#include "controller/controller.h"

#include <algorithm>
#include <cstdlib>

#include "common/invariants.h"
#include "controller/controller_impl.h"
#include "scheduler/model.h"

namespace vigil::controller {

std::string Controller::Impl::uname_of(NodeId id) const {
  for (const auto& m : view.members) {
    if (m.id == id) return m.name;
  }
  auto n =
      cib.configuration().child("nodes").find_child_by_attribute("node", "id", id_text(id).c_str());
  return n ? n.attribute("uname").value() : id_text(id);
}

// Pacemaker's node alerts: each peer that joins the ring is a member, each that leaves is lost.
void Controller::Impl::membership_alerts(Output& out, const ClusterView& next) const {
  auto in = [](const ClusterView& v, NodeId id) {
    return std::any_of(v.members.begin(), v.members.end(),
                       [id](const Member& m) { return m.id == id; });
  };
  for (const auto& m : view.members) {
    if (!in(next, m.id)) out.alerts.push_back(NodeEvent{m.name, m.id, "lost"});
  }
  for (const auto& m : next.members) {
    if (!in(view, m.id)) out.alerts.push_back(NodeEvent{m.name, m.id, "member"});
  }
}

// Pacemaker's attribute alerts come from one node, the attribute writer; here the DC, which sees
// every node's transient attributes change in the CIB. A removed attribute's value is empty.
void Controller::Impl::attribute_alerts(Output& out, const cib::Cib& next) const {
  if (!have_cib || !is_dc()) return;
  for (auto state : next.status().children("node_state")) {
    const std::string id = state.attribute("id").value();
    auto before = node_attributes(cib, id);
    const auto after = node_attributes(next, id);
    if (before == after) continue;
    const auto nodeid = static_cast<NodeId>(std::strtoul(id.c_str(), nullptr, 10));
    const std::string uname = state.attribute("uname").value();
    for (const auto& [name, value] : after) {
      auto was = before.find(name);
      if (was == before.end() || was->second != value)
        out.alerts.push_back(AttributeEvent{uname, nodeid, name, value});
      if (was != before.end()) before.erase(was);
    }
    for (const auto& [name, value] : before) out.alerts.push_back(AttributeEvent{uname, nodeid, name, ""});
  }
}

std::optional<NodeId> Controller::Impl::id_of(const std::string& uname) const {
  for (const auto& m : view.members) {
    if (m.name == uname) return m.id;
  }
  for (auto n : cib.configuration().child("nodes").children("node")) {
    if (uname == n.attribute("uname").value())
      return static_cast<NodeId>(n.attribute("id").as_ullong(0));
  }
  return std::nullopt;
}

void Controller::Impl::finish(Output& out, Millis now) {
  std::optional<Millis> wake;
  auto earliest = [&](Millis t) { wake = wake ? std::min(*wake, t) : t; };
  auto actions_due = [&](const Transition& t) {
    for (const auto& [id, f] : t.in_flight) earliest(f.deadline);
  };
  // maybe_schedule acts on it only when settled; the end of a round or a transition runs it anyway.
  if (schedule_due && std::holds_alternative<Settled>(role)) earliest(*schedule_due);
  std::visit(Overloaded{[](const NotDc&) {},
                        [&](const Joining& j) {
                          earliest(j.deadline);
                          if (j.draining) actions_due(*j.draining);
                        },
                        [&](const Settled&) {
                          if (last_schedule > 0) earliest(last_schedule + settings.recheck);
                        },
                        actions_due},
             role);
  if (local.shutdown_since && !local.shutdown_acknowledged && !local.escalation_noted && have_cib)
    earliest(*local.shutdown_since + shutdown_escalation());
  if (wake) out.wake_at = std::max(*wake, now);
}

Controller::Controller(Member self, std::uint64_t nonce, Settings settings)
    : impl_(std::make_unique<Impl>()) {
  impl_->self = std::move(self);
  impl_->te_uuid = std::to_string(impl_->self.id) + "-" + std::to_string(nonce);
  impl_->settings = settings;
}

Controller::~Controller() = default;
Controller::Controller(Controller&&) noexcept = default;
Controller& Controller::operator=(Controller&&) noexcept = default;

// What every new document brings, a commit's or a reconciliation's.
void Controller::Impl::take_cib(Output& out, const cib::Cib& next, Millis now) {
  attribute_alerts(out, next);
  cib = next;
  const bool first = !have_cib;
  have_cib = true;
  forget_deleted_history(out);
  if (first) elect(out, now, true);
  if (is_dc()) {
    match_results(out, now);
    if (auto* t = transition(); t && !t->aborted && stale(*t)) abort(out, "the cluster changed");
    if (transition()) check_finished(out, now);
    if (!transition()) request_schedule(now);
    dc_step(out, now);
  }
}

Output Controller::cib_changed(const cib::Cib& cib, Millis now) {
  const CheckedStep checked(*this);
  Output out;
  auto& s = *impl_;
  s.follow_attributes(cib);
  s.take_cib(out, cib, now);
  s.finish(out, now);
  return out;
}

Output Controller::cib_agreed(const cib::Cib& cib, Millis now) {
  const CheckedStep checked(*this);
  Output out;
  auto& s = *impl_;
  s.take_cib(out, cib, now);
  s.restate_attributes(out);
  if (s.is_dc()) {
    out.log.emplace_back("the CIB is agreed after a reconciliation: asking every node for its "
                         "history again");
    s.start_join(out, now);
    // A timeout record the reconciliation dropped is not waited for: the round asks again.
    s.lost_unrecorded.clear();
    if (s.transition()) s.abort(out, "the CIB was reconciled");
    if (s.transition()) s.check_finished(out, now);
    s.dc_step(out, now);
  }
  s.finish(out, now);
  return out;
}

Output Controller::view_changed(const ClusterView& view, Millis now) {
  const CheckedStep checked(*this);
  Output out;
  auto& s = *impl_;
  const bool controller_joined =
      std::any_of(view.controllers.begin(), view.controllers.end(), [&](NodeId id) {
        return std::find(s.view.controllers.begin(), s.view.controllers.end(), id) ==
               s.view.controllers.end();
      });
  const bool changed = !(view == s.view);
  s.membership_alerts(out, view);
  s.view = view;
  if (changed) {
    const bool was_dc = s.is_dc();
    s.elect(out, now, controller_joined);
    if (was_dc && s.is_dc() && !controller_joined) s.request_schedule(now);
    if (s.transition()) s.abort(out, "the membership changed");
    if (s.transition()) s.drop_lost_actions();
    if (s.transition()) s.check_finished(out, now);
  }
  s.dc_step(out, now);
  s.finish(out, now);
  return out;
}

Output Controller::message(NodeId from, const Message& m, Millis now) {
  const CheckedStep checked(*this);
  Output out;
  auto& s = *impl_;
  if (const auto* e = std::get_if<ExecuteRequest>(&m)) {
    // Only the DC of this view gives orders; a deposed DC's late requests are dropped.
    if (s.dc && s.dc->id == from) s.on_execute(out, *e, now);
  } else if (const auto* o = std::get_if<JoinOffer>(&m)) {
    // Answered even before this node knows the DC (its CIB may still be reconciling): the
    // report is this node's own history, true whoever asks.
    s.on_offer(out, from, *o);
  } else if (const auto* n = std::get_if<ActionResultNote>(&m)) {
    s.on_result_note(out, *n, now);
  } else {
    const auto& a = std::get<JoinAck>(m);
    auto* round = std::get_if<Joining>(&s.role);
    if (round && a.te_uuid == s.te_uuid && a.round == s.join_round) round->waiting.erase(from);
    s.dc_step(out, now);
  }
  s.finish(out, now);
  return out;
}

Output Controller::action_done(std::uint64_t token, const ActionResult& result, Millis now) {
  const CheckedStep checked(*this);
  Output out;
  impl_->on_local_done(out, token, result, now);
  impl_->dc_step(out, now);
  impl_->finish(out, now);
  return out;
}

Output Controller::tick(Millis now) {
  const CheckedStep checked(*this);
  Output out;
  impl_->note_escalation(out, now);
  impl_->dc_step(out, now);
  impl_->finish(out, now);
  return out;
}

Result<cib::CibOp> Controller::fence_request(const std::string& node_name) const {
  const auto& s = *impl_;
  auto id = s.id_of(node_name);
  if (!id) return fail("fence: no node named '" + node_name + "' in the cluster");
  cib::CibOp op;
  op.changes.push_back(attribute_change(id_text(*id), node_name, {{"terminate", "true"}}));
  return op;
}

Output Controller::request_shutdown(Millis now) {
  const CheckedStep checked(*this);
  Output out;
  auto& s = *impl_;
  if (s.local.shutdown_since) return out;
  s.local.shutdown_since = now;
  if (s.have_cib) {
    cib::CibOp op;
    op.changes.push_back(attribute_change(id_text(s.self.id), s.self.name,
                                          {{"shutdown", std::to_string(now / 1000)}}));
    out.commits.push_back(std::move(op));
    out.log.emplace_back(s.self.name + " is shutting down: its resources move away first");
  }
  s.finish(out, now);
  return out;
}

namespace {

void check_transition(const Transition& t) {
  VIGIL_ASSERT(t.state.size() == t.graph.actions.size());
  // The actions out are actions of the graph, none of them done or failed yet.
  for (const auto& [id, f] : t.in_flight) {
    VIGIL_ASSERT(id >= 0 && static_cast<std::size_t>(id) < t.state.size());
    VIGIL_ASSERT(t.state[static_cast<std::size_t>(id)] == ActionState::InFlight);
  }
  VIGIL_ASSERT(t.aborted != t.abort_reason.empty());
}

}  // namespace

void Controller::Impl::check_invariants() const {
  // The role follows the election: a join round or a transition only on the DC, and a DC only
  // once the CIB is known.
  VIGIL_ASSERT(is_dc() == !std::holds_alternative<NotDc>(role));
  VIGIL_ASSERT(is_dc() || !schedule_due);
  VIGIL_ASSERT(is_dc() || lost_unrecorded.empty());
  VIGIL_ASSERT(!dc || have_cib);
  std::visit(Overloaded{[](const NotDc&) {},
                        [&](const Joining& round) {
                          for (auto id : round.waiting)
                            VIGIL_ASSERT(std::find(view.controllers.begin(), view.controllers.end(),
                                                   id) != view.controllers.end());
                          if (!round.draining) return;
                          VIGIL_ASSERT(round.draining->aborted);
                          VIGIL_ASSERT(round.draining->id == transition_counter);
                          check_transition(*round.draining);
                        },
                        [](const Settled&) {},
                        [&](const Transition& t) {
                          VIGIL_ASSERT(t.id == transition_counter);
                          check_transition(t);
                        }},
             role);
  // The node part: what the CIB showed of the history is history; tokens name what ran.
  for (const auto& [rsc, call_id] : local.in_cib) VIGIL_ASSERT(local.history.contains(rsc));
  VIGIL_ASSERT(!local.escalation_noted || local.shutdown_since);
  VIGIL_ASSERT(!local.attributes.contains("shutdown"));  // shutdown_since states it
  for (const auto& [token, op] : local.ops) {
    VIGIL_ASSERT(token < local.next_token);
    if (!op.fencing) {
      VIGIL_ASSERT(op.recurring == (op.request.interval_ms > 0));
      continue;
    }
    VIGIL_ASSERT(!op.recurring && op.fence_level < op.fence_plan.size());
    VIGIL_ASSERT(op.fence_device < op.fence_plan[op.fence_level].size());
  }
}

void Controller::check_invariants() const {
  impl_->check_invariants();
}

bool Controller::ready_to_leave() const {
  return impl_->ready_to_leave();
}

Status Controller::status() const {
  const auto& s = *impl_;
  Status st;
  st.dc = s.dc;
  st.is_dc = s.is_dc();
  st.transitions_completed = s.completed;
  st.transitions_aborted = s.aborted;
  if (std::holds_alternative<Joining>(s.role)) st.state = TransitionState::Joining;
  if (const auto* t = s.transition()) {
    st.state = t->aborted ? TransitionState::Aborting : TransitionState::Running;
    st.transition = t->id;
    st.actions_total = static_cast<int>(t->graph.actions.size());
    for (auto a : t->state) st.actions_done += a == ActionState::Done;
    st.actions_in_flight = static_cast<int>(t->in_flight.size());
  } else {
    st.transition = s.transition_counter;
  }
  return st;
}

Controller::TransitionCounts Controller::transition_counts() const {
  return {impl_->transition_counter, impl_->completed + impl_->aborted};
}

const char* to_string(TransitionState s) {
  switch (s) {
    case TransitionState::Idle:
      return "idle";
    case TransitionState::Joining:
      return "joining";
    case TransitionState::Running:
      return "running";
    case TransitionState::Aborting:
      return "aborting";
  }
  return "?";
}

std::string fail_count_name(const std::string& rsc, const std::string& op, std::int64_t interval) {
  return "fail-count-" + rsc + "#" + op + "_" + std::to_string(interval);
}

std::string last_failure_name(const std::string& rsc, const std::string& op,
                              std::int64_t interval) {
  return "last-failure-" + rsc + "#" + op + "_" + std::to_string(interval);
}

}  // namespace vigil::controller
