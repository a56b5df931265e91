#include "daemon/daemon.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

namespace vigil::daemon {

int main(int argc, char** argv) {
  CLI::App app("vigild: the vigil cluster daemon", "vigild");
  std::string config, node, state_dir = "/var/lib/vigil", run_dir = "/run/vigil";
  bool foreground = false;
  app.add_option("--config", config, "cluster configuration (corosync.conf syntax)");
  app.add_option("--node", node, "which nodelist entry this process is (name or id)");
  app.add_option("--state-dir", state_dir, "where the CIB and its backups live");
  app.add_option("--run-dir", run_dir, "where the control socket and pid file live");
  app.add_flag("--foreground", foreground, "stay in the foreground");
  CLI11_PARSE(app, argc, argv);
  std::fprintf(stderr, "vigild: the network layer is not built yet (issue 4)\n");
  return 1;
}

}  // namespace vigil::daemon
