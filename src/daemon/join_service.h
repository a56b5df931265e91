// join_service: the member's side of `vigil cluster join`. `vigil cluster token` asks it (control
// command join_token) for a one-time token; it then listens on TCP at this node's ring0_addr and
// link 0's port (mcastport, 5405 by default: the ring's UDP port, the same number over TCP, so no
// new port has to be chosen or opened in a firewall rule of its own). A joiner that proves the
// token (its request opens with the token's key, config/join.h) is added to the nodelist through
// the ring, as `vigil cluster add` does, and gets the configuration and the authkey back sealed.
#pragma once

#include <memory>

#include "daemon/service.h"

namespace vigil::daemon {

std::unique_ptr<Service> make_join_service(Host& host);

}  // namespace vigil::daemon
