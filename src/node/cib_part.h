// cib_part: the node's replicated CIB — the cib::Replica as a member of the "vigil.cib" process
// group, with the rules that join it to the disk and to the clients. Node owns one when its
// Settings ask for a CIB, feeds it that group's events and the CIB inputs, and sends what it
// returns through the group.
//
// What it guarantees (the shell only writes and reports):
// - A commit is answered OK only once the document it produced, or a newer one, is durable on this
//   node (Durable reported it written). One whose document a reconciliation replaced before it
//   was written is answered with an error: the adopted document may not hold it. A write that
//   failed answers every change it held with an error naming the node and the cause, never OK:
//   the cluster applied the change, but it is not durable here.
// - A write that failed (a full disk) is tried again, the newest document, every kWriteRetry ms
//   (retry_due, Timer::CibRetry) until one is saved or a newer change is handed over: the node's
//   disk and its controller catch up once the disk does, with no change needed to prompt them.
//   Pacemaker's CIB manager instead stops writing after the first failure until it restarts, but
//   it answers commits before they are on disk; here a node that stopped writing would refuse
//   every commit made through it for good.
// - The CibChanged notices show only documents durable on this node, in ring order. A document
//   written over by a newer one before it reached the disk is never shown (the newer one holds its
//   changes); one that could not be saved is not either, until a later one is. A whole document
//   adopted by reconciliation is one more document to write, like a change.
// - `synced` in a notice: the replica held the cluster's agreed document when the shown one was
//   the newest, and still does. A change of it alone (every copy was equal, or the group lost this
//   node) is a notice of its own, so nobody has to poll for it.
// - Once this node holds the agreed CIB it enters itself in the configuration's node list (as
//   Pacemaker's controller does): without a nodelist in corosync.conf that entry is the only place
//   the other nodes learn its name from.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cib/replica.h"
#include "common/common.h"
#include "totem/totem.h"

namespace vigil::node {

inline constexpr const char* kCibGroup = "vigil.cib";

struct CibSettings {
  std::uint32_t pid = 0;  // this node's member of the CIB group
  std::string node_name;  // for its node-list entry and the errors that name this node
  cib::Cib initial;       // the newest valid copy on disk, or an empty CIB
};

// ---- inputs
// A client's change; answered by a CibReply with the same ticket.
struct CibCommit {
  std::uint64_t ticket;
  cib::CibOp op;
  Millis now;
};
// The shell finished the CibPersist numbered `number`: `written` is the document on disk (that
// one or a newer), or empty and `failed` says why it could not be saved.
struct Durable {
  std::uint64_t number;
  std::shared_ptr<const cib::Cib> written;
  std::optional<Error> failed;
  Millis now;
};

// ---- outputs
// Write `cib` durably (temporary file, fsync, rename) and report Durable{number}. Only the newest
// request matters: one written over before its turn may be skipped, the report for a later number
// settles it.
struct CibPersist {
  std::uint64_t number = 0;
  cib::Cib cib;
};
struct CibReply {
  std::uint64_t ticket = 0;
  Result<cib::Cib> result;  // the applied document, or why the change is not durable here
};
// The durable document, or whether it is the agreed one, changed.
struct CibChanged {
  std::shared_ptr<const cib::Cib> cib;
  bool synced = false;
};

// What one CibPart call returns; Node turns it into its Output (logs under CIB, notices in place)
// and sends `send` through the CIB group.
struct CibStep {
  std::vector<std::string> send;
  std::vector<CibReply> replies;
  std::vector<CibChanged> notices;
  std::vector<std::string> info, warn, error;
};

class CibPart {
 public:
  CibPart(totem::NodeId self, CibSettings settings);

  std::uint32_t pid() const { return pid_; }
  bool stopped() const { return stopped_; }
  CibStep commit(const CibCommit& c);
  CibStep event(const groups::GroupEvent& e);
  CibStep durable(const Durable& d);
  // The node is leaving: changes not yet delivered are answered with an error.
  CibStep stop();
  // The persist request for the newest document changed since the last call, if any.
  std::optional<CibPersist> persist();
  // When to call retry(): the last write failed and nothing newer is on its way to the disk.
  std::optional<Millis> retry_due() const { return retry_at_; }
  // Hands the newest document to the writer again if the failure still stands.
  CibStep retry(Millis now);
  static constexpr Millis kWriteRetry = 1000;

  // Test-only: answer a commit once applied, before it is durable (the simulator must catch it).
  void inject_ack_before_durable();
  // Test-only: reconciliation keeps the lowest version offered.
  void inject_stale_cib_wins() { replica_.inject_stale_cib_wins(); }
  // Test-only: a write that failed is never tried again (the simulator must catch it).
  void inject_no_write_retry() { no_write_retry_ = true; }
  // Test-only: the changes a failed write held are answered OK, as if it had been saved.
  void inject_ack_failed_write() { ack_failed_write_ = true; }

  const cib::Replica& replica() const { return replica_; }
  const std::shared_ptr<const cib::Cib>& durable_cib() const { return durable_; }
  bool durable_synced() const { return durable_synced_; }
  void check_invariants() const;

 private:
  struct Unwritten {
    std::uint64_t number = 0;
    std::string version;  // the CIB's, for the error when it cannot be saved
    bool synced = false;  // the replica's flag when it was the newest
  };
  struct Held {  // applied, waiting for document `number` (or a newer) on disk
    std::uint64_t number = 0;
    std::optional<std::uint64_t> ticket;  // empty: this node's own entry
    Result<cib::Cib> result;
  };
  void carry_out(cib::ReplicaOutput out, CibStep& step);
  void outcome(cib::Outcome o, CibStep& step);
  void replaced(CibStep& step);
  void answer(std::optional<std::uint64_t> ticket, Result<cib::Cib> result, CibStep& step);
  void hand_to_writer();
  void follow_synced(CibStep& step);
  void written(const Durable& d, CibStep& step);
  void enter_own_node(CibStep& step);
  void tell(CibStep& step);

  std::uint32_t pid_;
  std::string node_id_, node_name_;
  cib::Replica replica_;
  std::shared_ptr<const cib::Cib> durable_;  // the newest document on this node's disk
  bool durable_synced_ = false;
  std::deque<Unwritten> unwritten_;            // handed to the writer, not yet reported
  std::deque<Held> held_;
  std::uint64_t handed_ = 0;                   // the newest document handed to the writer
  bool persist_due_ = false;                   // handed_ changed in this step
  std::optional<Error> unsaved_;               // the writer's newest report was a failure
  std::optional<Millis> retry_at_;             // when to hand the newest document over again
  std::map<std::uint64_t, std::optional<std::uint64_t>> waiting_;  // request → ticket (none: own)
  std::uint64_t requests_ = 0;
  bool stopped_ = false;
  bool ack_before_durable_ = false;
  bool no_write_retry_ = false;
  bool ack_failed_write_ = false;
  bool entering_ = false;  // this node's <node> entry is on its way through the ring
  int attempts_ = 0;       // failures in a row: a CIB that keeps refusing it is not retried forever
  static constexpr int kEnterAttempts = 3;
};

}  // namespace vigil::node
