#include "daemon/cib_writer.h"

#include <asio.hpp>

namespace vigil::daemon {

CibWriter::CibWriter(asio::io_context& io, cib::CibFile file, Report report)
    : io_(io), file_(std::move(file)), report_(std::move(report)), thread_([this] { run(); }) {}

CibWriter::~CibWriter() {
  stop();
}

bool CibWriter::write(std::uint64_t number, cib::Cib doc) {
  VIGIL_ASSERT(number > last_);
  last_ = number;
  std::optional<std::pair<std::uint64_t, cib::Cib>> superseded;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    superseded.swap(pending_);
    pending_.emplace(number, std::move(doc));
  }
  wake_.notify_one();
  return true;  // `superseded` is freed here, outside the lock
}

void CibWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void CibWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stopping_; });
    if (!pending_) return;
    auto [number, doc] = std::move(*pending_);
    pending_.reset();
    lock.unlock();
    auto saved = file_.save(doc);
    Result<cib::Cib> written = saved ? Result<cib::Cib>(std::move(doc)) : saved.error();
    asio::post(io_, [report = report_, number, written = std::move(written)]() mutable {
      report(number, std::move(written));
    });
    lock.lock();
  }
}

}  // namespace vigil::daemon
