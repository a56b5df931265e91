// lease: when this node may keep its watchdog fed (and its resources running), and when a lost
// node has provably been reset by its own watchdog, decided from the ring's own record and never
// from a wall clock. Pure: every time comes in as the `now` of the input being stepped (the
// shell's monotonic clock), and the Node core drives it (node.h). Issue 17.
//
// Terms. A node *forwards* the token of its operational ring and later *receives* it back: the
// token has then visited every member of the ring in between, each of them operational in that
// ring. A rotation *started* at the first forward after a receipt (retransmissions of the same
// token come later and never count). ρ = 1 % is the largest rate difference allowed between any
// two clocks involved (the monotonic clocks of two machines, a watchdog's timer); kResetLatency is
// the longest a machine takes, once its watchdog expired, to stop acting (a board reset, softdog's
// emergency restart, the emulator's kill).
//
// Rule 1 (renewal). A node renews its lease when it receives the token of its operational ring
// after it started a rotation in that same ring, and the ring has quorum: the lease then runs from
// the rotation's start `y` (its own forward, not the receipt) for `span` = 2 × token + consensus.
// Receipts alone never renew: a datagram can sit in a frozen process's socket for any time, and a
// receipt read after a thaw proves nothing about now. A forward followed by the receipt proves
// every member was operational in the ring after `y`.
//
// Rule 2 (feeding). The node's WatchdogFeed timer fires every watchdog_timeout / 4; at that step,
// and only in a step, the node feeds its watchdog if the lease holds: now < y + span. Before its
// first renewal (Idle: just started) it feeds too: it holds no resources, as none can be given to
// it without a rotation. Once the lease is lost — span passed without a renewal, quorum lost, or a
// ring without quorum installed — it is lost for good in this process: the node never feeds
// again, its resources are stopped, and its watchdog resets it within watchdog_timeout. It cannot
// come back: the survivors may already count it as reset.
//
// Rule 3 (a survivor's record). Each token receipt (recovery or operational) records `now` as
// r(L) for each member L of this node's last installed ring. A ring installed with joined members
// (and the first quorate ring, or the moment a ring without quorum gains it) sets a floor f to
// its install time (to that moment). For a node L outside the ring,
//     anchor(L) = max(r(L), f),   reset_by(L) = anchor(L) + wait,
//     wait = ⌈(⌈(span + watchdog_timeout)·(1+ρ)⌉ + kResetLatency)·(1+ρ)⌉
// and this node says so only while it holds its lease, its ring has quorum, and its own last
// completed rotation started after anchor(L) + ⌈⌈span·(1+ρ)⌉·(1+ρ)⌉ (so L's lease had run out
// before that rotation). Why every renewal that could keep L fed started before anchor(L):
//  - a rotation of a ring holding this node S passed through S, so it started before r(L);
//  - a rotation of a quorate ring Rl without S: Rl's majority and the majority of S's ring share a
//    member X. Since f, X moved from ring to ring with S (no joins since f: the members of each
//    new ring came from the last one together, extended virtual synchrony's transitional set), so
//    X was in Rl before f, or after it left S's ring — which it did not before S's last completed
//    rotation started, and by then L's lease had run out: Rule 2 keeps a lost lease lost.
//    With a quorum device (quorum/witness.h) the two rings may share no node — two nodes, each
//    alone with the witness's vote — and the vote is what they share: S has been quorate without
//    a break since f (losing quorum loses the lease for good), two disjoint rings never count the
//    vote at once (quorum.h), so Rl counted it only before f.
// L fed at most until y + span on its clock; converting span + watchdog_timeout to real time
// takes a factor (1+ρ), the reset adds kResetLatency, and measuring it on S's clock another
// (1+ρ). The margin over span + watchdog_timeout is wait − span − watchdog_timeout.
//
// The gather/commit phases of a membership change. A change (a join, a leave, a failure) stops
// rotations: members gather, agree, commit and recover before the first token of the new ring.
// The span covers the detection of a failure (token), one whole consensus timeout and the first
// rotation of the new ring (under token). An ordinary join or leave that keeps quorum finishes in
// a few join timeouts (50 ms each), and the first rotation of the new ring renews every lease:
// with token 3000 (runtime 3650 on three nodes, consensus 4380) and a 1 s watchdog, a member may
// go 11.7 s without a completed rotation before it stops feeding, so a change that keeps quorum
// resets nobody. A change that takes longer (failures during the first) lets the leases run out
// and the members reset: safe, as the survivors' wait counts the same span — a node still
// gathering is still fed, and still counted as possibly alive.
//
// The span, re-derived for the silent-peer rule (totem.h). A survivor S keeps its lease through
// a change only if the change ends within span of y, the start of S's last completed rotation:
//   y → c, that rotation's receipt: under token (S's token timer, armed at its receipt before y,
//       would have fired: the token timeout is the only bound the protocol enforces on a rotation,
//       the token hold included);
//   c → the token loss: token (no receipt after c, or the next rotation would have completed);
//   the formation F: a crash or a pause, silent for the whole token period, about 0.1–0.25 s
//       (two join periods, send_join, commit); a refusal, less; a one-way link, or a join lost
//       in the gather, the consensus timeout — or several;
//   the first rotation of the new ring: under token.
// So span > 3 × token + F in the worst case the protocol allows, and 2 × token + consensus (3.2
// tokens) is that with F ≤ 0.2 × token: the consensus term no longer waits for a consensus
// timeout, it covers the formation and the rotation before the failure. A shorter span resets
// survivors whose rotations ran slow; a change that takes a consensus timeout (one-way links,
// loss during the gather) may let every lease run out and reset the members, which is safe —
// Rule 3 counts the same span, and a node still gathering is still counted as possibly alive —
// but costs availability, as before. Checked in the stack simulator (vigil-sim --layer stack
// --watchdog MS): with no loss and no one-way link, a node in a quorate ring never loses its
// lease for want of a rotation, and a node never names another reset while that host may run
// resources.
//
// Why a frozen, cut-off or powered-off node cannot be replaced within token + 0.5 s (issue 17's
// target) with a 1 s watchdog: the survivors cannot tell these apart (each is silence), and a
// cut-off node keeps its lease — it must, or a survivor of someone else's failure would lose its
// own — until y + span, with span > token + F at the very least (detection alone), then its
// watchdog needs watchdog_timeout · (1+ρ) + kResetLatency to act. So the survivors start the
// resources no earlier than token + F + 1.26 s after the last token, and with this span at
// r(L) + wait: 13.2 s after the last token at token 3000 (runtime 3650) on three nodes, about
// 9.3 s after the new ring formed. Only kill -9 (Rule 5: refusal + 1.27 s) meets its target.
//
// What survivors wait. A crash of L is seen at r(L) + token, the ring forms within consensus more,
// and the DC counts L as fenced at r(L) + wait: with the figures above (wait 13 188 ms, margin
// 508 ms) between 5.2 s (the formation took the whole consensus timeout) and 9.5 s after the new
// ring formed. The token timeout alone never covers it: the span must outlast a consensus
// timeout and a rotation, or one failure would reset the survivors too.
//
// Rule 5 (a refusal: kill -9). When L's host refuses a datagram to L's totem port (ECONNREFUSED,
// node.h's PeerUnreachable) at r on this node's clock, the vigild that held L's lease is dead: it
// kept that port open while it ran, and the host answers "port unreachable" only once it is
// closed. Its last feed came before its death, so before r; its watchdog fires at most
// watchdog_timeout after that feed on the watchdog's clock, the host stops acting kResetLatency
// later, and on this node's clock that is at most
//     r + refused_wait,   refused_wait = ⌈(⌈watchdog_timeout·(1+ρ)⌉ + kResetLatency)·(1+ρ)⌉
// (1273 ms for a 1 s watchdog), however recently the ring vouched for L: reset_by(L) is the
// earlier of this and Rule 3's, under Rule 3's conditions on this node (its lease held, quorum).
// A vigild restarted on L's host (a supervisor's restart) is harmless: its core holds no lease
// until a rotation of a quorate ring, so it holds no resources; the old process's resources are
// what the reset must end, and the new vigild cannot keep the old timer from firing — it opens
// its watchdog only refused_wait after it started (daemon/watchdog.h), as a Linux device left
// armed by a killed process would be fed again by the next open. But the new vigild may win a
// lease in a quorate ring without this node (and run resources): Rule 3's argument excludes that
// only since the floor f, so a refusal counts only if it came after f — a ring installed with
// joined members (or the first quorate one) forgets the refusals before it (stack simulator seed
// 9388, 3 nodes, --watchdog 400: L killed and restarted, then quorate with another node while
// this one was cut off; when that node joined this one's ring, L was named reset at once). The
// record of L's refusal also ends when a ring holds L again. Assumed: nothing else answers port-unreachable for a live vigild (a
// firewall rule that REJECTs the totem port with it would make a live node look dead; use DROP).
//
// Rule 4 (settings, checked at commit). A watchdog needs a quorum that is a majority: a quorum
// provider, no-quorum-policy other than ignore (both halves would keep running and count the
// other as reset), and on two nodes auto_tie_breaker (two_node gives both halves quorum).
// stonith-watchdog-timeout (Pacemaker 3: fencing-watchdog-timeout) switches watchdog fencing on:
// 0 off; negative: twice watchdog_timeout, as Pacemaker doubles SBD_WATCHDOG_TIMEOUT; positive:
// at least watchdog_timeout + margin. vigil waits reset_by(L), never a fixed time.
//
// Assumed: a machine's monotonic clock and its watchdog run while its processes do (a paused
// virtual machine stops both, as for sbd: out of scope).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/common.h"
#include "totem/totem.h"

namespace vigil::node {

inline constexpr Millis kResetLatency = 250;
inline constexpr int kDriftPercent = 1;  // ρ

struct LeaseTimes {
  Millis watchdog_timeout = 0;  // as the device granted it
  Millis span = 0;              // 2 × token + consensus
  Millis wait = 0;              // from a survivor's anchor to the lost node's reset
  Millis lapse = 0;             // span as another clock may measure it
  Millis refused_wait = 0;      // Rule 5: from a refusal to the dead process's host's reset
  Millis feed_interval = 0;

  // From the resolved totem settings (runtime token) and the watchdog's timeout.
  static LeaseTimes of(const totem::TotemSettings& resolved, Millis watchdog_timeout);
  Millis margin() const { return wait - span - watchdog_timeout; }
};

enum class LeaseState { Idle, Held, Lost };
const char* to_string(LeaseState state);

class Lease {
 public:
  explicit Lease(LeaseTimes times) : times_(times) {}

  // The token of `ring` came to this node (in recovery or operational); `operational`: this node
  // runs `ring` now. `members`: of the ring last installed.
  void received(const totem::RingId& ring, bool operational,
                const std::vector<totem::NodeId>& members, Millis now);
  // This node sent the token of its operational `ring` on.
  void forwarded(const totem::RingId& ring, Millis now);
  // A Regular configuration of `members` was installed; `joined`: it has members the last one
  // did not.
  void installed(bool quorate, const std::vector<totem::NodeId>& members, bool joined, Millis now);
  // Rule 5: `node`'s host refused a datagram to its totem port.
  void refused(totem::NodeId node, Millis now);
  // The quorum changed within a ring.
  void quorum(bool quorate, Millis now);
  // Rule 2 at `now`: false once the lease is lost (and from then on).
  bool feeds(Millis now);

  LeaseState state() const { return state_; }
  std::optional<Millis> lost_at() const { return lost_at_; }
  const std::string& lost_because() const { return lost_because_; }
  // Rule 3 for a node outside this node's ring: when it is reset, once this node can say so.
  std::optional<Millis> reset_by(totem::NodeId lost, Millis now) const;
  // Rule 5: when `lost`'s host refused a datagram since the ring last held it.
  std::optional<Millis> refused_at(totem::NodeId lost) const;
  const LeaseTimes& times() const { return times_; }

 private:
  void lose(Millis now, std::string why);
  Millis anchor(totem::NodeId lost) const;

  LeaseTimes times_;
  LeaseState state_ = LeaseState::Idle;
  std::optional<Millis> renewed_from_;  // y of the last renewal
  std::optional<Millis> lost_at_;
  std::string lost_because_;
  bool quorate_ = false;
  std::optional<totem::RingId> started_;  // the ring of the rotation this node started
  Millis started_at_ = 0;
  std::optional<Millis> floor_;             // Rule 3's f; empty until a quorate ring
  std::map<totem::NodeId, Millis> record_;  // Rule 3's r(L)
  std::map<totem::NodeId, Millis> refused_;  // Rule 5: the first refusal since L left the ring
};

// Rule 4's inputs. This node's corosync.conf:
struct WatchdogConfig {
  std::string origin;             // the file, for messages
  std::string device;             // resources.watchdog_device; empty: none
  Millis watchdog_timeout = 0;    // resources.watchdog_timeout
  LeaseTimes times;               // of that timeout and the totem settings
  bool quorum_provider = false;   // quorum.provider is set
  std::size_t nodes = 0;          // in the nodelist
  bool auto_tie_breaker = false;  // quorum.auto_tie_breaker
  bool quorum_device = false;     // quorum.device: a witness casts the third vote
};
// The CIB's cluster options.
struct FencingOptions {
  bool stonith_enabled = true;
  std::string timeout_name = "stonith-watchdog-timeout";  // or fencing-watchdog-timeout
  std::string timeout_text = "0";                         // as written
  std::optional<Millis> timeout;                          // parsed (negative allowed)
  std::string no_quorum_policy = "stop";
};
// Rule 4: an error naming the numbers when the combination is unsafe; else whether watchdog
// fencing is on (the DC then counts a lost node as fenced once reset_by says it is reset).
Result<bool> check_watchdog_fencing(const WatchdogConfig& config, const FencingOptions& options);

}  // namespace vigil::node
