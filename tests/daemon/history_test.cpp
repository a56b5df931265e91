// History and why on three real vigild: a standby move, a failed monitor and a lost node each
// leave their cause in the journal, `vigil history` lists them (filtered by resource, node and
// time), and `vigil why vip` names the cause of the last move in words: the standby and who asked
// for it, the monitor's failure with its code, the node's loss; asked about a group, for each
// primitive in it.
#include <gtest/gtest.h>
#include <pwd.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

class HistoryCluster {
 public:
  explicit HistoryCluster(const std::string& name)
      : cluster_(ClusterSpec{}, name), ocf_(cluster_.dir() / "ocf") {}
  ~HistoryCluster() {
    for (int n = 1; n <= 3; ++n) cluster_.kill_now(n);
  }

  TestCluster& nodes() { return cluster_; }

  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return cluster_ready(cluster_, 3);
  }

  // `vigil ARGS` against node n, retried while a status update races its commit.
  std::string vigil(int n, const std::string& args, int* rc = nullptr,
                    const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    const std::string command = feed + "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH +
                                " " + args + " 2>&1; echo \"rc=$?\"";
    std::string out;
    int code = -1;
    for (int i = 0; i < 10; ++i) {
      out = capture(command);
      const auto at = out.rfind("rc=");
      code = at == std::string::npos ? -1 : std::atoi(out.c_str() + at + 3);
      if (code == 0 || out.find("made against version") == std::string::npos) break;
    }
    if (rc != nullptr) *rc = code;
    return out;
  }

  fs::path state_file(int node) const {
    return cluster_.dir() / ("run" + std::to_string(node)) / "rsctmp" / "vigil-vip-vip.state";
  }
  // The node whose agent state says the vip runs there (0: none, -1: several).
  int vip_node() const {
    int found = 0;
    for (int n = 1; n <= 3; ++n)
      if (fs::exists(state_file(n))) found = found == 0 ? n : -1;
    return found;
  }
  // Waits until `vigil why vip` on node n says `words`; its last answer.
  std::string why_says(int n, const std::string& words) {
    std::string out;
    eventually(
        [&] {
          out = vigil(n, "why vip");
          return out.find(words) != std::string::npos;
        },
        30s);
    return out;
  }

  std::string logs() const {
    std::string all;
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    return all;
  }

 private:
  TestCluster cluster_;
  VigilOcfRoot ocf_;
};

std::string name(int n) { return "n" + std::to_string(n); }

// Who runs the test, as vigild names the requesting user.
std::string user() {
  const passwd* entry = ::getpwuid(::getuid());
  return entry != nullptr ? entry->pw_name : std::to_string(::getuid());
}

TEST(History, StandbyAFailedMonitorAndALostNodeAreNamedAsCauses) {
  HistoryCluster c("history");
  ASSERT_TRUE(c.start_all()) << c.logs();
  int rc = -1;
  const std::string config =
      "property stonith-enabled=false no-quorum-policy=stop\n"
      "primitive vip ocf:vigil:vip params ip=127.0.0.10 op monitor interval=2s timeout=20s "
      "meta migration-threshold=1\n";
  std::string out = c.vigil(1, "configure", &rc, config);
  ASSERT_EQ(rc, 0) << out;
  int first = 0;
  ASSERT_TRUE(eventually([&] { return (first = c.vip_node()) > 0; }, 40s)) << c.logs();

  // 1. Standby moves it; the journal knows who asked.
  out = c.vigil(1, "node standby " + name(first), &rc);
  ASSERT_EQ(rc, 0) << out;
  int second = 0;
  ASSERT_TRUE(eventually(
      [&] {
        second = c.vip_node();
        return second > 0 && second != first;
      },
      40s))
      << c.logs();
  // The node the vip does not touch from here on is asked: it sees every step.
  const int asked = first;
  out = c.why_says(asked, "moved from " + name(first) + " to " + name(second));
  EXPECT_NE(out.find("vip runs on " + name(second)), std::string::npos) << out;
  EXPECT_NE(out.find("because " + name(first) + " was put in standby by " + user() +
                     " via vigil on n1"),
            std::string::npos)
      << out << c.logs();
  out = c.vigil(asked, "history --resource vip", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(name(first) + " was put in standby by " + user()), std::string::npos) << out;
  EXPECT_NE(out.find("stop of vip on " + name(first) + ": ok"), std::string::npos) << out;
  EXPECT_NE(out.find("start of vip on " + name(second) + ": ok"), std::string::npos) << out;

  // 2. The service dies behind the agent's back: the monitor fails (not running), and with
  // migration-threshold=1 the vip moves to the third node.
  fs::remove(c.state_file(second));
  const int third = 6 - first - second;
  ASSERT_TRUE(eventually([&] { return c.vip_node() == third; }, 40s)) << c.logs();
  out = c.why_says(asked, "restarted on " + name(third));
  EXPECT_NE(out.find("stopped on " + name(second) + " after monitor failed on " + name(second) +
                     " (rc=7 not running)"),
            std::string::npos)
      << out << c.logs();
  out = c.vigil(asked, "history --node " + name(second));
  EXPECT_NE(out.find("monitor (every 2s) of vip on " + name(second) +
                     " failed: not running (rc=7)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("of vip on " + name(third)), std::string::npos) << out;

  // 3. Its node is lost (power off); the vip starts where it may (the first node, online again).
  out = c.vigil(asked, "node online " + name(first), &rc);
  ASSERT_EQ(rc, 0) << out;
  std::this_thread::sleep_for(2s);  // the online change reaches every node's journal
  ASSERT_EQ(c.vip_node(), third) << c.logs();
  c.nodes().signal(third, SIGKILL);
  c.nodes().reap(third);
  fs::remove(c.state_file(third));  // what the power loss took with it
  ASSERT_TRUE(eventually([&] { return c.vip_node() == first; }, 40s)) << c.logs();
  out = c.why_says(asked, name(third) + " was lost at ");
  EXPECT_NE(out.find("; vip started on " + name(first) + " at "), std::string::npos)
      << out << c.logs();
  // The incident's timeline breaks the failover down: the lost node's last word, its loss, the
  // start, and the whole; the DC's journal also holds its transition that moved the vip.
  EXPECT_NE(out.find("  +0.000 s  " + name(third) + " last heard"), std::string::npos) << out;
  EXPECT_NE(out.find(name(third) + " was lost from the membership"), std::string::npos) << out;
  EXPECT_NE(out.find("from the fault to vip running again: "), std::string::npos) << out;
  std::string dc_account;
  for (const int n : {first, second}) {
    const std::string account = c.vigil(n, "why vip");
    if (account.find("transition ") != std::string::npos) dc_account = account;
  }
  EXPECT_NE(dc_account.find(" started by "), std::string::npos) << out << c.logs();
  EXPECT_NE(dc_account.find(" vip ("), std::string::npos) << dc_account;
  out = c.vigil(asked, "history --since 10m", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(name(third) + " was lost from the membership"), std::string::npos) << out;
  EXPECT_NE(out.find(name(first) + " was brought back online"), std::string::npos) << out;
  // Nothing is in the future.
  out = c.vigil(asked, "history --since 1d", &rc);
  EXPECT_NE(out.find("was lost"), std::string::npos) << out;
  EXPECT_EQ(c.vigil(asked, "history --since 2099-01-01"), "rc=0\n");
  out = c.vigil(asked, "history --since yesterday", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--since 'yesterday'"), std::string::npos) << out;

  // Asked about a group, why answers for each primitive in it; a name that is none says so.
  out = c.vigil(1, "configure group web vip", &rc);
  ASSERT_EQ(rc, 0) << out;
  out = c.vigil(asked, "why web", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("vip runs on " + name(first)), std::string::npos) << out;
  EXPECT_NE(out.find("vip started on " + name(first)), std::string::npos) << out;
  out = c.vigil(asked, "why webb", &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("ERROR: why: no resource 'webb' in the configuration"), std::string::npos)
      << out;

  // The journal is one JSON object a line in the state directory.
  std::ifstream journal(c.nodes().dir() / ("state" + std::to_string(asked)) / "history.jsonl");
  std::string line;
  int lines = 0;
  for (; std::getline(journal, line); ++lines) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
  }
  EXPECT_GE(lines, 8);
}

}  // namespace
}  // namespace vigil::test
