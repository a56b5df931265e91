// One HTTP exchange with vigild's listener (--http), as the tests of tests/daemon make it: the
// request as given, and the whole answer up to the server's close (bounded reads).
#pragma once

#include <array>
#include <asio.hpp>
#include <string>

namespace vigil::test {

inline std::string http_exchange(const std::string& address, int port,
                                 const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  asio::error_code ec;
  s.connect({asio::ip::make_address(address), static_cast<unsigned short>(port)}, ec);
  if (ec) return "connect: " + ec.message();
  asio::write(s, asio::buffer(request), ec);
  std::string out;
  std::array<char, 4096> buf{};
  for (int i = 0; i < 10000; ++i) {
    const std::size_t got = s.read_some(asio::buffer(buf), ec);
    out.append(buf.data(), got);
    if (ec) break;
  }
  return out;
}

}  // namespace vigil::test
