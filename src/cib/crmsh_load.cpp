// crmsh's `load` and the saving half of `edit`: a whole text of commands, as `show` prints it,
// made into one change. An object the text names again is replaced where it stands (a primitive
// stays in its group); a container given again releases its members first, as the new line
// gathers them anew.
#include <algorithm>
#include <set>

#include "cib/crmsh.h"
#include "common/ascii.h"

namespace vigil::cib::crmsh {

namespace {

using std::string;
using std::string_view;

bool is_container(string_view tag) {
  return tag == "group" || tag == "clone" || tag == "master" || tag == "bundle";
}

bool is_property_set(const pugi::xml_node& n) {
  const string_view tag = n.name();
  return tag == "cluster_property_set" ||
         (tag == "meta_attributes" && (string_view(n.parent().name()) == "rsc_defaults" ||
                                       string_view(n.parent().name()) == "op_defaults"));
}

// The id a `property`/`rsc_defaults`/`op_defaults` line names ("ID:" or "$id=ID"), if any.
string named_set(const std::vector<string>& words) {
  if (words.size() < 2) return "";
  const string& w = words[1];
  if (w.size() > 1 && w.back() == ':') return w.substr(0, w.size() - 1);
  if (w.rfind("$id=", 0) == 0) return w.substr(4);
  return "";
}

// The element of `cib` the command defines again, or an empty node when it defines a new one
// (or is no definition: `monitor`, `delete`…).
pugi::xml_node target(const std::vector<string>& words, const Cib& cib) {
  if (words.size() < 2) return {};
  const string command = ascii_lower(words[0]);
  if (command == "fencing_topology") return cib.configuration().child("fencing-topology");
  if (command == "property" || command == "rsc_defaults" || command == "op_defaults") {
    auto set = cib.find_id(named_set(words));
    return set && is_property_set(set) ? set : pugi::xml_node();
  }
  if (command == "node") {
    const string id = named_set(words);
    const std::size_t at = id.empty() ? 1 : 2;
    if (at >= words.size()) return {};
    const string uname = words[at].substr(0, words[at].find(':'));
    for (auto n : cib.configuration().child("nodes").children("node")) {
      if ((id.empty() ? uname : id) == n.attribute("id").value() ||
          uname == n.attribute("uname").value())
        return n;
    }
    return {};
  }
  static const std::set<string, std::less<>> kObjects = {
      "primitive", "rsc_template", "group", "clone",      "ms",     "master",
      "location",  "colocation",   "collocation", "order", "rsc_ticket", "tag",
      "alert",     "role",         "acl_target",  "acl_group", "bundle"};
  if (!kObjects.count(command)) return {};
  string id = words[1];
  if (id.size() > 1 && id.back() == ':') id.pop_back();
  return cib.find_id(id);
}

string address_of(const pugi::xml_node& n) {
  if (string_view(n.name()) == "fencing-topology") return "/cib/configuration/fencing-topology";
  return "id:" + string(n.attribute("id").value());
}

// The commands of a line that defines `old` again: parsed against a CIB without `old` (its ids
// free again), then put in its place.
Result<std::vector<CibChange>> redefine(const std::vector<string>& words, const Cib& cib,
                                        const pugi::xml_node& old) {
  Cib scratch = cib;
  auto gone = scratch.find_id(old.attribute("id").value());
  if (string_view(old.name()) == "fencing-topology") gone = scratch.configuration().child("fencing-topology");
  std::vector<CibChange> changes = {CibChange::remove(address_of(old))};
  if (is_container(old.name())) {
    // The members go back to the top level for the new line to take.
    for (auto m : old.children()) {
      const string_view tag = m.name();
      if (tag != "primitive" && tag != "group") continue;
      changes.push_back(CibChange::create("/cib/configuration/resources", element_xml(m)));
      scratch.configuration().child("resources").append_copy(m);
    }
    gone.parent().remove_child(gone);
    auto made = parse(words, scratch);
    if (!made) return made.error();
    changes.insert(changes.end(), made->begin(), made->end());
    return changes;
  }
  gone.parent().remove_child(gone);
  auto made = parse(words, scratch);
  if (!made) return made.error();
  changes.clear();
  for (auto& c : *made) {
    pugi::xml_document doc;
    const bool defines = c.kind == CibChange::Kind::create && doc.load_string(c.xml.c_str()) &&
                         string_view(doc.first_child().name()) == old.name() &&
                         string_view(doc.first_child().attribute("id").value()) ==
                             old.attribute("id").value();
    changes.push_back(defines ? CibChange::replace(address_of(old), std::move(c.xml))
                              : std::move(c));
  }
  return changes;
}

struct Pending {
  Line line;
  std::vector<string> words;
};

}  // namespace

std::optional<LoadMethod> load_method(string_view word) {
  if (word == "update") return LoadMethod::update;
  if (word == "replace") return LoadMethod::replace;
  if (word == "push") return LoadMethod::push;
  return std::nullopt;
}

Result<std::vector<CibChange>> load(const Cib& cib, string_view text, LoadMethod method,
                                    string_view source, const std::vector<string>& ids) {
  std::vector<CibChange> changes;
  Cib working = cib;
  auto step = [&](const std::vector<CibChange>& made) -> Result<void> {
    auto next = apply(working, {made});
    if (!next) return next.error();
    working = std::move(next).value();
    changes.insert(changes.end(), made.begin(), made.end());
    return {};
  };
  if (method == LoadMethod::replace) {
    auto erased = parse({"erase"}, working);
    if (!erased) return erased.error();
    if (auto r = step(*erased); !r) return r.error();
  }
  // What the text repeats word for word is left as it stands.
  const bool removes = method == LoadMethod::push || method == LoadMethod::edit;
  auto before = show(working, removes ? ids : std::vector<string>{});
  if (!before) return before.error();
  std::set<string> unchanged;
  for (const auto& l : logical_lines(*before)) unchanged.insert(l.text);
  std::vector<Pending> pending;
  std::set<string> named;  // the objects the text defines (push deletes the others)
  for (const auto& l : logical_lines(text)) {
    auto words = split_words(l.text);
    if (!words) return fail(string(source) + ":" + std::to_string(l.number) + ": " + words.error().message);
    if (auto t = target(*words, working)) named.insert(address_of(t));
    if (unchanged.count(l.text)) continue;
    pending.push_back({l, std::move(*words)});
  }
  if (removes) {
    const auto shown = ids.empty() ? object_ids(working) : ids;
    std::vector<string> doomed;
    for (const auto& id : shown) {
      auto n = id == "fencing_topology" ? working.configuration().child("fencing-topology")
                                        : working.find_id(id);
      if (n && !named.count(address_of(n))) doomed.push_back(id);
    }
    if (!doomed.empty()) {
      doomed.insert(doomed.begin(), "delete");
      auto removed = parse(doomed, working);
      if (!removed) return fail(string(source) + ": deleting what the text leaves out: " + removed.error().message);
      if (auto r = step(*removed); !r) return r.error();
    }
  }
  // A line may name what a later line defines: the lines that fail are tried again while others
  // succeed; what still fails then is the error.
  std::vector<string> errors;
  while (!pending.empty()) {
    std::vector<Pending> failed;
    errors.clear();
    for (auto& p : pending) {
      const auto old = target(p.words, working);
      // crmsh merges a property set given again in a load; an edit replaces it whole.
      const bool merge = old && is_property_set(old) && method != LoadMethod::edit;
      auto made = old && !merge ? redefine(p.words, working, old) : parse(p.words, working);
      auto done = made ? step(*made) : Result<void>(made.error());
      if (done) continue;
      errors.push_back(string(source) + ":" + std::to_string(p.line.number) + ": " +
                       done.error().message);
      failed.push_back(std::move(p));
    }
    if (failed.size() == pending.size()) break;
    pending = std::move(failed);
  }
  if (!errors.empty()) {
    string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "\n") + e;
    return fail(message);
  }
  return changes;
}

Result<std::vector<CibChange>> load_xml(const Cib& cib, string_view xml, LoadMethod method,
                                        string_view source) {
  auto file = Cib::parse(xml, source);
  if (!file) return file.error();
  std::vector<CibChange> changes;
  Cib base = cib;  // what the file's objects land on
  if (method == LoadMethod::replace) {
    auto erased = parse({"erase"}, cib);
    auto after = erased ? apply(cib, {*erased}) : Result<Cib>(erased.error());
    if (!after) return after.error();
    changes = std::move(erased).value();
    base = std::move(after).value();
  }
  std::set<string> named;
  for (auto section : file->configuration().children()) {
    if (section.type() != pugi::node_element) continue;
    const string name = section.name();
    if (name == "fencing-topology") {
      named.insert("fencing_topology");
      changes.push_back(base.configuration().child("fencing-topology")
                            ? CibChange::replace("/cib/configuration/" + name, element_xml(section))
                            : CibChange::create("/cib/configuration", element_xml(section)));
      continue;
    }
    if (!base.configuration().child(name.c_str()))
      changes.push_back(CibChange::create("/cib/configuration", "<" + name + "/>"));
    for (auto object : section.children()) {
      if (object.type() != pugi::node_element) continue;
      const string id = object.attribute("id").value();
      named.insert(id);
      // An object kept by the erase of a replace (a node) or present already is replaced.
      changes.push_back(base.find_id(id) ? CibChange::replace("id:" + id, element_xml(object))
                                        : CibChange::create("/cib/configuration/" + name,
                                                            element_xml(object)));
    }
  }
  auto loaded = apply(cib, {changes});
  if (!loaded) return fail(string(source) + ": " + loaded.error().message);
  if (method == LoadMethod::push) {
    std::vector<string> doomed = {"delete"};
    for (const auto& id : object_ids(*loaded)) {
      if (!named.count(id) && !file->find_id(id)) doomed.push_back(id);
    }
    if (doomed.size() > 1) {
      auto removed = parse(doomed, *loaded);
      if (!removed) return fail(string(source) + ": " + removed.error().message);
      changes.insert(changes.end(), removed->begin(), removed->end());
    }
  }
  return changes;
}

}  // namespace vigil::cib::crmsh
