// Replica: the replicated CIB's wire messages, and a simulator that drives several replicas through
// a total-order group layer with joins, crashes, restarts from the on-disk copy, partitions where
// both sides change the CIB, and heals. After every step the simulator checks what a client may
// rely on, whatever rule the replicas use to pick the document they keep (it never asks which
// replica should win):
//  - replicas that report synced in one view hold identical documents;
//  - an op acknowledged OK is in every synced replica's document, through crashes, restarts from
//    disk, splits and heals. The one exception is a change that brings together members whose
//    documents each hold acknowledged ops the others lack (sides that both changed the CIB while
//    apart): one document survives, so one member's acknowledged history is kept whole and the
//    others' changes since they parted are lost (as in Pacemaker: the CIB has no merge). A member
//    whose acknowledged ops another member holds too, and more, loses nothing;
//  - after a change no synced member's version is below one a member held at the change (a
//    client's base version, `configure commit`, relies on versions that do not go back).
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "cib/replica.h"

namespace vigil::cib {

// Plants states that no sequence of steps produces, to show check_invariants() catches each.
struct ReplicaProbe {
  static void queue_while_synced(Replica& r) { r.queue_.push_back({r.self_, OpMessage{}}); }
  static void round_while_synced(Replica& r) { r.round_ = RoundId{r.self_, 99}; }
  static void offer_from_outside(Replica& r, groups::Member stranger) {
    r.synced_ = false;
    r.round_ = RoundId{r.self_, 99};
    r.offers_[stranger] = OfferMessage{*r.round_, {}, ""};
  }
  static void winner_before_every_offer(Replica& r, groups::Member other) {
    r.synced_ = false;
    r.members_ = {r.self_, other};
    std::sort(r.members_.begin(), r.members_.end());
    r.round_ = RoundId{r.self_, 99};
    r.offers_[r.self_] = OfferMessage{*r.round_, {}, ""};
    r.winner_ = r.self_;
  }
  static void synced_outside_the_group(Replica& r) { r.joined_ = false; }
};

namespace {

using groups::Member;

TEST(ReplicaWire, RoundTrip) {
  const std::vector<ReplicaMessage> messages = {
      OpMessage{7,
                {{CibChange::create("/cib/configuration/resources", "<primitive id=\"a\"/>")},
                 Version{0, 1, 0}}},
      RequestMessage{3, {{1, 10}, {2, 20}}},
      OfferMessage{{{1, 10}, 3}, {0, 3, 1}, std::string(64, 'a')},
      SyncMessage{{{1, 10}, 3}, 0, 1, "<cib/>"}, SyncMessage{{{1, 10}, 3}, 2, 3, "</cib>"}};
  for (const auto& m : messages) {
    const auto bytes = encode_message(m);
    auto back = decode_message(bytes);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, m);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
      EXPECT_FALSE(decode_message(bytes.substr(0, cut))) << "cut at " << cut;
    EXPECT_FALSE(decode_message(bytes + "x"));
  }
}

TEST(ReplicaWire, RejectsMalformedInput) {
  auto bytes = encode_message(RequestMessage{1, {{1, 10}}});
  auto bad_version = bytes;
  bad_version[4] = 9;
  EXPECT_NE(decode_message(bad_version).error().message.find("wire version 9"), std::string::npos);
  auto bad_kind = bytes;
  bad_kind[5] = 9;
  EXPECT_NE(decode_message(bad_kind).error().message.find("kind 9"), std::string::npos);
  auto huge = bytes;
  huge[14] = '\xff';  // member count far beyond the input
  EXPECT_NE(decode_message(huge).error().message.find("exceeds the input"), std::string::npos);
  EXPECT_FALSE(decode_message("CIBO"));
  auto part = encode_message(SyncMessage{{{1, 10}, 3}, 0, 2, "<cib"});
  part[22] = 2;  // part 2 of 2
  EXPECT_NE(decode_message(part).error().message.find("out of range"), std::string::npos);
}

// Two replicas over a lossless total order: every message either sends goes to both, in order.
struct Pair {
  std::vector<Replica> replicas;
  std::deque<std::pair<Member, std::string>> wire;
  std::vector<Outcome> done;

  void take(const Member& from, ReplicaOutput out) {
    for (auto& bytes : out.send) wire.emplace_back(from, std::move(bytes));
    for (auto& d : out.done) done.push_back(std::move(d));
  }
  void run() {
    for (int i = 0; i < 10000 && !wire.empty(); ++i) {
      auto [from, bytes] = std::move(wire.front());
      wire.pop_front();
      groups::GroupMessage m{"vigil.cib", from, groups::Bytes(bytes.begin(), bytes.end())};
      for (std::size_t r = 0; r < replicas.size(); ++r)
        take({static_cast<std::uint32_t>(r + 1), 1}, replicas[r].message(m));
    }
  }
};

Cib cib_of(int resources) {
  std::string xml =
      "<cib admin_epoch=\"0\" epoch=\"9\" num_updates=\"0\"><configuration>"
      "<crm_config/><nodes/><resources>";
  for (int i = 0; i < resources; ++i)
    xml += "<primitive id=\"r" + std::to_string(i) +
           "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"><instance_attributes id=\"r" +
           std::to_string(i) + "-ia\"><nvpair id=\"r" + std::to_string(i) +
           "-s\" name=\"state\" value=\"/run/resource-agents/Dummy-r" + std::to_string(i) +
           ".state\"/></instance_attributes></primitive>";
  xml += "</resources><constraints/></configuration><status/></cib>";
  auto cib = Cib::parse(xml);
  EXPECT_TRUE(cib) << cib.error().message;
  return cib ? std::move(*cib) : Cib();
}

// A CIB larger than one ring message (here about 2.5 MiB, 10 000 resources) reaches a newcomer in
// parts; a single change larger than one message is refused before it is sent.
// A replica alone in its group, synced: its request and offer come back to it in order.
Replica synced_alone(Member self) {
  Replica r(self, Cib());
  std::deque<std::string> wire;
  auto take = [&](const ReplicaOutput& out) {
    for (const auto& bytes : out.send) wire.push_back(bytes);
  };
  take(r.change({"vigil.cib", {self}, {self}, {}, groups::Reason::Join}));
  for (int i = 0; i < 10 && !wire.empty(); ++i) {
    const std::string bytes = wire.front();
    wire.pop_front();
    take(r.message({"vigil.cib", self, groups::Bytes(bytes.begin(), bytes.end())}));
  }
  EXPECT_TRUE(r.synced());
  return r;
}

TEST(ReplicaInvariants, HoldThroughASync) {
  synced_alone({1, 1}).check_invariants();
}

// Each planted inconsistency is caught: by a direct check, and by the next step.
TEST(ReplicaInvariantsDeathTest, EachCheckFires) {
  const Member self{1, 1};
  auto planted = [&](auto plant) {
    Replica r = synced_alone(self);
    plant(r);
    r.check_invariants();
  };
  EXPECT_DEATH(planted(ReplicaProbe::queue_while_synced), "synced_ .. .!round_ && queue_.empty");
  EXPECT_DEATH(planted(ReplicaProbe::round_while_synced), "synced_ .. .!round_ && queue_.empty");
  EXPECT_DEATH(planted([](Replica& r) {
                 ReplicaProbe::offer_from_outside(r, {7, 1});
               }),
               "binary_search.members_.begin.., members_.end.., member");
  EXPECT_DEATH(planted([](Replica& r) {
                 ReplicaProbe::winner_before_every_offer(r, {2, 1});
               }),
               "offers_.size.. == members_.size..");
  EXPECT_DEATH(planted(ReplicaProbe::synced_outside_the_group), "joined_ ==");
  EXPECT_DEATH(
      {
        Replica r = synced_alone(self);
        ReplicaProbe::queue_while_synced(r);
        r.commit(1, CibOp{});
      },
      "queue_.empty");
}

// An op under this replica's own member id that it never sent (a second vigild with the same node
// id) waits in the queue like any other; at the next round it is dropped, not sent again, and
// nothing crashes (the cib_replica fuzzer found map::at throwing there).
TEST(Replica, AnOpUnderItsOwnIdThatItNeverSentIsNotSentAgain) {
  const Member self{1, 1}, peer{2, 1};
  Replica r(self, Cib());
  r.change({"vigil.cib", {self, peer}, {self, peer}, {}, groups::Reason::Join});
  ASSERT_FALSE(r.synced());
  const std::string forged = encode_message(OpMessage{42, CibOp{}});
  r.message({"vigil.cib", self, groups::Bytes(forged.begin(), forged.end())});
  const std::string request = encode_message(RequestMessage{1, {self, peer}});
  const auto out = r.message({"vigil.cib", self, groups::Bytes(request.begin(), request.end())});
  ASSERT_FALSE(out.send.empty());  // the offer
  for (const auto& bytes : out.send) {
    auto decoded = decode_message(bytes);
    ASSERT_TRUE(decoded.ok());
    EXPECT_FALSE(std::holds_alternative<OpMessage>(*decoded)) << "the forged op went out again";
  }
}

TEST(Replica, ALargeCibSyncsInPartsAndAnOversizedChangeIsRefused) {
  Pair p;
  p.replicas.emplace_back(Member{1, 1}, cib_of(10000));
  p.replicas.emplace_back(Member{2, 1}, Cib());
  ASSERT_GT(p.replicas[0].current().to_xml().size(), 2 * kSyncPart);
  const groups::GroupChange both{
      "vigil.cib", {{1, 1}, {2, 1}}, {{1, 1}, {2, 1}}, {}, groups::Reason::Join};
  for (std::size_t r = 0; r < 2; ++r)
    p.take({static_cast<std::uint32_t>(r + 1), 1}, p.replicas[r].change(both));
  p.run();
  ASSERT_TRUE(p.replicas[1].synced());
  EXPECT_EQ(p.replicas[1].digest(), p.replicas[0].digest());
  EXPECT_EQ(p.replicas[1].current().version(), (Version{0, 9, 0}));

  CibOp big;
  big.changes.push_back(
      CibChange::replace("/cib/configuration/resources",
                         element_xml(cib_of(5000).configuration().child("resources"))));
  auto out = p.replicas[1].commit(1, big);
  EXPECT_TRUE(out.send.empty());
  ASSERT_EQ(out.done.size(), 1u);
  ASSERT_FALSE(out.done[0].result);
  EXPECT_NE(out.done[0].result.error().message.find("smaller steps"), std::string::npos);
  EXPECT_EQ(p.replicas[1].pending(), 0u);
}

// A newcomer whose join is delivered before every member's join list sees the group grow one
// change at a time, changes the old members never see (vigil-sim --layer stack, 8 nodes, seed 7).
// An op delivered between two of them must still be applied by every member once they agree: the
// round's request, not a change, is where queued ops are dropped and sent again.
TEST(Replica, ANewcomerThatLearnsTheMembersLateAppliesEveryOpTheOthersApply) {
  const Member a{1, 1}, b{2, 1}, c{3, 1};
  Pair p;
  p.replicas.emplace_back(a, cib_of(1));
  p.replicas.emplace_back(b, cib_of(1));
  p.replicas.emplace_back(c, Cib());
  const groups::GroupChange old_pair{"vigil.cib", {a, b}, {a, b}, {}, groups::Reason::Join};
  p.take(a, p.replicas[0].change(old_pair));
  p.take(b, p.replicas[1].change(old_pair));
  p.run();
  ASSERT_TRUE(p.replicas[0].synced() && p.replicas[1].synced());

  CibOp op{{CibChange::create("/cib/configuration/resources",
                              "<primitive id=\"late\" class=\"ocf\" provider=\"heartbeat\" "
                              "type=\"Dummy\"/>")}};
  p.take(a, p.replicas[0].commit(7, op));
  // The join of c: the old members see the whole group, c only the member whose list it had.
  const groups::GroupChange joined{"vigil.cib", {a, b, c}, {c}, {}, groups::Reason::Join};
  p.take(a, p.replicas[0].change(joined));
  p.take(b, p.replicas[1].change(joined));
  p.take(c, p.replicas[2].change({"vigil.cib", {b, c}, {c}, {}, groups::Reason::Join}));
  ASSERT_EQ(p.wire.size(), 2u);  // a's op, then a's request
  auto op_bytes = std::move(p.wire.front());
  p.wire.pop_front();
  groups::GroupMessage m{"vigil.cib", a, groups::Bytes(op_bytes.second.begin(),
                                                       op_bytes.second.end())};
  for (std::size_t r = 0; r < 3; ++r)
    p.take({static_cast<std::uint32_t>(r + 1), 1}, p.replicas[r].message(m));
  // a's join list reaches c only now: a change on c alone.
  p.take(c, p.replicas[2].change({"vigil.cib", {a, b, c}, {a}, {}, groups::Reason::NodeUp}));
  p.run();
  for (std::size_t r = 0; r < 3; ++r) {
    ASSERT_TRUE(p.replicas[r].synced()) << "node " << r + 1;
    EXPECT_TRUE(p.replicas[r].current().find_id("late")) << "node " << r + 1;
    EXPECT_EQ(p.replicas[r].digest(), p.replicas[0].digest()) << "node " << r + 1;
  }
  ASSERT_EQ(p.done.size(), 1u);
  EXPECT_TRUE(p.done[0].result.ok());
}

// Four members a..d, where b (node 2) learns the group late; `whole` is the group's view.
struct LateNewcomer {
  const Member a{1, 1}, b{2, 1}, c{3, 1}, d{4, 1};
  const groups::GroupChange whole{"vigil.cib", {a, b, c, d}, {b}, {}, groups::Reason::NodeUp};
  Pair p;
  LateNewcomer() {
    for (const auto& m : {a, b, c, d}) p.replicas.emplace_back(m, cib_of(1));
  }
  void expect_all_synced() {
    for (std::size_t r = 0; r < 4; ++r) {
      EXPECT_TRUE(p.replicas[r].synced()) << "node " << r + 1;
      EXPECT_EQ(p.replicas[r].members(), whole.members) << "node " << r + 1;
    }
  }
};

// A newcomer that learns the members late ignores the request for the whole group, then its own
// request for a view it has left, ordered after it: once it sees the whole group it must still ask
// again, or the others wait for its offer forever (vigil-sim --layer stack, seed 12810).
TEST(Replica, AnOwnRequestForAViewLeftDoesNotHideTheRequestMissed) {
  LateNewcomer n;
  const auto &a = n.a, &b = n.b, &c = n.c, &d = n.d;
  const auto& whole = n.whole;
  auto& p = n.p;
  p.take(a, p.replicas[0].change(whole));  // a's request for the whole group
  p.take(c, p.replicas[2].change(whole));
  p.take(d, p.replicas[3].change(whole));
  // b learns d first and asks for that view (its request is ordered after a's), then learns a.
  p.take(b, p.replicas[1].change({"vigil.cib", {b, d}, {d}, {}, groups::Reason::NodeUp}));
  p.take(b, p.replicas[1].change({"vigil.cib", {a, b, d}, {a}, {}, groups::Reason::NodeUp}));
  ASSERT_EQ(p.wire.size(), 2u);
  p.run();
  ASSERT_FALSE(p.replicas[0].synced());  // a, c and d wait for b's offer
  p.take(b, p.replicas[1].change({"vigil.cib", {a, b, c, d}, {c}, {}, groups::Reason::NodeUp}));
  p.run();
  n.expect_all_synced();
}

// Another newcomer's request for a view it has left may come after the request this member
// missed: that one must still be asked again (the last request ignored is not the only one).
TEST(Replica, AnotherNewcomersStaleRequestDoesNotHideTheRequestMissed) {
  LateNewcomer n;
  const auto &a = n.a, &b = n.b, &c = n.c, &d = n.d;
  const auto& whole = n.whole;
  auto& p = n.p;
  p.take(a, p.replicas[0].change(whole));  // a's request for the whole group
  p.take(d, p.replicas[3].change(whole));
  // c asks for the view it held before it learnt the whole group (ordered after a's request).
  p.take(c, p.replicas[2].change({"vigil.cib", {c, d}, {d}, {}, groups::Reason::NodeUp}));
  p.take(c, p.replicas[2].change(whole));
  // b learns a first, and misses a's request.
  p.take(b, p.replicas[1].change({"vigil.cib", {a, b}, {a}, {}, groups::Reason::NodeUp}));
  ASSERT_EQ(p.wire.size(), 2u);
  p.run();
  ASSERT_FALSE(p.replicas[0].synced());  // a, c and d wait for b's offer
  p.take(b, p.replicas[1].change(whole));
  p.run();
  n.expect_all_synced();
}

// ---- the simulator ----------------------------------------------------------------------------

struct SimNode {
  bool up = false;
  std::uint32_t pid = 0;  // a new one for every start, as a restarted daemon has
  std::optional<Replica> replica;
  Cib disk;  // what was persisted last
  int partition = -1;
};

// Resources created by acknowledged ops: one side's history.
using Acked = std::set<std::string>;

struct Partition {
  std::deque<std::pair<Member, std::string>> in_flight;  // the group's total order
  // Every synced member holds every op of one of these histories: the members' acknowledged
  // histories at the last change that no other member's history contains; more than one only when
  // they diverged, until the members are synced again.
  std::set<Acked> histories;
  Version floor;  // the highest version a member held at the last change: none may go below
};

class Sim {
 public:
  Sim(std::uint64_t seed, int nodes) : rng_(seed), nodes_(static_cast<std::size_t>(nodes)) {
    for (int n = 0; n < nodes; ++n) start(n);
    // All nodes start in one partition (the cluster's first start).
    for (int n = 1; n < nodes; ++n) merge(node(0).partition, node(n).partition);
  }

  void step() {
    const auto what = rng_.uniform(100);
    if (what < 55) {
      deliver_one();
    } else if (what < 80) {
      client_op();
    } else if (what < 85) {
      crash_or_restart();
    } else if (what < 92) {
      split();
    } else {
      heal();
    }
    check();
  }

  // No more faults: everything heals and the group drains; every node ends synced on one document
  // and every request still open has been answered.
  void settle() {
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (!nodes_[n].up) start(static_cast<int>(n));
    }
    while (parts_.size() > 1) merge(parts_.begin()->first, std::next(parts_.begin())->first);
    for (int i = 0; i < 100000 && deliver_one(); ++i) check();
    const auto& first = *nodes_[0].replica;
    for (const auto& n : nodes_) {
      ASSERT_TRUE(n.replica->synced());
      EXPECT_EQ(n.replica->digest(), first.digest());
      EXPECT_EQ(n.replica->current().version(), first.current().version());
      EXPECT_EQ(n.replica->pending(), 0u);
    }
  }

  std::size_t acked() const { return acked_total_; }
  std::size_t refused() const { return refused_total_; }

 private:
  SimNode& node(int n) { return nodes_[static_cast<std::size_t>(n)]; }
  Member member(int n) { return {static_cast<std::uint32_t>(n + 1), node(n).pid}; }

  std::vector<int> nodes_in(int p) const {
    std::vector<int> out;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n].up && nodes_[n].partition == p) out.push_back(static_cast<int>(n));
    }
    return out;
  }
  std::vector<Member> members_of(int p) {
    std::vector<Member> out;
    for (int n : nodes_in(p)) out.push_back(member(n));
    std::sort(out.begin(), out.end());
    return out;
  }
  int node_of(const Member& m) const { return static_cast<int>(m.node) - 1; }

  void start(int n) {
    auto& s = node(n);
    s.up = true;
    s.pid = ++pids_;
    s.replica.emplace(member(n), s.disk);
    s.partition = next_partition_++;
    parts_[s.partition] = Partition{{}, {}, s.disk.version()};
    announce(s.partition, {member(n)}, {});
  }

  // Every member of partition p gets the configuration change, then the replicas react.
  void announce(int p, const std::vector<Member>& joined, const std::vector<Member>& left) {
    groups::GroupChange c{"vigil.cib", members_of(p), joined, left, groups::Reason::Join};
    auto& part = parts_[p];
    part.floor = Version{};
    std::vector<Acked> held;
    for (int n : nodes_in(p)) {
      const auto& r = *node(n).replica;
      part.floor = std::max(part.floor, r.current().version());
      held.push_back(history(r));
    }
    part.histories = maximal(held);
    for (int n : nodes_in(p)) handle(n, node(n).replica->change(c));
  }

  void handle(int n, ReplicaOutput out) {
    auto& s = node(n);
    if (out.changed) s.disk = s.replica->current();  // persisted before anyone is answered
    auto& part = parts_[s.partition];
    for (auto& bytes : out.send) part.in_flight.emplace_back(member(n), std::move(bytes));
    for (auto& done : out.done) {
      auto it = requests_.find(done.request);
      ASSERT_NE(it, requests_.end());
      if (done.result) {
        ++acked_total_;
        const std::string& id = it->second.second;
        ASSERT_TRUE(done.result->find_id(id)) << id;
        acked_ever_.insert(id);
        lost_.erase(id);
        std::set<Acked> grown;
        for (Acked h : part.histories) {
          h.insert(id);
          grown.insert(std::move(h));
        }
        part.histories = std::move(grown);
      } else {
        ++refused_total_;
      }
      requests_.erase(it);
    }
  }

  bool deliver_one() {
    std::vector<int> busy;
    for (const auto& [p, part] : parts_) {
      if (!part.in_flight.empty()) busy.push_back(p);
    }
    if (busy.empty()) return false;
    const int p = busy[rng_.uniform(busy.size())];
    auto [sender, bytes] = std::move(parts_[p].in_flight.front());
    parts_[p].in_flight.pop_front();
    const groups::GroupMessage m{"vigil.cib", sender, groups::Bytes(bytes.begin(), bytes.end())};
    for (int n : nodes_in(p)) handle(n, node(n).replica->message(m));
    return true;
  }

  void client_op() {
    std::vector<int> up;
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      if (nodes_[n].up) up.push_back(static_cast<int>(n));
    }
    if (up.empty()) return;
    const int n = up[rng_.uniform(up.size())];
    // Mostly new resources; some reuse an id (refused everywhere), some carry the base version the
    // client saw, as `configure commit` does (refused when the CIB moved on).
    const bool reuse = next_id_ > 0 && rng_.chance(0.1);
    const std::string id = "r" + std::to_string(reuse ? rng_.uniform(next_id_)
                                                      : static_cast<std::uint64_t>(next_id_++));
    CibOp op{{CibChange::create("/cib/configuration/resources",
                                "<primitive id=\"" + id +
                                    "\" class=\"ocf\" provider=\"heartbeat\" "
                                    "type=\"Dummy\"/>")}};
    if (rng_.chance(0.2)) op.base = node(n).replica->current().version();
    const auto request = ++requests_made_;
    requests_[request] = {n, id};
    handle(n, node(n).replica->commit(request, op));
  }

  void crash_or_restart() {
    const int n = static_cast<int>(rng_.uniform(nodes_.size()));
    auto& s = node(n);
    if (!s.up) return start(n);
    const Member gone = member(n);
    const int p = s.partition;
    s.up = false;
    // Its requests die with its clients.
    std::erase_if(requests_, [&](const auto& r) { return r.second.first == n; });
    s.replica.reset();
    auto& q = parts_[p].in_flight;
    std::erase_if(q, [&](const auto& e) { return e.first == gone; });
    if (nodes_in(p).empty()) {
      parts_.erase(p);
      return;
    }
    announce(p, {}, {gone});
  }

  void split() {
    std::vector<int> candidates;
    for (const auto& [p, part] : parts_) {
      if (nodes_in(p).size() >= 2) candidates.push_back(p);
    }
    if (candidates.empty()) return;
    const int p = candidates[rng_.uniform(candidates.size())];
    auto members = nodes_in(p);
    const int q = next_partition_++;
    parts_[q] = Partition{};
    std::vector<Member> moved;
    // At least one node on each side.
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i == 0 || (i + 1 < members.size() && rng_.chance(0.5))) continue;
      node(members[i]).partition = q;
      moved.push_back(member(members[i]));
    }
    if (moved.empty()) {
      node(members.back()).partition = q;
      moved.push_back(member(members.back()));
    }
    // Messages in flight stay with their sender's side.
    auto& from = parts_[p].in_flight;
    for (auto it = from.begin(); it != from.end();) {
      if (node(node_of(it->first)).partition == q) {
        parts_[q].in_flight.push_back(std::move(*it));
        it = from.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<Member> stayed = members_of(p);
    announce(p, {}, moved);
    announce(q, {}, stayed);
  }

  void heal() {
    if (parts_.size() < 2) return;
    std::vector<int> ids;
    for (const auto& [p, part] : parts_) ids.push_back(p);
    const auto a = rng_.uniform(ids.size());
    auto b = rng_.uniform(ids.size() - 1);
    if (b >= a) ++b;
    merge(ids[a], ids[b]);
  }

  // Partition b joins a; b's messages still in flight are delivered after a's, after the change.
  void merge(int a, int b) {
    const auto joined = members_of(b);
    auto& pa = parts_[a];
    auto& pb = parts_[b];
    for (auto& e : pb.in_flight) pa.in_flight.push_back(std::move(e));
    for (int n : nodes_in(b)) node(n).partition = a;
    parts_.erase(b);
    announce(a, joined, {});
  }

  // The acknowledged ops a replica holds, leaving out those lost for good at a divergent change.
  Acked history(const Replica& r) const {
    Acked out;
    for (const auto& id : acked_ever_) {
      if (!lost_.count(id) && r.current().find_id(id)) out.insert(id);
    }
    return out;
  }

  // The histories no other one contains.
  static std::set<Acked> maximal(const std::vector<Acked>& held) {
    std::set<Acked> out;
    for (const auto& x : held) {
      const bool contained = std::any_of(held.begin(), held.end(), [&](const Acked& y) {
        return y.size() > x.size() && std::includes(y.begin(), y.end(), x.begin(), x.end());
      });
      if (!contained) out.insert(x);
    }
    return out;
  }

  static std::vector<std::string> missing(const Replica& r, const Acked& history) {
    std::vector<std::string> out;
    for (const auto& id : history) {
      if (!r.current().find_id(id)) out.push_back(id);
    }
    return out;
  }

  void check() {
    for (const auto& n : nodes_) {
      if (n.up) n.replica->check_invariants();
    }
    for (auto& [p, part] : parts_) {
      const Replica* first = nullptr;
      for (int n : nodes_in(p)) {
        const auto& r = *node(n).replica;
        if (!r.synced()) continue;
        ASSERT_EQ(r.members(), members_of(p));
        EXPECT_GE(r.current().version(), part.floor) << "node " << n + 1;
        std::string lost;
        for (const auto& h : part.histories) {
          const auto gone = missing(r, h);
          if (gone.empty()) {
            lost.clear();
            break;
          }
          if (lost.empty()) lost = gone.front() + " (" + std::to_string(gone.size()) + " in all)";
        }
        ASSERT_TRUE(lost.empty()) << "acknowledged " << lost << " lost on node " << n + 1;
        if (!first) {
          first = &r;
          continue;
        }
        ASSERT_EQ(r.digest(), first->digest()) << "node " << n + 1;
        ASSERT_EQ(r.current().version(), first->current().version());
      }
      // The members agreed on one document: what the other histories held beyond it is gone.
      if (!first) continue;
      for (const auto& h : part.histories) {
        for (const auto& id : missing(*first, h)) lost_.insert(id);
      }
      part.histories = {history(*first)};
    }
  }

  Rng rng_;
  std::vector<SimNode> nodes_;
  std::map<int, Partition> parts_;
  // Open requests → the node that made it and the resource it creates.
  std::map<std::uint64_t, std::pair<int, std::string>> requests_;
  Acked acked_ever_;  // every resource an acknowledged op created
  Acked lost_;        // those a divergent change dropped (until acknowledged again)
  std::uint32_t pids_ = 0;
  int next_partition_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t requests_made_ = 0;
  std::size_t acked_total_ = 0, refused_total_ = 0;
};

TEST(ReplicaSim, ManySeedsWithPartitionsRestartsAndHeals) {
  std::size_t acked = 0, refused = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed, 2 + static_cast<int>(seed % 4));
    for (int i = 0; i < 400 && !::testing::Test::HasFatalFailure(); ++i) sim.step();
    if (::testing::Test::HasFatalFailure()) return;
    sim.settle();
    acked += sim.acked();
    refused += sim.refused();
  }
  // The runs did real work: most ops acknowledged, some refused (reused ids, stale bases).
  EXPECT_GT(acked, 1000u);
  EXPECT_GT(refused, 10u);
}

}  // namespace
}  // namespace vigil::cib
