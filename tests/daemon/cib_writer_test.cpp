// The CIB writer: the newest pending document is written and older pending ones are dropped, a
// failed write is reported as an error, stop() writes what is pending and nothing is written
// after it. Reports arrive on the io_context, as they do on vigild's loop.
#include <gtest/gtest.h>
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
  CibWriter writer(io_, cib::CibFile(file()), record());
  ASSERT_TRUE(writer.write(1, large(1)));
  for (std::uint64_t n = 2; n <= 5; ++n) ASSERT_TRUE(writer.write(n, at(static_cast<int>(n))));
  ASSERT_TRUE(report_for(5));
  EXPECT_EQ(on_disk(), "0.5.0");
  // 2 to 4 were handed over while 1 was written (or before it was picked up): never written.
  std::uint64_t previous = 0;
  for (const auto& w : written_) {
    EXPECT_TRUE(w.number == 1 || w.number == 5) << w.number;
    EXPECT_GT(w.number, previous);
    previous = w.number;
    ASSERT_TRUE(w.result.ok()) << w.result.error().message;
    EXPECT_EQ(w.result->version().epoch, static_cast<std::int64_t>(w.number));
  }
  EXPECT_LE(cib::CibFile(file()).backups().size(), 2u);
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

TEST_F(CibWriterTest, StopWritesThePendingDocumentFirst) {
  CibWriter writer(io_, cib::CibFile(file()), record());
  ASSERT_TRUE(writer.write(1, large(1)));
  ASSERT_TRUE(writer.write(2, at(2)));
  writer.stop();
  EXPECT_EQ(on_disk(), "0.2.0");  // before the loop ran at all
  ASSERT_TRUE(report_for(2));
  EXPECT_TRUE(written_.back().result.ok());
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
