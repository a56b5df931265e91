// The node's timers as the tests of tests/node play them: the deadline each Output sets, fired
// earliest first up to a time.
#pragma once

#include <array>
#include <optional>

#include "node/node.h"

namespace vigil::node {

class Timers {
 public:
  void set(const Output& out) {
    for (const auto& t : out.timers) at_[static_cast<std::size_t>(t.timer)] = t.deadline;
  }
  // Fires each timer due up to `until`, earliest first, as fire(timer, deadline); bounded.
  template <class Fire>
  void run_until(Millis until, Fire&& fire) {
    for (int i = 0; i < 100000; ++i) {
      std::optional<std::size_t> next;
      for (std::size_t t = 0; t < at_.size(); ++t) {
        if (at_[t] && (!next || *at_[t] < *at_[*next])) next = t;
      }
      if (!next || *at_[*next] > until) return;
      const Millis deadline = *at_[*next];
      at_[*next].reset();
      fire(static_cast<Timer>(*next), deadline);
    }
  }

 private:
  std::array<std::optional<Millis>, kTimerCount> at_;
};

}  // namespace vigil::node
