// digest: the MD5 parameter digests Pacemaker stores with every operation (op-digest).
#pragma once

#include <map>
#include <string>

namespace vigil::scheduler {

std::string md5_hex(const std::string& data);

// The op-digest of an operation run with these parameters (names sorted, meta filtered out).
std::string parameters_digest(const std::map<std::string, std::string>& params);

}  // namespace vigil::scheduler
