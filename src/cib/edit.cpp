#include "cib/edit.h"

#include <algorithm>
#include <set>

#include "common/xml_text.h"

namespace vigil::cib {

namespace {

std::string nvpair_xml(const std::string& id, const std::string& name, const std::string& value) {
  pugi::xml_document doc;
  auto nv = doc.append_child("nvpair");
  nv.append_attribute("id") = id.c_str();
  nv.append_attribute("name") = name.c_str();
  nv.append_attribute("value") = value.c_str();
  return element_xml(nv);
}

// crmsh's ids: <owner>-<set> for the set, <set>-<name> for the pair ("vip-meta_attributes",
// "vip-meta_attributes-target-role"); nodes' sets are "nodes-<id>".
std::string set_id_for(const pugi::xml_node& owner, const std::string& set_tag) {
  const std::string id = owner.attribute("id").value();
  if (std::string_view(owner.name()) == "node") return "nodes-" + id;
  return id + "-" + set_tag;
}

// crm_resource's constraint: a plain node score, or with a lifetime a rule on #uname that
// holds until `end`.
std::string location_xml(const std::string& id, const std::string& rsc, const std::string& node,
                         const std::string& score, const std::string& end) {
  pugi::xml_document doc;
  auto loc = doc.append_child("rsc_location");
  loc.append_attribute("id") = id.c_str();
  loc.append_attribute("rsc") = rsc.c_str();
  loc.append_attribute("role") = "Started";
  if (end.empty()) {
    loc.append_attribute("node") = node.c_str();
    loc.append_attribute("score") = score.c_str();
    return element_xml(loc);
  }
  auto rule = loc.append_child("rule");
  rule.append_attribute("id") = (id + "-rule").c_str();
  rule.append_attribute("score") = score.c_str();
  rule.append_attribute("boolean-op") = "and";
  auto expr = rule.append_child("expression");
  expr.append_attribute("id") = (id + "-expr").c_str();
  expr.append_attribute("attribute") = "#uname";
  expr.append_attribute("operation") = "eq";
  expr.append_attribute("value") = node.c_str();
  expr.append_attribute("type") = "string";
  auto date = rule.append_child("date_expression");
  date.append_attribute("id") = (id + "-lifetime").c_str();
  date.append_attribute("operation") = "lt";
  date.append_attribute("end") = end.c_str();
  return element_xml(loc);
}

// The primitives a resource stands for (itself, or the members of a group or clone).
std::vector<std::string> primitives(const pugi::xml_node& rsc) {
  std::vector<std::string> out;
  if (std::string_view(rsc.name()) == "primitive") out.push_back(rsc.attribute("id").value());
  for_each_element(rsc, [&](const pugi::xml_node& n) {
    if (std::string_view(n.name()) == "primitive") out.push_back(n.attribute("id").value());
  });
  return out;
}

bool has_failed_op(const pugi::xml_node& lrm_resource) {
  for (auto op : lrm_resource.children("lrm_rsc_op")) {
    if (std::string_view(op.attribute("rc-code").value()) != "0" &&
        std::string_view(op.attribute("id").value()).find("_last_failure_") != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

bool is_failure_attribute(const std::string& name, const std::string& rsc) {
  for (const std::string prefix : {"fail-count-", "last-failure-"}) {
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    if (rsc.empty()) return true;
    if (rest == rsc || rest.rfind(rsc + "#", 0) == 0) return true;
  }
  return false;
}

pugi::xml_node find_node(const Cib& cib, const std::string& name) {
  auto nodes = cib.configuration().child("nodes");
  for (auto n : nodes.children("node")) {
    if (name == n.attribute("uname").value()) return n;
  }
  return nodes.find_child_by_attribute("node", "id", name.c_str());
}

pugi::xml_node find_resource(const Cib& cib, const std::string& id) {
  static const std::set<std::string_view> kinds = {"primitive", "group", "clone", "master",
                                                   "bundle"};
  pugi::xml_node found;
  for_each_element(cib.configuration().child("resources"), [&](const pugi::xml_node& n) {
    if (!found && kinds.count(n.name()) && id == n.attribute("id").value()) found = n;
  });
  return found;
}

std::string node_name(const pugi::xml_node& node) {
  return node.attribute("uname") ? node.attribute("uname").value() : node.attribute("id").value();
}

std::string address_of(const pugi::xml_node& n) {
  std::string path;
  for (auto e = n; e && e.type() == pugi::node_element; e = e.parent()) {
    std::string step = e.name();
    if (e.attribute("id")) step += "[@id='" + std::string(e.attribute("id").value()) + "']";
    path = "/" + step + path;
  }
  return path;
}

std::vector<CibChange> set_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                     const std::string& name, const std::string& value) {
  std::vector<CibChange> changes;
  for (auto set : owner.children(set_tag.c_str())) {
    if (auto nv = set.find_child_by_attribute("nvpair", "name", name.c_str())) {
      changes.push_back(
          CibChange::modify(address_of(nv), nvpair_xml(nv.attribute("id").value(), name, value)));
      return changes;
    }
  }
  if (auto set = owner.child(set_tag.c_str())) {
    const std::string set_id = set.attribute("id").value();
    changes.push_back(
        CibChange::create(address_of(set), nvpair_xml(set_id + "-" + name, name, value)));
    return changes;
  }
  const std::string set_id = set_id_for(owner, set_tag);
  pugi::xml_document doc;
  auto set = doc.append_child(set_tag.c_str());
  set.append_attribute("id") = set_id.c_str();
  auto nv = set.append_child("nvpair");
  nv.append_attribute("id") = (set_id + "-" + name).c_str();
  nv.append_attribute("name") = name.c_str();
  nv.append_attribute("value") = value.c_str();
  changes.push_back(CibChange::create(address_of(owner), element_xml(set)));
  return changes;
}

std::vector<CibChange> delete_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                        const std::string& name) {
  std::vector<CibChange> changes;
  for (auto set : owner.children(set_tag.c_str())) {
    for (auto nv : set.children("nvpair")) {
      if (name == nv.attribute("name").value())
        changes.push_back(CibChange::remove(address_of(nv)));
    }
  }
  return changes;
}

std::vector<CibChange> standby(const pugi::xml_node& node, bool on) {
  return set_attribute(node, "instance_attributes", "standby", on ? "on" : "off");
}

Location move_constraint(const Cib& cib, const std::string& rsc, const std::string& node,
                         bool prefer, const std::string& end) {
  const std::string id = prefer ? "cli-prefer-" + rsc : "cli-ban-" + rsc + "-on-" + node;
  const std::string xml = location_xml(id, rsc, node, prefer ? "INFINITY" : "-INFINITY", end);
  if (auto old = cib.find_id(id)) return {id, CibChange::replace(address_of(old), xml)};
  return {id, CibChange::create("/cib/configuration/constraints", xml)};
}

std::vector<CibChange> clear_moves(const Cib& cib, const std::string& rsc) {
  std::vector<CibChange> changes;
  for (auto c : cib.configuration().child("constraints").children("rsc_location")) {
    const std::string id = c.attribute("id").value();
    if (id == "cli-prefer-" + rsc || id.rfind("cli-ban-" + rsc + "-on-", 0) == 0)
      changes.push_back(CibChange::remove(address_of(c)));
  }
  return changes;
}

std::vector<CibChange> forget_failures(const pugi::xml_node& node_state, const std::string& rsc) {
  std::vector<CibChange> changes;
  for (auto set : node_state.child("transient_attributes").children("instance_attributes")) {
    for (auto nv : set.children("nvpair")) {
      if (is_failure_attribute(nv.attribute("name").value(), rsc))
        changes.push_back(CibChange::remove(address_of(nv)));
    }
  }
  return changes;
}

Cleanup cleanup(const Cib& cib, const std::string& rsc, const std::string& node_id, Forget what) {
  Cleanup out;
  if (!rsc.empty()) out.primitives = primitives(find_resource(cib, rsc));
  const auto& ids = out.primitives;
  const bool all_history = what == Forget::history;
  for (auto state : cib.status().children("node_state")) {
    if (!node_id.empty() && node_id != state.attribute("id").value()) continue;
    out.nodes.push_back(node_name(state));
    for (auto lrm : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      const std::string id = lrm.attribute("id").value();
      const bool named = std::find(ids.begin(), ids.end(), id) != ids.end();
      if ((rsc.empty() && (all_history || has_failed_op(lrm))) || named)
        out.changes.push_back(CibChange::remove(address_of(lrm)));
    }
    if (rsc.empty() && !all_history) {
      for (auto& c : forget_failures(state, "")) out.changes.push_back(std::move(c));
    }
    for (const auto& id : ids) {
      for (auto& c : forget_failures(state, id)) out.changes.push_back(std::move(c));
    }
  }
  return out;
}

CibChange signature(const std::string& user, const std::string& client, const std::string& origin) {
  pugi::xml_document doc;
  auto root = doc.append_child("cib");
  root.append_attribute("update-user") = xml_text(user).c_str();
  root.append_attribute("update-client") = xml_text(client).c_str();
  root.append_attribute("update-origin") = xml_text(origin).c_str();
  return CibChange::modify("/cib", element_xml(root));
}

CibChange last_written(const std::string& when) {
  pugi::xml_document doc;
  doc.append_child("cib").append_attribute("cib-last-written") = xml_text(when).c_str();
  return CibChange::modify("/cib", element_xml(doc.first_child()));
}

}  // namespace vigil::cib
