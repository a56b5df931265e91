// The node's CIB part, stepped through a lone Node: commits are answered only once durable, a
// failed write is answered with the node and the cause, and "synced" arrives as a notice.
#include <gtest/gtest.h>

#include <array>
#include <optional>

#include "node/node.h"

namespace vigil::node {
namespace {

// One node with a CIB; the test plays its disk: it keeps the newest persist request and reports
// it only when told.
class Lone {
 public:
  explicit Lone(const InjectedFaults& faults = {})
      : node_(Settings{1, totem::TotemSettings{}, std::nullopt, 0,
                       CibSettings{77, "n1", cib::Cib()}, std::nullopt},
              Rng(1)) {
    node_.inject(faults);
    take(node_.step(Start{now_}));
  }

  // Fires the timers due up to `until`, earliest first; bounded.
  void run_until(Millis until) {
    for (int i = 0; i < 100000; ++i) {
      std::optional<std::size_t> next;
      for (std::size_t t = 0; t < timers_.size(); ++t) {
        if (timers_[t] && (!next || *timers_[t] < *timers_[*next])) next = t;
      }
      if (!next || *timers_[*next] > until) break;
      now_ = *timers_[*next];
      timers_[*next].reset();
      take(node_.step(TimerFired{static_cast<Timer>(*next), now_}));
    }
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
    for (const auto& t : out.timers) timers_[static_cast<std::size_t>(t.timer)] = t.deadline;
    if (out.persist_cib) pending_ = std::move(out.persist_cib);
    for (auto& n : out.notices) {
      if (auto* c = std::get_if<CibChanged>(&n)) changes.push_back(std::move(*c));
    }
    for (auto& r : out.replies) replies.push_back(std::move(r));
  }

  Node node_;
  Millis now_ = 0;
  std::array<std::optional<Millis>, kTimerCount> timers_;
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
