// The CLI run in-process, as the tests of tests/cli drive it: arguments in, exit code and the two
// streams out.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace vigil::cli {

struct Outcome {
  int code;
  std::string out, err;
};

inline Outcome run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Cli cli(out, err);
  add_all_commands(cli);
  const int code = cli.run(args);
  return {code, out.str(), err.str()};
}

// A whole file's bytes; empty when it cannot be read.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vigil::cli
