#include "cli/verify.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>

#include "cib/validate.h"
#include "common/ascii.h"
#include "scheduler/model.h"
#include "scheduler/options.h"

namespace vigil::cli {

namespace {

namespace ex = vigil::executor;
using Severity = Finding::Severity;

// ---- cluster options ----------------------------------------------------------------------

using scheduler::ClusterOption;
using Type = scheduler::OptionType;

bool is_boolean(std::string_view v) {
  static const std::set<std::string, std::less<>> words = {"true", "on",  "yes", "y",  "1",
                                                           "false", "off", "no",  "n", "0"};
  return words.count(ascii_lower(v)) != 0;
}

bool is_duration(std::string_view v) {
  return !v.empty() && scheduler::parse_interval_ms(v).has_value();
}

bool is_percentage(std::string_view v) {
  if (!v.empty() && v.back() == '%') v.remove_suffix(1);
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// Why `value` does not fit `option`, or nothing when it does.
std::optional<std::string> misfit(const ClusterOption& option, const std::string& value) {
  switch (option.type) {
    case Type::Boolean:
      if (!is_boolean(value)) return "not a boolean (true or false)";
      break;
    case Type::Integer:
      if (!cib::is_score(value)) return "not an integer";
      break;
    case Type::Time:
      if (!is_duration(value)) return "not a duration (such as 60s, 500ms, 15min)";
      break;
    case Type::Percentage:
      if (!is_percentage(value)) return "not a percentage (such as 80%)";
      break;
    case Type::Select: {
      std::string list;
      for (auto v : option.values) {
        if (ascii_iequals(v, value)) return std::nullopt;
        list += (list.empty() ? "" : ", ") + std::string(v);
      }
      return "not one of " + list;
    }
    case Type::Text:
      break;
  }
  return std::nullopt;
}

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The name of `options` nearest to `name` when it is a typo of one (two edits at most).
std::string closest(std::string_view name, const std::vector<ClusterOption>& options) {
  std::string best;
  std::size_t best_distance = 3;  // a typo, not another word
  for (const auto& o : options) {
    const auto d = distance(name, o.name);
    if (d < best_distance) {
      best_distance = d;
      best = o.name;
    }
  }
  return best;
}

void check_cluster_options(const cib::Cib& cib, std::vector<Finding>& out) {
  for (auto set : cib.configuration().child("crm_config").children("cluster_property_set")) {
    for (auto nv : set.children("nvpair")) {
      if (auto f =
              check_cluster_option(nv.attribute("name").value(), nv.attribute("value").value()))
        out.push_back(std::move(*f));
    }
  }
}

// ---- durations ----------------------------------------------------------------------------

void check_durations(const pugi::xml_node& owner, const std::string& what,
                     std::initializer_list<const char*> names, std::vector<Finding>& out) {
  for (const char* name : names) {
    auto a = owner.attribute(name);
    if (a && !is_duration(a.value())) {
      out.push_back({Severity::Error, what + ": " + name + "=" + a.value() + ": '" + a.value() +
                                          "' is not a duration (such as 10s, 500ms, 2min)"});
    }
  }
}

// Meta attributes that are durations, in a resource's or a defaults' sets.
void check_duration_pairs(const pugi::xml_node& set, const std::string& what,
                          std::initializer_list<std::string_view> names,
                          std::vector<Finding>& out) {
  for (auto nv : set.children("nvpair")) {
    const std::string_view name = nv.attribute("name").value();
    const std::string value = nv.attribute("value").value();
    if (std::find(names.begin(), names.end(), name) == names.end() || is_duration(value)) continue;
    out.push_back({Severity::Error, what + ": " + std::string(name) + "=" + value + ": '" + value +
                                        "' is not a duration (such as 10s, 500ms, 2min)"});
  }
}

bool is_score_with_fraction(std::string_view v) {
  const auto dot = v.find('.');
  if (dot == std::string_view::npos || dot + 1 == v.size()) return false;
  const auto fraction = v.substr(dot + 1);
  return cib::is_score(v.substr(0, dot)) &&
         std::all_of(fraction.begin(), fraction.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// A resource's (or rsc_defaults') meta attributes: a value Pacemaker would not read as its type
// is refused; a name one typo away from one of Pacemaker's is warned about (agents may read other
// names through OCF_RESKEY_CRM_meta_*, so an unknown name alone is no mistake).
void check_meta(const pugi::xml_node& set, const std::string& what, std::vector<Finding>& out) {
  for (auto nv : set.children("nvpair")) {
    const std::string name = nv.attribute("name").value();
    const std::string value = nv.attribute("value").value();
    if (const auto* known = scheduler::find_resource_meta(name)) {
      // "#default" stands for the default (Pacemaker's tests write it), and a score with a
      // fraction ("1.0") is read as its integer part.
      if (value == "#default" || (known->type == Type::Integer && is_score_with_fraction(value)))
        continue;
      if (auto why = misfit(*known, value))
        out.push_back(
            {Severity::Error, what + ": " + name + "=" + value + ": '" + value + "' is " + *why});
    } else if (const std::string near = closest(name, scheduler::resource_meta_options());
               !near.empty()) {
      out.push_back({Severity::Warning, what + ": meta " + name + "=" + value +
                                            ": unknown meta attribute (did you mean " + near +
                                            "?)"});
    }
  }
}

// An alert's and its recipients' meta attributes: Pacemaker reads timeout as a duration.
void check_alerts(const pugi::xml_node& alerts, std::vector<Finding>& out) {
  for (auto alert : alerts.children("alert")) {
    const std::string what = "alert " + std::string(alert.attribute("id").value());
    for (auto set : alert.children("meta_attributes"))
      check_duration_pairs(set, what, {"timeout"}, out);
    for (auto recipient : alert.children("recipient")) {
      for (auto set : recipient.children("meta_attributes"))
        check_duration_pairs(set, what + " recipient " + recipient.attribute("id").value(),
                             {"timeout"}, out);
    }
  }
}

// ---- primitives against their agents ------------------------------------------------------

// crmsh's checks of a primitive's operations against its agent's advice, as warnings: an action
// the agent does not declare, a timeout below the advised one (the op's own, else op_defaults'
// for start and stop, which every primitive has), a monitor without an interval or with one
// another monitor has, an interval on start, stop, promote or demote.
std::string_view attr_of(const ex::ActionInfo& a, std::string_view name) {
  for (const auto& [key, value] : a.attributes)
    if (key == name) return value;
  return {};
}

// The role's names before and after Pacemaker 2.1 are one role.
bool same_role(std::string_view a, std::string_view b) {
  const auto norm = [](std::string_view r) -> std::string_view {
    if (r == "Master") return "Promoted";
    if (r == "Slave") return "Unpromoted";
    return r;
  };
  return norm(a) == norm(b);
}

// The agent's advice for an op: a monitor's by its role, else by its depth, else the first
// monitor's.
const ex::ActionInfo* advice_for(const ex::AgentMetadata& md, const pugi::xml_node& op) {
  const std::string_view name = op.attribute("name").value();
  if (name != "monitor") return md.action(name);
  const std::string_view role = op.attribute("role").value();
  std::string_view depth;  // crmsh's depth=N is the op's OCF_CHECK_LEVEL
  for (auto set : op.children("instance_attributes"))
    if (auto nv = set.find_child_by_attribute("nvpair", "name", "OCF_CHECK_LEVEL"))
      depth = nv.attribute("value").value();
  const ex::ActionInfo* first = nullptr;
  for (const auto& a : md.actions) {
    if (a.name != "monitor") continue;
    if (first == nullptr) first = &a;
    if (!role.empty() && same_role(attr_of(a, "role"), role)) return &a;
    if (role.empty() && !depth.empty() && attr_of(a, "depth") == depth) return &a;
  }
  return first;
}

void check_ops(const pugi::xml_node& p, const ex::AgentMetadata& md,
               const std::string& default_timeout, const std::string& what,
               std::vector<Finding>& out) {
  const bool stonith = md.agent.rfind("stonith:", 0) == 0;
  const auto warn = [&](const std::string& text) {
    out.push_back({Severity::Warning, what + ": " + text});
  };
  const auto check_timeout = [&](const std::string& name, const char* given,
                                 const ex::ActionInfo* advice) {
    const bool own = given != nullptr && *given != '\0';
    const std::string timeout = own ? given : default_timeout;
    if (advice == nullptr || advice->timeout == 0 || timeout.empty()) return;
    const auto ms = scheduler::parse_interval_ms(timeout);
    if (ms && *ms < advice->timeout)
      warn(std::string(own ? "specified" : "default") + " timeout " + timeout + " for " + name +
           " is smaller than the advised " + std::string(attr_of(*advice, "timeout")));
  };
  std::set<std::string> seen;
  std::set<std::int64_t> monitor_intervals;
  for (auto op : p.child("operations").children("op")) {
    const std::string name = op.attribute("name").value();
    seen.insert(name);
    if (stonith && (name == "start" || name == "stop")) continue;
    if (md.action(name) == nullptr) {
      warn("action '" + name + "' not found in the agent's meta-data");
      continue;
    }
    const ex::ActionInfo* advice = advice_for(md, op);
    const std::string interval = op.attribute("interval").value();
    const std::int64_t every = scheduler::parse_interval_ms(interval).value_or(0);
    const std::string advised =
        advice == nullptr ? "" : ", advised is " + std::string(attr_of(*advice, "interval"));
    if (name == "monitor" && every == 0) {
      warn("interval in monitor should be larger than 0" + advised);
    } else if (name == "monitor" && !monitor_intervals.insert(every).second) {
      warn("interval in monitor must be unique" + advised);
    } else if (every != 0 && (name == "start" || name == "stop" || name == "promote" ||
                              name == "demote")) {
      warn("the interval of " + name + " is " + interval + ", it must be 0");
    }
    check_timeout(name, op.attribute("timeout").value(), advice);
  }
  if (stonith) return;
  for (const char* required : {"start", "stop"})
    if (seen.count(required) == 0) check_timeout(required, nullptr, md.action(required));
}

void check_primitive(const pugi::xml_node& p, ex::MetadataCache& agents,
                     const std::string& default_timeout, std::vector<Finding>& out) {
  const std::string what = "primitive " + std::string(p.attribute("id").value());
  for (auto op : p.child("operations").children("op")) {
    check_durations(op, what + ": op " + op.attribute("name").value(),
                    {"interval", "timeout", "start-delay"}, out);
  }
  for (auto set : p.children("meta_attributes")) check_meta(set, what, out);
  if (!p.attribute("class")) return;  // from a template: the template names the agent
  auto spec = ex::AgentSpec::of(p.attribute("class").value(), p.attribute("provider").value(),
                                p.attribute("type").value());
  if (!spec) {
    out.push_back({Severity::Forceable, what + ": " + spec.error().message});
    return;
  }
  auto md = agents.get(*spec);
  if (!md) {
    out.push_back({Severity::Forceable, what + ": " + spec->str() +
                                             ": got no meta-data, does this agent exist? (" +
                                             md.error().message + ")"});
    return;
  }
  std::map<std::string, std::string> params;
  for (auto set : p.children("instance_attributes")) {
    for (auto nv : set.children("nvpair"))
      params[nv.attribute("name").value()] = nv.attribute("value").value();
  }
  if (auto checked = ex::check_params(**md, params); !checked)
    out.push_back({Severity::Forceable, what + ": " + checked.error().message});
  check_ops(p, **md, default_timeout, what, out);
}

}  // namespace

ex::Settings agent_settings() {
  ex::Settings s;
  for (const char* name : {"OCF_ROOT", "VIGIL_OCF_ROOT"}) {
    if (const char* root = std::getenv(name); root && *root) s.ocf_root = root;
  }
  if (const char* fence = std::getenv("VIGIL_FENCE_DIR"); fence && *fence) s.fence_dir = fence;
  return s;
}

std::optional<Finding> check_cluster_option(const std::string& name, const std::string& value) {
  const auto* known = scheduler::find_cluster_option(name);
  if (known == nullptr) {
    const std::string near = closest(name, scheduler::cluster_options());
    return Finding{Severity::Warning,
                   "property " + name + "=" + value + ": unknown cluster option" +
                       (near.empty() ? "" : " (did you mean " + near + "?)") +
                       "; remove it with: vigil configure property --delete " + name};
  }
  if (auto why = misfit(*known, value))
    return Finding{Severity::Error,
                   "property " + name + "=" + value + ": '" + value + "' is " + *why};
  return std::nullopt;
}

std::vector<Finding> check_objects(const cib::Cib& cib, ex::MetadataCache& agents) {
  std::vector<Finding> out;
  check_cluster_options(cib, out);
  const auto config = cib.configuration();
  std::string default_timeout;  // op_defaults' timeout, as crmsh reads it for start and stop
  for (auto set : config.child("op_defaults").children("meta_attributes"))
    if (auto nv = set.find_child_by_attribute("nvpair", "name", "timeout"))
      default_timeout = nv.attribute("value").value();
  cib::for_each_element(config.child("resources"), [&](const pugi::xml_node& n) {
    const std::string tag = n.name();
    if (tag == "primitive") {
      check_primitive(n, agents, default_timeout, out);
    } else if (tag == "group" || tag == "clone" || tag == "master" || tag == "bundle") {
      for (auto set : n.children("meta_attributes"))
        check_meta(set, tag + " " + n.attribute("id").value(), out);
    }
  });
  for (auto set : config.child("rsc_defaults").children("meta_attributes"))
    check_meta(set, "rsc_defaults", out);
  for (auto set : config.child("op_defaults").children("meta_attributes"))
    check_duration_pairs(set, "op_defaults", {"interval", "timeout", "start-delay"}, out);
  check_alerts(config.child("alerts"), out);
  return out;
}

namespace {

// Whether the resources hold a primitive, of class `cls` when one is named (groups and clones
// included).
bool has_primitive(const cib::Cib& cib, std::string_view cls = {}) {
  return !cib.configuration().child("resources").find_node([&](const pugi::xml_node& n) {
    return std::string_view(n.name()) == "primitive" &&
           (cls.empty() || std::string_view(n.attribute("class").value()) == cls);
  }).empty();
}

// stonith-enabled is true by default, and without a fence device or watchdog fencing Pacemaker
// starts no resource at all.
std::optional<Finding> stonith_without_device(const cib::Cib& cib, Severity severity) {
  std::map<std::string, std::string> options;
  for (auto set : cib.configuration().child("crm_config").children("cluster_property_set")) {
    for (auto nv : set.children("nvpair"))
      options[nv.attribute("name").value()] = nv.attribute("value").value();
  }
  const auto stonith = options.find("stonith-enabled");
  if (stonith != options.end() && !scheduler::is_true(stonith->second)) return std::nullopt;
  if (scheduler::watchdog_fencing(options) || has_primitive(cib, "stonith")) return std::nullopt;
  return Finding{severity,
                 "stonith-enabled is true but no stonith resource is configured: no resource "
                 "will start (configure a fence device, or property stonith-enabled=false)"};
}

}  // namespace

std::vector<Finding> verify(const cib::Cib& cib, ex::MetadataCache& agents) {
  auto out = check_objects(cib, agents);
  if (auto f = stonith_without_device(cib, Severity::Error)) out.push_back(*f);
  return out;
}

std::vector<Finding> check_cluster(const cib::Cib& cib) {
  if (!has_primitive(cib)) return {};
  if (auto f = stonith_without_device(cib, Severity::Forceable)) return {*f};
  return {};
}

std::vector<Finding> new_findings(const std::vector<Finding>& before,
                                  const std::vector<Finding>& after) {
  std::vector<Finding> out;
  for (const auto& f : after) {
    if (std::find(before.begin(), before.end(), f) == before.end()) out.push_back(f);
  }
  return out;
}

}  // namespace vigil::cli
