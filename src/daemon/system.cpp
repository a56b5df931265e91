#include "daemon/system.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vigil::daemon {

Result<PidFile> PidFile::create(const std::string& path) {
  if (std::ifstream in(path); in) {
    long pid = 0;
    if (in >> pid && pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) {
      return fail("pid file " + path + " names the running process " + std::to_string(pid) +
                  "; is vigild already running?");
    }
  }
  if (auto written = write_text(path, std::to_string(::getpid()) + "\n"); !written.ok()) {
    return written.error();
  }
  return PidFile(path);
}

PidFile::~PidFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
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
