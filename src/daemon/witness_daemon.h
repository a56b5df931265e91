// witness_daemon: `vigil witness`, the third machine's vote for two-node clusters (as
// corosync-qnetd). It listens on TCP (port 5403 by default, qnetd's), serves every cluster whose
// authkey it was given, and lets quorum::Witness decide, with the monotonic clock read here. A
// connection speaks for one node of one cluster: its first frame must open with one of the keys,
// and every later one with the same key and for the same node and session.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vigil::daemon {

inline constexpr unsigned short kWitnessPort = 5403;

struct WitnessOptions {
  std::string listen;             // ADDRESS[:PORT], "[v6]:PORT"
  std::vector<std::string> keys;  // authkey files, one per cluster served
};

// Runs in the foreground until SIGTERM or SIGINT, logging to `log`; the exit code (1 when it
// cannot start: an unreadable key, an address it cannot listen on).
int run_witness(const WitnessOptions& options, std::ostream& log);

}  // namespace vigil::daemon
