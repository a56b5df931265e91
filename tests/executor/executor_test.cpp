// The executor with real agents: Debian's resource-agents (Dummy, IPaddr2) and agents of the
// tests' own in tests/executor/data (hanging, noisy, LSB, fence).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "executor/executor.h"
#include "fixture.h"

namespace vigil::executor::testing {
namespace {

namespace fs = std::filesystem;

const char* kDummy = "ocf:heartbeat:Dummy";

bool have_dummy() {
  return ::access("/usr/lib/ocf/resource.d/heartbeat/Dummy", X_OK) == 0;
}

TEST(Executor, DummyStartMonitorStopMonitor) {
  if (!have_dummy()) GTEST_SKIP() << "resource-agents is not installed";
  ScratchDir dir;
  auto settings = system_settings(dir);
  std::vector<OcfCode> codes;
  for (const char* step : {"start", "monitor", "stop", "monitor"}) {
    auto r = run_action(settings, action("d1", kDummy, step));
    EXPECT_EQ(r.status, ExecStatus::Done) << step << ": " << r.reason << r.err;
    codes.push_back(r.rc);
    if (std::string(step) == "start") {
      // HA_RSCTMP is this node's run directory, so the state file lands there.
      EXPECT_TRUE(fs::exists(dir.path() + "/run/rsctmp/Dummy-d1.state"));
    }
  }
  EXPECT_EQ(codes,
            (std::vector<OcfCode>{OcfCode::Ok, OcfCode::Ok, OcfCode::Ok, OcfCode::NotRunning}));
}

TEST(Executor, OcfEnvironment) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  auto a = action("web-ip", "ocf:vigiltest:env", "monitor", 12000);
  a.interval = 10000;
  a.params = {{"ip", "10.0.0.1"}, {"rc", "7"}};
  a.meta = {{"depth", "10"}, {"on_node", "node-a"}, {"on_node_uuid", "3"}};
  auto r = run_action(settings, a);
  ASSERT_EQ(r.status, ExecStatus::Done) << r.reason;
  EXPECT_EQ(r.rc, OcfCode::NotRunning);
  EXPECT_EQ(r.exit_status, 7);
  for (const std::string& line :
       {"OCF_ROOT=" + settings.ocf_root, std::string("OCF_RA_VERSION_MAJOR=1"),
        std::string("OCF_RA_VERSION_MINOR=1"), std::string("OCF_RESOURCE_INSTANCE=web-ip"),
        std::string("OCF_RESOURCE_TYPE=env"), std::string("OCF_RESOURCE_PROVIDER=vigiltest"),
        std::string("OCF_RESKEY_ip=10.0.0.1"), std::string("OCF_RESKEY_CRM_meta_timeout=12000"),
        std::string("OCF_RESKEY_CRM_meta_interval=10000"),
        std::string("OCF_RESKEY_CRM_meta_name=monitor"), std::string("OCF_CHECK_LEVEL=10"),
        std::string("OCF_RESKEY_CRM_meta_on_node=node-a"),
        std::string("OCF_RESKEY_CRM_meta_on_node_uuid=3"),
        "HA_RSCTMP=" + dir.path() + "/run/rsctmp"}) {
    EXPECT_NE(r.out.find("\n" + line + "\n"), std::string::npos) << line;
  }
}

TEST(Executor, MissingAgentIsNotInstalled) {
  ScratchDir dir;
  auto r = run_action(test_settings(dir), action("x", "ocf:vigiltest:nonesuch", "start"));
  EXPECT_EQ(r.status, ExecStatus::NotExecuted);
  EXPECT_EQ(r.rc, OcfCode::NotInstalled);
  EXPECT_NE(r.reason.find("nonesuch"), std::string::npos);
}

void expect_group_gone(const ActionResult& r, const std::string& pidfile) {
  ASSERT_GT(r.pid, 0);
  EXPECT_TRUE(eventually([&] { return group_members(r.pid).empty(); }))
      << "process group " << r.pid << " survived";
  int grandchild = std::atoi(read_file(pidfile).c_str());
  ASSERT_GT(grandchild, 0) << "the agent did not record its grandchild";
  // The grandchild may still be a zombie waiting for init; it must not be running.
  EXPECT_TRUE(eventually([&] { return !process_alive(grandchild); }))
      << "grandchild " << grandchild << " survived";
}

TEST(Executor, HangingAgentIsKilledWithItsGroupAtTimeout) {
  ScratchDir dir;
  auto a = action("h", "ocf:vigiltest:hang", "start", 300);
  a.params["pidfile"] = dir.path() + "/grandchild.pid";
  auto r = run_action(test_settings(dir), a);
  EXPECT_EQ(r.status, ExecStatus::Timeout);
  EXPECT_EQ(r.rc, OcfCode::Error);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.out, "started\n");
  expect_group_gone(r, a.params["pidfile"]);
  EXPECT_TRUE(children_of_this_process().empty());
}

TEST(Executor, AgentIgnoringSigtermIsKilledAfterGrace) {
  ScratchDir dir;
  auto a = action("h", "ocf:vigiltest:hang", "start", 200);
  a.params["pidfile"] = dir.path() + "/grandchild.pid";
  a.params["ignore_term"] = "1";
  auto r = run_action(test_settings(dir), a);
  EXPECT_EQ(r.status, ExecStatus::Timeout);
  EXPECT_EQ(r.signal, SIGKILL);
  expect_group_gone(r, a.params["pidfile"]);
  EXPECT_TRUE(children_of_this_process().empty());
}

TEST(Executor, OutputIsCapped) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  settings.output_cap = 64 * 1024;
  auto a = action("n", "ocf:vigiltest:noisy", "start");
  a.params["bytes"] = "3000000";
  auto r = run_action(settings, a);
  ASSERT_EQ(r.status, ExecStatus::Done) << r.reason;
  EXPECT_EQ(r.rc, OcfCode::Ok);
  EXPECT_EQ(r.out.size(), settings.output_cap);
  EXPECT_EQ(r.out_dropped, 3000000 - settings.output_cap);
  EXPECT_EQ(r.out.find_first_not_of('o'), std::string::npos);
  EXPECT_EQ(r.err.size(), settings.output_cap);
  EXPECT_EQ(r.err_dropped, 1500000 - settings.output_cap);
}

TEST(Executor, LsbScriptStartStatusStop) {
  ScratchDir dir;
  ::setenv("VIGIL_TEST_STATE", dir.path().c_str(), 1);  // the script's state lives here
  auto settings = test_settings(dir);
  const char* agent = "lsb:vigil-test-service";
  std::vector<OcfCode> codes;
  for (const char* step : {"status", "start", "status", "monitor", "stop", "status", "bogus"}) {
    auto r = run_action(settings, action("svc", agent, step));
    EXPECT_EQ(r.status, ExecStatus::Done) << step << ": " << r.reason;
    codes.push_back(r.rc);
  }
  EXPECT_EQ(codes, (std::vector<OcfCode>{OcfCode::NotRunning, OcfCode::Ok, OcfCode::Ok, OcfCode::Ok,
                                         OcfCode::Ok, OcfCode::NotRunning, OcfCode::InvalidArgs}));
  ::unsetenv("VIGIL_TEST_STATE");
}

TEST(Executor, ServiceClassFallsBackToLsbWithoutSystemd) {
  ScratchDir dir;
  ::setenv("VIGIL_TEST_STATE", dir.path().c_str(), 1);
  auto settings = test_settings(dir);
  settings.systemd_run_dir = dir.path() + "/no-systemd";
  auto r = run_action(settings, action("svc", "service:vigil-test-service", "status"));
  EXPECT_EQ(r.status, ExecStatus::Done) << r.reason;
  EXPECT_EQ(r.rc, OcfCode::NotRunning);
  auto s = run_action(settings, action("u", "systemd:vigil-test-service", "start"));
  EXPECT_EQ(s.status, ExecStatus::NotExecuted);
  ::unsetenv("VIGIL_TEST_STATE");
}

TEST(Executor, FenceAgentOnOffStatus) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  std::vector<OcfCode> codes;
  for (const char* step : {"on", "status", "off", "status", "monitor"}) {
    auto a = action("fence-node2", "stonith:fence_vigiltest", step);
    a.params = {{"plug", "node2"}, {"state_dir", dir.path()}, {"pcmk_host_list", "node2"}};
    auto r = run_action(settings, a);
    EXPECT_EQ(r.status, ExecStatus::Done) << step << ": " << r.reason << r.err;
    codes.push_back(r.rc);
    if (std::string(step) == "on") {
      EXPECT_TRUE(fs::exists(dir.path() + "/node2"));
    }
  }
  EXPECT_EQ(codes, (std::vector<OcfCode>{OcfCode::Ok, OcfCode::Ok, OcfCode::Ok, OcfCode::NotRunning,
                                         OcfCode::Ok}));
}

TEST(Executor, FenceAgentMetadata) {
  ScratchDir dir;
  MetadataCache cache(test_settings(dir));
  auto md = cache.get(*AgentSpec::parse("stonith:fence_vigiltest"));
  ASSERT_TRUE(md.ok()) << md.error().message;
  EXPECT_EQ((*md)->shortdesc, "Fence agent for vigil's tests");
  ASSERT_NE((*md)->parameter("plug"), nullptr);
  EXPECT_TRUE((*md)->parameter("plug")->required);
  // The fencer supplies action and plug; state_dir is the user's to give.
  EXPECT_TRUE(check_params(**md, {{"state_dir", "/x"}}).ok());
  auto missing = check_params(**md, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("'state_dir' of stonith:fence_vigiltest"),
            std::string::npos);
}

TEST(Executor, DebianFenceAgentMetadata) {
  std::string agent;
  for (const char* candidate : {"fence_dummy", "fence_ipmilan"}) {
    if (::access((std::string("/usr/sbin/") + candidate).c_str(), X_OK) == 0) {
      agent = candidate;
      break;
    }
  }
  if (agent.empty()) GTEST_SKIP() << "fence-agents is not installed";
  ScratchDir dir;
  MetadataCache cache(system_settings(dir));
  auto md = cache.get(*AgentSpec::parse("stonith:" + agent));
  ASSERT_TRUE(md.ok()) << md.error().message;
  EXPECT_EQ((*md)->agent, "stonith:" + agent);
  EXPECT_FALSE((*md)->shortdesc.empty());
  ASSERT_NE((*md)->parameter("action"), nullptr);
  EXPECT_EQ((*md)->parameter("action")->default_value.value_or(""), "reboot");
  EXPECT_NE((*md)->action("off"), nullptr);
  EXPECT_NE((*md)->action("monitor"), nullptr);
  // Cached: the same object the second time.
  EXPECT_EQ(*cache.get(*AgentSpec::parse("stonith:" + agent)), *md);
}

TEST(Executor, Ipaddr2InNetworkNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  if (::access("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", X_OK) != 0 ||
      std::system("ip -V >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "IPaddr2 or iproute2 missing";
  }
  std::string ns = "vigil-exec-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("ip netns add " + ns).c_str()), 0);
  int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(home, 0);
  // Back to our own namespace and the test namespace deleted, however the test ends.
  struct Restore {
    int home;
    std::string ns;
    ~Restore() {
      ::setns(home, CLONE_NEWNET);
      ::close(home);
      [[maybe_unused]] int rc = std::system(("ip netns del " + ns + " 2>/dev/null").c_str());
    }
  } restore{home, ns};
  int target = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(target, 0);
  ASSERT_EQ(::setns(target, CLONE_NEWNET), 0);  // agents spawned from here inherit it
  ::close(target);
  ASSERT_EQ(std::system("ip link add vva type veth peer name vvb && ip link set vva up"), 0);

  ScratchDir dir;
  auto settings = system_settings(dir);
  auto vip = [](const char* step) {
    auto a = action("vip", "ocf:heartbeat:IPaddr2", step);
    a.params = {{"ip", "10.213.0.5"}, {"cidr_netmask", "24"}, {"nic", "vva"}};
    return a;
  };
  auto has_address = [] {
    return std::system("ip -4 addr show dev vva | grep -q 'inet 10.213.0.5/24'") == 0;
  };
  auto start = run_action(settings, vip("start"));
  EXPECT_EQ(start.rc, OcfCode::Ok) << start.reason << start.err;
  EXPECT_TRUE(has_address());
  EXPECT_EQ(run_action(settings, vip("monitor")).rc, OcfCode::Ok);
  auto stop = run_action(settings, vip("stop"));
  EXPECT_EQ(stop.rc, OcfCode::Ok) << stop.err;
  EXPECT_FALSE(has_address());
  EXPECT_EQ(run_action(settings, vip("monitor")).rc, OcfCode::NotRunning);
}

// Runs the io_context until `done` or a bound on the loop's turns is reached.
template <class Pred>
void run_until(asio::io_context& io, Pred done, int max_ms = 20000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_ms);
  while (!done() && std::chrono::steady_clock::now() < until) {
    io.run_for(std::chrono::milliseconds(20));
    io.restart();
  }
}

TEST(Executor, RecurringMonitorReportsChangesOnlyAndStopCancelsIt) {
  if (!have_dummy()) GTEST_SKIP() << "resource-agents is not installed";
  ScratchDir dir;
  asio::io_context io;
  Executor ex(io, system_settings(dir));
  bool started = false;
  ex.execute(action("d2", kDummy, "start"), [&](const ActionResult& r) {
    EXPECT_EQ(r.rc, OcfCode::Ok);
    started = true;
  });
  run_until(io, [&] { return started; });
  ASSERT_TRUE(started);

  std::vector<std::pair<ExecStatus, OcfCode>> reports;
  auto monitor = action("d2", kDummy, "monitor");
  monitor.interval = 50;
  ex.start_recurring(monitor, 10,
                     [&](const ActionResult& r) { reports.emplace_back(r.status, r.rc); });
  // Several monitors pass while the resource runs: one report.
  run_until(io, [&] { return !reports.empty(); });
  asio::steady_timer settle(io, std::chrono::milliseconds(400));
  bool settled = false;
  settle.async_wait([&](const asio::error_code&) { settled = true; });
  run_until(io, [&] { return settled; });
  EXPECT_EQ(reports.size(), 1u);
  // The resource fails behind the cluster's back: one more report.
  fs::remove(dir.path() + "/run/rsctmp/Dummy-d2.state");
  run_until(io, [&] { return reports.size() >= 2; });
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].second, OcfCode::NotRunning);
  // A stop cancels the recurring monitor: a final Cancelled, then silence.
  bool stopped = false;
  ex.execute(action("d2", kDummy, "stop"), [&](const ActionResult&) { stopped = true; });
  run_until(io, [&] { return stopped && reports.size() >= 3; });
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2].first, ExecStatus::Cancelled);
  asio::steady_timer quiet(io, std::chrono::milliseconds(200));
  bool waited = false;
  quiet.async_wait([&](const asio::error_code&) { waited = true; });
  run_until(io, [&] { return waited; });
  EXPECT_EQ(reports.size(), 3u);
}

// Two barrier agents succeed only if they run at the same time.
std::vector<OcfCode> run_barrier_pair(std::size_t concurrency, bool same_resource) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  settings.concurrency = concurrency;
  asio::io_context io;
  Executor ex(io, settings);
  std::vector<OcfCode> codes;
  for (const char* who : {"a", "b"}) {
    auto a = action(same_resource ? "same" : who, "ocf:vigiltest:barrier", "start", 5000);
    // Both instances share OCF_RESOURCE_INSTANCE when on one resource, so name peers by param.
    a.params = {{"dir", dir.path()}, {"peer", same_resource ? "never" : (*who == 'a' ? "b" : "a")}};
    ex.execute(a, [&codes](const ActionResult& r) { codes.push_back(r.rc); });
  }
  run_until(io, [&] { return codes.size() == 2; });
  return codes;
}

TEST(Executor, DifferentResourcesRunInParallel) {
  EXPECT_EQ(run_barrier_pair(2, false), (std::vector<OcfCode>{OcfCode::Ok, OcfCode::Ok}));
}

TEST(Executor, ConcurrencyLimitHolds) {
  // With room for one agent, the first waits for a peer that never starts.
  auto codes = run_barrier_pair(1, false);
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], OcfCode::Error);
}

TEST(Executor, ActionsOnOneResourceAreSerialised) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  asio::io_context io;
  Executor ex(io, settings);
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    auto a = action("one", "ocf:vigiltest:noop", "monitor");
    ex.execute(a, [&order, &ex, i](const ActionResult& r) {
      EXPECT_EQ(r.rc, OcfCode::Ok);
      EXPECT_EQ(ex.running(), 0u);  // nothing else ran on this resource meanwhile
      order.push_back(i);
    });
  }
  EXPECT_EQ(ex.queued(), 4u);
  run_until(io, [&] { return order.size() == 5; });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Executor, ThousandActionsLeaveNoZombieOrOrphan) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  settings.concurrency = 16;
  settings.kill_grace = 100;
  asio::io_context io;
  Executor ex(io, settings);
  constexpr int kActions = 1000;
  int finished = 0, timeouts = 0;
  std::vector<int> pgids;
  for (int i = 0; i < kActions; ++i) {
    bool hang = i % 50 == 0;  // 20 of them hang and are killed at their timeout
    auto a =
        action("r" + std::to_string(i % 40), hang ? "ocf:vigiltest:hang" : "ocf:vigiltest:noop",
               "monitor", hang ? 100 : 5000);
    if (hang && i % 100 == 0) a.params["ignore_term"] = "1";
    ex.execute(a, [&](const ActionResult& r) {
      ++finished;
      if (r.status == ExecStatus::Timeout) ++timeouts;
      pgids.push_back(r.pid);
    });
  }
  run_until(
      io, [&] { return finished == kActions; }, 100000);
  ASSERT_EQ(finished, kActions);
  EXPECT_EQ(timeouts, kActions / 50);
  EXPECT_EQ(ex.running(), 0u);
  EXPECT_TRUE(children_of_this_process().empty());
  std::sort(pgids.begin(), pgids.end());
  auto orphans = [&pgids] {
    std::vector<int> found;
    for (const auto& p : all_processes()) {
      if (p.state != 'Z' && std::binary_search(pgids.begin(), pgids.end(), p.pgrp)) {
        found.push_back(p.pid);
      }
    }
    return found;
  };
  // SIGKILL is delivered asynchronously; give the last victims a moment to die.
  EXPECT_TRUE(eventually([&] { return orphans().empty(); }));
  EXPECT_EQ(orphans(), std::vector<int>{});
}

TEST(Executor, DestroyingTheExecutorEndsRunningAgents) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  std::string pidfile = dir.path() + "/grandchild.pid";
  int grandchild = 0;
  {
    asio::io_context io;
    Executor ex(io, settings);
    auto a = action("h", "ocf:vigiltest:hang", "start", 60000);
    a.params["pidfile"] = pidfile;
    bool called = false;
    ex.execute(a, [&called](const ActionResult&) { called = true; });
    run_until(io, [&] { return !read_file(pidfile).empty() && read_file(pidfile).back() == '\n'; });
    grandchild = std::atoi(read_file(pidfile).c_str());
    EXPECT_EQ(ex.running(), 1u);
    EXPECT_FALSE(called);
  }
  EXPECT_TRUE(children_of_this_process().empty());
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(eventually([&] { return !process_alive(grandchild); }));
}

std::optional<ProcStat> stat_of(int pid) {
  for (const auto& p : all_processes()) {
    if (p.pid == pid) return p;
  }
  return std::nullopt;
}

// A child subreaper inherits the daemon an agent's start leaves behind; once it exits,
// reap_orphans() reaps it (no zombie that kill -0 would find), while an agent whose exit an
// action still waits for is left to that action.
TEST(Executor, OrphanedDaemonIsReapedAndAgentsAreLeftToTheirActions) {
  struct Subreaper {
    Subreaper() : made(become_subreaper().ok()) {}
    ~Subreaper() {
      ::prctl(PR_SET_CHILD_SUBREAPER, 0);
      reap_orphans();
    }
    bool made;
  } subreaper;
  ASSERT_TRUE(subreaper.made);
  ScratchDir dir;
  // An agent whose start leaves a daemon behind, as a real service's agent does: a sleep in its
  // own session, whose pid goes to OCF_RESKEY_pidfile; the agent itself exits at once.
  auto settings = test_settings(dir);
  auto own = settings;
  own.ocf_root = dir.path() + "/ocf";
  const std::string agent_path = own.ocf_root + "/resource.d/vigiltest/daemon";
  std::filesystem::create_directories(std::filesystem::path(agent_path).parent_path());
  std::ofstream(agent_path) << "#!/bin/sh\n"
                               "setsid sleep 1000 </dev/null >/dev/null 2>&1 &\n"
                               "echo $! > \"$OCF_RESKEY_pidfile\"\n";
  std::filesystem::permissions(agent_path, std::filesystem::perms::owner_all);
  auto start = action("d", "ocf:vigiltest:daemon", "start");
  start.params["pidfile"] = dir.path() + "/daemon.pid";
  auto started = run_action(own, start);
  ASSERT_EQ(started.rc, OcfCode::Ok) << started.reason << started.err;
  const int daemon = std::atoi(read_file(start.params["pidfile"]).c_str());
  ASSERT_GT(daemon, 0);
  EXPECT_TRUE(eventually([&] {
    auto p = stat_of(daemon);
    return p && p->ppid == ::getpid();
  })) << "the daemon was not handed to this process";

  asio::io_context io;
  Executor ex(io, settings);
  std::optional<ActionResult> noop;
  ex.execute(action("n", "ocf:vigiltest:noop", "start"), [&](const ActionResult& r) { noop = r; });
  int agent = 0;
  for (const auto& p : children_of_this_process()) {
    if (p.pid != daemon) agent = p.pid;
  }
  ASSERT_GT(agent, 0);
  ::kill(daemon, SIGKILL);
  EXPECT_TRUE(eventually([&] {
    auto a = stat_of(agent);
    auto d = stat_of(daemon);
    return a && a->state == 'Z' && d && d->state == 'Z';
  }));

  EXPECT_EQ(reap_orphans(), 1u);
  EXPECT_FALSE(stat_of(daemon)) << "the exited daemon is still there";
  ASSERT_TRUE(stat_of(agent)) << "the agent was reaped behind its action's back";
  run_until(io, [&] { return noop.has_value(); });
  ASSERT_TRUE(noop);
  EXPECT_EQ(noop->status, ExecStatus::Done);
  EXPECT_EQ(noop->rc, OcfCode::Ok);
  EXPECT_EQ(noop->exit_status, 0);
  EXPECT_EQ(noop->pid, agent);
  EXPECT_TRUE(children_of_this_process().empty());
}

}  // namespace
}  // namespace vigil::executor::testing

namespace vigil::executor::testing {
namespace {

TEST(Executor, MetadataOnTheLoopIsCached) {
  ScratchDir dir;
  asio::io_context io;
  Executor ex(io, test_settings(dir));
  std::vector<const AgentMetadata*> got;
  std::string error;
  auto fence = *AgentSpec::parse("stonith:fence_vigiltest");
  auto keep = [&](const Result<const AgentMetadata*>& md) {
    if (md.ok()) {
      got.push_back(*md);
    } else {
      error = md.error().message;
    }
  };
  ex.metadata(fence, keep);
  ex.metadata(*AgentSpec::parse("ocf:vigiltest:nonesuch"), keep);
  run_until(io, [&] { return got.size() == 1 && !error.empty(); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->agent, "stonith:fence_vigiltest");
  EXPECT_NE(error.find("cannot get the meta-data of ocf:vigiltest:nonesuch"), std::string::npos);
  ex.metadata(fence, keep);  // from the cache: no process
  EXPECT_EQ(ex.running(), 0u);
  run_until(io, [&] { return got.size() == 2; });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], got[0]);
}

}  // namespace
}  // namespace vigil::executor::testing

namespace vigil::executor::testing {
namespace {

// systemd is not PID 1 on every test machine; tests/executor/data/bin/systemctl answers the
// executor's questions the way systemctl does, for one unit.
TEST(Executor, SystemdUnitStatesThroughSystemctl) {
  ScratchDir dir;
  ::setenv("VIGIL_TEST_STATE", dir.path().c_str(), 1);
  auto settings = test_settings(dir);
  settings.systemctl = kData + "/bin/systemctl";
  settings.systemd_run_dir = dir.path();  // "systemd is running"
  std::vector<OcfCode> codes;
  for (const char* step : {"monitor", "start", "monitor", "status", "stop", "monitor"}) {
    auto r = run_action(settings, action("unit", "systemd:vigil-test", step));
    EXPECT_EQ(r.status, ExecStatus::Done) << step << ": " << r.reason << r.err;
    codes.push_back(r.rc);
  }
  EXPECT_EQ(codes, (std::vector<OcfCode>{OcfCode::NotRunning, OcfCode::Ok, OcfCode::Ok, OcfCode::Ok,
                                         OcfCode::Ok, OcfCode::NotRunning}));
  EXPECT_EQ(run_action(settings, action("u", "systemd:nonesuch", "start")).rc,
            OcfCode::NotInstalled);
  EXPECT_EQ(run_action(settings, action("u", "systemd:nonesuch", "monitor")).rc,
            OcfCode::NotInstalled);
  auto promote = run_action(settings, action("u", "systemd:vigil-test", "promote"));
  EXPECT_EQ(promote.status, ExecStatus::NotExecuted);
  EXPECT_EQ(promote.rc, OcfCode::Unimplemented);
  ::unsetenv("VIGIL_TEST_STATE");
}

// An alert runs at once even while every slot of the action queue is taken, with its variables
// added to the daemon's environment; a missing agent is not executed, a hanging one is killed at
// the alert's timeout.
TEST(Executor, AlertsRunBesideABusyQueueAndEndAtTheirTimeout) {
  ScratchDir dir;
  const std::string agent = dir.path() + "/alert.sh";
  {
    std::ofstream(agent) << "#!/bin/sh\nenv > \"$CRM_alert_recipient\"\n"
                            "[ \"$CRM_alert_kind\" = hang ] && sleep 30\nexit 4\n";
  }
  fs::permissions(agent, fs::perms::owner_all);
  ::setenv("VIGIL_TEST_INHERITED", "yes", 1);
  asio::io_context io;
  auto settings = test_settings(dir);
  settings.concurrency = 1;
  Executor executor(io, settings);
  std::optional<ActionResult> hang, sent, missing, late;
  auto busy = action("h", "ocf:vigiltest:hang", "start", 20000);
  busy.params["pidfile"] = dir.path() + "/grandchild.pid";
  executor.execute(busy, [&](const ActionResult& r) { hang = r; });
  const std::string to = dir.path() + "/recorded";
  executor.alert({agent, {{"CRM_alert_kind", "node"}, {"CRM_alert_recipient", to}}, 5000},
                 [&](const ActionResult& r) { sent = r; });
  executor.alert({dir.path() + "/none.sh", {}, 5000}, [&](const ActionResult& r) { missing = r; });
  executor.alert({agent, {{"CRM_alert_kind", "hang"}, {"CRM_alert_recipient", to + "2"}}, 300},
                 [&](const ActionResult& r) { late = r; });
  run_until(io, [&] { return sent && missing && late; });
  EXPECT_FALSE(hang.has_value()) << "the busy action ended first";
  ASSERT_TRUE(sent && missing && late);
  EXPECT_EQ(sent->status, ExecStatus::Done);
  EXPECT_EQ(sent->exit_status, 4);
  const std::string env = read_file(to);
  EXPECT_NE(env.find("CRM_alert_kind=node\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VIGIL_TEST_INHERITED=yes\n"), std::string::npos) << env;
  EXPECT_EQ(missing->status, ExecStatus::NotExecuted);
  EXPECT_EQ(late->status, ExecStatus::Timeout);
  ::unsetenv("VIGIL_TEST_INHERITED");
}

}  // namespace
}  // namespace vigil::executor::testing
