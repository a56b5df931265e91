// group_events: the process-group events a control connection has yet to read, and the shape a
// cpg_read answer gives them. vigild keeps one queue per connection that joined a group; a
// cpg_read takes the whole queue, at once when it holds events, else when the first event comes
// (or its wait runs out), so a client is woken by a delivery instead of polling for it.
//
// A slow reader must not grow vigild without bound. The queue holds at most kMaxQueuedEvents
// events and kMaxQueuedBytes of their encoded JSON, counted as a version-1 frame writes it (hex, so
// the bound holds whichever version the reader asks in; the count binds for messages of a few
// bytes, the bytes for larger ones: some 3 800 messages of 1 KiB):
//  - past half of either bound the connection is congested: its own cpg_send is answered
//    {"ok": false, "code": "try_again"} until it reads (as libcpg's cpg_mcast_joined answers
//    CS_ERR_TRY_AGAIN under flow control), so a client that sends without reading stops itself;
//  - when it is full (a reader behind what the others send), the oldest events are dropped and
//    counted: the next cpg_read answers "dropped": N, and the client knows it lost messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "control/control.h"
#include "groups/groups.h"

namespace vigil::control {

inline constexpr std::size_t kMaxQueuedEvents = 50000;
inline constexpr std::size_t kMaxQueuedBytes = 8u << 20;
// A cpg_read waits at most this long for an event ("wait": milliseconds).
inline constexpr Millis kMaxReadWait = 3600000;

// {type: message, group, node, pid, data: bytes (frame.h: hex or raw, as the reader's frames)} or
// {type: change, group, members, joined, left: [{node, pid}], reason}.
Json event_json(const groups::GroupEvent& event);

struct QueueBounds {
  std::size_t events = kMaxQueuedEvents;
  std::size_t bytes = kMaxQueuedBytes;  // at least the largest event's (kMaxMessage as hex)
};

class GroupEvents {
 public:
  explicit GroupEvents(QueueBounds bounds = {});

  void push(const groups::GroupEvent& event);
  bool empty() const { return events_.empty(); }
  bool congested() const {
    return events_.size() > bounds_.events / 2 || bytes_ > bounds_.bytes / 2;
  }
  // A cpg_read's answer, {ok, events, dropped}: every queued event, in delivery order, and how
  // many were dropped since the last read. Empties the queue. It fits one frame: kMaxQueuedBytes
  // is well under kMaxBody.
  Json take();

 private:
  struct Queued {
    Json event;
    std::size_t bytes = 0;  // at least its encoded size
  };
  QueueBounds bounds_;
  std::deque<Queued> events_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace vigil::control
