#include "page/page.h"

#include <sodium.h>

#include <array>
#include <nlohmann/json.hpp>

#include "cib/edit.h"

namespace vigil::page {

namespace {

using Json = nlohmann::json;
using Verb = Action::Verb;

constexpr std::size_t kMaxName = 256;  // a node name or resource id in a request
// What a page password is derived for, so no other key drawn from the authkey equals it.
constexpr std::string_view kPurpose = "vigil status page password";

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

Result<void> valid_user(std::string_view user) {
  if (user.empty()) return fail("the user name is empty");
  if (user.size() > kMaxUser)
    return fail("the user name is longer than " + std::to_string(kMaxUser) + " bytes");
  for (char c : user) {
    if (c == ':' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return fail("the user name holds ':' or a control byte");
  }
  return {};
}

struct Verbs {
  Verb verb;
  std::string_view name;
};
constexpr std::array<Verbs, 5> kVerbs{{{Verb::standby, "standby"},
                                       {Verb::online, "online"},
                                       {Verb::cleanup, "cleanup"},
                                       {Verb::move, "move"},
                                       {Verb::clear, "clear"}}};

std::string_view verb_name(Verb verb) {
  for (const auto& v : kVerbs) {
    if (v.verb == verb) return v.name;
  }
  VIGIL_ASSERT(false);
  return {};
}

// A string field of the request body: "" when absent and not `required`.
Result<std::string> field(const Json& body, const char* name, bool required) {
  if (!body.contains(name)) {
    if (required) return fail(std::string("\"") + name + "\" is missing");
    return std::string();
  }
  const auto& v = body[name];
  if (!v.is_string()) return fail(std::string("\"") + name + "\" is not a string");
  const auto& text = v.get_ref<const std::string&>();
  if (text.empty() || text.size() > kMaxName)
    return fail(std::string("\"") + name + "\" is empty or longer than " +
                std::to_string(kMaxName) + " bytes");
  return text;
}

// The user and password of an Authorization: Basic header, or nothing when it is not one.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i])
      return std::nullopt;
  }
  const std::string encoded = header.substr(kScheme.size());
  std::string decoded(encoded.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        encoded.data(), encoded.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  decoded.resize(length);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

Decision refuse(int status, std::string message) {
  Decision d;
  d.status = status;
  d.message = std::move(message);
  return d;
}

Decision ask_to_log_in(std::string message, bool bad_credentials) {
  Decision d = refuse(401, std::move(message));
  d.challenge = true;
  d.bad_credentials = bad_credentials;
  return d;
}

}  // namespace

Result<std::string> password(std::span<const std::uint8_t> authkey, std::string_view user) {
  VIGIL_ASSERT(sodium_ready());
  if (authkey.size() < 32)
    return fail("authkey of " + std::to_string(authkey.size()) +
                " bytes: at least 32 are needed (corosync-keygen writes 256)");
  if (auto ok = valid_user(user); !ok) return ok.error();
  std::array<unsigned char, crypto_generichash_KEYBYTES> master{};
  crypto_generichash(master.data(), master.size(), authkey.data(), authkey.size(), nullptr, 0);
  crypto_generichash_state state;
  crypto_generichash_init(&state, master.data(), master.size(), 16);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kPurpose.data()),
                            kPurpose.size() + 1);  // with its NUL: purpose and user stay apart
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(user.data()),
                            user.size());
  std::array<unsigned char, 16> digest{};
  crypto_generichash_final(&state, digest.data(), digest.size());
  sodium_memzero(master.data(), master.size());
  std::array<char, 33> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data(), 32);
}

Result<Action> parse_action(std::string_view body) {
  const Json json = Json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return fail("the request body is not a JSON object");
  auto name = field(json, "action", true);
  if (!name) return name.error();
  Action a;
  bool known = false;
  for (const auto& v : kVerbs) {
    if (v.name == *name) {
      a.verb = v.verb;
      known = true;
    }
  }
  if (!known)
    return fail("\"action\": '" + *name + "' is not one of standby, online, cleanup, move, clear");
  const bool on_node = a.verb == Verb::standby || a.verb == Verb::online;
  const bool on_resource = !on_node;
  auto node = field(json, "node", on_node || a.verb == Verb::move);
  if (!node) return node.error();
  auto resource = field(json, "resource", on_resource);
  if (!resource) return resource.error();
  if (on_node && !resource->empty())
    return fail("\"resource\": " + std::string(verb_name(a.verb)) + " takes a node only");
  if (a.verb == Verb::clear && !node->empty()) return fail("\"node\": clear takes a resource only");
  a.node = std::move(*node);
  a.resource = std::move(*resource);
  return a;
}

std::string describe(const Action& a) {
  std::string out(verb_name(a.verb));
  switch (a.verb) {
    case Verb::standby:
    case Verb::online:
      return out + " " + a.node;
    case Verb::cleanup:
      return out + " " + a.resource + (a.node.empty() ? "" : " on " + a.node);
    case Verb::move:
      return out + " " + a.resource + " to " + a.node;
    case Verb::clear:
      return out + " " + a.resource;
  }
  VIGIL_ASSERT(false);
  return out;
}

Result<std::vector<cib::CibChange>> changes(const cib::Cib& cib, const Action& a) {
  pugi::xml_node node;
  if (!a.node.empty()) {
    node = cib::find_node(cib, a.node);
    if (!node) return fail("node '" + a.node + "' is not in the CIB");
  }
  if (!a.resource.empty() && !cib::find_resource(cib, a.resource))
    return fail("resource '" + a.resource + "' is not in the CIB");
  switch (a.verb) {
    case Verb::standby:
    case Verb::online:
      return cib::standby(node, a.verb == Verb::standby);
    case Verb::cleanup:
      return cib::cleanup(cib, a.resource, node ? node.attribute("id").value() : "").changes;
    case Verb::move:
      return std::vector<cib::CibChange>{
          cib::move_constraint(cib, a.resource, cib::node_name(node), true, "").change};
    case Verb::clear:
      return cib::clear_moves(cib, a.resource);
  }
  VIGIL_ASSERT(false);
  return fail("unreachable");
}

Decision decide(const metrics::HttpRequest& request, const std::vector<std::uint8_t>* authkey,
                const cib::Cib* cib, const std::string& node_name) {
  if (authkey == nullptr)
    return refuse(403, "the status page is read-only here: vigild allows actions only when "
                       "started with --http-actions");
  const auto* marker = request.header("x-vigil-action");
  if (marker == nullptr || marker->empty())
    return refuse(403, "an action needs the X-Vigil-Action header (the status page sends it; a "
                       "form or script on another site cannot)");
  // A browser names the page a request comes from; it must be this listener's own.
  const auto* origin = request.header("origin");
  const auto* host = request.header("host");
  if (origin != nullptr && (host == nullptr || (*origin != "http://" + *host)))
    return refuse(403, "a request from " + *origin + " is not from this status page");
  const auto* authorization = request.header("authorization");
  if (authorization == nullptr)
    return ask_to_log_in("log in to act: the user (e.g. hacluster) and the password "
                         "`vigil page-password USER` prints",
                         false);
  auto credentials = basic_credentials(*authorization);
  if (!credentials)
    return ask_to_log_in("the Authorization header is not HTTP Basic credentials", true);
  auto expected = password(*authkey, credentials->first);
  if (!expected || credentials->second.size() != expected->size() ||
      sodium_memcmp(credentials->second.data(), expected->data(), expected->size()) != 0)
    return ask_to_log_in("wrong user or password", true);
  if (cib == nullptr)
    return refuse(503, "this node does not hold the cluster's CIB yet; try again shortly");
  auto action = parse_action(request.body);
  if (!action) return refuse(400, action.error().message);
  auto made = changes(*cib, *action);
  if (!made) return refuse(400, made.error().message);
  Decision d;
  d.status = 200;
  d.user = credentials->first;
  d.message = describe(*action);
  d.action = std::move(*action);
  d.op.changes = std::move(*made);
  if (!d.op.changes.empty())
    d.op.changes.push_back(cib::signature(d.user, std::string(kClient), node_name));
  return d;
}

}  // namespace vigil::page
