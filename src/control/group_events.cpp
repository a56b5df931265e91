#include "control/group_events.h"

#include <string>

namespace vigil::control {

namespace {

Json member_json(const std::vector<groups::Member>& members) {
  Json out = Json::array();
  for (const auto& m : members) out.push_back(Json{{"node", m.node}, {"pid", m.pid}});
  return out;
}

// An upper bound of an event's encoded size, without encoding it: the fixed fields take under 96
// bytes ({"group":"","joined":[],"left":[],"members":[],"reason":"procdown","type":"change"}),
// a group name's byte may be escaped to six ("\u00XX"), a member is at most
// {"node":4294967295,"pid":4294967295},. A message's data takes twice its size as hex (version 1),
// or its size and a range that takes at most 28 bytes more than hex's "" (version 2:
// {"$bytes":[16777216,16777216]}: both numbers are at most kMaxBody).
constexpr std::size_t kEventFrame = 96, kEscaped = 6, kMemberBytes = 40, kRange = 28;

std::size_t bound(const groups::GroupEvent& e) {
  if (const auto* m = std::get_if<groups::GroupMessage>(&e))
    return kEventFrame + kRange + kEscaped * m->group.size() + 2 * m->data.size();
  const auto& c = std::get<groups::GroupChange>(e);
  return kEventFrame + kEscaped * c.group.size() +
         kMemberBytes * (c.members.size() + c.joined.size() + c.left.size());
}

}  // namespace

Json event_json(const groups::GroupEvent& e) {
  if (const auto* m = std::get_if<groups::GroupMessage>(&e)) {
    return Json{{"type", "message"},
                {"group", m->group},
                {"node", m->sender.node},
                {"pid", m->sender.pid},
                {"data", Json::binary(m->data)}};
  }
  const auto& c = std::get<groups::GroupChange>(e);
  return Json{{"type", "change"},
              {"group", c.group},
              {"members", member_json(c.members)},
              {"joined", member_json(c.joined)},
              {"left", member_json(c.left)},
              {"reason", groups::to_string(c.reason)}};
}

// The largest message fits the queue alone, so pushing always keeps the newest event; a whole
// queue fits one answer.
constexpr std::size_t kLargestEvent =
    kEventFrame + kRange + kEscaped * groups::kMaxGroupName + 2 * groups::kMaxMessage;
static_assert(kLargestEvent < kMaxQueuedBytes && kMaxQueuedBytes + 64 < kMaxBody);

GroupEvents::GroupEvents(QueueBounds bounds) : bounds_(bounds) {
  VIGIL_ASSERT(bounds_.events > 0 && bounds_.bytes >= kLargestEvent);
}

void GroupEvents::push(const groups::GroupEvent& event) {
  const std::size_t bytes = bound(event);
  while (!events_.empty() &&
         (events_.size() >= bounds_.events || bytes_ + bytes > bounds_.bytes)) {
    bytes_ -= events_.front().bytes;
    events_.pop_front();
    ++dropped_;
  }
  events_.push_back(Queued{event_json(event), bytes});
  bytes_ += bytes;
}

Json GroupEvents::take() {
  Json events = Json::array();
  for (auto& q : events_) events.push_back(std::move(q.event));
  events_.clear();
  bytes_ = 0;
  Json out{{"ok", true}, {"events", std::move(events)}, {"dropped", dropped_}};
  dropped_ = 0;
  return out;
}

}  // namespace vigil::control
