// The listener's address (endpoint.h).
#include "daemon/endpoint.h"

#include <algorithm>

namespace vigil::daemon {

namespace {

// 1..65535 written in decimal digits only, or 0 for anything else.
unsigned short port_number(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  const unsigned long n = std::stoul(text);
  return n > 65535 ? 0 : static_cast<unsigned short>(n);
}

}  // namespace

Result<asio::ip::tcp::endpoint> parse_endpoint(const std::string& option, const std::string& text,
                                               std::optional<unsigned short> default_port) {
  const std::string named = option + " " + text + ": ";
  std::string host = text;
  std::optional<std::string> port;  // the text after the colon, when there is one
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return fail(named + "a '[' without its ']'");
    host = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return fail(named + "expected [ADDRESS]:PORT after the ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else if (!(default_port && std::count(text.begin(), text.end(), ':') > 1)) {
    // Not a bare IPv6 address on the default port: the last colon starts the port.
    if (const auto colon = text.rfind(':'); colon != std::string::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  if (!port && !default_port)
    return fail(named + "expected ADDRESS:PORT, e.g. 127.0.0.1:9664 or [::1]:9664");
  asio::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return fail(named + "'" + host + "' is not an IP address");
  const unsigned short number = port ? port_number(*port) : *default_port;
  if (number == 0) return fail(named + "the port must be 1 to 65535");
  return asio::ip::tcp::endpoint(address, number);
}

}  // namespace vigil::daemon
