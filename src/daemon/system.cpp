#include "daemon/system.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil::daemon {

namespace {

// The pid the holder wrote, or why there is none yet (it writes just after it locks).
std::string holder_of(int fd) {
  char text[32] = {};
  const auto n = ::pread(fd, text, sizeof text - 1, 0);
  const long pid = n > 0 ? std::strtol(text, nullptr, 10) : 0;
  return pid > 0 ? std::to_string(pid) : "not written yet";
}

bool same_file(int fd, const std::string& path) {
  struct stat held {
  }, named{};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
         held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace

Result<PidLock> PidLock::take(const std::string& path, const std::string& what) {
  // Bounded: each retry means a holder removed the file between our open and our lock.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = holder_of(fd);
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return fail("vigild is already running for this " + what + " (pid " + holder +
                    "): " + path + " is locked");
      }
      return fail("cannot lock " + path + ": " + std::strerror(error));
    }
    // A lock on a file its last holder removed on exit guards nothing: take the new one.
    if (!same_file(fd, path)) {
      ::close(fd);
      continue;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      const int error = errno;
      ::close(fd);
      return fail("cannot write " + path + ": " + std::strerror(error));
    }
    return PidLock(path, fd);
  }
  return fail("cannot lock " + path + ": it keeps being replaced");
}

PidLock::~PidLock() {
  if (fd_ < 0) return;
  // Removed while still locked: whoever opened it meanwhile sees it is gone and opens anew.
  ::unlink(path_.c_str());
  ::close(fd_);
}

bool notify_systemd(const std::string& state) {
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr || (where[0] != '/' && where[0] != '@')) return false;
  sockaddr_un addr{};
  const std::size_t length = std::strlen(where);
  if (length >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, where, length);
  if (where[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  const bool sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr),
                             size) == static_cast<ssize_t>(state.size());
  ::close(fd);
  return sent;
}

namespace {
template <class Visit>
void each_interface(Visit visit) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr != nullptr) visit(*i);
  }
  ::freeifaddrs(list);
}
}  // namespace

std::vector<std::string> local_addresses() {
  std::vector<std::string> out;
  each_interface([&](const ifaddrs& i) {
    char text[INET6_ADDRSTRLEN] = {};
    if (i.ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i.ifa_addr)->sin_addr, text,
                  sizeof text);
    } else if (i.ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(i.ifa_addr)->sin6_addr, text,
                  sizeof text);
    } else {
      return;
    }
    out.emplace_back(text);
  });
  return out;
}

Result<std::string> address_in_network(const std::string& bindnetaddr) {
  in_addr wanted{};
  if (::inet_pton(AF_INET, bindnetaddr.c_str(), &wanted) != 1) {
    return fail("bindnetaddr " + bindnetaddr + " is not an IPv4 address");
  }
  std::string found;
  each_interface([&](const ifaddrs& i) {
    if (!found.empty() || i.ifa_addr->sa_family != AF_INET || i.ifa_netmask == nullptr) return;
    const auto addr = reinterpret_cast<const sockaddr_in*>(i.ifa_addr)->sin_addr.s_addr;
    const auto mask = reinterpret_cast<const sockaddr_in*>(i.ifa_netmask)->sin_addr.s_addr;
    if (addr == wanted.s_addr || (addr & mask) == (wanted.s_addr & mask)) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i.ifa_addr)->sin_addr, text,
                  sizeof text);
      found = text;
    }
  });
  if (found.empty())
    return fail("no interface of this machine is in the network of bindnetaddr " + bindnetaddr);
  return found;
}

Result<std::vector<std::uint8_t>> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read " + path + ": " + std::strerror(errno));
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in),
                                   std::istreambuf_iterator<char>());
}

Result<void> write_text(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot write " + temporary + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return fail("cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

std::uint64_t session_number() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace vigil::daemon
