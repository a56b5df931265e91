#include "executor/agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace vigil::executor {

namespace {

namespace fs = std::filesystem;

ActionResult not_executed(OcfCode rc, std::string reason) {
  ActionResult r;
  r.status = ExecStatus::NotExecuted;
  r.rc = rc;
  r.reason = std::move(reason);
  return r;
}

ActionResult immediate_ok(std::string out = {}) {
  ActionResult r;
  r.rc = OcfCode::Ok;
  r.exit_status = 0;
  r.out = std::move(out);
  return r;
}

Plan immediate(ActionResult r) {
  Plan p;
  p.immediate = std::move(r);
  return p;
}

// Pacemaker reports a missing agent as "not installed" and one it may not run as
// "insufficient privileges".
std::optional<ActionResult> check_executable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return not_executed(OcfCode::NotInstalled, path + ": no such agent");
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return not_executed(OcfCode::InsufficientPrivileges, path + ": not executable");
  }
  return std::nullopt;
}

// The daemon's environment without anything an earlier agent convention could leak in.
std::vector<std::string> base_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("OCF_", 0) == 0 || kv.rfind("HA_RSCTMP=", 0) == 0) continue;
    env.emplace_back(kv);
  }
  return env;
}

std::vector<std::string> ocf_environment(const Settings& s, const ResourceAction& a) {
  auto env = base_environment();
  auto add = [&env](const std::string& k, const std::string& v) { env.push_back(k + "=" + v); };
  add("OCF_ROOT", s.ocf_root);
  add("OCF_RA_VERSION_MAJOR", "1");
  add("OCF_RA_VERSION_MINOR", "1");
  add("OCF_RESOURCE_INSTANCE", a.resource);
  add("OCF_RESOURCE_TYPE", a.agent.type);
  add("OCF_RESOURCE_PROVIDER", a.agent.provider);
  // Meta-data needs no state, so asking an agent about itself writes nothing.
  add("HA_RSCTMP", a.name == "meta-data" ? s.run_dir + "/rsctmp" : rsctmp_dir(s));
  for (const auto& [k, v] : a.params) add("OCF_RESKEY_" + k, v);
  for (const auto& [k, v] : a.meta) add("OCF_RESKEY_CRM_meta_" + k, v);
  add("OCF_RESKEY_CRM_meta_name", a.name);
  add("OCF_RESKEY_CRM_meta_timeout", std::to_string(a.timeout));
  add("OCF_RESKEY_CRM_meta_interval", std::to_string(a.interval));
  if (auto depth = a.meta.find("depth"); depth != a.meta.end())
    add("OCF_CHECK_LEVEL", depth->second);
  return env;
}

OcfCode ocf_code(int exit_status) {
  if (exit_status < 0 || exit_status > 9) return OcfCode::Error;
  return static_cast<OcfCode>(exit_status);
}

Plan plan_ocf(const Settings& s, const ResourceAction& a) {
  if (!valid_agent_name(a.agent.provider) || !valid_agent_name(a.agent.type)) {
    return immediate(not_executed(OcfCode::InvalidArgs, "invalid agent name " + a.agent.str()));
  }
  std::string path = s.ocf_root + "/resource.d/" + a.agent.provider + "/" + a.agent.type;
  if (auto bad = check_executable(path)) return immediate(*bad);
  Plan p;
  p.command = Command{path, {path, a.name}, ocf_environment(s, a), {}};
  p.interpret = [](int exit_status, const std::string&) { return ocf_code(exit_status); };
  return p;
}

}  // namespace

InitInfo parse_init_info(std::istream& in) {
  InitInfo info;
  std::string line;
  bool inside = false;
  std::string* continued = nullptr;
  for (int n = 0; n < 200 && std::getline(in, line); ++n) {
    if (line.rfind("### BEGIN INIT INFO", 0) == 0) inside = true;
    if (!inside) continue;
    if (line.rfind("### END INIT INFO", 0) == 0) break;
    auto value_of = [&line](std::string_view key) -> std::optional<std::string> {
      std::string prefix = "# " + std::string(key) + ":";
      if (line.rfind(prefix, 0) != 0) return std::nullopt;
      auto v = line.substr(prefix.size());
      return v.substr(std::min(v.size(), v.find_first_not_of(" \t")));
    };
    if (auto v = value_of("Short-Description")) {
      info.short_description = *v;
      continued = nullptr;
    } else if (auto d = value_of("Description")) {
      info.description = *d;
      continued = &info.description;
    } else if (continued != nullptr && (line.rfind("#  ", 0) == 0 || line.rfind("#\t", 0) == 0)) {
      auto text = line.find_first_not_of(" \t", 1);
      continued->append("\n").append(line, std::min(line.size(), text));
    } else {
      continued = nullptr;
    }
  }
  return info;
}

namespace {

InitInfo read_init_info(const std::string& path) {
  std::ifstream in(path);
  return parse_init_info(in);
}

// LSB scripts and systemd units carry no OCF meta-data; like Pacemaker we describe them with a
// fixed set of actions and the script's own descriptions.
std::string synthesized_metadata(const std::string& name, const InitInfo& info) {
  std::ostringstream x;
  x << "<?xml version=\"1.0\"?>\n"
    << "<resource-agent name=\"" << xml_escape(name) << "\" version=\"1.0\">\n"
    << "  <version>1.0</version>\n"
    << "  <longdesc lang=\"en\">\n"
    << xml_escape(info.description) << "\n  </longdesc>\n"
    << "  <shortdesc lang=\"en\">" << xml_escape(info.short_description) << "</shortdesc>\n"
    << "  <parameters/>\n"
    << "  <actions>\n"
    << "    <action name=\"meta-data\"    timeout=\"5s\"/>\n"
    << "    <action name=\"start\"        timeout=\"100s\"/>\n"
    << "    <action name=\"stop\"         timeout=\"100s\"/>\n"
    << "    <action name=\"status\"       timeout=\"100s\"/>\n"
    << "    <action name=\"restart\"      timeout=\"100s\"/>\n"
    << "    <action name=\"force-reload\" timeout=\"100s\"/>\n"
    << "    <action name=\"monitor\"      timeout=\"100s\" interval=\"60s\"/>\n"
    << "  </actions>\n"
    << "  <special tag=\"LSB\"/>\n"
    << "</resource-agent>\n";
  return x.str();
}

Plan plan_lsb(const Settings& s, const ResourceAction& a) {
  if (!valid_agent_name(a.agent.type)) {
    return immediate(not_executed(OcfCode::InvalidArgs, "invalid agent name " + a.agent.str()));
  }
  std::string path = s.lsb_dir + "/" + a.agent.type;
  if (auto bad = check_executable(path)) return immediate(*bad);
  if (a.name == "meta-data") {
    return immediate(immediate_ok(synthesized_metadata(a.agent.type, read_init_info(path))));
  }
  // LSB has no monitor; Pacemaker asks the script for its status instead.
  std::string verb = a.name == "monitor" ? "status" : a.name;
  Plan p;
  p.command = Command{path, {path, verb}, base_environment(), {}};
  p.interpret = [verb](int exit_status, const std::string&) {
    return lsb_to_ocf(verb, exit_status);
  };
  return p;
}

std::string unit_name(const std::string& type) {
  return type.find('.') == std::string::npos ? type + ".service" : type;
}

bool unit_file_exists(const std::string& unit) {
  for (const char* dir : {"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
                          "/usr/lib/systemd/system"}) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / unit, ec)) return true;
  }
  return false;
}

}  // namespace

std::string show_value(const std::string& out, std::string_view name) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == '=') {
      return line.substr(name.size() + 1);
    }
  }
  return {};
}

OcfCode systemd_state_to_ocf(int exit_status, const std::string& out) {
  if (exit_status != 0) return OcfCode::Error;
  if (show_value(out, "LoadState") == "not-found") return OcfCode::NotInstalled;
  auto active = show_value(out, "ActiveState");
  if (active == "active" || active == "reloading" || active == "activating") return OcfCode::Ok;
  return OcfCode::NotRunning;
}

namespace {

// systemctl's own exit codes follow LSB: 4 no permission, 5 no such unit.
OcfCode systemctl_to_ocf(int exit_status, const std::string&) {
  switch (exit_status) {
    case 0:
      return OcfCode::Ok;
    case 4:
      return OcfCode::InsufficientPrivileges;
    case 5:
      return OcfCode::NotInstalled;
    default:
      return OcfCode::Error;
  }
}

Plan plan_systemd(const Settings& s, const ResourceAction& a) {
  if (!valid_agent_name(a.agent.type)) {
    return immediate(not_executed(OcfCode::InvalidArgs, "invalid agent name " + a.agent.str()));
  }
  std::string unit = unit_name(a.agent.type);
  if (a.name == "meta-data") {
    return immediate(immediate_ok(synthesized_metadata(
        unit, {"systemd unit file for " + unit, "systemd unit file for " + unit})));
  }
  if (!systemd_running(s)) {
    return immediate(not_executed(OcfCode::Error, "systemd is not running on this machine"));
  }
  Plan p;
  auto env = base_environment();
  if (a.name == "monitor" || a.name == "status") {
    p.command =
        Command{s.systemctl,
                {s.systemctl, "show", "--property=LoadState", "--property=ActiveState", unit},
                env,
                {}};
    p.interpret = systemd_state_to_ocf;
  } else if (a.name == "start" || a.name == "stop" || a.name == "restart" || a.name == "reload") {
    p.command = Command{s.systemctl, {s.systemctl, a.name, unit}, env, {}};
    p.interpret = systemctl_to_ocf;
  } else {
    return immediate(
        not_executed(OcfCode::Unimplemented, "systemd units have no '" + a.name + "' action"));
  }
  // systemctl is found through PATH when not given as a path.
  if (s.systemctl.find('/') == std::string::npos) {
    for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
      std::string candidate = std::string(dir) + "/" + s.systemctl;
      if (::access(candidate.c_str(), X_OK) == 0) {
        p.command->path = candidate;
        break;
      }
    }
  }
  return p;
}

// Fence agents read "name=value" lines on stdin. Start is a reachability check (the fencer
// registers the device); stop has nothing to run.
Plan plan_stonith(const Settings& s, const ResourceAction& a) {
  if (!valid_agent_name(a.agent.type)) {
    return immediate(not_executed(OcfCode::InvalidArgs, "invalid agent name " + a.agent.str()));
  }
  std::string path = s.fence_dir + "/" + a.agent.type;
  if (auto bad = check_executable(path)) return immediate(*bad);
  if (a.name == "stop") return immediate(immediate_ok());
  std::string verb = a.name == "meta-data" ? "metadata" : a.name == "start" ? "monitor" : a.name;
  std::string input = "action=" + verb + "\n";
  for (const auto& [k, v] : a.params) {
    if (k == "action" || k.rfind("pcmk_", 0) == 0) continue;  // ours to set / the fencer's own
    if (k.find_first_of("=\n") != std::string::npos || v.find('\n') != std::string::npos) {
      return immediate(not_executed(OcfCode::InvalidArgs,
                                    "fence parameter '" + k + "' contains a newline or '='"));
    }
    input += k + "=" + v + "\n";
  }
  Plan p;
  p.command = Command{path, {path}, base_environment(), input};
  // Fence agents answer status with 0 (on), 2 (off), anything else failed.
  p.interpret = [verb](int exit_status, const std::string&) {
    if (exit_status == 0) return OcfCode::Ok;
    if (verb == "status" && exit_status == 2) return OcfCode::NotRunning;
    return OcfCode::Error;
  };
  return p;
}

}  // namespace

std::string_view describe(OcfCode code) {
  switch (code) {
    case OcfCode::Ok:
      return "ok";
    case OcfCode::Error:
      return "error";
    case OcfCode::InvalidArgs:
      return "invalid parameter";
    case OcfCode::Unimplemented:
      return "unimplemented feature";
    case OcfCode::InsufficientPrivileges:
      return "insufficient privileges";
    case OcfCode::NotInstalled:
      return "not installed";
    case OcfCode::NotConfigured:
      return "not configured";
    case OcfCode::NotRunning:
      return "not running";
    case OcfCode::RunningPromoted:
      return "promoted";
    case OcfCode::FailedPromoted:
      return "promoted failed";
  }
  return "error";
}

std::string_view describe(ExecStatus status) {
  switch (status) {
    case ExecStatus::Done:
      return "complete";
    case ExecStatus::Timeout:
      return "timed out";
    case ExecStatus::Cancelled:
      return "cancelled";
    case ExecStatus::NotExecuted:
      return "not executed";
  }
  return "error";
}

OcfCode lsb_to_ocf(std::string_view action, int exit_status) {
  // Other actions share the OCF codes up to 7 ("not running").
  if (action != "status" && action != "monitor") {
    return exit_status < 0 || exit_status > 7 ? OcfCode::Error : static_cast<OcfCode>(exit_status);
  }
  // LSB status: 0 running, 1 dead with pid file, 2 dead with lock file, 3 stopped, 4 unknown;
  // 150/151 are the application-range codes Pacemaker reads as not installed / no privileges.
  switch (exit_status) {
    case 0:
      return OcfCode::Ok;
    case 1:
    case 2:
    case 3:
      return OcfCode::NotRunning;
    case 150:
      return OcfCode::NotInstalled;
    case 151:
      return OcfCode::InsufficientPrivileges;
    default:
      return OcfCode::Error;
  }
}

bool systemd_running(const Settings& s) {
  std::error_code ec;
  return fs::is_directory(s.systemd_run_dir, ec);
}

std::string rsctmp_dir(const Settings& settings) {
  std::string dir = settings.run_dir + "/rsctmp";
  std::error_code ec;
  fs::create_directories(dir, ec);  // a failure shows when the agent writes there
  return dir;
}

// As Pacemaker's alert class: the agent with no arguments, its event in the environment.
Plan plan_alert(const AlertAction& alert) {
  if (auto bad = check_executable(alert.path)) return immediate(*bad);
  Plan p;
  auto env = base_environment();
  for (const auto& [name, value] : alert.env) env.push_back(name + "=" + value);
  p.command = Command{alert.path, {alert.path}, std::move(env), {}};
  p.interpret = [](int exit_status, const std::string&) {
    return exit_status == 0 ? OcfCode::Ok : OcfCode::Error;
  };
  return p;
}

Plan plan_action(const Settings& settings, const ResourceAction& action) {
  switch (action.agent.standard) {
    case AgentClass::Ocf:
      return plan_ocf(settings, action);
    case AgentClass::Lsb:
      return plan_lsb(settings, action);
    case AgentClass::Systemd:
      return plan_systemd(settings, action);
    case AgentClass::Stonith:
      return plan_stonith(settings, action);
    case AgentClass::Service: {
      // A unit when systemd runs and knows one by that name, else the init script.
      ResourceAction resolved = action;
      bool unit = systemd_running(settings) && unit_file_exists(unit_name(action.agent.type));
      resolved.agent.standard = unit ? AgentClass::Systemd : AgentClass::Lsb;
      return plan_action(settings, resolved);
    }
  }
  assertion_failed("unknown agent class", __FILE__, __LINE__);
}

}  // namespace vigil::executor
