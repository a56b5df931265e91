// CibOp: atomic application with the version rule, diffs that patch one version into the next,
// the wire encoding, and the choice of the CIB that wins when nodes rejoin.
#include <gtest/gtest.h>

#include "cib/edit.h"
#include "cib/op.h"
#include "cib/validate.h"

namespace vigil::cib {
namespace {

const std::string kVip =
    "<primitive id=\"vip\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\"/>";

Cib applied(const Cib& cib, const CibOp& op) {
  auto next = apply(cib, op);
  EXPECT_TRUE(next) << next.error().message;
  return next ? std::move(next).value() : cib;
}

TEST(CibOp, ConfigurationChangesBumpEpochStatusChangesBumpNumUpdates) {
  Cib cib;
  cib.set_version({0, 4, 7});
  auto a = applied(cib, {{CibChange::create("/cib/configuration/resources", kVip)}});
  EXPECT_EQ(a.version(), (Version{0, 5, 0}));
  auto b =
      applied(a, {{CibChange::create("/cib/status", "<node_state id=\"1\" uname=\"node1\"/>")}});
  EXPECT_EQ(b.version(), (Version{0, 5, 1}));
  EXPECT_TRUE(b.status().child("node_state"));
}

// The DC's own attributes of <cib> change with every election: they move num_updates only.
TEST(CibOp, TheClusterMaintainedAttributesOfTheRootAreNoConfigurationChange) {
  Cib cib;
  cib.set_version({0, 4, 7});
  auto a = applied(cib, {{CibChange::modify("/cib", "<cib dc-uuid=\"2\" have-quorum=\"1\"/>")}});
  EXPECT_EQ(a.version(), (Version{0, 4, 8}));
  EXPECT_STREQ(a.root().attribute("dc-uuid").value(), "2");
  auto b = applied(a, {{CibChange::modify("/cib", "<cib validate-with=\"pacemaker-3.9\"/>")}});
  EXPECT_EQ(b.version(), (Version{0, 5, 0}));
}

// crm_mon's "Last change" dates configuration changes only, as Pacemaker's CIB manager sets it.
TEST(CibOp, TheLastWrittenDateIsKeptFromConfigurationChangesOnly) {
  Cib cib;
  auto a = applied(cib, {{CibChange::create("/cib/configuration/resources", kVip),
                          last_written("Mon Dec  7 02:32:05 2026")}});
  EXPECT_STREQ(a.root().attribute("cib-last-written").value(), "Mon Dec  7 02:32:05 2026");
  auto b = applied(a, {{CibChange::create("/cib/status", "<node_state id=\"1\" uname=\"n1\"/>"),
                        last_written("Mon Dec  7 02:40:00 2026")}});
  EXPECT_STREQ(b.root().attribute("cib-last-written").value(), "Mon Dec  7 02:32:05 2026");
  EXPECT_EQ(b.version(), (Version{0, 1, 1}));
  // A status update before any configuration change leaves no date at all.
  auto c = applied(cib, {{CibChange::create("/cib/status", "<node_state id=\"1\" uname=\"n1\"/>"),
                          last_written("Mon Dec  7 02:40:00 2026")}});
  EXPECT_FALSE(c.root().attribute("cib-last-written"));
}

TEST(CibOp, ModifyMergesAttributesAndChildrenById) {
  Cib cib = applied(Cib(), {{CibChange::create("/cib/configuration/resources", kVip)}});
  auto next = applied(
      cib,
      {{CibChange::modify("id:vip",
                          "<primitive id=\"vip\" description=\"the VIP\"><instance_attributes "
                          "id=\"vip-ia\"><nvpair id=\"vip-ia-ip\" name=\"ip\" value=\"10.0.0.1\"/>"
                          "</instance_attributes></primitive>")}});
  auto vip = next.find_id("vip");
  EXPECT_STREQ(vip.attribute("description").value(), "the VIP");
  EXPECT_STREQ(vip.attribute("type").value(), "IPaddr2");
  EXPECT_STREQ(next.find_id("vip-ia-ip").attribute("value").value(), "10.0.0.1");
}

TEST(CibOp, ReplaceAndRemove) {
  Cib cib = applied(Cib(), {{CibChange::create("/cib/configuration/resources", kVip)}});
  auto replaced =
      applied(cib, {{CibChange::replace("//primitive[@id='vip']",
                                        "<primitive id=\"vip\" class=\"lsb\" type=\"vipd\"/>")}});
  EXPECT_STREQ(replaced.find_id("vip").attribute("class").value(), "lsb");
  auto removed = applied(replaced, {{CibChange::remove("id:vip")}});
  EXPECT_FALSE(removed.find_id("vip"));
}

TEST(CibOp, AllOrNothing) {
  Cib cib = applied(Cib(), {{CibChange::create("/cib/configuration/resources", kVip)}});
  const std::string before = cib.to_xml();
  struct Case {
    CibOp op;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{CibChange::create("/cib/configuration/resources",
                           "<primitive id=\"web\" class=\"lsb\" type=\"apache2\"/>"),
         CibChange::remove("id:nothing")}},
       "change 2 (at 'id:nothing'): no element has id 'nothing'"},
      {{{CibChange::create("/cib/configuration/constraints",
                           "<rsc_location id=\"l\" rsc=\"ghost\" node=\"n1\" score=\"5\"/>")}},
       "<rsc_location id='l'>: rsc 'ghost' is not a resource"},
      {{{CibChange::create("/cib/configuration/resources", kVip)}},
       "<primitive id='vip'> already exists"},
      {{{CibChange::create("//*", kVip)}}, "selects"},
      {{{CibChange::create("/cib/configuration[", kVip)}}, "is not a valid path"},
      {{{CibChange::create("/cib/configuration/resources", "<broken")}}, "bad XML"},
      {{{CibChange::replace("id:vip", "<group id=\"vip\"/>")}},
       "cannot replace <primitive> by <group>"},
      {{{CibChange::remove("/cib")}}, "cannot be removed"},
  };
  for (const auto& c : cases) {
    auto next = apply(cib, c.op);
    ASSERT_FALSE(next) << c.error;
    EXPECT_NE(next.error().message.find(c.error), std::string::npos) << next.error().message;
    EXPECT_EQ(cib.to_xml(), before);
  }
}

Cib sample() {
  Cib cib;
  cib.set_version({0, 10, 3});
  return applied(cib,
                 {{CibChange::create("/cib/configuration/resources", kVip),
                   CibChange::create("/cib/configuration/resources",
                                     "<primitive id=\"httpd\" class=\"lsb\" type=\"apache2\"/>"),
                   CibChange::create("/cib/status", "<node_state id=\"1\" uname=\"node1\"/>")}});
}

TEST(CibOp, DiffPatchesOneVersionIntoTheNext) {
  Cib from = sample();
  Cib to = applied(
      from, {{CibChange::create("/cib/configuration/resources",
                                "<group id=\"webservice\"><primitive id=\"web2\" class=\"lsb\" "
                                "type=\"nginx\"/></group>"),
              CibChange::modify("id:vip", "<primitive id=\"vip\" description=\"v\"/>"),
              CibChange::remove("id:httpd"),
              CibChange::create("/cib/configuration/crm_config",
                                "<cluster_property_set id=\"cib-bootstrap-options\"/>")}});
  CibOp d = diff(from, to);
  EXPECT_EQ(d.base, from.version());
  EXPECT_EQ(d.target, to.version());
  auto patched = apply(from, d);
  ASSERT_TRUE(patched) << patched.error().message;
  EXPECT_EQ(patched->to_xml(), to.to_xml());
  // A patch made for another version is refused.
  auto wrong = apply(to, d);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("made against version 0.11.0"), std::string::npos);
  EXPECT_EQ(wrong.error().code, ErrorCode::conflict);
}

TEST(CibOp, DiffOfReorderedChildrenReplacesTheParent) {
  Cib from = sample();
  Cib to = from;
  auto resources = to.section("resources");
  resources.append_move(resources.first_child());  // vip after httpd
  to.set_version({0, 12, 0});
  CibOp d = diff(from, to);
  auto patched = apply(from, d);
  ASSERT_TRUE(patched) << patched.error().message;
  EXPECT_EQ(patched->to_xml(), to.to_xml());
}

TEST(CibOp, DiffOfEqualDocumentsIsEmpty) {
  Cib a = sample();
  EXPECT_TRUE(diff(a, a).changes.empty());
}

TEST(CibOp, EncodeDecodeRoundTrip) {
  CibOp op{{CibChange::create("/cib/configuration/resources", kVip), CibChange::remove("id:x"),
            CibChange::modify("id:vip", "<primitive id=\"vip\"/>"),
            CibChange::replace("/cib", "<cib/>")},
           Version{1, 2, 3},
           Version{1, 3, 0}};
  auto bytes = encode(op);
  auto back = decode(bytes);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, op);
  EXPECT_EQ(*decode(encode(CibOp{})), CibOp{});
}

TEST(CibOp, DecodeRejectsMalformedInput) {
  const std::string good =
      encode(CibOp{{CibChange::remove("id:x")}, Version{0, 1, 2}, std::nullopt});
  EXPECT_FALSE(decode(""));
  EXPECT_FALSE(decode("XIBO"));
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode(good.substr(0, n))) << n;
  EXPECT_FALSE(decode(good + "x"));
  std::string bad_version = good;
  bad_version[4] = 2;
  EXPECT_NE(decode(bad_version).error().message.find("unsupported wire version 2"),
            std::string::npos);
  std::string bad_flags = good;
  bad_flags[5] = 4;
  EXPECT_FALSE(decode(bad_flags));
  std::string bad_kind = good;
  bad_kind[6 + 24 + 4] = 9;
  EXPECT_NE(decode(bad_kind).error().message.find("unknown kind 9"), std::string::npos);
  std::string huge_count = good.substr(0, 6 + 24) + std::string("\xff\xff\xff\x7f", 4);
  EXPECT_NE(decode(huge_count).error().message.find("exceeds the input"), std::string::npos);
}

TEST(CibOp, HighestVersionWinsAndTiesAreResolvedByDigest) {
  std::vector<Offer> offers = {
      {"n1", {0, 5, 2}, "aa"}, {"n2", {0, 6, 0}, "bb"}, {"n3", {0, 5, 9}, "cc"}};
  auto e = choose_cib(offers);
  EXPECT_EQ(e.winner, 1u);
  EXPECT_TRUE(e.conflicts.empty());

  offers = {{"n1", {0, 7, 1}, "aa"}, {"n2", {0, 7, 1}, "ff"}, {"n3", {0, 7, 1}, "aa"}};
  e = choose_cib(offers);
  EXPECT_EQ(e.winner, 1u);
  ASSERT_EQ(e.conflicts.size(), 2u);
  EXPECT_NE(e.conflicts[0].find("n1"), std::string::npos);
  EXPECT_NE(e.conflicts[0].find("lost"), std::string::npos);
  // Every node decides the same, whatever order it sees the offers in.
  std::vector<Offer> reversed(offers.rbegin(), offers.rend());
  EXPECT_EQ(reversed[choose_cib(reversed).winner].node, "n2");
  // Equal version, equal content: no conflict.
  offers = {{"n1", {0, 7, 1}, "aa"}, {"n2", {0, 7, 1}, "aa"}};
  EXPECT_TRUE(choose_cib(offers).conflicts.empty());
}

TEST(CibOp, AppliedInOneOrderEveryReplicaIsIdentical) {
  // Three replicas receive the same ops in the same delivery order (what totem guarantees).
  std::vector<CibOp> log = {
      {{CibChange::create("/cib/configuration/resources", kVip)}},
      {{CibChange::create("/cib/status", "<node_state id=\"1\" uname=\"node1\"/>")}},
      {{CibChange::modify("id:vip", "<primitive id=\"vip\" description=\"x\"/>")}},
      {{CibChange::remove("id:nonexistent")}},  // refused everywhere alike
  };
  std::vector<Cib> replicas(3);
  for (const auto& op : log) {
    for (auto& r : replicas) {
      if (auto next = apply(r, op)) r = std::move(next).value();
    }
  }
  EXPECT_EQ(replicas[0].version(), (Version{0, 2, 0}));
  for (const auto& r : replicas) EXPECT_EQ(r.content_digest(), replicas[0].content_digest());
}

}  // namespace
}  // namespace vigil::cib

namespace vigil::cib {
namespace {

// A configuration edit read at one version still commits after status updates (num_updates) came
// in, but not after another configuration change (epoch); a diff needs its exact version.
TEST(CibOp, AnEditGuardsTheConfigurationVersionOnly) {
  Cib cib;
  cib.set_version(Version{0, 4, 0});
  const CibOp edit{{CibChange::create("/cib/configuration/resources",
                                      "<primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" "
                                      "type=\"Dummy\"/>")},
                   Version{0, 4, 0}};
  Cib status_moved = cib;
  status_moved.set_version(Version{0, 4, 3});
  auto applied = apply(status_moved, edit);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(applied->version(), (Version{0, 5, 0}));
  Cib config_moved = cib;
  config_moved.set_version(Version{0, 5, 0});
  EXPECT_FALSE(apply(config_moved, edit).ok());
  CibOp patch = edit;
  patch.target = Version{0, 5, 0};
  EXPECT_FALSE(apply(status_moved, patch).ok());
}

}  // namespace
}  // namespace vigil::cib
