// Which services vigild runs, in start order: each may use the ones built before it.
#include "daemon/cib_access.h"
#include "daemon/device_service.h"
#include "daemon/history_service.h"
#include "daemon/http_service.h"
#include "daemon/join_service.h"
#include "daemon/loop_watch.h"
#include "daemon/service.h"

namespace vigil::daemon {

Result<Services> make_services(Host& host) {
  Services services;
  // The CIB first: the HTTP service reads it. The vector owns it for the daemon's life, so the
  // reference kept stays valid.
  auto cib = make_cib_service(host);
  services.cib = cib.get();
  services.all.push_back(std::move(cib));
  auto history = make_history_service(host, *services.cib);
  HistoryService& journal = *history;
  services.all.push_back(std::move(history));
  auto controller = make_controller_service(host, journal);
  services.controller = controller.get();
  services.all.push_back(std::move(controller));
  services.all.push_back(make_loop_watch(host));
  services.all.push_back(make_join_service(host));
  if (host.config().quorum.device) {
    auto device = make_device_service(host);
    if (!device) return device.error();
    services.all.push_back(std::move(*device));
  }
  if (host.options().http_actions && host.options().http.empty())
    return fail("--http-actions: the actions are the status page's; give --http ADDRESS:PORT too");
  if (!host.options().http.empty()) {
    auto http = make_http_service(host, *services.cib, journal);
    if (!http) return http.error();
    services.all.push_back(std::move(*http));
  }
  return services;
}

}  // namespace vigil::daemon
