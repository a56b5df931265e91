// parse_in_place: a CIB parsed where its text was written, in the document's own buffer, so that
// the text is in memory once and not twice (Cib::parse copies it: a steady CIB of 32 nodes and
// 10 000 resources is 127 MB of text). For large inputs read whole, as `vigil simulate -x FILE`.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "cib/cib.h"
#include "common/common.h"

namespace vigil::cib {

// `fill` writes the `size` bytes of the text into the buffer it is given and says whether it
// could. Errors are Cib::parse's, word for word: for them the text is asked for again.
Result<Cib> parse_in_place(std::size_t size, const std::function<bool(char*)>& fill,
                           std::string_view origin);

}  // namespace vigil::cib
