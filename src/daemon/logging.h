// daemon/logging: the logging {} section of corosync.conf on spdlog. One logger per subsystem
// (MAIN, TOTEM, QUORUM, CPG, KNET, CONTROL, CIB, CONTROLLER) sharing the sinks the section asks
// for: stderr, logfile, syslog (with its facility). timestamp off|on|hires picks the time prefix;
// debug and logger_subsys { subsys: … debug: … } set each subsystem's level. SIGHUP reopens the
// logfile. log_format: json (vigil's key, or `vigild --log-format json`) writes each line as one
// JSON object instead — {"time", "level", "subsystem", "node", "pid", "message"} — for log
// shippers that would otherwise parse the text back apart.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "common/common.h"
#include "config/config.h"

namespace vigil::daemon {

class Logs {
 public:
  // `foreground`: stderr is only written while vigild has a terminal to write to.
  static Result<Logs> open(const config::Logging& settings, const std::string& node_name,
                           bool foreground);
  std::shared_ptr<spdlog::logger> get(const std::string& subsystem) const;
  // Closes and reopens the logfile (after logrotate moved it).
  Result<void> reopen();
  void flush() const;

 private:
  Result<void> build();
  config::Logging settings_;
  std::string node_name_;
  bool foreground_ = false;
  std::vector<std::shared_ptr<spdlog::logger>> loggers_;
};

}  // namespace vigil::daemon
