// A CIB change is acknowledged only once it is on the answering node's disk: when the save fails
// the client gets an error naming the node and the cause, never OK, and the file keeps the last
// saved version; once the disk takes writes again the next change is saved and acknowledged.
#include <gtest/gtest.h>

#include "cib/cib_io.h"
#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

std::string version_on_disk(const fs::path& file) {
  auto loaded = cib::CibFile(file).load();
  return loaded.ok() && loaded->found ? loaded->cib.version().str() : "";
}

// The CIB's "version" in node 1's status, or what it says is on its disk ("durable").
std::string version_held(const TestCluster& c, const char* which = "version") {
  auto s = c.status(1);
  return s.ok() && s->contains("cib") ? (*s)["cib"][which].get<std::string>() : "";
}

// `vigil configure property …` on node 1: its exit code and output.
int configure(const TestCluster& c, const std::string& property, std::string& out) {
  const std::string file = (c.dir() / "cli.out").string();
  const int rc = std::system(("VIGIL_SOCKET=" + c.socket(1) + " " + VIGIL_PATH +
                              " configure property " + property + " >" + file + " 2>&1 </dev/null")
                                 .c_str());
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(CibDurability, AChangeThatCannotBeSavedIsNeverAcknowledged) {
  ClusterSpec one;
  one.nodes = 1;
  TestCluster c(one, "cibsave");
  c.start(1);
  const fs::path file = c.dir() / "state1" / "cib.xml";
  // Quiet once node 1 entered itself in its CIB and saved it (the controller writes too).
  ASSERT_TRUE(eventually(
      [&] {
        const auto held = version_held(c);
        return held != "" && held != "0.0.0" && held == version_on_disk(file);
      },
      20s))
      << c.log_text(1);
  std::string out;
  ASSERT_EQ(configure(c, "maintenance-mode=true", out), 0) << out;

  // The save writes cib.xml.tmp first: a directory there makes every save fail, even as root.
  const fs::path in_the_way = c.dir() / "state1" / "cib.xml.tmp";
  fs::create_directory(in_the_way);
  const auto saved = version_on_disk(file);
  const int rc = configure(c, "cluster-recheck-interval=5min", out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("could not be saved on n1 (" + in_the_way.string()), std::string::npos) << out;
  EXPECT_NE(out.find("it is not durable there"), std::string::npos) << out;
  EXPECT_EQ(version_on_disk(file), saved);
  // The services beside the CIB (the controller) still see the last saved document.
  EXPECT_EQ(version_held(c, "durable"), saved);
  EXPECT_NE(version_held(c), saved);
  EXPECT_NE(c.log_text(1).find("could not be saved on n1"), std::string::npos) << c.log_text(1);

  fs::remove(in_the_way);
  EXPECT_EQ(configure(c, "cluster-recheck-interval=6min", out), 0) << out;
  EXPECT_TRUE(eventually(
      [&] {
        const auto held = version_held(c);
        return version_on_disk(file) == held && version_held(c, "durable") == held;
      },
      5s));
  auto loaded = cib::CibFile(file).load();
  ASSERT_TRUE(loaded.ok() && loaded->found);
  EXPECT_NE(loaded->cib.to_xml().find("6min"), std::string::npos) << "the last change is on disk";
}

}  // namespace
}  // namespace vigil::test
