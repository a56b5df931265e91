// Several controller cores over a simulated ring (one total order for group messages, CIB commits
// and membership changes), a simulated CIB and simulated agents, driven by a seeded clock. A
// partition splits the ring in two sides, each with its own order and its own copy of the CIB.
// Every step checks that no resource is active on two live nodes at once (see check_no_split_brain
// for the one overlap allowed without fencing).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "cib/cib.h"
#include "cib/op.h"
#include "controller/controller.h"

namespace vigil::controller {
namespace {

constexpr Millis kEpoch = 1'700'000'000'000;  // wall clock at the simulation's start

const char* kConfig = R"(<cib admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options">
      <nvpair id="o1" name="stonith-enabled" value="false"/>
      <nvpair id="o2" name="no-quorum-policy" value="stop"/>
      EXTRA_OPTIONS
    </cluster_property_set></crm_config>
    <nodes/>
    <resources>
      <group id="webservice">
        <primitive id="vip" class="ocf" provider="vigil" type="vip">
          <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
          <operations><op id="vip-mon" name="monitor" interval="10s" timeout="20s"/></operations>
        </primitive>
        <primitive id="web" class="ocf" provider="vigil" type="webserver">
          <operations><op id="web-mon" name="monitor" interval="10s" timeout="20s"/></operations>
        </primitive>
        META
      </group>
      STONITH
    </resources>
    <constraints>CONSTRAINTS</constraints>TOPOLOGY
  </configuration>
  <status/>
</cib>)";

struct Options {
  int nodes = 3;
  std::string extra_options;
  std::string group_meta;
  bool fencing = false;
  std::string constraints;
  std::string stonith = R"(<primitive id="fencer" class="stonith" type="fence_dummy"/>)";
  std::string topology;  // a <fencing-topology>
  // Watchdog fencing (node/lease.h) instead of a device: a lost node resets itself within
  // kSelfReset of the fault (a crash at once, a cut-off node once its lease and then its watchdog
  // ran out, at a random moment within), and the majority's ring names it reset `counted_after`
  // the fault (the lease's wait; the checker's test counts too early).
  bool watchdog = false;
  Millis counted_after = 0;
  std::string resources;          // more resources beside the group
  bool migrate_to_fails = false;  // every migrate_to ends in a generic error
  // kill -9 of vigild (lease.h, Rule 5): its host refuses within kRefusalWithin, its watchdog
  // resets the host within kKilledReset, and the majority counts it reset this long after the
  // refusal.
  Millis counted_after_refusal = 0;
};

constexpr Millis kSelfReset = 3000;  // span + watchdog_timeout, as the lost node's clock runs
constexpr Millis kLeaseWait = 3200;  // the survivors' wait: that plus the margin
constexpr Millis kRefusalWithin = 100;  // the links probe idle peers every token/10 ≤ 100 ms
// A 1 s watchdog on a clock up to 1 % fast to the real time, then the reset's latency (lease.h's
// kResetLatency); the survivors' wait after the refusal: that, measured by a clock 1 % slow.
constexpr Millis kKilledReset = 1010 + 250;
constexpr Millis kRefusedWait = 1273;

std::string config_xml(const Options& o) {
  std::string s = kConfig;
  auto put = [&](const std::string& what, const std::string& with) {
    s.replace(s.find(what), what.size(), with);
  };
  put("EXTRA_OPTIONS",
      (o.fencing ? "" : o.extra_options) +
          (o.watchdog ? R"(<nvpair id="o3" name="stonith-watchdog-timeout" value="5s"/>)" : ""));
  put("META", o.group_meta.empty()
                  ? ""
                  : "<meta_attributes id=\"ws-meta\">" + o.group_meta + "</meta_attributes>");
  put("CONSTRAINTS", o.constraints);
  put("STONITH", (o.fencing ? o.stonith : "") + o.resources);
  put("TOPOLOGY", o.topology);
  if (o.fencing) put("value=\"false\"", "value=\"true\"");
  return s;
}

class Sim {
 public:
  Sim(std::uint64_t seed, const Options& o) : rng_(seed), options_(o) {
    auto parsed = cib::Cib::parse(config_xml(o), "sim");
    VIGIL_ASSERT(parsed.ok());
    cibs_[0] = *parsed;
    for (int i = 1; i <= o.nodes; ++i) {
      Node n;
      n.member = Member{static_cast<NodeId>(i), "n" + std::to_string(i)};
      n.core.emplace(n.member, seed * 100 + static_cast<std::uint64_t>(i));
      nodes_.emplace(i, std::move(n));
    }
    for (auto& [id, n] : nodes_) apply(n, n.core->view_changed(view(0), now()), now());
    for (auto& [id, n] : nodes_) apply(n, n.core->cib_changed(cib(), now()), now());
  }

  Millis now() const { return kEpoch + clock_; }

  // Runs until nothing is left to do before `until` (simulated ms from now).
  void run_for(Millis span) {
    const Millis end = clock_ + span;
    for (int steps = 0; steps < 200000; ++steps) {
      auto next = next_event();
      if (!next || *next > end) break;
      clock_ = *next;
      step();
      if (!check_no_split_brain() || ::testing::Test::HasFailure()) return;
    }
    clock_ = end;
  }

  // A host's power cut (the test's fault).
  void crash(int id) {
    fault_seq_ = seq_;
    power_off(id);
    count_reset(id, options_.counted_after);
  }

  // kill -9 of vigild on node `id`: its controller is gone, but what its agents started runs on
  // until the watchdog resets the host (at a random moment within kKilledReset). The host refuses
  // the others' next datagram, and the ring forms without it.
  void kill(int id) {
    auto& n = nodes_.at(id);
    fault_seq_ = seq_;
    n.alive = false;
    n.wake.reset();
    n.recurring.clear();
    n.orphaned = std::exchange(n.running, {});
    const Millis refused = clock_ + static_cast<Millis>(rng_.uniform(kRefusalWithin + 1));
    rings_[n.side].push_back(Entry{refused, 0, {}, {}, true});
    if (!options_.watchdog) return;
    timed_.emplace(clock_ + static_cast<Millis>(rng_.uniform(kKilledReset + 1)),
                   [this, id] { nodes_.at(id).orphaned.clear(); });
    count_reset(id, refused - clock_ + options_.counted_after_refusal);
  }

  // A network partition: node `id` loses every link to the others and stays up, running what it
  // runs. Each side sees the other go after its own detection delay; from then on each side has
  // its own ring and its own CIB (the cut-off side keeps the document it held).
  void cut_off(int id) {
    auto& n = nodes_.at(id);
    n.side = 1;
    cibs_[1] = cib();
    fault_seq_ = seq_;
    rings_[0].push_back(Entry{clock_ + detect_delay(), 0, {}, {}, true});
    rings_[1].push_back(Entry{clock_ + detect_delay(), 0, {}, {}, true});
    if (!options_.watchdog) return;
    timed_.emplace(clock_ + static_cast<Millis>(rng_.uniform(kSelfReset + 1)), [this, id] {
      if (nodes_.at(id).alive) power_off(id);  // its watchdog
    });
    count_reset(id, options_.counted_after);
  }
  const std::set<std::string>& running(int id) const { return nodes_.at(id).running; }

  // Fenced before recovery, in the order things happened: once `target` crashed or was cut off, the
  // first start of a group member (vip, web) the DC asked of another node must come after `target`
  // was powered off by a fence device (not merely after a device reported success).
  void check_fenced_before_recovery(int target) const {
    std::optional<Event> off;
    for (const auto& f : power_offs_) {
      if (f.seq > fault_seq_ && f.node == target) {
        off = f;
        break;
      }
    }
    for (const auto& s : start_requests_) {
      if (s.seq <= fault_seq_ || s.node == target || (s.what != "vip" && s.what != "web")) continue;
      if (!off || off->seq > s.seq) {
        ADD_FAILURE() << "recovery started before n" << target << " was fenced: the start of "
                      << s.what << " on n" << s.node << " was asked at t=" << s.at << ", n"
                      << target
                      << (off ? " powered off at t=" + std::to_string(off->at)
                              : " never powered off");
      }
      return;
    }
    ADD_FAILURE() << "no recovery after n" << target << " was cut off";
  }
  // Every power-off by a fence device after the cut: {by, target}.
  std::vector<std::pair<int, int>> fencings() const {
    std::vector<std::pair<int, int>> out;
    for (const auto& f : power_offs_) {
      if (f.seq > fault_seq_) out.emplace_back(std::stoi(f.what), f.node);
    }
    return out;
  }

  // An orderly leave (SIGTERM to vigild): the node asks, and leaves the ring once its core says
  // it may; what it still runs then is recorded for the test to see.
  void shut_down(int id) {
    auto& n = nodes_.at(id);
    n.leaving = true;
    apply(n, n.core->request_shutdown(now()), now());
  }
  const std::set<std::string>& left_running(int id) const { return nodes_.at(id).left_running; }
  bool gone(int id) const { return !nodes_.at(id).alive; }

  void commit(cib::CibOp op) {
    rings_[0].push_back(Entry{clock_ + 5, 0, {}, std::move(op), false});
  }

  // Once a DC asks for the start of `rsc`, the ring holds that request and everything its node
  // sends after it (group messages and CIB commits) for `span`, then lets them go in order: as
  // Totem's send queue keeps a node's messages while the network keeps losing them, others'
  // messages flowing meanwhile. held_start_node() names the node the held start was for.
  void hold_sends_from_start(const std::string& rsc, Millis span) {
    hold_start_ = rsc;
    hold_span_ = span;
  }
  int held_start_node() const { return held_start_node_; }

  // An agent that lies: for the checker's own test.
  void force_running(int id, const std::string& rsc) { nodes_.at(id).running.insert(rsc); }

  // The agents are gone from node `id` (never installed, or removed since): every action there
  // ends as the executor reports a missing agent (rc 5, op-status 7).
  void remove_agents(int id) { nodes_.at(id).agents_missing = true; }
  // Every resource action anywhere fails with a generic error (rc 1).
  void break_agents() { agents_broken_ = true; }
  // Transitions the DC has run (finished or aborted).
  int transitions() const {
    auto d = dc();
    if (!d) return 0;
    auto st = nodes_.at(*d).core->status();
    return st.transitions_completed + st.transitions_aborted;
  }

  // The service dies behind the agent's back (kill of the web server).
  void kill_resource(int id, const std::string& rsc) { nodes_.at(id).running.erase(rsc); }

  std::vector<int> where(const std::string& rsc) const {
    std::vector<int> out;
    for (const auto& [id, n] : nodes_) {
      if ((n.alive && n.running.count(rsc)) || n.orphaned.count(rsc)) out.push_back(id);
    }
    return out;
  }
  const cib::Cib& cib() const { return cibs_.at(0); }  // the majority's
  int starts(const std::string& rsc) const { return starts_.count(rsc) ? starts_.at(rsc) : 0; }
  // What the agents were asked and what they finished, in simulation order: "n1 asked
  // migrate_to vm", "n1 done migrate_to vm".
  const std::vector<std::string>& agent_events() const { return agent_events_; }
  // The transitions the nodes noted as DC: "n1 started 1: Start vip", "n1 completed 1".
  const std::vector<std::string>& transition_notes() const { return transitions_; }
  // The nodes the DCs counted as fenced by their watchdog: "n1 reboot n3" (n1 counted n3).
  const std::vector<std::string>& watchdog_fencings() const { return watchdog_fencings_; }
  // Join offers any DC sent so far.
  int join_offers() const { return join_offers_; }
  // Every action node `id` was asked to run, in order.
  const std::vector<LocalAction>& ran(int id) const { return nodes_.at(id).ran; }
  std::optional<int> dc() const {  // the majority's
    for (const auto& [id, n] : nodes_) {
      if (n.alive && n.side == 0 && n.core->status().is_dc) return id;
    }
    return std::nullopt;
  }
  bool idle() const {
    auto d = dc();
    if (!d) return false;
    auto st = nodes_.at(*d).core->status();
    return st.state == TransitionState::Idle;
  }
  std::string attribute(int node, const std::string& name) const {
    auto state =
        cib().status().find_child_by_attribute("node_state", "id", std::to_string(node).c_str());
    for (auto nv : state.child("transient_attributes").child("instance_attributes").children()) {
      if (name == nv.attribute("name").value()) return nv.attribute("value").value();
    }
    return "";
  }
  int fenced() const { return fenced_; }
  const std::vector<std::string>& fence_devices() const { return fence_devices_; }
  // The controllers' decisions, for a failing seed's report.
  std::string transcript() const {
    std::string out;
    for (const auto& l : log_) out += l + "\n";
    if (auto d = dc()) {
      auto st = nodes_.at(*d).core->status();
      out += "DC state " + std::string(to_string(st.state)) + " transition " +
             std::to_string(st.transition) + "\n";
      out += "wake " + std::to_string(nodes_.at(*d).wake.value_or(-1)) + "\n";
    }
    return out + cib().to_xml();
  }

 private:
  // The host goes down at once, its resources with it.
  void power_off(int id) {
    auto& n = nodes_.at(id);
    n.alive = false;
    n.wake.reset();
    n.recurring.clear();
    n.running.clear();  // a power cut: its resources die with it
    rings_[n.side].push_back(Entry{clock_ + detect_delay(), 0, {}, {}, true});
  }

  struct Recurring {
    LocalAction action;
    Millis next = 0;
    int last_rc = -1;
  };
  struct Pending {
    Millis at = 0;
    LocalAction action;
  };
  struct Node {
    Member member;
    std::optional<Controller> core;
    bool alive = true;
    std::optional<Millis> wake;
    std::map<std::uint64_t, Recurring> recurring;
    std::vector<Pending> pending;
    std::map<std::string, Millis> busy_until;  // when each resource's last action asked ends
    std::set<std::string> running;
    std::set<std::string> orphaned;  // started before vigild was killed, running until the reset
    std::vector<LocalAction> ran;
    bool leaving = false;
    std::set<std::string> left_running;  // what it ran when it left
    bool agents_missing = false;
    int side = 0;  // which side of a partition: 0 the majority's, 1 the cut-off node's
    std::optional<Millis> quorum_lost_at;  // when its controller was told its side lost quorum
  };
  // Something that happened to a node, numbered in the order of the simulation's steps.
  struct Event {
    std::uint64_t seq = 0;
    Millis at = 0;
    int node = 0;
    std::string what;
  };
  // One ring delivery: a group message, a CIB op or a membership change, in one total order.
  struct Entry {
    Millis at = 0;
    NodeId from = 0;
    std::optional<Message> message;
    std::optional<cib::CibOp> op;
    bool view_change = false;
  };

  Millis detect_delay() { return 1000 + static_cast<Millis>(rng_.uniform(1000)); }

  ClusterView view(int side) const {
    ClusterView v;
    for (const auto& [id, n] : nodes_) {
      if (!n.alive || n.side != side) continue;
      v.members.push_back(n.member);
      v.controllers.push_back(n.member.id);
    }
    v.quorate = static_cast<int>(v.members.size()) * 2 > options_.nodes;
    v.watchdog_fencing = options_.watchdog;
    if (side == 0) v.reset.assign(reset_.begin(), reset_.end());
    return v;
  }

  // With a watchdog: the majority's ring names `id` reset once the lease's wait has passed.
  void count_reset(int id, Millis after) {
    if (!options_.watchdog) return;
    timed_.emplace(clock_ + after, [this, id] {
      reset_.insert(static_cast<NodeId>(id));
      rings_[0].push_back(Entry{clock_, 0, {}, {}, true});
    });
  }

  std::optional<Millis> next_event() const {
    std::optional<Millis> t;
    auto take = [&](Millis x) { t = t ? std::min(*t, x) : x; };
    if (!timed_.empty()) take(timed_.begin()->first);
    for (const auto& [side, ring] : rings_) {
      if (!ring.empty()) take(std::max(ring.front().at, clock_));
    }
    for (const auto& [id, n] : nodes_) {
      if (!n.alive) continue;
      if (n.wake) take(*n.wake);
      for (const auto& p : n.pending) take(p.at);
      for (const auto& [tok, r] : n.recurring) take(r.next);
    }
    return t;
  }

  void step() {
    if (!timed_.empty() && timed_.begin()->first <= clock_) {
      auto due = std::move(timed_.begin()->second);
      timed_.erase(timed_.begin());
      due();
      return;
    }
    for (auto& [id, n] : nodes_) {
      if (!n.alive || !n.leaving || !n.core->ready_to_leave()) continue;
      n.alive = false;
      n.wake.reset();
      n.recurring.clear();
      n.left_running = n.running;
      rings_[n.side].push_back(Entry{clock_ + 10, 0, {}, {}, true});  // a leave is seen at once
      return;
    }
    for (auto& [side, ring] : rings_) {
      if (ring.empty() || ring.front().at > clock_) continue;
      Entry e = std::move(ring.front());
      ring.pop_front();
      deliver(side, e);
      return;
    }
    for (auto& [id, n] : nodes_) {
      if (!n.alive) continue;
      if (n.wake && *n.wake <= clock_) {
        n.wake.reset();
        apply(n, n.core->tick(now()), now());
        return;
      }
      for (std::size_t i = 0; i < n.pending.size(); ++i) {
        if (n.pending[i].at > clock_) continue;
        auto action = n.pending[i].action;
        n.pending.erase(n.pending.begin() + static_cast<long>(i));
        apply(n, n.core->action_done(action.token, run_agent(n, action), now()), now());
        return;
      }
      for (auto& [tok, r] : n.recurring) {
        if (r.next > clock_) continue;
        r.next = clock_ + r.action.interval;
        ActionResult res = run_agent(n, r.action);
        if (res.rc == r.last_rc) return;
        r.last_rc = res.rc;
        apply(n, n.core->action_done(tok, res, now()), now());
        return;
      }
    }
  }

  void deliver(int side, const Entry& e) {
    auto here = [&](const Node& n) { return n.alive && n.side == side; };
    if (e.view_change) {
      auto v = view(side);
      for (auto& [id, n] : nodes_) {
        if (!here(n)) continue;
        if (v.quorate) n.quorum_lost_at.reset();
        if (!v.quorate && !n.quorum_lost_at) n.quorum_lost_at = clock_;
        apply(n, n.core->view_changed(v, now()), now());
      }
    } else if (e.message) {
      // The wire format is part of what is tested.
      auto decoded = decode(encode(*e.message));
      VIGIL_ASSERT(decoded.ok());
      for (auto& [id, n] : nodes_) {
        if (here(n)) apply(n, n.core->message(e.from, *decoded, now()), now());
      }
    } else if (e.op) {
      auto& doc = cibs_.at(side);
      auto applied = cib::apply(doc, *e.op);
      EXPECT_TRUE(applied.ok()) << (applied.ok() ? "" : applied.error().message);
      if (!applied.ok()) return;
      doc = std::move(*applied);
      for (auto& [id, n] : nodes_) {
        if (here(n)) apply(n, n.core->cib_changed(doc, now()), now());
      }
    }
  }

  ActionResult run_agent(Node& n, const LocalAction& a) {
    ActionResult r;
    r.exec_ms = 10;
    r.rc = 0;
    if (a.agent.standard == AgentClass::Stonith && (a.name == "reboot" || a.name == "off")) {
      fence_devices_.push_back(a.resource);
      if (a.agent.type == "fence_broken") {
        r.rc = 1;  // a device that cannot reach its target
        return r;
      }
      if (a.agent.type == "fence_liar") return r;  // reports success, powers nothing off
      const int target = std::stoi(a.params.at("port").substr(1));
      auto& t = nodes_.at(target);
      power_offs_.push_back(Event{++seq_, clock_, target, std::to_string(n.member.id)});
      if (t.alive) power_off(target);
      ++fenced_;
      return r;
    }
    if (n.agents_missing) {
      r.rc = 5;
      r.op_status = 7;
      return r;
    }
    if (agents_broken_) {
      r.rc = 1;
      return r;
    }
    agent_events_.push_back(n.member.name + " done " + a.name + " " + a.resource);
    if (a.name == "migrate_to" && options_.migrate_to_fails) {
      r.rc = 1;
      return r;
    }
    // As ocf:pacemaker:Dummy migrates: the source lets go, the target takes over.
    if (a.name == "start" || a.name == "migrate_from") {
      n.running.insert(a.resource);
      ++starts_[a.resource];
    } else if (a.name == "stop" || a.name == "migrate_to") {
      n.running.erase(a.resource);
    } else if (a.name == "monitor") {
      r.rc = n.running.count(a.resource) ? 0 : 7;
    }
    return r;
  }

  void apply(Node& n, Output out, Millis at) {
    (void)at;
    for (auto& l : out.log)
      log_.push_back(std::to_string(clock_) + " " + n.member.name + ": " + l.text);
    for (const auto& t : out.transitions) {
      static constexpr const char* kStage[] = {"started", "completed", "aborted"};
      std::string note = n.member.name + " " + kStage[static_cast<int>(t.stage)] + " " +
                         std::to_string(t.id);
      for (std::size_t i = 0; i < t.summary.size() && t.stage == TransitionNote::Stage::started; ++i)
        note += (i ? ", " : ": ") + t.summary[i].verb + " " + t.summary[i].subject;
      transitions_.push_back(note);
    }
    for (const auto& f : out.watchdog_fencings)
      watchdog_fencings_.push_back(n.member.name + " " + f.action + " " + f.target);
    auto ring_of = [&]() -> std::deque<Entry>& {
      return held_from_ == static_cast<int>(n.member.id) ? held_ : rings_[n.side];
    };
    for (auto& op : out.commits)
      ring_of().push_back(Entry{clock_ + 2, 0, {}, std::move(op), false});
    for (auto& m : out.send) {
      join_offers_ += std::holds_alternative<JoinOffer>(m) ? 1 : 0;
      if (auto* r = std::get_if<ExecuteRequest>(&m); r && r->task == "start") {
        start_requests_.push_back(Event{++seq_, clock_, static_cast<int>(r->node), r->resource});
        if (r->resource == hold_start_) hold_from(n, static_cast<int>(r->node));
      }
      ring_of().push_back(Entry{clock_ + 1, n.member.id, m, {}, false});
    }
    for (auto tok : out.cancel) n.recurring.erase(tok);
    for (auto& a : out.run) {
      n.ran.push_back(a);
      if (a.interval == 0) agent_events_.push_back(n.member.name + " asked " + a.name + " " + a.resource);
      const Millis delay = 5 + static_cast<Millis>(rng_.uniform(200));
      if (a.interval > 0) {
        n.recurring[a.token] = Recurring{a, clock_ + delay, -1};
      } else {
        // As the executor runs them: one action per resource at a time, in the order asked.
        Millis& free = n.busy_until[a.resource];
        free = std::max(free, clock_) + delay;
        n.pending.push_back(Pending{free, a});
      }
    }
    if (out.wake_at) n.wake = *out.wake_at - kEpoch;
  }

  void hold_from(const Node& n, int target) {
    hold_start_.clear();
    held_start_node_ = target;
    held_from_ = static_cast<int>(n.member.id);
    timed_.emplace(clock_ + hold_span_, [this, side = n.side] {
      for (auto& e : held_) {
        e.at = clock_;
        rings_[side].push_back(std::move(e));
      }
      held_.clear();
      held_from_ = 0;
    });
  }

  // Without fencing, nothing stops the majority from recovering the group while the cut-off node,
  // not yet told it lost quorum, still runs it. The one overlap allowed: at most one quorate node
  // and nodes of a side without quorum, each of which either has not been told yet (its view
  // change is on its way, within detect_delay()) or was told at most kStopWithin ago — by then
  // its no-quorum-policy=stop must have stopped the group (after the coalescing delay, the stops
  // of web and vip in order, each up to 205 ms in the agent, and their ring and CIB steps; the
  // slowest of 300 seeds needs between 450 and 600 ms). With fencing configured no overlap at
  // all is allowed: the majority must fence the cut-off node before it recovers.
  static constexpr Millis kStopWithin = 600;

  bool overlap_allowed(const std::vector<int>& holders) const {
    if (options_.fencing) return false;
    int quorate_holders = 0;
    for (int h : holders) {
      const auto& n = nodes_.at(h);
      if (quorate(n.side)) {
        ++quorate_holders;
      } else if (n.quorum_lost_at && clock_ > *n.quorum_lost_at + kStopWithin) {
        return false;
      }
    }
    return quorate_holders <= 1;
  }
  bool quorate(int side) const {
    return static_cast<int>(view(side).members.size()) * 2 > options_.nodes;
  }

  bool check_no_split_brain() {
    for (const char* rsc : {"vip", "web"}) {
      auto w = where(rsc);
      if (w.size() > 1 && !overlap_allowed(w)) {
        ADD_FAILURE() << rsc << " active on " << w.size() << " nodes at t=" << clock_;
        return false;
      }
    }
    return true;
  }

  Rng rng_;
  Options options_;
  std::map<int, cib::Cib> cibs_;  // each side's document
  std::map<int, Node> nodes_;
  std::map<int, std::deque<Entry>> rings_;  // each side's total order
  Millis clock_ = 0;
  std::map<std::string, int> starts_;
  int fenced_ = 0;
  bool agents_broken_ = false;
  std::vector<std::string> fence_devices_;  // every fence device run, in order
  std::vector<std::string> log_;
  std::vector<std::string> transitions_;
  std::vector<std::string> watchdog_fencings_;
  int join_offers_ = 0;
  std::vector<std::string> agent_events_;
  std::uint64_t seq_ = 0;
  std::uint64_t fault_seq_ = 0;        // seq_ when the test crashed or cut off a node
  std::vector<Event> power_offs_;      // by fence devices: node is the target, what the fencer
  std::vector<Event> start_requests_;  // starts the DCs asked for: node runs it, what the resource
  std::multimap<Millis, std::function<void()>> timed_;  // watchdog resets and their counting
  std::set<NodeId> reset_;                              // the majority's ring names them reset
  std::string hold_start_;  // the resource whose start request begins a hold
  Millis hold_span_ = 0;
  int held_from_ = 0;        // the node whose sends the ring holds, or 0
  int held_start_node_ = 0;  // the node the held start was for
  std::deque<Entry> held_;
};

int single_node(const Sim& sim) {
  auto vip = sim.where("vip"), web = sim.where("web");
  if (vip.size() != 1 || web.size() != 1 || vip[0] != web[0]) return 0;
  return vip[0];
}

// 300 seeds per scenario in CI; VIGIL_SIM_SEEDS=N runs a longer sweep by hand (README).
const std::uint64_t kSeeds = [] {
  const char* text = std::getenv("VIGIL_SIM_SEEDS");
  const long n = text ? std::atol(text) : 0;
  return n > 0 ? static_cast<std::uint64_t>(n) : 300;
}();

TEST(ControllerSim, GroupStartsTogetherOnOneNode) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, {});
    sim.run_for(20000);
    ASSERT_NE(single_node(sim), 0) << "seed " << seed;
    EXPECT_TRUE(sim.idle()) << "seed " << seed;
    EXPECT_EQ(sim.starts("vip"), 1) << "seed " << seed;
    EXPECT_EQ(sim.cib().root().attribute("dc-uuid").as_int(), 1);
    // The DC notes each transition it starts with what it does, and its end (the journal's).
    const auto& notes = sim.transition_notes();
    ASSERT_GE(notes.size(), 2u) << "seed " << seed;
    EXPECT_TRUE(std::any_of(notes.begin(), notes.end(), [](const std::string& n) {
      return n.find("Start vip") != std::string::npos;
    })) << testing::PrintToString(notes);
    // Each start is followed by its own end before the next; the last one completed.
    for (std::size_t i = 0; i + 1 < notes.size(); i += 2) {
      const std::string id = notes[i].substr(11, notes[i].find(':') - 11);
      EXPECT_EQ(notes[i].rfind("n1 started " + id, 0), 0u) << testing::PrintToString(notes);
      EXPECT_TRUE(notes[i + 1] == "n1 completed " + id || notes[i + 1] == "n1 aborted " + id)
          << testing::PrintToString(notes);
    }
    EXPECT_EQ(notes.back().rfind("n1 completed ", 0), 0u) << testing::PrintToString(notes);
  }
}

// crm_mon prints "Stack: corosync" and "Current DC: n1 (version …)" from what the DC records.
TEST(ControllerSim, TheDcRecordsItsVersionAndStackAsPacemakersDcDoes) {
  Sim sim(7, {});
  sim.run_for(20000);
  ASSERT_NE(single_node(sim), 0);
  auto set = sim.cib().configuration().child("crm_config").find_child_by_attribute(
      "cluster_property_set", "id", "cib-bootstrap-options");
  auto value = [&](const char* name) {
    return std::string(set.find_child_by_attribute("nvpair", "name", name).attribute("value").value());
  };
  EXPECT_EQ(value("dc-version"), VIGIL_VERSION);
  EXPECT_EQ(value("cluster-infrastructure"), "corosync");
}

TEST(ControllerSim, ResultsAreRecordedInPacemakersSchema) {
  Sim sim(7, {});
  sim.run_for(20000);
  const int active = single_node(sim);
  ASSERT_NE(active, 0);
  auto state = sim.cib().status().find_child_by_attribute("node_state", "id",
                                                          std::to_string(active).c_str());
  EXPECT_STREQ(state.attribute("crmd").value(), "online");
  EXPECT_STREQ(state.attribute("join").value(), "member");
  EXPECT_STREQ(state.attribute("uname").value(), ("n" + std::to_string(active)).c_str());
  auto web = state.child("lrm")
                 .child("lrm_resources")
                 .find_child_by_attribute("lrm_resource", "id", "web");
  EXPECT_STREQ(web.attribute("class").value(), "ocf");
  EXPECT_STREQ(web.attribute("provider").value(), "vigil");
  EXPECT_STREQ(web.attribute("type").value(), "webserver");
  auto last = web.find_child_by_attribute("lrm_rsc_op", "id", "web_last_0");
  EXPECT_STREQ(last.attribute("operation_key").value(), "web_start_0");
  EXPECT_STREQ(last.attribute("rc-code").value(), "0");
  EXPECT_STREQ(last.attribute("op-status").value(), "0");
  EXPECT_GT(last.attribute("call-id").as_int(), 0);
  EXPECT_GE(last.attribute("last-rc-change").as_llong(), kEpoch / 1000);
  EXPECT_TRUE(last.attribute("exec-time"));
  EXPECT_EQ(std::string(last.attribute("op-digest").value()).size(), 32u);
  const std::string key = last.attribute("transition-key").value();
  EXPECT_NE(key.find(":0:1-"), std::string::npos) << key;  // action:transition:rc:te-uuid
  EXPECT_EQ(std::string(last.attribute("transition-magic").value()), "0:0;" + key);
  auto monitor = web.find_child_by_attribute("lrm_rsc_op", "id", "web_monitor_10000");
  EXPECT_STREQ(monitor.attribute("interval").value(), "10000");
  auto nodes = sim.cib().configuration().child("nodes");
  for (int n = 1; n <= 3; ++n) {
    EXPECT_STREQ(nodes.find_child_by_attribute("node", "id", std::to_string(n).c_str())
                     .attribute("uname")
                     .value(),
                 ("n" + std::to_string(n)).c_str());
  }
  EXPECT_STREQ(sim.cib().root().attribute("have-quorum").value(), "1");
}

// As Pacemaker's controller, every resource action tells the agent where it runs:
// OCF_RESKEY_CRM_meta_on_node (the node's name) and _on_node_uuid (its cluster id).
TEST(ControllerSim, ActionsNameTheirNode) {
  Sim sim(3, {});
  sim.run_for(20000);
  for (int id = 1; id <= 3; ++id) {
    ASSERT_FALSE(sim.ran(id).empty()) << "n" << id << " was asked for nothing (not even probes)";
    for (const auto& a : sim.ran(id)) {
      EXPECT_EQ(a.meta, (std::map<std::string, std::string>{{"on_node", "n" + std::to_string(id)},
                                                            {"on_node_uuid", std::to_string(id)}}))
          << a.name << " of " << a.resource << " on n" << id;
    }
  }
}

TEST(ControllerSim, CrashOfTheActiveNodeMovesTheGroup) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, {});
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0) << "seed " << seed;
    sim.crash(active);
    sim.run_for(30000);
    const int now_on = single_node(sim);
    EXPECT_NE(now_on, 0) << "seed " << seed;
    EXPECT_NE(now_on, active) << "seed " << seed;
  }
}

TEST(ControllerSim, MonitorFailureRestartsInPlace) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, {});
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0) << "seed " << seed;
    sim.kill_resource(active, "web");
    sim.run_for(40000);
    EXPECT_EQ(single_node(sim), active) << "seed " << seed;
    EXPECT_EQ(sim.attribute(active, "fail-count-web#monitor_10000"), "1") << "seed " << seed;
    EXPECT_EQ(sim.starts("web"), 2) << "seed " << seed;
  }
}

TEST(ControllerSim, PastMigrationThresholdTheGroupMoves) {
  Options o;
  o.group_meta = "<nvpair id=\"ws-mt\" name=\"migration-threshold\" value=\"1\"/>";
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, o);
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0) << "seed " << seed;
    sim.kill_resource(active, "web");
    sim.run_for(40000);
    const int now_on = single_node(sim);
    EXPECT_NE(now_on, 0) << "seed " << seed;
    EXPECT_NE(now_on, active) << "seed " << seed;
  }
}

TEST(ControllerSim, StandbyMovesTheGroup) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, {});
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0) << "seed " << seed;
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::modify(
        "/cib/configuration/nodes",
        "<nodes><node id=\"" + std::to_string(active) +
            "\"><instance_attributes id=\"na\"><nvpair id=\"na-s\" name=\"standby\" "
            "value=\"on\"/></instance_attributes></node></nodes>"));
    sim.commit(op);
    sim.run_for(30000);
    const int now_on = single_node(sim);
    EXPECT_NE(now_on, 0) << "seed " << seed;
    EXPECT_NE(now_on, active) << "seed " << seed;
  }
}

TEST(ControllerSim, DcKilledMidTransitionFinishesWithoutDoubleStart) {
  int mid_transition = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, {});
    // Kill the DC while the first transition runs (probes and starts in flight).
    sim.run_for(110 + static_cast<Millis>(seed * 37 % 400));
    ASSERT_TRUE(sim.dc().has_value());
    mid_transition += !sim.idle();
    const int dc = *sim.dc();
    sim.crash(dc);
    sim.run_for(40000);
    EXPECT_NE(single_node(sim), 0) << "seed " << seed;
    EXPECT_TRUE(sim.idle()) << "seed " << seed;
  }
  EXPECT_GT(mid_transition, kSeeds / 2);  // the scenario does hit running transitions
}

TEST(ControllerSim, DcKilledWhileTheGroupStartsElsewhere) {
  Options o;
  o.constraints = "<rsc_location id=\"prefer-n2\" rsc=\"webservice\" node=\"n2\" score=\"100\"/>";
  int mid_transition = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, o);
    sim.run_for(110 + static_cast<Millis>(seed * 37 % 400));
    ASSERT_EQ(sim.dc(), std::optional<int>(1));
    mid_transition += !sim.idle();
    sim.crash(1);
    sim.run_for(40000);
    EXPECT_EQ(single_node(sim), 2) << "seed " << seed;
    EXPECT_EQ(sim.starts("vip"), 1) << "seed " << seed;
    EXPECT_EQ(sim.starts("web"), 1) << "seed " << seed;
    EXPECT_TRUE(sim.idle()) << "seed " << seed;
  }
  EXPECT_GT(mid_transition, kSeeds / 2);
}

TEST(ControllerSim, TheCheckerSeesAResourceActiveTwice) {
  Sim sim(1, {});
  sim.run_for(20000);
  const int active = single_node(sim);
  ASSERT_NE(active, 0);
  sim.force_running(active == 1 ? 2 : 1, "vip");
  EXPECT_NONFATAL_FAILURE(sim.run_for(1000), "active on 2 nodes");
}

// Runs `scenario` for every seed, on a cluster whose group has settled on one node (`active`).
// What the checkers reported while `run` ran, intercepted: the checkers' own tests expect reports.
template <class Run>
std::string reports_of(Run&& run) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    run();
  }
  std::string messages;
  for (int i = 0; i < failures.size(); ++i) messages += failures.GetTestPartResult(i).message();
  return messages;
}

template <class Scenario>
void each_seed(const Options& o, Scenario&& scenario) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed, o);
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0);
    scenario(sim, active, seed);
    if (::testing::Test::HasFailure()) return;
  }
}

// With fencing, after node `lost` (the group's) crashed or was cut off: the group runs on another
// node, started there only after `lost` was powered off; only `lost` was fenced, by the others.
void expect_fenced_before_recovery(const Sim& sim, int lost) {
  const int now_on = single_node(sim);
  EXPECT_NE(now_on, 0) << sim.transcript();
  EXPECT_NE(now_on, lost);
  EXPECT_TRUE(sim.gone(lost));
  EXPECT_FALSE(sim.fencings().empty());
  sim.check_fenced_before_recovery(lost);
  for (auto [by, target] : sim.fencings()) {
    EXPECT_NE(by, lost) << "n" << lost << " fenced n" << target;
    EXPECT_EQ(target, lost);
  }
}

TEST(ControllerSim, WithFencingTheCrashedNodeIsFencedBeforeRecovery) {
  Options o;
  o.fencing = true;
  each_seed(o, [](Sim& sim, int active, std::uint64_t) {
    sim.crash(active);
    sim.run_for(40000);
    expect_fenced_before_recovery(sim, active);
    EXPECT_EQ(sim.watchdog_fencings(), std::vector<std::string>{}) << "a device fenced it";
  });
}

// The usual cause of split brain: the node running the group is cut off and stays up with it. The
// majority must power it off before it starts the group anywhere else; the cut-off node, alone
// without quorum, fences nobody.
TEST(ControllerSim, WithFencingACutOffNodeIsFencedBeforeTheGroupIsRecovered) {
  Options o;
  o.fencing = true;
  each_seed(o, [](Sim& sim, int active, std::uint64_t) {
    sim.cut_off(active);
    sim.run_for(40000);
    expect_fenced_before_recovery(sim, active);
  });
}

enum class Fault { crash, cut, kill };
void inflict(Sim& sim, Fault fault, int node) {
  switch (fault) {
    case Fault::crash:
      return sim.crash(node);
    case Fault::cut:
      return sim.cut_off(node);
    case Fault::kill:
      return sim.kill(node);
  }
}

// Watchdog fencing without a device, the survivors counting the lost node reset after the lease's
// waits.
Options watchdog_fencing() {
  Options o;
  o.fencing = true;
  o.stonith = "";
  o.watchdog = true;
  o.counted_after = kLeaseWait;
  o.counted_after_refusal = kRefusedWait;
  return o;
}

// Watchdog fencing: no device; the majority recovers the group only once its ring names the lost
// node reset, and by then the node's watchdog has reset it: never active on two nodes (checked at
// every step), whether the node crashed, was cut off and kept running, or lost its vigild to
// kill -9 with its resources left running.
TEST(ControllerSim, WithAWatchdogNoResourceIsEverActiveTwice) {
  const Options o = watchdog_fencing();
  for (Fault fault : {Fault::crash, Fault::cut, Fault::kill}) {
    each_seed(o, [fault](Sim& sim, int active, std::uint64_t) {
      inflict(sim, fault, active);
      sim.run_for(40000);
      const int now_on = single_node(sim);
      EXPECT_NE(now_on, 0) << sim.transcript();
      EXPECT_NE(now_on, active);
      EXPECT_TRUE(sim.gone(active));
      EXPECT_EQ(sim.fenced(), 0);  // no device ran
      // The DC tells its shell (the metrics, the journal) of the node it counted as fenced, a
      // survivor of the lost node's watchdog.
      const auto& told = sim.watchdog_fencings();
      EXPECT_FALSE(told.empty()) << sim.transcript();
      for (const auto& f : told) {
        EXPECT_EQ(f.substr(f.find(' ')), " reboot n" + std::to_string(active));
        EXPECT_NE(f.substr(0, f.find(' ')), "n" + std::to_string(active));
      }
    });
  }
}

// Once the ring counts the lost node reset, the DC's next transition fences it by its watchdog and
// moves the group in one go: the fenced node's record (down, history cleared), which the DC itself
// commits, is expected and aborts nothing (Pacemaker's abort_unless_down). Aborted, the group's
// second member waited for the first one's start and another scheduler run.
TEST(ControllerSim, WithAWatchdogTheTransitionThatFencesMovesTheGroup) {
  const Options o = watchdog_fencing();
  for (Fault fault : {Fault::crash, Fault::kill}) {
    each_seed(o, [fault](Sim& sim, int active, std::uint64_t) {
      const auto before = sim.transition_notes().size();
      inflict(sim, fault, active);
      sim.run_for(40000);
      const auto& notes = sim.transition_notes();
      std::string fencing;  // "n2 started 4: Fence n1, Move vip, Move web", the last one
      for (auto i = before; i < notes.size(); ++i) {
        if (notes[i].find(" started ") != std::string::npos &&
            notes[i].find("Fence") != std::string::npos)
          fencing = notes[i];
      }
      ASSERT_FALSE(fencing.empty()) << sim.transcript();
      EXPECT_NE(fencing.find("vip"), std::string::npos) << fencing;
      EXPECT_NE(fencing.find("web"), std::string::npos) << fencing;
      const std::string completed =
          fencing.substr(0, fencing.find(':')).replace(fencing.find(" started "), 9, " completed ");
      EXPECT_TRUE(std::find(notes.begin(), notes.end(), completed) != notes.end())
          << fencing << " did not complete\n"
          << sim.transcript();
    });
  }
}

// A lost node whose controller was not the DC's starts no join round: the survivors' histories are
// in the CIB, and the DC schedules the recovery at once (as Pacemaker's DC, which offers a join
// only to joining nodes).
TEST(ControllerSim, ALostNodeStartsNoJoinRound) {
  each_seed({}, [](Sim& sim, int active, std::uint64_t) {
    const auto dc = sim.dc();
    ASSERT_TRUE(dc);
    const int lost = active != *dc ? active : *dc % 3 + 1;
    const int offers = sim.join_offers();
    sim.crash(lost);
    sim.run_for(40000);
    EXPECT_EQ(sim.dc(), dc);
    EXPECT_EQ(sim.join_offers(), offers) << sim.transcript();
    EXPECT_NE(single_node(sim), 0) << sim.transcript();
  });
}

// The checker's own test: a ring that names the cut-off or killed node reset before its watchdog
// could have fired lets the group run twice.
TEST(ControllerSim, TheCheckerSeesAWatchdogCountedTooEarly) {
  Options o;
  o.fencing = true;
  o.stonith = "";
  o.watchdog = true;
  o.counted_after = 0;
  o.counted_after_refusal = 0;
  for (Fault fault : {Fault::cut, Fault::kill}) {
    bool seen = false;
    for (std::uint64_t seed = 1; seed <= 20 && !seen; ++seed) {
      Sim sim(seed, o);
      sim.run_for(20000);
      const int active = single_node(sim);
      ASSERT_NE(active, 0);
      seen = reports_of([&] {
               inflict(sim, fault, active);
               sim.run_for(40000);
             }).find("active on 2 nodes") != std::string::npos;
    }
    EXPECT_TRUE(seen) << (fault == Fault::cut ? "cut" : "kill");
  }
}

// The checker's own test: a device that reports success without powering its target off lets the
// majority recover while the cut-off node is still up.
TEST(ControllerSim, TheCheckerSeesRecoveryBeforeTheFence) {
  Options o;
  o.fencing = true;
  o.stonith = R"(<primitive id="fencer" class="stonith" type="fence_liar"/>)";
  Sim sim(1, o);
  sim.run_for(20000);
  const int active = single_node(sim);
  ASSERT_NE(active, 0);
  const std::string messages = reports_of([&] {
    sim.cut_off(active);
    sim.run_for(40000);
    sim.check_fenced_before_recovery(active);
  });
  EXPECT_NE(messages.find("recovery started before n" + std::to_string(active) + " was fenced"),
            std::string::npos)
      << messages;
  EXPECT_NE(messages.find(" never powered off"), std::string::npos) << messages;
}

// Without fencing, with no-quorum-policy=stop: the cut-off node stops the group itself once it
// learns it lost quorum, and the majority starts it. The overlap check_no_split_brain allows is
// that window (see there); the cut-off node stays up and ends with nothing running.
TEST(ControllerSim, WithoutFencingACutOffNodeStopsItsGroup) {
  each_seed({}, [](Sim& sim, int active, std::uint64_t) {
    sim.cut_off(active);
    sim.run_for(40000);
    const int now_on = single_node(sim);
    EXPECT_NE(now_on, 0) << sim.transcript();
    EXPECT_NE(now_on, active);
    EXPECT_FALSE(sim.gone(active));
    EXPECT_TRUE(sim.running(active).empty()) << sim.transcript();
    EXPECT_EQ(sim.fenced(), 0);
  });
}

// The overlap is allowed only within its window: a cut-off node still running the group after it
// fails the check.
TEST(ControllerSim, TheCheckerSeesACutOffNodeThatKeepsTheGroup) {
  Sim sim(1, {});
  sim.run_for(20000);
  const int active = single_node(sim);
  ASSERT_NE(active, 0);
  sim.cut_off(active);
  sim.run_for(5000);
  ASSERT_FALSE(::testing::Test::HasFailure());
  sim.force_running(active, "vip");
  EXPECT_NONFATAL_FAILURE(sim.run_for(20000), "vip active on 2 nodes");
}

// Pacemaker's shutdown: the node holding the group (and, in other seeds, the DC) leaves in order.
// With fencing enabled, nobody is fenced: its resources were stopped before it left, and the group
// runs elsewhere.
TEST(ControllerSim, AnOrderlyShutdownMovesTheGroupFirstAndFencesNobody) {
  Options o;
  o.fencing = true;
  each_seed(o, [](Sim& sim, int active, std::uint64_t seed) {
    const int leaving = seed % 2 ? active : *sim.dc();
    sim.shut_down(leaving);
    sim.run_for(40000);
    ASSERT_TRUE(sim.gone(leaving)) << sim.transcript();
    EXPECT_TRUE(sim.left_running(leaving).empty()) << sim.transcript();
    const int now_active = single_node(sim);
    EXPECT_NE(now_active, 0) << sim.transcript();
    EXPECT_NE(now_active, leaving);
    EXPECT_EQ(sim.fenced(), 0) << sim.transcript();
    EXPECT_NE(sim.transcript().find("acknowledged the shutdown of n" + std::to_string(leaving)),
              std::string::npos);
  });
}

// Topology rule: a level whose device fails gives way to the next; all devices of a level run.
TEST(ControllerSim, AFailedFencingLevelFallsThroughToTheNext) {
  Options o;
  o.fencing = true;
  o.stonith = R"(<primitive id="kdump" class="stonith" type="fence_broken"/>
                 <primitive id="pdu1" class="stonith" type="fence_dummy"/>
                 <primitive id="pdu2" class="stonith" type="fence_dummy"/>)";
  o.topology = R"(<fencing-topology>
      <fencing-level id="l1" target-pattern="^n[0-9]$" index="1" devices="kdump"/>
      <fencing-level id="l2" target-pattern="^n[0-9]$" index="2" devices="pdu1,pdu2"/>
    </fencing-topology>)";
  each_seed(o, [](Sim& sim, int active, std::uint64_t) {
    sim.crash(active);
    sim.run_for(40000);
    EXPECT_NE(single_node(sim), 0) << sim.transcript();
    const auto& used = sim.fence_devices();
    ASSERT_GE(used.size(), 3u) << sim.transcript();
    EXPECT_EQ(std::vector<std::string>(used.begin(), used.begin() + 3),
              (std::vector<std::string>{"kdump", "pdu1", "pdu2"}));
  });
}

// A node without the agents (never installed there) has nothing to stop: its probes found the
// agent missing, which means not running. It leaves at once, and the DC does not spin (it sent
// do_shutdown ~20 times a second, each acknowledgement a CIB change that scheduled it again).
TEST(ControllerSim, ANodeWithoutTheAgentsLeavesAtOnce) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed, {});
    sim.remove_agents(3);
    sim.run_for(20000);
    ASSERT_NE(single_node(sim), 0) << sim.transcript();
    ASSERT_NE(single_node(sim), 3);
    const int before = sim.transitions();
    sim.shut_down(3);
    sim.run_for(10000);
    EXPECT_TRUE(sim.gone(3)) << sim.transcript();
    EXPECT_LE(sim.transitions() - before, 3) << sim.transcript();
  }
}

// SIGTERM before the node's first report to the DC (the daemon had just joined): the report
// replaces the attributes an earlier life left, and must keep the shutdown request this life
// already made, or the DC never orders the leave and the node waits for shutdown-escalation.
TEST(ControllerSim, AShutdownAskedBeforeTheFirstJoinIsStillCarriedOut) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Sim sim(seed, Options{});
    sim.shut_down(2);
    sim.run_for(15000);
    EXPECT_TRUE(sim.gone(2)) << "seed " << seed << "\n" << sim.transcript();
    EXPECT_NE(sim.transcript().find("acknowledged the shutdown of n2"), std::string::npos)
        << "seed " << seed;
  }
}

// The agent was removed after the group started: the stop of web ends "not installed" and, with
// no fencing, web is blocked (Pacemaker: "Cannot shut down … because of web"). The DC holds the
// shutdown back without a transition loop, and the node leaves at shutdown-escalation, saying at
// error what it leaves running.
TEST(ControllerSim, AStopThatCannotRunHoldsTheLeaveUntilShutdownEscalation) {
  Options o;
  o.extra_options = R"(<nvpair id="o3" name="shutdown-escalation" value="30s"/>)";
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed, o);
    sim.run_for(20000);
    const int active = single_node(sim);
    ASSERT_NE(active, 0);
    sim.remove_agents(active);
    const int before = sim.transitions();
    sim.shut_down(active);
    sim.run_for(20000);
    EXPECT_FALSE(sim.gone(active)) << sim.transcript();
    EXPECT_LE(sim.transitions() - before, 4) << sim.transcript();
    EXPECT_NE(sim.transcript().find("cannot shut down: the stop of web cannot run"),
              std::string::npos)
        << sim.transcript();
    sim.run_for(15000);
    ASSERT_TRUE(sim.gone(active)) << sim.transcript();
    EXPECT_EQ(sim.left_running(active), (std::set<std::string>{"vip", "web"}));
    EXPECT_NE(sim.transcript().find("shutdown-escalation passed without the DC's "
                                    "acknowledgement: n" +
                                    std::to_string(active) + " leaves; "),
              std::string::npos)
        << sim.transcript();
  }
}

// Every action fails, probes included: each failure is recorded and counted, the resources end
// blocked (failed stops, no fencing), and the DC settles in a bounded number of rounds: after
// that nothing runs any more, and the scheduler only runs again at cluster-recheck-interval.
TEST(ControllerSim, WhenEveryActionFailsTheDcSettlesInBoundedRounds) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed, {});
    sim.break_agents();
    sim.run_for(60000);
    EXPECT_TRUE(sim.idle()) << sim.transcript();
    const int settled = sim.transitions();
    EXPECT_LE(settled, 10) << sim.transcript();
    auto actions_run = [&] { return sim.ran(1).size() + sim.ran(2).size() + sim.ran(3).size(); };
    const auto ran = actions_run();
    sim.run_for(300000);
    EXPECT_EQ(actions_run(), ran) << sim.transcript();
    EXPECT_LE(sim.transitions() - settled, 300000 / 60000) << sim.transcript();
  }
}

// A resource with allow-migrate=true beside the group, as ocf:pacemaker:Dummy migrates.
Options migratable() {
  Options o;
  o.resources = R"(<primitive id="vm" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="vm-meta"><nvpair id="vm-am" name="allow-migrate" value="true"/></meta_attributes>
        <operations><op id="vm-mon" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>)";
  return o;
}

// Puts node `id` in standby: what runs there moves away.
void standby(Sim& sim, int id) {
  cib::CibOp op;
  op.changes.push_back(cib::CibChange::modify(
      "/cib/configuration/nodes",
      "<nodes><node id=\"" + std::to_string(id) +
          "\"><instance_attributes id=\"na\"><nvpair id=\"na-s\" name=\"standby\" "
          "value=\"on\"/></instance_attributes></node></nodes>"));
  sim.commit(op);
}

// A start whose request the ring held past the DC's deadline (the action's timeout and the slack)
// still runs when it arrives. As Pacemaker's controller does (controld_record_action_timeout),
// the DC records it timed out in its node's history and schedules only once the CIB shows that:
// the resource is stopped there before it starts elsewhere. Without the record, the DC took vip
// for stopped on its node (put in standby meanwhile) and started it on another, and the held
// request started it a second time.
TEST(ControllerSim, AStartHeldPastItsDeadlineIsStoppedBeforeStartingElsewhere) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Sim sim(seed, {});
    sim.hold_sends_from_start("vip", 30000);  // past 20 s of start timeout and 5 s of slack
    for (int i = 0; i < 100 && sim.held_start_node() == 0; ++i) sim.run_for(100);
    const int target = sim.held_start_node();
    ASSERT_NE(target, 0) << "seed " << seed;
    standby(sim, target);
    sim.run_for(60000);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "seed " << seed << "\n" << sim.transcript();
    const int now_on = single_node(sim);
    EXPECT_NE(now_on, 0) << "seed " << seed;
    EXPECT_NE(now_on, target) << "seed " << seed;
  }
}

std::ptrdiff_t position(const std::vector<std::string>& events, const std::string& e) {
  auto it = std::find(events.begin(), events.end(), e);
  return it == events.end() ? -1 : it - events.begin();
}

pugi::xml_node last_op(const Sim& sim, int node, const std::string& rsc) {
  return sim.cib()
      .status()
      .find_child_by_attribute("node_state", "id", std::to_string(node).c_str())
      .child("lrm")
      .child("lrm_resources")
      .find_child_by_attribute("lrm_resource", "id", rsc.c_str())
      .find_child_by_attribute("lrm_rsc_op", "id", (rsc + "_last_0").c_str());
}

// Standby of its node migrates vm as Pacemaker does: migrate_to on the source once the probes
// are in, migrate_from on the target only after migrate_to's result, then the source's stop;
// no start on the target. Both halves are recorded with the migration's nodes, and the next
// scheduler run finds nothing left to do.
TEST(ControllerSim, StandbyMigratesAMigratableResource) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Sim sim(seed, migratable());
    sim.run_for(20000);
    auto was = sim.where("vm");
    ASSERT_EQ(was.size(), 1u) << "seed " << seed << "\n" << sim.transcript();
    const int source = was[0];
    const std::size_t before = sim.agent_events().size();
    standby(sim, source);
    sim.run_for(30000);
    auto now = sim.where("vm");
    ASSERT_EQ(now.size(), 1u) << "seed " << seed << "\n" << sim.transcript();
    const int target = now[0];
    ASSERT_NE(target, source) << "seed " << seed;
    const std::vector<std::string> events(sim.agent_events().begin() + static_cast<long>(before),
                                          sim.agent_events().end());
    const std::string src = "n" + std::to_string(source), tgt = "n" + std::to_string(target);
    const auto to_done = position(events, src + " done migrate_to vm");
    const auto from_asked = position(events, tgt + " asked migrate_from vm");
    const auto from_done = position(events, tgt + " done migrate_from vm");
    const auto stop_asked = position(events, src + " asked stop vm");
    ASSERT_GE(to_done, 0) << "seed " << seed << "\n" << sim.transcript();
    EXPECT_LT(to_done, from_asked) << "migrate_from before migrate_to's result, seed " << seed;
    EXPECT_LT(from_done, stop_asked) << "the source stopped before migrate_from, seed " << seed;
    EXPECT_EQ(position(events, tgt + " asked start vm"), -1) << "seed " << seed << "\n"
                                                             << sim.transcript();
    for (const auto& a : sim.ran(source)) {
      if (a.name != "migrate_to") continue;
      EXPECT_EQ(a.meta.at("migrate_source"), src) << "seed " << seed;
      EXPECT_EQ(a.meta.at("migrate_target"), tgt) << "seed " << seed;
    }
    auto from = last_op(sim, target, "vm");
    EXPECT_STREQ(from.attribute("operation").value(), "migrate_from") << "seed " << seed;
    EXPECT_EQ(from.attribute("migrate_source").value(), src) << "seed " << seed;
    EXPECT_EQ(from.attribute("migrate_target").value(), tgt) << "seed " << seed;
    EXPECT_STREQ(last_op(sim, source, "vm").attribute("operation").value(), "stop")
        << "seed " << seed;
    EXPECT_TRUE(sim.idle()) << "seed " << seed << "\n" << sim.transcript();
    if (::testing::Test::HasFailure()) return;
  }
}

// A failed migrate_to aborts the transition before migrate_from, counts a failure on the source
// and the resource is recovered as Pacemaker recovers it: stopped there, started on another node.
TEST(ControllerSim, AFailedMigrateToFallsBackToStopAndStart) {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Options o = migratable();
    o.migrate_to_fails = true;
    Sim sim(seed, o);
    sim.run_for(20000);
    auto was = sim.where("vm");
    ASSERT_EQ(was.size(), 1u) << "seed " << seed;
    const int source = was[0];
    const std::size_t before = sim.agent_events().size();
    standby(sim, source);
    sim.run_for(30000);
    auto now = sim.where("vm");
    ASSERT_EQ(now.size(), 1u) << "seed " << seed << "\n" << sim.transcript();
    ASSERT_NE(now[0], source) << "seed " << seed;
    const std::vector<std::string> events(sim.agent_events().begin() + static_cast<long>(before),
                                          sim.agent_events().end());
    const std::string src = "n" + std::to_string(source), tgt = "n" + std::to_string(now[0]);
    EXPECT_GE(position(events, src + " done migrate_to vm"), 0) << "seed " << seed;
    for (const auto& e : events)
      EXPECT_EQ(e.find("migrate_from"), std::string::npos) << e << ", seed " << seed;
    EXPECT_LT(position(events, src + " asked stop vm"), position(events, tgt + " asked start vm"))
        << "seed " << seed;
    EXPECT_EQ(sim.attribute(source, "fail-count-vm#migrate_to_0"), "1") << "seed " << seed;
    EXPECT_TRUE(sim.idle()) << "seed " << seed << "\n" << sim.transcript();
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(ControllerWire, RoundTripsAndRejectsBadInput) {
  Message m = ExecuteRequest{"1-7", 3, 4, 2, "web", "start", 0, 0, "web_start_0", {}, {}};
  auto back = decode(encode(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<ExecuteRequest>(*back).key, "web_start_0");
  const std::string bytes = encode(m);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(decode(bytes.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(decode(bytes + "x").ok());
  std::string wrong = bytes;
  wrong[0] = 1;  // version 1 had no definition
  EXPECT_FALSE(decode(wrong).ok());
  wrong[0] = 3;
  EXPECT_FALSE(decode(wrong).ok());
}

// Parameters are the user's: many of them, or a long value, are no broken invariant.
TEST(ControllerWire, CarriesManyParametersAndLongValues) {
  ExecuteRequest e{"1-7", 3, 4, 2, "big", "start", 0, 0, "big_start_0", {}, {}};
  e.definition = {"ocf", "heartbeat", "Dummy", 20000, {}};
  for (int i = 0; i < 1000; ++i) e.definition.params["p" + std::to_string(i)] = "v";
  e.definition.params["long"] = std::string(200 * 1024, 'x');
  auto back = decode(encode(e));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(std::get<ExecuteRequest>(*back).definition, e.definition);
}

// The DC's definition of the resource travels with the request: agent, timeout, parameters.
TEST(ControllerWire, CarriesTheResourcesDefinition) {
  ExecuteRequest e{"1-7", 3, 4, 2, "vip", "monitor", 0, 7, "vip_monitor_0", {}, {}};
  e.definition = {"ocf", "heartbeat", "IPaddr2", 30000, {{"cidr_netmask", "24"}, {"ip", "10.0.0.9"}}};
  auto back = decode(encode(e));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(std::get<ExecuteRequest>(*back).definition, e.definition);
  std::string bytes = encode(e);
  const auto first = bytes.find("cidr_netmask"), second = bytes.find("ip", first + 14);
  ASSERT_NE(second, std::string::npos);
  const std::string one = bytes.substr(first - 4, second - first), two = bytes.substr(second - 4);
  EXPECT_FALSE(decode(bytes.substr(0, first - 4) + two + one).ok())
      << "parameters out of order were accepted";
}

// A notification's lists travel with its request, and its result comes back as a note; a map
// has one spelling (keys in order), as the fuzzer's round trip demands.
TEST(ControllerWire, CarriesMetaAttributesAndResultNotes) {
  ExecuteRequest e{"1-7", 3, 4, 2, "db", "notify", 0, 0, "db_pre_notify_start_0",
                   {{"notify_start_resource", "db:1"}, {"notify_type", "pre"}}, {}};
  auto back = decode(encode(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<ExecuteRequest>(*back).meta, e.meta);
  std::string bytes = encode(e);
  const auto first = bytes.find("notify_start_resource"), second = bytes.find("notify_type");
  // The map ends the message: its two pairs (each key led by its length) swapped.
  const std::string one = bytes.substr(first - 4, second - first), two = bytes.substr(second - 4);
  const std::string swapped = bytes.substr(0, first - 4) + two + one;
  ASSERT_EQ(swapped.size(), bytes.size());
  EXPECT_FALSE(decode(swapped).ok()) << "meta-attributes out of order were accepted";
  Message note = ActionResultNote{"1-7", 3, 4, 1, 0};
  auto n = decode(encode(note));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::get<ActionResultNote>(*n).rc, 1);
  EXPECT_EQ(std::get<ActionResultNote>(*n).action, 4);
}

}  // namespace
}  // namespace vigil::controller
