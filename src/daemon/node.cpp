// The Daemon: one node's loop, wiring the links, the Ring, votequorum, the process groups and the
// control socket together.
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

#include "config/config.h"
#include "control/control.h"
#include "control/request.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"
#include "daemon/service.h"
#include "daemon/system.h"
#include "quorum/quorum.h"
#include "totem/totem.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

// The first byte of every ring payload says which channel (layer) it belongs to.
enum class Channel : std::uint8_t { Groups = 1, Quorum = 2 };

struct Identity {
  transport::NodeId id = 0;
  std::string name;
  std::vector<std::string> addresses;  // by link
};

std::string name_of(const config::Node& n) {
  return n.name.empty() ? n.ring_addr[0] : n.name;
}

// Corosync's way of naming a ring: the representative's node id, a dot, the sequence in hex.
std::string ring_text(const totem::RingId& ring) {
  return fmt::format("{}.{:x}", ring.rep, ring.seq);
}

std::string join_ids(const std::vector<totem::NodeId>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
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
    Identity me{n.nodeid, name_of(n), {}};
    for (const auto& a : n.ring_addr) {
      if (a.empty()) break;
      me.addresses.push_back(a);
    }
    return me;
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

Result<transport::LinkSettings> link_settings(const config::ClusterConfig& cfg,
                                              const Identity& me) {
  transport::LinkSettings s;
  s.self = me.id;
  s.session = session_number();
  const unsigned ip_overhead = 28;  // IPv4 + UDP; IPv6 links lose 20 more bytes of payload
  s.max_datagram = std::min<std::size_t>(cfg.totem.netmtu, 1500) - ip_overhead - 20;
  s.link_timeout = std::max<Millis>(cfg.totem.token_retransmit, 200);
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
      transport::PeerSpec peer{n.nodeid, {}};
      for (unsigned l = 0; l < s.links.size(); ++l) {
        if (n.ring_addr[l].empty()) {
          peer.links.emplace_back();
          continue;
        }
        auto a = resolve(n.ring_addr[l], n.line, cfg.origin);
        if (!a.ok()) return a.error();
        peer.links.emplace_back(asio::ip::udp::endpoint(*a, s.links[l].port));
      }
      s.peers.push_back(std::move(peer));
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
  if (cfg.quorum.expected_votes != 0) s.expected_votes = cfg.quorum.expected_votes;
  s.two_node = cfg.quorum.two_node;
  s.wait_for_all = cfg.quorum.wait_for_all;
  s.last_man_standing = cfg.quorum.last_man_standing;
  s.last_man_standing_window = cfg.quorum.last_man_standing_window;
  s.auto_tie_breaker = cfg.quorum.auto_tie_breaker;
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
        quorum_log_(logs_.get("QUORUM")),
        cpg_log_(logs_.get("CPG")),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        ring_(me_.id, totem_settings(cfg_.totem), Rng(session_number() ^ me_.id), load_ring_seq()),
        groups_(me_.id),
        quorum_timer_(io_),
        timers_{asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_),
                asio::steady_timer(io_), asio::steady_timer(io_), asio::steady_timer(io_)} {}

  ~Daemon() override { *alive_ = false; }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Result<void> open() {
    auto vq = make_quorum(cfg_);
    if (!vq.ok()) return vq.error();
    quorum_ = std::move(*vq);
    auto settings = link_settings(cfg_, me_);
    if (!settings.ok()) return settings.error();
    sealed_ = settings->key.has_value();
    auto links = transport::Links::open(
        io_, std::move(*settings),
        [this](transport::Message&& m, unsigned) {
          feed(totem::FrameReceived{m.sender, m.data, transport::monotonic_now()});
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
    services_ = make_services(*this);
    signals_.async_wait([this](const asio::error_code& ec, int sig) { on_signal(ec, sig); });
    main_->info("vigild for node {} (id {}) starting: {} transport, {} link(s), frames {}",
                me_.name, me_.id, config::to_string(cfg_.totem.transport), me_.addresses.size(),
                sealed_ ? "sealed" : "NOT sealed");
    feed(totem::Start{transport::monotonic_now()});
    notify_systemd("READY=1\nMAINPID=" + std::to_string(::getpid()) +
                   "\nSTATUS=gathering a membership");
    return {};
  }

  void post(std::function<void()> work) { asio::post(io_, std::move(work)); }
  void stop() {
    asio::post(io_, [this] { shutdown(); });
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
  ClusterView view() const override {
    auto members = members_;
    std::sort(members.begin(), members.end());
    return ClusterView{members, quorate(), ring_text(ring_id_)};
  }

  // ---- Groups, for the layers inside vigild
  Result<void> join(const std::string& group, std::uint32_t pid, Listener listener) override {
    auto payload = groups_.join(group, pid);
    if (!payload.ok()) return payload.error();
    listeners_[{group, pid}] = std::move(listener);
    broadcast(Channel::Groups, *payload);
    return {};
  }
  Result<void> send(const std::string& group, std::uint32_t pid,
                    std::span<const std::uint8_t> data) override {
    auto payload = groups_.message(group, pid, data);
    if (!payload.ok()) return payload.error();
    broadcast(Channel::Groups, *payload);
    return {};
  }
  Result<void> leave(const std::string& group, std::uint32_t pid) override {
    auto payload = groups_.leave(group, pid);
    if (!payload.ok()) return payload.error();
    broadcast(Channel::Groups, *payload);
    return {};
  }

 private:
  std::uint64_t load_ring_seq() const {
    auto bytes = read_bytes(options_.state_dir + "/ring_seq");
    if (!bytes.ok()) return 0;
    try {
      return std::stoull(std::string(bytes->begin(), bytes->end()));
    } catch (const std::exception&) {
      return 0;
    }
  }

  // ---- the ring
  // The peer's host answered our datagram with "port unreachable": its vigild is gone. The Ring
  // decides whether that changes the membership (it ignores peers outside it and repeats); the
  // line is logged when it does.
  void refused(transport::NodeId peer, const asio::ip::udp::endpoint& where) {
    if (stopping_) return;
    const auto before = ring_.stats().peers_unreachable;
    feed(totem::PeerUnreachable{peer, transport::monotonic_now()});
    if (ring_.stats().peers_unreachable == before) return;
    refused_.insert(peer);
    totem_log_->warn(
        "peer {} ({}:{}) unreachable: its totem port is closed, so its vigild is gone; processor "
        "failed, forming a new membership without it",
        peer, where.address().to_string(), where.port());
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

  void timer_fired(totem::Timer which) {
    const auto before = ring_.stats().token_losses;
    feed(totem::TimerFired{which, transport::monotonic_now()});
    if (ring_.stats().token_losses == before) return;
    token_lost_ = true;
    const auto s = totem_settings(cfg_.totem);
    totem_log_->info(
        "token lost: not received for {} ms; a processor failed, forming a new membership "
        "(consensus timeout {} ms)",
        s.token, s.consensus);
  }

  void feed(const totem::Input& input) {
    VIGIL_ASSERT(!stepping_);
    stepping_ = true;
    apply(ring_.step(input));
    while (!deferred_.empty()) {
      auto [self_frame, bytes] = std::move(deferred_.front());
      deferred_.pop_front();
      const auto now = transport::monotonic_now();
      if (self_frame) {
        apply(ring_.step(totem::FrameReceived{me_.id, bytes, now}));
      } else {
        apply(ring_.step(totem::Send{std::move(bytes), now}));
      }
    }
    stepping_ = false;
  }

  void broadcast(Channel channel, const transport::Bytes& body) {
    transport::Bytes payload{static_cast<std::uint8_t>(channel)};
    payload.insert(payload.end(), body.begin(), body.end());
    if (stepping_) {
      deferred_.emplace_back(false, std::move(payload));
    } else {
      feed(totem::Send{std::move(payload), transport::monotonic_now()});
    }
  }

  void apply(totem::Effects fx) {
    // The highest ring sequence seen goes to disk first: a restart must never reuse a ring id.
    if (fx.persist_ring_seq) {
      auto saved =
          write_text(options_.state_dir + "/ring_seq", std::to_string(*fx.persist_ring_seq) + "\n");
      if (!saved.ok()) main_->warn("{}", saved.error().message);
    }
    for (const auto& t : fx.timers) arm(t);
    for (auto& f : fx.frames) {
      if (f.to && *f.to == me_.id) {
        deferred_.emplace_back(true, std::move(f.bytes));
        continue;
      }
      auto sent = f.to ? links_->send_to(*f.to, f.bytes) : links_->send_all(f.bytes);
      if (!sent.ok()) totem_log_->debug("{}", sent.error().message);
    }
    for (auto& e : fx.events) {
      if (auto* d = std::get_if<totem::Delivery>(&e)) {
        delivered(*d);
      } else {
        changed(std::get<totem::ConfigChange>(e));
      }
    }
  }

  void arm(const totem::TimerCommand& t) {
    auto& timer = timers_[static_cast<std::size_t>(t.timer)];
    timer.cancel();
    if (!t.deadline) return;
    timer.expires_at(asio::steady_timer::time_point(std::chrono::milliseconds(*t.deadline)));
    timer.async_wait([this, which = t.timer](const asio::error_code& ec) {
      if (ec || stopping_) return;
      timer_fired(which);
    });
  }

  void delivered(const totem::Delivery& d) {
    if (d.payload.empty()) return;
    const std::span<const std::uint8_t> body(d.payload.data() + 1, d.payload.size() - 1);
    switch (static_cast<Channel>(d.payload[0])) {
      case Channel::Groups:
        fan_out(groups_.delivered(d.sender, body));
        return;
      case Channel::Quorum:
        if (!quorum_) return;
        if (auto r = quorum::decode_report(body); r.ok()) {
          const bool was = quorate();
          quorum_->peer(d.sender, *r);
          quorum_changed(was);
        } else {
          quorum_log_->warn("from node {}: {}", d.sender, r.error().message);
        }
        return;
    }
    main_->debug("ignoring a ring payload for unknown channel {} from node {}", d.payload[0],
                 d.sender);
  }

  // Why the old ring's lost members are gone, as far as this node saw it: their port refused us,
  // or the token timed out here; otherwise another member found out and we followed its Join.
  void log_failed(const std::vector<totem::NodeId>& failed) {
    std::vector<totem::NodeId> closed, other;
    for (auto id : failed) (refused_.count(id) != 0 ? closed : other).push_back(id);
    if (!closed.empty())
      totem_log_->warn("Node(s) {} failed (totem port closed)", join_ids(closed));
    if (other.empty()) return;
    totem_log_->warn("Node(s) {} failed ({})", join_ids(other),
                     token_lost_ ? "token lost" : "gone without a leave message");
  }

  void changed(const totem::ConfigChange& c) {
    const auto now = transport::monotonic_now();
    if (c.kind == totem::ConfigChange::Kind::Transitional) {
      fan_out(groups_.configuration(c.members, c.left, {}));
      if (!c.left.empty()) totem_log_->info("Node(s) {} left the ring cleanly", join_ids(c.left));
      log_failed(c.failed);
      return;
    }
    refused_.clear();
    token_lost_ = false;
    ring_id_ = c.ring;
    members_ = c.members;
    for (auto id : c.members) {
      if (std::find(seen_.begin(), seen_.end(), id) == seen_.end()) seen_.push_back(id);
    }
    totem_log_->info("A new membership ({}) was formed. Members[{}]: {}{}", ring_text(c.ring),
                     c.members.size(), join_ids(c.members),
                     c.joined.empty() ? "" : " joined: " + join_ids(c.joined));
    fan_out(groups_.configuration(c.members, {}, c.joined));
    if (quorum_) {
      const bool was = quorate();
      quorum_->membership(now, c.members);
      quorum_changed(was, true);
    } else {
      tell_services();
    }
    notify_systemd("STATUS=member of ring " + ring_text(c.ring) + " with " +
                   std::to_string(c.members.size()) + " node(s)");
  }

  bool quorate() const { return !quorum_ || quorum_->quorate(); }

  void tell_services() {
    const auto v = view();
    for (auto& s : services_) s->view_changed(v);
  }

  // Tells the peers this node's votequorum state when it changed (or after a membership change),
  // logs a change of quorum, and re-arms the last_man_standing window.
  void quorum_changed(bool was_quorate, bool membership = false) {
    const auto report = quorum_->report();
    if (membership || !last_report_ || report.quorate != last_report_->quorate ||
        report.expected_votes != last_report_->expected_votes ||
        report.waiting_for_all != last_report_->waiting_for_all) {
      last_report_ = report;
      broadcast(Channel::Quorum, quorum::encode_report(report));
    }
    if (quorate() != was_quorate || membership) tell_services();
    if (quorate() != was_quorate) {
      quorum_log_->info(
          quorate()
              ? "This node is within the primary component and will provide service."
              : "This node is within the non-primary component and will NOT provide any services.");
    }
    quorum_timer_.cancel();
    if (auto wake = quorum_->wake_at()) {
      quorum_timer_.expires_at(asio::steady_timer::time_point(std::chrono::milliseconds(*wake)));
      quorum_timer_.async_wait([this](const asio::error_code& ec) {
        if (ec || stopping_) return;
        const bool was = quorate();
        quorum_->tick(transport::monotonic_now());
        quorum_changed(was);
      });
    }
  }

  void fan_out(const groups::Output& out) {
    for (const auto& p : out.send) broadcast(Channel::Groups, p);
    for (const auto& e : out.events) {
      const auto& group =
          std::visit([](const auto& v) -> const std::string& { return v.group; }, e);
      std::vector<std::uint32_t> pids = groups_.local_members(group);
      // A member that just left still hears of its own leave.
      if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
        for (const auto& m : change->left) {
          if (m.node == me_.id) pids.push_back(m.pid);
        }
      }
      for (auto pid : pids) {
        auto it = listeners_.find({group, pid});
        if (it != listeners_.end()) it->second(e);
      }
      if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
        cpg_log_->debug("group {}: {} member(s) after {}", group, change->members.size(),
                        groups::to_string(change->reason));
        for (const auto& m : change->left) {
          if (m.node == me_.id) listeners_.erase({group, m.pid});
        }
      }
    }
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
    auto pending = std::make_shared<std::size_t>(services_.size());
    if (*pending == 0) return leave();
    for (auto& s : services_) {
      s->hand_over([this, pending] {
        if (--*pending == 0) leave();
      });
    }
  }

  void leave() {
    if (stopping_) return;
    for (auto& s : services_) s->stop();
    feed(totem::Leave{transport::monotonic_now()});
    stopping_ = true;
    for (auto& t : timers_) t.cancel();
    quorum_timer_.cancel();
    signals_.cancel();
    // Let the control socket's reply go out before the loop ends.
    asio::post(io_, [this] {
      services_.clear();
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
    const std::string command(control::command_of(*req));
    for (auto& s : services_) {
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
    if (std::holds_alternative<control::Ping>(req)) return control::Json{{"ok", true}};
    if (std::holds_alternative<control::StatusQuery>(req)) return status();
    if (std::holds_alternative<control::Shutdown>(req)) {
      main_->info("shutdown requested by pid {} (uid {})", peer.pid, peer.uid);
      asio::post(io_, [this] { shutdown(); });
      return control::Json{{"ok", true}};
    }
    if (const auto* join = std::get_if<control::CpgJoin>(&req)) return group_join(*join, peer);
    if (std::holds_alternative<control::CpgRead>(req)) return group_read(peer);
    if (const auto* left = std::get_if<control::CpgLeave>(&req))
      return group_member(left->group, "cpg_leave", peer, [&](Client& client) -> Result<void> {
        std::erase(client.groups, left->group);
        return leave(left->group, client.pid);
      });
    if (const auto* sent = std::get_if<control::CpgSend>(&req))
      return group_member(sent->group, "cpg_send", peer, [&](Client& client) {
        return send(sent->group, client.pid, sent->data);
      });
    // A service's command while the services are gone (vigild is stopping).
    return fail(std::string(control::command_of(req)) + ": vigild is stopping");
  }

  // ---- process groups over the control socket: a connection's memberships last as long as it
  // does; its events wait in a bounded queue until it reads them.
  struct Client {
    std::uint32_t pid = 0;
    std::vector<std::string> groups;
    std::deque<control::Json> events;
    std::uint64_t dropped = 0;
  };
  static constexpr std::size_t kMaxQueued = 100000;

  static control::Json member_json(const std::vector<groups::Member>& members) {
    control::Json out = control::Json::array();
    for (const auto& m : members) out.push_back(control::Json{{"node", m.node}, {"pid", m.pid}});
    return out;
  }

  static control::Json event_json(const groups::GroupEvent& e) {
    if (const auto* m = std::get_if<groups::GroupMessage>(&e)) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (auto b : m->data) hex += {kHex[b >> 4], kHex[b & 15]};
      return control::Json{{"type", "message"},
                           {"group", m->group},
                           {"node", m->sender.node},
                           {"pid", m->sender.pid},
                           {"data", hex}};
    }
    const auto& c = std::get<groups::GroupChange>(e);
    return control::Json{{"type", "change"},
                         {"group", c.group},
                         {"members", member_json(c.members)},
                         {"joined", member_json(c.joined)},
                         {"left", member_json(c.left)},
                         {"reason", groups::to_string(c.reason)}};
  }

  Client& client_of(const control::PeerCredentials& peer) {
    Client& client = clients_[peer.connection];
    client.pid = static_cast<std::uint32_t>(peer.pid);
    return client;
  }

  Result<control::Json> group_read(const control::PeerCredentials& peer) {
    Client& client = client_of(peer);
    control::Json events = control::Json::array();
    for (auto& e : client.events) events.push_back(std::move(e));
    client.events.clear();
    control::Json out{{"ok", true}, {"events", events}, {"dropped", client.dropped}};
    client.dropped = 0;
    return out;
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
      auto it = clients_.find(connection);
      if (it == clients_.end()) return;
      if (it->second.events.size() >= kMaxQueued) {
        it->second.events.pop_front();
        ++it->second.dropped;
      }
      it->second.events.push_back(event_json(e));
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
        auto payload = groups_.leave(group, it->second.pid, groups::Reason::ProcDown);
        if (payload.ok()) broadcast(Channel::Groups, *payload);
      }
    }
    clients_.erase(it);
  }

  control::Json status() const {
    auto out = ring_status();
    for (const auto& s : services_) s->add_status(out);
    return out;
  }

  control::Json ring_status() const {
    using control::Json;
    Json nodes = Json::array();
    auto online = [&](transport::NodeId id) {
      return std::find(members_.begin(), members_.end(), id) != members_.end();
    };
    std::vector<transport::NodeId> listed;
    for (const auto& n : cfg_.nodelist) {
      nodes.push_back(Json{{"id", n.nodeid}, {"name", name_of(n)}, {"online", online(n.nodeid)}});
      listed.push_back(n.nodeid);
    }
    for (auto id : seen_) {  // multicast: the nodes found on the wire
      if (std::find(listed.begin(), listed.end(), id) != listed.end()) continue;
      nodes.push_back(Json{{"id", id},
                           {"name", id == me_.id ? me_.name : std::to_string(id)},
                           {"online", online(id)}});
    }
    Json q{{"provider", cfg_.quorum.provider}, {"quorate", quorate()}};
    if (quorum_) {
      const auto& s = quorum_->status();
      q["expected_votes"] = s.expected_votes;
      q["highest_expected"] = s.highest_expected;
      q["total_votes"] = s.total_votes;
      q["quorum"] = s.quorum;
      q["flags"] = quorum::flags_text(s.flags);
      q["members"] = Json::array();
      for (const auto& m : s.members)
        q["members"].push_back(Json{{"id", m.id}, {"votes", m.votes}});
    }
    Json links = Json::array();
    for (const auto& l : links_->status()) {
      Json peers = Json::array();
      for (const auto& p : l.peers) peers.push_back(Json{{"id", p.id}, {"connected", p.connected}});
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
    const auto& t = ring_.stats();
    return Json{
        {"ok", true},
        {"cluster_name", cfg_.totem.cluster_name},
        {"pid", ::getpid()},
        {"node", Json{{"id", me_.id}, {"name", me_.name}}},
        {"ring",
         Json{{"id", ring_text(ring_id_)}, {"state", ring_.state_name()}, {"members", members_}}},
        {"nodes", nodes},
        {"quorum", q},
        {"links", links},
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

  Options options_;
  std::vector<PidLock> locks_;  // the state dir's and the run dir's, held until the end
  config::ClusterConfig cfg_;
  Identity me_;
  Logs logs_;
  std::shared_ptr<spdlog::logger> main_, totem_log_, quorum_log_, cpg_log_;
  asio::io_context io_;
  asio::signal_set signals_;
  totem::Ring ring_;
  groups::ProcessGroups groups_;
  std::optional<quorum::Votequorum> quorum_;
  std::optional<quorum::PeerReport> last_report_;
  asio::steady_timer quorum_timer_;
  std::array<asio::steady_timer, totem::kTimerCount> timers_;
  std::unique_ptr<transport::Links> links_;
  std::unique_ptr<control::Server> control_;
  std::vector<std::unique_ptr<Service>> services_;
  std::map<std::pair<std::string, std::uint32_t>, Listener> listeners_;
  std::deque<std::pair<bool, transport::Bytes>> deferred_;  // (frame to self, bytes) or a Send
  totem::RingId ring_id_;
  std::vector<totem::NodeId> members_;
  std::vector<totem::NodeId> seen_;
  std::set<totem::NodeId> refused_;  // failed on a refusal since the last ring was installed
  bool token_lost_ = false;          // the token timed out here since then
  std::map<std::uint64_t, Client> clients_;  // by control connection
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool sealed_ = false;
  bool stepping_ = false;
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

Result<DaemonPtr> start(const Options& options) {
  auto locks = lock_dirs(options);
  if (!locks.ok()) return locks.error();
  const std::string path = options.config.empty() ? config::default_config_path() : options.config;
  auto cfg = config::load_config(path);
  if (!cfg.ok()) return cfg.error();
  auto me = identify(*cfg, options.node);
  if (!me.ok()) return me.error();
  auto logs = Logs::open(cfg->logging, me->name, options.foreground);
  if (!logs.ok()) return logs.error();
  for (const auto& note : cfg->notes)
    logs->get("MAIN")->warn("{}", config::format_note(*cfg, note));
  DaemonPtr daemon(
      new Daemon(options, std::move(*locks), std::move(*cfg), std::move(*me), std::move(*logs)));
  if (auto opened = daemon->open(); !opened.ok()) return opened.error();
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
