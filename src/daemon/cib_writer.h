// cib_writer: puts the CIB on this node's disk on a thread of its own, so that vigild's loop (the
// thread that arms the totem timers) never waits for a write or an fsync. It is handed numbered
// documents and writes the newest one pending: a document handed over while another is being
// written waits, and is dropped unwritten when a newer one arrives before its turn (the newer one
// holds every change it held). Each write is CibFile::save's: temporary files, fsync, rename,
// directory fsync. Its outcome is posted back onto the loop: the document written, or the error.
//
// Guaranteed: a report for number N means the document handed over as N, or a newer one, was
// written (or failed to be); reports come in increasing number; stop() writes the newest pending
// document before it returns, and nothing is written after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "cib/cib_io.h"

namespace asio {
class io_context;
}

namespace vigil::daemon {

class CibWriter {
 public:
  // Runs on the loop: `number` and what became of it.
  using Report = std::function<void(std::uint64_t number, Result<cib::Cib> written)>;

  CibWriter(asio::io_context& io, cib::CibFile file, Report report);
  ~CibWriter();  // stop()
  CibWriter(const CibWriter&) = delete;
  CibWriter& operator=(const CibWriter&) = delete;

  // Hands `doc` over as `number`, greater than every number before. False once stopped.
  bool write(std::uint64_t number, cib::Cib doc);
  // Writes the newest pending document (its report is posted as usual), then ends the thread.
  void stop();

 private:
  void run();

  asio::io_context& io_;
  const cib::CibFile file_;
  const Report report_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::pair<std::uint64_t, cib::Cib>> pending_;  // guarded by mutex_
  std::uint64_t last_ = 0;                                     // loop only
  bool stopping_ = false;                                      // guarded by mutex_
  std::thread thread_;
};

}  // namespace vigil::daemon
