// `vigil witness`: runs the witness daemon (daemon/witness_daemon.h) in the foreground, as
// corosync-qnetd -f does; a service manager keeps it running.
#include <CLI/CLI.hpp>

#include "cli/cli.h"
#include "daemon/witness_daemon.h"

namespace vigil::cli {

namespace {

void add_witness_command(Cli& cli) {
  auto options = std::make_shared<daemon::WitnessOptions>();
  auto* sub = cli.app().add_subcommand(
      "witness",
      "run a quorum witness for two-node clusters (as corosync-qnetd): one extra vote for exactly "
      "one side of a split; runs in the foreground, logs to stderr, stops on SIGTERM");
  sub->add_option("--listen", options->listen,
                  "ADDRESS[:PORT] to listen on (TCP; port 5403 as qnetd when left out)")
      ->required();
  sub->add_option("--key", options->keys,
                  "the authkey of a cluster to serve (its corosync authkey); repeat for each "
                  "cluster")
      ->required();
  cli.on(sub, [&cli, options] { return daemon::run_witness(*options, cli.err()); });
}

}  // namespace

VIGIL_COMMANDS(90, add_witness_command);

}  // namespace vigil::cli
