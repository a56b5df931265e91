// vigil-watchdog-emulator: the other end of vigild's `unix:PATH` watchdog (src/daemon/watchdog.h),
// for machines without a watchdog device — containers, tests, the namespace harness. It behaves
// as a watchdog device does: armed by "T<milliseconds>\n", fed by any 'k', disarmed only by a
// close whose last byte was 'V'. On expiry it runs the reset action the harness gives it (there:
// kill every process in the host's namespaces and remove every address but its base one, which
// is what a real watchdog reboot does to a VIP).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr const char* kUsage =
    "usage: vigil-watchdog-emulator --socket PATH [--on-reset CMD] [--once]\n"
    "\n"
    "Listens on the Unix socket PATH and serves one connection at a time. A client arms the\n"
    "watchdog with the line \"T<milliseconds>\\n\", then feeds it with 'k' bytes; a 'V' as its\n"
    "last byte before closing disarms it. No byte within the timeout, a close without 'V' (the\n"
    "reset then comes one timeout after the close, as Linux's watchdog_dev does), or any other\n"
    "byte resets: the emulator prints \"reset: <why>\" and runs CMD with /bin/sh -c.\n"
    "\n"
    "Output, one line per event on stdout: \"listening: PATH\", \"armed: <ms> ms\",\n"
    "\"closed: orderly\", \"reset: <why>\", \"refused: <why>\" (a first line that is not\n"
    "T<milliseconds>: the watchdog was never armed, so nothing is reset).\n"
    "\n"
    "Without --once it serves connections until killed. With --once it exits after the first:\n"
    "0 after an orderly close, 1 after a reset (once CMD has run), 3 after a refused first line.\n"
    "Exit 2: bad arguments, or the socket could not be set up.\n";

// How long a client may take to send its first line before it is refused.
constexpr int kFirstLineMs = 10'000;
constexpr std::size_t kFirstLineMax = 32;

enum class Outcome { orderly, reset, refused };

struct Options {
  std::string socket;
  std::string on_reset;
  bool once = false;
};

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--once") {
      options.once = true;
    } else if ((arg == "--socket" || arg == "--on-reset") && i + 1 < argc) {
      (arg == "--socket" ? options.socket : options.on_reset) = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  if (options.socket.empty()) return std::nullopt;
  return options;
}

// "T<milliseconds>", milliseconds a positive decimal number.
std::optional<long> parse_first_line(std::string_view line) {
  if (line.size() < 2 || line[0] != 'T') return std::nullopt;
  long ms = 0;
  const auto [end, error] = std::from_chars(line.data() + 1, line.data() + line.size(), ms);
  if (error != std::errc{} || end != line.data() + line.size() || ms <= 0) return std::nullopt;
  return ms;
}

// Reads the first line byte by byte, so that no keepalive after it is consumed here.
std::optional<std::string> read_first_line(int fd) {
  std::string line;
  while (line.size() < kFirstLineMax) {
    pollfd p{fd, POLLIN, 0};
    char byte = 0;
    if (::poll(&p, 1, kFirstLineMs) != 1 || ::recv(fd, &byte, 1, 0) != 1) return std::nullopt;
    if (byte == '\n') return line;
    line.push_back(byte);
  }
  return std::nullopt;
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "?";
  return out;
}

// Feeds until the client closes or the timer runs out; returns why it ended.
Outcome watch(int fd, long timeout_ms, std::string& why) {
  using Clock = std::chrono::steady_clock;
  bool magic = false;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      why = "no keepalive within " + std::to_string(timeout_ms) + " ms";
      return Outcome::reset;
    }
    char bytes[64];
    const auto n = ::recv(fd, bytes, sizeof bytes, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string{"connection error: "} + std::strerror(errno);
      return Outcome::reset;
    }
    if (n == 0) {
      if (magic) return Outcome::orderly;
      // Linux's watchdog_dev keeps an armed device running when its file is closed without the
      // magic 'V' (it pings once on release): the reset comes a whole timeout after the close,
      // which is what a survivor's wait for a killed vigild (lease.h, Rule 5) relies on.
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      why = "closed without V, then no keepalive within " + std::to_string(timeout_ms) + " ms";
      return Outcome::reset;
    }
    for (const char byte : std::string_view{bytes, static_cast<std::size_t>(n)}) {
      if (byte != 'k' && byte != 'V') {
        char code[8];
        std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned char>(byte));
        why = std::string{"unexpected byte "} + code;
        return Outcome::reset;
      }
      magic = byte == 'V';
    }
    deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
}

int serve(int fd, const Options& options) {
  const auto line = read_first_line(fd);
  const auto timeout = line ? parse_first_line(*line) : std::nullopt;
  if (!timeout) {
    say("refused: first line '" + printable(line.value_or("")) +
        "' is not T<milliseconds> (or did not end within " + std::to_string(kFirstLineMax) +
        " bytes and " + std::to_string(kFirstLineMs) + " ms)");
    return 3;
  }
  say("armed: " + std::to_string(*timeout) + " ms");
  std::string why;
  if (watch(fd, *timeout, why) == Outcome::orderly) {
    say("closed: orderly");
    return 0;
  }
  say("reset: " + why);
  if (!options.on_reset.empty()) {
    const int status = std::system(options.on_reset.c_str());
    if (status != 0) say("reset action exited with status " + std::to_string(status));
  }
  return 1;
}

int listen_on(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::unlink(path.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 4) != 0) {
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const int listener = listen_on(options->socket);
  if (listener < 0) {
    std::fprintf(stderr, "vigil-watchdog-emulator: cannot listen on %s: %s\n",
                 options->socket.c_str(), std::strerror(errno));
    return 2;
  }
  say("listening: " + options->socket);
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "vigil-watchdog-emulator: accept: %s\n", std::strerror(errno));
      return 2;
    }
    const int code = serve(fd, *options);
    ::close(fd);
    if (options->once) return code;
  }
}
