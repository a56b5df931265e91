// demo: `vigil demo`, the guide's web service on a three-node cluster that needs no root. Three
// vigild processes on 127.0.0.1–3 in a temporary directory, the guide's group made of agents
// shipped with vigil (ocf:vigil:vip records the address, ocf:vigil:webserver really serves HTTP on
// it), the status shown, the active node failing — by default a power loss (its services killed,
// its vigild frozen, so no packet and no ICMP error tells the others: they notice when the token
// stops), or with --fault kill a kill -9 of its vigild (its kernel then refuses the next datagram,
// which the others take as the process being gone) — and the time until the web page answers
// again from a survivor. Everything it made
// is removed on exit or Ctrl-C; it only ever signals processes it started or that its nodes'
// agents recorded in their own run directories.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "cli/cli.h"
#include "cli/demo.h"
#include "config/config.h"
#include "control/control.h"

namespace vigil::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using control::Json;

constexpr int kNodes = 3;
constexpr const char* kVip = "127.0.0.10";

volatile std::sig_atomic_t interrupted = 0;
extern "C" void on_interrupt(int) {
  interrupted = 1;
}

// Where ocf:vigil:* live: $VIGIL_AGENTS_DIR, the source tree this binary was built from, or the
// OCF provider directory an installed vigil uses.
std::optional<fs::path> vigil_agents() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("VIGIL_AGENTS_DIR")) candidates.emplace_back(env);
  candidates.emplace_back(fs::path(VIGIL_SOURCE_AGENTS));
  candidates.emplace_back("/usr/lib/ocf/resource.d/vigil");
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::exists(c / "webserver", ec) && fs::exists(c / "vip", ec)) return c;
  }
  return std::nullopt;
}

std::string elapsed(Clock::time_point since) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// One GET to the web service; its body, or nothing when nobody answers.
std::optional<std::string> fetch_page(const std::string& address, int port) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::error_code ec;
  socket.connect({asio::ip::make_address(address), static_cast<unsigned short>(port)}, ec);
  if (ec) return std::nullopt;
  const std::string request = "GET / HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  asio::write(socket, asio::buffer(request), ec);
  if (ec) return std::nullopt;
  std::string reply;
  std::array<char, 4096> buf{};
  for (int i = 0; i < 64; ++i) {
    const auto n = socket.read_some(asio::buffer(buf), ec);
    reply.append(buf.data(), n);
    if (ec) break;
  }
  const auto body = reply.find("\r\n\r\n");
  if (reply.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) return std::nullopt;
  auto text = reply.substr(body + 4);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class Demo {
 public:
  Demo(Cli& cli, Millis token, bool power_loss)
      : cli_(cli), token_(token), power_loss_(power_loss) {}
  ~Demo() { clean_up(); }
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  int run() {
    if (auto made = prepare(); !made.ok()) return failed(made.error().message);
    say("a 3-node cluster in " + dir_.string() + " (token " + std::to_string(token_) + " ms)");
    for (int n = 1; n <= kNodes; ++n) start_node(n);
    if (!until([&] { return ring_everywhere(); }, 30000))
      return failed("the three nodes did not form one ring within 30 s; see " + dir_.string());
    say("ring formed: n1 n2 n3, partition with quorum");
    if (!configure()) return failed("configuring the cluster failed");
    std::string page;
    // The primitives start before the group joins them, so they may start apart and one then
    // moves: wait until both members run on one node and every controller is idle (the starts
    // are recorded, not just under way).
    if (!until([&] { return answers(page) && group_node() != 0 && controllers_idle(); }, 60000))
      return failed("the group did not start on one node answering " + url() + " within 60 s");
    say(url() + " answers: \"" + page + "\"");
    show_status(1);
    return fail_over(group_node());
  }

  // Stops the nodes and removes the directory; false when a vigild exited on its own or wrote a
  // sanitizer report (said on stderr, and the directory is kept with the logs).
  bool clean_up() {
    if (cleaned_) return true;
    cleaned_ = true;
    for (auto& [n, pid] : pids_) {
      if (pid <= 0) continue;
      ::kill(pid, SIGTERM);
      ::kill(pid, SIGCONT);  // a node frozen by the power loss hears it too
      sent_[n] = SIGTERM;
    }
    for (auto& [n, pid] : pids_) {
      if (pid <= 0) continue;
      int& status = statuses_[n];
      for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        sent_[n] = SIGKILL;
      }
      pid = 0;
    }
    for (int n = 1; n <= kNodes; ++n) kill_agent_processes(n);
    bool clean = true;
    for (const auto& [n, status] : statuses_) {
      if (auto trouble = child_trouble(status, sent_[n], log(n).string())) {
        cli_.err() << "vigil demo: n" << n << "'s vigild " << *trouble << "\n";
        clean = false;
        keep_ = true;
      }
    }
    std::error_code ec;
    if (!dir_.empty() && !keep_) fs::remove_all(dir_, ec);
    if (keep_ && !dir_.empty()) cli_.err() << "kept " << dir_.string() << " for inspection\n";
    return clean;
  }

 private:
  std::string url() const { return "http://" + std::string(kVip) + ":" + std::to_string(port_); }

  void say(const std::string& text) {
    cli_.out() << "[" << elapsed(started_) << "] " << text << "\n" << std::flush;
  }
  int failed(const std::string& why) {
    // After Ctrl-C whatever was under way stops short: that is no failure to report.
    if (interrupted != 0) {
      cli_.err() << "vigil demo: interrupted; stopping the nodes and removing " << dir_.string()
                 << "\n";
      return 130;
    }
    cli_.err() << "vigil demo: " << why << "\n";
    for (int n = 1; n <= kNodes; ++n) cli_.err() << "  log of n" << n << ": " << log(n) << "\n";
    keep_ = true;
    return 1;
  }

  fs::path run_dir(int n) const { return dir_ / ("run" + std::to_string(n)); }
  fs::path log(int n) const { return dir_ / ("n" + std::to_string(n) + ".log"); }
  std::string socket(int n) const { return control::socket_in(run_dir(n).string()); }

  Result<void> prepare() {
    auto agents = vigil_agents();
    if (!agents)
      return fail("cannot find the ocf:vigil agents (set VIGIL_AGENTS_DIR to agents/ocf/vigil)");
    char pattern[] = "/tmp/vigil-demo-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return fail("cannot make a temporary directory");
    dir_ = pattern;
    std::error_code ec;
    // An OCF root of its own: Debian's agents and library, plus vigil's provider.
    const auto ocf = dir_ / "ocf";
    fs::create_directories(ocf / "resource.d", ec);
    fs::create_directory_symlink("/usr/lib/ocf/lib", ocf / "lib", ec);
    fs::create_directory_symlink("/usr/lib/ocf/resource.d/heartbeat",
                                 ocf / "resource.d" / "heartbeat", ec);
    fs::create_directory_symlink(fs::absolute(*agents), ocf / "resource.d" / "vigil", ec);
    if (ec) return fail("cannot lay out " + ocf.string() + ": " + ec.message());
    if (auto key = config::write_authkey((dir_ / "authkey").string(), false); !key.ok())
      return key.error();
    port_ = 20000 + static_cast<int>(::getpid() % 20000);
    std::ofstream c(dir_ / "corosync.conf");
    c << "totem {\n  version: 2\n  cluster_name: demo\n  transport: udpu\n"
      << "  crypto_cipher: aes256\n  crypto_hash: sha256\n  token: " << token_ << "\n"
      << "  keyfile: " << (dir_ / "authkey").string() << "\n"
      << "  interface {\n    linknumber: 0\n    mcastport: " << port_ << "\n  }\n}\n"
      << "nodelist {\n";
    for (int n = 1; n <= kNodes; ++n) {
      c << "  node {\n    ring0_addr: 127.0.0." << n << "\n    name: n" << n
        << "\n    nodeid: " << n << "\n  }\n";
    }
    c << "}\nquorum {\n  provider: corosync_votequorum\n}\n"
      << "logging {\n  to_stderr: yes\n  to_syslog: no\n  timestamp: hires\n}\n";
    if (!c) return fail("cannot write " + (dir_ / "corosync.conf").string());
    return {};
  }

  void start_node(int n) {
    fs::create_directories(run_dir(n));
    fs::create_directories(dir_ / ("state" + std::to_string(n)));
    const std::vector<std::string> args{beside_self("vigild"),
                                        "--config",
                                        (dir_ / "corosync.conf").string(),
                                        "--node",
                                        "n" + std::to_string(n),
                                        "--state-dir",
                                        (dir_ / ("state" + std::to_string(n))).string(),
                                        "--run-dir",
                                        run_dir(n).string(),
                                        "--foreground"};
    const std::string ocf_root = (dir_ / "ocf").string();
    const std::string webserver_dir =
        fs::path(beside_self("vigil-webserver", "agents")).parent_path().string();
    const std::string logfile = log(n).string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (std::FILE* out = std::fopen(logfile.c_str(), "a")) {
        ::dup2(::fileno(out), 1);
        ::dup2(::fileno(out), 2);
      }
      ::setpgid(0, 0);  // Ctrl-C reaches the demo, which stops the nodes itself
      ::setenv("VIGIL_OCF_ROOT", ocf_root.c_str(), 1);
      const char* path = std::getenv("PATH");
      const std::string search = webserver_dir + ":" + (path ? path : "/usr/bin:/bin");
      ::setenv("PATH", search.c_str(), 1);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pids_[n] = pid;
  }

  // Polls `done` every 50 ms for at most `limit` ms, or until Ctrl-C.
  bool until(const std::function<bool()>& done, Millis limit) {
    const auto end = Clock::now() + std::chrono::milliseconds(limit);
    while (Clock::now() < end && interrupted == 0) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  bool ring_everywhere() const {
    for (int n = 1; n <= kNodes; ++n) {
      auto s = control::request(socket(n), Json{{"command", "status"}}, 1000);
      if (!s.ok() || (*s)["ring"]["state"] != "operational" ||
          (*s)["ring"]["members"].size() != kNodes || (*s)["quorum"]["quorate"] != true) {
        return false;
      }
    }
    return true;
  }

  // Every controller but the failed node's is idle.
  bool controllers_idle(int failed = 0) const {
    for (int n = 1; n <= kNodes; ++n) {
      if (n == failed) continue;
      auto s = control::request(socket(n), Json{{"command", "status"}}, 1000);
      if (!s.ok() || !s->contains("controller") || (*s)["controller"]["state"] != "idle")
        return false;
    }
    return true;
  }

  // Runs `vigil ARGS…` against node n's daemon, the way a user would, and shows the command.
  int vigil(int n, const std::vector<std::string>& args, bool quiet = false) {
    if (interrupted != 0) return 130;
    std::string shown = "vigil";
    for (const auto& a : args) shown += " " + a;
    if (!quiet) cli_.out() << "  $ " << shown << "\n" << std::flush;
    std::vector<std::string> full{beside_self("vigil")};
    full.insert(full.end(), args.begin(), args.end());
    const std::string sock = socket(n);
    const std::string ocf_root = (dir_ / "ocf").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("VIGIL_SOCKET", sock.c_str(), 1);
      ::setenv("VIGIL_OCF_ROOT", ocf_root.c_str(), 1);  // configure checks the agents vigild runs
      ::unsetenv("CIB_file");
      std::vector<char*> argv;
      for (const auto& a : full) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return wait_for(pid);
  }

  // The command's exit code. Ctrl-C reaches a command in the terminal's process group by itself;
  // one the demo alone was signalled for is stopped here.
  static int wait_for(pid_t pid) {
    int status = 0;
    bool stopped = false;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return 128;
      if (interrupted != 0 && !stopped) stopped = ::kill(pid, SIGTERM) == 0;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  bool configure() {
    say("the guide's configuration, with agents that need no root:");
    const std::string port = std::to_string(port_);
    const std::vector<std::vector<std::string>> steps{
        {"configure", "property", "stonith-enabled=false"},
        {"configure", "property", "no-quorum-policy=ignore"},
        {"configure", "primitive", "vip", "ocf:vigil:vip", "params", std::string("ip=") + kVip,
         "cidr_netmask=24", "op", "monitor", "interval=10s", "timeout=20s", "on-fail=restart"},
        {"configure", "primitive", "httpd", "ocf:vigil:webserver", "params",
         std::string("ip=") + kVip, "port=" + port, "op", "monitor", "interval=2s", "timeout=20s"},
        {"configure", "group", "webservice", "vip", "httpd"},
    };
    for (const auto& step : steps) {
      if (vigil(1, step) != 0) return false;
    }
    return true;
  }

  void show_status(int n) {
    if (interrupted != 0) return;
    cli_.out() << "  $ vigil status   (on n" << n << ")\n" << std::flush;
    vigil(n, {"status"}, true);
  }

  bool answers(std::string& page) const {
    auto p = fetch_page(kVip, port_);
    if (p) page = *p;
    return p.has_value();
  }

  // The node running the whole group, or 0: the only node whose run directory shows a live
  // vigil-webserver, and the only one holding the address (each node's agents keep their state in
  // their own run directory). A failed node's leftovers do not count.
  int group_node(int failed = 0) const {
    int found = 0;
    for (int n = 1; n <= kNodes; ++n) {
      if (n == failed) continue;
      std::ifstream in(run_dir(n) / "rsctmp" / "vigil-webserver-httpd.pid");
      long pid = 0;
      const bool serving = in >> pid && pid > 1 && ::kill(static_cast<pid_t>(pid), 0) == 0;
      const bool holding = fs::exists(run_dir(n) / "rsctmp" / "vigil-vip-vip.state");
      if (serving != holding || (serving && found != 0)) return 0;
      if (serving) found = n;
    }
    return found;
  }

  int fail_over(int active) {
    say("n" + std::to_string(active) +
        (power_loss_ ? " loses power: its services die and its vigild freezes"
                     : "'s vigild is killed (kill -9), and its services with it"));
    const auto killed = Clock::now();
    bring_down(active);
    std::string page;
    const bool back = until([&] { return answers(page) && group_node(active) != 0; }, 60000);
    if (!back) return failed("the web service did not come back within 60 s");
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count();
    say(url() + " answers again: \"" + page + "\"");
    cli_.out() << "\nfailover: " << took << " ms from the "
               << (power_loss_ ? "power loss" : "kill -9") << " to the page answering (token "
               << token_ << " ms)\n\n";
    end(active);
    // The page answers as soon as the server listens; the status shows the start recorded.
    until([&] { return controllers_idle(active); }, 10000);
    show_status(active == 1 ? 2 : 1);
    return 0;
  }

  // Node n fails: every agent process it left running dies, and its vigild is killed or, for a
  // power loss, stopped: a frozen process keeps its socket, so nothing answers for it.
  void bring_down(int n) {
    kill_agent_processes(n);
    if (power_loss_) {
      ::kill(pids_[n], SIGSTOP);
    } else {
      end(n);
    }
  }

  void end(int n) {
    if (pids_[n] <= 0) return;
    ::kill(pids_[n], SIGKILL);
    ::waitpid(pids_[n], &statuses_[n], 0);
    sent_[n] = SIGKILL;
    pids_[n] = 0;
  }

  // The pids the node's agents recorded in its own run directory (rsctmp/*.pid).
  void kill_agent_processes(int n) {
    std::error_code ec;
    // Only rsctmp: vigild's own pid file (in the run directory itself) is not an agent's.
    for (const auto& e : fs::recursive_directory_iterator(run_dir(n) / "rsctmp", ec)) {
      if (e.path().extension() != ".pid") continue;
      std::ifstream in(e.path());
      long pid = 0;
      if (in >> pid && pid > 1 && pid != ::getpid()) ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
  }



  Cli& cli_;
  Millis token_;
  bool power_loss_;
  fs::path dir_;
  int port_ = 0;
  std::map<int, pid_t> pids_;
  std::map<int, int> statuses_;  // each reaped vigild's wait status
  std::map<int, int> sent_;      // the signal that ended it, by us
  bool keep_ = false;
  bool cleaned_ = false;
  Clock::time_point started_ = Clock::now();
};

void add_demo_commands(Cli& cli) {
  auto* sub = cli.app().add_subcommand(
      "demo", "a 3-node cluster on 127.0.0.1-3 serving a web page, and a failover (no root)");
  auto token = std::make_shared<Millis>(1000);
  sub->add_option("--token", *token, "the totem token timeout in ms")
      ->check(CLI::Range(200, 30000));
  auto fault = std::make_shared<std::string>("power");
  sub->add_option("--fault", *fault,
                  "power: the active node loses power (default); kill: kill -9 of its vigild")
      ->check(CLI::IsMember({"power", "kill"}));
  cli.on(sub, [&cli, token, fault] {
    interrupted = 0;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    Demo demo(cli, *token, *fault == "power");
    int code = demo.run();
    if (!demo.clean_up() && code == 0) code = 1;
    if (interrupted != 0) code = 130;
    return code;
  });
}

}  // namespace

std::optional<std::string> child_trouble(int wait_status, int sent, const std::string& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    for (const char* marker :
         {"runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer"}) {
      if (line.find(marker) != std::string::npos)
        return "wrote a sanitizer report in " + log + ": " + line;
    }
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0)
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status)) + "; see " + log;
  if (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) != sent)
    return "died of signal " + std::to_string(WTERMSIG(wait_status)) + "; see " + log;
  return std::nullopt;
}

VIGIL_COMMANDS(95, add_demo_commands);

}  // namespace vigil::cli
