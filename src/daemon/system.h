// daemon/system: the small operating-system edges vigild needs — its pid file, systemd's
// readiness notification, the machine's own addresses (to find which nodelist entry it is),
// and reading a file's bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/common.h"

namespace vigil::daemon {

// Writes the pid file, refusing when it names another live process.
class PidFile {
 public:
  static Result<PidFile> create(const std::string& path);
  PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  PidFile& operator=(PidFile&&) = delete;
  ~PidFile();

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
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
