// The config module's disk edge for the configuration file and the default paths.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/config.h"

namespace vigil::config {

namespace {
// A cluster configuration is a few kilobytes; anything this large is not one.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}
}  // namespace

Result<ClusterConfig> load_config(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(path + ": cannot read the configuration: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail(path + ": is a directory, expected a configuration file");
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > kMaxConfigBytes) {
    return fail(path + ": " + std::to_string(st.st_size) +
                " bytes is too large for a cluster configuration");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot read the configuration: " + std::strerror(errno));
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return fail(path + ": read error");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) return fail(path + ": too large for a cluster configuration");
  return parse_config(text, path);
}

Result<ClusterConfig> load_default_config(const std::string& etc) {
  const std::string path = default_config_path(etc);
  if (!exists(path)) {
    return fail("no cluster configuration found: neither " + etc + "/vigil/cluster.conf nor " +
                etc + "/corosync/corosync.conf exists (use --config FILE)");
  }
  return load_config(path);
}

std::string first_existing(const std::vector<std::string>& candidates) {
  VIGIL_ASSERT(!candidates.empty());
  for (const auto& c : candidates) {
    if (exists(c)) return c;
  }
  return candidates.front();
}

std::string default_config_path(const std::string& etc) {
  return first_existing({etc + "/vigil/cluster.conf", etc + "/corosync/corosync.conf"});
}

std::string authkey_path(const ClusterConfig& config) {
  if (!config.totem.keyfile.empty()) return config.totem.keyfile;
  return authkey_beside(config.origin);
}

std::string authkey_beside(const std::string& config_path) {
  return (std::filesystem::path(config_path).parent_path() / "authkey").string();
}

bool authkey_required(const ClusterConfig& config) {
  return config.totem.crypto_cipher != "none" || config.totem.crypto_hash != "none";
}

}  // namespace vigil::config
