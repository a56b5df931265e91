// request: the control socket's requests as typed values, and the shapes of the CIB's answers.
// decode_request() is the one place a request's JSON is read: a missing field or one of the wrong
// type is an error naming the field and what was expected, so no handler in vigild ever reads raw
// JSON (where a number in place of a string threw and ended the daemon).
//
//   ping | status | shutdown                                  no fields
//   cpg_read {wait?}                                           wait: milliseconds, 0..kMaxReadWait
//                                                              (group_events.h; absent: 0, answer
//                                                              at once)
//   cpg_join {group} | cpg_leave {group}                       group: a string
//   cpg_send {group, data}                                     data: bytes (frame.h: raw in a
//                                                              version-2 frame, else hex digits)
//   cib_query {xpath?}                                         xpath: a string
//   cib_commit {op: op_json.h's form} or {encoded: CibOp bytes} (op.h's wire encoding)
//   controller_fence {node}                                    node: a non-empty string
//   nodelist_add {nodeid?, name?, addresses}                   nodeid: 1..2^32-1 (absent: the
//                                                              next free), addresses: 1..8 strings
//   nodelist_remove {node}                                     node: its name, node id or ring0_addr
//   history_query {since?, resource?, node?}                   since: milliseconds since the
//                                                              epoch (≥ 0), the others strings
//   join_token {ttl?}                                          ttl: seconds, 1..86400 (absent:
//                                                              kJoinTokenTtl)
// Fields a request does not use are ignored, so an older vigild still answers a newer CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"
#include "control/control.h"

namespace vigil::control {

struct Ping {};
struct StatusQuery {};
struct Shutdown {};
struct CpgJoin {
  std::string group;
};
struct CpgLeave {
  std::string group;
};
struct CpgSend {
  std::string group;
  std::vector<std::uint8_t> data;
};
// Answered with the connection's queued events; when it has none, at the first one delivered or
// after `wait` ms (an empty answer), whichever comes first.
struct CpgRead {
  Millis wait = 0;
};
struct CibQuery {
  std::string xpath;  // empty: the whole document
};
struct CibCommit {
  cib::CibOp op;
};
struct ControllerFence {
  std::string node;
};
// A change to the nodelist, ordered through the ring (node/nodelist.h).
struct NodelistAdd {
  std::uint32_t nodeid = 0;  // 0: the next free one
  std::string name;
  std::vector<std::string> addresses;  // ring0_addr, ring1_addr …
};
struct NodelistRemove {
  std::string node;
};
// The journal's events that match (history/history.h's Filter).
struct HistoryQuery {
  std::int64_t since_ms = 0;
  std::string resource, node;
};
// A new one-time join token (daemon/join_service.h), valid for `ttl` seconds.
inline constexpr std::uint32_t kJoinTokenTtl = 3600;
struct JoinTokenRequest {
  std::uint32_t ttl = kJoinTokenTtl;
};
using Request = std::variant<Ping, StatusQuery, Shutdown, CpgJoin, CpgLeave, CpgSend, CpgRead,
                             CibQuery, CibCommit, ControllerFence, NodelistAdd, NodelistRemove,
                             HistoryQuery, JoinTokenRequest>;

Result<Request> decode_request(const Json& body);
// The request's "command" word ("cib_query").
std::string_view command_of(const Request& request);

// What vigild answers to a cib_query on `cib`: {xml, version, digest, synced}, or with an xpath
// {elements: [xml…], version, digest, synced}; an error for an xpath that is not valid.
// `digest` is the document's content digest (the replica keeps it).
Result<Json> cib_query_answer(const cib::Cib& cib, const std::string& digest, bool synced,
                              const CibQuery& query);
// What it answers to a cib_commit once the change is applied: {version, digest, xml}.
Json cib_commit_answer(const cib::Cib& applied);

// `cib` with the membership a status answer reports ({nodes: [{id, name, online}], quorum:
// {quorate}}) applied, as every status view shows it: vigild's view is newer than what the DC last
// wrote. Fields of the wrong type are skipped, so an odd answer shows less, never throws.
cib::Cib with_reported_membership(const cib::Cib& cib, const Json& status);

}  // namespace vigil::control
