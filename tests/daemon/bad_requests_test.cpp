// Requests that used to end vigild, sent to two real vigild on loopback: each is answered with an
// error naming what is wrong, the daemon keeps answering, cib_query still works on every node,
// and after a restart of the whole cluster the acknowledged configuration is still there.
#include <gtest/gtest.h>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

bool synced(const TestCluster& c, int node, std::size_t members) {
  auto s = c.status(node);
  return s.ok() && s->contains("cib") && (*s)["cib"]["synced"] == true &&
         (*s)["cib"]["members"] == members;
}

// One request on its own connection; the answer, or an error when the daemon did not give one.
Result<Json> ask(const TestCluster& c, int node, const Json& request) {
  return control::request(c.socket(node), request, 10000);
}

Json commit(const std::string& kind, const std::string& address, const std::string& xml = "") {
  Json change{{"kind", kind}, {"address", address}};
  if (!xml.empty()) change["xml"] = xml;
  return Json{{"command", "cib_commit"}, {"op", Json{{"changes", Json::array({change})}}}};
}

const char* kKept =
    "<cluster_property_set id=\"kept\"><nvpair id=\"kept-mm\" name=\"maintenance-mode\" "
    "value=\"true\"/></cluster_property_set>";

TEST(BadRequests, AreRefusedAndTheDaemonAndItsCibKeepAnswering) {
  ClusterSpec spec;
  spec.nodes = 2;
  TestCluster c(spec, "badreq");
  c.start(1);
  c.start(2);
  ASSERT_TRUE(eventually([&] { return synced(c, 1, 2) && synced(c, 2, 2); }, 20s))
      << c.log_text(1);
  auto kept = ask(c, 1, commit("create", "/cib/configuration/crm_config", kKept));
  ASSERT_TRUE(kept.ok() && (*kept)["ok"] == true) << (kept.ok() ? kept->dump() : "no answer");

  // cpg_send's data is read only from a member of the group.
  auto client = control::Client::connect(c.socket(1));
  ASSERT_TRUE(client.ok());
  ASSERT_EQ((*client->call(Json{{"command", "cpg_join"}, {"group", "g"}}))["ok"], true);
  auto data = client->call(Json{{"command", "cpg_send"}, {"group", "g"}, {"data", 5}});
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ((*data)["error"], "cpg_send: \"data\" must be a string, not number");

  const std::vector<std::pair<Json, std::string>> bad = {
      {Json{{"command", 5}}, "\"command\" must be a string"},
      {Json{{"command", "cib_query"}, {"xpath", 5}}, "\"xpath\" must be a string"},
      {Json{{"command", "controller_fence"}, {"node", 5}}, "\"node\" must be a string"},
      {commit("modify", "id:kept-mm", "<nvpair id=\"kept-mm\" value=\"&#xD800;\"/>"),
       "holds a character XML does not allow"},
      {commit("delete", "/cib/configuration"), "<cib> has no <configuration>"},
      {commit("delete", "/cib/status"), "<cib> has no <status>"},
      {commit("delete", std::string("id:kept\0x", 9)), "NUL byte"},
  };
  for (const auto& [request, why] : bad) {
    auto answer = ask(c, 1, request);
    ASSERT_TRUE(answer.ok()) << request.dump() << ": " << answer.error().message << "\n"
                             << c.log_text(1);
    EXPECT_EQ((*answer)["ok"], false) << answer->dump();
    EXPECT_NE((*answer)["error"].get<std::string>().find(why), std::string::npos)
        << answer->dump();
    auto ping = ask(c, 1, Json{{"command", "ping"}});
    ASSERT_TRUE(ping.ok()) << "vigild stopped answering after " << request.dump();
  }
  for (int n : {1, 2}) {
    auto query = ask(c, n, Json{{"command", "cib_query"}});
    ASSERT_TRUE(query.ok()) << c.log_text(n);
    EXPECT_NE((*query)["xml"].get<std::string>().find("id=\"kept-mm\""), std::string::npos);
  }

  // What was acknowledged is what the next start loads, on every node.
  for (int n : {1, 2}) c.signal(n, SIGTERM);
  for (int n : {1, 2}) ASSERT_EQ(c.reap(n, 30s), 0) << c.log_text(n);
  c.start(1);
  c.start(2);
  ASSERT_TRUE(eventually([&] { return synced(c, 1, 2) && synced(c, 2, 2); }, 20s))
      << c.log_text(1);
  for (int n : {1, 2}) {
    auto query = ask(c, n, Json{{"command", "cib_query"}, {"xpath", "//nvpair[@id='kept-mm']"}});
    ASSERT_TRUE(query.ok()) << c.log_text(n);
    EXPECT_EQ((*query)["elements"].size(), 1u) << query->dump();
  }
  EXPECT_EQ(c.log_text(1).find("skipping"), std::string::npos) << c.log_text(1);
}

}  // namespace
}  // namespace vigil::test
