// The status page's actions on a real vigild (`--http --http-actions`, one node on 127.0.0.1):
// a standby POSTed without credentials, with a wrong password or without the page's header is
// refused and the CIB keeps the node online; with the password `vigil page-password alice`
// prints, the node goes to standby exactly as `vigil node standby` puts it, signed by alice, and
// the history names alice and the page. Without --http-actions the page offers nothing.
#include <gtest/gtest.h>

#include "cluster.h"
#include "http_client.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;

class PageCluster {
 public:
  explicit PageCluster(const std::string& name, bool actions)
      : cluster_(spec(actions), name) {}
  ~PageCluster() { cluster_.kill_now(1); }
  TestCluster& nodes() { return cluster_; }

  ClusterSpec spec(bool actions) {
    ClusterSpec s;
    s.nodes = 1;
    s.vigild_args = [this, actions](int) {
      std::vector<std::string> args{"--http", "127.0.0.1:" + std::to_string(cluster_.port())};
      if (actions) args.emplace_back("--http-actions");
      return args;
    };
    return s;
  }

  std::string vigil(const std::string& args) {
    return capture("VIGIL_SOCKET=" + cluster_.socket(1) + " " + VIGIL_PATH + " " + args + " 2>&1");
  }

  // One request over a fresh connection; the whole response.
  std::string http(const std::string& request) {
    return http_exchange("127.0.0.1", cluster_.port(), request);
  }

  // POST /actions as the page sends it, with `fields` (header lines, each ending in CRLF).
  std::string post(const std::string& body, const std::string& fields) {
    return http("POST /actions HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(cluster_.port()) +
                "\r\nContent-Type: application/json\r\n" + fields +
                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  std::string standby_value() {
    return vigil("cib query --xpath \"//node[@uname='n1']//nvpair[@name='standby']\"");
  }

 private:
  TestCluster cluster_;
};

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST(PageActions, StandbyHappensOnlyWithTheUsersPassword) {
  PageCluster c("page-actions", true);
  c.nodes().start(1);
  ASSERT_TRUE(cluster_ready(c.nodes(), 1)) << c.nodes().log_text(1);
  // The node is in the CIB once the controller wrote it there.
  ASSERT_TRUE(eventually([&] { return c.vigil("node list").find("n1") == 0; }, 20s))
      << c.vigil("node list");
  EXPECT_NE(c.http("GET / HTTP/1.1\r\n\r\n").find("data-actions=\"on\""), std::string::npos);

  std::string password = c.vigil("page-password alice --config " +
                                 (c.nodes().dir() / "corosync.conf").string());
  ASSERT_EQ(password.size(), 33u) << password;
  password.pop_back();
  const std::string standby = R"({"action":"standby","node":"n1"})";
  const std::string marker = "X-Vigil-Action: 1\r\n";
  const std::string good = "Authorization: Basic " + base64("alice:" + password) + "\r\n";

  const auto anonymous = c.post(standby, marker);
  EXPECT_EQ(status_line(anonymous), "HTTP/1.1 401 Unauthorized") << anonymous;
  EXPECT_NE(anonymous.find("WWW-Authenticate: Basic realm="), std::string::npos) << anonymous;
  const auto wrong = c.post(standby, marker + "Authorization: Basic " +
                                         base64("alice:" + std::string(32, '0')) + "\r\n");
  EXPECT_EQ(status_line(wrong), "HTTP/1.1 401 Unauthorized") << wrong;
  const auto other_user = c.post(standby, marker + "Authorization: Basic " +
                                              base64("bob:" + password) + "\r\n");
  EXPECT_EQ(status_line(other_user), "HTTP/1.1 401 Unauthorized") << other_user;
  const auto no_marker = c.post(standby, good);
  EXPECT_EQ(status_line(no_marker), "HTTP/1.1 403 Forbidden") << no_marker;
  const auto cross_site = c.post(standby, marker + good + "Origin: http://evil.example\r\n");
  EXPECT_EQ(status_line(cross_site), "HTTP/1.1 403 Forbidden") << cross_site;
  EXPECT_EQ(c.standby_value().find("<nvpair"), std::string::npos) << c.standby_value();
  EXPECT_NE(c.vigil("status").find("Online: [ n1 ]"), std::string::npos);

  const auto done = c.post(standby, marker + good);
  EXPECT_EQ(status_line(done), "HTTP/1.1 200 OK") << done;
  EXPECT_NE(done.find("standby n1: done"), std::string::npos) << done;
  // The CLI's own pair, as `vigil node standby n1` writes it, and alice named as its author.
  const auto value = c.standby_value();
  EXPECT_NE(value.find(R"(id="nodes-1-standby")"), std::string::npos) << value;
  EXPECT_NE(value.find(R"(value="on")"), std::string::npos) << value;
  const auto root = c.vigil("cib query --xpath /cib");
  EXPECT_NE(root.find(R"(update-user="alice")"), std::string::npos);
  EXPECT_NE(root.find(R"(update-client="status page")"), std::string::npos);
  // The history: the request and the standby it caused, both by alice.
  std::string history;
  EXPECT_TRUE(eventually(
      [&] {
        history = c.vigil("history --node n1");
        return history.find("alice asked the status page") != std::string::npos &&
               history.find("put in standby") != std::string::npos;
      },
      10s))
      << history;
  EXPECT_NE(history.find("alice via status page on n1"), std::string::npos) << history;

  // Online from the page again; the status answer counts the action and the failures.
  EXPECT_EQ(status_line(c.post(R"({"action":"online","node":"n1"})", marker + good)),
            "HTTP/1.1 200 OK");
  EXPECT_NE(c.standby_value().find(R"(value="off")"), std::string::npos);
  const auto status = c.nodes().status(1);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["http"].value("actions", 0), 2);
  EXPECT_EQ((*status)["http"].value("authentication_failures", 0), 2);
  const auto scrape = c.http("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_NE(scrape.find("\nvigil_page_actions_total 2\n"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("\nvigil_page_authentication_failures_total 2\n"), std::string::npos);
}

TEST(PageActions, WithoutHttpActionsThePageIsReadOnly) {
  PageCluster c("page-read-only", false);
  c.nodes().start(1);
  ASSERT_TRUE(cluster_ready(c.nodes(), 1)) << c.nodes().log_text(1);
  EXPECT_NE(c.http("GET / HTTP/1.1\r\n\r\n").find("data-actions=\"off\""), std::string::npos);
  const std::string password = c.vigil("page-password alice --authkey " +
                                       c.nodes().key_path().string());
  const auto refused =
      c.post(R"({"action":"standby","node":"n1"})",
             "X-Vigil-Action: 1\r\nAuthorization: Basic " +
                 base64("alice:" + password.substr(0, 32)) + "\r\n");
  EXPECT_EQ(status_line(refused), "HTTP/1.1 403 Forbidden") << refused;
  EXPECT_NE(refused.find("--http-actions"), std::string::npos) << refused;
  EXPECT_EQ(c.standby_value().find("<nvpair"), std::string::npos);
}

}  // namespace
}  // namespace vigil::test
