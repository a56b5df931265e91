// Clone notifications across three real vigild on 127.0.0.1-3: a promotable clone with
// notify=true of Pacemaker's own ocf:pacemaker:Stateful (Debian's pacemaker-resource-agents)
// starts on every node and is promoted on n1, and every notification reaches every instance
// concerned with the lists Pacemaker would give it. The agent in the test's OCF root is a
// recorder in front of Pacemaker's Stateful: it appends each notification's
// OCF_RESKEY_CRM_meta_notify_* environment to a file, and gives each node its own state directory
// (HA_VARRUN, which separate hosts would not share), then runs Stateful itself.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kStateful = "/usr/lib/ocf/resource.d/pacemaker/Stateful";

// One notification as the agent saw it: the node it ran on and its notify_* variables.
struct Notice {
  std::string node;
  std::map<std::string, std::string> vars;
  std::string get(const std::string& k) const {
    auto it = vars.find(k);
    return it == vars.end() ? "" : it->second;
  }
};

std::set<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::set<std::string> out;
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

class NotifyCluster {
 public:
  NotifyCluster() : cluster_(spec(), "notify") {
    const auto ocf = cluster_.dir() / "ocf";
    fs::create_directories(ocf / "resource.d" / "pacemaker");
    std::error_code ec;
    fs::create_directory_symlink("/usr/lib/ocf/lib", ocf / "lib", ec);
    // Stateful finds the shell functions through the heartbeat provider's directory.
    fs::create_directory_symlink("/usr/lib/ocf/resource.d/heartbeat", ocf / "resource.d" / "heartbeat", ec);
    const auto agent = ocf / "resource.d" / "pacemaker" / "Stateful";
    std::ofstream(agent) << "#!/bin/sh\n"
                            "if [ \"$1\" = notify ]; then\n"
                            "  record=\"BEGIN $OCF_RESKEY_CRM_meta_on_node\n"
                            "$(env | grep '^OCF_RESKEY_CRM_meta_notify_' | sort)\nEND\"\n"
                            "  printf '%s\\n' \"$record\" >> '"
                         << log().string()
                         << "'\n"
                            "fi\n"
                            "HA_VARRUN=\"$HA_RSCTMP\" exec "
                         << kStateful << " \"$@\"\n";
    fs::permissions(agent, fs::perms::owner_all);
    ::setenv("VIGIL_OCF_ROOT", ocf.c_str(), 1);
  }
  ~NotifyCluster() {
    for (int n = 1; n <= 3; ++n) cluster_.kill_now(n);
    ::unsetenv("VIGIL_OCF_ROOT");
  }

  static ClusterSpec spec() {
    ClusterSpec s;
    s.nodes = 3;
    return s;
  }

  fs::path log() const { return cluster_.dir() / "notifications"; }
  TestCluster& nodes() { return cluster_; }

  bool start_all() {
    for (int n = 1; n <= 3; ++n) cluster_.start(n);
    return eventually(
        [&] {
          for (int n = 1; n <= 3; ++n) {
            auto s = cluster_.status(n);
            if (!s.ok() || (*s)["ring"]["members"].size() != 3 ||
                !(*s)["cib"].value("synced", false) || (*s)["controller"]["dc"].is_null())
              return false;
          }
          return true;
        },
        30s);
  }

  int configure(const std::string& lines, std::string* out) {
    const std::string command = "printf '%s' '" + lines + "' | VIGIL_SOCKET=" +
                                cluster_.socket(1) + " " + VIGIL_PATH +
                                " configure 2>&1; echo \"rc=$?\"";
    *out = capture(command);
    const auto at = out->rfind("rc=");
    return at == std::string::npos ? -1 : std::atoi(out->c_str() + at + 3);
  }

  std::vector<Notice> notices() const {
    std::ifstream in(log());
    std::vector<Notice> out;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("BEGIN ", 0) == 0) {
        out.push_back({line.substr(6), {}});
      } else if (!out.empty() && line.rfind("OCF_RESKEY_CRM_meta_", 0) == 0) {
        const auto eq = line.find('=');
        out.back().vars[line.substr(20, eq - 20)] = line.substr(eq + 1);
      }
    }
    return out;
  }

  // The notifications of one kind ("post" "start"), by node.
  std::map<std::string, Notice> of(const std::string& type, const std::string& operation) const {
    std::map<std::string, Notice> out;
    for (const auto& n : notices()) {
      if (n.get("notify_type") == type && n.get("notify_operation") == operation) out[n.node] = n;
    }
    return out;
  }

  std::string logs() const {
    std::string all;
    for (int n = 1; n <= 3; ++n) all += "---- n" + std::to_string(n) + "\n" + cluster_.log_text(n);
    std::ifstream in(log());
    return all + "---- notifications\n" + std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TestCluster cluster_;
};

TEST(Notifications, StatefulPromotableCloneIsToldOfItsStartAndPromotion) {
  ASSERT_TRUE(fs::exists(kStateful)) << "Debian's pacemaker-resource-agents is not installed";
  NotifyCluster c;
  ASSERT_TRUE(c.start_all()) << c.logs();
  std::string out;
  ASSERT_EQ(c.configure("property stonith-enabled=false\n"
                        "primitive st ocf:pacemaker:Stateful "
                        "op monitor interval=5s role=Promoted op monitor interval=6s "
                        "role=Unpromoted\n"
                        "clone ms st meta promotable=true notify=true\n"
                        "location ms-on-n1 ms role=Promoted 100: n1\n",
                        &out),
            0)
      << out;

  const std::set<std::string> all = {"n1", "n2", "n3"};
  // After the starts, every instance hears of all three; then of n1's promotion, before and after.
  ASSERT_TRUE(eventually([&] { return c.of("post", "promote").size() == 3; }, 60s)) << c.logs();
  const auto started = c.of("post", "start");
  ASSERT_EQ(started.size(), 3u) << c.logs();
  for (const auto& [node, n] : started) {
    EXPECT_EQ(n.get("notify_key_type"), "post") << node;
    EXPECT_EQ(n.get("notify_key_operation"), "running") << node;
    EXPECT_EQ(words(n.get("notify_start_uname")), all) << node;
    EXPECT_EQ(words(n.get("notify_start_resource")), (std::set<std::string>{"st:0", "st:1", "st:2"}))
        << node;
    EXPECT_EQ(words(n.get("notify_all_uname")), all) << node;
    EXPECT_EQ(words(n.get("notify_stop_resource")), std::set<std::string>{}) << node;
  }
  // Nothing ran before the start: no instance was there to be told of it.
  EXPECT_TRUE(c.of("pre", "start").empty()) << c.logs();
  for (const char* type : {"pre", "post"}) {
    const auto promoted = c.of(type, "promote");
    EXPECT_EQ(promoted.size(), 3u) << type << "\n" << c.logs();
    for (const auto& [node, n] : promoted) {
      EXPECT_EQ(n.get("notify_promote_uname"), "n1") << type << " on " << node;
      EXPECT_EQ(words(n.get("notify_promote_resource")).size(), 1u) << type << " on " << node;
      // The roles as they were when the transition was computed: nothing promoted yet.
      EXPECT_EQ(words(n.get("notify_promoted_uname")), std::set<std::string>{}) << type;
      EXPECT_EQ(words(n.get("notify_active_uname")), words(n.get("notify_unpromoted_uname")))
          << type << " on " << node;
      EXPECT_EQ(n.get("notify_unpromoted_uname"), n.get("notify_slave_uname"));
    }
  }
  // The promotion took: Stateful's state file on n1 says so.
  EXPECT_TRUE(eventually(
      [&] {
        std::ifstream in(c.nodes().dir() / "run1" / "rsctmp" / "Stateful-st.state");
        std::string state;
        return (in >> state) && state == "Promoted";
      },
      20s))
      << c.logs();
}

}  // namespace
}  // namespace vigil::test
