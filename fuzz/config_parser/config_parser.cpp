// parse_config on arbitrary bytes: it must return a model or an error naming a place, never crash,
// hang or read out of bounds. A model it returns must satisfy the rules it promises.
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = vigil::config::parse_config(text, "fuzz.conf");
  if (!c) {
    VIGIL_ASSERT(c.error().message.rfind("fuzz.conf:", 0) == 0);
    return 0;
  }
  const auto& t = c->totem;
  VIGIL_ASSERT(t.token > 0 && t.join > 0 && t.consensus >= t.token && t.consensus >= t.join);
  VIGIL_ASSERT(t.runtime_token >= t.token && t.token_retransmit >= 1 && t.hold >= 1);
  for (const auto& n : c->nodelist) VIGIL_ASSERT(n.nodeid != 0 && !n.ring_addr[0].empty());
  for (const auto& note : c->notes) VIGIL_ASSERT(note.line >= 1 && note.column >= 1);
  return 0;
}
