// http_service: `vigild --http ADDR:PORT` — GET /metrics in Prometheus' text format, the status
// page and, with --http-actions, its actions
// (http_service.cpp says what it serves and how it guards itself).
#pragma once

#include <asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "daemon/cib_access.h"
#include "daemon/history_service.h"
#include "daemon/service.h"

namespace vigil::daemon {

// "127.0.0.1:9664", "[::1]:9664"; the error names the option and what is wrong.
Result<asio::ip::tcp::endpoint> http_endpoint(const std::string& text);

// Listens on host.options().http; with http_actions, reads the authkey the page's passwords are
// derived from and writes each action to `history`. The error says why it could not.
Result<std::unique_ptr<Service>> make_http_service(Host& host, CibAccess& cib,
                                                   HistoryService& history);

}  // namespace vigil::daemon
