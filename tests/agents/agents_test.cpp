// The agents vigil ships (agents/ocf/vigil) follow the OCF contract: the right exit codes through
// start / monitor / stop / monitor, meta-data, and, for the web server, real HTTP on its address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-agents-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs one agent action with the OCF environment; returns its exit code and output.
  int run(const std::string& agent, const std::string& action, const std::string& params,
          std::string* out = nullptr) {
    const std::string cmd = "env HA_RSCTMP=" + dir_ +
                            " OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=t1 " + params + " " +
                            VIGIL_AGENTS_DIR + "/" + agent + " " + action + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string text;
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) text.append(buf.data(), n);
    int status = pclose(p);
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string dir_;
};

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

std::string http_get(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (write(s, req, sizeof req - 1) > 0) {
      char buf[1024];
      for (ssize_t n; (n = read(s, buf, sizeof buf)) > 0;)
        reply.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(s);
  return reply;
}

TEST_F(AgentTest, VipLifecycle) {
  const std::string p = "OCF_RESKEY_ip=10.0.0.9";
  EXPECT_EQ(run("vip", "monitor", p), 7);
  EXPECT_EQ(run("vip", "start", p), 0);
  EXPECT_EQ(run("vip", "monitor", p), 0);
  EXPECT_EQ(run("vip", "stop", p), 0);
  EXPECT_EQ(run("vip", "monitor", p), 7);
  EXPECT_EQ(run("vip", "stop", p), 0) << "stop of a stopped resource succeeds";
  EXPECT_EQ(run("vip", "start", ""), 6) << "ip is required";
  EXPECT_EQ(run("vip", "frobnicate", p), 3);
}

TEST_F(AgentTest, WebserverServesHttpWhileStarted) {
  const int port = free_port();
  const std::string p = "OCF_RESKEY_ip=127.0.0.1 OCF_RESKEY_port=" + std::to_string(port) +
                        " OCF_RESKEY_body=hello-from-n1 OCF_RESKEY_binary=" + VIGIL_WEBSERVER;
  EXPECT_EQ(run("webserver", "monitor", p), 7);
  ASSERT_EQ(run("webserver", "start", p), 0);
  EXPECT_EQ(run("webserver", "monitor", p), 0);
  const std::string reply = http_get(port);
  EXPECT_NE(reply.find("200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find("hello-from-n1"), std::string::npos) << reply;
  EXPECT_EQ(run("webserver", "start", p), 0) << "start of a started resource succeeds";
  EXPECT_EQ(run("webserver", "stop", p), 0);
  EXPECT_EQ(run("webserver", "monitor", p), 7);
  EXPECT_EQ(http_get(port), "") << "nothing listens after stop";
}

TEST_F(AgentTest, WebserverMonitorSeesAKilledServer) {
  const int port = free_port();
  const std::string p = "OCF_RESKEY_ip=127.0.0.1 OCF_RESKEY_port=" + std::to_string(port) +
                        " OCF_RESKEY_binary=" + VIGIL_WEBSERVER;
  ASSERT_EQ(run("webserver", "start", p), 0);
  ASSERT_EQ(run("webserver", "monitor", p), 0);
  FILE* f = fopen((dir_ + "/vigil-webserver-t1.pid").c_str(), "r");
  ASSERT_NE(f, nullptr);
  int server = 0;
  ASSERT_EQ(fscanf(f, "%d", &server), 1);
  fclose(f);
  ASSERT_EQ(kill(server, SIGKILL), 0);
  // The killed server is not our child (it runs in its own session); wait until it is gone.
  for (int i = 0; i < 100 && kill(server, 0) == 0; ++i) usleep(20000);
  EXPECT_EQ(run("webserver", "monitor", p), 7);
  EXPECT_EQ(run("webserver", "stop", p), 0);
}

TEST_F(AgentTest, MetaDataIsWellFormedAndNamesTheAgent) {
  for (const char* agent : {"vip", "webserver"}) {
    std::string out;
    ASSERT_EQ(run(agent, "meta-data", "", &out), 0);
    EXPECT_NE(out.find(std::string("<resource-agent name=\"") + agent + "\""), std::string::npos);
    EXPECT_NE(out.find("</resource-agent>"), std::string::npos);
  }
}

TEST_F(AgentTest, WebserverRejectsBadConfiguration) {
  EXPECT_EQ(run("webserver", "start", "OCF_RESKEY_binary=" VIGIL_WEBSERVER), 6);
  EXPECT_EQ(run("webserver", "validate-all", "OCF_RESKEY_ip=127.0.0.1 OCF_RESKEY_port=x"), 6);
  EXPECT_EQ(
      run("webserver", "validate-all", "OCF_RESKEY_ip=127.0.0.1 OCF_RESKEY_binary=/nonexistent"),
      6);
}

}  // namespace
