// A cluster made without ssh and without a file copied by hand: `vigil cluster init` on the first
// node, `vigil cluster token` on a member, `vigil cluster join` on each new one (src/cli/
// bootstrap.cpp, daemon/join_service.h). Every node lives on 127.0.0.x with its own --config,
// --state-dir and --run-dir; the vigild processes detach, so they are ended by the pid their
// status names (only ever those this test started), and every wait is bounded.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cluster.h"
#include "config/join.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

std::string file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Bootstrap {
 public:
  explicit Bootstrap(const std::string& name)
      : dir_(fs::temp_directory_path() / ("vigil-" + name + "-" + std::to_string(::getpid()))),
        port_(static_cast<int>(30000 + (::getpid() % 1500) * 20 +
                               std::hash<std::string>{}(name) % 20)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Bootstrap() {
    for (const auto& [node, pid] : pids_) end(pid);
    if (!::testing::Test::HasFailure()) fs::remove_all(dir_);
  }

  fs::path config(int n) const { return dir_ / ("n" + std::to_string(n)) / "cluster.conf"; }
  fs::path key(int n) const { return dir_ / ("n" + std::to_string(n)) / "authkey"; }
  std::string run(int n) const { return (dir_ / ("n" + std::to_string(n)) / "run").string(); }
  std::string address(int n) const { return "127.0.0." + std::to_string(n); }
  int port() const { return port_; }

  // The flags that make node n one of several on this machine.
  std::string where(int n) const {
    return " --node-name n" + std::to_string(n) + " --address " + address(n) + " --config " +
           config(n).string() + " --state-dir " +
           (dir_ / ("n" + std::to_string(n)) / "state").string() + " --run-dir " + run(n);
  }
  // Runs vigil; its stdout, and its stderr after it when `with_errors`.
  static std::string vigil(const std::string& args, bool with_errors = true) {
    return capture(std::string(VIGIL_PATH) + " " + args + (with_errors ? " 2>&1" : " 2>/dev/null"));
  }
  std::string init(int n) {
    // Its standard output only: the token is its last line (the note about it goes to stderr).
    auto out = vigil("cluster init --name boot --transport udpu --port " + std::to_string(port_) +
                         where(n),
                     false);
    remember(n);
    return out;
  }
  std::string join(int n, const std::string& token, int member) {
    auto out = vigil("cluster join --token " + token + where(n) + " " + address(member));
    remember(n);
    return out;
  }
  // From n's vigild, named by its run directory or (`where` = "--socket") by its control socket.
  std::string token(int n, const std::string& extra = "",
                    const std::string& where = "--run-dir") const {
    const auto place = where == "--socket" ? control::socket_in(run(n)) : run(n);
    auto out = vigil("cluster token " + where + " " + place + extra, false);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  Result<Json> status(int n) const {
    return control::request(control::socket_in(run(n)), Json{{"command", "status"}}, 2000);
  }
  std::vector<int> members(int n) const {
    auto s = status(n);
    if (!s.ok() || (*s)["ring"]["state"] != "operational") return {};
    return (*s)["ring"]["members"].get<std::vector<int>>();
  }
  bool ring_of(const std::vector<int>& nodes) const {
    return eventually(
        [&] {
          for (int n : nodes) {
            if (members(n) != nodes) return false;
          }
          return true;
        },
        40s);
  }
  int pid(int n) const { return pids_.count(n) ? pids_.at(n) : 0; }

 private:
  // The vigild a command started for node n, by the pid it reports.
  void remember(int n) {
    if (auto s = status(n); s.ok()) pids_[n] = (*s)["pid"].get<int>();
  }
  // SIGKILL, then a bounded wait until the pid is gone (it is not our child: vigild detaches).
  static void end(int pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    eventually([&] { return ::kill(pid, 0) != 0; }, 5s);
  }

  fs::path dir_;
  int port_;
  std::map<int, int> pids_;
};

// A whole line that is a join token naming a member on loopback.
bool is_token(const std::string& line) {
  auto token = config::parse_token(line);
  return token.ok() && token->address.starts_with("127.0.0.");
}

// The token alone on the last line of init's standard output.
std::string last_line(const std::string& out) {
  auto text = out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

TEST(Bootstrap, InitAndTwoJoinsMakeAThreeNodeClusterAFourthJoinsAndIsRemovedLive) {
  Bootstrap b("boot3");
  auto out = b.init(1);
  ASSERT_NE(out.find("vigild started"), std::string::npos) << out;
  auto token = b.vigil("cluster init" + b.where(1), false);  // again: changes nothing
  EXPECT_NE(token.find("initialised already"), std::string::npos) << token;
  EXPECT_NE(token.find("nothing changed"), std::string::npos) << token;
  // init's own output, without its note on stderr, ends with the token alone on a line.
  const auto first = last_line(out);
  ASSERT_TRUE(is_token(first)) << out;
  struct stat st {};
  ASSERT_EQ(::stat(b.key(1).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
  EXPECT_EQ(st.st_size, 256);
  const auto text = file_text(b.config(1));
  for (const char* want : {"version: 2", "cluster_name: boot", "crypto_cipher: aes256",
                           "crypto_hash: sha256", "provider: corosync_votequorum",
                           "ring0_addr: 127.0.0.1", "name: n1", "nodeid: 1"})
    EXPECT_NE(text.find(want), std::string::npos) << want << " in\n" << text;

  out = b.join(2, first, 1);
  ASSERT_NE(out.find("joined cluster boot through 127.0.0.1 as n2"), std::string::npos) << out;
  // Any member hands out tokens: n3 joins through n2.
  const auto second = b.token(2);
  ASSERT_TRUE(is_token(second)) << second;
  out = b.join(3, second, 2);
  ASSERT_NE(out.find("joined cluster boot through 127.0.0.2 as n3"), std::string::npos) << out;
  ASSERT_TRUE(b.ring_of({1, 2, 3}));
  for (int n : {1, 2, 3}) {
    EXPECT_EQ(file_text(b.key(n)), file_text(b.key(1)));
    ASSERT_EQ(::stat(b.key(n).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0400u);
    EXPECT_TRUE(eventually([&] { return file_text(b.config(n)) == file_text(b.config(1)); }, 5s))
        << file_text(b.config(n));
    const auto s = b.status(n);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)["quorum"]["expected_votes"], 3);
    const auto shown = b.vigil("status --socket " + control::socket_in(b.run(n)));
    EXPECT_NE(shown.find("Online: [ n1 n2 n3 ]"), std::string::npos) << shown;
  }

  // A fourth joins and leaves while the three keep running, never restarted.
  out = b.join(4, b.token(3, "", "--socket"), 3);
  ASSERT_NE(out.find("as n4"), std::string::npos) << out;
  ASSERT_TRUE(b.ring_of({1, 2, 3, 4}));
  EXPECT_EQ((*b.status(1))["quorum"]["expected_votes"], 4);
  out = b.vigil("cluster stop --run-dir " + b.run(4));
  EXPECT_NE(out.find("vigild stopped"), std::string::npos) << out;
  ASSERT_TRUE(b.ring_of({1, 2, 3}));
  out = b.vigil("cluster remove n4 --run-dir " + b.run(1));
  EXPECT_NE(out.find("expected votes 3"), std::string::npos) << out;
  for (int n : {1, 2, 3}) {
    EXPECT_TRUE(eventually([&] { return (*b.status(n))["quorum"]["expected_votes"] == 3; }, 10s));
    EXPECT_EQ((*b.status(n))["pid"].get<int>(), b.pid(n));
    EXPECT_EQ(file_text(b.config(n)).find("n4"), std::string::npos);
  }
}

// A token whose secret no member issued, one used already, one expired, a malformed one and bytes
// that are no join frame at all: each refused with what is wrong, nothing written on the joiner,
// the member's nodelist unchanged and its vigild still up.
// A vigild that cannot be run is named with the system's reason, and init leaves no file behind.
TEST(Bootstrap, InitSaysWhyVigildCannotRunAndLeavesNothing) {
  Bootstrap b("bootnox");
  const auto out = Bootstrap::vigil("cluster init --name boot --transport udpu --vigild " +
                                    std::string("/nonexistent/vigild") + b.where(1));
  EXPECT_NE(out.find("cannot run /nonexistent/vigild: No such file or directory"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("did not start"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(b.config(1)));
  EXPECT_FALSE(fs::exists(b.key(1)));
}

TEST(Bootstrap, AWrongUsedOrExpiredTokenIsRefusedAndChangesNothing) {
  Bootstrap b("bootbad");
  const auto out = b.init(1);
  const auto token = last_line(out);
  ASSERT_TRUE(is_token(token)) << out;
  ASSERT_NE(b.join(2, token, 1).find("joined cluster boot"), std::string::npos);
  ASSERT_TRUE(b.ring_of({1, 2}));
  const auto member_config = file_text(b.config(1));

  auto wrong = token;
  wrong[4] = wrong[4] == 'a' ? 'b' : 'a';
  const auto expired = b.token(1, " --ttl 1");
  std::this_thread::sleep_for(1500ms);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {token, "the member refused: this join token was used already"},
      {wrong, "the member refused: the join token is not one this member issued"},
      {expired, "the member refused: this join token has expired"},
      {"VJ1-1234@127.0.0.1:1", "the join token is malformed"},
  };
  for (const auto& [given, why] : cases) {
    const auto text = b.join(3, given, 1);
    EXPECT_NE(text.find(why), std::string::npos) << text;
    EXPECT_NE(text.find("nothing written"), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(b.config(3)));
    EXPECT_FALSE(fs::exists(b.key(3)));
  }
  // Not a join frame, a head announcing 4 GiB, a sealed frame cut short: vigild answers or
  // closes, and goes on.
  for (const std::string& bytes : {std::string("GET / HTTP/1.0\r\n\r\n"),
                                  std::string("VJ\x01\x01\xff\xff\xff\xff", 8),
                                  std::string("VJ\x01\x01\x00\x00\x00\x40", 8) + "short"}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(b.port()));
    to.sin_addr.s_addr = htonl(0x7f000001);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<long>(bytes.size()));
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }
  std::this_thread::sleep_for(200ms);
  const auto s = b.status(1);
  ASSERT_TRUE(s.ok()) << "vigild on n1 no longer answers";
  EXPECT_EQ((*s)["pid"].get<int>(), b.pid(1));
  EXPECT_EQ((*s)["nodes"].size(), 2u);
  EXPECT_EQ((*s)["quorum"]["expected_votes"], 2);
  EXPECT_EQ(file_text(b.config(1)), member_config);
}

}  // namespace
}  // namespace vigil::test
