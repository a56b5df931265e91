// The deterministic cluster simulator: N nodes, each running a totem::Ring (Layer::Totem) or a
// whole node core, node::Node (Layer::Stack: the Ring, votequorum and the process groups as vigild
// runs them), over a simulated network on a simulated clock. Every random choice (latency, loss,
// faults, workload) comes from one seed, so a run replays exactly.
//
// Layer::Stack: the workload is group traffic (each node joins group "g", sends to it, leaves and
// joins again) and CIB commits from clients at random nodes; the totem checkers see the
// configuration changes (the ring's payloads are the node's own, so delivery order is checked one
// level up, by group agreement), StackChecker checks group agreement after every step and quorum
// agreement once the ring settled, and CibChecker the CIB (cib_checker.h). Each node has a
// simulated disk: a CIB write completes after a seeded delay (newest pending wins, as the writer
// thread's) and is reported as Durable; a crash loses what was not yet written. With the disk
// fault class, a node's disk fills for a while (its own draws, so the other classes' plan stays
// the seed's): a write then fails as CibFile::save does, the old copy kept, and is reported as
// Durable with the error, as vigild's writer thread does. Checked ("cib disk"): a node whose disk
// has room again does not stay behind its replica with no write under way for longer than the
// core's retry (cib_part.h); answers stay durable-first (CibChecker).
//
// Layer::Stack with a watchdog (Options::watchdog, node/lease.h): each host has a watchdog the
// node core feeds; unfed for the timeout, it resets the host kResetLatency later (the host goes
// down, and boots again a second later). A host "holds resources" from its node's first held
// lease until that host goes down (a process killed or frozen leaves its resources running, a
// node that lost its lease stops them only by the reset; a clean leave releases them). Checked:
// a node names another reset (View::reset) only once that host holds none (the "watchdog"
// checker), and, with no one-way link and no loss, a node in a quorate ring that was not itself
// paused never loses its lease for want of a rotation (the "lease" checker; a membership change
// that keeps quorum resets nobody). Clocks run at one rate here: ρ is covered by the margin only.
//
// Layer::Stack with a witness (Options::witness, cluster_witness.cpp): votequorum counts a quorum
// device's vote (quorum.device.votes 1, no two_node), cast by one simulated witness — the pure
// quorum::Witness, as `vigil witness` runs it — which each node's quorum::DeviceClient (run by the
// simulated shell, as vigild's device service) asks over its own simulated links: ordered and
// lossless while up (TCP), dropped while cut. The witness has its own faults, drawn from the seed
// only in this mode: a node's link to it cut both ways or one way, and the witness restarted; and
// in one run of four a node's host dies for good.
// Checked after every step ("witness quorum"): no two nodes whose rings are disjoint both count
// themselves quorate (a node frozen, or counting a grant past its end, is not asked: it acts on
// nothing before its next step, and its first step drops the vote); at the end the settled ring
// of the live nodes is quorate, the witness's vote included. With a watchdog and resources, the
// configuration turns watchdog fencing on (stonith-enabled, stonith-watchdog-timeout -1,
// no-quorum-policy stop, lease.h's Rule 4) and no primitive outside the clone may run on two
// hosts at any time, settled or not ("resource safety"); hosts then boot with nothing running.
//
// Layer::Stack with resources (Options::resources, cluster_resources.cpp): every node also runs
// its controller. Each host has simulated agents that answer the node's agent runs after a seeded
// latency and change what really runs on the host; until the heal they also fail starts, hang
// past their timeout (starts, stops and monitor runs: the executor reports "timed out" at the
// op's timeout; a hung start may have brought the resource up, a hung stop leaves it running, so
// the controller must recover a start or monitor and, without fencing, block a failed stop as
// Pacemaker does), and find resources running after a restart. A client at a random node
// commits the configuration (a VIP-like primitive, a group of two, a clone, no fencing,
// no-quorum-policy stop or ignore from the seed); users then put nodes in standby and back, clean
// up resources and kill them behind the agents' backs. Checked: no primitive outside a clone runs
// on two hosts once the membership settled (all live nodes in one ring for Options::settle, no
// fault since) — before that, without fencing, the configuration allows it, and so does a failed
// stop that blocks the resource until a cleanup — and, at the end, every resource that can run
// runs.
//
// Layer::Stack with resources and fencing (Options::fencing): the configuration adds a fence
// device (a stonith primitive every node may run, reaching every host, as a power switch does)
// and turns stonith-enabled on, no-quorum-policy stop. A reboot or off the controllers ask of it
// resets the target's host after a seeded delay (its process and whatever ran there go, it boots
// again a second later) and only then answers success. A stop that hangs past its timeout is then
// recovered by fencing its node (on-fail=fence). Checked as with watchdog fencing: no primitive
// outside the clone on two hosts at any moment, settled or not.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "common/common.h"
#include "node/node.h"
#include "quorum/witness.h"
#include "totem/totem.h"

namespace vigil::sim {

using totem::NodeId;

// Fault classes, each drawn at random times from the seed.
enum Fault : unsigned {
  kLoss = 1 << 0,       // per-link loss, up to max_loss
  kDuplicate = 1 << 1,  // frames delivered twice
  kReorder = 1 << 2,    // some frames delayed past later ones
  kPartition = 1 << 3,  // the cluster splits in groups, then heals
  kOneWay = 1 << 4,     // a link fails in one direction, then heals
  kPause = 1 << 5,      // a node (its whole host) freezes past the token timeout, then resumes
  kCrash = 1 << 6,      // a node's host dies (silently), later the node restarts afresh
  kLeave = 1 << 7,      // a node leaves cleanly, later starts again
  kKill = 1 << 8,       // a node's process dies, its host refuses datagrams to it; restarts
  kDiskFull = 1 << 9,   // Layer::Stack: a node's disk fills (its CIB writes fail), then clears
  kAllFaults = (1 << 10) - 1,
};
// "loss,dup,reorder,partition,oneway,pause,crash,leave,kill,disk", "all" or "none".
Result<unsigned> parse_faults(const std::string& list);
std::string faults_to_string(unsigned faults);

// At most this much loss and no other fault but duplicates and reordering, no membership may
// change once all nodes formed one ring (the "stability" check).
constexpr double kQuietLoss = 0.01;

enum class Layer { Totem, Stack };

struct Options {
  Layer layer = Layer::Totem;
  int nodes = 3;
  std::uint64_t seed = 1;
  unsigned faults = 0;
  totem::TotemSettings settings = default_settings();
  double max_loss = 0.20;
  Millis latency_min = 1;      // one-way network latency, ms
  Millis latency_jitter = 2;   // added uniformly 0..jitter
  Millis fault_window = 8000;  // faults start and heal within [1000, 1000 + fault_window]
  int max_fault_events = 4;
  Millis send_interval = 40;  // mean gap between messages a node sends
  std::size_t payload_size = 16;
  double commit_share = 0.03;  // Layer::Stack: of the workload's actions, CIB commits
  Millis disk_delay = 300;     // a CIB write takes 1..disk_delay ms
  bool workload = true;
  bool check_liveness = true;
  bool check = true;                      // run the checkers (benchmarks may turn them off)
  std::optional<Millis> one_way_forever;  // a one-way failure from this time to the end
  std::optional<Millis> watchdog;         // Layer::Stack: every host has one with this timeout
  bool resources = false;  // Layer::Stack: controllers, simulated agents, the resource workload
  bool witness = false;    // Layer::Stack: a quorum device's vote, cast by a simulated witness
  bool fencing = false;    // With resources: a fence device that resets hosts (stonith-enabled)
  Millis witness_timeout = 2000;  // quorum.device.timeout: each grant's validity
  Millis settle = 8000;  // a settled membership has stood this long: no resource runs twice
  // With resources, test-only: when the DC has a node start a resource, the next node's host
  // starts it too, as a controller that starts what it heard asked of another node would.
  bool inject_start_before_transition = false;
  // With resources, test-only: the simulated executor reports a stop that hung past its timeout
  // as done and successful, as an executor that forgot the timeout would.
  bool inject_stop_timeout_ok = false;
  // With fencing, test-only: the fence device answers success without resetting the host.
  bool inject_fence_no_reset = false;
  // With a witness, test-only: the simulated shell keeps handing its node the witness's last grant,
  // relabelled for whatever ring the node is in, until the grant's end (the keeper rule dropped).
  bool inject_witness_vote_kept = false;
  totem::InjectedFaults inject;
  node::InjectedFaults stack_inject;
  std::ostream* trace = nullptr;

  static totem::TotemSettings default_settings();
};

// What a node's layer above sees; the hook of later layers.
using EventHook = std::function<void(NodeId node, Millis now, const totem::Event& event)>;

struct Verdict {
  bool ok = true;
  std::string checker;  // which checker failed
  std::string detail;
};

class Checker;
class StackChecker;
class CibChecker;

class Cluster {
 public:
  explicit Cluster(Options options);
  ~Cluster();

  // Runs the whole scenario: faults, workload, heal, quiet period, final checks.
  Verdict run();

  // For tests and benchmarks that drive a cluster by hand.
  void start_all();
  void run_until(Millis t);
  void send(NodeId node, totem::Bytes payload, bool safe = false);
  // Whole host gone: datagrams to the node vanish, as on a power cut; only the token timeout
  // tells the others.
  void crash(NodeId node);
  // Process gone, host up (kill -9): every datagram reaching the node is answered with a port
  // unreachable that reaches its sender (if the link back works) as PeerUnreachable.
  void kill(NodeId node);
  void restart(NodeId node);
  void leave(NodeId node);  // a clean exit: its host refuses datagrams afterwards, as after kill
  void pause(NodeId node, Millis until);
  void set_link(NodeId from, NodeId to, bool up);
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void heal();
  // Every live node sends a message about every send_interval ms until `until`; every fourth
  // is safe.
  void add_workload(Millis until);
  Millis now() const { return now_; }
  const totem::Ring* ring(NodeId node) const;
  const node::Node* stack(NodeId node) const;  // Layer::Stack, while the node is alive
  // True when every live node is operational in one ring made of exactly the live nodes.
  bool converged() const;
  std::uint64_t events_processed() const { return events_; }
  std::uint64_t config_changes() const { return config_changes_; }
  std::size_t cib_acknowledged() const;  // Layer::Stack: CIB commits answered OK
  // Layer::Stack with resources: checks that found the cluster settled and looked at the hosts.
  std::uint64_t resources_checked() const { return resources_checked_; }
  // Layer::Stack with resources: agent runs reported timed out, by action (start, stop, monitor).
  const std::map<std::string, int>& agents_timed_out() const { return timed_out_; }
  // With fencing: hosts the fence device reset.
  int hosts_fenced() const { return fenced_; }
  const Verdict& verdict() const;
  // Layer::Stack: the longest a node's group layer waited for a new ring's join lists, holding
  // every other group payload while the ring ran (a wait that another membership cut short or
  // interrupted is not counted).
  struct BarrierWait {
    Millis took = 0;
    NodeId node = 0;
    totem::RingId ring;
    Millis from = 0;
  };
  const BarrierWait& longest_barrier() const { return longest_barrier_; }
  Millis liveness_bound() const;
  void add_hook(EventHook hook) { hooks_.push_back(std::move(hook)); }
  // Runs `action` at simulated time `t` (not before now), between protocol steps.
  void at(Millis t, std::function<void()> action);

 private:
  struct Node;
  struct Event;
  struct Later {
    bool operator()(const Event& a, const Event& b) const;
  };

  void schedule(Event e);
  void process(const Event& e);
  void apply(NodeId node, totem::Effects effects);
  void step(NodeId node, const totem::Input& input);
  totem::Effects step_stack(NodeId node, const node::Input& input);
  void note_barrier(NodeId node);
  void group_action(NodeId node);
  void cib_commit(NodeId node);
  void cib_output(NodeId node, node::Output& out);
  void write_next(NodeId node);
  void finish_write(NodeId node, std::uint64_t generation, Millis when);
  std::vector<const node::Node*> live_stacks() const;
  void check_quorum(const std::vector<NodeId>& live);
  void transmit(NodeId from, NodeId to, std::shared_ptr<const totem::Bytes> bytes);
  void refuse(const Event& frame);
  Millis delay();
  void stop(NodeId node, bool host_up);
  void plan_faults();
  void trace(const std::string& line);
  bool link_up(NodeId from, NodeId to) const;
  void check_persisted(const Node& n, const totem::Bytes& frame);
  void check_stable(NodeId node, const totem::ConfigChange& c);
  void check_merge_rule(const totem::Ring& was, const totem::Ring& now,
                        const totem::FrameReceived& f, const std::vector<totem::Frame>& sent);
  void check_settled(const std::vector<NodeId>& live);
  void plan_disk_faults(Millis begin, Millis end);
  void check_disk(NodeId node);
  void watchdog_step(NodeId node, const node::Output& out);
  void arm_watchdog(NodeId node, Millis due);
  void host_down(NodeId node);
  // cluster_resources.cpp: the controllers' agents, the resource workload and its checkers.
  node::ControllerSettings controller_settings(NodeId node, std::uint64_t boots) const;
  void boot_agents(NodeId node);
  NodeId any_live();
  void controller_output(NodeId node, node::Output& out);
  void run_agent(NodeId node, const controller::LocalAction& action);
  void fence(NodeId node, const controller::LocalAction& action);
  void fence_answer(NodeId node, std::uint64_t generation, std::uint64_t token, int rc, Millis when);
  void finish_agent(NodeId node, std::uint64_t generation, controller::LocalAction action,
                    Millis when, bool hang);
  void monitor_due(NodeId node, std::uint64_t generation, std::uint64_t token, Millis when);
  void monitor_hung(NodeId node, std::uint64_t generation, std::uint64_t token, Millis when);
  void report_monitor(NodeId node, std::uint64_t token, const controller::ActionResult& result);
  controller::ActionResult timed_out(const controller::LocalAction& action);
  void agent_result(NodeId node, std::uint64_t token, const controller::ActionResult& result);
  void plan_resources(Millis heal_at);
  void user_commit(NodeId node, std::string what, cib::CibOp op,
                   std::function<void(bool)> answered = {});
  void configure(Millis when);
  void user_action();
  void clean_up_all(Millis when);
  void shut_down(NodeId node);
  void restart_after_leave(NodeId node, Millis when);
  void hold_leaves();
  // cluster_witness.cpp: the witness, its links, each node's device client, the checker.
  void boot_device(NodeId node);
  void stop_device(NodeId node, bool host_up);
  void device_view(NodeId node);
  void device_pump(NodeId node, std::uint64_t generation);
  void to_witness(NodeId node, quorum::Ask ask);
  void to_node(NodeId node, std::uint64_t generation, quorum::Answer answer);
  void plan_witness_faults(Millis begin, Millis end);
  void heal_witness();
  void check_sides(NodeId node);
  bool watchdog_fencing() const { return o_.resources && o_.watchdog.has_value(); }
  bool device_fencing() const { return o_.resources && o_.fencing; }
  // Fencing of either kind: no primitive may run on two hosts at any moment.
  bool fenced_cluster() const { return watchdog_fencing() || device_fencing(); }
  void disturbed() { disturbed_ = now_; }
  bool settled() const;
  bool stop_blocked(const std::string& rsc) const;
  bool stop_failed(const std::set<std::string>& rscs, std::optional<NodeId> on) const;
  void check_resources();
  void check_resources_end();

  Options o_;
  Rng rng_;
  Rng hangs_;  // stops and monitor runs that hang: their own draws, so the others stay the seed's
  Millis now_ = 0;
  std::uint64_t order_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t config_changes_ = 0;
  BarrierWait longest_barrier_;
  std::vector<std::unique_ptr<Node>> nodes_;  // index = node id - 1
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::vector<std::vector<bool>> link_;  // [from][to], ids - 1
  std::vector<int> group_;               // partition group per node
  double loss_ = 0, dup_ = 0, reorder_ = 0;
  Millis last_heal_ = 0;
  Millis link_changed_ = 0;  // the last one-way failure or its repair
  std::map<totem::RingId, Millis> installed_at_;  // when the last member installed each ring
  Millis last_install_ = 0;
  // Only the network misbehaves (no node or link fails): a ring of every node must last.
  bool expect_stable_ = false;
  Millis end_ = 0;
  std::unique_ptr<Checker> checker_;
  std::unique_ptr<StackChecker> stack_checker_;
  std::unique_ptr<CibChecker> cib_checker_;
  std::uint64_t commits_ = 0;  // the workload's CIB commits, each creating resource r<n>
  std::vector<EventHook> hooks_;
  // Layer::Stack with resources.
  Millis disturbed_ = 0;    // the last membership fault, its repair or a pause's end
  Millis agents_calm_ = 0;  // from then on agents neither fail nor hang
  std::string no_quorum_policy_;
  std::map<std::pair<NodeId, std::uint64_t>, std::function<void(bool)>> user_commits_;
  std::uint64_t resources_checked_ = 0;  // settled checks that looked at the hosts
  std::map<std::string, int> timed_out_;
  std::map<std::string, Millis> last_blocked_;  // by resource: when a failed stop last blocked it
  int fenced_ = 0;
  bool cleaned_up_ = false;              // the final cleanup was answered OK
  Millis leave_released_ = 0;  // a leave a hung stop held until the final cleanup came back
  // Layer::Stack with a witness: it runs while set; its links by node (ids - 1), each way.
  std::optional<quorum::Witness> witness_;
  std::uint64_t witness_boots_ = 0;
  std::vector<bool> to_witness_up_, from_witness_up_;
  std::optional<NodeId> gone_;  // a host that died for good: it never starts again
};

}  // namespace vigil::sim
