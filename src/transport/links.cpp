#include "transport/links.h"

#include <algorithm>
#include <chrono>

namespace vigil::transport {

Millis monotonic_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Links::Links(LinkSettings settings, OnMessage on_message)
    : settings_(std::move(settings)),
      on_message_(std::move(on_message)),
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
                                           OnMessage on_message) {
  if (settings.links.empty()) return fail("transport: no link to bind");
  std::unique_ptr<Links> links(new Links(std::move(settings), std::move(on_message)));
  for (const auto& spec : links->settings_.peers) {
    auto& p = links->peer(spec.id);
    p.endpoints = spec.links;
    p.endpoints.resize(links->settings_.links.size());
  }
  for (const auto& spec : links->settings_.links) {
    links->links_.push_back(std::make_unique<Link>(Link{spec, asio::ip::udp::socket(io), {}, {}}));
    if (auto bound = links->bind(*links->links_.back()); !bound.ok()) return bound.error();
  }
  for (unsigned i = 0; i < links->links_.size(); ++i) links->receive(i);
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
    if (ec) return fail("transport: cannot bind " + where + ": " + ec.message());
  }
  link.socket.non_blocking(true, ec);
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
        Link& l = *links_[index];
        if (!ec) {
          const auto now = monotonic_now();
          auto message = receiver_.accept(std::span(l.buffer.data(), size), now);
          receiver_.expire(now);
          if (message) {
            const auto from = l.from;
            delivered(std::move(*message), index, from);
            if (!*alive) return;  // the callback may have closed the links
          }
        }
        receive(index);
      });
}

void Links::delivered(Message&& message, unsigned link, const asio::ip::udp::endpoint& from) {
  const Millis now = monotonic_now();
  Peer& p = peer(message.sender);
  p.heard[link] = now;
  group_heard_[link] = now;
  // Multicast finds its members on the wire: the source address is where this peer answers.
  if (multicast() || !p.endpoints[link]) p.endpoints[link] = from;
  on_message_(std::move(message), link);
}

Links::Peer& Links::peer(NodeId id) {
  auto it = std::find_if(peers_.begin(), peers_.end(), [&](const Peer& p) { return p.id == id; });
  if (it != peers_.end()) return *it;
  Peer p{id, std::vector<std::optional<asio::ip::udp::endpoint>>(settings_.links.size()),
         std::vector<Millis>(settings_.links.size(), 0)};
  peers_.push_back(std::move(p));
  return peers_.back();
}

std::vector<unsigned> Links::routes(const Peer& p, Millis now) const {
  for (unsigned l = 0; l < p.endpoints.size(); ++l) {
    if (p.endpoints[l] && p.heard[l] != 0 && now - p.heard[l] < settings_.link_timeout) return {l};
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
    if (ec) ++send_errors_;  // UDP: a full buffer or an unreachable peer is a lost datagram
  }
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
  for (const auto& p : peers_) {
    for (unsigned l : routes(p, now)) transmit(l, *p.endpoints[l], *frames);
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
  for (unsigned l : routes(*it, now)) transmit(l, *it->endpoints[l], *frames);
  return {};
}

std::vector<LinkStatus> Links::status() const {
  const Millis now = monotonic_now();
  std::vector<LinkStatus> out;
  for (unsigned l = 0; l < links_.size(); ++l) {
    LinkStatus s{l, links_[l]->spec.local.to_string(), {}};
    for (const auto& p : peers_) {
      if (!p.endpoints[l]) continue;
      s.peers.push_back({p.id, p.heard[l] != 0 && now - p.heard[l] < settings_.link_timeout});
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vigil::transport
