// endpoint: the address a TCP listener is given on the command line (`vigild --http`,
// `vigil witness --listen`): "ADDRESS:PORT", "[IPv6]:PORT", and where the option has a default
// port also "ADDRESS", "[IPv6]" or a bare IPv6 address. ADDRESS is an IP address, not a name: a
// listener binds to one of the machine's own addresses.
#pragma once

#include <asio/ip/tcp.hpp>
#include <optional>
#include <string>

#include "common/common.h"

namespace vigil::daemon {

// `option` names the option in the error ("--http", "witness --listen"). Without a default port,
// a port is required, and "::1:9664" reads as [::1]:9664, as an IPv6 address with a port must be
// written to anything that has no default; with one, a text that is an IPv6 address as a whole is
// that address on the default port.
Result<asio::ip::tcp::endpoint> parse_endpoint(const std::string& option, const std::string& text,
                                               std::optional<unsigned short> default_port);

}  // namespace vigil::daemon
