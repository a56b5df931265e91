#include "cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vigil::cli {
namespace {

struct Run {
  int code;
  std::string out, err;
};

Run run(std::vector<std::string> args) {
  std::ostringstream out, err;
  Cli cli(out, err);
  add_all_commands(cli);
  int code = cli.run(args);
  return {code, out.str(), err.str()};
}

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

TEST(Cli, HelpListsCommands) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("version"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
