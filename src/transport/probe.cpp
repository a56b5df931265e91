#include "transport/probe.h"

#include <algorithm>

namespace vigil::transport {

std::uint32_t PingLog::sent(Micros now) {
  if (kept_.size() == kKept) kept_.pop_front();
  kept_.push_back(Ping{next_, now, std::nullopt});
  return next_++;
}

void PingLog::answered(std::uint32_t number, Micros now) {
  auto it = std::find_if(kept_.begin(), kept_.end(),
                         [&](const Ping& p) { return p.number == number; });
  if (it == kept_.end() || it->round_trip || now < it->sent) return;
  it->round_trip = now - it->sent;
}

LinkQuality PingLog::quality(Micros now, Micros timeout) const {
  LinkQuality q;
  Micros total = 0;
  std::uint32_t answered = 0;
  for (const auto& p : kept_) {
    const bool late = !p.round_trip || *p.round_trip > timeout;
    const bool due = now >= p.sent && now - p.sent >= timeout;
    if (p.round_trip) {
      total += *p.round_trip;
      ++answered;
      q.last_round_trip = p.round_trip;
    }
    if (due || !late) ++q.pings;
    if (due && late) ++q.lost;
  }
  if (answered > 0) q.mean_round_trip = total / answered;
  return q;
}

}  // namespace vigil::transport
