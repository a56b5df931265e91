// The CIB on disk: every crash point leaves a loadable CIB, corruption is detected and reported,
// the last 10 versions are kept.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cib/cib_io.h"
#include "cib/op.h"

namespace vigil::cib {
namespace {

namespace fs = std::filesystem;

class CibIo : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-cib-io-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Cib version(std::int64_t epoch) {
    Cib cib;
    auto next = apply(cib, {{CibChange::create("/cib/configuration/resources",
                                               "<primitive id=\"p" + std::to_string(epoch) +
                                                   "\" class=\"lsb\" type=\"x\"/>")}});
    VIGIL_ASSERT(next.ok());
    next->set_version({0, epoch, 0});
    return std::move(next).value();
  }
  static std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }

  fs::path dir_;
};

TEST_F(CibIo, NoCopyGivesAnEmptyCib) {
  auto loaded = CibFile(dir_ / "cib.xml").load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_FALSE(loaded->found);
  EXPECT_EQ(loaded->cib.version(), Version{});
}

TEST_F(CibIo, SaveThenLoad) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(3)));
  auto loaded = file.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->found);
  EXPECT_TRUE(loaded->events.empty());
  EXPECT_EQ(loaded->cib.to_xml(), version(3).to_xml());
  EXPECT_EQ(read(dir_ / "cib.xml.sig"), sha256_hex(read(dir_ / "cib.xml")));
  EXPECT_TRUE(fs::exists(dir_ / "cib-1.raw"));
  EXPECT_TRUE(fs::exists(dir_ / "cib-1.raw.sig"));
}

TEST_F(CibIo, KeepsTheLastTenVersions) {
  CibFile file(dir_ / "cib.xml");
  for (int i = 1; i <= 14; ++i) ASSERT_TRUE(file.save(version(i)));
  auto backups = file.backups();
  ASSERT_EQ(backups.size(), 10u);
  EXPECT_EQ(backups.front().filename(), "cib-14.raw");
  EXPECT_EQ(backups.back().filename(), "cib-5.raw");
  EXPECT_FALSE(fs::exists(dir_ / "cib-4.raw.sig"));
}

TEST_F(CibIo, TruncatedCibFileFallsBackToTheNewestValidBackup) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(1)));
  ASSERT_TRUE(file.save(version(2)));
  const std::string xml = read(dir_ / "cib.xml");
  write(dir_ / "cib.xml", xml.substr(0, xml.size() / 2));
  write(dir_ / "cib-2.raw", "garbage");  // the newest backup is broken too
  auto loaded = file.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->cib.version(), (Version{0, 1, 0}));
  EXPECT_EQ(loaded->source.filename(), "cib-1.raw");
  ASSERT_EQ(loaded->events.size(), 3u);
  EXPECT_NE(loaded->events[0].find("cib.xml: digest mismatch"), std::string::npos);
  EXPECT_NE(loaded->events[1].find("cib-2.raw: digest mismatch"), std::string::npos);
  EXPECT_NE(loaded->events[2].find("using"), std::string::npos);
}

TEST_F(CibIo, TruncatedCibFileWithoutDigestFailsToParse) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(1)));
  const std::string xml = read(dir_ / "cib.xml");
  write(dir_ / "cib.xml", xml.substr(0, xml.size() - 20));
  fs::remove(dir_ / "cib.xml.sig");
  auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->source.filename(), "cib-1.raw");
  EXPECT_NE(loaded->events[1].find("skipping"), std::string::npos);
}

TEST_F(CibIo, MissingDigestIsAcceptedAndReported) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(7)));
  fs::remove(dir_ / "cib.xml.sig");
  auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->source.filename(), "cib.xml");
  EXPECT_EQ(loaded->cib.version(), (Version{0, 7, 0}));
  ASSERT_EQ(loaded->events.size(), 1u);
  EXPECT_NE(loaded->events[0].find("no digest"), std::string::npos);
}

TEST_F(CibIo, CrashBetweenWriteAndRenameLeavesTheOldCib) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(1)));
  // The crash: the temporary files are written (maybe partly), never renamed.
  const std::string next = version(2).to_xml();
  write(dir_ / "cib.xml.tmp", next.substr(0, 40));
  write(dir_ / "cib.xml.sig.tmp", sha256_hex(next));
  auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cib.version(), (Version{0, 1, 0}));
  EXPECT_TRUE(loaded->events.empty());
  // The next save overwrites the leftovers.
  ASSERT_TRUE(file.save(version(3)));
  EXPECT_EQ(file.load()->cib.version(), (Version{0, 3, 0}));
}

// What a save leaves behind in the directory besides the copies themselves.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".tmp") found.push_back(e.path().filename().string());
  }
  return found;
}

TEST_F(CibIo, AWriteThatRunsOutOfSpaceLeavesNoPartialCopy) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(1)));
  // A full disk, as the file size limit makes it: write() fails part way (EFBIG, not a signal).
  const auto save_on_a_full_disk = [&] {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    const auto saved = file.save(version(2));
    std::_Exit(!saved && temporaries(dir_).empty() ? 0 : 1);
  };
  EXPECT_EXIT(save_on_a_full_disk(), ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(file.load()->cib.version(), (Version{0, 1, 0}));
}

TEST_F(CibIo, ARenameThatFailsLeavesNoTemporaryCopy) {
  CibFile file(dir_ / "cib.xml");
  // A directory in the CIB file's place: the backup is written, the rename over it fails.
  fs::create_directories(dir_ / "cib.xml" / "in-the-way");
  const auto saved = file.save(version(1));
  ASSERT_FALSE(saved);
  EXPECT_NE(saved.error().message.find("rename failed"), std::string::npos);
  EXPECT_EQ(temporaries(dir_), std::vector<std::string>{});
}

TEST_F(CibIo, CrashBetweenTheTwoRenamesIsDetectedAndTheBackupUsed) {
  CibFile file(dir_ / "cib.xml");
  ASSERT_TRUE(file.save(version(1)));
  ASSERT_TRUE(file.save(version(2)));
  // cib.xml renamed to version 2's successor, its digest not yet.
  const std::string v3 = version(3).to_xml();
  write(dir_ / "cib-3.raw", v3);
  write(dir_ / "cib-3.raw.sig", sha256_hex(v3));
  write(dir_ / "cib.xml", v3);
  auto loaded = file.load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cib.version(), (Version{0, 3, 0}));
  EXPECT_EQ(loaded->source.filename(), "cib-3.raw");
}

TEST_F(CibIo, NoValidCopyIsAnError) {
  CibFile file(dir_ / "cib.xml");
  write(dir_ / "cib.xml", "<cib><configuration>");
  auto loaded = file.load();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("no valid CIB copy"), std::string::npos);
}

TEST_F(CibIo, FileStoreCommitsAtomically) {
  FileCibStore store(dir_ / "cib.xml");
  auto first = store.commit({{CibChange::create(
      "/cib/configuration/resources", "<primitive id=\"a\" class=\"lsb\" type=\"x\"/>")}});
  ASSERT_TRUE(first) << first.error().message;
  const std::string on_disk = read(dir_ / "cib.xml");
  auto bad = store.commit({{CibChange::create("/cib/configuration/resources",
                                              "<primitive id=\"b\" class=\"lsb\" type=\"x\"/>"),
                            CibChange::remove("id:nothing")}});
  EXPECT_FALSE(bad);
  EXPECT_EQ(read(dir_ / "cib.xml"), on_disk);
  EXPECT_EQ(store.read()->version(), (Version{0, 1, 0}));
}

TEST_F(CibIo, ConcurrentCommitsToOneFileLoseNothing) {
  // Several clients (processes, as two `vigil configure` runs would be) commit at once.
  constexpr int kClients = 4, kEach = 5;
  std::vector<pid_t> children;
  for (int c = 0; c < kClients; ++c) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FileCibStore store(dir_ / "cib.xml");
      int failures = 0;
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "p" + std::to_string(c) + "-" + std::to_string(i);
        failures += !store
                         .commit({{CibChange::create(
                             "/cib/configuration/resources",
                             "<primitive id=\"" + id + "\" class=\"lsb\" type=\"x\"/>")}})
                         .ok();
      }
      ::_exit(failures);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto loaded = CibFile(dir_ / "cib.xml").load();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->cib.version(), (Version{0, kClients * kEach, 0}));
  EXPECT_EQ(loaded->cib.section("resources").select_nodes("primitive").size(),
            static_cast<std::size_t>(kClients * kEach));
}

}  // namespace
}  // namespace vigil::cib
