#include "cli/operations.h"

#include "cib/op.h"
#include "cli/cib.h"
#include "common/common.h"

namespace vigil::cli {

std::optional<Session> open_session(const std::string& cib_file, Cli& cli) {
  auto store = open_cib_store(cib_file, cli.err());
  if (!store) return std::nullopt;
  auto cib = store->read();
  for (const auto& note : store->take_notes()) cli.err() << "WARNING: " << note << "\n";
  if (!cib) {
    cli.err() << "ERROR: " << cib.error().message << "\n";
    return std::nullopt;
  }
  return Session{std::move(store), std::move(*cib)};
}

bool commit(Session& s, std::vector<cib::CibChange> changes, Cli& cli) {
  if (changes.empty()) return true;
  auto done = s.store->commit(cib::CibOp{std::move(changes)});
  if (!done) {
    cli.err() << "ERROR: nothing changed: " << done.error().message << "\n";
    return false;
  }
  s.cib = std::move(*done);
  return true;
}

}  // namespace vigil::cli
