// totem wire format. Every frame: a fixed header (magic "VT", version, type, sender, sender's
// incarnation, body length), then the body of its type. All integers little-endian, every list
// length-prefixed and bounded; decoders consume exactly the bytes given or reject the frame.
// Each frame type's body has its own file (wire_<type>.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/common.h"
#include "totem/totem.h"

namespace vigil::totem::wire {

constexpr std::uint16_t kMagic = 0x5456;  // "VT" little-endian
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxList = 1024;  // node lists, rtr lists, broken-link pairs

enum class Type : std::uint8_t {
  Mcast = 1,
  Token = 2,
  Join = 3,
  Commit = 4,
  Leave = 5,
  HoldCancel = 6,
  MergeDetect = 7,
};

struct Header {
  NodeId sender = 0;
  std::uint64_t incarnation = 0;  // changes when the node restarts
};

// One ordered message. `recovered`: the payload is an encoded message of an older ring, carried
// through the new ring during recovery.
struct Message {
  RingId ring;
  Seq seq = 0;
  NodeId origin = 0;
  bool safe = false;
  bool recovered = false;
  Bytes payload;
};

struct McastFrame {
  Message msg;
};

// The ordering token (the paper's "regular token").
struct TokenFrame {
  RingId ring;
  std::uint64_t token_seq = 0;   // +1 per hop; lets a receiver drop retransmitted copies
  Seq seq = 0;                   // highest sequence number assigned on this ring
  Seq aru = 0;                   // all-received-up-to, lowered by whoever misses messages
  NodeId aru_id = 0;             // who lowered it (0: nobody misses anything)
  std::uint32_t fcc = 0;         // messages sent during the last rotation (flow control)
  std::uint32_t backlog = 0;     // messages waiting at all members
  std::uint32_t clean_hops = 0;  // recovery: consecutive visits with nothing left to exchange
  std::vector<Seq> rtr;          // retransmission requests
};

struct LinkPair {
  NodeId from = 0;
  NodeId to = 0;
  auto operator<=>(const LinkPair&) const = default;
};

struct JoinFrame {
  RingId ring;  // the sender's last installed ring
  std::uint64_t max_ring_seq = 0;
  std::vector<NodeId> proc;   // nodes the sender wants in the new ring
  std::vector<NodeId> fail;   // nodes the sender has given up on
  std::vector<NodeId> heard;  // nodes the sender received frames from recently
};

struct CommitMember {
  NodeId node = 0;
  std::uint64_t incarnation = 0;
  RingId old_ring;
  Seq aru = 0;   // of the old ring
  Seq high = 0;  // highest old-ring sequence number held
  bool filled = false;
};

// The commit token: two rotations, the first collects each member's old-ring state, the second
// hands everyone the complete list.
struct CommitFrame {
  RingId ring;
  std::uint8_t rotation = 1;
  std::vector<CommitMember> members;
};

struct LeaveFrame {
  RingId ring;
};
struct HoldCancelFrame {
  RingId ring;
};
struct MergeDetectFrame {
  RingId ring;
  std::vector<NodeId> members;
};

using Body = std::variant<McastFrame, TokenFrame, JoinFrame, CommitFrame, LeaveFrame,
                          HoldCancelFrame, MergeDetectFrame>;

struct Packet {
  Header header;
  Body body;
};

Bytes encode(const Packet& packet);
Result<Packet> decode(std::span<const std::uint8_t> bytes);

// ---- building blocks shared by the per-type files
class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void ring(const RingId& r) {
    u32(r.rep);
    u64(r.seq);
  }
  void bytes(std::span<const std::uint8_t> b);  // u32 length + bytes
  void nodes(const std::vector<NodeId>& list);  // u16 count + u32 each
  Bytes take() { return std::move(out_); }
  std::size_t size() const { return out_.size(); }
  Bytes& raw() { return out_; }

 private:
  Bytes out_;
};

// Reads fields in order; the first failure sticks and names the field and offset.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  std::uint8_t u8(const char* field);
  std::uint16_t u16(const char* field);
  std::uint32_t u32(const char* field);
  std::uint64_t u64(const char* field);
  bool flag(const char* field);  // a u8 that must be 0 or 1
  RingId ring(const char* field);
  Bytes bytes(const char* field, std::size_t max);
  std::vector<NodeId> nodes(const char* field);
  std::size_t count(const char* field, std::size_t max);  // u16 list length
  void reject(std::string why);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t offset() const { return pos_; }

 private:
  bool need(std::size_t n, const char* field);
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::string error_;
};

void encode_body(Writer& w, const McastFrame& f);
void encode_body(Writer& w, const TokenFrame& f);
void encode_body(Writer& w, const JoinFrame& f);
void encode_body(Writer& w, const CommitFrame& f);
void encode_body(Writer& w, const LeaveFrame& f);
void encode_body(Writer& w, const HoldCancelFrame& f);
void encode_body(Writer& w, const MergeDetectFrame& f);
McastFrame decode_mcast(Reader& r);
TokenFrame decode_token(Reader& r);
JoinFrame decode_join(Reader& r);
CommitFrame decode_commit(Reader& r);
LeaveFrame decode_leave(Reader& r);
HoldCancelFrame decode_hold_cancel(Reader& r);
MergeDetectFrame decode_merge_detect(Reader& r);

// A message on its own (used inside recovered messages).
void encode_message(Writer& w, const Message& m);
Message decode_message(Reader& r);
Bytes encode_message(const Message& m);
Result<Message> decode_message(std::span<const std::uint8_t> bytes);

}  // namespace vigil::totem::wire
