#include "daemon/lease_settings.h"

#include "node/controller_part.h"

namespace vigil::daemon {

namespace {

bool same(const node::FencingOptions& a, const node::FencingOptions& b) {
  return a.stonith_enabled == b.stonith_enabled && a.timeout_text == b.timeout_text &&
         a.no_quorum_policy == b.no_quorum_policy;
}

}  // namespace

node::WatchdogConfig watchdog_config(const config::ClusterConfig& cfg) {
  totem::TotemSettings t;
  t.token = cfg.totem.runtime_token;
  t.consensus = cfg.totem.consensus;
  node::WatchdogConfig w;
  w.origin = cfg.origin;
  w.device = cfg.resources.watchdog_device;
  w.watchdog_timeout = cfg.resources.watchdog_timeout;
  w.times = node::LeaseTimes::of(t.resolved(), w.watchdog_timeout);
  w.quorum_provider = !cfg.quorum.provider.empty();
  w.nodes = cfg.nodelist.size();
  w.auto_tie_breaker = cfg.quorum.auto_tie_breaker;
  w.quorum_device = cfg.quorum.device.has_value();
  return w;
}

Result<void> check_change(const config::ClusterConfig& cfg, const cib::Cib& current,
                          const cib::Cib& next) {
  const auto options = node::fencing_options(next);
  if (same(options, node::fencing_options(current))) return {};
  auto checked = node::check_watchdog_fencing(watchdog_config(cfg), options);
  if (!checked.ok()) return checked.error();
  return {};
}

}  // namespace vigil::daemon
