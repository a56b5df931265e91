// file: reading a whole file at a module's edge (a CIB, a crmsh script, a journal), one way with
// one error text. Pure cores never include this.
#pragma once

#include <string>

#include "common/common.h"

namespace vigil {

// The file's bytes in one string, read straight into it (a 10 000-resource CIB is over 100 MB:
// no stream buffer holds a second copy). The error names the path and the system's reason.
Result<std::string> read_file(const std::string& path);

}  // namespace vigil
