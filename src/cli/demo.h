// demo: what `vigil demo` checks of each vigild it started, once reaped, before it deletes the
// directory holding their logs.
#pragma once

#include <optional>
#include <string>

namespace vigil::cli {

// What went wrong with a child daemon, once reaped: it exited non-zero or died of a signal nobody
// sent it (`sent`: the signal we sent, 0 for none), or its log holds a sanitizer report ("runtime
// error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer" — GCC's UBSan ignores log_path, so
// the report is only in what the child wrote). The message names the log and the report's first
// line; nothing when all is well.
std::optional<std::string> child_trouble(int wait_status, int sent, const std::string& log);

}  // namespace vigil::cli
