#include "executor/process.h"

#include "executor/executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>

namespace vigil::executor {

namespace {

using Clock = std::chrono::steady_clock;

// A pipe's capacity on Linux; input for an agent (fence parameters) is written before the child
// starts, so it must fit without a reader.
constexpr std::size_t kMaxInput = 64 * 1024;
// After the agent exits, output still in the pipes is read at once; a grandchild that keeps
// writing to an inherited pipe cannot hold the action open beyond this much more.
constexpr std::size_t kMaxDrain = 1024 * 1024;
// Without pidfd (Linux < 5.3) the exit is noticed by polling.
constexpr auto kExitPoll = std::chrono::milliseconds(10);

std::string errno_text(int err) {
  return std::strerror(err);
}

// The agents this process started and has not reaped yet. reap_orphans() leaves these alone, so
// their exit statuses stay for the AgentProcess that waits for them; the lock spans the spawn and
// the reap, so no pid is ever seen as a child but not (yet, or any more) as an agent.
struct OwnChildren {
  std::mutex lock;
  std::set<pid_t> pids;
};
OwnChildren& own_children() {
  static OwnChildren children;
  return children;
}

// Closes a descriptor unless it has been handed on.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~OwnedFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  OwnedFd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail("cannot create a pipe: " + errno_text(errno));
  Pipe p{OwnedFd(fds[0]), OwnedFd(fds[1])};
  // Only our end is non-blocking: the read end and the write end are separate open files, and the
  // agent must see an ordinary blocking stdout.
  ::fcntl(p.read.get(), F_SETFL, ::fcntl(p.read.get(), F_GETFL) | O_NONBLOCK);
  return p;
}

Result<OwnedFd> make_stdin(const std::string& input) {
  if (input.empty()) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("cannot open /dev/null: " + errno_text(errno));
    return OwnedFd(fd);
  }
  if (input.size() > kMaxInput) return fail("agent input longer than 64 KiB");
  auto p = make_pipe();
  if (!p) return p.error();
  std::size_t done = 0;
  while (done < input.size()) {
    ssize_t n = ::write(p->write.get(), input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write agent input: " + errno_text(errno));
    done += static_cast<std::size_t>(n);
  }
  return std::move(p->read);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// posix_spawn (vfork + exec in glibc) is far cheaper than fork for a large parent such as an
// ASan-instrumented daemon. The child gets its own process group, default signal dispositions
// (ours may ignore SIGPIPE), an empty signal mask and no descriptors beyond 0-2.
Result<pid_t> spawn_child(const Command& c, int in, int out, int err) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, in, 0);
  posix_spawn_file_actions_adddup2(&files, out, 1);
  posix_spawn_file_actions_adddup2(&files, err, 2);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  auto argv = c_strings(c.argv);
  auto envp = c_strings(c.env);
  pid_t pid = -1;
  std::lock_guard hold(own_children().lock);
  int rc = ::posix_spawn(&pid, c.path.c_str(), &files, &attr, argv.data(), envp.data());
  if (rc == 0) own_children().pids.insert(pid);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) return fail("cannot execute " + c.path + ": " + errno_text(rc));
  return pid;
}

}  // namespace

struct AgentProcess::Impl : std::enable_shared_from_this<Impl> {
  struct Stream {
    Stream(asio::io_context& io, int fd) : fd(io, fd) {}
    asio::posix::stream_descriptor fd;
    std::array<char, 16384> buf{};
    std::string text;
    std::size_t dropped = 0;
    bool open = true;
  };

  Impl(asio::io_context& io, pid_t pid, int out_fd, int err_fd, const Limits& limits, Done done)
      : io(io),
        pid(pid),
        limits(limits),
        done(std::move(done)),
        out(io, out_fd),
        err(io, err_fd),
        deadline(io),
        grace(io),
        poll(io),
        started(Clock::now()) {}

  asio::io_context& io;
  pid_t pid;
  Limits limits;
  Done done;
  Stream out, err;
  std::optional<asio::posix::stream_descriptor> pidfd;
  asio::steady_timer deadline, grace, poll;
  Clock::time_point started;
  bool timed_out = false;
  bool cancelled = false;
  bool reaped = false;
  int wait_status = 0;
  Millis duration = 0;

  void start(int pidfd_fd) {
    if (pidfd_fd >= 0) pidfd.emplace(io, pidfd_fd);
    read(out);
    read(err);
    watch_exit();
    deadline.expires_after(std::chrono::milliseconds(limits.timeout));
    deadline.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec || self->reaped) return;
      self->timed_out = true;
      self->end_group();
    });
  }

  void read(Stream& s) {
    s.fd.async_read_some(asio::buffer(s.buf), [self = shared_from_this(), &s](
                                                  const asio::error_code& ec, std::size_t n) {
      self->on_read(s, ec, n);
    });
  }

  void keep(Stream& s, const char* data, std::size_t n) {
    std::size_t room = limits.output_cap - std::min(limits.output_cap, s.text.size());
    std::size_t take = std::min(room, n);
    s.text.append(data, take);
    s.dropped += n - take;
  }

  void on_read(Stream& s, const asio::error_code& ec, std::size_t n) {
    keep(s, s.buf.data(), n);
    if (!s.open) return;  // kill_now closed it
    if (ec && ec != asio::error::operation_aborted) {
      close(s);  // end of file: every writer has closed the pipe
    } else if (reaped) {
      drain(s);
      close(s);
    } else {
      read(s);
      return;
    }
    finish_if_complete();
  }

  // What the agent wrote before it exited is already in the pipe.
  void drain(Stream& s) {
    std::size_t total = 0;
    while (total < kMaxDrain) {
      ssize_t n = ::read(s.fd.native_handle(), s.buf.data(), s.buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      keep(s, s.buf.data(), static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
    }
  }

  void close(Stream& s) {
    if (!s.open) return;
    s.open = false;
    asio::error_code ignored;
    s.fd.close(ignored);
  }

  void watch_exit() {
    if (pidfd) {
      pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this()](const asio::error_code& ec) {
                          if (!ec && !self->reaped) self->exit_or_watch();
                        });
      return;
    }
    poll.expires_after(kExitPoll);
    poll.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && !self->reaped) self->exit_or_watch();
    });
  }

  // Readiness is only a hint (under load epoll hands out wake-ups that do not belong to this
  // pidfd; a blocking waitpid on a live child would stall the loop); waitid decides. WNOWAIT
  // looks without reaping, so the process group id stays reserved until on_exit.
  void exit_or_watch() {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      on_exit();
    } else {
      watch_exit();
    }
  }

  // The child is a zombie: its pid, and so its process group id, cannot be reused yet.
  void on_exit() {
    // A killed action leaves nothing behind: members of its group that outlived it go too.
    if (timed_out || cancelled) ::kill(-pid, SIGKILL);
    reap();
    duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    // Pending reads complete (or abort) and then drain what is left.
    asio::error_code ignored;
    if (out.open) out.fd.cancel(ignored);
    if (err.open) err.fd.cancel(ignored);
    finish_if_complete();
  }

  // Only for a child known to have exited (or just sent SIGKILL), so it does not block long.
  void reap() {
    {
      std::lock_guard hold(own_children().lock);
      while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
      }
      own_children().pids.erase(pid);
    }
    reaped = true;
    deadline.cancel();
    grace.cancel();
    poll.cancel();
    asio::error_code ignored;
    if (pidfd) pidfd->close(ignored);
  }

  void finish_if_complete() {
    if (!reaped || out.open || err.open || !done) return;
    Outcome o;
    o.timed_out = timed_out;
    o.cancelled = cancelled;
    if (WIFEXITED(wait_status)) o.exit_status = WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) o.signal = WTERMSIG(wait_status);
    o.duration = duration;
    o.pid = pid;
    o.out = std::move(out.text);
    o.err = std::move(err.text);
    o.out_dropped = out.dropped;
    o.err_dropped = err.dropped;
    auto callback = std::move(done);
    done = nullptr;
    callback(std::move(o));
  }

  // SIGTERM to the whole group; SIGKILL to it after the grace period.
  void end_group() {
    ::kill(-pid, SIGTERM);
    grace.expires_after(std::chrono::milliseconds(limits.kill_grace));
    grace.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && !self->reaped) ::kill(-self->pid, SIGKILL);
    });
  }

  void kill_now() {
    done = nullptr;
    if (!reaped) {
      ::kill(-pid, SIGKILL);
      reap();
    }
    close(out);
    close(err);
  }
};

Result<AgentProcess> AgentProcess::spawn(asio::io_context& io, const Command& command,
                                         const Limits& limits, Done done) {
  VIGIL_ASSERT(!command.argv.empty());
  auto in = make_stdin(command.input);
  if (!in) return in.error();
  auto out = make_pipe();
  if (!out) return out.error();
  auto err = make_pipe();
  if (!err) return err.error();
  auto pid = spawn_child(command, in->get(), out->write.get(), err->write.get());
  if (!pid) return pid.error();
  out->write.reset();
  err->write.reset();
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
  if (pidfd >= 0) ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  auto impl = std::make_shared<Impl>(io, *pid, out->read.release(), err->read.release(), limits,
                                     std::move(done));
  impl->start(pidfd);
  return AgentProcess(impl);
}

void AgentProcess::terminate() {
  if (impl_->reaped || impl_->timed_out || impl_->cancelled) return;
  impl_->cancelled = true;
  impl_->end_group();
}

void AgentProcess::kill_now() {
  impl_->kill_now();
}

pid_t AgentProcess::pid() const {
  return impl_->pid;
}

Result<void> become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return fail("cannot become a child subreaper: " + errno_text(errno));
  return {};
}

namespace {

// This process's children, from every thread's /proc/self/task/<tid>/children.
std::vector<pid_t> children_now() {
  std::vector<pid_t> out;
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return out;
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    std::ifstream in(std::string("/proc/self/task/") + task->d_name + "/children");
    for (pid_t pid = 0; in >> pid;) out.push_back(pid);
  }
  ::closedir(tasks);
  return out;
}

}  // namespace

std::size_t reap_orphans() {
  std::lock_guard hold(own_children().lock);
  std::size_t reaped = 0;
  for (pid_t pid : children_now()) {
    if (own_children().pids.count(pid) != 0) continue;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) ++reaped;
  }
  return reaped;
}

}  // namespace vigil::executor
