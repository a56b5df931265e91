// The control socket's requests decoded at the boundary: every malformed field is an error that
// names it and what was expected (a number where a string belongs threw inside vigild and ended
// it), every command round-trips its name, and every answer is encodable.
#include "control/request.h"

#include <gtest/gtest.h>

#include "cib/op_json.h"

namespace vigil::control {
namespace {

std::string error_of(const Json& body) {
  auto r = decode_request(body);
  return r ? std::string("accepted") : r.error().message;
}

TEST(ControlRequest, AFieldOfTheWrongTypeIsNamedNotThrown) {
  EXPECT_EQ(error_of(Json{{"command", 5}}), "\"command\" must be a string, not number");
  EXPECT_EQ(error_of(Json::object()), "\"command\" is missing (a string)");
  EXPECT_EQ(error_of(Json{{"command", "cib_query"}, {"xpath", 5}}),
            "cib_query: \"xpath\" must be a string, not number");
  EXPECT_EQ(error_of(Json{{"command", "controller_fence"}, {"node", 5}}),
            "controller_fence: \"node\" must be a string, not number");
  EXPECT_EQ(error_of(Json{{"command", "controller_fence"}}),
            "controller_fence: \"node\" is missing (a string)");
  EXPECT_EQ(error_of(Json{{"command", "controller_fence"}, {"node", ""}}),
            "controller_fence: \"node\" is empty");
  EXPECT_EQ(error_of(Json{{"command", "nodelist_add"}, {"nodeid", -1}, {"addresses", {"a"}}}),
            "nodelist_add: \"nodeid\" must be a number from 1 to 4294967295");
  EXPECT_EQ(error_of(Json{{"command", "nodelist_add"}, {"nodeid", 4}}),
            "nodelist_add: \"addresses\" must be an array of 1 to 8 strings (ring0_addr, "
            "ring1_addr …)");
  EXPECT_EQ(error_of(Json{{"command", "nodelist_add"}, {"addresses", {""}}}),
            "nodelist_add: \"addresses\" must hold non-empty strings");
  EXPECT_EQ(error_of(Json{{"command", "nodelist_remove"}}),
            "nodelist_remove: \"node\" is missing (a string)");
  EXPECT_EQ(error_of(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", 5}}),
            "cpg_send: \"data\" must be a string, not number");
  EXPECT_EQ(error_of(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "abc"}}),
            "cpg_send: \"data\" must be hex digits: an odd number of them");
  EXPECT_EQ(error_of(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "zz"}}),
            "cpg_send: \"data\" must be hex digits: character 0 is not one");
  EXPECT_EQ(error_of(Json{{"command", "cpg_join"}, {"group", Json::array()}}),
            "cpg_join: \"group\" must be a string, not array");
  EXPECT_EQ(error_of(Json{{"command", "cib_commit"}}),
            "cib_commit: \"op\" (an object) or \"encoded\" (hex) is missing");
  EXPECT_EQ(error_of(Json{{"command", "cib_commit"}, {"op", {{"changes", {{{"kind", 1}}}}}}}),
            "cib_commit: \"op\": changes[0].kind: not a string");
  EXPECT_EQ(error_of(Json{{"command", "cib_commit"}, {"encoded", "00"}}),
            "cib_commit: \"encoded\": cib op: bad magic");
  EXPECT_EQ(error_of(Json{{"command", "history_query"}, {"since", -1}}),
            "history_query: \"since\" must be a number of milliseconds since the epoch");
  EXPECT_EQ(error_of(Json{{"command", "history_query"}, {"since", "10m"}}),
            "history_query: \"since\" must be a number of milliseconds since the epoch");
  EXPECT_EQ(error_of(Json{{"command", "history_query"}, {"node", 3}}),
            "history_query: \"node\" must be a string, not number");
  EXPECT_EQ(error_of(Json{{"command", "nope"}}), "unknown command 'nope'");
  EXPECT_EQ(error_of(Json{{"command", "join_token"}, {"ttl", 0}}),
            "join_token: \"ttl\" must be a number of seconds from 1 to 86400");
}

TEST(ControlRequest, AReadWaitsForTheMillisecondsAsked) {
  auto plain = decode_request(Json{{"command", "cpg_read"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(std::get<CpgRead>(*plain).wait, 0);
  auto waiting = decode_request(Json{{"command", "cpg_read"}, {"wait", 2500}});
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(std::get<CpgRead>(*waiting).wait, 2500);
  const std::string refused =
      "cpg_read: \"wait\" must be a number of milliseconds from 0 to 3600000";
  EXPECT_EQ(error_of(Json{{"command", "cpg_read"}, {"wait", -1}}), refused);
  EXPECT_EQ(error_of(Json{{"command", "cpg_read"}, {"wait", 3600001}}), refused);
  EXPECT_EQ(error_of(Json{{"command", "cpg_read"}, {"wait", "1s"}}), refused);
  EXPECT_EQ(error_of(Json{{"command", "cpg_read"}, {"wait", 1.5}}), refused);
  EXPECT_EQ(error_of(Json{{"command", "cpg_read"}, {"wait", 18446744073709551615ULL}}), refused);
}

TEST(ControlRequest, EveryCommandDecodesToItsOwnKind) {
  const std::vector<Json> requests = {
      {{"command", "ping"}},
      {{"command", "status"}},
      {{"command", "shutdown"}},
      {{"command", "cpg_join"}, {"group", "g"}},
      {{"command", "cpg_leave"}, {"group", "g"}},
      {{"command", "cpg_send"}, {"group", "g"}, {"data", "68AB"}},
      {{"command", "cpg_read"}},
      {{"command", "cib_query"}},
      {{"command", "cib_commit"},
       {"op", cib::op_to_json({{cib::CibChange::remove("id:x")}})}},
      {{"command", "controller_fence"}, {"node", "n2"}},
      {{"command", "nodelist_add"}, {"addresses", {"127.0.0.4"}}},
      {{"command", "nodelist_remove"}, {"node", "n4"}},
      {{"command", "history_query"}, {"since", 5}, {"resource", "vip"}},
      {{"command", "join_token"}, {"ttl", 60}},
  };
  ASSERT_EQ(requests.size(), std::variant_size_v<Request>);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto r = decode_request(requests[i]);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->index(), i);
    EXPECT_EQ(command_of(*r), requests[i]["command"].get<std::string>());
  }
  auto history = decode_request(requests[12]);
  EXPECT_EQ(std::get<HistoryQuery>(*history).since_ms, 5);
  EXPECT_EQ(std::get<HistoryQuery>(*history).resource, "vip");
  auto send = decode_request(requests[5]);
  EXPECT_EQ(std::get<CpgSend>(*send).data, (std::vector<std::uint8_t>{0x68, 0xab}));
}

// In a version-2 frame the data is the bytes themselves; hex digits still do in either version.
TEST(ControlRequest, SendDataIsRawBytesOrHex) {
  const std::vector<std::uint8_t> bytes{0x00, 0x22, 0xff};
  auto frame = encode_frame(
      Json{{"command", "cpg_send"}, {"group", "g"}, {"data", Json::binary(bytes)}},
      kPayloadVersion);
  auto decoded = decode_frame(*frame);
  ASSERT_TRUE(decoded.ok() && *decoded);
  auto raw = decode_request((*decoded)->body);
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(std::get<CpgSend>(*raw).data, bytes);
  auto hex = decode_request(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", "0022ff"}});
  ASSERT_TRUE(hex) << hex.error().message;
  EXPECT_EQ(std::get<CpgSend>(*hex).data, bytes);
}

// A CIB value that is not UTF-8 (from an older peer or disk) made the answer's JSON throw.
TEST(ControlRequest, EveryAnswerIsEncodable) {
  auto frame = encode_frame(Json{{"ok", true}, {"xml", std::string("<a b=\"\xed\xa0\x80\"/>")}});
  ASSERT_TRUE(frame);
  auto back = decode_frame(*frame);
  ASSERT_TRUE(back && *back);
  const auto xml = (*back)->body["xml"].get<std::string>();
  EXPECT_EQ(xml.rfind("<a b=\"\xef\xbf\xbd", 0), 0u) << xml;  // U+FFFD in place of the bytes
  EXPECT_EQ(xml.find("\xed"), std::string::npos) << xml;
  auto huge = encode_frame(Json{{"xml", std::string(kMaxBody, 'x')}});
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("larger than the socket carries"), std::string::npos);
}

TEST(ControlRequest, QueryAnswersAndRefusesABadPath) {
  cib::Cib cib;
  auto whole = cib_query_answer(cib, "d", true, CibQuery{});
  ASSERT_TRUE(whole);
  EXPECT_EQ((*whole)["xml"], cib.to_xml());
  auto some = cib_query_answer(cib, "d", true, CibQuery{"/cib/configuration/*"});
  ASSERT_TRUE(some);
  EXPECT_EQ((*some)["elements"].size(), 4u);
  EXPECT_FALSE(cib_query_answer(cib, "d", true, CibQuery{"/cib/["}));
  EXPECT_FALSE(cib_query_answer(cib, "d", true, CibQuery{std::string("/cib\0/x", 7)}));
}

TEST(ControlRequest, ReportedMembershipIsOverlaidAndOddFieldsAreSkipped) {
  const cib::Cib empty;
  const Json status = Json::parse(R"({"nodes": [{"id": 1, "name": "alpha", "online": true},
                                                 {"id": 2, "online": false},
                                                 {"id": "3", "name": "gamma"},
                                                 {"id": 4, "name": 7, "online": "yes"},
                                                 "not a node"],
                                       "quorum": {"quorate": true}})");
  const cib::Cib cib = with_reported_membership(empty, status);
  const auto state = cib.to_xml();
  EXPECT_NE(state.find("uname=\"alpha\""), std::string::npos) << state;
  EXPECT_NE(state.find("uname=\"2\""), std::string::npos) << state;
  EXPECT_EQ(state.find("gamma"), std::string::npos) << "an id of the wrong type is skipped";
  EXPECT_NE(state.find("uname=\"4\""), std::string::npos) << "a bad name falls back to the id";
  EXPECT_NE(state.find("have-quorum=\"1\""), std::string::npos) << state;
  EXPECT_EQ(with_reported_membership(empty, Json("odd")).to_xml(), empty.to_xml());
  EXPECT_EQ(with_reported_membership(empty, Json{{"nodes", 5}, {"quorum", 1}}).to_xml(),
            with_reported_membership(empty, Json::object()).to_xml());
}

}  // namespace
}  // namespace vigil::control
