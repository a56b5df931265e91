// The node's CIB part, stepped through a lone Node: commits are answered only once durable, a
// failed write is answered with the node and the cause, and "synced" arrives as a notice.
#include <gtest/gtest.h>

#include <optional>

#include "node/node.h"
#include "timers.h"

namespace vigil::node {
namespace {

// One node with a CIB; the test plays its disk: it keeps the newest persist request and reports
// it only when told.
class Lone {
 public:
  explicit Lone(const InjectedFaults& faults = {})
      : node_(Settings{1, totem::TotemSettings{}, std::nullopt, 0,
                       CibSettings{77, "n1", cib::Cib()}, std::nullopt, {}, std::nullopt},
              Rng(1)) {
    node_.inject(faults);
    take(node_.step(Start{now_}));
  }

  void run_until(Millis until) {
    timers_.run_until(until, [&](Timer timer, Millis at) {
      now_ = std::max(now_, at);
      take(node_.step(TimerFired{timer, now_}));
    });
    now_ = std::max(now_, until);
  }
  void step(const Input& in) { take(node_.step(in)); }
  void commit(std::uint64_t ticket, const std::string& id) {
    cib::CibOp op;
    op.changes.push_back(cib::CibChange::modify(
        "/cib/configuration/nodes",
        "<nodes><node id=\"" + id + "\" uname=\"n" + id + "\" type=\"member\"/></nodes>"));
    step(CibCommit{ticket, std::move(op), now_});
  }
  // Reports the newest persist request written (or failed); false when none is pending.
  bool write(std::optional<Error> failed = std::nullopt) {
    if (!pending_) return false;
    auto p = std::move(*pending_);
    pending_.reset();
    step(Durable{p.number, failed ? nullptr : std::make_shared<const cib::Cib>(std::move(p.cib)),
                 failed, now_});
    return true;
  }

  Node& node() { return node_; }
  Millis now() const { return now_; }
  std::vector<CibReply> replies;
  std::vector<CibChanged> changes;

 private:
  void take(Output out) {
    timers_.set(out);
    if (out.persist_cib) pending_ = std::move(out.persist_cib);
    for (auto& n : out.notices) {
      if (auto* c = std::get_if<CibChanged>(&n)) changes.push_back(std::move(*c));
    }
    for (auto& r : out.replies) replies.push_back(std::move(r));
  }

  Node node_;
  Millis now_ = 0;
  Timers timers_;
  std::optional<CibPersist> pending_;
};

bool synced_with(const Lone& lone, const std::string& id) {
  if (lone.changes.empty() || !lone.changes.back().synced) return false;
  const auto& cib = *lone.changes.back().cib;
  return cib.configuration().child("nodes").find_child_by_attribute("node", "id", id.c_str());
}

// Up, synced, and its own node entry durable.
void settle(Lone& lone) {
  lone.run_until(5000);
  for (int i = 0; i < 10 && lone.write(); ++i) lone.run_until(lone.now() + 100);
  ASSERT_TRUE(synced_with(lone, "1"));
}

TEST(NodeCib, SyncedArrivesAsANoticeAndTheNodeEntersItselfInTheNodeList) {
  Lone lone;
  lone.run_until(5000);
  ASSERT_FALSE(lone.changes.empty());  // no poll: the node says when it holds the agreed CIB
  settle(lone);
  EXPECT_TRUE(lone.node().cib()->durable_synced());
}

TEST(NodeCib, ACommitIsAnsweredOnlyOnceItsDocumentIsDurable) {
  Lone lone;
  settle(lone);
  lone.commit(5, "9");
  lone.run_until(lone.now() + 1000);
  EXPECT_TRUE(lone.replies.empty());  // applied, not yet on disk
  EXPECT_FALSE(synced_with(lone, "9"));
  ASSERT_TRUE(lone.write());
  ASSERT_EQ(lone.replies.size(), 1u);
  EXPECT_EQ(lone.replies[0].ticket, 5u);
  ASSERT_TRUE(lone.replies[0].result.ok()) << lone.replies[0].result.error().message;
  EXPECT_TRUE(synced_with(lone, "9"));
}

TEST(NodeCib, AFailedWriteAnswersWithTheNodeAndTheCauseAndShowsNothingNew) {
  Lone lone;
  settle(lone);
  const auto shown = lone.changes.size();
  lone.commit(6, "9");
  lone.run_until(lone.now() + 1000);
  ASSERT_TRUE(lone.write(fail("disk full")));
  ASSERT_EQ(lone.replies.size(), 1u);
  ASSERT_FALSE(lone.replies[0].result.ok());
  EXPECT_NE(lone.replies[0].result.error().message.find("could not be saved on n1 (disk full)"),
            std::string::npos);
  EXPECT_EQ(lone.changes.size(), shown);
}

// A full disk clears: the node writes its newest document again on its own (no change needed to
// prompt it), every kWriteRetry ms while the writes fail, and shows it once it is saved.
TEST(NodeCib, AFailedWriteIsTriedAgainUntilTheDiskHasRoom) {
  Lone lone;
  settle(lone);
  const auto shown = lone.changes.size();
  lone.commit(6, "9");
  ASSERT_TRUE(lone.write(fail("disk full")));
  const Millis failed_at = lone.now();
  lone.run_until(failed_at + CibPart::kWriteRetry - 1);
  EXPECT_FALSE(lone.write());  // nothing asked yet
  lone.run_until(failed_at + CibPart::kWriteRetry);
  ASSERT_TRUE(lone.write(fail("disk full")));  // the disk is still full
  lone.run_until(lone.now() + CibPart::kWriteRetry);
  ASSERT_TRUE(lone.write());  // it has room now
  EXPECT_TRUE(synced_with(lone, "9"));
  EXPECT_EQ(lone.changes.size(), shown + 1);
  EXPECT_EQ(lone.replies.size(), 1u);  // the change was answered once, with the failure
  lone.run_until(lone.now() + 10 * CibPart::kWriteRetry);
  EXPECT_FALSE(lone.write());  // saved: no more writes
}

// A newer change written meanwhile settles the failure: no retry of its own.
TEST(NodeCib, ANewerChangeSettlesAFailedWrite) {
  Lone lone;
  settle(lone);
  lone.commit(6, "9");
  ASSERT_TRUE(lone.write(fail("disk full")));
  lone.commit(7, "10");
  ASSERT_TRUE(lone.write());
  ASSERT_EQ(lone.replies.size(), 2u);
  EXPECT_TRUE(lone.replies[1].result.ok());
  EXPECT_TRUE(synced_with(lone, "9"));
  lone.run_until(lone.now() + 10 * CibPart::kWriteRetry);
  EXPECT_FALSE(lone.write());
}

// As vigild stops: a change applied is answered once its write (the shell's last) is reported, a
// change not yet delivered is answered with an error at once, a new one is refused.
TEST(NodeCib, LeavingStillAnswersEveryChangeAndRefusesNewOnes) {
  Lone lone;
  settle(lone);
  lone.commit(7, "9");
  lone.step(Leave{lone.now()});
  lone.write();
  ASSERT_EQ(lone.replies.size(), 1u);
  EXPECT_EQ(lone.replies[0].ticket, 7u);
  lone.commit(8, "10");
  ASSERT_EQ(lone.replies.size(), 2u);
  ASSERT_FALSE(lone.replies[1].result.ok());
  EXPECT_NE(lone.replies[1].result.error().message.find("stopping"), std::string::npos);
}

// A change applied here and waiting for its write, then replaced by the document another member
// brings to a reconciliation (the other side of a partition): the adopted document does not hold
// it, so it is never answered OK (vigil-sim --layer stack --nodes 4 --seed 294).
TEST(NodeCib, AChangeWhoseDocumentAReconciliationReplacedIsNotAnsweredOk) {
  const groups::Member self{1, 77}, other{2, 5};
  CibPart part(1, CibSettings{77, "n1", cib::Cib()});
  std::vector<CibReply> replies;
  std::uint64_t round = 0;
  // Our own messages come back to us in order; bounded.
  auto loop = [&](CibStep step) {
    std::vector<std::string> wire = std::move(step.send);
    for (auto& r : step.replies) replies.push_back(std::move(r));
    for (std::size_t i = 0; i < wire.size() && i < 100; ++i) {
      auto m = cib::decode_message(wire[i]);
      if (m && std::holds_alternative<cib::RequestMessage>(*m))
        round = std::get<cib::RequestMessage>(*m).round;
      auto more = part.event(groups::GroupMessage{kCibGroup, self,
                                                  groups::Bytes(wire[i].begin(), wire[i].end())});
      for (auto& bytes : more.send) wire.push_back(std::move(bytes));
      for (auto& r : more.replies) replies.push_back(std::move(r));
    }
  };
  auto from_other = [&](const cib::ReplicaMessage& m) {
    const auto bytes = cib::encode_message(m);
    loop(part.event(
        groups::GroupMessage{kCibGroup, other, groups::Bytes(bytes.begin(), bytes.end())}));
  };
  const cib::Cib empty;
  loop(part.event(groups::GroupChange{kCibGroup, {self, other}, {self, other}, {},
                                      groups::Reason::Join}));
  from_other(cib::OfferMessage{{self, round}, empty.version(), empty.content_digest()});
  ASSERT_TRUE(part.replica().synced());

  cib::CibOp op;
  op.changes.push_back(cib::CibChange::create(
      "/cib/configuration/resources",
      "<primitive id=\"mine\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"));
  loop(part.commit(CibCommit{9, op, 0}));
  ASSERT_TRUE(part.replica().current().find_id("mine"));
  ASSERT_TRUE(replies.empty());  // applied, not written

  auto theirs = cib::Cib::parse(
      "<cib admin_epoch=\"0\" epoch=\"50\" num_updates=\"0\"><configuration><crm_config/>"
      "<nodes/><resources/><constraints/></configuration><status/></cib>");
  ASSERT_TRUE(theirs.ok());
  loop(part.event(groups::GroupChange{kCibGroup, {self, other}, {other}, {},
                                      groups::Reason::NodeUp}));
  from_other(cib::OfferMessage{{self, round}, theirs->version(), theirs->content_digest()});
  from_other(cib::SyncMessage{{self, round}, 0, 1, theirs->to_xml()});
  ASSERT_FALSE(part.replica().current().find_id("mine"));  // theirs, adopted
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].ticket, 9u);
  ASSERT_FALSE(replies[0].result.ok());
  EXPECT_NE(replies[0].result.error().message.find("may be lost"), std::string::npos)
      << replies[0].result.error().message;
}

// The injected fault the stack simulator must catch: the answer before the disk.
TEST(NodeCib, TheInjectedAckBeforeDurableAnswersAtOnce) {
  Lone lone(InjectedFaults{false, true});
  settle(lone);
  lone.commit(5, "9");
  lone.run_until(lone.now() + 1000);
  ASSERT_EQ(lone.replies.size(), 1u);
  EXPECT_TRUE(lone.replies[0].result.ok());
}

}  // namespace
}  // namespace vigil::node
