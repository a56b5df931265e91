// `vigil cluster init|token|join`: a cluster made without ssh. crmsh's `crm cluster init/join`
// copies corosync.conf and the authkey over ssh (and pcs through pcsd); here the first node writes
// both and starts vigild, a member hands out one-time join tokens, and a new node fetches both
// from that member's vigild over a channel sealed with the token's keys (config/join.h,
// daemon/join_service.h), which also adds it to the nodelist through the ring.
//
// vigild is started here as `vigil cluster start` starts it (detached; vigild exits 0 only once
// it is up): a join needs the member's vigild running to redeem the token, and --config,
// --state-dir and --run-dir pass through, so several nodes live on one machine on 127.0.0.x.
// Every step leaves nothing half-written: files are written whole (temporary and rename), and
// removed again when vigild does not start. Run again on a node that has its configuration, init
// and join say so and change nothing.
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli/status.h"
#include "config/config.h"
#include "config/join.h"
#include "control/control.h"
#include "control/request.h"

namespace vigil::cli {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// What init and join have in common: where the files go, where vigild runs, who this node is.
struct NodeFlags {
  std::string config, state_dir, run_dir, vigild;
  std::string control_socket;  // `cluster token --socket`, as every command that asks vigild
  std::string node_name;  // default: the host name, as crmsh names nodes (uname -n)
  std::string address;    // default: the host name's first non-loopback IPv4 address
  std::uint32_t ttl = control::kJoinTokenTtl;

  std::string config_path() const { return config.empty() ? config::default_config_path() : config; }
  std::string socket() const {
    if (!control_socket.empty()) return control_socket;
    return run_dir.empty() ? control::socket_path("") : control::socket_in(run_dir);
  }
};

void add_node_flags(CLI::App* sub, NodeFlags& f) {
  sub->add_option("--address", f.address,
                  "this node's ring0_addr (default: the host name's first non-loopback IPv4 "
                  "address)");
  sub->add_option("--node-name", f.node_name, "this node's name (default: the host name)");
  sub->add_option("--config", f.config,
                  "the configuration to write (default /etc/vigil/cluster.conf, else "
                  "/etc/corosync/corosync.conf when that exists); the authkey goes beside it");
  sub->add_option("--state-dir", f.state_dir, "vigild's state directory");
  sub->add_option("--run-dir", f.run_dir, "vigild's run directory (socket, pid file)");
  sub->add_option("--vigild", f.vigild, "the vigild binary (else $VIGILD, else beside vigil)");
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

// Fills in the node's name and address when not given.
Result<void> resolve_identity(NodeFlags& f) {
  if (f.node_name.empty()) f.node_name = host_name();
  if (f.node_name.empty()) return fail("cannot read the host name: say --node-name");
  if (!f.address.empty()) return {};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (::getaddrinfo(f.node_name.c_str(), nullptr, &hints, &found) == 0) {
    for (auto* a = found; a != nullptr && f.address.empty(); a = a->ai_next) {
      char text[INET_ADDRSTRLEN] = {};
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr &&
          std::string_view(text).substr(0, 4) != "127.")
        f.address = text;
    }
    ::freeaddrinfo(found);
  }
  if (f.address.empty())
    return fail("'" + f.node_name + "' resolves to no address but loopback: say --address");
  return {};
}

Result<void> write_text_file(const std::string& path, const std::string& text, unsigned mode) {
  return config::write_file_atomically(
      path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, mode);
}

// The files this command wrote, removed again unless kept: a failure leaves none behind.
class Written {
 public:
  void add(std::string path) { paths_.push_back(std::move(path)); }
  void keep() { paths_.clear(); }
  ~Written() {
    std::error_code ec;
    for (const auto& p : paths_) fs::remove(p, ec);
  }

 private:
  std::vector<std::string> paths_;
};

Result<void> make_parent(const std::string& path) {
  std::error_code ec;
  const auto dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) return fail(dir.string() + ": cannot create the directory: " + ec.message());
  return {};
}

Result<void> start_vigild(const NodeFlags& f) {
  std::vector<std::string> args{vigild_path(f.vigild), "--config", f.config_path(), "--node",
                                f.node_name};
  if (!f.state_dir.empty()) args.insert(args.end(), {"--state-dir", f.state_dir});
  if (!f.run_dir.empty()) args.insert(args.end(), {"--run-dir", f.run_dir});
  const int code = spawn_and_wait(args);
  if (code != 0)
    return fail(args[0] + " did not start (exit " + std::to_string(code) +
                "; its reason is above)");
  return {};
}

// A configuration already here: what it says, and that nothing changed.
int already(Cli& cli, const NodeFlags& f, const char* what) {
  const auto path = f.config_path();
  auto cfg = config::load_config(path);
  cli.out() << "this node is " << what << " already: " << path << " exists";
  if (cfg.ok())
    cli.out() << " (cluster " << cfg->totem.cluster_name << ", " << cfg->nodelist.size()
              << " node(s))";
  const bool up = control::request(f.socket(), Json{{"command", "ping"}}, 1000).ok();
  cli.out() << "; vigild is " << (up ? "running" : "not running (vigil cluster start)")
            << "; nothing changed\n";
  return 0;
}

Result<Json> new_token(const std::string& socket, std::uint32_t ttl) {
  auto answer = control::request(socket, Json{{"command", "join_token"}, {"ttl", ttl}}, 5000);
  if (answer.ok() && !answer->value("ok", false))
    return control::refused(*answer, "vigild gave no token");
  return answer;
}

void print_token(Cli& cli, const Json& t) {
  cli.out() << t["token"].get<std::string>() << "\n";
  cli.err() << "a one-time join token: it admits one node and expires in " << t["ttl"].get<int>()
            << " s; on the new node: vigil cluster join --token TOKEN "
            << t["address"].get<std::string>() << "\n";
}

int init(Cli& cli, NodeFlags& f, config::InitSettings s) {
  const auto path = f.config_path();
  if (fs::exists(path)) return already(cli, f, "initialised");
  const auto key = config::authkey_beside(path);
  const auto refuse = [&](const std::string& why) {
    cli.err() << "vigil cluster init: " << why << "; nothing written\n";
    return 1;
  };
  if (fs::exists(key)) return refuse(key + " exists without " + path + ": remove it or keep both");
  if (auto ok = resolve_identity(f); !ok) return refuse(ok.error().message);
  s.node_name = f.node_name;
  s.address = f.address;
  s.logfile = (f.state_dir.empty() ? std::string("/var/log/vigil") : f.state_dir) + "/vigil.log";
  const auto text = config::initial_config(s);
  if (auto parsed = config::parse_config(text, path); !parsed) return refuse(parsed.error().message);
  Written written;
  if (auto ok = make_parent(path); !ok) return refuse(ok.error().message);
  if (auto ok = config::write_authkey(key, false); !ok) return refuse(ok.error().message);
  written.add(key);
  if (auto ok = write_text_file(path, text, 0644); !ok) return refuse(ok.error().message);
  written.add(path);
  if (auto ok = start_vigild(f); !ok) return refuse(ok.error().message);
  written.keep();
  cli.out() << "wrote " << path << ": cluster " << s.cluster_name << ", node " << s.node_name
            << " (id 1) at " << s.address << ", " << config::to_string(s.transport) << "\n"
            << "wrote " << key << " (" << config::kAuthkeyBytes << " bytes, mode 0400)\n"
            << "vigild started\n";
  auto token = new_token(f.socket(), f.ttl);
  if (!token) {
    cli.err() << "vigil cluster init: no join token: " << token.error().message
              << " (ask again with vigil cluster token)\n";
    return 1;
  }
  print_token(cli, *token);
  return 0;
}

// One connection to the member's join service: the request goes out, the answer's frame comes
// back whole (its head read first, so no more than it announces is read), all within `seconds`.
class Connection {
 public:
  static Result<Connection> open(const std::string& address, std::uint16_t port, int seconds) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const auto where = address + ":" + std::to_string(port);
    if (::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
      return fail("cannot resolve " + address);
    Connection c;
    for (auto* a = found; a != nullptr && c.fd_ < 0; a = a->ai_next) {
      c.fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (c.fd_ < 0) continue;
      timeval limit{seconds, 0};
      ::setsockopt(c.fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
      ::setsockopt(c.fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      if (::connect(c.fd_, a->ai_addr, a->ai_addrlen) != 0) {
        ::close(c.fd_);
        c.fd_ = -1;
      }
    }
    ::freeaddrinfo(found);
    if (c.fd_ < 0)
      return fail("cannot reach the member's vigild at TCP " + where +
                  " (is it running, and did it issue the token?)");
    return c;
  }
  Connection(Connection&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Connection& operator=(Connection&&) = delete;
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<void> send(const config::Bytes& bytes) {
    for (std::size_t done = 0; done < bytes.size();) {
      const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return fail("the member closed the connection while the request was sent");
      done += static_cast<std::size_t>(n);
    }
    return {};
  }
  Result<config::Bytes> receive() {
    config::Bytes frame(config::kJoinHead);
    if (auto ok = read_into(frame.data(), frame.size()); !ok) return ok.error();
    auto head = config::parse_join_head(frame);
    if (!head) return head.error();
    frame.resize(config::kJoinHead + head->body);
    if (auto ok = read_into(frame.data() + config::kJoinHead, head->body); !ok) return ok.error();
    return frame;
  }

 private:
  Connection() = default;
  Result<void> read_into(std::uint8_t* at, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
      const auto n = ::recv(fd_, at + done, size - done, 0);
      if (n <= 0)
        return fail(n == 0 ? "the member closed the connection without an answer"
                           : "no answer from the member in time");
      done += static_cast<std::size_t>(n);
    }
    return {};
  }
  int fd_ = -1;
};

// The member's configuration and authkey, the joiner already in its nodelist.
Result<config::JoinAnswer> fetch(const config::JoinToken& token, const std::string& member,
                                 const config::JoinRequest& request) {
  const auto keys = config::join_keys(token.secret);
  auto c = Connection::open(member, token.port, 40);
  if (!c) return c.error();
  if (auto ok = c->send(config::sealed_frame(keys.to_member, config::encode_join_request(request)));
      !ok)
    return ok.error();
  auto frame = c->receive();
  if (!frame) return frame.error();
  auto text = config::open_frame(keys.to_joiner, *frame);
  if (!text) return fail("the member refused: " + text.error().message);
  auto answer = config::decode_join_answer(*text);
  if (!answer) return answer.error();
  if (!answer->refused.empty()) return fail("the member refused: " + answer->refused);
  return answer;
}

int join(Cli& cli, NodeFlags& f, const std::string& token_text, const std::string& member) {
  const auto path = f.config_path();
  if (fs::exists(path)) return already(cli, f, "a member");
  const auto refuse = [&](const std::string& why) {
    cli.err() << "vigil cluster join: " << why << "; nothing written\n";
    return 1;
  };
  auto token = config::parse_token(token_text);
  if (!token) return refuse(token.error().message);
  if (auto ok = resolve_identity(f); !ok) return refuse(ok.error().message);
  auto answer = fetch(*token, member, {f.node_name, {f.address}});
  if (!answer) return refuse(answer.error().message);
  auto cfg = config::parse_config(answer->config, path);
  if (!cfg) return refuse("the member's configuration does not parse: " + cfg.error().message);
  const auto key = config::authkey_path(*cfg);
  Written written;
  if (auto ok = make_parent(path); !ok) return refuse(ok.error().message);
  if (auto ok = make_parent(key); !ok) return refuse(ok.error().message);
  if (auto ok = config::write_file_atomically(key, answer->authkey, 0400); !ok)
    return refuse(ok.error().message);
  written.add(key);
  if (auto ok = write_text_file(path, answer->config, 0644); !ok) return refuse(ok.error().message);
  written.add(path);
  if (auto ok = start_vigild(f); !ok)
    return refuse(ok.error().message + " (the cluster lists " + f.node_name +
                  " already: join again with a new token, or `vigil cluster remove " +
                  f.node_name + "` on a member)");
  written.keep();
  cli.out() << "joined cluster " << cfg->totem.cluster_name << " through " << member << " as "
            << f.node_name << " at " << f.address << ": " << cfg->nodelist.size()
            << " node(s) in the nodelist\n"
            << "wrote " << path << " and " << key << " (mode 0400), fetched sealed from "
            << member << "\nvigild started\n";
  return 0;
}

void add_bootstrap(Cli& cli) {
  auto* cluster = cli.app().get_subcommand("cluster");
  auto f = std::make_shared<NodeFlags>();
  auto s = std::make_shared<config::InitSettings>();
  auto* init_cmd = cluster->add_subcommand(
      "init",
      "make a new cluster of this node: write the configuration and an authkey, start vigild and "
      "print a one-time join token");
  init_cmd->add_option("--name", s->cluster_name, "the cluster's name (default hacluster)");
  auto transport = std::make_shared<std::string>("knet");
  init_cmd->add_option("--transport", *transport, "knet (default) or udpu")
      ->check(CLI::IsMember({"knet", "udpu"}));
  init_cmd->add_option("--port", s->port, "the ring's UDP port (default 5405); joins use it on TCP")
      ->check(CLI::Range(1, 65535));
  init_cmd->add_option("--ttl", f->ttl, "seconds the join token is valid (default 3600)")
      ->check(CLI::Range(1, 86400));
  add_node_flags(init_cmd, *f);
  cli.on(init_cmd, [&cli, f, s, transport] {
    s->transport = *transport == "udpu" ? config::Transport::udpu : config::Transport::knet;
    return init(cli, *f, *s);
  });

  auto* token = cluster->add_subcommand(
      "token", "a new one-time join token from this member's vigild, alone on a line");
  token->add_option("--ttl", f->ttl, "seconds it is valid (default 3600)")
      ->check(CLI::Range(1, 86400));
  token->add_option("--socket", f->control_socket, "vigild's control socket (else VIGIL_SOCKET)");
  token->add_option("--run-dir", f->run_dir, "vigild's run directory (its socket, when no --socket)");
  cli.on(token, [&cli, f] {
    auto t = new_token(f->socket(), f->ttl);
    if (!t) {
      cli.err() << "vigil cluster token: " << t.error().message << "\n";
      return 1;
    }
    print_token(cli, *t);
    return 0;
  });

  auto token_text = std::make_shared<std::string>();
  auto member = std::make_shared<std::string>();
  auto* join_cmd = cluster->add_subcommand(
      "join",
      "join a running cluster: fetch its configuration and authkey from MEMBER_ADDRESS over a "
      "channel sealed with the token, be added to its nodelist through the ring, start vigild");
  join_cmd->add_option("--token", *token_text, "a token from `vigil cluster token` on the member")
      ->required();
  join_cmd->add_option("member", *member, "the member that issued the token (its address)")
      ->required();
  add_node_flags(join_cmd, *f);
  cli.on(join_cmd, [&cli, f, token_text, member] { return join(cli, *f, *token_text, *member); });
}

}  // namespace

VIGIL_COMMANDS(21, add_bootstrap);

}  // namespace vigil::cli
