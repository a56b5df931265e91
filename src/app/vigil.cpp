// `vigil`: the command line.
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  vigil::cli::Cli cli(std::cout, std::cerr);
  vigil::cli::add_all_commands(cli);
  return cli.run(std::vector<std::string>(argv + 1, argv + argc));
}
