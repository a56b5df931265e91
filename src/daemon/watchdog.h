// daemon/watchdog: the hardware (or emulated) timer that resets this machine when vigild stops
// feeding it — the backend issue 17's lease will drive. Nothing opens one yet: no config key or
// CIB property reaches it until the lease enforces it (a watchdog configured but not enforced
// would promise users a safety they do not have).
//
// The plan (NOT YET ENFORCED; issue 17 item 2). The lease will guarantee:
//  - A node feeds its watchdog only while it is a member of an operational ring that has quorum
//    and its own core is stepping. Otherwise it stops feeding (and stops its resources), so a node
//    that is frozen, cut off, out of quorum or whose loop is stuck is reset by the timer, not by
//    its own (possibly stalled) judgement.
//  - Survivors bound, from the ring and not from wall clocks, when a lost node is gone: let t be
//    the moment (on the survivor's monotonic clock) of the last token the lost node could have
//    received, by the ring's own record. After t it could not have fed, so it is reset by
//    t + watchdog_timeout + margin, where the margin covers clock-rate drift between the two
//    machines over that span and the reset's own latency. Survivors wait exactly that before
//    treating the node as reset, and nothing extra when the token timeout already covers it.
//  - `timeout()` below is what the device granted, not what was asked: the lease must use it.
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
