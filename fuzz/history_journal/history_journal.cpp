// A journal file as vigild reads it back at start (history/history.h): any bytes — a torn last
// line, a foreign file, a hand edit — decode without throwing or crashing; every event that
// decodes encodes to one line that decodes to the same event; the journal they fill answers a
// history_query with events that decode, and `vigil why` words them without failing.
#include <cstdint>
#include <string_view>

#include "common/common.h"
#include "history/history.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace history = vigil::history;
  if (size > 1 << 20) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = history::decode_journal(text);
  history::Journal journal(64);
  for (const auto& e : decoded.events) {
    const std::string line = history::encode(e);
    VIGIL_ASSERT(line.find('\n') == std::string::npos);
    auto back = history::decode(line);
    VIGIL_ASSERT(back.ok());
    // Invalid UTF-8 is replaced when written: what is read back is then a fixed point.
    VIGIL_ASSERT(history::encode(*back) == line);
    journal.add(e);
  }
  const std::string resource = decoded.events.empty() ? "vip" : decoded.events.front().resource;
  const auto answer = history::query_answer(journal, {0, resource, ""});
  for (const auto& j : answer["events"]) VIGIL_ASSERT(history::from_json(j).ok());
  const auto events = journal.select({});
  const auto lines = history::why(resource, {{"n1"}, "placed"}, events,
                                  [](std::int64_t at) { return std::to_string(at); });
  VIGIL_ASSERT(!lines.empty());
  return 0;
}
