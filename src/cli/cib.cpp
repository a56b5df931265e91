// `vigil cib query [--xpath X]`, `vigil cib replace FILE`, `vigil cib diff OLD [NEW]`: the CIB as
// XML, as cibadmin --query/--replace and crm_diff show it.
#include "cli/cib.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cib/cib_io.h"
#include "cib/op.h"
#include "cib/validate.h"
#include "cli/cli.h"

namespace vigil::cli {

std::unique_ptr<cib::CibStore> open_cib_store(const std::string& cib_file, std::ostream& err) {
  std::string path = cib_file;
  if (path.empty()) {
    if (const char* env = std::getenv("CIB_file")) path = env;
  }
  if (path.empty()) {
    err << "ERROR: no CIB to work on: give --cib FILE or set CIB_file=FILE "
           "(talking to a running vigild is not supported yet)\n";
    return nullptr;
  }
  return std::make_unique<cib::FileCibStore>(path);
}

namespace {

struct CibArgs {
  std::string cib_file, xpath, file, other;
};

Result<cib::Cib> read_store(const CibArgs& args, Cli& cli) {
  auto store = open_cib_store(args.cib_file, cli.err());
  if (!store) return fail("no CIB");
  auto cib = store->read();
  for (const auto& note : store->take_notes()) cli.err() << "WARNING: " << note << "\n";
  return cib;
}

Result<cib::Cib> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  auto cib = cib::Cib::parse(s.str(), path);
  if (!cib) return cib.error();
  if (auto valid = cib::validate(*cib); !valid) return fail(path + ": " + valid.error().message);
  return cib;
}

int query(const CibArgs& args, Cli& cli) {
  auto cib = read_store(args, cli);
  if (!cib) {
    if (cib.error().message != "no CIB") cli.err() << "ERROR: " << cib.error().message << "\n";
    return 1;
  }
  if (args.xpath.empty()) {
    cli.out() << cib->to_xml();
    return 0;
  }
  auto nodes = cib::select(*cib, args.xpath);
  if (!nodes) {
    cli.err() << "ERROR: " << nodes.error().message << "\n";
    return 1;
  }
  if (nodes->empty()) {
    cli.err() << "ERROR: no element matches " << args.xpath << "\n";
    return 1;
  }
  for (const auto& n : *nodes) {
    cib::Cib one;
    one.doc().reset();
    one.doc().append_copy(n);
    cli.out() << one.to_xml();
  }
  return 0;
}

int replace(const CibArgs& args, Cli& cli) {
  auto incoming = read_file(args.file);
  if (!incoming) {
    cli.err() << "ERROR: " << incoming.error().message << "\n";
    return 1;
  }
  auto store = open_cib_store(args.cib_file, cli.err());
  if (!store) return 1;
  auto current = store->read();
  if (!current) {
    cli.err() << "ERROR: " << current.error().message << "\n";
    return 1;
  }
  // The new document becomes a newer version than both the current one and its own.
  const auto cur = current->version();
  const cib::Version bumped{cur.admin_epoch, cur.epoch + 1, 0};
  const cib::CibOp op{{cib::CibChange::replace("/cib", cib::element_xml(incoming->root()))},
                      cur,
                      std::max(bumped, incoming->version())};
  auto done = store->commit(op);
  if (!done) {
    cli.err() << "ERROR: replace failed, nothing changed: " << done.error().message << "\n";
    return 1;
  }
  return 0;
}

// Exit status as crm_diff: 0 when equal, 1 when they differ.
int show_diff(const CibArgs& args, Cli& cli) {
  auto old_cib = read_file(args.file);
  if (!old_cib) {
    cli.err() << "ERROR: " << old_cib.error().message << "\n";
    return 2;
  }
  auto new_cib = args.other.empty() ? read_store(args, cli) : read_file(args.other);
  if (!new_cib) {
    if (new_cib.error().message != "no CIB")
      cli.err() << "ERROR: " << new_cib.error().message << "\n";
    return 2;
  }
  const auto op = cib::diff(*old_cib, *new_cib);
  if (op.changes.empty()) return 0;
  cli.out() << "--- " << op.base->str() << "\n+++ " << op.target->str() << "\n";
  for (const auto& c : op.changes) cli.out() << cib::describe(c) << "\n";
  return 1;
}

void add_cib_commands(Cli& cli) {
  auto* cib = cli.app().add_subcommand("cib", "the CIB as XML: query, replace, diff");
  cib->require_subcommand(1);
  auto args = std::make_shared<CibArgs>();
  cib->add_option("--cib", args->cib_file, "the CIB file (else CIB_file)");

  auto* q = cib->add_subcommand("query", "print the CIB, or the elements an XPath selects");
  q->add_option("--xpath", args->xpath, "e.g. //primitive[@id='vip']");
  cli.on(q, [&cli, args] { return query(*args, cli); });

  auto* r = cib->add_subcommand("replace", "replace the whole CIB by a file (validated first)");
  r->add_option("file", args->file, "CIB XML")->required();
  cli.on(r, [&cli, args] { return replace(*args, cli); });

  auto* d = cib->add_subcommand("diff", "the changes from OLD to NEW (default: the current CIB)");
  d->add_option("old", args->file, "CIB XML")->required();
  d->add_option("new", args->other, "CIB XML");
  cli.on(d, [&cli, args] { return show_diff(*args, cli); });
}

}  // namespace

VIGIL_COMMANDS(52, add_cib_commands);

}  // namespace vigil::cli
