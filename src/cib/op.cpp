#include "cib/op.h"

#include "cib/bytes.h"

#include <algorithm>
#include <map>
#include <set>

#include "cib/validate.h"

namespace vigil::cib {

CibChange CibChange::create(std::string parent, std::string xml) {
  return {CibChange::Kind::create, std::move(parent), std::move(xml)};
}
CibChange CibChange::modify(std::string address, std::string xml) {
  return {CibChange::Kind::modify, std::move(address), std::move(xml)};
}
CibChange CibChange::remove(std::string address) {
  return {CibChange::Kind::remove, std::move(address), {}};
}
CibChange CibChange::replace(std::string address, std::string xml) {
  return {CibChange::Kind::replace, std::move(address), std::move(xml)};
}

Result<std::vector<pugi::xml_node>> select(const Cib& cib, const std::string& address) {
  // pugixml reads the address up to its first NUL: "id:a\0b" would select "id:a".
  if (const auto nul = address.find('\0'); nul != std::string::npos)
    return fail("the address holds a NUL byte at position " + std::to_string(nul));
  if (address.rfind("id:", 0) == 0) {
    auto found = cib.find_id(std::string_view(address).substr(3));
    if (!found) return std::vector<pugi::xml_node>{};
    return std::vector<pugi::xml_node>{found};
  }
  pugi::xpath_node_set set;
  try {
    pugi::xpath_query query(address.c_str());
    set = query.evaluate_node_set(cib.doc());
  } catch (const pugi::xpath_exception& e) {
    return fail("address '" + address + "' is not a valid path: " + e.what());
  }
  std::vector<pugi::xml_node> nodes;
  for (const auto& n : set) {
    if (n.node().type() != pugi::node_element) {
      return fail("address '" + address + "' does not select an element");
    }
    nodes.push_back(n.node());
  }
  return nodes;
}

Result<pugi::xml_node> resolve(const Cib& cib, const std::string& address) {
  auto nodes = select(cib, address);
  if (!nodes) return nodes.error();
  if (nodes->empty()) {
    if (address.rfind("id:", 0) == 0) return fail("no element has id '" + address.substr(3) + "'");
    return fail("address '" + address + "' selects nothing");
  }
  if (nodes->size() > 1) {
    return fail("address '" + address + "' selects " + std::to_string(nodes->size()) +
                " elements, not one");
  }
  return nodes->front();
}

std::string describe(const CibChange& change) {
  switch (change.kind) {
    case CibChange::Kind::create:
      return "create in " + change.address + ": " + change.xml;
    case CibChange::Kind::modify:
      return "modify " + change.address + ": " + change.xml;
    case CibChange::Kind::remove:
      return "delete " + change.address;
    case CibChange::Kind::replace:
      return "replace " + change.address + ": " + change.xml;
  }
  return "unknown change";
}

namespace {

// What a change touched decides which version counter moves.
struct Touched {
  bool configuration = false;
  bool status = false;
};

void note_touch(const pugi::xml_node& node, Touched& touched) {
  for (auto n = node; n; n = n.parent()) {
    std::string_view name = n.name();
    if (name == "status") {
      touched.status = true;
      return;
    }
    if (name == "configuration") break;
  }
  // Under <configuration>, or <cib> itself.
  touched.configuration = true;
}

// A modify of <cib>'s own attributes that the cluster maintains (the DC's id, quorum, the last
// writer) is no configuration change: like a status update it moves num_updates, so an election
// neither bumps the epoch nor refuses a concurrent `configure` edit.
bool maintained_only(const pugi::xml_node& node, const CibChange& change,
                     const pugi::xml_node& element) {
  if (change.kind != CibChange::Kind::modify || std::string_view(node.name()) != "cib" ||
      node.parent() != node.root() || element.first_child())
    return false;
  for (auto a : element.attributes()) {
    const std::string_view name = a.name();
    if (name != "dc-uuid" && name != "have-quorum" && name != "cib-last-written" &&
        name != "update-origin" && name != "update-client" && name != "update-user")
      return false;
  }
  return true;
}

// cib-last-written dates the last configuration change (crm_mon's "Last change"): a status
// update that carried a new one leaves `before`'s.
void keep_last_written(Cib& next, const Cib& before) {
  const auto was = before.root().attribute("cib-last-written");
  auto now = next.root().attribute("cib-last-written");
  if (!was) {
    next.root().remove_attribute(now);
    return;
  }
  if (!now) now = next.root().append_attribute("cib-last-written");
  now = was.value();
}

Result<pugi::xml_document*> parse_fragment(pugi::xml_document& frag, const std::string& xml) {
  if (xml.find('\0') != std::string::npos) return fail("bad XML: a NUL byte");
  auto parsed =
      frag.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_comments);
  if (!parsed) return fail(std::string("bad XML: ") + parsed.description());
  int elements = 0;
  for (auto c : frag.children()) elements += c.type() == pugi::node_element;
  if (elements != 1) return fail("the XML must hold exactly one element");
  // Merging walks the fragment recursively: its depth is bounded before, not after.
  if (!depth_within(frag, kMaxDepth))
    return fail("the XML nests more than " + std::to_string(kMaxDepth) + " levels deep");
  return &frag;
}

void merge(pugi::xml_node target, const pugi::xml_node& source) {
  for (auto a : source.attributes()) {
    auto t = target.attribute(a.name());
    if (!t) t = target.append_attribute(a.name());
    t.set_value(a.value());
  }
  for (auto c : source.children()) {
    if (c.type() != pugi::node_element) continue;
    std::string id = c.attribute("id").value();
    auto match = target.find_child([&](const pugi::xml_node& t) {
      return std::string_view(t.name()) == c.name() && id == t.attribute("id").value();
    });
    if (match) {
      merge(match, c);
    } else {
      target.append_copy(c);
    }
  }
}

Result<void> apply_change(Cib& cib, const CibChange& change, Touched& touched) {
  auto node = resolve(cib, change.address);
  if (!node) return node.error();
  pugi::xml_document frag;
  pugi::xml_node element;
  if (change.kind != CibChange::Kind::remove) {
    auto parsed = parse_fragment(frag, change.xml);
    if (!parsed) return parsed.error();
    element = frag.document_element();
  }
  if (maintained_only(*node, change, element)) {
    touched.status = true;
  } else {
    note_touch(*node, touched);
  }
  switch (change.kind) {
    case CibChange::Kind::create: {
      std::string id = element.attribute("id").value();
      if (!id.empty() && node->find_child_by_attribute(element.name(), "id", id.c_str())) {
        return fail("<" + std::string(element.name()) + " id='" + id + "'> already exists");
      }
      node->append_copy(element);
      return {};
    }
    case CibChange::Kind::modify:
      if (std::string_view(node->name()) != element.name()) {
        return fail("cannot modify <" + std::string(node->name()) + "> with <" + element.name() +
                    ">");
      }
      merge(*node, element);
      return {};
    case CibChange::Kind::remove:
      if (*node == cib.root()) return fail("the <cib> element cannot be removed");
      node->parent().remove_child(*node);
      return {};
    case CibChange::Kind::replace: {
      if (std::string_view(node->name()) != element.name()) {
        return fail("cannot replace <" + std::string(node->name()) + "> by <" + element.name() +
                    ">");
      }
      auto parent = node->parent();
      parent.insert_copy_after(element, *node);
      parent.remove_child(*node);
      return {};
    }
  }
  return fail("unknown change kind");
}

}  // namespace

Result<Cib> apply(const Cib& cib, const CibOp& op) {
  // A diff (base and target) patches exactly one version. A base alone guards a configuration
  // edit, as crmsh's commit does: it fails when the configuration moved on (admin_epoch, epoch),
  // not when status updates (num_updates) came in since it was read.
  const bool diff_mismatch = op.base && op.target && *op.base != cib.version();
  const bool edit_mismatch =
      op.base && !op.target &&
      (op.base->admin_epoch != cib.version().admin_epoch || op.base->epoch != cib.version().epoch);
  if (diff_mismatch || edit_mismatch) {
    return fail("the change was made against version " + op.base->str() + " but the CIB is at " +
                    cib.version().str(),
                ErrorCode::conflict);
  }
  Cib next = cib;
  const Version before = cib.version();
  Touched touched;
  for (std::size_t i = 0; i < op.changes.size(); ++i) {
    auto done = apply_change(next, op.changes[i], touched);
    if (!done) {
      return fail("change " + std::to_string(i + 1) + " (at '" + op.changes[i].address +
                  "'): " + done.error().message);
    }
  }
  // Before validate(), which reads the sections: an op must leave a document that parse() would
  // accept, or it would be persisted and replicated and then refused at the next start.
  if (auto whole = check_document(next); !whole)
    return fail("the change would leave an invalid CIB: " + whole.error().message);
  if (!op.target && !touched.configuration) keep_last_written(next, cib);
  if (op.target) {
    next.set_version(*op.target);
  } else if (touched.configuration) {
    next.set_version({before.admin_epoch, before.epoch + 1, 0});
  } else if (touched.status) {
    next.set_version({before.admin_epoch, before.epoch, before.num_updates + 1});
  }
  if (auto valid = validate(next); !valid) return fail(valid.error().message);
  return next;
}

// ---- diff ------------------------------------------------------------------------------------

namespace {

bool is_version_attr(std::string_view name) {
  return name == "admin_epoch" || name == "epoch" || name == "num_updates";
}

using Attrs = std::map<std::string, std::string, std::less<>>;

Attrs attributes_of(const pugi::xml_node& n, bool skip_version) {
  Attrs attrs;
  for (auto a : n.attributes()) {
    if (skip_version && is_version_attr(a.name())) continue;
    attrs.emplace(a.name(), a.value());
  }
  return attrs;
}

// The step that addresses `child` among its siblings: tag[@id='…'], or the bare tag when it is
// the only child with that tag. Empty when neither identifies it.
std::string step_of(const pugi::xml_node& child) {
  std::string id = child.attribute("id").value();
  if (!id.empty()) {
    if (id.find('\'') == std::string::npos) return std::string(child.name()) + "[@id='" + id + "']";
    if (id.find('"') == std::string::npos)
      return std::string(child.name()) + "[@id=\"" + id + "\"]";
    return {};
  }
  int same = 0;
  for (auto s : child.parent().children(child.name())) same += s.attribute("id").empty();
  return same == 1 ? std::string(child.name()) : std::string();
}

// Structural equality: same tag, attributes, and children in order.
bool same(const pugi::xml_node& a, const pugi::xml_node& b) {
  if (a.type() != b.type() || std::string_view(a.name()) != b.name() ||
      std::string_view(a.value()) != b.value()) {
    return false;
  }
  auto x = a.first_attribute();
  auto y = b.first_attribute();
  for (; x && y; x = x.next_attribute(), y = y.next_attribute()) {
    if (std::string_view(x.name()) != y.name() || std::string_view(x.value()) != y.value()) {
      return false;
    }
  }
  if (x || y) return false;
  auto c = a.first_child();
  auto d = b.first_child();
  for (; c && d; c = c.next_sibling(), d = d.next_sibling()) {
    if (!same(c, d)) return false;
  }
  return !c && !d;
}

struct Child {
  std::string step;
  pugi::xml_node node;
};

// The element children with their steps, or nullopt when one is not addressable or the node
// holds text or comments (then the node is replaced whole).
std::optional<std::vector<Child>> children_of(const pugi::xml_node& n) {
  std::vector<Child> out;
  std::set<std::string, std::less<>> seen;
  for (auto c : n.children()) {
    if (c.type() != pugi::node_element) return std::nullopt;
    auto step = step_of(c);
    if (step.empty() || !seen.insert(step).second) return std::nullopt;
    out.push_back({std::move(step), c});
  }
  return out;
}

std::string attributes_only(const pugi::xml_node& n, const Attrs& attrs) {
  pugi::xml_document doc;
  auto e = doc.append_child(n.name());
  for (const auto& [k, v] : attrs) e.append_attribute(k.c_str()).set_value(v.c_str());
  return element_xml(e);
}

// Emits the changes turning `a` into `b` (same tag, at `address`); false when only replacing the
// whole element can express the difference.
bool diff_element(const pugi::xml_node& a, const pugi::xml_node& b, const std::string& address,
                  bool is_root, std::vector<CibChange>& out) {
  const Attrs aa = attributes_of(a, is_root), ba = attributes_of(b, is_root);
  if (aa != ba) {
    // modify can set attributes but not remove them.
    for (const auto& [k, v] : aa) {
      if (!ba.count(k)) return false;
    }
    out.push_back(CibChange::modify(address, attributes_only(b, ba)));
  }
  auto as = children_of(a), bs = children_of(b);
  if (!as || !bs) return false;
  std::map<std::string_view, pugi::xml_node> in_a, in_b;
  for (const auto& c : *as) in_a.emplace(c.step, c.node);
  for (const auto& c : *bs) in_b.emplace(c.step, c.node);
  // Kept children must keep their order, and new ones (create appends) come after the last kept.
  std::vector<std::string_view> kept_a, kept_b;
  for (const auto& c : *as) {
    if (in_b.count(c.step)) kept_a.push_back(c.step);
  }
  bool seen_new = false;
  for (const auto& c : *bs) {
    const bool is_new = !in_a.count(c.step);
    if (!is_new) {
      if (seen_new) return false;
      kept_b.push_back(c.step);
    }
    seen_new = seen_new || is_new;
  }
  if (kept_a != kept_b) return false;
  std::vector<CibChange> changes;
  for (const auto& c : *as) {
    if (!in_b.count(c.step)) changes.push_back(CibChange::remove(address + "/" + c.step));
  }
  for (const auto& step : kept_a) {
    const auto ac = in_a.at(step), bc = in_b.at(step);
    if (same(ac, bc)) continue;
    const std::string child = address + "/" + std::string(step);
    if (!diff_element(ac, bc, child, false, changes)) {
      changes.push_back(CibChange::replace(child, element_xml(bc)));
    }
  }
  for (const auto& c : *bs) {
    if (!in_a.count(c.step)) changes.push_back(CibChange::create(address, element_xml(c.node)));
  }
  out.insert(out.end(), changes.begin(), changes.end());
  return true;
}

}  // namespace

CibOp diff(const Cib& from, const Cib& to) {
  CibOp op;
  op.base = from.version();
  op.target = to.version();
  if (!diff_element(from.root(), to.root(), "/cib", true, op.changes)) {
    op.changes.clear();
    op.changes.push_back(CibChange::replace("/cib", element_xml(to.root())));
  }
  return op;
}

// ---- wire encoding ---------------------------------------------------------------------------

using namespace wire;

namespace {

constexpr std::string_view kOpMagic = "CIBO";
constexpr std::uint8_t kOpWireVersion = 1;
constexpr std::uint8_t kHasBase = 1, kHasTarget = 2;

}  // namespace

std::string encode(const CibOp& op) {
  std::string out(kOpMagic);
  out.push_back(static_cast<char>(kOpWireVersion));
  out.push_back(static_cast<char>((op.base ? kHasBase : 0) | (op.target ? kHasTarget : 0)));
  if (op.base) put_version(out, *op.base);
  if (op.target) put_version(out, *op.target);
  VIGIL_ASSERT(op.changes.size() <= UINT32_MAX);
  put_u32(out, static_cast<std::uint32_t>(op.changes.size()));
  for (const auto& c : op.changes) {
    out.push_back(static_cast<char>(c.kind));
    put_bytes(out, c.address);
    put_bytes(out, c.xml);
  }
  return out;
}

Result<CibOp> decode(std::string_view bytes) {
  Reader in(bytes);
  std::string_view magic;
  if (!in.take(kOpMagic.size(), magic) || magic != kOpMagic) return fail("cib op: bad magic");
  std::uint8_t version = 0, flags = 0;
  if (!in.u8(version)) return fail("cib op: truncated header");
  if (version != kOpWireVersion) {
    return fail("cib op: unsupported wire version " + std::to_string(version));
  }
  if (!in.u8(flags)) return fail("cib op: truncated header");
  if (flags & ~(kHasBase | kHasTarget)) return fail("cib op: unknown flags");
  CibOp op;
  if (flags & kHasBase) {
    op.base.emplace();
    if (!in.version(*op.base)) return fail("cib op: truncated base version");
  }
  if (flags & kHasTarget) {
    op.target.emplace();
    if (!in.version(*op.target)) return fail("cib op: truncated target version");
  }
  std::uint32_t count = 0;
  if (!in.u32(count)) return fail("cib op: truncated change count");
  // Each change takes at least 9 bytes: a count beyond that is a lie, not an allocation to make.
  if (count > in.left() / 9)
    return fail("cib op: change count " + std::to_string(count) + " exceeds the input");
  op.changes.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    CibChange c;
    std::uint8_t kind = 0;
    if (!in.u8(kind)) return fail("cib op: truncated change " + std::to_string(i + 1));
    if (kind < 1 || kind > 4) {
      return fail("cib op: change " + std::to_string(i + 1) + " has unknown kind " +
                  std::to_string(kind));
    }
    c.kind = static_cast<CibChange::Kind>(kind);
    if (!in.bytes(c.address) || !in.bytes(c.xml)) {
      return fail("cib op: truncated change " + std::to_string(i + 1) + " at byte " +
                  std::to_string(in.pos()));
    }
    op.changes.push_back(std::move(c));
  }
  if (in.left() != 0) return fail("cib op: " + std::to_string(in.left()) + " trailing bytes");
  return op;
}

// ---- merge -----------------------------------------------------------------------------------

Election choose_cib(std::span<const Offer> offers) {
  VIGIL_ASSERT(!offers.empty());
  Election e;
  for (std::size_t i = 1; i < offers.size(); ++i) {
    const auto& o = offers[i];
    const auto& w = offers[e.winner];
    if (o.version > w.version || (o.version == w.version && o.digest > w.digest)) e.winner = i;
  }
  const auto& w = offers[e.winner];
  for (const auto& o : offers) {
    if (o.version == w.version && o.digest != w.digest) {
      e.conflicts.push_back("CIB " + o.version.str() + " on " + o.node + " (digest " +
                            o.digest.substr(0, 12) + ") differs from " + w.node + "'s (digest " +
                            w.digest.substr(0, 12) + ") at the same version; " + w.node +
                            "'s is kept and " + o.node + "'s changes are lost");
    }
  }
  return e;
}

}  // namespace vigil::cib
