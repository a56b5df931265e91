// The whole-stack checkers (vigil-sim --layer stack), fed every group event a node core hands to
// its member:
//   group agreement — members that hear a message in the same Regular configuration hear it with
//     the same membership of the group, and hear the messages they share in the same order (the
//     join-list barrier of groups.h makes this hold across merges);
//   quorum agreement — at the end of a run, the members of one settled ring agree on quorate.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cluster.h"
#include "node/node.h"

namespace vigil::sim {

class StackChecker {
 public:
  explicit StackChecker(Checker& report) : report_(report) {}

  // A group event for `node`'s member, as node::Output carries it.
  void on_notice(NodeId node, const node::GroupNotice& notice);
  void on_restart(NodeId node);  // a fresh incarnation: its members start over
  // End of run: members that heard messages in the same Regular configuration heard the ones
  // they share in the same order.
  void check_order();
  // The members of one settled ring and what each says about quorum.
  void check_quorum(totem::RingId ring, const std::vector<std::pair<NodeId, bool>>& quorate);

 private:
  using Member = std::pair<NodeId, std::uint32_t>;  // (node, pid)
  struct First {
    std::vector<groups::Member> members;  // the group when first heard
    Member by;
  };

  Checker& report_;
  std::map<Member, std::vector<groups::Member>> view_;  // the group as each member last heard it
  std::map<totem::RingId, std::map<std::string, First>> first_;                // by ring, message
  std::map<totem::RingId, std::map<Member, std::vector<std::string>>> heard_;  // in order
};

}  // namespace vigil::sim
