// `vigil cib query [--xpath X]`, `vigil cib replace FILE`, `vigil cib diff OLD [NEW]`: the CIB as
// XML, as cibadmin --query/--replace and crm_diff show it.
#include "cli/cib.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>
#include <utility>

#include "cib/cib_io.h"
#include "cib/op.h"
#include "cib/op_json.h"
#include "cib/validate.h"
#include "cli/cli.h"
#include "common/file.h"
#include "control/control.h"

namespace vigil::cli {

namespace {

// The running cluster's CIB, through vigild's control socket: cib_query reads the node's agreed
// copy, cib_commit sends the op through the ring and answers once it was applied (and persisted)
// or refused everywhere.
class DaemonCibStore : public cib::CibStore {
 public:
  explicit DaemonCibStore(std::string socket) : socket_(std::move(socket)) {}

  Result<cib::Cib> read() override {
    auto answer = call({{"command", "cib_query"}}, 5000);
    if (!answer) return answer.error();
    if (!answer->value("synced", false))
      notes_.push_back("this node has not yet agreed on the CIB with the cluster");
    return cib::Cib::parse(answer->value("xml", ""), "vigild at " + socket_);
  }
  Result<cib::Cib> commit(const cib::CibOp& op) override {
    // The change travels the ring and may wait for a reconciliation: allow more than a query.
    auto answer = call({{"command", "cib_commit"}, {"op", cib::op_to_json(op)}}, 30000);
    if (!answer) return answer.error();
    return cib::Cib::parse(answer->value("xml", ""), "vigild at " + socket_);
  }
  std::vector<std::string> take_notes() override { return std::exchange(notes_, {}); }
  std::string name() const override { return socket_; }

 private:
  Result<control::Json> call(const control::Json& request, Millis timeout) {
    auto answer = control::request(socket_, request, timeout);
    // control::request names the socket; say how to work without the daemon too.
    if (!answer) return fail(answer.error().message + "; or give --cib FILE or set CIB_file=FILE");
    if (!answer->value("ok", false)) return control::refused(*answer, "vigild refused");
    return answer;
  }

  std::string socket_;
  std::vector<std::string> notes_;
};

}  // namespace

std::string named_cib_file(const std::string& cib_file) {
  if (!cib_file.empty()) return cib_file;
  const char* env = std::getenv("CIB_file");
  return env != nullptr ? env : "";
}

std::unique_ptr<cib::CibStore> open_cib_store(const std::string& cib_file, std::ostream& /*err*/,
                                              const std::string& socket, cib::MissingCib missing) {
  const std::string path = named_cib_file(cib_file);
  if (path.empty()) return std::make_unique<DaemonCibStore>(control::socket_path(socket));
  return std::make_unique<cib::FileCibStore>(path, missing);
}

namespace {

struct CibArgs {
  std::string cib_file, socket, xpath, file, other;
};

// The CIB, or nothing once the error is said on stderr.
std::optional<cib::Cib> reported(Result<cib::Cib> cib, Cli& cli) {
  if (!cib) {
    cli.err() << "ERROR: " << cib.error().message << "\n";
    return std::nullopt;
  }
  return std::move(cib).value();
}

std::optional<cib::Cib> read_store(const CibArgs& args, Cli& cli) {
  auto store = open_cib_store(args.cib_file, cli.err(), args.socket);
  if (!store) return std::nullopt;  // open_cib_store said why
  auto cib = store->read();
  for (const auto& note : store->take_notes()) cli.err() << "WARNING: " << note << "\n";
  return reported(std::move(cib), cli);
}

Result<cib::Cib> read_cib_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto cib = cib::Cib::parse(*text, path);
  if (!cib) return cib.error();
  if (auto valid = cib::validate(*cib); !valid) return fail(path + ": " + valid.error().message);
  return cib;
}

int query(const CibArgs& args, Cli& cli) {
  auto cib = read_store(args, cli);
  if (!cib) return 1;
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
  auto incoming = reported(read_cib_file(args.file), cli);
  if (!incoming) return 1;
  auto store = open_cib_store(args.cib_file, cli.err(), args.socket, cib::MissingCib::empty);
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
  auto old_cib = reported(read_cib_file(args.file), cli);
  if (!old_cib) return 2;
  auto new_cib =
      args.other.empty() ? read_store(args, cli) : reported(read_cib_file(args.other), cli);
  if (!new_cib) return 2;
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
  cib->add_option("--cib", args->cib_file, "the CIB file (else CIB_file; else the running vigild)");
  cib->add_option("--socket", args->socket, "vigild's control socket (else VIGIL_SOCKET)");

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
