// page: what the status page (vigild --http, GET /) may do to the cluster once vigild is started
// with --http-actions: put a node in standby or online, clean up a resource, move it to a node or
// clear its move. Read-only otherwise. This module decides, purely, on one POST /actions:
//   - who asks: HTTP Basic (RFC 7617), as Hawk asks for a login (by default `hacluster`); each
//     user's password is derived from the cluster's authkey and the user name, so whoever can
//     read the authkey (root on a node) hands it out: `vigil page-password [USER]` prints it;
//   - that the page asked: the request carries the X-Vigil-Action header, which a form or a
//     script on another site cannot send without this listener's consent (it gives none: a CORS
//     preflight gets 405), and an Origin, when sent, is this page's;
//   - what is asked: a JSON body {"action": "standby"|"online"|"cleanup"|"move"|"clear",
//     "node": …, "resource": …};
//   - the change: the same as `vigil node standby|online` and `vigil resource cleanup|move|clear`
//     (cib/edit.h), signed with the user on the CIB's root (update-user), so the history says who.
// The daemon (http_service.cpp) passes the request, the authkey and the agreed CIB in, commits
// the op through the ring and journals what was done.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"
#include "common/common.h"
#include "metrics/metrics.h"

namespace vigil::page {

inline constexpr std::string_view kDefaultUser = "hacluster";  // Hawk's login
inline constexpr std::string_view kClient = "status page";     // the CIB's update-client
inline constexpr std::size_t kMaxUser = 64;

// The password of `user` under `authkey` (32 hex digits: BLAKE2b of the authkey, then keyed
// BLAKE2b of the user name). Refuses an authkey shorter than 32 bytes and a user name that is
// empty, longer than kMaxUser, or holds ':' or control bytes (RFC 7617 forbids them).
Result<std::string> password(std::span<const std::uint8_t> authkey, std::string_view user);

struct Action {
  enum class Verb { standby, online, cleanup, move, clear } verb = Verb::standby;
  std::string node, resource;  // cleanup: `node` may be empty (every node)
  bool operator==(const Action&) const = default;
};
// The body of POST /actions; the error names the field.
Result<Action> parse_action(std::string_view body);
// In words, as the history and the answer say it: "standby node1", "move vip to node2".
std::string describe(const Action& action);
// The CIB changes `action` makes (cib/edit.h's, as the CLI's); the error names the unknown
// node or resource. Empty when there is nothing to change (a clear without constraints).
Result<std::vector<cib::CibChange>> changes(const cib::Cib& cib, const Action& action);

// What vigild answers to POST /actions, and commits when status is 200.
struct Decision {
  int status = 0;
  std::string message;         // the answer's text: why it is refused, or what is done
  bool challenge = false;      // a 401 that asks for credentials (WWW-Authenticate)
  bool bad_credentials = false;  // credentials were given, and wrong: an authentication failure
  std::string user;            // who asked, once authenticated
  std::optional<Action> action;
  cib::CibOp op;  // the changes, signed by `user` via kClient on `node_name`; may be empty
};
// `authkey` null: actions are off (403). `cib` null: this node does not hold the agreed CIB yet
// (503). `node_name` is this node's, for update-origin.
Decision decide(const metrics::HttpRequest& request, const std::vector<std::uint8_t>* authkey,
                const cib::Cib* cib, const std::string& node_name);

}  // namespace vigil::page
