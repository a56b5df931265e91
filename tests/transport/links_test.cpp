// Two nodes' links on loopback addresses, exchanging sealed messages over real UDP sockets.
#include "transport/links.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <unistd.h>

namespace vigil::transport {
namespace {

// Ports differ per test process so that parallel runs do not collide.
std::uint16_t base_port() {
  return static_cast<std::uint16_t>(20000 + (getpid() % 2000) * 10);
}

asio::ip::udp::endpoint at(const char* ip, std::uint16_t port) {
  return asio::ip::udp::endpoint(asio::ip::make_address(ip), port);
}

LinkSettings node(NodeId self, const char* ip, std::uint16_t port, NodeId peer, const char* peer_ip,
                  std::uint8_t key_fill) {
  LinkSettings s;
  s.self = s.session = self;
  s.links.push_back(LinkSpec{asio::ip::make_address(ip), port, std::nullopt, 1});
  s.peers.push_back(PeerSpec{peer, {at(peer_ip, port)}});
  s.key = FrameKey::derive(Bytes(256, key_fill)).value();
  return s;
}

// Runs the loop until `done` or a bound of two seconds.
template <class Done>
bool run_until(asio::io_context& io, Done done) {
  for (int i = 0; i < 200 && !done(); ++i) {
    io.run_for(std::chrono::milliseconds(10));
    io.restart();
  }
  return done();
}

TEST(Links, UnicastDeliversWholeMessagesBothWays) {
  asio::io_context io;
  const auto port = base_port();
  std::vector<std::pair<NodeId, Bytes>> at_a, at_b;
  auto a = Links::open(io, node(1, "127.0.0.1", port, 2, "127.0.0.2", 1),
                       [&](Message&& m, unsigned) { at_a.emplace_back(m.sender, m.data); });
  auto b = Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 1),
                       [&](Message&& m, unsigned) { at_b.emplace_back(m.sender, m.data); });
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  Bytes big(20000, 0x42);
  ASSERT_TRUE((*a)->send_all(Bytes{1, 2, 3}).ok());
  ASSERT_TRUE((*a)->send_to(2, big).ok());
  ASSERT_TRUE((*b)->send_to(1, Bytes{9}).ok());
  ASSERT_TRUE(run_until(io, [&] { return at_b.size() == 2 && at_a.size() == 1; }));
  EXPECT_EQ(at_b[0], (std::pair<NodeId, Bytes>{1, Bytes{1, 2, 3}}));
  EXPECT_EQ(at_b[1].second, big);
  EXPECT_EQ(at_a[0].first, 2u);
  EXPECT_FALSE((*a)->send_to(7, Bytes{1}).ok()) << "no address for an unknown node";
}

TEST(Links, ADifferentAuthkeyIsNeverHeard) {
  asio::io_context io;
  const auto port = base_port() + 1;
  int heard = 0;
  auto a =
      Links::open(io, node(1, "127.0.0.1", port, 2, "127.0.0.2", 1), [&](Message&&, unsigned) {});
  auto b = Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 2),
                       [&](Message&&, unsigned) { ++heard; });
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*a)->send_all(Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return (*b)->counters().unauthenticated == 5; }));
  EXPECT_EQ(heard, 0);
}

TEST(Links, FramesFailingAuthenticationAreReportedPerAddressAtMostOncePerInterval) {
  asio::io_context io;
  const auto port = base_port() + 8;
  auto a =
      Links::open(io, node(1, "127.0.0.1", port, 2, "127.0.0.2", 1), [&](Message&&, unsigned) {});
  auto settings = node(2, "127.0.0.2", port, 1, "127.0.0.1", 2);
  settings.report_every = 300;
  std::vector<std::pair<Unauthentic, std::uint64_t>> reports;
  auto b = Links::open(
      io, std::move(settings), [&](Message&&, unsigned) {}, {},
      [&](const Unauthentic& u, std::uint64_t suppressed) { reports.emplace_back(u, suppressed); });
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*a)->send_all(Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return (*b)->counters().unauthenticated == 5; }));
  ASSERT_EQ(reports.size(), 1u) << "the first frame is reported, the next four wait";
  EXPECT_EQ(reports[0].first.from, at("127.0.0.1", port));
  EXPECT_EQ(reports[0].first.claimed, 1u);
  EXPECT_TRUE(reports[0].first.sealed);
  EXPECT_EQ(reports[0].second, 0u);
  const auto first = monotonic_now();
  run_until(io, [&] { return monotonic_now() - first > 350; });
  ASSERT_TRUE((*a)->send_all(Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return reports.size() == 2; }));
  EXPECT_EQ(reports[1].second, 4u) << "the four since the first report";
  EXPECT_EQ(reports[1].first.frames, 6u);
  ASSERT_EQ((*b)->unauthentic().size(), 1u);
  EXPECT_EQ((*b)->unauthentic()[0].frames, 6u);
}

TEST(Links, SourcesOfUnauthenticFramesAreKeptBounded) {
  asio::io_context io;
  const auto port = base_port() + 9;
  auto b =
      Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 1), [&](Message&&, unsigned) {});
  ASSERT_TRUE(b.ok());
  FrameSender stranger(1, 77, FrameKey::derive(Bytes(256, 9)).value(), 1472);
  const Bytes frame = stranger.frames(Bytes{5}).value().front();
  const int sources = static_cast<int>(Links::kMaxUnauthentic) + 6;
  for (int i = 0; i < sources; ++i) {
    const auto from = "127.0.1." + std::to_string(i + 1);
    asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::make_address(from), 0));
    raw.send_to(asio::buffer(frame), at("127.0.0.2", port));
  }
  ASSERT_TRUE(run_until(
      io, [&] { return (*b)->counters().unauthenticated == static_cast<std::uint64_t>(sources); }));
  EXPECT_EQ((*b)->unauthentic().size(), Links::kMaxUnauthentic);
  EXPECT_EQ((*b)->unauthentic().back().from.address().to_string(),
            "127.0.1." + std::to_string(sources))
      << "the newest source is kept";
}

TEST(Links, ReplayedAndGarbageDatagramsAreCounted) {
  asio::io_context io;
  const auto port = base_port() + 2;
  int heard = 0;
  auto b = Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 1),
                       [&](Message&&, unsigned) { ++heard; });
  ASSERT_TRUE(b.ok());
  FrameSender forger(1, 77, FrameKey::derive(Bytes(256, 1)).value(), 1472);
  const Bytes frame = forger.frames(Bytes{5, 6}).value().front();
  asio::ip::udp::socket raw(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  raw.send_to(asio::buffer(frame), at("127.0.0.2", port));
  raw.send_to(asio::buffer(frame), at("127.0.0.2", port));
  raw.send_to(asio::buffer(std::string("certainly not a frame")), at("127.0.0.2", port));
  ASSERT_TRUE(run_until(io, [&] { return (*b)->counters().frames == 3; }));
  EXPECT_EQ(heard, 1);
  EXPECT_EQ((*b)->counters().replayed, 1u);
  EXPECT_EQ((*b)->counters().garbage, 1u);
}

TEST(Links, TrafficFailsOverToTheLinkThatWorks) {
  asio::io_context io;
  const auto port = base_port() + 3;
  // Link 0 from b to a leads nowhere (a wrong port), link 1 works both ways.
  auto sa = node(1, "127.0.0.1", port, 2, "127.0.0.2", 1);
  auto sb = node(2, "127.0.0.2", port, 1, "127.0.0.1", 1);
  sa.links.push_back(LinkSpec{asio::ip::make_address("127.0.0.1"),
                              static_cast<std::uint16_t>(port + 5), std::nullopt, 1});
  sb.links.push_back(LinkSpec{asio::ip::make_address("127.0.0.2"),
                              static_cast<std::uint16_t>(port + 5), std::nullopt, 1});
  sa.peers[0].links.push_back(at("127.0.0.2", port + 5));
  sb.peers[0].links = {at("127.0.0.1", port + 7), at("127.0.0.1", port + 5)};
  std::vector<unsigned> links_at_a;
  auto a = Links::open(io, sa, [&](Message&&, unsigned link) { links_at_a.push_back(link); });
  auto b = Links::open(io, sb, [&](Message&&, unsigned) {});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*b)->send_all(Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return links_at_a.size() == 1; }));
  EXPECT_EQ(links_at_a[0], 1u);
  const auto status = (*a)->status();
  ASSERT_EQ(status.size(), 2u);
  ASSERT_EQ(status[0].peers.size(), 1u);
  EXPECT_FALSE(status[0].peers[0].connected);
  EXPECT_TRUE(status[1].peers[0].connected);
}

// kill -9 of a peer leaves its host up: the host answers our datagram with ICMP port
// unreachable, and Links names the peer and the refused address.
TEST(Links, ARefusedPortNamesThePeerAndTheNextDatagramStillGoes) {
  asio::io_context io;
  const auto port = base_port() + 4;
  auto sa = node(1, "127.0.0.1", port, 2, "127.0.0.2", 1);  // nothing listens on 127.0.0.2
  sa.peers.push_back(PeerSpec{3, {at("127.0.0.3", port)}});
  std::vector<std::pair<NodeId, asio::ip::udp::endpoint>> refusals;
  auto a = Links::open(
      io, sa, [](Message&&, unsigned) {},
      [&](NodeId peer, const asio::ip::udp::endpoint& where) {
        refusals.emplace_back(peer, where);
      });
  int at_c = 0;
  auto c = Links::open(io, node(3, "127.0.0.3", port, 1, "127.0.0.1", 1),
                       [&](Message&&, unsigned) { ++at_c; });
  ASSERT_TRUE(a.ok() && c.ok());
  ASSERT_TRUE((*a)->send_to(2, Bytes{1}).ok());
  // The refusal is pending on a's socket before a reads it: the next send reports it instead of
  // sending, and must be sent again.
  ::usleep(20000);
  ASSERT_TRUE((*a)->send_to(3, Bytes{2}).ok());
  ASSERT_TRUE(run_until(io, [&] { return !refusals.empty() && at_c == 1; }))
      << refusals.size() << " refusal(s), " << at_c << " message(s) at node 3";
  EXPECT_EQ(refusals[0].first, 2u);
  EXPECT_EQ(refusals[0].second, at("127.0.0.2", port));
  EXPECT_EQ((*a)->send_errors(), 0u);
  // Each further refusal is reported again; the receiver of the reports ignores repeats.
  ASSERT_TRUE((*a)->send_all(Bytes{3}).ok());
  ASSERT_TRUE(run_until(io, [&] { return refusals.size() >= 2 && at_c == 2; }));
  EXPECT_GE((*a)->refusals(), 2u);
}

// An idle ring may send a peer nothing for hundreds of ms, and a killed process's port stays open
// while the kernel tears the process down: a probe (an empty datagram) goes to every peer sent
// nothing for probe_interval, so a dead peer is refused without any traffic. A live peer drops
// the probes unseen: no message, nothing counted as garbage.
TEST(Links, AnIdlePeerIsProbedSoADeadOneIsRefusedWithoutTraffic) {
  asio::io_context io;
  const auto port = base_port() + 6;
  auto sa = node(1, "127.0.0.1", port, 2, "127.0.0.2", 1);  // nothing listens on 127.0.0.2
  sa.peers.push_back(PeerSpec{3, {at("127.0.0.3", port)}});
  sa.probe_interval = 20;
  int at_c = 0;
  auto c = Links::open(io, node(3, "127.0.0.3", port, 1, "127.0.0.1", 1),
                       [&](Message&&, unsigned) { ++at_c; });
  std::vector<NodeId> refused;
  auto a = Links::open(
      io, sa, [](Message&&, unsigned) {},
      [&](NodeId peer, const asio::ip::udp::endpoint&) { refused.push_back(peer); });
  ASSERT_TRUE(a.ok() && c.ok());
  ASSERT_TRUE(run_until(io, [&] { return refused.size() >= 2; })) << "no refusal without traffic";
  EXPECT_EQ(refused[0], 2u);
  EXPECT_EQ(std::count(refused.begin(), refused.end(), 3u), 0);
  EXPECT_EQ(at_c, 0);
  EXPECT_EQ((*c)->counters().garbage, 0u);
}

// Pings go to each peer on each link and are answered: the link's round trip is known on an idle
// ring, and once the peer is gone its pings count as lost.
TEST(Links, PingsTimeEachLinkToEachPeerAndCountTheLostOnes) {
  asio::io_context io;
  const auto port = base_port() + 7;
  auto sa = node(1, "127.0.0.1", port, 2, "127.0.0.2", 1);
  sa.ping_interval = 20;
  sa.ping_timeout = 100;
  auto a = Links::open(io, sa, [](Message&&, unsigned) {});
  auto b = Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 1), [](Message&&, unsigned) {});
  ASSERT_TRUE(a.ok() && b.ok());
  auto quality = [&] { return (*a)->status().at(0).peers.at(0).quality; };
  ASSERT_TRUE(run_until(io, [&] { return quality().pings >= 3; }));
  EXPECT_TRUE(quality().mean_round_trip.has_value());
  EXPECT_TRUE(quality().last_round_trip.has_value());
  EXPECT_LT(*quality().mean_round_trip, 100'000u) << "µs, within the timeout";
  EXPECT_EQ(quality().lost, 0u);
  EXPECT_EQ((*b)->counters().probes, quality().pings) << "b took every ping, a every pong";
  EXPECT_EQ((*b)->counters().messages, 0u) << "pings are not messages";
  b->reset();
  ASSERT_TRUE(run_until(io, [&] { return quality().lost >= 2; })) << "no ping lost";
}

// A peer's last datagram (say its Leave) came in before it closed its port; the refusal of our
// next datagram is reported on the next read ahead of it. The datagram still goes up first.
TEST(Links, ADatagramThatCameBeforeTheRefusalGoesUpFirst) {
  asio::io_context io;
  const auto port = base_port() + 6;
  std::vector<std::string> seen;
  auto a = Links::open(
      io, node(1, "127.0.0.1", port, 2, "127.0.0.2", 1),
      [&](Message&& m, unsigned) { seen.push_back("message " + std::to_string(m.data.at(0))); },
      [&](NodeId peer, const asio::ip::udp::endpoint&) {
        seen.push_back("refused " + std::to_string(peer));
      });
  auto b =
      Links::open(io, node(2, "127.0.0.2", port, 1, "127.0.0.1", 1), [](Message&&, unsigned) {});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*b)->send_to(1, Bytes{7}).ok());  // its last words
  b->reset();                                    // its port closes
  ::usleep(20000);
  ASSERT_TRUE((*a)->send_to(2, Bytes{1}).ok());  // refused
  ::usleep(20000);
  ASSERT_TRUE(run_until(io, [&] { return seen.size() >= 2; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"message 7", "refused 2"}));
}

// A dead process refuses on every link; one refusing link of two is a wrong address or port,
// not a dead peer.
TEST(Links, ARefusalOnOneOfTwoLinksIsNoDeadPeer) {
  asio::io_context io;
  const auto port = base_port() + 5;
  const auto port1 = static_cast<std::uint16_t>(port + 1);
  auto sa = node(1, "127.0.0.1", port, 2, "127.0.0.2", 1);
  sa.links.push_back(LinkSpec{asio::ip::make_address("127.0.0.1"), port1, std::nullopt, 1});
  // Link 0 of node 2 is given a port nobody listens on; link 1 is right.
  sa.peers[0].links = {at("127.0.0.2", static_cast<std::uint16_t>(port + 7)),
                       at("127.0.0.2", port1)};
  auto sb = node(2, "127.0.0.2", port, 1, "127.0.0.1", 1);
  sb.links.push_back(LinkSpec{asio::ip::make_address("127.0.0.2"), port1, std::nullopt, 1});
  sb.peers[0].links.push_back(at("127.0.0.1", port1));
  int refusals = 0, at_b = 0;
  auto a = Links::open(
      io, sa, [](Message&&, unsigned) {},
      [&](NodeId, const asio::ip::udp::endpoint&) { ++refusals; });
  auto b = Links::open(io, sb, [&](Message&&, unsigned) { ++at_b; });
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*a)->send_to(2, Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return at_b == 3 && (*a)->refusals() >= 1; }));
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(refusals, 0);
  // Node 2 goes away altogether: now both links refuse, and that is reported.
  b->reset();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*a)->send_to(2, Bytes{1}).ok());
  ASSERT_TRUE(run_until(io, [&] { return refusals >= 1; }));
}

}  // namespace
}  // namespace vigil::transport
