#include "cib/validate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <string_view>

#include "common/ascii.h"

namespace vigil::cib {

namespace {

using std::string_view;

template <std::size_t N>
bool one_of(string_view s, const std::array<string_view, N>& values) {
  return std::find(values.begin(), values.end(), s) != values.end();
}

constexpr std::array<string_view, 7> kRoles = {"Started",  "Stopped",    "Slave",  "Master",
                                               "Promoted", "Unpromoted", "Unknown"};
constexpr std::array<string_view, 3> kOrderKinds = {"Mandatory", "Optional", "Serialize"};
constexpr std::array<string_view, 15> kOpNames = {
    "start",  "stop",         "monitor",      "promote", "demote",
    "notify", "migrate_to",   "migrate_from", "reload",  "reload-agent",
    "status", "validate-all", "meta-data",    "migrate", "methods"};
constexpr std::array<string_view, 8> kOnFail = {
    "ignore", "block", "stop", "restart", "standby", "fence", "restart-container", "demote"};
constexpr std::array<string_view, 8> kClasses = {"ocf",     "lsb",     "heartbeat", "stonith",
                                                 "service", "systemd", "upstart",   "nagios"};
constexpr std::array<string_view, 4> kActions = {"start", "stop", "promote", "demote"};
constexpr std::array<string_view, 10> kExprOps = {
    "lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined", "in_range", "date_spec"};
constexpr std::array<string_view, 5> kExprTypes = {"string", "number", "integer", "version",
                                                   "float"};
constexpr std::array<string_view, 8> kBooleans = {"true", "false", "yes", "no",
                                                  "on",   "off",   "1",   "0"};
constexpr std::array<string_view, 5> kResourceTags = {"primitive", "group", "clone", "master",
                                                      "bundle"};

std::string where(const pugi::xml_node& n) {
  std::string out = "<";
  out += n.name();
  if (const std::string_view id = n.attribute("id").value(); !id.empty()) {
    out += " id='";
    out += id;
    out += "'";
  }
  out += ">";
  return out;
}

// One pass over the document, collecting problems.
class Checker {
 public:
  explicit Checker(const Cib& cib) : cib_(cib) {
    check_values_ = string_view(cib.root().attribute("validate-with").value()) != "none";
  }

  std::vector<std::string> run() {
    collect_ids(cib_.configuration());
    check_tree(cib_.configuration());
    check_status(cib_.status());
    return std::move(problems_);
  }

 private:
  void report(const pugi::xml_node& n, const std::string& what) {
    problems_.push_back(where(n) + ": " + what);
  }

  void collect_ids(const pugi::xml_node& config) {
    for_each_element(config, [&](const pugi::xml_node& e) {
      if (!e.attribute("id")) return;
      string_view tag = e.name();
      // These carry an id that refers to another element, not an id of their own.
      if (tag == "resource_ref" || tag == "obj_ref" || tag == "role_ref") return;
      // <role id="r"/> in an acl_target or acl_group names the acl_role r.
      if (tag == "role" && string_view(e.parent().name()) != "acls") return;
      // A node's id is the cluster layer's node id, not a schema id: a remote node and its
      // connection resource share one.
      if (tag == "node") {
        if (!node_ids_.insert(e.attribute("id").value()).second)
          report(e, "node id is already used");
        return;
      }
      std::string id = e.attribute("id").value();
      if (!ids_.insert(id).second) report(e, "id '" + id + "' is already used");
      if (one_of(tag, kResourceTags) || tag == "template") resources_.insert(id);
      if (tag == "tag") tags_.insert(id);
      if (tag == "template") templates_.insert(id);
    });
  }

  void need_resource(const pugi::xml_node& n, const char* attr) {
    auto a = n.attribute(attr);
    if (!a) return;
    std::string id = a.value();
    if (!resources_.count(id) && !tags_.count(id)) {
      report(n, std::string(attr) + " '" + id + "' is not a resource");
    }
  }

  void need_value(const pugi::xml_node& n, const char* attr, bool (*known)(string_view),
                  const char* expected) {
    auto a = n.attribute(attr);
    if (!a || !check_values_) return;
    if (!known(a.value())) {
      report(n, std::string(attr) + " '" + a.value() + "' is not " + expected);
    }
  }

  void check_tree(const pugi::xml_node& config) {
    for_each_element(config, [&](const pugi::xml_node& e) { check_element(e); });
  }

  void check_element(const pugi::xml_node& n) {
    string_view tag = n.name();
    if (auto ref = n.attribute("id-ref"); ref && !ids_.count(ref.value())) {
      report(n, std::string("id-ref '") + ref.value() + "' names no element");
    }
    if (tag == "nvpair" && !n.attribute("name") && !n.attribute("id-ref")) {
      report(n, "nvpair without a name");
    }
    if (tag == "primitive" || tag == "template") return check_primitive(n);
    if (tag == "op") return check_op(n);
    if (tag == "group") return check_group(n);
    if (tag == "clone" || tag == "master") return check_clone(n);
    if (tag == "rsc_location") return check_location(n);
    if (tag == "rsc_colocation") return check_colocation(n);
    if (tag == "rsc_order") return check_order(n);
    if (tag == "rsc_ticket") return need_resource(n, "rsc");
    if (tag == "resource_ref") return need_resource(n, "id");
    if (tag == "resource_set") return check_resource_set(n);
    if (tag == "rule") return check_rule(n);
    if (tag == "expression") return check_expression(n);
    if (tag == "fencing-level") return check_fencing_level(n);
  }

  // Pacemaker's schema: one way to name the target, a positive index, and some devices.
  void check_fencing_level(const pugi::xml_node& n) {
    const int ways = !!n.attribute("target") + !!n.attribute("target-pattern") +
                     !!n.attribute("target-attribute");
    if (ways != 1)
      report(n,
             "a fencing-level names its target one way: target, target-pattern "
             "or target-attribute with target-value");
    if (n.attribute("target-attribute") && !n.attribute("target-value"))
      report(n, "target-attribute needs a target-value");
    const string_view index = n.attribute("index").value();
    if (index.empty() || index[0] == '0' ||
        !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }))
      report(n, "index '" + std::string(index) + "' is not a positive number");
    // A device that does not exist is the fencer's problem when it runs, not the schema's.
    if (string_view(n.attribute("devices").value()).empty())
      report(n, "a fencing-level needs devices");
  }

  void check_primitive(const pugi::xml_node& n) {
    if (!n.attribute("id")) report(n, "a resource needs an id");
    if (auto tmpl = n.attribute("template")) {
      if (!templates_.count(tmpl.value())) {
        report(n, std::string("template '") + tmpl.value() + "' does not exist");
      }
      return;
    }
    if (!check_values_) return;
    string_view cls = n.attribute("class").value();
    if (!is_resource_class(cls)) {
      report(n, "class '" + std::string(cls) +
                    "' is not one of ocf, lsb, systemd, service, "
                    "stonith, upstart, nagios, heartbeat");
    }
    if (cls == "ocf" && string_view(n.attribute("provider").value()).empty()) {
      report(n, "an ocf resource needs a provider");
    }
    if (cls != "ocf" && n.attribute("provider")) {
      report(n, "only ocf resources have a provider");
    }
    if (string_view(n.attribute("type").value()).empty()) report(n, "a resource needs a type");
  }

  void check_op(const pugi::xml_node& n) {
    need_value(n, "name", is_op_name, "a known operation name");
    if (check_values_ && !n.attribute("name")) report(n, "an op needs a name");
    if (check_values_ && !n.attribute("interval")) report(n, "an op needs an interval");
    need_value(n, "role", is_role, "a role (Started, Stopped, Promoted, Unpromoted…)");
    need_value(
        n, "on-fail", [](string_view s) { return one_of(s, kOnFail); },
        "one of ignore, block, stop, restart, standby, fence, restart-container, demote");
  }

  void check_group(const pugi::xml_node& n) {
    for (auto c : n.children()) {
      string_view tag = c.name();
      if (one_of(tag, kResourceTags) && tag != "primitive") {
        report(n, "a group holds only primitives, not <" + std::string(tag) + ">");
      }
    }
  }

  void check_clone(const pugi::xml_node& n) {
    int children = 0;
    for (auto c : n.children()) {
      string_view tag = c.name();
      if (tag == "primitive" || tag == "group") ++children;
      if (tag == "clone" || tag == "master" || tag == "bundle") {
        report(n, "a clone holds a primitive or a group, not <" + std::string(tag) + ">");
      }
    }
    if (children != 1) report(n, "a clone holds exactly one primitive or group");
  }

  void need_score(const pugi::xml_node& n) {
    need_value(n, "score", is_score, "a score (an integer, INFINITY or -INFINITY)");
  }

  void check_location(const pugi::xml_node& n) {
    need_resource(n, "rsc");
    need_score(n);
    need_value(n, "role", is_role, "a role");
    const bool has_rsc =
        n.attribute("rsc") || n.attribute("rsc-pattern") || n.child("resource_set");
    if (!has_rsc) report(n, "a location constraint needs rsc, rsc-pattern or a resource set");
    const bool has_place =
        (n.attribute("node") && (n.attribute("score") || n.attribute("score-attribute"))) ||
        n.child("rule");
    if (!has_place) report(n, "a location constraint needs a score and a node, or rules");
  }

  void check_colocation(const pugi::xml_node& n) {
    need_resource(n, "rsc");
    need_resource(n, "with-rsc");
    need_score(n);
    need_value(n, "rsc-role", is_role, "a role");
    need_value(n, "with-rsc-role", is_role, "a role");
    if (!n.child("resource_set") && !(n.attribute("rsc") && n.attribute("with-rsc"))) {
      report(n, "a colocation needs rsc and with-rsc, or resource sets");
    }
  }

  void check_order(const pugi::xml_node& n) {
    need_resource(n, "first");
    need_resource(n, "then");
    need_value(n, "kind", is_order_kind, "one of Mandatory, Optional, Serialize");
    need_score(n);
    auto is_action = [](string_view s) { return one_of(s, kActions); };
    need_value(n, "first-action", is_action, "one of start, stop, promote, demote");
    need_value(n, "then-action", is_action, "one of start, stop, promote, demote");
    need_value(
        n, "symmetrical", [](string_view s) { return one_of(s, kBooleans); }, "a boolean");
    if (!n.child("resource_set") && !(n.attribute("first") && n.attribute("then"))) {
      report(n, "an order needs first and then, or resource sets");
    }
  }

  void check_resource_set(const pugi::xml_node& n) {
    need_value(n, "role", is_role, "a role");
    need_value(
        n, "action", [](string_view s) { return one_of(s, kActions); },
        "one of start, stop, promote, demote");
    need_score(n);
    if (!n.child("resource_ref")) report(n, "a resource set needs at least one resource_ref");
  }

  void check_rule(const pugi::xml_node& n) {
    need_score(n);
    need_value(n, "role", is_role, "a role");
    need_value(
        n, "boolean-op", [](string_view s) { return s == "and" || s == "or"; }, "and or or");
  }

  void check_expression(const pugi::xml_node& n) {
    need_value(
        n, "operation", [](string_view s) { return one_of(s, kExprOps); },
        "one of lt, gt, lte, gte, eq, ne, defined, not_defined");
    need_value(
        n, "type", [](string_view s) { return one_of(s, kExprTypes); },
        "one of string, number, integer, version");
  }

  // Pacemaker's schema leaves the status section open; only what the scheduler needs is checked.
  void check_status(const pugi::xml_node& status) {
    for (auto state : status.children("node_state")) {
      for (auto op : state.select_nodes("lrm/lrm_resources/lrm_resource/lrm_rsc_op")) {
        auto e = op.node();
        if (!e.attribute("id") || !e.attribute("operation")) {
          report(e, "an lrm_rsc_op needs an id and an operation");
        }
      }
    }
  }

  const Cib& cib_;
  bool check_values_ = true;
  std::set<std::string, std::less<>> ids_, node_ids_, resources_, tags_, templates_;
  std::vector<std::string> problems_;
};

}  // namespace

bool is_score(std::string_view s) {
  if (s.empty()) return false;
  if (ascii_iequals(s, "INFINITY") || ascii_iequals(s, "+INFINITY") ||
      ascii_iequals(s, "-INFINITY"))
    return true;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.size() - i > 18) return false;
  return std::all_of(s.begin() + static_cast<long>(i), s.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_role(std::string_view s) {
  return one_of(s, kRoles);
}
bool is_order_kind(std::string_view s) {
  return one_of(s, kOrderKinds);
}
bool is_op_name(std::string_view s) {
  return one_of(s, kOpNames);
}
bool is_resource_class(std::string_view s) {
  return one_of(s, kClasses);
}

std::vector<std::string> problems(const Cib& cib) {
  return Checker(cib).run();
}

Result<void> validate(const Cib& cib) {
  auto found = problems(cib);
  if (found.empty()) return {};
  std::string text;
  for (const auto& p : found) text += (text.empty() ? "" : "\n") + p;
  return fail(text);
}

}  // namespace vigil::cib
