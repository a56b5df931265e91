// Properties of the scheduler over the corpus and over generated clusters: a schedule carried out
// leaves nothing to do; the order of the status section does not matter; a -INFINITY location is
// never violated.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "cib/cib.h"
#include "common/common.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {
namespace {

const std::string kCorpus = std::string(VIGIL_SHARED_DIR) + "/scheduler-corpus";
constexpr Millis kNow = 1672531200000;

std::vector<std::string> passing_cases() {
  std::vector<std::string> names;
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/scheduler/passing.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') names.push_back(line);
  }
  return names;
}

std::optional<cib::Cib> load(const std::string& name) {
  std::ifstream in(kCorpus + "/xml/" + name + ".xml");
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  auto cib = cib::Cib::parse(ss.str(), name);
  if (!cib) return std::nullopt;
  return std::move(*cib);
}

std::multiset<std::string> summary_set(const TransitionGraph& g) {
  auto lines = format_summary(g.summary);
  std::multiset<std::string> out;
  for (auto l : lines) {
    l.erase(std::remove(l.begin(), l.end(), ' '), l.end());
    out.insert(l);
  }
  return out;
}

// Shuffles the children of every element of the status section (node states, resource
// histories, operations, attributes) with a seeded generator.
void shuffle_children(pugi::xml_node parent, Rng& rng) {
  std::vector<pugi::xml_node> kids;
  for (auto c : parent.children()) kids.push_back(c);
  for (auto c : kids) shuffle_children(c, rng);
  for (std::size_t i = kids.size(); i > 1; --i) std::swap(kids[i - 1], kids[rng.uniform(i)]);
  for (auto c : kids) parent.append_move(c);
}

TEST(SchedulerProperties, CarryingOutTheTransitionLeavesNothingToDo) {
  auto names = passing_cases();
  ASSERT_FALSE(names.empty() || !load(names.front()))
      << kCorpus << ": the corpus (../shared) is missing";
  int checked = 0;
  std::vector<std::string> unstable;
  for (const auto& name : names) {
    auto cib = load(name);
    ASSERT_TRUE(cib) << name;
    Millis now = effective_now(*cib, kNow);
    auto graph = schedule(*cib, now);
    auto revised = execute(*cib, graph).revised;
    auto again = schedule(revised, now);
    ++checked;
    if (!again.summary.empty()) unstable.push_back(name);
  }
  EXPECT_GT(checked, 100);
  // Fencing, failure thresholds and blocked resources can legitimately leave work for a later
  // transition; the rest must settle in one.
  // Fencing, failure thresholds, blocked or unrunnable resources and lost quorum can leave work
  // for a later transition; these corpus cases do so today. Each is named so that a new one
  // fails the test, and one that settles now must leave the list (a ratchet, not a tolerance).
  // Which of them settle in Pacemaker too is not sorted out yet.
  const std::set<std::string> known = {"params-4",
                                       "one-or-more-3",
                                       "clone-require-all-3",
                                       "order-mandatory",
                                       "ordered-set-basic-startup",
                                       "ordered-set-natural",
                                       "per-node-attrs",
                                       "stop-failure-with-fencing",
                                       "quorum-2",
                                       "quorum-3",
                                       "suicide-not-needed-never-quorate",
                                       "rec-node-8",
                                       "rec-node-9",
                                       "rec-node-10",
                                       "9-am-then-bm-b-migrating-a-stopping",
                                       "bug-lf-2453",
                                       "clone-interleave-1",
                                       "cloned_stop_two",
                                       "clone_min_interleave_start_one",
                                       "clone_min_start_one",
                                       "clone_min_stop_two",
                                       "promoted-9",
                                       "promoted-probed-score",
                                       "no_quorum_demote",
                                       "bug-5028",
                                       "unmanaged-stop-1",
                                       "unmanaged-stop-4",
                                       "764",
                                       "unrunnable-1",
                                       "unrunnable-2",
                                       "stonith-4",
                                       "bug-5014-A-stopped-B-stopped",
                                       "bug-5014-CthenAthenB-C-stopped",
                                       "bug-5025-1",
                                       "monitor-onfail-stop",
                                       "asymmetrical-order-move",
                                       "asymmetrical-order-restart",
                                       // Pacemaker's own revised state keeps the guest's
                                       // failed history: its container fails again.
                                       "bug-rh-1097457",
                                       // Bundles (summaries matched since bundles came in):
                                       // failed guests' containers fail again, blocked
                                       // starts stay blocked, and controller-0's shutdown
                                       // leaves work (not sorted out yet).
                                       "on_fail_demote4",
                                       "notifs-for-unrunnable",
                                       "route-remote-notify",
                                       "bundle-order-stop-on-remote",
                                       // Matched since a failed migrate_to leaves the resource
                                       // active on its target too; why its revised state
                                       // still schedules is not sorted out yet.
                                       "not-reschedule-unneeded-monitor",
                                       // Matched since live migration follows Pacemaker's
                                       // orderings: the simulated execution keeps the old
                                       // digests of its six reloads, so they come again (and
                                       // with them a utilization move).
                                       "load-stopped-loop",
                                       // The lock of a stop on a node shutting down is kept by
                                       // the node's controller; crm_simulate's execution (and
                                       // vigil's, to print what it prints) does not record it,
                                       // so the revised state starts the resource elsewhere.
                                       "shutdown-lock"};
  for (const auto& name : unstable) {
    EXPECT_TRUE(known.count(name)) << name << ": the revised state still schedules actions";
  }
  for (const auto& name : known) {
    EXPECT_TRUE(std::find(unstable.begin(), unstable.end(), name) != unstable.end() ||
                std::find(names.begin(), names.end(), name) == names.end())
        << name << " settles in one transition now: remove it from the known list";
  }
}

bool has_clone(const cib::Cib& cib) {
  auto resources = cib.root().child("configuration").child("resources");
  return resources.child("clone") || resources.child("master") || resources.child("bundle");
}

// Clones are left out: which instance number an anonymous clone's history gets depends on the
// order of the status section, in Pacemaker as here. So is a primitive active on several nodes:
// the node it counts as current on is the first it was found active on, in the status section's
// order (Pacemaker's pe__current_node), and its recovery is named from there.
bool multiply_active(const std::string& name) {
  static const std::set<std::string> cases = {"stop-unexpected", "stopped-monitor-02"};
  return cases.contains(name);
}

TEST(SchedulerProperties, StatusOrderDoesNotMatter) {
  auto names = passing_cases();
  ASSERT_FALSE(names.empty() || !load(names.front()))
      << kCorpus << ": the corpus (../shared) is missing";
  Rng rng(42);
  for (const auto& name : names) {
    auto cib = load(name);
    ASSERT_TRUE(cib) << name;
    if (has_clone(*cib) || multiply_active(name)) continue;
    Millis now = effective_now(*cib, kNow);
    auto expected = summary_set(schedule(*cib, now));
    cib::Cib shuffled = *cib;
    shuffle_children(shuffled.root().child("status"), rng);
    EXPECT_EQ(summary_set(schedule(shuffled, now)), expected) << name;
  }
}

// A -INFINITY location: `rsc` may not run on `node` (in `role` only, when the constraint names
// one: "Promoted").
struct Ban {
  std::string rsc, node, role;
  auto operator<=>(const Ban&) const = default;
};

// The nodes where `rsc` (a primitive, or every member of a group or clone of that id) runs, in
// `role` when one is given, as crm_mon shows them.
void nodes_running(const std::vector<ResourceState>& resources, const Ban& ban, bool inside,
                   std::set<std::string>& out) {
  for (const auto& r : resources) {
    const bool match = inside || r.id == ban.rsc || r.id.rfind(ban.rsc + ":", 0) == 0;
    if (match && r.children.empty() && (ban.role.empty() || r.role == ban.role))
      out.insert(r.nodes.begin(), r.nodes.end());
    nodes_running(r.children, ban, match, out);
  }
}

// Carries out the transition and says which bans what then runs where breaks; `placed` counts
// the bans whose resource then runs somewhere (what the check could see).
std::vector<std::string> stays_where_banned(const cib::Cib& cib, const TransitionGraph& graph,
                                            Millis now, const std::set<Ban>& bans, int& placed) {
  const auto after = cluster_state(execute(cib, graph).revised, now);
  std::vector<std::string> out;
  for (const auto& ban : bans) {
    std::set<std::string> on;
    nodes_running(after.resources, ban, false, on);
    placed += !on.empty();
    if (on.count(ban.node)) out.push_back(ban.rsc + " " + ban.role + " still on " + ban.node);
  }
  return out;
}

// Whether action `a` puts a resource where `ban` forbids it.
bool breaks(const GraphAction& a, const Ban& ban) {
  if (a.resource != ban.rsc || a.node != ban.node) return false;
  if (ban.role == "Promoted") return a.task == "promote";
  return a.task == "start" || a.task == "promote" || a.task == "migrate_from";
}

// Every corpus case: no resource starts, promotes or stays on a node it is banned from by a
// plain -INFINITY location constraint — what runs where once the transition is carried out.
TEST(SchedulerProperties, MinusInfinityLocationIsNeverViolated) {
  std::ifstream index(kCorpus + "/index.tsv");
  ASSERT_TRUE(index.good()) << kCorpus << ": the corpus (../shared) is missing";
  std::string line;
  std::getline(index, line);
  int bans = 0, placed = 0;
  while (std::getline(index, line)) {
    std::string name = line.substr(0, line.find('\t'));
    auto cib = load(name);
    if (!cib) continue;
    std::set<Ban> banned;
    auto root = cib->root();
    for (auto loc : root.child("configuration").child("constraints").children("rsc_location")) {
      if (std::string(loc.attribute("score").value()) != "-INFINITY" || !loc.attribute("node"))
        continue;
      std::string node = loc.attribute("node").value();
      for (auto n : root.child("configuration").child("nodes").children("node")) {
        if (node == n.attribute("id").value()) node = n.attribute("uname").value();
      }
      std::string role = loc.attribute("role").value();
      if (role == "Master") role = "Promoted";
      banned.insert(Ban{loc.attribute("rsc").value(), node, role});
    }
    if (banned.empty()) continue;
    const Millis now = effective_now(*cib, kNow);
    auto graph = schedule(*cib, now);
    for (const auto& a : graph.actions) {
      for (const auto& ban : banned)
        EXPECT_FALSE(breaks(a, ban)) << name << ": " << a.key << " on " << a.node;
    }
    for (const auto& stays : stays_where_banned(*cib, graph, now, banned, placed))
      ADD_FAILURE() << name << ": " << stays;
    bans += static_cast<int>(banned.size());
  }
  EXPECT_GT(bans, 0);
  EXPECT_GT(placed, bans / 2) << "of " << bans << " banned resources, few run anywhere afterwards";
}

// Generated clusters: random bans, preferences, stickiness and current placement.
TEST(SchedulerProperties, GeneratedClustersRespectBans) {
  Rng rng(7);
  int placed = 0, on_banned = 0;
  for (int round = 0; round < 50; ++round) {
    int nodes = static_cast<int>(rng.between(1, 5)), rscs = static_cast<int>(rng.between(1, 12));
    std::ostringstream x;
    x << "<cib have-quorum=\"1\"><configuration><crm_config><cluster_property_set id=\"o\">"
      << "<nvpair id=\"o1\" name=\"stonith-enabled\" "
         "value=\"false\"/></cluster_property_set></crm_config><nodes>";
    for (int n = 0; n < nodes; ++n) x << "<node id=\"n" << n << "\" uname=\"n" << n << "\"/>";
    x << "</nodes><resources>";
    for (int r = 0; r < rscs; ++r) {
      x << "<primitive id=\"r" << r << "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
        << "<meta_attributes id=\"m" << r << "\"><nvpair id=\"s" << r
        << "\" name=\"resource-stickiness\" value=\"" << rng.between(0, 200)
        << "\"/></meta_attributes></primitive>";
    }
    x << "</resources><constraints>";
    std::set<Ban> banned;
    for (int r = 0; r < rscs; ++r) {
      for (int n = 0; n < nodes; ++n) {
        if (rng.chance(0.3)) {
          x << "<rsc_location id=\"b" << r << "_" << n << "\" rsc=\"r" << r << "\" node=\"n" << n
            << "\" score=\"-INFINITY\"/>";
          banned.insert(Ban{"r" + std::to_string(r), "n" + std::to_string(n), ""});
        } else if (rng.chance(0.3)) {
          x << "<rsc_location id=\"p" << r << "_" << n << "\" rsc=\"r" << r << "\" node=\"n" << n
            << "\" score=\"" << rng.between(-500, 500) << "\"/>";
        }
      }
    }
    x << "</constraints></configuration><status>";
    std::vector<int> where(static_cast<std::size_t>(rscs), -1);
    for (int r = 0; r < rscs; ++r) {
      if (rng.chance(0.5))
        where[static_cast<std::size_t>(r)] =
            static_cast<int>(rng.uniform(static_cast<std::uint64_t>(nodes)));
    }
    for (int r = 0; r < rscs; ++r) {
      const int on = where[static_cast<std::size_t>(r)];
      on_banned +=
          on >= 0 && banned.count(Ban{"r" + std::to_string(r), "n" + std::to_string(on), ""});
    }
    for (int n = 0; n < nodes; ++n) {
      x << "<node_state id=\"n" << n << "\" uname=\"n" << n
        << "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"><lrm id=\"n" << n
        << "\"><lrm_resources>";
      for (int r = 0; r < rscs; ++r) {
        if (where[static_cast<std::size_t>(r)] != n) continue;
        x << "<lrm_resource id=\"r" << r
          << "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\">"
          << "<lrm_rsc_op id=\"r" << r
          << "_last_0\" operation=\"start\" interval=\"0\" op-status=\"0\" "
          << "rc-code=\"0\" call-id=\"" << r + 1
          << "\" transition-key=\"1:1:0:x\"/></lrm_resource>";
      }
      x << "</lrm_resources></lrm></node_state>";
    }
    x << "</status></cib>";
    auto cib = cib::Cib::parse(x.str(), "generated");
    ASSERT_TRUE(cib) << cib.error().message;
    auto graph = schedule(*cib, kNow);
    for (const auto& a : graph.actions) {
      for (const auto& ban : banned) EXPECT_FALSE(breaks(a, ban)) << x.str();
    }
    // Whatever runs afterwards runs only where it is allowed, and a second schedule is idle.
    for (const auto& stays : stays_where_banned(*cib, graph, kNow, banned, placed))
      ADD_FAILURE() << stays << " in\n" << x.str();
    EXPECT_TRUE(schedule(execute(*cib, graph).revised, kNow).summary.empty()) << x.str();
  }
  EXPECT_GT(on_banned, 10);  // the rounds do start from resources running where they are banned
  EXPECT_GT(placed, 10);
}

}  // namespace
}  // namespace vigil::scheduler
