// executor: runs resource agents — OCF scripts, LSB init scripts, systemd units, fence agents —
// as child processes, each in its own process group with the operation's timeout, and maps what
// they return to OCF results. It lives in the daemon's asio event loop: processes are reaped
// through a pidfd, pipes and timers are asio objects, nothing blocks. Actions on one resource run
// one at a time; different resources run in parallel up to a limit. Recurring monitors report
// only changes. Meta-data is parsed into AgentMetadata, against which a primitive's parameters are
// checked. Not a pure module: it spawns processes and reads the agent directories.
#pragma once

#include <asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/agent_spec.h"
#include "common/common.h"

namespace vigil::executor {

using vigil::AgentClass;
using vigil::AgentSpec;
using vigil::class_name;

// OCF exit codes (the OCF resource agent API); every standard is mapped onto these.
enum class OcfCode : int {
  Ok = 0,
  Error = 1,
  InvalidArgs = 2,
  Unimplemented = 3,
  InsufficientPrivileges = 4,
  NotInstalled = 5,
  NotConfigured = 6,
  NotRunning = 7,
  RunningPromoted = 8,
  FailedPromoted = 9,
};
// Pacemaker's words for a code ("ok", "not running" …), as crm_mon prints them.
std::string_view describe(OcfCode code);

// How an action ended, apart from the agent's answer.
enum class ExecStatus {
  Done,         // the agent ran and exited; `rc` is its answer
  Timeout,      // killed at the operation's timeout; rc is Error
  Cancelled,    // a recurring operation that was cancelled (by `cancel` or by a stop)
  NotExecuted,  // could not be started (agent missing, not executable, bad name); see `reason`
};
std::string_view describe(ExecStatus status);

struct ResourceAction {
  std::string resource;  // the resource's id: OCF_RESOURCE_INSTANCE
  AgentSpec agent;
  std::string name;     // start, stop, monitor, meta-data, validate-all, promote, on, off …
  Millis interval = 0;  // of a recurring monitor; 0 for one-shot actions
  Millis timeout = 20000;
  std::map<std::string, std::string> params;  // instance attributes: OCF_RESKEY_<name>
  std::map<std::string, std::string> meta;    // more OCF_RESKEY_CRM_meta_<name> values
};

struct ActionResult {
  ExecStatus status = ExecStatus::Done;
  OcfCode rc = OcfCode::Error;
  int exit_status = -1;  // the process's own exit status, -1 when it died of a signal
  int signal = 0;        // the signal that ended it, 0 when it exited
  Millis duration = 0;
  int pid = 0;                  // the agent's process (and process group) id; 0 when none ran
  std::string out;              // stdout, at most Settings::output_cap bytes
  std::string err;              // stderr, likewise
  std::size_t out_dropped = 0;  // bytes beyond the cap, counted and discarded
  std::size_t err_dropped = 0;
  std::string reason;  // why it was not executed, or how it was killed
};

// Why an action failed, as the CIB records it (exit-reason): the last "ocf-exit-reason:<text>" line
// an OCF agent wrote on stderr, else the executor's own reason. Characters XML does not allow
// (an agent may print anything) are replaced, so the CIB takes the record.
std::string exit_reason(const ActionResult& result);

struct Settings {
  std::string ocf_root = "/usr/lib/ocf";
  std::string lsb_dir = "/etc/init.d";
  std::string fence_dir = "/usr/sbin";
  // The node's own runtime directory; agents keep state in <run_dir>/rsctmp (HA_RSCTMP), so
  // several nodes on one machine do not see each other's resources.
  std::string run_dir = "/run/vigil";
  std::string systemctl = "systemctl";
  std::string systemd_run_dir = "/run/systemd/system";  // exists when systemd is PID 1
  std::size_t concurrency = 8;         // agents running at once, over all resources
  std::size_t output_cap = 64 * 1024;  // per stream
  Millis kill_grace = 2000;            // SIGTERM → SIGKILL of the group after a timeout
};

// An alert agent (Pacemaker's alerts): `path` run with the daemon's environment and `env` added.
struct AlertAction {
  std::string path;
  std::vector<std::pair<std::string, std::string>> env;
  Millis timeout = 30000;
};

using RecurringId = std::uint64_t;
struct AgentMetadata;

class Executor {
 public:
  using Callback = std::function<void(const ActionResult&)>;

  Executor(asio::io_context& io, Settings settings);
  // Ends every agent still running (SIGKILL to its group) and reaps it; pending callbacks are
  // dropped.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues one action; `done` runs on the io_context when it has finished. A stop first cancels
  // the resource's recurring operations.
  void execute(ResourceAction action, Callback done);

  // Runs an alert agent at once, outside the action queue and its concurrency limit, so that a
  // slow agent never holds a resource action back; killed (its group) at the alert's timeout.
  // `done` sees Done with the agent's exit status, Timeout, or NotExecuted (no such agent).
  void alert(const AlertAction& alert, Callback done);

  // Runs `monitor` every action.interval, the first time after `start_delay`. `on_change` sees
  // the first result and then only results whose (status, rc) differ from the previous one, and
  // a final Cancelled result when the operation is cancelled.
  RecurringId start_recurring(ResourceAction monitor, Millis start_delay, Callback on_change);
  // False when no such recurring operation exists (any more).
  bool cancel(RecurringId id);
  // Cancels every recurring operation of a resource.
  void cancel_resource(const std::string& resource);

  // The agent's meta-data: run once per agent, then kept for the Executor's life. `done` runs on
  // the io_context.
  using MetadataCallback = std::function<void(const Result<const AgentMetadata*>&)>;
  void metadata(const AgentSpec& agent, MetadataCallback done);

  std::size_t running() const;
  std::size_t queued() const;
  const Settings& settings() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// ---- daemons that agents leave behind ----

// A start may leave a daemon running after its agent exits (vigil-webserver, httpd, ...). Made a
// child subreaper, this process inherits those daemons once orphaned, as it would if it were init;
// it must then reap them when they exit, or they stay zombies that `kill -0 PID` (and so an
// agent's monitor) still finds, wherever PID 1 does not reap (many containers).
Result<void> become_subreaper();
// Reaps every exited child that no running action waits for (call it on SIGCHLD); how many. The
// executor's own agents are left to the actions that wait for them; any other child this process
// means to wait for itself must not exist (vigild starts processes only through the executor).
std::size_t reap_orphans();

// Runs one action to its end on a private io_context (for the CLI and for configuration checks).
ActionResult run_action(const Settings& settings, const ResourceAction& action);

// ---- meta-data ----

struct ParameterInfo {
  std::string name;
  std::string type;  // string, integer, boolean, select …
  std::optional<std::string> default_value;
  bool required = false;
  bool unique = false;
  bool deprecated = false;
  std::string shortdesc;
  std::string longdesc;
};

struct ActionInfo {
  std::string name;
  // Every attribute but name, in document order (timeout, interval, depth, role, start-delay …),
  // the way `ra info` prints them.
  std::vector<std::pair<std::string, std::string>> attributes;
  Millis timeout = 0;  // 0 when the agent gives none
  Millis interval = 0;
};

struct AgentMetadata {
  std::string agent;  // "ocf:heartbeat:IPaddr2"
  std::string version;
  std::string shortdesc;
  std::string longdesc;
  std::vector<ParameterInfo> parameters;  // document order
  std::vector<ActionInfo> actions;        // document order
  std::string xml;                        // as the agent printed it

  const ParameterInfo* parameter(std::string_view name) const;
  const ActionInfo* action(std::string_view name) const;
};

// Parses an agent's meta-data XML; errors name the agent and the XML offset or element.
Result<AgentMetadata> parse_metadata(std::string_view xml, const std::string& agent);

// Pacemaker durations: "20", "20s", "500ms", "2m"/"2min", "1h"; a bare number is seconds.
Result<Millis> parse_duration(std::string_view text);

// A primitive's instance attributes against its agent: every name must be a parameter the agent
// declares, and every required parameter must be given. The error names parameter and agent.
Result<void> check_params(const AgentMetadata& metadata,
                          const std::map<std::string, std::string>& params);

// Meta-data fetched once per agent (by running `meta-data` with run_action) and kept.
class MetadataCache {
 public:
  explicit MetadataCache(Settings settings) : settings_(std::move(settings)) {}
  Result<const AgentMetadata*> get(const AgentSpec& agent);

 private:
  Settings settings_;
  std::map<AgentSpec, std::unique_ptr<AgentMetadata>> cache_;
};

// ---- what is installed ----

// The standards, sorted: lsb, ocf, service, stonith, and systemd when systemd is running.
std::vector<std::string> list_classes(const Settings& settings);
// Directories under <ocf_root>/resource.d, sorted (".isolation" included, as crmsh shows it).
std::vector<std::string> list_providers(const Settings& settings);
// The agents of a class (and provider, for ocf), sorted and without duplicates.
Result<std::vector<std::string>> list_agents(const Settings& settings, std::string_view standard,
                                             std::string_view provider = {});

}  // namespace vigil::executor
