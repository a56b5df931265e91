// crmsh text → CibChanges. Each command builds its elements in a scratch document and returns
// the changes that put them in place; apply() then checks the whole result.
#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "cib/crmsh.h"
#include "cib/validate.h"
#include "common/ascii.h"

namespace vigil::cib::crmsh {

namespace {

using std::string;
using std::string_view;

bool ends_with(string_view s, string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Pacemaker ids are XML ids: a letter or '_' first, then letters, digits, '_', '.', '-'.
bool is_id(string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// The canonical spelling of a word from `values`, matched without regard to case.
template <std::size_t N>
std::optional<string> canonical(string_view word, const std::array<string_view, N>& values) {
  for (auto v : values) {
    if (ascii_iequals(v, word)) return string(v);
  }
  return std::nullopt;
}

constexpr std::array<string_view, 7> kRoles = {"Started",  "Stopped",    "Master", "Slave",
                                               "Promoted", "Unpromoted", "Unknown"};
constexpr std::array<string_view, 4> kActions = {"start", "stop", "promote", "demote"};
constexpr std::array<string_view, 3> kKinds = {"Mandatory", "Optional", "Serialize"};
constexpr std::array<string_view, 11> kOpAttributes = {
    "interval",       "timeout",     "on-fail",         "role",        "requires", "enabled",
    "record-pending", "start-delay", "interval-origin", "description", "name"};
constexpr std::array<string_view, 6> kBinaryOps = {"lt", "gt", "lte", "gte", "eq", "ne"};
constexpr std::array<string_view, 4> kExprTypes = {"string", "number", "version", "integer"};
constexpr std::array<string_view, 26> kEditCommands = {
    "node",       "primitive",        "rsc_template", "group",        "clone",
    "ms",         "master",           "location",     "colocation",   "collocation",
    "order",      "property",         "rsc_defaults", "op_defaults",  "delete",
    "fencing_topology", "rsc_ticket", "tag",          "alert",        "role",
    "acl_target", "acl_group",        "user",         "monitor",      "modgroup",
    "bundle"};

std::optional<string> boolean(string_view word) {
  const string w = ascii_lower(word);
  if (w == "true" || w == "yes" || w == "on" || w == "1") return "true";
  if (w == "false" || w == "no" || w == "off" || w == "0") return "false";
  return std::nullopt;
}

// The words of one command and the position being read; errors name the word.
class Words {
 public:
  explicit Words(const std::vector<string>& words) : w_(words), end_(words.size()) {}
  bool done() const { return pos_ >= end_; }
  const string& peek() const {
    static const string none;
    return done() ? none : w_[pos_];
  }
  string next() { return done() ? string() : w_[pos_++]; }
  std::size_t pos() const { return pos_; }
  std::size_t size() const { return end_; }
  const string& at(std::size_t i) const { return w_[i]; }
  // Takes the last word out of the command (a trailing option read first).
  void drop_last() { --end_; }
  void skip_to(std::size_t i) { pos_ = std::min(i, end_); }

  Error error(const string& what) const { return error_at(pos_, what); }
  Error error_at(std::size_t i, const string& what) const {
    if (i >= w_.size()) return fail("end of command: " + what);
    return fail("word " + std::to_string(i + 1) + " ('" + w_[i] + "'): " + what);
  }

 private:
  const std::vector<string>& w_;
  std::size_t end_;
  std::size_t pos_ = 0;
};

// Ids in use: those of the CIB and those this command has generated.
class IdPool {
 public:
  explicit IdPool(const Cib& cib) {
    for_each_element(cib.configuration(), [&](const pugi::xml_node& n) {
      if (auto id = n.attribute("id")) used_.insert(id.value());
    });
  }
  bool used(const string& id) const { return used_.count(id) > 0; }
  void take(const string& id) { used_.insert(id); }
  // `base`, or base-0, base-1… when it is taken, as crmsh numbers them. A base of digits only
  // (a node id "1") gets crmsh's "num-" prefix.
  string fresh(const string& wanted) {
    const bool digits = !wanted.empty() && std::all_of(wanted.begin(), wanted.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    const string base = digits ? "num-" + wanted : wanted;
    string id = base;
    for (int i = 0; used(id); ++i) id = base + "-" + std::to_string(i);
    used_.insert(id);
    return id;
  }

 private:
  std::set<string, std::less<>> used_;
};

struct Pair {
  string name, value;
};

std::optional<Pair> split_pair(string_view word) {
  auto eq = word.find('=');
  if (eq == string_view::npos || eq == 0) return std::nullopt;
  return Pair{string(word.substr(0, eq)), string(word.substr(eq + 1))};
}

class Parser {
 public:
  Parser(const std::vector<string>& words, const Cib& cib) : w_(words), cib_(cib), ids_(cib) {}

  Result<std::vector<CibChange>> run() {
    const string command = ascii_lower(w_.next());
    if (command == "node") return node();
    if (command == "primitive") return primitive("primitive");
    if (command == "rsc_template") return primitive("template");
    if (command == "group") return group();
    if (command == "modgroup") return modgroup();
    if (command == "clone" || command == "ms" || command == "master") return clone(command);
    if (command == "bundle") return bundle();
    if (command == "location") return location();
    if (command == "colocation" || command == "collocation") return colocation();
    if (command == "order") return order();
    if (command == "property" || command == "rsc_defaults" || command == "op_defaults") {
      return property_set(command);
    }
    if (command == "fencing_topology") return fencing_topology();
    if (command == "rsc_ticket") return rsc_ticket();
    if (command == "tag") return tag();
    if (command == "monitor") return monitor();
    if (command == "alert") return alert();
    if (command == "role") return role();
    if (command == "acl_target") return acl_member("acl_target");
    if (command == "acl_group") return acl_member("acl_group");
    if (command == "user")
      return w_.error_at(0, "user is the ACL form of Pacemaker's 1.x schemas: use acl_target");
    if (command == "delete") return remove_objects();
    if (command == "rename") return rename();
    if (command == "erase") return erase();
    return w_.error_at(0, "unknown command");
  }

 private:
  // ---- shared pieces -----------------------------------------------------------------------

  Result<string> new_id() {
    const string id = w_.peek();
    if (w_.done()) return w_.error("expected an id");
    if (!is_id(id)) {
      return w_.error(
          "not a valid id (a letter or '_' first, then letters, digits, '_', '.', '-')");
    }
    if (ids_.used(id)) return w_.error("id '" + id + "' is already in use");
    ids_.take(id);
    w_.next();
    return id;
  }

  // A resource of the CIB, named at the current word.
  Result<pugi::xml_node> resource() {
    if (w_.done()) return w_.error("expected a resource id");
    auto n = cib_.find_id(w_.peek());
    string_view tag = n.name();
    if (!n || !(tag == "primitive" || tag == "group" || tag == "clone" || tag == "master" ||
                tag == "bundle")) {
      return w_.error("no such resource");
    }
    w_.next();
    return n;
  }

  // k=v words until one is not.
  std::vector<Pair> pairs() {
    std::vector<Pair> out;
    for (; !w_.done(); w_.next()) {
      auto p = split_pair(w_.peek());
      if (!p) break;
      out.push_back(std::move(*p));
    }
    return out;
  }

  pugi::xml_node add_set(pugi::xml_node parent, const char* tag, const string& id,
                         const std::vector<Pair>& nv) {
    auto set = parent.append_child(tag);
    set.append_attribute("id") = id.c_str();
    add_pairs(set, nv);
    return set;
  }

  void add_pairs(pugi::xml_node set, const std::vector<Pair>& nv) {
    const string id = set.attribute("id").value();
    for (const auto& p : nv) {
      auto n = set.append_child("nvpair");
      n.append_attribute("name") = p.name.c_str();
      n.append_attribute("value") = p.value.c_str();
      n.append_attribute("id") = ids_.fresh(id + "-" + p.name).c_str();
    }
  }

  // `$id-ref=X`: a reference to the attribute set X, or to the first set of that kind in the
  // object X (as crmsh resolves it). The set takes no pairs of its own.
  Result<void> set_reference(pugi::xml_node parent, const char* tag) {
    const std::size_t at = w_.pos();
    const string target = split_pair(w_.next())->value;
    auto named = cib_.find_id(target);
    string id = target;
    if (named && string_view(named.name()) != tag) {
      auto first = named.find_node([&](const pugi::xml_node& n) {
        return string_view(n.name()) == tag && n.attribute("id");
      });
      id = first ? first.attribute("id").value() : "";
    }
    if (!named || id.empty())
      return w_.error_at(at, "no " + string(tag) + " '" + target + "' to refer to");
    if (split_pair(w_.peek())) return w_.error("a $id-ref set takes no name=value pairs");
    parent.append_child(tag).append_attribute("id-ref") = id.c_str();
    return {};
  }

  // An attribute list after its keyword (params, meta, utilization, attributes…):
  //   [$id=ID | $id-ref=REF] [SCORE:] [rule …]… [name=value…]
  Result<void> attribute_list(pugi::xml_node parent, const string& owner, const char* tag,
                              const char* suffix) {
    auto first = split_pair(w_.peek());
    if (first && first->name == "$id-ref") return set_reference(parent, tag);
    string id;
    if (first && first->name == "$id") {
      if (!is_id(first->value) || ids_.used(first->value)) return w_.error("bad or used $id");
      id = first->value;
      ids_.take(id);
      w_.next();
    } else {
      id = ids_.fresh(owner + suffix);
    }
    auto set = add_set(parent, tag, id, {});
    if (at_score() && !split_pair(w_.peek())) {
      string token = w_.peek();
      token.pop_back();
      auto s = score(w_.pos(), token, false);
      if (!s) return s.error();
      set.append_attribute("score") = s->value.c_str();
      w_.next();
    }
    while (w_.peek() == "rule") {
      if (auto r = rule(set, id); !r) return r.error();
    }
    return set_pairs(set);
  }

  // The pairs of an attribute list: NAME=VALUE, $ID:NAME=VALUE (an nvpair with the id ID) and
  // @ID (a reference to the nvpair ID).
  Result<void> set_pairs(pugi::xml_node set) {
    for (; !w_.done(); w_.next()) {
      const string word = w_.peek();
      if (word.size() > 1 && word[0] == '@') {
        if (string_view(cib_.find_id(word.substr(1)).name()) != "nvpair" && !ids_.used(word.substr(1)))
          return w_.error("no nvpair '" + word.substr(1) + "'");
        set.append_child("nvpair").append_attribute("id-ref") = word.substr(1).c_str();
        continue;
      }
      auto p = split_pair(word);
      if (!p) break;
      const auto colon = p->name.find(':');
      if (p->name[0] != '$' || colon == string::npos) {
        add_pairs(set, {*p});
        continue;
      }
      const string nv_id = p->name.substr(1, colon - 1);
      if (!is_id(nv_id) || ids_.used(nv_id)) return w_.error("bad or used id '" + nv_id + "'");
      ids_.take(nv_id);
      auto n = set.append_child("nvpair");
      n.append_attribute("name") = p->name.substr(colon + 1).c_str();
      n.append_attribute("value") = p->value.c_str();
      n.append_attribute("id") = nv_id.c_str();
    }
    return {};
  }

  // score: as crmsh reads it: inf/-inf/mandatory/advisory/integer, else the name of a node
  // attribute holding the score (score-attribute).
  Result<Pair> score(std::size_t at, string_view token, bool allow_attribute) {
    const string t = ascii_lower(token);
    if (t == "inf" || t == "+inf" || t == "infinity" || t == "+infinity") {
      return Pair{"score", t[0] == '+' ? "+INFINITY" : "INFINITY"};
    }
    if (t == "-inf" || t == "-infinity") return Pair{"score", "-INFINITY"};
    if (t == "mandatory") return Pair{"score", "INFINITY"};
    if (t == "advisory") return Pair{"score", "0"};
    if (is_score(token)) return Pair{"score", string(token)};
    if (allow_attribute && is_id(token)) return Pair{"score-attribute", string(token)};
    return w_.error_at(at, "not a score (an integer, inf, -inf, mandatory or advisory)");
  }

  // The word names a score ("inf:", "100:").
  bool at_score() const { return !w_.done() && w_.peek().size() > 1 && ends_with(w_.peek(), ":"); }

  std::vector<CibChange> created(const char* section, const pugi::xml_node& element) {
    return {CibChange::create(string("/cib/configuration/") + section, element_xml(element))};
  }

  // ---- node ------------------------------------------------------------------------------

  Result<std::vector<CibChange>> node() {
    string id;
    if (w_.done()) return w_.error("expected [ID:] UNAME");
    if (at_score()) {
      id = w_.next();
      id.pop_back();
    } else if (auto p = split_pair(w_.peek()); p && p->name == "$id") {
      id = p->value;
      w_.next();
    }
    if (w_.done()) return w_.error("expected a node name");
    const std::size_t uname_at = w_.pos();
    string uname = w_.next(), type;
    if (auto colon = uname.find(':'); colon != string::npos) {
      type = uname.substr(colon + 1);
      uname.resize(colon);
      if (type != "member" && type != "remote" && type != "normal") {
        return w_.error_at(uname_at, "node type must be member or remote");
      }
    }
    if (id.empty()) id = uname;
    for (auto n : cib_.configuration().child("nodes").children("node")) {
      if (id == n.attribute("id").value() || uname == n.attribute("uname").value()) {
        return w_.error_at(uname_at, "node '" + uname + "' already exists");
      }
    }
    pugi::xml_document doc;
    auto n = doc.append_child("node");
    n.append_attribute("id") = id.c_str();
    n.append_attribute("uname") = uname.c_str();
    if (!type.empty()) n.append_attribute("type") = type.c_str();
    bool first = true;
    while (!w_.done()) {
      const string word = ascii_lower(w_.peek());
      if (word.rfind("description=", 0) == 0) {
        n.append_attribute("description") = split_pair(w_.next())->value.c_str();
      } else if (word == "attributes" || (first && split_pair(word))) {
        if (word == "attributes") w_.next();
        if (auto r = attribute_list(n, uname, "instance_attributes", "-instance_attributes"); !r)
          return r.error();
      } else if (word == "utilization") {
        w_.next();
        if (auto r = attribute_list(n, uname, "utilization", "-utilization"); !r)
          return r.error();
      } else {
        return w_.error("expected attributes or utilization");
      }
      first = false;
    }
    return created("nodes", n);
  }

  // ---- primitive ---------------------------------------------------------------------------

  // CLASS:PROVIDER:TYPE, CLASS:TYPE or TYPE; for a primitive also @TEMPLATE.
  Result<void> agent(pugi::xml_node rsc) {
    if (w_.done()) return w_.error("expected CLASS:PROVIDER:TYPE, CLASS:TYPE or TYPE");
    const string spec = w_.peek();
    if (spec[0] == '@') {
      auto tmpl = cib_.find_id(spec.substr(1));
      if (string_view(rsc.name()) != "primitive" || string_view(tmpl.name()) != "template")
        return w_.error(string_view(rsc.name()) == "primitive"
                            ? "no rsc_template '" + spec.substr(1) + "'"
                            : "a template names an agent, not another template");
      rsc.append_attribute("template") = spec.substr(1).c_str();
      w_.next();
      return {};
    }
    std::vector<string> parts;
    for (std::size_t start = 0;;) {
      auto colon = spec.find(':', start);
      parts.push_back(spec.substr(start, colon - start));
      if (colon == string::npos) break;
      start = colon + 1;
    }
    string cls = "ocf", provider = "heartbeat", type;
    if (parts.size() == 1) {
      type = parts[0];
    } else if (parts.size() == 2) {
      cls = ascii_lower(parts[0]);
      type = parts[1];
      if (cls != "ocf") provider.clear();
    } else if (parts.size() == 3) {
      cls = ascii_lower(parts[0]);
      provider = parts[1];
      type = parts[2];
      if (cls != "ocf") return w_.error("only the ocf class has a provider");
    } else {
      return w_.error("expected CLASS:PROVIDER:TYPE, CLASS:TYPE or TYPE");
    }
    if (!is_resource_class(cls)) {
      return w_.error("unknown resource class '" + cls +
                      "' (ocf, lsb, systemd, service, stonith, upstart, nagios)");
    }
    if (type.empty() || (cls == "ocf" && provider.empty()))
      return w_.error("incomplete agent name");
    rsc.append_attribute("class") = cls.c_str();
    if (!provider.empty()) rsc.append_attribute("provider") = provider.c_str();
    rsc.append_attribute("type") = type.c_str();
    w_.next();
    return {};
  }

  // operations $id=ID (the ops that follow form the set ID) or operations $id-ref=REF (the set of
  // ops REF names, or the ops of the resource REF).
  Result<void> operations_head(pugi::xml_node operations) {
    auto p = split_pair(w_.peek());
    if (!p || (p->name != "$id" && p->name != "$id-ref"))
      return w_.error("expected $id=ID or $id-ref=REF");
    if (p->name == "$id") {
      if (!is_id(p->value) || ids_.used(p->value)) return w_.error("bad or used $id");
      ids_.take(p->value);
      operations.append_attribute("id") = p->value.c_str();
      w_.next();
      return {};
    }
    auto named = cib_.find_id(p->value);
    if (string_view(named.name()) != "operations") named = named.child("operations");
    if (!named || !named.attribute("id"))
      return w_.error("no operations '" + p->value + "' to refer to");
    operations.append_attribute("id-ref") = named.attribute("id").value();
    w_.next();
    return {};
  }

  Result<void> op(pugi::xml_node operations, const string& owner) {
    w_.next();  // "op"
    if (w_.done() || !is_op_name(w_.peek())) {
      return w_.error("expected an operation name (start, stop, monitor, promote, demote, …)");
    }
    const string name = w_.next();
    pugi::xml_document scratch;
    auto op = scratch.append_child("op");
    op.append_attribute("name") = name.c_str();
    std::vector<Pair> params;
    const std::size_t first = w_.pos();
    for (auto& p : pairs()) {
      if (!canonical(p.name, kOpAttributes) || p.name == "name") {
        params.push_back(std::move(p));
        continue;
      }
      // Pacemaker's 3.x schema has no requires on an op (crmsh writes it and its commit fails).
      if (p.name == "requires")
        return w_.error_at(first, "requires is no op attribute in Pacemaker's 3.x schema");
      if (p.name == "role") {
        auto role = canonical(p.value, kRoles);
        if (!role) return w_.error_at(first, "unknown role '" + p.value + "'");
        p.value = *role;
      }
      if (op.attribute(p.name.c_str())) return w_.error_at(first, "'" + p.name + "' given twice");
      op.append_attribute(p.name.c_str()) = p.value.c_str();
    }
    // crmsh's id: RSC-NAME-INTERVAL whatever the role (a second one gets -0).
    if (!op.attribute("interval")) op.append_attribute("interval") = "0";
    const string id = ids_.fresh(owner + "-" + name + "-" + op.attribute("interval").value());
    op.append_attribute("id") = id.c_str();
    if (!params.empty())
      add_set(op, "instance_attributes", ids_.fresh(id + "-instance_attributes"), params);
    while (w_.peek() == "op_params" || w_.peek() == "op_meta") {
      const bool meta = w_.next() == "op_meta";
      if (auto r = attribute_list(op, id, meta ? "meta_attributes" : "instance_attributes",
                                  meta ? "-meta_attributes" : "-instance_attributes");
          !r) {
        return r;
      }
    }
    operations.append_copy(op);
    return {};
  }

  // primitive, or rsc_template (a <template>: the same body, which primitives take with @ID).
  Result<std::vector<CibChange>> primitive(const char* tag) {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto rsc = doc.append_child(tag);
    rsc.append_attribute("id") = id->c_str();
    if (auto r = agent(rsc); !r) return r.error();
    if (auto r = resource_body(rsc, *id, true); !r) return r.error();
    return created("resources", rsc);
  }

  // params/meta/utilization/op lists and description=, as crmsh's match_arguments reads them.
  Result<void> resource_body(pugi::xml_node rsc, const string& id, bool with_ops) {
    pugi::xml_node operations;
    bool first = true;
    while (!w_.done()) {
      const string word = w_.peek();
      if (word.rfind("description=", 0) == 0) {
        rsc.append_attribute("description") = split_pair(w_.next())->value.c_str();
        continue;
      }
      Result<void> r;
      if (word == "params" || (first && split_pair(word))) {
        if (word == "params") w_.next();
        r = attribute_list(rsc, id, "instance_attributes", "-instance_attributes");
      } else if (word == "meta") {
        w_.next();
        r = attribute_list(rsc, id, "meta_attributes", "-meta_attributes");
      } else if (word == "utilization" && with_ops) {
        w_.next();
        r = attribute_list(rsc, id, "utilization", "-utilization");
      } else if (word == "operations" && with_ops && !operations) {
        w_.next();
        r = operations_head(rsc.append_child("operations"));
        operations = rsc.child("operations");
      } else if (word == "op" && with_ops && !operations.attribute("id-ref")) {
        if (!operations) operations = rsc.append_child("operations");
        // Ops in an operations $id=X are named after X, as crmsh names them.
        r = op(operations, operations.attribute("id") ? operations.attribute("id").value() : id);
      } else {
        return w_.error(with_ops ? "expected params, meta, utilization or op"
                                 : "expected params or meta");
      }
      if (!r) return r;
      first = false;
    }
    return {};
  }

  // ---- group, clone, ms --------------------------------------------------------------------

  // A resource that may go into a container: it must sit at the top of <resources>. A group and
  // a bundle hold primitives only.
  Result<pugi::xml_node> top_level_resource(string_view container) {
    const bool primitives_only = container != "clone";
    const std::size_t at = w_.pos();
    auto rsc = resource();
    if (!rsc) return rsc;
    string_view parent = rsc->parent().name();
    if (parent != "resources") {
      return w_.error_at(at, "'" + w_.at(at) + "' is already in " + string(parent) + " '" +
                                 rsc->parent().attribute("id").value() + "'");
    }
    string_view tag = rsc->name();
    if (primitives_only && tag != "primitive")
      return w_.error_at(at, "a " + string(container) + " holds only primitives");
    if (!primitives_only && tag != "primitive" && tag != "group") {
      return w_.error_at(at, "only a primitive or a group can be cloned");
    }
    return rsc;
  }

  Result<std::vector<CibChange>> contain(pugi::xml_node container,
                                         const std::vector<pugi::xml_node>& members) {
    std::vector<CibChange> changes;
    for (const auto& m : members) {
      changes.push_back(CibChange::remove("id:" + string(m.attribute("id").value())));
      container.append_copy(m);
    }
    changes.push_back(CibChange::create("/cib/configuration/resources", element_xml(container)));
    return changes;
  }

  Result<std::vector<CibChange>> group() {
    auto id = new_id();
    if (!id) return id.error();
    std::vector<pugi::xml_node> members;
    while (!w_.done() && !split_pair(w_.peek()) && w_.peek() != "params" && w_.peek() != "meta") {
      const std::size_t at = w_.pos();
      auto rsc = top_level_resource("group");
      if (!rsc) return rsc.error();
      if (std::find(members.begin(), members.end(), *rsc) != members.end()) {
        return w_.error_at(at, "listed twice");
      }
      members.push_back(*rsc);
    }
    if (members.empty()) return w_.error("a group needs at least one primitive");
    pugi::xml_document doc;
    auto g = doc.append_child("group");
    g.append_attribute("id") = id->c_str();
    if (auto r = resource_body(g, *id, false); !r) return r.error();
    return contain(g, members);
  }

  // modgroup GROUP add RSC [before|after MEMBER] | modgroup GROUP remove MEMBER: the group
  // written again with RSC in (at the end when no place is given) or out (back at the top).
  Result<std::vector<CibChange>> modgroup() {
    auto g = resource();
    if (!g) return g.error();
    if (string_view(g->name()) != "group") return w_.error_at(1, "not a group");
    const string how = w_.done() ? "" : ascii_lower(w_.next());
    if (how != "add" && how != "remove") return w_.error_at(2, "expected add or remove");
    const std::size_t at = w_.pos();
    auto rsc = how == "add" ? top_level_resource("group") : resource();
    if (!rsc) return rsc.error();
    if (how == "remove" && rsc->parent() != *g) return w_.error_at(at, "not a member of the group");
    pugi::xml_node place;  // the member RSC goes before
    if (!w_.done()) {
      const string where = ascii_lower(w_.next());
      if (how != "add" || (where != "before" && where != "after"))
        return w_.error_at(at + 1, "expected before or after (with add)");
      const std::size_t ref_at = w_.pos();
      auto ref = resource();
      if (!ref) return ref.error();
      if (ref->parent() != *g) return w_.error_at(ref_at, "not a member of the group");
      place = where == "before" ? *ref : ref->next_sibling("primitive");
      if (!w_.done()) return w_.error("unexpected words after the member");
    }
    pugi::xml_document doc;
    auto fresh = doc.append_copy(*g);
    const string id = rsc->attribute("id").value();
    const string group = "id:" + string(g->attribute("id").value());
    if (how == "remove") {
      fresh.remove_child(fresh.find_child_by_attribute("primitive", "id", id.c_str()));
      if (!fresh.child("primitive")) return w_.error_at(at, "a group needs at least one primitive");
      return std::vector<CibChange>{
          CibChange::replace(group, element_xml(fresh)),
          CibChange::create("/cib/configuration/resources", element_xml(*rsc))};
    }
    const auto before =
        place ? fresh.find_child_by_attribute("primitive", "id", place.attribute("id").value())
              : pugi::xml_node();
    before ? fresh.insert_copy_before(*rsc, before) : fresh.append_copy(*rsc);
    return std::vector<CibChange>{CibChange::remove("id:" + id),
                                  CibChange::replace(group, element_xml(fresh))};
  }

  Result<std::vector<CibChange>> clone(const string& command) {
    auto id = new_id();
    if (!id) return id.error();
    auto rsc = top_level_resource("clone");
    if (!rsc) return rsc.error();
    pugi::xml_document doc;
    auto c = doc.append_child(command == "clone" ? "clone" : "master");
    c.append_attribute("id") = id->c_str();
    if (auto r = resource_body(c, *id, false); !r) return r.error();
    return contain(c, {*rsc});
  }

  // bundle ID [description=…] docker|rkt|podman K=V… [network K=V… [port-mapping K=V…]…]
  //   [storage [storage-mapping K=V…]…] [meta …] [primitive RSC], parts in any order, as crmsh's
  //   match_container reads them: a part's pairs run to the next part's keyword; within network
  //   and storage each port-mapping / storage-mapping starts a child element that takes the pairs
  //   after it; a part named twice adds to the one element.
  Result<std::vector<CibChange>> bundle() {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto b = doc.append_child("bundle");
    b.append_attribute("id") = id->c_str();
    if (w_.peek().rfind("description=", 0) == 0)
      b.append_attribute("description") = split_pair(w_.next())->value.c_str();
    std::vector<pugi::xml_node> members;
    while (!w_.done()) {
      const std::size_t at = w_.pos();
      const string part = ascii_lower(w_.next());
      Result<void> r;
      if (part == "docker" || part == "rkt" || part == "podman" || part == "network" ||
          part == "storage") {
        r = bundle_part(b, part, at);
      } else if (part == "meta") {
        r = attribute_list(b, *id, "meta_attributes", "-meta_attributes");
      } else if (part == "primitive") {
        if (!members.empty()) return w_.error_at(at, "a bundle holds one primitive");
        auto rsc = top_level_resource("bundle");
        if (!rsc) return rsc.error();
        members.push_back(*rsc);
      } else {
        return w_.error_at(at, "expected docker, rkt, podman, network, storage, meta or primitive");
      }
      if (!r) return r.error();
    }
    int runtimes = 0;
    for (const char* runtime : {"docker", "rkt", "podman"}) runtimes += b.child(runtime) ? 1 : 0;
    if (runtimes != 1)
      return w_.error_at(1, "a bundle needs one container runtime: docker, rkt or podman");
    if (!b.child("docker").attribute("image") && !b.child("rkt").attribute("image") &&
        !b.child("podman").attribute("image"))
      return w_.error_at(1, "the container runtime needs image=");
    return contain(b, members);
  }

  // One part of a bundle (docker, rkt, podman, network, storage) and the pairs after it.
  Result<void> bundle_part(pugi::xml_node b, const string& part, std::size_t at) {
    auto element = b.child(part.c_str());
    if (!element) element = b.append_child(part.c_str());
    const bool mappings = part == "network" || part == "storage";
    const string child_tag = part == "network" ? "port-mapping" : "storage-mapping";
    pugi::xml_node target = part == "storage" ? pugi::xml_node() : element;
    for (; !w_.done(); w_.next()) {
      const string word = w_.peek();
      if (mappings && word == child_tag) {
        if (target && target != element && !target.attribute("id"))
          return w_.error(child_tag + " needs id=");
        target = element.append_child(child_tag.c_str());
        continue;
      }
      auto p = split_pair(word);
      if (!p) break;
      if (!target) return w_.error("storage takes storage-mapping entries, not attributes");
      if (target.attribute(p->name.c_str())) return w_.error("'" + p->name + "' given twice");
      if (p->name == "id") {
        if (!is_id(p->value) || ids_.used(p->value)) return w_.error("bad or used id");
        ids_.take(p->value);
      }
      target.append_attribute(p->name.c_str()) = p->value.c_str();
    }
    const string keywords = " docker rkt podman network storage meta primitive ";
    if (!w_.done() && keywords.find(" " + ascii_lower(w_.peek()) + " ") == string::npos)
      return w_.error("expected NAME=VALUE or the next part of the bundle");
    if (target && target != element && !target.attribute("id"))
      return w_.error_at(at, child_tag + " needs id=");
    return {};
  }

  // ---- constraints -------------------------------------------------------------------------

  Result<pugi::xml_node> rule(pugi::xml_node parent, const string& owner) {
    w_.next();  // "rule"
    auto r = parent.append_child("rule");
    // `rule $id-ref=ID`: the rule ID, defined elsewhere, stands here too.
    if (auto p = split_pair(w_.peek()); p && p->name == "$id-ref") {
      auto named = cib_.find_id(p->value);
      if (string_view(named.name()) != "rule") return w_.error("$id-ref names no rule");
      r.append_attribute("id-ref") = p->value.c_str();
      w_.next();
      return r;
    }
    string id, role;
    while (auto p = split_pair(w_.peek())) {
      if (p->name == "$id" && id.empty()) {
        if (!is_id(p->value) || ids_.used(p->value)) return w_.error("bad or used $id");
        id = p->value;
        ids_.take(id);
      } else if ((p->name == "$role" || p->name == "role") && role.empty()) {
        auto canon = canonical(p->value, kRoles);
        if (!canon) return w_.error("unknown role");
        role = *canon;
      } else {
        break;
      }
      w_.next();
    }
    r.append_attribute("id") = (id.empty() ? ids_.fresh(owner + "-rule") : id).c_str();
    if (!role.empty()) r.append_attribute("role") = role.c_str();
    Pair s{"score", "INFINITY"};
    if (at_score()) {
      string token = w_.peek();
      token.pop_back();
      auto parsed = score(w_.pos(), token, true);
      if (!parsed) return parsed.error();
      s = *parsed;
      w_.next();
    }
    r.append_attribute(s.name.c_str()) = s.value.c_str();
    string bool_op;
    for (;;) {
      if (auto e = expression(r); !e) return e.error();
      const string word = ascii_lower(w_.peek());
      if (word != "and" && word != "or") break;
      if (!bool_op.empty() && word != bool_op)
        return w_.error("and and or cannot be mixed in one rule");
      bool_op = word;
      w_.next();
    }
    if (bool_op == "or") r.append_attribute("boolean-op") = "or";
    return r;
  }

  Result<void> expression(pugi::xml_node rule) {
    if (w_.done()) return w_.error("expected an expression");
    const string first = w_.peek();
    if (ascii_lower(first) == "date") return date_expression(rule);
    auto e = rule.append_child("expression");
    e.append_attribute("id") =
        ids_.fresh(string(rule.attribute("id").value()) + "-expression").c_str();
    if (first == "defined" || first == "not_defined") {
      w_.next();
      if (w_.done()) return w_.error("expected an attribute name");
      e.append_attribute("attribute") = w_.next().c_str();
      e.append_attribute("operation") = first.c_str();
      return {};
    }
    e.append_attribute("attribute") = w_.next().c_str();
    string op = ascii_lower(w_.peek()), type;
    if (auto colon = op.find(':'); colon != string::npos) {
      type = op.substr(0, colon);
      op = op.substr(colon + 1);
      if (!canonical(type, kExprTypes)) return w_.error("unknown type '" + type + "'");
    }
    if (!canonical(op, kBinaryOps)) return w_.error("expected lt, gt, lte, gte, eq or ne");
    w_.next();
    if (w_.done()) return w_.error("expected a value");
    e.append_attribute("operation") = op.c_str();
    if (!type.empty()) e.append_attribute("type") = type.c_str();
    e.append_attribute("value") = w_.next().c_str();
    return {};
  }

  // date lt END | date gt START | date in start=S (end=E | DURATION…) | date spec DATE_SPEC…
  Result<void> date_expression(pugi::xml_node rule) {
    static constexpr std::array<string_view, 7> kDuration = {
        "years", "months", "weeks", "days", "hours", "minutes", "seconds"};
    static constexpr std::array<string_view, 11> kSpec = {
        "years", "months", "weeks", "weekyears", "yeardays", "monthdays",
        "weekdays", "hours", "minutes", "seconds", "moon"};
    w_.next();  // "date"
    const string op = ascii_lower(w_.peek());
    auto e = rule.append_child("date_expression");
    const string id = ids_.fresh(string(rule.attribute("id").value()) + "-expression");
    e.append_attribute("id") = id.c_str();
    if (op == "lt" || op == "gt") {
      w_.next();
      if (w_.done()) return w_.error("expected a date");
      e.append_attribute("operation") = op.c_str();
      e.append_attribute(op == "lt" ? "end" : "start") = w_.next().c_str();
      return {};
    }
    const bool range = op == "in" || op == "in_range";
    if (!range && op != "spec" && op != "date_spec")
      return w_.error("expected lt, gt, in or spec after date");
    w_.next();
    e.append_attribute("operation") = range ? "in_range" : "date_spec";
    pugi::xml_node fields;
    const std::size_t first = w_.pos();
    for (auto p = split_pair(w_.peek()); p; w_.next(), p = split_pair(w_.peek())) {
      if (range && (p->name == "start" || p->name == "end")) {
        if (e.attribute(p->name.c_str())) return w_.error("'" + p->name + "' given twice");
        e.append_attribute(p->name.c_str()) = p->value.c_str();
        continue;
      }
      if (!(range ? canonical(p->name, kDuration) : canonical(p->name, kSpec))) break;
      if (!fields) {
        fields = e.append_child(range ? "duration" : "date_spec");
        fields.append_attribute("id") = ids_.fresh(id + (range ? "-duration" : "-date_spec")).c_str();
      }
      if (fields.attribute(p->name.c_str())) return w_.error("'" + p->name + "' given twice");
      fields.append_attribute(p->name.c_str()) = p->value.c_str();
    }
    if (!range && !fields) return w_.error_at(first, "expected date_spec fields (hours=9-16 …)");
    if (range && !e.attribute("start") && !e.attribute("end"))
      return w_.error_at(first, "expected start= or end=");
    return {};
  }

  Result<std::vector<CibChange>> location() {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto loc = doc.append_child("rsc_location");
    loc.append_attribute("id") = id->c_str();
    if (auto r = located(loc, *id); !r) return r.error();
    while (auto p = split_pair(w_.peek())) {
      string name = p->name[0] == '$' ? p->name.substr(1) : p->name;
      if (name == "role") {
        auto role = canonical(p->value, kRoles);
        if (!role) return w_.error("unknown role");
        p->value = *role;
      } else if (name != "resource-discovery") {
        return w_.error("expected role=, resource-discovery=, a score or rule");
      }
      loc.append_attribute(name.c_str()) = p->value.c_str();
      w_.next();
    }
    if (at_score()) {
      string token = w_.peek();
      token.pop_back();
      auto s = score(w_.pos(), token, false);
      if (!s) return s.error();
      w_.next();
      if (w_.done()) return w_.error("expected a node name after the score");
      loc.append_attribute(s->name.c_str()) = s->value.c_str();
      loc.append_attribute("node") = w_.next().c_str();
      if (!w_.done()) return w_.error("unexpected word after the node");
      return created("constraints", loc);
    }
    if (w_.peek() != "rule") return w_.error("expected <score>: <node> or rule");
    while (w_.peek() == "rule") {
      if (auto r = rule(loc, *id); !r) return r.error();
    }
    if (!w_.done()) return w_.error("expected rule");
    return created("constraints", loc);
  }

  // What a location places: RSC, /PATTERN/ (rsc-pattern) or { SETS } (resource sets, crmsh's
  // colocation set syntax inside the braces).
  Result<void> located(pugi::xml_node loc, const string& id) {
    const string word = w_.peek();
    if (word.size() > 2 && word.front() == '/' && word.back() == '/') {
      loc.append_attribute("rsc-pattern") = word.substr(1, word.size() - 2).c_str();
      w_.next();
      return {};
    }
    if (word != "{") {
      auto rsc = resource();
      if (!rsc) return rsc.error();
      loc.append_attribute("rsc") = rsc->attribute("id").value();
      return {};
    }
    const std::size_t open = w_.pos();
    std::size_t close = open + 1;
    while (close < w_.size() && w_.at(close) != "}") ++close;
    if (close == w_.size()) return w_.error_at(open, "unclosed {");
    w_.next();
    if (auto r = resource_sets(loc, id, true, close, 1); !r) return r;
    w_.next();  // "}"
    return {};
  }

  // RSC[:QUALIFIER] where the qualifier is a role or an action.
  Result<Pair> reference(std::size_t at, const string& word, bool roles) {
    auto colon = word.find(':');
    const string rsc = word.substr(0, colon);
    auto n = cib_.find_id(rsc);
    string_view tag = n.name();
    if (!n || !(tag == "primitive" || tag == "group" || tag == "clone" || tag == "master" ||
                tag == "bundle" || tag == "template" || tag == "tag")) {
      return w_.error_at(at, "no such resource '" + rsc + "'");
    }
    if (colon == string::npos) return Pair{rsc, ""};
    const string q = word.substr(colon + 1);
    auto canon = roles ? canonical(q, kRoles) : canonical(q, kActions);
    if (!canon)
      return w_.error_at(at, string(roles ? "unknown role '" : "unknown action '") + q + "'");
    return Pair{rsc, *canon};
  }

  // The resources of a colocation or order: two simple references or resource sets.
  Result<void> members(pugi::xml_node c, const string& id, bool roles) {
    const char* first = roles ? "rsc" : "first";
    const char* second = roles ? "with-rsc" : "then";
    const bool forced_set = w_.peek() == "_rsc_set_";
    if (forced_set) w_.next();
    const std::size_t left = w_.size() - w_.pos();
    bool plain = !forced_set && left == 2;
    for (std::size_t i = w_.pos(); plain && i < w_.size(); ++i) {
      const string& t = w_.at(i);
      plain = t.find_first_of("()[]") == string::npos;
    }
    if (plain) {
      for (const char* attr : {first, second}) {
        const std::size_t at = w_.pos();
        auto ref = reference(at, w_.next(), roles);
        if (!ref) return ref.error();
        c.append_attribute(attr) = ref->name.c_str();
        if (!ref->value.empty()) {
          c.append_attribute((string(attr) + (roles ? "-role" : "-action")).c_str()) =
              ref->value.c_str();
        }
      }
      return {};
    }
    return resource_sets(c, id, roles, w_.size(), 2);
  }

  struct OpenSet {
    std::vector<string> refs;
    string qualifier;
    bool sequential = true, require_all = true;
  };

  void close_set(pugi::xml_node c, const string& id, bool roles, OpenSet& s) {
    if (s.refs.empty()) return;
    auto set = c.append_child("resource_set");
    set.append_attribute("id") = ids_.fresh(id).c_str();
    if (!s.require_all) set.append_attribute("require-all") = "false";
    if (!s.sequential) set.append_attribute("sequential") = "false";
    if (!s.qualifier.empty()) set.append_attribute(roles ? "role" : "action") = s.qualifier.c_str();
    for (const auto& r : s.refs)
      set.append_child("resource_ref").append_attribute("id") = r.c_str();
    s = OpenSet{};
  }

  // crmsh's set syntax: resources in a row form a sequential set (a new set starts when the role
  // or action changes); ( … ) is a non-sequential set, [ … ] one that does not require all.
  // The words up to `end` are read; together the sets name at least `least` resources.
  Result<void> resource_sets(pugi::xml_node c, const string& id, bool roles, std::size_t end,
                             std::size_t least) {
    OpenSet s;
    char open = 0;
    // "(a" and "b)" are read as "(", "a" and "b", ")".
    std::vector<std::pair<std::size_t, string>> tokens;
    for (std::size_t i = w_.pos(); i < end; ++i) {
      string t = w_.at(i);
      if (t.size() > 1 && (t[0] == '(' || t[0] == '[')) {
        tokens.emplace_back(i, t.substr(0, 1));
        t = t.substr(1);
      }
      string close;
      if (t.size() > 1 && (t.back() == ')' || t.back() == ']')) {
        close = t.substr(t.size() - 1);
        t.pop_back();
      }
      tokens.emplace_back(i, t);
      if (!close.empty()) tokens.emplace_back(i, close);
    }
    for (const auto& [at, t] : tokens) {
      if (t == "(" || t == "[") {
        if (open) return w_.error_at(at, "resource sets cannot nest");
        close_set(c, id, roles, s);
        open = t[0];
        s.sequential = false;
        s.require_all = t != "[";
      } else if (t == ")" || t == "]") {
        if (!open) return w_.error_at(at, "unmatched " + t);
        if ((open == '(') != (t == ")")) return w_.error_at(at, "mismatched " + t);
        close_set(c, id, roles, s);
        open = 0;
      } else if (auto p = split_pair(t)) {
        auto b = boolean(p->value);
        if (!open || !b || (p->name != "sequential" && p->name != "require-all")) {
          return w_.error_at(at, "expected a resource, ( or [");
        }
        (p->name == "sequential" ? s.sequential : s.require_all) = *b == "true";
      } else {
        auto ref = reference(at, t, roles);
        if (!ref) return ref.error();
        if (!open && !s.refs.empty() && ref->value != s.qualifier) close_set(c, id, roles, s);
        if (open && !s.refs.empty() && ref->value != s.qualifier) {
          return w_.error_at(at, "one set has one role or action");
        }
        s.qualifier = ref->value;
        s.refs.push_back(ref->name);
      }
    }
    if (open) return w_.error_at(end, string("unclosed ") + open);
    close_set(c, id, roles, s);
    std::size_t refs = 0;
    for (auto set : c.children("resource_set")) {
      refs += static_cast<std::size_t>(
          std::distance(set.children("resource_ref").begin(), set.children("resource_ref").end()));
    }
    if (refs < least)
      return w_.error_at(end, least == 1 ? "expected a resource"
                                         : "expected two resources or resource sets");
    w_.skip_to(end);
    return {};
  }

  // A trailing name=value option (symmetrical=, node-attribute=), taken off the end as crmsh does.
  std::optional<string> tail_option(const char* name) {
    if (w_.size() <= w_.pos()) return std::nullopt;
    auto p = split_pair(w_.at(w_.size() - 1));
    if (!p || p->name != name) return std::nullopt;
    w_.drop_last();
    return p->value;
  }

  Result<std::vector<CibChange>> colocation() {
    auto id = new_id();
    if (!id) return id.error();
    if (!at_score()) return w_.error("expected <score>:");
    string token = w_.peek();
    token.pop_back();
    // Pacemaker's schema has no score-attribute on a colocation: a name is no score here.
    auto s = score(w_.pos(), token, false);
    if (!s) return s.error();
    w_.next();
    pugi::xml_document doc;
    auto c = doc.append_child("rsc_colocation");
    c.append_attribute("id") = id->c_str();
    c.append_attribute(s->name.c_str()) = s->value.c_str();
    if (auto attr = tail_option("node-attribute"))
      c.append_attribute("node-attribute") = attr->c_str();
    if (auto r = members(c, *id, true); !r) return r.error();
    return created("constraints", c);
  }

  Result<std::vector<CibChange>> order() {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto o = doc.append_child("rsc_order");
    o.append_attribute("id") = id->c_str();
    if (at_score()) {
      string token = w_.peek();
      token.pop_back();
      if (auto kind = canonical(token, kKinds)) {
        o.append_attribute("kind") = kind->c_str();
      } else {
        auto s = score(w_.pos(), token, false);
        if (!s) return w_.error("expected Mandatory, Optional, Serialize or a score");
        o.append_attribute("kind") = s->value == "0" ? "Optional" : "Mandatory";
      }
      w_.next();
    }
    const std::size_t last = w_.size() - 1;
    if (auto sym = tail_option("symmetrical")) {
      auto b = boolean(*sym);
      if (!b) return w_.error_at(last, "symmetrical takes true or false");
      o.append_attribute("symmetrical") = b->c_str();
    }
    if (auto r = members(o, *id, false); !r) return r.error();
    return created("constraints", o);
  }

  // rsc_ticket ID TICKET: RSC[:ROLE] [RSC[:ROLE]…] [loss-policy=POLICY]: one resource as rsc and
  // rsc-role, more as resource sets (crmsh's colocation set syntax).
  Result<std::vector<CibChange>> rsc_ticket() {
    auto id = new_id();
    if (!id) return id.error();
    if (!at_score()) return w_.error("expected TICKET:");
    string ticket = w_.next();
    ticket.pop_back();
    pugi::xml_document doc;
    auto t = doc.append_child("rsc_ticket");
    t.append_attribute("id") = id->c_str();
    t.append_attribute("ticket") = ticket.c_str();
    const std::size_t last = w_.size() - 1;
    if (auto policy = tail_option("loss-policy")) {
      if (*policy != "stop" && *policy != "demote" && *policy != "fence" && *policy != "freeze")
        return w_.error_at(last, "loss-policy is stop, demote, fence or freeze");
      t.append_attribute("loss-policy") = policy->c_str();
    }
    if (w_.size() - w_.pos() == 1 && w_.peek().find_first_of("()[]") == string::npos) {
      auto ref = reference(w_.pos(), w_.peek(), true);
      if (!ref) return ref.error();
      w_.next();
      t.append_attribute("rsc") = ref->name.c_str();
      if (!ref->value.empty()) t.append_attribute("rsc-role") = ref->value.c_str();
    } else if (auto r = resource_sets(t, *id, true, w_.size(), 1); !r) {
      return r.error();
    }
    return created("constraints", t);
  }

  // tag ID[:] RSC… → <tags><tag id><obj_ref id/>…</tag></tags>
  Result<std::vector<CibChange>> tag() {
    if (ends_with(w_.peek(), ":")) {
      string id = w_.peek();
      id.pop_back();
      if (!is_id(id)) return w_.error("not a valid id");
      if (ids_.used(id)) return w_.error("id '" + id + "' is already in use");
      ids_.take(id);
      w_.next();
      return tag_of(id);
    }
    auto id = new_id();
    if (!id) return id.error();
    return tag_of(*id);
  }

  Result<std::vector<CibChange>> tag_of(const string& id) {
    pugi::xml_document doc;
    auto t = doc.append_child("tag");
    t.append_attribute("id") = id.c_str();
    std::set<string> seen;
    // A tag names resources or constraints (crmsh's `tag ones l1 p1`).
    for (; !w_.done(); w_.next()) {
      auto named = cib_.find_id(w_.peek());
      const string_view parent = named.parent().name();
      if (!named || (parent != "resources" && parent != "constraints" &&
                     string_view(named.name()) != "primitive"))
        return w_.error("no such resource or constraint");
      if (!seen.insert(w_.peek()).second) return w_.error("listed twice");
      t.append_child("obj_ref").append_attribute("id") = w_.peek().c_str();
    }
    if (seen.empty()) return w_.error("a tag needs at least one resource");
    return in_section("tags", t);
  }

  // monitor RSC[:ROLE] INTERVAL[:TIMEOUT]: an op monitor added to the primitive RSC.
  Result<std::vector<CibChange>> monitor() {
    if (w_.size() != 3) return w_.error_at(std::min<std::size_t>(w_.size(), 3),
                                           "usage: monitor RSC[:ROLE] INTERVAL[:TIMEOUT]");
    const string target = w_.peek();
    const auto colon = target.find(':');
    const string id = target.substr(0, colon);
    auto rsc = cib_.find_id(id);
    if (string_view(rsc.name()) != "primitive") return w_.error("no primitive '" + id + "'");
    pugi::xml_document doc;
    auto op = doc.append_child("op");
    op.append_attribute("name") = "monitor";
    if (colon != string::npos) {
      auto role = canonical(target.substr(colon + 1), kRoles);
      if (!role) return w_.error("unknown role '" + target.substr(colon + 1) + "'");
      op.append_attribute("role") = role->c_str();
    }
    w_.next();
    const string timing = w_.peek();
    const auto split = timing.find(':');
    const string interval = timing.substr(0, split);
    if (interval.empty() || (split != string::npos && split + 1 == timing.size()))
      return w_.error("expected INTERVAL[:TIMEOUT]");
    op.append_attribute("interval") = interval.c_str();
    if (split != string::npos) op.append_attribute("timeout") = timing.substr(split + 1).c_str();
    op.append_attribute("id") = ids_.fresh(id + "-monitor-" + interval).c_str();
    const string owner = "//primitive[@id='" + id + "']";
    if (rsc.child("operations"))
      return std::vector<CibChange>{CibChange::create(owner + "/operations", element_xml(op))};
    pugi::xml_document ops;
    ops.append_child("operations").append_copy(op);
    return std::vector<CibChange>{CibChange::create(owner, element_xml(ops.first_child()))};
  }

  // ---- alert -------------------------------------------------------------------------------
  // alert ID PATH [description=…] [attributes …] [meta …] [select KIND… [attributes { NAME… }]]
  //       [to [{] PATH [description=…] [attributes …] [meta …] [}]]…
  // Sets after `to PATH` belong to that recipient (crmsh's reading; it shows braces only where
  // that would be ambiguous).
  Result<std::vector<CibChange>> alert() {
    auto id = new_id();
    if (!id) return id.error();
    if (w_.done()) return w_.error("expected the path of the alert agent");
    pugi::xml_document doc;
    auto a = doc.append_child("alert");
    a.append_attribute("id") = id->c_str();
    a.append_attribute("path") = w_.next().c_str();
    description(a);
    int recipients = 0;
    pugi::xml_node select;
    while (!w_.done()) {
      const string word = w_.peek();
      if (word == "attributes" || word == "meta") {
        if (auto r = alert_set(a, *id); !r) return r.error();
      } else if (word == "select") {
        w_.next();
        select = a.append_child("select");
        if (auto r = alert_select(select, *id); !r) return r.error();
      } else if (word == "to") {
        w_.next();
        const bool brace = w_.peek() == "{";
        if (brace) w_.next();
        if (w_.done() || w_.peek() == "}") return w_.error("expected the recipient");
        auto to = a.append_child("recipient");
        const string rid = *id + "-recipient-" + std::to_string(++recipients);
        ids_.take(rid);
        to.append_attribute("id") = rid.c_str();
        to.append_attribute("value") = w_.next().c_str();
        description(to);
        while (w_.peek() == "attributes" || w_.peek() == "meta") {
          if (auto r = alert_set(to, rid); !r) return r.error();
        }
        if (brace && w_.peek() != "}") return w_.error("expected }");
        if (brace) w_.next();
      } else {
        return w_.error("expected attributes, meta, select or to");
      }
    }
    return in_section("alerts", a);
  }

  void description(pugi::xml_node n) {
    if (auto p = split_pair(w_.peek()); p && p->name == "description") {
      n.append_attribute("description") = p->value.c_str();
      w_.next();
    }
  }

  Result<void> alert_set(pugi::xml_node owner, const string& id) {
    const bool meta = w_.next() == "meta";
    return attribute_list(owner, id, meta ? "meta_attributes" : "instance_attributes",
                          meta ? "-meta_attributes" : "-instance_attributes");
  }

  // select nodes|fencing|resources|attributes [{ NAME… }]…; `attributes` without a brace ends
  // the selection (it is then the alert's attributes).
  Result<void> alert_select(pugi::xml_node select, const string& id) {
    const std::size_t first = w_.pos();
    for (;;) {
      const string kind = w_.peek();
      if (kind == "attributes" && (w_.pos() + 1 >= w_.size() || w_.at(w_.pos() + 1) != "{")) break;
      if (kind != "nodes" && kind != "fencing" && kind != "resources" && kind != "attributes") break;
      w_.next();
      auto chosen = select.append_child(("select_" + kind).c_str());
      if (kind != "attributes") continue;
      w_.next();  // "{"
      while (!w_.done() && w_.peek() != "}") {
        auto attribute = chosen.append_child("attribute");
        attribute.append_attribute("name") = w_.next().c_str();
        attribute.append_attribute("id") = ids_.fresh(id).c_str();
      }
      if (w_.done()) return w_.error("unclosed {");
      w_.next();
    }
    if (!select.first_child())
      return w_.error_at(first, "expected nodes, fencing, resources or attributes { … }");
    return {};
  }

  // ---- acls --------------------------------------------------------------------------------
  // role ID [description=…] (read|write|deny) [description=…] SPEC…  …
  // SPEC: xpath:X ref:ID type:TAG attr:NAME, or a shortcut (cib, meta:RSC:NAME…) for an xpath.
  // As crmsh, one rule naming several of xpath, ref and type becomes one permission for each.
  Result<std::vector<CibChange>> role() {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto r = doc.append_child("acl_role");
    r.append_attribute("id") = id->c_str();
    description(r);
    if (w_.done()) return w_.error("expected read, write or deny");
    while (!w_.done()) {
      const string kind = ascii_lower(w_.peek());
      if (kind != "read" && kind != "write" && kind != "deny")
        return w_.error("expected read, write or deny");
      w_.next();
      pugi::xml_document scratch;
      auto rule = scratch.append_child("acl_permission");
      description(rule);
      std::map<string, string> specs;
      for (; !w_.done(); w_.next()) {
        auto spec = acl_spec(w_.peek());
        if (!spec) return spec.error();
        if (spec->name.empty()) break;
        specs[spec->name] = spec->value;
      }
      if (specs.empty()) return w_.error("expected xpath:, ref:, type: or attr:");
      if (specs.count("attribute") && !specs.count("object-type"))
        return w_.error_at(w_.pos() - 1, "attr: goes with type:");
      for (const char* one : {"xpath", "reference", "object-type"}) {
        if (!specs.count(one)) continue;
        auto permission = r.append_child("acl_permission");
        permission.append_attribute("kind") = kind.c_str();
        if (auto d = rule.attribute("description"))
          permission.append_attribute("description") = d.value();
        permission.append_attribute(one) = specs[one].c_str();
        if (string_view(one) == "object-type" && specs.count("attribute"))
          permission.append_attribute("attribute") = specs["attribute"].c_str();
        permission.append_attribute("id") = ids_.fresh(*id).c_str();
      }
    }
    return in_section("acls", r);
  }

  // One word of an ACL rule as (attribute, value); an empty name when the word is no spec.
  Result<Pair> acl_spec(const string& word) {
    const auto colon = word.find(':');
    const string key = ascii_lower(word.substr(0, colon));
    if (is_acl_shortcut(key)) {
      std::vector<string> args;
      for (std::size_t from = colon; from != string::npos;) {
        const auto next = word.find(':', from + 1);
        args.push_back(word.substr(from + 1, next == string::npos ? string::npos : next - from - 1));
        from = next;
      }
      auto xpath = acl_shortcut_xpath(key, args);
      if (!xpath) return w_.error(xpath.error().message);
      return Pair{"xpath", *xpath};
    }
    const char* attribute = key == "xpath"                        ? "xpath"
                            : key == "ref" || key == "reference"  ? "reference"
                            : key == "tag" || key == "type"       ? "object-type"
                            : key == "attr" || key == "attribute" ? "attribute"
                                                                  : nullptr;
    if (!attribute) return Pair{};
    if (colon == string::npos || colon + 1 == word.size())
      return w_.error("expected " + key + ":VALUE");
    return Pair{attribute, word.substr(colon + 1)};
  }

  // acl_target|acl_group ID ROLE…
  Result<std::vector<CibChange>> acl_member(const char* tag) {
    auto id = new_id();
    if (!id) return id.error();
    pugi::xml_document doc;
    auto t = doc.append_child(tag);
    t.append_attribute("id") = id->c_str();
    for (; !w_.done(); w_.next()) {
      if (string_view(cib_.find_id(w_.peek()).name()) != "acl_role")
        return w_.error("no role '" + w_.peek() + "'");
      t.append_child("role").append_attribute("id") = w_.peek().c_str();
    }
    return in_section("acls", t);
  }

  // `element` created in the configuration section `section` (tags, alerts, acls), which is made
  // first when the CIB has none.
  std::vector<CibChange> in_section(const char* section, const pugi::xml_node& element) {
    std::vector<CibChange> changes;
    if (!cib_.configuration().child(section))
      changes.push_back(CibChange::create("/cib/configuration", "<" + string(section) + "/>"));
    changes.push_back(
        CibChange::create(string("/cib/configuration/") + section, element_xml(element)));
    return changes;
  }

  // ---- fencing_topology ---------------------------------------------------------------------
  // crmsh: `fencing_topology [TARGET] DEVICES[,DEVICES…] … [TARGET …]`, where TARGET is NODE:,
  // attr:NAME=VALUE or pattern:REGEX (no colon after those two: crmsh reads "pattern:x:" as the
  // pattern "x:"), and every space-separated word after it is one level
  // (the devices of a level, comma-separated, must all succeed). Without a target the levels apply
  // to every node in the CIB's node list. The whole topology is one object: it replaces none.

  struct FenceTarget {
    const char* attribute;  // target, target-attribute or target-pattern
    string value, attribute_value;
  };

  static bool is_fence_target(const string& word) {
    const string lower = ascii_lower(word);
    return ends_with(word, ":") || lower.rfind("attr:", 0) == 0 || lower.rfind("pattern:", 0) == 0;
  }

  Result<FenceTarget> fence_target(const string& word) {
    const string lower = ascii_lower(word);
    if (lower.rfind("attr:", 0) == 0) {
      auto p = split_pair(string_view(word).substr(5));
      auto plain = [](const string& s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        });
      };
      if (!p || !plain(p->name) || !plain(p->value)) return w_.error("expected attr:NAME=VALUE");
      return FenceTarget{"target-attribute", p->name, p->value};
    }
    if (lower.rfind("pattern:", 0) == 0) {
      if (word.size() == 8) return w_.error("expected pattern:REGEX");
      return FenceTarget{"target-pattern", word.substr(8), ""};
    }
    if (word.size() == 1) return w_.error("expected a node name before ':'");
    return FenceTarget{"target", word.substr(0, word.size() - 1), ""};
  }

  Result<string> fence_devices() {
    const string word = w_.peek();
    std::size_t from = 0;
    while (from <= word.size()) {
      const auto comma = std::min(word.find(',', from), word.size());
      const string id = word.substr(from, comma - from);
      auto device = cib_.find_id(id);
      if (id.empty() || !device || string_view(device.name()) != "primitive" ||
          string_view(device.attribute("class").value()) != "stonith")
        return w_.error("'" + id + "' is not a stonith resource");
      from = comma + 1;
    }
    w_.next();
    return word;
  }

  Result<std::vector<CibChange>> fencing_topology() {
    if (cib_.configuration().child("fencing-topology"))
      return w_.error_at(0, "a fencing_topology exists; delete fencing_topology first");
    if (w_.done()) return w_.error("expected [TARGET:] DEVICES …");
    pugi::xml_document doc;
    auto topology = doc.append_child("fencing-topology");
    std::vector<FenceTarget> targets;
    std::vector<std::vector<string>> levels;
    while (!w_.done()) {
      if (is_fence_target(w_.peek())) {
        if (targets.empty() && !levels.empty())
          return w_.error("give every level a target, or none at all");
        auto t = fence_target(w_.peek());
        if (!t) return t.error();
        targets.push_back(std::move(*t));
        levels.emplace_back();
        w_.next();
        continue;
      }
      if (targets.empty() && levels.empty()) levels.emplace_back();
      auto devices = fence_devices();
      if (!devices) return devices.error();
      levels.back().push_back(std::move(*devices));
    }
    if (targets.empty()) {
      std::set<string> unames;  // crmsh takes the nodes sorted by name
      for (auto n : cib_.configuration().child("nodes").children("node"))
        unames.insert(n.attribute("uname").value());
      for (const auto& uname : unames) targets.push_back({"target", uname, ""});
      if (targets.empty()) return w_.error_at(1, "no target given and no nodes in the CIB");
      levels.resize(targets.size(), levels.front());
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (levels[i].empty()) return w_.error("target '" + targets[i].value + "' has no devices");
      for (std::size_t l = 0; l < levels[i].size(); ++l) {
        auto level = topology.append_child("fencing-level");
        level.append_attribute("id") = ids_.fresh("fencing").c_str();
        level.append_attribute(targets[i].attribute) = targets[i].value.c_str();
        if (!targets[i].attribute_value.empty())
          level.append_attribute("target-value") = targets[i].attribute_value.c_str();
        level.append_attribute("index") = std::to_string(l + 1).c_str();
        level.append_attribute("devices") = levels[i][l].c_str();
      }
    }
    return std::vector<CibChange>{CibChange::create("/cib/configuration", element_xml(topology))};
  }

  // ---- property, rsc_defaults, op_defaults -------------------------------------------------

  Result<std::vector<CibChange>> property_set(const string& command) {
    const bool property = command == "property";
    string id;
    if (at_score()) {
      id = w_.next();
      id.pop_back();
    } else if (auto p = split_pair(w_.peek()); p && p->name == "$id") {
      id = p->value;
      w_.next();
    }
    const string section = property ? "crm_config" : command;
    const char* set_tag = property ? "cluster_property_set" : "meta_attributes";
    if (w_.peek() == "--delete") return delete_pairs(section, set_tag, id);
    if (id.empty())
      id = property                    ? "cib-bootstrap-options"
           : command == "rsc_defaults" ? "rsc-options"
                                       : "op-options";
    if (!is_id(id)) return w_.error_at(1, "not a valid id");
    auto sec = cib_.configuration().child(section.c_str());
    auto set = sec.find_child_by_attribute(set_tag, "id", id.c_str());
    if (!set && ids_.used(id)) return w_.error_at(1, "id '" + id + "' is already in use");
    // Rules (`property ID: rule #uname eq n1 k=v`) come with a new set only.
    pugi::xml_document rules;
    auto holder = rules.append_child(set_tag);
    while (w_.peek() == "rule") {
      if (set) return w_.error("set '" + id + "' exists: rules come with a new set");
      if (auto r = rule(holder, id); !r) return r.error();
    }
    const std::size_t first = w_.pos();
    auto nv = pairs();
    if (!w_.done()) return w_.error("expected name=value");
    if (nv.empty()) return w_.error_at(first, "expected name=value");
    std::vector<CibChange> changes;
    if (!sec) changes.push_back(CibChange::create("/cib/configuration", "<" + section + "/>"));
    if (!set) {
      pugi::xml_document doc;
      ids_.take(id);
      // Later pairs win over earlier ones with the same name.
      std::vector<Pair> unique;
      for (const auto& p : nv) {
        auto same = std::find_if(unique.begin(), unique.end(),
                                 [&](const Pair& u) { return u.name == p.name; });
        if (same != unique.end())
          same->value = p.value;
        else
          unique.push_back(p);
      }
      auto fresh = doc.append_child(set_tag);
      fresh.append_attribute("id") = id.c_str();
      for (auto r : holder.children("rule")) fresh.append_copy(r);
      add_pairs(fresh, unique);
      changes.push_back(
          CibChange::create("/cib/configuration/" + section, element_xml(doc.first_child())));
      return changes;
    }
    for (const auto& p : nv) {
      auto existing = set.find_child_by_attribute("nvpair", "name", p.name.c_str());
      pugi::xml_document doc;
      auto n = doc.append_child("nvpair");
      if (existing && existing.attribute("id")) {
        n.append_attribute("id") = existing.attribute("id").value();
        n.append_attribute("value") = p.value.c_str();
        changes.push_back(
            CibChange::modify("id:" + string(existing.attribute("id").value()), element_xml(n)));
        continue;
      }
      n.append_attribute("name") = p.name.c_str();
      n.append_attribute("value") = p.value.c_str();
      n.append_attribute("id") = ids_.fresh(id + "-" + p.name).c_str();
      changes.push_back(CibChange::create("id:" + id, element_xml(n)));
    }
    return changes;
  }

  // `property [ID:] --delete NAME…` (as crm_attribute --delete): every pair NAME of the set ID,
  // or of every set of the section when no ID is given.
  Result<std::vector<CibChange>> delete_pairs(const string& section, const char* set_tag,
                                              const string& id) {
    w_.next();  // --delete
    if (w_.done()) return w_.error("expected the names to delete");
    std::vector<CibChange> changes;
    for (; !w_.done(); w_.next()) {
      const string name = w_.peek();
      bool found = false;
      for (auto set : cib_.configuration().child(section.c_str()).children(set_tag)) {
        if (!id.empty() && id != set.attribute("id").value()) continue;
        for (auto nv : set.children("nvpair")) {
          if (name != nv.attribute("name").value()) continue;
          changes.push_back(CibChange::remove("id:" + string(nv.attribute("id").value())));
          found = true;
        }
      }
      if (!found) return w_.error("not set in " + section);
    }
    return changes;
  }

  // ---- delete, rename, erase ---------------------------------------------------------------

  // What else goes when `n` goes: a container left empty, constraints naming a removed resource.
  void removal(pugi::xml_node n, std::vector<pugi::xml_node>& doomed) {
    // An emptied group or clone goes too (Pacemaker's schema wants at least one member).
    for (auto parent = n.parent();; parent = n.parent()) {
      string_view tag = parent.name();
      if (tag != "group" && tag != "clone" && tag != "master") break;
      int members = 0;
      for (auto c : parent.children()) {
        string_view t = c.name();
        members += t == "primitive" || t == "group";
      }
      if (members > 1) break;
      n = parent;
    }
    doomed.push_back(n);
    std::set<string> gone;
    n.find_node([&](const pugi::xml_node& d) {
      string_view t = d.name();
      if (t == "primitive" || t == "group" || t == "clone" || t == "master")
        gone.insert(d.attribute("id").value());
      return false;
    });
    gone.insert(n.attribute("id").value());
    for (auto c : cib_.configuration().child("constraints").children()) {
      bool names = false;
      for (const char* attr : {"rsc", "with-rsc", "first", "then"}) {
        names = names || gone.count(c.attribute(attr).value());
      }
      for (auto ref : c.select_nodes(".//resource_ref")) {
        names = names || gone.count(ref.node().attribute("id").value());
      }
      if (names) doomed.push_back(c);
    }
    // A tag loses the references to what goes, and goes itself when none is left.
    for (auto t : cib_.configuration().child("tags").children("tag")) {
      std::vector<pugi::xml_node> refs;
      for (auto ref : t.children("obj_ref"))
        if (gone.count(ref.attribute("id").value())) refs.push_back(ref);
      const auto all = static_cast<std::size_t>(
          std::distance(t.children("obj_ref").begin(), t.children("obj_ref").end()));
      if (refs.size() == all && all > 0) {
        doomed.push_back(t);
      } else {
        doomed.insert(doomed.end(), refs.begin(), refs.end());
      }
    }
  }

  Result<std::vector<CibChange>> remove_objects() {
    if (w_.done()) return w_.error("expected the ids to delete");
    std::vector<pugi::xml_node> doomed;
    while (!w_.done()) {
      auto n = w_.peek() == "fencing_topology" ? cib_.configuration().child("fencing-topology")
                                               : cib_.find_id(w_.peek());
      if (!n) return w_.error("no such object");
      // An ACL names objects by id (the schema's IDREF): what it names stays while it does.
      for (auto acl : cib_.configuration().child("acls").children()) {
        for (auto ref : acl.children()) {
          if (w_.peek() == ref.attribute("reference").value() ||
              (string_view(ref.name()) == "role" && w_.peek() == ref.attribute("id").value()))
            return w_.error(string("named by ") + acl.name() + " '" + acl.attribute("id").value() +
                            "': change that first");
        }
      }
      removal(n, doomed);
      w_.next();
    }
    std::vector<CibChange> changes;
    std::vector<pugi::xml_node> done;
    for (const auto& n : doomed) {
      // Skip what an earlier removal already took with it.
      bool covered = false;
      for (auto a = n; a && !covered; a = a.parent()) {
        covered = std::find(done.begin(), done.end(), a) != done.end();
      }
      if (covered) continue;
      done.push_back(n);
      changes.push_back(CibChange::remove(address_of(n)));
    }
    return changes;
  }

  static string address_of(const pugi::xml_node& n) {
    if (!n.attribute("id")) return string("/cib/configuration/") + n.name();
    const string self = string(n.name()) + "[@id='" + n.attribute("id").value() + "']";
    // A reference shares its id with what it names: it is found under its owner.
    if (string_view(n.name()) == "obj_ref") return address_of(n.parent()) + "/" + self;
    return "//" + self;
  }

  Result<std::vector<CibChange>> rename() {
    if (w_.size() != 3)
      return w_.error_at(std::min<std::size_t>(w_.size(), 3), "usage: rename OLD NEW");
    const string old_id = w_.next();
    auto n = cib_.find_id(old_id);
    if (!n) return w_.error_at(1, "no such object");
    if (string_view(n.name()) == "node") return w_.error_at(1, "a node cannot be renamed");
    auto new_id_ = new_id();
    if (!new_id_) return new_id_.error();
    std::vector<CibChange> changes;
    auto with_attr = [&](const pugi::xml_node& e, const char* attr) {
      pugi::xml_document doc;
      auto m = doc.append_child(e.name());
      m.append_attribute(attr) = new_id_->c_str();
      return element_xml(m);
    };
    changes.push_back(CibChange::modify(address_of(n), with_attr(n, "id")));
    for (auto c : cib_.configuration().child("constraints").children()) {
      for (const char* attr : {"rsc", "with-rsc", "first", "then"}) {
        if (old_id == c.attribute(attr).value()) {
          changes.push_back(CibChange::modify(address_of(c), with_attr(c, attr)));
        }
      }
      for (auto set : c.children("resource_set")) {
        if (set.find_child_by_attribute("resource_ref", "id", old_id.c_str())) {
          changes.push_back(
              CibChange::modify(address_of(set) + "/resource_ref[@id='" + old_id + "']",
                                "<resource_ref id=\"" + *new_id_ + "\"/>"));
        }
      }
    }
    return changes;
  }

  Result<std::vector<CibChange>> erase() {
    const bool nodes = w_.peek() == "nodes";
    if (nodes) w_.next();
    if (!w_.done()) return w_.error("usage: erase [nodes]");
    std::vector<CibChange> changes;
    for (const char* s :
         {"crm_config", "resources", "constraints", "rsc_defaults", "op_defaults", "nodes"}) {
      if (string_view(s) == "nodes" && !nodes) continue;
      if (cib_.configuration().child(s)) {
        changes.push_back(
            CibChange::replace(string("/cib/configuration/") + s, string("<") + s + "/>"));
      }
    }
    return changes;
  }

  Words w_;
  const Cib& cib_;
  IdPool ids_;
};

}  // namespace

Result<std::vector<string>> split_words(string_view line) {
  std::vector<string> words;
  string word;
  bool in_word = false;
  char quote_char = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quote_char != '\'') {
      if (i + 1 == line.size()) break;  // a trailing backslash continues the line
      const char n = line[++i];
      if (n == '\n') continue;
      word += n;
      in_word = true;
    } else if (quote_char) {
      if (c == quote_char) {
        quote_char = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote_char = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote_char) return fail(string("unterminated ") + quote_char + " quote");
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::vector<Line> logical_lines(string_view text) {
  std::vector<Line> lines;
  string pending;
  int first = 0, number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == string_view::npos) end = text.size();
    string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (pending.empty()) first = number;
    const bool continued = !line.empty() && line.back() == '\\';
    pending += continued ? line.substr(0, line.size() - 1) : line;
    if (continued) {
      pending += ' ';
      continue;
    }
    auto text_start = pending.find_first_not_of(" \t\r");
    if (text_start != string::npos && pending[text_start] != '#') lines.push_back({first, pending});
    pending.clear();
  }
  if (pending.find_first_not_of(" \t\r") != string::npos) lines.push_back({first, pending});
  return lines;
}

bool is_edit_command(string_view word) {
  return canonical(word, kEditCommands).has_value() || word == "rename" || word == "erase";
}

const std::vector<string>& command_names() {
  static const std::vector<string> names = {"node",
                                            "primitive",
                                            "rsc_template",
                                            "group",
                                            "modgroup",
                                            "clone",
                                            "ms",
                                            "bundle",
                                            "location",
                                            "colocation",
                                            "order",
                                            "rsc_ticket",
                                            "tag",
                                            "monitor",
                                            "alert",
                                            "role",
                                            "acl_target",
                                            "acl_group",
                                            "property",
                                            "rsc_defaults",
                                            "op_defaults",
                                            "delete",
                                            "rename",
                                            "load",
                                            "edit",
                                            "show",
                                            "verify",
                                            "commit",
                                            "refresh",
                                            "erase",
                                            "help",
                                            "exit",
                                            "quit",
                                            "end",
                                            "up",
                                            "fencing_topology"};
  return names;
}

Result<std::vector<CibChange>> parse(const std::vector<string>& words, const Cib& cib) {
  if (words.empty()) return fail("empty command");
  return Parser(words, cib).run();
}

namespace {

// The candidates of completions() for the word after `before`, by the command's grammar.
std::vector<string> candidates(const std::vector<string>& before, const CompletionSource& source) {
  if (before.empty()) return command_names();
  const string command = ascii_lower(before.front());
  const string& last = before.back();
  if (command == "primitive" || command == "rsc_template") {
    if (before.size() == 1) return {};  // the new id
    if (before.size() == 2) {
      std::vector<string> out = source.agents;
      if (command == "primitive") {
        for (const auto& id : source.ids) out.push_back("@" + id);
      }
      return out;
    }
    std::vector<string> out = {"params", "meta", "utilization", "op"};
    if (last == "op") return {"start", "stop", "monitor", "promote", "demote", "migrate_to",
                              "migrate_from", "notify", "reload"};
    // The list the word falls in: the last keyword before it (params when none was given).
    string list = "params";
    std::size_t from = 3;
    for (std::size_t i = 3; i < before.size(); ++i) {
      const string& w = before[i];
      if (w == "params" || w == "meta" || w == "utilization" || w == "op" || w == "op_params" ||
          w == "op_meta") {
        list = w;
        from = i + 1;
      }
    }
    std::set<string> given;  // the names the list has already
    for (std::size_t i = from; i < before.size(); ++i)
      given.insert(before[i].substr(0, before[i].find('=')));
    auto add_pairs = [&](auto&& names) {
      for (const auto& n : names) {
        if (!given.count(string(n))) out.push_back(string(n) + "=");
      }
    };
    if (list == "params" && source.parameters) add_pairs(source.parameters(before[2]));
    if (list == "op") add_pairs(kOpAttributes);
    return out;
  }
  if (command == "bundle") {
    if (before.size() == 1) return {};
    if (last == "primitive") return source.ids;
    return {"docker", "rkt", "podman", "network", "port-mapping", "storage", "storage-mapping",
            "meta", "primitive"};
  }
  if (command == "commit") return {"force"};
  if (command == "group" || command == "clone" || command == "ms") {
    if (before.size() == 1) return {};
    std::vector<string> out = source.ids;
    out.insert(out.end(), {"params", "meta"});
    return out;
  }
  if (command == "show" || command == "edit") {
    std::vector<string> out = source.ids;
    out.push_back("xml");
    return out;
  }
  if (command == "load") return {"update", "replace", "push", "xml"};
  return source.ids;
}

}  // namespace

std::vector<string> completions(const std::vector<string>& before, string_view prefix,
                                const CompletionSource& source) {
  std::set<string> matching;
  for (auto& c : candidates(before, source)) {
    if (c.compare(0, prefix.size(), prefix) == 0) matching.insert(std::move(c));
  }
  return {matching.begin(), matching.end()};
}

}  // namespace vigil::cib::crmsh
