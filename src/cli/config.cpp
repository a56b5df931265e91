// `vigil config show|check` and `vigil keygen`: the cluster configuration and the authkey.
#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/cli.h"
#include "config/config.h"

namespace vigil::cli {

namespace {

using config::ClusterConfig;
using OrderedJson = nlohmann::ordered_json;

// The text form follows corosync-cmapctl's "key (type) = value" lines, so what people grep for
// in Corosync's runtime map reads the same here. Booleans use the words Corosync itself stores.
class CmapLines {
 public:
  explicit CmapLines(std::ostream& out) : out_(out) {}
  void str(const std::string& key, const std::string& value) {
    if (!value.empty()) out_ << key << " (str) = " << value << "\n";
  }
  void num(const std::string& key, const char* type, std::uint64_t value) {
    out_ << key << " (" << type << ") = " << value << "\n";
  }
  void flag(const std::string& key, bool value, const char* on = "yes", const char* off = "no") {
    out_ << key << " (str) = " << (value ? on : off) << "\n";
  }

 private:
  std::ostream& out_;
};

void show_totem(CmapLines& l, const ClusterConfig& c) {
  const auto& t = c.totem;
  l.num("totem.version", "u32", t.version);
  l.str("totem.cluster_name", t.cluster_name);
  l.num("totem.config_version", "u64", t.config_version);
  l.str("totem.transport", std::string(to_string(t.transport)));
  l.num("totem.token", "u32", static_cast<std::uint64_t>(t.token));
  l.num("totem.token_coefficient", "u32", static_cast<std::uint64_t>(t.token_coefficient));
  l.num("totem.token_warning", "u32", t.token_warning);
  l.num("totem.token_retransmits_before_loss_const", "u32", t.token_retransmits_before_loss_const);
  l.num("totem.token_retransmit", "u32", static_cast<std::uint64_t>(t.token_retransmit));
  l.num("totem.hold", "u32", static_cast<std::uint64_t>(t.hold));
  l.num("totem.join", "u32", static_cast<std::uint64_t>(t.join));
  l.num("totem.send_join", "u32", static_cast<std::uint64_t>(t.send_join));
  l.num("totem.consensus", "u32", static_cast<std::uint64_t>(t.consensus));
  l.num("totem.merge", "u32", static_cast<std::uint64_t>(t.merge));
  l.num("totem.downcheck", "u32", static_cast<std::uint64_t>(t.downcheck));
  l.num("totem.fail_recv_const", "u32", t.fail_recv_const);
  l.num("totem.seqno_unchanged_const", "u32", t.seqno_unchanged_const);
  l.num("totem.max_messages", "u32", t.max_messages);
  l.num("totem.window_size", "u32", t.window_size);
  l.num("totem.miss_count_const", "u32", t.miss_count_const);
  l.num("totem.max_network_delay", "u32", static_cast<std::uint64_t>(t.max_network_delay));
  l.num("totem.heartbeat_failures_allowed", "u32", t.heartbeat_failures_allowed);
  l.num("totem.netmtu", "u32", t.netmtu);
  l.flag("totem.secauth", t.secauth, "on", "off");
  l.str("totem.crypto_cipher", t.crypto_cipher);
  l.str("totem.crypto_hash", t.crypto_hash);
  l.str("totem.keyfile", config::authkey_path(c));
  l.flag("totem.clear_node_high_bit", t.clear_node_high_bit);
  for (const auto& i : t.interfaces) {
    const std::string p = "totem.interface." + std::to_string(i.linknumber) + ".";
    l.str(p + "bindnetaddr", i.bindnetaddr);
    l.str(p + "mcastaddr", i.mcastaddr);
    if (i.broadcast) l.flag(p + "broadcast", true);
    l.num(p + "mcastport", "u16", i.mcastport);
    l.num(p + "ttl", "u8", i.ttl);
  }
  l.num("runtime.config.totem.token", "u32", static_cast<std::uint64_t>(t.runtime_token));
}

void show_rest(CmapLines& l, const ClusterConfig& c) {
  for (std::size_t n = 0; n < c.nodelist.size(); ++n) {
    const auto& node = c.nodelist[n];
    const std::string p = "nodelist.node." + std::to_string(n) + ".";
    l.num(p + "nodeid", "u32", node.nodeid);
    l.str(p + "name", node.name);
    for (unsigned link = 0; link < config::kMaxLinks; ++link) {
      l.str(p + "ring" + std::to_string(link) + "_addr", node.ring_addr[link]);
    }
    l.num(p + "quorum_votes", "u32", node.quorum_votes);
  }
  const auto& q = c.quorum;
  l.str("quorum.provider", q.provider);
  l.num("quorum.expected_votes", "u32", q.expected_votes);
  l.num("quorum.two_node", "u8", q.two_node);
  l.num("quorum.wait_for_all", "u8", q.wait_for_all);
  l.num("quorum.last_man_standing", "u8", q.last_man_standing);
  l.num("quorum.last_man_standing_window", "u32",
        static_cast<std::uint64_t>(q.last_man_standing_window));
  l.num("quorum.auto_tie_breaker", "u8", q.auto_tie_breaker);
  const auto& g = c.logging;
  l.flag("logging.to_stderr", g.to_stderr);
  l.flag("logging.to_logfile", g.to_logfile);
  l.str("logging.logfile", g.logfile);
  l.flag("logging.to_syslog", g.to_syslog);
  l.str("logging.syslog_facility", g.syslog_facility);
  l.str("logging.syslog_priority", g.syslog_priority);
  l.str("logging.logfile_priority", g.logfile_priority);
  l.str("logging.debug", std::string(to_string(g.debug)));
  l.str("logging.timestamp", std::string(to_string(g.timestamp)));
  l.flag("logging.fileline", g.fileline, "on", "off");
  l.flag("logging.function_name", g.function_name, "on", "off");
  l.flag("logging.blackbox", g.blackbox, "on", "off");
  for (const auto& s : g.logger_subsys) {
    const std::string p = "logging.logger_subsys." + s.subsys + ".";
    l.str(p + "subsys", s.subsys);
    l.str(p + "debug", std::string(to_string(s.debug)));
    l.flag(p + "to_stderr", s.to_stderr);
    l.flag(p + "to_logfile", s.to_logfile);
    l.flag(p + "to_syslog", s.to_syslog);
    l.str(p + "logfile", s.logfile);
  }
}

OrderedJson totem_json(const ClusterConfig& c) {
  const auto& t = c.totem;
  OrderedJson j;
  j["version"] = t.version;
  j["cluster_name"] = t.cluster_name;
  j["config_version"] = t.config_version;
  j["transport"] = to_string(t.transport);
  j["token"] = t.token;
  j["token_coefficient"] = t.token_coefficient;
  j["runtime_token"] = t.runtime_token;
  j["token_warning"] = t.token_warning;
  j["token_retransmits_before_loss_const"] = t.token_retransmits_before_loss_const;
  j["token_retransmit"] = t.token_retransmit;
  j["hold"] = t.hold;
  j["join"] = t.join;
  j["send_join"] = t.send_join;
  j["consensus"] = t.consensus;
  j["merge"] = t.merge;
  j["downcheck"] = t.downcheck;
  j["fail_recv_const"] = t.fail_recv_const;
  j["seqno_unchanged_const"] = t.seqno_unchanged_const;
  j["max_messages"] = t.max_messages;
  j["window_size"] = t.window_size;
  j["miss_count_const"] = t.miss_count_const;
  j["max_network_delay"] = t.max_network_delay;
  j["heartbeat_failures_allowed"] = t.heartbeat_failures_allowed;
  j["netmtu"] = t.netmtu;
  j["secauth"] = t.secauth;
  j["crypto_cipher"] = t.crypto_cipher;
  j["crypto_hash"] = t.crypto_hash;
  j["keyfile"] = config::authkey_path(c);
  j["clear_node_high_bit"] = t.clear_node_high_bit;
  j["interface"] = OrderedJson::array();
  for (const auto& i : t.interfaces) {
    j["interface"].push_back({{"linknumber", i.linknumber},
                              {"bindnetaddr", i.bindnetaddr},
                              {"mcastaddr", i.mcastaddr},
                              {"broadcast", i.broadcast},
                              {"mcastport", i.mcastport},
                              {"ttl", i.ttl}});
  }
  return j;
}

OrderedJson rest_json(const ClusterConfig& c) {
  OrderedJson j;
  j["nodelist"] = OrderedJson::array();
  for (const auto& n : c.nodelist) {
    OrderedJson node{{"nodeid", n.nodeid}, {"nodeid_derived", n.nodeid_derived}, {"name", n.name}};
    for (unsigned link = 0; link < config::kMaxLinks; ++link) {
      if (!n.ring_addr[link].empty())
        node["ring" + std::to_string(link) + "_addr"] = n.ring_addr[link];
    }
    node["quorum_votes"] = n.quorum_votes;
    j["nodelist"].push_back(node);
  }
  const auto& q = c.quorum;
  j["quorum"] = {{"provider", q.provider},
                 {"expected_votes", q.expected_votes},
                 {"two_node", q.two_node},
                 {"wait_for_all", q.wait_for_all},
                 {"last_man_standing", q.last_man_standing},
                 {"last_man_standing_window", q.last_man_standing_window},
                 {"auto_tie_breaker", q.auto_tie_breaker}};
  const auto& g = c.logging;
  OrderedJson log{{"to_stderr", g.to_stderr},
                  {"to_logfile", g.to_logfile},
                  {"logfile", g.logfile},
                  {"to_syslog", g.to_syslog},
                  {"syslog_facility", g.syslog_facility},
                  {"syslog_priority", g.syslog_priority},
                  {"logfile_priority", g.logfile_priority},
                  {"debug", to_string(g.debug)},
                  {"timestamp", to_string(g.timestamp)},
                  {"fileline", g.fileline},
                  {"function_name", g.function_name},
                  {"blackbox", g.blackbox}};
  log["logger_subsys"] = OrderedJson::array();
  for (const auto& s : g.logger_subsys) {
    log["logger_subsys"].push_back({{"subsys", s.subsys},
                                    {"debug", to_string(s.debug)},
                                    {"to_stderr", s.to_stderr},
                                    {"to_logfile", s.to_logfile},
                                    {"to_syslog", s.to_syslog},
                                    {"logfile", s.logfile}});
  }
  j["logging"] = log;
  j["notes"] = OrderedJson::array();
  for (const auto& n : c.notes) {
    j["notes"].push_back(
        {{"severity", n.severity == config::Note::Severity::warning ? "warning" : "note"},
         {"line", n.line},
         {"column", n.column},
         {"message", n.message}});
  }
  return j;
}

// The configuration named by --config, else the one at the default location.
Result<ClusterConfig> load(const std::string& given) {
  return given.empty() ? config::load_default_config() : config::load_config(given);
}

int show(Cli& cli, const std::string& file, const std::string& format) {
  auto c = load(file);
  if (!c) {
    cli.err() << "vigil: " << c.error().message << "\n";
    return 1;
  }
  if (format == "json") {
    OrderedJson j{{"origin", c->origin}};
    j["totem"] = totem_json(*c);
    j.update(rest_json(*c));
    cli.out() << j.dump(2) << "\n";
    return 0;
  }
  CmapLines lines(cli.out());
  show_totem(lines, *c);
  show_rest(lines, *c);
  if (!c->notes.empty()) cli.out() << "\n";
  for (const auto& n : c->notes) cli.out() << format_note(*c, n) << "\n";
  return 0;
}

std::string counted(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

int check(Cli& cli, const std::string& file) {
  auto c = load(file);
  if (!c) {
    cli.err() << "vigil: " << c.error().message << "\n";
    return 1;
  }
  std::size_t warnings = 0;
  for (const auto& n : c->notes) {
    cli.out() << format_note(*c, n) << "\n";
    warnings += n.severity == config::Note::Severity::warning ? 1 : 0;
  }
  cli.out() << c->origin << ": configuration OK (transport " << to_string(c->totem.transport)
            << ", " << counted(c->nodelist.size(), "node") << " in nodelist, token "
            << c->totem.runtime_token << " ms, " << counted(warnings, "warning") << ")\n";
  const std::string key = config::authkey_path(*c);
  struct stat st {};
  if (!config::authkey_required(*c) && ::stat(key.c_str(), &st) != 0) {
    cli.out() << key
              << ": no authkey, and none is needed (crypto_cipher and crypto_hash are none)\n";
    return 0;
  }
  auto size = config::check_authkey(key);
  if (!size) {
    cli.err() << "vigil: " << size.error().message << "\n";
    return 1;
  }
  cli.out() << key << ": authkey OK (" << *size << " bytes, owner-only)\n";
  return 0;
}

int keygen(Cli& cli, const std::string& file, std::string output, bool force) {
  if (output.empty()) {
    // The key goes where the configuration says (totem.keyfile, else beside the file), so read
    // it when there is one; a first key may well be made before any configuration exists.
    const std::string path = file.empty() ? config::default_config_path() : file;
    struct stat st {};
    if (!file.empty() || ::stat(path.c_str(), &st) == 0) {
      auto c = load(file);
      if (!c) {
        cli.err() << "vigil: " << c.error().message << "\n";
        return 1;
      }
      output = config::authkey_path(*c);
    } else {
      output = config::authkey_beside(path);
    }
  }
  cli.out() << "Gathering " << config::kAuthkeyBytes * 8 << " bits for key from libsodium.\n";
  if (auto r = config::write_authkey(output, force); !r) {
    cli.err() << "vigil: " << r.error().message << "\n";
    return 1;
  }
  cli.out() << "Writing vigil key to " << output << ".\n";
  return 0;
}

void add_config_commands(Cli& cli) {
  auto* group = cli.app().add_subcommand(
      "config", "show or check the cluster configuration (corosync.conf syntax)");
  group->require_subcommand(1);

  struct ShowArgs {
    std::string file, format = "text";
  };
  auto show_args = std::make_shared<ShowArgs>();
  auto* show_cmd = group->add_subcommand(
      "show", "print the effective settings, defaults filled in, and the notes");
  show_cmd->add_option("--config", show_args->file,
                       "configuration file (default: /etc/vigil/cluster.conf, else "
                       "/etc/corosync/corosync.conf)");
  show_cmd->add_option("--output-as", show_args->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cli.on(show_cmd, [&cli, show_args] { return show(cli, show_args->file, show_args->format); });

  auto check_file = std::make_shared<std::string>();
  auto* check_cmd = group->add_subcommand(
      "check", "check the configuration and the authkey; exit 0 when both are good");
  check_cmd->add_option("--config", *check_file, "configuration file");
  cli.on(check_cmd, [&cli, check_file] { return check(cli, *check_file); });

  struct KeygenArgs {
    std::string file, output;
    bool force = false, less_secure = false;
  };
  auto key_args = std::make_shared<KeygenArgs>();
  auto* keygen_cmd = cli.app().add_subcommand(
      "keygen", "write a new 256-byte authkey (mode 0400), as corosync-keygen");
  keygen_cmd->add_flag("-l,--less-secure", key_args->less_secure,
                       "accepted for corosync-keygen compatibility; no effect");
  keygen_cmd->add_option(
      "-o,--output,-k,--key-file", key_args->output,
      "where to write the key (default: totem.keyfile, else authkey beside the configuration)");
  keygen_cmd->add_flag("--force", key_args->force, "replace an existing key");
  keygen_cmd->add_option("--config", key_args->file,
                         "configuration file to take totem.keyfile from");
  cli.on(keygen_cmd, [&cli, key_args] {
    return keygen(cli, key_args->file, key_args->output, key_args->force);
  });
}

}  // namespace

VIGIL_COMMANDS(10, add_config_commands);

}  // namespace vigil::cli
