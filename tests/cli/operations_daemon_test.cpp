// `vigil status` and `vigil node fence` against a control socket that answers as vigild does
// (an in-process control::Server): the daemon's membership and quorum win over the CIB file,
// and a vigild without controller_fence gets a clear error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <asio.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli.h"
#include "control/control.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string reference_cib() {
  std::ifstream in(fs::path(VIGIL_SHARED_DIR) / "reference-output" / "cibadmin_Q.txt");
  std::string line, out;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.rfind("[exit", 0) != 0) out += line + "\n";
  }
  return out;
}

// A control socket served on its own thread; `fence` answers controller_fence (nullptr: the
// daemon does not know the command).
class FakeDaemon {
 public:
  explicit FakeDaemon(const fs::path& dir, std::function<Result<Json>(const Json&)> fence)
      : path_(control::socket_in(dir.string())), work_(asio::make_work_guard(io_)) {
    auto server = control::Server::open(
        io_, path_, [fence](const Json& req, const control::PeerCredentials&) -> Result<Json> {
          const std::string cmd = req.value("command", "");
          if (cmd == "status") {
            return Json::parse(R"({"ok": true, "node": {"id": 1, "name": "node1"},
              "ring": {"id": "1.10", "members": [1]},
              "nodes": [{"id": 1, "name": "node1", "online": true},
                        {"id": 2, "name": "node2", "online": false}],
              "quorum": {"quorate": false}})");
          }
          if (cmd == "controller_fence" && fence) return fence(req);
          return fail("unknown command '" + cmd + "'");
        });
    EXPECT_TRUE(server.ok());
    server_ = std::move(*server);
    loop_ = std::thread([this] { io_.run(); });
  }
  ~FakeDaemon() {
    work_.reset();
    io_.stop();
    loop_.join();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<control::Server> server_;
  std::thread loop_;
};

class WithDaemon : public ::testing::Test {
 public:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-opsd-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "cib.xml") << reference_cib();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(WithDaemon, StatusTakesMembershipAndQuorumFromTheDaemon) {
  FakeDaemon daemon(dir_, nullptr);
  auto r = run({"status", "--socket", daemon.path(), "--cib", (dir_ / "cib.xml").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("  * Current DC: node1 (version 2.1.5-a3f44794f94) - partition WITHOUT "
                       "quorum\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  * Online: [ node1 ]\n  * OFFLINE: [ node2 ]\n"), std::string::npos)
      << r.out;
  // The daemon alone (no CIB given): its nodes.
  r = run({"status", "--socket", daemon.path(), "--output-as", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = Json::parse(r.out);
  EXPECT_EQ(j["summary"]["ring_id"], "1.10");
  EXPECT_EQ(j["nodes"][1]["name"], "node2");
  EXPECT_EQ(j["nodes"][1]["online"], false);
}

TEST_F(WithDaemon, FenceAsksTheController) {
  {
    FakeDaemon old(dir_, nullptr);
    auto r = run({"node", "fence", "node2", "--socket", old.path()});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "ERROR: fencing node2 failed: unknown command 'controller_fence'\n");
  }
  std::string asked;
  FakeDaemon daemon(dir_, [&](const Json& req) -> Result<Json> {
    asked = req.value("node", "");
    if (asked == "node9") return fail("node9 is not a cluster node");
    return Json{{"ok", true}};
  });
  auto r = run({"node", "fence", "node2", "--socket", daemon.path()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(asked, "node2");
  EXPECT_EQ(r.out, "INFO: node node2 fenced\n");
  r = run({"node", "fence", "node9", "--socket", daemon.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ERROR: fencing node9 failed: node9 is not a cluster node\n");
}

}  // namespace
}  // namespace vigil::cli
