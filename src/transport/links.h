// transport/links: the UDP links of one node. Unicast to every nodelist address (udpu, and knet
// read as unicast) or multicast to a group (udp, members found without a nodelist). Up to eight
// links per node (ring0_addr, ring1_addr …): a peer is reached on the lowest-numbered link it was
// recently heard on, and on every link while none is fresh, so traffic fails over when a link
// goes quiet and comes back when it recovers. Every datagram goes through transport/frame.
// The sockets ask for ICMP errors (IP_RECVERR): when a peer's host answers a datagram with "port
// unreachable", the peer's process is gone although its host is up, and Links says so at once
// (OnRefused) instead of leaving it to the token timeout.
#pragma once

#include <asio.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/frame.h"
#include "transport/probe.h"

namespace vigil::transport {

struct LinkSpec {
  asio::ip::address local;  // this node's address on the link (bound, and the multicast interface)
  std::uint16_t port = 5405;
  std::optional<asio::ip::address> multicast_group;  // set: udp multicast; unset: unicast
  unsigned ttl = 1;
};

struct PeerSpec {
  NodeId id = 0;
  std::vector<std::optional<asio::ip::udp::endpoint>> links;  // by link number; unset: not on it
};

struct LinkSettings {
  NodeId self = 0;
  std::vector<LinkSpec> links;  // by link number
  std::vector<PeerSpec> peers;  // unicast: the nodelist without this node; multicast: may be empty
  std::uint64_t session = 0;    // increases with every start of this node (the replay window)
  std::optional<FrameKey> key;  // unset: frames go unsealed (secauth off, crypto_cipher none)
  std::size_t max_datagram = 1472;  // netmtu − IPv4 and UDP headers
  Millis link_timeout = 1000;       // a link silent this long is not preferred for a peer
  Millis report_every = 30000;      // reports of one source's unauthentic frames, at most
  // Unicast: a peer that was sent nothing on a link for this long gets an empty datagram there,
  // which its host refuses once its process is gone. Without it an idle ring finds a killed peer
  // only when its next frame to it comes round (a parked token, a merge-detect turn: hundreds of
  // ms), and the port of a process killed a moment ago stays open while the kernel tears the
  // process down, so the frames sent to it meanwhile vanish without a refusal. 0: off.
  Millis probe_interval = 0;
  // Unicast: a ping to every peer on every link this often, answered at once with a pong, for
  // the link's round trip and loss (`vigil cluster status`, /metrics); a ping unanswered for
  // ping_timeout is lost. Corosync's knet defaults: token / 4 and token / 2. 0: no pings.
  Millis ping_interval = 0;
  Millis ping_timeout = 1000;
  ReassemblyLimits reassembly;
};

// How one link looks from this node, for `vigil cluster status` (cf. corosync-cfgtool -s).
struct LinkStatus {
  unsigned link = 0;
  std::string local;
  struct PeerState {
    NodeId id = 0;
    bool connected = false;  // heard within link_timeout
    LinkQuality quality;     // from the pings on this link
  };
  std::vector<PeerState> peers;
};

// Frames from one source address that failed authentication. A node sealing with another
// authkey (or with crypto set otherwise) never joins and is heard of nowhere else, so these are
// kept per address, for the log and `vigil status`.
struct Unauthentic {
  asio::ip::udp::endpoint from;
  NodeId claimed = 0;                 // the sender its headers name (unproven)
  bool sealed = false;                // whether its last frame came sealed
  std::uint64_t frames = 0;           // since this node started
  Millis last = 0;                    // when the last one came (monotonic)
  std::uint64_t reported_frames = 0;  // `frames` at the last report
  Millis reported = 0;                // when it was last reported
};

class Links {
 public:
  // A whole, authentic message from a peer, and the link it came in on.
  using OnMessage = std::function<void(Message&&, unsigned link)>;
  // A peer's host refused our datagrams (ICMP port unreachable) on every link the peer has an
  // address on, since we last heard it there; `where` is the refused address. Called from the
  // io_context, never from inside a send; again for each further refusal.
  using OnRefused = std::function<void(NodeId peer, const asio::ip::udp::endpoint& where)>;
  // Frames from `source.from` fail authentication: called for its first one, then at most once
  // per LinkSettings::report_every; `suppressed`: the frames since the last report not reported.
  using OnUnauthentic = std::function<void(const Unauthentic& source, std::uint64_t suppressed)>;
  static constexpr std::size_t kMaxUnauthentic = 64;  // addresses kept; the stalest gives way

  // Binds a socket per link (joining the multicast group where there is one) and starts reading.
  static Result<std::unique_ptr<Links>> open(asio::io_context& io, LinkSettings settings,
                                             OnMessage on_message, OnRefused on_refused = {},
                                             OnUnauthentic on_unauthentic = {});
  ~Links();
  Links(const Links&) = delete;
  Links& operator=(const Links&) = delete;

  // To every member (every known peer, or the group).
  Result<void> send_all(std::span<const std::uint8_t> message);
  // To one peer; falls back to the group when multicast has not yet heard from it.
  Result<void> send_to(NodeId peer, std::span<const std::uint8_t> message);

  // The nodelist changed (node/nodelist.h): unicast reaches `spec` from now on, or no longer
  // reaches `id`. Adding a known peer replaces its addresses.
  void add_peer(const PeerSpec& spec);
  void remove_peer(NodeId id);

  const Counters& counters() const { return receiver_.counters(); }
  std::uint64_t send_errors() const { return send_errors_; }
  std::uint64_t refusals() const { return refusals_; }  // ICMP port unreachable, all links
  const std::vector<Unauthentic>& unauthentic() const { return unauthentic_; }
  std::vector<LinkStatus> status() const;
  // When a frame of `peer` was last heard on any link (monotonic); 0: never.
  Millis last_heard(NodeId peer) const;
  std::size_t max_message() const { return sender_.max_message(); }

 private:
  struct Peer {
    NodeId id = 0;
    std::vector<std::optional<asio::ip::udp::endpoint>> endpoints;  // by link
    std::vector<Millis> heard;                                      // by link; 0: never
    std::vector<bool> refused;  // by link: its host refused us there since we last heard it
    std::vector<Millis> sent;   // by link: when a datagram last went to it there
    std::vector<PingLog> pings;   // by link
    std::vector<Millis> pinged;   // by link: when the last ping went
  };
  struct Link {
    LinkSpec spec;
    asio::ip::udp::socket socket;
    asio::ip::udp::endpoint from;
    std::vector<std::uint8_t> buffer;
  };

  Links(LinkSettings settings, OnMessage on_message, OnRefused on_refused,
        OnUnauthentic on_unauthentic);
  Result<void> bind(Link& link);
  void receive(unsigned index);
  void take(unsigned index, std::size_t size);
  void take_queued(unsigned index);
  // Reads link `index`'s error queue; the number of errors read.
  std::size_t drain_errors(unsigned index);
  void refused(unsigned link, const asio::ip::udp::endpoint& where);
  void report_refusals();
  void unauthentic(const asio::ip::udp::endpoint& from, std::span<const std::uint8_t> datagram,
                   Millis now);
  void delivered(Message&& message, unsigned link, const asio::ip::udp::endpoint& from);
  void probed(const Probe& probe, unsigned link, const asio::ip::udp::endpoint& from);
  // The peer `id` was heard on `link` from `from`, authentically.
  Peer& heard(NodeId id, unsigned link, const asio::ip::udp::endpoint& from, Millis now);
  Peer& peer(NodeId id);
  // The links to reach a peer on: the lowest fresh one, else every link it has an address on.
  std::vector<unsigned> routes(const Peer& peer, Millis now) const;
  void transmit(unsigned link, const asio::ip::udp::endpoint& to, const std::vector<Bytes>& frames);
  void transmit_to(Peer& peer, unsigned link, const std::vector<Bytes>& frames, Millis now);
  void probe();
  void ping(Peer& peer, unsigned link, Millis now);
  bool multicast() const;

  LinkSettings settings_;
  OnMessage on_message_;
  OnRefused on_refused_;
  OnUnauthentic on_unauthentic_;
  FrameSender sender_;
  FrameReceiver receiver_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<Peer> peers_;
  std::vector<Millis> group_heard_;  // multicast: when anyone was last heard, by link
  std::uint64_t send_errors_ = 0;
  std::uint64_t refusals_ = 0;
  std::vector<Unauthentic> unauthentic_;
  std::vector<std::pair<NodeId, asio::ip::udp::endpoint>> refusals_due_;  // not yet reported
  bool report_posted_ = false;
  std::optional<asio::steady_timer> probe_timer_;
  std::shared_ptr<bool> alive_;
};

// Milliseconds on the monotonic clock, the time every edge passes into the cores.
Millis monotonic_now();

}  // namespace vigil::transport
