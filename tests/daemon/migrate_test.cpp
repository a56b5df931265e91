// Live migration across three real vigild on 127.0.0.1-3: Pacemaker's own ocf:pacemaker:Dummy
// (Debian's pacemaker-resource-agents, which implements migrate_to and migrate_from) with
// allow-migrate=true moves off a node put in standby by migrate_to there and migrate_from on the
// target, then the source's stop, with no start on the target; a migrate_to that fails falls back
// to a stop and a start. The agent in the test's OCF root runs Dummy with each node's own state
// directory (HA_VARRUN, which separate hosts would not share) and appends every start, stop and
// migration with its node, result and the migration's nodes to a file; while the file
// `fail-migrate-to` exists, migrate_to fails without touching the resource.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDummy = "/usr/lib/ocf/resource.d/pacemaker/Dummy";

// One agent call as the wrapper saw it.
struct Call {
  std::string node, action;
  int rc = -1;
  std::string source, target;  // CRM_meta_migrate_source / _target
};

class MigrateCluster {
 public:
  MigrateCluster() : cluster_(spec(), "migrate") {
    const auto ocf = cluster_.dir() / "ocf";
    fs::create_directories(ocf / "resource.d" / "pacemaker");
    std::error_code ec;
    fs::create_directory_symlink("/usr/lib/ocf/lib", ocf / "lib", ec);
    fs::create_directory_symlink("/usr/lib/ocf/resource.d/heartbeat",
                                 ocf / "resource.d" / "heartbeat", ec);
    const auto agent = ocf / "resource.d" / "pacemaker" / "Dummy";
    std::ofstream(agent) << "#!/bin/sh\n"
                            "if [ \"$1\" = migrate_to ] && [ -e '"
                         << fail_flag().string()
                         << "' ]; then\n"
                            "  rc=1\n"
                            "else\n"
                            "  HA_VARRUN=\"$HA_RSCTMP\" "
                         << kDummy
                         << " \"$@\"\n"
                            "  rc=$?\n"
                            "fi\n"
                            "case \"$1\" in start|stop|migrate_to|migrate_from)\n"
                            "  echo \"$OCF_RESKEY_CRM_meta_on_node $1 $rc "
                            "$OCF_RESKEY_CRM_meta_migrate_source "
                            "$OCF_RESKEY_CRM_meta_migrate_target\" >> '"
                         << log().string()
                         << "';;\n"
                            "esac\n"
                            "exit $rc\n";
    fs::permissions(agent, fs::perms::owner_all);
    ::setenv("VIGIL_OCF_ROOT", ocf.c_str(), 1);
  }
  ~MigrateCluster() {
    for (int n = 1; n <= 3; ++n) cluster_.kill_now(n);
    ::unsetenv("VIGIL_OCF_ROOT");
  }

  static ClusterSpec spec() {
    ClusterSpec s;
    s.nodes = 3;
    return s;
  }

  fs::path log() const { return cluster_.dir() / "calls"; }
  fs::path fail_flag() const { return cluster_.dir() / "fail-migrate-to"; }
  // Dummy's state file on node n: the resource runs there while it exists.
  bool runs_on(int n) const {
    return fs::exists(cluster_.dir() / ("run" + std::to_string(n)) / "rsctmp" / "Dummy-vm.state");
  }

  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return eventually(
        [&] {
          for (int n = 1; n <= 3; ++n) {
            auto s = cluster_.status(n);
            if (!s.ok() || (*s)["ring"]["members"].size() != 3 ||
                !(*s)["cib"].value("synced", false) || (*s)["controller"]["dc"].is_null())
              return false;
          }
          return true;
        },
        30s);
  }

  // `vigil ARGS` against node 1, with STDIN when given; returns its exit code.
  int vigil(const std::string& args, const std::string& stdin_text, std::string* out) {
    const std::string feed = stdin_text.empty() ? "" : "printf '%s' '" + stdin_text + "' | ";
    *out = capture(feed + "VIGIL_SOCKET=" + cluster_.socket(1) + " " + VIGIL_PATH + " " + args +
                   " 2>&1; echo \"rc=$?\"");
    const auto at = out->rfind("rc=");
    return at == std::string::npos ? -1 : std::atoi(out->c_str() + at + 3);
  }

  std::vector<Call> calls() const {
    std::ifstream in(log());
    std::vector<Call> out;
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      Call c;
      words >> c.node >> c.action >> c.rc >> c.source >> c.target;
      out.push_back(c);
    }
    return out;
  }
  // The first call of `action` on `node` from index `from` on, or -1.
  int find(const std::string& node, const std::string& action, std::size_t from = 0) const {
    const auto all = calls();
    for (std::size_t i = from; i < all.size(); ++i) {
      if (all[i].node == node && all[i].action == action) return static_cast<int>(i);
    }
    return -1;
  }

  // Configures vm and waits for its start; returns the node it started on (1-3), or 0.
  int start_vm() {
    std::string out;
    EXPECT_EQ(vigil("configure",
                    "property stonith-enabled=false\n"
                    "primitive vm ocf:pacemaker:Dummy meta allow-migrate=true "
                    "op monitor interval=5s\n",
                    &out),
              0)
        << out;
    int on = 0;
    eventually(
        [&] {
          for (const auto& c : calls()) {
            if (c.action == "start" && c.rc == 0) on = std::atoi(c.node.c_str() + 1);
          }
          return on != 0;
        },
        60s);
    return on;
  }

  std::string logs() const {
    std::string all;
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    std::ifstream in(log());
    return all + "---- agent calls\n" + std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TestCluster cluster_;
};

TEST(Migration, StandbyMigratesDummyToAnotherNode) {
  ASSERT_TRUE(fs::exists(kDummy)) << "Debian's pacemaker-resource-agents is not installed";
  MigrateCluster c;
  ASSERT_TRUE(c.start_all()) << c.logs();
  const int source = c.start_vm();
  ASSERT_NE(source, 0) << c.logs();
  const std::string src = "n" + std::to_string(source);
  const std::size_t before = c.calls().size();
  std::string out;
  ASSERT_EQ(c.vigil("node standby " + src, "", &out), 0) << out;

  ASSERT_TRUE(eventually([&] { return c.find(src, "stop", before) >= 0; }, 60s)) << c.logs();
  const int to = c.find(src, "migrate_to", before);
  ASSERT_GE(to, 0) << c.logs();
  const Call migrate_to = c.calls()[static_cast<std::size_t>(to)];
  EXPECT_EQ(migrate_to.rc, 0) << c.logs();
  EXPECT_EQ(migrate_to.source, src) << c.logs();
  const std::string tgt = migrate_to.target;
  ASSERT_NE(tgt, src) << c.logs();
  const int from = c.find(tgt, "migrate_from", before);
  ASSERT_GT(from, to) << "migrate_from did not follow migrate_to\n" << c.logs();
  const Call migrate_from = c.calls()[static_cast<std::size_t>(from)];
  EXPECT_EQ(migrate_from.rc, 0) << c.logs();
  EXPECT_EQ(migrate_from.source, src) << c.logs();
  EXPECT_EQ(migrate_from.target, tgt) << c.logs();
  EXPECT_GT(c.find(src, "stop", before), from) << "the source stopped before migrate_from\n"
                                               << c.logs();
  EXPECT_EQ(c.find(tgt, "start", before), -1) << "the target started it instead\n" << c.logs();
  // Dummy's state moved with it, and stays: the next scheduler run sees it on the target.
  const int target = std::atoi(tgt.c_str() + 1);
  EXPECT_TRUE(eventually([&] { return c.runs_on(target) && !c.runs_on(source); }, 10s))
      << c.logs();
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(c.find(tgt, "start", before), -1) << c.logs();
  EXPECT_EQ(c.find(tgt, "stop", before), -1) << c.logs();
}

TEST(Migration, AFailedMigrateToFallsBackToStopAndStart) {
  ASSERT_TRUE(fs::exists(kDummy)) << "Debian's pacemaker-resource-agents is not installed";
  MigrateCluster c;
  ASSERT_TRUE(c.start_all()) << c.logs();
  const int source = c.start_vm();
  ASSERT_NE(source, 0) << c.logs();
  const std::string src = "n" + std::to_string(source);
  std::ofstream(c.fail_flag()) << "";
  const std::size_t before = c.calls().size();
  std::string out;
  ASSERT_EQ(c.vigil("node standby " + src, "", &out), 0) << out;

  int start = -1;
  ASSERT_TRUE(eventually(
      [&] {
        for (int n = 1; n <= 3 && start < 0; ++n) {
          if (n != source) start = c.find("n" + std::to_string(n), "start", before);
        }
        return start >= 0;
      },
      60s))
      << c.logs();
  const int to = c.find(src, "migrate_to", before);
  ASSERT_GE(to, 0) << c.logs();
  EXPECT_EQ(c.calls()[static_cast<std::size_t>(to)].rc, 1) << c.logs();
  const int stop = c.find(src, "stop", before);
  EXPECT_GT(stop, to) << c.logs();
  EXPECT_GT(start, stop) << "started elsewhere before the source stopped\n" << c.logs();
  for (const auto& call : c.calls()) EXPECT_NE(call.action, "migrate_from") << c.logs();
  const int target = std::atoi(c.calls()[static_cast<std::size_t>(start)].node.c_str() + 1);
  EXPECT_TRUE(eventually([&] { return c.runs_on(target) && !c.runs_on(source); }, 10s))
      << c.logs();
}

}  // namespace
}  // namespace vigil::test
