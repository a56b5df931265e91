// Addresses as corosync.conf writes them: IPv4 or IPv6 literals, or host names (ringX_addr may be a
// name that is resolved later). Classifies and validates them without touching the network.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::config {

enum class Family { ipv4, ipv6, hostname };

struct Address {
  Family family = Family::hostname;
  bool multicast = false;
};

// The address's family, or an explanation of why it is neither an IP literal nor a host name.
struct AddressCheck {
  std::optional<Address> address;
  std::string problem;
};
AddressCheck classify_address(std::string_view text);

std::string_view to_string(Family f);

}  // namespace vigil::config
