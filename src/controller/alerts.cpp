// Pacemaker's alert semantics (its Explained manual, "Alerts"): the alerts section unpacked into
// one entry per recipient, the select filter, and the CRM_alert_* environment of each kind.
#include "controller/alerts.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "scheduler/model.h"

namespace vigil::controller {

namespace {

// nvpairs of every block named `set`; the first value of a name wins (Pacemaker's meta blocks),
// or, with `first_block_only`, the nvpairs of the first block, the last value winning (its
// instance attributes).
std::map<std::string, std::string> nvpairs(pugi::xml_node owner, const char* set,
                                           bool first_block_only) {
  std::map<std::string, std::string> out;
  for (auto block : owner.children(set)) {
    for (auto nv : block.children("nvpair")) {
      const std::string name = nv.attribute("name").value();
      if (first_block_only) {
        out[name] = nv.attribute("value").value();
      } else {
        out.emplace(name, nv.attribute("value").value());
      }
    }
    if (first_block_only) break;
  }
  return out;
}

// One alert or recipient element over `entry`; false when its meta attributes disable it.
bool unpack_entry(pugi::xml_node xml, Alert& entry, std::vector<std::string>& warnings) {
  for (auto& [name, value] : nvpairs(xml, "instance_attributes", true)) entry.env[name] = value;
  const auto meta = nvpairs(xml, "meta_attributes", false);
  if (auto on = meta.find("enabled"); on != meta.end() && !scheduler::is_true(on->second))
    return false;
  if (auto t = meta.find("timeout"); t != meta.end()) {
    const auto ms = scheduler::parse_interval_ms(t->second);
    entry.timeout = ms && *ms > 0 ? *ms : Alert{}.timeout;
    if (!ms || *ms < 0)
      warnings.push_back("alert " + entry.id + ": timeout '" + t->second +
                         "' is no duration, using the default (30s)");
  }
  if (auto f = meta.find("timestamp-format"); f != meta.end()) entry.timestamp_format = f->second;
  unsigned select = 0;
  for (auto kind : xml.child("select").children()) {
    const std::string_view name = kind.name();
    if (name == "select_nodes") select |= kAlertNode;
    if (name == "select_fencing") select |= kAlertFencing;
    if (name == "select_resources") select |= kAlertResource;
    if (name != "select_attributes") continue;
    select |= kAlertAttribute;
    std::vector<std::string> names;
    for (auto a : kind.children("attribute")) names.emplace_back(a.attribute("name").value());
    if (!names.empty()) entry.attributes = std::move(names);
  }
  if (select != 0) entry.select = select;
  return true;
}

const char* kind_name(const AlertEvent& e) {
  static constexpr const char* names[] = {"node", "fencing", "resource", "attribute"};
  return names[e.index()];
}

unsigned kind_flag(const AlertEvent& e) {
  static constexpr unsigned flags[] = {kAlertNode, kAlertFencing, kAlertResource, kAlertAttribute};
  return flags[e.index()];
}

// Pacemaker's words for an agent's exit code (crm_exit_str) and for an execution status.
std::string exit_words(int rc) {
  static constexpr const char* words[] = {
      "OK",           "Error occurred", "Invalid parameter", "Unimplemented",
      "Insufficient privileges", "Not installed",  "Not configured",    "Not running",
      "Promoted",     "Failed in promoted role"};
  return rc >= 0 && rc <= 9 ? words[rc] : "Unknown exit status";
}
std::string status_words(int status) {
  static constexpr const char* words[] = {"Pending",
                                          "Done",
                                          "Cancelled",
                                          "Timed out",
                                          "Unsupported",
                                          "Error",
                                          "Hard error",
                                          "Fatal error",
                                          "Not installed",
                                          "Internal communication failure",
                                          "Cannot execute now",
                                          "No fence device",
                                          "CIB secrets unavailable"};
  return status >= -1 && status <= 11 ? words[status + 1] : "Unrecognized status (bug?)";
}

using Env = std::vector<std::pair<std::string, std::string>>;

// The variables of the event itself, in the order Pacemaker's executor client adds them.
Env event_env(const AlertEvent& event) {
  auto n = [](auto v) { return std::to_string(v); };
  if (const auto* e = std::get_if<NodeEvent>(&event))
    return {{"CRM_alert_node", e->node}, {"CRM_alert_desc", e->state}, {"CRM_alert_nodeid", n(e->id)}};
  if (const auto* e = std::get_if<FencingEvent>(&event))
    return {{"CRM_alert_node", e->target},
            {"CRM_alert_task", e->task},
            {"CRM_alert_desc", e->desc},
            {"CRM_alert_rc", n(e->rc)}};
  if (const auto* e = std::get_if<AttributeEvent>(&event))
    return {{"CRM_alert_node", e->node},
            {"CRM_alert_nodeid", n(e->id)},
            {"CRM_alert_attribute_name", e->name},
            {"CRM_alert_attribute_value", e->value}};
  const auto& r = std::get<ResourceEvent>(event);
  // A recurring operation that timed out has no run time of its own: its timeout is closer.
  const Millis exec = r.op_status == 2 && r.exec_time == 0 ? r.timeout : r.exec_time;
  return {{"CRM_alert_node", r.node},
          {"CRM_alert_rsc", r.rsc},
          {"CRM_alert_task", r.task},
          {"CRM_alert_interval", n(r.interval)},
          {"CRM_alert_target_rc", n(r.target_rc)},
          {"CRM_alert_status", n(r.op_status)},
          {"CRM_alert_rc", n(r.rc)},
          {"CRM_alert_exec_time", n(exec)},
          {"CRM_alert_desc", r.op_status == 0 ? exit_words(r.rc) : status_words(r.op_status)}};
}

bool selects(const Alert& a, const AlertEvent& event) {
  if ((a.select & kind_flag(event)) == 0) return false;
  const auto* attr = std::get_if<AttributeEvent>(&event);
  return !attr || a.attributes.empty() ||
         std::find(a.attributes.begin(), a.attributes.end(), attr->name) != a.attributes.end();
}

// Pacemaker leaves a probe that found what it expected to the status section alone.
bool expected_probe(const AlertEvent& event) {
  const auto* r = std::get_if<ResourceEvent>(&event);
  return r && r->task == "monitor" && r->interval == 0 && r->op_status == 0 &&
         r->rc == r->target_rc;
}

std::string strftime_text(const std::string& format, const std::tm& tm) {
  if (format.empty()) return "";
  std::string buf(256 + format.size() * 16, '\0');
  const std::size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &tm);
  buf.resize(n);
  return buf;
}

}  // namespace

Alerts unpack_alerts(pugi::xml_node alerts) {
  Alerts out;
  for (auto xml : alerts.children("alert")) {
    Alert entry;
    entry.id = xml.attribute("id").value();
    entry.path = xml.attribute("path").value();
    if (entry.id.empty() || entry.path.empty()) {
      out.warnings.push_back("alert " + (entry.id.empty() ? "without id" : entry.id) +
                             " has no path: ignored");
      continue;
    }
    if (!unpack_entry(xml, entry, out.warnings)) continue;
    bool any = false;
    for (auto to : xml.children("recipient")) {
      any = true;
      Alert r = entry;
      r.recipient = to.attribute("value").value();
      if (unpack_entry(to, r, out.warnings)) out.alerts.push_back(std::move(r));
    }
    if (!any) out.alerts.push_back(std::move(entry));
  }
  return out;
}

// As Pacemaker: the format is cut at each %N; the pieces between go to strftime.
std::string format_timestamp(std::string_view format, const Moment& at) {
  const std::int64_t seconds = at.epoch_usec / 1000000;
  const int usec = static_cast<int>(at.epoch_usec - seconds * 1000000);
  const std::time_t local = static_cast<std::time_t>(seconds + at.utc_offset);
  std::tm tm{};
  ::gmtime_r(&local, &tm);
  tm.tm_gmtoff = at.utc_offset;
  tm.tm_zone = at.zone.c_str();
  std::string out, piece;
  for (std::size_t i = 0; i < format.size();) {
    if (format[i] != '%') {
      piece += format[i++];
      continue;
    }
    std::size_t j = i + 1;
    while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j]))) ++j;
    if (j >= format.size() || format[j] != 'N') {
      const std::size_t end = std::min(format.size(), j + 1);
      piece.append(format.substr(i, end - i));
      i = end;
      continue;
    }
    const int width = std::min(6, std::atoi(std::string(format.substr(i + 1, j - i - 1)).c_str()));
    out += strftime_text(piece, tm);
    piece.clear();
    if (width > 0) {
      int value = usec;
      for (int d = width; d < 6; ++d) value /= 10;
      std::string digits = std::to_string(value);
      out += std::string(static_cast<std::size_t>(width) - digits.size(), '0') + digits;
    }
    i = j + 1;
  }
  return out + strftime_text(piece, tm);
}

std::vector<AlertRun> plan_alerts(const std::vector<Alert>& alerts, const AlertEvent& event,
                                  const Moment& at, std::uint64_t& sequence) {
  std::vector<AlertRun> runs;
  if (expected_probe(event)) return runs;
  Env common = event_env(event);
  common.emplace_back("CRM_alert_kind", kind_name(event));
  common.emplace_back("CRM_alert_version", kAlertVersion);
  const std::int64_t seconds = at.epoch_usec / 1000000;
  std::string usec = std::to_string(at.epoch_usec % 1000000);
  usec.insert(0, 6 - usec.size(), '0');
  for (const auto& a : alerts) {
    if (!selects(a, event)) continue;
    AlertRun run{kind_name(event), a.id, a.recipient, a.path, a.timeout, common};
    run.env.emplace_back("CRM_alert_recipient", a.recipient);
    run.env.emplace_back("CRM_alert_timestamp", format_timestamp(a.timestamp_format, at));
    run.env.emplace_back("CRM_alert_timestamp_epoch", std::to_string(seconds));
    run.env.emplace_back("CRM_alert_timestamp_usec", usec);
    for (const auto& [name, value] : a.env) run.env.emplace_back(name, value);
    run.env.emplace_back("CRM_alert_node_sequence", std::to_string(++sequence));
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace vigil::controller
