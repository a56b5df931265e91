// `vigil witness` (witness_daemon.h). Guards: at most kWitnessConnections at once, more are closed
// at accept; a first frame within kFirstFrame; after an ask, silence for twice its validity ends
// the connection (the node asks every quarter of it); a frame no key opens, a malformed ask, an ask
// for another node or session, or one the witness refuses as a replay (quorum/witness.h: on this
// connection or any other) ends it too.
#include "daemon/witness_daemon.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <map>

#include "daemon/endpoint.h"
#include "daemon/system.h"
#include "daemon/witness_channel.h"
#include "quorum/witness.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

using asio::ip::tcp;
constexpr std::size_t kWitnessConnections = 1024;
constexpr auto kFirstFrame = std::chrono::seconds(10);

std::string members_text(const std::vector<quorum::NodeId>& ids) {
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

// Who a connection speaks for, once its first ask opened.
struct Speaker {
  bool known = false;
  std::uint32_t key = 0;
  std::string cluster;
  quorum::NodeId node = 0;
  std::uint64_t session = 0;
};

class WitnessServer {
 public:
  WitnessServer(tcp::acceptor acceptor, std::vector<std::string> key_files,
                std::vector<config::WitnessKeys> keys, std::shared_ptr<spdlog::logger> log)
      : acceptor_(std::move(acceptor)),
        key_files_(std::move(key_files)),
        keys_(std::move(keys)),
        log_(std::move(log)),
        witness_(transport::monotonic_now()) {}

  void accept() {
    acceptor_.async_accept(accepted_peer_, [this](const asio::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) admit(std::move(socket));
      accept();
    });
  }

  void stop() {
    asio::error_code ec;
    acceptor_.close(ec);
    for (auto& [raw, c] : connections_) c.channel->close();
    connections_.clear();
  }

 private:
  struct Connection {
    std::shared_ptr<WitnessChannel> channel;
    Speaker speaker;
  };

  void admit(tcp::socket socket) {
    if (connections_.size() >= kWitnessConnections) {
      log_->warn("connection refused: {} open already", kWitnessConnections);
      return;
    }
    auto channel = std::make_shared<WitnessChannel>(std::move(socket), accepted_peer_);
    WitnessChannel* raw = channel.get();
    connections_[raw] = Connection{channel, {}};
    channel->expect_within(kFirstFrame);
    channel->start([this, raw](const config::Bytes& frame) { heard(raw, frame); },
                   [this, raw](const std::string& why) { closed(raw, why); });
  }

  void end(WitnessChannel* raw, const std::string& why) {
    auto it = connections_.find(raw);
    if (it == connections_.end()) return;
    it->second.channel->close();
    closed(raw, why);
  }

  void closed(WitnessChannel* raw, const std::string& why) {
    auto it = connections_.find(raw);
    if (it == connections_.end()) return;
    const Speaker& s = it->second.speaker;
    if (s.known) {
      witness_.disconnected(quorum::ClusterId{s.key, s.cluster}, s.node, s.session);
      log_->info("cluster {}: node {} disconnected from {}: {}", s.cluster, s.node,
                 it->second.channel->peer(), why);
    } else {
      log_->warn("connection from {} ended before a valid ask: {}", it->second.channel->peer(),
                 why);
    }
    connections_.erase(it);
  }

  // The key that opens a connection's first frame is the cluster it speaks for from then on.
  std::optional<std::pair<std::uint32_t, config::Bytes>> open(const Speaker& s,
                                                              const config::Bytes& frame) const {
    for (std::uint32_t k = 0; k < keys_.size(); ++k) {
      if (s.known && k != s.key) continue;
      if (auto text = config::open_frame(keys_[k].to_witness, frame)) return std::pair{k, *text};
    }
    return std::nullopt;
  }

  void heard(WitnessChannel* raw, const config::Bytes& frame) {
    Connection& c = connections_.at(raw);
    Speaker& s = c.speaker;
    auto opened = open(s, frame);
    if (!opened) return end(raw, "a frame none of the keys opens (another cluster's authkey?)");
    auto ask = quorum::decode_ask(opened->second);
    if (!ask) return end(raw, ask.error().message);
    if (s.known && (ask->cluster != s.cluster || ask->node != s.node || ask->session != s.session))
      return end(raw, "an ask for another node or session on the same connection");
    if (!s.known) {
      s = Speaker{true, opened->first, ask->cluster, ask->node, ask->session};
      log_->info("cluster {}: node {} connected from {} (key {})", ask->cluster, ask->node,
                 c.channel->peer(), key_files_[s.key]);
    }
    const quorum::ClusterId id{s.key, s.cluster};
    const auto before = holder(id);
    const auto answer = witness_.ask(s.key, *ask, transport::monotonic_now());
    if (!answer) return end(raw, answer.error().message);
    if (const auto after = holder(id); after != before)
      log_->info("cluster {}: the vote goes to {}", s.cluster,
                 after ? "nodes " + members_text(*after) : std::string("no partition"));
    c.channel->expect_within(std::chrono::milliseconds(2 * ask->validity));
    c.channel->send(config::sealed_frame(keys_[s.key].to_node, quorum::encode_answer(*answer)));
  }

  std::optional<std::vector<quorum::NodeId>> holder(const quorum::ClusterId& id) const {
    auto it = witness_.clusters().find(id);
    return it == witness_.clusters().end() ? std::nullopt : it->second.holder;
  }

  tcp::acceptor acceptor_;
  tcp::endpoint accepted_peer_;  // filled by each accept
  std::vector<std::string> key_files_;
  std::vector<config::WitnessKeys> keys_;
  std::shared_ptr<spdlog::logger> log_;
  quorum::Witness witness_;
  std::map<WitnessChannel*, Connection> connections_;
};

}  // namespace

int run_witness(const WitnessOptions& options, std::ostream& out) {
  auto log = std::make_shared<spdlog::logger>(
      "WITNESS", std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true));
  log->set_pattern("%Y-%m-%d %H:%M:%S.%e [WITNESS] %l: %v");
  const auto stop_with = [&](const std::string& why) {
    log->error("{}", why);
    return 1;
  };
  std::vector<config::WitnessKeys> keys;
  for (const auto& file : options.keys) {
    auto bytes = read_bytes(file);
    if (!bytes) return stop_with("witness --key " + file + ": " + bytes.error().message);
    auto k = config::witness_keys(*bytes);
    if (!k) return stop_with("witness --key " + file + ": " + k.error().message);
    keys.push_back(*k);
  }
  if (keys.empty()) return stop_with("witness: no --key given (one per cluster's authkey)");
  auto endpoint = parse_endpoint("witness --listen", options.listen, kWitnessPort);
  if (!endpoint) return stop_with(endpoint.error().message);
  asio::io_context io;
  tcp::acceptor acceptor(io);
  asio::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return stop_with("witness --listen " + options.listen + ": " + ec.message());
  WitnessServer server(std::move(acceptor), options.keys, std::move(keys), log);
  server.accept();
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const asio::error_code& e, int sig) {
    if (e) return;
    log->info("stopping on signal {}", sig);
    server.stop();
    io.stop();
  });
  log->info("listening on TCP {}:{} for {} cluster key(s)", endpoint->address().to_string(),
            endpoint->port(), options.keys.size());
  io.run();
  log->flush();
  return 0;
}

}  // namespace vigil::daemon
