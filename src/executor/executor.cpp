#include "executor/executor.h"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <set>

#include "common/xml_text.h"
#include "executor/agent.h"
#include "executor/process.h"

namespace vigil::executor {

std::string exit_reason(const ActionResult& result) {
  std::string_view reason = result.reason;
  const std::string_view tag = "ocf-exit-reason:";
  const std::string_view err = result.err;
  for (std::size_t at = 0; (at = err.find(tag, at)) != std::string_view::npos;) {
    at += tag.size();
    reason = err.substr(at, err.find('\n', at) - at);
  }
  return xml_text(reason);
}

namespace {

ActionResult result_of(const Outcome& o, const Plan& plan, Millis timeout) {
  ActionResult r;
  r.exit_status = o.exit_status;
  r.signal = o.signal;
  r.duration = o.duration;
  r.pid = o.pid;
  r.out = o.out;
  r.err = o.err;
  r.out_dropped = o.out_dropped;
  r.err_dropped = o.err_dropped;
  if (o.timed_out) {
    r.status = ExecStatus::Timeout;
    r.rc = OcfCode::Error;
    r.reason = "timed out after " + std::to_string(timeout) + "ms";
  } else if (o.cancelled) {
    r.status = ExecStatus::Cancelled;
    r.rc = OcfCode::Error;
  } else if (o.signal != 0) {
    r.rc = OcfCode::Error;
    r.reason = "killed by signal " + std::to_string(o.signal);
  } else {
    r.rc = plan.interpret(o.exit_status, o.out);
  }
  return r;
}

}  // namespace

struct Executor::State : std::enable_shared_from_this<State> {
  struct Job {
    ResourceAction action;
    Executor::Callback done;    // one-shot actions
    RecurringId recurring = 0;  // or the recurring operation this run belongs to
  };

  struct Recurring {
    Recurring(asio::io_context& io, RecurringId id, ResourceAction action, Callback on_change)
        : id(id), action(std::move(action)), on_change(std::move(on_change)), timer(io) {}
    RecurringId id;
    ResourceAction action;
    Callback on_change;
    asio::steady_timer timer;
    std::optional<std::pair<ExecStatus, OcfCode>> last;
  };

  State(asio::io_context& io, Settings settings) : io(io), settings(std::move(settings)) {}

  asio::io_context& io;
  Settings settings;
  bool alive = true;
  std::deque<Job> pending;
  std::set<std::string> busy;  // resources with an action under way
  std::size_t active = 0;      // actions under way, processes or posted immediate answers
  std::map<std::uint64_t, AgentProcess> processes;
  std::uint64_t next_process = 1;
  std::map<RecurringId, std::unique_ptr<Recurring>> recurring;
  RecurringId next_recurring = 1;
  std::map<AgentSpec, std::unique_ptr<AgentMetadata>> metadata;

  void enqueue(Job job) {
    pending.push_back(std::move(job));
    dispatch();
  }

  // Oldest first, skipping resources that are busy: one action per resource at a time.
  void dispatch() {
    for (auto it = pending.begin();
         alive && it != pending.end() && active < settings.concurrency;) {
      if (busy.count(it->action.resource) != 0) {
        ++it;
        continue;
      }
      Job job = std::move(*it);
      it = pending.erase(it);
      launch(std::move(job));
    }
  }

  void launch(Job job) {
    busy.insert(job.action.resource);
    ++active;
    const Millis timeout = job.action.timeout;
    const Plan plan = plan_action(settings, job.action);  // before the job moves into `finish`
    run(plan, timeout,
        [this, job = std::move(job)](const ActionResult& r) mutable { complete(std::move(job), r); });
  }

  // Runs the plan's process, or answers without one; `finish` gets the result on the loop (never
  // inside the caller) while this State lives.
  void run(const Plan& plan, Millis timeout, std::function<void(const ActionResult&)> finish) {
    std::weak_ptr<State> weak = shared_from_this();
    auto answer = [this, weak, finish](const ActionResult& r) {
      asio::post(io, [weak, finish, r] {
        if (auto self = weak.lock(); self && self->alive) finish(r);
      });
    };
    if (!plan.command) return answer(plan.immediate);
    std::uint64_t id = next_process++;
    Limits limits{timeout, settings.kill_grace, settings.output_cap};
    auto spawned = AgentProcess::spawn(io, *plan.command, limits,
                                       [weak, id, plan, timeout, finish](Outcome o) {
                                         auto self = weak.lock();
                                         if (!self || !self->alive) return;
                                         self->processes.erase(id);
                                         finish(result_of(o, plan, timeout));
                                       });
    if (!spawned) {
      ActionResult r;
      r.status = ExecStatus::NotExecuted;
      r.reason = spawned.error().message;
      return answer(r);
    }
    processes.emplace(id, *spawned);
  }

  void complete(Job job, const ActionResult& r) {
    busy.erase(job.action.resource);
    --active;
    auto keep_alive = shared_from_this();  // a callback may destroy the Executor
    if (job.recurring != 0) {
      on_recurring_result(job.recurring, r);
    } else if (job.done) {
      job.done(r);
    }
    dispatch();
  }

  void arm(Recurring& rec, Millis delay) {
    rec.timer.expires_after(std::chrono::milliseconds(delay));
    rec.timer.async_wait([weak = weak_from_this(), id = rec.id](const asio::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || !self->alive) return;
      auto it = self->recurring.find(id);
      if (it != self->recurring.end()) self->enqueue(Job{it->second->action, {}, id});
    });
  }

  // Only a change of (status, rc) is news; the next run is timed from this one's end.
  void on_recurring_result(RecurringId id, const ActionResult& r) {
    auto it = recurring.find(id);
    if (it == recurring.end()) return;  // cancelled while it ran
    Recurring& rec = *it->second;
    std::pair key{r.status, r.rc};
    bool changed = !rec.last || *rec.last != key;
    rec.last = key;
    arm(rec, rec.action.interval);
    if (changed) {
      auto notify = rec.on_change;  // the callback may cancel, destroying rec
      notify(r);
    }
  }

  bool cancel(RecurringId id) {
    auto it = recurring.find(id);
    if (it == recurring.end()) return false;
    std::erase_if(pending, [id](const Job& j) { return j.recurring == id; });
    auto notify = std::move(it->second->on_change);
    recurring.erase(it);  // its timer goes with it; a run in flight is ignored when it ends
    ActionResult r;
    r.status = ExecStatus::Cancelled;
    r.rc = OcfCode::Ok;
    asio::post(io, [weak = weak_from_this(), notify = std::move(notify), r] {
      if (auto self = weak.lock(); self && self->alive && notify) notify(r);
    });
    return true;
  }

  void shutdown() {
    alive = false;
    for (auto& [id, process] : processes) process.kill_now();
    processes.clear();
    pending.clear();
    recurring.clear();
    metadata.clear();
  }
};

Executor::Executor(asio::io_context& io, Settings settings)
    : state_(std::make_shared<State>(io, std::move(settings))) {
  VIGIL_ASSERT(state_->settings.concurrency > 0);
}

Executor::~Executor() {
  state_->shutdown();
}

void Executor::execute(ResourceAction action, Callback done) {
  if (action.name == "stop") cancel_resource(action.resource);
  state_->enqueue(State::Job{std::move(action), std::move(done), 0});
}

RecurringId Executor::start_recurring(ResourceAction monitor, Millis start_delay,
                                      Callback on_change) {
  VIGIL_ASSERT(monitor.interval > 0);
  RecurringId id = state_->next_recurring++;
  auto rec =
      std::make_unique<State::Recurring>(state_->io, id, std::move(monitor), std::move(on_change));
  state_->arm(*rec, std::max<Millis>(0, start_delay));
  state_->recurring.emplace(id, std::move(rec));
  return id;
}

bool Executor::cancel(RecurringId id) {
  return state_->cancel(id);
}

void Executor::cancel_resource(const std::string& resource) {
  std::vector<RecurringId> ids;
  for (const auto& [id, rec] : state_->recurring) {
    if (rec->action.resource == resource) ids.push_back(id);
  }
  for (auto id : ids) state_->cancel(id);
}

void Executor::alert(const AlertAction& alert, Callback done) {
  state_->run(plan_alert(alert), alert.timeout, std::move(done));
}

void Executor::metadata(const AgentSpec& agent, MetadataCallback done) {
  auto answer = [weak = std::weak_ptr<State>(state_), agent,
                 done = std::move(done)](const ActionResult* r) {
    auto self = weak.lock();
    if (!self || !self->alive) return;
    // Another request for the same agent may have filled the cache meanwhile.
    auto& slot = self->metadata[agent];
    if (!slot && r != nullptr) {
      auto md = metadata_from(agent, *r);
      if (!md) {
        self->metadata.erase(agent);
        done(md.error());
        return;
      }
      slot = std::make_unique<AgentMetadata>(std::move(*md));
    }
    done(slot.get());
  };
  if (state_->metadata.count(agent) != 0) {
    asio::post(state_->io, [answer = std::move(answer)] { answer(nullptr); });
    return;
  }
  auto action = metadata_action(agent);
  action.resource = "meta-data:" + agent.str();  // not serialised behind the resource's own actions
  execute(std::move(action), [answer = std::move(answer)](const ActionResult& r) { answer(&r); });
}

std::size_t Executor::running() const {
  return state_->processes.size();
}
std::size_t Executor::queued() const {
  return state_->pending.size();
}
const Settings& Executor::settings() const {
  return state_->settings;
}

ActionResult run_action(const Settings& settings, const ResourceAction& action) {
  asio::io_context io;
  ActionResult result;
  {
    Executor executor(io, settings);
    executor.execute(action, [&result](const ActionResult& r) { result = r; });
    io.run();
  }
  return result;
}

}  // namespace vigil::executor
