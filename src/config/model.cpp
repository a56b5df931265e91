// corosync.conf tree → ClusterConfig: what each key means, Corosync 3's defaults, and the checks
// that span keys (consensus against token, duplicate node ids, address families).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "config/address.h"
#include "config/config.h"
#include "config/syntax.h"
#include "quorum/witness.h"

namespace vigil::config {

namespace {

constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();

struct Pos {
  int line = 0;
  int column = 0;
};

// Where each key of one section instance was written (its value's column), by key name.
using Seen = std::map<std::string, Pos, std::less<>>;

// A key's meaning: parses the value into the model, or returns what was expected (no place: the
// caller adds origin:line:column and the key's path).
using Handler = std::function<Result<void>(std::string_view value)>;

struct Keys {
  std::map<std::string, Handler, std::less<>> handlers;
  // Keys Corosync knows that vigil accepts without using, with the reason given in the note.
  std::map<std::string, std::string, std::less<>> ignored;
};

// ---- values ---------------------------------------------------------------------------------

std::string in_quotes(std::string_view v) {
  return "'" + std::string(v) + "'";
}

Result<std::uint64_t> number(std::string_view v, std::uint64_t min, std::uint64_t max) {
  if (v.empty()) return fail("expected a number, got nothing");
  const bool negative = v.front() == '-';
  const std::string_view digits = (negative || v.front() == '+') ? v.substr(1) : v;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  const bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (!all_digits) return fail("expected a whole number, got " + in_quotes(v));
  if (negative && (ec != std::errc() || n != 0))
    return fail("must not be negative, got " + in_quotes(v));
  if (ec == std::errc::result_out_of_range || end != digits.data() + digits.size() || n > max) {
    return fail("must be at most " + std::to_string(max) + ", got " + in_quotes(v));
  }
  if (n < min) {
    if (min == 1) return fail("must be greater than 0, got " + in_quotes(v));
    return fail("must be at least " + std::to_string(min) + ", got " + in_quotes(v));
  }
  return n;
}

Result<bool> boolean(std::string_view v) {
  static const std::set<std::string_view> yes = {"yes", "on", "true", "1"};
  static const std::set<std::string_view> no = {"no", "off", "false", "0"};
  if (yes.count(v) != 0) return true;
  if (no.count(v) != 0) return false;
  return fail("expected yes or no (or on/off, true/false, 1/0), got " + in_quotes(v));
}

using Choices = std::vector<std::string_view>;

Result<std::string> choice(std::string_view v, const Choices& options) {
  if (std::find(options.begin(), options.end(), v) != options.end()) return std::string(v);
  std::string list;
  for (auto o : options) list += (list.empty() ? "" : ", ") + std::string(o);
  return fail("expected one of " + list + "; got " + in_quotes(v));
}

template <class T>
Handler set_number(T& field, std::uint64_t min, std::uint64_t max) {
  return [&field, min, max](std::string_view v) -> Result<void> {
    auto n = number(v, min, max);
    if (!n) return n.error();
    field = static_cast<T>(*n);
    return {};
  };
}

// Timeouts are milliseconds; zero would make the protocol spin, so Corosync's minimum is kept > 0.
Handler set_timeout(Millis& field) {
  return set_number(field, 1, kU32Max);
}

Handler set_bool(bool& field) {
  return [&field](std::string_view v) -> Result<void> {
    auto b = boolean(v);
    if (!b) return b.error();
    field = *b;
    return {};
  };
}

Handler set_string(std::string& field) {
  return [&field](std::string_view v) -> Result<void> {
    if (v.empty()) return fail("expected a value, got nothing");
    field = std::string(v);
    return {};
  };
}

Handler set_choice(std::string& field, Choices options) {
  return [&field, options](std::string_view v) -> Result<void> {
    auto c = choice(v, options);
    if (!c) return c.error();
    field = std::move(*c);
    return {};
  };
}

Handler set_debug(DebugLevel& field) {
  return [&field](std::string_view v) -> Result<void> {
    auto c = choice(v, {"off", "on", "trace"});
    if (!c) return c.error();
    field = *c == "on" ? DebugLevel::on : *c == "trace" ? DebugLevel::trace : DebugLevel::off;
    return {};
  };
}

const Choices kFacilities = {"daemon", "local0", "local1", "local2",   "local3", "local4", "local5",
                             "local6", "local7", "auth",   "authpriv", "cron",   "kern",   "lpr",
                             "mail",   "news",   "syslog", "user",     "uucp",   "ftp"};
const Choices kPriorities = {"alert", "crit", "debug", "emerg", "err", "info", "notice", "warning"};

// IP literal (no host name) for interface addresses; multicast when `multicast`.
Handler set_ip(std::string& field, bool multicast) {
  return [&field, multicast](std::string_view v) -> Result<void> {
    auto check = classify_address(v);
    if (!check.address) return fail(check.problem);
    if (check.address->family == Family::hostname)
      return fail("expected an IP address, got " + in_quotes(v));
    if (multicast && !check.address->multicast) {
      return fail(in_quotes(v) +
                  " is not a multicast address (IPv4 224.0.0.0-239.255.255.255, IPv6 ff00::/8)");
    }
    field = std::string(v);
    return {};
  };
}

Handler set_ring_addr(std::string& field) {
  return [&field](std::string_view v) -> Result<void> {
    auto check = classify_address(v);
    if (!check.address) return fail(check.problem);
    if (check.address->multicast)
      return fail(in_quotes(v) + " is a multicast address, not a node's address");
    field = std::string(v);
    return {};
  };
}

// ---- the reader -----------------------------------------------------------------------------

const std::string kNotUsed = "accepted; not used by vigil";

class ConfigReader {
 public:
  explicit ConfigReader(std::string_view origin) { config_.origin = std::string(origin); }
  Result<ClusterConfig> read(const Section& root);

 private:
  Error error(Pos p, const std::string& what) const {
    return fail(config_.origin + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) +
                ": " + what);
  }
  void note(Pos p, std::string message) {
    config_.notes.push_back({Note::Severity::note, p.line, p.column, std::move(message)});
  }
  void warn(Pos p, std::string message) {
    config_.notes.push_back({Note::Severity::warning, p.line, p.column, std::move(message)});
  }
  Pos pos_of(const Section& s) const { return {s.line, s.column}; }

  Result<void> read_entries(const Section& s, const std::string& path, const Keys& keys,
                            Seen& seen);
  Result<void> read_totem(const Section& s);
  Result<void> read_interface(const Section& s);
  Result<void> read_nodelist(const Section& s);
  Result<void> read_node(const Section& s);
  Result<void> read_quorum(const Section& s);
  Result<void> read_device(const Section& s);
  Result<void> read_device_net(const Section& s, QuorumDevice& d);
  Result<void> read_logging(const Section& s);
  Result<void> read_resources(const Section& s);
  Result<void> read_http(const Section& s);
  Result<void> read_logger_subsys(const Section& s);
  void unexpected_sections(const Section& s, const std::string& path,
                           std::initializer_list<std::string_view> known);

  Result<void> finish_transport();
  Result<void> finish_nodelist();
  Result<void> finish_timeouts();
  Result<void> finish_quorum();
  Result<void> finish_logging();

  ClusterConfig config_;
  Seen totem_seen_, quorum_seen_, logging_seen_;
  Pos totem_pos_{1, 1};          // the totem section, for rules about keys that are absent
  std::vector<Seen> node_seen_;  // parallel to config_.nodelist
  std::vector<Pos> node_pos_;
  std::vector<Seen> subsys_seen_;  // parallel to config_.logging.logger_subsys
  std::vector<Pos> subsys_pos_;
  std::map<unsigned, Pos> interface_pos_;                  // by linknumber
  std::map<std::string, int, std::less<>> sections_seen_;  // top-level section → first line
};

Result<void> ConfigReader::read_entries(const Section& s, const std::string& path, const Keys& keys,
                                        Seen& seen) {
  for (const Entry& e : s.entries) {
    const Pos at{e.line, e.value_column};
    if (auto it = keys.handlers.find(e.key); it != keys.handlers.end()) {
      if (auto r = it->second(e.value); !r)
        return error(at, path + "." + e.key + ": " + r.error().message);
      if (auto old = seen.find(e.key); old != seen.end()) {
        warn({e.line, e.key_column}, path + "." + e.key + " is set again (first on line " +
                                         std::to_string(old->second.line) +
                                         "); the last value wins");
      }
      seen[e.key] = at;
    } else if (auto ig = keys.ignored.find(e.key); ig != keys.ignored.end()) {
      note({e.line, e.key_column}, path + "." + e.key + ": " + ig->second);
    } else {
      warn({e.line, e.key_column}, "unknown key '" + e.key + "' in " + path + " (ignored)");
    }
  }
  return {};
}

void ConfigReader::unexpected_sections(const Section& s, const std::string& path,
                                       std::initializer_list<std::string_view> known) {
  for (const Section& sub : s.sections) {
    if (std::find(known.begin(), known.end(), sub.name) == known.end()) {
      warn(pos_of(sub), "unknown section '" + sub.name + "' in " + path + " (ignored)");
    }
  }
}

Result<void> ConfigReader::read_totem(const Section& s) {
  Totem& t = config_.totem;
  totem_pos_ = pos_of(s);
  Keys keys;
  keys.handlers = {
      {"version",
       [&t](std::string_view v) -> Result<void> {
         if (v != "2") return fail("the only valid version is 2, got " + in_quotes(v));
         t.version = 2;
         return {};
       }},
      {"cluster_name", set_string(t.cluster_name)},
      {"config_version",
       set_number(t.config_version, 0, std::numeric_limits<std::uint64_t>::max())},
      {"token", set_timeout(t.token)},
      {"token_coefficient", set_number(t.token_coefficient, 0, kU32Max)},
      {"token_warning", set_number(t.token_warning, 0, 100)},
      {"token_retransmits_before_loss_const",
       set_number(t.token_retransmits_before_loss_const, 1, kU32Max)},
      {"token_retransmit", set_timeout(t.token_retransmit)},
      {"hold", set_timeout(t.hold)},
      {"join", set_timeout(t.join)},
      {"send_join", set_number(t.send_join, 0, kU32Max)},
      {"consensus", set_timeout(t.consensus)},
      {"merge", set_timeout(t.merge)},
      {"downcheck", set_timeout(t.downcheck)},
      {"fail_recv_const", set_number(t.fail_recv_const, 1, kU32Max)},
      {"seqno_unchanged_const", set_number(t.seqno_unchanged_const, 1, kU32Max)},
      {"max_messages", set_number(t.max_messages, 1, kU32Max)},
      {"window_size", set_number(t.window_size, 1, kU32Max)},
      {"miss_count_const", set_number(t.miss_count_const, 1, kU32Max)},
      {"max_network_delay", set_timeout(t.max_network_delay)},
      {"heartbeat_failures_allowed", set_number(t.heartbeat_failures_allowed, 0, kU32Max)},
      {"netmtu", set_number(t.netmtu, 576, kU32Max)},
      {"secauth", set_bool(t.secauth)},
      {"crypto_cipher", set_choice(t.crypto_cipher, {"none", "aes256", "aes192", "aes128"})},
      {"crypto_hash",
       set_choice(t.crypto_hash, {"none", "md5", "sha1", "sha256", "sha384", "sha512"})},
      {"keyfile",
       [&t](std::string_view v) -> Result<void> {
         if (v.empty() || v.front() != '/')
           return fail("expected an absolute path, got " + in_quotes(v));
         t.keyfile = std::string(v);
         return {};
       }},
      {"transport",
       [&t](std::string_view v) -> Result<void> {
         auto c = choice(v, {"knet", "udp", "udpu"});
         if (!c) return c.error();
         t.transport = *c == "udp"    ? Transport::udp
                       : *c == "udpu" ? Transport::udpu
                                      : Transport::knet;
         return {};
       }},
      {"clear_node_high_bit", set_bool(t.clear_node_high_bit)},
  };
  const std::string legacy = "legacy Corosync 1/2 key, accepted and ignored";
  keys.ignored = {{"vsftype", legacy},
                  {"threads", legacy},
                  {"rrp_mode", legacy + " (links are independent in Corosync 3)"},
                  {"nodeid", "deprecated and ignored; set nodeid in nodelist { node { } }"}};
  for (const char* k :
       {"ip_version", "ip_dscp", "link_mode", "crypto_model", "key", "block_unlisted_ips",
        "cancel_token_hold_on_retransmit", "knet_compression_model", "knet_compression_threshold",
        "knet_compression_level", "knet_pmtud_interval", "knet_mtu"}) {
    keys.ignored.emplace(k, kNotUsed);
  }
  if (auto r = read_entries(s, "totem", keys, totem_seen_); !r) return r;
  for (const Section& sub : s.sections) {
    if (sub.name != "interface") continue;
    if (auto r = read_interface(sub); !r) return r;
  }
  unexpected_sections(s, "totem", {"interface"});
  return {};
}

Result<void> ConfigReader::read_interface(const Section& s) {
  Interface iface;
  iface.line = s.line;
  Keys keys;
  keys.handlers = {
      {"linknumber", set_number(iface.linknumber, 0, kMaxLinks - 1)},
      {"ringnumber", set_number(iface.linknumber, 0, kMaxLinks - 1)},
      {"bindnetaddr", set_ip(iface.bindnetaddr, false)},
      {"mcastaddr", set_ip(iface.mcastaddr, true)},
      {"broadcast", set_bool(iface.broadcast)},
      {"mcastport", set_number(iface.mcastport, 1, 65535)},
      {"ttl", set_number(iface.ttl, 0, 255)},
  };
  for (const char* k : {"knet_link_priority", "knet_ping_interval", "knet_ping_timeout",
                        "knet_ping_precision", "knet_pong_count", "knet_transport"}) {
    keys.ignored.emplace(k, kNotUsed);
  }
  Seen seen;
  if (auto r = read_entries(s, "totem.interface", keys, seen); !r) return r;
  unexpected_sections(s, "totem.interface", {});
  // Corosync's default port leaves room for each link's pair of ports.
  if (seen.count("mcastport") == 0)
    iface.mcastport =
        static_cast<std::uint16_t>(5405 + (iface.broadcast ? 2 : 1) * iface.linknumber);
  if (!iface.bindnetaddr.empty() && !iface.mcastaddr.empty()) {
    const auto a = classify_address(iface.bindnetaddr).address->family;
    const auto b = classify_address(iface.mcastaddr).address->family;
    if (a != b) {
      return error(seen["mcastaddr"], "totem.interface.mcastaddr: " + in_quotes(iface.mcastaddr) +
                                          " is " + std::string(to_string(b)) + " but bindnetaddr " +
                                          in_quotes(iface.bindnetaddr) + " is " +
                                          std::string(to_string(a)) + " (mixed address families)");
    }
  }
  if (iface.broadcast && !iface.mcastaddr.empty()) {
    warn(seen["broadcast"], "totem.interface: broadcast is yes, so mcastaddr is not used");
  }
  for (std::size_t i = 0; i < config_.totem.interfaces.size(); ++i) {
    if (config_.totem.interfaces[i].linknumber == iface.linknumber) {
      return error(pos_of(s), "totem.interface: link " + std::to_string(iface.linknumber) +
                                  " is already configured by the interface on line " +
                                  std::to_string(config_.totem.interfaces[i].line));
    }
  }
  config_.totem.interfaces.push_back(iface);
  interface_pos_[iface.linknumber] = pos_of(s);
  return {};
}

Result<void> ConfigReader::read_nodelist(const Section& s) {
  for (const Entry& e : s.entries)
    warn({e.line, e.key_column}, "unknown key '" + e.key + "' in nodelist (ignored)");
  for (const Section& sub : s.sections) {
    if (sub.name != "node") continue;
    if (auto r = read_node(sub); !r) return r;
  }
  unexpected_sections(s, "nodelist", {"node"});
  return {};
}

Result<void> ConfigReader::read_node(const Section& s) {
  Node node;
  node.line = s.line;
  Keys keys;
  keys.handlers = {
      {"nodeid", set_number(node.nodeid, 1, kU32Max)},
      {"name", set_string(node.name)},
      {"quorum_votes", set_number(node.quorum_votes, 0, kU32Max)},
  };
  for (unsigned link = 0; link < kMaxLinks; ++link) {
    keys.handlers.emplace("ring" + std::to_string(link) + "_addr",
                          set_ring_addr(node.ring_addr[link]));
  }
  Seen seen;
  if (auto r = read_entries(s, "nodelist.node", keys, seen); !r) return r;
  unexpected_sections(s, "nodelist.node", {});
  if (node.ring_addr[0].empty()) {
    return error(pos_of(s),
                 "nodelist.node: expected ring0_addr in every node (this node has none)");
  }
  config_.nodelist.push_back(std::move(node));
  node_seen_.push_back(std::move(seen));
  node_pos_.push_back(pos_of(s));
  return {};
}

Result<void> ConfigReader::read_quorum(const Section& s) {
  Quorum& q = config_.quorum;
  Keys keys;
  keys.handlers = {
      {"provider", set_choice(q.provider, {"corosync_votequorum"})},
      {"expected_votes", set_number(q.expected_votes, 1, kU32Max)},
      {"two_node", set_bool(q.two_node)},
      {"wait_for_all", set_bool(q.wait_for_all)},
      {"last_man_standing", set_bool(q.last_man_standing)},
      {"last_man_standing_window", set_timeout(q.last_man_standing_window)},
      {"auto_tie_breaker", set_bool(q.auto_tie_breaker)},
  };
  for (const char* k : {"votes", "expected_votes_tracking", "allow_downscale",
                        "auto_tie_breaker_node", "leaving_timeout"}) {
    keys.ignored.emplace(k, kNotUsed);
  }
  if (auto r = read_entries(s, "quorum", keys, quorum_seen_); !r) return r;
  for (const Section& sub : s.sections) {
    if (sub.name != "device") continue;
    if (auto r = read_device(sub); !r) return r;
  }
  unexpected_sections(s, "quorum", {"device"});
  return {};
}

Result<void> ConfigReader::read_device(const Section& s) {
  QuorumDevice d;
  d.line = s.line;
  std::string model;
  Keys keys;
  keys.handlers = {
      {"model", set_choice(model, {"net"})},
      // ffsplit gives one vote to one half: more would let a lone node outvote its peer.
      {"votes", set_number(d.votes, 1, 1)},
      {"timeout", set_timeout(d.timeout)},
  };
  keys.ignored.emplace("sync_timeout", kNotUsed);
  Seen seen;
  if (auto r = read_entries(s, "quorum.device", keys, seen); !r) return r;
  if (seen.count("model") == 0)
    return error(pos_of(s), "quorum.device: expected model: net (the witness, `vigil witness`)");
  if (d.timeout > quorum::kMaxValidity)
    return error(seen["timeout"], "quorum.device.timeout: must be at most " +
                                      std::to_string(quorum::kMaxValidity) + " ms");
  const Section* net = nullptr;
  for (const Section& sub : s.sections) {
    if (sub.name == "net") net = &sub;
    if (sub.name == "heuristics") note(pos_of(sub), "quorum.device.heuristics: " + kNotUsed);
  }
  if (!net) return error(pos_of(s), "quorum.device: model net needs a net { host: … } section");
  if (auto r = read_device_net(*net, d); !r) return r;
  unexpected_sections(s, "quorum.device", {"net", "heuristics"});
  config_.quorum.device = std::move(d);
  return {};
}

Result<void> ConfigReader::read_device_net(const Section& s, QuorumDevice& d) {
  Keys keys;
  keys.handlers = {
      {"host", set_string(d.host)},
      {"port", set_number(d.port, 1, 65535)},
      {"algorithm",
       [](std::string_view v) -> Result<void> {
         if (v == "lms")
           return fail("lms is not supported: vigil's witness decides by ffsplit (use ffsplit)");
         auto c = choice(v, {"ffsplit"});
         return c ? Result<void>{} : Result<void>(c.error());
       }},
      {"tie_breaker",
       [&d](std::string_view v) -> Result<void> {
         if (v == "lowest" || v == "highest") {
           d.tie_breaker = std::string(v);
           return {};
         }
         auto n = number(v, 1, kU32Max);
         if (!n) return fail("expected lowest, highest or a node id, got " + in_quotes(v));
         d.tie_breaker = std::string(v);
         d.tie_breaker_node = static_cast<std::uint32_t>(*n);
         return {};
       }},
  };
  keys.ignored.emplace("tls", "vigil's witness is reached with the authkey's sealing, not TLS");
  for (const char* k : {"connect_timeout", "force_ip_version", "keep_active_partition_tie_breaker"})
    keys.ignored.emplace(k, kNotUsed);
  Seen seen;
  if (auto r = read_entries(s, "quorum.device.net", keys, seen); !r) return r;
  if (d.host.empty())
    return error(pos_of(s), "quorum.device.net: expected host (the witness's address)");
  unexpected_sections(s, "quorum.device.net", {});
  return {};
}

Result<void> ConfigReader::read_resources(const Section& s) {
  Resources& r = config_.resources;
  std::uint64_t seconds = r.watchdog_timeout / 1000;
  Keys keys;
  keys.handlers = {
      {"watchdog_device",
       [&r](std::string_view v) -> Result<void> {
         r.watchdog_device = v == "off" ? "" : std::string(v);
         return {};
       }},
      {"watchdog_timeout", set_number(seconds, 1, 120)},
  };
  Seen seen;
  if (auto done = read_entries(s, "resources", keys, seen); !done) return done;
  r.watchdog_timeout = static_cast<Millis>(seconds) * 1000;
  if (seen.count("watchdog_device") != 0) r.line = seen["watchdog_device"].line;
  for (const Section& sub : s.sections) note(pos_of(sub), "resources." + sub.name + ": " + kNotUsed);
  return {};
}

Result<void> ConfigReader::read_http(const Section& s) {
  Http& h = config_.http;
  Keys keys;
  keys.handlers = {{"listen", set_string(h.listen)}, {"actions", set_bool(h.actions)}};
  Seen seen;
  if (auto done = read_entries(s, "http", keys, seen); !done) return done;
  unexpected_sections(s, "http", {});
  if (seen.count("listen") != 0) h.line = seen["listen"].line;
  if (h.actions && h.listen.empty()) {
    const Pos at = seen.count("actions") != 0 ? seen["actions"] : pos_of(s);
    return error(at, "http.actions: the actions are the status page's; give http.listen "
                     "ADDRESS:PORT too");
  }
  return {};
}

Result<void> ConfigReader::read_logging(const Section& s) {
  Logging& l = config_.logging;
  Keys keys;
  keys.handlers = {
      {"to_stderr", set_bool(l.to_stderr)},
      {"to_logfile", set_bool(l.to_logfile)},
      {"logfile", set_string(l.logfile)},
      {"to_syslog", set_bool(l.to_syslog)},
      {"syslog_facility", set_choice(l.syslog_facility, kFacilities)},
      {"syslog_priority", set_choice(l.syslog_priority, kPriorities)},
      {"logfile_priority", set_choice(l.logfile_priority, kPriorities)},
      {"debug", set_debug(l.debug)},
      {"timestamp",
       [&l](std::string_view v) -> Result<void> {
         auto c = choice(v, {"off", "on", "hires"});
         if (!c) return c.error();
         l.timestamp = *c == "on"      ? Timestamp::on
                       : *c == "hires" ? Timestamp::hires
                                       : Timestamp::off;
         return {};
       }},
      {"fileline", set_bool(l.fileline)},
      {"function_name", set_bool(l.function_name)},
      {"blackbox", set_bool(l.blackbox)},
      {"log_format", set_choice(l.log_format, {"text", "json"})},
  };
  if (auto r = read_entries(s, "logging", keys, logging_seen_); !r) return r;
  for (const Section& sub : s.sections) {
    if (sub.name == "logger_subsys") {
      if (auto r = read_logger_subsys(sub); !r) return r;
    } else if (sub.name == "logging_daemon") {
      note(pos_of(sub), "logging.logging_daemon: legacy section, accepted and ignored");
    }
  }
  unexpected_sections(s, "logging", {"logger_subsys", "logging_daemon"});
  return {};
}

// Values are kept raw here: a subsystem inherits every top-level setting it does not override,
// and the top level may come later in the file, so finish_logging() applies them.
Result<void> ConfigReader::read_logger_subsys(const Section& s) {
  LoggerSubsys sub;
  sub.line = s.line;
  Keys keys;
  keys.handlers = {
      {"subsys", set_string(sub.subsys)},     {"debug", set_debug(sub.debug)},
      {"to_stderr", set_bool(sub.to_stderr)}, {"to_logfile", set_bool(sub.to_logfile)},
      {"to_syslog", set_bool(sub.to_syslog)}, {"logfile", set_string(sub.logfile)},
  };
  keys.ignored = {{"tags", "legacy OpenAIS key, accepted and ignored"},
                  {"syslog_priority", kNotUsed},
                  {"logfile_priority", kNotUsed},
                  {"syslog_facility", kNotUsed}};
  Seen seen;
  if (auto r = read_entries(s, "logging.logger_subsys", keys, seen); !r) return r;
  unexpected_sections(s, "logging.logger_subsys", {});
  if (sub.subsys.empty())
    return error(pos_of(s), "logging.logger_subsys: expected a subsys key naming the subsystem");
  config_.logging.logger_subsys.push_back(std::move(sub));
  subsys_seen_.push_back(std::move(seen));
  subsys_pos_.push_back(pos_of(s));
  return {};
}

// ---- cross-key rules and derived defaults ---------------------------------------------------

Result<void> ConfigReader::finish_transport() {
  Totem& t = config_.totem;
  std::sort(t.interfaces.begin(), t.interfaces.end(),
            [](const Interface& a, const Interface& b) { return a.linknumber < b.linknumber; });
  const bool multicast_setup =
      std::any_of(t.interfaces.begin(), t.interfaces.end(),
                  [](const Interface& i) { return !i.mcastaddr.empty() || i.broadcast; });
  if (totem_seen_.count("transport") == 0 && config_.nodelist.empty() && multicast_setup) {
    // Corosync 2 defaulted to udp; a config written for it (mcastaddr, no nodelist) keeps working.
    t.transport = Transport::udp;
    note(interface_pos_[t.interfaces.front().linknumber],
         "totem.transport is not set and there is no nodelist: using udp (multicast), as Corosync "
         "2 did");
  }
  if (t.transport != Transport::knet && t.interfaces.size() > 1) {
    return error(interface_pos_[t.interfaces[1].linknumber],
                 "totem.interface: transport " + std::string(to_string(t.transport)) +
                     " supports one interface (link 0); only knet has several links");
  }
  if (t.transport != Transport::knet && !t.interfaces.empty() &&
      t.interfaces.front().linknumber != 0) {
    return error(
        interface_pos_[t.interfaces.front().linknumber],
        "totem.interface: transport " + std::string(to_string(t.transport)) + " uses link 0 only");
  }
  if (totem_seen_.count("netmtu") == 0 && t.transport != Transport::knet) t.netmtu = 1500;
  if (t.transport != Transport::udp && config_.nodelist.empty()) {
    const Pos at = totem_seen_.count("transport") != 0 ? totem_seen_["transport"] : totem_pos_;
    return error(at,
                 "nodelist: transport " + std::string(to_string(t.transport)) +
                     " needs a nodelist { node { ring0_addr: … nodeid: … } } listing every node");
  }
  if (t.transport == Transport::udp) {
    if (t.interfaces.empty()) {
      t.interfaces.push_back(Interface{});
      interface_pos_[0] = totem_pos_;
    }
    for (Interface& i : t.interfaces) {
      const Pos at = interface_pos_[i.linknumber];
      if (i.mcastaddr.empty() && !i.broadcast) {
        if (t.cluster_name.empty()) {
          return error(
              at, "totem.interface: transport udp needs mcastaddr (or cluster_name to derive one)");
        }
        i.mcastaddr = cluster_mcastaddr(t.cluster_name, i.linknumber);
        note(at, "totem.interface: mcastaddr derived from cluster_name: " + i.mcastaddr);
      }
      if (i.bindnetaddr.empty() && config_.nodelist.empty()) {
        return error(at,
                     "totem.interface: expected bindnetaddr (the network to bind to) when there is "
                     "no nodelist");
      }
    }
  } else {
    for (const Interface& i : t.interfaces) {
      if (!i.mcastaddr.empty())
        note(interface_pos_[i.linknumber],
             "totem.interface: mcastaddr is used only by transport udp");
    }
  }
  // Corosync: secauth implies aes256 + sha256; its udp and udpu transports have no crypto, so
  // their default is none. Explicit crypto_cipher / crypto_hash win.
  const bool secauth_default = t.transport == Transport::knet;
  const bool secauth = totem_seen_.count("secauth") != 0 ? t.secauth : secauth_default;
  if (totem_seen_.count("crypto_cipher") == 0) t.crypto_cipher = secauth ? "aes256" : "none";
  if (totem_seen_.count("crypto_hash") == 0) t.crypto_hash = secauth ? "sha256" : "none";
  if (t.crypto_cipher != "none" && t.crypto_hash == "none") {
    const Pos at = totem_seen_.count("crypto_cipher") != 0 ? totem_seen_["crypto_cipher"]
                                                           : totem_seen_["crypto_hash"];
    return error(
        at, "totem.crypto_cipher: " + t.crypto_cipher + " requires crypto_hash other than none");
  }
  t.secauth = t.crypto_cipher != "none" || t.crypto_hash != "none";
  return {};
}

Result<void> ConfigReader::finish_nodelist() {
  Totem& t = config_.totem;
  std::map<std::uint32_t, std::size_t> ids;
  std::map<std::string, std::size_t, std::less<>> names;
  std::array<std::map<std::string, std::size_t, std::less<>>, kMaxLinks> addrs;
  std::array<std::optional<std::pair<Family, std::size_t>>, kMaxLinks> family;
  for (std::size_t i = 0; i < config_.nodelist.size(); ++i) {
    Node& n = config_.nodelist[i];
    Seen& seen = node_seen_[i];
    const Pos node_pos = node_pos_[i];
    if (seen.count("nodeid") == 0) {
      if (t.transport == Transport::knet) {
        return error(node_pos,
                     "nodelist.node: expected nodeid (transport knet needs an explicit nodeid for "
                     "every node)");
      }
      auto derived = nodeid_from_ipv4(n.ring_addr[0], t.clear_node_high_bit);
      if (!derived)
        return error(seen["ring0_addr"], "nodelist.node.nodeid: " + derived.error().message);
      n.nodeid = *derived;
      n.nodeid_derived = true;
      note(node_pos, "nodelist.node: nodeid " + std::to_string(n.nodeid) +
                         " derived from ring0_addr " + n.ring_addr[0]);
    }
    const Pos id_pos = seen.count("nodeid") != 0 ? seen["nodeid"] : node_pos;
    if (auto [it, fresh] = ids.emplace(n.nodeid, i); !fresh) {
      return error(id_pos, "nodelist.node.nodeid: duplicate nodeid " + std::to_string(n.nodeid) +
                               " (also the node on line " +
                               std::to_string(config_.nodelist[it->second].line) + ")");
    }
    if (!n.name.empty()) {
      if (auto [it, fresh] = names.emplace(n.name, i); !fresh) {
        return error(seen["name"], "nodelist.node.name: duplicate name " + in_quotes(n.name) +
                                       " (also the node on line " +
                                       std::to_string(config_.nodelist[it->second].line) + ")");
      }
    }
    for (unsigned link = 0; link < kMaxLinks; ++link) {
      const std::string& a = n.ring_addr[link];
      if (a.empty()) continue;
      const std::string key = "ring" + std::to_string(link) + "_addr";
      if (auto [it, fresh] = addrs[link].emplace(a, i); !fresh) {
        return error(seen[key], "nodelist.node." + key + ": duplicate address " + in_quotes(a) +
                                    " (also the node on line " +
                                    std::to_string(config_.nodelist[it->second].line) + ")");
      }
      const Family f = classify_address(a).address->family;
      if (f == Family::hostname) continue;  // resolved later; its family is not known yet
      if (!family[link]) {
        family[link] = {f, i};
      } else if (family[link]->first != f) {
        return error(seen[key], "nodelist.node." + key + ": " + in_quotes(a) + " is " +
                                    std::string(to_string(f)) + " but link " +
                                    std::to_string(link) + " of the node on line " +
                                    std::to_string(config_.nodelist[family[link]->second].line) +
                                    " is " + std::string(to_string(family[link]->first)) +
                                    " (mixed address families)");
      }
    }
  }
  for (const Interface& i : t.interfaces) {
    if (i.bindnetaddr.empty() || !family[i.linknumber]) continue;
    const Family f = classify_address(i.bindnetaddr).address->family;
    if (f != family[i.linknumber]->first) {
      return error(interface_pos_[i.linknumber],
                   "totem.interface: bindnetaddr " + in_quotes(i.bindnetaddr) + " is " +
                       std::string(to_string(f)) + " but the nodelist's link " +
                       std::to_string(i.linknumber) + " addresses are " +
                       std::string(to_string(family[i.linknumber]->first)) +
                       " (mixed address families)");
    }
  }
  return {};
}

Result<void> ConfigReader::finish_timeouts() {
  Totem& t = config_.totem;
  // Corosync's runtime token: the nodelist's size stretches it, so larger rings are not declared
  // failed by a token that simply takes longer to go round.
  t.runtime_token = t.token;
  if (config_.nodelist.size() > 2) {
    t.runtime_token += static_cast<Millis>(config_.nodelist.size() - 2) * t.token_coefficient;
  }
  if (totem_seen_.count("token_retransmit") == 0) {
    t.token_retransmit = static_cast<Millis>(static_cast<double>(t.runtime_token) /
                                             (t.token_retransmits_before_loss_const + 0.2));
  }
  // Corosync subtracts one scheduler tick (10 ms at HZ=100) from 80% of the retransmit time.
  if (totem_seen_.count("hold") == 0)
    t.hold = static_cast<Millis>(static_cast<double>(t.token_retransmit) * 0.8 - 10);
  // Corosync computes it through a float; doing the same keeps odd token values identical.
  if (totem_seen_.count("consensus") == 0) {
    t.consensus =
        static_cast<Millis>(static_cast<float>(1.2 * static_cast<double>(t.runtime_token)));
  }
  const auto at = [this](const char* key) {
    return totem_seen_.count(key) != 0 ? totem_seen_[key] : totem_pos_;
  };
  if (t.token_retransmit < 1 || t.hold < 1) {
    return error(at("token"), "totem.token: " + std::to_string(t.runtime_token) +
                                  " ms is too small for token_retransmits_before_loss_const " +
                                  std::to_string(t.token_retransmits_before_loss_const) +
                                  " (the derived retransmit and hold times must be at least 1 ms)");
  }
  if (t.consensus < t.token) {
    return error(at("consensus"),
                 "totem.consensus: " + std::to_string(t.consensus) +
                     " ms is less than totem.token (" + std::to_string(t.token) +
                     " ms); consensus must be at least token (default 1.2 × token)");
  }
  if (t.consensus < t.join) {
    return error(at("consensus"), "totem.consensus: " + std::to_string(t.consensus) +
                                      " ms is less than totem.join (" + std::to_string(t.join) +
                                      " ms)");
  }
  return {};
}

Result<void> ConfigReader::finish_quorum() {
  Quorum& q = config_.quorum;
  q.expected_votes_written = quorum_seen_.count("expected_votes") != 0;
  if (!q.expected_votes_written) {
    unsigned votes = 0;
    for (const Node& n : config_.nodelist) votes += n.quorum_votes;
    q.expected_votes = votes + (q.device ? q.device->votes : 0);
  }
  if (q.device && q.provider.empty()) {
    return error({q.device->line, 1},
                 "quorum.device: needs quorum { provider: corosync_votequorum } to count its vote");
  }
  if (q.device && q.two_node) {
    return error(quorum_seen_["two_node"],
                 "quorum.two_node: cannot be used with quorum.device (line " +
                     std::to_string(q.device->line) +
                     "): the witness's vote breaks the tie; remove two_node");
  }
  if (quorum_seen_.count("wait_for_all") == 0) q.wait_for_all = q.two_node;
  if (!q.provider.empty() && q.expected_votes == 0) {
    return error(quorum_seen_["provider"],
                 "quorum.provider: corosync_votequorum needs quorum.expected_votes or a nodelist "
                 "to count votes from");
  }
  return {};
}

Result<void> ConfigReader::finish_logging() {
  Logging& l = config_.logging;
  if (l.to_logfile && l.logfile.empty()) {
    return error(logging_seen_["to_logfile"],
                 "logging.to_logfile: yes needs logging.logfile (the path to write)");
  }
  for (std::size_t i = 0; i < l.logger_subsys.size(); ++i) {
    LoggerSubsys& s = l.logger_subsys[i];
    const Seen& seen = subsys_seen_[i];
    if (seen.count("debug") == 0) s.debug = l.debug;
    if (seen.count("to_stderr") == 0) s.to_stderr = l.to_stderr;
    if (seen.count("to_logfile") == 0) s.to_logfile = l.to_logfile;
    if (seen.count("to_syslog") == 0) s.to_syslog = l.to_syslog;
    if (seen.count("logfile") == 0) s.logfile = l.logfile;
    if (s.to_logfile && s.logfile.empty()) {
      return error(subsys_pos_[i], "logging.logger_subsys: subsystem " + in_quotes(s.subsys) +
                                       " logs to a file but no logfile is set");
    }
  }
  return {};
}

Result<ClusterConfig> ConfigReader::read(const Section& root) {
  for (const Entry& e : root.entries) {
    if (e.key == "compatibility") {
      note({e.line, e.key_column}, "compatibility: legacy Corosync 1 key, accepted and ignored");
    } else {
      warn({e.line, e.key_column}, "unknown top-level key '" + e.key + "' (ignored)");
    }
  }
  for (const Section& s : root.sections) {
    if (auto [it, fresh] = sections_seen_.emplace(s.name, s.line); !fresh) {
      warn(pos_of(s), "section '" + s.name + "' appears again (first on line " +
                          std::to_string(it->second) + "); its keys are merged");
    }
    Result<void> r;
    if (s.name == "totem") {
      r = read_totem(s);
    } else if (s.name == "nodelist") {
      r = read_nodelist(s);
    } else if (s.name == "quorum") {
      r = read_quorum(s);
    } else if (s.name == "logging") {
      r = read_logging(s);
    } else if (s.name == "amf" || s.name == "aisexec" || s.name == "service") {
      note(pos_of(s),
           "section '" + s.name + "' is a legacy OpenAIS/Corosync 1 section; accepted and ignored");
    } else if (s.name == "resources") {
      r = read_resources(s);
    } else if (s.name == "http") {
      r = read_http(s);
    } else if (s.name == "system" || s.name == "nozzle" ||
               s.name == "uidgid" || s.name == "qb") {
      note(pos_of(s), "section '" + s.name + "': " + kNotUsed);
    } else {
      warn(pos_of(s), "unknown section '" + s.name + "' (ignored)");
    }
    if (!r) return r.error();
  }
  for (auto step : {&ConfigReader::finish_transport, &ConfigReader::finish_nodelist,
                    &ConfigReader::finish_timeouts, &ConfigReader::finish_quorum,
                    &ConfigReader::finish_logging}) {
    if (auto r = (this->*step)(); !r) return r.error();
  }
  std::stable_sort(config_.notes.begin(), config_.notes.end(),
                   [](const Note& a, const Note& b) { return a.line < b.line; });
  return std::move(config_);
}

}  // namespace

Result<ClusterConfig> parse_config(std::string_view text, std::string_view origin) {
  auto tree = parse_syntax(text, origin);
  if (!tree) return tree.error();
  return ConfigReader(origin).read(*tree);
}

std::string format_note(const ClusterConfig& config, const Note& note) {
  return config.origin + ":" + std::to_string(note.line) + ":" + std::to_string(note.column) +
         ": " + (note.severity == Note::Severity::warning ? "warning: " : "note: ") + note.message;
}

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::knet:
      return "knet";
    case Transport::udp:
      return "udp";
    case Transport::udpu:
      return "udpu";
  }
  return "?";
}

std::string_view to_string(DebugLevel d) {
  switch (d) {
    case DebugLevel::off:
      return "off";
    case DebugLevel::on:
      return "on";
    case DebugLevel::trace:
      return "trace";
  }
  return "?";
}

std::string_view to_string(Timestamp t) {
  switch (t) {
    case Timestamp::off:
      return "off";
    case Timestamp::on:
      return "on";
    case Timestamp::hires:
      return "hires";
  }
  return "?";
}

}  // namespace vigil::config
