// `vigil cib query|replace|diff` on a CIB file, in-process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

class CibCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-cib-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ::setenv("CIB_file", (dir_ / "cib.xml").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CIB_file");
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(CibCli, QueryReplaceDiff) {
  // Without a fence device: --force commits what Pacemaker would not start.
  ASSERT_EQ(run({"configure", "--force", "primitive", "d", "Dummy"}).code, 0);
  fs::copy_file(dir_ / "cib.xml", dir_ / "old.xml");
  // No init script e exists here: --force commits it anyway.
  ASSERT_EQ(run({"configure", "--force", "primitive", "e", "lsb:e"}).code, 0);

  auto q = run({"cib", "query", "--xpath", "//primitive[@id='e']"});
  EXPECT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(q.out, "<primitive id=\"e\" class=\"lsb\" type=\"e\"/>\n");
  EXPECT_EQ(run({"cib", "query", "--xpath", "//["}).code, 1);

  auto d = run({"cib", "diff", (dir_ / "old.xml").string()});
  EXPECT_EQ(d.code, 1);
  EXPECT_EQ(d.out,
            "--- 0.1.0\n+++ 0.2.0\n"
            "create in /cib/configuration/resources: <primitive id=\"e\" class=\"lsb\" "
            "type=\"e\"/>\n");
  EXPECT_EQ(run({"cib", "diff", (dir_ / "cib.xml").string()}).code, 0);

  auto r = run({"cib", "replace", (dir_ / "old.xml").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(run({"configure", "show"}).out, "primitive d Dummy\n");
  // A replacement is a newer version than what it replaced.
  EXPECT_NE(run({"cib", "query"}).out.find("epoch=\"3\""), std::string::npos);
  EXPECT_EQ(run({"cib", "replace", (dir_ / "missing.xml").string()}).code, 1);
}

// Reading a CIB file that is not there is an error naming it, as Pacemaker's tools refuse a
// missing CIB_file: a mistyped name must not show an empty cluster. Writing one creates it.
TEST_F(CibCli, AMissingFileIsAnErrorToReadAndCreatedByAWrite) {
  const std::string cib = (dir_ / "cib.xml").string();
  for (const std::vector<std::string>& read :
       {std::vector<std::string>{"cib", "query"}, {"configure", "show"}, {"configure", "verify"},
        {"node", "standby", "node1"}, {"resource", "list"}}) {
    auto r = run(read);
    EXPECT_EQ(r.code, 1) << read[0] << " " << read[1];
    EXPECT_EQ(r.out, "") << read[0] << " " << read[1];
    EXPECT_NE(r.err.find(cib + ": no such CIB file"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(cib)) << "reading must not create the file";
  EXPECT_EQ(run({"configure", "--force", "primitive", "d", "Dummy"}).code, 0);
  EXPECT_EQ(run({"configure", "show"}).out, "primitive d Dummy\n");
}

}  // namespace
}  // namespace vigil::cli
