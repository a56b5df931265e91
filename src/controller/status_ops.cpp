#include "controller/status_ops.h"

#include <cstring>

#include "scheduler/model.h"
#include "scheduler/options.h"
#include "scheduler/rules.h"

namespace vigil::controller {

namespace {

std::string attr(const std::string& name, const std::string& value) {
  return " " + name + "=\"" + xml_escape(value) + "\"";
}

std::string state_path(const std::string& node_id) {
  return "/cib/status/node_state[@id='" + node_id + "']";
}

// An XML id from an attribute name: Pacemaker's ids cannot hold '#'.
std::string sanitized_id(const std::string& text) {
  std::string out = text;
  for (auto& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '.';
  }
  return out;
}

std::string nvpairs_xml(const std::string& node_id,
                        const std::map<std::string, std::string>& values) {
  std::string xml = "<instance_attributes" + attr("id", "status-" + node_id) + ">";
  for (const auto& [k, v] : values) {
    xml += "<nvpair" + attr("id", sanitized_id("status-" + node_id + "-" + k)) + attr("name", k) +
           attr("value", v) + "/>";
  }
  return xml + "</instance_attributes>";
}

// Makes sure node_state/<child id=node_id>/... exist so that a replace can address them.
cib::CibChange ensure(const std::string& node_id, const std::string& uname,
                      const std::string& inner) {
  return cib::CibChange::modify("/cib/status", "<status><node_state" + attr("id", node_id) +
                                                   attr("uname", uname) + ">" + inner +
                                                   "</node_state></status>");
}

}  // namespace

std::string lrm_xml(const std::string& node_id, const LrmHistory& history) {
  std::string xml = "<lrm" + attr("id", node_id) + "><lrm_resources>";
  for (const auto& [id, r] : history) {
    xml += "<lrm_resource" + attr("id", id) + attr("type", r.type) + attr("class", r.cls);
    if (!r.provider.empty()) xml += attr("provider", r.provider);
    if (r.shutdown_lock != 0) xml += attr("shutdown-lock", std::to_string(r.shutdown_lock));
    xml += ">";
    for (const auto& [op_id, o] : r.ops) {
      xml += "<lrm_rsc_op" + attr("id", o.id) + attr("operation_key", o.operation_key) +
             attr("operation", o.operation) + attr("crm-debug-origin", "do_update_resource") +
             attr("transition-key", o.transition_key) +
             attr("transition-magic", o.transition_magic) + attr("exit-reason", o.exit_reason) +
             attr("on_node", o.on_node) + attr("call-id", std::to_string(o.call_id)) +
             attr("rc-code", std::to_string(o.rc)) +
             attr("op-status", std::to_string(o.op_status)) +
             attr("interval", std::to_string(o.interval_ms));
      if (o.op_status != -1) {
        xml += attr("last-rc-change", std::to_string(o.last_rc_change)) +
               attr("exec-time", std::to_string(o.exec_time)) + attr("queue-time", "0");
      }
      if (!o.op_digest.empty()) xml += attr("op-digest", o.op_digest);
      if (!o.migrate_source.empty())
        xml += attr("migrate_source", o.migrate_source) + attr("migrate_target", o.migrate_target);
      xml += "/>";
    }
    xml += "</lrm_resource>";
  }
  return xml + "</lrm_resources></lrm>";
}

cib::CibChange node_state_change(const std::string& node_id,
                                 const std::map<std::string, std::string>& attrs) {
  std::string xml = "<status><node_state" + attr("id", node_id);
  for (const auto& [k, v] : attrs) xml += attr(k, v);
  return cib::CibChange::modify("/cib/status", xml + "/></status>");
}

std::vector<cib::CibChange> lrm_changes(const std::string& node_id, const std::string& uname,
                                        const LrmHistory& history) {
  return {ensure(node_id, uname, "<lrm" + attr("id", node_id) + "/>"),
          cib::CibChange::replace(state_path(node_id) + "/lrm", lrm_xml(node_id, history))};
}

cib::CibChange attribute_change(const std::string& node_id, const std::string& uname,
                                const std::map<std::string, std::string>& values) {
  return ensure(node_id, uname,
                "<transient_attributes" + attr("id", node_id) + ">" + nvpairs_xml(node_id, values) +
                    "</transient_attributes>");
}

std::vector<cib::CibChange> attributes_replaced(const cib::Cib& cib, const std::string& node_id,
                                                const std::string& uname,
                                                const std::map<std::string, std::string>& keep) {
  (void)cib;
  return {ensure(node_id, uname, "<transient_attributes" + attr("id", node_id) + "/>"),
          cib::CibChange::replace(state_path(node_id) + "/transient_attributes",
                                  "<transient_attributes" + attr("id", node_id) + ">" +
                                      nvpairs_xml(node_id, keep) + "</transient_attributes>")};
}

std::map<std::string, std::string> node_attributes(const cib::Cib& cib,
                                                   const std::string& node_id) {
  std::map<std::string, std::string> out;
  auto state = cib.status().find_child_by_attribute("node_state", "id", node_id.c_str());
  for (auto set : state.child("transient_attributes").children("instance_attributes")) {
    for (auto nv : set.children("nvpair"))
      out[nv.attribute("name").value()] = nv.attribute("value").value();
  }
  return out;
}

pugi::xml_node primitive_of(const cib::Cib& cib, const std::string& resource) {
  auto resources = cib.configuration().child("resources");
  auto find = [&](const std::string& id) {
    return resources.find_node([&](const pugi::xml_node& n) {
      return std::strcmp(n.name(), "primitive") == 0 && id == n.attribute("id").value();
    });
  };
  auto p = find(resource);
  if (!p && resource.find(':') != std::string::npos)
    p = find(resource.substr(0, resource.rfind(':')));
  return p;
}

namespace {

// The primitive's <op> for task and interval (an id-ref followed), or an empty node.
pugi::xml_node op_config(pugi::xml_node primitive, const std::string& task,
                         std::int64_t interval_ms) {
  for (auto op : primitive.child("operations").children("op")) {
    auto real = scheduler::resolve_ref(op);
    if (task == real.attribute("name").value() &&
        scheduler::parse_interval_ms(real.attribute("interval").value()).value_or(0) == interval_ms)
      return real;
  }
  return {};
}

// Pacemaker's most_frequent_monitor: the enabled recurring monitor with the shortest interval.
pugi::xml_node most_frequent_monitor(pugi::xml_node primitive) {
  pugi::xml_node best;
  std::int64_t best_interval = 0;
  for (auto op : primitive.child("operations").children("op")) {
    auto real = scheduler::resolve_ref(op);
    const auto interval =
        scheduler::parse_interval_ms(real.attribute("interval").value()).value_or(0);
    const bool disabled =
        real.attribute("enabled") && !scheduler::is_true(real.attribute("enabled").value());
    if (std::string_view(real.attribute("name").value()) != "monitor" || interval <= 0 || disabled)
      continue;
    if (!best || interval < best_interval) {
      best = real;
      best_interval = interval;
    }
  }
  return best;
}

}  // namespace

std::map<std::string, std::string> resource_params(const cib::Cib& cib, pugi::xml_node primitive,
                                                   const std::string& task,
                                                   std::int64_t interval_ms) {
  std::map<std::string, std::string> params;
  const scheduler::RuleContext ctx{};
  scheduler::unpack_nvpairs(op_config(primitive, task, interval_ms), "instance_attributes", ctx,
                            params);
  scheduler::unpack_nvpairs(primitive, "instance_attributes", ctx, params);
  auto resources = cib.configuration().child("resources");
  if (primitive.attribute("template")) {
    scheduler::unpack_nvpairs(resources.find_child_by_attribute(
                                  "template", "id", primitive.attribute("template").value()),
                              "instance_attributes", ctx, params);
  }
  for (auto p = primitive.parent(); p && p != resources; p = p.parent())
    scheduler::unpack_nvpairs(p, "instance_attributes", ctx, params);
  return params;
}

// Pacemaker's order (pcmk__unpack_action_meta): the <op>'s timeout attribute, then its
// meta_attributes; a probe without one takes the timeout attribute of the most frequent recurring
// monitor; then op_defaults; a value that is missing, unreadable or not positive is 20 s
// (PCMK_DEFAULT_ACTION_TIMEOUT_MS). The agent's advertised timeouts play no part: Pacemaker does
// not use them either (crmsh only warns when a configured timeout is below them).
Millis op_timeout(const cib::Cib& cib, pugi::xml_node primitive, const std::string& task,
                  std::int64_t interval_ms) {
  std::map<std::string, std::string> meta;
  if (auto op = op_config(primitive, task, interval_ms)) {
    if (op.attribute("timeout")) meta["timeout"] = op.attribute("timeout").value();
    scheduler::unpack_nvpairs(op, "meta_attributes", {}, meta);
  }
  if (task == "monitor" && interval_ms == 0 && !meta.count("timeout")) {
    if (auto monitor = most_frequent_monitor(primitive); monitor.attribute("timeout"))
      meta["timeout"] = monitor.attribute("timeout").value();
  }
  scheduler::unpack_nvpairs(cib.configuration().child("op_defaults"), "meta_attributes", {}, meta);
  constexpr Millis kDefault = 20000;
  auto it = meta.find("timeout");
  if (it == meta.end()) return kDefault;
  const auto timeout = scheduler::parse_interval_ms(it->second);
  return timeout && *timeout > 0 ? *timeout : kDefault;
}

ResourceDefinition resource_definition(const cib::Cib& cib, const std::string& resource,
                                       const std::string& node_id, const std::string& task,
                                       std::int64_t interval_ms) {
  ResourceDefinition d;
  const auto prim = primitive_of(cib, resource);
  auto from = prim;
  if (!from) {
    from = cib.status()
               .find_child_by_attribute("node_state", "id", node_id.c_str())
               .child("lrm")
               .child("lrm_resources")
               .find_child_by_attribute("lrm_resource", "id", resource.c_str());
  }
  if (!from) return d;
  d.cls = from.attribute("class").value();
  d.provider = from.attribute("provider").value();
  d.type = from.attribute("type").value();
  d.timeout = op_timeout(cib, prim, task, interval_ms);
  d.params = resource_params(cib, prim, task, interval_ms);
  return d;
}

std::string cluster_option(const cib::Cib& cib, std::string_view name) {
  std::map<std::string, std::string> options;
  scheduler::unpack_nvpairs(cib.configuration().child("crm_config"), "cluster_property_set", {},
                            options);
  auto it = options.find(std::string(name));
  return it == options.end() ? std::string(scheduler::option_default(name)) : it->second;
}

}  // namespace vigil::controller
