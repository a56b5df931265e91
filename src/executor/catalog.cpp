#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "executor/agent.h"
#include "executor/executor.h"

namespace vigil::executor {

namespace {

namespace fs = std::filesystem;

// Executable regular files (symlinks followed) of a directory, optionally with a name prefix.
std::vector<std::string> executables(const std::string& dir, std::string_view prefix = {}) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || name.rfind(prefix, 0) != 0) continue;
    std::error_code fec;
    if (!fs::is_regular_file(it->path(), fec)) continue;
    if (::access(it->path().c_str(), X_OK) != 0) continue;
    names.push_back(name);
  }
  return names;
}

std::vector<std::string> systemd_units(const Settings& s) {
  std::vector<std::string> names;
  if (!systemd_running(s)) return names;
  for (const char* dir : {"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
                          "/usr/lib/systemd/system"}) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      constexpr std::string_view suffix = ".service";
      // Templates (foo@.service) are not units one can start by that name.
      if (name.size() > suffix.size() && name.ends_with(suffix) && !name.ends_with("@.service")) {
        names.push_back(name.substr(0, name.size() - suffix.size()));
      }
    }
  }
  return names;
}

// Pacemaker's own fence helpers are not devices one configures.
bool fence_device(const std::string& name) {
  return name != "fence_ack_manual" && name != "fence_pcmk" && name != "fence_legacy";
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::vector<std::string> list_classes(const Settings& settings) {
  std::vector<std::string> classes{"lsb", "ocf", "service", "stonith"};
  if (systemd_running(settings)) classes.emplace_back("systemd");
  sort_unique(classes);
  return classes;
}

std::vector<std::string> list_providers(const Settings& settings) {
  std::vector<std::string> providers;
  std::error_code ec;
  for (fs::directory_iterator it(settings.ocf_root + "/resource.d", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code dec;
    if (fs::is_directory(it->path(), dec)) providers.push_back(it->path().filename().string());
  }
  sort_unique(providers);
  return providers;
}

Result<std::vector<std::string>> list_agents(const Settings& settings, std::string_view standard,
                                             std::string_view provider) {
  auto classes = list_classes(settings);
  if (std::find(classes.begin(), classes.end(), standard) == classes.end()) {
    return fail("class " + std::string(standard) + " does not exist");
  }
  if (!provider.empty()) {
    auto providers = list_providers(settings);
    if (standard != "ocf" ||
        std::find(providers.begin(), providers.end(), provider) == providers.end()) {
      return fail("there is no provider " + std::string(provider) + " for class " +
                  std::string(standard));
    }
  }
  std::vector<std::string> agents;
  if (standard == "ocf") {
    auto providers = provider.empty() ? list_providers(settings)
                                      : std::vector<std::string>{std::string(provider)};
    for (const auto& p : providers) {
      auto found = executables(settings.ocf_root + "/resource.d/" + p);
      agents.insert(agents.end(), found.begin(), found.end());
    }
  }
  if (standard == "lsb" || standard == "service") {
    auto found = executables(settings.lsb_dir);
    agents.insert(agents.end(), found.begin(), found.end());
  }
  if (standard == "systemd" || standard == "service") {
    auto found = systemd_units(settings);
    agents.insert(agents.end(), found.begin(), found.end());
  }
  if (standard == "stonith") {
    for (auto& name : executables(settings.fence_dir, "fence_")) {
      if (fence_device(name)) agents.push_back(name);
    }
  }
  sort_unique(agents);
  return agents;
}

}  // namespace vigil::executor
