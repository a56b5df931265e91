// `vigil ra …` against crmsh's own output (../shared/reference-output) and `vigil resource exec`
// with real agents.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

const std::string kTestAgents = VIGIL_SOURCE_DIR "/tests/executor/data";

bool installed(const char* agent) {
  return ::access((std::string("/usr/lib/ocf/resource.d/heartbeat/") + agent).c_str(), X_OK) == 0;
}

// A reference transcript without its "$ command" first line, its "[exit N]" last line and the
// noise of crmsh's pipe to head.
std::vector<std::string> reference(const std::string& name) {
  std::ifstream in(std::string(VIGIL_SHARED_DIR) + "/reference-output/" + name);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("$ ", 0) == 0 || line.rfind("[exit ", 0) == 0) continue;
    if (line.rfind("Exception ignored", 0) == 0 || line.rfind("BrokenPipeError", 0) == 0) continue;
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> lines_of(const std::string& text, std::size_t max) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; lines.size() < max && std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Ra, ClassesShowsProvidersOfOcf) {
  auto r = run({"ra", "classes", "--ocf-root", kTestAgents + "/ocf"});
  EXPECT_EQ(r.code, 0) << r.err;
  // systemd follows when systemd runs on this machine.
  EXPECT_EQ(r.out.rfind("lsb\nocf / vigiltest\nservice\nstonith\n", 0), 0u) << r.out;
}

TEST(Ra, ListInCrmshColumns) {
  ::unsetenv("COLUMNS");  // crmsh's 80 columns when the width is unknown
  if (!installed("Dummy")) GTEST_SKIP() << "resource-agents is not installed";
  auto expected = reference("crm_ra_list_ocf_heartbeat_head.txt");
  auto r = run({"ra", "list", "ocf", "heartbeat"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out, expected.size()), expected);
}

TEST(Ra, ListOfTheTestsAgents) {
  ::unsetenv("COLUMNS");
  auto r = run({"ra", "list", "ocf", "vigiltest", "--ocf-root", kTestAgents + "/ocf"});
  EXPECT_EQ(r.code, 0) << r.err;
  // crmsh's layout: at least 8 wide plus a gap of 2, 80 columns; the last of a row unpadded.
  EXPECT_EQ(r.out, "barrier   env       hang      noisy     noop      \n");
  auto bad = run({"ra", "list", "ocf", "nobody"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "ERROR: there is no provider nobody for class ocf\n");
}

TEST(Ra, InfoIpaddr2AsCrmshShowsIt) {
  if (!installed("IPaddr2")) GTEST_SKIP() << "resource-agents is not installed";
  auto expected = reference("crm_ra_info_IPaddr2_head40.txt");
  auto r = run({"ra", "info", "ocf:heartbeat:IPaddr2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out, expected.size()), expected);
}

TEST(Ra, InfoApacheAsCrmshShowsIt) {
  if (!installed("apache")) GTEST_SKIP() << "resource-agents is not installed";
  // The agent derives configfile's default from the Apache installation it finds.
  auto without_configfile = [](std::vector<std::string> lines) {
    std::erase_if(lines, [](const std::string& l) { return l.rfind("configfile (", 0) == 0; });
    return lines;
  };
  auto expected = without_configfile(reference("crm_ra_info_apache.txt"));
  auto r = run({"ra", "info", "apache"});  // no class: ocf, provider heartbeat
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(without_configfile(lines_of(r.out, 1000)), expected);
}

TEST(Ra, MetaPrintsTheRawXml) {
  auto r = run({"ra", "meta", "stonith:fence_vigiltest", "--ocf-root", kTestAgents + "/ocf"});
  // The fence directory is not configurable from the CLI; Debian's agents are in /usr/sbin.
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("fence_vigiltest"), std::string::npos);
  if (!installed("Dummy")) GTEST_SKIP() << "resource-agents is not installed: no Dummy to show";
  auto dummy = run({"ra", "meta", "ocf:heartbeat:Dummy"});
  EXPECT_EQ(dummy.code, 0);
  EXPECT_NE(dummy.out.find("<resource-agent name=\"Dummy\""), std::string::npos);
}

TEST(ResourceExec, DummyThroughItsLifeCycle) {
  if (!installed("Dummy")) GTEST_SKIP() << "resource-agents is not installed";
  std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-exec-cli-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  std::vector<int> codes;
  for (const char* step : {"start", "monitor", "stop", "monitor"}) {
    auto r = run({"resource", "exec", "ocf:heartbeat:Dummy", step, "--id", "d9", "--run-dir", dir});
    codes.push_back(r.code);
    EXPECT_EQ(
        r.out.rfind(std::string("Operation ") + step + " for d9 (ocf:heartbeat:Dummy) returned: '",
                    0),
        0u)
        << r.out;
  }
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 0, 7}));
  std::filesystem::remove_all(dir);
}

TEST(ResourceExec, TimeoutAndOutput) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-exec-cli-XXXXXX").string();
  std::string dir = ::mkdtemp(tmpl.data());
  auto r = run({"resource", "exec", "ocf:vigiltest:hang", "start", "--timeout", "200ms",
                "--ocf-root", kTestAgents + "/ocf", "--run-dir", dir});
  EXPECT_EQ(r.code, 124);
  EXPECT_NE(r.out.find("timed out after 200ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" >  stdout: started\n"), std::string::npos) << r.out;
  auto bad = run({"resource", "exec", "ocf:vigiltest:env", "monitor", "novalue", "--ocf-root",
                  kTestAgents + "/ocf", "--run-dir", dir});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("'novalue': expected name=value"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::cli
