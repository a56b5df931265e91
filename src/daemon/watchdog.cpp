#include "daemon/watchdog.h"

#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::daemon {

Millis armed_at_most(Millis timeout) {
  return (timeout + 999) / 1000 * 1000;
}

namespace {

constexpr std::string_view kUnixPrefix = "unix:";

std::string cause(int error) {
  return std::strerror(error);
}

// Opens a Linux watchdog device and sets its timeout, in whole seconds rounded up (a shorter
// timer than asked would reset a node that kept its promise). Returns the descriptor and the
// granted timeout in milliseconds.
Result<std::pair<int, Millis>> open_device(const std::string& path, Millis timeout) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail("watchdog " + path + ": cannot open: " + cause(errno));
  // WDIOC_GETSUPPORT only reads, so a device that is not a watchdog learns nothing from us.
  watchdog_info info{};
  if (::ioctl(fd, WDIOC_GETSUPPORT, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("watchdog " + path + ": not a watchdog device (WDIOC_GETSUPPORT: " + cause(error) +
                ")");
  }
  int seconds = static_cast<int>(armed_at_most(timeout) / 1000);
  if (::ioctl(fd, WDIOC_SETTIMEOUT, &seconds) != 0) {
    const int error = errno;
    // Opening armed it: disarm with the magic close before giving up.
    [[maybe_unused]] const auto n = ::write(fd, "V", 1);
    ::close(fd);
    return fail("watchdog " + path + ": cannot set the timeout to " + std::to_string(seconds) +
                " s (WDIOC_SETTIMEOUT: " + cause(error) + ")");
  }
  return std::pair{fd, Millis{seconds} * 1000};
}

Result<int> connect_socket(const std::string& path, Millis timeout) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("watchdog unix:" + path + ": cannot create a socket: " + cause(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("watchdog unix:" + path + ": cannot connect: " + cause(error));
  }
  const std::string hello = "T" + std::to_string(timeout) + "\n";
  if (::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(hello.size())) {
    const int error = errno;
    ::close(fd);
    return fail("watchdog unix:" + path + ": cannot send the timeout: " + cause(error));
  }
  return fd;
}

}  // namespace

Result<WatchdogDevice> parse_watchdog_device(std::string_view spec) {
  if (spec.starts_with(kUnixPrefix)) {
    const std::string path{spec.substr(kUnixPrefix.size())};
    if (path.empty()) return fail("watchdog device '" + std::string{spec} + "': no socket path");
    if (path.size() >= sizeof sockaddr_un{}.sun_path) {
      return fail("watchdog device '" + std::string{spec} + "': the socket path is longer than " +
                  std::to_string(sizeof sockaddr_un{}.sun_path - 1) + " bytes");
    }
    return WatchdogDevice{WatchdogDevice::Kind::unix_socket, path};
  }
  if (!spec.starts_with('/')) {
    return fail("watchdog device '" + std::string{spec} +
                "': expected an absolute device path (/dev/watchdog) or unix:PATH");
  }
  return WatchdogDevice{WatchdogDevice::Kind::linux_device, std::string{spec}};
}

Result<Watchdog> Watchdog::open(std::string_view spec, Millis timeout) {
  auto device = parse_watchdog_device(spec);
  if (!device) return device.error();
  if (timeout <= 0) {
    return fail("watchdog " + std::string{spec} + ": the timeout must be positive, not " +
                std::to_string(timeout) + " ms");
  }
  if (device->kind == WatchdogDevice::Kind::unix_socket) {
    auto fd = connect_socket(device->path, timeout);
    if (!fd) return fd.error();
    return Watchdog{std::move(*device), timeout, *fd};
  }
  auto opened = open_device(device->path, timeout);
  if (!opened) return opened.error();
  return Watchdog{std::move(*device), opened->second, opened->first};
}

Watchdog::~Watchdog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Watchdog::name() const {
  return device_.kind == WatchdogDevice::Kind::unix_socket ? "unix:" + device_.path : device_.path;
}

// One byte on the socket. MSG_DONTWAIT: a peer that stopped reading must not stall vigild's loop
// (the lease would then stop feeding anyway); MSG_NOSIGNAL: a vanished peer is an error, not a
// SIGPIPE.
Result<void> Watchdog::send(char byte, const char* what) {
  if (::send(fd_, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
    return fail("watchdog " + name() + ": " + what + ": " + cause(errno));
  }
  return {};
}

Result<void> Watchdog::keepalive() {
  VIGIL_ASSERT(fd_ >= 0);
  if (device_.kind == WatchdogDevice::Kind::unix_socket) return send('k', "keepalive");
  if (::ioctl(fd_, WDIOC_KEEPALIVE, 0) != 0) {
    return fail("watchdog " + name() + ": keepalive (WDIOC_KEEPALIVE): " + cause(errno));
  }
  return {};
}

Result<void> Watchdog::close() {
  VIGIL_ASSERT(fd_ >= 0);
  Result<void> sent;
  if (device_.kind == WatchdogDevice::Kind::unix_socket) {
    sent = send('V', "magic close");
  } else if (::write(fd_, "V", 1) != 1) {
    sent = fail("watchdog " + name() + ": magic close: " + cause(errno));
  }
  ::close(std::exchange(fd_, -1));
  return sent;
}

}  // namespace vigil::daemon
