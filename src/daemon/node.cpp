// The Daemon: one node's loop. It feeds the node core (src/node: the Ring, votequorum and the
// process groups) what the links, timers and the layers above bring, and carries out what it
// returns; the control socket, signals and files stay here.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "config/config.h"
#include "control/control.h"
#include "control/group_events.h"
#include "control/request.h"
#include "daemon/cib_access.h"
#include "common/clock.h"
#include "daemon/daemon.h"
#include "daemon/lease_settings.h"
#include "daemon/logging.h"
#include "daemon/service.h"
#include "daemon/system.h"
#include "daemon/watchdog.h"
#include "metrics/timings.h"
#include "node/node.h"
#include "node/nodelist.h"
#include "quorum/quorum.h"
#include "totem/totem.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

struct Identity {
  transport::NodeId id = 0;
  std::string name;
  std::vector<std::string> addresses;  // by link
};

std::string name_of(const config::Node& n) {
  return n.name.empty() ? n.ring_addr[0] : n.name;
}

// A node's ring addresses, by link, up to the first link it has none on.
std::vector<std::string> addresses_of(const config::Node& n) {
  std::vector<std::string> out;
  for (const auto& a : n.ring_addr) {
    if (a.empty()) break;
    out.push_back(a);
  }
  return out;
}

// The nodelist as the node core keeps it (node/nodelist.h), and back.
std::vector<node::ListedNode> listed(const config::ClusterConfig& cfg) {
  std::vector<node::ListedNode> out;
  for (const auto& n : cfg.nodelist)
    out.push_back(node::ListedNode{n.nodeid, n.name, addresses_of(n), n.quorum_votes});
  return out;
}

config::Node config_node(const node::ListedNode& l) {
  config::Node n;
  n.nodeid = l.id;
  n.name = l.name;
  n.quorum_votes = l.votes;
  for (std::size_t i = 0; i < l.addresses.size() && i < config::kMaxLinks; ++i)
    n.ring_addr[i] = l.addresses[i];
  return n;
}

Result<Identity> identify(const config::ClusterConfig& cfg, const std::string& wanted) {
  if (cfg.nodelist.empty()) {
    // Multicast without a nodelist: the address in bindnetaddr's network, and the node id from it.
    if (cfg.totem.interfaces.empty() || cfg.totem.interfaces[0].bindnetaddr.empty()) {
      return fail(cfg.origin +
                  ": no nodelist and no totem.interface.bindnetaddr: cannot tell which address is "
                  "this node's");
    }
    Identity me;
    for (const auto& itf : cfg.totem.interfaces) {
      auto local = address_in_network(itf.bindnetaddr);
      if (!local.ok())
        return fail(cfg.origin + ":" + std::to_string(itf.line) + ": " + local.error().message);
      me.addresses.push_back(*local);
    }
    if (!wanted.empty() && std::all_of(wanted.begin(), wanted.end(), ::isdigit)) {
      me.id = static_cast<transport::NodeId>(std::stoul(wanted));
    } else {
      auto id = config::nodeid_from_ipv4(me.addresses[0], cfg.totem.clear_node_high_bit);
      if (!id.ok()) return id.error();
      me.id = *id;
    }
    // The guide's `--node node1`: without a nodelist the name is what the operator calls it.
    const bool named = !wanted.empty() && !std::all_of(wanted.begin(), wanted.end(), ::isdigit);
    me.name = named ? wanted : me.addresses[0];
    return me;
  }
  const auto local = local_addresses();
  for (const auto& n : cfg.nodelist) {
    bool match = false;
    if (!wanted.empty()) {
      match = n.name == wanted || std::to_string(n.nodeid) == wanted || n.ring_addr[0] == wanted;
    } else {
      for (const auto& a : n.ring_addr) {
        if (!a.empty() && std::find(local.begin(), local.end(), a) != local.end()) match = true;
      }
    }
    if (!match) continue;
    return Identity{n.nodeid, name_of(n), addresses_of(n)};
  }
  if (!wanted.empty())
    return fail(cfg.origin + ": no node in the nodelist is named, numbered or addressed '" +
                wanted + "'");
  return fail(
      cfg.origin +
      ": no nodelist entry has an address of this machine; say which node this is with --node");
}

std::uint16_t link_port(const config::ClusterConfig& cfg, unsigned link) {
  for (const auto& itf : cfg.totem.interfaces) {
    if (itf.linknumber == link) return itf.mcastport;
  }
  return static_cast<std::uint16_t>(5405 + link);
}

Result<asio::ip::address> resolve(const std::string& host, int line, const std::string& origin) {
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return address;
  asio::io_context io;
  asio::ip::udp::resolver resolver(io);
  auto found = resolver.resolve(host, "", ec);
  if (ec || found.empty()) {
    return fail(origin + ":" + std::to_string(line) + ": cannot resolve '" + host + "'");
  }
  return found.begin()->endpoint().address();
}

// Where unicast reaches node `n` on each of this node's `links`.
Result<transport::PeerSpec> peer_spec(const config::ClusterConfig& cfg, const config::Node& n,
                                      std::size_t links) {
  transport::PeerSpec peer{n.nodeid, {}};
  for (unsigned l = 0; l < links; ++l) {
    if (n.ring_addr[l].empty()) {
      peer.links.emplace_back();
      continue;
    }
    auto a = resolve(n.ring_addr[l], n.line, cfg.origin);
    if (!a.ok()) return a.error();
    peer.links.emplace_back(asio::ip::udp::endpoint(*a, link_port(cfg, l)));
  }
  return peer;
}

Result<transport::LinkSettings> link_settings(const config::ClusterConfig& cfg,
                                              const Identity& me) {
  transport::LinkSettings s;
  s.self = me.id;
  s.session = session_number();
  const unsigned ip_overhead = 28;  // IPv4 + UDP; IPv6 links lose 20 more bytes of payload
  s.max_datagram = std::min<std::size_t>(cfg.totem.netmtu, 1500) - ip_overhead - 20;
  s.link_timeout = std::max<Millis>(cfg.totem.token_retransmit, 200);
  // A killed peer's host refuses within this of the port closing, whatever the ring sends.
  s.probe_interval = std::clamp<Millis>(cfg.totem.token / 10, 20, 100);
  // knet's defaults for its pings, with knet_pong_count 2.
  s.ping_interval = std::max<Millis>(cfg.totem.runtime_token / 4, 10);
  s.ping_timeout = std::max<Millis>(cfg.totem.runtime_token / 2, 20);
  const bool multicast = cfg.totem.transport == config::Transport::udp;
  for (unsigned l = 0; l < me.addresses.size(); ++l) {
    auto local = resolve(me.addresses[l], 0, cfg.origin);
    if (!local.ok()) return local.error();
    transport::LinkSpec spec{*local, link_port(cfg, l), std::nullopt, 1};
    if (multicast) {
      const auto* itf = l < cfg.totem.interfaces.size() ? &cfg.totem.interfaces[l] : nullptr;
      const std::string group = itf && !itf->mcastaddr.empty()
                                    ? itf->mcastaddr
                                    : config::cluster_mcastaddr(cfg.totem.cluster_name, l);
      auto g = resolve(group, itf ? itf->line : 0, cfg.origin);
      if (!g.ok()) return g.error();
      spec.multicast_group = *g;
      spec.ttl = itf ? itf->ttl : 1;
    }
    s.links.push_back(spec);
  }
  if (!multicast) {
    for (const auto& n : cfg.nodelist) {
      if (n.nodeid == me.id) continue;
      auto peer = peer_spec(cfg, n, s.links.size());
      if (!peer.ok()) return peer.error();
      s.peers.push_back(std::move(*peer));
    }
  }
  if (config::authkey_required(cfg)) {
    const auto path = config::authkey_path(cfg);
    if (auto checked = config::check_authkey(path); !checked.ok()) return checked.error();
    auto bytes = read_bytes(path);
    if (!bytes.ok()) return bytes.error();
    auto key = transport::FrameKey::derive(*bytes);
    if (!key.ok()) return fail(path + ": " + key.error().message);
    s.key = *key;
  }
  return s;
}

totem::TotemSettings totem_settings(const config::Totem& t) {
  totem::TotemSettings s;
  s.token = t.runtime_token;
  s.token_retransmits_before_loss_const = static_cast<int>(t.token_retransmits_before_loss_const);
  s.token_retransmit = t.token_retransmit;
  s.hold = t.hold;
  s.join = t.join;
  s.consensus = t.consensus;
  s.merge = t.merge;
  s.send_join = t.send_join;
  s.max_messages = static_cast<int>(t.max_messages);
  s.window_size = static_cast<int>(t.window_size);
  return s.resolved();
}

Result<std::optional<quorum::Votequorum>> make_quorum(const config::ClusterConfig& cfg) {
  if (cfg.quorum.provider.empty()) return std::optional<quorum::Votequorum>{};
  quorum::Settings s;
  for (const auto& n : cfg.nodelist) s.nodelist.push_back({n.nodeid, n.quorum_votes});
  if (cfg.quorum.expected_votes_written) s.expected_votes = cfg.quorum.expected_votes;
  s.two_node = cfg.quorum.two_node;
  s.wait_for_all = cfg.quorum.wait_for_all;
  s.last_man_standing = cfg.quorum.last_man_standing;
  s.last_man_standing_window = cfg.quorum.last_man_standing_window;
  s.auto_tie_breaker = cfg.quorum.auto_tie_breaker;
  if (cfg.quorum.device) s.device_votes = cfg.quorum.device->votes;
  auto vq = quorum::Votequorum::create(s);
  if (!vq.ok()) return fail(cfg.origin + ": " + vq.error().message);
  return std::optional<quorum::Votequorum>(std::move(*vq));
}

}  // namespace

class Daemon final : public Groups, public Host {
 public:
  Daemon(Options options, std::vector<PidLock> locks, config::ClusterConfig cfg, Identity me,
         Logs logs)
      : options_(std::move(options)),
        locks_(std::move(locks)),
        cfg_(std::move(cfg)),
        me_(std::move(me)),
        logs_(std::move(logs)),
        main_(logs_.get("MAIN")),
        totem_log_(logs_.get("TOTEM")),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        timers_{asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_),
                asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_),
                asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_),
                asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_)} {}

  ~Daemon() override { *alive_ = false; }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Result<void> open() {
    auto vq = make_quorum(cfg_);
    if (!vq.ok()) return vq.error();
    if (!cfg_.resources.watchdog_device.empty()) {
      const Millis grace =
          node::LeaseTimes::of(totem_settings(cfg_.totem).resolved(),
                               armed_at_most(cfg_.resources.watchdog_timeout))
              .refused_wait;
      main_->info("waiting {} ms before opening watchdog {}: a vigild killed on this host may "
                  "have left it armed, and its reset must come (lease.h, Rule 5)",
                  grace, cfg_.resources.watchdog_device);
      std::this_thread::sleep_for(std::chrono::milliseconds(grace));
      auto opened = Watchdog::open(cfg_.resources.watchdog_device, cfg_.resources.watchdog_timeout);
      if (!opened.ok()) return opened.error();
      watchdog_.emplace(std::move(*opened));
      watchdog_fed_ = transport::monotonic_now();  // opening arms the timer as a feed does
    }
    node_.emplace(
        node::Settings{me_.id, totem_settings(cfg_.totem), std::move(*vq), load_ring_seq(),
                       node::CibSettings{static_cast<std::uint32_t>(::getpid()), me_.name,
                                         load_cib(options_, *logs_.get("CIB"))},
                       watchdog_ ? std::optional(watchdog_->timeout()) : std::nullopt,
                       listed(cfg_), controller_settings()},
        Rng(session_number() ^ me_.id));
    auto settings = link_settings(cfg_, me_);
    if (!settings.ok()) return settings.error();
    sealed_ = settings->key.has_value();
    auto links = transport::Links::open(
        io_, std::move(*settings),
        [this](transport::Message&& m, unsigned) {
          feed(node::FrameReceived{m.sender, m.data, transport::monotonic_now()});
        },
        [this](transport::NodeId peer, const asio::ip::udp::endpoint& where) {
          refused(peer, where);
        },
        [this](const transport::Unauthentic& source, std::uint64_t suppressed) {
          unauthentic(source, suppressed);
        });
    if (!links.ok()) return links.error();
    links_ = std::move(*links);
    auto server = control::Server::open(
        io_, control::socket_in(options_.run_dir),
        [this](const control::Json& req, const control::PeerCredentials& peer,
               control::Server::Reply reply) { answer(req, peer, std::move(reply)); },
        [this, alive = alive_](const control::PeerCredentials& peer) {
          if (*alive) connection_closed(peer);
        });
    if (!server.ok()) return server.error();
    control_ = std::move(*server);
    auto services = make_services(*this);
    if (!services) return services.error();
    services_ = std::move(*services);
    cib_ = services_.cib;
    controller_ = services_.controller;
    signals_.async_wait([this](const asio::error_code& ec, int sig) { on_signal(ec, sig); });
    main_->info("vigild for node {} (id {}) starting: {} transport, {} link(s), frames {}",
                me_.name, me_.id, config::to_string(cfg_.totem.transport), me_.addresses.size(),
                sealed_ ? "sealed" : "NOT sealed");
    if (const auto& lease = node_->lease())
      main_->info("watchdog {} armed with {} ms; lease: fed while a member of a quorate ring, lost "
                  "after {} ms without a token rotation; a lost node counts as reset {} ms after "
                  "the ring last vouched for it (margin {} ms)",
                  watchdog_->device().path, watchdog_->timeout(), lease->times().span,
                  lease->times().wait, lease->times().margin());
    feed(node::Start{transport::monotonic_now()});
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()) +
                   "\nSTATUS=gathering a membership");
    return {};
  }

  void post(std::function<void()> work) { asio::post(io_, std::move(work)); }
  void stop() {
    asio::post(io_, [this] { shutdown(); });
  }

  // An orderly stop disarms the watchdog (the magic close), unless the lease was lost: the others
  // may count this node as reset already, so the watchdog must reset it.
  void disarm() {
    if (!watchdog_ || !node_) return;
    if (!node_->view().leased) {
      main_->warn("watchdog left armed: this node's lease was lost, so it is reset");
      return;
    }
    if (auto closed = watchdog_->close(); !closed.ok()) {
      main_->error("{}", closed.error().message);
      return;
    }
    main_->info("watchdog disarmed (orderly stop)");
  }

  int run() {
    io_.run();
    main_->info("vigild stopped");
    logs_.flush();
    return 0;
  }

  // ---- Host, for the services
  asio::io_context& io() override { return io_; }
  Groups& groups() override { return *this; }
  const Options& options() const override { return options_; }
  const config::ClusterConfig& config() const override { return cfg_; }
  std::uint32_t node_id() const override { return me_.id; }
  const std::string& node_name() const override { return me_.name; }
  std::shared_ptr<spdlog::logger> log(const std::string& subsystem) override {
    return logs_.get(subsystem);
  }
  ClusterView view() const override { return cluster_view(node_->view()); }
  const node::Node& core() const override { return *node_; }
  void step(const node::Input& input) override { feed(input); }
  metrics::Timings& timings() override { return timings_; }
  Millis last_heard(std::uint32_t node) const override { return links_->last_heard(node); }

  // ---- Groups, for the layers inside vigild
  // The listener is in place before the step's output is carried out: on a one-node ring the
  // join's own change is delivered within the step.
  Result<void> join(const std::string& group, std::uint32_t pid, Listener listener) override {
    auto out = stepped(node::GroupJoin{group, pid, transport::monotonic_now()});
    if (out.refused) return *out.refused;
    listeners_[{group, pid}] = std::move(listener);
    apply(std::move(out));
    return {};
  }
  Result<void> send(const std::string& group, std::uint32_t pid,
                    std::span<const std::uint8_t> data) override {
    return request(node::GroupSend{group, pid, data, transport::monotonic_now()});
  }
  Result<void> leave(const std::string& group, std::uint32_t pid) override {
    return request(
        node::GroupLeave{group, pid, groups::Reason::Leave, transport::monotonic_now()});
  }

 private:
  node::ControllerSettings controller_settings() const {
    const Millis wall = wall_clock_ms();
    return node::ControllerSettings{
        static_cast<std::uint32_t>(::getpid()), me_.name,
        static_cast<std::uint64_t>(wall) ^ static_cast<std::uint64_t>(::getpid()),
        wall - transport::monotonic_now(), watchdog_config(cfg_), controller::Settings{}};
  }

  std::uint64_t load_ring_seq() const {
    auto bytes = read_bytes(options_.state_dir + "/ring_seq");
    if (!bytes.ok()) return 0;
    try {
      return std::stoull(std::string(bytes->begin(), bytes->end()));
    } catch (const std::exception&) {
      return 0;
    }
  }

  static ClusterView cluster_view(const node::View& v) {
    return ClusterView{v.members, v.quorate, node::ring_text(v.ring), v.leased, v.reset};
  }

  Result<void> request(const node::Input& input) {
    auto out = stepped(input);
    if (out.refused) return *out.refused;
    apply(std::move(out));
    return {};
  }

  // ---- the node core
  // The peer's host answered our datagram with "port unreachable": its vigild is gone.
  void refused(transport::NodeId peer, const asio::ip::udp::endpoint& where) {
    if (stopping_) return;
    feed(node::PeerUnreachable{peer,
                               fmt::format("{}:{}", where.address().to_string(), where.port()),
                               transport::monotonic_now()});
  }

  // What most likely makes a source's frames fail here, in the configuration's words.
  std::string unauthentic_cause(const transport::Unauthentic& source) const {
    if (sealed_ && source.sealed) {
      return "sealed with a different authkey? (this node's is " + config::authkey_path(cfg_) + ")";
    }
    if (sealed_) return "not sealed while this node seals: crypto_cipher/crypto_hash off there?";
    return "sealed while this node has crypto off: crypto_cipher/crypto_hash set there?";
  }

  // A node with another authkey forms a partition of its own and would say nothing else.
  void unauthentic(const transport::Unauthentic& source, std::uint64_t suppressed) {
    totem_log_->warn(
        "frames from {}:{} (claiming node {}) fail authentication and are dropped: {}{}",
        source.from.address().to_string(), source.from.port(), source.claimed,
        unauthentic_cause(source),
        suppressed == 0 ? "" : fmt::format(" ({} more since the last report)", suppressed));
  }

  void feed(const node::Input& input) { apply(stepped(input)); }

  // Every step of the core goes through here, timed on the shell's clock: the step in which the
  // controller started a transition is the one that ran the scheduler (the core cannot time it).
  node::Output stepped(const node::Input& input) {
    const auto before = transitions();
    const auto rotations = node_->ring().stats().token_rotations;
    const auto start = std::chrono::steady_clock::now();
    auto out = node_->step(input);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const auto after = transitions();
    timings_.step(after.started != before.started, after.ended != before.ended, took.count(),
                  transport::monotonic_now());
    const auto& ring = node_->ring().stats();
    if (ring.token_rotations != rotations) timings_.token_rotated(ring.last_token_rotation);
    return out;
  }
  controller::Controller::TransitionCounts transitions() const {
    const auto* part = node_->controller();
    return part == nullptr ? controller::Controller::TransitionCounts{}
                           : part->core().transition_counts();
  }

  // Carries out an Output in node.h's order. A listener may step the node again; that step's
  // notices and replies queue behind the ones being delivered, so every listener sees them in order.
  void apply(node::Output out) {
    if (out.persist_ring_seq) {
      auto saved = write_text(options_.state_dir + "/ring_seq",
                              std::to_string(*out.persist_ring_seq) + "\n");
      if (!saved.ok()) main_->warn("{}", saved.error().message);
    }
    if (out.persist_cib && cib_) cib_->persist(std::move(*out.persist_cib));
    for (const auto& a : out.nodelist_changes) nodelist_applied(a);
    for (auto& r : out.nodelist_replies) nodelist_answer(std::move(r));
    for (const auto& f : out.frames) {
      auto sent = f.to ? links_->send_to(*f.to, f.bytes) : links_->send_all(f.bytes);
      if (!sent.ok()) totem_log_->debug("{}", sent.error().message);
    }
    if (out.feed_watchdog && watchdog_) {
      if (auto fed = watchdog_->keepalive(); !fed.ok()) {
        main_->error("{}", fed.error().message);
      } else {
        watchdog_fed_ = transport::monotonic_now();
      }
    }
    for (const auto& t : out.timers) arm(t);
    for (const auto& l : out.logs) write_log(l);
    for (auto& n : out.notices) deliveries_.emplace_back(std::move(n));
    for (auto& r : out.replies) deliveries_.emplace_back(std::move(r));
    if (controller_) controller_->agents(out);
    if (notifying_) return;
    notifying_ = true;
    while (!deliveries_.empty()) {
      auto next = std::move(deliveries_.front());
      deliveries_.pop_front();
      if (auto* reply = std::get_if<node::CibReply>(&next)) {
        if (cib_) cib_->replied(std::move(*reply));
      } else {
        notify(std::get<node::Notice>(next));
      }
    }
    notifying_ = false;
  }

  void write_log(const node::LogEvent& l) {
    static constexpr spdlog::level::level_enum kLevels[] = {
        spdlog::level::debug, spdlog::level::info, spdlog::level::warn, spdlog::level::err};
    logs_.get(node::to_string(l.subsystem))->log(kLevels[static_cast<int>(l.level)], "{}", l.text);
  }

  void notify(const node::Notice& n) {
    if (const auto* cib = std::get_if<node::CibChanged>(&n)) {
      if (cib_) cib_->changed(*cib);
      return;
    }
    if (const auto* change = std::get_if<node::ViewChange>(&n)) {
      const auto v = cluster_view(change->view);
      for (auto& s : services_.all) s->view_changed(v);
      if (change->new_ring)
        notify_systemd("STATUS=member of ring " + v.ring_id + " with " +
                       std::to_string(v.members.size()) + " node(s)");
      return;
    }
    const auto& g = std::get<node::GroupNotice>(n);
    const auto key = std::pair{std::visit([](const auto& e) { return e.group; }, g.event), g.pid};
    auto it = listeners_.find(key);
    if (it == listeners_.end()) return;
    auto listener = it->second;  // the call may join or leave, changing listeners_
    if (g.last) listeners_.erase(it);
    listener(g.event);
  }

  void arm(const node::TimerCommand& t) {
    auto& timer = timers_[static_cast<std::size_t>(t.timer)];
    timer.cancel();
    if (!t.deadline) return;
    timer.expires_at(asio::steady_timer::time_point(std::chrono::milliseconds(*t.deadline)));
    timer.async_wait([this, which = t.timer](const asio::error_code& ec) {
      if (ec || stopping_) return;
      if (which == node::Timer::Controller) {
        feed(node::ControllerTick{transport::monotonic_now(), wall_clock_ms()});
      } else {
        feed(node::TimerFired{which, transport::monotonic_now()});
      }
    });
  }

  // ---- signals and shutdown
  void on_signal(const asio::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      auto reopened = logs_.reopen();
      if (reopened.ok()) {
        main_->info("logs reopened on SIGHUP");
      } else {
        main_->error("{}", reopened.error().message);
      }
      signals_.async_wait([this](const asio::error_code& e, int s) { on_signal(e, s); });
      return;
    }
    main_->info("signal {} received: {}", sig,
                handing_over_ ? "leaving the ring now" : "handing over, then leaving the ring");
    signals_.async_wait([this](const asio::error_code& e, int s) { on_signal(e, s); });
    shutdown();
  }

  // An orderly stop, as pacemakerd's: the services hand over first (the controller has the DC
  // move this node's resources away), then the node leaves the ring. Asked again, it leaves now.
  void shutdown() {
    if (stopping_) return;
    if (handing_over_) return leave();
    handing_over_ = true;
    notify_systemd("STOPPING=1");
    auto pending = std::make_shared<std::size_t>(services_.all.size());
    if (*pending == 0) return leave();
    for (auto& s : services_.all) {
      s->hand_over([this, pending] {
        if (--*pending == 0) leave();
      });
    }
  }

  void leave() {
    if (stopping_) return;
    for (auto& s : services_.all) s->stop();
    feed(node::Leave{transport::monotonic_now()});
    if (cib_) cib_->flush();
    stopping_ = true;
    disarm();
    for (auto& t : timers_) t.cancel();
    signals_.cancel();
    // Let the control socket's reply go out before the loop ends.
    asio::post(io_, [this] {
      cib_ = nullptr;
      controller_ = nullptr;
      services_.all.clear();
      control_.reset();
      links_.reset();
      io_.stop();
    });
  }

  // ---- the control socket
  // The request is decoded here, at the socket: a malformed one is answered with the error and
  // never reaches a handler.
  void answer(const control::Json& body, const control::PeerCredentials& peer,
              control::Server::Reply reply) {
    auto req = control::decode_request(body);
    if (!req.ok()) return reply(req.error());
    if (std::holds_alternative<control::NodelistAdd>(*req) ||
        std::holds_alternative<control::NodelistRemove>(*req))
      return propose(*req, peer, std::move(reply));
    if (const auto* read = std::get_if<control::CpgRead>(&*req))
      return group_read(*read, peer, std::move(reply));
    const std::string command(control::command_of(*req));
    for (auto& s : services_.all) {
      const auto owned = s->commands();
      if (std::find(owned.begin(), owned.end(), command) != owned.end()) {
        s->answer(*req, peer, std::move(reply));
        return;
      }
    }
    reply(answer_here(*req, peer));
  }

  Result<control::Json> answer_here(const control::Request& req,
                                    const control::PeerCredentials& peer) {
    if (std::holds_alternative<control::Ping>(req))
      return control::Json{
          {"ok", true},
          {"versions", control::Json::array({control::kVersion, control::kPayloadVersion})}};
    if (std::holds_alternative<control::StatusQuery>(req)) return status();
    if (std::holds_alternative<control::Shutdown>(req)) {
      main_->info("shutdown requested by pid {} (uid {})", peer.pid, peer.uid);
      asio::post(io_, [this] { shutdown(); });
      return control::Json{{"ok", true}};
    }
    if (const auto* join = std::get_if<control::CpgJoin>(&req)) return group_join(*join, peer);
    if (const auto* left = std::get_if<control::CpgLeave>(&req))
      return group_member(left->group, "cpg_leave", peer, [&](Client& client) -> Result<void> {
        std::erase(client.groups, left->group);
        return leave(left->group, client.pid);
      });
    if (const auto* sent = std::get_if<control::CpgSend>(&req)) return group_send(*sent, peer);
    // A service's command while the services are gone (vigild is stopping).
    return fail(std::string(control::command_of(req)) + ": vigild is stopping");
  }

  // ---- the nodelist: a change asked here goes round the ring; its client is answered when it
  // comes back in order (node/nodelist.h), and every member applies it to its links and its file.
  void propose(const control::Request& req, const control::PeerCredentials& peer,
               control::Server::Reply reply) override {
    auto change = nodelist_change(req);
    if (!change.ok()) return reply(change.error());
    change->ticket = ++nodelist_ticket_;
    main_->info("{} of {} asked by pid {} (uid {})", control::command_of(req),
                node::describe(change->node), peer.pid, peer.uid);
    nodelist_waiting_[change->ticket] = std::move(reply);
    feed(node::NodelistPropose{std::move(*change), transport::monotonic_now()});
  }

  Result<node::NodelistChange> nodelist_change(const control::Request& req) const {
    node::NodelistChange change;
    if (const auto* remove = std::get_if<control::NodelistRemove>(&req)) {
      auto found = node::find_listed(node_->nodelist(), remove->node);
      if (!found.ok()) return fail("nodelist_remove: " + found.error().message);
      change.kind = node::NodelistChange::Kind::Remove;
      change.node = std::move(*found);
      return change;
    }
    const auto& add = std::get<control::NodelistAdd>(req);
    for (const auto& a : add.addresses) {
      if (!resolve(a, 0, "").ok()) return fail("nodelist_add: cannot resolve '" + a + "'");
    }
    change.node = node::ListedNode{add.nodeid != 0 ? add.nodeid : node::free_id(node_->nodelist()),
                                   add.name, add.addresses, 1};
    return change;
  }

  void nodelist_applied(const node::NodelistApplied& a) {
    const auto& n = a.change.node;
    const bool added = a.change.kind == node::NodelistChange::Kind::Add;
    auto done = added ? peer_added(n) : peer_removed(n.id);
    if (!done.ok()) main_->error("nodelist: {}", done.error().message);
    if (a.own) nodelist_trouble_[a.change.ticket] = done.ok() ? "" : done.error().message;
  }

  Result<void> peer_added(const node::ListedNode& n) {
    const auto entry = config_node(n);
    if (n.id != me_.id && cfg_.totem.transport != config::Transport::udp) {
      auto peer = peer_spec(cfg_, entry, me_.addresses.size());
      if (!peer.ok()) return peer.error();
      links_->add_peer(*peer);
    }
    return rewrite_config(config::with_node_added(file_text(), cfg_.origin, entry));
  }

  Result<void> peer_removed(std::uint32_t id) {
    links_->remove_peer(id);
    return rewrite_config(config::with_node_removed(file_text(), cfg_.origin, id));
  }

  std::string file_text() const {
    auto bytes = read_bytes(cfg_.origin);
    return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
  }

  // The edited text replaces the file (temporary, fsync, rename), so a restart keeps the change.
  Result<void> rewrite_config(Result<std::string> text) {
    if (!text.ok()) return text.error();
    auto cfg = config::parse_config(*text, cfg_.origin);
    if (!cfg.ok()) return cfg.error();
    if (auto written = write_text(cfg_.origin, *text); !written.ok()) return written;
    cfg_ = std::move(*cfg);
    main_->info("{} rewritten: {} node(s) in its nodelist", cfg_.origin, cfg_.nodelist.size());
    return {};
  }

  void nodelist_answer(node::NodelistReply r) {
    auto it = nodelist_waiting_.find(r.ticket);
    if (it == nodelist_waiting_.end()) return;
    auto reply = std::move(it->second);
    nodelist_waiting_.erase(it);
    const auto trouble = std::move(nodelist_trouble_[r.ticket]);
    nodelist_trouble_.erase(r.ticket);
    if (!r.result.ok()) return reply(r.result.error());
    if (!trouble.empty())
      return reply(fail("the change is made in the running cluster, but not here: " + trouble));
    control::Json nodes = control::Json::array();
    for (const auto& n : node_->nodelist())
      nodes.push_back(control::Json{{"id", n.id}, {"name", n.name}, {"addresses", n.addresses}});
    control::Json out{{"ok", true}, {"nodelist", nodes}, {"config", cfg_.origin}};
    if (const auto& vq = node_->quorum()) out["expected_votes"] = vq->status().expected_votes;
    reply(out);
  }

  // ---- process groups over the control socket: a connection's memberships last as long as it
  // does; its events wait in a bounded queue (control/group_events.h) until it reads them, and a
  // read that found none waits for the next.
  struct Client {
    std::uint32_t pid = 0;
    std::vector<std::string> groups;
    control::GroupEvents events;
    std::optional<control::Server::Reply> reader;  // a cpg_read waiting for an event
    std::unique_ptr<asio::steady_timer> reader_timer;
    std::uint64_t reads = 0;  // which read the timer is for: an expiry queued late wakes none
    bool wake_posted = false;
  };

  Client& client_of(const control::PeerCredentials& peer) {
    Client& client = clients_[peer.connection];
    client.pid = static_cast<std::uint32_t>(peer.pid);
    return client;
  }

  void group_read(const control::CpgRead& read, const control::PeerCredentials& peer,
                  control::Server::Reply reply) {
    Client& client = client_of(peer);
    if (!client.events.empty() || read.wait == 0) return reply(client.events.take());
    // The socket answers a connection's requests in order: no second read while one waits.
    VIGIL_ASSERT(!client.reader);
    client.reader = std::move(reply);
    if (!client.reader_timer) client.reader_timer = std::make_unique<asio::steady_timer>(io_);
    client.reader_timer->expires_after(std::chrono::milliseconds(read.wait));
    client.reader_timer->async_wait([this, alive = alive_, connection = peer.connection,
                                     serial = ++client.reads](const asio::error_code& ec) {
      if (ec || !*alive) return;
      auto it = clients_.find(connection);
      if (it != clients_.end() && it->second.reads == serial) wake(it->second);
    });
  }

  // Answers the waiting read with what is queued. Posted from a delivery rather than called
  // within it: the step that delivered is still being carried out, and the events of the same
  // step go in one answer.
  void wake(Client& client) {
    client.wake_posted = false;
    if (!client.reader) return;
    auto reply = std::move(*client.reader);
    client.reader.reset();
    ++client.reads;
    client.reader_timer->cancel();
    reply(client.events.take());
  }

  void queue_event(std::uint64_t connection, const groups::GroupEvent& e) {
    auto it = clients_.find(connection);
    if (it == clients_.end()) return;
    Client& client = it->second;
    client.events.push(e);
    if (!client.reader || client.wake_posted) return;
    client.wake_posted = true;
    asio::post(io_, [this, alive = alive_, connection] {
      if (!*alive) return;
      auto found = clients_.find(connection);
      if (found != clients_.end()) wake(found->second);
    });
  }

  // Flow control: a connection that has not read half of what its queue holds sends no more
  // until it reads (libcpg's CS_ERR_TRY_AGAIN), so it cannot push its own events out.
  Result<control::Json> group_send(const control::CpgSend& req,
                                   const control::PeerCredentials& peer) {
    if (client_of(peer).events.congested())
      return control::Json{{"ok", false},
                           {"code", "try_again"},
                           {"error", "cpg_send: this connection's event queue is over half "
                                     "full; read it, then send again"}};
    return group_member(req.group, "cpg_send", peer, [&](Client& client) {
      return send(req.group, client.pid, req.data);
    });
  }

  Result<control::Json> group_join(const control::CpgJoin& req,
                                   const control::PeerCredentials& peer) {
    Client& client = client_of(peer);
    const bool member = std::find(client.groups.begin(), client.groups.end(), req.group) !=
                        client.groups.end();
    if (member || listeners_.count({req.group, client.pid}) != 0) {
      return fail("cpg_join: pid " + std::to_string(client.pid) + " is already in group " +
                  req.group);
    }
    const auto connection = peer.connection;
    auto joined = join(req.group, client.pid, [this, connection](const groups::GroupEvent& e) {
      queue_event(connection, e);
    });
    if (!joined.ok()) return joined.error();
    client.groups.push_back(req.group);
    return control::Json{{"ok", true}};
  }

  // cpg_leave and cpg_send: only for a group this connection joined.
  template <class Act>
  Result<control::Json> group_member(const std::string& group, const char* command,
                                     const control::PeerCredentials& peer, Act&& act) {
    Client& client = client_of(peer);
    if (std::find(client.groups.begin(), client.groups.end(), group) == client.groups.end())
      return fail(std::string(command) + ": not a member of group " + group);
    if (auto done = act(client); !done.ok()) return done.error();
    return control::Json{{"ok", true}};
  }

  void connection_closed(const control::PeerCredentials& peer) {
    auto it = clients_.find(peer.connection);
    if (it == clients_.end()) return;
    if (!stopping_) {
      for (const auto& group : it->second.groups) {
        feed(node::GroupLeave{group, it->second.pid, groups::Reason::ProcDown,
                              transport::monotonic_now()});
      }
    }
    clients_.erase(it);
  }

  control::Json status() const override {
    auto out = ring_status();
    for (const auto& s : services_.all) s->add_status(out);
    return out;
  }

  // A peer as seen on one link; round trips in ms (µs precision), when a ping was answered.
  static control::Json peer_link_json(const transport::LinkStatus::PeerState& p) {
    control::Json out{{"id", p.id},
                      {"connected", p.connected},
                      {"pings", p.quality.pings},
                      {"lost", p.quality.lost}};
    auto ms = [](transport::Micros us) { return static_cast<double>(us) / 1000.0; };
    if (p.quality.mean_round_trip) out["round_trip_ms"] = ms(*p.quality.mean_round_trip);
    if (p.quality.last_round_trip) out["last_round_trip_ms"] = ms(*p.quality.last_round_trip);
    return out;
  }

  control::Json ring_status() const {
    using control::Json;
    Json nodes = Json::array();
    const auto& view = node_->view();
    auto online = [&](transport::NodeId id) {
      return std::binary_search(view.members.begin(), view.members.end(), id);
    };
    std::vector<transport::NodeId> listed;
    for (const auto& n : cfg_.nodelist) {
      nodes.push_back(Json{{"id", n.nodeid}, {"name", name_of(n)}, {"online", online(n.nodeid)}});
      listed.push_back(n.nodeid);
    }
    for (auto id : node_->seen()) {  // multicast: the nodes found on the wire
      if (std::find(listed.begin(), listed.end(), id) != listed.end()) continue;
      nodes.push_back(Json{{"id", id},
                           {"name", id == me_.id ? me_.name : std::to_string(id)},
                           {"online", online(id)}});
    }
    Json q{{"provider", cfg_.quorum.provider}, {"quorate", view.quorate}};
    if (const auto& vq = node_->quorum()) {
      const auto& s = vq->status();
      q["expected_votes"] = s.expected_votes;
      q["highest_expected"] = s.highest_expected;
      q["total_votes"] = s.total_votes;
      q["quorum"] = s.quorum;
      q["flags"] = quorum::flags_text(s.flags);
      q["members"] = Json::array();
      for (const auto& m : s.members)
        q["members"].push_back(Json{{"id", m.id}, {"votes", m.votes}});
      if (s.device) q["device"] = Json{{"votes", s.device->votes}, {"cast", s.device->cast}};
    }
    Json links = Json::array();
    for (const auto& l : links_->status()) {
      Json peers = Json::array();
      for (const auto& p : l.peers) peers.push_back(peer_link_json(p));
      links.push_back(Json{{"link", l.link}, {"local", l.local}, {"peers", peers}});
    }
    const auto now = transport::monotonic_now();
    Json unauthentic = Json::array();
    for (const auto& u : links_->unauthentic()) {
      unauthentic.push_back(
          Json{{"address", fmt::format("{}:{}", u.from.address().to_string(), u.from.port())},
               {"node", u.claimed},
               {"frames", u.frames},
               {"last_ms_ago", now - u.last},
               {"cause", unauthentic_cause(u)}});
    }
    const auto& c = links_->counters();
    const auto& ring = node_->ring();
    const auto& t = ring.stats();
    return Json{
        {"ok", true},
        {"cluster_name", cfg_.totem.cluster_name},
        {"pid", ::getpid()},
        {"node", Json{{"id", me_.id}, {"name", me_.name}}},
        {"ring",
         Json{{"id", node::ring_text(view.ring)}, {"state", ring.state_name()},
              {"members", view.members}}},
        {"nodes", nodes},
        {"quorum", q},
        {"watchdog", watchdog_status()},
        {"links", links},
        {"timings", timings_.to_json()},
        {"transport", Json{{"sealed", sealed_},
                           {"frames", c.frames},
                           {"garbage", c.garbage},
                           {"unauthenticated", c.unauthenticated},
                           {"unauthentic_sources", unauthentic},
                           {"replayed", c.replayed},
                           {"bad_fragment", c.bad_fragment},
                           {"expired", c.expired},
                           {"messages", c.messages},
                           {"send_errors", links_->send_errors()},
                           {"refusals", links_->refusals()}}},
        {"totem", Json{{"frames_rejected", t.frames_rejected},
                       {"retransmitted", t.retransmitted},
                       {"tokens_retransmitted", t.tokens_retransmitted},
                       {"rings_installed", t.rings_installed},
                       {"token_losses", t.token_losses},
                       {"peers_unreachable", t.peers_unreachable}}}};
  }

  // The watchdog and this node's lease; null without a watchdog.
  control::Json watchdog_status() const {
    const auto& lease = node_->lease();
    if (!watchdog_ || !lease) return nullptr;
    control::Json w{{"device", cfg_.resources.watchdog_device},
                    {"timeout_ms", watchdog_->timeout()},
                    {"fed_ms_ago", transport::monotonic_now() - watchdog_fed_},
                    {"lease", node::to_string(lease->state())},
                    {"span_ms", lease->times().span},
                    {"wait_ms", lease->times().wait},
                    {"margin_ms", lease->times().margin()},
                    {"reset", node_->view().reset}};
    if (lease->lost_at()) {
      w["lost_ms_ago"] = transport::monotonic_now() - *lease->lost_at();
      w["lost_because"] = lease->lost_because();
    }
    return w;
  }

  Options options_;
  std::vector<PidLock> locks_;  // the state dir's and the run dir's, held until the end
  config::ClusterConfig cfg_;
  Identity me_;
  Logs logs_;
  std::shared_ptr<spdlog::logger> main_, totem_log_;
  asio::io_context io_;
  asio::signal_set signals_;
  std::optional<Watchdog> watchdog_;  // opened before the loop, fed only as the node core says
  Millis watchdog_fed_ = 0;           // when it was last fed or opened (monotonic)
  std::optional<node::Node> node_;    // from open() on
  std::array<asio::steady_timer, node::kTimerCount> timers_;
  std::unique_ptr<transport::Links> links_;
  std::unique_ptr<control::Server> control_;
  metrics::Timings timings_;
  Services services_;
  CibService* cib_ = nullptr;  // services_.cib while the services live
  ControllerService* controller_ = nullptr;  // services_.controller likewise
  std::map<std::pair<std::string, std::uint32_t>, Listener> listeners_;
  // Notices and replies to deliver, in order.
  std::deque<std::variant<node::Notice, node::CibReply>> deliveries_;
  std::map<std::uint64_t, Client> clients_;  // by control connection
  // Nodelist changes asked here and not yet back from the ring, by ticket; what went wrong
  // applying one here, by ticket, until it is answered.
  std::uint64_t nodelist_ticket_ = 0;
  std::map<std::uint64_t, control::Server::Reply> nodelist_waiting_;
  std::map<std::uint64_t, std::string> nodelist_trouble_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool sealed_ = false;
  bool notifying_ = false;  // apply() is delivering deliveries_
  bool stopping_ = false;
  bool handing_over_ = false;  // shutdown() was asked for: the services are handing over
};

void DaemonDeleter::operator()(Daemon* daemon) const {
  delete daemon;
}

// One vigild per state dir and per run dir, before anything reads or writes them: a second one
// would form a partition of its own and overwrite the node's CIB.
Result<std::vector<PidLock>> lock_dirs(const Options& options) {
  std::vector<PidLock> locks;
  std::error_code ec;
  const bool one_dir = std::filesystem::equivalent(options.state_dir, options.run_dir, ec);
  for (const auto& [dir, what] :
       {std::pair{options.state_dir, "state dir"}, std::pair{options.run_dir, "run dir"}}) {
    if (one_dir && !locks.empty()) break;  // a second flock on the same file would be refused
    auto lock = PidLock::take(dir + "/vigild.pid", what);
    if (!lock.ok()) return lock.error();
    locks.push_back(std::move(*lock));
  }
  return locks;
}

namespace {

// The config file's http { } where no flag says otherwise: a flag given wins.
Options with_config_http(Options options, const config::ClusterConfig& cfg) {
  if (options.http.empty() && !cfg.http.listen.empty()) {
    options.http = cfg.http.listen;
    options.http_source = cfg.origin + ":" + std::to_string(cfg.http.line) + ": http.listen";
  }
  if (!options.http_actions && cfg.http.actions) {
    options.http_actions = true;
    options.http_actions_source = cfg.origin + ": http.actions";
  }
  return options;
}

}  // namespace

Result<DaemonPtr> start(const Options& given) {
  auto locks = lock_dirs(given);
  if (!locks.ok()) return locks.error();
  const std::string path = given.config.empty() ? config::default_config_path() : given.config;
  auto cfg = config::load_config(path);
  if (!cfg.ok()) return cfg.error();
  const Options options = with_config_http(given, *cfg);
  auto me = identify(*cfg, options.node);
  if (!me.ok()) return me.error();
  auto logging = cfg->logging;
  if (!options.log_format.empty()) logging.log_format = options.log_format;
  auto logs = Logs::open(logging, me->name, options.foreground);
  if (!logs.ok()) return logs.error();
  for (const auto& note : cfg->notes)
    logs->get("MAIN")->warn("{}", config::format_note(*cfg, note));
  DaemonPtr daemon(
      new Daemon(options, std::move(*locks), std::move(*cfg), std::move(*me), std::move(*logs)));
  if (auto opened = daemon->open(); !opened.ok()) {
    daemon->disarm();  // a start that failed after the watchdog opened must not reset the machine
    return opened.error();
  }
  return daemon;
}

int run(Daemon& daemon) {
  return daemon.run();
}

Groups& groups_of(Daemon& daemon) {
  return daemon;
}

void post(Daemon& daemon, std::function<void()> work) {
  daemon.post(std::move(work));
}

void stop(Daemon& daemon) {
  daemon.stop();
}

}  // namespace vigil::daemon
