// The node's controller part, stepped through a lone Node: the controller joins its group once
// the ring is up, asks for agent actions as structured specs, records the results it is given,
// says when it is ready to leave, and answers a fence request from what the CIB shows.
#include <gtest/gtest.h>

#include <optional>

#include "node/node.h"
#include "timers.h"

namespace vigil::node {
namespace {

constexpr Millis kWallOffset = 1'700'000'000'000;  // the wall clock, as the shell would give it

// One node with a CIB and a controller; the test plays its disk (every write succeeds at once)
// and its executor (it keeps the actions asked for and answers them when told).
class Lone {
 public:
  Lone()
      : node_(Settings{1, totem::TotemSettings{}, std::nullopt, 0,
                       CibSettings{77, "n1", cib::Cib()}, std::nullopt,
                       {ListedNode{1, "n1", {"127.0.0.1"}, 1}},
                       ControllerSettings{78, "n1", 42, kWallOffset, {}, {}}},
              Rng(1)) {
    step(Start{now_});
  }

  void run_until(Millis until) {
    timers_.run_until(until, [&](Timer timer, Millis at) {
      now_ = std::max(now_, at);
      step(TimerFired{timer, now_});
    });
    now_ = std::max(now_, until);
  }
  void step(const Input& in) {
    std::deque<Output> outs{node_.step(in)};
    for (int i = 0; i < 1000 && !outs.empty(); ++i) {
      auto out = std::move(outs.front());
      outs.pop_front();
      timers_.set(out);
      for (auto& a : out.agent_runs) runs.push_back(std::move(a));
      for (auto& a : out.fence_answers) answers.push_back(std::move(a));
      for (auto& l : out.logs) logs.push_back(std::move(l));
      if (out.ready_to_leave) ++ready;
      if (out.persist_cib) {
        auto p = std::move(*out.persist_cib);
        outs.push_back(node_.step(
            Durable{p.number, std::make_shared<const cib::Cib>(std::move(p.cib)), {}, now_}));
      }
    }
  }
  void commit(const std::string& section, const std::string& xml) {
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::create("/cib/" + section, xml));
    step(CibCommit{1, std::move(op), now_});
    run_until(now_ + 2000);
  }
  // The action asked for on `resource`, if any (the newest).
  std::optional<controller::LocalAction> run_of(const std::string& resource,
                                                const std::string& name) const {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
      if (it->resource == resource && it->name == name) return *it;
    }
    return std::nullopt;
  }
  const cib::Cib& cib() const { return *node_.cib()->durable_cib(); }
  const Node& node() const { return node_; }
  Millis now() const { return now_; }

  std::vector<controller::LocalAction> runs;
  std::vector<FenceAnswer> answers;
  std::vector<LogEvent> logs;
  int ready = 0;

 private:
  Node node_;
  Millis now_ = 0;
  Timers timers_;
};

std::string dump(const std::vector<LogEvent>& logs) {
  std::string s;
  for (const auto& l : logs) s += std::string(to_string(l.subsystem)) + ": " + l.text + "\n";
  return s;
}

void settle(Lone& lone) {
  lone.run_until(10000);
  ASSERT_TRUE(lone.node().cib()->durable_synced());
  ASSERT_TRUE(lone.node().controller()->core().status().is_dc);
}

// The DC probes a new resource through the node's own executor: the probe comes out as an agent
// action with its agent spelled out, and only once its result is given back does the node
// record it and the DC go on to start the resource.
TEST(NodeController, AnAgentResultGivenToTheNodeIsRecordedInItsCib) {
  Lone lone;
  settle(lone);
  lone.commit("configuration/crm_config",
              "<cluster_property_set id=\"o\"><nvpair id=\"o-s\" name=\"stonith-enabled\" "
              "value=\"false\"/></cluster_property_set>");
  lone.commit("configuration/resources",
              "<primitive id=\"d\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>");
  const auto probe = lone.run_of("d", "monitor");
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->agent.str(), "ocf:heartbeat:Dummy");
  EXPECT_EQ(probe->interval, 0);
  lone.run_until(lone.now() + 2000);
  EXPECT_FALSE(lone.run_of("d", "start").has_value());
  lone.step(AgentResult{probe->token, controller::ActionResult{7, 0, 3, ""}, lone.now()});
  lone.run_until(lone.now() + 2000);
  const auto op = lone.cib().status().find_node([](pugi::xml_node n) {
    return std::string_view(n.name()) == "lrm_rsc_op" &&
           std::string_view(n.attribute("id").value()) == "d_last_0";
  });
  ASSERT_TRUE(op) << cib::element_xml(lone.cib().status()) << dump(lone.logs);
  EXPECT_TRUE(lone.run_of("d", "start").has_value());
}

// No poll: after a shutdown request the node says once that it may leave.
TEST(NodeController, ReadyToLeaveIsAnOutput) {
  Lone lone;
  settle(lone);
  lone.step(ShutdownRequest{lone.now()});
  lone.run_until(lone.now() + 5000);
  EXPECT_EQ(lone.ready, 1);
  EXPECT_EQ(lone.cib()
                .status()
                .find_child_by_attribute("node_state", "uname", "n1")
                .attribute("expected")
                .value(),
            std::string("down"));
}

// The fence request is the node's terminate attribute; it is answered once the CIB shows the
// node fenced, and not before.
TEST(NodeController, AFenceRequestIsAnsweredOnceTheCibShowsTheNodeFenced) {
  Lone lone;
  settle(lone);
  lone.commit("configuration/nodes", "<node id=\"2\" uname=\"n2\" type=\"member\"/>");
  lone.step(FenceRequest{9, "n2", lone.now()});
  lone.run_until(lone.now() + 2000);
  ASSERT_TRUE(lone.answers.empty());  // asked for: the DC has no device to fence n2 with
  EXPECT_TRUE(lone.cib().status().find_node([](pugi::xml_node n) {
    return std::string_view(n.attribute("name").value()) == "terminate";
  }));
  // What the DC writes once a fencing of n2 succeeded.
  cib::CibOp op;
  op.changes.push_back(cib::CibChange::replace(
      "/cib/status/node_state[@id='2']",
      "<node_state id=\"2\" uname=\"n2\" crmd=\"offline\" expected=\"down\" in_ccm=\"false\"/>"));
  lone.step(CibCommit{2, std::move(op), lone.now()});
  lone.run_until(lone.now() + 2000);
  ASSERT_EQ(lone.answers.size(), 1u) << cib::element_xml(lone.cib().status()) << dump(lone.logs);
  EXPECT_EQ(lone.answers[0].ticket, 9u);
  ASSERT_TRUE(lone.answers[0].fenced.ok()) << lone.answers[0].fenced.error().message;
  EXPECT_EQ(lone.answers[0].fenced.value(), "n2");
}

TEST(NodeController, AFenceRequestIsRefusedWithFencingDisabledAndTimesOutOtherwise) {
  Lone lone;
  lone.step(FenceRequest{1, "n1", lone.now()});
  ASSERT_EQ(lone.answers.size(), 1u);
  EXPECT_NE(lone.answers[0].fenced.error().message.find("no agreed CIB"), std::string::npos);
  settle(lone);
  lone.commit("configuration/nodes", "<node id=\"2\" uname=\"n2\" type=\"member\"/>");
  lone.step(FenceRequest{2, "n2", lone.now()});
  lone.run_until(lone.now() + kFenceWait - 1000);
  ASSERT_EQ(lone.answers.size(), 1u);
  lone.run_until(lone.now() + 2000);
  ASSERT_EQ(lone.answers.size(), 2u);
  EXPECT_NE(lone.answers[1].fenced.error().message.find("was not fenced within 110 s"),
            std::string::npos);
  lone.commit("configuration/crm_config",
              "<cluster_property_set id=\"o\"><nvpair id=\"o-s\" name=\"stonith-enabled\" "
              "value=\"false\"/></cluster_property_set>");
  lone.step(FenceRequest{3, "n2", lone.now()});
  ASSERT_EQ(lone.answers.size(), 3u);
  EXPECT_NE(lone.answers[2].fenced.error().message.find("stonith-enabled=false"),
            std::string::npos);
}

// A message in the controller group that does not decode is a log line naming the peer.
TEST(NodeController, AnUndecodableControllerMessageIsLoggedWithItsSender) {
  Lone lone;
  settle(lone);
  const std::uint8_t junk[] = {0xff, 1, 2};
  lone.step(GroupJoin{kControllerGroup, 5, lone.now()});
  lone.step(GroupSend{kControllerGroup, 5, junk, lone.now()});
  lone.run_until(lone.now() + 2000);
  bool logged = false;
  for (const auto& l : lone.logs)
    logged |= l.subsystem == Subsystem::Controller && l.text.find("from node 1:") == 0;
  EXPECT_TRUE(logged);
}

// ---- the join round across a reconciliation, on a ControllerPart alone: the test is its group.

groups::Bytes bytes(const controller::Message& m) {
  const auto text = controller::encode(m);
  return groups::Bytes(text.begin(), text.end());
}

std::vector<controller::Message> sent(const ControllerStep& step) {
  std::vector<controller::Message> out;
  for (const auto& m : step.send) out.push_back(*controller::decode(m));
  return out;
}

template <class T>
std::vector<T> sent_of(const ControllerStep& step) {
  std::vector<T> out;
  for (const auto& m : sent(step)) {
    if (const auto* t = std::get_if<T>(&m)) out.push_back(*t);
  }
  return out;
}

// Nodes 1 and 2, both with controllers, the CIB agreed; `self` is 1 (the DC) or 2.
ControllerPart joined_part(totem::NodeId self) {
  ControllerPart part(self, ControllerSettings{78, "n" + std::to_string(self), 42, 0, {}, {}},
                      {ListedNode{1, "n1", {"127.0.0.1"}, 1}, ListedNode{2, "n2", {"127.0.0.2"}, 1}});
  part.cib_changed(CibChanged{std::make_shared<const cib::Cib>(), true}, 0);
  part.view({1, 2}, true, true, {}, 0);
  part.event(groups::GroupChange{kControllerGroup, {{1, 78}, {2, 78}}, {}, {}, groups::Reason::Join},
             0);
  return part;
}

// While the replica reconciles, the report's commit waits in its queue but a group message
// would not: the ack goes out only once the commit is answered, so the DC never ends its round
// on a CIB without the report.
TEST(NodeController, AJoinAckWaitsUntilTheReportsCommitIsAnswered) {
  auto part = joined_part(2);
  const auto offered = part.event(
      groups::GroupMessage{kControllerGroup, {1, 78}, bytes(controller::JoinOffer{"1-9", 4})}, 10);
  ASSERT_EQ(offered.commits.size(), 1u);
  EXPECT_TRUE(sent_of<controller::JoinAck>(offered).empty());
  const auto answered =
      part.committed(offered.commits[0].ticket, cib::Cib(), 20);
  const auto acks = sent_of<controller::JoinAck>(answered);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].te_uuid, "1-9");
  EXPECT_EQ(acks[0].round, 4u);
  EXPECT_TRUE(sent_of<controller::JoinAck>(part.committed(offered.commits[0].ticket, cib::Cib(), 30))
                  .empty());
}

// A reconciliation may replace the copy a report was applied to: once the CIB is agreed again,
// the DC asks every node for its history again; a plain change of an agreed CIB does not.
TEST(NodeController, TheDcAsksForReportsAgainOnceTheCibIsAgreedAfterAReconciliation) {
  auto dc = joined_part(1);
  ASSERT_TRUE(dc.core().status().is_dc);
  const auto round = dc.core().status().state;
  EXPECT_EQ(round, controller::TransitionState::Joining);
  auto doc = std::make_shared<const cib::Cib>();
  EXPECT_TRUE(sent_of<controller::JoinOffer>(dc.cib_changed(CibChanged{doc, true}, 100)).empty());
  EXPECT_TRUE(sent_of<controller::JoinOffer>(dc.cib_changed(CibChanged{doc, false}, 200)).empty());
  const auto offers = sent_of<controller::JoinOffer>(dc.cib_changed(CibChanged{doc, true}, 300));
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].round, 2u);

  auto other = joined_part(2);
  other.cib_changed(CibChanged{doc, false}, 200);
  EXPECT_TRUE(sent_of<controller::JoinOffer>(other.cib_changed(CibChanged{doc, true}, 300)).empty());
}

// The node's transient attributes are its own to state (Pacemaker's attrd: its own values take
// priority): once the CIB is agreed again, a copy that lost one (a promotion score the CLI set)
// gets it back from the node, while the first agreed document of this life states nothing.
TEST(NodeController, OnceAgreedAgainTheNodeStatesItsTransientAttributes) {
  auto part = joined_part(2);
  part.event(
      groups::GroupMessage{kControllerGroup, {1, 78}, bytes(controller::JoinOffer{"1-9", 4})}, 10);
  const auto without = std::make_shared<const cib::Cib>();
  cib::CibOp score{{controller::attribute_change("2", "n2", {{"master-db", "10"}})}};
  const auto with = std::make_shared<const cib::Cib>(*cib::apply(*without, score));
  EXPECT_TRUE(part.cib_changed(CibChanged{with, true}, 20).commits.empty());
  part.cib_changed(CibChanged{with, false}, 30);
  const auto agreed = part.cib_changed(CibChanged{without, true}, 40);
  ASSERT_EQ(agreed.commits.size(), 1u);
  const auto restated = cib::apply(*without, agreed.commits[0].op);
  ASSERT_TRUE(restated.ok()) << restated.error().message;
  EXPECT_EQ(controller::node_attributes(*restated, "2"),
            (std::map<std::string, std::string>{{"master-db", "10"}}));
}

}  // namespace
}  // namespace vigil::node
