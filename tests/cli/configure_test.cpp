// `vigil configure`, run in-process on a CIB file: the guide's commands one by one, show in
// crmsh's layout, bad commands that change nothing, piped sessions, erase's question.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../pacemaker_schema.h"
#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

// Without a fence device crmsh refuses a commit that leaves primitives Pacemaker would not start
// unless forced: tests about other things commit their first primitives with -F.
class ConfigureCli : public ::testing::Test {
 public:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-configure-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cib_ = dir_ / "cib.xml";
    ::setenv("CIB_file", cib_.c_str(), 1);
  }
  // Whatever a test left in the CIB file is a CIB Pacemaker reads.
  void TearDown() override {
    if (fs::exists(cib_)) {
      EXPECT_EQ(pacemaker_schema::errors(on_disk()), "");
    }
    ::unsetenv("CIB_file");
    fs::remove_all(dir_);
  }

 public:
  // `vigil configure ARGS…` with `input` on stdin.
  static Outcome configure(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "configure");
    std::istringstream in(input);
    auto* saved = std::cin.rdbuf(in.rdbuf());
    auto outcome = run(args);
    std::cin.rdbuf(saved);
    return outcome;
  }

  // Each command is refused (exit 1) with an error holding `error`, and the CIB stays as it was.
  struct Refusal {
    std::vector<std::string> args;
    std::string error;
  };
  void expect_refused(const std::vector<Refusal>& cases) const {
    const std::string before = on_disk();
    for (const auto& c : cases) {
      auto r = configure(c.args);
      EXPECT_EQ(r.code, 1) << c.error;
      EXPECT_NE(r.err.find("ERROR: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
      EXPECT_EQ(on_disk(), before) << c.error;
    }
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

// In the guide's order: without a fence device, stonith off first (crmsh refuses a primitive
// Pacemaker could never start).
void enter_guide_commands() {
  const std::vector<std::vector<std::string>> commands = {
      {"property", "stonith-enabled=false"},
      {"property", "no-quorum-policy=ignore"},
      {"primitive", "vip", "ocf:heartbeat:IPaddr", "params", "ip=172.16.35.20", "nic=eth2",
       "cidr_netmask=24", "op", "monitor", "interval=10s", "timeout=20s", "on-fail=restart"},
      {"primitive", "httpd", "lsb:apache2"},
      {"group", "webservice", "vip", "httpd"},
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
  expect_refused({
      {{"primitive", "vip", "Dummy"}, "word 2 ('vip'): id 'vip' is already in use"},
      {{"primitive", "x", "ocf:heartbeat:Dummy", "op", "jump"}, "word 5 ('jump')"},
      {{"group", "g2", "vip"}, "'vip' is already in group 'webservice'"},
      {{"location", "l1", "nothing", "100:", "node1"}, "word 3 ('nothing'): no such resource"},
      {{"colocation", "c1", "inf:", "vip"}, "end of command"},
      {{"order", "o1", "Sometimes:", "vip", "httpd"}, "word 3 ('Sometimes:')"},
      {{"delete", "ghost"}, "word 2 ('ghost'): no such object"},
      {{"show", "ghost"}, "object ghost does not exist"},
  });
}

// crmsh's checks against the agent's meta-data, and crm_verify's of durations and cluster
// options: each refuses the whole command with a message naming the word, and nothing changes.
TEST_F(ConfigureCli, ChecksRefuseTheWholeCommandNamingTheWord) {
  enter_guide_commands();
  expect_refused({
      {{"primitive", "d", "ocf:heartbeat:Dummmy"},
       "primitive d: ocf:heartbeat:Dummmy: got no meta-data, does this agent exist?"},
      {{"primitive", "d", "ocf:heartbeat:Dummy", "params", "nonsense=1"},
       "primitive d: parameter 'nonsense' is not a parameter of ocf:heartbeat:Dummy"},
      {{"primitive", "v", "ocf:heartbeat:IPaddr2", "params", "cidr_netmask=24"},
       "primitive v: required parameter 'ip' of ocf:heartbeat:IPaddr2 is missing"},
      {{"primitive", "d", "Dummy", "op", "monitor", "interval=abc"},
       "primitive d: op monitor: interval=abc: 'abc' is not a duration"},
      {{"primitive", "d", "Dummy", "op", "start", "timeout=20x"},
       "primitive d: op start: timeout=20x: '20x' is not a duration"},
      {{"property", "no-quorum-policy=ignor"},
       "property no-quorum-policy=ignor: 'ignor' is not one of stop, freeze, ignore, demote, "
       "suicide"},
      {{"property", "stonith-enabled=maybe"},
       "property stonith-enabled=maybe: 'maybe' is not a boolean"},
      {{"property", "cluster-recheck-interval=often"},
       "property cluster-recheck-interval=often: 'often' is not a duration"},
      {{"property", "batch-limit=many"}, "property batch-limit=many: 'many' is not an integer"},
      // One bad word among good ones: the good ones are not committed either.
      {{"property", "maintenance-mode=true", "stonith-enabled=maybe"}, "'maybe'"},
      {{"op_defaults", "timeout=soon"}, "op_defaults: timeout=soon: 'soon' is not a duration"},
      // Meta attributes Pacemaker reads with a type: its score, role and boolean words only.
      {{"primitive", "d", "Dummy", "meta", "resource-stickiness=abc"},
       "primitive d: resource-stickiness=abc: 'abc' is not an integer"},
      {{"primitive", "d", "Dummy", "meta", "target-role=Strated"},
       "primitive d: target-role=Strated: 'Strated' is not one of Stopped, Started"},
      {{"rsc_defaults", "migration-threshold=often"},
       "rsc_defaults: migration-threshold=often: 'often' is not an integer"},
      {{"alert", "a1", "/usr/share/pacemaker/alerts/alert_file.sh.sample", "meta", "timeout=abc",
        "to", "/tmp/alerts.log"},
       "alert a1: timeout=abc: 'abc' is not a duration"},
  });
  // Values Pacemaker accepts pass.
  for (const auto& good : std::vector<std::vector<std::string>>{
           {"primitive", "m", "Dummy", "meta", "target-role=stopped", "resource-stickiness=-INFINITY",
            "is-managed=yes", "failure-timeout=2min", "priority=2.0"},
           {"primitive", "n", "Dummy", "meta", "target-role=#default"},
           {"property", "no-quorum-policy=Freeze", "stonith-enabled=off", "batch-limit=-1"},
           {"property", "cluster-recheck-interval=PT5M", "load-threshold=80%"},
           {"primitive", "d", "Dummy", "op", "monitor", "interval=10s", "timeout=20000ms"}}) {
    auto r = configure(good);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
  }
}

// --force lets through what only the agent's meta-data speaks against, as crmsh's does; never a
// value Pacemaker would not read.
TEST_F(ConfigureCli, ForceOverridesTheAgentChecksOnly) {
  auto unknown = configure({"-F", "primitive", "d", "ocf:heartbeat:Dummmy"});
  EXPECT_EQ(unknown.code, 0) << unknown.err;
  EXPECT_NE(unknown.err.find("WARNING: primitive d: ocf:heartbeat:Dummmy: got no meta-data"),
            std::string::npos)
      << unknown.err;
  auto param = configure({"--force", "primitive", "e", "Dummy", "params", "nonsense=1"});
  EXPECT_EQ(param.code, 0) << param.err;
  EXPECT_NE(param.err.find("WARNING: primitive e: parameter 'nonsense'"), std::string::npos);
  auto interval = configure({"-F", "primitive", "f", "Dummy", "op", "monitor", "interval=abc"});
  EXPECT_EQ(interval.code, 1);
  EXPECT_EQ(configure({"show"}).out,
            "primitive d Dummmy\nprimitive e Dummy \\\n\tparams nonsense=1\n");
  // A later change to something else is not blocked by what is already there.
  auto later = configure({"property", "stonith-enabled=false"});
  EXPECT_EQ(later.code, 0) << later.err;
  EXPECT_EQ(later.err, "");
}

// crmsh's checks of operations against the agent's advice are warnings: the change is committed.
TEST_F(ConfigureCli, OperationsBelowTheAgentsAdviceWarnAsCrmshDoes) {
  ASSERT_EQ(configure({"property", "stonith-enabled=false"}).code, 0);
  auto ops = configure({"primitive", "d", "Dummy", "op", "monitor", "interval=10s", "timeout=5s",
                        "op", "monitor", "interval=10s", "role=Started", "op", "start",
                        "interval=5s", "op", "monitor", "interval=0", "timeout=20s"});
  EXPECT_EQ(ops.code, 0) << ops.err;
  for (const char* said :
       {"WARNING: primitive d: specified timeout 5s for monitor is smaller than the advised 20s\n",
        "WARNING: primitive d: interval in monitor must be unique, advised is 10s\n",
        "WARNING: primitive d: the interval of start is 5s, it must be 0\n",
        "WARNING: primitive d: interval in monitor should be larger than 0, advised is 10s\n"})
    EXPECT_NE(ops.err.find(said), std::string::npos) << said << ops.err;
  // Without a timeout of its own an op has op_defaults' (crmsh checks start and stop always).
  ASSERT_EQ(configure({"op_defaults", "timeout=3s"}).code, 0);
  auto defaults = configure({"primitive", "e", "Dummy"});
  EXPECT_EQ(defaults.code, 0) << defaults.err;
  EXPECT_NE(defaults.err.find("WARNING: primitive e: default timeout 3s for start is smaller than "
                              "the advised 20s"),
            std::string::npos)
      << defaults.err;
  EXPECT_NE(defaults.err.find("primitive e: default timeout 3s for stop"), std::string::npos);
  // At or above the advice, nothing is said.
  auto fine = configure({"primitive", "f", "Dummy", "op", "start", "timeout=20s", "op", "stop",
                         "timeout=1min", "op", "monitor", "interval=10s", "timeout=30s"});
  EXPECT_EQ(fine.code, 0) << fine.err;
  EXPECT_EQ(fine.err, "");
}

// A meta attribute one typo away from Pacemaker's is committed with a warning: agents may read
// names of their own, so only a near miss is worth saying.
TEST_F(ConfigureCli, AMetaAttributeNearAKnownNameWarns) {
  ASSERT_EQ(configure({"property", "stonith-enabled=false"}).code, 0);
  auto typo = configure({"primitive", "d", "Dummy", "meta", "resource-stikiness=100"});
  EXPECT_EQ(typo.code, 0) << typo.err;
  EXPECT_NE(typo.err.find("WARNING: primitive d: meta resource-stikiness=100: unknown meta "
                          "attribute (did you mean resource-stickiness?)"),
            std::string::npos)
      << typo.err;
  auto own = configure({"primitive", "e", "Dummy", "meta", "my-agent-setting=1"});
  EXPECT_EQ(own.code, 0) << own.err;
  EXPECT_EQ(own.err, "");
}

// An unknown cluster option is committed with a warning (crm_verify warns too) that says how to
// take it out again.
TEST_F(ConfigureCli, UnknownClusterOptionWarnsAndPropertyDeleteRemovesIt) {
  auto typo = configure({"property", "stonith-enable=false"});
  EXPECT_EQ(typo.code, 0) << typo.err;
  EXPECT_NE(typo.err.find("WARNING: property stonith-enable=false: unknown cluster option (did "
                          "you mean stonith-enabled?); remove it with: vigil configure property "
                          "--delete stonith-enable"),
            std::string::npos)
      << typo.err;
  ASSERT_EQ(configure({"property", "no-quorum-policy=ignore"}).code, 0);
  auto removed = configure({"property", "--delete", "stonith-enable"});
  EXPECT_EQ(removed.code, 0) << removed.err;
  EXPECT_EQ(configure({"show"}).out, "property cib-bootstrap-options: \\\n\tno-quorum-policy=ignore\n");
  auto again = configure({"property", "--delete", "stonith-enable"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("word 3 ('stonith-enable'): not set in crm_config"), std::string::npos)
      << again.err;
}

// `configure verify` runs every check over the whole configuration, as crm_verify -L does.
TEST_F(ConfigureCli, VerifyRunsEveryCheck) {
  std::ofstream(cib_) << "<cib epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\"><configuration>"
                         "<crm_config><cluster_property_set id=\"o\">"
                         "<nvpair id=\"o1\" name=\"no-quorum-policy\" value=\"ignor\"/>"
                         "<nvpair id=\"o2\" name=\"stonith-enable\" value=\"false\"/>"
                         "</cluster_property_set></crm_config><nodes/><resources>"
                         "<primitive id=\"d\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummmy\"/>"
                         "<primitive id=\"v\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\">"
                         "<operations><op id=\"v-m\" name=\"monitor\" interval=\"abc\"/></operations>"
                         "</primitive></resources><constraints/></configuration><status/></cib>";
  auto r = configure({"verify"});
  EXPECT_EQ(r.code, 1);
  for (const char* expected :
       {"ERROR: property no-quorum-policy=ignor: 'ignor' is not one of",
        "WARNING: property stonith-enable=false: unknown cluster option",
        "ERROR: primitive d: ocf:heartbeat:Dummmy: got no meta-data",
        "ERROR: primitive v: op monitor: interval=abc: 'abc' is not a duration",
        "ERROR: primitive v: required parameter 'ip' of ocf:heartbeat:IPaddr2 is missing",
        "ERROR: stonith-enabled is true but no stonith resource is configured"}) {
    EXPECT_NE(r.err.find(expected), std::string::npos) << expected << " in " << r.err;
  }
}

TEST_F(ConfigureCli, VerifyOfAGoodConfigurationPasses) {
  enter_guide_commands();
  auto r = configure({"verify"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
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
  auto missing = configure({"--cib", other, "show"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find(other + ": no such CIB file"), std::string::npos) << missing.err;
  EXPECT_EQ(configure({"--cib", other, "-F", "primitive", "d", "Dummy"}).code, 0);
  EXPECT_EQ(configure({"--cib", other, "show"}).out, "primitive d Dummy\n");
  // Scores that look like options reach the grammar.
  EXPECT_EQ(configure({"--cib", other, "location", "l", "d", "-inf:", "node1"}).code, 0);
  EXPECT_EQ(configure({"--cib", other, "show", "l"}).out, "location l d -inf: node1\n");
}

TEST_F(ConfigureCli, PipedSessionStagesUntilCommitAndCommitsAtTheEnd) {
  auto r = configure({"-F"}, "primitive a Dummy\nprimitive b Dummy\nshow\ncommit\nprimitive c Dummy\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "primitive a Dummy\nprimitive b Dummy\n");
  EXPECT_EQ(configure({"show"}).out, "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\n");
  // An explicit commit makes one version of two commands, the end of input another.
  EXPECT_NE(configure({"show", "xml"}).out.find("epoch=\"2\""), std::string::npos);
}

TEST_F(ConfigureCli, PipedSessionWithABadCommandFails) {
  auto r = configure({"-F"}, "primitive a Dummy\nprimitive a Dummy\n");
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
  // The file is this test's own invalid input, not a CIB vigil wrote: TearDown's check skips it.
  fs::remove(cib_);
}

// A file in the test's directory with `text`; its path.
std::string file_with(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

TEST_F(ConfigureCli, LoadUpdateReplacesWhatItNamesAndAddsTheRest) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\nprimitive b Dummy params fake=1\ngroup g a b\n"
                          "property stonith-enabled=false\n").code, 0);
  // The group comes before its members, b is defined again inside g, the property set merges.
  const auto file = file_with(dir_, "update.crm",
                                      "group g2 c d\nprimitive c Dummy\nprimitive d Dummy\n"
                                      "primitive b Dummy params fake=2\n"
                                      "property no-quorum-policy=ignore\n");
  auto r = configure({"load", "update", file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(configure({"show"}).out,
            "primitive a Dummy\nprimitive b Dummy \\\n\tparams fake=2\nprimitive c Dummy\n"
            "primitive d Dummy\ngroup g a b\ngroup g2 c d\nproperty cib-bootstrap-options: \\\n"
            "\tstonith-enabled=false \\\n\tno-quorum-policy=ignore\n");
  // From standard input.
  EXPECT_EQ(configure({"load", "update", "-"}, "primitive e Dummy\n").code, 0);
  EXPECT_NE(configure({"show"}).out.find("primitive e Dummy"), std::string::npos);
}

TEST_F(ConfigureCli, LoadReplaceKeepsTheNodesOnly) {
  ASSERT_EQ(configure({"-F"}, "node node1\nprimitive a Dummy\nproperty maintenance-mode=true\n").code, 0);
  const auto file = file_with(dir_, "all.crm", "primitive b Dummy\n");
  auto r = configure({"load", "replace", file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(configure({"show"}).out, "node node1\nprimitive b Dummy\n");
}

TEST_F(ConfigureCli, LoadRefusesAFileWithAnErrorWhole) {
  ASSERT_EQ(configure({"-F", "primitive", "a", "Dummy"}).code, 0);
  const std::string before = on_disk();
  const auto file =
      file_with(dir_, "bad.crm", "primitive c Dummy\n\nprimitive d\nlocation x\n");
  auto r = configure({"load", "update", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(file + ":3: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":4: "), std::string::npos) << r.err;
  EXPECT_EQ(on_disk(), before);
  expect_refused({{{"load", "update", (dir_ / "missing.crm").string()}, "missing.crm: cannot open: No such file or directory"},
                  {{"load", "merge", file}, "unknown method merge"},
                  {{"load", "update"}, "usage: load"}});
}

TEST_F(ConfigureCli, LoadXmlUpdatesObjectsById) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\nprimitive b Dummy params fake=1\ngroup g a b\n").code, 0);
  const auto file = file_with(
      dir_, "load.xml",
      "<cib><configuration><crm_config/><nodes/><resources><primitive id=\"z\" class=\"ocf\" "
      "provider=\"heartbeat\" type=\"Dummy\"/><primitive id=\"b\" class=\"ocf\" "
      "provider=\"heartbeat\" type=\"Dummy\"/></resources><constraints/></configuration></cib>");
  auto r = configure({"load", "xml", "update", file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(configure({"show"}).out,
            "primitive a Dummy\nprimitive b Dummy\nprimitive z Dummy\ngroup g a b\n");
}

// While it lives, standard input is a terminal: the far side of a pseudo-terminal that already
// holds `typed`. What configure does only for someone at a terminal (edit, the shell's readline,
// its questions) runs then.
class AtTerminal {
 public:
  explicit AtTerminal(const std::string& typed) {
    far_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    EXPECT_GE(far_, 0);
    EXPECT_EQ(::grantpt(far_), 0);
    EXPECT_EQ(::unlockpt(far_), 0);
    const int near = ::open(::ptsname(far_), O_RDWR | O_NOCTTY);
    EXPECT_GE(near, 0);
    saved_ = ::dup(STDIN_FILENO);
    ::dup2(near, STDIN_FILENO);
    ::close(near);
    EXPECT_EQ(::write(far_, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  }
  ~AtTerminal() {
    ::dup2(saved_, STDIN_FILENO);
    ::close(saved_);
    ::close(far_);
    std::clearerr(stdin);
  }
  AtTerminal(const AtTerminal&) = delete;
  AtTerminal& operator=(const AtTerminal&) = delete;

 private:
  int far_ = -1, saved_ = -1;
};

// EDITOR is a script that edits the file as the test says (sed expressions), or appends a line.
std::string editor(const fs::path& dir, const std::string& body) {
  const auto path = dir / "editor.sh";
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(path, fs::perms::owner_all);
  return path.string();
}

TEST_F(ConfigureCli, EditAppliesWhatWasSaved) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\nprimitive b Dummy params fake=1\ngroup g a b\n"
                          "location l1 a 100: node1\nproperty stonith-enabled=false\n").code, 0);
  const AtTerminal terminal("");
  ::setenv("EDITOR", editor(dir_, "sed -i -e 's/fake=1/fake=3/' -e '/location/d' \"$1\"").c_str(), 1);
  auto r = configure({"edit"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(configure({"show"}).out,
            "primitive a Dummy\nprimitive b Dummy \\\n\tparams fake=3\ngroup g a b\n"
            "property cib-bootstrap-options: \\\n\tstonith-enabled=false\n");
  // One element: the others are not shown, so not deleted.
  ::setenv("EDITOR", editor(dir_, "sed -i 's/fake=3/fake=4/' \"$1\"").c_str(), 1);
  EXPECT_EQ(configure({"edit", "b"}).code, 0);
  EXPECT_EQ(configure({"show", "b"}).out, "primitive b Dummy \\\n\tparams fake=4\n");
  EXPECT_NE(configure({"show"}).out.find("group g a b"), std::string::npos);
  ::unsetenv("EDITOR");
}

TEST_F(ConfigureCli, EditUnchangedOrWrongChangesNothing) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\nprimitive b Dummy\n").code, 0);
  const std::string before = on_disk();
  const AtTerminal terminal("");
  ::setenv("EDITOR", "true", 1);
  auto same = configure({"edit"});
  EXPECT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(on_disk(), before);
  ::setenv("EDITOR", editor(dir_, "echo 'primitive zz' >> \"$1\"").c_str(), 1);
  auto bad = configure({"edit"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find(":3: "), std::string::npos) << bad.err;
  EXPECT_EQ(on_disk(), before);
  ::unsetenv("EDITOR");
}

TEST_F(ConfigureCli, EditIsRefusedInBatchModeAsCrmsh) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\n").code, 0);
  const std::string before = on_disk();
  ::setenv("EDITOR", editor(dir_, "echo 'primitive b Dummy' >> \"$1\"").c_str(), 1);
  for (const auto& r : {configure({"edit"}), configure({}, "edit\n")}) {
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("INFO: edit not allowed in batch mode"), std::string::npos) << r.err;
  }
  EXPECT_EQ(on_disk(), before);
  ::unsetenv("EDITOR");
}

// An interactive session whose CIB another client changed keeps its changes when the commit is
// refused; `commit force` makes them on the new CIB, `refresh` drops them. The other client is
// the editor of an `edit` that saves nothing: it writes the CIB file behind the session's back.
TEST_F(ConfigureCli, ShellCommitForceOrRefreshWhenTheCibMoved) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\n").code, 0);
  // The editor adds primitive ID to the file and moves its epoch on (without the digest file,
  // which no longer matches, the file is still read).
  const auto another_client_adds = [&](const std::string& id) {
    ::setenv("EDITOR",
             editor(dir_, "sed -i -e 's/ epoch=\"\\([0-9]*\\)\"/ epoch=\"9\\1\"/' -e "
                          "'s|<resources>|<resources><primitive id=\"" + id + "\" class=\"ocf\" "
                          "provider=\"heartbeat\" type=\"Dummy\"/>|' '" + cib_.string() +
                          "' && rm '" + cib_.string() + ".sig'")
                 .c_str(),
             1);
  };
  another_client_adds("ext");
  {
    const AtTerminal terminal("primitive b Dummy\nedit a\ncommit\ncommit force\nexit\n");
    auto r = configure({});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("'commit force' makes your changes on the new CIB"), std::string::npos)
        << r.err;
  }
  EXPECT_EQ(configure({"show"}).out, "primitive a Dummy\nprimitive b Dummy\nprimitive ext Dummy\n");
  another_client_adds("ext2");
  {
    const AtTerminal terminal("primitive c Dummy\nedit a\ncommit\nrefresh\ny\nexit\n");
    auto r = configure({});
    EXPECT_EQ(r.code, 0) << r.err;
  }
  ::unsetenv("EDITOR");
  EXPECT_EQ(configure({"show"}).out,
            "primitive a Dummy\nprimitive b Dummy\nprimitive ext Dummy\nprimitive ext2 Dummy\n");
}

TEST_F(ConfigureCli, ModgroupMovesMembers) {
  ASSERT_EQ(configure({"-F"}, "primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\ngroup g a b\n").code,
            0);
  EXPECT_EQ(configure({"modgroup", "g", "add", "c", "before", "a"}).code, 0);
  EXPECT_EQ(configure({"modgroup", "g", "remove", "b"}).code, 0);
  EXPECT_EQ(configure({"show", "g"}).out, "group g c a\n");
  expect_refused({{{"modgroup", "g", "remove", "b"}, "not a member of the group"},
                  {{"modgroup", "a", "add", "b"}, "not a group"},
                  {{"modgroup", "g", "add", "b", "after", "x"}, "no such resource"}});
}

// Pacemaker starts no resource while stonith-enabled is true without a fence device or a
// watchdog: crmsh runs crm_verify at a commit once there are primitives and refuses one that
// brings an error unless forced (or, at a terminal, told yes).
TEST_F(ConfigureCli, AResourceThatCouldNeverStartIsRefusedUnlessForced) {
  const std::string why =
      "ERROR: stonith-enabled is true but no stonith resource is configured: no resource will "
      "start (configure a fence device, or property stonith-enabled=false)\n";
  auto refused = configure({"primitive", "d", "Dummy"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err,
            why + "INFO: nothing committed; --force (-F) commits it anyway, as crm -F does\n");
  EXPECT_FALSE(fs::exists(cib_));
  // Cluster options alone are no such commit (crmsh verifies only once there are primitives).
  EXPECT_EQ(configure({"property", "maintenance-mode=false"}).code, 0);
  // The check is the commit's: a session that turns stonith off before it commits passes.
  EXPECT_EQ(configure({}, "primitive d Dummy\nproperty stonith-enabled=false\n").err, "");
  EXPECT_EQ(configure({"property", "stonith-enabled=true"}).code, 1);
  // A watchdog fences without a device (stonith-watchdog-timeout, SBD's have-watchdog).
  EXPECT_EQ(configure({"property", "stonith-enabled=true", "stonith-watchdog-timeout=-1"}).err, "");
  auto forced = configure({"-F", "property", "stonith-watchdog-timeout=0"});
  EXPECT_EQ(forced.code, 0);
  EXPECT_EQ(forced.err, why + "INFO: commit forced\n");
  // What the configuration already has does not block an unrelated change.
  EXPECT_EQ(configure({"primitive", "e", "Dummy"}).err, "");
  // At a terminal the user is asked, as crmsh asks.
  ASSERT_EQ(configure({"property", "stonith-enabled=false"}).code, 0);
  {
    const AtTerminal terminal("property stonith-enabled=true\ncommit\nn\nexit\nn\n");
    auto r = configure({});
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("--force (-F)"), std::string::npos) << r.err;
  }
  EXPECT_NE(configure({"show"}).out.find("stonith-enabled=false"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
