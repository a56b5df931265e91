// `vigil simulate`: crm_simulate's sections for a corpus CIB, and clear errors for bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

const std::string kSimple6 = std::string(VIGIL_SHARED_DIR) + "/scheduler-corpus/xml/simple6.xml";

TEST(Simulate, PrintsTheFourSections) {
  ASSERT_TRUE(std::ifstream(kSimple6).good()) << kSimple6 << ": the corpus (../shared) is missing";
  auto r = run({"simulate", "-x", kSimple6, "-S"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s :
       {"Current cluster status:", "Transition Summary:", "Executing Cluster Transition:",
        "Revised Cluster Status:", "* Start      rsc2", "due to node availability",
        "Resource action: rsc1            stop on node1"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

TEST(Simulate, ExplainsEveryAction) {
  ASSERT_TRUE(std::ifstream(kSimple6).good()) << kSimple6 << ": the corpus (../shared) is missing";
  auto r = run({"simulate", "-x", kSimple6, "--explain"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("rsc1_stop_0 node1: cannot run anywhere"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("colocation not_same_1"), std::string::npos) << r.out;
}

// vip ran on n1 of two nodes; `n1_extra` goes into n1's configured node, `status_extra` into its
// transient attributes, `constraints` and `meta` where they belong.
std::string two_nodes(const std::string& n1_extra, const std::string& status_extra,
                      const std::string& constraints, const std::string& meta) {
  const std::string path = std::string(VIGIL_BINARY_DIR) + "/simulate_explain.xml";
  std::string xml =
      "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\"><configuration><crm_config>"
      "<cluster_property_set id=\"o\"><nvpair id=\"o-s\" name=\"stonith-enabled\" "
      "value=\"false\"/></cluster_property_set></crm_config><nodes><node id=\"1\" uname=\"n1\">" +
      n1_extra + "</node><node id=\"2\" uname=\"n2\"/></nodes><resources><primitive id=\"vip\" "
      "class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\">" + meta +
      "</primitive></resources><constraints>" + constraints +
      "</constraints></configuration><status>";
  for (const std::string n : {"1", "2"}) {
    xml += "<node_state id=\"" + n + "\" uname=\"n" + n +
           "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\">";
    if (n == "1") xml += status_extra;
    xml += "<lrm id=\"" + n + "\"><lrm_resources><lrm_resource id=\"vip\" class=\"ocf\" "
           "provider=\"heartbeat\" type=\"IPaddr2\"><lrm_rsc_op id=\"vip_last_0\" "
           "operation=\"" + (n == "1" ? "start" : "monitor") + "\" call-id=\"2\" rc-code=\"" +
           (n == "1" ? "0" : "7") + "\" op-status=\"0\" interval=\"0\" "
           "transition-key=\"1:1:0:x\"/></lrm_resource></lrm_resources></lrm></node_state>";
  }
  std::ofstream(path) << xml << "</status></cib>\n";
  return path;
}

std::string explained(const std::string& path) {
  auto r = run({"simulate", "-x", path, "--explain"});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.out;
}

// A standby move said "best score 0" and never named standby; a ban, a failure past
// migration-threshold, stickiness and a location preference are named where they decide.
TEST(Simulate, ExplainNamesWhatDecidesAPlacement) {
  const std::string standby =
      "<instance_attributes id=\"n1-a\"><nvpair id=\"n1-s\" name=\"standby\" value=\"on\"/>"
      "</instance_attributes>";
  auto out = explained(two_nodes(standby, "", "", ""));
  EXPECT_NE(out.find("moves from n1 to n2: placed on n2: best score 0"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("leaves n1: n1 is in standby"), std::string::npos) << out;

  out = explained(two_nodes(
      "", "", "<rsc_location id=\"cli-ban-vip-on-n1\" rsc=\"vip\" node=\"n1\" score=\"-INFINITY\"/>",
      ""));
  EXPECT_NE(out.find("leaves n1: its score there is -INFINITY by location cli-ban-vip-on-n1"),
            std::string::npos)
      << out;

  const std::string threshold =
      "<meta_attributes id=\"vip-m\"><nvpair id=\"vip-mt\" name=\"migration-threshold\" "
      "value=\"1\"/></meta_attributes>";
  out = explained(two_nodes("",
                            "<transient_attributes id=\"1\"><instance_attributes id=\"s1\"><nvpair "
                            "id=\"s1-f\" name=\"fail-count-vip#monitor_10000\" value=\"1\"/>"
                            "</instance_attributes></transient_attributes>",
                            "", threshold));
  EXPECT_NE(out.find("leaves n1: its score there is -INFINITY by fail-count 1 reached "
                     "migration-threshold 1"),
            std::string::npos)
      << out;

  const std::string sticky =
      "<meta_attributes id=\"vip-m\"><nvpair id=\"vip-st\" name=\"resource-stickiness\" "
      "value=\"100\"/></meta_attributes>";
  out = explained(two_nodes(
      "", "", "<rsc_location id=\"prefer-n2\" rsc=\"vip\" node=\"n2\" score=\"50\"/>", sticky));
  EXPECT_NE(out.find("* vip: placed on n1: best score 100 (resource-stickiness)"),
            std::string::npos)
      << out;
  out = explained(two_nodes(
      "", "", "<rsc_location id=\"prefer-n2\" rsc=\"vip\" node=\"n2\" score=\"50\"/>", ""));
  EXPECT_NE(out.find("placed on n2: best score 50 (location prefer-n2); leaves n1: its score "
                     "there is 0"),
            std::string::npos)
      << out;
}

TEST(Simulate, JsonAndDot) {
  ASSERT_TRUE(std::ifstream(kSimple6).good()) << kSimple6 << ": the corpus (../shared) is missing";
  std::string dot = std::string(VIGIL_BINARY_DIR) + "/simulate_test.dot";
  auto r = run({"simulate", "-x", kSimple6, "--output-as", "json", "--save-graph", dot});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"key\": \"rsc2_start_0\""), std::string::npos) << r.out;
  std::ifstream in(dot);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("\"rsc2_monitor_0 node1\" -> \"rsc2_start_0 node1\""), std::string::npos)
      << ss.str();
}

TEST(Simulate, BadXmlNamesThePlace) {
  std::string path = std::string(VIGIL_BINARY_DIR) + "/simulate_bad.xml";
  std::ofstream(path) << "<cib>\n  <configuration>\n</cib>\n";
  auto r = run({"simulate", "-x", path, "-S"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(path + ":3:"), std::string::npos) << r.err;
}

TEST(Simulate, MissingFileIsAnError) {
  auto r = run({"simulate", "-x", "/nonexistent/cib.xml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/cib.xml: cannot open: No such file or directory"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
