// The status page (`vigild --http`, GET /) in headless Chromium, driven over the DevTools protocol
// on a pipe: three real vigild on 127.0.0.1-3 run the guide's group; the page's resource table
// names the node running it; that node is put in standby, and the same page — not reloaded —
// shows the group on another node. A screenshot of the page is kept in the build's
// status-page/ folder. Without Chromium the test skips, except in CI, where setup.sh installs it.
#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "cluster.h"

namespace vigil::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr const char* kVip = "127.0.0.10";

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

std::string decode_base64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : in) {
    const auto at = kAlphabet.find(c);
    if (at == std::string::npos) continue;  // '=' padding
    bits = (bits << 6) | static_cast<unsigned>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

// Headless Chromium with its DevTools protocol on fds 3 (commands in) and 4 (answers out), one
// JSON message per NUL; one page, attached to a flat session.
class Browser {
 public:
  Browser(const std::string& binary, const fs::path& profile, const fs::path& log) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    std::vector<std::string> args{binary,
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--no-first-run",
                                  "--remote-debugging-pipe",
                                  "--window-size=1100,800",
                                  "--user-data-dir=" + profile.string(),
                                  "about:blank"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log_path = log.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::dup2(in[0], 3);
      ::dup2(out[1], 4);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Browser() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(to_);
    ::close(from_);
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Opens `url` in a new page and attaches to it.
  bool open(const std::string& url) {
    const Json target = call("Target.createTarget", {{"url", url}});
    if (!target.contains("targetId")) return false;
    const Json attached =
        call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}});
    session_ = attached.value("sessionId", "");
    return !session_.empty();
  }
  // A JavaScript expression's value in the page (null when it threw or nothing answered).
  Json evaluate(const std::string& expression) {
    const Json r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}},
                        session_);
    if (!r.contains("result") || r.contains("exceptionDetails")) return nullptr;
    return r["result"].value("value", Json(nullptr));
  }
  // From here on, the login dialog the page's actions raise (HTTP Basic) is answered with
  // `user` and `password` as a person would type them; an empty user cancels the dialog.
  bool log_in_as(const std::string& user, const std::string& password) {
    login_ = {user, password};
    const Json r = call("Fetch.enable",
                        {{"handleAuthRequests", true},
                         {"patterns", Json::array({Json{{"urlPattern", "*/actions"}}})}},
                        session_);
    return r.is_object();
  }
  bool screenshot(const fs::path& file) {
    const Json r = call("Page.captureScreenshot", {{"format", "png"}}, session_);
    if (!r.contains("data")) return false;
    std::ofstream(file, std::ios::binary) << decode_base64(r["data"].get<std::string>());
    return fs::file_size(file) > 0;
  }

 private:
  // One command and its result; events in between are skipped. Waits at most 20 s.
  Json call(const std::string& method, const Json& params, const std::string& session = "") {
    Json message{{"id", ++id_}, {"method", method}, {"params", params}};
    if (!session.empty()) message["sessionId"] = session;
    const std::string bytes = message.dump() + '\0';
    if (::write(to_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
      return nullptr;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      const auto end = buffer_.find('\0');
      if (end != std::string::npos) {
        const Json answer = Json::parse(buffer_.substr(0, end), nullptr, false);
        buffer_.erase(0, end + 1);
        if (answer.is_object() && answer.value("id", 0) == id_)
          return answer.value("result", Json(nullptr));
        if (answer.is_object() && answer.contains("method")) intercepted(answer);
        continue;
      }
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char chunk[65536];
      const ssize_t got = ::read(from_, chunk, sizeof chunk);
      if (got <= 0) return nullptr;
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
    return nullptr;
  }

  // A request log_in_as() holds: sent on, and its login dialog answered. The command's own
  // answer is not waited for (its id is apart from call()'s).
  void intercepted(const Json& event) {
    const std::string method = event["method"];
    Json params{{"requestId", event["params"].value("requestId", "")}};
    if (method == "Fetch.authRequired") {
      params["authChallengeResponse"] = login_.first.empty()
                                            ? Json{{"response", "CancelAuth"}}
                                            : Json{{"response", "ProvideCredentials"},
                                                   {"username", login_.first},
                                                   {"password", login_.second}};
    } else if (method != "Fetch.requestPaused") {
      return;
    }
    const Json command{{"id", ++held_id_},
                       {"method", method == "Fetch.authRequired" ? "Fetch.continueWithAuth"
                                                                 : "Fetch.continueRequest"},
                       {"params", params},
                       {"sessionId", session_}};
    const std::string bytes = command.dump() + '\0';
    if (::write(to_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
      ADD_FAILURE() << "chromium took no " << command["method"];
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  int id_ = 0;
  int held_id_ = 1 << 30;
  std::string buffer_, session_;
  std::pair<std::string, std::string> login_;
};

// The guide's group (vip, and httpd: vigil's web server on kVip) on three nodes serving HTTP.
class PageCluster {
 public:
  explicit PageCluster(int nodes = 3, bool actions = false)
      : cluster_(spec(nodes, actions), actions ? "status-page-actions" : "status-page"),
        ocf_(cluster_.dir() / "ocf") {
    const std::string path = fs::path(VIGIL_WEBSERVER).parent_path().string() + ":" +
                             (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    ::setenv("PATH", path.c_str(), 1);
  }
  ~PageCluster() {
    for (int n = 1; n <= nodes_; ++n) {
      cluster_.kill_now(n);
      // The web server a node's agent started (its pid in the node's run directory).
      std::ifstream in(cluster_.dir() / ("run" + std::to_string(n)) / "rsctmp" /
                       "vigil-webserver-httpd.pid");
      if (long pid = 0; in >> pid && pid > 1) ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
  }
  ClusterSpec spec(int nodes, bool actions) {
    nodes_ = nodes;
    ClusterSpec s;
    s.nodes = nodes;
    s.vigild_args = [this, actions](int n) {
      std::vector<std::string> args{"--http", cluster_.address(n) + ":" + std::to_string(port())};
      if (actions) args.emplace_back("--http-actions");
      return args;
    };
    return s;
  }
  TestCluster& nodes() { return cluster_; }
  int port() const { return cluster_.port(); }
  std::string url(int n) const {
    return "http://" + cluster_.address(n) + ":" + std::to_string(port()) + "/";
  }
  std::string vigil(int n, const std::string& args, const std::string& input = "") {
    const std::string feed = input.empty() ? "" : "printf '%s' '" + input + "' | ";
    return capture(feed + "VIGIL_SOCKET=" + cluster_.socket(n) + " " + VIGIL_PATH + " " + args +
                   " 2>&1");
  }
  std::string configure() {
    return vigil(1, "configure",
                 "property stonith-enabled=false\n"
                 "primitive vip ocf:vigil:vip params ip=" +
                     std::string(kVip) +
                     " op monitor interval=10s\n"
                     "primitive httpd ocf:vigil:webserver params ip=" +
                     std::string(kVip) + " port=" + std::to_string(port() + 7) +
                     " op monitor interval=2s\n"
                     "group webservice vip httpd\n");
  }

 private:
  int nodes_ = 3;  // set by spec(), before cluster_ is made
  TestCluster cluster_;
  VigilOcfRoot ocf_;
};

// The node the page's resource table names for `resource` ("" when none, or not yet drawn).
std::string shown_on(Browser& b, const std::string& resource) {
  const Json where = b.evaluate("(document.querySelector('tr[data-resource=\"" + resource +
                                "\"] .where') || {}).textContent || ''");
  return where.is_string() ? where.get<std::string>() : "";
}

TEST(StatusPage, ShowsTheGroupMovingAfterAStandbyWithoutAReload) {
  const std::string chromium = chromium_path();
  if (chromium.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "CI has no chromium: scripts/setup.sh installs it";
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  }
  PageCluster c;
  for (int n = 1; n <= 3; ++n) c.nodes().start(n);
  ASSERT_TRUE(cluster_ready(c.nodes(), 3)) << c.nodes().log_text(1);
  const std::string configured = c.configure();
  // Where `vigil status` says the group's last member runs.
  auto running_on = [&] {
    const Json s = Json::parse(c.vigil(2, "status --output-as json"), nullptr, false);
    if (s.is_discarded()) return std::string();
    for (const auto& r : s["resources"]) {
      if (r["id"] != "webservice" || !r.value("active", false)) continue;
      const Json& httpd = r["children"][1];
      if (httpd["role"] == "Started" && httpd["nodes"].size() == 1) return httpd["nodes"][0].get<std::string>();
    }
    return std::string();
  };
  std::string where;
  ASSERT_TRUE(eventually([&] { return !(where = running_on()).empty(); }, 40s))
      << configured << c.vigil(2, "status");

  const fs::path out = fs::path(VIGIL_BINARY_DIR) / "status-page";
  fs::create_directories(out);
  Browser b(chromium, c.nodes().dir() / "chromium", out / "chromium.log");
  ASSERT_TRUE(b.open(c.url(1))) << "chromium did not open the page; its log: " << out / "chromium.log";
  ASSERT_TRUE(eventually([&] { return shown_on(b, "httpd") == where; }, 20s))
      << "shown: '" << shown_on(b, "httpd") << "', running on " << where << "\n"
      << b.evaluate("document.body.innerText");
  EXPECT_EQ(shown_on(b, "vip"), where);
  EXPECT_EQ(b.evaluate("document.getElementById('cluster-name').textContent"), "test");
  EXPECT_EQ(b.evaluate("document.getElementById('quorum').textContent"), "quorate");
  EXPECT_EQ(b.evaluate("document.body.dataset.connection"), "live");
  EXPECT_EQ(b.evaluate("document.querySelectorAll('#nodes tbody tr').length"), 3);

  // The failover: the same document (a mark set in it survives) draws the group elsewhere.
  b.evaluate("window.sameDocument = true");
  const std::string standby = c.vigil(1, "node standby " + where);
  std::string moved;
  ASSERT_TRUE(eventually(
      [&] {
        moved = shown_on(b, "httpd");
        return !moved.empty() && moved != where;
      },
      40s))
      << standby << "shown: '" << moved << "'\n" << c.vigil(2, "status");
  EXPECT_EQ(moved, running_on());
  EXPECT_EQ(b.evaluate("window.sameDocument === true"), true);
  EXPECT_EQ(b.evaluate("document.querySelector('tr[data-node=\"" + where +
                       "\"]').cells[2].textContent"),
            "standby");
  EXPECT_TRUE(b.screenshot(out / "status-page.png"));

  // The page's vigild dies: the page says the connection is lost, and takes it up again once
  // vigild is back.
  c.nodes().signal(1, SIGKILL);
  EXPECT_GE(c.nodes().reap(1), 0);
  EXPECT_TRUE(eventually([&] { return b.evaluate("document.body.dataset.connection") == "lost"; }, 10s));
  EXPECT_EQ(b.evaluate("getComputedStyle(document.getElementById('connection')).display"), "block");
  EXPECT_TRUE(b.screenshot(out / "status-page-lost.png"));
  c.nodes().start(1);
  EXPECT_TRUE(eventually([&] { return b.evaluate("document.body.dataset.connection") == "live"; }, 20s))
      << c.nodes().log_text(1);
  EXPECT_EQ(b.evaluate("window.sameDocument === true"), true);
}

// A connection that sent `request`, with what vigild answered so far.
struct Client {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  std::string got;

  Client(const std::string& address, int port, const std::string& request) {
    asio::error_code ec;
    socket.connect({asio::ip::make_address(address), static_cast<unsigned short>(port)}, ec);
    if (!ec) asio::write(socket, asio::buffer(request), ec);
  }
  // Reads until `text` arrived or the connection ended (at most 10 s).
  bool has(const std::string& text) {
    socket.non_blocking(true);
    return eventually(
        [&] {
          std::array<char, 4096> buf{};
          asio::error_code ec;
          const std::size_t n = socket.read_some(asio::buffer(buf), ec);
          got.append(buf.data(), n);
          return got.find(text) != std::string::npos;
        },
        10s);
  }
};

// GET / is the page; GET /events streams the status at once; the ninth stream is refused with
// 503 while eight are open, and taken once one of them went away; vigild answers throughout.
TEST(StatusPage, EventStreamsAreBounded) {
  PageCluster c;
  c.nodes().start(1);
  ASSERT_TRUE(eventually([&] { return c.nodes().status(1).ok(); }, 20s)) << c.nodes().log_text(1);
  const std::string address = c.nodes().address(1);
  Client page(address, c.port(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(page.has("</html>")) << page.got;
  EXPECT_EQ(page.got.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/html", 0), 0u) << page.got;
  EXPECT_NE(page.got.find("new EventSource(\"events\")"), std::string::npos);

  std::vector<std::unique_ptr<Client>> streams;
  for (int i = 0; i < 8; ++i) {
    streams.push_back(std::make_unique<Client>(address, c.port(), "GET /events HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(streams.back()->has("}\n\n")) << i << ": " << streams.back()->got;
  }
  const std::string& first = streams[0]->got;
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", 0), 0u) << first;
  const auto data = first.find("data: ");
  ASSERT_NE(data, std::string::npos) << first;
  const Json status = Json::parse(first.substr(data + 6, first.find('\n', data) - data - 6));
  EXPECT_EQ(status["summary"]["cluster_name"], "test");
  EXPECT_EQ(status["nodes"].size(), 3u);

  Client refused(address, c.port(), "GET /events HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(refused.has("too many event streams")) << refused.got;
  EXPECT_EQ(refused.got.rfind("HTTP/1.1 503 ", 0), 0u) << refused.got;
  streams.pop_back();
  EXPECT_TRUE(eventually(
      [&] {
        Client again(address, c.port(), "GET /events HTTP/1.1\r\n\r\n");
        return again.has("\r\n\r\n") && again.got.rfind("HTTP/1.1 200 ", 0) == 0;
      },
      10s));
  EXPECT_TRUE(c.nodes().status(1).ok());
}

// A node's row on the page: its state ("online", "standby") as drawn.
std::string node_state(Browser& b, const std::string& node) {
  const Json state = b.evaluate("(document.querySelector('tr[data-node=\"" + node +
                                "\"]') || {cells: [0, 0, {}]}).cells[2].textContent || ''");
  return state.is_string() ? state.get<std::string>() : "";
}

// `vigild --http-actions`: the page's Standby button, clicked in Chromium. Cancelling the login
// dialog leaves the node online and the page says why; logging in as the user `vigil
// page-password` names puts it in standby, and the same page (not reloaded) draws it so, with
// its Online button; the history names the user and the page.
TEST(StatusPage, TheStandbyButtonActsOnlyOnceLoggedIn) {
  const std::string chromium = chromium_path();
  if (chromium.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "CI has no chromium: scripts/setup.sh installs it";
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  }
  PageCluster c(1, true);
  c.nodes().start(1);
  ASSERT_TRUE(cluster_ready(c.nodes(), 1)) << c.nodes().log_text(1);
  std::string password =
      c.vigil(1, "page-password --config " + (c.nodes().dir() / "corosync.conf").string());
  ASSERT_EQ(password.size(), 33u) << password;
  password.pop_back();

  const fs::path out = fs::path(VIGIL_BINARY_DIR) / "status-page";
  fs::create_directories(out);
  Browser b(chromium, c.nodes().dir() / "chromium", out / "chromium-actions.log");
  ASSERT_TRUE(b.open(c.url(1))) << "chromium did not open the page; its log: "
                                << out / "chromium-actions.log";
  ASSERT_TRUE(eventually([&] { return node_state(b, "n1") == "online"; }, 20s))
      << b.evaluate("document.body.innerText");
  EXPECT_EQ(b.evaluate("document.body.dataset.actions"), "on");
  b.evaluate("window.sameDocument = true");
  const std::string click =
      "document.querySelector('tr[data-node=\"n1\"] button[data-action=\"standby\"]').click()";

  ASSERT_TRUE(b.log_in_as("", ""));
  b.evaluate(click);
  ASSERT_TRUE(eventually(
      [&] { return b.evaluate("document.getElementById('answer').className") == "failed"; }, 20s))
      << b.evaluate("document.body.innerText");
  EXPECT_NE(b.evaluate("document.getElementById('answer').textContent").dump().find("password"),
            std::string::npos)
      << b.evaluate("document.getElementById('answer').textContent");
  EXPECT_EQ(node_state(b, "n1"), "online");
  EXPECT_NE(c.vigil(1, "status").find("Online: [ n1 ]"), std::string::npos);

  ASSERT_TRUE(b.log_in_as("hacluster", password));
  b.evaluate(click);
  EXPECT_TRUE(eventually([&] { return node_state(b, "n1") == "standby"; }, 20s))
      << b.evaluate("document.body.innerText");
  EXPECT_EQ(b.evaluate("document.getElementById('answer').className"), "done");
  EXPECT_EQ(b.evaluate("window.sameDocument === true"), true);
  EXPECT_EQ(b.evaluate("document.querySelector('tr[data-node=\"n1\"] button').textContent"),
            "Online");
  EXPECT_NE(c.vigil(1, "status").find("Node n1: standby"), std::string::npos)
      << c.vigil(1, "status");
  EXPECT_NE(c.vigil(1, "history --node n1").find("put in standby by hacluster via status page"),
            std::string::npos)
      << c.vigil(1, "history --node n1");
  EXPECT_TRUE(b.screenshot(out / "status-page-standby.png"));
}

}  // namespace
}  // namespace vigil::test
