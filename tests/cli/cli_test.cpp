#include "cli/cli.h"
#include "cli_run.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vigil::cli {
namespace {

TEST(Cli, VersionPrints) {
  auto r = run({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "vigil 0.1.0\n");
}

TEST(Cli, UnknownCommandIsUsageError) {
  auto r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos);
}

// A mistyped word below the top level names the word and the commands possible there, instead
// of CLI11's "A subcommand is required".
TEST(Cli, UnknownNestedCommandNamesTheWordAndTheChoices) {
  auto r = run({"resource", "mvoe", "vip", "n2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command 'mvoe'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'vigil resource'"), std::string::npos) << r.err;
  for (const char* choice : {"move", "ban", "cleanup", "exec"})
    EXPECT_NE(r.err.find(choice), std::string::npos) << choice << " in " << r.err;
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
  // An option's value before the word is not taken for the word.
  auto deeper = run({"cib", "--cib", "/nonexistent.xml", "qeury"});
  EXPECT_EQ(deeper.code, 2);
  EXPECT_NE(deeper.err.find("unknown command 'qeury' for 'vigil cib'"), std::string::npos)
      << deeper.err;
  EXPECT_NE(deeper.err.find("query"), std::string::npos) << deeper.err;
  auto top = run({"stauts"});
  EXPECT_NE(top.err.find("unknown command 'stauts'"), std::string::npos) << top.err;
  EXPECT_NE(top.err.find("status"), std::string::npos) << top.err;
}

TEST(Cli, VersionFlagAndHelpCommand) {
  auto v = run({"--version"});
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_EQ(v.out, "vigil 0.1.0\n");
  auto help = run({"help"});
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("configure"), std::string::npos) << help.out;
  auto resource = run({"help", "resource"});
  EXPECT_EQ(resource.code, 0) << resource.err;
  EXPECT_NE(resource.out.find("cleanup"), std::string::npos) << resource.out;
  auto move = run({"help", "resource", "move"});
  EXPECT_EQ(move.code, 0) << move.err;
  EXPECT_NE(move.out.find("--cib"), std::string::npos) << move.out;
  auto bad = run({"help", "resorce"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("'resorce'"), std::string::npos) << bad.err;
}

TEST(Cli, HelpListsCommands) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("version"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
