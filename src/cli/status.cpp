#include "cli/status.h"

#include <CLI/CLI.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "cib/cib_io.h"
#include "cli/cib.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "control/control.h"

namespace vigil::cli {

namespace {

using Json = nlohmann::json;

// crm_mon's exit code when the cluster is not running on this node (CRM_EX_UNAVAILABLE).
constexpr int kUnavailable = 102;
// LSB status: program is not running.
constexpr int kNotRunning = 3;

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

}  // namespace

std::string render_quorum(const Json& s, const std::string& date) {
  const auto& q = s.at("quorum");
  std::map<unsigned, std::string> names;
  for (const auto& n : s.at("nodes"))
    names[n.at("id").get<unsigned>()] = n.at("name").get<std::string>();
  const unsigned self = s.at("node").at("id").get<unsigned>();
  const auto& members = s.at("ring").at("members");
  char line[256];
  std::ostringstream out;
  auto field = [&](const char* label, const std::string& value) {
    std::snprintf(line, sizeof line, "%-18s%s\n", label, value.c_str());
    out << line;
  };
  out << "Quorum information\n------------------\n";
  field("Date:", date);
  field("Quorum provider:", q.value("provider", "").empty() ? "none" : q.value("provider", ""));
  field("Nodes:", std::to_string(members.size()));
  field("Node ID:", std::to_string(self));
  field("Ring ID:", s.at("ring").at("id").get<std::string>());
  field("Quorate:", q.at("quorate").get<bool>() ? "Yes" : "No");
  if (!q.contains("quorum")) return out.str();
  out << "\nVotequorum information\n----------------------\n";
  field("Expected votes:", std::to_string(q.at("expected_votes").get<unsigned>()));
  field("Highest expected:", std::to_string(q.at("highest_expected").get<unsigned>()));
  field("Total votes:", std::to_string(q.at("total_votes").get<unsigned>()));
  std::snprintf(line, sizeof line, "%-3u", q.at("quorum").get<unsigned>());
  field("Quorum:", line);
  field("Flags:", q.at("flags").get<std::string>());
  out << "\nMembership information\n----------------------\n";
  // With a quorum device, corosync-quorumtool adds a Qdevice column (Alive or NA: the witness is
  // reachable; V or NV: its vote counts; NMW: vigil's device never uses master_wins) and the
  // device's own row, node id 0. vigild knows its own device's state only, so peers' stay blank.
  const auto device = q.find("device");
  const bool with_device = device != q.end() && !device->is_null();
  std::string local_flags;
  if (with_device) {
    const auto d = s.find("quorum_device");
    const bool alive = d != s.end() && d->value("connected", false);
    local_flags =
        std::string(alive ? "A" : "NA") + (device->value("cast", false) ? ",V" : ",NV") + ",NMW";
    std::snprintf(line, sizeof line, "%10s %10s %10s %s\n", "Nodeid", "Votes", "Qdevice", "Name");
  } else {
    std::snprintf(line, sizeof line, "%10s %10s %s\n", "Nodeid", "Votes", "Name");
  }
  out << line;
  for (const auto& m : q.at("members")) {
    const unsigned id = m.at("id").get<unsigned>();
    const std::string name =
        (names.count(id) ? names[id] : std::to_string(id)) + (id == self ? " (local)" : "");
    if (with_device) {
      std::snprintf(line, sizeof line, "%10u %10u %10s %s\n", id, m.at("votes").get<unsigned>(),
                    id == self ? local_flags.c_str() : "", name.c_str());
    } else {
      std::snprintf(line, sizeof line, "%10u %10u %s\n", id, m.at("votes").get<unsigned>(),
                    name.c_str());
    }
    out << line;
  }
  if (with_device) {
    const unsigned votes = device->value("cast", false) ? device->value("votes", 0u) : 0u;
    std::snprintf(line, sizeof line, "%10u %10u %10s %s\n", 0u, votes, "", "Qdevice");
    out << line;
  }
  return out.str();
}

std::string render_local(const Json& s) {
  std::ostringstream out;
  const auto& ring = s.at("ring");
  const auto& q = s.at("quorum");
  out << "vigild: running (pid " << s.at("pid") << ") as node "
      << s.at("node").at("name").get<std::string>() << " (id " << s.at("node").at("id") << ")\n"
      << "ring: " << ring.at("id").get<std::string>() << " " << ring.at("state").get<std::string>()
      << ", " << ring.at("members").size() << " member(s)\n"
      << "quorum: " << (q.at("quorate").get<bool>() ? "quorate" : "NOT quorate");
  if (q.contains("quorum")) {
    out << " (total votes " << q.at("total_votes") << ", expected " << q.at("expected_votes")
        << ", quorum " << q.at("quorum") << ", flags " << q.at("flags").get<std::string>() << ")";
  }
  out << "\n";
  if (const auto w = s.find("watchdog"); w != s.end() && !w->is_null()) {
    out << "watchdog: " << w->at("device").get<std::string>() << ", timeout " << w->at("timeout_ms")
        << " ms; lease " << w->at("lease").get<std::string>();
    if (w->contains("lost_ms_ago"))
      out << " since " << w->at("lost_ms_ago") << " ms ago ("
          << w->at("lost_because").get<std::string>() << ")";
    out << "; a lost node counts as reset " << w->at("wait_ms") << " ms after its last token\n";
  }
  for (const auto& l : s.at("links")) {
    out << "link " << l.at("link") << " (" << l.at("local").get<std::string>() << "):";
    for (const auto& p : l.at("peers")) {
      out << " node " << p.at("id")
          << (p.at("connected").get<bool>() ? " connected" : " disconnected");
      // The pings' figures, as corosync-cmapctl's stats.knet.nodeN.linkM latency_ave and the
      // pongs missed.
      if (p.contains("round_trip_ms")) {
        char rtt[32];
        std::snprintf(rtt, sizeof rtt, "%.3f", p.at("round_trip_ms").get<double>());
        out << " (round trip " << rtt << " ms";
        if (p.contains("pings")) out << ", lost " << p.at("lost") << " of " << p.at("pings");
        out << ")";
      }
      out << ";";
    }
    out << "\n";
  }
  const auto& t = s.at("transport");
  out << "frames: " << t.at("frames") << " received, " << t.at("messages")
      << " messages, dropped: " << t.at("garbage") << " garbage, " << t.at("unauthenticated")
      << " unauthenticated, " << t.at("replayed") << " replayed ("
      << (t.at("sealed").get<bool>() ? "sealed" : "NOT sealed") << ")\n";
  // What crmadmin -S says of a controller: its state, and the DC it follows.
  if (s.contains("controller")) {
    const auto& c = s.at("controller");
    out << "controller: " << c.value("state", "?") << ", DC "
        << (c.at("dc").is_null() ? std::string("none") : c.at("dc").value("name", "?")) << ", "
        << c.value("transitions_completed", 0) << " transition(s) completed, "
        << c.value("transitions_aborted", 0) << " aborted\n";
  }
  return out.str();
}

std::string vigild_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("VIGILD"); env != nullptr && *env != '\0') return env;
  return beside_self("vigild");
}

int spawn_and_wait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::execvp(argv[0], argv.data());
    // The caller says "its reason is above": this is that reason when there is no program to run.
    std::fprintf(stderr, "vigil: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

struct Where {
  std::string socket;
  std::string run_dir;
  std::string path() const {
    if (socket.empty() && !run_dir.empty()) return control::socket_in(run_dir);
    return control::socket_path(socket);
  }
};

struct StatusFlags : Where {
  std::string cib_file, format = "text";
  std::vector<std::string> words;  // crmsh's `status` words: inactive, failcounts, bynode, full
  bool inactive = false, failcounts = false, by_node = false, one_shot = false, watch = false;
  double interval = 5;
  int refreshes = 0;
};

// Ctrl-C ends `vigil status --watch`.
volatile std::sig_atomic_t watch_interrupted = 0;
void on_watch_interrupt(int) {
  watch_interrupted = 1;
}

// A CIB file the user named must be there and hold a CIB: crm_mon on a missing or broken file is
// no view of an empty cluster.
Result<cib::Cib> read_named_file(const std::string& path) {
  cib::FileCibStore store(path, cib::MissingCib::refused);
  return store.read();
}

// The CIB (`named`: from the file the user named; else from vigild) and the daemon's view,
// whichever answer; an error only when neither does.
Result<StatusInput> gather(const StatusFlags& f, Cli& cli, std::optional<cib::Cib> named) {
  StatusInput in;
  in.now = wall_clock_ms();
  auto answer = control::request(f.path(), Json{{"command", "status"}}, 2000);
  if (answer.ok() && answer->value("ok", false)) in.daemon = *answer;
  if (named) {
    in.cib = std::move(named);
    return in;
  }
  std::ostringstream why;
  if (auto store = open_cib_store("", why, f.path())) {
    auto cib = store->read();
    for (const auto& note : store->take_notes()) cli.err() << "WARNING: " << note << "\n";
    if (cib) {
      in.cib = std::move(*cib);
    } else if (in.daemon.is_null()) {
      return fail(cib.error().message);
    } else {  // vigild answers but has no CIB to give yet: its membership alone
      cli.err() << "WARNING: no CIB from " << store->name() << ": " << cib.error().message << "\n";
    }
  }
  if (!in.cib && in.daemon.is_null()) {
    return fail(answer.ok() ? answer->value("error", "vigild refused") : answer.error().message);
  }
  return in;
}

Result<StatusOptions> options_of(const StatusFlags& f) {
  StatusOptions o{f.inactive, f.failcounts, f.by_node, !f.one_shot};
  for (std::size_t i = 0; i < f.words.size(); ++i) {
    const auto& w = f.words[i];
    if (w == "inactive") {
      o.inactive = true;
    } else if (w == "failcounts") {
      o.failcounts = true;
    } else if (w == "bynode") {
      o.by_node = true;
    } else if (w == "full") {
      o.inactive = o.failcounts = o.by_node = true;
    } else if (w == "xml" || w == "json") {
      continue;  // handled as --output-as
    } else {
      return fail("status: word " + std::to_string(i + 1) + " ('" + w +
                  "'): unknown option (inactive, failcounts, bynode, full, xml, json)");
    }
  }
  return o;
}

std::string format_of(const StatusFlags& f) {
  for (const auto& w : f.words)
    if (w == "xml" || w == "json") return w;
  return f.format;
}

int show_status(const StatusFlags& f, const StatusOptions& options, Cli& cli) {
  std::optional<cib::Cib> named;
  if (const auto file = named_cib_file(f.cib_file); !file.empty()) {
    auto cib = read_named_file(file);
    if (!cib) {
      cli.err() << "vigil: status: " << cib.error().message << "\n";
      return 1;
    }
    named = std::move(*cib);
  }
  auto in = gather(f, cli, std::move(named));
  if (!in) {
    cli.err() << "crm_mon: Error: cluster is not available on this node (" << in.error().message
              << ")\n";
    return kUnavailable;
  }
  const std::string format = format_of(f);
  if (format == "json") {
    cli.out() << status_json(*in).dump(2) << "\n";
  } else if (format == "xml") {
    cli.out() << status_xml(*in, "vigil status --output-as=xml");
  } else {
    cli.out() << render_status(*in, options);
  }
  return 0;
}

// crm_mon's interactive mode: the screen is redrawn every interval until Ctrl-C (or, for
// scripts and tests, after `--refreshes` redraws).
int watch_status(const StatusFlags& f, const StatusOptions& options, Cli& cli) {
  watch_interrupted = 0;
  auto previous = std::signal(SIGINT, on_watch_interrupt);
  const auto step = std::chrono::milliseconds(100);
  const auto interval = std::chrono::milliseconds(static_cast<long>(f.interval * 1000));
  int code = 0;
  for (int n = 0; !watch_interrupted && (f.refreshes == 0 || n < f.refreshes); ++n) {
    cli.out() << "\033[H\033[2J";  // home, clear screen
    code = show_status(f, options, cli);
    cli.out() << std::flush;
    if (f.refreshes != 0 && n + 1 == f.refreshes) break;
    for (auto waited = std::chrono::milliseconds(0); waited < interval && !watch_interrupted;
         waited += step)
      std::this_thread::sleep_for(step);
  }
  std::signal(SIGINT, previous);
  return code;
}

void add_status(Cli& cli) {
  auto* sub = cli.app().add_subcommand(
      "status", "cluster status, as crm status / crm_mon -1 shows it (from the CIB and vigild)");
  auto f = std::make_shared<StatusFlags>();
  sub->add_option("--socket", f->socket,
                  "vigild's control socket (else $VIGIL_SOCKET, else /run/vigil)");
  sub->add_option("--cib", f->cib_file, "read the CIB from this file (else CIB_file, else vigild)");
  sub->add_option("--output-as", f->format, "text, xml or json")
      ->check(CLI::IsMember({"text", "xml", "json"}));
  sub->add_flag("-1,--one-shot", f->one_shot,
                "crm_mon -1's layout rather than crm status's: active resources only unless -r");
  sub->add_flag("-r,--inactive", f->inactive, "list inactive resources too");
  sub->add_flag("-f,--failcounts", f->failcounts, "show the fail counts (Migration Summary)");
  sub->add_flag("-n,--group-by-node", f->by_node, "list the resources under their nodes");
  sub->add_flag("-w,--watch", f->watch, "redraw the status every --interval until Ctrl-C");
  sub->add_option("-i,--interval", f->interval, "seconds between redraws with --watch (default 5)")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--refreshes", f->refreshes, "with --watch: stop after this many redraws")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("words", f->words, "crmsh's words: inactive, failcounts, bynode, full, xml");
  cli.on(sub, [&cli, f] {
    auto options = options_of(*f);
    if (!options) {
      cli.err() << "ERROR: " << options.error().message << "\n";
      return 2;
    }
    return f->watch ? watch_status(*f, *options, cli) : show_status(*f, *options, cli);
  });
}

int nodelist_request(Cli& cli, const std::string& socket, const Json& req, const char* done) {
  auto answer = control::request(socket, req, 10000);
  if (answer.ok() && !answer->value("ok", false))
    answer = control::refused(*answer, "vigild refused the change");
  if (!answer.ok()) {
    cli.err() << "vigil cluster: " << answer.error().message << "\n";
    return 1;
  }
  const auto& nodes = (*answer)["nodelist"];
  cli.out() << "node " << (req.contains("node") ? req["node"].get<std::string>()
                                                 : req["addresses"][0].get<std::string>())
            << " " << done << " the nodelist: " << nodes.size() << " node(s)";
  if (answer->contains("expected_votes"))
    cli.out() << ", expected votes " << (*answer)["expected_votes"].get<std::uint32_t>();
  cli.out() << "\n" << (*answer)["config"].get<std::string>()
            << " rewritten here and on every member in the ring\n";
  return 0;
}

// `vigil cluster add|remove`: a nodelist change asked of the local vigild, which orders it through
// the ring; every member applies it and rewrites its corosync.conf (pcs cluster node add/remove,
// without the file copying and the reload on each node).
void add_membership(Cli& cli, CLI::App* cluster) {
  struct AddFlags : Where {
    std::uint32_t nodeid = 0;
    std::string name;
    std::vector<std::string> addresses;
  };
  auto f = std::make_shared<AddFlags>();
  auto* add = cluster->add_subcommand(
      "add",
      "add a node to the nodelist of the running cluster: every member's vigild takes it at once "
      "and rewrites its corosync.conf; then start vigild on the new node with that file");
  add->add_option("--nodeid", f->nodeid, "its node id (default: the lowest one not in use)")
      ->check(CLI::Range(1u, 4294967295u));
  add->add_option("--name", f->name, "its name (default: none; it is then named by its address)");
  add->add_option("addresses", f->addresses, "its ring0_addr, then ring1_addr … (one per link)")
      ->required();
  add->add_option("--socket", f->socket, "vigild's control socket");
  add->add_option("--run-dir", f->run_dir, "vigild's run directory");
  cli.on(add, [&cli, f] {
    Json req{{"command", "nodelist_add"}, {"addresses", f->addresses}};
    if (f->nodeid != 0) req["nodeid"] = f->nodeid;
    if (!f->name.empty()) req["name"] = f->name;
    return nodelist_request(cli, f->path(), req, "added to");
  });

  auto where = std::make_shared<Where>();
  auto node = std::make_shared<std::string>();
  auto* remove = cluster->add_subcommand(
      "remove",
      "remove a stopped node from the nodelist of the running cluster: every member's vigild "
      "drops it at once and rewrites its corosync.conf; expected votes come down with it");
  remove->add_option("node", *node, "its name, node id or ring0_addr")->required();
  remove->add_option("--socket", where->socket, "vigild's control socket");
  remove->add_option("--run-dir", where->run_dir, "vigild's run directory");
  cli.on(remove, [&cli, where, node] {
    return nodelist_request(cli, where->path(), Json{{"command", "nodelist_remove"}, {"node", *node}},
                            "removed from");
  });
}

void add_cluster(Cli& cli) {
  auto* cluster = cli.app().add_subcommand(
      "cluster", "start, stop or inspect vigild on this node; add or remove nodes");
  cluster->require_subcommand(1);
  struct StartFlags : Where {
    std::string config, node, state_dir, vigild;
  };
  auto f = std::make_shared<StartFlags>();
  auto* start = cluster->add_subcommand("start", "start vigild on this node");
  start->add_option("--config", f->config, "cluster configuration (corosync.conf syntax)");
  start->add_option("--node", f->node, "which nodelist entry this node is");
  start->add_option("--state-dir", f->state_dir, "vigild's state directory");
  start->add_option("--run-dir", f->run_dir, "vigild's run directory (socket, pid file)");
  start->add_option("--vigild", f->vigild, "the vigild binary (else $VIGILD, else beside vigil)");
  cli.on(start, [&cli, f] {
    if (control::request(f->path(), Json{{"command", "ping"}}, 1000).ok()) {
      cli.out() << "vigild is already running\n";
      return 0;
    }
    std::vector<std::string> args{vigild_path(f->vigild)};
    auto pass = [&](const char* flag, const std::string& value) {
      if (!value.empty()) args.insert(args.end(), {flag, value});
    };
    pass("--config", f->config);
    pass("--node", f->node);
    pass("--state-dir", f->state_dir);
    pass("--run-dir", f->run_dir);
    // vigild detaches and exits 0 only once it is up (or non-zero with the reason on stderr).
    const int code = spawn_and_wait(args);
    if (code != 0) {
      cli.err() << "vigil cluster start: " << args[0] << " failed (exit " << code << ")\n";
      return 1;
    }
    cli.out() << "vigild started\n";
    return 0;
  });

  auto* stop =
      cluster->add_subcommand("stop", "stop vigild on this node (it leaves the ring cleanly)");
  stop->add_option("--socket", f->socket, "vigild's control socket");
  stop->add_option("--run-dir", f->run_dir, "vigild's run directory");
  cli.on(stop, [&cli, f] {
    auto answer = control::request(f->path(), Json{{"command", "shutdown"}});
    if (!answer.ok()) {
      cli.out() << "vigild is not running\n";
      return 0;
    }
    for (int i = 0; i < 100; ++i) {  // up to 10 s for the leave to go out and the socket to close
      if (!control::request(f->path(), Json{{"command", "ping"}}, 200).ok()) {
        cli.out() << "vigild stopped\n";
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    cli.err() << "vigil cluster stop: vigild is still answering after 10 s\n";
    return 1;
  });

  auto* local =
      cluster->add_subcommand("status", "the local vigild: ring, quorum, links, counters");
  local->add_option("--socket", f->socket, "vigild's control socket");
  local->add_option("--run-dir", f->run_dir, "vigild's run directory");
  cli.on(local, [&cli, f] {
    auto status = control::request(f->path(), Json{{"command", "status"}});
    if (!status.ok()) {
      cli.out() << "vigild: not running (" << status.error().message << ")\n";
      return kNotRunning;
    }
    cli.out() << render_local(*status);
    return 0;
  });
  add_membership(cli, cluster);
}

void add_quorum(Cli& cli) {
  auto* quorum = cli.app().add_subcommand("quorum", "votequorum state (corosync-quorumtool)");
  quorum->require_subcommand(1);
  auto* status =
      quorum->add_subcommand("status", "quorum and membership, as corosync-quorumtool -s");
  auto where = std::make_shared<Where>();
  status->add_option("--socket", where->socket, "vigild's control socket");
  cli.on(status, [&cli, where] {
    auto answer = control::request(where->path(), Json{{"command", "status"}});
    if (!answer.ok()) {
      cli.err() << "Cannot initialize QUORUM service (" << answer.error().message << ")\n";
      return 1;
    }
    cli.out() << render_quorum(*answer, now_text());
    // corosync-quorumtool -s exits 0 when quorate, 2 when not.
    return (*answer)["quorum"]["quorate"].get<bool>() ? 0 : 2;
  });
}

void add_status_commands(Cli& cli) {
  add_status(cli);
  add_quorum(cli);
  add_cluster(cli);
}

}  // namespace

VIGIL_COMMANDS(20, add_status_commands);

}  // namespace vigil::cli
