// options: Pacemaker's cluster options — the crm_config properties — with their types, defaults
// and allowed values: the one table the scheduler reads its defaults from and `vigil configure
// verify` checks values against. The names and defaults are those `pacemaker-schedulerd`,
// `-controld` and `-based metadata` print (Pacemaker 2.1), plus the deprecated names it still
// reads and the properties its tools write themselves.
#pragma once

#include <string_view>
#include <vector>

namespace vigil::scheduler {

enum class OptionType { Boolean, Integer, Time, Percentage, Select, Text };

struct ClusterOption {
  std::string_view name;
  OptionType type;
  std::string_view default_value;        // Pacemaker's; empty when it has none
  std::vector<std::string_view> values;  // those a Select allows
};

const std::vector<ClusterOption>& cluster_options();

// The option of that name, or nullptr for a name Pacemaker does not know.
const ClusterOption* find_cluster_option(std::string_view name);

// Pacemaker's resource meta-attributes (Pacemaker Explained, "Resource Meta-Attributes", and the
// clone and promotable options), typed as the cluster options are, for `vigil configure verify`.
const std::vector<ClusterOption>& resource_meta_options();
const ClusterOption* find_resource_meta(std::string_view name);

// Pacemaker's default of a known option (asserts it is in the table: a name of our own code).
std::string_view option_default(std::string_view name);

}  // namespace vigil::scheduler
