// alerts: Pacemaker's alert agents, as a pure function of the CIB's `alerts` section and an
// event. The controller core reports events (a peer became member or was lost, an operation ran
// on this node, a fencing ended); which alerts fire for one and with which environment is decided
// here, so that Pacemaker's agents (Debian's /usr/share/pacemaker/alerts/*.sample) read the
// CRM_alert_* variables they expect. Running them is the daemon's business.
#pragma once

#include <cstdint>
#include <map>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/common.h"

namespace vigil::controller {

// A peer's membership changed: `state` is "member" or "lost" (Pacemaker's peer states).
struct NodeEvent {
  std::string node;
  std::uint32_t id = 0;
  std::string state;
  bool operator==(const NodeEvent&) const = default;
};
// A fencing operation ended. `rc`: 0 when it succeeded, else Pacemaker's negative errno.
struct FencingEvent {
  std::string target;
  std::string task;  // reboot, off, on
  std::string desc;  // "Operation reboot of n2 by n1 for vigil-controller@n1: OK (ref=...)"
  int rc = 0;
  bool operator==(const FencingEvent&) const = default;
};
// An operation of a resource ended on `node` (this node). `op_status` is Pacemaker's
// (0 done, 1 cancelled, 2 timed out, 4 error, 7 not installed ...).
struct ResourceEvent {
  std::string node;
  std::string rsc;
  std::string task;
  Millis interval = 0;
  int target_rc = 0;
  int op_status = 0;
  int rc = 0;
  Millis exec_time = 0;
  Millis timeout = 0;
  bool operator==(const ResourceEvent&) const = default;
};
// A node attribute changed.
struct AttributeEvent {
  std::string node;
  std::uint32_t id = 0;
  std::string name;
  std::string value;
  bool operator==(const AttributeEvent&) const = default;
};
using AlertEvent = std::variant<NodeEvent, FencingEvent, ResourceEvent, AttributeEvent>;

// The `select` kinds, as Pacemaker's flags; an alert without `select` takes all but attributes.
enum AlertKind : unsigned { kAlertNode = 1, kAlertFencing = 2, kAlertResource = 4, kAlertAttribute = 8 };

// One alert agent for one recipient (an alert without recipients is one, with none), its
// recipient's instance and meta attributes over the alert's.
struct Alert {
  std::string id;
  std::string path;
  std::string recipient;
  Millis timeout = 30000;                           // meta timeout, Pacemaker's default
  std::string timestamp_format = "%H:%M:%S.%06N";  // meta timestamp-format, likewise
  unsigned select = kAlertNode | kAlertFencing | kAlertResource;
  std::vector<std::string> attributes;     // select_attributes' names; empty: every attribute
  std::map<std::string, std::string> env;  // the instance attributes
  bool operator==(const Alert&) const = default;
};

struct Alerts {
  std::vector<Alert> alerts;          // document order, each recipient in turn
  std::vector<std::string> warnings;  // settings ignored, naming the alert
};
// Reads configuration/alerts (an empty node: no alerts). Disabled alerts and recipients (meta
// enabled=false) are left out; a timeout that is no duration is the default, with a warning.
Alerts unpack_alerts(pugi::xml_node alerts);

// When an event happened, as the daemon read the clock: the wall clock in microseconds since
// the epoch, and the local time zone's offset and name then.
struct Moment {
  std::int64_t epoch_usec = 0;
  int utc_offset = 0;  // seconds east of UTC
  std::string zone = "UTC";
};
// A timestamp-format applied: strftime's conversions, and Pacemaker's %N: the fraction of the
// second in as many digits as its width (at most 6, truncated); %N without a width adds nothing.
std::string format_timestamp(std::string_view format, const Moment& at);

// One agent run: the alert and recipient it is for, and the variables to add to its environment.
struct AlertRun {
  std::string kind;  // node, fencing, resource, attribute
  std::string alert;
  std::string recipient;
  std::string path;
  Millis timeout = 30000;
  std::vector<std::pair<std::string, std::string>> env;
};
// The runs an event makes: every alert that selects its kind (and its attribute), each with
// Pacemaker's CRM_alert_* variables. Probes that found what they expected alert nobody, as in
// Pacemaker. `sequence` numbers the runs (CRM_alert_node_sequence): it is the last number this
// node used, and comes back advanced.
std::vector<AlertRun> plan_alerts(const std::vector<Alert>& alerts, const AlertEvent& event,
                                  const Moment& at, std::uint64_t& sequence);

// The Pacemaker release whose alert interface this is (CRM_alert_version).
inline constexpr const char* kAlertVersion = "2.1.5";

}  // namespace vigil::controller
