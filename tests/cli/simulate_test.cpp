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
  EXPECT_NE(r.err.find("cannot read /nonexistent/cib.xml"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
