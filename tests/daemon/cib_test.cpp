// The replicated CIB across three real vigild on loopback: the guide's configuration entered one
// command at a time on node 1 is what `vigil configure show` prints on nodes 2 and 3; it survives a
// restart of the whole cluster; a bad command changes nothing; a node that was away comes back to
// the newer CIB.
#include <gtest/gtest.h>

#include "cib/cib_io.h"
#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

// The cluster runs a controller: maintenance mode first, so the guide's agents (a real address,
// the machine's apache2) are only probed, never started, by this test.
// Then the guide's order: stonith off before the primitives (crmsh refuses a primitive Pacemaker
// could never start).
const std::vector<std::string> kGuide = {
    "property maintenance-mode=true",
    "property stonith-enabled=false",
    "property no-quorum-policy=ignore",
    "primitive vip ocf:heartbeat:IPaddr params ip=172.16.35.20 nic=eth2 cidr_netmask=24 "
    "op monitor interval=10s timeout=20s on-fail=restart",
    "primitive httpd lsb:apache2",
    "group webservice vip httpd",
};

// admin_epoch.epoch: what configuration changes move. The controller's status writes move
// num_updates at any time.
std::pair<long, long> configuration_version(const std::string& version) {
  long admin_epoch = -1, epoch = -1;
  std::sscanf(version.c_str(), "%ld.%ld", &admin_epoch, &epoch);
  return {admin_epoch, epoch};
}

struct Cib {
  std::string version;
  bool synced = false;
  std::size_t members = 0;
};

Cib cib_of(const TestCluster& c, int node) {
  auto s = c.status(node);
  if (!s.ok() || !s->contains("cib")) return {};
  const auto& j = (*s)["cib"];
  return {j["version"].get<std::string>(), j["synced"].get<bool>(),
          j["members"].get<std::size_t>()};
}

bool all_synced(const TestCluster& c, const std::vector<int>& nodes) {
  for (int n : nodes) {
    const auto cib = cib_of(c, n);
    if (!cib.synced || cib.members != nodes.size()) return false;
  }
  return true;
}

// Runs `vigil <args>` against node n's socket; the exit code, and the output in `out`.
int vigil(const TestCluster& c, int node, const std::string& args, std::string* out = nullptr) {
  const std::string file = (c.dir() / "cli.out").string();
  const int rc = std::system(("VIGIL_SOCKET=" + c.socket(node) + " " + VIGIL_PATH + " " + args +
                              " >" + file + " 2>&1 </dev/null")
                                 .c_str());
  if (out) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    *out = s.str();
  }
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void start_all(TestCluster& c) {
  for (int n = 1; n <= 3; ++n) c.start(n);
  ASSERT_TRUE(eventually(
      [&] {
        return all_synced(c, {1, 2, 3});
      },
      20s))
      << c.log_text(1) << c.log_text(3);
}

// crmsh prints ocf:heartbeat agents by their type alone ("primitive vip IPaddr").
void expect_guide(const std::string& show) {
  EXPECT_NE(show.find("primitive vip IPaddr"), std::string::npos) << show;
  EXPECT_NE(show.find("ip=172.16.35.20"), std::string::npos) << show;
  EXPECT_NE(show.find("on-fail=restart"), std::string::npos) << show;
  EXPECT_NE(show.find("primitive httpd lsb:apache2"), std::string::npos) << show;
  EXPECT_NE(show.find("group webservice vip httpd"), std::string::npos) << show;
  EXPECT_NE(show.find("stonith-enabled=false"), std::string::npos) << show;
  EXPECT_NE(show.find("no-quorum-policy=ignore"), std::string::npos) << show;
}

TEST(CibCluster, TheGuideOnOneNodeIsShownOnEveryNodeAndSurvivesARestart) {
  TestCluster c(ClusterSpec{}, "cibguide");
  start_all(c);
  for (const auto& command : kGuide) {
    std::string out;
    ASSERT_EQ(vigil(c, 1, "configure " + command, &out), 0) << command << "\n" << out;
  }
  // Every node enters itself in the node list as it joins, so the version may still move: wait
  // until all three hold the same one, at least the version the guide's last command made.
  auto version = configuration_version(cib_of(c, 1).version);
  ASSERT_TRUE(eventually(
      [&] {
        const auto at1 = configuration_version(cib_of(c, 1).version);
        if (at1 < version || configuration_version(cib_of(c, 2).version) != at1 ||
            configuration_version(cib_of(c, 3).version) != at1)
          return false;
        version = at1;
        return true;
      },
      5s));
  for (int n : {2, 3}) {
    std::string show;
    ASSERT_EQ(vigil(c, n, "configure show", &show), 0) << show;
    expect_guide(show);
  }

  // A bad command (a group of a resource that does not exist) changes nothing.
  std::string out;
  EXPECT_NE(vigil(c, 1, "configure group broken nosuch", &out), 0) << out;
  EXPECT_EQ(configuration_version(cib_of(c, 1).version), version);
  EXPECT_EQ(configuration_version(cib_of(c, 2).version), version);

  // The whole cluster stops and starts again: the CIB comes back from disk.
  for (int n = 1; n <= 3; ++n) c.signal(n, SIGTERM);
  for (int n = 1; n <= 3; ++n) EXPECT_EQ(c.reap(n), 0);
  start_all(c);
  EXPECT_EQ(configuration_version(cib_of(c, 2).version), version);
  std::string show;
  ASSERT_EQ(vigil(c, 3, "configure show", &show), 0) << show;
  expect_guide(show);
}

// A CIB larger than one ring message (about 1.5 MiB: 12 000 nvpairs, which cost the scheduler
// nothing) on node 1's disk reaches the two nodes that start empty, in several sync parts.
// Corosync's default token (3 s): each change of a document this large costs vigild's loop long
// enough under ASan on a loaded machine to miss the test clusters' usual 600 ms token.
TEST(CibCluster, ACibLargerThanOneRingMessageReachesEveryNode) {
  ClusterSpec spec;
  spec.totem_extra = "  token: 3000\n";
  TestCluster c(spec, "cibbig");
  std::string xml =
      "<cib admin_epoch=\"0\" epoch=\"40\" num_updates=\"0\"><configuration><crm_config/>"
      "<nodes/><resources/><constraints/><rsc_defaults><meta_attributes id=\"big\">";
  for (int i = 0; i < 12000; ++i) {
    const std::string n = std::to_string(i);
    xml += "<nvpair id=\"big-" + n + "\" name=\"vigil-test-attribute-" + n +
           "\" value=\"a value long enough to make the document large " + n + "\"/>";
  }
  xml += "</meta_attributes></rsc_defaults></configuration><status/></cib>";
  ASSERT_GT(xml.size(), std::size_t{1} << 20);
  auto big = vigil::cib::Cib::parse(xml);
  ASSERT_TRUE(big) << big.error().message;
  fs::create_directories(c.dir() / "state1");
  ASSERT_TRUE(vigil::cib::CibFile(c.dir() / "state1" / "cib.xml").save(*big));
  start_all(c);
  for (int n : {2, 3}) {
    std::string found;
    ASSERT_EQ(vigil(c, n, "cib query --xpath \"//nvpair[@id='big-11999']\"", &found), 0) << found;
    EXPECT_NE(found.find("document large 11999"), std::string::npos) << found;
  }
  // Node 1's document (epoch 40; a change the DC made while node 1 was alone may come first)
  // replaced the empty ones.
  for (int n : {2, 3}) {
    EXPECT_NE(c.log_text(1).find(" on node " + std::to_string(n) + " is replaced by 0.4"),
              std::string::npos)
        << c.log_text(1);
  }
}

TEST(CibCluster, ANodeThatWasAwayReceivesTheNewerCib) {
  TestCluster c(ClusterSpec{}, "cibaway");
  start_all(c);
  c.signal(3, SIGTERM);
  ASSERT_EQ(c.reap(3), 0);
  ASSERT_TRUE(eventually([&] { return all_synced(c, {1, 2}); }, 20s)) << c.log_text(1);
  std::string out;
  // --force: without a fence device it would not start, and need not for this test.
  ASSERT_EQ(vigil(c, 2, "configure --force primitive later ocf:heartbeat:Dummy", &out), 0) << out;
  const auto version = configuration_version(cib_of(c, 1).version);
  c.start(3);
  ASSERT_TRUE(eventually([&] { return all_synced(c, {1, 2, 3}); }, 20s)) << c.log_text(3);
  EXPECT_EQ(configuration_version(cib_of(c, 3).version), version);
  std::string query;
  ASSERT_EQ(vigil(c, 3, "cib query --xpath \"//primitive[@id='later']\"", &query), 0) << query;
  EXPECT_NE(query.find("Dummy"), std::string::npos) << query;
  EXPECT_NE(c.log_text(3).find("adopted CIB"), std::string::npos);
}

TEST(CibCluster, AnUnreachableDaemonIsNamed) {
  TestCluster c(ClusterSpec{}, "cibnone");
  std::string out;
  EXPECT_NE(vigil(c, 1, "configure show", &out), 0);
  EXPECT_NE(out.find(c.socket(1)), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::test
