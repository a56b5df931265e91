#include "control/control.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vigil::control {

std::string socket_in(const std::string& run_dir) {
  return run_dir + "/" + kSocketName;
}

std::string socket_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("VIGIL_SOCKET"); env != nullptr && *env != '\0') return env;
  return socket_in(kDefaultRunDir);
}

namespace {

bool wait_for(int fd, short events, Millis timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout)) == 1;
}

}  // namespace

Result<Client> Client::connect(const std::string& path, std::uint8_t version) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return fail("control: socket path too long: " + path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("control: socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd);
    return fail("cannot reach vigild at " + path + ": " + std::strerror(error) +
                " (is it running? see --socket and VIGIL_SOCKET)");
  }
  return Client(fd, version, path);
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Json> Client::call(const Json& body, Millis timeout) {
  auto answers = call_all(std::span(&body, 1), timeout);
  if (!answers.ok()) return answers.error();
  return std::move(answers->front());
}

Result<std::vector<Json>> Client::call_all(std::span<const Json> bodies, Millis timeout) {
  std::vector<std::uint8_t> frames;
  for (const auto& body : bodies) {
    const auto encoded = encode_frame(body, version_);
    if (!encoded.ok()) return encoded.error();
    frames.insert(frames.end(), encoded->begin(), encoded->end());
  }
  for (std::size_t sent = 0; sent < frames.size();) {
    if (!wait_for(fd_, POLLOUT, timeout)) return fail("control: timed out sending to " + path_);
    const auto n = ::send(fd_, frames.data() + sent, frames.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail("control: sending to " + path_ + ": " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::vector<Json> answers;
  std::size_t head = 0;  // in_'s bytes before this are decoded
  while (answers.size() < bodies.size()) {
    auto decoded = decode_frame(std::span(in_).subspan(head));
    if (!decoded.ok()) return decoded.error();
    if (*decoded) {
      head += (*decoded)->consumed;
      answers.push_back(std::move((*decoded)->body));
      continue;
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<long>(head));
    head = 0;
    if (!wait_for(fd_, POLLIN, timeout)) return fail("control: no answer from vigild at " + path_);
    std::uint8_t buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return fail("control: vigild at " + path_ + " closed the connection");
    in_.insert(in_.end(), buf, buf + n);
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<long>(head));
  return answers;
}

Result<Json> request(const std::string& path, const Json& body, Millis timeout) {
  auto client = Client::connect(path);
  if (!client.ok()) return client.error();
  return client->call(body, timeout);
}

namespace {
constexpr std::pair<ErrorCode, const char*> kCodeNames[] = {{ErrorCode::invalid, "invalid"},
                                                            {ErrorCode::conflict, "conflict"}};
}  // namespace

Json refusal(const Error& error) {
  const char* code = "invalid";
  for (const auto& [value, name] : kCodeNames) {
    if (value == error.code) code = name;
  }
  return Json{{"ok", false}, {"error", error.message}, {"code", code}};
}

Error refused(const Json& answer, const std::string& fallback) {
  Error error = fail(answer.value("error", fallback));
  const auto code = answer.value("code", std::string());
  for (const auto& [value, name] : kCodeNames) {
    if (code == name) error.code = value;
  }
  return error;
}

bool allowed(const PeerCredentials& peer) {
  if (peer.uid == 0 || peer.uid == ::geteuid()) return true;
  const group* haclient = ::getgrnam("haclient");
  if (haclient == nullptr) return false;
  if (peer.gid == haclient->gr_gid) return true;
  const passwd* user = ::getpwuid(peer.uid);
  if (user == nullptr) return false;
  for (char** member = haclient->gr_mem; *member != nullptr; ++member) {
    if (std::strcmp(*member, user->pw_name) == 0) return true;
  }
  return false;
}

namespace {

using asio::local::stream_protocol;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, std::shared_ptr<const Server::DeferredHandler> handler,
          std::shared_ptr<const Server::OnClose> on_close, std::uint64_t connection)
      : socket_(std::move(socket)), handler_(std::move(handler)), on_close_(std::move(on_close)) {
    peer_.connection = connection;
  }
  ~Session() { closed(); }

  void start() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer_ = PeerCredentials{cred.pid, cred.uid, cred.gid, peer_.connection};
      permitted_ = allowed(peer_);
    }
    read();
  }

 private:
  // Reads on while an answer is pending (a cpg_read waiting for an event may wait long), so a
  // client that goes away is seen at once and what it held is let go; at most one whole frame
  // waits in the buffer meanwhile.
  void read() {
    if (reading_ || refused_ || close_told_ || in_.size() - head_ > kMaxFrame) return;
    reading_ = true;
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(chunk_),
                            [self](const asio::error_code& ec, std::size_t n) {
                              self->reading_ = false;
                              if (ec) return self->closed();
                              self->in_.erase(self->in_.begin(),
                                              self->in_.begin() + static_cast<long>(self->head_));
                              self->head_ = 0;
                              self->in_.insert(self->in_.end(), self->chunk_.begin(),
                                               self->chunk_.begin() + static_cast<long>(n));
                              self->serve();
                            });
  }

  void closed() {
    if (close_told_) return;
    close_told_ = true;
    if (*on_close_) (*on_close_)(peer_);
  }

  // Answers the whole requests in the buffer, one at a time, in order: the next is taken only
  // once the previous one is answered (a deferred reply resumes here).
  void serve() {
    if (serving_) return;  // a reply given within the handler: the loop below goes on
    serving_ = true;
    while (!waiting_ && !refused_) {
      auto decoded = decode_frame(std::span(in_).subspan(head_));
      if (!decoded.ok()) {
        version_ = kVersion;  // what every client reads
        respond(refusal(decoded.error()));
        refused_ = true;
        break;
      }
      if (!*decoded) break;
      head_ += (*decoded)->consumed;
      version_ = (*decoded)->version;
      if (!permitted_) {
        respond(refusal(fail("permission denied: uid " + std::to_string(peer_.uid) +
                             " is not root, vigild's user or in haclient")));
        refused_ = true;
        break;
      }
      waiting_ = true;
      (*handler_)((*decoded)->body, peer_, [self = shared_from_this()](Result<Json> answer) {
        VIGIL_ASSERT(self->waiting_);
        self->waiting_ = false;
        self->respond(answer.ok() ? std::move(*answer) : refusal(answer.error()));
        self->serve();
      });
    }
    serving_ = false;
    read();
  }

  // The answer goes in the version of the request it answers (its bytes values moved, not copied).
  void respond(Json body) {
    auto frame = encode_frame(std::move(body), version_);
    // The error fits: it is a short message.
    out_.push_back(frame.ok() ? std::move(*frame) : *encode_frame(refusal(frame.error()), version_));
    if (sending_.empty()) write();
  }

  // Everything answered since the last write goes in one (a burst of cpg_send is answered by a
  // burst of small frames).
  void write() {
    sending_.swap(out_);
    std::vector<asio::const_buffer> buffers;
    for (const auto& frame : sending_) buffers.push_back(asio::buffer(frame));
    auto self = shared_from_this();
    asio::async_write(socket_, buffers, [self](const asio::error_code& ec, std::size_t) {
      if (ec) return;
      self->sending_.clear();
      if (!self->out_.empty()) self->write();
    });
  }

  stream_protocol::socket socket_;
  std::shared_ptr<const Server::DeferredHandler> handler_;
  std::shared_ptr<const Server::OnClose> on_close_;
  PeerCredentials peer_;
  bool permitted_ = false;
  std::uint8_t version_ = kVersion;  // the frame version of the request being answered
  bool serving_ = false;
  bool waiting_ = false;     // a request's answer is pending
  bool reading_ = false;     // a read is under way
  bool refused_ = false;     // a bad frame or a peer not allowed: nothing more is read
  bool close_told_ = false;  // on_close was called
  std::array<std::uint8_t, 65536> chunk_{};
  std::vector<std::uint8_t> in_;
  std::size_t head_ = 0;  // in_'s bytes before this are answered (dropped at the next read)
  std::vector<std::vector<std::uint8_t>> out_;      // answers not yet written
  std::vector<std::vector<std::uint8_t>> sending_;  // the write under way
};

}  // namespace

struct Server::State {
  State(asio::io_context& io, DeferredHandler h, OnClose c)
      : acceptor(io),
        handler(std::make_shared<const DeferredHandler>(std::move(h))),
        on_close(std::make_shared<const OnClose>(std::move(c))) {}
  stream_protocol::acceptor acceptor;
  // Shared with the sessions, which may outlive the server by a callback or two.
  std::shared_ptr<const DeferredHandler> handler;
  std::shared_ptr<const OnClose> on_close;
  std::uint64_t connections = 0;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  void accept() {
    acceptor.async_accept(
        [this, alive = alive](const asio::error_code& ec, stream_protocol::socket s) {
          if (!*alive || ec == asio::error::operation_aborted) return;
          if (!ec)
            std::make_shared<Session>(std::move(s), handler, on_close, ++connections)->start();
          accept();
        });
  }
};

Server::Server(std::string path, std::unique_ptr<State> state)
    : path_(std::move(path)), state_(std::move(state)) {}

Server::~Server() {
  *state_->alive = false;
  asio::error_code ignored;
  state_->acceptor.close(ignored);
  ::unlink(path_.c_str());
}

Result<std::unique_ptr<Server>> Server::open(asio::io_context& io, const std::string& path,
                                             Handler handler, OnClose on_close) {
  return open(io, path,
              DeferredHandler([handler = std::move(handler)](
                                  const Json& request, const PeerCredentials& peer,
                                  const Reply& reply) { reply(handler(request, peer)); }),
              std::move(on_close));
}

Result<std::unique_ptr<Server>> Server::open(asio::io_context& io, const std::string& path,
                                             DeferredHandler handler, OnClose on_close) {
  auto state = std::make_unique<State>(io, std::move(handler), std::move(on_close));
  // A socket file left by a daemon that died is replaced; a live daemon answers a connect.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("control: " + path + " exists and is not a socket");
    if (request(path, Json{{"command", "ping"}}, 500).ok()) {
      return fail("control: another vigild is already serving " + path);
    }
    ::unlink(path.c_str());
  }
  asio::error_code ec;
  state->acceptor.open(stream_protocol(), ec);
  if (!ec) state->acceptor.bind(stream_protocol::endpoint(path), ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("control: cannot listen on " + path + ": " + ec.message());
  if (::chmod(path.c_str(), 0660) != 0) {
    return fail("control: chmod 0660 " + path + ": " + std::strerror(errno));
  }
  if (::geteuid() == 0) {
    if (const group* haclient = ::getgrnam("haclient"); haclient != nullptr) {
      if (::chown(path.c_str(), 0, haclient->gr_gid) != 0) {
        return fail("control: chown root:haclient " + path + ": " + std::strerror(errno));
      }
    }
  }
  state->accept();
  return std::unique_ptr<Server>(new Server(path, std::move(state)));
}

}  // namespace vigil::control
