// `vigil page-password [USER]`: the password USER logs in with on the status page's actions
// (vigild --http-actions; page/page.h says how it is derived from the authkey). Whoever can read
// the authkey (root on a node) can print it, and every node derives the same one.
#include "cli/cli.h"
#include "common/file.h"
#include "config/config.h"
#include "page/page.h"

namespace vigil::cli {

namespace {

struct PasswordArgs {
  std::string user{page::kDefaultUser}, config, authkey;
};

int print_password(const PasswordArgs& a, Cli& cli) {
  std::string path = a.authkey;
  if (path.empty()) {
    auto c = a.config.empty() ? config::load_default_config() : config::load_config(a.config);
    if (!c) {
      cli.err() << "ERROR: page-password: " << c.error().message << "\n";
      return 1;
    }
    path = config::authkey_path(*c);
  }
  auto key = read_file(path);
  if (!key) {
    cli.err() << "ERROR: page-password: " << key.error().message << "\n";
    return 1;
  }
  auto password = page::password(
      std::span(reinterpret_cast<const std::uint8_t*>(key->data()), key->size()), a.user);
  if (!password) {
    cli.err() << "ERROR: page-password: " << path << ", user '" << a.user
              << "': " << password.error().message << "\n";
    return 1;
  }
  cli.out() << *password << "\n";
  return 0;
}

void add_page_command(Cli& cli) {
  auto args = std::make_shared<PasswordArgs>();
  auto* sub = cli.app().add_subcommand(
      "page-password",
      "print the password USER (default hacluster) logs in with to act on the status page "
      "(vigild --http-actions); derived from the cluster's authkey, the same on every node");
  sub->add_option("user", args->user, "the user name the page is given")->capture_default_str();
  sub->add_option("--config", args->config,
                  "configuration file to take totem.keyfile from (default: /etc/vigil/cluster.conf, "
                  "else /etc/corosync/corosync.conf)");
  sub->add_option("--authkey", args->authkey, "the authkey file itself");
  cli.on(sub, [&cli, args] { return print_password(*args, cli); });
}

}  // namespace

VIGIL_COMMANDS(68, add_page_command);

}  // namespace vigil::cli
