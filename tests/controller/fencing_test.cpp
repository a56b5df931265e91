// fence_plan: the devices and levels the DC tries against a node, as Pacemaker's fencer orders
// them (fencing topology first, else each capable device by priority).
#include <gtest/gtest.h>

#include "controller/fencing.h"

namespace vigil::controller {
namespace {

cib::Cib cib_with(const std::string& resources, const std::string& topology = "",
                  const std::string& nodes = "") {
  auto c = cib::Cib::parse(R"(<cib admin_epoch="0" epoch="1" num_updates="0"><configuration>
    <crm_config/><nodes>)" +
                           nodes + R"(</nodes><resources>)" + resources +
                           R"(</resources><constraints/>)" + topology +
                           R"(</configuration><status/></cib>)");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(*c);
}

std::string device(const std::string& id, const std::string& params = "",
                   const std::string& meta = "") {
  return "<primitive id=\"" + id + "\" class=\"stonith\" type=\"fence_dummy\">" +
         "<instance_attributes id=\"" + id + "-ia\">" + params + "</instance_attributes>" +
         "<meta_attributes id=\"" + id + "-meta\">" + meta + "</meta_attributes></primitive>";
}

std::string nv(const std::string& id, const std::string& name, const std::string& value) {
  return "<nvpair id=\"" + id + "\" name=\"" + name + "\" value=\"" + value + "\"/>";
}

std::vector<std::vector<std::string>> ids(const std::vector<FenceLevel>& plan) {
  std::vector<std::vector<std::string>> out;
  for (const auto& level : plan) {
    out.emplace_back();
    for (const auto& d : level) out.back().push_back(d.id);
  }
  return out;
}

using Ids = std::vector<std::vector<std::string>>;

TEST(FencePlan, WithoutATopologyEachCapableDeviceIsALevelByPriority) {
  auto c = cib_with(device("low") + device("high", "", nv("h-p", "priority", "10")) +
                    device("other", nv("o-l", "pcmk_host_list", "n2 n3")));
  EXPECT_EQ(ids(fence_plan(c, "n1")), (Ids{{"high"}, {"low"}}));
  EXPECT_EQ(ids(fence_plan(c, "n2")), (Ids{{"high"}, {"low"}, {"other"}}));
}

// A device's agent is a value the executor runs as it is: one whose name is no file under the
// fence agents' directory can never fence, so it is left out as if absent.
TEST(FencePlan, ADeviceWhoseAgentNoExecutorCouldRunIsLeftOut) {
  std::string bad = device("bad");
  bad.replace(bad.find("fence_dummy"), 11, "../../bin/true");
  auto c = cib_with(device("good") + bad);
  auto plan = fence_plan(c, "n1");
  EXPECT_EQ(ids(plan), (Ids{{"good"}}));
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0][0].agent.str(), "stonith:fence_dummy");
}

TEST(FencePlan, TheTargetIsPassedAsThePortOrAsTheHostMapSays) {
  auto c = cib_with(device("ipmi", nv("m", "pcmk_host_map", "n1:10;n2:20")) +
                    device("plug", nv("a", "pcmk_host_argument", "plug")) +
                    device("none", nv("n", "pcmk_host_argument", "none")));
  auto plan = fence_plan(c, "n2");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0][0].params.at("port"), "20");
  EXPECT_EQ(plan[1][0].params.at("plug"), "n2");
  EXPECT_EQ(plan[2][0].params.count("port"), 0u);
  EXPECT_EQ(ids(fence_plan(c, "n3")), (Ids{{"plug"}, {"none"}})) << "n3 is not in ipmi's map";
}

TEST(FencePlan, ATopologyGivesTheLevelsByIndexForItsTargetsOnly) {
  const std::string devices = device("kdump") + device("ipmi") + device("pdu1") + device("pdu2");
  auto c = cib_with(devices, R"(<fencing-topology>
      <fencing-level id="l2" target="n1" index="2" devices="pdu1,pdu2"/>
      <fencing-level id="l1" target="n1" index="1" devices="kdump,ipmi"/>
      <fencing-level id="p1" target-pattern="^db[0-9]+$" index="1" devices="ipmi"/>
      <fencing-level id="a1" target-attribute="rack" target-value="r7" index="1" devices="pdu1"/>
    </fencing-topology>)",
                    R"(<node id="4" uname="n4"><instance_attributes id="n4-ia">)" +
                        nv("r", "rack", "r7") + "</instance_attributes></node>");
  EXPECT_EQ(ids(fence_plan(c, "n1")), (Ids{{"kdump", "ipmi"}, {"pdu1", "pdu2"}}));
  EXPECT_EQ(ids(fence_plan(c, "db12")), (Ids{{"ipmi"}}));
  EXPECT_EQ(ids(fence_plan(c, "n4")), (Ids{{"pdu1"}}));
  EXPECT_EQ(fence_plan(c, "n2").size(), 4u) << "no level names n2: every device on its own";
}

TEST(FencePlan, ALevelNamingADeviceThatIsGoneIsSkippedAndNothingMeansNoPlan) {
  auto c = cib_with(device("ipmi"), R"(<fencing-topology>
      <fencing-level id="l1" target="n1" index="1" devices="gone"/>
      <fencing-level id="l2" target="n1" index="2" devices="ipmi"/>
    </fencing-topology>)");
  EXPECT_EQ(ids(fence_plan(c, "n1")), (Ids{{"ipmi"}}));
  EXPECT_TRUE(fence_plan(cib_with(""), "n1").empty());
  EXPECT_TRUE(
      fence_plan(cib_with(device("s", nv("c", "pcmk_host_check", "static-list"))), "n1").empty());
}

}  // namespace
}  // namespace vigil::controller
