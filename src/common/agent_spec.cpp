#include "common/agent_spec.h"

#include <array>
#include <utility>

namespace vigil {

namespace {

constexpr std::array<std::pair<AgentClass, std::string_view>, 5> kClassNames{{
    {AgentClass::Ocf, "ocf"},
    {AgentClass::Lsb, "lsb"},
    {AgentClass::Systemd, "systemd"},
    {AgentClass::Service, "service"},
    {AgentClass::Stonith, "stonith"},
}};

// The parts of an agent's name checked; `text` is how the error names the agent.
Result<AgentSpec> checked(const std::string& text, std::string_view standard,
                          std::string_view provider, std::string_view type) {
  AgentSpec spec;
  bool known = false;
  for (const auto& [c, name] : kClassNames) {
    if (name == standard) {
      spec.standard = c;
      known = true;
    }
  }
  if (!known) {
    return fail("agent '" + text + "': unknown class '" + std::string(standard) +
                "' (expected ocf, lsb, systemd, service or stonith)");
  }
  if (spec.standard == AgentClass::Ocf && provider.empty())
    return fail("agent '" + text + "': an ocf agent needs a provider (ocf:PROVIDER:TYPE)");
  if (spec.standard == AgentClass::Ocf && !valid_agent_name(provider))
    return fail("agent '" + text + "': invalid provider '" + std::string(provider) + "'");
  if (spec.standard != AgentClass::Ocf && !provider.empty())
    return fail("agent '" + text + "': only ocf agents have a provider");
  if (!valid_agent_name(type) || type.find(':') != std::string_view::npos)
    return fail("agent '" + text + "': invalid type '" + std::string(type) + "'");
  spec.provider = std::string(provider);
  spec.type = std::string(type);
  return spec;
}

}  // namespace

std::string_view class_name(AgentClass standard) {
  for (const auto& [c, name] : kClassNames) {
    if (c == standard) return name;
  }
  assertion_failed("unknown agent class", __FILE__, __LINE__);
}

bool valid_agent_name(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

Result<AgentSpec> AgentSpec::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail("agent '" + std::string(text) + "': expected CLASS:[PROVIDER:]TYPE");
  }
  std::string_view standard = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  std::string_view provider;
  if (standard == "ocf") {
    auto second = rest.find(':');
    if (second == std::string_view::npos)
      return fail("agent '" + std::string(text) + "': ocf agents are ocf:PROVIDER:TYPE");
    provider = rest.substr(0, second);
    rest = rest.substr(second + 1);
  }
  return checked(std::string(text), standard, provider, rest);
}

Result<AgentSpec> AgentSpec::of(std::string_view standard, std::string_view provider,
                                std::string_view type) {
  std::string text(standard);
  if (!provider.empty()) text += ":" + std::string(provider);
  return checked(text + ":" + std::string(type), standard, provider, type);
}

std::string AgentSpec::str() const {
  std::string s(class_name(standard));
  if (standard == AgentClass::Ocf) s += ":" + provider;
  return s + ":" + type;
}

}  // namespace vigil
