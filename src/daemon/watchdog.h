// daemon/watchdog: the hardware (or emulated) timer that resets this machine when vigild stops
// feeding it. vigild opens the one corosync.conf's `resources { watchdog_device }` names before
// its loop, with `watchdog_timeout`, and feeds it only when the node core's step says so
// (node::Output::feed_watchdog): the lease in src/node/lease.h decides, and states why it is safe.
// An orderly stop closes it with 'V', unless the lease was lost (then the reset must come).
// `timeout()` below is what the device granted, not what was asked: the lease uses it.
//
// Backends, chosen by the device spec (corosync.conf's `resources { watchdog_device: ... }`):
//  - a path ("/dev/watchdog"): the Linux watchdog API — WDIOC_SETTIMEOUT (whole seconds, rounded
//    up, read back), WDIOC_KEEPALIVE, and the magic close ('V' then close) on an orderly stop.
//  - "unix:PATH": a SOCK_STREAM Unix socket for machines without one (containers, tests). vigild
//    writes "T<milliseconds>\n" once, then one byte 'k' per keepalive, and 'V' before an orderly
//    close. A close without 'V', or no byte within the timeout, means "reset now" to the other
//    end (tests/watchdog/emulator is that end).
// Both descriptors are close-on-exec: an agent must not hold the watchdog open after vigild dies,
// or kill -9 of vigild would no longer look like a close without 'V'.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/common.h"

namespace vigil::daemon {

// A parsed watchdog_device value.
struct WatchdogDevice {
  enum class Kind { linux_device, unix_socket };
  Kind kind = Kind::linux_device;
  std::string path;  // the device's path, or the socket's
};

// "/dev/watchdog" or "unix:/run/x.sock"; the one place the spec's syntax lives.
Result<WatchdogDevice> parse_watchdog_device(std::string_view spec);

// The longest timer a watchdog opened with `timeout` runs: the Linux API's whole seconds, rounded
// up. A vigild killed on this host may have left one armed; the next waits it out (lease.h,
// Rule 5) before it opens the device, or its open would feed the old timer.
Millis armed_at_most(Millis timeout);

class Watchdog {
 public:
  // Opens and arms the watchdog with `timeout` (> 0). From here on, unless keepalive() is called
  // within timeout() or close() is called, the machine is reset.
  static Result<Watchdog> open(std::string_view spec, Millis timeout);

  Watchdog(Watchdog&& other) noexcept
      : device_(std::move(other.device_)),
        timeout_(other.timeout_),
        fd_(std::exchange(other.fd_, -1)) {}
  Watchdog& operator=(Watchdog&&) = delete;
  // Without close(), the descriptor closes without the magic 'V': the timer keeps running (a
  // Linux device) or the emulator resets at once. That is the point — only an orderly stop
  // disarms it.
  ~Watchdog();

  Result<void> keepalive();
  // The orderly stop: 'V', then close. The watchdog is disarmed afterwards (on a device opened
  // with nowayout the kernel ignores 'V', and the machine is reset anyway).
  Result<void> close();

  Millis timeout() const { return timeout_; }  // as granted
  const WatchdogDevice& device() const { return device_; }

 private:
  Watchdog(WatchdogDevice device, Millis timeout, int fd)
      : device_(std::move(device)), timeout_(timeout), fd_(fd) {}
  std::string name() const;  // the spec, for messages
  Result<void> send(char byte, const char* what);

  WatchdogDevice device_;
  Millis timeout_ = 0;
  int fd_ = -1;
};

}  // namespace vigil::daemon
