#include "config/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "config/config.h"

namespace vigil::config {

namespace {

bool looks_numeric(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', not starting or ending
// with '-', each at most 63 characters, 253 in all.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);
  while (true) {
    const std::size_t dot = s.find('.');
    const std::string_view label = s.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

}  // namespace

AddressCheck classify_address(std::string_view text) {
  if (text.empty()) return {std::nullopt, "expected an address, got nothing"};
  if (text.size() > 253) return {std::nullopt, "address is longer than 253 characters"};
  const std::string s(text);
  if (s.find(':') != std::string::npos) {
    // An IPv6 literal, optionally with a zone (fe80::1%eth0).
    const std::string bare = s.substr(0, s.find('%'));
    in6_addr a6{};
    if (inet_pton(AF_INET6, bare.c_str(), &a6) != 1)
      return {std::nullopt, "'" + s + "' is not a valid IPv6 address"};
    return {Address{Family::ipv6, a6.s6_addr[0] == 0xFF}, {}};
  }
  if (looks_numeric(text)) {
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) != 1)
      return {std::nullopt, "'" + s + "' is not a valid IPv4 address"};
    const std::uint32_t host = ntohl(a4.s_addr);
    return {Address{Family::ipv4, (host >> 28) == 0xE}, {}};
  }
  if (!is_hostname(text))
    return {std::nullopt, "'" + s + "' is neither an IP address nor a valid host name"};
  return {Address{Family::hostname, false}, {}};
}

std::string_view to_string(Family f) {
  switch (f) {
    case Family::ipv4:
      return "IPv4";
    case Family::ipv6:
      return "IPv6";
    case Family::hostname:
      return "host name";
  }
  return "?";
}

Result<std::uint32_t> nodeid_from_ipv4(std::string_view address, bool clear_node_high_bit) {
  const std::string s(address);
  in_addr a4{};
  if (!looks_numeric(address) || inet_pton(AF_INET, s.c_str(), &a4) != 1) {
    return fail("cannot derive a node id from '" + s +
                "': only IPv4 addresses give one (set nodeid)");
  }
  // Corosync reads the address bytes in network order as one number.
  std::uint32_t nodeid = ntohl(a4.s_addr);
  if (clear_node_high_bit) nodeid &= 0x7FFFFFFFu;
  if (nodeid == 0) return fail("'" + s + "' gives node id 0, which is reserved (set nodeid)");
  return nodeid;
}

std::string cluster_mcastaddr(std::string_view cluster_name, unsigned linknumber) {
  // Corosync's generate_cluster_id: shift-and-add over the name's bytes as signed chars, kept to
  // 16 bits, plus the link number. `% 0xFF` (not `& 0xFF`) is Corosync's, kept so the derived
  // address matches a Corosync node's.
  std::uint32_t value = 0;
  for (char c : cluster_name)
    value = (value << 1) + static_cast<std::uint32_t>(static_cast<signed char>(c));
  const auto id = static_cast<std::uint16_t>((value & 0xFFFFu) + linknumber);
  return "239.192." + std::to_string(id >> 8) + "." + std::to_string(id % 0xFF);
}

}  // namespace vigil::config
