// The HTTP listener `vigild --http ADDR:PORT` opens: GET /metrics answers in Prometheus' text
// format (metrics.h) from what vigild holds — its status answer and the agreed CIB — so a scrape
// costs no subprocess and no agent run. GET / is the status page (status_page.cpp); GET /events
// the server-sent events it draws from: the cluster as `vigil status --output-as json` describes
// it, sent at once and again after every change of the CIB or of the membership. Off unless asked
// for. POST /actions is what the page may do to the cluster (page/page.h decides): refused with
// 403 unless vigild runs with --http-actions, then for a user who logs in; each action is
// committed through the ring as the CLI's would be and written to the history with the user.
// Each connection carries one request, read within kRequestTime and at most kMaxRequestHead
// bytes of head (and kMaxRequestBody of body), then is answered and closed — or, for /events,
// kept as one of at most kStreams event streams; at most kConnections others are open at once,
// further ones are closed at accept. Nothing a client sends ends vigild: a malformed request gets
// 400, a too large one 431 or 413, a method a path does not take 405, a stream past the limit
// 503; a client that does not take its events is dropped.
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <chrono>
#include <ctime>
#include <memory>

#include "common/clock.h"
#include "config/config.h"
#include "daemon/cib_access.h"
#include "daemon/endpoint.h"
#include "daemon/http_service.h"
#include "daemon/status_page.h"
#include "daemon/system.h"
#include "metrics/metrics.h"
#include "page/page.h"
#include "status/status.h"

namespace vigil::daemon {

namespace {

constexpr auto kRequestTime = std::chrono::seconds(5);
constexpr int kConnections = 16;
constexpr int kStreams = 8;
// An event a client has not taken within kWriteTime drops it; every kHeartbeat a quiet stream
// gets a comment line, so a client that went away is found by the failing write.
constexpr auto kWriteTime = std::chrono::seconds(5);
constexpr auto kHeartbeat = std::chrono::seconds(15);
// Changes this close together (a transition's results, a membership change and the CIB update
// it brings) make one event.
constexpr auto kSettle = std::chrono::milliseconds(50);
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

// A response as the buffers it is written from: the head (or a whole small response), then a
// body kept elsewhere and shared rather than copied (the exposition's CIB part), then the rest.
struct Response {
  Response() = default;
  Response(std::string whole) : head(std::move(whole)) {}  // NOLINT(google-explicit-constructor)
  Response(std::string h, std::shared_ptr<const std::string> s, std::string t)
      : head(std::move(h)), shared(std::move(s)), tail(std::move(t)) {}
  std::string head;
  std::shared_ptr<const std::string> shared;
  std::string tail;
};

// One client of GET /events. While a write is under way only the newest status waits behind it:
// a slow client skips states, it never piles them up.
class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  explicit EventStream(tcp::socket socket)
      : socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        heartbeat_(socket_.get_executor()) {}
  // Sends the response head and the first event, then watches for the client going away.
  void start(const std::string& first_event) {
    push(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\n\r\nretry: 2000\n\n" +
        first_event);
    watch_reads();
  }
  void push(std::string bytes) {
    if (!socket_.is_open()) return;
    pending_ = std::move(bytes);
    if (writing_.empty()) write_next();
  }
  bool open() const { return socket_.is_open(); }
  void close() {
    asio::error_code ec;
    deadline_.cancel();
    heartbeat_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  void write_next() {
    writing_ = std::move(pending_);
    pending_.clear();
    deadline_.expires_after(kWriteTime);
    deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->close();
    });
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                        self->deadline_.cancel();
                        self->writing_.clear();
                        if (ec) return self->close();
                        if (!self->pending_.empty()) return self->write_next();
                        self->beat_later();
                      });
  }
  void beat_later() {
    heartbeat_.expires_after(kHeartbeat);
    heartbeat_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && self->writing_.empty()) self->push(": still here\n\n");
    });
  }
  // A client sends nothing after its request; what it does send is read and dropped, and the end
  // of its side closes the stream.
  void watch_reads() {
    socket_.async_read_some(asio::buffer(ignored_),
                            [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                              if (ec) return self->close();
                              self->watch_reads();
                            });
  }

  tcp::socket socket_;
  asio::steady_timer deadline_, heartbeat_;
  std::string writing_, pending_;
  std::array<char, 512> ignored_{};
};

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
  void act(const metrics::HttpRequest& request);
  void follow();
  void send(Response response);
  void close();

  tcp::socket socket_;
  asio::steady_timer timer_;
  HttpService& owner_;
  std::shared_ptr<bool> alive_;
  std::string head_;
  std::array<char, 2048> buffer_{};
  Response response_;
};

class HttpService final : public Service {
 public:
  HttpService(Host& host, CibAccess& cib, HistoryService& history, tcp::acceptor acceptor,
              std::optional<std::vector<std::uint8_t>> authkey)
      : host_(host),
        cib_(cib),
        history_(history),
        log_(host.log("HTTP")),
        acceptor_(std::move(acceptor)),
        settle_(host.io()),
        authkey_(std::move(authkey)),
        page_(page_with_actions(authkey_.has_value())) {
    log_->info("serving the status page{} and /metrics on http://{}",
               authkey_ ? " (with actions, after a login)" : "", host.options().http);
    cib_.on_change([this, alive = alive_](const node::CibChanged&) {
      if (*alive) changed();
    });
    accept();
  }
  ~HttpService() override { *alive_ = false; }
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  void add_status(Json& status) const override {
    status["http"] = Json{{"listen", host_.options().http},
                          {"requests", requests_},
                          {"refused", refused_},
                          {"actions", actions_},
                          {"authentication_failures", auth_failures_},
                          {"event_streams", streams_.size()}};
  }
  void view_changed(const ClusterView&) override { changed(); }
  void stop() override {
    asio::error_code ec;
    acceptor_.close(ec);
    settle_.cancel();
    for (const auto& s : streams_) s->close();
    streams_.clear();
  }

  // The response to one well-formed request.
  Response respond(const metrics::HttpRequest& request) {
    ++requests_;
    if (request.path == "/actions")
      return {metrics::http_response(405, "text/plain", "only POST\n", "Allow: POST\r\n")};
    if (request.method != "GET") return {metrics::http_response(405, "text/plain", "only GET\n")};
    if (request.path == "/")
      return {metrics::http_response(200, "text/html; charset=utf-8", page_)};
    if (request.path != "/metrics")
      return {metrics::http_response(404, "text/plain", "not found\n")};
    metrics::Scrape scrape;
    const bool have_cib = cib_.synced();
    if (have_cib) {
      scrape.cib = &cib_.current();
      scrape.config_last_change = last_written(cib_.current());
    }
    scrape.daemon = host_.status();
    scrape.now = wall_clock_ms();
    auto parts = exposition_.render(scrape);
    return {metrics::http_head(200, "text/plain; version=0.0.4; charset=utf-8", parts.size()),
            std::move(parts.cib), std::move(parts.daemon)};
  }
  void refused(const std::string& why) {
    ++refused_;
    log_->debug("HTTP request refused: {}", why);
  }
  void closed() { --open_; }

  // POST /actions from `peer`: decided at once, or committed through the ring and answered
  // once applied (or refused); every action decided on is written to the history.
  void act(const metrics::HttpRequest& request, const std::string& peer,
           std::function<void(Response)> answer) {
    ++requests_;
    auto d = page::decide(request, authkey_ ? &*authkey_ : nullptr,
                          cib_.synced() ? &cib_.current() : nullptr, host_.node_name());
    if (d.status != 200) {
      if (d.bad_credentials) {
        ++auth_failures_;
        log_->warn("status page action from {} refused: {}", peer, d.message);
      } else {
        refused(d.message);
      }
      return answer(reply(d.status, d.message, d.challenge));
    }
    ++actions_;
    if (d.op.changes.empty()) {
      record(d, peer, "nothing to change");
      return answer(reply(200, d.message + ": nothing to change", false));
    }
    auto op = std::move(d.op);
    cib_.commit(std::move(op), [this, alive = alive_, d = std::move(d), peer,
                                answer = std::move(answer)](Result<cib::Cib> applied) {
      if (!*alive) return;
      if (!applied) {
        record(d, peer, "failed: " + applied.error().message);
        return answer(
            reply(409, d.message + ": nothing changed: " + applied.error().message, false));
      }
      record(d, peer, "done");
      answer(reply(200, d.message + ": done", false));
    });
  }

  // Makes `socket` an event stream; false when kStreams are open already.
  bool subscribe(tcp::socket& socket) {
    ++requests_;
    forget_closed_streams();
    if (streams_.size() >= static_cast<std::size_t>(kStreams)) {
      refused("too many event streams");
      return false;
    }
    streams_.push_back(std::make_shared<EventStream>(std::move(socket)));
    streams_.back()->start(status_event());
    return true;
  }

 private:
  static Response reply(int status, const std::string& message, bool challenge) {
    return {metrics::http_response(
        status, "text/plain; charset=utf-8", message + "\n",
        challenge ? "WWW-Authenticate: Basic realm=\"vigil status page\", charset=\"UTF-8\"\r\n"
                  : "")};
  }
  // The page, told whether to offer actions (it asks for the login when one is first made).
  static std::string page_with_actions(bool on) {
    std::string page(kStatusPage);
    if (on) {
      const std::string off = "data-actions=\"off\"";
      const auto at = page.find(off);
      VIGIL_ASSERT(at != std::string::npos);
      page.replace(at, off.size(), "data-actions=\"on\"");
    }
    return page;
  }
  void record(const page::Decision& d, const std::string& peer, const std::string& outcome) {
    history::Event e;
    e.at_ms = wall_clock_ms();
    e.what = history::kind::kPageAction;
    e.node = d.action->node;
    e.resource = d.action->resource;
    e.by = d.user + " via " + std::string(page::kClient) + " on " + host_.node_name();
    e.detail =
        d.user + " asked the status page (from " + peer + ") to " + d.message + ": " + outcome;
    history_.record(e);
  }

  // The CIB or the membership changed: the streams hear of it once the burst settled.
  void changed() {
    if (streams_.empty() || settling_) return;
    settling_ = true;
    settle_.expires_after(kSettle);
    settle_.async_wait([this, alive = alive_](const asio::error_code& ec) {
      if (!*alive || ec) return;
      settling_ = false;
      forget_closed_streams();
      if (streams_.empty()) return;
      const std::string event = status_event();
      for (const auto& s : streams_) s->push(event);
    });
  }
  void forget_closed_streams() {
    std::erase_if(streams_, [](const auto& s) { return !s->open(); });
  }
  // The cluster as `vigil status --output-as json` describes it, as one event.
  std::string status_event() const {
    status::StatusInput in;
    if (cib_.synced()) in.cib = cib_.current();
    in.daemon = host_.status();
    in.now = wall_clock_ms();
    // One line (control characters in strings are escaped); bytes that are not UTF-8 in a CIB
    // string become U+FFFD rather than an exception.
    const std::string data =
        status::status_json(in).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return "event: status\ndata: " + data + "\n\n";
  }

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
  HistoryService& history_;
  std::shared_ptr<spdlog::logger> log_;
  tcp::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  metrics::Exposition exposition_;
  std::vector<std::shared_ptr<EventStream>> streams_;
  asio::steady_timer settle_;
  const std::optional<std::vector<std::uint8_t>> authkey_;  // with --http-actions only
  const std::string page_;
  bool settling_ = false;
  int open_ = 0;
  std::uint64_t requests_ = 0, refused_ = 0, actions_ = 0, auth_failures_ = 0;
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
      if (parsed.request.method == "GET" && parsed.request.path == "/events") return follow();
      if (parsed.request.method == "POST" && parsed.request.path == "/actions")
        return act(parsed.request);
      return send(owner_.respond(parsed.request));
    case Outcome::Malformed:
      owner_.refused(parsed.reason);
      return send({metrics::http_response(400, "text/plain", parsed.reason + "\n")});
    case Outcome::TooLarge:
      owner_.refused(parsed.reason);
      return send({metrics::http_response(431, "text/plain", parsed.reason + "\n")});
    case Outcome::BodyTooLarge:
      owner_.refused(parsed.reason);
      return send({metrics::http_response(413, "text/plain", parsed.reason + "\n")});
    case Outcome::Incomplete:
      break;
  }
  VIGIL_ASSERT(false);
}

// The answer may wait for the ring: the read deadline no longer applies.
void Exchange::act(const metrics::HttpRequest& request) {
  timer_.cancel();
  asio::error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  owner_.act(request, ec ? std::string("?") : peer.address().to_string(),
             [self = shared_from_this()](Response response) {
               if (*self->alive_) self->send(std::move(response));
             });
}

// The connection becomes an event stream, counted among the streams rather than the exchanges.
void Exchange::follow() {
  timer_.cancel();
  if (!owner_.subscribe(socket_))
    return send({metrics::http_response(503, "text/plain", "too many event streams\n")});
  owner_.closed();
}

void Exchange::send(Response response) {
  response_ = std::move(response);
  const std::array<asio::const_buffer, 3> buffers{
      asio::buffer(response_.head),
      response_.shared ? asio::buffer(*response_.shared) : asio::const_buffer(),
      asio::buffer(response_.tail)};
  asio::async_write(
      socket_, buffers,
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

Result<std::unique_ptr<Service>> make_http_service(Host& host, CibAccess& cib,
                                                   HistoryService& history) {
  // The page's passwords are derived from the authkey (page/page.h): no key, no actions.
  std::optional<std::vector<std::uint8_t>> authkey;
  if (host.options().http_actions) {
    const auto path = config::authkey_path(host.config());
    auto key = read_bytes(path);
    if (!key) return fail(host.options().http_actions_source + ": " + key.error().message);
    if (auto usable = page::password(*key, page::kDefaultUser); !usable)
      return fail(host.options().http_actions_source + ": " + path + ": " + usable.error().message);
    authkey = std::move(*key);
  }
  auto endpoint = parse_endpoint(host.options().http_source, host.options().http, std::nullopt);
  if (!endpoint) return endpoint.error();
  tcp::acceptor acceptor(host.io());
  asio::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(host.options().http_source + " " + host.options().http + ": " + ec.message());
  return std::unique_ptr<Service>(
      std::make_unique<HttpService>(host, cib, history, std::move(acceptor), std::move(authkey)));
}

}  // namespace vigil::daemon
