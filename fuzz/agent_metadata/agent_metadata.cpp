// An agent's meta-data and a duration on arbitrary bytes: parse_metadata returns a description or
// an error naming the agent, never crashes; whatever it returns can be checked parameters against.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "executor/executor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ex = vigil::executor;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = ex::parse_duration(text.substr(0, 32))) VIGIL_ASSERT(*d >= 0);
  auto md = ex::parse_metadata(text, "ocf:fuzz:Agent");
  if (!md) {
    VIGIL_ASSERT(md.error().message.rfind("ocf:fuzz:Agent: ", 0) == 0);
    return 0;
  }
  std::map<std::string, std::string> params;
  for (const auto& p : md->parameters) {
    VIGIL_ASSERT(!p.name.empty());
    if (p.required) params[p.name] = p.default_value.value_or("x");
  }
  // Every required parameter given, nothing unknown: accepted.
  VIGIL_ASSERT(ex::check_params(*md, params).ok());
  const std::string stranger = "not-a-parameter";
  if (md->parameter(stranger) == nullptr) {
    params[stranger] = "1";
    VIGIL_ASSERT(!ex::check_params(*md, params).ok());
  }
  for (const auto& a : md->actions) VIGIL_ASSERT(!a.name.empty() && a.timeout >= 0);
  return 0;
}
