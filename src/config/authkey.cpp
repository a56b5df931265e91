// The authkey: raw random bytes shared by every node (corosync-keygen's format), owner-only.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <span>
#include <vector>

#include "config/config.h"
#include "config/join.h"

namespace vigil::config {

namespace {

std::string os_error(const std::string& path, const std::string& what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<void> write_all(int fd, const unsigned char* data, std::size_t size,
                       const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(os_error(path, "cannot write the key"));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(os_error(path, "cannot sync the key to disk"));
  return {};
}

// Creates `path` exclusively with `mode` and fills it with `bytes`. O_EXCL with the mode means
// the file never exists with wider permissions, not even for an instant.
Result<void> create_file(const std::string& path, std::span<const std::uint8_t> bytes,
                         unsigned mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) return fail(path + ": already exists; use --force to replace it");
    return fail(os_error(path, "cannot create the file"));
  }
  // The umask may have removed bits; a key must be exactly 0400.
  if (::fchmod(fd.get(), mode) != 0) {
    ::unlink(path.c_str());
    return fail(os_error(path, "cannot set its mode"));
  }
  auto written = write_all(fd.get(), bytes.data(), bytes.size(), path);
  if (!written) ::unlink(path.c_str());
  return written;
}

// A fresh key, wiped from memory once `use` is done with it.
Result<void> with_new_key(const std::function<Result<void>(std::span<const std::uint8_t>)>& use) {
  std::vector<unsigned char> key(kAuthkeyBytes);
  randombytes_buf(key.data(), key.size());
  auto done = use(key);
  sodium_memzero(key.data(), key.size());
  return done;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<std::size_t> check_authkey(const std::string& path) {
  // O_NONBLOCK: a FIFO planted at the key's path must not hang the check.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return fail(path + ": authkey not found (create one with 'vigil keygen')");
    return fail(os_error(path, "cannot open the authkey"));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(os_error(path, "cannot stat the authkey"));
  if (!S_ISREG(st.st_mode)) return fail(path + ": authkey is not a regular file");
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < kAuthkeyMinBytes || size > kAuthkeyMaxBytes) {
    return fail(path + ": authkey is " + std::to_string(size) + " bytes; expected " +
                std::to_string(kAuthkeyMinBytes) + " to " + std::to_string(kAuthkeyMaxBytes));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(path + ": authkey has mode " + mode +
                "; group and other must have no access (chmod 0400, as corosync-keygen sets it)");
  }
  return size;
}

Result<void> write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes,
                                   unsigned mode) {
  if (sodium_init() < 0) return fail("libsodium failed to initialise; " + path + " not written");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return fail(path + ": is a directory");
  // Written beside the old file, then renamed over it, so the path always holds a complete one.
  unsigned char suffix[8];
  randombytes_buf(suffix, sizeof suffix);
  char hex[2 * sizeof suffix + 1];
  sodium_bin2hex(hex, sizeof hex, suffix, sizeof suffix);
  const std::string temp = path + ".new-" + hex;
  if (auto r = create_file(temp, bytes, mode); !r) return r;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const auto message = os_error(path, "cannot replace the file");
    ::unlink(temp.c_str());
    return fail(message);
  }
  Fd dirfd(::open(parent_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd.get() >= 0) ::fsync(dirfd.get());
  return {};
}

Result<void> write_authkey(const std::string& path, bool force) {
  if (sodium_init() < 0) return fail("libsodium failed to initialise; no key written");
  const std::string dir = parent_of(path);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return fail(os_error(dir, "cannot create the directory"));
  return with_new_key([&](std::span<const std::uint8_t> key) {
    return force ? write_file_atomically(path, key, 0400) : create_file(path, key, 0400);
  });
}

}  // namespace vigil::config
