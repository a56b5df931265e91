// The nodelist change: its wire format, and the checks every member makes at the same point of
// the order (node/nodelist.h).
#include "node/nodelist.h"

#include <gtest/gtest.h>

namespace vigil::node {
namespace {

std::vector<ListedNode> three() {
  return {{1, "n1", {"127.0.0.1"}, 1}, {2, "n2", {"127.0.0.2"}, 1}, {3, "n3", {"127.0.0.3"}, 1}};
}

NodelistChange add(ListedNode node) {
  return NodelistChange{NodelistChange::Kind::Add, std::move(node), 7};
}

NodelistChange remove(std::uint32_t id) {
  return NodelistChange{NodelistChange::Kind::Remove, ListedNode{id, "", {}, 1}, 9};
}

std::string error_of(const NodelistChange& change, const std::vector<std::uint32_t>& ring) {
  auto after = apply_change(three(), change, ring);
  return after.ok() ? "" : after.error().message;
}

TEST(Nodelist, ChangesRoundTripThroughTheWire) {
  for (const auto& change : {add({4, "n4", {"127.0.0.4", "127.0.1.4"}, 1}), remove(3)}) {
    const auto bytes = encode_change(change);
    auto back = decode_change(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, change);
  }
}

TEST(Nodelist, DecodingRefusesWhatIsNotAWholeChange) {
  auto bytes = encode_change(add({4, "n4", {"127.0.0.4"}, 1}));
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(decode_change(std::span(bytes).first(cut)).ok()) << cut;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_EQ(decode_change(longer).error().message, "nodelist change: trailing bytes");
  auto version = bytes;
  version[4] = 2;
  EXPECT_EQ(decode_change(version).error().message, "nodelist change: unsupported version 2");
  auto kind = bytes;
  kind[5] = 3;
  EXPECT_EQ(decode_change(kind).error().message, "nodelist change: unknown kind 3");
  auto no_addresses = encode_change(add({4, "n4", {}, 1}));
  EXPECT_EQ(decode_change(no_addresses).error().message,
            "nodelist change: 0 ring addresses, not 1..8");
  auto zero = encode_change(remove(0));
  EXPECT_EQ(decode_change(zero).error().message, "nodelist change: node id 0");
}

TEST(Nodelist, AnAddedNodeComesLastAndARemovedOneGoes) {
  auto added = apply_change(three(), add({4, "n4", {"127.0.0.4"}, 1}), {1, 2, 3});
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_EQ(added->size(), 4u);
  EXPECT_EQ(added->back().name, "n4");
  auto removed = apply_change(*added, remove(2), {1, 3, 4});
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  std::vector<std::uint32_t> ids;
  for (const auto& n : *removed) ids.push_back(n.id);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 3, 4}));
}

TEST(Nodelist, EveryRefusalNamesTheConflict) {
  const std::vector<std::uint32_t> ring{1, 2};
  EXPECT_EQ(error_of(add({2, "n9", {"127.0.0.9"}, 1}), ring),
            "nodelist_add: node 2 (n9): node id 2 is already node 2 (n2)'s");
  EXPECT_EQ(error_of(add({9, "n3", {"127.0.0.9"}, 1}), ring),
            "nodelist_add: node 9 (n3): name n3 is already node 3 (n3)'s");
  EXPECT_EQ(error_of(add({9, "n9", {"127.0.0.1"}, 1}), ring),
            "nodelist_add: node 9 (n9): address 127.0.0.1 is in use by node 1 (n1)");
  EXPECT_EQ(error_of(add({9, "n9", {"127.0.0.9", "127.0.1.9"}, 1}), ring),
            "nodelist_add: node 9 (n9): 2 ring address(es), while the nodelist's nodes have 1");
  EXPECT_EQ(error_of(add({0, "n9", {"127.0.0.9"}, 1}), ring),
            "nodelist_add: node 0 (n9): node id 0 is not allowed");
  EXPECT_EQ(error_of(remove(2), ring),
            "nodelist_remove: node 2 (n2) is still a member of the ring: stop it first (vigil "
            "cluster stop on it)");
  EXPECT_EQ(error_of(remove(5), ring), "nodelist_remove: node id 5 is not in the nodelist");
  auto last = apply_change({{1, "n1", {"127.0.0.1"}, 1}}, remove(1), {});
  EXPECT_EQ(last.error().message, "nodelist_remove: node 1 (n1) is the last node in the nodelist");
  EXPECT_TRUE(apply_change(three(), remove(3), ring).ok());  // stopped: out of the ring
}

TEST(Nodelist, NodesAreFoundByIdNameOrFirstAddressAndFreeIdsFillGaps) {
  EXPECT_EQ(find_listed(three(), "2")->name, "n2");
  EXPECT_EQ(find_listed(three(), "n3")->id, 3u);
  EXPECT_EQ(find_listed(three(), "127.0.0.1")->id, 1u);
  EXPECT_EQ(find_listed(three(), "n7").error().message,
            "no node in the nodelist is named, numbered or addressed 'n7'");
  EXPECT_EQ(free_id(three()), 4u);
  EXPECT_EQ(free_id({{2, "n2", {"a"}, 1}}), 1u);
}

}  // namespace
}  // namespace vigil::node
