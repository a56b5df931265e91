#include "cib/replica.h"

#include <algorithm>
#include <tuple>

#include "cib/bytes.h"
#include "common/invariants.h"

namespace vigil::cib {

using namespace wire;

namespace {

constexpr std::string_view kReplicaMagic = "CIBR";
constexpr std::uint8_t kReplicaWireVersion = 2;
constexpr std::size_t kMaxDigest = 128;
// Views whose requests were missed, kept at most: more than the views a group can pass through
// between two rounds a member takes part in, for clusters of up to 16 nodes joining one by one.
constexpr std::size_t kMissedViews = 16;

void put_members(std::string& out, const std::vector<groups::Member>& members) {
  VIGIL_ASSERT(members.size() <= kMaxMembers);
  put_u32(out, static_cast<std::uint32_t>(members.size()));
  for (const auto& m : members) {
    put_u32(out, m.node);
    put_u32(out, m.pid);
  }
}

Result<std::vector<groups::Member>> read_members(Reader& in) {
  std::uint32_t count = 0;
  if (!in.u32(count)) return fail("cib replica: truncated member count");
  if (count > kMaxMembers || count > in.left() / 8)
    return fail("cib replica: member count " + std::to_string(count) + " exceeds the input");
  std::vector<groups::Member> members(count);
  for (auto& m : members) {
    if (!in.u32(m.node) || !in.u32(m.pid)) return fail("cib replica: truncated member list");
  }
  return members;
}

void put_round(std::string& out, const RoundId& id) {
  put_u32(out, id.requester.node);
  put_u32(out, id.requester.pid);
  put_u64(out, id.round);
}

bool read_round(Reader& in, RoundId& id) {
  return in.u32(id.requester.node) && in.u32(id.requester.pid) && in.u64(id.round);
}

struct Encoder {
  std::string& out;
  void operator()(const OpMessage& m) const {
    put_u64(out, m.request);
    put_bytes(out, encode(m.op));
  }
  void operator()(const RequestMessage& m) const {
    put_u64(out, m.round);
    put_members(out, m.members);
  }
  void operator()(const OfferMessage& m) const {
    VIGIL_ASSERT(m.digest.size() <= kMaxDigest);
    put_round(out, m.round);
    put_version(out, m.version);
    put_bytes(out, m.digest);
  }
  void operator()(const SyncMessage& m) const {
    VIGIL_ASSERT(m.part < m.parts && m.parts <= kMaxSyncParts);
    put_round(out, m.round);
    put_u32(out, m.part);
    put_u32(out, m.parts);
    put_bytes(out, m.xml);
  }
};

Result<ReplicaMessage> decode_body(Reader& in, std::uint8_t kind) {
  switch (kind) {
    case 1: {
      OpMessage m;
      std::string bytes;
      if (!in.u64(m.request) || !in.bytes(bytes)) return fail("cib replica: truncated op");
      auto op = decode(bytes);
      if (!op) return fail("cib replica: " + op.error().message);
      m.op = std::move(*op);
      return ReplicaMessage{std::move(m)};
    }
    case 2: {
      RequestMessage m;
      if (!in.u64(m.round)) return fail("cib replica: truncated request");
      auto members = read_members(in);
      if (!members) return members.error();
      m.members = std::move(*members);
      return ReplicaMessage{std::move(m)};
    }
    case 3: {
      OfferMessage m;
      if (!read_round(in, m.round) || !in.version(m.version) || !in.bytes(m.digest))
        return fail("cib replica: truncated offer");
      if (m.digest.size() > kMaxDigest) return fail("cib replica: offer digest too long");
      return ReplicaMessage{std::move(m)};
    }
    case 4: {
      SyncMessage m;
      if (!read_round(in, m.round) || !in.u32(m.part) || !in.u32(m.parts) || !in.bytes(m.xml))
        return fail("cib replica: truncated sync");
      if (m.parts == 0 || m.parts > kMaxSyncParts || m.part >= m.parts)
        return fail("cib replica: sync part " + std::to_string(m.part) + " of " +
                    std::to_string(m.parts) + " is out of range");
      return ReplicaMessage{std::move(m)};
    }
    default:
      return fail("cib replica: unknown message kind " + std::to_string(kind));
  }
}

}  // namespace

std::string encode_message(const ReplicaMessage& message) {
  std::string out(kReplicaMagic);
  out.push_back(static_cast<char>(kReplicaWireVersion));
  out.push_back(static_cast<char>(message.index() + 1));
  std::visit(Encoder{out}, message);
  return out;
}

Result<ReplicaMessage> decode_message(std::string_view bytes) {
  Reader in(bytes);
  std::string_view magic;
  if (!in.take(kReplicaMagic.size(), magic) || magic != kReplicaMagic)
    return fail("cib replica: bad magic");
  std::uint8_t version = 0, kind = 0;
  if (!in.u8(version) || !in.u8(kind)) return fail("cib replica: truncated header");
  if (version != kReplicaWireVersion)
    return fail("cib replica: unsupported wire version " + std::to_string(version));
  auto m = decode_body(in, kind);
  if (m && in.left() != 0)
    return fail("cib replica: " + std::to_string(in.left()) + " trailing bytes");
  return m;
}

Replica::Replica(groups::Member self, Cib initial) : self_(self) {
  set(std::move(initial));
}

void Replica::set(Cib cib) {
  cib_ = std::move(cib);
  digest_ = cib_.content_digest();
}

std::string Replica::name(const groups::Member& m) const {
  return "node " + std::to_string(m.node);
}

ReplicaOutput Replica::commit(std::uint64_t request, CibOp op) {
  const CheckedStep checked(*this);
  ReplicaOutput out;
  VIGIL_ASSERT(!pending_.contains(request));
  if (const auto size = encode_message(OpMessage{request, op}).size(); size > groups::kMaxMessage) {
    out.done.push_back(Outcome{
        request, fail("the change is " + std::to_string(size) +
                      " bytes; one change through the ring carries at most " +
                      std::to_string(groups::kMaxMessage) + " (make it in smaller steps)")});
    return out;
  }
  // Before our own join is delivered the group would not carry it: it goes out after the offer.
  if (joined_) out.send.push_back(encode_message(OpMessage{request, op}));
  pending_.emplace(request, std::move(op));
  return out;
}

ReplicaOutput Replica::change(const groups::GroupChange& change) {
  const CheckedStep checked(*this);
  ReplicaOutput out;
  const bool first = !joined_;
  members_ = change.members;
  joined_ = std::binary_search(members_.begin(), members_.end(), self_);
  synced_ = false;
  round_.reset();
  offers_.clear();
  winner_.reset();
  sync_xml_.clear();
  sync_next_ = 0;
  if (!joined_) {
    queue_.clear();
    return out;
  }
  // The queue stays: a change seen here may not be seen by every member (a newcomer learns the
  // members already there one change at a time), so only the round's request cuts it.
  // One request per view is enough: the lowest member asks. A member that missed the request
  // for this view (it came before this member's own change to it, one the lowest member never
  // saw) asks again, or the round would wait for its offer forever.
  if (members_.front() == self_ || std::ranges::find(missed_, members_) != missed_.end()) {
    out.send.push_back(encode_message(RequestMessage{++requests_sent_, members_}));
    missed_.clear();
  }
  // Before our join was delivered the group did not carry our requests: they go out now.
  if (first) {
    for (const auto& [request, op] : pending_)
      out.send.push_back(encode_message(OpMessage{request, op}));
  }
  return out;
}

ReplicaOutput Replica::message(const groups::GroupMessage& message) {
  const CheckedStep checked(*this);
  ReplicaOutput out;
  if (!joined_) return out;
  auto decoded = decode_message(
      std::string_view(reinterpret_cast<const char*>(message.data.data()), message.data.size()));
  if (!decoded) {
    out.warn.push_back("from " + name(message.sender) + ": " + decoded.error().message);
    return out;
  }
  if (auto* op = std::get_if<OpMessage>(&*decoded)) {
    if (synced_) {
      apply(message.sender, *op, out);
    } else {
      queue_.push_back({message.sender, std::move(*op)});
    }
  } else if (auto* request = std::get_if<RequestMessage>(&*decoded)) {
    requested(message.sender, *request, out);
  } else if (auto* offer = std::get_if<OfferMessage>(&*decoded)) {
    offered(message.sender, std::move(*offer), out);
  } else {
    synced_by(message.sender, std::get<SyncMessage>(*decoded), out);
  }
  return out;
}

void Replica::apply(const groups::Member& sender, const OpMessage& m, ReplicaOutput& out) {
  auto applied = cib::apply(cib_, m.op);
  if (applied) {
    set(*applied);
    out.changed = true;
  }
  if (sender != self_) return;
  auto it = pending_.find(m.request);
  if (it == pending_.end()) return;
  pending_.erase(it);
  out.done.push_back(Outcome{m.request, std::move(applied)});
}

// A request for another member list was sent before a change and is out of date; every member of
// this view sees the same requests, so a later one for this view restarts the round everywhere.
// The request is the round's cut: every member drops the ops it queued before it and each
// originator sends its dropped ones again, so every member queues the same ops after it.
void Replica::requested(const groups::Member& sender, const RequestMessage& request,
                        ReplicaOutput& out) {
  if (request.members != members_) {
    // Our own request for another view is one we made for a view we have since left (we ask only
    // for the view we hold): it must not take the place of a request we missed for a view still
    // to come, or the members already in that view wait for our offer forever (vigil-sim --layer
    // stack, 4 nodes, seed 12810, --watchdog 400: a restarted node's request for its old view
    // came after the one for the whole ring). Another newcomer's request for a view it has left
    // may come after one we missed too, so every missed view is kept, not the last only.
    if (sender != self_ && std::ranges::find(missed_, request.members) == missed_.end()) {
      if (missed_.size() == kMissedViews) missed_.erase(missed_.begin());
      missed_.push_back(request.members);
    }
    return;
  }
  missed_.clear();
  synced_ = false;
  round_ = RoundId{sender, request.round};
  offers_.clear();
  winner_.reset();
  sync_xml_.clear();
  sync_next_ = 0;
  out.log.push_back("reconciling the CIB among " + std::to_string(members_.size()) +
                    " member(s); offering " + cib_.version().str());
  out.send.push_back(encode_message(OfferMessage{*round_, cib_.version(), digest_}));
  for (const auto& q : queue_) {
    // Only ops this replica holds for a client: another process claiming our member id (a second
    // vigild with this node id) may have sent the others, and nobody here waits for them.
    if (q.sender == self_ && pending_.contains(q.op.request))
      out.send.push_back(encode_message(q.op));
  }
  queue_.clear();
}

void Replica::offered(const groups::Member& sender, OfferMessage offer, ReplicaOutput& out) {
  if (!round_ || winner_ || offer.round != *round_) return;
  offers_[sender] = std::move(offer);
  if (offers_.size() == members_.size()) decide(out);
}

void Replica::decide(ReplicaOutput& out) {
  std::vector<Offer> offers;
  std::vector<groups::Member> who;
  for (const auto& [member, o] : offers_) {
    offers.push_back(Offer{name(member), o.version, o.digest});
    who.push_back(member);
  }
  auto election = choose_cib(offers);
  if (stale_cib_wins_) {
    election.winner = static_cast<std::size_t>(
        std::min_element(offers.begin(), offers.end(),
                         [](const Offer& a, const Offer& b) {
                           return std::tie(a.version, a.digest) < std::tie(b.version, b.digest);
                         }) -
        offers.begin());
  }
  const auto& best = offers[election.winner];
  winner_ = who[election.winner];
  for (const auto& c : election.conflicts) out.warn.push_back(c);
  bool all_same = true;
  for (const auto& o : offers) {
    if (o.version == best.version && o.digest == best.digest) continue;
    all_same = false;
    if (o.version < best.version)
      out.log.push_back("CIB " + o.version.str() + " on " + o.node + " is replaced by " +
                        best.version.str() + " from " + best.node);
  }
  if (all_same) return become_synced(out);
  if (*winner_ == self_) send_document(out);
}

void Replica::send_document(ReplicaOutput& out) const {
  const std::string xml = cib_.to_xml();
  const auto parts = static_cast<std::uint32_t>(
      std::max<std::size_t>(1, (xml.size() + kSyncPart - 1) / kSyncPart));
  VIGIL_ASSERT(parts <= kMaxSyncParts);
  for (std::uint32_t part = 0; part < parts; ++part) {
    out.send.push_back(
        encode_message(SyncMessage{*round_, part, parts, xml.substr(part * kSyncPart, kSyncPart)}));
  }
}

void Replica::synced_by(const groups::Member& sender, const SyncMessage& sync, ReplicaOutput& out) {
  if (synced_ || !winner_ || sender != *winner_ || sync.round != *round_) return;
  // The parts come from one sender in the ring's order: a gap is a bug, never a wait.
  if (sync.part != sync_next_) {
    out.warn.push_back("from " + name(sender) + ": sync part " + std::to_string(sync.part) +
                       " where " + std::to_string(sync_next_) + " was due; ignored");
    return;
  }
  if (sync.part + 1 < sync.parts) {
    if (sender != self_) sync_xml_ += sync.xml;
    ++sync_next_;
    return;
  }
  if (sender == self_) return become_synced(out);
  auto cib = Cib::parse(sync_xml_ + sync.xml, "the CIB from " + name(sender));
  if (!cib) {
    out.warn.push_back(cib.error().message + "; waiting for the next membership change");
    return;
  }
  adopt(std::move(*cib), out);
  become_synced(out);
}

void Replica::adopt(Cib cib, ReplicaOutput& out) {
  const auto digest = cib.content_digest();
  if (digest == digest_ && cib.version() == cib_.version()) return;
  out.log.push_back("adopted CIB " + cib.version().str() + " (had " + cib_.version().str() + ")");
  set(std::move(cib));
  out.changed = true;
  out.adopted = true;
}

void Replica::become_synced(ReplicaOutput& out) {
  synced_ = true;
  sync_xml_.clear();
  sync_next_ = 0;
  round_.reset();
  winner_.reset();
  offers_.clear();
  out.log.push_back("CIB " + cib_.version().str() + " agreed by " +
                    std::to_string(members_.size()) + " member(s)");
  auto queued = std::move(queue_);
  queue_.clear();
  for (const auto& q : queued) apply(q.sender, q.op, out);
}

void Replica::check_invariants() const {
  VIGIL_ASSERT(std::is_sorted(members_.begin(), members_.end()));
  VIGIL_ASSERT(joined_ == std::binary_search(members_.begin(), members_.end(), self_));
  // Reconciling happens among members; a node outside the group holds nothing of a round.
  VIGIL_ASSERT(joined_ || (!synced_ && !round_ && queue_.empty()));
  // Synced: no round under way, nothing of one left, nothing waiting to be applied.
  VIGIL_ASSERT(!synced_ || (!round_ && queue_.empty()));
  VIGIL_ASSERT(round_ || (offers_.empty() && !winner_));
  VIGIL_ASSERT(offers_.size() <= members_.size());
  // A request missed for this view was sent again.
  VIGIL_ASSERT(std::ranges::find(missed_, members_) == missed_.end());
  VIGIL_ASSERT(missed_.size() <= kMissedViews);
  for (const auto& [member, offer] : offers_) {
    VIGIL_ASSERT(std::binary_search(members_.begin(), members_.end(), member));
    VIGIL_ASSERT(offer.round == *round_);
  }
  // A winner is picked once every member's offer is in.
  VIGIL_ASSERT(!winner_ || (offers_.size() == members_.size() && offers_.contains(*winner_)));
  VIGIL_ASSERT(winner_ || (sync_next_ == 0 && sync_xml_.empty()));
  VIGIL_ASSERT(!winner_ || *winner_ != self_ || sync_xml_.empty());
}

}  // namespace vigil::cib
