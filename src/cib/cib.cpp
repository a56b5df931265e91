#include "cib/cib.h"

#include <sodium.h>

#include <charconv>
#include <initializer_list>
#include <sstream>

#include "cib/parse_in_place.h"
#include "common/xml_text.h"

namespace vigil::cib {

namespace {

constexpr unsigned kParseFlags =
    pugi::parse_default | pugi::parse_comments | pugi::parse_declaration;

std::int64_t read_counter(const pugi::xml_node& cib, const char* name) {
  const char* text = cib.attribute(name).value();
  std::int64_t v = 0;
  const char* end = text + std::char_traits<char>::length(text);
  auto [ptr, ec] = std::from_chars(text, end, v);
  return (ec == std::errc() && ptr == end) ? v : 0;
}

void write_counter(pugi::xml_node cib, const char* name, std::int64_t v) {
  auto attr = cib.attribute(name);
  if (!attr) attr = cib.append_attribute(name);
  attr.set_value(std::to_string(v).c_str());
}

std::string line_col(std::string_view text, std::ptrdiff_t offset) {
  std::size_t line = 1, col = 1;
  for (std::ptrdiff_t i = 0; i < offset && static_cast<std::size_t>(i) < text.size(); ++i) {
    if (text[static_cast<std::size_t>(i)] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// Whether every name, value and text of the document parsed from `raw` obeys XML's character
// rule, told from the text itself: it does when the text does (no NUL either) and holds no
// character reference, the one way parsing makes a character the text does not show (entities,
// end-of-line and attribute whitespace normalisation all make allowed ones). A text that fails
// here may still parse into a valid document (a reference to an allowed character): the
// document's own walk decides then, and words its error.
bool plain_text(std::string_view raw) {
  return valid_xml_text(raw) && raw.find("&#") == std::string_view::npos;
}

Result<void> check_document(const Cib& cib, bool text_known_valid);

// What every parsed CIB gets: a <status> where it has none, then check_document()'s rules
// (the character rule already known to hold when `text_known_valid`).
Result<Cib> completed(Cib cib, std::string_view origin, bool text_known_valid) {
  if (cib.root() && !cib.status()) cib.root().append_child("status");
  if (auto checked = check_document(cib, text_known_valid); !checked)
    return fail(std::string(origin) + ": " + checked.error().message);
  return cib;
}

}  // namespace

namespace {

// Visits every node under `top` in document order with its depth below `top` (children of `top`
// are at depth 1), without recursion: a hostile document may nest far deeper than the stack.
// Stops when `f` returns false, and returns false then.
template <class F>
bool visit_nodes(const pugi::xml_node& top, F&& f) {
  int depth = 1;
  for (auto n = top.first_child(); n;) {
    if (!f(n, depth)) return false;
    if (n.first_child()) {
      n = n.first_child();
      ++depth;
      continue;
    }
    while (!n.next_sibling()) {
      n = n.parent();
      if (--depth == 0) return true;
    }
    n = n.next_sibling();
  }
  return true;
}

// The element as errors name it: <tag id='x'>, or <tag> without an id.
std::string element_name(const pugi::xml_node& e) {
  const std::string id = e.attribute("id").value();
  return "<" + std::string(e.name()) + (id.empty() ? "" : " id='" + id + "'") + ">";
}

// Where a node that breaks the character rule is: the element itself, or the one holding it.
std::string text_problem(const pugi::xml_node& n) {
  if (n.type() == pugi::node_element) {
    if (!valid_xml_text(n.name())) return "an element name";
    for (auto a : n.attributes()) {
      if (!valid_xml_text(a.name())) return "an attribute name of " + element_name(n);
      if (!valid_xml_text(a.value()))
        return "attribute '" + std::string(a.name()) + "' of " + element_name(n);
    }
    return {};
  }
  if (valid_xml_text(n.name()) && valid_xml_text(n.value())) return {};
  const auto holder = n.parent();
  return holder.type() == pugi::node_element ? "the text in " + element_name(holder)
                                             : "text outside <cib>";
}

struct Section {
  const char* name;
  bool required;
};

Result<void> check_sections(const pugi::xml_node& parent, std::initializer_list<Section> sections) {
  for (const auto& s : sections) {
    std::size_t count = 0;
    for (auto c = parent.child(s.name); c; c = c.next_sibling(s.name)) ++count;
    if (count == 0 && s.required)
      return fail("<" + std::string(parent.name()) + "> has no <" + s.name + ">");
    if (count > 1)
      return fail("<" + std::string(parent.name()) + "> has " + std::to_string(count) + " <" +
                  s.name + "> elements, not one");
  }
  return {};
}

}  // namespace

bool depth_within(const pugi::xml_node& node, int limit) {
  return visit_nodes(node, [limit](const pugi::xml_node&, int depth) { return depth <= limit; });
}

Result<void> check_document(const Cib& cib) {
  return check_document(cib, false);
}

namespace {

Result<void> check_document(const Cib& cib, bool text_known_valid) {
  int elements = 0;
  for (auto c : cib.doc().children()) elements += c.type() == pugi::node_element ? 1 : 0;
  if (elements != 1 || !cib.root()) return fail("the document element is not one <cib>");
  if (auto ok = check_sections(cib.root(), {{"configuration", true}, {"status", true}}); !ok)
    return ok;
  if (auto ok = check_sections(cib.configuration(),
                               {{"crm_config", true},
                                {"nodes", true},
                                {"resources", true},
                                {"constraints", true},
                                {"rsc_defaults", false},
                                {"op_defaults", false}});
      !ok)
    return ok;
  // One walk for both rules (a steady CIB of 32 nodes and 10 000 resources has 700 000
  // elements); too deep a nesting is the error named whichever comes first.
  std::string problem;
  const bool shallow = visit_nodes(cib.doc(), [&](const pugi::xml_node& n, int depth) {
    if (depth > kMaxDepth) return false;
    if (!text_known_valid && problem.empty()) problem = text_problem(n);
    return true;
  });
  if (!shallow)
    return fail("elements nest more than " + std::to_string(kMaxDepth) + " levels deep");
  if (!problem.empty())
    return fail(problem +
                " holds a character XML does not allow (invalid UTF-8, a surrogate or a control "
                "character)");
  return {};
}

}  // namespace

std::string Version::str() const {
  return std::to_string(admin_epoch) + "." + std::to_string(epoch) + "." +
         std::to_string(num_updates);
}

Cib::Cib() {
  auto cib = doc_.append_child("cib");
  cib.append_attribute("admin_epoch") = 0;
  cib.append_attribute("epoch") = 0;
  cib.append_attribute("num_updates") = 0;
  cib.append_attribute("validate-with") = "pacemaker-3.0";
  auto config = cib.append_child("configuration");
  for (const char* section : {"crm_config", "nodes", "resources", "constraints"}) {
    config.append_child(section);
  }
  cib.append_child("status");
}

Cib::Cib(const Cib& other) {
  doc_.reset(other.doc_);
}

Cib& Cib::operator=(const Cib& other) {
  if (this != &other) doc_.reset(other.doc_);
  return *this;
}

Result<Cib> Cib::parse(std::string_view xml, std::string_view origin) {
  Cib cib;
  cib.doc_.reset();
  auto parsed = cib.doc_.load_buffer(xml.data(), xml.size(), kParseFlags);
  if (!parsed) {
    return fail(std::string(origin) + ":" + line_col(xml, parsed.offset) + ": " +
                parsed.description());
  }
  // pugixml reads a NUL byte as the end of its input: what follows would silently vanish.
  const bool plain = plain_text(xml);
  if (const auto nul = plain ? std::string_view::npos : xml.find('\0');
      nul != std::string_view::npos)
    return fail(std::string(origin) + ":" + line_col(xml, static_cast<std::ptrdiff_t>(nul)) +
                ": a NUL byte, which XML does not allow");
  return completed(std::move(cib), origin, plain);
}

Result<Cib> parse_in_place(std::size_t size, const std::function<bool(char*)>& fill,
                           std::string_view origin) {
  // Parsing changes the text in place, so the words of an error come from Cib::parse on a copy.
  auto reparse = [&]() -> Result<Cib> {
    std::string text(size, '\0');
    if (!fill(text.data())) return fail(std::string(origin) + ": cannot read the text again");
    return Cib::parse(text, origin);
  };
  // One byte more than the text: never an allocation of nothing.
  auto* buffer = static_cast<char*>(pugi::get_memory_allocation_function()(size + 1));
  VIGIL_ASSERT(buffer != nullptr);
  // Before parsing, which changes the text: one pass that also rules out a NUL byte.
  const bool filled = fill(buffer);
  const bool plain = filled && plain_text(std::string_view(buffer, size));
  if (!filled || (!plain && std::string_view(buffer, size).find('\0') != std::string_view::npos)) {
    pugi::get_memory_deallocation_function()(buffer);
    return reparse();
  }
  Cib cib;
  cib.doc().reset();
  // The document owns the buffer from here, whatever the outcome.
  if (!cib.doc().load_buffer_inplace_own(buffer, size, kParseFlags)) return reparse();
  return completed(std::move(cib), origin, plain);
}

pugi::xml_node Cib::section(std::string_view name) {
  auto config = root().child("configuration");
  if (!config) config = root().prepend_child("configuration");
  std::string n(name);
  auto s = config.child(n.c_str());
  if (!s) s = config.append_child(n.c_str());
  return s;
}

pugi::xml_node Cib::find_id(std::string_view id) const {
  pugi::xml_node found;
  std::string wanted(id);
  configuration().find_node([&](const pugi::xml_node& n) {
    if (n.type() == pugi::node_element && wanted == n.attribute("id").value() &&
        std::string_view(n.name()) != "resource_ref") {
      found = n;
      return true;
    }
    return false;
  });
  return found;
}

Version Cib::version() const {
  auto cib = root();
  return {read_counter(cib, "admin_epoch"), read_counter(cib, "epoch"),
          read_counter(cib, "num_updates")};
}

void Cib::set_version(const Version& v) {
  auto cib = root();
  write_counter(cib, "admin_epoch", v.admin_epoch);
  write_counter(cib, "epoch", v.epoch);
  write_counter(cib, "num_updates", v.num_updates);
}

namespace {

// Our own writer, because pugixml writes "<a />" where Pacemaker (libxml2) writes "<a/>", and a
// CIB read from Pacemaker must be written back byte for byte.
void escape(std::string& out, std::string_view text, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c;
    }
  }
}

// Text inside an element makes every whitespace around its children significant: such an
// element is written without indentation, exactly as it holds its content.
bool holds_text(const pugi::xml_node& n) {
  for (auto c : n.children()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) return true;
  }
  return false;
}

void write_node(std::string& out, const pugi::xml_node& n, int depth, bool raw) {
  const std::string indent(raw ? 0 : static_cast<std::size_t>(2 * depth), ' ');
  const char* newline = raw ? "" : "\n";
  switch (n.type()) {
    case pugi::node_element: {
      out += indent + "<" + n.name();
      for (auto a : n.attributes()) {
        out += std::string(" ") + a.name() + "=\"";
        escape(out, a.value(), true);
        out += "\"";
      }
      if (!n.first_child()) {
        out += std::string("/>") + newline;
        return;
      }
      const bool raw_children = raw || holds_text(n);
      out += raw_children ? ">" : ">\n";
      for (auto c : n.children()) write_node(out, c, depth + 1, raw_children);
      out += (raw_children ? std::string() : indent) + "</" + n.name() + ">" + newline;
      return;
    }
    case pugi::node_comment:
      out += indent + "<!--" + n.value() + "-->" + newline;
      return;
    case pugi::node_declaration:
      out += "<?xml";
      for (auto a : n.attributes()) {
        out += std::string(" ") + a.name() + "=\"";
        escape(out, a.value(), true);
        out += "\"";
      }
      out += std::string("?>") + newline;
      return;
    case pugi::node_pcdata:
    case pugi::node_cdata:
      escape(out, n.value(), false);
      return;
    default:
      return;
  }
}

}  // namespace

std::string Cib::to_xml() const {
  std::string out;
  for (auto c : doc_.children()) write_node(out, c, 0, false);
  return out;
}

std::string Cib::content_digest() const {
  pugi::xml_document copy;
  copy.reset(doc_);
  auto cib = copy.child("cib");
  for (const char* volatile_attr :
       {"admin_epoch", "epoch", "num_updates", "cib-last-written", "update-origin", "update-client",
        "update-user", "have-quorum", "dc-uuid"}) {
    cib.remove_attribute(volatile_attr);
  }
  std::ostringstream out;
  copy.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return sha256_hex(out.str());
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

std::string element_xml(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

}  // namespace vigil::cib
