// daemon/system: the small operating-system edges vigild needs — its pid files and locks, systemd's
// readiness notification, the machine's own addresses (to find which nodelist entry it is),
// and reading a file's bytes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/common.h"

namespace vigil::daemon {

// A pid file held under flock(2) for the process's lifetime: while this process lives no other
// takes it, whatever the file says, and a crash releases it with the process. vigild holds one in
// its state dir and one in its run dir, so a second vigild on either stops before it touches them.
class PidLock {
 public:
  // Fails naming the holder's pid when another process holds `path`; `what` names what it guards
  // ("state dir", "run dir").
  static Result<PidLock> take(const std::string& path, const std::string& what);
  PidLock(PidLock&& other) noexcept
      : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}
  PidLock& operator=(PidLock&&) = delete;
  ~PidLock();

 private:
  PidLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET, if systemd set it. Returns
// whether a message was sent.
bool notify_systemd(const std::string& state);

// Every IPv4 and IPv6 address configured on this machine's interfaces, as text.
std::vector<std::string> local_addresses();
// The local IPv4 address in bindnetaddr's network (or equal to it), as Corosync picks it.
Result<std::string> address_in_network(const std::string& bindnetaddr);

Result<std::vector<std::uint8_t>> read_bytes(const std::string& path);
Result<void> write_text(const std::string& path, const std::string& text);  // atomic replace

// Microseconds since the epoch: the session number of this start (grows across restarts).
std::uint64_t session_number();

}  // namespace vigil::daemon
