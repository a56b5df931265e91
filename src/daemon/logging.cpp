#include "daemon/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

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

// One JSON object a line. The time is UTC with milliseconds (RFC 3339), whatever `timestamp`
// says: a shipper needs it unambiguous.
class JsonLine final : public spdlog::formatter {
 public:
  explicit JsonLine(std::string node) : node_(std::move(node)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        msg.time.time_since_epoch())
                        .count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char time[40];
    const auto used = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(time + used, sizeof time - used, ".%03dZ", static_cast<int>(ms % 1000));
    const auto level = spdlog::level::to_string_view(msg.level);
    const nlohmann::json line{{"time", time},
                              {"level", std::string(level.data(), level.size())},
                              {"subsystem", std::string(msg.logger_name.data(),
                                                        msg.logger_name.size())},
                              {"node", node_},
                              {"pid", ::getpid()},
                              {"message", std::string(msg.payload.data(), msg.payload.size())}};
    // Bytes that are not UTF-8 (an agent's output, a peer's name) become U+FFFD, not a throw.
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLine>(node_);
  }

 private:
  std::string node_;
};

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
    if (settings_.log_format == "json") {
      logger->set_formatter(std::make_unique<JsonLine>(node_name_));
    } else {
      logger->set_pattern(pattern);
    }
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
