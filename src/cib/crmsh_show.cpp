// CIB → crmsh text, laid out as `crm configure show` prints it: one object per entry, its parts
// on continuation lines (" \" then a tab), values quoted only when they need it.
#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <set>

#include "cib/crmsh.h"

namespace vigil::cib::crmsh {

namespace {

using std::string;
using std::string_view;

// crmsh's display order of object kinds; within a kind objects are sorted by id.
int rank(string_view tag) {
  static const std::map<string_view, int> ranks = {{"node", 0},
                                                   {"template", 1},
                                                   {"primitive", 2},
                                                   {"bundle", 3},
                                                   {"group", 4},
                                                   {"master", 5},
                                                   {"clone", 6},
                                                   {"tag", 7},
                                                   {"rsc_location", 8},
                                                   {"rsc_colocation", 8},
                                                   {"rsc_order", 8},
                                                   {"rsc_ticket", 9},
                                                   {"fencing-topology", 9},
                                                   {"cluster_property_set", 10},
                                                   {"rsc_defaults", 11},
                                                   {"op_defaults", 12},
                                                   {"acl_role", 13},
                                                   {"acl_target", 14},
                                                   {"acl_group", 14},
                                                   {"acl_user", 14},
                                                   {"alert", 15}};
  auto it = ranks.find(tag);
  return it == ranks.end() ? 100 : it->second;
}

string join(const std::vector<string>& parts) {
  string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += " \\\n\t";
    out += p;
  }
  return out;
}

// crmsh's show hides the values of names that match its obscure_pattern, passw* by default.
string nvpair(string_view name, string_view value) {
  if (name.substr(0, 5) == "passw") return string(name) + "=\"******\"";
  return string(name) + "=" + quote(value);
}

string score_text(const pugi::xml_node& n) {
  string s = n.attribute("score").value();
  if (s.empty()) return n.attribute("score-attribute").value();
  if (auto pos = s.find("INFINITY"); pos != string::npos) s.replace(pos, 8, "inf");
  return s;
}

// An attribute set: "params a=1 b=2", with its score and rules when it has them.
string attribute_set(const char* keyword, const pugi::xml_node& set);

// crmsh leaves out the default type (string), and names a value-source other than literal.
string expression(const pugi::xml_node& e) {
  string op = e.attribute("operation").value();
  const string type = e.attribute("type").value();
  if (!type.empty() && type != "string") op = type + ":" + op;
  const string attr = e.attribute("attribute").value();
  const string value = e.attribute("value").value();
  if (value.empty()) return op + " " + attr;
  const string source = e.attribute("value-source").value();
  if (source.empty() || source == "literal") return attr + " " + op + " " + value;
  return attr + " " + op + " " + source + "{" + value + "}";
}

string date_expression(const pugi::xml_node& e) {
  string op = e.attribute("operation").value();
  string out = "date " + string(op == "in_range" ? "in" : op == "date_spec" ? "spec" : op);
  if (op == "lt") return out + " " + quote(e.attribute("end").value());
  if (op == "gt") return out + " " + quote(e.attribute("start").value());
  for (const char* a : {"start", "end"}) {
    if (auto v = e.attribute(a)) out += " " + nvpair(a, v.value());
  }
  for (auto c : e.children()) {
    for (auto a : c.attributes()) {
      if (string_view(a.name()) != "id") out += " " + nvpair(a.name(), a.value());
    }
  }
  return out;
}

// As crmsh: a rule that another names by id-ref shows its id, for the reference to be read back.
bool referred_to(const pugi::xml_node& r) {
  const string_view id = r.attribute("id").value();
  return !id.empty() && r.root().find_node([&](const pugi::xml_node& n) {
    return string_view(n.name()) == "rule" && id == n.attribute("id-ref").value();
  });
}

string rule(const pugi::xml_node& r) {
  if (auto ref = r.attribute("id-ref")) return nvpair("$id-ref", ref.value());
  std::vector<string> parts;
  if (referred_to(r)) parts.push_back(nvpair("$id", r.attribute("id").value()));
  if (auto role = r.attribute("role")) parts.push_back(nvpair("$role", role.value()));
  if (string_view(r.attribute("score").value()) != "INFINITY") {
    const string s = score_text(r);
    if (!s.empty()) parts.push_back(s + ":");
  }
  string bool_op = r.attribute("boolean-op").value();
  if (bool_op.empty()) bool_op = "and";
  string exprs;
  for (auto c : r.children()) {
    string_view tag = c.name();
    if (tag != "expression" && tag != "date_expression") continue;
    if (!exprs.empty()) exprs += " " + bool_op + " ";
    exprs += tag == "expression" ? expression(c) : date_expression(c);
  }
  parts.push_back(exprs);
  string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

string attribute_set(const char* keyword, const pugi::xml_node& set) {
  string out = keyword;
  if (auto ref = set.attribute("id-ref")) out += " " + nvpair("$id-ref", ref.value());
  if (auto score = set.attribute("score")) out += " " + string(score.value()) + ":";
  for (auto r : set.children("rule")) out += " rule " + rule(r);
  for (auto n : set.children("nvpair")) {
    if (auto ref = n.attribute("id-ref"); ref && !n.attribute("name"))
      out += " @" + string(ref.value());
    else
      out += " " + nvpair(n.attribute("name").value(), n.attribute("value").value());
  }
  return out;
}

// The sets an element holds, as keyword lines ("params …", "meta …").
void sets(const pugi::xml_node& n, std::vector<string>& parts,
          const std::map<string_view, const char*>& names) {
  for (auto c : n.children()) {
    auto it = names.find(c.name());
    if (it != names.end()) parts.push_back(attribute_set(it->second, c));
  }
}

void description(const pugi::xml_node& n, std::vector<string>& parts) {
  if (auto d = n.attribute("description")) parts.push_back(nvpair("description", d.value()));
}

string node(const pugi::xml_node& n) {
  const string id = n.attribute("id").value(), uname = n.attribute("uname").value();
  string head = "node";
  if (id != uname) head += quote(id) == id ? " " + id + ":" : " $id=\"" + id + "\"";
  head += " " + uname;
  const string type = n.attribute("type").value();
  if (!type.empty() && type != "member" && type != "normal") head += ":" + type;
  std::vector<string> parts = {head};
  description(n, parts);
  sets(n, parts, {{"instance_attributes", "attributes"}, {"utilization", "utilization"}});
  return join(parts);
}

// crmsh leaves out the class and provider of ocf:heartbeat agents.
string agent(const pugi::xml_node& p) {
  if (auto t = p.attribute("template")) return "@" + string(t.value());
  const string cls = p.attribute("class").value(), provider = p.attribute("provider").value();
  const string type = p.attribute("type").value();
  if (cls == "ocf" && (provider.empty() || provider == "heartbeat")) return type;
  return cls + ":" + (provider.empty() ? "" : provider + ":") + type;
}

string op(const pugi::xml_node& o) {
  string head = "op " + string(o.attribute("name").value());
  for (auto a : o.attributes()) {
    string_view name = a.name();
    if (name != "name" && name != "id") head += " " + nvpair(name, a.value());
  }
  std::vector<string> parts = {head};
  sets(o, parts, {{"instance_attributes", "op_params"}, {"meta_attributes", "op_meta"}});
  return join(parts);
}

string primitive(const pugi::xml_node& p) {
  const char* keyword = string_view(p.name()) == "template" ? "rsc_template" : "primitive";
  std::vector<string> parts = {string(keyword) + " " + p.attribute("id").value() + " " + agent(p)};
  description(p, parts);
  for (auto c : p.children()) {
    string_view tag = c.name();
    if (tag == "instance_attributes") parts.push_back(attribute_set("params", c));
    if (tag == "meta_attributes") parts.push_back(attribute_set("meta", c));
    if (tag == "utilization") parts.push_back(attribute_set("utilization", c));
    if (tag == "operations") {
      // crmsh's spacing, two blanks before $id-ref included.
      if (auto id = c.attribute("id")) parts.push_back("operations $id=" + string(id.value()));
      if (auto ref = c.attribute("id-ref"))
        parts.push_back("operations  $id-ref=" + string(ref.value()));
      for (auto o : c.children("op")) parts.push_back(op(o));
    }
  }
  return join(parts);
}

string container(const pugi::xml_node& c) {
  string_view tag = c.name();
  string head = string(tag == "master" ? "ms" : tag) + " " + c.attribute("id").value();
  for (auto child : c.children()) {
    string_view t = child.name();
    if (t == "primitive" || t == "group") head += " " + string(child.attribute("id").value());
  }
  std::vector<string> parts = {head};
  description(c, parts);
  sets(c, parts, {{"instance_attributes", "params"}, {"meta_attributes", "meta"}});
  return join(parts);
}

// A bundle as crmsh prints it: its parts in the order the XML holds them, each with its
// attributes and (network, storage) its mappings, then "primitive ID" last.
string bundle(const pugi::xml_node& b) {
  std::vector<string> parts = {"bundle " + string(b.attribute("id").value())};
  description(b, parts);
  for (auto c : b.children()) {
    const string tag = c.name();
    if (tag == "meta_attributes") parts.push_back(attribute_set("meta", c));
    if (tag != "docker" && tag != "rkt" && tag != "podman" && tag != "network" && tag != "storage")
      continue;
    string line = tag;
    for (auto a : c.attributes()) line += " " + nvpair(a.name(), a.value());
    for (auto m : c.children()) {
      line += " " + string(m.name());
      for (auto a : m.attributes()) line += " " + nvpair(a.name(), a.value());
    }
    parts.push_back(line);
  }
  if (auto p = b.child("primitive")) parts.push_back("primitive " + string(p.attribute("id").value()));
  return join(parts);
}

std::optional<bool> flag(const pugi::xml_node& n, const char* attr) {
  auto a = n.attribute(attr);
  if (!a) return std::nullopt;
  const string v = a.value();
  return v == "true" || v == "yes" || v == "on" || v == "1";
}

// Resource sets as crmsh writes them; a set that the two-resource form would read back as
// plain attributes is marked with _rsc_set_.
std::vector<string> resource_sets(const pugi::xml_node& c, bool actions, bool location) {
  std::vector<string> col;
  std::size_t count = 0;
  std::optional<bool> sequential, require_all;
  for (auto set : c.children("resource_set")) {
    sequential = flag(set, "sequential");
    require_all = flag(set, "require-all");
    if (require_all == false) {
      col.emplace_back("[");
    } else if (sequential == false) {
      col.emplace_back("(");
    }
    const string q = set.attribute(actions ? "action" : "role").value();
    for (auto r : set.children("resource_ref")) {
      col.push_back(string(r.attribute("id").value()) + (q.empty() ? "" : ":" + q));
      ++count;
    }
    if (require_all == false) {
      if (sequential != false) col.push_back("sequential=true");
      col.emplace_back("]");
    } else if (sequential == false) {
      col.emplace_back(")");
    }
  }
  const bool plain = sequential != false && require_all != false;
  if (!location && plain && count <= 2) col.insert(col.begin(), "_rsc_set_");
  return col;
}

string with_qualifier(const pugi::xml_node& c, const char* attr, const char* suffix) {
  string out = c.attribute(attr).value();
  if (auto q = c.attribute((string(attr) + suffix).c_str())) out += ":" + string(q.value());
  return out;
}

string location(const pugi::xml_node& c) {
  string head = "location " + string(c.attribute("id").value()) + " ";
  if (auto rsc = c.attribute("rsc")) {
    head += rsc.value();
  } else if (auto pattern = c.attribute("rsc-pattern")) {
    head += "/" + string(pattern.value()) + "/";
  } else {
    string set;
    for (const auto& w : resource_sets(c, false, true)) set += " " + w;
    head += "{" + set + " }";
  }
  for (const char* a : {"role", "resource-discovery"}) {
    if (auto v = c.attribute(a)) head += " " + string(a) + "=" + v.value();
  }
  if (auto n = c.attribute("node")) head += " " + score_text(c) + ": " + n.value();
  std::vector<string> parts = {head};
  for (auto r : c.children("rule")) parts.push_back("rule " + rule(r));
  return join(parts);
}

// rsc_ticket ID TICKET: RSC[:ROLE]… [loss-policy=P]
string rsc_ticket(const pugi::xml_node& c) {
  string head = "rsc_ticket " + string(c.attribute("id").value()) + " " +
                c.attribute("ticket").value() + ":";
  if (c.child("resource_set")) {
    for (const auto& w : resource_sets(c, false, true)) head += " " + w;
  } else {
    head += " " + with_qualifier(c, "rsc", "-role");
  }
  if (auto p = c.attribute("loss-policy")) head += " loss-policy=" + string(p.value());
  return head;
}

string tag_line(const pugi::xml_node& t) {
  string out = "tag " + string(t.attribute("id").value());
  for (auto ref : t.children("obj_ref")) out += " " + string(ref.attribute("id").value());
  return out;
}

// alert ID "PATH" and a line per set, selection and recipient. A recipient's sets go on its line,
// in braces when the alert has sets after its first recipient (crmsh's test of ambiguity).
string alert(const pugi::xml_node& a) {
  const std::map<string_view, const char*> names = {{"instance_attributes", "attributes"},
                                                    {"meta_attributes", "meta"}};
  bool complex = false, after_recipient = false;
  for (auto c : a.children()) {
    after_recipient = after_recipient || string_view(c.name()) == "recipient";
    complex = complex || (after_recipient && names.count(c.name()));
  }
  std::vector<string> parts = {"alert " + string(a.attribute("id").value()) + " " +
                               quote(a.attribute("path").value())};
  for (auto c : a.children()) {
    const string_view tag = c.name();
    if (names.count(tag)) parts.push_back(attribute_set(names.at(tag), c));
    if (tag == "select") {
      string line = "select";
      for (auto kind : c.children()) {
        const string name = string(kind.name()).substr(7);  // "select_"
        line += " " + name;
        if (name != "attributes") continue;
        line += " {";
        for (auto attr : kind.children("attribute")) line += " " + string(attr.attribute("name").value());
        line += " }";
      }
      parts.push_back(line);
    }
    if (tag == "recipient") {
      string line = string("to ") + (complex ? "{ " : "") + quote(c.attribute("value").value());
      for (auto set : c.children()) {
        if (names.count(set.name())) line += " " + attribute_set(names.at(set.name()), set);
      }
      parts.push_back(line + (complex ? " }" : ""));
    }
  }
  return join(parts);
}

// role ID and a line per permission: KIND xpath:… ref:… attr:… type:…
string acl_role(const pugi::xml_node& r) {
  std::vector<string> parts = {"role " + string(r.attribute("id").value())};
  for (auto p : r.children("acl_permission")) {
    string line = p.attribute("kind").value();
    if (auto d = p.attribute("description")) line += " " + nvpair("description", d.value());
    for (const auto& [attr, key] : {std::pair{"xpath", "xpath"}, std::pair{"reference", "ref"},
                                     std::pair{"attribute", "attr"}, std::pair{"object-type", "type"}}) {
      auto v = p.attribute(attr);
      if (!v) continue;
      if (string_view(attr) != "xpath")
        line += " " + string(key) + ":" + v.value();
      else if (auto shortcut = acl_shortcut(v.value()))
        line += " " + *shortcut;
      else
        line += " xpath:" + quote(v.value());
    }
    parts.push_back(line);
  }
  return join(parts);
}

// acl_target|acl_group ID and a line per role.
string acl_member(const pugi::xml_node& t) {
  std::vector<string> parts = {string(t.name()) + " " + t.attribute("id").value()};
  for (auto role : t.children("role")) parts.push_back(role.attribute("id").value());
  return join(parts);
}

string colocation_or_order(const pugi::xml_node& c) {
  const bool order = string_view(c.name()) == "rsc_order";
  string head = string(order ? "order " : "colocation ") + c.attribute("id").value() + " ";
  string s = score_text(c);
  if (s.empty()) s = c.attribute("kind").value();
  if (!s.empty()) head += s + ": ";
  std::vector<string> col;
  if (c.child("resource_set")) {
    col = resource_sets(c, order, false);
  } else if (order) {
    col = {with_qualifier(c, "first", "-action"), with_qualifier(c, "then", "-action")};
  } else {
    col = {with_qualifier(c, "rsc", "-role"), with_qualifier(c, "with-rsc", "-role")};
  }
  if (order) {
    if (auto sym = c.attribute("symmetrical")) col.push_back("symmetrical=" + string(sym.value()));
  } else if (auto attr = c.attribute("node-attribute")) {
    col.push_back("node-attribute=" + string(attr.value()));
  }
  for (std::size_t i = 0; i < col.size(); ++i) head += (i ? " " : "") + col[i];
  return head;
}

// property, rsc_defaults, op_defaults: the set id as a head ("cib-bootstrap-options:") and one
// nvpair per line.
string property_set(const char* keyword, const pugi::xml_node& set) {
  const string id = set.attribute("id").value();
  std::vector<string> parts = {string(keyword) + " " +
                               (quote(id) == id ? id + ":" : "$id=\"" + id + "\"")};
  for (auto c : set.children()) {
    string_view tag = c.name();
    if (tag == "rule") parts.push_back("rule " + rule(c));
    if (tag == "nvpair")
      parts.push_back(nvpair(c.attribute("name").value(), c.attribute("value").value()));
  }
  return join(parts);
}

// An object vigil cannot yet write in crmsh syntax is shown as crmsh shows those: as XML.
string as_xml(const pugi::xml_node& n) {
  return "xml " + element_xml(n);
}

struct Object {
  int rank;
  string id;
  pugi::xml_node node;
  string kind;  // for property sets: which command prints them
};

std::vector<Object> objects(const Cib& cib) {
  std::vector<Object> out;
  auto config = cib.configuration();
  for (auto n : config.child("nodes").children("node"))
    out.push_back({rank("node"), n.attribute("id").value(), n, ""});
  config.child("resources").find_node([&](const pugi::xml_node& n) {
    string_view tag = n.name();
    if (tag == "primitive" || tag == "group" || tag == "clone" || tag == "master" ||
        tag == "template" || tag == "bundle") {
      out.push_back({rank(tag), n.attribute("id").value(), n, ""});
    }
    return false;
  });
  for (auto c : config.child("constraints").children()) {
    if (c.type() == pugi::node_element)
      out.push_back({rank(c.name()), c.attribute("id").value(), c, ""});
  }
  for (auto s : config.child("crm_config").children("cluster_property_set")) {
    out.push_back({rank("cluster_property_set"), s.attribute("id").value(), s, "property"});
  }
  for (const char* section : {"rsc_defaults", "op_defaults"}) {
    for (auto s : config.child(section).children("meta_attributes")) {
      out.push_back({rank(section), s.attribute("id").value(), s, section});
    }
  }
  if (auto n = config.child("fencing-topology"))
    out.push_back({rank("fencing-topology"), "fencing_topology", n, ""});  // crmsh's name for it
  for (const char* section : {"tags", "alerts", "acls"}) {
    for (auto n : config.child(section).children()) {
      if (n.type() == pugi::node_element)
        out.push_back({rank(n.name()), n.attribute("id").value(), n, ""});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Object& a, const Object& b) {
    return a.rank != b.rank ? a.rank < b.rank : a.id < b.id;
  });
  return out;
}

// One line per target, its levels in index order: "NODE: DEV[,DEV] DEV …", "attr:NAME=VALUE DEV…",
// "pattern:REGEX DEV…"; as crmsh, one line of devices alone when every target has the same levels
// and there are as many targets as nodes (what `fencing_topology DEVS…` makes).
string fencing_topology(const pugi::xml_node& n, std::size_t nodes) {
  std::vector<std::pair<string, std::map<long, string>>> targets;
  for (auto level : n.children("fencing-level")) {
    string target = string(level.attribute("target").value()) + ":";
    if (level.attribute("target-pattern")) {
      target = "pattern:" + string(level.attribute("target-pattern").value());
    } else if (level.attribute("target-attribute")) {
      target = "attr:" + string(level.attribute("target-attribute").value()) + "=" +
               level.attribute("target-value").value();
    }
    auto it = std::find_if(targets.begin(), targets.end(),
                           [&](const auto& t) { return t.first == target; });
    if (it == targets.end()) it = targets.insert(targets.end(), {target, {}});
    it->second[level.attribute("index").as_llong()] = level.attribute("devices").value();
  }
  std::vector<std::pair<string, string>> lines;
  std::set<string> distinct;
  for (const auto& [target, levels] : targets) {
    string devices;
    for (const auto& [index, d] : levels) devices += (devices.empty() ? "" : " ") + d;
    lines.emplace_back(target, devices);
    distinct.insert(devices);
  }
  if (distinct.size() == 1 && targets.size() == nodes)
    return "fencing_topology " + *distinct.begin();
  std::vector<string> parts = {"fencing_topology"};
  for (const auto& [target, devices] : lines) parts.push_back(target + " " + devices);
  return join(parts);
}

string text_of(const Object& o) {
  string_view tag = o.node.name();
  if (!o.kind.empty()) return property_set(o.kind.c_str(), o.node);
  if (tag == "node") return node(o.node);
  if (tag == "primitive" || tag == "template") return primitive(o.node);
  if (tag == "group" || tag == "clone" || tag == "master") return container(o.node);
  if (tag == "bundle") return bundle(o.node);
  if (tag == "rsc_location") return location(o.node);
  if (tag == "rsc_colocation" || tag == "rsc_order") return colocation_or_order(o.node);
  if (tag == "rsc_ticket") return rsc_ticket(o.node);
  if (tag == "tag") return tag_line(o.node);
  if (tag == "alert") return alert(o.node);
  if (tag == "acl_role") return acl_role(o.node);
  if (tag == "acl_target" || tag == "acl_group") return acl_member(o.node);
  if (tag == "fencing-topology") {
    auto nodes = o.node.parent().child("nodes").children("node");
    return fencing_topology(o.node, static_cast<std::size_t>(std::distance(nodes.begin(), nodes.end())));
  }
  return as_xml(o.node);
}

Result<std::vector<Object>> selected(const Cib& cib, const std::vector<string>& ids) {
  auto all = objects(cib);
  if (ids.empty()) return all;
  std::vector<Object> chosen;
  for (const auto& id : ids) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Object& o) { return o.id == id; });
    if (it == all.end()) return fail("object " + id + " does not exist");
    chosen.push_back(*it);
  }
  return chosen;
}

// XML with the indentation of cibadmin/crmsh (2 spaces), from an element.
string indented(const pugi::xml_node& n) {
  Cib scratch;
  scratch.doc().reset();
  scratch.doc().append_copy(n);
  return scratch.to_xml();
}

}  // namespace

string quote(string_view value) {
  const bool bare = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80;
  });
  if (bare) return string(value);
  string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<string> show(const Cib& cib, const std::vector<string>& ids) {
  auto chosen = selected(cib, ids);
  if (!chosen) return chosen.error();
  string out;
  for (const auto& o : *chosen) out += text_of(o) + "\n";
  return out;
}

Result<string> show_xml(const Cib& cib, const std::vector<string>& ids) {
  if (ids.empty()) {
    // As crmsh shows it: the whole document without the status section.
    pugi::xml_document doc;
    auto root = doc.append_copy(cib.root());
    root.remove_child("status");
    return "<?xml version=\"1.0\" ?>\n" + indented(root);
  }
  auto chosen = selected(cib, ids);
  if (!chosen) return chosen.error();
  string out;
  for (const auto& o : *chosen) out += indented(o.node);
  return out;
}

std::vector<string> object_ids(const Cib& cib) {
  std::vector<string> ids;
  for (const auto& o : objects(cib)) ids.push_back(o.id);
  return ids;
}

}  // namespace vigil::cib::crmsh
