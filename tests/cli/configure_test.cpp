// `vigil configure`, run in-process on a CIB file: the guide's commands one by one, show in
// crmsh's layout, bad commands that change nothing, piped sessions, erase's question.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out, err;
};

class ConfigureCli : public ::testing::Test {
 public:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-configure-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cib_ = dir_ / "cib.xml";
    ::setenv("CIB_file", cib_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CIB_file");
    fs::remove_all(dir_);
  }

 public:
  // `vigil configure ARGS…` with `input` on stdin.
  static Outcome configure(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "configure");
    std::istringstream in(input);
    auto* saved = std::cin.rdbuf(in.rdbuf());
    std::ostringstream out, err;
    Cli cli(out, err);
    add_all_commands(cli);
    const int code = cli.run(args);
    std::cin.rdbuf(saved);
    return {code, out.str(), err.str()};
  }

  std::string on_disk() const {
    std::ifstream f(cib_, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  fs::path dir_, cib_;
};

const char* kGuideShow =
    "primitive httpd lsb:apache2\n"
    "primitive vip IPaddr \\\n"
    "\tparams ip=172.16.35.20 nic=eth2 cidr_netmask=24 \\\n"
    "\top monitor interval=10s timeout=20s on-fail=restart\n"
    "group webservice vip httpd\n"
    "property cib-bootstrap-options: \\\n"
    "\tstonith-enabled=false \\\n"
    "\tno-quorum-policy=ignore\n";

void enter_guide_commands() {
  const std::vector<std::vector<std::string>> commands = {
      {"primitive", "vip", "ocf:heartbeat:IPaddr", "params", "ip=172.16.35.20", "nic=eth2",
       "cidr_netmask=24", "op", "monitor", "interval=10s", "timeout=20s", "on-fail=restart"},
      {"primitive", "httpd", "lsb:apache2"},
      {"group", "webservice", "vip", "httpd"},
      {"property", "stonith-enabled=false"},
      {"property", "no-quorum-policy=ignore"},
  };
  for (const auto& c : commands) {
    auto r = ConfigureCli::configure(c);
    EXPECT_EQ(r.code, 0) << r.err;
  }
}

TEST_F(ConfigureCli, GuideCommandsOneByOneThenShow) {
  enter_guide_commands();
  auto shown = configure({"show"});
  EXPECT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(shown.out, kGuideShow);
  // Each command was its own commit: five configuration changes.
  auto xml = configure({"show", "xml"});
  EXPECT_NE(xml.out.find("epoch=\"5\""), std::string::npos) << xml.out;
  EXPECT_TRUE(fs::exists(cib_.string() + ".sig"));
  // What show prints is a script that rebuilds the same configuration.
  ::setenv("CIB_file", (dir_ / "copy.xml").c_str(), 1);
  auto rebuilt = configure({}, shown.out);
  EXPECT_EQ(rebuilt.code, 0) << rebuilt.err;
  EXPECT_EQ(configure({"show"}).out, kGuideShow);
}

TEST_F(ConfigureCli, BadCommandsChangeNothing) {
  enter_guide_commands();
  const std::string before = on_disk();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"primitive", "vip", "Dummy"}, "word 2 ('vip'): id 'vip' is already in use"},
      {{"primitive", "x", "ocf:heartbeat:Dummy", "op", "jump"}, "word 5 ('jump')"},
      {{"group", "g2", "vip"}, "'vip' is already in group 'webservice'"},
      {{"location", "l1", "nothing", "100:", "node1"}, "word 3 ('nothing'): no such resource"},
      {{"colocation", "c1", "inf:", "vip"}, "end of command"},
      {{"order", "o1", "Sometimes:", "vip", "httpd"}, "word 3 ('Sometimes:')"},
      {{"delete", "ghost"}, "word 2 ('ghost'): no such object"},
      {{"show", "ghost"}, "object ghost does not exist"},
  };
  for (const auto& c : cases) {
    auto r = configure(c.args);
    EXPECT_EQ(r.code, 1) << c.error;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(on_disk(), before) << c.error;
  }
}

TEST_F(ConfigureCli, CibOptionNamesTheFile) {
  // Without a file the running vigild is asked; an unreachable one is named.
  ::unsetenv("CIB_file");
  const std::string socket = (dir_ / "no-vigild.sock").string();
  ::setenv("VIGIL_SOCKET", socket.c_str(), 1);
  auto none = configure({"show"});
  ::unsetenv("VIGIL_SOCKET");
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find(socket), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("--cib FILE or set CIB_file"), std::string::npos) << none.err;
  const std::string other = (dir_ / "other.xml").string();
  EXPECT_EQ(configure({"--cib", other, "primitive", "d", "Dummy"}).code, 0);
  EXPECT_EQ(configure({"--cib", other, "show"}).out, "primitive d Dummy\n");
  // Scores that look like options reach the grammar.
  EXPECT_EQ(configure({"--cib", other, "location", "l", "d", "-inf:", "node1"}).code, 0);
  EXPECT_EQ(configure({"--cib", other, "show", "l"}).out, "location l d -inf: node1\n");
}

TEST_F(ConfigureCli, PipedSessionStagesUntilCommitAndCommitsAtTheEnd) {
  auto r = configure({}, "primitive a Dummy\nprimitive b Dummy\nshow\ncommit\nprimitive c Dummy\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "primitive a Dummy\nprimitive b Dummy\n");
  EXPECT_EQ(configure({"show"}).out, "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\n");
  // An explicit commit makes one version of two commands, the end of input another.
  EXPECT_NE(configure({"show", "xml"}).out.find("epoch=\"2\""), std::string::npos);
}

TEST_F(ConfigureCli, PipedSessionWithABadCommandFails) {
  auto r = configure({}, "primitive a Dummy\nprimitive a Dummy\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already in use"), std::string::npos);
  EXPECT_EQ(configure({"show"}).out, "primitive a Dummy\n");
}

TEST_F(ConfigureCli, EraseAsksFirst) {
  enter_guide_commands();
  const std::string before = on_disk();
  auto no = configure({"erase"}, "n\n");
  EXPECT_NE(no.out.find("Do you really want to erase the whole configuration (y/n)? n"),
            std::string::npos);
  EXPECT_EQ(on_disk(), before);
  auto nothing = configure({"erase"}, "");  // no answer is no
  EXPECT_EQ(on_disk(), before);
  auto yes = configure({"erase"}, "y\n");
  EXPECT_EQ(yes.code, 0) << yes.err;
  EXPECT_EQ(configure({"show"}).out, "");
  enter_guide_commands();
  EXPECT_EQ(configure({"--force", "erase"}).code, 0);
  EXPECT_EQ(configure({"show"}).out, "");
}

TEST_F(ConfigureCli, VerifyReportsProblemsByElement) {
  std::ofstream(cib_) << "<cib epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\"><configuration>"
                         "<crm_config/><nodes/><resources/><constraints><rsc_location id=\"l\" "
                         "rsc=\"gone\" node=\"n\" score=\"1\"/></constraints></configuration>"
                         "<status/></cib>";
  // An invalid file is not loaded at all: the error says why.
  auto r = configure({"verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("<rsc_location id='l'>: rsc 'gone' is not a resource"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vigil::cli
