// The join token, its keys, the join wire format (join.h) and the configuration `cluster init`
// writes.
#include "config/join.h"

#include <sodium.h>

#include <algorithm>

namespace vigil::config {

namespace {

constexpr std::string_view kTokenPrefix = "VJ1-";
constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'v', 'i', 'g', 'i', 'l', 'j', 'n', '1'};
constexpr char kWitnessContext[crypto_kdf_CONTEXTBYTES] = {'v', 'i', 'g', 'i', 'l', 'w', 't', '1'};
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kMac = crypto_aead_xchacha20poly1305_ietf_ABYTES;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Appends big-endian integers and length-prefixed strings.
class Writer {
 public:
  Writer& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  Writer& u16(std::size_t v) { return uint(v, 2); }
  Writer& u32(std::size_t v) { return uint(v, 4); }
  Writer& text16(std::span<const std::uint8_t> s) {
    u16(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  Writer& text16(std::string_view s) { return text16(as_bytes(s)); }
  Writer& text32(std::string_view s) {
    u32(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes take() { return std::move(out_); }
  static std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }

 private:
  Writer& uint(std::size_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  Bytes out_;
};

// Reads what Writer wrote; every read checks what is left and names the field that ran short.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> in, std::string_view what) : in_(in), what_(what) {}
  Result<std::uint64_t> uint(int bytes, std::string_view field) {
    if (in_.size() < static_cast<std::size_t>(bytes)) return short_at(field);
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in_[static_cast<std::size_t>(i)];
    in_ = in_.subspan(static_cast<std::size_t>(bytes));
    return v;
  }
  Result<std::string> text(int length_bytes, std::size_t max, std::string_view field) {
    auto size = uint(length_bytes, field);
    if (!size) return size.error();
    if (*size > max)
      return fail(std::string(what_) + ": " + std::string(field) + " of " +
                  std::to_string(*size) + " bytes exceeds " + std::to_string(max));
    if (in_.size() < *size) return short_at(field).error();
    std::string s(in_.begin(), in_.begin() + static_cast<long>(*size));
    in_ = in_.subspan(static_cast<std::size_t>(*size));
    return s;
  }
  Result<void> version() {
    auto v = uint(1, "version");
    if (!v) return v.error();
    if (*v != kJoinVersion)
      return fail(std::string(what_) + ": version " + std::to_string(*v) + ", this vigil speaks " +
                  std::to_string(kJoinVersion));
    return {};
  }
  Result<void> end() const {
    if (!in_.empty())
      return fail(std::string(what_) + ": " + std::to_string(in_.size()) + " bytes after the end");
    return {};
  }

 private:
  Result<std::uint64_t> short_at(std::string_view field) const {
    return fail(std::string(what_) + ": cut short in " + std::string(field));
  }
  std::span<const std::uint8_t> in_;
  std::string_view what_;
};

Bytes head(JoinFrameKind kind, std::size_t body) {
  return Writer().u8('V').u8('J').u8(kJoinVersion).u8(static_cast<std::uint8_t>(kind)).u32(body)
      .take();
}

constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxAddress = 255;
constexpr std::size_t kMaxConfig = kMaxJoinBody - 4096;

}  // namespace

std::string format_token(const JoinToken& token) {
  char hex[2 * kJoinSecretBytes + 1];
  sodium_bin2hex(hex, sizeof hex, token.secret.data(), token.secret.size());
  const bool v6 = token.address.find(':') != std::string::npos;
  return std::string(kTokenPrefix) + hex + "@" + (v6 ? "[" + token.address + "]" : token.address) +
         ":" + std::to_string(token.port);
}

Result<JoinToken> parse_token(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return fail("the join token is malformed: " + why +
                " (expected VJ1-<64 hex digits>@ADDRESS:PORT, as `vigil cluster token` prints it)");
  };
  if (!text.starts_with(kTokenPrefix)) return bad("it does not start with " + std::string(kTokenPrefix));
  text.remove_prefix(kTokenPrefix.size());
  const auto at = text.find('@');
  const auto colon = text.rfind(':');
  if (at != 2 * kJoinSecretBytes || colon == std::string_view::npos || colon < at)
    return bad("no secret of 64 hex digits before an @ADDRESS:PORT");
  JoinToken token;
  std::size_t decoded = 0;
  if (sodium_hex2bin(token.secret.data(), token.secret.size(), text.data(), at, nullptr, &decoded,
                     nullptr) != 0 ||
      decoded != kJoinSecretBytes)
    return bad("the secret is not 64 hex digits");
  std::string_view address = text.substr(at + 1, colon - at - 1);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  if (address.empty()) return bad("no address");
  const auto port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
    return bad("the port is not a number from 1 to 65535");
  token.address = address;
  token.port = static_cast<std::uint16_t>(std::stoul(std::string(port)));
  return token;
}

JoinSecret random_secret() {
  VIGIL_ASSERT(sodium_ready());
  JoinSecret s;
  randombytes_buf(s.data(), s.size());
  return s;
}

JoinKeys join_keys(const JoinSecret& secret) {
  VIGIL_ASSERT(sodium_ready());
  JoinKeys k;
  crypto_kdf_derive_from_key(k.to_member.data(), k.to_member.size(), 1, kKdfContext,
                             secret.data());
  crypto_kdf_derive_from_key(k.to_joiner.data(), k.to_joiner.size(), 2, kKdfContext,
                             secret.data());
  return k;
}

Result<WitnessKeys> witness_keys(std::span<const std::uint8_t> authkey) {
  VIGIL_ASSERT(sodium_ready());
  if (authkey.size() < 32)
    return fail("authkey of " + std::to_string(authkey.size()) +
                " bytes: at least 32 are needed (corosync-keygen writes 256)");
  std::array<std::uint8_t, crypto_kdf_KEYBYTES> master{};
  crypto_generichash(master.data(), master.size(), authkey.data(), authkey.size(), nullptr, 0);
  WitnessKeys k;
  crypto_kdf_derive_from_key(k.to_witness.data(), k.to_witness.size(), 1, kWitnessContext,
                             master.data());
  crypto_kdf_derive_from_key(k.to_node.data(), k.to_node.size(), 2, kWitnessContext,
                             master.data());
  sodium_memzero(master.data(), master.size());
  return k;
}

Result<JoinHead> parse_join_head(std::span<const std::uint8_t> h, std::string_view what) {
  const std::string name(what);
  if (h.size() != kJoinHead) return fail(name + ": head of " + std::to_string(h.size()) + " bytes");
  if (h[0] != 'V' || h[1] != 'J') return fail(name + ": not a vigil " + name);
  if (h[2] != kJoinVersion)
    return fail(name + ": version " + std::to_string(h[2]) + ", this vigil speaks " +
                std::to_string(kJoinVersion));
  const auto kind = static_cast<JoinFrameKind>(h[3]);
  if (kind != JoinFrameKind::sealed && kind != JoinFrameKind::refusal)
    return fail(name + ": unknown kind " + std::to_string(h[3]));
  const std::size_t body = (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) |
                           (std::size_t{h[6]} << 8) | h[7];
  const std::size_t least = kind == JoinFrameKind::sealed ? kNonce + kMac : 0;
  const std::size_t most = kind == JoinFrameKind::sealed ? kMaxJoinBody : kMaxRefusal;
  if (body < least || body > most)
    return fail(name + ": a body of " + std::to_string(body) + " bytes (allowed " +
                std::to_string(least) + " to " + std::to_string(most) + ")");
  return JoinHead{kind, body};
}

Bytes sealed_frame(const std::array<std::uint8_t, 32>& key, std::span<const std::uint8_t> text) {
  VIGIL_ASSERT(sodium_ready());
  VIGIL_ASSERT(text.size() + kNonce + kMac <= kMaxJoinBody);
  Bytes out = head(JoinFrameKind::sealed, kNonce + text.size() + kMac);
  const auto at = out.size();
  out.resize(at + kNonce + text.size() + kMac);
  randombytes_buf(out.data() + at, kNonce);
  unsigned long long sealed = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + at + kNonce, &sealed, text.data(),
                                             text.size(), out.data(), kJoinHead, nullptr,
                                             out.data() + at, key.data());
  return out;
}

Bytes refusal_frame(std::string_view why) {
  why = why.substr(0, kMaxRefusal);
  Bytes out = head(JoinFrameKind::refusal, why.size());
  out.insert(out.end(), why.begin(), why.end());
  return out;
}

Result<Bytes> open_frame(const std::array<std::uint8_t, 32>& key,
                         std::span<const std::uint8_t> frame) {
  VIGIL_ASSERT(sodium_ready());
  if (frame.size() < kJoinHead) return fail("join frame: cut short in its head");
  auto h = parse_join_head(frame.first(kJoinHead));
  if (!h) return h.error();
  const auto body = frame.subspan(kJoinHead);
  if (body.size() != h->body)
    return fail("join frame: " + std::to_string(body.size()) + " body bytes, its head says " +
                std::to_string(h->body));
  if (h->kind == JoinFrameKind::refusal) return fail(std::string(body.begin(), body.end()));
  Bytes text(body.size() - kNonce - kMac);
  unsigned long long opened = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(text.data(), &opened, nullptr,
                                                 body.data() + kNonce, body.size() - kNonce,
                                                 frame.data(), kJoinHead, body.data(),
                                                 key.data()) != 0)
    return fail("join frame: it does not open with this token's key");
  return text;
}

Bytes encode_join_request(const JoinRequest& r) {
  Writer w;
  w.u8(kJoinVersion).text16(r.name).u8(static_cast<std::uint8_t>(r.addresses.size()));
  for (const auto& a : r.addresses) w.text16(a);
  return w.take();
}

Result<JoinRequest> decode_join_request(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "join request");
  if (auto v = r.version(); !v) return v.error();
  JoinRequest out;
  auto name = r.text(2, kMaxName, "name");
  if (!name) return name.error();
  out.name = std::move(*name);
  auto count = r.uint(1, "address count");
  if (!count) return count.error();
  if (*count < 1 || *count > kMaxLinks)
    return fail("join request: " + std::to_string(*count) + " addresses (1 to 8, one per link)");
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto a = r.text(2, kMaxAddress, "address");
    if (!a) return a.error();
    if (a->empty()) return fail("join request: an empty address");
    out.addresses.push_back(std::move(*a));
  }
  if (auto end = r.end(); !end) return end.error();
  return out;
}

Bytes encode_join_answer(const JoinAnswer& a) {
  Writer w;
  w.u8(kJoinVersion);
  if (!a.refused.empty()) return w.u8(1).text16(a.refused.substr(0, kMaxRefusal)).take();
  return w.u8(0).text32(a.config).text16(a.authkey).text16(a.name).take();
}

Result<JoinAnswer> decode_join_answer(std::span<const std::uint8_t> bytes) {
  Reader r(bytes, "join answer");
  if (auto v = r.version(); !v) return v.error();
  auto outcome = r.uint(1, "outcome");
  if (!outcome) return outcome.error();
  JoinAnswer out;
  if (*outcome == 1) {
    auto why = r.text(2, kMaxRefusal, "refusal");
    if (!why) return why.error();
    out.refused = why->empty() ? "refused" : std::move(*why);
  } else if (*outcome == 0) {
    auto config = r.text(4, kMaxConfig, "config");
    if (!config) return config.error();
    auto key = r.text(2, kAuthkeyMaxBytes, "authkey");
    if (!key) return key.error();
    if (key->size() < kAuthkeyMinBytes)
      return fail("join answer: an authkey of " + std::to_string(key->size()) + " bytes");
    auto name = r.text(2, kMaxName, "name");
    if (!name) return name.error();
    out.config = std::move(*config);
    out.authkey.assign(key->begin(), key->end());
    out.name = std::move(*name);
  } else {
    return fail("join answer: unknown outcome " + std::to_string(*outcome));
  }
  if (auto end = r.end(); !end) return end.error();
  return out;
}

std::string initial_config(const InitSettings& s) {
  std::string c;
  c += "# Written by `vigil cluster init`; `vigil cluster join` hands it to new nodes and every\n";
  c += "# member's vigild rewrites its nodelist when a node is added or removed.\n";
  c += "totem {\n\tversion: 2\n\tcluster_name: " + s.cluster_name + "\n";
  c += "\ttransport: " + std::string(to_string(s.transport)) + "\n";
  c += "\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n";
  if (s.port != 5405)
    c += "\tinterface {\n\t\tlinknumber: 0\n\t\tmcastport: " + std::to_string(s.port) + "\n\t}\n";
  c += "}\n\nlogging {\n\tto_logfile: yes\n\tlogfile: " + s.logfile +
       "\n\tto_syslog: yes\n\ttimestamp: on\n}\n\n";
  c += "nodelist {\n\tnode {\n\t\tring0_addr: " + s.address + "\n\t\tname: " + s.node_name +
       "\n\t\tnodeid: 1\n\t}\n}\n\n";
  c += "quorum {\n\tprovider: corosync_votequorum\n}\n";
  return c;
}

}  // namespace vigil::config
