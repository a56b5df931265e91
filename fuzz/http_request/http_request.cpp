// The head of an HTTP request as vigild's /metrics listener reads it, in any number of pieces:
// parsing never throws or crashes, a prefix of a complete head is Incomplete or already decided
// the same way, and a complete request has a token method and an absolute path without its query.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/common.h"
#include "metrics/metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using Outcome = vigil::metrics::ParsedRequest::Outcome;
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  const auto whole = vigil::metrics::parse_request(head);
  if (whole.outcome == Outcome::Complete) {
    VIGIL_ASSERT(!whole.request.method.empty());
    VIGIL_ASSERT(!whole.request.path.empty() && whole.request.path.front() == '/');
    VIGIL_ASSERT(whole.request.path.find('?') == std::string::npos);
    const auto response = vigil::metrics::http_response(200, "text/plain", whole.request.path);
    VIGIL_ASSERT(response.size() > whole.request.path.size());
  }
  // The listener parses what it has read so far: an earlier piece ends no differently.
  for (std::size_t cut = 0; cut < size; cut += 1 + size / 8) {
    const auto part = vigil::metrics::parse_request(head.substr(0, cut));
    VIGIL_ASSERT(part.outcome == Outcome::Incomplete || part.outcome == whole.outcome ||
                 whole.outcome == Outcome::TooLarge);
  }
  return 0;
}
