// Which services vigild runs, in start order: each may use the ones built before it.
#include "daemon/service.h"

namespace vigil::daemon {

std::vector<std::unique_ptr<Service>> make_services(Host& host) {
  std::vector<std::unique_ptr<Service>> services;
  (void)host;
  return services;
}

}  // namespace vigil::daemon
