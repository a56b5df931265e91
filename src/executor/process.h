// One agent process: spawned in its own process group with stdin from /dev/null (or a short
// input), stdout/stderr captured up to a cap, killed as a group at its timeout, reaped through a
// pidfd on the io_context. Internal to the executor.
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/common.h"

namespace vigil::executor {

struct Command {
  std::string path;               // the executable
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string input;              // written to stdin; empty means stdin is /dev/null
};

struct Limits {
  Millis timeout = 20000;
  Millis kill_grace = 2000;
  std::size_t output_cap = 64 * 1024;
};

struct Outcome {
  bool timed_out = false;
  bool cancelled = false;
  int exit_status = -1;
  int signal = 0;
  Millis duration = 0;
  int pid = 0;
  std::string out, err;
  std::size_t out_dropped = 0, err_dropped = 0;
};

// A handle; copies refer to the same process.
class AgentProcess {
 public:
  using Done = std::function<void(Outcome)>;

  // Starts the command; `done` runs on the io_context once the process is reaped. An error when
  // it could not be started (nothing is left running then).
  static Result<AgentProcess> spawn(asio::io_context& io, const Command& command,
                                    const Limits& limits, Done done);

  // Ends the process group as a timeout does (SIGTERM, then SIGKILL after the grace period);
  // the outcome says cancelled.
  void terminate();
  // SIGKILL to the group and a blocking reap, for shutdown; `done` is not called.
  void kill_now();

  pid_t pid() const;

  struct Impl;

 private:
  explicit AgentProcess(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace vigil::executor
