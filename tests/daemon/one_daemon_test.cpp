// One vigild per node: a second vigild on a state dir, run dir or totem address that a running
// one holds exits 1 at once, saying which and who holds it; the first keeps its CIB on disk and
// keeps answering.
#include <gtest/gtest.h>

#include "cib/cib_io.h"
#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

struct Exit {
  int code = -1;
  std::string output;
};

// Runs a second vigild in the foreground, bounded: one that does not stop within 10 s is ended
// by timeout(1) (exit 124), as it was before these checks.
Exit second_vigild(const TestCluster& c, const std::string& node, const std::string& state,
                  const std::string& run) {
  const std::string out =
      capture("timeout -s KILL 10 " + std::string(VIGILD_PATH) + " --config " +
              (c.dir() / "corosync.conf").string() + " --node " + node + " --state-dir " +
              (c.dir() / state).string() + " --run-dir " + (c.dir() / run).string() +
              " --foreground 2>&1; echo \"exit $?\"");
  Exit r;
  const auto at = out.rfind("exit ");
  if (at == std::string::npos) return r;
  r.code = std::stoi(out.substr(at + 5));
  r.output = out.substr(0, at);
  return r;
}

std::string cib_version_on_disk(const TestCluster& c, int node) {
  auto loaded = cib::CibFile(c.dir() / ("state" + std::to_string(node)) / "cib.xml").load();
  return loaded.ok() && loaded->found ? loaded->cib.version().str() : "";
}

bool dc_version_on_disk(const TestCluster& c, int node) {
  auto loaded = cib::CibFile(c.dir() / ("state" + std::to_string(node)) / "cib.xml").load();
  return loaded.ok() && loaded->found &&
         loaded->cib.to_xml().find("name=\"dc-version\"") != std::string::npos;
}

std::string cib_version_in(const TestCluster& c, int node) {
  auto s = c.status(node);
  return s.ok() && s->contains("cib") ? (*s)["cib"]["version"].get<std::string>() : "";
}

class OneDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.start(1);
    // Node 1 alone holds its CIB once it entered itself in it, its DC recorded dc-version (a
    // configuration change, as Pacemaker's DC makes), and it saved it.
    ASSERT_TRUE(eventually(
        [&] {
          const auto held = cib_version_in(c_, 1);
          return !held.empty() && held != "0.0.0" && held == cib_version_on_disk(c_, 1) &&
                 dc_version_on_disk(c_, 1);
        },
        20s))
        << c_.log_text(1);
    auto s = c_.status(1);
    ASSERT_TRUE(s.ok());
    pid_ = (*s)["pid"].get<long>();
  }

  // Node 1 still answers, and what it holds is what its state dir holds.
  void expect_first_untouched() {
    auto s = c_.status(1);
    ASSERT_TRUE(s.ok()) << "node 1 stopped answering: " << s.error().message;
    EXPECT_EQ((*s)["pid"].get<long>(), pid_);
    EXPECT_TRUE(eventually([&] { return cib_version_on_disk(c_, 1) == cib_version_in(c_, 1); }, 5s))
        << cib_version_on_disk(c_, 1) << " on disk, " << cib_version_in(c_, 1) << " held";
  }

  TestCluster c_{ClusterSpec{}, "onedaemon"};
  long pid_ = 0;
};

TEST_F(OneDaemon, ASecondOnTheSameStateDirExitsAndLeavesTheCibAlone) {
  // Node 1's own status updates may bump num_updates meanwhile; its configuration (admin_epoch,
  // epoch) stays put unless another daemon writes the file (the old bug left 0.3.0 for 0.1.2).
  const auto configuration = [&] {
    const auto v = cib_version_on_disk(c_, 1);
    return v.substr(0, v.rfind('.'));
  };
  const auto before = configuration();
  const Exit second = second_vigild(c_, "n2", "state1", "run2");
  EXPECT_EQ(second.code, 1) << second.output;
  EXPECT_NE(second.output.find("vigild is already running for this state dir (pid " +
                               std::to_string(pid_) + "): "),
            std::string::npos)
      << second.output;
  EXPECT_EQ(configuration(), before);
  expect_first_untouched();
}

TEST_F(OneDaemon, ASecondOnTheSameRunDirExits) {
  const Exit second = second_vigild(c_, "n2", "state2", "run1");
  EXPECT_EQ(second.code, 1) << second.output;
  EXPECT_NE(second.output.find("vigild is already running for this run dir (pid " +
                               std::to_string(pid_) + "): "),
            std::string::npos)
      << second.output;
  EXPECT_TRUE(fs::exists(c_.socket(1))) << "node 1's control socket stays";
  expect_first_untouched();
}

TEST_F(OneDaemon, ASecondOnTheSameAddressAndPortExitsNamingThem) {
  const Exit second = second_vigild(c_, "n1", "state2", "run2");
  EXPECT_EQ(second.code, 1) << second.output;
  const std::string where = c_.address(1) + ":" + std::to_string(c_.port());
  EXPECT_NE(second.output.find("cannot bind " + where +
                               ": the address is already in use; is another vigild"),
            std::string::npos)
      << second.output;
  expect_first_untouched();
}

}  // namespace
}  // namespace vigil::test
