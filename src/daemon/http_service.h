// http_service: `vigild --http ADDR:PORT` — GET /metrics in Prometheus' text format, the status
// page and, with --http-actions, its actions
// (http_service.cpp says what it serves and how it guards itself).
#pragma once

#include <memory>
#include <string>

#include "daemon/cib_access.h"
#include "daemon/history_service.h"
#include "daemon/service.h"

namespace vigil::daemon {

// Listens on host.options().http; with http_actions, reads the authkey the page's passwords are
// derived from and writes each action to `history`. The error says why it could not.
Result<std::unique_ptr<Service>> make_http_service(Host& host, CibAccess& cib,
                                                   HistoryService& history);

}  // namespace vigil::daemon
