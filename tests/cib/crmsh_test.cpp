// crmsh's configure grammar: every construct survives text → CIB → text → CIB, the reference
// `crm configure show` output reads back into the reference CIB and prints back byte for byte,
// and bad commands are refused with the word that is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../pacemaker_schema.h"
#include "canonical.h"
#include "cib/crmsh.h"
#include "cib/op.h"
#include "common/common.h"

namespace vigil::cib {
namespace {

// Applies each command of `script` in turn; the first failure is returned.
Result<Cib> run(Cib cib, std::string_view script) {
  for (const auto& line : crmsh::logical_lines(script)) {
    auto words = crmsh::split_words(line.text);
    if (!words) return words.error();
    auto changes = crmsh::parse(*words, cib);
    if (!changes)
      return fail("line " + std::to_string(line.number) + ": " + changes.error().message);
    auto next = apply(cib, {*changes});
    if (!next) return fail("line " + std::to_string(line.number) + ": " + next.error().message);
    cib = std::move(next).value();
  }
  return cib;
}

// Every CIB a script makes is one Pacemaker reads: valid against its newest 3.x schema.
Cib must_run(std::string_view script, Cib cib = Cib()) {
  auto r = run(std::move(cib), script);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return Cib();
  EXPECT_EQ(pacemaker_schema::errors(r->to_xml()), "") << script;
  return std::move(r).value();
}

std::string shown(const Cib& cib) {
  auto text = crmsh::show(cib);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : "";
}

const char* kBase = R"(primitive a Dummy
primitive b ocf:pacemaker:Dummy
primitive c Dummy
primitive st ocf:pacemaker:Stateful
primitive st2 ocf:pacemaker:Stateful
)";

// Each entry: setup (beyond kBase), then the construct under test.
const std::vector<std::pair<std::string, std::string>> kConstructs = {
    {"", "node 1: node1 \\\n\tattributes standby=off"},
    {"", "node node3"},
    {"", "node $id=\"a b\" node4:remote"},
    {"",
     "primitive vip IPaddr2 \\\n\tparams ip=10.0.0.1 cidr_netmask=24 \\\n\top monitor interval=10s "
     "timeout=20s on-fail=restart"},
    {"", "primitive httpd lsb:apache2"},
    {"", "primitive web systemd:nginx \\\n\tmeta target-role=Stopped is-managed=false"},
    {"",
     "primitive fence stonith:fence_xvm \\\n\tparams pcmk_host_list=\"node1 node2\" \\\n\top "
     "monitor interval=60s"},
    {"",
     "primitive d ocf:pacemaker:Dummy \\\n\tparams state=\"/run/d state\" \\\n\tutilization cpu=1 "
     "\\\n\top start timeout=30s interval=0s \\\n\top monitor interval=5s role=Promoted "
     "\\\n\top_params depth=0"},
    {"", "primitive q Dummy \\\n\tdescription=\"a \\\"quoted\\\" one\""},
    {"", "group g a b \\\n\tmeta target-role=Started"},
    {"", "clone cl a \\\n\tmeta clone-max=2 interleave=true"},
    {"group g a b\n", "clone clg g"},
    {"", "clone pcl st \\\n\tmeta promotable=true"},
    {"", "ms ms1 st \\\n\tmeta notify=true"},
    {"", "location l1 a 100: node1"},
    {"", "location l2 a -inf: node2"},
    {"", "location l3 a role=Started inf: node2"},
    {"", "location l4 a \\\n\trule -inf: not_defined pingd or pingd lte 0"},
    {"",
     "location l5 a \\\n\trule $role=Promoted 50: #uname eq node1 \\\n\trule pingd: defined pingd"},
    {"", "location l6 a \\\n\trule version number:gt 3"},
    {"", "colocation c1 inf: a b"},
    {"clone pcl st meta promotable=true\nclone cl c\n",
     "colocation c2 -inf: pcl:Promoted cl:Started"},
    {"", "colocation c3 inf: a b c"},
    {"", "colocation c4 inf: ( a b ) c"},
    {"", "colocation c5 inf: _rsc_set_ a b"},
    {"", "colocation c6 100: a b node-attribute=rack"},
    {"", "order o1 Mandatory: a b"},
    {"", "order o2 Optional: a:start b:stop symmetrical=false"},
    {"", "order o3 a b"},
    {"", "order o4 Mandatory: [ a b sequential=true ] c"},
    {"", "order o5 Serialize: a b c"},
    {"clone pcl st meta promotable=true\n", "order o6 Mandatory: pcl:promote a:start"},
    {"",
     "property cib-bootstrap-options: \\\n\tstonith-enabled=false \\\n\tno-quorum-policy=ignore"},
    {"", "property other: \\\n\tmaintenance-mode=true"},
    {"", "rsc_defaults rsc-options: \\\n\tresource-stickiness=100"},
    {"", "op_defaults op-options: \\\n\ttimeout=60s"},
    {"", "rsc_template tpl Dummy \\\n\tparams fake=1 \\\n\top monitor interval=10s"},
    {"rsc_template tpl Dummy\n", "primitive p1 @tpl \\\n\tparams fake=2"},
    {"", "tag t1 a b"},
    {"", "rsc_ticket tk1 ticket1: a b loss-policy=stop"},
    {"", "rsc_ticket tk2 ticket2: a:Started"},
    {"", "location l7 { a b } 100: node1"},
    {"", "location l8 /p.*/ 100: node1"},
    {"", "location l9 a \\\n\trule 10: date lt 2030-01-01"},
    {"", "location l10 a \\\n\trule 10: date in start=\"2020-01-01 10:00\" end=2030-01-01"},
    {"", "location l11 a \\\n\trule 10: date in start=2020-01-01 months=2"},
    {"", "location l12 a \\\n\trule date spec hours=9-16 weekdays=1-5 and #uname eq node1"},
    {"", "primitive pr Dummy \\\n\tparams 2: rule #uname eq node1 fake=1 \\\n\tparams 1: fake=2"},
    {"", "primitive pm Dummy \\\n\tmeta rule #uname eq node1 target-role=Stopped"},
    {"", "property special: \\\n\trule #uname eq node1 \\\n\tmaintenance-mode=true"},
    {"",
     "alert al1 \"/usr/bin/alert.sh\" \\\n\tmeta timeout=10s \\\n\tattributes a=1 \\\n"
     "\tselect nodes fencing attributes { standby shutdown } \\\n\tto \"/tmp/out1\" \\\n"
     "\tto \"/tmp/out2\" attributes x=1 meta timeout=5s"},
    {"", "role r1 \\\n\twrite xpath:\"//crm_config\" \\\n\tread ref:a \\\n\tdeny type:nodes"},
    {"role r1 read ref:a\nrole r2 read ref:b\n", "acl_target u1 \\\n\tr1 \\\n\tr2"},
    {"",
     "bundle bd \\\n\tdocker image=\"pcmk:httpd\" replicas=2 \\\n"
     "\tnetwork control-port=3121 port-mapping id=bd-p port=80 port-mapping id=bd-r "
     "range=9000-9001 \\\n\tstorage storage-mapping id=bd-s source-dir=\"/srv\" "
     "target-dir=\"/srv\" \\\n\tmeta target-role=Stopped \\\n\tprimitive a"},
    {"", "bundle pb \\\n\tdescription=\"in podman\" \\\n\tpodman image=busybox"},
};

TEST(Crmsh, EveryConstructRoundTrips) {
  for (const auto& [setup, construct] : kConstructs) {
    SCOPED_TRACE(construct);
    Cib base = must_run(std::string(kBase) + setup);
    // text → CIB → text
    Cib first = must_run(construct, base);
    auto id = crmsh::split_words(crmsh::logical_lines(construct).at(0).text)->at(1);
    if (id.back() == ':') id.pop_back();
    if (id.rfind("$id=", 0) == 0) id = id.substr(4);
    auto text = crmsh::show(first, {id});
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, construct + "\n");
    // → CIB again: the same configuration.
    Cib second = must_run(*text, base);
    EXPECT_EQ(canonical(second.configuration()), canonical(first.configuration()));
    EXPECT_EQ(shown(second), shown(first));
  }
}

TEST(Crmsh, WholeConfigurationRoundTrips) {
  Cib cib = must_run(std::string(kBase) + R"(node 1: node1 attributes standby=off
node 2: node2
primitive vip IPaddr2 params ip=10.0.0.1 op monitor interval=10s timeout=20s
primitive httpd lsb:apache2
group web vip httpd meta target-role=Started
clone pcl st meta promotable=true
ms ms1 st2
clone cl c
location l1 web 100: node1
location l2 web rule -inf: not_defined pingd or pingd lte 0
colocation c1 inf: web pcl:Promoted
colocation c2 inf: a b ( cl ms1 )
order o1 Mandatory: pcl:promote web:start
order o2 Optional: a b symmetrical=false
property stonith-enabled=false no-quorum-policy=ignore
rsc_defaults resource-stickiness=100
op_defaults timeout=60s
)");
  const std::string text = shown(cib);
  Cib again = must_run(text);
  EXPECT_EQ(shown(again), text);
  EXPECT_EQ(canonical(again.configuration()), canonical(cib.configuration()));
}

std::string reference(const char* name) {
  std::ifstream f(std::filesystem::path(VIGIL_SHARED_DIR) / "reference-output" / name);
  std::stringstream s;
  s << f.rdbuf();
  std::string text = s.str();
  text = text.substr(text.find('\n') + 1);     // the command line
  return text.substr(0, text.rfind("[exit"));  // the exit status
}

TEST(Crmsh, ReferenceShowReadsBackIntoTheReferenceCib) {
  const std::string text = reference("crm_configure_show.txt");
  Cib cib = must_run(text);
  EXPECT_EQ(shown(cib), text);
  std::string xml = reference("crm_configure_show_xml.txt");
  xml = xml.substr(xml.find("<cib"));
  // The reference's node sets were made by `crm node standby/online`, which names them after the
  // node id (num-1-…); `configure node` names them after the uname, as crmsh 4.4.1 does on the
  // same text (node1-instance_attributes).
  for (const auto& [from, to] : {std::pair{"num-1-", "node1-"}, std::pair{"num-2-", "node2-"}}) {
    for (auto at = xml.find(from); at != std::string::npos; at = xml.find(from))
      xml.replace(at, std::string_view(from).size(), to);
  }
  auto ref = Cib::parse(xml);
  ASSERT_TRUE(ref);
  EXPECT_EQ(canonical(cib.configuration()), canonical(ref->configuration()));
}

TEST(Crmsh, GuideCommands) {
  Cib cib = must_run(
      "primitive vip ocf:heartbeat:IPaddr params ip=172.16.35.20 nic=eth2 cidr_netmask=24 op "
      "monitor interval=10s timeout=20s on-fail=restart\n"
      "primitive httpd lsb:apache2\n"
      "group webservice vip httpd\n"
      "property stonith-enabled=false\n"
      "property no-quorum-policy=ignore\n");
  EXPECT_EQ(shown(cib),
            "primitive httpd lsb:apache2\n"
            "primitive vip IPaddr \\\n"
            "\tparams ip=172.16.35.20 nic=eth2 cidr_netmask=24 \\\n"
            "\top monitor interval=10s timeout=20s on-fail=restart\n"
            "group webservice vip httpd\n"
            "property cib-bootstrap-options: \\\n"
            "\tstonith-enabled=false \\\n"
            "\tno-quorum-policy=ignore\n");
  auto xml = crmsh::show_xml(cib, {"vip"});
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("<op name=\"monitor\" interval=\"10s\" timeout=\"20s\" on-fail=\"restart\" "
                      "id=\"vip-monitor-10s\"/>"),
            std::string::npos)
      << *xml;
}

TEST(Crmsh, PropertyUpdatesInPlace) {
  Cib cib = must_run("property stonith-enabled=true\nproperty stonith-enabled=false\n");
  EXPECT_EQ(shown(cib), "property cib-bootstrap-options: \\\n\tstonith-enabled=false\n");
}

TEST(Crmsh, DeleteTakesEmptiedContainersAndHangingConstraints) {
  Cib cib = must_run(std::string(kBase) +
                     "group g a\nlocation l1 g 100: node1\ncolocation c1 inf: b c\n"
                     "order o1 Mandatory: [ b c ] st\n");
  Cib after = must_run("delete a b", cib);
  EXPECT_FALSE(after.find_id("g"));
  EXPECT_FALSE(after.find_id("l1"));
  EXPECT_FALSE(after.find_id("c1"));
  EXPECT_FALSE(after.find_id("o1"));
  EXPECT_TRUE(after.find_id("c"));
}

TEST(Crmsh, RenameFollowsReferences) {
  Cib cib = must_run(std::string(kBase) + "location l1 a 100: node1\ncolocation c1 inf: a b c\n");
  Cib after = must_run("rename a alpha", cib);
  EXPECT_EQ(shown(after).find(" a "), std::string::npos) << shown(after);
  EXPECT_NE(shown(after).find("location l1 alpha 100: node1"), std::string::npos);
  EXPECT_NE(shown(after).find("colocation c1 inf: alpha b c"), std::string::npos);
}

TEST(Crmsh, EraseKeepsNodes) {
  Cib cib = must_run(std::string(kBase) + "node 1: node1\nproperty stonith-enabled=false\n");
  EXPECT_EQ(shown(must_run("erase", cib)), "node 1: node1\n");
  EXPECT_EQ(shown(must_run("erase nodes", cib)), "");
}

// Each command is refused on `cib` with an error that starts with its expected text.
void expect_refused(const Cib& cib, const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [command, expected] : cases) {
    auto words = crmsh::split_words(command);
    ASSERT_TRUE(words);
    auto changes = crmsh::parse(*words, cib);
    ASSERT_FALSE(changes) << command;
    EXPECT_EQ(changes.error().message.rfind(expected, 0), 0u)
        << command << " → " << changes.error().message;
  }
}

TEST(Crmsh, BadCommandsNameTheWord) {
  const Cib cib = must_run(std::string(kBase) + "group g a\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"primitive", "end of command: expected an id"},
      {"location lx a rule $id-ref=nosuch", "word 5 ('$id-ref=nosuch'): $id-ref names no rule"},
      {"primitive a Dummy", "word 2 ('a'): id 'a' is already in use"},
      {"primitive 1x Dummy", "word 2 ('1x'): not a valid id"},
      {"primitive x magic:foo", "word 3 ('magic:foo'): unknown resource class 'magic'"},
      {"primitive x lsb:a:b", "word 3 ('lsb:a:b'): only the ocf class has a provider"},
      {"primitive x Dummy op jump interval=1s", "word 5 ('jump'): expected an operation name"},
      {"primitive x Dummy param a=1", "word 4 ('param'): expected params, meta, utilization or op"},
      {"primitive x Dummy op monitor role=Boss", "word 6 ('role=Boss'): unknown role 'Boss'"},
      {"group h a", "word 3 ('a'): 'a' is already in group 'g'"},
      {"group h b b", "word 4 ('b'): listed twice"},
      {"group h nothing", "word 3 ('nothing'): no such resource"},
      {"clone cl g2", "word 3 ('g2'): no such resource"},
      {"location l x 100: node1", "word 3 ('x'): no such resource"},
      {"location l b lots: node1", "word 4 ('lots:'): not a score"},
      {"location l b 100:", "end of command: expected a node name after the score"},
      {"location l b rule #uname like n1", "word 6 ('like'): expected lt, gt, lte, gte, eq or ne"},
      {"location l b rule a eq 1 and b eq 2 or c eq 3",
       "word 12 ('or'): and and or cannot be mixed"},
      {"colocation co b c", "word 3 ('b'): expected <score>:"},
      {"colocation co inf: b:Boss c", "word 4 ('b:Boss'): unknown role 'Boss'"},
      {"colocation co inf: ( b c", "end of command: unclosed ("},
      {"order o Mandatory: b:begin c", "word 4 ('b:begin'): unknown action 'begin'"},
      {"order o Sometimes: b c", "word 3 ('Sometimes:'): expected Mandatory, Optional, Serialize"},
      {"order o b c symmetrical=maybe",
       "word 5 ('symmetrical=maybe'): symmetrical takes true or false"},
      {"property", "end of command: expected name=value"},
      {"property stonith-enabled", "word 2 ('stonith-enabled'): expected name=value"},
      {"delete nothing", "word 2 ('nothing'): no such object"},
      {"rename a", "end of command: usage: rename OLD NEW"},
      {"rename a b", "word 3 ('b'): id 'b' is already in use"},
      {"frobnicate x", "word 1 ('frobnicate'): unknown command"},
  };
  expect_refused(cib, cases);
}

// The ids crmsh 4.4 writes for the same script (its CIB, captured with CIB_file=): a taken id gets
// -0, -1…; a node's sets are named after its uname; an op without interval gets interval="0";
// a role does not enter an op's id.
TEST(Crmsh, GeneratedIdsAreCrmshs) {
  Cib cib = must_run(R"(node 1: node1 attributes standby=off
node node2 attributes foo=bar
primitive a Dummy params $id=shared fake=1
primitive b Dummy op monitor interval=10s op monitor interval=20s role=Promoted op start timeout=20s
primitive c Dummy op monitor interval=10s role=Promoted op monitor interval=10s role=Unpromoted
primitive st stonith:fence_apc
primitive st2 stonith:fence_apc
location l1 a rule 100: #uname eq node1 rule 50: #uname ne node2
location l2 a rule -inf: not_defined pingd or pingd lte 0
colocation co inf: a ( b c )
fencing_topology st st2
)");
  auto id_of = [&](const char* xpath) {
    return std::string(cib.configuration().select_node(xpath).node().attribute("id").value());
  };
  EXPECT_EQ(id_of("nodes/node[@id='1']/instance_attributes"), "node1-instance_attributes");
  EXPECT_EQ(id_of("nodes/node[@id='1']/instance_attributes/nvpair"),
            "node1-instance_attributes-standby");
  EXPECT_EQ(id_of("//primitive[@id='b']/operations/op[@name='start']"), "b-start-0");
  EXPECT_STREQ(cib.configuration()
                   .select_node("//primitive[@id='b']/operations/op[@name='start']")
                   .node()
                   .attribute("interval")
                   .value(),
               "0");
  EXPECT_EQ(id_of("//primitive[@id='b']/operations/op[@role='Promoted']"), "b-monitor-20s");
  EXPECT_EQ(id_of("//primitive[@id='c']/operations/op[@role='Unpromoted']"), "c-monitor-10s-0");
  EXPECT_EQ(id_of("//rsc_location[@id='l1']/rule[@score='50']"), "l1-rule-0");
  EXPECT_EQ(id_of("//rsc_location[@id='l1']/rule[@score='50']/expression"),
            "l1-rule-0-expression");
  EXPECT_EQ(id_of("//rsc_location[@id='l2']/rule/expression[@operation='lte']"),
            "l2-rule-expression-0");
  EXPECT_EQ(id_of("//rsc_colocation/resource_set[2]"), "co-1");
  std::vector<std::string> levels;
  for (auto l : cib.configuration().child("fencing-topology").children())
    levels.push_back(std::string(l.attribute("id").value()) + " " + l.attribute("target").value() +
                     " " + l.attribute("devices").value());
  EXPECT_EQ(levels, (std::vector<std::string>{"fencing node1 st", "fencing-0 node1 st2",
                                              "fencing-1 node2 st", "fencing-2 node2 st2"}));
  EXPECT_EQ(*crmsh::show(cib, {"fencing_topology", "b"}),
            "fencing_topology st st2\n"
            "primitive b Dummy \\\n\top monitor interval=10s \\\n"
            "\top monitor interval=20s role=Promoted \\\n\top start timeout=20s interval=0\n");
}

// `params $id-ref=X` refers to the set X, or to the first set of the object X; it is shown back
// as given.
TEST(Crmsh, AttributeSetReference) {
  Cib cib = must_run(
      "primitive a Dummy params $id=shared fake=1\n"
      "primitive b Dummy params $id-ref=shared\n"
      "primitive c Dummy params $id-ref=a\n" +
      std::string("primitive d Dummy meta target-role=Stopped\nprimitive e Dummy meta $id-ref=d\n"));
  auto set = cib.find_id("b").child("instance_attributes");
  EXPECT_STREQ(set.attribute("id-ref").value(), "shared");
  EXPECT_FALSE(set.attribute("id"));
  EXPECT_STREQ(cib.find_id("c").child("instance_attributes").attribute("id-ref").value(), "shared");
  EXPECT_STREQ(cib.find_id("e").child("meta_attributes").attribute("id-ref").value(),
               "d-meta_attributes");
  EXPECT_EQ(*crmsh::show(cib, {"b"}), "primitive b Dummy \\\n\tparams $id-ref=shared\n");
  expect_refused(cib, {{"primitive x Dummy params $id-ref=nothing",
                        "word 5 ('$id-ref=nothing'): no instance_attributes 'nothing'"},
                       {"primitive x Dummy meta $id-ref=b",
                        "word 5 ('$id-ref=b'): no meta_attributes 'b'"},
                       {"primitive x Dummy params $id-ref=shared a=1",
                        "word 6 ('a=1'): a $id-ref set takes no name=value pairs"}});
}

// rsc_template and primitive NAME @TEMPLATE, as crmsh writes them; @X is never an agent type.
TEST(Crmsh, Templates) {
  Cib cib = must_run(
      "rsc_template tpl Dummy params fake=1 op monitor interval=10s\n"
      "primitive p1 @tpl params fake=2\nprimitive p2 @tpl\n");
  auto p2 = cib.find_id("p2");
  EXPECT_STREQ(p2.attribute("template").value(), "tpl");
  EXPECT_FALSE(p2.attribute("class"));
  EXPECT_FALSE(p2.attribute("type"));
  EXPECT_EQ(shown(cib),
            "rsc_template tpl Dummy \\\n\tparams fake=1 \\\n\top monitor interval=10s\n"
            "primitive p1 @tpl \\\n\tparams fake=2\nprimitive p2 @tpl\n");
  expect_refused(cib, {{"primitive x @nothing", "word 3 ('@nothing'): no rsc_template 'nothing'"},
                       {"primitive x @p1", "word 3 ('@p1'): no rsc_template 'p1'"},
                       {"rsc_template t2 @tpl", "word 3 ('@tpl'): a template names an agent"}});
}

TEST(Crmsh, AColocationScoreIsANumberNotAnAttribute) {
  expect_refused(must_run(kBase), {{"colocation co infinite: a b",
                                    "word 3 ('infinite:'): not a score"}});
}

TEST(Crmsh, ShowLeavesOutTheDefaultExpressionType) {
  Cib cib = must_run(std::string(kBase) + "location l a rule 10: #uname string:ne n2 and v version:gt 2\n");
  EXPECT_EQ(*crmsh::show(cib, {"l"}), "location l a \\\n\trule 10: #uname ne n2 and v version:gt 2\n");
  EXPECT_STREQ(cib.configuration().select_node("//expression").node().attribute("type").value(),
               "string");
}

TEST(Crmsh, TemplatesTagsTicketsAlertsAclsRefuseNamingTheWord) {
  const Cib cib = must_run(std::string(kBase) + "role r1 read ref:a\n");
  expect_refused(
      cib,
      {{"tag t1 a nothing", "word 4 ('nothing'): no such resource or constraint"},
       {"tag t1", "end of command: a tag needs at least one resource"},
       {"tag t1 a a", "word 4 ('a'): listed twice"},
       {"rsc_ticket tk a", "word 3 ('a'): expected TICKET:"},
       {"rsc_ticket tk t: a loss-policy=panic", "word 5 ('loss-policy=panic'): loss-policy is"},
       {"location l { a b 100: n1", "word 3 ('{'): unclosed {"},
       {"location l a rule date before 2020", "word 6 ('before'): expected lt, gt, in or spec"},
       {"location l a rule date in months=2", "word 7 ('months=2'): expected start= or end="},
       {"location l a rule date spec", "end of command: expected date_spec fields"},
       {"alert al /x select everything", "word 5 ('everything'): expected nodes, fencing"},
       {"alert al /x to", "end of command: expected the recipient"},
       {"alert al /x to { /y", "end of command: expected }"},
       {"role r2 grant ref:a", "word 3 ('grant'): expected read, write or deny"},
       {"role r2 read", "end of command: expected xpath:, ref:, type: or attr:"},
       {"role r2 read attr:x", "word 4 ('attr:x'): attr: goes with type:"},
       {"acl_target u1 nobody", "word 3 ('nobody'): no role 'nobody'"},
       {"user u1 r1", "word 1 ('user'): user is the ACL form of Pacemaker's 1.x schemas"}});
  // A tagged resource that goes leaves its tag; a tag left empty goes too. What an ACL names
  // stays (Pacemaker's schema wants the reference to name something).
  Cib tagged = must_run("tag t1 a b\ntag t2 a\nacl_target u1 r1\n", cib);
  expect_refused(tagged, {{"delete b a", "word 3 ('a'): named by acl_role 'r1'"},
                          {"delete r1", "word 2 ('r1'): named by acl_target 'u1'"}});
  Cib after = must_run("delete u1\ndelete r1\ndelete a\n", tagged);
  EXPECT_FALSE(after.find_id("t2"));
  EXPECT_EQ(*crmsh::show(after, {"t1"}), "tag t1 b\n");
}

TEST(Crmsh, BundlesRefuseNamingTheWord) {
  const Cib cib = must_run(std::string(kBase) + "group g c\nbundle b0 docker image=x primitive b\n");
  expect_refused(
      cib,
      {{"bundle b1 network control-port=3121", "word 2 ('b1'): a bundle needs one container runtime"},
       {"bundle b1 docker image=x rkt image=y", "word 2 ('b1'): a bundle needs one container runtime"},
       {"bundle b1 docker replicas=2", "word 2 ('b1'): the container runtime needs image="},
       {"bundle b1 docker image=x primitive nothing", "word 6 ('nothing'): no such resource"},
       {"bundle b1 docker image=x primitive b", "word 6 ('b'): 'b' is already in bundle 'b0'"},
       {"bundle b1 docker image=x primitive c", "word 6 ('c'): 'c' is already in group 'g'"},
       {"bundle b1 docker image=x primitive g", "word 6 ('g'): a bundle holds only primitives"},
       {"bundle b1 docker image=x primitive a primitive d", "word 7 ('primitive'): a bundle holds one"},
       {"bundle b1 docker image=x network port-mapping port=80", "word 5 ('network'): port-mapping needs id="},
       {"bundle b1 docker image=x storage source-dir=/a", "word 6 ('source-dir=/a'): storage takes"},
       {"bundle b1 docker image=x extra", "word 5 ('extra'): expected NAME=VALUE"},
       {"bundle b1 docker image=x image=y", "word 5 ('image=y'): 'image' given twice"},
       {"bundle b1 docker image=x network port-mapping id=a port=1", "word 7 ('id=a'): bad or used id"},
       {"bundle b1 params x=1", "word 3 ('params'): expected docker, rkt, podman"}});
  // The primitive moves into the bundle, and shows on its own line as well.
  Cib bundled = must_run("bundle b1 docker image=x primitive a", cib);
  EXPECT_EQ(std::string(bundled.find_id("a").parent().name()), "bundle");
  EXPECT_EQ(*crmsh::show(bundled, {"a", "b1"}),
            "primitive a Dummy\nbundle b1 \\\n\tdocker image=x \\\n\tprimitive a\n");
}

// Completion in context: what Tab offers depends on the words before it on the line.
TEST(Crmsh, CompletionFollowsTheCommand) {
  crmsh::CompletionSource source;
  source.ids = {"a", "b", "web"};
  source.agents = {"ocf:heartbeat:Dummy", "ocf:heartbeat:IPaddr2", "lsb:ssh"};
  source.parameters = [](const std::string& agent) {
    return agent == "IPaddr2" ? std::vector<std::string>{"ip", "cidr_netmask", "nic"}
                              : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  const auto complete = [&](const std::string& line, const std::string& prefix) {
    return crmsh::completions(*crmsh::split_words(line), prefix, source);
  };
  EXPECT_EQ(complete("", "pr"), (V{"primitive", "property"}));
  EXPECT_EQ(complete("primitive", ""), V{});  // a new id
  EXPECT_EQ(complete("primitive vip", "ocf:heartbeat:"),
            (V{"ocf:heartbeat:Dummy", "ocf:heartbeat:IPaddr2"}));
  EXPECT_EQ(complete("primitive vip", "@"), (V{"@a", "@b", "@web"}));
  // The agent's parameters, without those already given; then the keywords.
  EXPECT_EQ(complete("primitive vip IPaddr2 params ip=10.0.0.1", ""),
            (V{"cidr_netmask=", "meta", "nic=", "op", "params", "utilization"}));
  EXPECT_EQ(complete("primitive vip IPaddr2", "c"), V{"cidr_netmask="});
  EXPECT_EQ(complete("primitive vip IPaddr2 params ip=1 op", "mo"), V{"monitor"});
  EXPECT_EQ(complete("primitive vip IPaddr2 op monitor interval=10s", "t"), V{"timeout="});
  EXPECT_EQ(complete("primitive vip IPaddr2 op monitor interval=10s", "i"),
            (V{"interval-origin="}));
  EXPECT_EQ(complete("group g", "w"), V{"web"});
  EXPECT_EQ(complete("bundle bd docker image=x", "n"), V{"network"});
  EXPECT_EQ(complete("bundle bd docker image=x primitive", ""), (V{"a", "b", "web"}));
  EXPECT_EQ(complete("location l1", ""), (V{"a", "b", "web"}));
  EXPECT_EQ(complete("commit", ""), V{"force"});
}

// crmsh's fencing_topology: levels per target (a node, attr:NAME=VALUE, pattern:REGEX), or the
// same levels for every node of the node list; shown one target per line; deleted as one object.
TEST(Crmsh, FencingTopology) {
  const std::string devices =
      "primitive ipmi stonith:fence_ipmilan\nprimitive pdu1 stonith:fence_apc\n"
      "primitive pdu2 stonith:fence_apc\nprimitive kdump stonith:fence_kdump\n"
      "node 1: n1\nnode 2: n2\n";
  const std::string construct =
      "fencing_topology \\\n\tn1: kdump ipmi pdu1,pdu2 \\\n\tattr:rack=r7 pdu1 \\\n"
      "\tpattern:db[0-9]+ ipmi";
  Cib base = must_run(devices);
  Cib with = must_run(construct, base);
  auto text = crmsh::show(with, {"fencing_topology"});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, construct + "\n");
  auto levels = with.configuration().child("fencing-topology");
  auto second = levels.find_child_by_attribute("fencing-level", "index", "3");
  EXPECT_STREQ(second.attribute("target").value(), "n1");
  EXPECT_STREQ(second.attribute("devices").value(), "pdu1,pdu2");
  EXPECT_TRUE(levels.find_child_by_attribute("fencing-level", "target-pattern", "db[0-9]+"));
  EXPECT_TRUE(levels.find_child_by_attribute("fencing-level", "target-value", "r7"));
  EXPECT_EQ(canonical(must_run(*text, base).configuration()), canonical(with.configuration()));

  // Without targets: the levels for each node of the node list, shown as given.
  Cib every = must_run("fencing_topology kdump ipmi", base);
  EXPECT_NE(shown(every).find("\nfencing_topology kdump ipmi\n"), std::string::npos)
      << shown(every);
  EXPECT_EQ(every.configuration()
                .child("fencing-topology")
                .find_child_by_attribute("fencing-level", "id", "fencing-2")
                .attribute("target")
                .value(),
            std::string("n2"));

  EXPECT_FALSE(must_run("delete fencing_topology", with).configuration().child("fencing-topology"));
  expect_refused(
      base,
      {{"fencing_topology n1: nosuch", "word 3 ('nosuch'): 'nosuch' is not a stonith"},
       {"fencing_topology n1: ipmi,n2", "word 3 ('ipmi,n2'): 'n2' is not a stonith"},
       {"fencing_topology ipmi n1: pdu1", "word 3 ('n1:'): give every level a target"},
       {"fencing_topology n1:", "end of command: target 'n1' has no devices"},
       {"fencing_topology attr:rack: ipmi", "word 2 ('attr:rack:'): expected attr:NAME=VALUE"},
       {"fencing_topology attr:rack=r7: ipmi", "word 2 ('attr:rack=r7:'): expected attr:NAME=VALUE"}});
  auto again = crmsh::parse(*crmsh::split_words("fencing_topology n2: ipmi"), with);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("delete fencing_topology first"), std::string::npos);
}

TEST(Crmsh, SplitWords) {
  auto w = crmsh::split_words(R"(params a="x y" b='c "d"' e=f\ g h=\"i)");
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, (std::vector<std::string>{"params", "a=x y", "b=c \"d\"", "e=f g", "h=\"i"}));
  EXPECT_FALSE(crmsh::split_words("a=\"open"));
  auto lines = crmsh::logical_lines("# comment\nprimitive a Dummy \\\n\tparams x=1\n\nshow\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].number, 2);
  EXPECT_EQ(lines[1].text, "show");
}

TEST(Crmsh, Quote) {
  EXPECT_EQ(crmsh::quote("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(crmsh::quote("/etc/x"), "\"/etc/x\"");
  EXPECT_EQ(crmsh::quote(""), "\"\"");
  EXPECT_EQ(crmsh::quote("a\"b"), "\"a\\\"b\"");
}

TEST(Crmsh, EveryCorpusConfigurationPrints) {
  // show never fails on what Pacemaker accepts (what it cannot write as crmsh it writes as xml).
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(VIGIL_SHARED_DIR) /
                                                           "scheduler-corpus" / "xml")) {
    std::ifstream f(e.path());
    std::stringstream s;
    s << f.rdbuf();
    auto cib = Cib::parse(s.str());
    ASSERT_TRUE(cib);
    auto text = crmsh::show(*cib);
    ASSERT_TRUE(text) << e.path();
    EXPECT_FALSE(text->empty());
    ++count;
  }
  EXPECT_GT(count, 500);
}

// Random editing sessions: each version, patched from the one before by diff() (through the wire
// encoding, as a rejoining node would receive it), equals the version itself.
TEST(Crmsh, DiffPatchesEveryVersionOfRandomSessions) {
  const std::vector<std::string> ids = {"a", "b", "c", "d", "e", "g1", "g2", "cl", "l1", "o1"};
  int applied = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    Rng rng(seed);
    Cib cib;
    auto pick = [&] { return ids[rng.uniform(ids.size())]; };
    for (int step = 0; step < 40; ++step) {
      std::string command;
      switch (rng.uniform(9)) {
        case 0:
          command = "primitive " + pick() + " Dummy params n=" + std::to_string(step);
          break;
        case 1:
          command = "primitive " + pick() + " lsb:x op monitor interval=5s";
          break;
        case 2:
          command = "group " + pick() + " " + pick() + " " + pick();
          break;
        case 3:
          command = "clone " + pick() + " " + pick() + " meta interleave=true";
          break;
        case 4:
          command = "location " + pick() + " " + pick() + " " + std::to_string(step) + ": n1";
          break;
        case 5:
          command = "order " + pick() + " Mandatory: " + pick() + " " + pick();
          break;
        case 6:
          command = "property p" + std::to_string(rng.uniform(3)) + "=" + std::to_string(step);
          break;
        case 7:
          command = "delete " + pick();
          break;
        default:
          command = "rename " + pick() + " " + pick() + "x";
          break;
      }
      auto next = run(cib, command);
      if (!next) continue;
      const CibOp patch = diff(cib, *next);
      auto wire = decode(encode(patch));
      ASSERT_TRUE(wire) << wire.error().message;
      auto patched = apply(cib, *wire);
      ASSERT_TRUE(patched) << "seed " << seed << " step " << step << ": " << command << ": "
                           << patched.error().message;
      ASSERT_EQ(patched->to_xml(), next->to_xml()) << "seed " << seed << ": " << command;
      cib = std::move(next).value();
      ++applied;
    }
  }
  EXPECT_GT(applied, 150);  // most steps are real changes, not refused commands
}

}  // namespace
}  // namespace vigil::cib
