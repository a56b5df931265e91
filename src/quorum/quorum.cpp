#include "quorum/quorum.h"

#include <algorithm>
#include <numeric>

namespace vigil::quorum {

namespace {
bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void insert_sorted(std::vector<NodeId>& ids, NodeId id) {
  auto at = std::lower_bound(ids.begin(), ids.end(), id);
  if (at == ids.end() || *at != id) ids.insert(at, id);
}
}  // namespace

std::string flags_text(const Flags& flags) {
  std::string text;
  if (flags.two_node) text += "2Node ";
  if (flags.quorate) text += "Quorate ";
  if (flags.wait_for_all) text += "WaitForAll ";
  if (flags.last_man_standing) text += "LastManStanding ";
  if (flags.auto_tie_breaker) text += "AutoTieBreaker ";
  if (flags.qdevice) text += "Qdevice ";
  return text;
}

namespace {
constexpr std::uint8_t kQuorumMagic[4] = {'V', 'Q', 'R', 'M'};
constexpr std::size_t kHeaderSize = 6;  // magic, version, kind
constexpr std::size_t kReportBody = 5;  // expected votes, flags
constexpr std::uint8_t kQuorate = 1, kWaitingForAll = 2;

// The header every votequorum message starts with; the body of `kind` follows.
Result<std::span<const std::uint8_t>> body_of(std::span<const std::uint8_t> in, MessageKind kind) {
  if (in.size() < kHeaderSize)
    return fail("quorum message: " + std::to_string(in.size()) + " bytes, shorter than its header");
  if (!std::equal(std::begin(kQuorumMagic), std::end(kQuorumMagic), in.begin()))
    return fail("quorum message: not a votequorum message (wrong magic)");
  if (in[4] != kWireVersion)
    return fail("quorum message: unsupported version " + std::to_string(in[4]));
  if (in[5] != static_cast<std::uint8_t>(kind))
    return fail("quorum message: unknown kind " + std::to_string(in[5]));
  return in.subspan(kHeaderSize);
}
}  // namespace

std::vector<std::uint8_t> encode_report(const PeerReport& report) {
  std::vector<std::uint8_t> out(std::begin(kQuorumMagic), std::end(kQuorumMagic));
  out.push_back(kWireVersion);
  out.push_back(static_cast<std::uint8_t>(MessageKind::Report));
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<std::uint8_t>(report.expected_votes >> (8 * i)));
  out.push_back(static_cast<std::uint8_t>((report.quorate ? kQuorate : 0) |
                                          (report.waiting_for_all ? kWaitingForAll : 0)));
  return out;
}

Result<PeerReport> decode_report(std::span<const std::uint8_t> in) {
  auto body = body_of(in, MessageKind::Report);
  if (!body.ok()) return body.error();
  if (body->size() != kReportBody)
    return fail("quorum report: body of " + std::to_string(body->size()) + " bytes, not " +
                std::to_string(kReportBody));
  const auto b = *body;
  if ((b[4] & ~(kQuorate | kWaitingForAll)) != 0) return fail("quorum report: unknown flags");
  PeerReport r;
  for (int i = 3; i >= 0; --i) r.expected_votes = r.expected_votes << 8 | b[i];
  if (r.expected_votes == 0 || r.expected_votes > kMaxExpectedVotes)
    return fail("quorum report: expected votes " + std::to_string(r.expected_votes) +
                " outside 1.." + std::to_string(kMaxExpectedVotes));
  r.quorate = (b[4] & kQuorate) != 0;
  r.waiting_for_all = (b[4] & kWaitingForAll) != 0;
  return r;
}

Result<Votequorum> Votequorum::create(Settings settings) {
  if (!settings.expected_votes && settings.nodelist.empty()) {
    return fail("quorum: votequorum needs quorum.expected_votes or a nodelist to count votes");
  }
  if (settings.expected_votes && *settings.expected_votes == 0) {
    return fail("quorum: expected_votes must be at least 1");
  }
  std::uint64_t listed = 0;
  for (const auto& node : settings.nodelist) listed += node.votes;
  listed += settings.device_votes;
  if (std::max<std::uint64_t>(listed, settings.expected_votes.value_or(0)) > kMaxExpectedVotes) {
    return fail("quorum: more than " + std::to_string(kMaxExpectedVotes) +
                " expected votes, which votequorum does not count");
  }
  if (settings.auto_tie_breaker && settings.tie_breaker == TieBreaker::List &&
      settings.tie_breaker_nodes.empty()) {
    return fail("quorum: auto_tie_breaker_node names no node id");
  }
  // votequorum(5): two_node gives one node quorum alone, which a device's vote must decide instead.
  if (settings.two_node && settings.device_votes != 0) {
    return fail("quorum: two_node cannot be used with a quorum device (the device breaks the tie)");
  }
  if (settings.last_man_standing_window <= 0) {
    return fail("quorum: last_man_standing_window must be positive");
  }
  return Votequorum(std::move(settings));
}

Votequorum::Votequorum(Settings settings) : settings_(std::move(settings)) {
  // votequorum(5): two_node automatically enables wait_for_all unless it is set explicitly.
  wait_for_all_ = settings_.wait_for_all.value_or(settings_.two_node);
  waiting_ = wait_for_all_;
  nodelist(settings_.nodelist);
}

std::uint32_t Votequorum::votes_of(NodeId id) const {
  for (const auto& node : settings_.nodelist) {
    if (node.id == id) return node.votes;
  }
  return settings_.default_votes;
}

void Votequorum::membership(Millis now, const std::vector<NodeId>& members) {
  const auto before = std::move(members_);
  members_.clear();
  for (NodeId id : members) insert_sorted(members_, id);
  // The device's vote was granted for the old set of members: it counts for the new one only if
  // the new ring inherits the grant (inherits(), quorum.h), so that two halves of a split never
  // count it at once.
  if (members_ != before) device_cast_ = device_counts(now);
  for (NodeId id : members_) insert_sorted(seen_, id);
  for (NodeId id : members_) insert_sorted(known_, id);
  std::erase_if(reports_, [&](const auto& r) { return !contains(members_, r.first); });
  recalculate();
  // Never decrease expected votes on a join: more votes than expected raise the expectation.
  expected_ = std::max(expected_, status_.total_votes);
  // last_man_standing: each membership change restarts the window; when it closes with the
  // partition still quorate, expected votes come down to the votes present.
  lms_deadline_.reset();
  if (settings_.last_man_standing && status_.quorate &&
      status_.total_votes < status_.highest_expected) {
    lms_deadline_ = now + settings_.last_man_standing_window;
  }
}

void Votequorum::nodelist(std::vector<NodeVotes> nodelist) {
  settings_.nodelist = std::move(nodelist);
  std::uint32_t from_nodelist = 0;
  known_ = seen_;
  for (const auto& node : settings_.nodelist) {
    from_nodelist += node.votes;
    insert_sorted(known_, node.id);
  }
  // votequorum(5): quorum.expected_votes overrides the value calculated from the nodelist; a
  // quorum device's votes are expected on top of the nodes' (corosync-qdevice(8)).
  expected_ = settings_.expected_votes.value_or(from_nodelist + settings_.device_votes);
  for (auto& [id, report] : reports_) report.expected_votes = expected_;
  recalculate();
}

void Votequorum::peer(NodeId id, const PeerReport& report) {
  if (!contains(members_, id)) return;  // a report from before the last membership change
  auto it =
      std::find_if(reports_.begin(), reports_.end(), [&](const auto& r) { return r.first == id; });
  if (it == reports_.end()) {
    reports_.emplace_back(id, report);
  } else {
    it->second = report;
  }
  // wait_for_all: a node that joins a partition which is already quorate (and no longer waiting)
  // takes that partition's word that all nodes were once seen together.
  if (waiting_ && report.quorate && !report.waiting_for_all) waiting_ = false;
  recalculate();
}

bool inherits(const std::vector<NodeId>& ring, const std::vector<NodeId>& granted, NodeId keeper) {
  if (!contains(ring, keeper)) return false;
  const auto shared = std::count_if(granted.begin(), granted.end(),
                                    [&](NodeId id) { return contains(ring, id); });
  return 2 * static_cast<std::size_t>(shared) >= granted.size();
}

bool Votequorum::device_counts(Millis now) const {
  // The granted ring itself inherits its own grant (the client checked the keeper is in it).
  return device_grant_ && now < device_grant_->until &&
         inherits(members_, device_grant_->members, device_grant_->keeper);
}

void Votequorum::device(std::optional<DeviceGrant> grant, Millis now) {
  if (settings_.device_votes == 0) return;
  device_grant_ = std::move(grant);
  device_cast_ = device_counts(now);
  recalculate();
}

std::optional<Millis> Votequorum::wake_at() const {
  std::optional<Millis> at = lms_deadline_;
  if (device_cast_) at = at ? std::min(*at, device_grant_->until) : device_grant_->until;
  return at;
}

void Votequorum::tick(Millis now) {
  if (device_cast_ && !device_counts(now)) {
    device_cast_ = false;
    recalculate();
  }
  if (!lms_deadline_ || now < *lms_deadline_) return;
  lms_deadline_.reset();
  if (!status_.quorate || status_.total_votes >= status_.highest_expected) return;
  expected_ = status_.total_votes;
  // The peers recalculate on the same window; their older expectations no longer count.
  for (auto& [id, report] : reports_)
    report.expected_votes = std::min(report.expected_votes, expected_);
  recalculate();
}

PeerReport Votequorum::report() const {
  return PeerReport{expected_, status_.quorate, waiting_};
}

bool Votequorum::two_node_active(std::uint32_t highest) const {
  // votequorum(5): if more than two nodes join, two_node is disabled.
  return settings_.two_node && highest <= 2 && members_.size() <= 2;
}

bool Votequorum::tie_breaker_present() const {
  switch (settings_.tie_breaker) {
    case TieBreaker::Lowest:
      return !known_.empty() && contains(members_, known_.front());
    case TieBreaker::Highest:
      return !known_.empty() && contains(members_, known_.back());
    case TieBreaker::List:
      // The first listed node that was in the cluster before the split decides; a listed node
      // never seen is in neither half and the next one is tried.
      for (NodeId id : settings_.tie_breaker_nodes) {
        if (contains(members_, id)) return true;
        if (contains(seen_, id)) return false;
      }
      return false;
  }
  return false;
}

void Votequorum::recalculate() {
  Status s;
  for (NodeId id : members_) {
    s.members.push_back(NodeVotes{id, votes_of(id)});
    s.total_votes += votes_of(id);
  }
  if (settings_.device_votes != 0) {
    s.device = DeviceVotes{settings_.device_votes, device_cast_};
    if (device_cast_) s.total_votes += settings_.device_votes;
  }
  s.expected_votes = std::max(expected_, s.total_votes);
  s.highest_expected = s.expected_votes;
  for (const auto& [id, report] : reports_) {
    s.highest_expected = std::max(s.highest_expected, report.expected_votes);
  }
  const bool two_node = two_node_active(s.highest_expected);
  // votequorum(5): a simple majority of the highest expected votes; two_node sets it to 1.
  s.quorum = two_node ? 1 : s.highest_expected / 2 + 1;
  // wait_for_all: quorate for the first time only once all votes were present at the same time.
  if (waiting_ && s.total_votes >= s.highest_expected) waiting_ = false;
  const bool even_split = s.total_votes * 2 == s.highest_expected;
  const bool by_tie_breaker =
      settings_.auto_tie_breaker && !two_node && even_split && tie_breaker_present();
  s.quorate = !waiting_ && (s.total_votes >= s.quorum || by_tie_breaker);
  s.waiting_for_all = waiting_;
  s.flags = Flags{two_node, s.quorate, wait_for_all_, settings_.last_man_standing,
                  settings_.auto_tie_breaker, settings_.device_votes != 0};
  status_ = std::move(s);
}

}  // namespace vigil::quorum
