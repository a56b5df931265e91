#include "transport/links.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace vigil::transport {

Millis monotonic_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

// Round trips on loopback and a LAN are well under a millisecond: pings are timed in µs.
Micros monotonic_micros() {
  return static_cast<Micros>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
}

}  // namespace

Links::Links(LinkSettings settings, OnMessage on_message, OnRefused on_refused,
             OnUnauthentic on_unauthentic)
    : settings_(std::move(settings)),
      on_message_(std::move(on_message)),
      on_refused_(std::move(on_refused)),
      on_unauthentic_(std::move(on_unauthentic)),
      sender_(settings_.self, settings_.session, settings_.key, settings_.max_datagram),
      receiver_(settings_.self, settings_.key, settings_.reassembly),
      group_heard_(settings_.links.size(), 0),
      alive_(std::make_shared<bool>(true)) {}

Links::~Links() {
  *alive_ = false;
  for (auto& link : links_) {
    asio::error_code ignored;
    link->socket.close(ignored);
  }
}

bool Links::multicast() const {
  return !settings_.links.empty() && settings_.links.front().multicast_group.has_value();
}

Result<std::unique_ptr<Links>> Links::open(asio::io_context& io, LinkSettings settings,
                                           OnMessage on_message, OnRefused on_refused,
                                           OnUnauthentic on_unauthentic) {
  if (settings.links.empty()) return fail("transport: no link to bind");
  std::unique_ptr<Links> links(new Links(std::move(settings), std::move(on_message),
                                         std::move(on_refused), std::move(on_unauthentic)));
  for (const auto& spec : links->settings_.peers) links->add_peer(spec);
  for (const auto& spec : links->settings_.links) {
    links->links_.push_back(std::make_unique<Link>(Link{spec, asio::ip::udp::socket(io), {}, {}}));
    if (auto bound = links->bind(*links->links_.back()); !bound.ok()) return bound.error();
  }
  for (unsigned i = 0; i < links->links_.size(); ++i) links->receive(i);
  const auto& st = links->settings_;
  if ((st.probe_interval > 0 || st.ping_interval > 0) && !links->multicast()) {
    links->probe_timer_.emplace(io);
    links->probe();
  }
  return links;
}

Result<void> Links::bind(Link& link) {
  const auto& spec = link.spec;
  const std::string where = spec.local.to_string() + ":" + std::to_string(spec.port);
  asio::error_code ec;
  const auto protocol = spec.local.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4();
  link.socket.open(protocol, ec);
  if (ec) return fail("transport: cannot open a UDP socket for " + where + ": " + ec.message());
  link.buffer.resize(65536);
  if (spec.multicast_group) {
    // The group's traffic and unicast replies both arrive on the port, whatever the destination.
    link.socket.set_option(asio::socket_base::reuse_address(true), ec);
    const auto any = spec.local.is_v6() ? asio::ip::address(asio::ip::address_v6::any())
                                        : asio::ip::address(asio::ip::address_v4::any());
    link.socket.bind(asio::ip::udp::endpoint(any, spec.port), ec);
    if (ec)
      return fail("transport: cannot bind port " + std::to_string(spec.port) + ": " + ec.message());
    if (spec.local.is_v4() && spec.multicast_group->is_v4()) {
      link.socket.set_option(
          asio::ip::multicast::join_group(spec.multicast_group->to_v4(), spec.local.to_v4()), ec);
      if (!ec)
        link.socket.set_option(asio::ip::multicast::outbound_interface(spec.local.to_v4()), ec);
    } else {
      link.socket.set_option(asio::ip::multicast::join_group(*spec.multicast_group), ec);
    }
    if (ec) {
      return fail("transport: cannot join " + spec.multicast_group->to_string() + " on " + where +
                  ": " + ec.message());
    }
    link.socket.set_option(asio::ip::multicast::hops(static_cast<int>(spec.ttl)), ec);
    link.socket.set_option(asio::ip::multicast::enable_loopback(true), ec);
  } else {
    link.socket.bind(asio::ip::udp::endpoint(spec.local, spec.port), ec);
    if (ec == asio::error::address_in_use) {
      return fail("transport: cannot bind " + where +
                  ": the address is already in use; is another vigild (or corosync) running for "
                  "this node?");
    }
    if (ec) return fail("transport: cannot bind " + where + ": " + ec.message());
  }
  link.socket.non_blocking(true, ec);
  // ICMP errors for our datagrams go to the socket's error queue (read by drain_errors). Without
  // it a dead peer is only found by the token timeout, so a kernel that refuses is no reason to
  // refuse to start.
  const int on = 1;
  if (spec.local.is_v6()) {
    ::setsockopt(link.socket.native_handle(), IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  } else {
    ::setsockopt(link.socket.native_handle(), IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  }
  // Room for a burst of frames while the daemon is busy with a step.
  link.socket.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
  link.socket.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
  return {};
}

void Links::receive(unsigned index) {
  Link& link = *links_[index];
  link.socket.async_receive_from(
      asio::buffer(link.buffer), link.from,
      [this, index, alive = alive_](const asio::error_code& ec, std::size_t size) {
        if (!*alive || ec == asio::error::operation_aborted) return;
        if (!ec) {
          take(index, size);
        } else {
          // An ICMP error arrived. IP_RECVERR reports it on the next read, ahead of datagrams
          // that came in before it; those go up first (a peer's Leave, sent just before its port
          // closed, must not be overtaken by the refusal of a later datagram), then the refusals.
          drain_errors(index);
          take_queued(index);
          if (*alive) report_refusals();
        }
        if (*alive) receive(index);  // a callback may have closed the links
      });
}

// The datagram read into link `index`'s buffer, delivered when it completes a message.
void Links::take(unsigned index, std::size_t size) {
  if (size == 0) return;  // a peer's probe (see probe()): only a refusal of it would matter
  Link& l = *links_[index];
  const auto now = monotonic_now();
  const std::span<const std::uint8_t> datagram(l.buffer.data(), size);
  const auto rejected = receiver_.counters().unauthenticated;
  auto received = receiver_.accept(datagram, now);
  receiver_.expire(now);
  if (receiver_.counters().unauthenticated != rejected) unauthentic(l.from, datagram, now);
  if (!received) return;
  const auto from = l.from;
  if (auto* probe = std::get_if<Probe>(&*received)) {
    probed(*probe, index, from);
  } else {
    delivered(std::get<Message>(std::move(*received)), index, from);
  }
}

// Every datagram waiting on link `index`, read now (the socket does not block), in order.
void Links::take_queued(unsigned index) {
  const auto alive = alive_;
  for (int i = 0; i < 1024 && *alive; ++i) {  // bounded: a flood waits for the next read
    Link& l = *links_[index];
    asio::error_code ec;
    const std::size_t size = l.socket.receive_from(asio::buffer(l.buffer), l.from, 0, ec);
    if (ec && drain_errors(index) > 0) continue;  // another ICMP error came first
    if (ec) return;                               // nothing more waiting
    take(index, size);
  }
}

void Links::unauthentic(const asio::ip::udp::endpoint& from, std::span<const std::uint8_t> datagram,
                        Millis now) {
  auto it = std::find_if(unauthentic_.begin(), unauthentic_.end(),
                         [&](const Unauthentic& u) { return u.from == from; });
  if (it == unauthentic_.end()) {
    // Bounded: forged source addresses must not grow this without end.
    if (unauthentic_.size() >= kMaxUnauthentic) {
      unauthentic_.erase(std::min_element(
          unauthentic_.begin(), unauthentic_.end(),
          [](const Unauthentic& a, const Unauthentic& b) { return a.last < b.last; }));
    }
    it = unauthentic_.insert(unauthentic_.end(), Unauthentic{from});
  }
  const auto header = decode_header(datagram);  // it decoded, or it would be garbage
  it->claimed = header.ok() ? header->sender : 0;
  it->sealed = header.ok() && header->sealed;
  ++it->frames;
  it->last = now;
  if (it->reported != 0 && now - it->reported < settings_.report_every) return;
  const auto suppressed = it->frames - it->reported_frames - 1;
  it->reported = now;
  it->reported_frames = it->frames;
  if (on_unauthentic_) on_unauthentic_(*it, suppressed);
}

void Links::report_refusals() {
  const auto alive = alive_;
  auto due = std::move(refusals_due_);
  refusals_due_.clear();
  for (const auto& [peer, where] : due) {
    if (!*alive) return;
    if (on_refused_) on_refused_(peer, where);
  }
}

namespace {

// Only "port unreachable" says the peer's process is gone: its host is up and has no socket on
// the port. Host and network unreachable come from routers and cut links, often for a moment.
bool port_unreachable(const sock_extended_err& e) {
  if (e.ee_errno != ECONNREFUSED) return false;
  if (e.ee_origin == SO_EE_ORIGIN_ICMP) return e.ee_type == 3 && e.ee_code == 3;
  if (e.ee_origin == SO_EE_ORIGIN_ICMP6) return e.ee_type == 1 && e.ee_code == 4;
  return false;
}

std::optional<asio::ip::udp::endpoint> endpoint_of(const sockaddr_storage& a, socklen_t size) {
  if (a.ss_family == AF_INET && size >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, &a, sizeof in);
    return asio::ip::udp::endpoint(asio::ip::address_v4(ntohl(in.sin_addr.s_addr)),
                                   ntohs(in.sin_port));
  }
  if (a.ss_family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in{};
    std::memcpy(&in, &a, sizeof in);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in.sin6_addr, bytes.size());
    return asio::ip::udp::endpoint(asio::ip::address_v6(bytes, in.sin6_scope_id),
                                   ntohs(in.sin6_port));
  }
  return std::nullopt;
}

}  // namespace

std::size_t Links::drain_errors(unsigned index) {
  const int fd = links_[index]->socket.native_handle();
  std::size_t read = 0;
  // Bounded: the queue is bounded by the receive buffer anyway; the rest waits for the next read.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage destination{};
    std::uint8_t head[64];  // the start of the refused datagram; not needed, but must go somewhere
    iovec iov{head, sizeof head};
    alignas(cmsghdr) std::uint8_t control[256];
    msghdr msg{};
    msg.msg_name = &destination;  // the refused datagram's destination, i.e. the peer
    msg.msg_namelen = sizeof destination;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    ++read;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      const bool error = (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                         (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR);
      if (!error || c->cmsg_len < CMSG_LEN(sizeof(sock_extended_err))) continue;
      sock_extended_err e{};
      std::memcpy(&e, CMSG_DATA(c), sizeof e);
      if (!port_unreachable(e)) continue;
      if (auto where = endpoint_of(destination, msg.msg_namelen)) refused(index, *where);
    }
  }
  return read;
}

// A dead process refuses on every link; one refusing link among working ones is a wrong address
// or port, or a link being set up, and only steers traffic to the other links.
void Links::refused(unsigned link, const asio::ip::udp::endpoint& where) {
  ++refusals_;
  auto it = std::find_if(peers_.begin(), peers_.end(),
                         [&](const Peer& p) { return p.endpoints[link] == where; });
  if (it == peers_.end()) return;
  it->refused[link] = true;
  for (unsigned l = 0; l < it->endpoints.size(); ++l) {
    if (it->endpoints[l] && !it->refused[l]) return;
  }
  refusals_due_.emplace_back(it->id, where);
  // Posted: this may run inside a send, inside the caller's own step. A read that finds the
  // error reports at once instead (see receive), and the posted report then finds nothing.
  if (report_posted_) return;
  report_posted_ = true;
  asio::post(links_[link]->socket.get_executor(), [this, alive = alive_] {
    if (!*alive) return;
    report_posted_ = false;
    report_refusals();
  });
}

Links::Peer& Links::heard(NodeId id, unsigned link, const asio::ip::udp::endpoint& from,
                          Millis now) {
  Peer& p = peer(id);
  p.heard[link] = now;
  p.refused[link] = false;
  group_heard_[link] = now;
  // Multicast finds its members on the wire: the source address is where this peer answers.
  if (multicast() || !p.endpoints[link]) p.endpoints[link] = from;
  return p;
}

void Links::delivered(Message&& message, unsigned link, const asio::ip::udp::endpoint& from) {
  heard(message.sender, link, from, monotonic_now());
  on_message_(std::move(message), link);
}

// A ping is answered on the link it came in on, to the peer's address there (an authentic frame's
// sender, never a forged source); a pong times the ping it repeats.
void Links::probed(const Probe& probe, unsigned link, const asio::ip::udp::endpoint& from) {
  const Millis now = monotonic_now();
  Peer& p = heard(probe.sender, link, from, now);
  if (probe.kind == Probe::Kind::pong) {
    if (probe.link == link) p.pings[link].answered(probe.number, monotonic_micros());
    return;
  }
  const Bytes pong = sender_.probe({Probe::Kind::pong, settings_.self,
                                    static_cast<std::uint8_t>(link), probe.number});
  transmit_to(p, link, {pong}, now);
}

void Links::add_peer(const PeerSpec& spec) {
  auto& p = peer(spec.id);
  p.endpoints = spec.links;
  p.endpoints.resize(settings_.links.size());
}

void Links::remove_peer(NodeId id) {
  std::erase_if(peers_, [&](const Peer& p) { return p.id == id; });
}

Links::Peer& Links::peer(NodeId id) {
  auto it = std::find_if(peers_.begin(), peers_.end(), [&](const Peer& p) { return p.id == id; });
  if (it != peers_.end()) return *it;
  const auto n = settings_.links.size();
  Peer p{id,
         std::vector<std::optional<asio::ip::udp::endpoint>>(n),
         std::vector<Millis>(n, 0),
         std::vector<bool>(n, false),
         std::vector<Millis>(n, 0),
         std::vector<PingLog>(n),
         std::vector<Millis>(n, 0)};
  peers_.push_back(std::move(p));
  return peers_.back();
}

std::vector<unsigned> Links::routes(const Peer& p, Millis now) const {
  for (unsigned l = 0; l < p.endpoints.size(); ++l) {
    if (p.endpoints[l] && p.heard[l] != 0 && !p.refused[l] &&
        now - p.heard[l] < settings_.link_timeout) {
      return {l};
    }
  }
  std::vector<unsigned> all;
  for (unsigned l = 0; l < p.endpoints.size(); ++l) {
    if (p.endpoints[l]) all.push_back(l);
  }
  return all;
}

void Links::transmit(unsigned link, const asio::ip::udp::endpoint& to,
                     const std::vector<Bytes>& frames) {
  for (const auto& frame : frames) {
    asio::error_code ec;
    links_[link]->socket.send_to(asio::buffer(frame), to, 0, ec);
    // With IP_RECVERR, an ICMP error that came in since fails this send instead (and is cleared
    // by it): the datagram did not go. Read the error queue and send again (bounded: errors can
    // keep coming in between).
    for (int again = 0; ec && again < 3 && drain_errors(link) > 0; ++again) {
      links_[link]->socket.send_to(asio::buffer(frame), to, 0, ec);
    }
    if (ec) ++send_errors_;  // UDP: a full buffer or an unreachable peer is a lost datagram
  }
}

void Links::transmit_to(Peer& peer, unsigned link, const std::vector<Bytes>& frames, Millis now) {
  peer.sent[link] = now;
  transmit(link, *peer.endpoints[link], frames);
}

// An empty datagram to every peer sent nothing lately on a link, every probe_interval: what makes
// the refusal of a killed peer's host come within that interval on an idle ring too.
// Every ping_interval a ping to each peer on each link; and an empty datagram to every peer sent
// nothing lately on a link, every probe_interval: what makes the refusal of a killed peer's host
// come within that interval on an idle ring too (a ping serves as one).
void Links::probe() {
  const Millis now = monotonic_now();
  const std::vector<Bytes> empty{Bytes{}};
  for (auto& p : peers_) {
    for (unsigned l = 0; l < p.endpoints.size(); ++l) {
      if (!p.endpoints[l]) continue;
      if (settings_.ping_interval > 0 && now - p.pinged[l] >= settings_.ping_interval) {
        ping(p, l, now);
      } else if (settings_.probe_interval > 0 && now - p.sent[l] >= settings_.probe_interval) {
        transmit_to(p, l, empty, now);
      }
    }
  }
  const auto every = [](Millis a, Millis b) { return a == 0 ? b : (b == 0 ? a : std::min(a, b)); };
  probe_timer_->expires_after(
      std::chrono::milliseconds(every(settings_.probe_interval, settings_.ping_interval)));
  probe_timer_->async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (*alive && !ec) probe();
  });
}

void Links::ping(Peer& p, unsigned link, Millis now) {
  p.pinged[link] = now;
  const auto number = p.pings[link].sent(monotonic_micros());
  const Bytes ping =
      sender_.probe({Probe::Kind::ping, settings_.self, static_cast<std::uint8_t>(link), number});
  transmit_to(p, link, {ping}, now);
}

Result<void> Links::send_all(std::span<const std::uint8_t> message) {
  auto frames = sender_.frames(message);
  if (!frames.ok()) return frames.error();
  const Millis now = monotonic_now();
  if (multicast()) {
    // The group on the lowest link anyone was heard on lately, else on every link.
    std::vector<unsigned> use;
    for (unsigned l = 0; l < links_.size() && use.empty(); ++l) {
      if (group_heard_[l] != 0 && now - group_heard_[l] < settings_.link_timeout) use.push_back(l);
    }
    if (use.empty()) {
      for (unsigned l = 0; l < links_.size(); ++l) use.push_back(l);
    }
    for (unsigned l : use) {
      transmit(l, asio::ip::udp::endpoint(*links_[l]->spec.multicast_group, links_[l]->spec.port),
               *frames);
    }
    return {};
  }
  for (auto& p : peers_) {
    for (unsigned l : routes(p, now)) transmit_to(p, l, *frames, now);
  }
  return {};
}

Result<void> Links::send_to(NodeId id, std::span<const std::uint8_t> message) {
  auto it = std::find_if(peers_.begin(), peers_.end(), [&](const Peer& p) { return p.id == id; });
  const Millis now = monotonic_now();
  if (it == peers_.end() || routes(*it, now).empty()) {
    if (multicast()) return send_all(message);
    return fail("transport: no address for node " + std::to_string(id));
  }
  auto frames = sender_.frames(message);
  if (!frames.ok()) return frames.error();
  for (unsigned l : routes(*it, now)) transmit_to(*it, l, *frames, now);
  return {};
}

std::vector<LinkStatus> Links::status() const {
  const Millis now = monotonic_now();
  const Micros micros = monotonic_micros();
  const auto timeout = static_cast<Micros>(settings_.ping_timeout) * 1000;
  std::vector<LinkStatus> out;
  for (unsigned l = 0; l < links_.size(); ++l) {
    LinkStatus s{l, links_[l]->spec.local.to_string(), {}};
    for (const auto& p : peers_) {
      if (!p.endpoints[l]) continue;
      s.peers.push_back({p.id, p.heard[l] != 0 && now - p.heard[l] < settings_.link_timeout,
                         p.pings[l].quality(micros, timeout)});
    }
    out.push_back(std::move(s));
  }
  return out;
}

Millis Links::last_heard(NodeId id) const {
  for (const auto& p : peers_) {
    if (p.id == id) return p.heard.empty() ? 0 : *std::max_element(p.heard.begin(), p.heard.end());
  }
  return 0;
}

}  // namespace vigil::transport
