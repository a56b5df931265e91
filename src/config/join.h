// join: what `vigil cluster init` writes and what `vigil cluster join` carries from a member.
//
// A join token names the member that issued it (its ring0_addr and the TCP port its vigild serves
// joins on) and carries a 32-byte random secret: VJ1-<64 hex>@ADDRESS:PORT. Both ends derive two
// keys from the secret (libsodium's crypto_kdf, one per direction), so a frame sealed one way can
// never be replayed the other way, and only a holder of the token can read or write either.
//
// The wire format, all integers big-endian, every length checked against what is left:
//   frame:    'V' 'J' | version (1) | kind | body length (u32, ≤ kMaxJoinBody) | body
//   sealed:   kind 1, body = nonce (24) | XChaCha20-Poly1305 ciphertext; the 8-byte head is the
//             associated data, so a changed version, kind or length fails the seal
//   refusal:  kind 2, body = UTF-8 text (≤ 1024); the member could not open the frame (a wrong
//             token) and says so in clear
//   request (joiner → member, sealed): version (1) | name (u16 len + bytes) |
//             address count (1..8) | each address (u16 len + bytes)
//   answer (member → joiner, sealed): version (1) | outcome (0 joined, 1 refused) |
//             joined: config text (u32 len + bytes) | authkey (u16 len + bytes) | node name (u16…)
//             refused: why (u16 len + bytes)
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/common.h"
#include "config/config.h"

namespace vigil::config {

using Bytes = std::vector<std::uint8_t>;
inline constexpr std::size_t kJoinSecretBytes = 32;
using JoinSecret = std::array<std::uint8_t, kJoinSecretBytes>;

struct JoinToken {
  std::string address;  // the issuing member's ring0_addr
  std::uint16_t port = 0;
  JoinSecret secret{};
};
std::string format_token(const JoinToken& token);
// The error says what is malformed, never the secret.
Result<JoinToken> parse_token(std::string_view text);
JoinSecret random_secret();

struct JoinKeys {
  std::array<std::uint8_t, 32> to_member{};  // seals what the joiner sends
  std::array<std::uint8_t, 32> to_joiner{};  // seals what the member answers
};
JoinKeys join_keys(const JoinSecret& secret);

inline constexpr std::uint8_t kJoinVersion = 1;
inline constexpr std::size_t kJoinHead = 8;
inline constexpr std::size_t kMaxJoinBody = 512 * 1024;
inline constexpr std::size_t kMaxRefusal = 1024;
enum class JoinFrameKind : std::uint8_t { sealed = 1, refusal = 2 };

// A frame's head: the kind and the body length to read next, or why it is not one. `what` names
// the frame in that error: the witness channel's frames (daemon/witness_frame.h) are these too.
struct JoinHead {
  JoinFrameKind kind = JoinFrameKind::sealed;
  std::size_t body = 0;
};
Result<JoinHead> parse_join_head(std::span<const std::uint8_t> head,
                                 std::string_view what = "join frame");

Bytes sealed_frame(const std::array<std::uint8_t, 32>& key, std::span<const std::uint8_t> text);
Bytes refusal_frame(std::string_view why);
// A whole frame (head and body, nothing more): a sealed one's plaintext, or the error a refusal
// carries, or why the frame is malformed or does not open with `key`.
Result<Bytes> open_frame(const std::array<std::uint8_t, 32>& key,
                         std::span<const std::uint8_t> frame);

// The witness channel (`vigil witness`, quorum/witness.h) carries its messages in the same
// frames, sealed with two keys derived from the cluster's authkey (BLAKE2b of the key file, then
// crypto_kdf, one key per direction): only a holder of the authkey can ask for or answer a vote.
struct WitnessKeys {
  std::array<std::uint8_t, 32> to_witness{};  // seals what a node asks
  std::array<std::uint8_t, 32> to_node{};     // seals what the witness answers
};
// Refuses an authkey shorter than 32 bytes, as the ring does.
Result<WitnessKeys> witness_keys(std::span<const std::uint8_t> authkey);

struct JoinRequest {
  std::string name;
  std::vector<std::string> addresses;  // ring0_addr, ring1_addr …
};
Bytes encode_join_request(const JoinRequest& request);
Result<JoinRequest> decode_join_request(std::span<const std::uint8_t> bytes);

struct JoinAnswer {
  std::string refused;  // empty: joined
  std::string config;   // the member's corosync.conf, the joiner already in its nodelist
  Bytes authkey;
  std::string name;  // the joiner's name in that nodelist
};
Bytes encode_join_answer(const JoinAnswer& answer);
Result<JoinAnswer> decode_join_answer(std::span<const std::uint8_t> bytes);

// What `vigil cluster init` writes: Corosync's syntax and defaults as pcs and crmsh write them
// (totem version 2, the cluster's name, knet or udpu, aes256/sha256, this node alone in the
// nodelist, votequorum, logging to `logfile` and syslog). The port is written only when it is not
// Corosync's 5405.
struct InitSettings {
  std::string cluster_name = "hacluster";
  std::string node_name;
  std::string address;
  Transport transport = Transport::knet;
  std::uint16_t port = 5405;
  std::string logfile;
};
std::string initial_config(const InitSettings& settings);

// Writes `bytes` to `path` with `mode` (a temporary beside it, created with that mode, synced and
// renamed over `path`): the path never holds a partial file nor, for a key, a readable one.
Result<void> write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes,
                                   unsigned mode);

}  // namespace vigil::config
