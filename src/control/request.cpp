#include "control/request.h"

#include <array>

#include "cib/op_json.h"
#include "control/group_events.h"
#include "scheduler/scheduler.h"

namespace vigil::control {

namespace {

// The string field `key` of a `command` request; `required` says whether it may be absent.
Result<std::string> string_field(const Json& body, std::string_view command, const char* key,
                                 bool required) {
  const auto it = body.find(key);
  if (it == body.end()) {
    if (required) return fail(std::string(command) + ": \"" + key + "\" is missing (a string)");
    return std::string();
  }
  if (!it->is_string())
    return fail(std::string(command) + ": \"" + key + "\" must be a string, not " +
                it->type_name());
  return it->get<std::string>();
}

// Bytes: raw in a version-2 frame (frame.h), hex digits in a version-1 frame.
Result<std::vector<std::uint8_t>> bytes_field(const Json& body, std::string_view command,
                                              const char* key) {
  if (const auto raw = body.find(key); raw != body.end() && raw->is_binary())
    return static_cast<const std::vector<std::uint8_t>&>(raw->get_binary());
  auto hex = string_field(body, command, key, true);
  if (!hex) return hex.error();
  const auto bad = [&](const std::string& why) {
    return fail(std::string(command) + ": \"" + key + "\" must be hex digits: " + why);
  };
  if (hex->size() % 2 != 0) return bad("an odd number of them");
  std::vector<std::uint8_t> out;
  out.reserve(hex->size() / 2);
  for (std::size_t i = 0; i < hex->size(); i += 2) {
    int byte = 0;
    for (std::size_t j = i; j < i + 2; ++j) {
      const char c = (*hex)[j];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return bad("character " + std::to_string(j) + " is not one");
      byte = byte * 16 + d;
    }
    out.push_back(static_cast<std::uint8_t>(byte));
  }
  return out;
}

Result<Request> commit_request(const Json& body) {
  if (body.contains("encoded")) {
    auto bytes = bytes_field(body, "cib_commit", "encoded");
    if (!bytes) return bytes.error();
    auto op =
        cib::decode(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (!op) return fail("cib_commit: \"encoded\": " + op.error().message);
    return Request{CibCommit{std::move(*op)}};
  }
  if (!body.contains("op"))
    return fail("cib_commit: \"op\" (an object) or \"encoded\" (hex) is missing");
  auto op = cib::op_from_json(body["op"]);
  if (!op) return fail("cib_commit: \"op\": " + op.error().message);
  return Request{CibCommit{std::move(*op)}};
}

template <class Named>
Result<Request> named(const Json& body, std::string_view command, const char* key,
                      bool non_empty = false) {
  auto value = string_field(body, command, key, true);
  if (!value) return value.error();
  if (non_empty && value->empty()) return fail(std::string(command) + ": \"" + key + "\" is empty");
  return Request{Named{std::move(*value)}};
}

template <class Plain>
Result<Request> no_fields(const Json&, std::string_view) {
  return Request{Plain{}};
}

Result<Request> send_request(const Json& body, std::string_view command) {
  auto group = string_field(body, command, "group", true);
  if (!group) return group.error();
  auto data = bytes_field(body, command, "data");
  if (!data) return data.error();
  return Request{CpgSend{std::move(*group), std::move(*data)}};
}

Result<Request> read_request(const Json& body, std::string_view command) {
  CpgRead read;
  if (const auto wait = body.find("wait"); wait != body.end()) {
    if (!wait->is_number_integer() || wait->get<std::int64_t>() < 0 ||
        wait->get<std::int64_t>() > kMaxReadWait)
      return fail(std::string(command) + ": \"wait\" must be a number of milliseconds from 0 to " +
                  std::to_string(kMaxReadWait));
    read.wait = wait->get<std::int64_t>();
  }
  return Request{read};
}

Result<Request> query_request(const Json& body, std::string_view command) {
  auto xpath = string_field(body, command, "xpath", false);
  if (!xpath) return xpath.error();
  return Request{CibQuery{std::move(*xpath)}};
}

Result<Request> add_request(const Json& body, std::string_view command) {
  NodelistAdd add;
  const auto bad = [&](const std::string& why) { return fail(std::string(command) + ": " + why); };
  if (const auto id = body.find("nodeid"); id != body.end()) {
    // Above 2^63 an unsigned number reads as negative here, and is refused with the rest.
    if (!id->is_number_integer() || id->get<std::int64_t>() < 1 ||
        id->get<std::int64_t>() > 0xffffffffLL)
      return bad("\"nodeid\" must be a number from 1 to 4294967295");
    add.nodeid = static_cast<std::uint32_t>(id->get<std::int64_t>());
  }
  auto name = string_field(body, command, "name", false);
  if (!name) return name.error();
  add.name = std::move(*name);
  const auto addresses = body.find("addresses");
  if (addresses == body.end() || !addresses->is_array() || addresses->empty() ||
      addresses->size() > 8)
    return bad("\"addresses\" must be an array of 1 to 8 strings (ring0_addr, ring1_addr …)");
  for (const auto& a : *addresses) {
    if (!a.is_string() || a.get_ref<const std::string&>().empty())
      return bad("\"addresses\" must hold non-empty strings");
    add.addresses.push_back(a.get<std::string>());
  }
  return Request{std::move(add)};
}

Result<Request> history_request(const Json& body, std::string_view command) {
  HistoryQuery query;
  if (const auto since = body.find("since"); since != body.end()) {
    if (!since->is_number_integer() || since->get<std::int64_t>() < 0)
      return fail(std::string(command) +
                  ": \"since\" must be a number of milliseconds since the epoch");
    query.since_ms = since->get<std::int64_t>();
  }
  auto resource = string_field(body, command, "resource", false);
  if (!resource) return resource.error();
  auto node = string_field(body, command, "node", false);
  if (!node) return node.error();
  query.resource = std::move(*resource);
  query.node = std::move(*node);
  return Request{std::move(query)};
}

Result<Request> token_request(const Json& body, std::string_view command) {
  JoinTokenRequest token;
  if (const auto ttl = body.find("ttl"); ttl != body.end()) {
    if (!ttl->is_number_integer() || ttl->get<std::int64_t>() < 1 ||
        ttl->get<std::int64_t>() > 86400)
      return fail(std::string(command) + ": \"ttl\" must be a number of seconds from 1 to 86400");
    token.ttl = static_cast<std::uint32_t>(ttl->get<std::int64_t>());
  }
  return Request{token};
}

struct Command {
  std::string_view name;
  Result<Request> (*decode)(const Json& body, std::string_view command);
};

// In the order of Request's alternatives: command_of() reads the name by the variant's index.
constexpr std::array<Command, std::variant_size_v<Request>> kCommands = {{
    {"ping", no_fields<Ping>},
    {"status", no_fields<StatusQuery>},
    {"shutdown", no_fields<Shutdown>},
    {"cpg_join", [](const Json& b, std::string_view c) { return named<CpgJoin>(b, c, "group"); }},
    {"cpg_leave", [](const Json& b, std::string_view c) { return named<CpgLeave>(b, c, "group"); }},
    {"cpg_send", send_request},
    {"cpg_read", read_request},
    {"cib_query", query_request},
    {"cib_commit", [](const Json& b, std::string_view) { return commit_request(b); }},
    {"controller_fence",
     [](const Json& b, std::string_view c) { return named<ControllerFence>(b, c, "node", true); }},
    {"nodelist_add", add_request},
    {"nodelist_remove",
     [](const Json& b, std::string_view c) { return named<NodelistRemove>(b, c, "node", true); }},
    {"history_query", history_request},
    {"join_token", token_request},
}};

}  // namespace

std::string_view command_of(const Request& request) {
  return kCommands[request.index()].name;
}

Result<Request> decode_request(const Json& body) {
  if (!body.is_object()) return fail("a request must be a JSON object");
  const auto it = body.find("command");
  if (it == body.end()) return fail("\"command\" is missing (a string)");
  if (!it->is_string())
    return fail(std::string("\"command\" must be a string, not ") + it->type_name());
  const auto& command = it->get_ref<const std::string&>();
  for (const auto& c : kCommands) {
    if (c.name == command) return c.decode(body, c.name);
  }
  return fail("unknown command '" + command + "'");
}

Result<Json> cib_query_answer(const cib::Cib& cib, const std::string& digest, bool synced,
                              const CibQuery& query) {
  Json out{{"ok", true}, {"version", cib.version().str()}, {"digest", digest}, {"synced", synced}};
  if (query.xpath.empty()) {
    out["xml"] = cib.to_xml();
    return out;
  }
  auto nodes = cib::select(cib, query.xpath);
  if (!nodes) return fail("cib_query: " + nodes.error().message);
  Json elements = Json::array();
  for (const auto& n : *nodes) elements.push_back(cib::element_xml(n));
  out["elements"] = std::move(elements);
  return out;
}

Json cib_commit_answer(const cib::Cib& applied) {
  return Json{{"ok", true},
              {"version", applied.version().str()},
              {"digest", applied.content_digest()},
              {"xml", applied.to_xml()}};
}

cib::Cib with_reported_membership(const cib::Cib& cib, const Json& status) {
  if (!status.is_object()) return cib;
  std::vector<scheduler::NodeFact> facts;
  const auto nodes = status.find("nodes");
  if (nodes != status.end() && nodes->is_array()) {
    for (const auto& d : *nodes) {
      if (!d.is_object() || !d.contains("id") || !d["id"].is_number_unsigned()) continue;
      const std::string id = std::to_string(d["id"].get<std::uint64_t>());
      const auto name = d.find("name");
      const auto online = d.find("online");
      facts.push_back({id, name != d.end() && name->is_string() ? name->get<std::string>() : id,
                       online != d.end() && online->is_boolean() && online->get<bool>()});
    }
  }
  std::optional<bool> quorate;
  const auto quorum = status.find("quorum");
  if (quorum != status.end() && quorum->is_object()) {
    const auto q = quorum->find("quorate");
    quorate = q != quorum->end() && q->is_boolean() && q->get<bool>();
  }
  return scheduler::with_membership(cib, facts, quorate);
}

}  // namespace vigil::control
