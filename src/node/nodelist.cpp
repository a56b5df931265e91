#include "node/nodelist.h"

#include <algorithm>

namespace vigil::node {

namespace {

constexpr std::uint8_t kMagic[4] = {'V', 'N', 'L', 'C'};
constexpr std::size_t kHeaderSize = 4 + 1 + 1 + 8 + 4;  // magic, version, kind, ticket, node id

void put(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void put_text(std::vector<std::uint8_t>& out, const std::string& text) {
  VIGIL_ASSERT(text.size() <= 255);  // apply_change() and the shell keep words short
  out.push_back(static_cast<std::uint8_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
}

// Reads the message front to back; the first shortfall is the error.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  Result<std::uint64_t> number(int bytes, const char* what) {
    if (in_.size() < static_cast<std::size_t>(bytes)) return cut(what);
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | in_[static_cast<std::size_t>(i)];
    in_ = in_.subspan(static_cast<std::size_t>(bytes));
    return v;
  }
  Result<std::string> text(const char* what) {
    auto size = number(1, what);
    if (!size) return size.error();
    if (in_.size() < *size) return cut(what);
    std::string s(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(*size));
    in_ = in_.subspan(*size);
    return s;
  }
  bool done() const { return in_.empty(); }

 private:
  static Error cut(const char* what) {
    return fail(std::string("nodelist change: truncated in its ") + what);
  }
  std::span<const std::uint8_t> in_;
};

Result<void> read_added(Reader& r, ListedNode& node) {
  auto name = r.text("name");
  if (!name) return name.error();
  node.name = std::move(*name);
  auto count = r.number(1, "address count");
  if (!count) return count.error();
  if (*count == 0 || *count > kMaxRingAddresses)
    return fail("nodelist change: " + std::to_string(*count) + " ring addresses, not 1.." +
                std::to_string(kMaxRingAddresses));
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto address = r.text("ring address");
    if (!address) return address.error();
    if (address->empty())
      return fail("nodelist change: ring" + std::to_string(i) + "_addr is empty");
    node.addresses.push_back(std::move(*address));
  }
  return {};
}

bool has_address(const ListedNode& node, const std::string& address) {
  return std::find(node.addresses.begin(), node.addresses.end(), address) != node.addresses.end();
}

Result<void> check_added(const std::vector<ListedNode>& list, const ListedNode& added) {
  const std::string what = "nodelist_add: " + describe(added) + ": ";
  if (added.id == 0) return fail(what + "node id 0 is not allowed");
  if (added.addresses.empty() || added.addresses.size() > kMaxRingAddresses)
    return fail(what + "1.." + std::to_string(kMaxRingAddresses) + " ring addresses needed");
  if (std::any_of(added.addresses.begin(), added.addresses.end(),
                  [](const std::string& a) { return a.empty(); }))
    return fail(what + "an empty ring address");
  const auto too_long = [](const std::string& word) { return word.size() > 255; };
  if (too_long(added.name) || std::any_of(added.addresses.begin(), added.addresses.end(), too_long))
    return fail(what + "a name or address longer than 255 bytes");
  for (const auto& n : list) {
    if (n.id == added.id)
      return fail(what + "node id " + std::to_string(n.id) + " is already " + describe(n) + "'s");
    if (!added.name.empty() && n.name == added.name)
      return fail(what + "name " + n.name + " is already " + describe(n) + "'s");
    for (const auto& a : added.addresses) {
      if (has_address(n, a)) return fail(what + "address " + a + " is in use by " + describe(n));
    }
  }
  // Corosync gives every node an address on every link: a node short of one is cut off there.
  if (!list.empty() && list.front().addresses.size() != added.addresses.size())
    return fail(what + std::to_string(added.addresses.size()) +
                " ring address(es), while the nodelist's nodes have " +
                std::to_string(list.front().addresses.size()));
  return {};
}

Result<std::vector<ListedNode>> removed(const std::vector<ListedNode>& list, std::uint32_t id,
                                        const std::vector<std::uint32_t>& ring) {
  auto it = std::find_if(list.begin(), list.end(), [&](const auto& n) { return n.id == id; });
  if (it == list.end())
    return fail("nodelist_remove: node id " + std::to_string(id) + " is not in the nodelist");
  if (std::find(ring.begin(), ring.end(), id) != ring.end())
    return fail("nodelist_remove: " + describe(*it) +
                " is still a member of the ring: stop it first (vigil cluster stop on it)");
  if (list.size() == 1)
    return fail("nodelist_remove: " + describe(*it) + " is the last node in the nodelist");
  auto out = list;
  out.erase(out.begin() + (it - list.begin()));
  return out;
}

}  // namespace

std::string describe(const ListedNode& node) {
  return "node " + std::to_string(node.id) + (node.name.empty() ? "" : " (" + node.name + ")");
}

std::vector<std::uint8_t> encode_change(const NodelistChange& change) {
  std::vector<std::uint8_t> out(std::begin(kMagic), std::end(kMagic));
  out.push_back(kNodelistWireVersion);
  out.push_back(static_cast<std::uint8_t>(change.kind));
  put(out, change.ticket, 8);
  put(out, change.node.id, 4);
  if (change.kind == NodelistChange::Kind::Remove) return out;
  put_text(out, change.node.name);
  out.push_back(static_cast<std::uint8_t>(change.node.addresses.size()));
  for (const auto& a : change.node.addresses) put_text(out, a);
  return out;
}

Result<NodelistChange> decode_change(std::span<const std::uint8_t> in) {
  if (in.size() < kHeaderSize)
    return fail("nodelist change: " + std::to_string(in.size()) +
                " bytes, shorter than its header");
  if (!std::equal(std::begin(kMagic), std::end(kMagic), in.begin()))
    return fail("nodelist change: not a nodelist message (wrong magic)");
  if (in[4] != kNodelistWireVersion)
    return fail("nodelist change: unsupported version " + std::to_string(in[4]));
  if (in[5] != static_cast<std::uint8_t>(NodelistChange::Kind::Add) &&
      in[5] != static_cast<std::uint8_t>(NodelistChange::Kind::Remove))
    return fail("nodelist change: unknown kind " + std::to_string(in[5]));
  NodelistChange change;
  change.kind = static_cast<NodelistChange::Kind>(in[5]);
  Reader r(in.subspan(6));
  change.ticket = *r.number(8, "ticket");  // the header's length was checked
  change.node.id = static_cast<std::uint32_t>(*r.number(4, "node id"));
  if (change.node.id == 0) return fail("nodelist change: node id 0");
  if (change.kind == NodelistChange::Kind::Add) {
    if (auto read = read_added(r, change.node); !read) return read.error();
  }
  if (!r.done()) return fail("nodelist change: trailing bytes");
  return change;
}

Result<ListedNode> find_listed(const std::vector<ListedNode>& list, const std::string& word) {
  for (const auto& n : list) {
    if (std::to_string(n.id) == word || (!n.name.empty() && n.name == word) ||
        (!n.addresses.empty() && n.addresses.front() == word))
      return n;
  }
  return fail("no node in the nodelist is named, numbered or addressed '" + word + "'");
}

std::uint32_t free_id(const std::vector<ListedNode>& list) {
  std::uint32_t id = 1;
  while (std::any_of(list.begin(), list.end(), [&](const ListedNode& n) { return n.id == id; })) ++id;
  return id;
}

Result<std::vector<ListedNode>> apply_change(const std::vector<ListedNode>& list,
                                             const NodelistChange& change,
                                             const std::vector<std::uint32_t>& ring) {
  if (change.kind == NodelistChange::Kind::Remove) return removed(list, change.node.id, ring);
  if (auto checked = check_added(list, change.node); !checked) return checked.error();
  auto out = list;
  out.push_back(change.node);
  return out;
}

}  // namespace vigil::node
