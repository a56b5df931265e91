// The join service (join_service.h). The listener opens with the first token, so a vigild no one
// asked for a token has no TCP port open. Each connection carries one exchange: a sealed request
// read within kExchangeTime (head, then a body whose length the head checked), a sealed answer,
// close; at most kJoinConnections at once, more are closed at accept. A frame no token opens gets a
// refusal in clear; a token that opens it but is used, expired or busy gets a sealed refusal;
// nothing a joiner sends reaches more than the decoders of config/join.h.
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <chrono>
#include <deque>

#include "config/join.h"
#include "daemon/join_service.h"
#include "daemon/system.h"

namespace vigil::daemon {

namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// The ring may need a membership round before the change is ordered; the joiner waits longer.
constexpr auto kExchangeTime = std::chrono::seconds(30);
constexpr int kJoinConnections = 4;
constexpr std::size_t kTokens = 64;  // issued ones remembered, spent or not

struct Token {
  config::JoinSecret secret;
  config::JoinKeys keys;
  Clock::time_point expires;
  bool used = false;
  bool busy = false;  // its join is going round the ring
};

class JoinService;

config::Bytes refusal(const config::JoinKeys& keys, const std::string& why) {
  config::JoinAnswer answer;
  answer.refused = why;
  return config::sealed_frame(keys.to_joiner, config::encode_join_answer(answer));
}

class JoinExchange : public std::enable_shared_from_this<JoinExchange> {
 public:
  JoinExchange(tcp::socket socket, JoinService& owner, std::shared_ptr<bool> alive)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        owner_(owner),
        alive_(std::move(alive)) {}
  ~JoinExchange();
  JoinExchange(const JoinExchange&) = delete;
  JoinExchange& operator=(const JoinExchange&) = delete;
  void start();
  // Sends the frame, then closes.
  void send(config::Bytes frame);
  std::string peer() const {
    asio::error_code ec;
    const auto end = socket_.remote_endpoint(ec);
    return ec ? std::string("?") : end.address().to_string();
  }

 private:
  void read_body();
  void close() {
    asio::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  JoinService& owner_;
  std::shared_ptr<bool> alive_;
  config::Bytes frame_, out_;
};

class JoinService final : public Service {
 public:
  explicit JoinService(Host& host) : host_(host), log_(host.log("JOIN")) {}
  ~JoinService() override { *alive_ = false; }

  std::vector<std::string> commands() const override { return {"join_token"}; }

  void answer(const control::Request& request, const control::PeerCredentials& peer,
              control::Server::Reply reply) override {
    const auto ttl = std::get<control::JoinTokenRequest>(request).ttl;
    if (auto listening = listen(); !listening) return reply(listening.error());
    // The oldest not being redeemed goes: a joiner holding it is refused as unknown.
    for (auto it = tokens_.begin(); tokens_.size() >= kTokens && it != tokens_.end();)
      it = it->busy ? std::next(it) : tokens_.erase(it);
    if (tokens_.size() >= kTokens)
      return reply(fail("join_token: " + std::to_string(kTokens) + " joins are under way"));
    const auto secret = config::random_secret();
    tokens_.push_back(
        Token{secret, config::join_keys(secret), Clock::now() + std::chrono::seconds(ttl)});
    log_->info("join token issued to pid {} (uid {}), valid {} s, served on {}:{}", peer.pid,
               peer.uid, ttl, address_, port_);
    reply(control::Json{{"ok", true},
                        {"token", config::format_token({address_, port_, secret})},
                        {"ttl", ttl},
                        {"address", address_},
                        {"port", port_}});
  }

  void add_status(Json& status) const override {
    std::size_t live = 0;
    for (const auto& t : tokens_) live += !t.used && Clock::now() < t.expires;
    if (acceptor_) status["join"] = Json{{"port", port_}, {"tokens", live}};
  }

  void stop() override {
    asio::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  }

  // A whole frame from a joiner: the answer goes back through `exchange`.
  void serve(const std::shared_ptr<JoinExchange>& exchange, const config::Bytes& frame) {
    for (auto& t : tokens_) {
      auto text = config::open_frame(t.keys.to_member, frame);
      if (text) return serve(exchange, t, *text);
    }
    log_->warn("join from {} refused: no token issued here opens its request", exchange->peer());
    exchange->send(config::refusal_frame(
        "the join token is not one this member issued (mistyped, issued by another member, or "
        "issued before its vigild restarted): ask for a new one with `vigil cluster token`"));
  }

  void connection_ended() { --connections_; }

 private:
  void serve(const std::shared_ptr<JoinExchange>& exchange, Token& token,
             const config::Bytes& text) {
    const auto refuse = [&](const std::string& why) {
      log_->warn("join from {} refused: {}", exchange->peer(), why);
      exchange->send(refusal(token.keys, why));
    };
    if (token.used) return refuse("this join token was used already (a token admits one node)");
    if (Clock::now() >= token.expires) return refuse("this join token has expired");
    if (token.busy) return refuse("this join token is being used by another join right now");
    auto request = config::decode_join_request(text);
    if (!request) return refuse(request.error().message);
    // The same node asking again (its first answer was lost): it is listed already, hand it the
    // files without a second change.
    for (const auto& n : host_.core().nodelist()) {
      if (n.name == request->name && n.addresses == request->addresses)
        return send_files(exchange, token, request->name);
    }
    token.busy = true;
    log_->info("join from {}: adding {} ({}) to the nodelist", exchange->peer(), request->name,
               request->addresses.front());
    host_.propose(control::NodelistAdd{0, request->name, request->addresses},
                  control::PeerCredentials{},
                  [this, alive = alive_, exchange, secret = token.secret,
                   name = request->name](Result<control::Json> done) {
                    if (!*alive) return;
                    // Looked up again: older tokens may have been dropped meanwhile.
                    Token* again = find(secret);
                    if (again == nullptr) return;  // the connection closes unanswered
                    again->busy = false;
                    if (!done.ok()) return exchange->send(refusal(again->keys, done.error().message));
                    send_files(exchange, *again, name);
                  });
  }

  void send_files(const std::shared_ptr<JoinExchange>& exchange, Token& token,
                  const std::string& name) {
    const auto& cfg = host_.config();
    auto text = read_bytes(cfg.origin);
    auto key = read_bytes(config::authkey_path(cfg));
    config::JoinAnswer answer;
    if (!text.ok() || !key.ok()) {
      answer.refused = "the member cannot read its own files: " +
                       (text.ok() ? key.error().message : text.error().message);
    } else {
      token.used = true;
      answer.config.assign(text->begin(), text->end());
      answer.authkey = std::move(*key);
      answer.name = name;
      log_->info("{} joined from {}: configuration and authkey handed over", name,
                 exchange->peer());
    }
    exchange->send(config::sealed_frame(token.keys.to_joiner, config::encode_join_answer(answer)));
  }

  Token* find(const config::JoinSecret& secret) {
    for (auto& t : tokens_) {
      if (t.secret == secret) return &t;
    }
    return nullptr;
  }

  // This node's ring0_addr and link 0's port, over TCP.
  Result<void> listen() {
    if (acceptor_) return {};
    const auto& cfg = host_.config();
    for (const auto& n : cfg.nodelist) {
      if (n.nodeid == host_.node_id()) address_ = n.ring_addr[0];
    }
    if (address_.empty())
      return fail("join_token: this node has no ring0_addr in " + cfg.origin +
                  " for joiners to reach");
    port_ = cfg.totem.interfaces.empty() ? 5405 : cfg.totem.interfaces.front().mcastport;
    asio::error_code ec;
    tcp::resolver resolver(host_.io());
    const auto found = resolver.resolve(address_, std::to_string(port_), ec);
    if (ec || found.empty())
      return fail("join_token: cannot resolve " + address_ + ": " + ec.message());
    auto acceptor = std::make_unique<tcp::acceptor>(host_.io());
    const tcp::endpoint at = *found.begin();
    if (acceptor->open(at.protocol(), ec); !ec)
      acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(at, ec);
    if (!ec) acceptor->listen(kJoinConnections, ec);
    if (ec)
      return fail("join_token: cannot listen for joiners on TCP " + address_ + ":" +
                  std::to_string(port_) + ": " + ec.message());
    acceptor_ = std::move(acceptor);
    log_->info("listening for joiners on TCP {}:{}", address_, port_);
    accept();
    return {};
  }

  void accept() {
    acceptor_->async_accept([this, alive = alive_](const asio::error_code& ec, tcp::socket s) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec && connections_ < kJoinConnections) {
        ++connections_;
        std::make_shared<JoinExchange>(std::move(s), *this, alive_)->start();
      }
      accept();
    });
  }

  Host& host_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::string address_;
  std::uint16_t port_ = 0;
  int connections_ = 0;
  std::deque<Token> tokens_;
};

JoinExchange::~JoinExchange() {
  if (*alive_) owner_.connection_ended();
}

void JoinExchange::start() {
  timer_.expires_after(kExchangeTime);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->close();
  });
  frame_.resize(config::kJoinHead);
  asio::async_read(socket_, asio::buffer(frame_),
                   [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                     if (!ec) self->read_body();
                   });
}

void JoinExchange::read_body() {
  auto head = config::parse_join_head(frame_);
  if (!head || head->kind != config::JoinFrameKind::sealed)
    return send(config::refusal_frame(head ? "join: a joiner sends sealed frames"
                                           : head.error().message));
  frame_.resize(config::kJoinHead + head->body);
  asio::async_read(socket_, asio::buffer(frame_.data() + config::kJoinHead, head->body),
                   [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                     if (!ec && *self->alive_) self->owner_.serve(self, self->frame_);
                   });
}

void JoinExchange::send(config::Bytes frame) {
  out_ = std::move(frame);
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const asio::error_code&, std::size_t) {
                      self->close();
                    });
}

}  // namespace

std::unique_ptr<Service> make_join_service(Host& host) { return std::make_unique<JoinService>(host); }

}  // namespace vigil::daemon
