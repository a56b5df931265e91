// The CIB checkers of vigil-sim --layer stack, over the node cores' CIB parts and their simulated
// disks (cluster.h). The workload's commits each create one resource, named for the commit, and
// nothing removes one, so a commit is "in" a document when its resource is.
//   durable before acknowledged — a commit answered OK is on the answering node's disk then;
//   no acknowledged change lost — after an OK answer the change always has a copy somewhere (a
//     node's replica or disk), until a reconciliation adopts a document without it everywhere: the
//     one loss the CIB allows (partitions that both took changes keep one side's document, as
//     Pacemaker does; the replica simulator's oracle in tests/cib states the same rule). Losing
//     the last copy in a crash, or never having had one, is a failure;
//   versions never go back — a replica's document, while it lives, never moves to a lower version:
//     reconciliation keeps the highest version offered (Pacemaker's rule), so a client's base
//     version, as `configure commit` uses it, stays valid;
//   synced agreement — after every step, replicas that report synced in one view (the same group
//     members) at the same version hold the same document (digest);
//   at the end, once the ring settled: every live replica is synced, all on one document, holding
//     every acknowledged change not lost as above.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "node/node.h"

namespace vigil::sim {

using totem::NodeId;
class Checker;

class CibChecker {
 public:
  // Where each node's copies are now: its replica's document and its disk's (null when none).
  struct Copies {
    std::function<const cib::Cib*(NodeId)> memory, disk;
    int nodes = 0;
  };
  CibChecker(Checker& report, Copies copies) : report_(report), copies_(std::move(copies)) {}

  void on_commit(NodeId node, std::uint64_t ticket, std::string id);
  void on_reply(NodeId node, const node::CibReply& reply);
  // A node's replica document changed (a change applied or a document adopted), or its disk did.
  void on_memory(NodeId node);
  void on_disk(NodeId node);
  void on_crash(NodeId node);  // its replica is gone, its disk stays
  // Its host is gone for good, disk and all: what only that disk held is lost, as any single copy
  // is when its disk dies, and a copy left only in memory elsewhere may still be lost in a crash.
  void on_disk_gone(NodeId node);
  void check_synced(const std::vector<const node::Node*>& live);
  void check_end(const std::vector<const node::Node*>& live);

  std::size_t acknowledged() const { return acked_.size(); }

 private:
  using Ids = std::set<std::string>;
  Ids held(const cib::Cib* doc) const;
  bool alive(const std::string& id) const;
  void dropped(const Ids& before, const Ids& after, bool adopted, NodeId node);

  Checker& report_;
  Copies copies_;
  std::map<std::pair<NodeId, std::uint64_t>, std::string> open_;  // commits not yet answered
  Ids acked_;                     // answered OK
  Ids lost_;                      // whose last copy a reconciliation dropped
  Ids adopted_over_;              // dropped from some copy by an adopted document
  std::map<NodeId, Ids> memory_;  // acknowledged ids each replica holds
  std::map<NodeId, Ids> disk_;    // and each disk
  std::map<NodeId, cib::Version> versions_;  // each live replica's last document version
};

}  // namespace vigil::sim
