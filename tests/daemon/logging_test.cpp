// vigild's logs as JSON lines (logging.log_format: json, or --log-format json): every line one
// object with the time in UTC, the level, the subsystem, the node, the pid and the message, the
// message's quotes, backslashes and newlines escaped; and the same logs as text by default.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "daemon/logging.h"

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

config::Logging to_file(const fs::path& path, const std::string& format) {
  config::Logging l;
  l.to_stderr = false;
  l.to_syslog = false;
  l.to_logfile = true;
  l.logfile = path.string();
  l.log_format = format;
  return l;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("vigil-logging-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

TEST(Logging, JsonFormatWritesOneObjectALine) {
  const fs::path path = scratch("json.log");
  auto logs = Logs::open(to_file(path, "json"), "n1", false);
  ASSERT_TRUE(logs.ok()) << logs.error().message;
  logs->get("TOTEM")->info("A new membership ({}) was formed", "1.8");
  logs->get("CIB")->warn("odd \"quoted\" \\ text\nwith a second line");
  logs->get("CIB")->debug("not shown at the default level");
  logs->flush();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  const Json first = Json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["subsystem"], "TOTEM");
  EXPECT_EQ(first["node"], "n1");
  EXPECT_EQ(first["pid"], ::getpid());
  EXPECT_EQ(first["message"], "A new membership (1.8) was formed");
  const std::string time = first["time"];  // 2026-12-06T06:30:01.123Z
  EXPECT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time.substr(10, 1) + time.substr(19, 1) + time.substr(23), "T.Z") << time;
  const Json second = Json::parse(lines[1]);
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["message"], "odd \"quoted\" \\ text\nwith a second line");
}

TEST(Logging, TextIsTheDefault) {
  const fs::path path = scratch("text.log");
  auto logs = Logs::open(to_file(path, config::Logging{}.log_format), "n1", false);
  ASSERT_TRUE(logs.ok()) << logs.error().message;
  logs->get("TOTEM")->info("A new membership ({}) was formed", "1.8");
  logs->flush();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("n1 vigild info    [TOTEM ] A new membership (1.8) was formed"),
            std::string::npos)
      << lines[0];
}

}  // namespace
}  // namespace vigil::daemon
