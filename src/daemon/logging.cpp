#include "daemon/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace vigil::daemon {

namespace {

const std::vector<std::string>& subsystems() {
  static const std::vector<std::string> all{"MAIN", "TOTEM",   "QUORUM", "CPG",
                                            "KNET", "CONTROL", "CIB",    "CONTROLLER", "HTTP",
                                            "HISTORY", "JOIN"};
  return all;
}

int facility(const std::string& name) {
  static const std::map<std::string, int> known{{"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0},
                                                {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
                                                {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
                                                {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
                                                {"local7", LOG_LOCAL7}, {"user", LOG_USER}};
  auto it = known.find(name);
  return it == known.end() ? LOG_DAEMON : it->second;
}

spdlog::level::level_enum level_of(config::DebugLevel debug) {
  switch (debug) {
    case config::DebugLevel::off:
      return spdlog::level::info;
    case config::DebugLevel::on:
      return spdlog::level::debug;
    case config::DebugLevel::trace:
      return spdlog::level::trace;
  }
  return spdlog::level::info;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

Result<Logs> Logs::open(const config::Logging& settings, const std::string& node_name,
                        bool foreground) {
  Logs logs;
  logs.settings_ = settings;
  logs.node_name_ = node_name;
  logs.foreground_ = foreground;
  if (auto built = logs.build(); !built.ok()) return built.error();
  return logs;
}

Result<void> Logs::build() {
  std::vector<spdlog::sink_ptr> sinks;
  if (settings_.to_stderr && foreground_) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  if (settings_.to_logfile && !settings_.logfile.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings_.logfile));
    } catch (const spdlog::spdlog_ex& e) {
      return fail("logging: cannot open logfile " + settings_.logfile + ": " + e.what());
    }
  }
  if (settings_.to_syslog) {
    sinks.push_back(std::make_shared<spdlog::sinks::syslog_sink_mt>(
        "vigild", LOG_PID, facility(settings_.syslog_facility), false));
  }
  std::string time;
  switch (settings_.timestamp) {
    case config::Timestamp::off:
      break;
    case config::Timestamp::on:
      time = "%b %d %H:%M:%S ";
      break;
    case config::Timestamp::hires:
      time = "%b %d %H:%M:%S.%e ";
      break;
  }
  const std::string pattern = time + "[%P] " + node_name_ + " vigild %-7l [%-6n] %v";
  loggers_.clear();
  for (const auto& name : subsystems()) {
    auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
    logger->set_pattern(pattern);
    auto level = level_of(settings_.debug);
    for (const auto& sub : settings_.logger_subsys) {
      if (upper(sub.subsys) == name) level = level_of(sub.debug);
    }
    logger->set_level(level);
    logger->flush_on(spdlog::level::info);
    loggers_.push_back(std::move(logger));
  }
  return {};
}

std::shared_ptr<spdlog::logger> Logs::get(const std::string& subsystem) const {
  for (const auto& l : loggers_) {
    if (l->name() == subsystem) return l;
  }
  VIGIL_ASSERT(false && "unknown log subsystem");
  return nullptr;
}

Result<void> Logs::reopen() {
  // The loggers are shared by reference; rebuilding the sinks in place keeps every holder valid.
  std::vector<std::shared_ptr<spdlog::logger>> old = loggers_;
  if (auto built = build(); !built.ok()) {
    loggers_ = std::move(old);
    return built.error();
  }
  for (std::size_t i = 0; i < old.size(); ++i) {
    old[i]->sinks() = loggers_[i]->sinks();
  }
  loggers_ = std::move(old);
  return {};
}

void Logs::flush() const {
  for (const auto& l : loggers_) l->flush();
}

}  // namespace vigil::daemon
