// device_service: vigild's side of the quorum device (corosync-qdevice's role), built when
// corosync.conf has quorum { device { model: net; net { host … } } }. It keeps a TCP connection to
// `vigil witness` (reconnecting with backoff, never blocking the loop), runs quorum::DeviceClient
// over it — an ask on every new ring and every quarter of the device timeout — and steps the node
// core with node::DeviceVote whenever the client's grant changes (the core counts the vote by it,
// through a ring change too: quorum.h's inherits()). Losing the witness only lets the vote run
// out: while both nodes see each other they are quorate without it.
#pragma once

#include <memory>

#include "daemon/service.h"

namespace vigil::daemon {

// An error when the authkey cannot be read or is too short for the witness keys.
Result<std::unique_ptr<Service>> make_device_service(Host& host);

}  // namespace vigil::daemon
