// The listener's address (daemon/endpoint.h), as `vigild --http` (no default port) and `vigil
// witness --listen` (default 5403) read it.
#include "daemon/endpoint.h"

#include <gtest/gtest.h>

namespace vigil::daemon {
namespace {

std::string read(const std::string& text, std::optional<unsigned short> default_port) {
  auto e = parse_endpoint("--opt", text, default_port);
  if (!e) return e.error().message;
  const auto a = e->address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(e->port());
}

TEST(Endpoint, AnAddressAndAPortInEitherFamily) {
  for (std::optional<unsigned short> fallback : {std::optional<unsigned short>{}, {5403}}) {
    EXPECT_EQ(read("127.0.0.1:9664", fallback), "127.0.0.1:9664");
    EXPECT_EQ(read("[::1]:9664", fallback), "[::1]:9664");
    EXPECT_EQ(read("0.0.0.0:1", fallback), "0.0.0.0:1");
    EXPECT_EQ(read("[::]:65535", fallback), "[::]:65535");
  }
}

TEST(Endpoint, WithoutAPortTheDefaultOneOrAnError) {
  EXPECT_EQ(read("10.0.0.30", 5403), "10.0.0.30:5403");
  EXPECT_EQ(read("[fe80::1]", 5403), "[fe80::1]:5403");
  EXPECT_EQ(read("::1", 5403), "[::1]:5403") << "a bare IPv6 address is the whole of it";
  EXPECT_EQ(read("10.0.0.30", std::nullopt),
            "--opt 10.0.0.30: expected ADDRESS:PORT, e.g. 127.0.0.1:9664 or [::1]:9664");
  EXPECT_EQ(read("[::1]", std::nullopt),
            "--opt [::1]: expected ADDRESS:PORT, e.g. 127.0.0.1:9664 or [::1]:9664");
  // With no default port to fall back on, the last colon of a bare IPv6 text starts the port.
  EXPECT_EQ(read("::1:9664", std::nullopt), "[::1]:9664");
}

TEST(Endpoint, ABadAddressOrPortIsNamed) {
  EXPECT_EQ(read("localhost:9664", std::nullopt), "--opt localhost:9664: 'localhost' is not an IP address");
  EXPECT_EQ(read(":9664", 5403), "--opt :9664: '' is not an IP address");
  EXPECT_EQ(read("1.2.3.4:0", 5403), "--opt 1.2.3.4:0: the port must be 1 to 65535");
  EXPECT_EQ(read("1.2.3.4:65536", 5403), "--opt 1.2.3.4:65536: the port must be 1 to 65535");
  EXPECT_EQ(read("1.2.3.4:", std::nullopt), "--opt 1.2.3.4:: the port must be 1 to 65535");
  EXPECT_EQ(read("1.2.3.4:80x", std::nullopt), "--opt 1.2.3.4:80x: the port must be 1 to 65535");
  EXPECT_EQ(read("1.2.3.4:-1", std::nullopt), "--opt 1.2.3.4:-1: the port must be 1 to 65535");
  EXPECT_EQ(read("1.2.3.4:000000080", std::nullopt),
            "--opt 1.2.3.4:000000080: the port must be 1 to 65535");
  EXPECT_EQ(read("[::1:9664", 5403), "--opt [::1:9664: a '[' without its ']'");
  EXPECT_EQ(read("[::1]9664", 5403), "--opt [::1]9664: expected [ADDRESS]:PORT after the ']'");
}

}  // namespace
}  // namespace vigil::daemon
