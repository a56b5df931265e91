// agent_spec: which resource agent runs an action — its standard, provider and type — as one
// value from the CIB's primitive to the executor. Text ("ocf:heartbeat:IPaddr2") is read only
// where a user types it; the controller builds the value from a primitive's attributes.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "common/common.h"

namespace vigil {

// The resource agent standards Pacemaker knows ("class" in a primitive) that vigil runs.
enum class AgentClass { Ocf, Lsb, Systemd, Service, Stonith };
std::string_view class_name(AgentClass standard);

// Which agent: "ocf:heartbeat:IPaddr2", "lsb:apache2", "systemd:nginx", "service:ssh",
// "stonith:fence_ipmilan".
struct AgentSpec {
  AgentClass standard = AgentClass::Ocf;
  std::string provider;  // only for ocf
  std::string type;

  // From CLASS:[PROVIDER:]TYPE, as typed on a command line.
  static Result<AgentSpec> parse(std::string_view text);
  // From a primitive's class, provider and type attributes.
  static Result<AgentSpec> of(std::string_view standard, std::string_view provider,
                              std::string_view type);
  std::string str() const;
  auto operator<=>(const AgentSpec&) const = default;
};

// A provider or type names one file in one directory.
bool valid_agent_name(std::string_view name);

}  // namespace vigil
