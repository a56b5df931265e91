// The node's side of its CIB part: the part is a member of the CIB group like any other, except
// that its events are stepped here instead of going out as notices.
#include "node/node.h"

namespace vigil::node {

bool Node::cib_member(const std::string& group, std::uint32_t pid) const {
  return cib_ && pid == cib_->pid() && group == kCibGroup;
}

// The group is joined at the first ring: a join sent before the first membership would be lost.
void Node::cib_join(Output& out) {
  if (!cib_ || cib_joined_ || cib_->stopped() || view_.members.empty()) return;
  cib_joined_ = true;
  auto joined = groups_.join(kCibGroup, cib_->pid());
  if (!joined.ok()) {
    out.logs.push_back(LogEvent{Level::Error, Subsystem::Cib,
                                std::string("cannot join ") + kCibGroup + ": " +
                                    joined.error().message});
    return;
  }
  broadcast(Channel::Groups, *joined);
}

// Before the ring's Leave, so that the group's leave still goes out.
void Node::cib_leave(Output& out) {
  if (!cib_) return;
  cib_take(cib_->stop(), out);
  if (!cib_joined_) return;
  auto left = groups_.leave(kCibGroup, cib_->pid(), groups::Reason::Leave);
  if (left.ok()) broadcast(Channel::Groups, *left);
  drain(out);
}

void Node::cib_take(CibStep step, Output& out) {
  auto log = [&](Level level, std::vector<std::string>& lines) {
    for (auto& line : lines) out.logs.push_back(LogEvent{level, Subsystem::Cib, std::move(line)});
  };
  log(Level::Info, step.info);
  log(Level::Warn, step.warn);
  log(Level::Error, step.error);
  for (const auto& bytes : step.send)
    send_to_group(kCibGroup, cib_->pid(), bytes, {Level::Error, Subsystem::Cib, {}}, out);
  for (auto& n : step.notices) {
    if (controller_) controller_inbox_.emplace_back(n);
    out.notices.push_back(std::move(n));
  }
  for (auto& r : step.replies) {
    if (controller_ && controller_->owns(r.ticket)) {
      controller_take(controller_->committed(r.ticket, r.result, now_), out);
    } else {
      out.replies.push_back(std::move(r));
    }
  }
}

}  // namespace vigil::node
