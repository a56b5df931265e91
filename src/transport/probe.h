// transport/probe: one link's round trip and loss to one peer, from the pings this node sent on
// it and the pongs that came back (transport/frame.h's probes; Links sends a ping per peer and
// link every ping interval and answers every ping at once). Pure: the times are passed in.
//
// A ping counts as lost once it has gone unanswered for the timeout; a pong that comes later
// still gives a round trip but no longer undoes the loss, so the loss ratio of a slow link stays
// what the peer's failure detection saw. Only the last kKept pings count: the figures say how the
// link is now, not since the start.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace vigil::transport {

using Micros = std::uint64_t;

struct LinkQuality {
  std::uint32_t pings = 0;  // of the last kKept, those answered or past the timeout
  std::uint32_t lost = 0;   // of those, unanswered within the timeout
  std::optional<Micros> last_round_trip;  // of the latest ping answered
  std::optional<Micros> mean_round_trip;  // over the answered pings kept
  double loss() const { return pings == 0 ? 0.0 : static_cast<double>(lost) / pings; }
};

class PingLog {
 public:
  static constexpr std::size_t kKept = 64;
  // A ping goes out at `now`: its number, for the probe.
  std::uint32_t sent(Micros now);
  // The pong of ping `number` came at `now`. A number not sent, no longer kept or already
  // answered (a duplicate) changes nothing.
  void answered(std::uint32_t number, Micros now);
  LinkQuality quality(Micros now, Micros timeout) const;

 private:
  struct Ping {
    std::uint32_t number = 0;
    Micros sent = 0;
    std::optional<Micros> round_trip;
  };
  std::deque<Ping> kept_;  // oldest first, at most kKept
  std::uint32_t next_ = 1;
};

}  // namespace vigil::transport
