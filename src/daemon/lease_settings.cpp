#include "daemon/lease_settings.h"

#include "controller/status_ops.h"
#include "scheduler/options.h"
#include "scheduler/model.h"

namespace vigil::daemon {

namespace {

// Pacemaker's durations, and a leading minus for stonith-watchdog-timeout's negative values.
std::optional<Millis> signed_duration(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  auto ms = scheduler::parse_interval_ms(negative ? text.substr(1) : text);
  if (!ms) return std::nullopt;
  return negative ? -*ms : *ms;
}

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
  return w;
}

node::FencingOptions fencing_options(const cib::Cib& cib) {
  node::FencingOptions o;
  o.stonith_enabled = scheduler::is_true(controller::cluster_option(cib, "stonith-enabled"));
  o.no_quorum_policy = controller::cluster_option(cib, "no-quorum-policy");
  for (const char* name : {"stonith-watchdog-timeout", "fencing-watchdog-timeout"}) {
    auto value = controller::cluster_option(cib, name);
    if (value == scheduler::option_default(name)) continue;
    o.timeout_name = name;
    o.timeout_text = value;
  }
  o.timeout = signed_duration(o.timeout_text);
  return o;
}

Result<void> check_change(const config::ClusterConfig& cfg, const cib::Cib& current,
                          const cib::Cib& next) {
  const auto options = fencing_options(next);
  if (same(options, fencing_options(current))) return {};
  auto checked = node::check_watchdog_fencing(watchdog_config(cfg), options);
  if (!checked.ok()) return checked.error();
  return {};
}

}  // namespace vigil::daemon
