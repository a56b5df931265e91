#include "daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

namespace vigil::daemon {

namespace {

// Detaches from the terminal. The parent waits on a pipe until the child reports that it started
// (or why it could not), so `vigild` without --foreground still exits non-zero on a bad config.
// Returns the pipe's write end in the child; the parent never returns.
int detach() {
  int ready[2];
  if (::pipe(ready) != 0) {
    std::perror("vigild: pipe");
    std::exit(1);
  }
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("vigild: fork");
    std::exit(1);
  }
  if (child > 0) {
    ::close(ready[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = ::read(ready[0], buf, sizeof buf)) > 0;)
      report.append(buf, static_cast<std::size_t>(n));
    if (report == "ok") std::exit(0);
    std::fprintf(stderr, "vigild: %s\n", report.empty() ? "exited while starting" : report.c_str());
    std::exit(1);
  }
  ::close(ready[0]);
  ::setsid();
  if (const int null = ::open("/dev/null", O_RDWR); null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  ::umask(022);
  return ready[1];
}

void report(int fd, const std::string& text) {
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("vigild: the vigil cluster daemon", "vigild");
  Options o;
  app.add_option("--config", o.config,
                 "cluster configuration (corosync.conf syntax); default /etc/vigil/cluster.conf, "
                 "else /etc/corosync/corosync.conf");
  app.add_option("--node", o.node,
                 "which nodelist entry this process is (name, id or ring0_addr); default the "
                 "entry with an address of this machine");
  app.add_option("--state-dir", o.state_dir,
                 "where the ring sequence, the CIB and its backups live")
      ->capture_default_str();
  app.add_option("--run-dir", o.run_dir, "where the control socket and pid file live")
      ->capture_default_str();
  app.add_option("--http", o.http,
                 "serve Prometheus metrics at http://ADDRESS:PORT/metrics and the status page at / "
                 "(e.g. 127.0.0.1:9664, ha_cluster_exporter's port); default http.listen of the "
                 "configuration, else off");
  app.add_flag("--http-actions", o.http_actions,
               "let the status page put nodes in standby or online and clean up, move or clear "
               "resources, for a user who logs in with the password `vigil page-password USER` "
               "prints; default http.actions of the configuration, else off: the page is "
               "read-only");
  app.add_option("--log-format", o.log_format,
                 "text, or json: one JSON object a line (time, level, subsystem, node, pid, "
                 "message); default logging.log_format of the configuration, else text")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--foreground,-f", o.foreground, "stay in the foreground and log to stderr");
  app.set_version_flag("--version", "vigild " VIGIL_VERSION);
  CLI11_PARSE(app, argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  std::error_code ec;
  std::filesystem::create_directories(o.run_dir, ec);
  std::filesystem::create_directories(o.state_dir, ec);
  const int ready = o.foreground ? -1 : detach();
  auto daemon = start(o);
  if (!daemon.ok()) {
    if (ready >= 0) {
      report(ready, daemon.error().message);
    } else {
      std::fprintf(stderr, "vigild: %s\n", daemon.error().message.c_str());
    }
    return 1;
  }
  report(ready, "ok");
  return run(**daemon);
}

}  // namespace vigil::daemon
