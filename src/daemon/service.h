// service: the layers vigild hosts above the ring — the replicated CIB and the controller (with its
// executor) — each a Service that the daemon builds at start, tells of membership and quorum
// changes, asks for its part of `status`, and hands the control-socket commands it owns. A service
// reaches the cluster only through the Host: process groups for messages in total order, the
// loop for timers and child processes, the logs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/control.h"
#include "control/request.h"
#include "daemon/daemon.h"
#include "node/node.h"

namespace asio {
class io_context;
}
namespace spdlog {
class logger;
}
namespace vigil::metrics {
class Timings;
}

namespace vigil::daemon {

using Json = nlohmann::json;

// What the ring and votequorum say now.
struct ClusterView {
  std::vector<std::uint32_t> members;  // node ids in the current ring, sorted
  bool quorate = false;
  std::string ring_id;  // "rep.seq", as the logs print it
  // With a watchdog (node/lease.h): false once this node's lease is lost, and the lost nodes
  // provably reset by their watchdogs since they left.
  bool leased = true;
  std::vector<std::uint32_t> reset;
};

class Host {
 public:
  virtual ~Host() = default;
  virtual asio::io_context& io() = 0;
  virtual Groups& groups() = 0;
  virtual const Options& options() const = 0;
  virtual const config::ClusterConfig& config() const = 0;
  virtual std::uint32_t node_id() const = 0;
  virtual const std::string& node_name() const = 0;
  // A logger tagged with the subsystem ("CIB", "CONTROLLER"), writing where vigild's logs go.
  virtual std::shared_ptr<spdlog::logger> log(const std::string& subsystem) = 0;
  virtual ClusterView view() const = 0;
  // The daemon's `status` answer, every service's part included.
  virtual Json status() const = 0;
  // How long things took (metrics/timings.h): the daemon times the core's steps, the services
  // tell it of faults and recoveries; the status answer shows it.
  virtual metrics::Timings& timings() = 0;
  // When a frame of `node` was last heard on any link (monotonic); 0: never.
  virtual Millis last_heard(std::uint32_t node) const = 0;
  // The node core, to read; and to step it with an input of the service's (a CIB commit, a
  // durable report), its output carried out as every other.
  virtual const node::Node& core() const = 0;
  virtual void step(const node::Input& input) = 0;
  // Orders a nodelist change (control::NodelistAdd or NodelistRemove) through the ring, as
  // `vigil cluster add|remove` asks; `reply` gets nodelist_add's answer once it is applied.
  virtual void propose(const control::Request& change, const control::PeerCredentials& peer,
                       control::Server::Reply reply) = 0;
};

class Service {
 public:
  virtual ~Service() = default;
  // The control commands this service answers ("cib_query", "cib_commit", ...); most own none.
  virtual std::vector<std::string> commands() const { return {}; }
  // Answers one of them, now or later, through `reply` (always on the loop, exactly once). The
  // request was decoded at the socket: its fields have the types its command needs.
  virtual void answer(const control::Request& /*request*/, const control::PeerCredentials& /*peer*/,
                      control::Server::Reply /*reply*/) {
    VIGIL_ASSERT(false);  // the daemon routes only the commands() a service owns
  }
  // The membership or quorum changed; a service that does not care ignores it.
  virtual void view_changed(const ClusterView& /*view*/) {}
  // Adds this service's part to the daemon's `status` answer.
  virtual void add_status(Json& status) const = 0;
  // The daemon was asked to stop: hand what this node runs over to the others, then call `done`
  // (once, on the loop). The ring stays up meanwhile. Most services have nothing to hand over.
  virtual void hand_over(std::function<void()> done) { done(); }
  // The daemon is leaving the ring: stop what is running and let go of the groups.
  virtual void stop() = 0;
};

// The controller's shell: the node's controller part decides; this runs the agent actions and
// alerts it asks for, and carries the fence answers and the hand-over to their callers.
class ControllerService : public Service {
 public:
  // The node's controller outputs (agent_cancels, agent_runs, alerts, fence_answers,
  // transitions, watchdog_fencings, ready_to_leave), carried out in node.h's order.
  virtual void agents(const node::Output& out) = 0;
};
class HistoryService;
// The transitions this node starts and ends as DC, and the nodes it counts as fenced by their
// watchdog, go to `journal`.
std::unique_ptr<ControllerService> make_controller_service(Host& host, HistoryService& journal);

class CibService;
struct Services {
  std::vector<std::unique_ptr<Service>> all;  // in start order
  CibService* cib = nullptr;                  // one of them: the daemon hands it the CIB outputs
  ControllerService* controller = nullptr;    // and this one the controller's
};
// Builds the services vigild runs (services.cpp says which); an error when one cannot start
// (the HTTP listener's address is taken).
Result<Services> make_services(Host& host);

}  // namespace vigil::daemon
