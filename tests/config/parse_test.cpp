#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"

namespace vigil::config {
namespace {

using ::testing::HasSubstr;

const std::string kGuide = std::string(VIGIL_SHARED_DIR) + "/examples/corosync-guide.conf";

ClusterConfig parse_ok(const std::string& text) {
  auto r = parse_config(text, "test.conf");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ClusterConfig{};
}

std::string parse_error(const std::string& text) {
  auto r = parse_config(text, "test.conf");
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

const Note* find_note(const ClusterConfig& c, const std::string& fragment) {
  for (const auto& n : c.notes) {
    if (n.message.find(fragment) != std::string::npos) return &n;
  }
  return nullptr;
}

// A knet cluster of `n` nodes with explicit node ids, plus whatever `totem` adds.
std::string knet_cluster(int n, const std::string& totem = "") {
  std::string s = "totem {\n  version: 2\n  cluster_name: c\n" + totem + "}\nnodelist {\n";
  for (int i = 1; i <= n; ++i) {
    s += "  node {\n    nodeid: " + std::to_string(i) + "\n    name: n" + std::to_string(i) +
         "\n    ring0_addr: 10.0.0." + std::to_string(i) + "\n  }\n";
  }
  return s + "}\n";
}

// ---- the guide's file --------------------------------------------------------------------

TEST(Guide, ParsesWithTheGuideValues) {
  auto c = load_config(kGuide);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Totem& t = c->totem;
  EXPECT_EQ(t.version, 2u);
  EXPECT_EQ(t.token, 3000);
  EXPECT_EQ(t.runtime_token, 3000);
  EXPECT_EQ(t.token_retransmits_before_loss_const, 10u);
  EXPECT_EQ(t.join, 60);
  EXPECT_EQ(t.consensus, 3600);
  EXPECT_EQ(t.max_messages, 20u);
  EXPECT_TRUE(t.clear_node_high_bit);
  EXPECT_FALSE(t.secauth);  // "secauth: off  #啟動認證功能": the comment is not part of the value
  EXPECT_EQ(t.crypto_cipher, "none");
  EXPECT_EQ(t.crypto_hash, "none");
  EXPECT_EQ(t.transport, Transport::udp);  // mcastaddr and no nodelist: Corosync 2's multicast
  ASSERT_EQ(t.interfaces.size(), 1u);
  EXPECT_EQ(t.interfaces[0].linknumber, 0u);
  EXPECT_EQ(t.interfaces[0].bindnetaddr, "10.11.8.0");
  EXPECT_EQ(t.interfaces[0].mcastaddr, "226.93.2.1");
  EXPECT_EQ(t.interfaces[0].mcastport, 5405);
  EXPECT_EQ(t.interfaces[0].ttl, 1u);
  EXPECT_EQ(c->quorum.provider, "corosync_votequorum");
  EXPECT_EQ(c->quorum.expected_votes, 1u);
  EXPECT_FALSE(c->logging.fileline);
  EXPECT_TRUE(c->logging.to_stderr);
  EXPECT_TRUE(c->logging.to_logfile);
  EXPECT_EQ(c->logging.logfile, "/var/log/corosync.log");
  EXPECT_FALSE(c->logging.to_syslog);
  EXPECT_EQ(c->logging.syslog_facility, "daemon");
  EXPECT_EQ(c->logging.debug, DebugLevel::off);
  EXPECT_EQ(c->logging.timestamp, Timestamp::on);
  ASSERT_EQ(c->logging.logger_subsys.size(), 1u);
  EXPECT_EQ(c->logging.logger_subsys[0].subsys, "AMF");
  EXPECT_EQ(c->logging.logger_subsys[0].logfile, "/var/log/corosync.log");  // inherited
}

TEST(Guide, LegacySectionsAndKeysAreNotedWithTheirLines) {
  auto c = load_config(kGuide);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const std::vector<std::pair<std::string, int>> expected = {
      {"section 'amf'", 48}, {"section 'aisexec'", 58}, {"section 'service'", 80},
      {"totem.vsftype", 19}, {"totem.threads", 31},     {"totem.rrp_mode", 37},
      {"tags", 75}};
  for (const auto& [fragment, line] : expected) {
    const Note* n = find_note(*c, fragment);
    ASSERT_NE(n, nullptr) << fragment;
    EXPECT_EQ(n->line, line) << fragment;
    EXPECT_EQ(n->severity, Note::Severity::note) << fragment;
  }
  for (const auto& n : c->notes) EXPECT_EQ(n.severity, Note::Severity::note) << n.message;
  EXPECT_THAT(format_note(*c, *find_note(*c, "section 'amf'")),
              HasSubstr("corosync-guide.conf:48:1: note: "));
}

// ---- defaults ----------------------------------------------------------------------------

TEST(Defaults, Corosync3TotemDefaults) {
  auto c = parse_ok(knet_cluster(2));
  const Totem& t = c.totem;
  EXPECT_EQ(t.transport, Transport::knet);
  EXPECT_EQ(t.token, 3000);
  EXPECT_EQ(t.runtime_token, 3000);
  EXPECT_EQ(t.token_coefficient, 650);
  EXPECT_EQ(t.token_warning, 75u);
  EXPECT_EQ(t.token_retransmits_before_loss_const, 4u);
  EXPECT_EQ(t.token_retransmit, 714);  // 3000 / 4.2
  EXPECT_EQ(t.hold, 561);              // 714 × 0.8 − 10
  EXPECT_EQ(t.join, 50);
  EXPECT_EQ(t.send_join, 0);
  EXPECT_EQ(t.consensus, 3600);
  EXPECT_EQ(t.merge, 200);
  EXPECT_EQ(t.downcheck, 1000);
  EXPECT_EQ(t.fail_recv_const, 2500u);
  EXPECT_EQ(t.seqno_unchanged_const, 30u);
  EXPECT_EQ(t.max_messages, 17u);
  EXPECT_EQ(t.window_size, 50u);
  EXPECT_EQ(t.miss_count_const, 5u);
  EXPECT_EQ(t.max_network_delay, 50);
  EXPECT_EQ(t.heartbeat_failures_allowed, 0u);
  EXPECT_EQ(t.netmtu, 65536u);
  EXPECT_TRUE(t.secauth);
  EXPECT_EQ(t.crypto_cipher, "aes256");
  EXPECT_EQ(t.crypto_hash, "sha256");
  EXPECT_EQ(t.keyfile, "");
  EXPECT_FALSE(t.clear_node_high_bit);
  EXPECT_TRUE(t.interfaces.empty());
  EXPECT_TRUE(c.notes.empty());
}

TEST(Defaults, QuorumAndLogging) {
  auto c = parse_ok(knet_cluster(2) + "quorum {\n provider: corosync_votequorum\n}\n");
  EXPECT_EQ(c.quorum.expected_votes, 2u);  // counted from the nodelist
  EXPECT_FALSE(c.quorum.two_node);
  EXPECT_FALSE(c.quorum.wait_for_all);
  EXPECT_FALSE(c.quorum.last_man_standing);
  EXPECT_EQ(c.quorum.last_man_standing_window, 10000);
  EXPECT_FALSE(c.quorum.auto_tie_breaker);
  const Logging& l = c.logging;
  EXPECT_TRUE(l.to_stderr);
  EXPECT_FALSE(l.to_logfile);
  EXPECT_TRUE(l.to_syslog);
  EXPECT_EQ(l.logfile, "");
  EXPECT_EQ(l.syslog_facility, "daemon");
  EXPECT_EQ(l.syslog_priority, "info");
  EXPECT_EQ(l.logfile_priority, "info");
  EXPECT_EQ(l.debug, DebugLevel::off);
  EXPECT_EQ(l.timestamp, Timestamp::hires);
  EXPECT_FALSE(l.fileline);
  EXPECT_FALSE(l.function_name);
  EXPECT_TRUE(l.blackbox);
  EXPECT_EQ(l.log_format, "text");
}

// vigil's own key: JSON lines for log shippers; anything but text or json is refused.
TEST(Sections, LogFormatIsTextOrJson) {
  EXPECT_EQ(parse_ok(knet_cluster(2) + "logging {\n log_format: json\n}\n").logging.log_format,
            "json");
  EXPECT_THAT(parse_error(knet_cluster(2) + "logging {\n log_format: xml\n}\n"),
              HasSubstr("log_format"));
}

TEST(Defaults, ResourcesWatchdogIsOffWithCorosyncsTimeout) {
  auto c = parse_ok(knet_cluster(3));
  EXPECT_EQ(c.resources.watchdog_device, "");
  EXPECT_EQ(c.resources.watchdog_timeout, 6000);  // Corosync's 6 s
  EXPECT_EQ(parse_ok(knet_cluster(3) + "resources {\n watchdog_device: off\n}\n")
                .resources.watchdog_device,
            "");
}

TEST(Sections, ResourcesWatchdogKeys) {
  auto c = parse_ok(knet_cluster(3) +
                    "resources {\n watchdog_device: unix:/run/wd.sock\n watchdog_timeout: 1\n"
                    " system {\n  memory_used {\n  }\n }\n}\n");
  EXPECT_EQ(c.resources.watchdog_device, "unix:/run/wd.sock");
  EXPECT_EQ(c.resources.watchdog_timeout, 1000);
  EXPECT_EQ(c.resources.line, 23);
  EXPECT_NE(find_note(c, "resources.system: accepted; not used by vigil"), nullptr);
  EXPECT_THAT(parse_error(knet_cluster(3) + "resources {\n watchdog_timeout: 121\n}\n"),
              HasSubstr("resources.watchdog_timeout"));
  EXPECT_THAT(parse_error(knet_cluster(3) + "resources {\n watchdog_timeout: 0\n}\n"),
              HasSubstr("resources.watchdog_timeout"));
}

// vigil's own section: the config-file form of `vigild --http` and `--http-actions`.
TEST(Sections, HttpListensAndActsOnlyWhenAsked) {
  const auto off = parse_ok(knet_cluster(2));
  EXPECT_EQ(off.http.listen, "");
  EXPECT_FALSE(off.http.actions);
  const auto on =
      parse_ok(knet_cluster(2) + "http {\n listen: 127.0.0.1:9664\n actions: yes\n}\n");
  EXPECT_EQ(on.http.listen, "127.0.0.1:9664");
  EXPECT_TRUE(on.http.actions);
  EXPECT_GT(on.http.line, 0);
  EXPECT_THAT(parse_error(knet_cluster(2) + "http {\n actions: yes\n}\n"),
              HasSubstr("http.actions: the actions are the status page's; give http.listen"));
  EXPECT_THAT(parse_error(knet_cluster(2) + "http {\n actions: maybe\n}\n"),
              HasSubstr("http.actions: expected yes or no"));
  EXPECT_NE(find_note(parse_ok(knet_cluster(2) + "http {\n port: 9664\n}\n"),
                      "unknown key 'port' in http (ignored)"),
            nullptr);
}

TEST(Defaults, TwoNodeImpliesWaitForAllUnlessSet) {
  auto c =
      parse_ok(knet_cluster(2) + "quorum {\n provider: corosync_votequorum\n two_node: 1\n}\n");
  EXPECT_TRUE(c.quorum.two_node);
  EXPECT_TRUE(c.quorum.wait_for_all);
  c = parse_ok(knet_cluster(2) +
               "quorum {\n provider: corosync_votequorum\n two_node: 1\n wait_for_all: 0\n}\n");
  EXPECT_FALSE(c.quorum.wait_for_all);
}

TEST(Defaults, TokenGrowsByCoefficientPerNodeAboveTwo) {
  auto c3 = parse_ok(knet_cluster(3));
  EXPECT_EQ(c3.totem.token, 3000);
  EXPECT_EQ(c3.totem.runtime_token, 3650);
  EXPECT_EQ(c3.totem.consensus, 4380);  // 1.2 × the runtime token
  auto c5 = parse_ok(knet_cluster(5, "  token: 1000\n  token_coefficient: 100\n"));
  EXPECT_EQ(c5.totem.runtime_token, 1300);
  EXPECT_EQ(c5.totem.consensus, 1560);
  auto c0 = parse_ok(knet_cluster(4, "  token_coefficient: 0\n"));
  EXPECT_EQ(c0.totem.runtime_token, 3000);
}

TEST(Defaults, ExplicitConsensusIsKept) {
  auto c = parse_ok(knet_cluster(2, "  token: 1000\n  consensus: 1500\n"));
  EXPECT_EQ(c.totem.consensus, 1500);
  EXPECT_EQ(c.totem.token_retransmit, 238);  // the man page's "238 ms for two nodes" at token 1000
}

TEST(Defaults, InterfacePortsFollowTheLinkNumber) {
  auto c = parse_ok(
      knet_cluster(2,
                   "  interface {\n    linknumber: 1\n  }\n  interface {\n    linknumber: 0\n  }\n"
                   "  interface {\n    linknumber: 2\n    broadcast: yes\n  }\n"));
  ASSERT_EQ(c.totem.interfaces.size(), 3u);
  EXPECT_EQ(c.totem.interfaces[0].mcastport, 5405);
  EXPECT_EQ(c.totem.interfaces[1].mcastport, 5406);
  EXPECT_EQ(c.totem.interfaces[2].mcastport, 5409);  // broadcast: 5405 + 2 × link
}

TEST(Defaults, UdpuHasNoCryptoAndDerivesNodeIds) {
  auto c = parse_ok(
      "totem {\n transport: udpu\n clear_node_high_bit: yes\n}\n"
      "nodelist {\n node {\n  ring0_addr: 192.168.1.1\n }\n node {\n  ring0_addr: 192.168.1.2\n  "
      "nodeid: 7\n }\n}\n");
  EXPECT_EQ(c.totem.netmtu, 1500u);
  EXPECT_FALSE(c.totem.secauth);
  EXPECT_EQ(c.totem.crypto_cipher, "none");
  ASSERT_EQ(c.nodelist.size(), 2u);
  EXPECT_EQ(c.nodelist[0].nodeid, 0x40A80101u);  // 192.168.1.1 with the high bit cleared
  EXPECT_TRUE(c.nodelist[0].nodeid_derived);
  EXPECT_EQ(c.nodelist[1].nodeid, 7u);
  EXPECT_FALSE(c.nodelist[1].nodeid_derived);
  ASSERT_NE(find_note(c, "derived from ring0_addr"), nullptr);
}

TEST(Defaults, UdpDerivesMcastaddrFromClusterName) {
  auto c = parse_ok(
      "totem {\n transport: udp\n cluster_name: ab\n interface {\n  bindnetaddr: 10.0.0.0\n "
      "}\n}\n");
  ASSERT_EQ(c.totem.interfaces.size(), 1u);
  // Corosync: ('a' << 1) + 'b' = 292 → 239.192.(292 >> 8).(292 % 255)
  EXPECT_EQ(c.totem.interfaces[0].mcastaddr, "239.192.1.37");
  EXPECT_EQ(cluster_mcastaddr("ab", 1), "239.192.1.38");
}

TEST(Defaults, SecauthOnImpliesAesAndShaUnlessOverridden) {
  auto on = parse_ok(knet_cluster(2, "  secauth: on\n"));
  EXPECT_EQ(on.totem.crypto_cipher, "aes256");
  EXPECT_EQ(on.totem.crypto_hash, "sha256");
  auto mixed = parse_ok(knet_cluster(2, "  secauth: off\n  crypto_hash: sha1\n"));
  EXPECT_EQ(mixed.totem.crypto_cipher, "none");
  EXPECT_EQ(mixed.totem.crypto_hash, "sha1");
  EXPECT_TRUE(mixed.totem.secauth);  // effective: something is on
}

TEST(Defaults, SecauthOnIsKeptForUdpu) {
  // Corosync has no crypto on udpu; vigil seals every transport, so an explicit secauth holds.
  auto c = parse_ok(
      "totem {\n transport: udpu\n secauth: on\n}\nnodelist {\n node {\n  ring0_addr: 10.0.0.1\n "
      "}\n}\n");
  EXPECT_TRUE(c.totem.secauth);
  EXPECT_EQ(c.totem.crypto_cipher, "aes256");
  EXPECT_TRUE(authkey_required(c));
}

TEST(Defaults, LoggerSubsysInheritsAndOverrides) {
  auto c = parse_ok(knet_cluster(2) +
                    "logging {\n debug: on\n logger_subsys {\n  subsys: QUORUM\n }\n logger_subsys "
                    "{\n  subsys: CPG\n"
                    "  debug: trace\n  to_syslog: no\n }\n}\n");
  ASSERT_EQ(c.logging.logger_subsys.size(), 2u);
  EXPECT_EQ(c.logging.logger_subsys[0].debug, DebugLevel::on);
  EXPECT_TRUE(c.logging.logger_subsys[0].to_syslog);
  EXPECT_EQ(c.logging.logger_subsys[1].debug, DebugLevel::trace);
  EXPECT_FALSE(c.logging.logger_subsys[1].to_syslog);
}

// ---- every section's keys ----------------------------------------------------------------

TEST(Sections, EveryListedKeyIsRead) {
  auto c = parse_ok(
      "totem {\n version: 2\n cluster_name: web\n config_version: 9\n token: 5000\n "
      "token_coefficient: 100\n"
      " token_retransmits_before_loss_const: 6\n join: 70\n consensus: 9000\n max_messages: 30\n "
      "send_join: 45\n"
      " secauth: on\n crypto_cipher: aes128\n crypto_hash: sha512\n keyfile: /etc/vigil/key\n "
      "transport: knet\n"
      " clear_node_high_bit: no\n"
      " interface {\n  linknumber: 1\n  bindnetaddr: 10.1.0.0\n  mcastaddr: 239.1.1.1\n  "
      "mcastport: 6000\n  ttl: 4\n }\n"
      "}\n"
      "nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  ring1_addr: 10.1.0.1\n  name: alpha\n  "
      "nodeid: 1\n }\n"
      " node {\n  ring0_addr: 10.0.0.2\n  ring1_addr: 10.1.0.2\n  name: beta\n  nodeid: 2\n  "
      "quorum_votes: 2\n }\n}\n"
      "quorum {\n provider: corosync_votequorum\n expected_votes: 5\n two_node: 0\n wait_for_all: "
      "1\n"
      " last_man_standing: 1\n last_man_standing_window: 20000\n auto_tie_breaker: yes\n}\n"
      "logging {\n to_stderr: no\n to_logfile: yes\n logfile: /tmp/v.log\n to_syslog: yes\n "
      "syslog_facility: local3\n"
      " debug: trace\n timestamp: off\n fileline: on\n logger_subsys {\n  subsys: TOTEM\n  debug: "
      "off\n }\n}\n");
  const Totem& t = c.totem;
  EXPECT_EQ(t.cluster_name, "web");
  EXPECT_EQ(t.config_version, 9u);
  EXPECT_EQ(t.token, 5000);
  EXPECT_EQ(t.token_coefficient, 100);
  EXPECT_EQ(t.token_retransmits_before_loss_const, 6u);
  EXPECT_EQ(t.join, 70);
  EXPECT_EQ(t.consensus, 9000);
  EXPECT_EQ(t.max_messages, 30u);
  EXPECT_EQ(t.send_join, 45);
  EXPECT_EQ(t.crypto_cipher, "aes128");
  EXPECT_EQ(t.crypto_hash, "sha512");
  EXPECT_EQ(t.keyfile, "/etc/vigil/key");
  EXPECT_EQ(authkey_path(c), "/etc/vigil/key");
  ASSERT_EQ(t.interfaces.size(), 1u);
  EXPECT_EQ(t.interfaces[0].linknumber, 1u);
  EXPECT_EQ(t.interfaces[0].bindnetaddr, "10.1.0.0");
  EXPECT_EQ(t.interfaces[0].mcastaddr, "239.1.1.1");
  EXPECT_EQ(t.interfaces[0].mcastport, 6000);
  EXPECT_EQ(t.interfaces[0].ttl, 4u);
  ASSERT_EQ(c.nodelist.size(), 2u);
  EXPECT_EQ(c.nodelist[1].name, "beta");
  EXPECT_EQ(c.nodelist[1].ring_addr[0], "10.0.0.2");
  EXPECT_EQ(c.nodelist[1].ring_addr[1], "10.1.0.2");
  EXPECT_EQ(c.nodelist[1].quorum_votes, 2u);
  EXPECT_EQ(c.quorum.expected_votes, 5u);
  EXPECT_TRUE(c.quorum.wait_for_all);
  EXPECT_TRUE(c.quorum.last_man_standing);
  EXPECT_EQ(c.quorum.last_man_standing_window, 20000);
  EXPECT_TRUE(c.quorum.auto_tie_breaker);
  EXPECT_FALSE(c.logging.to_stderr);
  EXPECT_EQ(c.logging.syslog_facility, "local3");
  EXPECT_EQ(c.logging.debug, DebugLevel::trace);
  EXPECT_EQ(c.logging.timestamp, Timestamp::off);
  EXPECT_TRUE(c.logging.fileline);
  EXPECT_EQ(c.logging.logger_subsys[0].debug, DebugLevel::off);
  // knet does not use mcastaddr; saying so is the only note.
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_EQ(format_note(c, c.notes[0]),
            "test.conf:18:2: note: totem.interface: mcastaddr is used only by transport udp");
}

TEST(Sections, RingnumberIsTheLegacyLinknumber) {
  auto c = parse_ok(knet_cluster(2, "  interface {\n    ringnumber: 3\n  }\n"));
  ASSERT_EQ(c.totem.interfaces.size(), 1u);
  EXPECT_EQ(c.totem.interfaces[0].linknumber, 3u);
}

TEST(Sections, Ipv6NodelistAndHostNames) {
  auto c = parse_ok(
      "nodelist {\n node {\n  ring0_addr: fd00::1\n  nodeid: 1\n }\n node {\n  ring0_addr: "
      "fd00::2\n  nodeid: 2\n }\n"
      " node {\n  ring0_addr: node-three.example.com\n  nodeid: 3\n }\n}\n");
  EXPECT_EQ(c.nodelist[0].ring_addr[0], "fd00::1");
  EXPECT_EQ(c.nodelist[2].ring_addr[0], "node-three.example.com");
}

// ---- syntax --------------------------------------------------------------------------------

TEST(Syntax, CommentsBomCrlfAndUtf8) {
  auto c = parse_ok(
      "\xEF\xBB\xBF# 設定檔\r\ntotem {\r\n  cluster_name: 叢集  # 名稱\r\n  token: 4000\t# tab "
      "before the comment\r\n}\r\n" +
      knet_cluster(2).substr(std::string("totem {\n  version: 2\n  cluster_name: c\n}\n").size()));
  EXPECT_EQ(c.totem.cluster_name, "叢集");
  EXPECT_EQ(c.totem.token, 4000);
  EXPECT_EQ(c.nodelist.size(), 2u);
  // "4000#not…" has no white space before '#', so it is one (bad) value.
  auto e = parse_error("totem {\n  token: 4000#x\n}\n");
  EXPECT_THAT(e, HasSubstr("test.conf:2:10: totem.token: expected a whole number, got '4000#x'"));
}

TEST(Syntax, NoBreakSpacesAreBlanks) {
  auto c = parse_ok(knet_cluster(2, "\xC2\xA0 token:\xC2\xA0 4000\xC2\xA0\xC2\xA0#\xC2\xA0note\n"));
  EXPECT_EQ(c.totem.token, 4000);
}

TEST(Syntax, ColumnsCountCharactersNotBytes) {
  auto e = parse_error("totem {\n  cluster_name: 叢集\n  token: 叢\n}\n");
  EXPECT_THAT(e, HasSubstr("test.conf:3:10: totem.token"));
}

TEST(Syntax, Errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"totem {\n  token: 3000\n", "test.conf:1:1: section 'totem' is never closed"},
      {"}\n", "test.conf:1:1: '}' closes no open section"},
      {"totem {\n  token 3000\n}\n", "test.conf:2:3: expected 'key: value', 'name {' or '}'"},
      {"totem { token: 1 }\n", "test.conf:1:9: expected end of line after '{'"},
      {"{\n}\n", "test.conf:1:1: expected a section name before '{'"},
      {"to tem {\n}\n", "test.conf:1:1: expected a section name (one word)"},
      {"totem {\n  : 5\n}\n", "test.conf:2:3: expected a key name before ':'"},
      {"totem {\n  to ken: 5\n}\n", "test.conf:2:3: expected a key name (one word)"},
      {"totem {\n  token: 5 }\n", "test.conf:2:12: unexpected '}' in the value of 'token'"},
      {"totem {\n  token: 5\n  }}\n", "test.conf:3:3: expected '}' alone on its line"},
      {"totem {\n  cluster_name: a\xFF\n}\n", "test.conf:2:18: invalid UTF-8 byte"},
      {"totem {\n  cluster_name: \xC0\xAF\n}\n", "test.conf:2:17: invalid UTF-8 byte"},
      {std::string("totem {\n  cluster_name: a\0b\n}\n", 30),
       "test.conf:2:18: unexpected NUL byte"},
      {"totem {\n  cluster_name: a\x01\n}\n", "test.conf:2:18: unexpected control character"},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_THAT(parse_error(text), HasSubstr(expected)) << text;
}

TEST(Syntax, DeepNestingIsRefusedNotRecursedInto) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "a {\n";
  EXPECT_THAT(parse_error(text), HasSubstr("nested deeper than"));
}

// ---- bad values: every error class names the key and the place -----------------------------

TEST(Values, Errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // negative, zero, non-numeric, out of range
      {knet_cluster(2, "  token: -5\n"),
       "test.conf:4:10: totem.token: must not be negative, got '-5'"},
      {knet_cluster(2, "  token: 0\n"), "test.conf:4:10: totem.token: must be greater than 0"},
      {knet_cluster(2, "  join: 0\n"), "totem.join: must be greater than 0"},
      {knet_cluster(2, "  consensus: -1\n"), "totem.consensus: must not be negative"},
      {knet_cluster(2, "  max_messages: many\n"),
       "test.conf:4:17: totem.max_messages: expected a whole number, got 'many'"},
      {knet_cluster(2, "  token: 99999999999\n"), "totem.token: must be at most 4294967295"},
      {knet_cluster(2, "  token:\n"), "totem.token: expected a number, got nothing"},
      {knet_cluster(2, "  token_retransmits_before_loss_const: 0\n"),
       "token_retransmits_before_loss_const: must be greater than 0"},
      // consensus against token and join
      {knet_cluster(2, "  token: 3000\n  consensus: 2000\n"),
       "test.conf:5:14: totem.consensus: 2000 ms is less than totem.token (3000 ms)"},
      {knet_cluster(
           2,
           "  token: 30\n  token_retransmits_before_loss_const: 1\n  join: 50\n  consensus: 40\n"),
       "totem.consensus: 40 ms is less than totem.join (50 ms)"},
      {knet_cluster(2, "  token: 3\n"), "totem.token: 3 ms is too small"},
      // booleans and choices
      {knet_cluster(2, "  secauth: maybe\n"), "test.conf:4:12: totem.secauth: expected yes or no"},
      {knet_cluster(2, "  clear_node_high_bit: 2\n"),
       "totem.clear_node_high_bit: expected yes or no"},
      {knet_cluster(2, "  transport: tcp\n"),
       "totem.transport: expected one of knet, udp, udpu; got 'tcp'"},
      {knet_cluster(2, "  crypto_cipher: des\n"),
       "totem.crypto_cipher: expected one of none, aes256"},
      {knet_cluster(2, "  crypto_cipher: aes256\n  crypto_hash: none\n"),
       "crypto_cipher: aes256 requires crypto_hash"},
      {knet_cluster(2, "  version: 1\n"), "totem.version: the only valid version is 2"},
      {knet_cluster(2, "  token_warning: 101\n"), "totem.token_warning: must be at most 100"},
      {knet_cluster(2, "  netmtu: 100\n"), "totem.netmtu: must be at least 576"},
      {knet_cluster(2, "  cluster_name:\n"), "totem.cluster_name: expected a value, got nothing"},
      {knet_cluster(2, "  keyfile: authkey\n"), "totem.keyfile: expected an absolute path"},
      // addresses
      {knet_cluster(2, "  interface {\n    bindnetaddr: 10.11.8.300\n  }\n"),
       "test.conf:5:18: totem.interface.bindnetaddr: '10.11.8.300' is not a valid IPv4 address"},
      {knet_cluster(2, "  interface {\n    bindnetaddr: fe80::zz\n  }\n"),
       "'fe80::zz' is not a valid IPv6 address"},
      {knet_cluster(2, "  interface {\n    bindnetaddr: host.example\n  }\n"),
       "bindnetaddr: expected an IP address"},
      {knet_cluster(2, "  interface {\n    mcastaddr: 10.0.0.1\n  }\n"),
       "totem.interface.mcastaddr: '10.0.0.1' is not a multicast address"},
      {knet_cluster(2, "  interface {\n    mcastaddr: 240.0.0.1\n  }\n"),
       "'240.0.0.1' is not a multicast address"},
      {knet_cluster(2, "  interface {\n    mcastaddr: fd00::1\n  }\n"),
       "'fd00::1' is not a multicast address"},
      {knet_cluster(2, "  interface {\n    bindnetaddr: 10.0.0.0\n    mcastaddr: ff15::1\n  }\n"),
       "totem.interface.mcastaddr: 'ff15::1' is IPv6 but bindnetaddr '10.0.0.0' is IPv4 (mixed "
       "address families)"},
      {knet_cluster(2, "  interface {\n    mcastport: 0\n  }\n"),
       "totem.interface.mcastport: must be greater than 0"},
      {knet_cluster(2, "  interface {\n    mcastport: 70000\n  }\n"),
       "mcastport: must be at most 65535"},
      {knet_cluster(2, "  interface {\n    ttl: 256\n  }\n"),
       "totem.interface.ttl: must be at most 255"},
      {knet_cluster(2, "  interface {\n    linknumber: 8\n  }\n"),
       "totem.interface.linknumber: must be at most 7"},
      {knet_cluster(
           2, "  interface {\n    linknumber: 1\n  }\n  interface {\n    ringnumber: 1\n  }\n"),
       "test.conf:7:3: totem.interface: link 1 is already configured by the interface on line 4"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n }\n node {\n  ring0_addr: "
       "bad_host!\n  nodeid: 2\n }\n}\n",
       "test.conf:7:15: nodelist.node.ring0_addr: 'bad_host!' is neither an IP address nor a valid "
       "host name"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n }\n node {\n  ring0_addr: "
       "fd00::2\n  nodeid: 2\n }\n}\n",
       "test.conf:7:15: nodelist.node.ring0_addr: 'fd00::2' is IPv6 but link 0 of the node on line "
       "2 is IPv4"},
      {"nodelist {\n node {\n  ring0_addr: 239.0.0.1\n  nodeid: 1\n }\n}\n",
       "is a multicast address, not a node's address"},
      {"totem {\n interface {\n  bindnetaddr: fd00::\n }\n}\nnodelist {\n node {\n  ring0_addr: "
       "10.0.0.1\n  nodeid: 1\n }\n}\n",
       "test.conf:2:2: totem.interface: bindnetaddr 'fd00::' is IPv6 but the nodelist's link 0 "
       "addresses are IPv4"},
      // nodelist identity
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n }\n node {\n  ring0_addr: "
       "10.0.0.2\n  nodeid: 1\n }\n}\n",
       "test.conf:8:11: nodelist.node.nodeid: duplicate nodeid 1 (also the node on line 2)"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n  name: a\n }\n node {\n  "
       "ring0_addr: 10.0.0.2\n"
       "  nodeid: 2\n  name: a\n }\n}\n",
       "test.conf:10:9: nodelist.node.name: duplicate name 'a' (also the node on line 2)"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 1\n }\n node {\n  ring0_addr: "
       "10.0.0.1\n  nodeid: 2\n }\n}\n",
       "nodelist.node.ring0_addr: duplicate address '10.0.0.1'"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n  nodeid: 0\n }\n}\n",
       "nodelist.node.nodeid: must be greater than 0"},
      {"nodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n",
       "test.conf:2:2: nodelist.node: expected nodeid (transport knet needs an explicit nodeid"},
      {"totem {\n transport: udpu\n}\nnodelist {\n node {\n  ring0_addr: fd00::1\n }\n}\n",
       "nodelist.node.nodeid: cannot derive a node id from 'fd00::1'"},
      {"nodelist {\n node {\n  nodeid: 1\n }\n}\n",
       "test.conf:2:2: nodelist.node: expected ring0_addr"},
      // transports
      {"totem {\n transport: knet\n}\n",
       "test.conf:2:13: nodelist: transport knet needs a nodelist"},
      {"totem {\n transport: udp\n}\n", "transport udp needs mcastaddr"},
      {"totem {\n transport: udp\n interface {\n  mcastaddr: 239.1.1.1\n }\n}\n",
       "expected bindnetaddr"},
      {"totem {\n transport: udpu\n interface {\n  linknumber: 0\n }\n interface {\n  linknumber: "
       "1\n }\n}\n" +
           std::string("nodelist {\n node {\n  ring0_addr: 10.0.0.1\n }\n}\n"),
       "test.conf:6:2: totem.interface: transport udpu supports one interface"},
      // quorum
      {knet_cluster(2) + "quorum {\n provider: magic\n}\n",
       "quorum.provider: expected one of corosync_votequorum"},
      {knet_cluster(2) + "quorum {\n expected_votes: 0\n}\n",
       "quorum.expected_votes: must be greater than 0"},
      {knet_cluster(2) + "quorum {\n two_node: 2\n}\n", "quorum.two_node: expected yes or no"},
      {knet_cluster(2) + "quorum {\n last_man_standing_window: 0\n}\n",
       "quorum.last_man_standing_window: must be greater than 0"},
      {"totem {\n transport: udp\n interface {\n  bindnetaddr: 10.0.0.0\n  mcastaddr: 239.1.1.1\n "
       "}\n}\n"
       "quorum {\n provider: corosync_votequorum\n}\n",
       "test.conf:9:12: quorum.provider: corosync_votequorum needs quorum.expected_votes or a "
       "nodelist"},
      // logging
      {knet_cluster(2) + "logging {\n to_logfile: yes\n}\n",
       "logging.to_logfile: yes needs logging.logfile"},
      {knet_cluster(2) + "logging {\n debug: loud\n}\n",
       "logging.debug: expected one of off, on, trace"},
      {knet_cluster(2) + "logging {\n timestamp: always\n}\n",
       "logging.timestamp: expected one of off, on, hires"},
      {knet_cluster(2) + "logging {\n syslog_facility: kernel\n}\n",
       "logging.syslog_facility: expected one of"},
      {knet_cluster(2) + "logging {\n to_syslog: perhaps\n}\n",
       "logging.to_syslog: expected yes or no"},
      {knet_cluster(2) + "logging {\n logger_subsys {\n  debug: on\n }\n}\n",
       "logging.logger_subsys: expected a subsys key"},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_THAT(parse_error(text), HasSubstr(expected)) << text;
}

TEST(Values, BooleansInEveryCorosyncSpelling) {
  for (const char* yes : {"yes", "on", "true", "1"}) {
    EXPECT_TRUE(parse_ok(knet_cluster(2, std::string("  clear_node_high_bit: ") + yes + "\n"))
                    .totem.clear_node_high_bit);
  }
  for (const char* no : {"no", "off", "false", "0"}) {
    EXPECT_FALSE(parse_ok(knet_cluster(2, std::string("  clear_node_high_bit: ") + no + "\n"))
                     .totem.clear_node_high_bit);
  }
}

// ---- warnings and notes ------------------------------------------------------------------

TEST(Notes, UnknownKeysAndSectionsWarnWithTheirLine) {
  auto c = parse_ok(knet_cluster(2, "  frobnicate: 1\n") +
                    "weird {\n}\nquorum {\n provider: corosync_votequorum\n"
                    " provider: corosync_votequorum\n}\n");
  const Note* key = find_note(c, "unknown key 'frobnicate' in totem");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->severity, Note::Severity::warning);
  EXPECT_EQ(key->line, 4);
  EXPECT_EQ(key->column, 3);
  const Note* section = find_note(c, "unknown section 'weird'");
  ASSERT_NE(section, nullptr);
  EXPECT_EQ(section->line, 18);
  const Note* again = find_note(c, "quorum.provider is set again (first on line 21)");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->line, 22);
  EXPECT_EQ(format_note(c, *key),
            "test.conf:4:3: warning: unknown key 'frobnicate' in totem (ignored)");
}

TEST(Notes, LegacyAndUnusedAreNotesNotWarnings) {
  auto c = parse_ok("compatibility: whitetank\n" +
                    knet_cluster(2, "  nodeid: 4\n  link_mode: passive\n") +
                    "system {\n qb_ipc_type: native\n}\nquorum {\n provider: corosync_votequorum\n "
                    "device {\n model: net\n net {\n host: w\n tls: on\n }\n }\n}\n");
  for (const char* fragment : {"compatibility", "totem.nodeid: deprecated", "totem.link_mode",
                               "section 'system'", "quorum.device.net.tls"}) {
    const Note* n = find_note(c, fragment);
    ASSERT_NE(n, nullptr) << fragment;
    EXPECT_EQ(n->severity, Note::Severity::note) << fragment;
  }
}

// corosync-qdevice(8)'s keys for the witness, its defaults, and every bad value named by line.
TEST(Sections, QuorumDeviceNet) {
  const std::string quorum = "quorum {\n provider: corosync_votequorum\n device {\n";  // line 17
  auto c = parse_ok(knet_cluster(2) + quorum + "  model: net\n  net {\n   host: 10.0.0.9\n  }\n }\n}\n");
  ASSERT_TRUE(c.quorum.device);
  EXPECT_EQ(c.quorum.device->host, "10.0.0.9");
  EXPECT_EQ(c.quorum.device->port, 5403);
  EXPECT_EQ(c.quorum.device->votes, 1u);
  EXPECT_EQ(c.quorum.device->timeout, 10000);
  EXPECT_EQ(c.quorum.device->tie_breaker, "lowest");
  EXPECT_EQ(c.quorum.device->line, 19);
  EXPECT_EQ(c.quorum.expected_votes, 3u) << "two nodes and the witness";
  EXPECT_FALSE(c.quorum.wait_for_all);
  c = parse_ok(knet_cluster(2) + quorum +
               "  model: net\n  votes: 1\n  timeout: 3000\n  net {\n   host: w\n   port: 6000\n"
               "   algorithm: ffsplit\n   tie_breaker: 2\n  }\n }\n}\n");
  EXPECT_EQ(c.quorum.device->port, 6000);
  EXPECT_EQ(c.quorum.device->timeout, 3000);
  EXPECT_EQ(c.quorum.device->tie_breaker_node, 2u);
  auto bad = [&](const std::string& device) {
    return parse_error(knet_cluster(2) + quorum + device + " }\n}\n");
  };
  EXPECT_EQ(bad("  net {\n   host: w\n  }\n"),
            "test.conf:19:2: quorum.device: expected model: net (the witness, `vigil witness`)");
  EXPECT_EQ(bad("  model: disk\n"),
            "test.conf:20:10: quorum.device.model: expected one of net; got 'disk'");
  EXPECT_EQ(bad("  model: net\n"),
            "test.conf:19:2: quorum.device: model net needs a net { host: … } section");
  EXPECT_EQ(bad("  model: net\n  votes: 2\n  net {\n   host: w\n  }\n"),
            "test.conf:21:10: quorum.device.votes: must be at most 1, got '2'");
  EXPECT_EQ(bad("  model: net\n  net {\n   port: 5403\n  }\n"),
            "test.conf:21:3: quorum.device.net: expected host (the witness's address)");
  EXPECT_EQ(bad("  model: net\n  net {\n   host: w\n   port: 70000\n  }\n"),
            "test.conf:23:10: quorum.device.net.port: must be at most 65535, got '70000'");
  EXPECT_THAT(bad("  model: net\n  net {\n   host: w\n   algorithm: lms\n  }\n"),
              HasSubstr("test.conf:23:15: quorum.device.net.algorithm: lms is not supported"));
  EXPECT_EQ(bad("  model: net\n  net {\n   host: w\n   tie_breaker: first\n  }\n"),
            "test.conf:23:17: quorum.device.net.tie_breaker: expected lowest, highest or a node "
            "id, got 'first'");
  EXPECT_THAT(parse_error(knet_cluster(2) +
                          "quorum {\n provider: corosync_votequorum\n two_node: 1\n device {\n"
                          "  model: net\n  net {\n   host: w\n  }\n }\n}\n"),
              HasSubstr("test.conf:19:12: quorum.two_node: cannot be used with quorum.device (line "
                        "20)"));
}

TEST(Notes, RepeatedSectionsMergeWithAWarning) {
  auto c = parse_ok(knet_cluster(2) + "totem {\n token: 5000\n}\n");
  EXPECT_EQ(c.totem.token, 5000);
  EXPECT_EQ(c.totem.cluster_name, "c");
  const Note* n = find_note(c, "section 'totem' appears again (first on line 1)");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->severity, Note::Severity::warning);
  EXPECT_EQ(n->line, 17);
}

TEST(Notes, EverySectionReportsItsUnknownKeysAndSubsections) {
  auto c = parse_ok(
      "totem {\n interface {\n  knet_link_priority: 5\n  colour: blue\n  extra {\n  }\n }\n}\n"
      "nodelist {\n stray: 1\n node {\n  nodeid: 1\n  ring0_addr: 10.0.0.1\n  shoe_size: 9\n }\n}\n"
      "quorum {\n votes: 1\n odd: 1\n}\n"
      "logging {\n logging_daemon {\n }\n logger_subsys {\n  subsys: X\n  syslog_priority: info\n"
      "  hue: red\n }\n shade: dark\n}\n");
  for (const char* fragment :
       {"unknown key 'colour' in totem.interface", "unknown section 'extra' in totem.interface",
        "unknown key 'stray' in nodelist", "unknown key 'shoe_size' in nodelist.node",
        "unknown key 'odd' in quorum", "unknown key 'hue' in logging.logger_subsys",
        "unknown key 'shade' in logging"}) {
    const Note* n = find_note(c, fragment);
    ASSERT_NE(n, nullptr) << fragment;
    EXPECT_EQ(n->severity, Note::Severity::warning) << fragment;
  }
  for (const char* fragment : {"totem.interface.knet_link_priority", "quorum.votes",
                               "logging.logging_daemon", "logging.logger_subsys.syslog_priority"}) {
    const Note* n = find_note(c, fragment);
    ASSERT_NE(n, nullptr) << fragment;
    EXPECT_EQ(n->severity, Note::Severity::note) << fragment;
  }
}

TEST(Notes, BroadcastWithMcastaddrWarns) {
  auto c = parse_ok(
      "totem {\n transport: udp\n interface {\n  bindnetaddr: 10.0.0.0\n  broadcast: yes\n"
      "  mcastaddr: 239.1.1.1\n }\n}\n");
  const Note* n = find_note(c, "broadcast is yes, so mcastaddr is not used");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->line, 5);
}

// ---- node ids and paths --------------------------------------------------------------------

TEST(NodeId, DerivedFromIpv4AsCorosyncDoes) {
  EXPECT_EQ(*nodeid_from_ipv4("10.11.8.1", false), 0x0A0B0801u);
  EXPECT_EQ(*nodeid_from_ipv4("192.168.1.1", false), 0xC0A80101u);
  EXPECT_EQ(*nodeid_from_ipv4("192.168.1.1", true), 0x40A80101u);
  EXPECT_FALSE(nodeid_from_ipv4("fd00::1", false).ok());
  EXPECT_FALSE(nodeid_from_ipv4("node1", false).ok());
  EXPECT_FALSE(nodeid_from_ipv4("0.0.0.0", false).ok());
  EXPECT_THAT(nodeid_from_ipv4("128.0.0.0", true).error().message, HasSubstr("node id 0"));
}

TEST(Paths, FirstExistingFallsBackToTheFirst) {
  EXPECT_EQ(first_existing({"/nonexistent/a", "/nonexistent/b"}), "/nonexistent/a");
  EXPECT_EQ(first_existing({"/nonexistent/a", kGuide}), kGuide);
  ClusterConfig c;
  c.totem.keyfile = "/k";
  EXPECT_EQ(authkey_path(c), "/k");
}

// An /etc of its own: <etc>/vigil and <etc>/corosync, removed afterwards.
class EtcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vigil-etc-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    etc_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(etc_); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto path = std::filesystem::path(etc_) / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  std::string etc_;
};

constexpr const char* kNoKeyfile =
    "totem {\n  version: 2\n  cluster_name: c\n}\nnodelist {\n  node {\n    ring0_addr: "
    "127.0.0.1\n    nodeid: 1\n  }\n}\n";

// The guide's layout: /etc/corosync/corosync.conf and the key corosync-keygen wrote beside it.
TEST_F(EtcTest, CorosyncConfWithoutKeyfileUsesTheAuthkeyBesideIt) {
  const auto conf = write("corosync/corosync.conf", kNoKeyfile);
  EXPECT_EQ(default_config_path(etc_), conf);
  auto c = load_default_config(etc_);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(authkey_path(*c), etc_ + "/corosync/authkey");
  // The same file loaded by name gives the same key.
  EXPECT_EQ(authkey_path(*load_config(conf)), etc_ + "/corosync/authkey");
}

TEST_F(EtcTest, VigilsOwnFileComesFirstWithItsOwnKey) {
  write("corosync/corosync.conf", kNoKeyfile);
  const auto conf = write("vigil/cluster.conf", kNoKeyfile);
  EXPECT_EQ(default_config_path(etc_), conf);
  EXPECT_EQ(authkey_path(*load_default_config(etc_)), etc_ + "/vigil/authkey");
  EXPECT_EQ(authkey_beside(conf), etc_ + "/vigil/authkey");
  auto keyed = load_config(write("vigil/keyed.conf", std::string(kNoKeyfile).replace(
                                                        0, 8, "totem {\n  keyfile: /srv/key\n")));
  ASSERT_TRUE(keyed.ok()) << keyed.error().message;
  EXPECT_EQ(authkey_path(*keyed), "/srv/key");
}

TEST_F(EtcTest, WithoutADefaultFileTheErrorNamesBothLocations) {
  EXPECT_EQ(default_config_path(etc_), etc_ + "/vigil/cluster.conf");
  auto none = load_default_config(etc_);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message,
              HasSubstr("neither " + etc_ + "/vigil/cluster.conf nor " + etc_ +
                        "/corosync/corosync.conf exists"));
}

TEST(Load, MissingFileAndDirectoryAreErrorsNamingThePath) {
  EXPECT_THAT(load_config("/nonexistent/cluster.conf").error().message,
              HasSubstr("/nonexistent/cluster.conf: cannot read"));
  EXPECT_THAT(load_config("/tmp").error().message, HasSubstr("/tmp: is a directory"));
}

}  // namespace
}  // namespace vigil::config

// vigil cluster add/remove: the nodelist edited in the text, the rest kept as written.
namespace vigil::config {
namespace {

constexpr const char* kEdited =
    "totem {\n  version: 2\n  cluster_name: c\n  transport: udpu\n}\n"
    "# the nodes\n"
    "nodelist {\n  node {\n    ring0_addr: 127.0.0.1\n    name: n1\n    nodeid: 1\n  }\n"
    "  node {  # second\n    ring0_addr: 127.0.0.2\n    name: n2\n    nodeid: 2\n  }\n}\n"
    "quorum {\n  provider: corosync_votequorum\n}\n";

TEST(ConfigEdit, ANodeIsAppendedToTheNodelistAndRemovedAgain) {
  Node n4;
  n4.nodeid = 4;
  n4.name = "n4";
  n4.ring_addr[0] = "127.0.0.4";
  auto added = with_node_added(kEdited, "c.conf", n4);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_NE(added->find("    nodeid: 2\n  }\n  node {\n    ring0_addr: 127.0.0.4\n    name: n4\n"
                        "    nodeid: 4\n  }\n}\nquorum {"),
            std::string::npos)
      << *added;
  auto cfg = parse_config(*added, "c.conf");
  ASSERT_TRUE(cfg.ok());
  ASSERT_EQ(cfg->nodelist.size(), 3u);
  EXPECT_EQ(cfg->quorum.expected_votes, 3u);
  EXPECT_FALSE(cfg->quorum.expected_votes_written);  // the sum: a later change moves it
  auto removed = with_node_removed(*added, "c.conf", 4);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, kEdited);
  auto second = with_node_removed(kEdited, "c.conf", 2);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->find("second"), std::string::npos);
  EXPECT_NE(second->find("# the nodes\n"), std::string::npos);
  EXPECT_EQ(with_node_removed(kEdited, "c.conf", 9).error().message,
            "c.conf: no node with nodeid 9 in the nodelist");
  n4.nodeid = 1;  // a duplicate: the edited text would not parse, so nothing comes back
  EXPECT_NE(with_node_added(kEdited, "c.conf", n4).error().message.find("duplicate nodeid 1"),
            std::string::npos);
  EXPECT_EQ(with_node_added("totem {\n  version: 2\n}\n", "m.conf", n4).error().message,
            "m.conf: no nodelist section (the nodes are found by multicast)");
}

}  // namespace
}  // namespace vigil::config
