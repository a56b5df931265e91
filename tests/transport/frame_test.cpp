// The datagram format, sealing, the replay window and reassembly, without sockets.
#include "transport/frame.h"

#include <gtest/gtest.h>

namespace vigil::transport {
namespace {

Bytes authkey(std::uint8_t fill) {
  return Bytes(256, fill);
}

FrameKey key(std::uint8_t fill) {
  return FrameKey::derive(authkey(fill)).value();
}

// The message a datagram completed, if it completed one.
std::optional<Message> message_of(std::optional<Received> got) {
  if (!got || !std::holds_alternative<Message>(*got)) return std::nullopt;
  return std::get<Message>(std::move(*got));
}

Bytes message(std::size_t size) {
  Bytes m(size);
  for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return m;
}

TEST(FrameHeader, RoundTripsAndRejectsEachMalformation) {
  FrameHeader h{true, true, 7, 4, 99, 12};
  Bytes d(kHeaderSize + 4);
  encode_header(h, std::span<std::uint8_t, kHeaderSize>(d.data(), kHeaderSize));
  auto back = decode_header(d);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->sealed);
  EXPECT_TRUE(back->probe);
  EXPECT_EQ(back->sender, 7u);
  EXPECT_EQ(back->session, 99u);
  EXPECT_EQ(back->sequence, 12u);

  auto broken = [&](std::size_t at, std::uint8_t value) {
    Bytes c = d;
    c[at] = value;
    return decode_header(c);
  };
  EXPECT_NE(broken(0, 'X').error().message.find("magic"), std::string::npos);
  EXPECT_NE(broken(4, 2).error().message.find("version 2"), std::string::npos);
  EXPECT_NE(broken(5, 4).error().message.find("flags"), std::string::npos);
  EXPECT_NE(broken(6, 40).error().message.find("header length"), std::string::npos);
  EXPECT_FALSE(decode_header(std::span(d).first(10)).ok());
  Bytes longer = d;
  longer.push_back(0);
  EXPECT_NE(decode_header(longer).error().message.find("payload length 4 but 5"),
            std::string::npos);
  FrameHeader zero{false, false, 0, 0, 1, 1};
  Bytes z(kHeaderSize);
  encode_header(zero, std::span<std::uint8_t, kHeaderSize>(z.data(), kHeaderSize));
  EXPECT_FALSE(decode_header(z).ok());
}

TEST(Probes, APingAndItsPongArriveSealedAndCannotBeReplayedOrAltered) {
  FrameSender n1(1, 5, key(1), 1472);
  FrameSender n2(2, 8, key(1), 1472);
  FrameReceiver at1(1, key(1)), at2(2, key(1));
  const Bytes ping = n1.probe({Probe::Kind::ping, 0, 1, 41});
  auto got = at2.accept(ping, 0);
  ASSERT_TRUE(got && std::holds_alternative<Probe>(*got));
  EXPECT_EQ(std::get<Probe>(*got), (Probe{Probe::Kind::ping, 1, 1, 41}));
  EXPECT_FALSE(at2.accept(ping, 0)) << "a replayed ping";
  Bytes altered = n1.probe({Probe::Kind::ping, 0, 0, 42});
  altered.back() ^= 1;
  EXPECT_FALSE(at2.accept(altered, 0));
  EXPECT_EQ(at2.counters().unauthenticated, 1u);
  auto pong = at1.accept(n2.probe({Probe::Kind::pong, 0, 1, 41}), 0);
  ASSERT_TRUE(pong && std::holds_alternative<Probe>(*pong));
  EXPECT_EQ(std::get<Probe>(*pong), (Probe{Probe::Kind::pong, 2, 1, 41}));
  EXPECT_EQ(at1.counters().probes, 1u);
  // A probe and a message from one sender share its sequence numbers: neither is taken for a
  // replay of the other.
  EXPECT_TRUE(message_of(at2.accept(n1.frames(message(10))->front(), 0)));
  EXPECT_TRUE(at2.accept(n1.probe({Probe::Kind::ping, 0, 0, 43}), 0));
  EXPECT_EQ(at2.counters().probes, 2u);
}

TEST(Probes, AProbeOfAnotherSizeOrKindIsDropped) {
  FrameReceiver rx(2, std::nullopt);
  FrameSender tx(1, 5, std::nullopt, 1472);
  Bytes unknown_kind = tx.probe({Probe::Kind::ping, 0, 0, 1});
  unknown_kind[kHeaderSize] = 3;
  EXPECT_FALSE(rx.accept(unknown_kind, 0));
  Bytes longer = tx.probe({Probe::Kind::pong, 0, 0, 2});
  longer.push_back(0);
  longer[12] = static_cast<std::uint8_t>(kProbeSize + 1);  // the header's payload length
  EXPECT_FALSE(rx.accept(longer, 0));
  EXPECT_EQ(rx.counters().bad_fragment, 2u);
  EXPECT_EQ(rx.counters().probes, 0u);
}

TEST(FrameKey, RefusesAShortAuthkeyAndDependsOnEveryByte) {
  EXPECT_FALSE(FrameKey::derive(Bytes(16, 1)).ok());
  Bytes a = authkey(1), b = authkey(1);
  b[255] ^= 1;
  EXPECT_NE(FrameKey::derive(a)->bytes(), FrameKey::derive(b)->bytes());
  EXPECT_EQ(FrameKey::derive(a)->bytes(), FrameKey::derive(authkey(1))->bytes());
}

TEST(Frames, SealedMessageArrivesWhole) {
  FrameSender tx(1, 5, key(1), 1472);
  FrameReceiver rx(2, key(1));
  auto frames = tx.frames(message(100));
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_EQ(frames->front().size(), kHeaderSize + kFragmentHeaderSize + 100 + kSealOverhead);
  auto got = message_of(rx.accept(frames->front(), 0));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->sender, 1u);
  EXPECT_EQ(got->data, message(100));
  EXPECT_EQ(rx.counters().messages, 1u);
}

TEST(Frames, PlainFramesWhenThereIsNoKey) {
  FrameSender tx(1, 5, std::nullopt, 1472);
  FrameReceiver rx(2, std::nullopt);
  auto frames = tx.frames(message(10));
  auto got = message_of(rx.accept(frames->front(), 0));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, message(10));
}

TEST(Frames, AWrongKeyAlteredByteOrUnsealedFrameIsDroppedAndCounted) {
  FrameSender tx(1, 5, key(1), 1472);
  FrameSender plain(1, 6, std::nullopt, 1472);
  FrameReceiver rx(2, key(2));
  EXPECT_FALSE(rx.accept(tx.frames(message(10))->front(), 0));
  FrameReceiver right(2, key(1));
  Bytes altered = tx.frames(message(10))->front();
  altered[kHeaderSize + 3] ^= 0x40;
  EXPECT_FALSE(right.accept(altered, 0));
  Bytes moved = tx.frames(message(10))->front();
  moved[8] = 3;  // claims another sender: the header is authenticated too
  EXPECT_FALSE(right.accept(moved, 0));
  EXPECT_FALSE(right.accept(plain.frames(message(10))->front(), 0));
  EXPECT_EQ(rx.counters().unauthenticated, 1u);
  EXPECT_EQ(right.counters().unauthenticated, 3u);
  EXPECT_EQ(right.counters().messages, 0u);
}

TEST(Frames, GarbageIsCountedNotParsed) {
  FrameReceiver rx(2, key(1));
  Rng rng(4);
  for (int i = 0; i < 200; ++i) {
    Bytes junk(rng.uniform(1500));
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng.uniform(256));
    EXPECT_FALSE(rx.accept(junk, 0));
  }
  EXPECT_EQ(rx.counters().garbage, 200u);
}

TEST(Frames, ReplayedFramesAreDroppedAndCounted) {
  FrameSender tx(1, 5, key(1), 1472);
  FrameReceiver rx(2, key(1));
  auto first = tx.frames(message(10))->front();
  auto second = tx.frames(message(10))->front();
  EXPECT_TRUE(rx.accept(second, 0));
  EXPECT_TRUE(rx.accept(first, 0)) << "reordered but inside the window";
  EXPECT_FALSE(rx.accept(first, 0));
  EXPECT_FALSE(rx.accept(second, 0));
  EXPECT_EQ(rx.counters().replayed, 2u);
}

TEST(Frames, ARestartedSenderIsAcceptedAndItsOldSessionIsAReplay) {
  FrameSender before(1, 5, key(1), 1472);
  FrameSender after(1, 6, key(1), 1472);
  FrameReceiver rx(2, key(1));
  auto old_frame = before.frames(message(10))->front();
  EXPECT_TRUE(rx.accept(old_frame, 0));
  EXPECT_TRUE(rx.accept(after.frames(message(10))->front(), 0));
  EXPECT_FALSE(rx.accept(before.frames(message(10))->front(), 0));
  EXPECT_EQ(rx.counters().replayed, 1u);
}

TEST(ReplayWindow, SlidesAndForgetsWhatFellOut) {
  ReplayWindow w;
  w.mark(1, 1);
  EXPECT_FALSE(w.fresh(1, 1));
  EXPECT_TRUE(w.fresh(1, 2));
  w.mark(1, 5000);
  EXPECT_FALSE(w.fresh(1, 1)) << "below the window";
  EXPECT_TRUE(w.fresh(1, 5000 - ReplayWindow::kWindow + 1));
  EXPECT_FALSE(w.fresh(1, 5000 - ReplayWindow::kWindow));
  w.mark(1, 4990);
  EXPECT_FALSE(w.fresh(1, 4990));
  EXPECT_TRUE(w.fresh(1, 4991));
  EXPECT_FALSE(w.fresh(0, 9999));
  EXPECT_TRUE(w.fresh(2, 1));
}

TEST(Frames, LargeMessagesAreFragmentedToTheMtuAndReassembledInAnyOrder) {
  FrameSender tx(1, 5, key(1), 1472);
  FrameReceiver rx(2, key(1));
  auto frames = tx.frames(message(10000));
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 8u);  // 1416 bytes per sealed fragment
  for (const auto& f : *frames) EXPECT_LE(f.size(), 1472u);
  std::optional<Message> got;
  for (auto it = frames->rbegin(); it != frames->rend(); ++it) {
    EXPECT_FALSE(got);
    got = message_of(rx.accept(*it, 0));
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, message(10000));
  EXPECT_FALSE(tx.frames(Bytes{}).ok());
  EXPECT_FALSE(tx.frames(message(tx.max_message() + 1)).ok());
}

TEST(Frames, PartialMessagesExpireAndAreBounded) {
  FrameSender tx(1, 5, key(1), 1472);
  ReassemblyLimits limits;
  limits.timeout = 100;
  limits.max_partial_per_sender = 2;
  FrameReceiver rx(2, key(1), limits);
  auto a = tx.frames(message(3000)).value();
  EXPECT_FALSE(rx.accept(a[0], 0));
  rx.expire(99);
  EXPECT_EQ(rx.counters().expired, 0u);
  rx.expire(100);
  EXPECT_EQ(rx.counters().expired, 1u);
  EXPECT_FALSE(rx.accept(a[1], 150)) << "its first fragment is gone";
  rx.expire(250);
  EXPECT_EQ(rx.counters().expired, 2u);

  auto b = tx.frames(message(3000)).value();
  auto c = tx.frames(message(3000)).value();
  auto d = tx.frames(message(3000)).value();
  EXPECT_FALSE(rx.accept(b[0], 300));
  EXPECT_FALSE(rx.accept(c[0], 300));
  EXPECT_FALSE(rx.accept(d[0], 300));  // pushes b out
  EXPECT_EQ(rx.counters().expired, 3u);
  EXPECT_FALSE(rx.accept(d[1], 300));
  EXPECT_TRUE(rx.accept(d[2], 300));
  EXPECT_FALSE(rx.accept(c[1], 300));
  EXPECT_TRUE(rx.accept(c[2], 300));
  EXPECT_FALSE(rx.accept(b[1], 300));
  EXPECT_FALSE(rx.accept(b[2], 300)) << "b was pushed out";
}

TEST(Frames, FramesFromSelfAreIgnored) {
  FrameSender tx(2, 5, key(1), 1472);
  FrameReceiver rx(2, key(1));
  EXPECT_FALSE(rx.accept(tx.frames(message(10))->front(), 0));
  EXPECT_EQ(rx.counters().frames, 0u);
}

}  // namespace
}  // namespace vigil::transport

namespace vigil::transport {
namespace {

// Regression (libFuzzer in CI): a frame with the largest sequence number hung the receiver.
TEST(ReplayWindow, LargestSequenceNumberIsAcceptedOnceAndReturns) {
  ReplayWindow w;
  const std::uint64_t last = UINT64_MAX;
  ASSERT_TRUE(w.fresh(1, last));
  w.mark(1, last);
  EXPECT_FALSE(w.fresh(1, last));
  EXPECT_TRUE(w.fresh(1, last - 1));
}

}  // namespace
}  // namespace vigil::transport
