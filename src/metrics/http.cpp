// The HTTP vigild serves: one GET per connection, answered and closed (metrics.h).
#include <array>

#include "metrics/metrics.h"

namespace vigil::metrics {

namespace {

using Outcome = ParsedRequest::Outcome;

ParsedRequest malformed(std::string reason) {
  return {Outcome::Malformed, {}, std::move(reason)};
}

bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

}  // namespace

ParsedRequest parse_request(std::string_view head) {
  const auto end = head.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (head.size() >= kMaxRequestHead) return {Outcome::TooLarge, {}, "request head too large"};
    return {Outcome::Incomplete, {}, {}};
  }
  if (end + 4 > kMaxRequestHead) return {Outcome::TooLarge, {}, "request head too large"};
  const std::string_view line = head.substr(0, head.find("\r\n"));
  // Request-Line = Method SP Request-URI SP HTTP-Version (RFC 9112, section 3)
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return malformed("request line is not METHOD TARGET VERSION");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty()) return malformed("empty method");
  for (char c : method) {
    if (!token_char(c)) return malformed("method is not a token");
  }
  if (target.empty() || target.front() != '/') return malformed("target is not an absolute path");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return malformed("control byte in target");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return malformed("not HTTP/1.0 or 1.1");
  return {Outcome::Complete, {std::string(method), std::string(target.substr(0, target.find('?')))},
          {}};
}

std::string http_head(int status, std::string_view content_type, std::size_t length) {
  static constexpr std::array<std::pair<int, const char*>, 6> kReasons{{{200, "OK"},
                                                                       {400, "Bad Request"},
                                                                       {404, "Not Found"},
                                                                       {405, "Method Not Allowed"},
                                                                       {431, "Request Header Fields Too Large"},
                                                                       {503, "Service Unavailable"}}};
  const char* reason = "Error";
  for (const auto& [code, text] : kReasons) {
    if (code == status) reason = text;
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  if (status == 405) out += "Allow: GET\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  return out;
}

std::string http_response(int status, std::string_view content_type, std::string_view body) {
  std::string out = http_head(status, content_type, body.size());
  out += body;
  return out;
}

}  // namespace vigil::metrics
