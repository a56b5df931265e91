// metrics: the cluster in Prometheus' text format, under ha_cluster_exporter's metric names and
// labels (so its dashboards and alert rules keep working), plus vigil's own counters; and the
// little HTTP vigild needs to serve it. Pure: the daemon passes the CIB, its status answer and the
// time in, and writes the bytes out.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::metrics {

struct Scrape {
  const cib::Cib* cib = nullptr;  // the agreed CIB; none before this node holds it
  nlohmann::json daemon;          // vigild's `status` answer (ring, quorum, links, counters)
  // cib-last-written as seconds since the epoch (the shell reads the local time zone).
  std::optional<std::int64_t> config_last_change;
  Millis now = 0;  // wall clock, for failure timeouts
};

// The text served at /metrics (Prometheus exposition format 0.0.4).
std::string exposition(const Scrape& scrape);

// The same text for a daemon that is scraped again and again: the series read from the CIB cost
// a walk of the whole status section, so they are kept until the CIB's version, the membership
// or quorum changes, and a scrape of a quiet cluster only writes the daemon's part. (Fail counts
// past their failure-timeout stay shown until the DC's recheck clears them in the CIB.)
// The text comes in two parts, the kept one shared rather than copied into every response: at
// 1 000 resources it is megabytes, and copying it twice a scrape cost more than the rest.
class Exposition {
 public:
  struct Parts {
    std::shared_ptr<const std::string> cib;  // never null
    std::string daemon;
    std::size_t size() const { return cib->size() + daemon.size(); }
    std::string text() const { return *cib + daemon; }
  };
  Parts render(const Scrape& scrape);

 private:
  std::string key_;
  std::shared_ptr<const std::string> cib_part_ = std::make_shared<const std::string>();
};

// ---- HTTP/1.1, as much as a scrape and a browser need.
struct HttpRequest {
  std::string method, path;  // path without the query
  // The header fields in the order sent, names in lower case, values without surrounding blanks.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the Content-Length bytes after the head
  // The value of the first field `name` (lower case), or null.
  const std::string* header(std::string_view name) const;
};
// Reading a request (request line, header fields up to the blank line, then as many bytes as
// Content-Length says): Incomplete means read more; Malformed is answered 400, TooLarge 431 and
// BodyTooLarge 413, and the connection closed. A body without Content-Length (chunked) is Malformed.
constexpr std::size_t kMaxRequestHead = 8192;
constexpr std::size_t kMaxRequestBody = 4096;
struct ParsedRequest {
  enum class Outcome { Complete, Incomplete, Malformed, TooLarge, BodyTooLarge } outcome;
  HttpRequest request;  // when Complete
  std::string reason;   // when Malformed: what was wrong, for the log
};
ParsedRequest parse_request(std::string_view bytes);
// A whole response with Content-Length, closing the connection after it; `fields` are further
// header lines, each ending in CRLF ("WWW-Authenticate: Basic realm=\"vigil\"\r\n"). A 405 says
// Allow: GET unless `fields` says otherwise.
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          std::string_view fields = {});
// Its head alone, for a body of `length` bytes sent after it.
std::string http_head(int status, std::string_view content_type, std::size_t length,
                      std::string_view fields = {});

}  // namespace vigil::metrics
