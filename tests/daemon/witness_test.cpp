// Two vigild nodes and `vigil witness` on loopback (issue 21's quorum device): the witness's vote
// counts on both while they see each other; a frozen node's peer keeps quorum thanks to it; and
// the witness lost while both run changes nothing. Its log names a stranger's connection in its
// own words, also once the peer has reset it. Every wait is bounded; the witness process is
// started here and ended by its pid.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

// A TCP port on 127.0.0.3 below TestCluster's UDP range (30000 and up), one per test process.
int witness_port() {
  return 10000 + ::getpid() % 20000;
}

std::string device_section() {
  return "provider: corosync_votequorum\n  device {\n    model: net\n    votes: 1\n"
         "    timeout: 2000\n    net {\n      host: 127.0.0.3\n      port: " +
         std::to_string(witness_port()) + "\n    }\n  }";
}

// `vigil witness` started by path, its stderr in `log`; killed by its pid if still running.
class WitnessProcess {
 public:
  WitnessProcess(const fs::path& key, const fs::path& log) : log_(log) {
    std::vector<std::string> args{VIGIL_PATH, "witness",
                                  "--listen", "127.0.0.3:" + std::to_string(witness_port()),
                                  "--key",    key.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string logfile = log.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(logfile.c_str(), "a");
      if (out != nullptr) ::dup2(::fileno(out), 2);
      ::execv(VIGIL_PATH, argv.data());
      ::_exit(127);
    }
  }
  ~WitnessProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  WitnessProcess(const WitnessProcess&) = delete;
  WitnessProcess& operator=(const WitnessProcess&) = delete;

  // SIGTERM, then its exit status within `limit` (-1 if it did not exit).
  int terminate(std::chrono::milliseconds limit) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit)) return -1;
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string log_text() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  fs::path log_;
  pid_t pid_ = 0;
};

struct Votes {
  bool quorate = false;
  int total = 0;
  bool cast = false;
  std::vector<int> members;
};
Votes votes(const TestCluster& c, int n) {
  auto s = c.status(n);
  if (!s.ok()) return {};
  const auto& q = (*s)["quorum"];
  Votes v;
  v.quorate = q.value("quorate", false);
  v.total = q.value("total_votes", 0);
  v.cast = q.contains("device") && q["device"].value("cast", false);
  v.members = (*s)["ring"]["members"].get<std::vector<int>>();
  return v;
}

TEST(Witness, OfTwoNodesTheOneLeftKeepsQuorumAndLosingTheWitnessChangesNothing) {
  ClusterSpec spec;
  spec.nodes = 2;
  spec.quorum = device_section();
  TestCluster c(spec, "witness");
  WitnessProcess witness(c.key_path(), c.dir() / "witness.log");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 20s));
  const auto all_three = [&](int n) {
    const auto v = votes(c, n);
    return v.quorate && v.total == 3 && v.cast && v.members == std::vector<int>{1, 2};
  };
  for (int n : {1, 2})
    ASSERT_TRUE(eventually([&] { return all_three(n); }, 20s))
        << "n" << n << " never counted the witness\n"
        << c.log_text(n) << "\nwitness:\n"
        << witness.log_text();
  const auto table =
      capture(std::string(VIGIL_PATH) + " quorum status --socket " + c.socket(1) + " 2>&1");
  EXPECT_NE(table.find("Flags:            Quorate Qdevice \n"), std::string::npos) << table;
  EXPECT_NE(table.find("    A,V,NMW n1 (local)\n"), std::string::npos) << table;
  EXPECT_NE(table.find("         0          1            Qdevice\n"), std::string::npos) << table;

  // n2 frozen: n1's ring shrinks to itself, and once the witness's grant to {1, 2} has run out
  // (the device timeout, 2 s), the vote goes to {1}: 2 of 3 votes.
  c.signal(2, SIGSTOP);
  EXPECT_TRUE(eventually(
      [&] {
        const auto v = votes(c, 1);
        return v.members == std::vector<int>({1}) && v.quorate && v.total == 2 && v.cast;
      },
      30s))
      << c.log_text(1) << "\nwitness:\n"
      << witness.log_text();
  EXPECT_NE(witness.log_text().find("cluster test: the vote goes to nodes 1\n"), std::string::npos)
      << witness.log_text();
  c.signal(2, SIGCONT);
  ASSERT_TRUE(ring_formed(c, {1, 2}, 30s));
  for (int n : {1, 2}) EXPECT_TRUE(eventually([&] { return all_three(n); }, 20s)) << c.log_text(n);

  // The witness stops (cleanly, on SIGTERM): its vote runs out on both, both stay quorate.
  EXPECT_EQ(witness.terminate(10s), 0) << witness.log_text();
  for (int n : {1, 2})
    EXPECT_TRUE(eventually([&] { return !votes(c, n).cast; }, 10s)) << c.log_text(n);
  // Each says why the vote stopped counting, as a warning.
  for (int n : {1, 2})
    EXPECT_TRUE(eventually(
        [&] {
          return c.log_text(n).find(
                     "quorum device: the witness's vote ran out without a renewal") !=
                 std::string::npos;
        },
        5s))
        << c.log_text(n);
  for (int sample = 0; sample < 10; ++sample) {
    for (int n : {1, 2}) {
      const auto v = votes(c, n);
      EXPECT_TRUE((v.quorate && v.total == 2 && v.members == std::vector<int>{1, 2}))
          << "n" << n << " at sample " << sample << "\n"
          << c.log_text(n);
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_NE(c.log_text(1).find("quorum device: the witness at 127.0.0.3"), std::string::npos);
}

// A TCP connection from 127.0.0.1 to the witness, and the local port it came from.
struct RawPeer {
  int fd = -1;
  int port = 0;
};
RawPeer connect_raw() {
  RawPeer peer;
  peer.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(witness_port()));
  ::inet_pton(AF_INET, "127.0.0.3", &to.sin_addr);
  if (::bind(peer.fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(peer.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
    return peer;
  socklen_t len = sizeof from;
  ::getsockname(peer.fd, reinterpret_cast<sockaddr*>(&from), &len);
  peer.port = ntohs(from.sin_port);
  return peer;
}

TEST(Witness, ItsLogNamesAStrangerInItsOwnWordsAlsoAfterThePeerResetTheConnection) {
  ClusterSpec spec;
  spec.nodes = 2;
  TestCluster c(spec, "witness-log");
  WitnessProcess witness(c.key_path(), c.dir() / "witness.log");
  const auto logged = [&](const std::string& text) {
    return eventually([&] { return witness.log_text().find(text) != std::string::npos; }, 10s);
  };
  ASSERT_TRUE(logged("listening on TCP")) << witness.log_text();

  // An HTTP client at the witness's port: its first 8 bytes are no frame head of the witness's.
  const auto stranger = connect_raw();
  ASSERT_NE(stranger.port, 0) << std::strerror(errno);
  const std::string request = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(::write(stranger.fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  EXPECT_TRUE(logged("connection from 127.0.0.1:" + std::to_string(stranger.port) +
                     " ended before a valid ask: witness frame: not a vigil witness frame\n"))
      << witness.log_text();
  ::close(stranger.fd);

  // A peer that resets its connection: the socket no longer knows its address, the log does.
  const auto reset = connect_raw();
  ASSERT_NE(reset.port, 0) << std::strerror(errno);
  std::this_thread::sleep_for(200ms);  // most often accepted by then; the name must not depend on it
  const linger abort_on_close{1, 0};
  ::setsockopt(reset.fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::close(reset.fd);
  EXPECT_TRUE(logged("connection from 127.0.0.1:" + std::to_string(reset.port) +
                     " ended before a valid ask: "))
      << witness.log_text();
  EXPECT_EQ(witness.log_text().find("connection from ?"), std::string::npos) << witness.log_text();
}

}  // namespace
}  // namespace vigil::test
