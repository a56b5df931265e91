// vigil-sim: runs the deterministic cluster simulator over ranges of cluster sizes and seeds.
//   vigil-sim --nodes 2..9 --seeds 1..500 --faults all
//   vigil-sim --nodes 5 --seed 42 --faults partition,kill --trace
//   vigil-sim --layer stack --nodes 2..9 --seeds 1..100 --faults all   (whole node cores)
//   vigil-sim --layer stack --resources --nodes 2..9 --seeds 1..5 --faults all   (and controllers,
//     simulated agents, resources)
//   vigil-sim --layer stack --watchdog 400 --nodes 3..5 --seeds 1..1000 --faults all
//   vigil-sim --layer stack --witness --watchdog 400 --resources --nodes 2 --seeds 1..100
//     --faults all   (and a quorum device's vote from a simulated witness)
// Exit 0 when every run passes every checker; otherwise prints the failing seed and checker.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cluster.h"

namespace {

struct Range {
  std::uint64_t lo = 0, hi = 0;
};

bool parse_range(const std::string& text, Range& out) {
  try {
    const auto dots = text.find("..");
    if (dots == std::string::npos) {
      out.lo = out.hi = std::stoull(text);
    } else {
      out.lo = std::stoull(text.substr(0, dots));
      out.hi = std::stoull(text.substr(dots + 2));
    }
  } catch (...) {
    return false;
  }
  return out.lo <= out.hi;
}

int usage(const std::string& why) {
  std::cerr << "vigil-sim: " << why << "\n"
            << "usage: vigil-sim --nodes N|A..B (--seeds A..B | --seed S) [--faults LIST|all]\n"
            << "                 [--token MS] [--loss P] [--trace] [--oneway-forever]\n"
            << "                 [--layer totem|stack] [--watchdog MS (with --layer stack)]\n"
            << "                 [--witness (with --layer stack)]\n"
            << "                 [--inject deliver-past-aru|skip-recovery|merge-rule-one-way|\n"
            << "                           no-join-barrier|\n"
            << "                           ack-before-durable|stale-cib-wins|\n"
            << "                           no-write-retry|ack-failed-write (faults with disk)|\n"
            << "                           start-before-transition|stop-timeout-ok\n"
            << "                           (with --resources)|\n"
            << "                           witness-vote-kept (with --witness)]\n"
            << "                 [--resources (with --layer stack)] [--fencing (with --resources)]\n"
            << "                 [--inject fence-no-reset (with --fencing)]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Range nodes{3, 3}, seeds{1, 1};
  vigil::sim::Options base;
  bool trace = false;
  std::string injected;  // for the replay command
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--nodes") {
      if (!parse_range(value(), nodes) || nodes.lo < 1 || nodes.hi > 64)
        return usage("--nodes wants 1..64");
    } else if (arg == "--seeds" || arg == "--seed") {
      if (!parse_range(value(), seeds)) return usage(arg + " wants a number or A..B");
    } else if (arg == "--faults") {
      auto f = vigil::sim::parse_faults(value());
      if (!f) return usage(f.error().message);
      base.faults = *f;
    } else if (arg == "--token") {
      base.settings.token = std::atoll(value().c_str());
      if (base.settings.token <= 0) return usage("--token wants milliseconds");
    } else if (arg == "--loss") {
      base.max_loss = std::atof(value().c_str());
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--oneway-forever") {
      base.one_way_forever = 1000;
    } else if (arg == "--layer") {
      const std::string what = value();
      if (what == "totem")
        base.layer = vigil::sim::Layer::Totem;
      else if (what == "stack")
        base.layer = vigil::sim::Layer::Stack;
      else
        return usage("--layer wants totem or stack");
    } else if (arg == "--watchdog") {
      base.watchdog = std::atoll(value().c_str());
      if (*base.watchdog <= 0) return usage("--watchdog wants milliseconds");
      injected += " --watchdog " + std::to_string(*base.watchdog);
    } else if (arg == "--witness") {
      base.witness = true;
      injected += " --witness";
    } else if (arg == "--resources") {
      base.resources = true;
      injected += " --resources";
    } else if (arg == "--fencing") {
      base.fencing = true;
      injected += " --fencing";
    } else if (arg == "--inject") {
      const std::string what = value();
      injected += " --inject " + what;
      if (what == "deliver-past-aru")
        base.inject.deliver_past_aru = true;
      else if (what == "skip-recovery")
        base.inject.skip_recovery = true;
      else if (what == "merge-rule-one-way")
        base.inject.merge_rule_one_way = true;
      else if (what == "no-join-barrier")
        base.stack_inject.no_join_barrier = true;
      else if (what == "ack-before-durable")
        base.stack_inject.ack_before_durable = true;
      else if (what == "stale-cib-wins")
        base.stack_inject.stale_cib_wins = true;
      else if (what == "no-write-retry")
        base.stack_inject.no_write_retry = true;
      else if (what == "ack-failed-write")
        base.stack_inject.ack_failed_write = true;
      else if (what == "start-before-transition")
        base.inject_start_before_transition = true;
      else if (what == "stop-timeout-ok")
        base.inject_stop_timeout_ok = true;
      else if (what == "fence-no-reset")
        base.inject_fence_no_reset = true;
      else if (what == "witness-vote-kept")
        base.inject_witness_vote_kept = true;
      else
        return usage("unknown --inject '" + what + "'");
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  if ((base.stack_inject.no_join_barrier || base.stack_inject.ack_before_durable ||
       base.stack_inject.stale_cib_wins || base.stack_inject.no_write_retry ||
       base.stack_inject.ack_failed_write || base.inject_start_before_transition ||
       base.inject_stop_timeout_ok) &&
      base.layer != vigil::sim::Layer::Stack)
    return usage("--inject needs --layer stack");
  if (base.watchdog && base.layer != vigil::sim::Layer::Stack)
    return usage("--watchdog needs --layer stack");
  if (base.witness && base.layer != vigil::sim::Layer::Stack)
    return usage("--witness needs --layer stack");
  if (base.fencing && !base.resources) return usage("--fencing needs --resources");
  if (base.inject_fence_no_reset && !base.fencing)
    return usage("--inject fence-no-reset needs --fencing");
  if (base.inject_witness_vote_kept && !base.witness)
    return usage("--inject witness-vote-kept needs --witness");
  // The disk fault class is the stack's: totem runs have no disk.
  if (base.layer == vigil::sim::Layer::Totem) base.faults &= ~vigil::sim::kDiskFull;
  const std::string layer = base.layer == vigil::sim::Layer::Stack ? "--layer stack " : "";
  std::uint64_t runs = 0;
  vigil::sim::Cluster::BarrierWait longest;
  std::string longest_run;
  for (std::uint64_t seed = seeds.lo; seed <= seeds.hi; ++seed) {
    for (std::uint64_t n = nodes.lo; n <= nodes.hi; ++n) {
      vigil::sim::Options o = base;
      o.nodes = static_cast<int>(n);
      o.seed = seed;
      if (trace) o.trace = &std::cout;
      vigil::sim::Cluster cluster(o);
      const vigil::sim::Verdict v = cluster.run();
      ++runs;
      if (cluster.longest_barrier().took > longest.took) {
        longest = cluster.longest_barrier();
        longest_run = "seed " + std::to_string(seed) + " nodes " + std::to_string(n);
      }
      if (!v.ok) {
        std::cout << "FAIL seed " << seed << " nodes " << n << " faults "
                  << vigil::sim::faults_to_string(o.faults) << ": " << v.checker << ": " << v.detail
                  << "\nreplay: vigil-sim " << layer << "--nodes " << n << " --seed " << seed
                  << " --faults " << vigil::sim::faults_to_string(o.faults) << injected
                  << " --trace\n";
        return 1;
      }
    }
  }
  std::cout << "ok: " << runs << " runs (" << layer << "nodes " << nodes.lo << ".." << nodes.hi
            << ", seeds " << seeds.lo << ".." << seeds.hi << ", faults "
            << vigil::sim::faults_to_string(base.faults) << "), every checker passed\n";
  // A figure, not a verdict: how long group traffic waited on a new ring's join lists.
  if (base.layer == vigil::sim::Layer::Stack && longest.took > 0)
    std::cout << "longest join-list barrier: " << longest.took << " ms (" << longest_run << ", n"
              << longest.node << " in ring " << vigil::totem::to_string(longest.ring) << " from t="
              << longest.from << ")\n";
  return 0;
}
