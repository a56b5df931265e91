// page: the status page's actions — the password each user logs in with, what a POST /actions
// must carry to be obeyed, and the change it makes (the CLI's, signed with the user).
#include <gtest/gtest.h>
#include <sodium.h>

#include "cib/edit.h"
#include "page/page.h"

namespace vigil::page {
namespace {

const std::vector<std::uint8_t> kKey(256, 0x5a);

const char* kCib = R"(<cib admin_epoch="0" epoch="3" num_updates="0">
  <configuration><crm_config/>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>
    <constraints/>
  </configuration>
  <status/>
</cib>)";

cib::Cib cluster() {
  auto cib = cib::Cib::parse(kCib);
  EXPECT_TRUE(cib) << cib.error().message;
  return std::move(cib).value();
}

std::string basic(const std::string& user, const std::string& pass) {
  const std::string plain = user + ":" + pass;
  std::string out(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                    plain.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // its NUL
  return "Basic " + out;
}

// A POST /actions as the page sends it, logged in as `user`.
metrics::HttpRequest post(const std::string& body, const std::string& user = "alice") {
  metrics::HttpRequest r;
  r.method = "POST";
  r.path = "/actions";
  r.headers = {{"host", "127.0.0.1:9664"},
               {"origin", "http://127.0.0.1:9664"},
               {"x-vigil-action", "1"},
               {"authorization", basic(user, *password(kKey, user))}};
  r.body = body;
  return r;
}

void drop(metrics::HttpRequest& r, const std::string& name) {
  std::erase_if(r.headers, [&](const auto& h) { return h.first == name; });
}

TEST(Password, IsOneUsersOwnAndFollowsTheAuthkey) {
  const auto alice = password(kKey, "alice");
  ASSERT_TRUE(alice) << alice.error().message;
  EXPECT_EQ(alice->size(), 32u);
  EXPECT_EQ(alice->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(*password(kKey, "alice"), *alice);
  EXPECT_NE(*password(kKey, "hacluster"), *alice);
  std::vector<std::uint8_t> other = kKey;
  other[100] ^= 1;
  EXPECT_NE(*password(other, "alice"), *alice);
}

TEST(Password, RefusesAShortKeyAndUserNamesBasicCannotCarry) {
  EXPECT_FALSE(password(std::vector<std::uint8_t>(31, 1), "alice"));
  for (const std::string& bad :
       std::vector<std::string>{"", "a:b", "a\nb", std::string(kMaxUser + 1, 'u')})
    EXPECT_FALSE(password(kKey, bad)) << bad;
}

TEST(ParseAction, TakesTheFieldsEachActionNeeds) {
  EXPECT_EQ(*parse_action(R"({"action":"standby","node":"node1"})"),
            (Action{Action::Verb::standby, "node1", ""}));
  EXPECT_EQ(*parse_action(R"({"action":"cleanup","resource":"vip"})"),
            (Action{Action::Verb::cleanup, "", "vip"}));
  EXPECT_EQ(*parse_action(R"({"action":"move","resource":"vip","node":"node2"})"),
            (Action{Action::Verb::move, "node2", "vip"}));
  for (const char* bad :
       {"", "[]", "{}", R"({"action":"delete","resource":"vip"})", R"({"action":"standby"})",
        R"({"action":"move","resource":"vip"})", R"({"action":"clear","resource":"vip","node":"n"})",
        R"({"action":"standby","node":7})", R"({"action":"standby","node":""})",
        R"({"action":"online","node":"node1","resource":"vip"})"})
    EXPECT_FALSE(parse_action(bad)) << bad;
  EXPECT_NE(parse_action(R"({"action":"move","resource":"vip"})").error().message.find("\"node\""),
            std::string::npos);
}

TEST(Decide, ReadOnlyUnlessActionsAreOn) {
  const auto cib = cluster();
  const auto d = decide(post(R"({"action":"standby","node":"node1"})"), nullptr, &cib, "node1");
  EXPECT_EQ(d.status, 403);
  EXPECT_NE(d.message.find("--http-actions"), std::string::npos);
  EXPECT_TRUE(d.op.changes.empty());
}

TEST(Decide, AnActionNeedsThePagesHeaderAndItsOwnOrigin) {
  const auto cib = cluster();
  auto r = post(R"({"action":"standby","node":"node1"})");
  drop(r, "x-vigil-action");
  EXPECT_EQ(decide(r, &kKey, &cib, "node1").status, 403);
  r = post(R"({"action":"standby","node":"node1"})");
  for (auto& [name, value] : r.headers) {
    if (name == "origin") value = "http://evil.example";
  }
  const auto d = decide(r, &kKey, &cib, "node1");
  EXPECT_EQ(d.status, 403);
  EXPECT_NE(d.message.find("evil.example"), std::string::npos);
  // A client that sends no Origin (curl) is not a browser on another site.
  r = post(R"({"action":"standby","node":"node1"})");
  drop(r, "origin");
  EXPECT_EQ(decide(r, &kKey, &cib, "node1").status, 200);
}

TEST(Decide, WithoutOrWithWrongCredentialsItAsksToLogIn) {
  const auto cib = cluster();
  auto r = post(R"({"action":"standby","node":"node1"})");
  drop(r, "authorization");
  auto d = decide(r, &kKey, &cib, "node1");
  EXPECT_EQ(d.status, 401);
  EXPECT_TRUE(d.challenge);
  EXPECT_FALSE(d.bad_credentials);
  EXPECT_NE(d.message.find("vigil page-password"), std::string::npos);
  for (const std::string& wrong :
       std::vector<std::string>{basic("alice", *password(kKey, "bob")), basic("alice", ""),
                                "Bearer x", "Basic !!!",
                                basic("alice", *password(kKey, "alice") + "0")}) {
    r = post(R"({"action":"standby","node":"node1"})");
    for (auto& [name, value] : r.headers) {
      if (name == "authorization") value = wrong;
    }
    d = decide(r, &kKey, &cib, "node1");
    EXPECT_EQ(d.status, 401) << wrong;
    EXPECT_TRUE(d.bad_credentials) << wrong;
    EXPECT_TRUE(d.op.changes.empty()) << wrong;
  }
}

TEST(Decide, StandbyIsTheCLIsChangeSignedWithTheUser) {
  const auto cib = cluster();
  const auto d = decide(post(R"({"action":"standby","node":"node2"})"), &kKey, &cib, "node1");
  ASSERT_EQ(d.status, 200) << d.message;
  EXPECT_EQ(d.user, "alice");
  EXPECT_EQ(d.message, "standby node2");
  auto expected = cib::standby(cib::find_node(cib, "node2"), true);
  expected.push_back(cib::signature("alice", "status page", "node1"));
  EXPECT_EQ(d.op.changes, expected);
  auto after = cib::apply(cib, d.op);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_STREQ(after->root().attribute("update-user").value(), "alice");
}

TEST(Decide, MoveCleanupAndClearAreTheCLIsChanges) {
  const auto cib = cluster();
  auto move = decide(post(R"({"action":"move","resource":"vip","node":"2"})"), &kKey, &cib, "n");
  ASSERT_EQ(move.status, 200) << move.message;
  // The node is named as crm_resource names it: by uname.
  EXPECT_EQ(move.op.changes.front(), cib::move_constraint(cib, "vip", "node2", true, "").change);
  auto moved = cib::apply(cib, move.op);
  ASSERT_TRUE(moved) << moved.error().message;
  auto clear = decide(post(R"({"action":"clear","resource":"vip"})"), &kKey, &*moved, "n");
  ASSERT_EQ(clear.status, 200);
  EXPECT_EQ(clear.op.changes.front(), cib::clear_moves(*moved, "vip").front());
  // Nothing to clear, nothing to clean: an empty op, not even a signature.
  EXPECT_TRUE(decide(post(R"({"action":"clear","resource":"vip"})"), &kKey, &cib, "n")
                  .op.changes.empty());
  EXPECT_TRUE(decide(post(R"({"action":"cleanup","resource":"vip"})"), &kKey, &cib, "n")
                  .op.changes.empty());
}

TEST(Decide, UnknownNamesBadBodiesAndNoCibAreRefused) {
  const auto cib = cluster();
  auto d = decide(post(R"({"action":"standby","node":"node9"})"), &kKey, &cib, "n");
  EXPECT_EQ(d.status, 400);
  EXPECT_NE(d.message.find("node9"), std::string::npos);
  EXPECT_EQ(decide(post(R"({"action":"move","resource":"nope","node":"node1"})"), &kKey, &cib, "n")
                .status,
            400);
  EXPECT_EQ(decide(post("not json"), &kKey, &cib, "n").status, 400);
  EXPECT_EQ(decide(post(R"({"action":"standby","node":"node1"})"), &kKey, nullptr, "n").status,
            503);
}

}  // namespace
}  // namespace vigil::page
