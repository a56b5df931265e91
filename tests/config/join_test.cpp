// The join token and wire format (config/join.h), and the configuration `vigil cluster init`
// writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/join.h"

namespace vigil::config {
namespace {

using ::testing::HasSubstr;

JoinToken sample_token() {
  JoinToken t;
  t.address = "127.0.0.1";
  t.port = 31005;
  t.secret = random_secret();
  return t;
}

TEST(JoinToken, ReadsBackWhatItPrintsAndNamesWhatIsMalformed) {
  for (const std::string address : {"127.0.0.1", "fe80::1", "node1.example.com"}) {
    auto t = sample_token();
    t.address = address;
    auto back = parse_token(format_token(t));
    ASSERT_TRUE(back.ok()) << format_token(t) << ": " << back.error().message;
    EXPECT_EQ(back->address, address);
    EXPECT_EQ(back->port, 31005);
    EXPECT_EQ(back->secret, t.secret);
  }
  const auto good = format_token(sample_token());
  EXPECT_THAT(parse_token("XJ1-" + good.substr(4)).error().message, HasSubstr("VJ1-"));
  EXPECT_THAT(parse_token(good.substr(0, 20)).error().message, HasSubstr("64 hex digits"));
  EXPECT_THAT(parse_token(good.substr(0, good.rfind(':')) + ":70000").error().message,
              HasSubstr("port"));
  auto bad_hex = good;
  bad_hex[5] = 'z';
  EXPECT_THAT(parse_token(bad_hex).error().message, HasSubstr("not 64 hex digits"));
}

TEST(JoinFrame, OpensOnlyWithItsDirectionsKeyAndRefusesAnyChangedByte) {
  const auto keys = join_keys(sample_token().secret);
  const auto other = join_keys(sample_token().secret);
  const Bytes text = encode_join_request({"n4", {"127.0.0.4"}});
  const auto frame = sealed_frame(keys.to_member, text);
  auto opened = open_frame(keys.to_member, frame);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, text);
  EXPECT_FALSE(open_frame(keys.to_joiner, frame).ok());  // not replayable the other way
  EXPECT_FALSE(open_frame(other.to_member, frame).ok());
  for (std::size_t i = 0; i < frame.size(); ++i) {
    auto changed = frame;
    changed[i] ^= 1;
    EXPECT_FALSE(open_frame(keys.to_member, changed).ok()) << "byte " << i;
  }
  EXPECT_THAT(open_frame(keys.to_member, Bytes(frame.begin(), frame.end() - 1)).error().message,
              HasSubstr("its head says"));
  EXPECT_THAT(open_frame(keys.to_member, refusal_frame("no such token")).error().message,
              HasSubstr("no such token"));
  EXPECT_THAT(parse_join_head(Bytes{'V', 'J', 2, 1, 0, 0, 0, 40}).error().message,
              HasSubstr("version 2"));
  EXPECT_THAT(parse_join_head(Bytes{'V', 'J', 1, 1, 0xff, 0xff, 0xff, 0xff}).error().message,
              HasSubstr("allowed 40 to"));
}

TEST(JoinMessages, DecodeWhatEncodesAndRefuseTruncationTrailingBytesAndOtherVersions) {
  const JoinRequest request{"n4", {"127.0.0.4", "10.0.0.4"}};
  const auto bytes = encode_join_request(request);
  auto back = decode_join_request(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "n4");
  EXPECT_EQ(back->addresses, request.addresses);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(decode_join_request({bytes.data(), cut}).ok()) << cut;
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THAT(decode_join_request(longer).error().message, HasSubstr("after the end"));
  auto newer = bytes;
  newer[0] = 2;
  EXPECT_THAT(decode_join_request(newer).error().message, HasSubstr("version 2"));

  JoinAnswer answer;
  answer.config = "totem { }\n";
  answer.authkey = Bytes(256, 7);
  answer.name = "n4";
  auto a = decode_join_answer(encode_join_answer(answer));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->config, answer.config);
  EXPECT_EQ(a->authkey, answer.authkey);
  answer.authkey.resize(16);
  EXPECT_THAT(decode_join_answer(encode_join_answer(answer)).error().message,
              HasSubstr("authkey of 16 bytes"));
  JoinAnswer refused;
  refused.refused = "expired";
  EXPECT_EQ(decode_join_answer(encode_join_answer(refused))->refused, "expired");
}

TEST(InitialConfig, ParsesWithCorosyncsDefaultsAndThisNodeAlone) {
  InitSettings s;
  s.cluster_name = "prod";
  s.node_name = "alpha";
  s.address = "10.0.0.1";
  s.logfile = "/var/log/vigil/vigil.log";
  auto cfg = parse_config(initial_config(s), "cluster.conf");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->totem.version, 2u);
  EXPECT_EQ(cfg->totem.cluster_name, "prod");
  EXPECT_EQ(cfg->totem.transport, Transport::knet);
  EXPECT_TRUE(authkey_required(*cfg));
  EXPECT_EQ(cfg->totem.token, 3000);
  ASSERT_EQ(cfg->nodelist.size(), 1u);
  EXPECT_EQ(cfg->nodelist[0].name, "alpha");
  EXPECT_EQ(cfg->nodelist[0].nodeid, 1u);
  EXPECT_EQ(cfg->quorum.provider, "corosync_votequorum");
  EXPECT_FALSE(cfg->quorum.expected_votes_written);  // expected votes follow the nodelist
  EXPECT_EQ(initial_config(s).find("mcastport"), std::string::npos);
  s.port = 31000;
  s.transport = Transport::udpu;
  cfg = parse_config(initial_config(s), "cluster.conf");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->totem.interfaces.at(0).mcastport, 31000);
  EXPECT_EQ(cfg->totem.transport, Transport::udpu);
}

}  // namespace
}  // namespace vigil::config
