// Layer::Stack with a witness (cluster.h): the simulated witness, its links to the nodes, each
// node's device client as vigild's device service runs it, and the checker that no two disjoint
// rings count themselves quorate at once.
#include <algorithm>

#include "checker.h"
#include "cib_checker.h"
#include "cluster.h"
#include "cluster_node.h"

namespace vigil::sim {

namespace {

constexpr const char* kClusterName = "sim";
constexpr std::uint32_t kKey = 1;  // the authkey that opened the nodes' asks

bool disjoint(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  return std::none_of(a.begin(), a.end(),
                      [&](NodeId id) { return std::binary_search(b.begin(), b.end(), id); });
}

}  // namespace

// A new process: a new session (the witness tells its answers apart from the last one's), and a
// connection that opens at once (a cut drops messages; the channel reconnects on its own).
void Cluster::boot_device(NodeId id) {
  Node& n = *nodes_[id - 1];
  n.device.emplace(quorum::DeviceSettings{kClusterName, id, o_.witness_timeout,
                                          quorum::DeviceTieBreaker::Lowest, 0},
                   n.boots);
  n.device->connected(true, now_);
  n.device_members.clear();
  n.device_grant.reset();
  n.device_wake.reset();
}

// The process ended. With the host up, the kernel closes its connection and the witness hears
// of it when the close gets through; a host gone says nothing (its seat ages out).
void Cluster::stop_device(NodeId id, bool host_up) {
  Node& n = *nodes_[id - 1];
  if (!n.device) return;
  n.device.reset();
  if (!host_up || !to_witness_up_[id - 1] || !witness_) return;
  const auto session = n.boots;
  const auto boots = witness_boots_;
  at(std::max(now_ + delay(), n.to_witness_last), [this, id, session, boots] {
    if (witness_ && witness_boots_ == boots)
      witness_->disconnected(quorum::ClusterId{kKey, kClusterName}, id, session);
  });
}

// After each step: a new ring goes to the client, which asks about it at once.
void Cluster::device_view(NodeId id) {
  Node& n = *nodes_[id - 1];
  if (!n.device || n.stack->view().members == n.device_members) return;
  n.device_members = n.stack->view().members;
  n.device->membership(n.device_members, now_);
  const auto generation = n.generation;
  at(now_, [this, id, generation] { device_pump(id, generation); });
}

// The device service's pump: sends the ask that is due, hands the core every new grant, and
// wakes when the client next needs it. A frozen process does all that when it resumes.
void Cluster::device_pump(NodeId id, std::uint64_t generation) {
  Node& n = *nodes_[id - 1];
  if (n.generation != generation || !n.alive || !n.device) return;
  if (n.paused_until > now_)
    return at(n.paused_until, [this, id, generation] { device_pump(id, generation); });
  if (auto ask = n.device->due(now_)) to_witness(id, std::move(*ask));
  auto grant = n.device->grant(now_);
  if (o_.inject_witness_vote_kept && !grant && n.device_grant && now_ < n.device_grant->until &&
      !n.device_members.empty()) {
    grant = n.device_grant;
    grant->members = n.device_members;
    grant->keeper = n.device_members.front();
  }
  if (grant != n.device_grant) {
    trace("n" + std::to_string(id) + " device: " +
          (grant ? "the witness's vote counts for " + node_list(grant->members) + " until " +
                       std::to_string(grant->until)
                 : std::string("no vote")));
    n.device_grant = grant;
    apply(id, step_stack(id, node::DeviceVote{std::move(grant), now_}));
  }
  if (!n.alive || n.generation != generation) return;
  const auto wake = n.device->wake_at(now_);
  if (!wake || wake == n.device_wake) return;
  n.device_wake = wake;
  const auto token = ++n.device_wakes;
  at(*wake, [this, id, generation, token] {
    Node& node = *nodes_[id - 1];
    if (node.device_wakes != token) return;  // a later pump scheduled another
    node.device_wake.reset();
    device_pump(id, generation);
  });
}

// An ask travels to the witness in order behind the node's earlier ones; a cut link or a witness
// that restarted meanwhile loses it.
void Cluster::to_witness(NodeId id, quorum::Ask ask) {
  Node& n = *nodes_[id - 1];
  if (!witness_ || !to_witness_up_[id - 1]) return;
  n.to_witness_last = std::max(now_ + delay(), n.to_witness_last);
  const auto generation = n.generation;
  const auto boots = witness_boots_;
  at(n.to_witness_last, [this, id, generation, boots, ask = std::move(ask)] {
    if (!witness_ || witness_boots_ != boots) return;
    auto answer = witness_->ask(kKey, ask, now_);
    if (!answer) return checker_->report("witness", answer.error().message);
    if (o_.trace)
      trace("witness answers n" + std::to_string(id) + " about " + node_list(ask.members) + ": " +
            (answer->vote ? "vote, keeper n" + std::to_string(answer->keeper) : "refused"));
    to_node(id, generation, *answer);
  });
}

void Cluster::to_node(NodeId id, std::uint64_t generation, quorum::Answer answer) {
  Node& n = *nodes_[id - 1];
  if (!from_witness_up_[id - 1]) return;
  n.from_witness_last = std::max(now_ + delay(), n.from_witness_last);
  at(n.from_witness_last, [this, id, generation, answer] {
    Node& node = *nodes_[id - 1];
    if (node.generation != generation || !node.alive || !node.device) return;
    if (node.paused_until > now_) {  // read when the process thaws
      const Millis thaw = node.paused_until;
      return at(thaw, [this, id, generation, answer] {
        Node& again = *nodes_[id - 1];
        if (again.generation != generation || !again.alive || !again.device) return;
        again.device->answer(answer, now_);
        device_pump(id, generation);
      });
    }
    node.device->answer(answer, now_);
    device_pump(id, generation);
  });
}

// The witness's own faults, from the seed: a node's link to it cut both ways or one way, and the
// witness restarted (it then grants nothing for one validity). And in one run of four a node's
// host dies for good: the witness's vote must then let the others run everything without it.
void Cluster::plan_witness_faults(Millis begin, Millis end) {
  if (o_.nodes > 1 && rng_.chance(0.25)) {
    const auto node = static_cast<NodeId>(rng_.uniform(static_cast<std::uint64_t>(o_.nodes)) + 1);
    at(begin + static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(end - begin))),
       [this, node] {
         trace("n" + std::to_string(node) + "'s host is gone for good");
         crash(node);
         gone_ = node;
         nodes_[node - 1]->disk_cib = std::make_shared<const cib::Cib>();
         if (o_.check) cib_checker_->on_disk_gone(node);
       });
  }
  const int events = static_cast<int>(rng_.between(1, 3));
  for (int i = 0; i < events; ++i) {
    const Millis t =
        begin + static_cast<Millis>(rng_.uniform(static_cast<std::uint64_t>(end - begin)));
    const Millis until =
        std::min<Millis>(end, t + rng_.between(o_.witness_timeout, 4 * o_.witness_timeout));
    const auto kind = rng_.uniform(3);
    if (kind == 2) {
      at(t, [this] {
        trace("the witness stops");
        witness_.reset();
        ++witness_boots_;
      });
      at(until, [this] {
        if (witness_) return;
        trace("the witness starts");
        witness_.emplace(now_);
      });
      continue;
    }
    const auto node = static_cast<std::size_t>(rng_.uniform(static_cast<std::uint64_t>(o_.nodes)));
    const bool to = kind == 0 || rng_.chance(0.5), from = kind == 0 || !to;
    at(t, [this, node, to, from] {
      if (to) to_witness_up_[node] = false;
      if (from) from_witness_up_[node] = false;
      trace("link n" + std::to_string(node + 1) +
            (to && from ? "<->"
             : to       ? "->"
                        : "<-") +
            "witness down");
    });
    at(until, [this, node, to, from] {
      if (to) to_witness_up_[node] = true;
      if (from) from_witness_up_[node] = true;
      trace("link n" + std::to_string(node + 1) + "<->witness up");
    });
  }
}

void Cluster::heal_witness() {
  std::fill(to_witness_up_.begin(), to_witness_up_.end(), true);
  std::fill(from_witness_up_.begin(), from_witness_up_.end(), true);
  if (!witness_) witness_.emplace(now_);
}

// A node claims quorum while its view says so, unless it is frozen or counts the witness's vote
// past the grant's end: either way it acts on nothing until its next step, which drops the vote.
// Two claims from disjoint rings at once are a split brain.
void Cluster::check_sides(NodeId id) {
  auto claims = [this](const Node& n) {
    if (!n.alive || !n.stack || n.paused_until > now_ || !n.stack->view().quorate) return false;
    const auto& device = n.stack->quorum()->status().device;
    return !(device && device->cast && n.device_grant && n.device_grant->until <= now_);
  };
  const Node& a = *nodes_[id - 1];
  if (!claims(a)) return;
  for (const auto& b : nodes_) {
    if (b->id == id || !claims(*b)) continue;
    const auto& mine = a.stack->view().members;
    const auto& theirs = b->stack->view().members;
    if (!disjoint(mine, theirs)) continue;
    return checker_->report("witness quorum", "n" + std::to_string(id) + " in " + node_list(mine) +
                                                  " and n" + std::to_string(b->id) + " in " +
                                                  node_list(theirs) + " are both quorate at " +
                                                  std::to_string(now_));
  }
}

}  // namespace vigil::sim
