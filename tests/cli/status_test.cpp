// `vigil quorum status` and `vigil cluster status` from a daemon's answer, and the commands when no
// daemon is running (`vigil status` on CIB files: status_view_test.cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <sstream>

#include "cli/cli.h"
#include "cli/status.h"

namespace vigil::cli {
namespace {

nlohmann::json answer(bool quorate) {
  return nlohmann::json::parse(R"({
    "ok": true, "pid": 42, "node": {"id": 1, "name": "n1"},
    "ring": {"id": "1.e2", "state": "operational", "members": [1, 2]},
    "nodes": [{"id": 1, "name": "n1", "online": true}, {"id": 3, "name": "n3", "online": false},
              {"id": 2, "name": "n2", "online": true}],
    "quorum": {"provider": "corosync_votequorum", "quorate": )" +
                               std::string(quorate ? "true" : "false") + R"(,
               "expected_votes": 3, "highest_expected": 3, "total_votes": 2, "quorum": 2,
               "flags": "Quorate ", "members": [{"id": 1, "votes": 1}, {"id": 2, "votes": 1}]},
    "links": [{"link": 0, "local": "127.0.0.1",
               "peers": [{"id": 2, "connected": true, "pings": 40, "lost": 1,
                          "round_trip_ms": 0.0815, "last_round_trip_ms": 0.07},
                         {"id": 3, "connected": false, "pings": 12, "lost": 12}]}],
    "transport": {"sealed": true, "frames": 10, "garbage": 1, "unauthenticated": 2, "replayed": 3,
                  "bad_fragment": 0, "expired": 0, "messages": 4, "send_errors": 0}})");
}

TEST(Status, QuorumStatusFollowsCorosyncQuorumtool) {
  auto two = nlohmann::json::parse(R"({
    "node": {"id": 1, "name": "node1"}, "ring": {"id": "1.e2", "members": [1, 2]},
    "nodes": [{"id": 1, "name": "node1", "online": true}, {"id": 2, "name": "node2", "online": true}],
    "quorum": {"provider": "corosync_votequorum", "quorate": true, "expected_votes": 2,
               "highest_expected": 2, "total_votes": 2, "quorum": 1,
               "flags": "2Node Quorate WaitForAll ", "members": [{"id": 1, "votes": 1}, {"id": 2, "votes": 1}]}})");
  std::ifstream in(std::string(VIGIL_SHARED_DIR) + "/reference-output/corosync_quorumtool_s.txt");
  std::stringstream reference;
  reference << in.rdbuf();
  std::string expected = reference.str();
  expected = expected.substr(expected.find('\n') + 1);     // the "$ command" line
  expected = expected.substr(0, expected.rfind("[exit"));  // the exit code line
  EXPECT_EQ(render_quorum(two, "Tue Nov 24 21:09:53 2026"), expected);
}

// A two-node cluster with a witness (quorum.device): corosync-quorumtool's Qdevice column for the
// local node and the device's own row; the device's votes show only while they count.
TEST(Status, QuorumStatusShowsTheQuorumDevice) {
  auto two = nlohmann::json::parse(R"({
    "node": {"id": 1, "name": "node1"}, "ring": {"id": "1.e2", "members": [1, 2]},
    "nodes": [{"id": 1, "name": "node1", "online": true}, {"id": 2, "name": "node2", "online": true}],
    "quorum": {"provider": "corosync_votequorum", "quorate": true, "expected_votes": 3,
               "highest_expected": 3, "total_votes": 3, "quorum": 2, "flags": "Quorate Qdevice ",
               "members": [{"id": 1, "votes": 1}, {"id": 2, "votes": 1}],
               "device": {"votes": 1, "cast": true}},
    "quorum_device": {"connected": true, "cast": true}})");
  const auto text = render_quorum(two, "Tue Nov 24 21:09:53 2026");
  EXPECT_NE(text.find("Flags:            Quorate Qdevice \n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nMembership information\n----------------------\n"
                      "    Nodeid      Votes    Qdevice Name\n"
                      "         1          1    A,V,NMW node1 (local)\n"
                      "         2          1            node2\n"
                      "         0          1            Qdevice\n"),
            std::string::npos)
      << text;
  two["quorum"]["device"]["cast"] = false;
  two["quorum_device"]["connected"] = false;
  const auto lost = render_quorum(two, "Tue Nov 24 21:09:53 2026");
  EXPECT_NE(lost.find("         1          1  NA,NV,NMW node1 (local)\n"), std::string::npos)
      << lost;
  EXPECT_NE(lost.find("         0          0            Qdevice\n"), std::string::npos) << lost;
}

TEST(Status, LocalStatusShowsLinksAndCounters) {
  const auto text = render_local(answer(true));
  EXPECT_NE(text.find("running (pid 42) as node n1 (id 1)"), std::string::npos);
  EXPECT_NE(text.find("ring: 1.e2 operational, 2 member(s)"), std::string::npos);
  EXPECT_NE(text.find("node 2 connected (round trip 0.082 ms, lost 1 of 40); node 3 disconnected;"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 garbage, 2 unauthenticated, 3 replayed (sealed)"), std::string::npos);
  EXPECT_EQ(text.find("controller:"), std::string::npos) << "a daemon without a controller";
  auto with = answer(true);
  with["controller"] = nlohmann::json{{"state", "running"},
                                      {"dc", nlohmann::json{{"id", 1}, {"name", "n1"}}},
                                      {"transitions_completed", 4},
                                      {"transitions_aborted", 1}};
  EXPECT_NE(render_local(with).find("controller: running, DC n1, 4 transition(s) completed, 1 "
                                    "aborted"),
            std::string::npos)
      << render_local(with);
}

TEST(Status, WithoutADaemonTheClusterIsUnavailable) {
  std::ostringstream out, err;
  Cli cli(out, err);
  add_all_commands(cli);
  EXPECT_EQ(cli.run({"status", "--socket", "/nonexistent/vigild.sock"}), 102);
  EXPECT_NE(err.str().find("cluster is not available on this node"), std::string::npos);
  std::ostringstream out2, err2;
  Cli cli2(out2, err2);
  add_all_commands(cli2);
  EXPECT_EQ(cli2.run({"cluster", "status", "--socket", "/nonexistent/vigild.sock"}), 3);
  EXPECT_NE(out2.str().find("not running"), std::string::npos);
}

// crm_mon on a CIB file that is not there, or holds no XML, shows no empty cluster: an error
// naming the file, exit 1, whether the file comes from --cib or CIB_file.
TEST(Status, AMissingOrBrokenCibFileIsAnError) {
  char pattern[] = "/tmp/vigil-status-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  const std::string missing = dir + "/missing.xml", broken = dir + "/broken.xml";
  std::ofstream(broken) << "this is not XML\n";
  auto status = [&](std::vector<std::string> args) {
    std::ostringstream out, err;
    Cli cli(out, err);
    add_all_commands(cli);
    const int code = cli.run(args);
    return std::make_tuple(code, out.str(), err.str());
  };
  for (const auto& file : {missing, broken}) {
    auto [code, out, err] =
        status({"status", "--socket", dir + "/no-vigild.sock", "--cib", file});
    EXPECT_EQ(code, 1) << file;
    EXPECT_EQ(out, "") << file;
    EXPECT_NE(err.find(file), std::string::npos) << err;
    ::setenv("CIB_file", file.c_str(), 1);
    auto [env_code, env_out, env_err] = status({"status", "--socket", dir + "/no-vigild.sock"});
    ::unsetenv("CIB_file");
    EXPECT_EQ(env_code, 1) << file;
    EXPECT_NE(env_err.find(file), std::string::npos) << env_err;
  }
  EXPECT_FALSE(std::filesystem::exists(missing)) << "status must not create the file";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::cli
