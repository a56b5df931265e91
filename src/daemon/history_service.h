// history_service: this node's journal of cluster events and the control command history_query
// (history_service.cpp says why per node and how the file is bounded).
#pragma once

#include <memory>

#include "daemon/cib_access.h"
#include "daemon/service.h"
#include "history/history.h"

namespace vigil::daemon {

// The journal, for a service that writes what it did itself (the status page's actions).
class HistoryService : public Service {
 public:
  // Logs the event and adds it to the journal, in memory and in the file.
  virtual void record(const history::Event& event) = 0;
};

std::unique_ptr<HistoryService> make_history_service(Host& host, CibAccess& cib);

}  // namespace vigil::daemon
