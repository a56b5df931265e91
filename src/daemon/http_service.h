// http_service: `vigild --http ADDR:PORT` — GET /metrics in Prometheus' text format
// (http_service.cpp says what it serves and how it guards itself).
#pragma once

#include <memory>
#include <string>

#include "daemon/cib_access.h"
#include "daemon/service.h"

namespace vigil::daemon {

// Listens on host.options().http; the error says why it could not.
Result<std::unique_ptr<Service>> make_http_service(Host& host, CibAccess& cib);

}  // namespace vigil::daemon
