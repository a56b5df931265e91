// operations: what `vigil resource …` and `vigil node …` share — the CIB from the store (the same
// open_cib_store as `vigil configure`: --cib, CIB_file, else vigild), node and resource look-ups
// in crm's words, and the CibChanges that set or delete one attribute (cib/edit.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cib/edit.h"
#include "cib/store.h"
#include "cli/cli.h"

namespace vigil::cli {

// An open store and the CIB read from it; errors already reported on cli.err().
struct Session {
  std::unique_ptr<cib::CibStore> store;
  cib::Cib cib;
};
std::optional<Session> open_session(const std::string& cib_file, Cli& cli);

// Commits `changes` as one op; reports a refusal on cli.err(). True when committed.
bool commit(Session& s, std::vector<cib::CibChange> changes, Cli& cli);

// The look-ups and attribute changes of cib/edit.h, which the status page's actions share.
using cib::address_of;
using cib::delete_attribute;
using cib::find_node;
using cib::find_resource;
using cib::set_attribute;

}  // namespace vigil::cli
