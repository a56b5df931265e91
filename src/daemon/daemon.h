// daemon: vigild's shell. It owns every piece of I/O — sockets, timers, child processes, files,
// signals — and feeds the pure cores (totem, quorum, groups, later cib, scheduler, controller)
// their inputs, carrying out the effects they return.
//
// One asio loop, one thread: datagrams from the links and timer expiries become Ring inputs; the
// Ring's frames go out on the links, its deliveries and configuration changes feed the process
// groups and votequorum; the control socket answers the CLI; SIGTERM leaves the ring cleanly,
// SIGHUP reopens the logs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/common.h"
#include "groups/groups.h"

namespace vigil::daemon {

struct Options {
  std::string config;  // corosync.conf syntax; empty: the default path
  std::string node;    // which nodelist entry this process is: name, node id or ring0_addr
  std::string state_dir = "/var/lib/vigil";
  std::string run_dir = "/run/vigil";
  std::string http;  // ADDRESS:PORT to serve /metrics on; empty: no HTTP
  // Where `http` was given, for messages: the flag, or the config file's "FILE:LINE: http.listen".
  std::string http_source = "--http";
  bool http_actions = false;  // the status page may act (page/page.h), after a login
  std::string http_actions_source = "--http-actions";  // as http_source, for http_actions
  std::string log_format;  // "text" or "json"; empty: logging.log_format of the config
  bool foreground = false;
};

// The cluster as the layers inside vigild (CIB, controller) see it: closed process groups with
// messages in total order, interleaved with configuration changes (Corosync's CPG, in-process).
class Groups {
 public:
  using Listener = std::function<void(const groups::GroupEvent&)>;
  virtual ~Groups() = default;
  // Joins `group` as this node's member `pid`; its events reach `listener` in ring order,
  // starting with the configuration change that shows the join.
  virtual Result<void> join(const std::string& group, std::uint32_t pid, Listener listener) = 0;
  virtual Result<void> send(const std::string& group, std::uint32_t pid,
                            std::span<const std::uint8_t> data) = 0;
  virtual Result<void> leave(const std::string& group, std::uint32_t pid) = 0;
};

class Daemon;
struct DaemonDeleter {
  void operator()(Daemon* daemon) const;
};
using DaemonPtr = std::unique_ptr<Daemon, DaemonDeleter>;

// Builds a daemon: loads the configuration, opens the logs, binds the links and the control
// socket, writes the pid file and starts the ring. Fails with a message naming what is wrong.
Result<DaemonPtr> start(const Options& options);
// Runs the loop until SIGTERM/SIGINT or a `shutdown` request; returns the exit code.
int run(Daemon& daemon);
Groups& groups_of(Daemon& daemon);
// Runs `work` on the daemon's loop (the only thread that may use its Groups).
void post(Daemon& daemon, std::function<void()> work);
// Leaves the ring and ends run(), as SIGTERM does; callable from any thread.
void stop(Daemon& daemon);

int main(int argc, char** argv);

}  // namespace vigil::daemon
