#include "quorum/witness.h"

#include <algorithm>

namespace vigil::quorum {

namespace {

constexpr std::uint8_t kWitnessMagic[4] = {'V', 'Q', 'W', 'N'};
enum class Kind : std::uint8_t { Ask = 1, Answer = 2 };

class Writer {
 public:
  explicit Writer(Kind kind) : out_(std::begin(kWitnessMagic), std::end(kWitnessMagic)) {
    out_.push_back(kWitnessVersion);
    out_.push_back(static_cast<std::uint8_t>(kind));
  }
  template <class T>
  void put(T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      out_.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i)));
  }
  void text(const std::string& s) {
    put(static_cast<std::uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Reads fields in order; the first short read sticks, so a caller checks once at the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  template <class T>
  T get() {
    if (short_ || in_.size() < sizeof(T)) {
      short_ = true;
      return T{};
    }
    std::uint64_t v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) v = v << 8 | in_[i];
    in_ = in_.subspan(sizeof(T));
    return static_cast<T>(v);
  }
  std::string text() {
    const auto n = get<std::uint16_t>();
    if (short_ || in_.size() < n) {
      short_ = true;
      return {};
    }
    std::string s(in_.begin(), in_.begin() + n);
    in_ = in_.subspan(n);
    return s;
  }
  bool short_read() const { return short_; }
  std::size_t left() const { return in_.size(); }

 private:
  std::span<const std::uint8_t> in_;
  bool short_ = false;
};

Result<Reader> open(std::span<const std::uint8_t> in, Kind kind, const char* what) {
  const std::string name = std::string("witness ") + what;
  if (in.size() < 6) return fail(name + ": " + std::to_string(in.size()) + " bytes, shorter than its header");
  if (!std::equal(std::begin(kWitnessMagic), std::end(kWitnessMagic), in.begin()))
    return fail(name + ": not a witness message (wrong magic)");
  if (in[4] != kWitnessVersion) return fail(name + ": unsupported version " + std::to_string(in[4]));
  if (in[5] != static_cast<std::uint8_t>(kind))
    return fail(name + ": kind " + std::to_string(in[5]) + ", not " +
                std::to_string(static_cast<int>(kind)));
  return Reader(in.subspan(6));
}

Result<void> finished(const Reader& r, const char* what) {
  if (r.short_read()) return fail(std::string("witness ") + what + ": cut short");
  if (r.left() != 0)
    return fail(std::string("witness ") + what + ": " + std::to_string(r.left()) +
                " bytes after its end");
  return {};
}

bool contains_sorted(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

}  // namespace

Bytes encode_ask(const Ask& a) {
  Writer w(Kind::Ask);
  w.text(a.cluster);
  w.put(a.node);
  w.put(a.session);
  w.put(a.serial);
  w.put(static_cast<std::uint32_t>(a.validity));
  w.put(static_cast<std::uint8_t>(a.tie_breaker));
  w.put(a.tie_breaker_node);
  w.put(static_cast<std::uint16_t>(a.members.size()));
  for (NodeId id : a.members) w.put(id);
  return w.take();
}

Result<Ask> decode_ask(std::span<const std::uint8_t> bytes) {
  auto r = open(bytes, Kind::Ask, "ask");
  if (!r) return r.error();
  Ask a;
  a.cluster = r->text();
  a.node = r->get<std::uint32_t>();
  a.session = r->get<std::uint64_t>();
  a.serial = r->get<std::uint64_t>();
  a.validity = r->get<std::uint32_t>();
  const auto tie = r->get<std::uint8_t>();
  a.tie_breaker_node = r->get<std::uint32_t>();
  const auto count = r->get<std::uint16_t>();
  for (std::uint16_t i = 0; i < count && i < kMaxMembers && !r->short_read(); ++i)
    a.members.push_back(r->get<std::uint32_t>());
  if (count > kMaxMembers)
    return fail("witness ask: " + std::to_string(count) + " members, more than " +
                std::to_string(kMaxMembers));
  if (auto done = finished(*r, "ask"); !done) return done.error();
  if (a.cluster.empty() || a.cluster.size() > kMaxClusterName)
    return fail("witness ask: cluster name of " + std::to_string(a.cluster.size()) + " bytes");
  if (a.node == 0) return fail("witness ask: node id 0");
  if (a.validity == 0 || a.validity > kMaxValidity)
    return fail("witness ask: validity " + std::to_string(a.validity) + " ms outside 1.." +
                std::to_string(kMaxValidity));
  if (tie > static_cast<std::uint8_t>(DeviceTieBreaker::Node))
    return fail("witness ask: unknown tie-breaker " + std::to_string(tie));
  a.tie_breaker = static_cast<DeviceTieBreaker>(tie);
  if (a.members.empty() || std::adjacent_find(a.members.begin(), a.members.end(),
                                              std::greater_equal<>()) != a.members.end())
    return fail("witness ask: members empty, unsorted or repeated");
  if (!contains_sorted(a.members, a.node))
    return fail("witness ask: node " + std::to_string(a.node) + " is not in its own membership");
  return a;
}

Bytes encode_answer(const Answer& a) {
  Writer w(Kind::Answer);
  w.put(a.session);
  w.put(a.serial);
  w.put(static_cast<std::uint8_t>(a.vote ? 1 : 0));
  w.put(a.keeper);
  return w.take();
}

Result<Answer> decode_answer(std::span<const std::uint8_t> bytes) {
  auto r = open(bytes, Kind::Answer, "answer");
  if (!r) return r.error();
  Answer a;
  a.session = r->get<std::uint64_t>();
  a.serial = r->get<std::uint64_t>();
  const auto vote = r->get<std::uint8_t>();
  a.keeper = r->get<std::uint32_t>();
  if (auto done = finished(*r, "answer"); !done) return done.error();
  if (vote > 1) return fail("witness answer: vote byte " + std::to_string(vote));
  a.vote = vote == 1;
  if (a.vote != (a.keeper != 0))
    return fail(std::string("witness answer: ") +
                (a.vote ? "a vote without a keeper"
                        : "a refusal naming keeper " + std::to_string(a.keeper)));
  return a;
}

// ---- the witness ------------------------------------------------------------------------------

namespace {

using Members = std::vector<NodeId>;

// The tie-breaker's node within one membership: the keeper of a chain that starts with it.
NodeId keeper_of(const Witness::Cluster& c, const Members& m) {
  switch (c.tie_breaker) {
    case DeviceTieBreaker::Highest:
      return m.back();
    case DeviceTieBreaker::Node:
      if (contains_sorted(m, c.tie_breaker_node)) return c.tie_breaker_node;
      break;
    case DeviceTieBreaker::Lowest:
      break;
  }
  return m.front();
}

bool holds_tie_breaker(const Witness::Cluster& c, const Members& m,
                       const std::vector<const Members*>& all) {
  NodeId wanted = 0;
  switch (c.tie_breaker) {
    case DeviceTieBreaker::Node:
      for (const Members* other : all)
        if (contains_sorted(*other, c.tie_breaker_node)) wanted = c.tie_breaker_node;
      if (wanted != 0) break;
      [[fallthrough]];  // the named node is in no partition: the lowest decides
    case DeviceTieBreaker::Lowest:
      wanted = all.front()->front();
      for (const Members* other : all) wanted = std::min(wanted, other->front());
      break;
    case DeviceTieBreaker::Highest:
      wanted = 0;
      for (const Members* other : all) wanted = std::max(wanted, other->back());
      break;
  }
  return contains_sorted(m, wanted);
}

// ffsplit: the partition with the most nodes among those the connected nodes report, then the
// one holding the tie-breaker node.
std::optional<Members> decide(const Witness::Cluster& c, Millis now) {
  std::vector<const Members*> all;
  for (const auto& entry : c.nodes) {
    const Witness::Seat& seat = entry.second;  // a named reference: older clang cannot capture
    if (!seat.connected || now >= seat.asked_at + c.validity) continue;
    if (std::none_of(all.begin(), all.end(), [&](const Members* m) { return *m == seat.members; }))
      all.push_back(&seat.members);
  }
  if (all.empty()) return std::nullopt;
  const Members* best = nullptr;
  for (const Members* m : all) {
    if (!best || m->size() > best->size() ||
        (m->size() == best->size() && holds_tie_breaker(c, *m, all)))
      best = m;
  }
  return *best;
}

// Records the ask's serial for its session, or refuses it as a replay. The session heard least
// recently makes room for a new one.
Result<void> note_serial(std::vector<Witness::Heard>& heard, const Ask& a, Millis now) {
  auto it = std::find_if(heard.begin(), heard.end(),
                         [&](const Witness::Heard& h) { return h.session == a.session; });
  if (it != heard.end()) {
    if (a.serial <= it->serial)
      return fail("witness: node " + std::to_string(a.node) + ", session " +
                  std::to_string(a.session) + ": serial " + std::to_string(a.serial) +
                  " is not past " + std::to_string(it->serial) + ", the last heard (a replayed ask)");
    it->serial = a.serial;
    it->at = now;
    return {};
  }
  if (heard.size() >= Witness::kSessionsKept)
    heard.erase(std::min_element(heard.begin(), heard.end(), [](const auto& x, const auto& y) {
      return x.at < y.at;
    }));
  heard.push_back({a.session, a.serial, now});
  return {};
}

}  // namespace

Result<Answer> Witness::ask(std::uint32_t key, const Ask& a, Millis now) {
  Cluster& c = clusters_[ClusterId{key, a.cluster}];
  if (auto fresh = note_serial(c.heard[a.node], a, now); !fresh) return fresh.error();
  c.nodes[a.node] = Seat{true, a.session, a.members, now};
  c.validity = std::max(c.validity, a.validity);
  c.tie_breaker = a.tie_breaker;
  c.tie_breaker_node = a.tie_breaker_node;
  Answer answer{a.session, a.serial, false};
  if (now < started_ + c.validity) return answer;  // a predecessor's grants may still count
  if (c.holder && now < c.holder_until) {
    // A grant of the chain may still count somewhere: only a ring holding its keeper may have it.
    if (inherits(a.members, *c.holder, c.keeper)) c.holder = a.members;
  } else if (c.holder != a.members) {
    auto next = decide(c, now);
    if (next != c.holder) c.holder_until = 0;  // the new holder has no grant yet
    c.holder = std::move(next);
    if (c.holder) c.keeper = keeper_of(c, *c.holder);
  }
  if (c.holder != a.members) return answer;
  c.holder_until = std::max(c.holder_until, now + a.validity);
  answer.vote = true;
  answer.keeper = c.keeper;
  return answer;
}

void Witness::disconnected(const ClusterId& cluster, NodeId node, std::uint64_t session) {
  auto c = clusters_.find(cluster);
  if (c == clusters_.end()) return;
  auto seat = c->second.nodes.find(node);
  // A node that reconnected before its old connection closed keeps its new seat.
  if (seat != c->second.nodes.end() && seat->second.session == session)
    seat->second.connected = false;
}

// ---- the node's side --------------------------------------------------------------------------

DeviceClient::DeviceClient(DeviceSettings settings, std::uint64_t session)
    : settings_(std::move(settings)), session_(session) {
  VIGIL_ASSERT(settings_.timeout >= 4);
}

void DeviceClient::membership(std::vector<NodeId> members, Millis now) {
  std::sort(members.begin(), members.end());
  members_ = std::move(members);
  if (grant_ && !(now < grant_->until && inherits(members_, grant_->members, grant_->keeper)))
    grant_.reset();
  ++serial_;  // an answer to an ask about the old ring must not count for this one
  next_ask_ = now;
}

void DeviceClient::connected(bool up, Millis now) {
  up_ = up;
  if (up) next_ask_ = now;
}

std::optional<Ask> DeviceClient::due(Millis now) {
  if (!up_ || members_.empty() || !next_ask_ || now < *next_ask_) return std::nullopt;
  asked_at_ = now;
  next_ask_ = now + interval();
  return Ask{settings_.cluster,     settings_.self,        session_, ++serial_, settings_.timeout,
             settings_.tie_breaker, settings_.tie_breaker_node, members_};
}

void DeviceClient::answer(const Answer& a, Millis now) {
  if (a.session != session_ || a.serial != serial_) return;  // not the latest ask: stale
  // A keeper outside the ring asked about would be the witness's bug: count nothing on it.
  if (!a.vote || !std::binary_search(members_.begin(), members_.end(), a.keeper)) {
    grant_.reset();
    return;
  }
  if (asked_at_ + settings_.timeout > now)
    grant_ = DeviceGrant{members_, a.keeper, asked_at_ + settings_.timeout};
}

bool DeviceClient::cast(Millis now) const {
  return grant_ && now < grant_->until;
}

std::optional<DeviceGrant> DeviceClient::grant(Millis now) const {
  return cast(now) ? grant_ : std::nullopt;
}

std::optional<Millis> DeviceClient::wake_at(Millis now) const {
  std::optional<Millis> at;
  if (up_ && !members_.empty() && next_ask_) at = *next_ask_;
  if (grant_ && grant_->until > now) at = at ? std::min(*at, grant_->until) : grant_->until;
  return at;
}

}  // namespace vigil::quorum
