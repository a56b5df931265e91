#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "common/ascii.h"
#include "executor/agent.h"
#include "executor/executor.h"

namespace vigil::executor {

namespace {

// Pacemaker's reading of a boolean attribute.
bool is_true(const char* v) {
  const std::string s = ascii_lower(v);
  return s == "1" || s == "true" || s == "yes" || s == "on" || s == "y";
}

// Text of the first such child with surrounding whitespace removed (as crmsh shows it).
std::string child_text(pugi::xml_node node, const char* name) {
  std::string_view t = node.child(name).text().get();
  constexpr std::string_view ws = " \t\n\r\v\f";
  auto b = t.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = t.find_last_not_of(ws);
  return std::string(t.substr(b, e - b + 1));
}

// An element's <shortdesc>, or the shortdesc attribute fence agents use instead.
std::string shortdesc_of(pugi::xml_node node) {
  std::string text = child_text(node, "shortdesc");
  return text.empty() ? node.attribute("shortdesc").value() : text;
}

ParameterInfo parameter_of(pugi::xml_node p) {
  ParameterInfo info;
  info.name = p.attribute("name").value();
  info.required = is_true(p.attribute("required").as_string("0"));
  info.unique = is_true(p.attribute("unique").as_string("0"));
  info.deprecated = is_true(p.attribute("deprecated").as_string("0")) || p.child("deprecated");
  auto content = p.child("content");
  info.type = content.attribute("type").value();
  if (auto d = content.attribute("default")) info.default_value = d.value();
  info.shortdesc = shortdesc_of(p);
  info.longdesc = child_text(p, "longdesc");
  return info;
}

ActionInfo action_of(pugi::xml_node a) {
  ActionInfo info;
  info.name = a.attribute("name").value();
  for (auto attr : a.attributes()) {
    std::string_view key = attr.name();
    if (key == "name") continue;
    info.attributes.emplace_back(attr.name(), attr.value());
    // An agent's own unreadable duration only loses the advisory value, not the agent.
    if (key == "timeout") {
      if (auto t = parse_duration(attr.value())) info.timeout = *t;
    } else if (key == "interval") {
      if (auto i = parse_duration(attr.value())) info.interval = *i;
    }
  }
  return info;
}

bool fencer_supplies(std::string_view name) {
  return name == "action" || name == "port" || name == "plug" || name == "nodename";
}

}  // namespace

const ParameterInfo* AgentMetadata::parameter(std::string_view name) const {
  for (const auto& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ActionInfo* AgentMetadata::action(std::string_view name) const {
  for (const auto& a : actions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<AgentMetadata> parse_metadata(std::string_view xml, const std::string& agent) {
  pugi::xml_document doc;
  auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return fail(agent + ": meta-data is not valid XML at offset " + std::to_string(parsed.offset) +
                ": " + parsed.description());
  }
  auto root = doc.child("resource-agent");
  if (!root) root = doc.child("pacemaker-result").child("resource-agent");
  if (!root) return fail(agent + ": meta-data has no <resource-agent> element");
  AgentMetadata md;
  md.agent = agent;
  md.version = child_text(root, "version");
  md.shortdesc = shortdesc_of(root);
  md.longdesc = child_text(root, "longdesc");
  for (auto p : root.child("parameters").children("parameter")) {
    if (p.attribute("name").value()[0] == '\0') {
      return fail(agent + ": meta-data has a <parameter> without a name");
    }
    md.parameters.push_back(parameter_of(p));
  }
  for (auto a : root.child("actions").children("action")) {
    if (a.attribute("name").value()[0] == '\0') {
      return fail(agent + ": meta-data has an <action> without a name");
    }
    md.actions.push_back(action_of(a));
  }
  md.xml = std::string(xml);
  return md;
}

Result<Millis> parse_duration(std::string_view text) {
  auto bad = [&text] { return fail("invalid duration '" + std::string(text) + "'"); };
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end == s.data() || n < 0) return bad();
  const std::string unit = ascii_lower(std::string_view(end, s.data() + s.size()));
  std::int64_t scale = 0;
  if (unit.empty() || unit == "s" || unit == "sec") scale = 1000;
  if (unit == "ms" || unit == "msec") scale = 1;
  if (unit == "m" || unit == "min") scale = 60 * 1000;
  if (unit == "h" || unit == "hr") scale = 3600 * 1000;
  if (scale == 0 || n > std::numeric_limits<std::int64_t>::max() / scale) return bad();
  return n * scale;
}

Result<void> check_params(const AgentMetadata& md,
                          const std::map<std::string, std::string>& params) {
  bool stonith = md.agent.rfind("stonith:", 0) == 0;
  std::string problems;
  auto note = [&problems](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  for (const auto& [name, value] : params) {
    // The fencer's own pcmk_* options are accepted for any fence device.
    if (stonith && (name.rfind("pcmk_", 0) == 0 || name == "priority")) continue;
    if (md.parameter(name) == nullptr) {
      note("parameter '" + name + "' is not a parameter of " + md.agent);
    }
  }
  for (const auto& p : md.parameters) {
    if (!p.required || p.deprecated || params.count(p.name) != 0) continue;
    if (stonith && fencer_supplies(p.name)) continue;
    note("required parameter '" + p.name + "' of " + md.agent + " is missing");
  }
  if (!problems.empty()) return fail(problems);
  return {};
}

ResourceAction metadata_action(const AgentSpec& agent) {
  ResourceAction action;
  action.resource = agent.type;
  action.agent = agent;
  action.name = "meta-data";
  action.timeout = 30000;
  return action;
}

Result<AgentMetadata> metadata_from(const AgentSpec& agent, const ActionResult& r) {
  if (r.status != ExecStatus::Done || r.rc != OcfCode::Ok) {
    std::string why = r.reason.empty() ? std::string(describe(r.rc)) : r.reason;
    std::string detail = r.err.empty() ? "" : ": " + r.err.substr(0, r.err.find('\n'));
    return fail("cannot get the meta-data of " + agent.str() + ": " + why + detail);
  }
  return parse_metadata(r.out, agent.str());
}

Result<const AgentMetadata*> MetadataCache::get(const AgentSpec& agent) {
  if (auto it = cache_.find(agent); it != cache_.end()) return it->second.get();
  auto md = metadata_from(agent, run_action(settings_, metadata_action(agent)));
  if (!md) return md.error();
  auto& slot = cache_[agent];
  slot = std::make_unique<AgentMetadata>(std::move(*md));
  return slot.get();
}

}  // namespace vigil::executor
