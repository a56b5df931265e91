// witness_frame: how the witness channel (witness_channel.h) reads a frame's head. The frames are
// config/join.h's, sealed with the cluster's witness keys; a witness frame is always sealed and
// its body never longer than the largest witness message sealed, so a peer that announces more
// is cut off before anything is allocated for it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "config/join.h"

namespace vigil::daemon {

// An ask with the most members and the longest cluster name, sealed, is about 1.4 KiB.
inline constexpr std::size_t kMaxWitnessBody = 4096;

// The body length a frame's head (config::kJoinHead bytes) announces, or why it is none.
inline Result<std::size_t> witness_body(std::span<const std::uint8_t> head) {
  auto parsed = config::parse_join_head(head, "witness frame");
  if (!parsed) return parsed.error();
  if (parsed->kind != config::JoinFrameKind::sealed)
    return fail("witness frame: a refusal in clear, not a sealed witness frame");
  if (parsed->body > kMaxWitnessBody)
    return fail("witness frame: a body of " + std::to_string(parsed->body) +
                " bytes, more than any witness message (" + std::to_string(kMaxWitnessBody) + ")");
  return parsed->body;
}

}  // namespace vigil::daemon
