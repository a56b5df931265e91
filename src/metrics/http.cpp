// The HTTP vigild serves: one GET per connection, answered and closed (metrics.h).
#include <array>
#include <optional>
#include <string>

#include "metrics/metrics.h"

namespace vigil::metrics {

namespace {

using Outcome = ParsedRequest::Outcome;

ParsedRequest malformed(std::string reason) {
  return {Outcome::Malformed, {}, std::move(reason)};
}

// RFC 9110's tchar: what a method and a field name are made of.
bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112, section 5); obsolete line folding
// and control bytes in a value are refused.
std::optional<std::string> read_fields(std::string_view lines, HttpRequest& request) {
  while (!lines.empty()) {
    const auto eol = lines.find("\r\n");
    const std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return "header field without a name";
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (!token_char(c)) return "header field name is not a token";
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    const std::string_view value = trimmed(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return "control byte in header field " + name;
    }
    request.headers.emplace_back(std::move(name), std::string(value));
  }
  return std::nullopt;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

ParsedRequest parse_request(std::string_view bytes) {
  const auto end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kMaxRequestHead) return {Outcome::TooLarge, {}, "request head too large"};
    return {Outcome::Incomplete, {}, {}};
  }
  if (end + 4 > kMaxRequestHead) return {Outcome::TooLarge, {}, "request head too large"};
  const auto line_end = bytes.find("\r\n");
  const std::string_view line = bytes.substr(0, line_end);
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
  HttpRequest request{std::string(method), std::string(target.substr(0, target.find('?'))), {}, {}};
  if (line_end < end) {
    if (auto bad = read_fields(bytes.substr(line_end + 2, end - line_end - 2), request))
      return malformed(*bad);
  }
  // A body is read only by its length (RFC 9112, section 6.3): chunked ones are not taken.
  if (request.header("transfer-encoding") != nullptr)
    return malformed("a body needs Content-Length, not Transfer-Encoding");
  std::size_t length = 0;
  if (const auto* text = request.header("content-length")) {
    if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != std::string::npos)
      return malformed("Content-Length is not a number");
    length = std::stoul(*text);
  }
  if (length > kMaxRequestBody) return {Outcome::BodyTooLarge, {}, "request body too large"};
  const std::string_view body = bytes.substr(end + 4);
  if (body.size() < length) return {Outcome::Incomplete, {}, {}};
  request.body = std::string(body.substr(0, length));
  return {Outcome::Complete, std::move(request), {}};
}

std::string http_head(int status, std::string_view content_type, std::size_t length,
                      std::string_view fields) {
  static constexpr std::array<std::pair<int, const char*>, 11> kReasons{
      {{200, "OK"},
       {400, "Bad Request"},
       {401, "Unauthorized"},
       {403, "Forbidden"},
       {404, "Not Found"},
       {405, "Method Not Allowed"},
       {409, "Conflict"},
       {413, "Content Too Large"},
       {415, "Unsupported Media Type"},
       {431, "Request Header Fields Too Large"},
       {503, "Service Unavailable"}}};
  const char* reason = "Error";
  for (const auto& [code, text] : kReasons) {
    if (code == status) reason = text;
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(length) + "\r\n";
  if (status == 405 && fields.find("Allow:") == std::string_view::npos) out += "Allow: GET\r\n";
  out += fields;
  out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
  return out;
}

std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view fields) {
  std::string out = http_head(status, content_type, body.size(), fields);
  out += body;
  return out;
}

}  // namespace vigil::metrics
