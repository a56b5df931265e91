// The controller service: vigild's shell around the node core's controller part
// (node/controller_part.h, which decides). It owns the node's Executor: it runs and cancels the
// agent actions the node asks for and steps the node with their results, runs the alert agents,
// reaps orphaned agent daemons, and carries the fence requests and the hand-over to and from the
// node.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>

#include "common/clock.h"
#include "controller/controller.h"
#include "daemon/cib_access.h"
#include "daemon/history_service.h"
#include "executor/executor.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

// Now, for an alert's timestamps: microseconds, and the local zone agents print times in.
controller::Moment alert_moment() {
  const std::int64_t usec = wall_clock_us();
  auto zone = local_zone_at(usec / 1000000);
  return {usec, zone.utc_offset, std::move(zone.name)};
}

// How an alert agent ended, for the log: empty when it succeeded.
std::string alert_failure(const executor::ActionResult& r, Millis timeout) {
  switch (r.status) {
    case executor::ExecStatus::Timeout:
      return "timed out after " + std::to_string(timeout) + " ms and was killed";
    case executor::ExecStatus::NotExecuted:
      return "could not run: " + r.reason;
    case executor::ExecStatus::Cancelled:
      return "was cancelled";
    case executor::ExecStatus::Done:
      break;
  }
  if (r.signal != 0) return "was killed by signal " + std::to_string(r.signal);
  if (r.exit_status == 0) return "";
  const std::string said = r.err.substr(0, r.err.find('\n'));
  return "exited with code " + std::to_string(r.exit_status) + (said.empty() ? "" : ": " + said);
}

executor::Settings executor_settings(const Host& host) {
  executor::Settings s;
  if (const char* root = std::getenv("VIGIL_OCF_ROOT"); root && *root) s.ocf_root = root;
  if (const char* fence = std::getenv("VIGIL_FENCE_DIR"); fence && *fence) s.fence_dir = fence;
  s.run_dir = host.options().run_dir;
  return s;
}

// Pacemaker's op-status for how the executor ended an action.
int op_status(const executor::ActionResult& r) {
  switch (r.status) {
    case executor::ExecStatus::Done:
      return 0;
    case executor::ExecStatus::Cancelled:
      return 1;
    case executor::ExecStatus::Timeout:
      return 2;
    case executor::ExecStatus::NotExecuted:
      return r.rc == executor::OcfCode::NotInstalled ? 7 : 4;
  }
  return 4;
}

using Results = std::map<std::pair<std::string, std::string>, std::uint64_t>;

// How an agent run ended, in Pacemaker's words: the agent's answer ("ok", "not running" …) when
// it ran to its end, else how it did not ("timed out", "not executed" …).
std::string result_word(const executor::ActionResult& res) {
  return std::string(res.status == executor::ExecStatus::Done ? executor::describe(res.rc)
                                                              : executor::describe(res.status));
}

control::Json results_json(const Results& results) {
  auto out = control::Json::array();
  for (const auto& [key, count] : results)
    out.push_back({{"operation", key.first}, {"result", key.second}, {"count", count}});
  return out;
}

class ControllerServiceImpl final : public ControllerService {
 public:
  ControllerServiceImpl(Host& host, HistoryService& journal)
      : host_(host),
        journal_(journal),
        log_(host.log("CONTROLLER")),
        executor_(host.io(), executor_settings(host)),
        child_exits_(host.io(), SIGCHLD) {
    // Daemons that this node's agents start become vigild's children when orphaned (as under a
    // real init), so their exits are seen and they never linger as zombies that look alive.
    if (auto made = executor::become_subreaper(); !made.ok())
      log_->warn("{}", made.error().message);
    reap_orphans();
  }

  ~ControllerServiceImpl() override {
    *alive_ = false;
    asio::error_code ignored;
    child_exits_.cancel(ignored);
  }
  ControllerServiceImpl(const ControllerServiceImpl&) = delete;
  ControllerServiceImpl& operator=(const ControllerServiceImpl&) = delete;

  std::vector<std::string> commands() const override { return {"controller_fence"}; }

  // The node decides and answers (FenceAnswer); this only keeps the client's reply until then.
  void answer(const control::Request& request, const control::PeerCredentials& peer,
              control::Server::Reply reply) override {
    const auto* fence = std::get_if<control::ControllerFence>(&request);
    VIGIL_ASSERT(fence != nullptr);  // the daemon hands this service only its own command
    log_->info("fencing of {} asked by pid {} (uid {})", fence->node, peer.pid, peer.uid);
    const auto ticket = ++tickets_;
    fence_waits_[ticket] = std::move(reply);
    host_.step(node::FenceRequest{ticket, fence->node, transport::monotonic_now()});
  }

  void add_status(Json& status) const override {
    const auto* part = host_.core().controller();
    VIGIL_ASSERT(part != nullptr);  // vigild's node always runs the controller
    const auto st = part->core().status();
    Json c{{"is_dc", st.is_dc},
           {"state", controller::to_string(st.state)},
           {"transition", st.transition},
           {"actions_total", st.actions_total},
           {"actions_done", st.actions_done},
           {"actions_in_flight", st.actions_in_flight},
           {"transitions_completed", st.transitions_completed},
           {"transitions_aborted", st.transitions_aborted},
           {"agents_running", executor_.running()},
           {"agents_queued", executor_.queued()}};
    c["dc"] = st.dc ? Json{{"id", st.dc->id}, {"name", st.dc->name}} : Json(nullptr);
    c["action_results"] = results_json(action_results_);
    // Watchdog fencing beside the devices' runs, told apart by Pacemaker's name for the device.
    c["fencing_results"] = results_json(fencing_results_);
    for (auto row : results_json(watchdog_fencings_)) {
      row["device"] = "watchdog";
      c["fencing_results"].push_back(std::move(row));
    }
    status["controller"] = c;
  }

  void hand_over(std::function<void()> done) override {
    if (leave_done_) return done();
    leave_done_ = std::move(done);
    host_.step(node::ShutdownRequest{transport::monotonic_now()});
  }

  void stop() override {}  // the node answers the fence waits and leaves the group itself

  // ---- the node's controller outputs
  void agents(const node::Output& out) override {
    for (auto token : out.agent_cancels) {
      auto it = recurring_.find(token);
      if (it == recurring_.end()) continue;
      executor_.cancel(it->second);
      recurring_.erase(it);
    }
    for (const auto& a : out.agent_runs) run(a);
    for (const auto& a : out.alerts) send_alerts(a);
    for (const auto& a : out.fence_answers) fence_answered(a);
    for (const auto& t : out.transitions)
      journal_.record(history::transition_event(t, host_.node_name(), wall_clock_ms()));
    for (const auto& f : out.watchdog_fencings) {
      ++watchdog_fencings_[{f.action, "ok"}];
      journal_.record(history::watchdog_fencing_event(f, host_.node_name(), wall_clock_ms()));
    }
    // From a fresh call: the hand-over's caller leaves the ring, stepping the node.
    if (out.ready_to_leave && leave_done_)
      asio::post(host_.io(), [done = std::move(leave_done_)] { done(); });
  }

 private:
  void reap_orphans() {
    executor::reap_orphans();
    child_exits_.async_wait([this, alive = alive_](const asio::error_code& ec, int) {
      if (!ec && *alive) reap_orphans();
    });
  }

  void fence_answered(const node::FenceAnswer& a) {
    auto it = fence_waits_.find(a.ticket);
    if (it == fence_waits_.end()) return;
    auto reply = std::move(it->second);
    fence_waits_.erase(it);
    if (!a.fenced.ok()) return reply(a.fenced.error());
    reply(Json{{"ok", true}, {"node", a.fenced.value()}});
  }

  // Each alert agent runs in the background: its end is only logged, whatever it does.
  void send_alerts(const node::AlertSend& send) {
    for (auto& run :
         controller::plan_alerts(*send.alerts, send.event, alert_moment(), alert_sequence_)) {
      const std::string to = run.recipient.empty() ? "(no recipient)" : run.recipient;
      log_->info("sending {} alert via {} to {}", run.kind, run.alert, to);
      const Millis timeout = run.timeout;
      executor_.alert(
          {run.path, std::move(run.env), timeout},
          [log = log_, alert = run.alert, to, timeout](const executor::ActionResult& r) {
            const std::string failure = alert_failure(r, timeout);
            if (!failure.empty()) log->warn("alert {} to {} {}", alert, to, failure);
          });
    }
  }

  void run(const controller::LocalAction& a) {
    const auto token = a.token;
    executor::ResourceAction action;
    action.resource = a.resource;
    action.agent = a.agent;
    action.name = a.name;
    action.interval = a.interval;
    action.timeout = a.timeout;
    action.params = a.params;
    action.meta = a.meta;
    log_->info("running {} {} of {}{}", action.agent.str(), a.name, a.resource,
               a.interval > 0 ? " every " + std::to_string(a.interval) + " ms" : "");
    // A fence device's reboot, off or on is a fencing attempt; anything else a resource action.
    const bool fencing = a.agent.standard == AgentClass::Stonith &&
                         (a.name == "reboot" || a.name == "off" || a.name == "on");
    auto done = [this, alive = alive_, token, name = a.name, rsc = a.resource,
                 fencing](const executor::ActionResult& res) {
      if (!*alive) return;
      ++(fencing ? fencing_results_ : action_results_)[{name, result_word(res)}];
      controller::ActionResult r{static_cast<int>(res.rc), op_status(res), res.duration,
                                 executor::exit_reason(res)};
      log_->info("{} of {}: rc={} ({}) in {} ms{}", name, rsc, r.rc, executor::describe(res.status),
                 r.exec_ms, r.exit_reason.empty() ? "" : ": " + r.exit_reason);
      if (r.rc != 0 && r.rc != 7 && !res.err.empty())
        log_->warn("{} of {} said: {}", name, rsc, res.err);
      host_.step(node::AgentResult{token, r, transport::monotonic_now()});
    };
    if (a.interval > 0) {
      recurring_[token] = executor_.start_recurring(std::move(action), 0, done);
    } else {
      executor_.execute(std::move(action), done);
    }
  }

  Host& host_;
  HistoryService& journal_;
  std::shared_ptr<spdlog::logger> log_;
  executor::Executor executor_;
  asio::signal_set child_exits_;      // SIGCHLD: an orphaned agent daemon may have exited
  std::function<void()> leave_done_;  // hand_over's caller, until the node is ready to leave
  std::map<std::uint64_t, executor::RecurringId> recurring_;
  std::map<std::uint64_t, control::Server::Reply> fence_waits_;  // by ticket
  std::uint64_t tickets_ = 0;
  std::uint64_t alert_sequence_ = 0;  // CRM_alert_node_sequence of the last alert run
  // Agent runs this node finished, by (operation, result), for /metrics: resource actions, and
  // fence devices' reboot/off/on; and the nodes it counted as fenced by their watchdog as DC.
  Results action_results_, fencing_results_, watchdog_fencings_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<ControllerService> make_controller_service(Host& host, HistoryService& journal) {
  return std::make_unique<ControllerServiceImpl>(host, journal);
}

}  // namespace vigil::daemon
