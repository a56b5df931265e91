#include "transport/frame.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace vigil::transport {

namespace {

void put16(std::uint8_t* p, std::uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The nonce is unique per key as long as a sender never reuses (session, sequence), which
// FrameSender guarantees within a session and the caller guarantees across sessions.
std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce_of(
    const FrameHeader& h) {
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> n{};
  put64(n.data(), h.session);
  put64(n.data() + 8, h.sequence);
  put32(n.data() + 16, h.sender);
  return n;
}

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

constexpr char kKeyContext[] = "vigil totem frame key, v1";
constexpr unsigned kSealedFlag = 1, kProbeFlag = 2;

}  // namespace

void encode_header(const FrameHeader& h, std::span<std::uint8_t, kHeaderSize> out) {
  std::uint8_t* p = out.data();
  put32(p, kMagic);
  p[4] = kVersion;
  p[5] = static_cast<std::uint8_t>((h.sealed ? kSealedFlag : 0) | (h.probe ? kProbeFlag : 0));
  put16(p + 6, static_cast<std::uint16_t>(kHeaderSize));
  put32(p + 8, h.sender);
  put32(p + 12, h.payload_length);
  put64(p + 16, h.session);
  put64(p + 24, h.sequence);
}

Result<FrameHeader> decode_header(std::span<const std::uint8_t> d) {
  if (d.size() < kHeaderSize) {
    return fail("frame: " + std::to_string(d.size()) + " bytes is shorter than a header");
  }
  const std::uint8_t* p = d.data();
  if (get32(p) != kMagic) return fail("frame: bad magic");
  if (p[4] != kVersion) return fail("frame: unsupported version " + std::to_string(p[4]));
  if ((p[5] & ~(kSealedFlag | kProbeFlag)) != 0)
    return fail("frame: unknown flags " + std::to_string(p[5]));
  if (get16(p + 6) != kHeaderSize) return fail("frame: header length is not 32");
  FrameHeader h;
  h.sealed = (p[5] & kSealedFlag) != 0;
  h.probe = (p[5] & kProbeFlag) != 0;
  h.sender = get32(p + 8);
  h.payload_length = get32(p + 12);
  h.session = get64(p + 16);
  h.sequence = get64(p + 24);
  if (h.sender == 0) return fail("frame: sender node id 0");
  if (h.sequence == 0) return fail("frame: sequence 0");
  if (h.payload_length != d.size() - kHeaderSize) {
    return fail("frame: payload length " + std::to_string(h.payload_length) + " but " +
                std::to_string(d.size() - kHeaderSize) + " bytes follow the header");
  }
  return h;
}

Result<FrameKey> FrameKey::derive(std::span<const std::uint8_t> authkey) {
  if (authkey.size() < 32) {
    return fail("authkey: " + std::to_string(authkey.size()) +
                " bytes is too short (at least 32; corosync-keygen writes 256)");
  }
  VIGIL_ASSERT(sodium_ready());
  FrameKey key;
  crypto_generichash(key.key_.data(), key.key_.size(), authkey.data(), authkey.size(),
                     reinterpret_cast<const unsigned char*>(kKeyContext), sizeof kKeyContext - 1);
  return key;
}

FrameSender::FrameSender(NodeId self, std::uint64_t session, std::optional<FrameKey> key,
                         std::size_t max_datagram)
    : self_(self), session_(session), key_(std::move(key)) {
  const std::size_t overhead = kHeaderSize + kFragmentHeaderSize + (key_ ? kSealOverhead : 0);
  VIGIL_ASSERT(self_ != 0);
  VIGIL_ASSERT(max_datagram > overhead + 64);
  fragment_data_ = max_datagram - overhead;
}

std::size_t FrameSender::max_message() const {
  return fragment_data_ * kMaxFragments;
}

Result<std::vector<Bytes>> FrameSender::frames(std::span<const std::uint8_t> message) {
  if (message.empty()) return fail("frame: an empty message");
  if (message.size() > max_message()) {
    return fail("frame: a message of " + std::to_string(message.size()) + " bytes exceeds " +
                std::to_string(max_message()));
  }
  const std::size_t count = (message.size() + fragment_data_ - 1) / fragment_data_;
  const std::uint32_t id = next_message_++;
  std::vector<Bytes> out;
  out.reserve(count);
  Bytes plain;
  for (std::size_t i = 0; i < count; ++i) {
    const auto part = message.subspan(
        i * fragment_data_, std::min(fragment_data_, message.size() - i * fragment_data_));
    plain.assign(kFragmentHeaderSize, 0);
    put32(plain.data(), id);
    put16(plain.data() + 4, static_cast<std::uint16_t>(i));
    put16(plain.data() + 6, static_cast<std::uint16_t>(count));
    plain.insert(plain.end(), part.begin(), part.end());
    out.push_back(frame(false, plain));
  }
  return out;
}

Bytes FrameSender::probe(const Probe& probe) {
  std::array<std::uint8_t, kProbeSize> plain{};
  plain[0] = static_cast<std::uint8_t>(probe.kind);
  plain[1] = probe.link;
  put32(plain.data() + 4, probe.number);
  return frame(true, plain);
}

Bytes FrameSender::frame(bool probe, std::span<const std::uint8_t> plain) {
  FrameHeader h{key_.has_value(), probe, self_, 0, session_, next_sequence_++};
  h.payload_length = static_cast<std::uint32_t>(plain.size() + (key_ ? kSealOverhead : 0));
  Bytes frame(kHeaderSize + h.payload_length);
  encode_header(h, std::span<std::uint8_t, kHeaderSize>(frame.data(), kHeaderSize));
  if (key_) {
    const auto nonce = nonce_of(h);
    unsigned long long sealed_length = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(frame.data() + kHeaderSize, &sealed_length,
                                               plain.data(), plain.size(), frame.data(),
                                               kHeaderSize, nullptr, nonce.data(),
                                               key_->bytes().data());
    VIGIL_ASSERT(sealed_length == h.payload_length);
  } else {
    std::memcpy(frame.data() + kHeaderSize, plain.data(), plain.size());
  }
  return frame;
}

bool ReplayWindow::fresh(std::uint64_t session, std::uint64_t sequence) const {
  if (session != session_) return session > session_;
  if (sequence > highest_) return true;
  if (highest_ - sequence >= kWindow) return false;
  return (seen_[(sequence % kWindow) / 64] >> (sequence % 64) & 1u) == 0;
}

void ReplayWindow::mark(std::uint64_t session, std::uint64_t sequence) {
  if (session > session_) {
    session_ = session;
    highest_ = 0;
    seen_.fill(0);
  }
  if (sequence > highest_) {
    // Slots between the old highest and the new one now stand for unseen sequences.
    const std::uint64_t advance = std::min(sequence - highest_, kWindow);
    // Counted, not compared against `sequence`: at UINT64_MAX a `s <= sequence` loop never ends
    // (found by libFuzzer: one frame hung the receiver).
    for (std::uint64_t back = 0; back < advance; ++back) {
      const std::uint64_t s = sequence - back;
      seen_[(s % kWindow) / 64] &= ~(std::uint64_t{1} << (s % 64));
    }
    highest_ = sequence;
  }
  seen_[(sequence % kWindow) / 64] |= std::uint64_t{1} << (sequence % 64);
}

FrameReceiver::FrameReceiver(NodeId self, std::optional<FrameKey> key, ReassemblyLimits limits)
    : self_(self), key_(std::move(key)), limits_(limits) {}

std::optional<Bytes> FrameReceiver::open(const FrameHeader& h,
                                         std::span<const std::uint8_t> datagram) {
  const auto payload = datagram.subspan(kHeaderSize);
  if (h.sealed != key_.has_value()) return std::nullopt;
  if (!key_) return Bytes(payload.begin(), payload.end());
  if (payload.size() < kSealOverhead) return std::nullopt;
  Bytes plain(payload.size() - kSealOverhead);
  unsigned long long plain_length = 0;
  const auto nonce = nonce_of(h);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &plain_length, nullptr, payload.data(), payload.size(), datagram.data(),
          kHeaderSize, nonce.data(), key_->bytes().data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

std::optional<Received> FrameReceiver::accept(std::span<const std::uint8_t> datagram, Millis now) {
  auto header = decode_header(datagram);
  if (header.ok() && header->sender == self_) return std::nullopt;
  ++counters_.frames;
  if (!header.ok()) {
    ++counters_.garbage;
    return std::nullopt;
  }
  auto& window = windows_[header->sender];
  if (!window.fresh(header->session, header->sequence)) {
    ++counters_.replayed;
    return std::nullopt;
  }
  auto plain = open(*header, datagram);
  if (!plain) {
    ++counters_.unauthenticated;
    return std::nullopt;
  }
  // Only an authentic frame may move the window, or forged sequences could shut a sender out.
  window.mark(header->session, header->sequence);
  if (header->probe) return probe(*header, *plain);
  auto message = reassemble(*header, *plain, now);
  if (!message) return std::nullopt;
  return Received(std::move(*message));
}

std::optional<Received> FrameReceiver::probe(const FrameHeader& h,
                                             std::span<const std::uint8_t> body) {
  const bool known = body.size() == kProbeSize &&
                     (body[0] == static_cast<std::uint8_t>(Probe::Kind::ping) ||
                      body[0] == static_cast<std::uint8_t>(Probe::Kind::pong)) &&
                     get16(body.data() + 2) == 0;
  if (!known) {
    ++counters_.bad_fragment;
    return std::nullopt;
  }
  ++counters_.probes;
  return Received(Probe{static_cast<Probe::Kind>(body[0]), h.sender, body[1], get32(body.data() + 4)});
}

std::optional<Message> FrameReceiver::reassemble(const FrameHeader& h,
                                                 std::span<const std::uint8_t> payload,
                                                 Millis now) {
  if (payload.size() < kFragmentHeaderSize) {
    ++counters_.bad_fragment;
    return std::nullopt;
  }
  const std::uint32_t id = get32(payload.data());
  const std::size_t index = get16(payload.data() + 4);
  const std::size_t count = get16(payload.data() + 6);
  const auto data = payload.subspan(kFragmentHeaderSize);
  if (count == 0 || count > kMaxFragments || index >= count || data.empty()) {
    ++counters_.bad_fragment;
    return std::nullopt;
  }
  if (count == 1) {
    ++counters_.messages;
    return Message{h.sender, h.session, Bytes(data.begin(), data.end())};
  }
  const PartialKey key{h.sender, h.session, id};
  auto it = partial_.find(key);
  if (it == partial_.end()) {
    const auto from_sender = std::count_if(partial_.begin(), partial_.end(), [&](const auto& p) {
      return std::get<0>(p.first) == h.sender;
    });
    if (static_cast<std::size_t>(from_sender) >= limits_.max_partial_per_sender) {
      // The oldest partial message of this sender gives way to the newest.
      drop_partial(std::find_if(partial_.begin(), partial_.end(),
                                [&](const auto& p) { return std::get<0>(p.first) == h.sender; }));
    }
    it = partial_.emplace(key, Partial{now, std::vector<std::optional<Bytes>>(count), 0, 0}).first;
  }
  Partial& p = it->second;
  if (p.parts.size() != count || p.parts[index]) {
    ++counters_.bad_fragment;
    return std::nullopt;
  }
  if (partial_bytes_ + data.size() > limits_.max_partial_bytes) {
    drop_partial(it);
    return std::nullopt;
  }
  p.parts[index] = Bytes(data.begin(), data.end());
  p.bytes += data.size();
  partial_bytes_ += data.size();
  if (++p.have < count) return std::nullopt;
  Message m{h.sender, h.session, {}};
  m.data.reserve(p.bytes);
  for (const auto& part : p.parts) m.data.insert(m.data.end(), part->begin(), part->end());
  partial_bytes_ -= p.bytes;
  partial_.erase(it);
  ++counters_.messages;
  return m;
}

void FrameReceiver::drop_partial(std::map<PartialKey, Partial>::iterator it) {
  partial_bytes_ -= it->second.bytes;
  partial_.erase(it);
  ++counters_.expired;
}

void FrameReceiver::expire(Millis now) {
  for (auto it = partial_.begin(); it != partial_.end();) {
    auto next = std::next(it);
    if (now - it->second.started >= limits_.timeout) drop_partial(it);
    it = next;
  }
}

}  // namespace vigil::transport
