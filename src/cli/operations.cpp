#include "cli/operations.h"

#include <set>
#include <sstream>

#include "cib/op.h"
#include "cli/cib.h"
#include "common/common.h"

namespace vigil::cli {

std::optional<Session> open_session(const std::string& cib_file, Cli& cli) {
  auto store = open_cib_store(cib_file, cli.err());
  if (!store) return std::nullopt;
  auto cib = store->read();
  for (const auto& note : store->take_notes()) cli.err() << "WARNING: " << note << "\n";
  if (!cib) {
    cli.err() << "ERROR: " << cib.error().message << "\n";
    return std::nullopt;
  }
  return Session{std::move(store), std::move(*cib)};
}

bool commit(Session& s, std::vector<cib::CibChange> changes, Cli& cli) {
  if (changes.empty()) return true;
  auto done = s.store->commit(cib::CibOp{std::move(changes)});
  if (!done) {
    cli.err() << "ERROR: nothing changed: " << done.error().message << "\n";
    return false;
  }
  s.cib = std::move(*done);
  return true;
}

pugi::xml_node find_node(const cib::Cib& cib, const std::string& name) {
  auto nodes = cib.configuration().child("nodes");
  for (auto n : nodes.children("node")) {
    if (name == n.attribute("uname").value()) return n;
  }
  return nodes.find_child_by_attribute("node", "id", name.c_str());
}

pugi::xml_node find_resource(const cib::Cib& cib, const std::string& id) {
  static const std::set<std::string_view> kinds = {"primitive", "group", "clone", "master",
                                                   "bundle"};
  pugi::xml_node found;
  cib::for_each_element(cib.configuration().child("resources"), [&](const pugi::xml_node& n) {
    if (!found && kinds.count(n.name()) && id == n.attribute("id").value()) found = n;
  });
  return found;
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

namespace {

std::string nvpair_xml(const std::string& id, const std::string& name, const std::string& value) {
  pugi::xml_document doc;
  auto nv = doc.append_child("nvpair");
  nv.append_attribute("id") = id.c_str();
  nv.append_attribute("name") = name.c_str();
  nv.append_attribute("value") = value.c_str();
  return cib::element_xml(nv);
}

// crmsh's ids: <owner>-<set> for the set, <set>-<name> for the pair ("vip-meta_attributes",
// "vip-meta_attributes-target-role"); nodes' sets are "nodes-<id>".
std::string set_id_for(const pugi::xml_node& owner, const std::string& set_tag) {
  const std::string id = owner.attribute("id").value();
  if (std::string_view(owner.name()) == "node") return "nodes-" + id;
  return id + "-" + set_tag;
}

}  // namespace

std::vector<cib::CibChange> set_attribute(const pugi::xml_node& owner, const std::string& set_tag,
                                          const std::string& name, const std::string& value) {
  std::vector<cib::CibChange> changes;
  for (auto set : owner.children(set_tag.c_str())) {
    if (auto nv = set.find_child_by_attribute("nvpair", "name", name.c_str())) {
      changes.push_back(cib::CibChange::modify(
          address_of(nv), nvpair_xml(nv.attribute("id").value(), name, value)));
      return changes;
    }
  }
  if (auto set = owner.child(set_tag.c_str())) {
    const std::string set_id = set.attribute("id").value();
    changes.push_back(
        cib::CibChange::create(address_of(set), nvpair_xml(set_id + "-" + name, name, value)));
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
  changes.push_back(cib::CibChange::create(address_of(owner), cib::element_xml(set)));
  return changes;
}

std::vector<cib::CibChange> delete_attribute(const pugi::xml_node& owner,
                                             const std::string& set_tag, const std::string& name) {
  std::vector<cib::CibChange> changes;
  for (auto set : owner.children(set_tag.c_str())) {
    for (auto nv : set.children("nvpair")) {
      if (name == nv.attribute("name").value())
        changes.push_back(cib::CibChange::remove(address_of(nv)));
    }
  }
  return changes;
}

}  // namespace vigil::cli
