// history: what happened in the cluster, and why a resource is where it is.
//
// vigild keeps a journal of cluster events per node (the daemon's history_service.cpp says why per
// node and how the file is bounded). The events are derived here, purely, by comparing what the
// node saw before with what it sees now:
//   - the ring's view (members by name, quorum): node joined or lost, quorum gained or lost;
//   - the agreed CIB: a node's standby and maintenance (node or transient attributes), a node
//     fenced (its state written down as expected with its history cleared), configuration changes
//     (epoch) with who made them (the CIB's update-user/-client/-origin, which vigild writes from
//     the requesting peer's credentials), and every operation result newly recorded in a node's
//     lrm history (starts, stops, failed monitors with rc and exit reason).
// The journal file holds one Event as a JSON object per line; decoding it skips what does not
// decode. why() puts the scheduler's reason for a resource's placement next to the journal's
// account of its last move, in words. Time is passed in (milliseconds since the epoch).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"
#include "controller/controller.h"

namespace vigil::history {

// What kind of thing happened (the journal's "what").
namespace kind {
inline constexpr std::string_view kJoined = "node-joined", kLost = "node-lost",
                                  kQuorumGained = "quorum-gained", kQuorumLost = "quorum-lost",
                                  kStandby = "standby", kOnline = "online",
                                  kMaintenance = "maintenance", kReady = "maintenance-off",
                                  kFenced = "fenced", kConfiguration = "configuration",
                                  kAction = "action", kFailed = "action-failed";
// An action asked for on the status page (vigild --http-actions), by whom, and how it ended;
// written by the node whose page it was.
inline constexpr std::string_view kPageAction = "page-action";
// A transition the DC started, completed or aborted; written by the DC (the scheduling step of
// an incident's timeline).
inline constexpr std::string_view kTransition = "transition";
}

struct Event {
  std::int64_t at_ms = 0;  // when, in milliseconds since the epoch
  std::string what;        // one of kind::
  std::string node;        // the node it happened to or on; "" for the cluster
  std::string resource;    // the resource an action concerns; "" otherwise
  std::string detail;      // what happened, in words ("start of vip on n2: ok")
  std::string by;          // who made a change ("root via vigil on n1"); "" when not known
  // An action's task ("start", "monitor"), its result code and the agent's exit reason.
  std::string task;
  int rc = 0;
  std::string exit_reason;
  std::vector<std::string> resources;  // a transition's: the resources it acts on
  std::int64_t last_heard_ms = 0;      // a lost node's: when it was last heard (0: not known)
  bool operator==(const Event&) const = default;
};

// What the ring says: the members by name and whether the partition is quorate.
struct View {
  std::vector<std::string> members;
  bool quorate = false;
};

// The membership and quorum changes from `before` (none yet: every member joined) to `after`.
std::vector<Event> view_events(const std::optional<View>& before, const View& after,
                               std::int64_t now_ms);
// The changes from the CIB `before` to `after`, in the order above, at `now_ms`; an action's
// record older than a minute (or newer than now_ms) keeps its own time, last-rc-change.
std::vector<Event> cib_events(const cib::Cib& before, const cib::Cib& after, std::int64_t now_ms);

// A transition the DC `dc` started or ended, at `now_ms`.
Event transition_event(const controller::TransitionNote& note, const std::string& dc,
                       std::int64_t now_ms);
// A node the DC `dc` counted as fenced by its watchdog, at `now_ms`: a fenced event naming the
// watchdog, which the fenced event cib_events derives from the CIB cannot tell.
Event watchdog_fencing_event(const controller::WatchdogFencing& fencing, const std::string& dc,
                             std::int64_t now_ms);

// One event as a JSON object and back: a journal line (without its newline) is one, and so is
// each of a history_query's events. from_json() rejects what is not an object with the fields of
// the right types ("at" a number, "what" a string …), naming the field.
nlohmann::json to_json(const Event& event);
Result<Event> from_json(const nlohmann::json& object);
std::string encode(const Event& event);
Result<Event> decode(std::string_view line);
struct Decoded {
  std::vector<Event> events;  // in the file's order
  std::size_t skipped = 0;    // lines that did not decode (a torn last write, a foreign file)
};
Decoded decode_journal(std::string_view text);

// `vigil history`'s filters: events at or after `since_ms`, of one resource, on one node. A
// membership, quorum or configuration event is kept for a resource filter: it may be the cause.
struct Filter {
  std::int64_t since_ms = 0;
  std::string resource, node;
};
bool matches(const Event& event, const Filter& filter);

// The newest `capacity` events (the journal's memory: queries never read the disk).
class Journal {
 public:
  explicit Journal(std::size_t capacity) : capacity_(capacity) {}
  void add(Event event);
  std::vector<Event> select(const Filter& filter) const;
  std::size_t size() const { return events_.size(); }

 private:
  std::size_t capacity_;
  std::deque<Event> events_;
};

// What vigild answers to a history_query: {ok, events: [to_json…]}, oldest first.
nlohmann::json query_answer(const Journal& journal, const Filter& filter);

// Where a resource is now and the scheduler's reason for it.
struct Placement {
  std::vector<std::string> nodes;  // where it runs; empty: stopped
  std::string reason;              // the scheduler's words
};
// The time of day an event is printed with (the CLI passes local time).
using TimeText = std::function<std::string(std::int64_t at_ms)>;
// `vigil why`: lines saying where `resource` is and why, then why it last moved (from, to, when
// and the cause the journal holds: standby, a failed action, a lost node, a configuration
// change), then that incident's timeline: each step with its time since the fault (a lost node's
// last word, else the cause), the DC's transitions for the resource among them, and the time
// from the fault to the resource running again.
std::vector<std::string> why(const std::string& resource, const Placement& placement,
                             std::span<const Event> events, const TimeText& time_text);

}  // namespace vigil::history
