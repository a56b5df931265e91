// control: vigild's local control socket and its client. A Unix stream socket in the run dir
// (mode 0660; owner root and group haclient when they exist); each peer is checked with
// SO_PEERCRED. The protocol is a sequence of request/response frames (frame.h: a JSON body, and in
// version 2 the raw bytes of its bytes values after it; an answer goes in its request's version).
// A request is {"command": "...", ...}; a response is {"ok": true, ...} or
// {"ok": false, "error": "...", "code": "invalid"|"conflict"|"try_again"}. The CLI finds the socket with --socket PATH, else $VIGIL_SOCKET,
// else the default run dir.
//
// vigild answers: ping (→ {versions: the frame versions it reads}); status; shutdown (leave the
// ring and exit); and process groups, which live as long as the connection: cpg_join {group},
// cpg_leave {group}, cpg_send {group, data: bytes}, cpg_read {wait?} → {events: [{type: message,
// group, node, pid, data: bytes} | {type: change, group, members, joined, left, reason}], dropped}:
// with "wait" it answers when an event comes, so a client sleeps in it instead of polling
// (group_events.h: the bounded queue behind it). Bytes are hex digits in a version-1 frame.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/common.h"
#include "control/frame.h"

namespace asio {
class io_context;
}

namespace vigil::control {

inline constexpr const char* kDefaultRunDir = "/run/vigil";
inline constexpr const char* kSocketName = "vigild.sock";

// --socket, else $VIGIL_SOCKET, else <default run dir>/vigild.sock.
std::string socket_path(const std::string& flag);
std::string socket_in(const std::string& run_dir);

// Sends one request and waits (bounded by timeout) for its response.
Result<Json> request(const std::string& path, const Json& request, Millis timeout = 5000);

// A failed request's answer, {"ok": false, "error": …, "code": …}: the code travels with the
// message so that a client can act on it (a conflict is redone on the newer CIB).
Json refusal(const Error& error);
// The Error such an answer carries; `fallback` when it gives no message, invalid when it gives
// no code this client knows.
Error refused(const Json& answer, const std::string& fallback);

// Who is on the other end of a connection.
struct PeerCredentials {
  int pid = 0;
  unsigned uid = 0;
  unsigned gid = 0;
  std::uint64_t connection = 0;  // distinct for each connection the server accepted
};

// A connection that stays open for several requests (process groups live as long as it does).
class Client {
 public:
  // Requests go in frames of `version`, and so come the answers (frame.h).
  static Result<Client> connect(const std::string& path, std::uint8_t version = kVersion);
  Client(Client&& other) noexcept
      : fd_(other.fd_), version_(other.version_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  Client& operator=(Client&&) = delete;
  ~Client();
  Result<Json> call(const Json& request, Millis timeout = 5000);
  // Sends every request before reading an answer (vigild answers a connection's requests in
  // order), so a burst of cpg_send costs one round trip; the answers in the requests' order.
  // `timeout` bounds each wait for the socket.
  Result<std::vector<Json>> call_all(std::span<const Json> requests, Millis timeout = 5000);

 private:
  Client(int fd, std::uint8_t version, std::string path)
      : fd_(fd), version_(version), path_(std::move(path)) {}
  int fd_;
  std::uint8_t version_;
  std::string path_;
  std::vector<std::uint8_t> in_;
};

// Serves requests on the socket from within the caller's asio loop. The handler's return value is
// the response body; an allowed peer gets {"ok": false, "error": …} when the handler fails.
// A request whose answer must wait (a CIB change travels the ring before it is committed) goes to
// a deferred handler, which answers through `reply` later, on the loop. A connection's requests
// are answered in order: the next one is read only when the previous one has been answered.
class Server {
 public:
  using Handler = std::function<Result<Json>(const Json& request, const PeerCredentials& peer)>;
  using Reply = std::function<void(Result<Json>)>;
  using DeferredHandler =
      std::function<void(const Json& request, const PeerCredentials& peer, Reply reply)>;
  // Told when a connection ends, so what it held (group memberships) can be let go.
  using OnClose = std::function<void(const PeerCredentials& peer)>;

  // Replaces a stale socket file, binds, sets mode 0660 (and root:haclient when running as root
  // and the group exists), and starts accepting.
  static Result<std::unique_ptr<Server>> open(asio::io_context& io, const std::string& path,
                                              DeferredHandler handler, OnClose on_close = {});
  static Result<std::unique_ptr<Server>> open(asio::io_context& io, const std::string& path,
                                              Handler handler, OnClose on_close = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  const std::string& path() const { return path_; }

 private:
  struct State;
  Server(std::string path, std::unique_ptr<State> state);
  std::string path_;
  std::unique_ptr<State> state_;
};

// May this peer use the socket? root, the daemon's own user, and members of haclient may.
bool allowed(const PeerCredentials& peer);

}  // namespace vigil::control
