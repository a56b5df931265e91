// The loop watch: how long vigild's loop was held by one piece of work. The loop is the thread
// that arms the totem timers, so work that holds it past a token timeout costs the membership.
// A probe timer due every kProbe ms measures how late it fires; the lateness is the time another
// handler held the loop (short by at most kProbe). `status` shows the longest and how many were
// over each bound; each one over kLogged is logged at debug level. Two clock reads per probe.
#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <chrono>

#include "daemon/loop_watch.h"

namespace vigil::daemon {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kProbe{10};
constexpr long kLogged = 20;
constexpr std::array<long, 5> kBounds{10, 50, 100, 250, 1000};

class LoopWatch final : public Service {
 public:
  // The first probe is armed once the loop runs: the work done before it (loading the CIB) is not
  // on the loop.
  explicit LoopWatch(Host& host) : log_(host.log("MAIN")), probe_(host.io()) {
    probe_.expires_after(std::chrono::milliseconds(0));
    probe_.async_wait([this](const asio::error_code& ec) {
      if (!ec) arm();
    });
  }
  ~LoopWatch() override { probe_.cancel(); }
  LoopWatch(const LoopWatch&) = delete;
  LoopWatch& operator=(const LoopWatch&) = delete;

  void add_status(Json& status) const override {
    Json over = Json::object();
    for (std::size_t i = 0; i < kBounds.size(); ++i) over[std::to_string(kBounds[i])] = over_[i];
    status["loop"] = Json{{"longest_stall_ms", longest_}, {"stalls_over_ms", over}};
  }
  void stop() override { probe_.cancel(); }

 private:
  void arm() {
    due_ = Clock::now() + kProbe;
    probe_.expires_at(due_);
    probe_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      record(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - due_).count());
      arm();
    });
  }

  void record(long late) {
    longest_ = std::max(longest_, late);
    for (std::size_t i = 0; i < kBounds.size(); ++i) over_[i] += late >= kBounds[i] ? 1 : 0;
    if (late >= kLogged) log_->debug("the loop was held {} ms", late);
  }

  std::shared_ptr<spdlog::logger> log_;
  asio::steady_timer probe_;
  Clock::time_point due_;
  long longest_ = 0;
  std::array<long, kBounds.size()> over_{};
};

}  // namespace

std::unique_ptr<Service> make_loop_watch(Host& host) {
  return std::make_unique<LoopWatch>(host);
}

}  // namespace vigil::daemon
