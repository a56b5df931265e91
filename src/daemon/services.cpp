// Which services vigild runs, in start order: each may use the ones built before it.
#include "daemon/cib_access.h"
#include "daemon/http_service.h"
#include "daemon/loop_watch.h"
#include "daemon/service.h"

namespace vigil::daemon {

Result<std::vector<std::unique_ptr<Service>>> make_services(Host& host) {
  std::vector<std::unique_ptr<Service>> services;
  // The CIB first: the controller reads and changes it. The vector owns it for the daemon's life,
  // so the reference the controller keeps stays valid.
  auto cib = make_cib_service(host);
  CibService& cib_access = *cib;
  services.push_back(std::move(cib));
  services.push_back(make_controller_service(host, cib_access));
  services.push_back(make_loop_watch(host));
  if (!host.options().http.empty()) {
    auto http = make_http_service(host, cib_access);
    if (!http) return http.error();
    services.push_back(std::move(*http));
  }
  return services;
}

}  // namespace vigil::daemon
