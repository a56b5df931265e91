#include "cib/op_json.h"

#include <array>

namespace vigil::cib {

namespace {

constexpr std::array<const char*, 4> kKinds = {"create", "modify", "delete", "replace"};

Result<std::string> string_field(const nlohmann::json& j, const char* key, const std::string& at,
                                 bool required) {
  if (!j.contains(key)) {
    if (required) return fail(at + "." + key + ": missing");
    return std::string();
  }
  if (!j[key].is_string()) return fail(at + "." + key + ": not a string");
  return j[key].get<std::string>();
}

}  // namespace

Result<Version> parse_version(const std::string& text) {
  Version v;
  std::int64_t* parts[3] = {&v.admin_epoch, &v.epoch, &v.num_updates};
  std::size_t at = 0;
  for (int i = 0; i < 3; ++i) {
    std::size_t end = text.find('.', at);
    if ((i < 2) != (end != std::string::npos)) return fail("bad version '" + text + "'");
    const auto part = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return fail("bad version '" + text + "'");
    *parts[i] = std::stoll(part);
    at = end + 1;
  }
  return v;
}

nlohmann::json op_to_json(const CibOp& op) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : op.changes) {
    nlohmann::json one{{"kind", kKinds[static_cast<std::size_t>(c.kind) - 1]},
                       {"address", c.address}};
    if (c.kind != CibChange::Kind::remove) one["xml"] = c.xml;
    changes.push_back(std::move(one));
  }
  nlohmann::json out{{"changes", std::move(changes)}};
  if (op.base) out["base"] = op.base->str();
  if (op.target) out["target"] = op.target->str();
  return out;
}

Result<CibOp> op_from_json(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("changes") || !json["changes"].is_array())
    return fail("op: needs a \"changes\" array");
  CibOp op;
  std::size_t i = 0;
  for (const auto& c : json["changes"]) {
    const std::string at = "changes[" + std::to_string(i++) + "]";
    if (!c.is_object()) return fail(at + ": not an object");
    auto kind = string_field(c, "kind", at, true);
    if (!kind) return kind.error();
    auto address = string_field(c, "address", at, true);
    if (!address) return address.error();
    auto xml = string_field(c, "xml", at, false);
    if (!xml) return xml.error();
    CibChange change;
    std::size_t k = 0;
    while (k < kKinds.size() && *kind != kKinds[k]) ++k;
    if (k == kKinds.size()) return fail(at + ".kind: unknown kind '" + *kind + "'");
    change.kind = static_cast<CibChange::Kind>(k + 1);
    if (change.kind != CibChange::Kind::remove && xml->empty()) return fail(at + ".xml: missing");
    change.address = std::move(*address);
    // A delete carries no XML: one sent along is dropped, not kept to differ from what the op
    // encodes back to.
    if (change.kind != CibChange::Kind::remove) change.xml = std::move(*xml);
    op.changes.push_back(std::move(change));
  }
  for (const char* key : {"base", "target"}) {
    if (!json.contains(key)) continue;
    if (!json[key].is_string()) return fail(std::string(key) + ": not a string");
    auto v = parse_version(json[key].get<std::string>());
    if (!v) return fail(std::string(key) + ": " + v.error().message);
    (std::string(key) == "base" ? op.base : op.target) = *v;
  }
  return op;
}

}  // namespace vigil::cib
