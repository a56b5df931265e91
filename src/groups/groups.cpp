#include "groups/groups.h"

#include <algorithm>
#include <optional>

namespace vigil::groups {

namespace {

constexpr std::uint8_t kVersion = 2;
enum Kind : std::uint8_t { kJoin = 1, kLeave = 2, kMessage = 3, kJoinList = 4 };

void put_name(Bytes& out, const std::string& name) {
  out.push_back(static_cast<std::uint8_t>(name.size()));
  out.push_back(static_cast<std::uint8_t>(name.size() >> 8));
  out.insert(out.end(), name.begin(), name.end());
}
void put32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Reads fields off the front of a payload; any shortfall leaves it failed.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool ok() const { return ok_; }
  std::span<const std::uint8_t> rest() const { return in_; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(take(4)); }
  std::uint64_t u64() { return take(8); }
  std::string name() {
    const auto length = static_cast<std::size_t>(take(2));
    if (!ok_ || length == 0 || length > kMaxGroupName || length > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string s(in_.begin(), in_.begin() + static_cast<long>(length));
    in_ = in_.subspan(length);
    return s;
  }

 private:
  std::uint64_t take(std::size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | in_[i];
    in_ = in_.subspan(n);
    return v;
  }
  std::span<const std::uint8_t> in_;
  bool ok_ = true;
};

Result<void> check_name(const std::string& group) {
  if (group.empty() || group.size() > kMaxGroupName) {
    return fail("group name must be 1.." + std::to_string(kMaxGroupName) + " bytes: '" + group +
                "'");
  }
  return {};
}

Bytes header(Kind kind, const std::string& group, std::uint32_t pid) {
  Bytes out{kVersion, kind};
  put_name(out, group);
  put32(out, pid);
  return out;
}

}  // namespace

const char* to_string(Reason reason) {
  switch (reason) {
    case Reason::Join:
      return "join";
    case Reason::Leave:
      return "leave";
    case Reason::NodeDown:
      return "nodedown";
    case Reason::NodeUp:
      return "nodeup";
    case Reason::ProcDown:
      return "procdown";
  }
  return "unknown";
}

Result<Bytes> ProcessGroups::join(const std::string& group, std::uint32_t pid) {
  if (auto ok = check_name(group); !ok.ok()) return ok.error();
  return header(kJoin, group, pid);
}

Result<Bytes> ProcessGroups::leave(const std::string& group, std::uint32_t pid, Reason reason) {
  if (auto ok = check_name(group); !ok.ok()) return ok.error();
  Bytes out = header(kLeave, group, pid);
  out.push_back(static_cast<std::uint8_t>(reason));
  return out;
}

Result<Bytes> ProcessGroups::message(const std::string& group, std::uint32_t pid,
                                     std::span<const std::uint8_t> data) {
  if (auto ok = check_name(group); !ok.ok()) return ok.error();
  if (data.size() > kMaxMessage)
    return fail("a message of " + std::to_string(data.size()) + " bytes to group " + group +
                " exceeds the ring's limit of " + std::to_string(kMaxMessage) + " bytes");
  Bytes out = header(kMessage, group, pid);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

bool ProcessGroups::has_local(const std::string& group) const {
  auto it = groups_.find(group);
  return it != groups_.end() && std::any_of(it->second.begin(), it->second.end(),
                                            [&](const Member& m) { return m.node == self_; });
}

void ProcessGroups::add(Output& out, const std::string& group, const std::vector<Member>& joined,
                        Reason reason) {
  auto& members = groups_[group];
  std::vector<Member> fresh;
  for (const auto& m : joined) {
    if (members.insert(m).second) fresh.push_back(m);
  }
  if (fresh.empty() || !has_local(group)) return;
  out.events.push_back(GroupChange{group, {members.begin(), members.end()}, fresh, {}, reason});
}

void ProcessGroups::remove(Output& out, const std::string& group, const std::vector<Member>& left,
                           Reason reason) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  // The members leaving hear of their own leave too, so a local process learns it is out.
  const bool local_before = has_local(group);
  std::vector<Member> gone;
  for (const auto& m : left) {
    if (it->second.erase(m) > 0) gone.push_back(m);
  }
  if (!gone.empty() && local_before) {
    out.events.push_back(
        GroupChange{group, {it->second.begin(), it->second.end()}, {}, gone, reason});
  }
  if (it->second.empty()) groups_.erase(it);
}

// Join-list barrier (CPG's sync): after a ring change that brought nodes in, every member of the
// new ring sends its join list. Until all of them are delivered, other payloads wait, so that every
// node applies them after the same, complete view: a node that merged from another partition would
// otherwise see a message before the sender's members were known to it, where the others already
// had them — and a layer above (the CIB) would act on it differently on different nodes.
bool ProcessGroups::barrier_list(std::span<const std::uint8_t> payload) const {
  Reader r(payload);
  const bool list = r.u8() == kVersion && r.u8() == kJoinList;
  const RingTag ring{r.u32(), r.u64()};
  return list && r.ok() && ring == ring_;
}

Output ProcessGroups::delivered(NodeId sender, std::span<const std::uint8_t> payload) {
  const bool join_list = barrier_list(payload);
  if (awaiting_.empty() || faults_.no_join_barrier) return deliver_now(sender, payload);
  if (!join_list) {
    held_.push_back({sender, Bytes(payload.begin(), payload.end())});
    return {};
  }
  Output out = deliver_now(sender, payload);
  awaiting_.erase(sender);
  if (awaiting_.empty()) release(out);
  return out;
}

void ProcessGroups::release(Output& out) {
  auto held = std::move(held_);
  held_.clear();
  for (const auto& [from, bytes] : held) {
    auto more = deliver_now(from, bytes);
    out.send.insert(out.send.end(), more.send.begin(), more.send.end());
    out.events.insert(out.events.end(), more.events.begin(), more.events.end());
  }
}

Output ProcessGroups::deliver_now(NodeId sender, std::span<const std::uint8_t> payload) {
  Output out;
  Reader r(payload);
  const auto version = r.u8();
  const auto kind = r.u8();
  if (!r.ok() || version != kVersion) {
    ++undecodable_;
    return out;
  }
  const bool present = !present_ || present_->count(sender) != 0;
  if (kind == kJoinList) {
    r.u32();  // the ring it was made for: only the barrier asks
    r.u64();
    const auto count = r.u32();
    std::map<std::string, std::vector<Member>> listed;
    for (std::uint32_t i = 0; r.ok() && i < count; ++i) {
      auto name = r.name();
      const auto pid = r.u32();
      if (r.ok()) listed[name].push_back(Member{sender, pid});
    }
    if (!r.ok() || !r.rest().empty()) {
      ++undecodable_;
      return out;
    }
    if (!present) return out;
    for (const auto& [group, members] : listed) add(out, group, members, Reason::NodeUp);
    return out;
  }
  auto group = r.name();
  const Member member{sender, r.u32()};
  if (!r.ok()) {
    ++undecodable_;
    return out;
  }
  switch (kind) {
    case kJoin:
      if (!r.rest().empty()) break;
      if (present) add(out, group, {member}, Reason::Join);
      return out;
    case kLeave: {
      const auto reason = r.u8();
      if (!r.ok() || !r.rest().empty() ||
          (reason != static_cast<std::uint8_t>(Reason::Leave) &&
           reason != static_cast<std::uint8_t>(Reason::ProcDown))) {
        break;
      }
      remove(out, group, {member}, static_cast<Reason>(reason));
      return out;
    }
    case kMessage:
      if (has_local(group)) {
        out.events.push_back(GroupMessage{group, member, Bytes(r.rest().begin(), r.rest().end())});
      }
      return out;
    default:
      break;
  }
  ++undecodable_;
  return out;
}

Output ProcessGroups::transitional(const std::vector<NodeId>& survivors,
                                   const std::vector<NodeId>& left_cleanly) {
  return configuration(survivors, left_cleanly, nullptr);
}

Output ProcessGroups::regular(const std::vector<NodeId>& members, RingTag ring) {
  return configuration(members, {}, &ring);
}

Output ProcessGroups::configuration(const std::vector<NodeId>& nodes,
                                    const std::vector<NodeId>& left_cleanly,
                                    const RingTag* new_ring) {
  Output out;
  // What the last ring delivered goes up before this change (virtual synchrony): a barrier that
  // did not complete there is given up, its held payloads released in their order.
  awaiting_.clear();
  release(out);
  present_.emplace(nodes.begin(), nodes.end());
  if (new_ring) {
    ring_ = *new_ring;
    awaiting_.insert(nodes.begin(), nodes.end());
  }
  auto present = [&](NodeId n) { return std::find(nodes.begin(), nodes.end(), n) != nodes.end(); };
  auto clean = [&](NodeId n) {
    return std::find(left_cleanly.begin(), left_cleanly.end(), n) != left_cleanly.end();
  };
  for (const auto& name : group_names()) {
    std::vector<Member> down, leaving;
    for (const auto& m : groups_[name]) {
      if (present(m.node)) continue;
      (clean(m.node) ? leaving : down).push_back(m);
    }
    remove(out, name, leaving, Reason::Leave);
    remove(out, name, down, Reason::NodeDown);
  }
  if (new_ring) {
    Bytes list{kVersion, kJoinList};
    put32(list, ring_.rep);
    put32(list, static_cast<std::uint32_t>(ring_.seq));
    put32(list, static_cast<std::uint32_t>(ring_.seq >> 32));
    const std::size_t count_at = list.size();
    put32(list, 0);
    std::uint32_t count = 0;
    for (const auto& [name, members] : groups_) {
      for (const auto& m : members) {
        if (m.node != self_) continue;
        put_name(list, name);
        put32(list, m.pid);
        ++count;
      }
    }
    for (std::size_t i = 0; i < 4; ++i)
      list[count_at + i] = static_cast<std::uint8_t>(count >> (8 * i));
    out.send.push_back(std::move(list));
  }
  return out;
}

void ProcessGroups::check_invariants() const {
  for (const auto& [name, members] : groups_) VIGIL_ASSERT(!name.empty() && !members.empty());
  VIGIL_ASSERT(held_.empty() || !awaiting_.empty());
}

std::vector<std::uint32_t> ProcessGroups::local_members(const std::string& group) const {
  std::vector<std::uint32_t> pids;
  if (auto it = groups_.find(group); it != groups_.end()) {
    for (const auto& m : it->second) {
      if (m.node == self_) pids.push_back(m.pid);
    }
  }
  return pids;
}

std::vector<Member> ProcessGroups::members(const std::string& group) const {
  auto it = groups_.find(group);
  if (it == groups_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> ProcessGroups::group_names() const {
  std::vector<std::string> names;
  for (const auto& [name, members] : groups_) names.push_back(name);
  return names;
}

}  // namespace vigil::groups
