// history_service: this node's journal of cluster events and the control command history_query
// (history_service.cpp says why per node and how the file is bounded).
#pragma once

#include <memory>

#include "daemon/cib_access.h"
#include "daemon/service.h"

namespace vigil::daemon {

std::unique_ptr<Service> make_history_service(Host& host, CibAccess& cib);

}  // namespace vigil::daemon
