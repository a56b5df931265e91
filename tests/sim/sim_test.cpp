// Scenarios on the deterministic simulator: each fault class alone, the checked-in regression
// seeds, the injected protocol bugs the checkers must catch, a standing one-way link, the crash
// detection bounds (host death: token timeout; process death: the host's refusal), and a
// 64-node ring.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "checker.h"
#include "cluster.h"

namespace vigil::sim {
namespace {

Verdict run(int nodes, std::uint64_t seed, unsigned faults, totem::InjectedFaults inject = {},
            Layer layer = Layer::Totem, node::InjectedFaults stack_inject = {}) {
  Options o;
  o.layer = layer;
  o.nodes = nodes;
  o.seed = seed;
  o.faults = faults;
  o.inject = inject;
  o.stack_inject = stack_inject;
  Cluster c(o);
  return c.run();
}

std::string describe(const Verdict& v, int nodes, std::uint64_t seed, unsigned faults,
                     const std::string& layer = "") {
  return v.checker + ": " + v.detail + "\nreplay: vigil-sim " + layer + "--nodes " +
         std::to_string(nodes) + " --seed " + std::to_string(seed) + " --faults " +
         faults_to_string(faults) + " --trace";
}

TEST(Sim, FaultsParseAndPrint) {
  EXPECT_EQ(*parse_faults("all"), static_cast<unsigned>(kAllFaults));
  EXPECT_EQ(*parse_faults("loss,crash"), static_cast<unsigned>(kLoss | kCrash));
  EXPECT_EQ(*parse_faults("kill"), static_cast<unsigned>(kKill));
  EXPECT_EQ(faults_to_string(kAllFaults),
            "loss,dup,reorder,partition,oneway,pause,crash,leave,kill,disk");
  EXPECT_EQ(faults_to_string(kLoss | kOneWay), "loss,oneway");
  EXPECT_FALSE(parse_faults("meteor").ok());
}

TEST(Sim, EachFaultClassAlone) {
  for (unsigned fault :
       {kLoss, kDuplicate, kReorder, kPartition, kOneWay, kPause, kCrash, kLeave, kKill}) {
    for (int nodes : {2, 3, 5}) {
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const Verdict v = run(nodes, seed, fault);
        EXPECT_TRUE(v.ok) << describe(v, nodes, seed, fault);
      }
    }
  }
}

// Every seed that ever failed stays in a regression file ("nodes seed faults" a line): each one
// runs through `run` and must pass.
void replay_regressions(const std::string& file,
                        const std::function<Verdict(int, std::uint64_t, unsigned)>& run_one,
                        const std::string& layer) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/sim/" + file);
  ASSERT_TRUE(in) << "tests/sim/" << file << " missing";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    int nodes = 0;
    std::uint64_t seed = 0;
    std::string faults;
    fields >> nodes >> seed >> faults;
    auto f = parse_faults(faults);
    ASSERT_TRUE(f.ok()) << line;
    const Verdict v = run_one(nodes, seed, *f);
    EXPECT_TRUE(v.ok) << describe(v, nodes, seed, *f, layer);
    ++cases;
  }
  EXPECT_GT(cases, 0);
}

TEST(Sim, RegressionSeeds) {
  replay_regressions(
      "regressions.txt", [](int n, std::uint64_t seed, unsigned f) { return run(n, seed, f); }, "");
}

// The checkers bite: a ring that delivers past a hole, or installs without exchanging the old
// ring's messages, is caught within a small sweep.
Verdict first_failure(totem::InjectedFaults inject, unsigned faults) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (int nodes : {3, 5}) {
      const Verdict v = run(nodes, seed, faults, inject);
      if (!v.ok) return v;
    }
  }
  return Verdict{};
}

TEST(Sim, InjectedDeliveryPastTheAruIsCaught) {
  totem::InjectedFaults inject;
  inject.deliver_past_aru = true;
  const Verdict v = first_failure(inject, kLoss | kReorder);
  ASSERT_FALSE(v.ok);
  EXPECT_TRUE(v.checker == "total order" || v.checker == "virtual synchrony" ||
              v.checker == "integrity")
      << v.checker << ": " << v.detail;
}

TEST(Sim, InjectedSkippedRecoveryIsCaught) {
  totem::InjectedFaults inject;
  inject.skip_recovery = true;
  const Verdict v = first_failure(inject, kLoss | kCrash | kPartition);
  ASSERT_FALSE(v.ok);
  EXPECT_TRUE(v.checker == "virtual synchrony" || v.checker == "integrity")
      << v.checker << ": " << v.detail;
}

// The merge rule honouring a broken-link record in one direction only (the bug the "merge rule"
// checker was written for) is caught under one-way link failures.
TEST(Sim, InjectedOneWayMergeRuleIsCaught) {
  totem::InjectedFaults inject;
  inject.merge_rule_one_way = true;
  const Verdict v = first_failure(inject, kLoss | kOneWay);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "merge rule") << v.detail;
}

// ---- the whole node core (--layer stack)
Verdict run_stack(int nodes, std::uint64_t seed, unsigned faults,
                  node::InjectedFaults inject = {}) {
  return run(nodes, seed, faults, {}, Layer::Stack, inject);
}

// The first failure within the first seeds of the CI sweep (sim_stack_sweep runs seeds 1..40 on
// 2..9 nodes, every fault class).
Verdict first_stack_failure(const node::InjectedFaults& inject) {
  Verdict v;
  for (std::uint64_t seed = 1; seed <= 5 && v.ok; ++seed) {
    for (int nodes = 2; nodes <= 9 && v.ok; ++nodes) v = run_stack(nodes, seed, kAllFaults, inject);
  }
  return v;
}

TEST(SimStack, RegressionSeeds) {
  replay_regressions(
      "stack_regressions.txt",
      [](int n, std::uint64_t seed, unsigned f) { return run_stack(n, seed, f); },
      "--layer stack ");
}

// The whole stack with what a sweep adds to it (`with` sets --resources or --watchdog).
Verdict run_stack_with(int nodes, std::uint64_t seed, unsigned faults,
                       const std::function<void(Options&)>& with) {
  Options o;
  o.layer = Layer::Stack;
  o.nodes = nodes;
  o.seed = seed;
  o.faults = faults;
  with(o);
  return Cluster(o).run();
}

// The same with the controllers, simulated agents and the resource workload (--resources).
TEST(SimStack, ResourceRegressionSeeds) {
  replay_regressions(
      "stack_resources_regressions.txt",
      [](int n, std::uint64_t seed, unsigned f) {
        return run_stack_with(n, seed, f, [](Options& o) { o.resources = true; });
      },
      "--layer stack --resources ");
}

// And with a watchdog on every host (--watchdog 400, as the CI sweep sim_sweep_watchdog).
TEST(SimStack, WatchdogRegressionSeeds) {
  replay_regressions(
      "stack_watchdog_regressions.txt",
      [](int n, std::uint64_t seed, unsigned f) {
        return run_stack_with(n, seed, f, [](Options& o) { o.watchdog = 400; });
      },
      "--layer stack --watchdog 400 ");
}

// And with a fence device that resets hosts (--fencing, as the CI sweep sim_stack_fencing_sweep).
TEST(SimStack, FencingRegressionSeeds) {
  replay_regressions(
      "stack_fencing_regressions.txt",
      [](int n, std::uint64_t seed, unsigned f) {
        return run_stack_with(n, seed, f, [](Options& o) {
          o.resources = true;
          o.fencing = true;
        });
      },
      "--layer stack --resources --fencing ");
}

// Two nodes and a witness, with watchdogs, watchdog fencing and the resource workload, as the CI
// sweep sim_sweep_witness runs them (`with` adds to that).
Verdict run_witness(
    int nodes, std::uint64_t seed, unsigned faults,
    const std::function<void(Options&)>& with = [](Options&) {}) {
  return run_stack_with(nodes, seed, faults, [&](Options& o) {
    o.witness = true;
    o.watchdog = 400;
    o.resources = true;
    with(o);
  });
}

TEST(SimStack, WitnessRegressionSeeds) {
  replay_regressions(
      "stack_witness_regressions.txt",
      [](int n, std::uint64_t seed, unsigned f) { return run_witness(n, seed, f); },
      "--layer stack --witness --watchdog 400 --resources ");
}

// A node that keeps counting the witness's vote through any ring change (--inject
// witness-vote-kept: the keeper rule dropped) is caught within the first seeds of the CI sweep:
// both sides of a split count themselves quorate.
TEST(SimStack, InjectedWitnessVoteKeptIsCaught) {
  Verdict v;
  for (std::uint64_t seed = 1; seed <= 10 && v.ok; ++seed)
    v = run_witness(2, seed, kAllFaults, [](Options& o) { o.inject_witness_vote_kept = true; });
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "witness quorum") << v.detail;
}

// Groups without the join-list barrier (the bug df43fe1 fixed) are caught within the first seeds
// of the CI sweep.
TEST(SimStack, InjectedMissingJoinBarrierIsCaught) {
  node::InjectedFaults inject;
  inject.no_join_barrier = true;
  const Verdict v = first_stack_failure(inject);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "group agreement") << v.detail;
}

// A commit answered before its document is on the node's disk (--inject ack-before-durable) is
// caught by the CIB checker within the first seeds of the CI sweep.
TEST(SimStack, InjectedAckBeforeDurableIsCaught) {
  node::InjectedFaults inject;
  inject.ack_before_durable = true;
  const Verdict v = first_stack_failure(inject);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "cib durability") << v.detail;
}

// A reconciliation that keeps the lowest version offered (--inject stale-cib-wins) is caught by
// the CIB checker within the first seeds of the CI sweep.
TEST(SimStack, InjectedStaleCibWinsIsCaught) {
  node::InjectedFaults inject;
  inject.stale_cib_wins = true;
  const Verdict v = first_stack_failure(inject);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "cib versions") << v.detail;
}

// A controller that starts a resource the DC asked of another node (--inject
// start-before-transition) is caught by the resource checker within the first seeds of the CI
// sweep: the resource runs on two hosts once the cluster settled.
TEST(SimStack, InjectedStartBeforeTransitionIsCaught) {
  Verdict v;
  for (std::uint64_t seed = 1; seed <= 5 && v.ok; ++seed) {
    for (int nodes = 2; nodes <= 9 && v.ok; ++nodes) {
      Options o;
      o.layer = Layer::Stack;
      o.resources = true;
      o.inject_start_before_transition = true;
      o.nodes = nodes;
      o.seed = seed;
      o.faults = kAllFaults;
      v = Cluster(o).run();
    }
  }
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "resource safety") << v.detail;
}

// A node core that never writes a failed CIB again (--inject no-write-retry) is caught within
// the first seeds of the CI sweep: once its disk has room it stays behind its replica.
TEST(SimStack, InjectedNoWriteRetryIsCaught) {
  node::InjectedFaults inject;
  inject.no_write_retry = true;
  const Verdict v = first_stack_failure(inject);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "cib disk") << v.detail;
}

// Changes answered OK although their write failed (--inject ack-failed-write) are caught by the
// CIB checker within the first seeds of the CI sweep.
TEST(SimStack, InjectedAckFailedWriteIsCaught) {
  node::InjectedFaults inject;
  inject.ack_failed_write = true;
  const Verdict v = first_stack_failure(inject);
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "cib durability") << v.detail;
}

// Agents hang past their timeout: starts, stops and monitor runs are reported timed out, and the
// controllers recover (restart, or block a failed stop until the cleanup) with no resource on two
// hosts once settled and every resource running at the end. An executor that reports a hung stop
// as done (--inject stop-timeout-ok) lets the cluster start the resource elsewhere while it still
// runs: caught.
TEST(SimStack, AgentsThatHangAreTimedOutAndRecovered) {
  std::map<std::string, int> timed_out;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    Options o;
    o.layer = Layer::Stack;
    o.resources = true;
    o.nodes = 3;
    o.seed = seed;
    Cluster c(o);
    const Verdict v = c.run();
    EXPECT_TRUE(v.ok) << describe(v, 3, seed, 0, "--layer stack --resources ");
    for (const auto& [action, count] : c.agents_timed_out()) timed_out[action] += count;
  }
  EXPECT_GT(timed_out["start"], 0);
  EXPECT_GT(timed_out["stop"], 0);
  EXPECT_GT(timed_out["monitor"], 0);
}

// Quiet runs: the CI sweep sim_stack_resources_sweep (2..9 nodes, seeds 1..6, every fault) no
// longer catches it (its 48 runs pass with --inject stop-timeout-ok since the timing moved).
TEST(SimStack, InjectedStopTimeoutOkIsCaught) {
  Verdict v;
  for (int nodes : {5, 4}) {
    for (std::uint64_t seed = 1; seed <= 6 && v.ok; ++seed) {
      Options o;
      o.layer = Layer::Stack;
      o.resources = true;
      o.inject_stop_timeout_ok = true;
      o.nodes = nodes;
      o.seed = seed;
      v = Cluster(o).run();
    }
    if (!v.ok) break;
  }
  ASSERT_FALSE(v.ok);
  EXPECT_EQ(v.checker, "resource safety") << v.detail;
}

// A fence device resets hosts: the controllers fence lost nodes and a stop that hung, the device
// resets the host before it answers, and no resource runs on two hosts at any moment.
TEST(SimStack, FencingResetsHostsAndNoResourceRunsTwice) {
  int fenced = 0;
  for (std::uint64_t seed : {3, 4}) {
    Options o;
    o.layer = Layer::Stack;
    o.resources = true;
    o.fencing = true;
    o.nodes = 3;
    o.seed = seed;
    o.faults = kAllFaults;
    Cluster c(o);
    const Verdict v = c.run();
    EXPECT_TRUE(v.ok) << describe(v, 3, seed, kAllFaults, "--layer stack --resources --fencing ");
    fenced += c.hosts_fenced();
  }
  EXPECT_GT(fenced, 0);
}

// A device that answers success without resetting the host (--inject fence-no-reset) is caught:
// the cluster recovers resources its target still runs, or believes gone what still runs there.
TEST(SimStack, InjectedFenceNoResetIsCaught) {
  Verdict v;
  // Caught first at seed 7 since the cleanup-race fix changed the runs' timing (was seed 6 or less).
  for (std::uint64_t seed = 1; seed <= 12 && v.ok; ++seed) {
    Options o;
    o.layer = Layer::Stack;
    o.resources = true;
    o.fencing = true;
    o.inject_fence_no_reset = true;
    o.nodes = 3;
    o.seed = seed;
    o.faults = kAllFaults;
    v = Cluster(o).run();
  }
  ASSERT_FALSE(v.ok);
  EXPECT_TRUE(v.checker == "resource safety" || v.checker == "resource liveness")
      << v.checker << ": " << v.detail;
}

// The resource workload does real work: the configuration is committed, the controllers place
// every resource, and the safety check looks at a settled cluster many times (check_resources_end
// demands every resource running at the end).
TEST(SimStack, AQuietClusterRunsEveryResourceOnce) {
  for (int nodes : {1, 2, 3, 5}) {
    Options o;
    o.layer = Layer::Stack;
    o.resources = true;
    o.nodes = nodes;
    Cluster c(o);
    const Verdict v = c.run();
    EXPECT_TRUE(v.ok) << describe(v, nodes, 1, 0, "--layer stack --resources ");
    EXPECT_GT(c.resources_checked(), 20u) << nodes << " nodes";
  }
}

// The CIB workload does real work: commits from every node are answered, and the replicas end
// synced on one document holding each of them (CibChecker::check_end).
TEST(SimStack, AQuietClusterAcknowledgesCommitsAndAgreesOnTheCib) {
  for (int nodes : {1, 3, 5}) {
    Options o;
    o.layer = Layer::Stack;
    o.nodes = nodes;
    Cluster c(o);
    const Verdict v = c.run();
    EXPECT_TRUE(v.ok) << describe(v, nodes, 1, 0, "--layer stack ");
    EXPECT_GT(c.cib_acknowledged(), 5u) << nodes << " nodes";
  }
}

TEST(SimStack, AQuietClusterAgreesOnQuorumAndGroups) {
  for (int nodes : {1, 2, 3, 5}) {
    const Verdict v = run_stack(nodes, 1, 0);
    EXPECT_TRUE(v.ok) << describe(v, nodes, 1, 0, "--layer stack ");
  }
}

// The checkers themselves, fed hand-made histories that break each rule once.
totem::ConfigChange regular(totem::RingId ring, std::vector<NodeId> members,
                            std::vector<NodeId> joined) {
  return totem::ConfigChange{
      totem::ConfigChange::Kind::Regular, ring, std::move(members), std::move(joined), {}, {}};
}
totem::ConfigChange transitional(totem::RingId ring, std::vector<NodeId> members,
                                 std::vector<NodeId> left, std::vector<NodeId> failed) {
  return totem::ConfigChange{totem::ConfigChange::Kind::Transitional,
                             ring,
                             std::move(members),
                             {},
                             std::move(left),
                             std::move(failed)};
}
constexpr totem::RingId kOld{1, 8}, kNew{1, 12};

// Two nodes that each start and then install kOld = [1, 2] together.
Checker formed_pair() {
  Checker c;
  for (NodeId n : {1U, 2U}) {
    c.on_restart(n);
    c.on_event(n, 10, regular(kOld, {1, 2}, {n == 1 ? 2U : 1U}));
  }
  return c;
}

TEST(Checker, AgreementFailsOnTwoMembershipsForOneRing) {
  Checker c = formed_pair();
  EXPECT_TRUE(c.verdict().ok) << c.verdict().detail;
  c.on_restart(3);
  c.on_event(3, 10, regular(kOld, {1, 2, 3}, {1, 2}));
  EXPECT_EQ(c.verdict().checker, "agreement");
}

TEST(Checker, LivenessFailsWithoutOneRingOrTooLate) {
  Checker none = formed_pair();
  none.finish({1, 2}, std::nullopt, 0, 1000, 500, true, 0);
  EXPECT_EQ(none.verdict().checker, "liveness");
  Checker late = formed_pair();
  late.finish({1, 2}, kOld, 2000, 1000, 500, true, 0);
  EXPECT_EQ(late.verdict().checker, "liveness");
  Checker in_time = formed_pair();
  in_time.finish({1, 2}, kOld, 1400, 1000, 500, true, 0);
  EXPECT_TRUE(in_time.verdict().ok) << in_time.verdict().detail;
}

// The shape of `vigil-sim --nodes 6 --seed 2 --faults all` before the fix: node 1 restarted and
// node 2 still counted it a survivor of their old ring.
TEST(Checker, ARestartedNodeIsNoSurvivor) {
  Checker c = formed_pair();
  c.on_crash(1);
  c.on_restart(1);
  c.on_event(2, 20, transitional(kOld, {1, 2}, {}, {}));
  c.on_event(2, 20, regular(kNew, {1, 2}, {}));
  EXPECT_TRUE(c.verdict().ok) << c.verdict().detail;
  c.on_event(1, 20, regular(kNew, {1, 2}, {2}));
  EXPECT_EQ(c.verdict().checker, "virtual synchrony");
}

TEST(Checker, NewcomersAreNoSurvivorsAndJoinedListsThem) {
  Checker newcomer = formed_pair();
  newcomer.on_restart(3);
  newcomer.on_event(1, 20, transitional(kOld, {1, 2, 3}, {}, {}));
  EXPECT_EQ(newcomer.verdict().checker, "virtual synchrony");
  Checker joined = formed_pair();
  joined.on_event(1, 20, transitional(kOld, {1, 2}, {}, {}));
  joined.on_event(1, 20, regular(kNew, {1, 2, 3}, {}));
  EXPECT_EQ(joined.verdict().checker, "virtual synchrony");
}

TEST(Checker, OnlyACleanExitIsLeft) {
  Checker crashed = formed_pair();
  crashed.on_crash(2);
  crashed.on_event(1, 20, transitional(kOld, {1}, {2}, {}));
  EXPECT_EQ(crashed.verdict().checker, "virtual synchrony");
  Checker left = formed_pair();
  left.on_leave(2);
  left.on_event(1, 20, transitional(kOld, {1}, {2}, {}));
  EXPECT_TRUE(left.verdict().ok) << left.verdict().detail;
  Checker unreported = formed_pair();
  unreported.on_event(1, 20, transitional(kOld, {1}, {}, {}));
  EXPECT_EQ(unreported.verdict().checker, "virtual synchrony");
}

TEST(Checker, SafeDeliveryNeedsEveryMemberToHoldTheMessage) {
  for (const totem::Seq held : {0, 1}) {
    Checker c = formed_pair();
    c.set_holdings([held](NodeId n, totem::RingId) { return n == 2 ? held : totem::Seq{1}; });
    const std::uint64_t uid = (1ULL << 32) | 1;
    c.on_send(1, uid, 30, kOld, true);
    totem::Bytes payload(8);
    for (int i = 0; i < 8; ++i) payload[static_cast<std::size_t>(i)] = (uid >> (8 * i)) & 0xff;
    c.on_event(1, 31, totem::Delivery{1, kOld, 1, false, true, payload});
    EXPECT_EQ(c.verdict().ok, held == 1) << c.verdict().checker << ": " << c.verdict().detail;
  }
}

TEST(Checker, ANodeThatStaysUpDeliversWhatItSent) {
  Checker c = formed_pair();
  c.on_send(1, (1ULL << 32) | 1, 30, kOld, false);
  c.finish({1, 2}, std::nullopt, 0, 0, 0, false, 1000);
  EXPECT_EQ(c.verdict().checker, "integrity");
}

// Corosync keeps re-forming under a standing one-way link failure; we must settle.
TEST(Sim, StandingOneWayLinkFailureSettles) {
  for (int nodes : {2, 3, 5}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      Options o;
      o.nodes = nodes;
      o.seed = seed;
      Cluster c(o);
      c.start_all();
      c.add_workload(200000);
      c.run_until(2000);
      ASSERT_TRUE(c.converged()) << nodes << " nodes, seed " << seed;
      c.set_link(1, 2, false);
      c.run_until(60000);
      const auto changes = c.config_changes();
      c.run_until(180000);
      EXPECT_EQ(c.config_changes(), changes)
          << nodes << " nodes, seed " << seed << ": still re-forming after a minute";
      for (NodeId n = 1; n <= static_cast<NodeId>(nodes); ++n) {
        ASSERT_NE(c.ring(n), nullptr);
        EXPECT_TRUE(c.ring(n)->operational()) << "n" << n;
        const auto m = c.ring(n)->members();
        const bool both = std::find(m.begin(), m.end(), 1) != m.end() &&
                          std::find(m.begin(), m.end(), 2) != m.end();
        EXPECT_FALSE(both) << "n" << n << " is in a ring with both ends of the broken link";
      }
      EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
      // And once the link heals, everyone is one ring again.
      c.set_link(1, 2, true);
      c.run_until(180000 + c.liveness_bound());
      EXPECT_TRUE(c.converged()) << nodes << " nodes, seed " << seed << ": no merge after heal";
    }
  }
}

// A LAN: 0..1 ms one way.
Options lan(int nodes, std::uint64_t seed) {
  Options o;
  o.nodes = nodes;
  o.seed = seed;
  o.latency_min = 0;
  o.latency_jitter = 1;
  return o;
}

// Keeps in `changed` the latest time any node delivered a regular configuration.
void track_regular_changes(Cluster& c, Millis& changed) {
  c.add_hook([&changed](NodeId, Millis now, const totem::Event& e) {
    if (const auto* cc = std::get_if<totem::ConfigChange>(&e);
        cc && cc->kind == totem::ConfigChange::Kind::Regular) {
      changed = std::max(changed, now);
    }
  });
}

// Survivors deliver the configuration change within a token period after a crash, plus the
// token's hold at the representative and a few join rounds (LAN latency, 0..1 ms one way), 2..32
// nodes — not token + consensus: the crashed node has been silent for the whole token period, so
// the survivors fail it at once (totem.h, "Silent peers"), even where its merge-detect turn comes
// round only every members × merge > token ms (16 and 32 nodes).
TEST(Sim, CrashIsDetectedWithinTokenPlusHoldPlusJoinRounds) {
  for (int nodes : {2, 3, 8, 16, 32}) {
    for (std::uint64_t seed : {7, 8, 9}) {
      Options o = lan(nodes, seed);
      Cluster c(o);
      Millis changed = 0;
      track_regular_changes(c, changed);
      c.start_all();
      c.run_until(3000);
      ASSERT_TRUE(c.converged()) << nodes;
      const Millis crash = c.now();
      c.crash(static_cast<NodeId>(1 + seed % static_cast<std::uint64_t>(nodes)));
      c.run_until(crash + 10000);
      ASSERT_TRUE(c.converged()) << nodes;
      EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
      const totem::TotemSettings s = o.settings.resolved();
      EXPECT_LE(changed - crash, s.token + s.hold + 4 * s.join)
          << nodes << " nodes, seed " << seed << ": " << (changed - crash) << " ms";
    }
  }
}

// kill -9 of a node whose host lives: the host refuses the next datagram to it, and the survivors
// deliver the new configuration within a few join rounds — far below the token timeout (the
// host-death bound above is token + consensus). The first datagram to the dead node may wait for
// the token to come round an idle ring (held up to `hold` at the representative) or for the next
// merge-detect announcement; with the ring busy, it goes out at once. Token 3000, as the guide.
Millis kill_to_new_configuration(int nodes, std::uint64_t seed, bool busy, NodeId victim) {
  Options o = lan(nodes, seed);
  o.settings.token = 3000;
  Cluster c(o);
  Millis changed = 0;
  track_regular_changes(c, changed);
  c.start_all();
  if (busy) c.add_workload(20000);
  c.run_until(4000);
  EXPECT_TRUE(c.converged()) << nodes;
  const Millis killed = c.now();
  c.kill(victim);
  c.run_until(killed + 3000);  // less than one token timeout
  EXPECT_TRUE(c.converged()) << nodes << " nodes, seed " << seed << ": no new ring before the "
                             << "token timeout";
  EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
  return changed - killed;
}

TEST(Sim, KilledProcessIsDetectedFromTheRefusalNotTheTokenTimeout) {
  const totem::TotemSettings s = [] {
    totem::TotemSettings t = Options::default_settings();
    t.token = 3000;
    return t.resolved();
  }();
  for (int nodes : {2, 3, 8}) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      const auto victim = static_cast<NodeId>(1 + seed % static_cast<std::uint64_t>(nodes));
      // Busy ring: a message goes to everyone every few ms.
      const Millis busy = kill_to_new_configuration(nodes, seed, true, victim);
      EXPECT_LE(busy, 2 * s.join + 10) << nodes << " nodes, seed " << seed << ", busy";
      // Idle ring: the next token visit or merge-detect announcement finds the dead node.
      const Millis idle = kill_to_new_configuration(nodes, seed, false, victim);
      EXPECT_LE(idle, std::max(s.hold, s.merge) + 2 * s.join + 10)
          << nodes << " nodes, seed " << seed << ", idle";
      EXPECT_LT(idle, s.token) << "faster than even a token timeout";
    }
  }
}

// With a watchdog (lease.h, Rule 5): the survivors name a killed node reset about a stretched
// watchdog timeout and a reset's latency after its host's refusal — not a lease's span after its
// last token — and only once its watchdog reset the host (the watchdog checker). Token 3000.
TEST(Sim, WithAWatchdogAKilledNodeIsNamedResetSoonAfterTheRefusal) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    Options o = lan(3, seed);
    o.layer = Layer::Stack;
    o.settings.token = 3000;
    o.watchdog = 1000;
    Cluster c(o);
    c.start_all();
    c.run_until(4000);
    ASSERT_TRUE(c.converged());
    const auto& t = c.stack(1)->lease()->times();
    const Millis killed = c.now();
    c.kill(3);
    Millis named = 0;
    for (Millis at = killed; at <= killed + 5000 && named == 0; at += 10) {
      c.run_until(at);
      if (c.stack(1)->view().reset == std::vector<NodeId>{3}) named = at;
    }
    EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
    ASSERT_NE(named, 0) << "seed " << seed;
    EXPECT_GE(named - killed, t.refused_wait) << "seed " << seed;
    EXPECT_LE(named - killed, t.refused_wait + 3 * o.settings.join + 10) << "seed " << seed;
  }
}

// A host that dies with its process refuses nothing: only the token timeout finds it (a frozen
// host, the kPause class of the sweeps, likewise).
TEST(Sim, HostCrashGivesNoRefusalAndIsFoundByTheTokenTimeout) {
  Options o;
  o.nodes = 3;
  o.seed = 5;
  Cluster c(o);
  c.start_all();
  c.run_until(3000);
  ASSERT_TRUE(c.converged());
  const Millis crashed = c.now();
  c.crash(3);
  c.run_until(crashed + o.settings.token / 2);
  EXPECT_FALSE(c.converged()) << "no refusal, so nothing is known before the token timeout";
  c.run_until(crashed + 10000);
  EXPECT_TRUE(c.converged());
  EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
}

TEST(Sim, SixtyFourNodesFormOneRingAndOrderMessages) {
  Options o;
  o.nodes = 64;
  o.seed = 3;
  o.send_interval = 400;  // ~160 messages a second from the whole ring
  Cluster c(o);
  std::map<NodeId, std::vector<std::uint64_t>> seen;
  c.add_hook([&](NodeId n, Millis, const totem::Event& e) {
    if (const auto* d = std::get_if<totem::Delivery>(&e))
      seen[n].push_back(payload_uid(d->payload));
  });
  c.start_all();
  c.run_until(3000);
  ASSERT_TRUE(c.converged());
  c.add_workload(5000);
  c.run_until(6500);
  ASSERT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
  ASSERT_GT(seen[1].size(), 100U);
  for (NodeId n = 2; n <= 64; ++n) EXPECT_EQ(seen[n], seen[1]) << "n" << n;
}

// The hook lets a layer above run on the delivered messages: here a replicated hash chain that
// must end equal on the nodes that stayed together while another crashed.
TEST(Sim, HookDrivesAReplicatedStateMachine) {
  Options o;
  o.nodes = 4;
  o.seed = 11;
  Cluster c(o);
  std::map<NodeId, std::uint64_t> state;
  c.add_hook([&](NodeId n, Millis, const totem::Event& e) {
    if (const auto* d = std::get_if<totem::Delivery>(&e)) {
      state[n] = state[n] * 31 + payload_uid(d->payload);
    }
  });
  c.start_all();
  c.run_until(3000);
  c.add_workload(9000);
  c.run_until(5000);
  c.crash(4);
  c.run_until(15000);
  ASSERT_TRUE(c.converged());
  EXPECT_TRUE(c.verdict().ok) << c.verdict().checker << ": " << c.verdict().detail;
  EXPECT_NE(state[1], 0U);
  EXPECT_EQ(state[1], state[2]);
  EXPECT_EQ(state[1], state[3]);
}

}  // namespace
}  // namespace vigil::sim
