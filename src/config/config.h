// config: the cluster configuration. Reads corosync.conf syntax (nested `name { key: value }`
// sections, `#` comments, UTF-8) into a typed ClusterConfig with Corosync 3's defaults filled in,
// so a user's existing corosync.conf works unchanged. Also owns the authkey: its location, the
// checks Corosync applies to it, and generating one (as corosync-keygen does).
//
// Parsing is all-or-nothing: any error gives an Error naming origin:line:column and what was
// expected, and no model. Things that are accepted but worth telling the user (legacy sections,
// unknown keys, inferred settings) come back as notes on the model.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/common.h"

namespace vigil::config {

// Corosync 3 allows up to 8 links (ring0_addr … ring7_addr, interface linknumber 0–7).
inline constexpr unsigned kMaxLinks = 8;

enum class Transport { knet, udp, udpu };
enum class DebugLevel { off, on, trace };
enum class Timestamp { off, on, hires };

struct Note {
  enum class Severity { note, warning };
  Severity severity = Severity::note;
  int line = 0;  // 1-based; the place the note is about
  int column = 0;
  std::string message;
};

// totem { interface { … } }: one per link.
struct Interface {
  unsigned linknumber = 0;  // `linknumber`, or the legacy `ringnumber`
  std::string bindnetaddr;  // empty when absent (then taken from the nodelist)
  std::string mcastaddr;    // udp: derived from cluster_name when absent, as Corosync does
  bool broadcast = false;
  std::uint16_t mcastport =
      5405;  // default 5405 + linknumber (5405 + 2 × linknumber with broadcast)
  unsigned ttl = 1;
  int line = 0;  // where the section starts
};

struct Totem {
  unsigned version = 2;
  std::string cluster_name;
  std::uint64_t config_version = 0;
  Millis token = 3000;  // as written, or the default
  Millis token_coefficient = 650;
  // What the protocol uses: token + (nodes − 2) × token_coefficient when the nodelist has ≥ 3
  // nodes, else token (Corosync's runtime.config.totem.token).
  Millis runtime_token = 3000;
  unsigned token_warning = 75;  // percent of the token timeout
  unsigned token_retransmits_before_loss_const = 4;
  Millis token_retransmit = 714;  // runtime_token / (token_retransmits_before_loss_const + 0.2)
  Millis hold = 561;              // token_retransmit × 0.8 − 10
  Millis join = 50;
  Millis send_join = 0;
  Millis consensus = 3600;  // 1.2 × runtime_token
  Millis merge = 200;
  Millis downcheck = 1000;
  unsigned fail_recv_const = 2500;
  unsigned seqno_unchanged_const = 30;
  unsigned max_messages = 17;
  unsigned window_size = 50;
  unsigned miss_count_const = 5;
  Millis max_network_delay = 50;
  unsigned heartbeat_failures_allowed = 0;
  unsigned netmtu = 65536;  // 1500 for udp/udpu
  bool secauth = true;
  std::string crypto_cipher = "aes256";  // none when secauth is off, unless set
  std::string crypto_hash = "sha256";
  std::string keyfile;  // empty when absent: see authkey_path()
  Transport transport = Transport::knet;
  bool clear_node_high_bit = false;
  std::vector<Interface> interfaces;  // sorted by linknumber
};

struct Node {
  std::uint32_t nodeid = 0;
  bool nodeid_derived = false;  // not written: derived from ring0_addr (IPv4), see nodeid_from_ipv4
  std::string name;
  std::array<std::string, kMaxLinks> ring_addr;  // ring_addr[0] is ring0_addr; empty when absent
  unsigned quorum_votes = 1;
  int line = 0;
};

// quorum { device { model: net; votes; timeout; net { host; port; algorithm; tie_breaker } } }:
// the witness (`vigil witness`, as corosync-qnetd) that gives this cluster one more vote.
// corosync-qdevice(8)'s names and defaults; the algorithm is ffsplit, so votes is 1.
struct QuorumDevice {
  std::string host;
  std::uint16_t port = 5403;
  unsigned votes = 1;
  Millis timeout = 10000;
  std::string tie_breaker = "lowest";  // "lowest", "highest", or a node id's digits
  std::uint32_t tie_breaker_node = 0;  // when tie_breaker names a node
  int line = 0;                        // of the device section, for messages
};

struct Quorum {
  std::optional<QuorumDevice> device;
  std::string provider;  // "corosync_votequorum", or empty: no quorum service
  // Written, or the sum of the nodelist's votes; 0 when neither exists.
  unsigned expected_votes = 0;
  // Written in quorum {}: it overrides the nodelist's sum, also after a nodelist change.
  bool expected_votes_written = false;
  bool two_node = false;
  bool wait_for_all = false;  // defaults to two_node
  bool last_man_standing = false;
  Millis last_man_standing_window = 10000;
  bool auto_tie_breaker = false;
};

// resources { }: Corosync's watchdog keys. vigil feeds the watchdog only while this node holds its
// lease (node/lease.h) and counts a lost node as fenced once its lease has provably run out.
struct Resources {
  // "/dev/watchdog", or "unix:PATH" (daemon/watchdog.h parses it); empty: no watchdog (unset,
  // empty or "off", as Corosync reads it).
  std::string watchdog_device;
  // Written in seconds; Corosync's default 6 and maximum 120. Corosync's minimum is 2; vigil takes
  // 1 too, the fast timeline's setting.
  Millis watchdog_timeout = 6000;
  int line = 0;  // of watchdog_device, for messages
};

// http { }: vigil's own section, the config-file form of `vigild --http` and `--http-actions`
// (a flag given on the command line wins). The listen address is checked where vigild opens it,
// with this file's name and line in the message.
struct Http {
  std::string listen;    // ADDRESS:PORT for /metrics and the status page; empty: no listener
  bool actions = false;  // the status page may act after a login (daemon --http-actions)
  int line = 0;          // of listen, for messages
};

struct LoggerSubsys {
  std::string subsys;
  // Each defaults to the top-level logging setting.
  DebugLevel debug = DebugLevel::off;
  bool to_stderr = true;
  bool to_logfile = false;
  bool to_syslog = true;
  std::string logfile;
  int line = 0;
};

struct Logging {
  bool to_stderr = true;
  bool to_logfile = false;
  std::string logfile;
  bool to_syslog = true;
  std::string syslog_facility = "daemon";
  std::string syslog_priority = "info";
  std::string logfile_priority = "info";
  DebugLevel debug = DebugLevel::off;
  Timestamp timestamp = Timestamp::hires;
  bool fileline = false;
  bool function_name = false;
  bool blackbox = true;
  std::string log_format = "text";  // vigil's: "json" writes one JSON object a line
  std::vector<LoggerSubsys> logger_subsys;
};

struct ClusterConfig {
  std::string origin;  // file name (or what the caller called the text), used in every message
  Totem totem;
  std::vector<Node> nodelist;  // in file order
  Quorum quorum;
  Resources resources;
  Logging logging;
  Http http;
  std::vector<Note> notes;  // in line order
};

// Parses corosync.conf text. `origin` names the text in messages ("corosync.conf:12:8: …").
Result<ClusterConfig> parse_config(std::string_view text, std::string_view origin);
// Reads and parses a file; a missing or unreadable file is an error naming the path.
Result<ClusterConfig> load_config(const std::string& path);

// load_config(default_config_path(etc)); when neither default file exists, an error naming both.
Result<ClusterConfig> load_default_config(const std::string& etc = "/etc");

// corosync.conf's text with a node { } appended to its nodelist, or the node with `nodeid` taken
// out of it; everything else (comments, order, other sections) stays as written, and the result
// parses (else the error names what broke). The node's keys: ringN_addr, name, nodeid and
// quorum_votes when not 1. An error for a text without a nodelist or without that node.
Result<std::string> with_node_added(std::string_view text, std::string_view origin,
                                    const Node& node);
Result<std::string> with_node_removed(std::string_view text, std::string_view origin,
                                      std::uint32_t nodeid);

// "origin:line:col: severity: message", as the CLI prints it.
std::string format_note(const ClusterConfig& config, const Note& note);

// The first of `candidates` that exists, else the first candidate.
std::string first_existing(const std::vector<std::string>& candidates);
// <etc>/vigil/cluster.conf, else <etc>/corosync/corosync.conf (DESIGN.md, "Files and paths");
// the first when neither exists.
std::string default_config_path(const std::string& etc = "/etc");
// totem.keyfile when set; else `authkey` beside the configuration file (config.origin), as
// Corosync keeps /etc/corosync/authkey beside /etc/corosync/corosync.conf.
std::string authkey_path(const ClusterConfig& config);
// The key that belongs to the configuration file `config_path` when it names no keyfile.
std::string authkey_beside(const std::string& config_path);
// Whether the transport needs the key at all: crypto_cipher or crypto_hash other than none.
bool authkey_required(const ClusterConfig& config);

// Corosync's key size limits (bytes) and corosync-keygen's default size.
inline constexpr std::size_t kAuthkeyMinBytes = 128;
inline constexpr std::size_t kAuthkeyMaxBytes = 4096;
inline constexpr std::size_t kAuthkeyBytes = 256;

// The key file exists, is a regular file of kAuthkeyMinBytes..kAuthkeyMaxBytes bytes and has no
// permission bits for group or other. Returns its size.
Result<std::size_t> check_authkey(const std::string& path);
// Writes kAuthkeyBytes random bytes (libsodium) to `path`, created with mode 0400 so it is never
// readable by anyone else. Refuses an existing file unless `force` (then replaced atomically).
// Creates the parent directory (0755) when only that is missing.
Result<void> write_authkey(const std::string& path, bool force);

// The node id Corosync derives when a node has no nodeid: the IPv4 address as a big-endian
// 32-bit number, with the top bit cleared when clear_node_high_bit is yes. IPv6 addresses and
// host names give no node id (an error); so does an address that maps to node id 0.
Result<std::uint32_t> nodeid_from_ipv4(std::string_view address, bool clear_node_high_bit);

// Corosync's multicast address for udp when mcastaddr is absent: 239.192.x.y from a hash of the
// cluster name plus the link number.
std::string cluster_mcastaddr(std::string_view cluster_name, unsigned linknumber);

std::string_view to_string(Transport t);
std::string_view to_string(DebugLevel d);
std::string_view to_string(Timestamp t);

}  // namespace vigil::config
