#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/config.h"

namespace vigil::config {
namespace {

using ::testing::HasSubstr;

// A fresh directory per test, removed afterwards.
class AuthkeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-authkey-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write_file(const std::string& p, std::size_t size, mode_t mode) const {
    std::ofstream(p, std::ios::binary) << std::string(size, 'k');
    ASSERT_EQ(::chmod(p.c_str(), mode), 0);
  }
  static mode_t mode_of(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string dir_;
};

TEST_F(AuthkeyTest, KeygenWrites256BytesWithMode0400) {
  const auto key = path("authkey");
  ASSERT_TRUE(write_authkey(key, false).ok());
  EXPECT_EQ(mode_of(key), 0400u);
  EXPECT_EQ(read(key).size(), kAuthkeyBytes);
  auto checked = check_authkey(key);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(*checked, kAuthkeyBytes);
}

TEST_F(AuthkeyTest, KeygenIsExactly0400EvenUnderAStrangeUmask) {
  const mode_t old = ::umask(0777);
  auto r = write_authkey(path("authkey"), false);
  ::umask(old);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(mode_of(path("authkey")), 0400u);
}

TEST_F(AuthkeyTest, KeygenRefusesToOverwriteWithoutForce) {
  const auto key = path("authkey");
  ASSERT_TRUE(write_authkey(key, false).ok());
  const auto before = read(key);
  auto again = write_authkey(key, false);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("already exists; use --force"));
  EXPECT_EQ(read(key), before);
}

TEST_F(AuthkeyTest, ForceReplacesWithAFreshKeyAndLeavesNoTemporaryFile) {
  const auto key = path("authkey");
  ASSERT_TRUE(write_authkey(key, false).ok());
  const auto before = read(key);
  ASSERT_TRUE(write_authkey(key, true).ok());
  EXPECT_EQ(mode_of(key), 0400u);
  EXPECT_EQ(read(key).size(), kAuthkeyBytes);
  EXPECT_NE(read(key), before);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(AuthkeyTest, ForceOnAMissingKeyCreatesIt) {
  ASSERT_TRUE(write_authkey(path("authkey"), true).ok());
  EXPECT_EQ(mode_of(path("authkey")), 0400u);
}

TEST_F(AuthkeyTest, KeygenCreatesAMissingParentDirectory) {
  ASSERT_TRUE(write_authkey(path("vigil/authkey"), false).ok());
  EXPECT_EQ(read(path("vigil/authkey")).size(), kAuthkeyBytes);
}

TEST_F(AuthkeyTest, KeygenIntoAMissingTreeIsAnError) {
  auto r = write_authkey(path("a/b/authkey"), false);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr(path("a")));
}

TEST_F(AuthkeyTest, CheckRejectsMissingSmallLargeAndOpenKeys) {
  EXPECT_THAT(check_authkey(path("none")).error().message, HasSubstr("authkey not found"));
  write_file(path("small"), kAuthkeyMinBytes - 1, 0400);
  EXPECT_THAT(check_authkey(path("small")).error().message,
              HasSubstr("authkey is 127 bytes; expected 128 to 4096"));
  write_file(path("large"), kAuthkeyMaxBytes + 1, 0400);
  EXPECT_THAT(check_authkey(path("large")).error().message, HasSubstr("4097 bytes"));
  write_file(path("min"), kAuthkeyMinBytes, 0600);
  EXPECT_TRUE(check_authkey(path("min")).ok());
  write_file(path("group"), kAuthkeyBytes, 0640);
  EXPECT_THAT(check_authkey(path("group")).error().message,
              HasSubstr("mode 0640; group and other must have no access"));
  write_file(path("other"), kAuthkeyBytes, 0404);
  EXPECT_THAT(check_authkey(path("other")).error().message, HasSubstr("mode 0404"));
  std::filesystem::create_directory(path("dir"));
  EXPECT_THAT(check_authkey(path("dir")).error().message, HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace vigil::config
