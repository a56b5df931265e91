// The node's side of its controller part: the part is a member of the controller group like any
// other, except that its events are stepped here instead of going out as notices. They wait in an
// inbox until the ring's step is over, so the controller reacts to a whole step at a time, as it
// did when it was a service hearing notices.
#include "node/node.h"

namespace vigil::node {

bool Node::controller_member(const std::string& group, std::uint32_t pid) const {
  return controller_ && pid == controller_->pid() && group == kControllerGroup;
}

// The group is joined at the first ring: a join sent before the first membership would be lost.
void Node::controller_join(Output& out) {
  if (!controller_ || controller_joined_ || controller_->stopped() || view_.members.empty())
    return;
  controller_joined_ = true;
  auto joined = groups_.join(kControllerGroup, controller_->pid());
  if (!joined.ok()) {
    out.logs.push_back(LogEvent{Level::Error, Subsystem::Controller,
                                std::string("cannot join ") + kControllerGroup + ": " +
                                    joined.error().message});
    return;
  }
  broadcast(Channel::Groups, *joined);
}

// Before the ring's Leave, so that the group's leave still goes out.
void Node::controller_leave(Output& out) {
  if (!controller_) return;
  controller_inbox_.clear();
  controller_take(controller_->stop(), out);
  if (!controller_joined_) return;
  auto left = groups_.leave(kControllerGroup, controller_->pid(), groups::Reason::Leave);
  if (left.ok()) broadcast(Channel::Groups, *left);
  drain(out);
}

// The shell's inputs for the controller; without one, a fence is refused and a shutdown has
// nothing to hand over.
void Node::controller_input(const Input& input, Output& out) {
  if (!controller_) {
    if (const auto* f = std::get_if<FenceRequest>(&input))
      out.fence_answers.push_back(
          FenceAnswer{f->ticket, fail("controller_fence: this node runs no controller")});
    if (std::holds_alternative<ShutdownRequest>(input)) out.ready_to_leave = true;
    return;
  }
  if (const auto* r = std::get_if<AgentResult>(&input)) {
    controller_take(controller_->agent_result(*r), out);
  } else if (const auto* t = std::get_if<ControllerTick>(&input)) {
    controller_take(controller_->tick(t->now, t->wall), out);
  } else if (const auto* f = std::get_if<FenceRequest>(&input)) {
    controller_take(controller_->fence(*f), out);
  } else if (std::holds_alternative<ShutdownRequest>(input)) {
    controller_take(controller_->shutdown(now_), out);
  }
  drain(out);
}

// The views, group events and documents of the step, in order; what the controller sends may
// come back within the step (a one-node ring) and is heard in turn.
void Node::controller_run(Output& out) {
  while (!controller_inbox_.empty()) {
    auto next = std::move(controller_inbox_.front());
    controller_inbox_.pop_front();
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, groups::GroupEvent>) {
            controller_take(controller_->event(e, now_), out);
          } else if constexpr (std::is_same_v<T, CibChanged>) {
            controller_take(controller_->cib_changed(e, now_), out);
          } else if constexpr (std::is_same_v<T, View>) {
            controller_take(
                controller_->view(e.members, e.quorate, e.leased, e.reset, now_), out);
          } else {
            controller_take(controller_->nodelist(std::move(e), now_), out);
          }
        },
        next);
    drain(out);
  }
}

void Node::controller_take(ControllerStep step, Output& out) {
  auto log = [&](Level level, std::vector<std::string>& lines) {
    for (auto& line : lines)
      out.logs.push_back(LogEvent{level, Subsystem::Controller, std::move(line)});
  };
  log(Level::Info, step.info);
  log(Level::Warn, step.warn);
  log(Level::Error, step.error);
  for (const auto& bytes : step.send)
    send_to_group(kControllerGroup, controller_->pid(), bytes,
                  {Level::Warn, Subsystem::Controller, {}}, out);
  for (auto& c : step.commits) {
    c.now = now_;
    cib_take(cib_->commit(c), out);
  }
  for (auto t : step.cancel) out.agent_cancels.push_back(t);
  for (auto& a : step.run) out.agent_runs.push_back(std::move(a));
  for (auto& a : step.alerts) out.alerts.push_back(std::move(a));
  for (auto& a : step.answers) out.fence_answers.push_back(std::move(a));
  for (auto& t : step.transitions) out.transitions.push_back(std::move(t));
  for (auto& f : step.watchdog_fencings) out.watchdog_fencings.push_back(std::move(f));
  if (step.ready_to_leave) out.ready_to_leave = true;
  if (step.wake_at) out.timers.push_back(TimerCommand{Timer::Controller, step.wake_at});
  if (const auto due = controller_->fence_due(); due != fence_armed_) {
    fence_armed_ = due;
    out.timers.push_back(TimerCommand{Timer::FenceWait, due});
  }
}

// The services' notice, and the controller's view after the ring's step.
void Node::tell_view(bool new_ring, Output& out) {
  out.notices.push_back(ViewChange{view_, new_ring});
  if (controller_) controller_inbox_.emplace_back(view_);
}

}  // namespace vigil::node
