// vigil-webserver: a very small HTTP server for `vigil demo` and the controller's tests. It answers
// every request with a fixed body naming the node, so a client can tell which node served it. It
// needs no root and no packages beyond what vigil builds with; ocf:vigil:webserver manages it.
#include <unistd.h>
#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

namespace {

struct Options {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;
  std::string body = "vigil";
  std::string pidfile;
};

std::string response_for(const std::string& body) {
  std::string text = body + "\n";
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

// One connection: read the request head (bounded), answer, close.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::ip::tcp::socket socket, const std::string& response)
      : socket_(std::move(socket)), response_(response) {}

  void start() {
    auto self = shared_from_this();
    asio::async_read_until(socket_, asio::dynamic_buffer(request_, 8192), "\r\n\r\n",
                           [self](std::error_code, std::size_t) { self->answer(); });
  }

 private:
  void answer() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(response_),
                      [self](std::error_code, std::size_t) { self->socket_.close(); });
  }

  asio::ip::tcp::socket socket_;
  std::string request_;
  const std::string& response_;
};

void accept_next(asio::ip::tcp::acceptor& acceptor, const std::string& response) {
  acceptor.async_accept([&acceptor, &response](std::error_code ec, asio::ip::tcp::socket socket) {
    if (!ec) std::make_shared<Exchange>(std::move(socket), response)->start();
    accept_next(acceptor, response);
  });
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--address")
      o.address = value;
    else if (key == "--port")
      o.port = static_cast<unsigned short>(std::stoi(value));
    else if (key == "--body")
      o.body = value;
    else if (key == "--pidfile")
      o.pidfile = value;
    else
      return false;
  }
  return argc % 2 == 1;
}

constexpr const char* kUsage =
    "usage: vigil-webserver [--address A] [--port P] [--body TEXT] [--pidfile F]\n";

constexpr const char* kHelp =
    "Serves HTTP on one address and port, answering every request with a fixed text, so a\n"
    "client can tell which node answered. ocf:vigil:webserver manages it.\n"
    "\n"
    "Options:\n"
    "  --address A   the address to listen on (default 127.0.0.1)\n"
    "  --port P      the TCP port (default 8080)\n"
    "  --body TEXT   the text every answer carries (default vigil)\n"
    "  --pidfile F   written with the process id once the port is bound, removed on exit\n"
    "  --help        print this help and exit\n"
    "  --version     print the version and exit\n";

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const std::string first = argc == 2 ? argv[1] : "";
  if (first == "--help") {
    std::printf("%s\n%s", kUsage, kHelp);
    return 0;
  }
  if (first == "--version") {
    std::printf("vigil-webserver %s\n", VIGIL_VERSION);
    return 0;
  }
  try {
    if (!parse(argc, argv, o)) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    asio::io_context io;
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(o.address), o.port);
    asio::ip::tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    // The pid file is written only once the port is bound, so "pid file present" means "serving".
    if (!o.pidfile.empty()) std::ofstream(o.pidfile) << getpid() << "\n";
    const std::string response = response_for(o.body);
    accept_next(acceptor, response);
    asio::signal_set stop(io, SIGTERM, SIGINT);
    stop.async_wait([&io](std::error_code, int) { io.stop(); });
    io.run();
    if (!o.pidfile.empty()) std::remove(o.pidfile.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil-webserver: %s\n", e.what());
    return 1;
  }
  return 0;
}
