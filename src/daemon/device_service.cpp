// The quorum device service (device_service.h).
#include "daemon/device_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio.hpp>

#include "common/clock.h"
#include "daemon/system.h"
#include "daemon/witness_channel.h"
#include "quorum/witness.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

using asio::ip::tcp;
// corosync-qdevice retries a lost qnetd at once, then every few seconds; vigil doubles from half a
// second up to this.
constexpr Millis kFirstRetry = 500;
constexpr Millis kLongestRetry = 8000;

quorum::DeviceTieBreaker tie_breaker_of(const config::QuorumDevice& d) {
  if (d.tie_breaker == "highest") return quorum::DeviceTieBreaker::Highest;
  if (d.tie_breaker_node != 0) return quorum::DeviceTieBreaker::Node;
  return quorum::DeviceTieBreaker::Lowest;
}

class DeviceService final : public Service {
 public:
  DeviceService(Host& host, config::WitnessKeys keys)
      : host_(host),
        device_(*host.config().quorum.device),
        keys_(keys),
        log_(host.log("QUORUM")),
        client_({host.config().totem.cluster_name, host.node_id(), device_.timeout,
                 tie_breaker_of(device_), device_.tie_breaker_node},
                // The process's start: answers meant for an earlier vigild on this node are stale.
                static_cast<std::uint64_t>(wall_clock_ms())),
        retry_(host.io()),
        wake_(host.io()) {
    log_->info("quorum device: witness at {}:{}, timeout {} ms, {} vote(s)", device_.host,
               device_.port, device_.timeout, device_.votes);
    if (const auto v = host.view(); !v.members.empty()) members(v.members);
    connect();
  }
  ~DeviceService() override { *alive_ = false; }

  void view_changed(const ClusterView& view) override {
    if (view.members == members_) return;
    members(view.members);
    // Not stepped from inside the core's own output: the next turn of the loop does it.
    asio::post(host_.io(), [this, alive = alive_] {
      if (*alive) pump();
    });
  }

  void add_status(Json& status) const override {
    status["quorum_device"] = Json{{"model", "net"},
                                   {"host", device_.host},
                                   {"port", device_.port},
                                   {"votes", device_.votes},
                                   {"timeout_ms", device_.timeout},
                                   {"connected", channel_ != nullptr},
                                   {"cast", grant_.has_value()}};
  }

  void stop() override {
    stopped_ = true;
    retry_.cancel();
    wake_.cancel();
    if (channel_) channel_->close();
    channel_.reset();
  }

 private:
  void members(const std::vector<std::uint32_t>& ids) {
    members_ = ids;
    client_.membership(ids, transport::monotonic_now());
  }

  void connect() {
    if (stopped_) return;
    auto resolver = std::make_shared<tcp::resolver>(host_.io());
    resolver->async_resolve(device_.host, std::to_string(device_.port),
                            [this, alive = alive_, resolver](const asio::error_code& ec,
                                                             tcp::resolver::results_type found) {
                              if (!*alive || stopped_) return;
                              if (ec)
                                return lost("cannot resolve " + device_.host + ": " + ec.message());
                              auto socket = std::make_shared<tcp::socket>(host_.io());
                              asio::async_connect(*socket, found,
                                                  [this, alive, socket](const asio::error_code& e,
                                                                        const tcp::endpoint& peer) {
                                                    if (!*alive || stopped_) return;
                                                    if (e) return lost(e.message());
                                                    connected(std::move(*socket), peer);
                                                  });
                            });
  }

  void connected(tcp::socket socket, const tcp::endpoint& peer) {
    asio::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    channel_ = std::make_shared<WitnessChannel>(std::move(socket), peer);
    // A witness machine gone without a reset would hold the connection open for ever.
    channel_->expect_within(std::chrono::milliseconds(2 * device_.timeout));
    channel_->start(
        [this, alive = alive_](const config::Bytes& frame) {
          if (*alive) heard(frame);
        },
        [this, alive = alive_](const std::string& why) {
          if (!*alive) return;
          channel_.reset();
          lost(why);
        });
    log_->info("quorum device: connected to the witness at {}", channel_->peer());
    retry_after_ = kFirstRetry;
    client_.connected(true, transport::monotonic_now());
    pump();
  }

  void heard(const config::Bytes& frame) {
    auto text = config::open_frame(keys_.to_node, frame);
    auto answer = text ? quorum::decode_answer(*text) : Result<quorum::Answer>(text.error());
    if (!answer) {
      channel_->close();
      channel_.reset();
      return lost("an answer that does not open or decode (" + answer.error().message +
                  "): is the witness given this cluster's authkey?");
    }
    client_.answer(*answer, transport::monotonic_now());
    pump();
  }

  // The connection failed or ended: the client stops asking; the vote runs out on its own.
  void lost(const std::string& why) {
    client_.connected(false, transport::monotonic_now());
    if (!failing_ || retry_after_ == kFirstRetry)
      log_->warn("quorum device: the witness at {}:{} is unreachable ({}); retrying", device_.host,
                 device_.port, why);
    failing_ = true;
    retry_.expires_after(std::chrono::milliseconds(retry_after_));
    retry_after_ = std::min(retry_after_ * 2, kLongestRetry);
    retry_.async_wait([this, alive = alive_](const asio::error_code& ec) {
      if (!ec && *alive) connect();
    });
    pump();
  }

  // Sends the ask that is due, tells the core when the vote starts or stops counting, and wakes
  // when the client next needs it.
  void pump() {
    if (stopped_) return;
    const Millis now = transport::monotonic_now();
    if (channel_) {
      if (auto ask = client_.due(now))
        channel_->send(config::sealed_frame(keys_.to_witness, quorum::encode_ask(*ask)));
    }
    // Every new grant goes to the core, renewals included: it counts the vote until the grant's
    // end by itself, through a ring change too when the new ring inherits it (quorum.h).
    if (auto grant = client_.grant(now); grant != grant_) {
      // A grant that reached its end was not renewed in time: the witness is gone or slow, which
      // an operator wants to hear of before the next membership change needs its vote.
      if (grant_ && !grant && now >= grant_->until)
        log_->warn(
            "quorum device: the witness's vote ran out without a renewal ({} within the "
            "device timeout of {} ms); it no longer counts for this partition",
            channel_ ? "no answer" : "no connection to the witness", device_.timeout);
      else if (grant.has_value() != grant_.has_value())
        log_->info("quorum device: the witness's vote {} this partition",
                   grant ? "counts for" : "no longer counts for");
      grant_ = grant;
      host_.step(node::DeviceVote{std::move(grant), now});
    }
    if (channel_) failing_ = false;
    if (const auto at = client_.wake_at(now)) {
      wake_.expires_after(std::chrono::milliseconds(std::max<Millis>(*at - now, 0)));
      wake_.async_wait([this, alive = alive_](const asio::error_code& ec) {
        if (!ec && *alive) pump();
      });
    }
  }

  Host& host_;
  config::QuorumDevice device_;
  config::WitnessKeys keys_;
  std::shared_ptr<spdlog::logger> log_;
  quorum::DeviceClient client_;
  std::vector<std::uint32_t> members_;
  std::shared_ptr<WitnessChannel> channel_;
  asio::steady_timer retry_, wake_;
  Millis retry_after_ = kFirstRetry;
  bool failing_ = false;
  std::optional<quorum::DeviceGrant> grant_;  // the latest the core was given
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

Result<std::unique_ptr<Service>> make_device_service(Host& host) {
  // As corosync-qdevice: the witness tells the clusters it serves apart by their names.
  const auto& name = host.config().totem.cluster_name;
  if (name.empty() || name.size() > quorum::kMaxClusterName)
    return fail("quorum.device: totem.cluster_name must be set (1 to " +
                std::to_string(quorum::kMaxClusterName) +
                " bytes): the witness knows clusters by it");
  const auto path = config::authkey_path(host.config());
  auto key = read_bytes(path);
  if (!key) return fail("quorum.device: " + key.error().message);
  auto keys = config::witness_keys(*key);
  if (!keys) return fail("quorum.device: " + path + ": " + keys.error().message);
  return std::unique_ptr<Service>(std::make_unique<DeviceService>(host, *keys));
}

}  // namespace vigil::daemon
