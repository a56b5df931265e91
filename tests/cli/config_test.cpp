// `vigil config show|check` and `vigil keygen`, run in-process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

using ::testing::HasSubstr;

const std::string kGuide = std::string(VIGIL_SHARED_DIR) + "/examples/corosync-guide.conf";

class ConfigCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-config-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static mode_t mode_of(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // A two-node knet cluster whose key lives in this test's directory.
  std::string cluster_conf(const std::string& extra_totem = "") const {
    return write("cluster.conf",
                 "totem {\n  cluster_name: t\n  keyfile: " + path("authkey") + "\n" + extra_totem +
                     "}\nnodelist {\n  node {\n    nodeid: 1\n    ring0_addr: 127.0.0.1\n  }\n"
                     "  node {\n    nodeid: 2\n    ring0_addr: 127.0.0.2\n  }\n}\n");
  }

  std::string dir_;
};

TEST(ConfigShow, GuideAsJsonHasTheGuideValuesAndLegacyNotes) {
  auto r = run({"config", "show", "--config", kGuide, "--output-as", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["totem"]["token"], 3000);
  EXPECT_EQ(j["totem"]["consensus"], 3600);
  EXPECT_EQ(j["totem"]["join"], 60);
  EXPECT_EQ(j["totem"]["max_messages"], 20);
  EXPECT_EQ(j["totem"]["secauth"], false);
  EXPECT_EQ(j["totem"]["transport"], "udp");
  ASSERT_EQ(j["totem"]["interface"].size(), 1u);
  EXPECT_EQ(j["totem"]["interface"][0]["mcastaddr"], "226.93.2.1");
  EXPECT_EQ(j["totem"]["interface"][0]["mcastport"], 5405);
  EXPECT_EQ(j["totem"]["interface"][0]["bindnetaddr"], "10.11.8.0");
  EXPECT_EQ(j["quorum"]["expected_votes"], 1);
  std::map<std::string, int> legacy;
  for (const auto& n : j["notes"]) {
    for (const char* s : {"amf", "aisexec", "service"}) {
      if (n["message"].get<std::string>().find(std::string("section '") + s + "'") !=
          std::string::npos) {
        legacy[s] = n["line"];
      }
    }
  }
  EXPECT_EQ(legacy, (std::map<std::string, int>{{"aisexec", 58}, {"amf", 48}, {"service", 80}}));
}

TEST(ConfigShow, GuideAsTextIsCmapStyle) {
  auto r = run({"config", "show", "--config", kGuide});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* line :
       {"totem.token (u32) = 3000\n", "totem.consensus (u32) = 3600\n", "totem.join (u32) = 60\n",
        "totem.max_messages (u32) = 20\n", "totem.secauth (str) = off\n",
        "totem.interface.0.mcastaddr (str) = 226.93.2.1\n",
        "totem.interface.0.mcastport (u16) = 5405\n",
        "totem.interface.0.bindnetaddr (str) = 10.11.8.0\n", "quorum.expected_votes (u32) = 1\n",
        "logging.logger_subsys.AMF.debug (str) = off\n"}) {
    EXPECT_THAT(r.out, HasSubstr(line));
  }
  EXPECT_THAT(r.out, HasSubstr(kGuide + ":48:1: note: section 'amf'"));
  EXPECT_THAT(r.out, HasSubstr(kGuide + ":58:1: note: section 'aisexec'"));
  EXPECT_THAT(r.out, HasSubstr(kGuide + ":80:1: note: section 'service'"));
}

TEST_F(ConfigCliTest, BadConfigIsOneMessageNamingThePlaceAndExit1) {
  const auto conf = write("bad.conf", "totem {\n  token: -3\n}\n");
  for (auto args : std::vector<std::vector<std::string>>{
           {"config", "show", "--config", conf},
           {"config", "show", "--config", conf, "--output-as", "json"},
           {"config", "check", "--config", conf},
           {"keygen", "--config", conf}}) {
    auto r = run(args);
    EXPECT_EQ(r.code, 1) << args[1];
    EXPECT_EQ(r.out.find("totem.token"), std::string::npos);
    EXPECT_EQ(r.err, "vigil: " + conf + ":2:10: totem.token: must not be negative, got '-3'\n");
  }
  auto missing = run({"config", "show", "--config", path("missing.conf")});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr(path("missing.conf") + ": cannot read the configuration"));
}

TEST_F(ConfigCliTest, UnknownOutputFormatIsAUsageError) {
  auto r = run({"config", "show", "--config", kGuide, "--output-as", "yaml"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(ConfigCliTest, CheckPassesWithAGoodKeyAndFailsWithoutOne) {
  const auto conf = cluster_conf();
  auto no_key = run({"config", "check", "--config", conf});
  EXPECT_EQ(no_key.code, 1);
  EXPECT_THAT(no_key.err, HasSubstr(path("authkey") + ": authkey not found"));

  ASSERT_EQ(run({"keygen", "--config", conf}).code, 0);
  auto ok = run({"config", "check", "--config", conf});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(
      ok.out,
      HasSubstr(
          conf +
          ": configuration OK (transport knet, 2 nodes in nodelist, token 3000 ms, 0 warnings)"));
  EXPECT_THAT(ok.out, HasSubstr(path("authkey") + ": authkey OK (256 bytes, owner-only)"));

  ASSERT_EQ(::chmod(path("authkey").c_str(), 0644), 0);
  auto open_key = run({"config", "check", "--config", conf});
  EXPECT_EQ(open_key.code, 1);
  EXPECT_THAT(open_key.err, HasSubstr("mode 0644"));
}

TEST_F(ConfigCliTest, CheckNeedsNoKeyWhenCryptoIsOff) {
  const auto conf = cluster_conf("  secauth: off\n");
  auto r = run({"config", "check", "--config", conf});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("none is needed"));
}

TEST_F(ConfigCliTest, CheckPrintsWarningsButPasses) {
  const auto conf = cluster_conf("  secauth: off\n  tokne: 5\n");
  auto r = run({"config", "check", "--config", conf});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(conf + ":5:3: warning: unknown key 'tokne' in totem (ignored)"));
  EXPECT_THAT(r.out, HasSubstr("token 3000 ms, 1 warning)"));
}

TEST_F(ConfigCliTest, KeygenWritesToTheConfiguredKeyfile) {
  const auto conf = cluster_conf();
  auto r = run({"keygen", "-l", "--config", conf});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Writing vigil key to " + path("authkey")));
  EXPECT_EQ(read(path("authkey")).size(), 256u);
  EXPECT_EQ(mode_of(path("authkey")), 0400u);
}

// Without keyfile the key belongs beside the configuration: what `corosync-keygen` writes for
// /etc/corosync/corosync.conf is /etc/corosync/authkey, and the check reads it there.
TEST_F(ConfigCliTest, KeygenWithoutKeyfileWritesBesideTheConfiguration) {
  const auto conf = write("corosync.conf",
                          "totem {\n  cluster_name: t\n}\nnodelist {\n  node {\n    nodeid: 1\n"
                          "    ring0_addr: 127.0.0.1\n  }\n}\n");
  auto r = run({"keygen", "--config", conf});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Writing vigil key to " + path("authkey")));
  EXPECT_EQ(read(path("authkey")).size(), 256u);
  auto checked = run({"config", "check", "--config", conf});
  EXPECT_EQ(checked.code, 0) << checked.err;
  EXPECT_THAT(checked.out, HasSubstr(path("authkey") + ": authkey OK"));
}

TEST_F(ConfigCliTest, KeygenOutputRefusesWithoutForceAndForceReplaces) {
  const auto key = path("out.key");
  ASSERT_EQ(run({"keygen", "--output", key}).code, 0);
  const auto first = read(key);
  EXPECT_EQ(first.size(), 256u);
  EXPECT_EQ(mode_of(key), 0400u);

  auto refused = run({"keygen", "--output", key});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr(key + ": already exists; use --force to replace it"));
  EXPECT_EQ(read(key), first);

  auto forced = run({"keygen", "-l", "--force", "--output", key});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(read(key), first);
  EXPECT_EQ(read(key).size(), 256u);
  EXPECT_EQ(mode_of(key), 0400u);
}

}  // namespace
}  // namespace vigil::cli
