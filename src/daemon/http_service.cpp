// The HTTP listener `vigild --http ADDR:PORT` opens: GET /metrics answers in Prometheus' text
// format (metrics.h) from what vigild holds — its status answer and the agreed CIB — so a scrape
// costs no subprocess and no agent run. Off unless asked for. Each connection carries one request,
// read within kRequestTime and at most kMaxRequestHead bytes, then is answered and closed; at most
// kConnections are open at once, further ones are closed at accept. Nothing a client sends ends
// vigild: a malformed request gets 400, a too large one 431, anything but GET 405.
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <chrono>
#include <ctime>
#include <memory>

#include "common/clock.h"
#include "daemon/cib_access.h"
#include "daemon/http_service.h"
#include "metrics/metrics.h"

namespace vigil::daemon {

namespace {

constexpr auto kRequestTime = std::chrono::seconds(5);
constexpr int kConnections = 16;
using asio::ip::tcp;

// cib-last-written ("Sat Dec  5 15:24:55 2026", local time) as seconds since the epoch.
std::optional<std::int64_t> last_written(const cib::Cib& cib) {
  const char* text = cib.root().attribute("cib-last-written").value();
  std::tm tm{};
  const char* end = ::strptime(text, "%a %b %e %H:%M:%S %Y", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm));
}

class HttpService;

// One connection: read the head, answer, close.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(tcp::socket socket, HttpService& owner, std::shared_ptr<bool> alive)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        owner_(owner),
        alive_(std::move(alive)) {}
  void start();

 private:
  void read();
  void answer(const metrics::ParsedRequest& parsed);
  void send(std::string response);
  void close();

  tcp::socket socket_;
  asio::steady_timer timer_;
  HttpService& owner_;
  std::shared_ptr<bool> alive_;
  std::string head_;
  std::array<char, 2048> buffer_{};
  std::string response_;
};

class HttpService final : public Service {
 public:
  HttpService(Host& host, CibAccess& cib, tcp::acceptor acceptor)
      : host_(host), cib_(cib), log_(host.log("HTTP")), acceptor_(std::move(acceptor)) {
    log_->info("serving /metrics on http://{}", host.options().http);
    accept();
  }
  ~HttpService() override { *alive_ = false; }
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  void add_status(Json& status) const override {
    status["http"] =
        Json{{"listen", host_.options().http}, {"requests", requests_}, {"refused", refused_}};
  }
  void stop() override {
    asio::error_code ec;
    acceptor_.close(ec);
  }

  // The response to one well-formed request.
  std::string respond(const metrics::HttpRequest& request) {
    ++requests_;
    if (request.method != "GET") return metrics::http_response(405, "text/plain", "only GET\n");
    if (request.path != "/metrics") return metrics::http_response(404, "text/plain", "not found\n");
    metrics::Scrape scrape;
    const bool have_cib = cib_.synced();
    if (have_cib) {
      scrape.cib = &cib_.current();
      scrape.config_last_change = last_written(cib_.current());
    }
    scrape.daemon = host_.status();
    scrape.now = wall_clock_ms();
    return metrics::http_response(200, "text/plain; version=0.0.4; charset=utf-8",
                                  exposition_.render(scrape));
  }
  void refused(const std::string& why) {
    ++refused_;
    log_->debug("HTTP request refused: {}", why);
  }
  void closed() { --open_; }

 private:
  void accept() {
    acceptor_.async_accept([this, alive = alive_](const asio::error_code& ec, tcp::socket s) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (open_ >= kConnections) {
          refused("too many connections");
        } else {
          ++open_;
          std::make_shared<Exchange>(std::move(s), *this, alive_)->start();
        }
      }
      accept();
    });
  }

  Host& host_;
  CibAccess& cib_;
  std::shared_ptr<spdlog::logger> log_;
  tcp::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  metrics::Exposition exposition_;
  int open_ = 0;
  std::uint64_t requests_ = 0, refused_ = 0;
};

void Exchange::start() {
  timer_.expires_after(kRequestTime);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->close();
  });
  read();
}

void Exchange::read() {
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            if (ec || !*self->alive_) return self->close();
                            self->head_.append(self->buffer_.data(), n);
                            auto parsed = metrics::parse_request(self->head_);
                            if (parsed.outcome == metrics::ParsedRequest::Outcome::Incomplete)
                              return self->read();
                            self->answer(parsed);
                          });
}

void Exchange::answer(const metrics::ParsedRequest& parsed) {
  using Outcome = metrics::ParsedRequest::Outcome;
  switch (parsed.outcome) {
    case Outcome::Complete:
      return send(owner_.respond(parsed.request));
    case Outcome::Malformed:
      owner_.refused(parsed.reason);
      return send(metrics::http_response(400, "text/plain", parsed.reason + "\n"));
    case Outcome::TooLarge:
      owner_.refused(parsed.reason);
      return send(metrics::http_response(431, "text/plain", parsed.reason + "\n"));
    case Outcome::Incomplete:
      break;
  }
  VIGIL_ASSERT(false);
}

void Exchange::send(std::string response) {
  response_ = std::move(response);
  asio::async_write(
      socket_, asio::buffer(response_),
      [self = shared_from_this()](const asio::error_code&, std::size_t) { self->close(); });
}

void Exchange::close() {
  if (!socket_.is_open()) return;
  asio::error_code ec;
  timer_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (*alive_) owner_.closed();
}

}  // namespace

Result<tcp::endpoint> http_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return fail("--http " + text + ": expected ADDRESS:PORT, e.g. 127.0.0.1:9664");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  asio::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return fail("--http " + text + ": '" + host + "' is not an IP address");
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = 0;
  } catch (const std::exception&) {
    port = 0;
  }
  if (port == 0 || port > 65535) return fail("--http " + text + ": the port must be 1 to 65535");
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

Result<std::unique_ptr<Service>> make_http_service(Host& host, CibAccess& cib) {
  auto endpoint = http_endpoint(host.options().http);
  if (!endpoint) return endpoint.error();
  tcp::acceptor acceptor(host.io());
  asio::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("--http " + host.options().http + ": " + ec.message());
  return std::unique_ptr<Service>(std::make_unique<HttpService>(host, cib, std::move(acceptor)));
}

}  // namespace vigil::daemon
