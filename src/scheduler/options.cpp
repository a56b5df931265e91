#include "scheduler/options.h"

#include <algorithm>

#include "common/common.h"

namespace vigil::scheduler {

using T = OptionType;

const std::vector<ClusterOption>& cluster_options() {
  static const std::vector<ClusterOption> options = {
      {"no-quorum-policy", T::Select, "stop", {"stop", "freeze", "ignore", "demote", "suicide"}},
      {"symmetric-cluster", T::Boolean, "true", {}},
      {"maintenance-mode", T::Boolean, "false", {}},
      {"start-failure-is-fatal", T::Boolean, "true", {}},
      {"enable-startup-probes", T::Boolean, "true", {}},
      {"shutdown-lock", T::Boolean, "false", {}},
      {"shutdown-lock-limit", T::Time, "0", {}},
      {"stonith-enabled", T::Boolean, "true", {}},
      {"stonith-action", T::Select, "reboot", {"reboot", "off", "poweroff"}},
      {"stonith-timeout", T::Time, "60s", {}},
      {"have-watchdog", T::Boolean, "false", {}},
      {"concurrent-fencing", T::Boolean, "false", {}},
      {"startup-fencing", T::Boolean, "true", {}},
      {"priority-fencing-delay", T::Time, "0", {}},
      {"node-pending-timeout", T::Time, "0", {}},
      {"cluster-delay", T::Time, "60s", {}},
      {"batch-limit", T::Integer, "0", {}},
      {"migration-limit", T::Integer, "-1", {}},
      {"stop-all-resources", T::Boolean, "false", {}},
      {"stop-orphan-resources", T::Boolean, "true", {}},
      {"stop-orphan-actions", T::Boolean, "true", {}},
      {"remove-after-stop", T::Boolean, "false", {}},
      {"pe-error-series-max", T::Integer, "-1", {}},
      {"pe-warn-series-max", T::Integer, "5000", {}},
      {"pe-input-series-max", T::Integer, "4000", {}},
      {"node-health-strategy",
       T::Select,
       "none",
       {"none", "migrate-on-red", "only-green", "progressive", "custom"}},
      {"node-health-base", T::Integer, "0", {}},
      {"node-health-green", T::Integer, "0", {}},
      {"node-health-yellow", T::Integer, "0", {}},
      {"node-health-red", T::Integer, "-INFINITY", {}},
      {"placement-strategy",
       T::Select,
       "default",
       {"default", "utilization", "minimal", "balanced"}},
      {"dc-version", T::Text, "none", {}},
      {"cluster-infrastructure", T::Text, "corosync", {}},
      {"cluster-name", T::Text, "", {}},
      {"dc-deadtime", T::Time, "20s", {}},
      {"cluster-recheck-interval", T::Time, "15min", {}},
      {"load-threshold", T::Percentage, "80%", {}},
      {"node-action-limit", T::Integer, "0", {}},
      {"fence-reaction", T::Select, "stop", {"stop", "panic"}},
      {"election-timeout", T::Time, "2min", {}},
      {"shutdown-escalation", T::Time, "20min", {}},
      {"join-integration-timeout", T::Time, "3min", {}},
      {"join-finalization-timeout", T::Time, "30min", {}},
      {"transition-delay", T::Time, "0s", {}},
      {"crmd-integration-timeout", T::Time, "3min", {}},  // the deprecated names of the three above
      {"crmd-finalization-timeout", T::Time, "30min", {}},
      {"crmd-transition-delay", T::Time, "0s", {}},
      {"stonith-watchdog-timeout", T::Text, "0", {}},  // a duration, or negative: derived from SBD
      {"fencing-watchdog-timeout", T::Text, "0", {}},  // Pacemaker 3's name of the one above
      {"stonith-max-attempts", T::Integer, "10", {}},
      {"enable-acl", T::Boolean, "false", {}},
      {"cluster-ipc-limit", T::Integer, "500", {}},
      {"last-lrm-refresh", T::Text, "", {}},
  };
  return options;
}

namespace {

const ClusterOption* find_in(const std::vector<ClusterOption>& options, std::string_view name) {
  auto it = std::find_if(options.begin(), options.end(),
                         [&](const ClusterOption& o) { return o.name == name; });
  return it == options.end() ? nullptr : &*it;
}

}  // namespace

const ClusterOption* find_cluster_option(std::string_view name) {
  return find_in(cluster_options(), name);
}

const std::vector<ClusterOption>& resource_meta_options() {
  static const std::vector<ClusterOption> options = {
      {"priority", T::Integer, "0", {}},
      {"critical", T::Boolean, "true", {}},
      {"target-role",
       T::Select,
       "Started",
       {"Stopped", "Started", "Unpromoted", "Promoted", "Slave", "Master"}},
      {"is-managed", T::Boolean, "true", {}},
      {"maintenance", T::Boolean, "false", {}},
      {"resource-stickiness", T::Integer, "0", {}},
      {"requires", T::Select, "fencing", {"nothing", "quorum", "fencing", "unfencing"}},
      {"migration-threshold", T::Integer, "INFINITY", {}},
      {"failure-timeout", T::Time, "0", {}},
      {"multiple-active",
       T::Select,
       "stop_start",
       {"block", "stop_only", "stop_start", "stop_unexpected"}},
      {"allow-migrate", T::Boolean, "false", {}},
      {"allow-unhealthy-nodes", T::Boolean, "false", {}},
      {"container-attribute-target", T::Text, "", {}},
      {"remote-node", T::Text, "", {}},
      {"remote-addr", T::Text, "", {}},
      {"remote-port", T::Integer, "3121", {}},
      {"remote-connect-timeout", T::Time, "60s", {}},
      {"remote-allow-migrate", T::Boolean, "true", {}},
      // Clones and promotable clones.
      {"globally-unique", T::Boolean, "false", {}},
      {"clone-max", T::Integer, "", {}},
      {"clone-node-max", T::Integer, "1", {}},
      {"clone-min", T::Integer, "0", {}},
      {"notify", T::Boolean, "false", {}},
      {"ordered", T::Boolean, "false", {}},
      {"interleave", T::Boolean, "false", {}},
      {"promotable", T::Boolean, "false", {}},
      {"promoted-max", T::Integer, "1", {}},
      {"promoted-node-max", T::Integer, "1", {}},
      {"master-max", T::Integer, "1", {}},
      {"master-node-max", T::Integer, "1", {}},
      // Groups (deprecated, still read).
      {"collocated", T::Boolean, "true", {}},
  };
  return options;
}

const ClusterOption* find_resource_meta(std::string_view name) {
  return find_in(resource_meta_options(), name);
}

std::string_view option_default(std::string_view name) {
  const auto* option = find_cluster_option(name);
  VIGIL_ASSERT(option != nullptr);
  return option->default_value;
}

}  // namespace vigil::scheduler
