// The CLI's access to the CIB, shared by `vigil configure` and `vigil cib`.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "cib/store.h"

namespace vigil::cli {

// The CIB file the user named: `cib_file` (--cib), else CIB_file; empty when neither is set.
std::string named_cib_file(const std::string& cib_file);

// The store the commands work on: the file `cib_file` (--cib), else CIB_file from the
// environment, as Pacemaker's tools honour it; else the running vigild's CIB through its control
// socket (`socket`, else VIGIL_SOCKET, else the default run dir). Null (with the reason written
// to `err`) when no store can be opened. `missing` says whether a named file that is not there
// reads as a new, empty CIB (commands that write it) or is an error (commands that only read:
// a mistyped name must not show an empty cluster).
std::unique_ptr<cib::CibStore> open_cib_store(const std::string& cib_file, std::ostream& err,
                                              const std::string& socket = "",
                                              cib::MissingCib missing = cib::MissingCib::refused);

}  // namespace vigil::cli
