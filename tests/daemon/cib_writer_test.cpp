// The CIB writer: the newest pending document is written and older pending ones are dropped, a
// failed write is reported as an error, stop() writes what is pending and nothing is written
// after it. Reports arrive on the io_context, as they do on vigild's loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "cib/cib_io.h"
#include "daemon/cib_writer.h"

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Written {
  std::uint64_t number;
  Result<cib::Cib> result;
};

class CibWriterTest : public ::testing::Test {
 protected:
  CibWriterTest()
      : dir_(fs::temp_directory_path() /
             ("vigil-writer-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~CibWriterTest() override { fs::remove_all(dir_); }

  fs::path file() const { return dir_ / "cib.xml"; }
  CibWriter::Report record() {
    return [this](std::uint64_t n, Result<cib::Cib> r) { written_.push_back({n, std::move(r)}); };
  }
  // Runs the loop until the report for `number` came, at most 10 s.
  bool report_for(std::uint64_t number) {
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < limit) {
      for (const auto& w : written_)
        if (w.number == number) return true;
      io_.restart();
      io_.run_one_for(100ms);
    }
    return false;
  }
  std::string on_disk() const {
    auto loaded = cib::CibFile(file()).load();
    return loaded.ok() && loaded->found ? loaded->cib.version().str() : "";
  }

  fs::path dir_;
  asio::io_context io_;
  std::vector<Written> written_;
};

cib::Cib at(std::int64_t epoch) {
  cib::Cib c;
  c.set_version({0, epoch, 0});
  return c;
}

// A document that takes a while to write, so that the next ones arrive while it is written.
cib::Cib large(std::int64_t epoch) {
  std::string resources;
  for (int i = 0; i < 20000; ++i)
    resources += "<primitive id=\"r" + std::to_string(i) +
                 "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>";
  auto c = cib::Cib::parse(
      "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\"><configuration>"
      "<crm_config/><nodes/><resources>" +
      resources + "</resources><constraints/></configuration></cib>");
  EXPECT_TRUE(c.ok());
  c->set_version({0, epoch, 0});
  return std::move(c).value();
}

TEST_F(CibWriterTest, TheNewestPendingDocumentIsWrittenAndOlderOnesAreDropped) {
  // The first write goes to cib-1.raw.tmp: a FIFO there holds the writer in open() until this
  // test reads it, so the documents handed over meanwhile wait.
  const fs::path fifo = dir_ / "cib-1.raw.tmp";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CibWriter writer(io_, cib::CibFile(file()), record());
  for (std::uint64_t n = 1; n <= 5; ++n) ASSERT_TRUE(writer.write(n, at(static_cast<int>(n))));
  const int fd = ::open(fifo.c_str(), O_RDONLY);  // waits for the writer's open
  ASSERT_GE(fd, 0);
  fs::remove(fifo);
  char buffer[4096];
  while (::read(fd, buffer, sizeof buffer) > 0) {
  }
  ::close(fd);  // the writer's fsync on the FIFO failed: that write is reported as failed
  ASSERT_TRUE(writer.write(6, at(6)));
  ASSERT_TRUE(report_for(6));
  EXPECT_EQ(on_disk(), "0.6.0");
  // The writer held at the FIFO had taken one of 1 to 5, the newest when it looked; the others
  // handed over meanwhile came down to 5: of the five, two at most were written.
  std::uint64_t previous = 0, older = 0;
  for (const auto& w : written_) {
    EXPECT_GT(w.number, previous);
    previous = w.number;
    older += w.number < 5 ? 1 : 0;
    if (w.result.ok()) {
      EXPECT_EQ(w.result->version().epoch, static_cast<std::int64_t>(w.number));
    }
  }
  EXPECT_LE(older, 1u);
  EXPECT_LE(written_.size(), 3u);
  EXPECT_TRUE(written_.back().result.ok());
}

TEST_F(CibWriterTest, StopWritesThePendingDocumentFirst) {
  CibWriter writer(io_, cib::CibFile(file()), record());
  ASSERT_TRUE(writer.write(1, large(1)));
  ASSERT_TRUE(writer.write(2, at(2)));
  writer.stop();
  EXPECT_EQ(on_disk(), "0.2.0");  // before the loop ran at all
  ASSERT_TRUE(report_for(2));
  EXPECT_TRUE(written_.back().result.ok());
}

TEST_F(CibWriterTest, AFailedWriteIsReportedWithItsCause) {
  CibWriter writer(io_, cib::CibFile(file()), record());
  ASSERT_TRUE(writer.write(1, at(1)));
  ASSERT_TRUE(report_for(1));
  // The write goes through cib.xml.tmp: a directory there makes it fail, even as root.
  fs::create_directory(dir_ / "cib.xml.tmp");
  ASSERT_TRUE(writer.write(2, at(2)));
  ASSERT_TRUE(report_for(2));
  ASSERT_FALSE(written_.back().result.ok());
  EXPECT_NE(written_.back().result.error().message.find((dir_ / "cib.xml.tmp").string()),
            std::string::npos)
      << written_.back().result.error().message;
  EXPECT_EQ(on_disk(), "0.1.0");

  fs::remove(dir_ / "cib.xml.tmp");
  ASSERT_TRUE(writer.write(3, at(3)));
  ASSERT_TRUE(report_for(3));
  EXPECT_TRUE(written_.back().result.ok());
  EXPECT_EQ(on_disk(), "0.3.0");
}

TEST_F(CibWriterTest, NothingIsWrittenAfterStop) {
  CibWriter writer(io_, cib::CibFile(file()), record());
  ASSERT_TRUE(writer.write(1, at(1)));
  writer.stop();
  EXPECT_FALSE(writer.write(2, at(2)));
  io_.run_for(200ms);
  EXPECT_EQ(on_disk(), "0.1.0");
  ASSERT_EQ(written_.size(), 1u);
  EXPECT_EQ(written_[0].number, 1u);
}

}  // namespace
}  // namespace vigil::daemon
