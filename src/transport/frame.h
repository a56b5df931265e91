// transport/frame: the wire format of one UDP datagram and what a node does with it before the
// Totem core sees it — sealing with the authkey, a replay window per sender, fragmentation of a
// message to the path MTU and its reassembly. Pure functions and values: no sockets, no clock (the
// time is passed in), no randomness (the session number is passed in).
//
// Wire format, version 1, every field little-endian:
//   0  u32 magic "VIGL"          16 u64 session (per process start, increasing)
//   4  u8  version (1)           24 u64 sequence (per session, from 1)
//   5  u8  flags                 32 payload: payload_length bytes
//          (bit 0: sealed, bit 1: a link probe)
//   6  u16 header length (32)
//   8  u32 sender node id
//   12 u32 payload length
// The payload, once opened, starts with a fragment header (u32 message id, u16 index, u16 count)
// followed by that fragment's bytes; a link probe's is 8 bytes: u8 kind (1 ping, 2 pong), u8 link
// number, u16 zero, u32 the ping's number (a pong repeats its ping's). A sealed payload is XChaCha20-Poly1305 with the 32 header
// bytes as associated data and the nonce (session, sequence, sender), so a header cannot be
// altered or moved to another frame; a frame that fails authentication is dropped before any of
// its payload is read.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <variant>
#include <vector>

#include "common/common.h"

namespace vigil::transport {

using Bytes = std::vector<std::uint8_t>;
using NodeId = std::uint32_t;

inline constexpr std::uint32_t kMagic = 0x4c474956;  // "VIGL"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 32;
inline constexpr std::size_t kFragmentHeaderSize = 8;
inline constexpr std::size_t kSealOverhead = 16;  // the Poly1305 tag
inline constexpr std::size_t kMaxFragments = 1024;

struct FrameHeader {
  bool sealed = false;
  bool probe = false;
  NodeId sender = 0;
  std::uint32_t payload_length = 0;
  std::uint64_t session = 0;
  std::uint64_t sequence = 0;
};

void encode_header(const FrameHeader& header, std::span<std::uint8_t, kHeaderSize> out);
// Checks magic, version, flags, header length, a non-zero sender and sequence, and that the
// datagram holds exactly the header and its payload; the error says which.
Result<FrameHeader> decode_header(std::span<const std::uint8_t> datagram);

// The key every frame is sealed with, derived from the authkey file's bytes (BLAKE2b keyed with a
// context string, so the same authkey used elsewhere yields an unrelated key).
class FrameKey {
 public:
  // corosync-keygen writes 256 bytes; anything shorter than 32 is refused as too weak.
  static Result<FrameKey> derive(std::span<const std::uint8_t> authkey);
  const std::array<std::uint8_t, 32>& bytes() const { return key_; }

 private:
  std::array<std::uint8_t, 32> key_{};
};

// A ping a node sends each peer on each link, and the pong that answers it on the same link: the
// link's round trip and loss (transport/probe.h), as knet's pings measure Corosync's links. Sealed
// and replay-checked as every frame, so nobody else can answer for a peer.
struct Probe {
  enum class Kind : std::uint8_t { ping = 1, pong = 2 };
  Kind kind = Kind::ping;
  NodeId sender = 0;
  std::uint8_t link = 0;
  std::uint32_t number = 0;
  bool operator==(const Probe&) const = default;
};
inline constexpr std::size_t kProbeSize = 8;

// A node's sending side: splits messages into frames that fit max_datagram and seals them.
class FrameSender {
 public:
  // max_datagram: the largest UDP payload on the path (netmtu minus IP and UDP headers).
  FrameSender(NodeId self, std::uint64_t session, std::optional<FrameKey> key,
              std::size_t max_datagram);
  // The largest message frames() accepts.
  std::size_t max_message() const;
  // One datagram per fragment, in order. Fails for an empty or oversized message.
  Result<std::vector<Bytes>> frames(std::span<const std::uint8_t> message);
  // One datagram carrying a probe (its sender is this node, whatever `probe.sender` says).
  Bytes probe(const Probe& probe);

 private:
  // One frame with the next sequence, sealed when there is a key.
  Bytes frame(bool probe, std::span<const std::uint8_t> plain);

  NodeId self_;
  std::uint64_t session_;
  std::optional<FrameKey> key_;
  std::size_t fragment_data_;
  std::uint64_t next_sequence_ = 1;
  std::uint32_t next_message_ = 1;
};

// Which frames were taken and which dropped, and why; what `vigil cluster status` reports.
struct Counters {
  std::uint64_t frames = 0;           // datagrams received
  std::uint64_t garbage = 0;          // malformed header or length
  std::uint64_t unauthenticated = 0;  // failed to open (wrong key, altered, unsealed when sealed)
  std::uint64_t replayed = 0;         // already seen, or older than the window or the session
  std::uint64_t bad_fragment = 0;     // authentic but inconsistent fragment header or probe
  std::uint64_t expired = 0;          // partial messages dropped on timeout or for space
  std::uint64_t messages = 0;         // whole messages delivered
  std::uint64_t probes = 0;           // pings and pongs taken
};

// Remembers the sequences a sender used recently: a sliding window of kWindow sequences below the
// highest seen, per session. A newer session (the sender restarted) starts a fresh window; an older
// one is a replay.
class ReplayWindow {
 public:
  static constexpr std::uint64_t kWindow = 1024;
  bool fresh(std::uint64_t session, std::uint64_t sequence) const;
  void mark(std::uint64_t session, std::uint64_t sequence);

 private:
  std::uint64_t session_ = 0;
  std::uint64_t highest_ = 0;
  std::array<std::uint64_t, kWindow / 64> seen_{};
};

struct Message {
  NodeId sender = 0;
  std::uint64_t session = 0;
  Bytes data;
};


// What one datagram completes: a whole message or a probe.
using Received = std::variant<Message, Probe>;

struct ReassemblyLimits {
  Millis timeout = 2000;                     // a partial message older than this is dropped
  std::size_t max_partial_per_sender = 32;   // partial messages kept per sender
  std::size_t max_partial_bytes = 8u << 20;  // bytes held in partial messages, all senders
};

// A node's receiving side: checks, opens, deduplicates and reassembles datagrams.
class FrameReceiver {
 public:
  FrameReceiver(NodeId self, std::optional<FrameKey> key, ReassemblyLimits limits = {});
  // A whole message when this datagram completes one, or the probe it carries. Frames from this
  // node itself (multicast loops back) are ignored without counting.
  std::optional<Received> accept(std::span<const std::uint8_t> datagram, Millis now);
  // Drops partial messages older than the timeout.
  void expire(Millis now);
  const Counters& counters() const { return counters_; }

 private:
  struct Partial {
    Millis started = 0;
    std::vector<std::optional<Bytes>> parts;
    std::size_t have = 0;
    std::size_t bytes = 0;
  };
  using PartialKey = std::tuple<NodeId, std::uint64_t, std::uint32_t>;
  std::optional<Bytes> open(const FrameHeader& header, std::span<const std::uint8_t> datagram);
  std::optional<Received> probe(const FrameHeader& header, std::span<const std::uint8_t> body);
  std::optional<Message> reassemble(const FrameHeader& header,
                                    std::span<const std::uint8_t> payload, Millis now);
  void drop_partial(std::map<PartialKey, Partial>::iterator it);

  NodeId self_;
  std::optional<FrameKey> key_;
  ReassemblyLimits limits_;
  Counters counters_;
  std::map<NodeId, ReplayWindow> windows_;
  std::map<PartialKey, Partial> partial_;
  std::size_t partial_bytes_ = 0;
};

}  // namespace vigil::transport
