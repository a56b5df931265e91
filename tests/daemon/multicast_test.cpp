// The guide's multicast setup (transport udp, bindnetaddr/mcastaddr/mcastport, no nodelist):
// three vigild in three network namespaces joined by a bridge find each other on the group and
// derive their node ids from their addresses. Needs root for the namespaces; skipped otherwise.
#include <gtest/gtest.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

int sh(const std::string& command) {
  return std::system(command.c_str());
}

// Three namespaces n1..n3 with 10.<subnet>.0.i/24 on veths into a bridge in a fourth; all
// deleted (with their veths) when this goes out of scope.
class Namespaces {
 public:
  explicit Namespaces(const std::string& tag, int subnet) : tag_(tag) {
    ok_ = sh("ip netns add " + tag_ + "br && ip -n " + tag_ +
             "br link add br0 type bridge && ip -n " + tag_ + "br link set br0 up") == 0;
    for (int i = 1; i <= 3 && ok_; ++i) {
      const std::string ns = tag_ + std::to_string(i), v = tag_ + "v" + std::to_string(i),
                        p = tag_ + "p" + std::to_string(i);
      ok_ = sh("ip netns add " + ns + " && ip link add " + v + " type veth peer name " + p +
               " && ip link set " + v + " netns " + ns + " && ip link set " + p + " netns " + tag_ +
               "br && ip -n " + ns + " addr add 10." + std::to_string(subnet) + ".0." +
               std::to_string(i) + "/24 dev " + v + " && ip -n " + ns + " link set " + v +
               " up && ip -n " + ns + " link set lo up && ip -n " + tag_ + "br link set " + p +
               " master br0 && ip -n " + tag_ + "br link set " + p + " up") == 0;
    }
  }
  ~Namespaces() {
    for (const char* s : {"1", "2", "3", "br"}) sh("ip netns del " + tag_ + s + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  std::string name(int i) const { return tag_ + std::to_string(i); }

 private:
  std::string tag_;
  bool ok_ = false;
};

class Multicast : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
    if (sh("command -v ip >/dev/null") != 0) GTEST_SKIP() << "no ip(8)";
  }
};

TEST_F(Multicast, NodesFindEachOtherOnTheGroupWithoutANodelist) {
  const int subnet = 200 + ::getpid() % 50;
  Namespaces ns("vm" + std::to_string(::getpid() % 100000), subnet);
  ASSERT_TRUE(ns.ok());
  const fs::path dir = fs::temp_directory_path() / ("vigil-mcast-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_key(dir / "authkey", 3);
  {
    std::ofstream c(dir / "corosync.conf");
    c << "totem {\n version: 2\n cluster_name: mcast\n transport: udp\n token: 600\n"
      << " crypto_cipher: aes256\n crypto_hash: sha256\n clear_node_high_bit: yes\n keyfile: "
      << (dir / "authkey").string() << "\n interface {\n  ringnumber: 0\n  bindnetaddr: 10."
      << subnet << ".0.0\n  mcastaddr: 239.255." << subnet
      << ".1\n  mcastport: 5405\n  ttl: 1\n }\n}\nquorum {\n provider: corosync_votequorum\n "
         "expected_votes: 3\n}\n"
      << "logging {\n to_stderr: yes\n to_syslog: no\n}\n";
  }
  std::vector<pid_t> pids;
  auto run_dir = [&](int i) { return (dir / ("run" + std::to_string(i))).string(); };
  for (int i = 1; i <= 3; ++i) {
    fs::create_directories(run_dir(i));
    const std::string state = (dir / ("state" + std::to_string(i))).string();
    fs::create_directories(state);
    const std::string log = (dir / ("n" + std::to_string(i) + ".log")).string();
    const std::string config = (dir / "corosync.conf").string(), run = run_dir(i),
                      name = ns.name(i);
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::FILE* out = std::fopen(log.c_str(), "a");
      if (out != nullptr) {
        ::dup2(::fileno(out), 1);
        ::dup2(::fileno(out), 2);
      }
      ::execlp("ip", "ip", "netns", "exec", name.c_str(), VIGILD_PATH, "--config", config.c_str(),
               "--state-dir", state.c_str(), "--run-dir", run.c_str(), "--foreground",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  auto members = [&](int i) -> std::size_t {
    auto s = control::request(control::socket_in(run_dir(i)), Json{{"command", "status"}}, 1000);
    if (!s.ok() || (*s)["ring"]["state"] != "operational") return 0;
    return (*s)["ring"]["members"].size();
  };
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(eventually([&] { return members(i) == 3; }, 20s)) << i;
  auto s = control::request(control::socket_in(run_dir(1)), Json{{"command", "status"}});
  ASSERT_TRUE(s.ok());
  // Node id from the address, as Corosync derives it: 10.<subnet>.0.1 as a big-endian number.
  EXPECT_EQ((*s)["node"]["id"], (10u << 24) | (static_cast<unsigned>(subnet) << 16) | 1u);
  EXPECT_EQ((*s)["quorum"]["quorate"], true);
  ::kill(pids[2], SIGKILL);
  ::waitpid(pids[2], nullptr, 0);
  EXPECT_TRUE(eventually([&] { return members(1) == 2; }, 15s));
  for (int i = 0; i < 2; ++i) {
    ::kill(pids[static_cast<std::size_t>(i)], SIGTERM);
    ::waitpid(pids[static_cast<std::size_t>(i)], nullptr, 0);
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::test
