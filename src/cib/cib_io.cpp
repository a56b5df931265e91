#include "cib/cib_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "cib/validate.h"
#include "common/file.h"

namespace vigil::cib {

namespace fs = std::filesystem;

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

Result<void> write_all(int fd, std::string_view bytes, const fs::path& p) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(p.string() + ": write failed: " + errno_text());
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// A temporary copy that will not be renamed into place goes at once: on a full disk, a partial
// copy of a large CIB would hold the very space the next try needs.
void discard(const fs::path& tmp) {
  ::unlink(tmp.c_str());
}

// Writes `bytes` to `p`.tmp and fsyncs it; the caller renames it into place.
Result<fs::path> write_temp(const fs::path& p, std::string_view bytes) {
  fs::path tmp = p;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(tmp.string() + ": cannot create: " + errno_text());
  auto written = write_all(fd, bytes, tmp);
  const bool synced = written && ::fsync(fd) == 0;
  const std::string sync_error = synced ? "" : errno_text();
  ::close(fd);
  if (!synced) discard(tmp);
  if (!written) return written.error();
  if (!synced) return fail(tmp.string() + ": fsync failed: " + sync_error);
  return tmp;
}

Result<void> rename_into_place(const fs::path& tmp, const fs::path& p) {
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    const std::string error = errno_text();
    discard(tmp);
    return fail(tmp.string() + " -> " + p.string() + ": rename failed: " + error);
  }
  return {};
}

// A rename is durable only once the directory holding it is synced.
Result<void> sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(dir.string() + ": cannot open directory: " + errno_text());
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return fail(dir.string() + ": fsync failed: " + errno_text());
  return {};
}

// Writes the file and its digest: both to temporary files first, then both renamed. A crash
// between the two renames leaves a digest that does not match, which load() detects.
Result<void> write_signed(const fs::path& file, const fs::path& sig, const std::string& xml) {
  auto tmp_file = write_temp(file, xml);
  if (!tmp_file) return tmp_file.error();
  auto tmp_sig = write_temp(sig, sha256_hex(xml));
  if (!tmp_sig) {
    discard(*tmp_file);
    return tmp_sig.error();
  }
  if (auto r = rename_into_place(*tmp_file, file); !r) {
    discard(*tmp_sig);
    return r;
  }
  return rename_into_place(*tmp_sig, sig);
}

// One copy on disk: its digest must match when there is one, and it must parse and validate.
Result<Cib> read_copy(const fs::path& file, const fs::path& sig, std::vector<std::string>& events) {
  auto xml = read_file(file.string());
  if (!xml) return xml.error();
  std::error_code ec;
  if (fs::exists(sig, ec)) {
    auto expected = read_file(sig.string());
    if (!expected) return expected.error();
    std::string want = *expected;
    while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
    if (want != sha256_hex(*xml)) {
      return fail(file.string() + ": digest mismatch (truncated or corrupted)");
    }
  } else {
    events.push_back(file.string() + ": no digest file " + sig.filename().string() +
                     "; accepted after parsing and validating it");
  }
  auto cib = Cib::parse(*xml, file.string());
  if (!cib) return cib.error();
  if (auto valid = validate(*cib); !valid) {
    return fail(file.string() + ": invalid CIB: " + valid.error().message);
  }
  return cib;
}

}  // namespace

CibFile::CibFile(fs::path path, int keep) : path_(std::move(path)), keep_(keep) {
  VIGIL_ASSERT(keep_ >= 1);
}

fs::path CibFile::signature_of(const fs::path& file) const {
  fs::path sig = file;
  sig += ".sig";
  return sig;
}

fs::path CibFile::backup(long n) const {
  return path_.parent_path() / (path_.stem().string() + "-" + std::to_string(n) + ".raw");
}

long CibFile::backup_number(const fs::path& p) const {
  const std::string prefix = path_.stem().string() + "-";
  const std::string name = p.filename().string();
  if (name.rfind(prefix, 0) != 0 || name.size() <= prefix.size() + 4 ||
      name.substr(name.size() - 4) != ".raw") {
    return -1;
  }
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 4);
  if (digits.empty() || digits.size() > 15 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stol(digits);
}

std::vector<fs::path> CibFile::backups() const {
  std::vector<std::pair<long, fs::path>> found;
  std::error_code ec;
  const fs::path dir = path_.parent_path().empty() ? fs::path(".") : path_.parent_path();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const long n = backup_number(e.path());
    if (n >= 0) found.emplace_back(n, e.path());
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> paths;
  for (auto& [n, p] : found) paths.push_back(std::move(p));
  return paths;
}

Result<LoadedCib> CibFile::load() const {
  LoadedCib loaded;
  std::vector<fs::path> candidates;
  std::error_code ec;
  if (fs::exists(path_, ec)) {
    candidates.push_back(path_);
  }
  for (auto& b : backups()) candidates.push_back(std::move(b));
  if (candidates.empty()) return loaded;  // a new cluster: the empty CIB
  if (candidates.front() != path_) {
    loaded.events.push_back(path_.string() + ": missing; looking at the backups");
  }
  for (const auto& c : candidates) {
    auto cib = read_copy(c, signature_of(c), loaded.events);
    if (cib) {
      loaded.cib = std::move(cib).value();
      loaded.found = true;
      loaded.source = c;
      if (c != path_) {
        loaded.events.push_back("using " + c.string() + " (CIB " + loaded.cib.version().str() +
                                "), the newest valid copy");
      }
      return loaded;
    }
    loaded.events.push_back("skipping " + cib.error().message);
  }
  std::string text = path_.string() + ": no valid CIB copy";
  for (const auto& e : loaded.events) text += "\n  " + e;
  return fail(text);
}

Result<void> CibFile::save(const Cib& cib) const {
  const std::string xml = cib.to_xml();
  const auto existing = backups();
  const long n = existing.empty() ? 1 : backup_number(existing.front()) + 1;
  const fs::path raw = backup(n);
  // The backup first: if we crash before the CIB file is replaced, the new version is already
  // safe in it, and the old CIB file is still intact.
  if (auto r = write_signed(raw, signature_of(raw), xml); !r) return r;
  if (auto r = write_signed(path_, signature_of(path_), xml); !r) return r;
  if (auto r = sync_dir(path_.parent_path()); !r) return r;
  for (std::size_t i = static_cast<std::size_t>(keep_) - 1; i < existing.size(); ++i) {
    std::error_code ec;
    fs::remove(existing[i], ec);
    fs::remove(signature_of(existing[i]), ec);
  }
  return {};
}

Result<Cib> FileCibStore::read() {
  auto loaded = file_.load();
  if (!loaded) return loaded.error();
  if (!loaded->found && missing_ == MissingCib::refused) {
    return fail(file_.path().string() + ": no such CIB file");
  }
  notes_.insert(notes_.end(), loaded->events.begin(), loaded->events.end());
  return std::move(loaded->cib);
}

namespace {

// Holds an exclusive lock on <cib>.lock: two clients committing to one file at once must not
// both read version N and both write N+1.
class CommitLock {
 public:
  explicit CommitLock(const fs::path& cib) {
    fs::path lock = cib;
    lock += ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error_ = lock.string() + ": cannot open: " + errno_text();
    } else if (::flock(fd_, LOCK_EX) != 0) {
      error_ = lock.string() + ": cannot lock: " + errno_text();
    }
  }
  ~CommitLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  CommitLock(const CommitLock&) = delete;
  CommitLock& operator=(const CommitLock&) = delete;
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

}  // namespace

Result<Cib> FileCibStore::commit(const CibOp& op) {
  CommitLock lock(file_.path());
  if (!lock.error().empty()) return fail(lock.error());
  auto current = read();
  if (!current) return current.error();
  auto next = apply(*current, op);
  if (!next) return next.error();
  if (auto saved = file_.save(*next); !saved) return saved.error();
  return next;
}

std::vector<std::string> FileCibStore::take_notes() {
  return std::exchange(notes_, {});
}

}  // namespace vigil::cib
