// The controllers' messages on the wire: version 2, little-endian, every field length-checked.
#include <cstring>

#include "controller/controller.h"

namespace vigil::controller {

namespace {

constexpr std::uint8_t kVersion = 2;
// The request carries the resource's parameters as the user configured them: the bounds are those
// of one group message (groups::kMaxMessage, under 1 MiB), so that no configuration a CIB change
// can carry meets them; a request larger than the ring carries is refused by the group layer, and
// the action times out.
constexpr std::uint32_t kMaxString = 1 << 20;
enum Kind : std::uint8_t { kExecute = 1, kOffer = 2, kAck = 3, kResult = 4 };
constexpr std::uint32_t kMaxPairs = 1 << 16;

struct Writer {
  std::string out;
  void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void str(const std::string& s) {
    VIGIL_ASSERT(s.size() <= kMaxString);
    u32(static_cast<std::uint32_t>(s.size()));
    out += s;
  }
  void pairs(const std::map<std::string, std::string>& m) {
    VIGIL_ASSERT(m.size() <= kMaxPairs);
    u32(static_cast<std::uint32_t>(m.size()));
    for (const auto& [k, v] : m) {
      str(k);
      str(v);
    }
  }
};

struct Reader {
  std::string_view in;
  std::size_t at = 0;
  bool bad = false;
  bool need(std::size_t n) {
    if (bad || in.size() - at < n) bad = true;
    return !bad;
  }
  std::uint64_t uint(int bytes) {
    if (!need(static_cast<std::size_t>(bytes))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[at++])) << (8 * i);
    return v;
  }
  std::string str() {
    auto n = static_cast<std::uint32_t>(uint(4));
    if (n > kMaxString || !need(n)) {
      bad = true;
      return {};
    }
    std::string s(in.substr(at, n));
    at += n;
    return s;
  }
};

// A map as Writer::pairs writes it; what is wrong with it, if anything (one spelling: keys
// strictly ascending).
std::optional<std::string> read_pairs(Reader& r, const std::string& what,
                                      std::map<std::string, std::string>& out) {
  const auto count = static_cast<std::uint32_t>(r.uint(4));
  if (count > kMaxPairs) return "controller message: " + std::to_string(count) + " " + what + "s";
  for (std::uint32_t i = 0; i < count && !r.bad; ++i) {
    std::string k = r.str();
    if (!out.empty() && k <= out.rbegin()->first)
      return "controller message: " + what + " " + k + " out of order";
    out[std::move(k)] = r.str();
  }
  return std::nullopt;
}

}  // namespace

std::string encode(const Message& m) {
  Writer w;
  w.u8(kVersion);
  if (const auto* e = std::get_if<ExecuteRequest>(&m)) {
    w.u8(kExecute);
    w.str(e->te_uuid);
    w.u32(static_cast<std::uint32_t>(e->transition));
    w.u32(static_cast<std::uint32_t>(e->action));
    w.u32(e->node);
    w.str(e->resource);
    w.str(e->task);
    w.u64(static_cast<std::uint64_t>(e->interval_ms));
    w.u32(static_cast<std::uint32_t>(e->target_rc));
    w.str(e->key);
    w.pairs(e->meta);
    w.str(e->definition.cls);
    w.str(e->definition.provider);
    w.str(e->definition.type);
    w.u64(static_cast<std::uint64_t>(e->definition.timeout));
    w.pairs(e->definition.params);
  } else if (const auto* n = std::get_if<ActionResultNote>(&m)) {
    w.u8(kResult);
    w.str(n->te_uuid);
    w.u32(static_cast<std::uint32_t>(n->transition));
    w.u32(static_cast<std::uint32_t>(n->action));
    w.u32(static_cast<std::uint32_t>(n->rc));
    w.u32(static_cast<std::uint32_t>(n->op_status));
  } else if (const auto* o = std::get_if<JoinOffer>(&m)) {
    w.u8(kOffer);
    w.str(o->te_uuid);
    w.u64(o->round);
  } else {
    const auto& a = std::get<JoinAck>(m);
    w.u8(kAck);
    w.str(a.te_uuid);
    w.u64(a.round);
  }
  return w.out;
}

Result<Message> decode(std::string_view bytes) {
  Reader r{bytes};
  const auto version = r.uint(1);
  const auto kind = r.uint(1);
  if (r.bad) return fail("controller message: shorter than its header");
  if (version != kVersion)
    return fail("controller message: version " + std::to_string(version) + " is not " +
                std::to_string(kVersion));
  Message m;
  switch (kind) {
    case kExecute: {
      ExecuteRequest e;
      e.te_uuid = r.str();
      e.transition = static_cast<int>(r.uint(4));
      e.action = static_cast<int>(r.uint(4));
      e.node = static_cast<NodeId>(r.uint(4));
      e.resource = r.str();
      e.task = r.str();
      e.interval_ms = static_cast<std::int64_t>(r.uint(8));
      e.target_rc = static_cast<int>(r.uint(4));
      e.key = r.str();
      if (auto bad = read_pairs(r, "meta-attribute", e.meta)) return fail(*bad);
      e.definition.cls = r.str();
      e.definition.provider = r.str();
      e.definition.type = r.str();
      e.definition.timeout = static_cast<Millis>(r.uint(8));
      if (auto bad = read_pairs(r, "parameter", e.definition.params)) return fail(*bad);
      m = std::move(e);
      break;
    }
    case kOffer:
    case kAck: {
      std::string uuid = r.str();
      std::uint64_t round = r.uint(8);
      if (kind == kOffer) {
        m = JoinOffer{std::move(uuid), round};
      } else {
        m = JoinAck{std::move(uuid), round};
      }
      break;
    }
    case kResult: {
      ActionResultNote n;
      n.te_uuid = r.str();
      n.transition = static_cast<int>(r.uint(4));
      n.action = static_cast<int>(r.uint(4));
      n.rc = static_cast<int>(r.uint(4));
      n.op_status = static_cast<int>(r.uint(4));
      m = std::move(n);
      break;
    }
    default:
      return fail("controller message: unknown kind " + std::to_string(kind));
  }
  if (r.bad) return fail("controller message: truncated at byte " + std::to_string(r.at));
  if (r.at != bytes.size())
    return fail("controller message: " + std::to_string(bytes.size() - r.at) +
                " bytes after its end");
  return m;
}

}  // namespace vigil::controller
