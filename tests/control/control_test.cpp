// The control protocol's frames, the socket's location rules, and a server answering a client.
#include "control/control.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <filesystem>
#include <thread>

namespace vigil::control {
namespace {

TEST(ControlFrame, RoundTripsAndWaitsForWholeFrames) {
  const auto frame = *encode_frame(Json{{"command", "status"}});
  for (std::size_t cut = 0; cut < frame.size(); ++cut) {
    auto partial = decode_frame(std::span(frame).first(cut));
    ASSERT_TRUE(partial.ok());
    EXPECT_FALSE(*partial);
  }
  auto whole = decode_frame(frame);
  ASSERT_TRUE(whole.ok() && *whole);
  EXPECT_EQ((*whole)->body["command"], "status");
  EXPECT_EQ((*whole)->consumed, frame.size());
}

TEST(ControlFrame, RejectsBadVersionReservedBytesSizeAndBody) {
  auto frame = *encode_frame(Json{{"a", 1}});
  auto with = [&](std::size_t at, std::uint8_t v) {
    auto f = frame;
    f[at] = v;
    return decode_frame(f);
  };
  EXPECT_NE(with(0, 3).error().message.find("version 3"), std::string::npos);
  EXPECT_NE(with(2, 1).error().message.find("reserved"), std::string::npos);
  EXPECT_NE(with(7, 0x7f).error().message.find("too large"), std::string::npos);
  EXPECT_NE(with(8, '[').error().message.find("JSON"), std::string::npos);
  auto array = *encode_frame(Json::array({1, 2}));
  EXPECT_NE(decode_frame(array).error().message.find("object"), std::string::npos);
}

TEST(ControlSocket, FlagThenEnvironmentThenDefault) {
  ::unsetenv("VIGIL_SOCKET");
  EXPECT_EQ(socket_path(""), "/run/vigil/vigild.sock");
  ::setenv("VIGIL_SOCKET", "/tmp/x.sock", 1);
  EXPECT_EQ(socket_path(""), "/tmp/x.sock");
  EXPECT_EQ(socket_path("/a/b.sock"), "/a/b.sock");
  ::unsetenv("VIGIL_SOCKET");
}

TEST(ControlSocket, OwnUserIsAllowed) {
  EXPECT_TRUE(allowed(PeerCredentials{1, ::geteuid(), ::getegid()}));
  EXPECT_TRUE(allowed(PeerCredentials{1, 0, 0}));
}

TEST(ControlServer, AnswersRequestsAndReportsHandlerErrors) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-control-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = socket_in(dir.string());
  asio::io_context io;
  unsigned seen_uid = 12345;
  auto server =
      Server::open(io, path, [&](const Json& req, const PeerCredentials& peer) -> Result<Json> {
        seen_uid = peer.uid;
        if (req.value("command", "") == "ping") return Json{{"ok", true}, {"pong", true}};
        if (req.value("command", "") == "stale") return fail("moved on", ErrorCode::conflict);
        return fail("unknown command");
      });
  ASSERT_TRUE(server.ok()) << server.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  auto pong = request(path, Json{{"command", "ping"}});
  auto bad = request(path, Json{{"command", "nope"}});
  auto stale = request(path, Json{{"command", "stale"}});
  auto second = Server::open(
      io, path, [](const Json&, const PeerCredentials&) -> Result<Json> { return Json{}; });
  work.reset();
  io.stop();
  loop.join();
  ASSERT_TRUE(pong.ok()) << pong.error().message;
  EXPECT_EQ((*pong)["pong"], true);
  EXPECT_EQ(seen_uid, ::geteuid());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ((*bad)["ok"], false);
  EXPECT_EQ((*bad)["error"], "unknown command");
  EXPECT_EQ(refused(*bad, "").code, ErrorCode::invalid);
  // The code travels with the message: a client redoes a conflict without reading its words.
  ASSERT_TRUE(stale.ok());
  const Error conflict = refused(*stale, "");
  EXPECT_EQ(conflict.code, ErrorCode::conflict);
  EXPECT_EQ(conflict.message, "moved on");
  EXPECT_EQ(refused(Json{{"ok", false}, {"code", "from a newer vigild"}}, "refused").code,
            ErrorCode::invalid);
  EXPECT_EQ(refused(Json{{"ok", false}}, "refused").message, "refused");
  ASSERT_FALSE(second.ok()) << "a live daemon keeps its socket";
  EXPECT_NE(second.error().message.find("already"), std::string::npos);
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_NE(request(path, Json{{"command", "ping"}}).error().message.find("cannot reach vigild"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

// A request answered later (a CIB change waits for the ring) holds back the connection's next
// request, so a client always reads the answers in the order it asked.
TEST(ControlServer, DeferredAnswersKeepTheConnectionsOrder) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-deferred-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = socket_in(dir.string());
  asio::io_context io;
  asio::steady_timer later(io);
  std::vector<std::string> handled;
  auto server = Server::open(
      io, path,
      Server::DeferredHandler([&](const Json& req, const PeerCredentials&, Server::Reply reply) {
        const auto command = req.value("command", "");
        handled.push_back(command);
        if (command != "slow") return reply(Json{{"ok", true}, {"answer", command}});
        later.expires_after(std::chrono::milliseconds(50));
        later.async_wait([reply](const asio::error_code&) {
          reply(Json{{"ok", true}, {"answer", "slow"}});
        });
      }));
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  Result<Json> slow = fail("not asked"), fast = fail("not asked");
  if (auto client = Client::connect(path); client.ok()) {
    slow = client->call(Json{{"command", "slow"}});
    fast = client->call(Json{{"command", "fast"}});
  }
  asio::post(io, [&] { server->reset(); });
  work.reset();
  io.stop();
  loop.join();
  ASSERT_TRUE(slow.ok() && fast.ok());
  EXPECT_EQ((*slow)["answer"], "slow");
  EXPECT_EQ((*fast)["answer"], "fast");
  EXPECT_EQ(handled, (std::vector<std::string>{"slow", "fast"}));
  std::filesystem::remove_all(dir);
}

// A client waiting in a long read that goes away is seen at once, not when its answer comes: its
// process groups are let go while the read still waits (vigild holds the answer until an event).
TEST(ControlServer, AClientGoneIsToldWhileItsAnswerWaits) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-gone-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = socket_in(dir.string());
  asio::io_context io;
  std::optional<Server::Reply> held;
  std::atomic<int> closed{0};
  auto server = Server::open(
      io, path,
      Server::DeferredHandler([&](const Json&, const PeerCredentials&, Server::Reply reply) {
        held = std::move(reply);  // never answered while the client is there
      }),
      [&](const PeerCredentials&) { ++closed; });
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  {
    auto client = Client::connect(path);
    ASSERT_TRUE(client.ok());
    EXPECT_FALSE(client->call(Json{{"command", "cpg_read"}, {"wait", 60000}}, 200).ok());
  }  // the connection ends with its request unanswered
  for (int i = 0; i < 200 && closed == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(closed, 1);
  asio::post(io, [&] {
    held.reset();
    server->reset();
  });
  work.reset();
  loop.join();
  EXPECT_EQ(closed, 1) << "told once";
  std::filesystem::remove_all(dir);
}

TEST(ControlClient, ABurstIsAnsweredInOrder) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-burst-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = socket_in(dir.string());
  asio::io_context io;
  auto server = Server::open(io, path, [&](const Json& req, const PeerCredentials&) -> Result<Json> {
    return Json{{"ok", true}, {"n", req["n"]}};
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::vector<Json> burst;
  for (int n = 0; n < 2000; ++n) burst.push_back(Json{{"command", "x"}, {"n", n}});
  Result<std::vector<Json>> answers = fail("not asked");
  if (auto client = Client::connect(path); client.ok()) answers = client->call_all(burst);
  asio::post(io, [&] { server->reset(); });
  work.reset();
  loop.join();
  ASSERT_TRUE(answers.ok()) << answers.error().message;
  ASSERT_EQ(answers->size(), burst.size());
  for (int n = 0; n < 2000; ++n) EXPECT_EQ((*answers)[static_cast<std::size_t>(n)]["n"], n);
  std::filesystem::remove_all(dir);
}

// Sends raw bytes on a fresh connection and decodes the first frame that comes back.
Result<std::optional<Decoded>> ask_raw(const std::string& path,
                                       const std::vector<std::uint8_t>& bytes) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const timeval bound{5, 0};  // a read with no answer fails instead of hanging the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  std::vector<std::uint8_t> in;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
    std::uint8_t buf[4096];
    for (ssize_t n; in.size() < 4096 && (n = ::read(fd, buf, sizeof buf)) > 0;) {
      in.insert(in.end(), buf, buf + n);
      if (auto d = decode_frame(in); !d.ok() || *d) break;
    }
  }
  ::close(fd);
  return decode_frame(in);
}

// Each answer goes in its request's version: bytes come back raw to a client of version-2 frames
// and as hex to one of version 1, from the same server; a frame of a version vigild does not read
// is refused in version 1, which every client reads.
TEST(ControlClient, AnswersComeInTheVersionOfTheRequest) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigil-versions-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = socket_in(dir.string());
  asio::io_context io;
  auto server = Server::open(io, path, [&](const Json& req, const PeerCredentials&) -> Result<Json> {
    return Json{{"ok", true}, {"echo", req["data"]}};
  });
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  const std::vector<std::uint8_t> bytes{0x00, 0x7b, 0xff};
  const Json ask{{"command", "echo"}, {"data", Json::binary(bytes)}};
  Result<Json> raw = fail("not asked"), hex = fail("not asked");
  if (auto client = Client::connect(path, kPayloadVersion); client.ok()) raw = client->call(ask);
  if (auto client = Client::connect(path); client.ok()) hex = client->call(ask);
  auto frame = *encode_frame(Json{{"command", "echo"}});
  frame[0] = 3;
  const auto refusal = ask_raw(path, frame);
  asio::post(io, [&] { server->reset(); });
  work.reset();
  loop.join();
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_TRUE((*raw)["echo"].is_binary()) << raw->dump();
  EXPECT_EQ(static_cast<const std::vector<std::uint8_t>&>((*raw)["echo"].get_binary()), bytes);
  ASSERT_TRUE(hex.ok()) << hex.error().message;
  EXPECT_EQ((*hex)["echo"], "007bff");
  ASSERT_TRUE(refusal.ok() && *refusal) << "answered";
  EXPECT_EQ((*refusal)->version, kVersion);
  EXPECT_EQ((*refusal)->body["error"], "control: unsupported protocol version 3");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::control
