// cib/edit.h: the changes `vigil node …`, `vigil resource …` and the status page's actions share,
// with crmsh's and crm_resource's ids, applied to a small cluster.
#include <gtest/gtest.h>

#include "cib/edit.h"

namespace vigil::cib {
namespace {

// Two nodes, a group of two primitives and a lone one; node1 holds a failed monitor of vip and
// its fail counts, node2 a clean start of web.
const char* kCib = R"(<cib admin_epoch="0" epoch="3" num_updates="0">
  <configuration><crm_config/>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <group id="site">
        <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/>
        <primitive id="web" class="ocf" provider="heartbeat" type="apache"/>
      </group>
      <primitive id="db" class="ocf" provider="heartbeat" type="pgsql"/>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1">
      <transient_attributes id="1"><instance_attributes id="status-1">
        <nvpair id="status-1-fail-count-vip.monitor_10000" name="fail-count-vip#monitor_10000" value="1"/>
        <nvpair id="status-1-last-failure-vip.monitor_10000" name="last-failure-vip#monitor_10000" value="1700000000"/>
        <nvpair id="status-1-fail-count-db.start_0" name="fail-count-db#start_0" value="INFINITY"/>
      </instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="vip" type="IPaddr2" class="ocf" provider="heartbeat">
          <lrm_rsc_op id="vip_last_failure_0" operation="monitor" rc-code="7"/>
        </lrm_resource>
        <lrm_resource id="db" type="pgsql" class="ocf" provider="heartbeat">
          <lrm_rsc_op id="db_last_0" operation="start" rc-code="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2">
      <lrm id="2"><lrm_resources>
        <lrm_resource id="web" type="apache" class="ocf" provider="heartbeat">
          <lrm_rsc_op id="web_last_0" operation="start" rc-code="0"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
  </status>
</cib>)";

Cib cluster() {
  auto cib = Cib::parse(kCib);
  EXPECT_TRUE(cib) << cib.error().message;
  return std::move(cib).value();
}

Cib applied(const Cib& cib, std::vector<CibChange> changes) {
  auto next = apply(cib, {std::move(changes)});
  EXPECT_TRUE(next) << next.error().message;
  return next ? std::move(next).value() : cib;
}

std::string value_of(const Cib& cib, const std::string& xpath) {
  auto found = select(cib, xpath);
  if (!found || found->empty()) return "(none)";
  return found->front().attribute("value").value();
}

TEST(Edit, StandbyAndOnlineSetTheNodesOwnAttributeWithCrmshsIds) {
  auto cib = cluster();
  auto standby = applied(cib, cib::standby(find_node(cib, "node2"), true));
  EXPECT_EQ(value_of(standby, "//node[@id='2']/instance_attributes[@id='nodes-2']"
                              "/nvpair[@id='nodes-2-standby'][@name='standby']"),
            "on");
  // Online edits the same pair rather than adding a second.
  auto online = applied(standby, cib::standby(find_node(standby, "2"), false));
  EXPECT_EQ(value_of(online, "//nvpair[@id='nodes-2-standby']"), "off");
  EXPECT_EQ(select(online, "//node[@id='2']//nvpair")->size(), 1u);
}

TEST(Edit, MoveAddsCliPreferAndAMoveAgainReplacesIt) {
  auto cib = cluster();
  auto first = move_constraint(cib, "site", "node1", true, "");
  EXPECT_EQ(first.id, "cli-prefer-site");
  auto moved = applied(cib, {first.change});
  auto loc = moved.find_id("cli-prefer-site");
  ASSERT_TRUE(loc);
  EXPECT_STREQ(loc.attribute("rsc").value(), "site");
  EXPECT_STREQ(loc.attribute("node").value(), "node1");
  EXPECT_STREQ(loc.attribute("score").value(), "INFINITY");
  EXPECT_STREQ(loc.attribute("role").value(), "Started");
  auto again = applied(moved, {move_constraint(moved, "site", "node2", true, "").change});
  EXPECT_STREQ(again.find_id("cli-prefer-site").attribute("node").value(), "node2");
  EXPECT_EQ(select(again, "//rsc_location")->size(), 1u);
}

TEST(Edit, BanWithALifetimeIsARuleOnUnameUntilTheEnd) {
  auto cib = cluster();
  auto ban = move_constraint(cib, "db", "node1", false, "2026-12-06 12:00:00 +00:00");
  EXPECT_EQ(ban.id, "cli-ban-db-on-node1");
  auto banned = applied(cib, {ban.change});
  EXPECT_EQ(select(banned, "//rsc_location[@id='cli-ban-db-on-node1']/rule[@score='-INFINITY']"
                           "/expression[@attribute='#uname'][@value='node1']")
                ->size(),
            1u);
  EXPECT_EQ(select(banned, "//date_expression[@operation='lt'][@end='2026-12-06 12:00:00 +00:00']")
                ->size(),
            1u);
}

TEST(Edit, ClearRemovesOnlyTheResourcesMoveAndBans) {
  auto cib = cluster();
  auto placed = applied(cib, {move_constraint(cib, "site", "node1", true, "").change});
  placed = applied(placed, {move_constraint(placed, "site", "node2", false, "").change});
  placed = applied(placed, {move_constraint(placed, "db", "node2", true, "").change});
  auto cleared = applied(placed, clear_moves(placed, "site"));
  EXPECT_FALSE(cleared.find_id("cli-prefer-site"));
  EXPECT_FALSE(cleared.find_id("cli-ban-site-on-node2"));
  EXPECT_TRUE(cleared.find_id("cli-prefer-db"));
  EXPECT_TRUE(clear_moves(cleared, "site").empty());
}

TEST(Edit, CleanupOfAGroupForgetsItsPrimitivesHistoryAndFailCounts) {
  auto cib = cluster();
  auto done = cleanup(cib, "site", "");
  EXPECT_EQ(done.nodes, (std::vector<std::string>{"node1", "node2"}));
  auto clean = applied(cib, done.changes);
  EXPECT_TRUE(select(clean, "//lrm_resource[@id='vip']")->empty());
  EXPECT_TRUE(select(clean, "//lrm_resource[@id='web']")->empty());
  EXPECT_TRUE(select(clean, "//nvpair[contains(@name,'-vip#')]")->empty());
  // db's history and fail count stay.
  EXPECT_EQ(select(clean, "//lrm_resource[@id='db']")->size(), 1u);
  EXPECT_EQ(value_of(clean, "//nvpair[@name='fail-count-db#start_0']"), "INFINITY");
}

TEST(Edit, CleanupOnOneNodeAndOfEveryFailedResource) {
  auto cib = cluster();
  auto on_node2 = cleanup(cib, "site", "2");
  EXPECT_EQ(on_node2.nodes, (std::vector<std::string>{"node2"}));
  auto clean = applied(cib, on_node2.changes);
  EXPECT_EQ(select(clean, "//lrm_resource[@id='vip']")->size(), 1u);
  EXPECT_TRUE(select(clean, "//lrm_resource[@id='web']")->empty());
  // Without a resource: what failed (vip's history) and every fail count go, db's start stays.
  auto all = applied(cib, cleanup(cib, "", "").changes);
  EXPECT_TRUE(select(all, "//lrm_resource[@id='vip']")->empty());
  EXPECT_EQ(select(all, "//lrm_resource[@id='db']")->size(), 1u);
  EXPECT_TRUE(select(all, "//transient_attributes//nvpair")->empty());
}

TEST(Edit, TheSignatureNamesWhoChangedTheCib) {
  auto cib = cluster();
  auto signed_cib = applied(cib, {signature("alice", "status page", "node1")});
  EXPECT_STREQ(signed_cib.root().attribute("update-user").value(), "alice");
  EXPECT_STREQ(signed_cib.root().attribute("update-client").value(), "status page");
  EXPECT_STREQ(signed_cib.root().attribute("update-origin").value(), "node1");
}

}  // namespace
}  // namespace vigil::cib
