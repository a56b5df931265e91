// Controller::check_invariants(): it holds through the steps the tests drive, and each check fires
// on a state planted through the test-only ControllerProbe — directly, and at the end of a step.
#include <gtest/gtest.h>

#include "cib/cib.h"
#include "controller/controller.h"
#include "controller/controller_impl.h"

namespace vigil::controller {

struct ControllerProbe {
  static Controller::Impl& impl(Controller& c) { return *c.impl_; }
};

namespace {

constexpr Millis kNow = 1'700'000'000'000;

const char* kCib = R"(<cib admin_epoch="0" epoch="1" num_updates="0">
  <configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/>
</cib>)";

// Node 1 of two, the DC, in its join round.
Controller joining_dc() {
  Controller c(Member{1, "n1"}, 7);
  c.view_changed(ClusterView{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}}, kNow);
  c.cib_changed(*cib::Cib::parse(kCib, "test"), kNow);
  EXPECT_EQ(c.status().state, TransitionState::Joining);
  return c;
}

// A transition of one action, numbered as the DC numbers them.
Transition one_action(Controller::Impl& dc, ActionState state) {
  Transition t;
  t.id = ++dc.transition_counter;
  t.graph.actions.resize(1);
  t.state = {state};
  return t;
}

TEST(ControllerInvariants, HoldForADcInItsJoinRound) {
  joining_dc().check_invariants();
}

// A scheduler run asked for during the join round waits for the round's end (join_over runs it):
// the DC's timer wakes at the round's deadline. It woke at once, for ever at the same `now`, so
// vigil-sim --layer stack --nodes 5 --seed 1 --faults all never ended and vigild spun on its
// timer until the round was over.
TEST(ControllerInvariants, ADcInItsJoinRoundDoesNotWakeForAScheduleItCannotRun) {
  Controller c = joining_dc();
  ControllerProbe::impl(c).schedule_due = kNow + 10;
  const auto out = c.tick(kNow + 100);
  ASSERT_EQ(c.status().state, TransitionState::Joining);
  ASSERT_TRUE(out.wake_at.has_value());
  EXPECT_EQ(*out.wake_at, kNow + 5000);
}

TEST(ControllerInvariantsDeathTest, EachCheckFires) {
  auto planted = [](auto plant) {
    Controller c = joining_dc();
    plant(ControllerProbe::impl(c));
    c.check_invariants();
  };
  // A DC without its role, and a node holding a transition it is not DC for.
  EXPECT_DEATH(planted([](Controller::Impl& s) { s.role = NotDc{}; }), "is_dc\\(\\) ==");
  EXPECT_DEATH(planted([](Controller::Impl& s) {
                 s.role = one_action(s, ActionState::InFlight);
                 s.dc = Member{2, "n2"};
               }),
               "is_dc\\(\\) ==");
  // An action out that is no action of the graph; one both out and done.
  EXPECT_DEATH(planted([](Controller::Impl& s) {
                 auto t = one_action(s, ActionState::InFlight);
                 t.in_flight[3] = InFlight{};
                 s.role = std::move(t);
               }),
               "< t.state.size\\(\\)");
  EXPECT_DEATH(planted([](Controller::Impl& s) {
                 auto t = one_action(s, ActionState::Done);
                 t.in_flight[0] = InFlight{};
                 s.role = std::move(t);
               }),
               "== ActionState::InFlight");
  // A join round waiting for a node whose controller is not in the group.
  EXPECT_DEATH(planted([](Controller::Impl& s) { std::get<Joining>(s.role).waiting.insert(9); }),
               "view.controllers");
  // A round draining a transition nobody aborted.
  EXPECT_DEATH(planted([](Controller::Impl& s) {
                 std::get<Joining>(s.role).draining = one_action(s, ActionState::Waiting);
               }),
               "draining->aborted");
  // The node part: the CIB showed history the node does not hold.
  EXPECT_DEATH(planted([](Controller::Impl& s) { s.local.in_cib["web"] = 1; }),
               "history.contains");
  // And a step ends with the check.
  EXPECT_DEATH(
      {
        Controller c = joining_dc();
        ControllerProbe::impl(c).role = NotDc{};
        c.tick(kNow);
      },
      "is_dc\\(\\) ==");
}

}  // namespace
}  // namespace vigil::controller
