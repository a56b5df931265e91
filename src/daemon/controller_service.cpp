// The controller service: vigild's shell around the pure controller core. It joins the
// controller process group, owns the node's Executor, turns group events, CIB changes, agent
// results and its timer into the core's inputs, and carries out the core's effects: CIB commits,
// group messages, agents to run or cancel, the next wake-up.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "common/clock.h"
#include "controller/controller.h"
#include "daemon/cib_access.h"
#include "daemon/effects.h"
#include "daemon/lease_settings.h"
#include "executor/executor.h"
#include "scheduler/scheduler.h"

namespace vigil::daemon {

namespace {

constexpr const char* kGroup = "vigil-controller";
constexpr Millis kFenceWait = 110000;  // the CLI waits 120 s for the answer

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

class ControllerService final : public Service {
 public:
  ControllerService(Host& host, CibAccess& cib)
      : host_(host),
        cib_(cib),
        log_(host.log("CONTROLLER")),
        executor_(host.io(), executor_settings(host)),
        core_(controller::Member{host.node_id(), host.node_name()},
              static_cast<std::uint64_t>(wall_clock_ms()) ^ static_cast<std::uint64_t>(::getpid())),
        pid_(static_cast<std::uint32_t>(::getpid())),
        wake_(host.io()),
        leave_timer_(host.io()),
        child_exits_(host.io(), SIGCHLD) {
    // The agreed document may come as a change of `synced` alone (every copy was equal): the
    // documents shown while this node was not synced never reached the core, so it hears it then.
    cib_.on_change([this, alive = alive_](const node::CibChanged& change) {
      if (!*alive || stopped_ || !change.synced) return;
      const cib::Cib& c = *change.cib;
      unpack_alerts(c);
      feed([&] { return core_.cib_changed(c, wall_clock_ms()); });
      check_fenced(c);
      // A peer's entry in the node list named it, or the watchdog fencing settings changed.
      if (names_changed() || watchdog_fencing() != pushed_fencing_) push_view();
    });
    ring_ = host_.view();
    // Daemons that this node's agents start become vigild's children when orphaned (as under a
    // real init), so their exits are seen and they never linger as zombies that look alive.
    if (auto made = executor::become_subreaper(); !made.ok())
      log_->warn("{}", made.error().message);
    reap_orphans();
  }

  ~ControllerService() override {
    *alive_ = false;
    wake_.cancel();
    leave_timer_.cancel();
    asio::error_code ignored;
    child_exits_.cancel(ignored);
  }
  ControllerService(const ControllerService&) = delete;
  ControllerService& operator=(const ControllerService&) = delete;

  std::vector<std::string> commands() const override { return {"controller_fence"}; }

  void answer(const control::Request& request, const control::PeerCredentials& peer,
              control::Server::Reply reply) override {
    const auto* fence = std::get_if<control::ControllerFence>(&request);
    VIGIL_ASSERT(fence != nullptr);  // the daemon hands this service only its own command
    const std::string node = fence->node;
    if (!cib_.synced()) return reply(fail("controller_fence: this node holds no agreed CIB yet"));
    if (!scheduler::cluster_state(cib_.current(), wall_clock_ms()).stonith_enabled)
      return reply(fail("controller_fence: fencing is disabled (stonith-enabled=false)"));
    auto op = core_.fence_request(node);
    if (!op.ok()) return reply(op.error());
    log_->info("fencing of {} requested by pid {} (uid {})", node, peer.pid, peer.uid);
    // The request is the node's terminate attribute; the DC's scheduler fences it, and the answer
    // waits until the CIB shows the node fenced (or the time runs out).
    cib_.commit(std::move(*op), [this, alive = alive_, reply, node](Result<cib::Cib> applied) {
      if (!*alive) return;
      if (!applied.ok()) return reply(applied.error());
      auto timer = std::make_shared<asio::steady_timer>(host_.io());
      timer->expires_after(std::chrono::milliseconds(kFenceWait));
      timer->async_wait([this, alive, timer, node](const asio::error_code& ec) {
        if (ec || !*alive) return;
        answer_fence(node, fail("controller_fence: " + node + " was not fenced within " +
                                std::to_string(kFenceWait / 1000) + " s"));
      });
      fence_waits_.emplace(node, FenceWait{reply, timer});
      check_fenced(applied.value());
    });
  }

  void view_changed(const ClusterView& view) override {
    ring_ = view;
    // The group is joined once the ring is up: a join sent before the first membership is lost.
    if (!joined_ && !stopped_ && !view.members.empty()) {
      joined_ = true;
      auto joined = host_.groups().join(kGroup, pid_, [this, alive = alive_](const auto& e) {
        if (*alive && !stopped_) group_event(e);
      });
      if (!joined.ok()) log_->error("cannot join {}: {}", kGroup, joined.error().message);
    }
    push_view();
  }

  void add_status(Json& status) const override {
    const auto st = core_.status();
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
    status["controller"] = c;
  }

  void hand_over(std::function<void()> done) override {
    if (stopped_ || leave_done_) return done();
    leave_done_ = std::move(done);
    feed([&] { return core_.request_shutdown(wall_clock_ms()); });
    check_leave();
  }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    leave_timer_.cancel();
    wake_.cancel();
    for (auto& [node, wait] : fence_waits_) {
      wait.timer->cancel();
      wait.reply(fail("controller_fence: vigild is stopping"));
    }
    fence_waits_.clear();
    if (!joined_) return;
    auto left = host_.groups().leave(kGroup, pid_);
    if (!left.ok()) log_->debug("{}", left.error().message);
  }

 private:
  // Polled: the core says when the DC has moved this node's resources and acknowledged.
  void check_leave() {
    if (!leave_done_ || stopped_) return;
    if (core_.ready_to_leave()) {
      log_->info("this node's resources are handed over: leaving");
      auto done = std::move(leave_done_);
      leave_done_ = nullptr;
      return done();
    }
    leave_timer_.expires_after(std::chrono::milliseconds(100));
    leave_timer_.async_wait([this, alive = alive_](const asio::error_code& ec) {
      if (!ec && *alive) check_leave();
    });
  }

  void reap_orphans() {
    executor::reap_orphans();
    child_exits_.async_wait([this, alive = alive_](const asio::error_code& ec, int) {
      if (!ec && *alive) reap_orphans();
    });
  }

  struct FenceWait {
    control::Server::Reply reply;
    std::shared_ptr<asio::steady_timer> timer;
  };

  // A fenced node's state says so, and its terminate request is gone with its attributes.
  void check_fenced(const cib::Cib& c) {
    for (auto it = fence_waits_.begin(); it != fence_waits_.end();) {
      auto state = c.status().find_child_by_attribute("node_state", "uname", it->first.c_str());
      const bool fenced = state &&
                          std::string_view(state.attribute("expected").value()) == "down" &&
                          std::string_view(state.attribute("crmd").value()) == "offline" &&
                          !state.child("transient_attributes").find_node([](pugi::xml_node n) {
                            return std::string_view(n.attribute("name").value()) == "terminate";
                          });
      if (!fenced) {
        ++it;
        continue;
      }
      it->second.timer->cancel();
      it->second.reply(Json{{"ok", true}, {"node", it->first}});
      it = fence_waits_.erase(it);
    }
  }

  void answer_fence(const std::string& node, Result<Json> answer) {
    auto range = fence_waits_.equal_range(node);
    for (auto it = range.first; it != range.second; ++it) it->second.reply(answer);
    fence_waits_.erase(range.first, range.second);
  }

  // A peer's name: corosync.conf's nodelist, else the entry the peer made in the CIB's node list
  // (the CIB service does that on every node), else its id.
  std::string name_of(std::uint32_t id) const {
    if (id == host_.node_id()) return host_.node_name();
    for (const auto& n : host_.config().nodelist) {
      if (n.nodeid == id) return n.name.empty() ? n.ring_addr[0] : n.name;
    }
    const std::string key = std::to_string(id);
    const auto entry = cib_.current().configuration().child("nodes").find_child_by_attribute(
        "node", "id", key.c_str());
    if (entry && *entry.attribute("uname").value()) return entry.attribute("uname").value();
    return key;
  }

  // Only once a view went to the core: the first one goes with the controllers' group.
  bool names_changed() const {
    if (pushed_names_.empty()) return false;
    for (auto id : ring_.members) {
      auto it = pushed_names_.find(id);
      if (it == pushed_names_.end() || it->second != name_of(id)) return true;
    }
    return false;
  }

  // Whether the DC may count a lost node as fenced by its watchdog: this node has a watchdog, and
  // the CIB's settings pass the lease's check against this node's corosync.conf.
  bool watchdog_fencing() const {
    if (host_.config().resources.watchdog_device.empty() || !cib_.synced()) return false;
    auto on = node::check_watchdog_fencing(watchdog_config(host_.config()),
                                           fencing_options(cib_.current()));
    return on.ok() && *on;
  }

  // A node that lost its lease shows the core no quorum: its partition stops what it runs
  // (no-quorum-policy, which cannot be ignore with a watchdog) while the watchdog comes.
  void push_view() {
    controller::ClusterView v;
    pushed_names_.clear();
    for (auto id : ring_.members) v.members.push_back({id, pushed_names_[id] = name_of(id)});
    v.quorate = ring_.quorate && ring_.leased;
    v.watchdog_fencing = pushed_fencing_ = watchdog_fencing();
    v.reset = ring_.reset;
    v.controllers.assign(controllers_.begin(), controllers_.end());
    feed([&] { return core_.view_changed(v, wall_clock_ms()); });
  }

  void group_event(const groups::GroupEvent& e) {
    if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
      controllers_.clear();
      for (const auto& m : change->members) controllers_.insert(m.node);
      push_view();
      return;
    }
    const auto& m = std::get<groups::GroupMessage>(e);
    auto decoded = controller::decode(
        std::string_view(reinterpret_cast<const char*>(m.data.data()), m.data.size()));
    if (!decoded.ok()) {
      log_->warn("from node {}: {}", m.sender.node, decoded.error().message);
      return;
    }
    feed([&] { return core_.message(m.sender.node, *decoded, wall_clock_ms()); });
  }

  void feed(const std::function<controller::Output()>& step) { effects_.feed(step); }

  void carry_out(controller::Output& out) {
    for (const auto& line : out.log) {
      switch (line.level) {
        case controller::LogLine::Level::info:
          log_->info("{}", line.text);
          break;
        case controller::LogLine::Level::warning:
          log_->warn("{}", line.text);
          break;
        case controller::LogLine::Level::error:
          log_->error("{}", line.text);
          break;
      }
    }
    for (auto& op : out.commits) {
      cib_.commit(std::move(op), [log = log_](Result<cib::Cib> applied) {
        if (!applied.ok()) log->warn("CIB update refused: {}", applied.error().message);
      });
    }
    for (const auto& m : out.send) {
      const std::string bytes = controller::encode(m);
      auto sent = host_.groups().send(
          kGroup, pid_,
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                        bytes.size()));
      if (!sent.ok()) log_->warn("cannot send to {}: {}", kGroup, sent.error().message);
    }
    for (auto token : out.cancel) {
      auto it = recurring_.find(token);
      if (it == recurring_.end()) continue;
      executor_.cancel(it->second);
      recurring_.erase(it);
    }
    for (auto& a : out.run) run(a);
    for (const auto& e : out.alerts) send_alerts(e);
    if (out.wake_at) arm(*out.wake_at);
  }

  // The alerts section as it is now; its warnings are logged when they change. Unpacked only
  // when the section's text changed: most CIB changes are status updates.
  void unpack_alerts(const cib::Cib& c) {
    const auto section = c.configuration().child("alerts");
    std::string text = cib::element_xml(section);
    if (text == alerts_text_) return;
    alerts_text_ = std::move(text);
    auto next = controller::unpack_alerts(section);
    if (next.warnings != alerts_.warnings) {
      for (const auto& w : next.warnings) log_->warn("{}", w);
    }
    alerts_ = std::move(next);
  }

  // Each alert agent runs in the background: its end is only logged, whatever it does.
  void send_alerts(const controller::AlertEvent& event) {
    if (alerts_.alerts.empty()) return;
    for (auto& run :
         controller::plan_alerts(alerts_.alerts, event, alert_moment(), alert_sequence_)) {
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
    auto done = [this, alive = alive_, token, name = a.name,
                 rsc = a.resource](const executor::ActionResult& res) {
      if (!*alive) return;
      controller::ActionResult r{static_cast<int>(res.rc), op_status(res), res.duration,
                                 executor::exit_reason(res)};
      log_->info("{} of {}: rc={} ({}) in {} ms{}", name, rsc, r.rc, executor::describe(res.status),
                 r.exec_ms, r.exit_reason.empty() ? "" : ": " + r.exit_reason);
      if (r.rc != 0 && r.rc != 7 && !res.err.empty())
        log_->warn("{} of {} said: {}", name, rsc, res.err);
      feed([&] { return core_.action_done(token, r, wall_clock_ms()); });
    };
    if (a.interval > 0) {
      recurring_[token] = executor_.start_recurring(std::move(action), 0, done);
    } else {
      executor_.execute(std::move(action), done);
    }
  }

  void arm(Millis at) {
    wake_.cancel();
    const Millis delay = std::max<Millis>(0, at - wall_clock_ms());
    wake_.expires_after(std::chrono::milliseconds(delay));
    wake_.async_wait([this, alive = alive_](const asio::error_code& ec) {
      if (ec || !*alive || stopped_) return;
      feed([&] { return core_.tick(wall_clock_ms()); });
    });
  }

  Host& host_;
  CibAccess& cib_;
  std::shared_ptr<spdlog::logger> log_;
  executor::Executor executor_;
  controller::Controller core_;
  std::uint32_t pid_;
  asio::steady_timer wake_;
  asio::steady_timer leave_timer_;
  std::function<void()> leave_done_;  // hand_over's caller, until the core is ready to leave
  asio::signal_set child_exits_;      // SIGCHLD: an orphaned agent daemon may have exited
  bool joined_ = false;
  ClusterView ring_;
  std::set<std::uint32_t> controllers_;
  std::map<std::uint32_t, std::string> pushed_names_;  // the names the core last heard
  bool pushed_fencing_ = false;                        // the watchdog fencing it last heard
  std::map<std::uint64_t, executor::RecurringId> recurring_;
  Effects<controller::Output> effects_{[this](controller::Output& out) { carry_out(out); }};
  std::multimap<std::string, FenceWait> fence_waits_;  // by node name
  controller::Alerts alerts_;                          // the CIB's alerts section, unpacked
  std::string alerts_text_;                            // its text, to unpack it only when it changes
  std::uint64_t alert_sequence_ = 0;  // CRM_alert_node_sequence of the last alert run
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<Service> make_controller_service(Host& host, CibAccess& cib) {
  return std::make_unique<ControllerService>(host, cib);
}

}  // namespace vigil::daemon
