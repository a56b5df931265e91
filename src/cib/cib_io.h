// cib_io: the CIB's disk edge. A CIB file (cib.xml in the state dir, or the file named by
// CIB_file) is kept with a digest beside it (cib.xml.sig) and the last versions as backups
// (cib-N.raw + cib-N.raw.sig, N increasing). Every write goes to a temporary file that is fsynced
// and renamed, and the directory is fsynced, so a crash at any point leaves a loadable CIB. At
// load a truncated or corrupted copy (digest mismatch, parse or schema failure) is skipped for the
// newest valid backup, and the event is reported to the caller for logging.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cib/cib.h"
#include "cib/store.h"

namespace vigil::cib {

struct LoadedCib {
  Cib cib;
  bool found = false;               // false: no copy on disk at all, `cib` is empty
  std::filesystem::path source;     // the file the CIB came from
  std::vector<std::string> events;  // copies skipped and why, a missing digest
};

class CibFile {
 public:
  explicit CibFile(std::filesystem::path path, int keep = 10);

  // The newest valid copy: the CIB file if it is valid, else the newest valid backup. An error
  // only when copies exist and none is valid (never a silent empty CIB over a broken disk).
  Result<LoadedCib> load() const;
  // Writes `cib` durably: first as backup N+1, then as the CIB file; keeps the last `keep` backups.
  Result<void> save(const Cib& cib) const;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path signature_of(const std::filesystem::path& file) const;
  // Backups, newest first.
  std::vector<std::filesystem::path> backups() const;

 private:
  std::filesystem::path backup(long n) const;
  long backup_number(const std::filesystem::path& p) const;

  std::filesystem::path path_;
  int keep_;
};

// A CibStore on a file: each commit reads the file, applies the op and saves the result.
class FileCibStore : public CibStore {
 public:
  explicit FileCibStore(std::filesystem::path path, MissingCib missing = MissingCib::empty)
      : file_(std::move(path)), missing_(missing) {}
  Result<Cib> read() override;
  Result<Cib> commit(const CibOp& op) override;
  std::vector<std::string> take_notes() override;
  std::string name() const override { return file_.path().string(); }

 private:
  CibFile file_;
  MissingCib missing_;
  std::vector<std::string> notes_;
};

}  // namespace vigil::cib
