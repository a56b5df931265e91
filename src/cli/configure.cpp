// `vigil configure …`: crmsh's configure level. With words it runs one command and commits at
// once; alone it is a shell (crm(live)configure# ) whose changes are staged until `commit`.
// The CIB comes from a CibStore: today a file named by --cib or CIB_file (as Pacemaker's tools
// honour CIB_file); the daemon's store plugs in behind the same interface.
#include <CLI/CLI.hpp>
#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "cib/cib_io.h"
#include "cib/crmsh.h"
#include "cib/validate.h"
#include "cli/cib.h"
#include "cli/cli.h"
#include "cli/verify.h"
#include "common/ascii.h"
#include "common/file.h"

namespace vigil::cli {

namespace {

namespace crmsh = cib::crmsh;

constexpr const char* kPrompt = "crm(live)configure# ";

// Where command lines and answers come from: readline on a terminal, plain lines otherwise
// (piped input gets no prompt, as crmsh does).
class LineSource {
 public:
  virtual ~LineSource() = default;
  virtual std::optional<std::string> read(const std::string& prompt) = 0;
};

// Plain lines. A prompt (only questions get one here) is printed, and when the input is not a
// terminal the answer is echoed so that a transcript reads like a session.
class StreamLines : public LineSource {
 public:
  StreamLines(std::istream& in, std::ostream& out, bool tty) : in_(in), out_(out), tty_(tty) {}
  std::optional<std::string> read(const std::string& prompt) override {
    if (!prompt.empty()) out_ << prompt << std::flush;
    std::string line;
    if (!std::getline(in_, line)) {
      if (!prompt.empty()) out_ << "\n";
      return std::nullopt;
    }
    if (!prompt.empty() && !tty_) out_ << line << "\n";
    return line;
  }

 private:
  std::istream& in_;
  std::ostream& out_;
  bool tty_;
};

// What completion draws on: the staged CIB's ids and the installed agents (set before each line
// is read), and the agents' parameters (their meta-data, read once when first asked).
crmsh::CompletionSource& completion_source() {
  static crmsh::CompletionSource source;
  return source;
}

// The candidates of the word readline completes, worked out once per Tab (state 0).
std::vector<std::string>& completion_matches() {
  static std::vector<std::string> matches;
  return matches;
}

char* next_completion(const char*, int state) {
  static std::size_t index;
  if (state == 0) index = 0;
  auto& matches = completion_matches();
  return index < matches.size() ? strdup(matches[index++].c_str()) : nullptr;
}

// The words before the one being completed come from the line itself, so every Tab of a line
// completes in its context.
char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no file-name completion
  auto before = crmsh::split_words(std::string_view(rl_line_buffer, static_cast<std::size_t>(start)));
  completion_matches() =
      before ? crmsh::completions(*before, text, completion_source()) : std::vector<std::string>{};
  // NAME= is followed by its value, not by a blank.
  const auto& m = completion_matches();
  rl_completion_append_character =
      !m.empty() && std::all_of(m.begin(), m.end(), [](const auto& w) { return w.back() == '='; })
          ? '\0'
          : ' ';
  return rl_completion_matches(text, next_completion);
}

class ReadlineLines : public LineSource {
 public:
  ReadlineLines() {
    rl_readline_name = "vigil-configure";
    rl_attempted_completion_function = complete;
  }
  std::optional<std::string> read(const std::string& prompt) override {
    char* line = ::readline(prompt.c_str());
    if (line == nullptr) return std::nullopt;
    std::string text(line);
    std::free(line);
    if (text.find_first_not_of(" \t") != std::string::npos) add_history(text.c_str());
    return text;
  }
};

Result<std::string> read_stream(std::istream& in) {
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return fail("cannot read standard input");
  return s.str();
}

// The file `edit` hands to $EDITOR (vi when unset, as crmsh): made private in the temporary
// directory, removed when done.
class EditFile {
 public:
  static Result<EditFile> make(const std::string& text) {
    std::string name = (std::filesystem::temp_directory_path() / "vigil-edit-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) return fail("cannot create a temporary file in " + name);
    ::close(fd);
    EditFile file(name);
    std::ofstream out(name, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return fail(name + ": cannot write");
    return file;
  }
  EditFile(EditFile&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  EditFile(const EditFile&) = delete;
  EditFile& operator=(const EditFile&) = delete;
  EditFile& operator=(EditFile&&) = delete;
  ~EditFile() {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  const std::string& path() const { return path_; }

  // Runs the editor on the file (through the shell, as crmsh: EDITOR may carry options) and
  // reads back what was saved.
  Result<std::string> edited() const {
    const char* editor = std::getenv("EDITOR");
    const std::string command =
        std::string(editor && *editor ? editor : "vi") + " '" + path_ + "'";
    const int status = std::system(command.c_str());
    if (status != 0) return fail(command + " failed (exit status " + std::to_string(status) + ")");
    return read_file(path_);
  }

 private:
  explicit EditFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// ocf:PROVIDER:TYPE and lsb:NAME for every agent the checks would find.
std::vector<std::string> agent_names() {
  const auto settings = agent_settings();
  std::vector<std::string> names;
  for (const auto& provider : executor::list_providers(settings)) {
    auto types = executor::list_agents(settings, "ocf", provider);
    if (!types) continue;
    for (const auto& type : *types) names.push_back("ocf:" + provider + ":" + type);
  }
  if (auto scripts = executor::list_agents(settings, "lsb")) {
    for (const auto& script : *scripts) names.push_back("lsb:" + script);
  }
  return names;
}

// One configure session over a store: a working copy of the CIB and the changes staged on it.
class ConfigureSession {
 public:
  ConfigureSession(cib::CibStore& store, Cli& cli, LineSource& in, bool interactive, bool force)
      : store_(store), cli_(cli), in_(in), interactive_(interactive), force_(force) {}

  bool load() {
    auto cib = store_.read();
    for (const auto& note : store_.take_notes()) cli_.err() << "WARNING: " << note << "\n";
    if (!cib) {
      cli_.err() << "ERROR: " << cib.error().message << "\n";
      return false;
    }
    original_ = *cib;
    working_ = std::move(cib).value();
    findings_.reset();
    return true;
  }

  // Runs one command; false when it failed (and then it changed nothing).
  bool execute(const std::vector<std::string>& words) {
    const std::string& command = words.front();
    const std::vector<std::string> args(words.begin() + 1, words.end());
    if (command == "show") return show(args);
    if (command == "verify") return verify();
    if (command == "commit") {
      if (args.size() > 1 || (args.size() == 1 && args[0] != "force")) {
        cli_.err() << "ERROR: usage: commit [force]\n";
        return false;
      }
      return commit(!args.empty());
    }
    if (command == "refresh") return refresh();
    if (command == "help") return help();
    if (command == "load") return load_file(args);
    if (command == "edit") {
      // As crmsh: an editor needs someone at a terminal.
      if (!interactive_) {
        cli_.err() << "INFO: edit not allowed in batch mode\n";
        return false;
      }
      return edit_in_editor(args);
    }
    if (command == "exit" || command == "quit" || command == "end" || command == "up" ||
        command == "bye") {
      finished_ = true;
      return leave();
    }
    if (command == "erase" && !confirm("Do you really want to erase the whole configuration?")) {
      cli_.err() << "INFO: erase cancelled\n";
      return true;
    }
    return edit(words);
  }

  bool pending() const { return !staged_.empty(); }
  bool finished() const { return finished_; }

  // `force`: a terminal session's changes go onto a CIB that moved since it was read.
  bool commit(bool force = false) {
    if (staged_.empty()) {
      cli_.err() << "INFO: apparently there is nothing to commit\n";
      return true;
    }
    if (!cluster_checked(force)) return false;
    auto committed = store_.commit({staged_, original_.version()});
    // Outside a terminal, a configuration that moved meanwhile (a node entering itself in the node
    // list, another client) is no reason to fail: the commands run again on the new version, and
    // are checked again there. A terminal session does so only when told (`commit force`); it
    // keeps its changes either way.
    const bool rebase = force || !interactive_;
    for (int again = 0; !committed && rebase && again < kRebases && moved(committed.error());
         ++again) {
      if (!replay()) return false;
      committed = store_.commit({staged_, original_.version()});
    }
    if (!committed) {
      cli_.err() << "ERROR: commit failed, nothing changed: " << committed.error().message << "\n";
      if (moved(committed.error()))
        cli_.err() << "INFO: the CIB changed since this session read it: 'commit force' makes "
                      "your changes on the new CIB, 'refresh' drops them and reads it\n";
      return false;
    }
    original_ = *committed;
    working_ = std::move(committed).value();
    staged_.clear();
    edits_.clear();
    return true;
  }

  // crmsh verifies a commit with crm_verify once there are primitives; on an error the changes
  // bring it commits only when forced (-F, `commit force`) or when a terminal's user says so.
  bool cluster_checked(bool forced) {
    const auto brought = new_findings(check_cluster(original_), check_cluster(working_));
    if (brought.empty()) return true;
    for (const auto& f : brought) cli_.err() << "ERROR: " << f.text << "\n";
    if (forced || force_) {
      cli_.err() << "INFO: commit forced\n";
      return true;
    }
    if (interactive_) return confirm("Do you still want to commit?");
    cli_.err() << "INFO: nothing committed; --force (-F) commits it anyway, as crm -F does\n";
    return false;
  }

  // `refresh`: the store's CIB read again, the staged changes dropped (a terminal is asked
  // first when there are any, as crmsh asks).
  bool refresh() {
    if (!staged_.empty() && interactive_ &&
        !confirm("All changes will be dropped. Do you want to proceed?"))
      return true;
    staged_.clear();
    edits_.clear();
    return load();
  }

  // `exit` with staged changes: a terminal is asked, piped input commits (as crmsh does).
  bool leave() {
    if (staged_.empty()) return true;
    if (!interactive_ || confirm("There are changes pending. Do you want to commit them?")) {
      return commit();
    }
    staged_.clear();
    return true;
  }

  std::vector<std::string> ids() const { return crmsh::object_ids(working_); }

  // The parameter names of an agent as typed after `primitive ID` (IPaddr2, ocf:heartbeat:…).
  std::vector<std::string> agent_parameters(const std::string& agent) {
    std::vector<std::string> names;
    auto spec = resolve_agent(agent_settings(), agent);
    if (!spec) return names;
    auto metadata = agents_.get(*spec);
    if (!metadata) return names;
    for (const auto& p : (*metadata)->parameters) names.push_back(p.name);
    return names;
  }

 private:
  bool show(const std::vector<std::string>& args) {
    const bool xml = !args.empty() && args.front() == "xml";
    const std::vector<std::string> ids(args.begin() + (xml ? 1 : 0), args.end());
    auto text = xml ? crmsh::show_xml(working_, ids) : crmsh::show(working_, ids);
    if (!text) {
      cli_.err() << "ERROR: " << text.error().message << "\n";
      return false;
    }
    cli_.out() << *text;
    return true;
  }

  // crm_verify -L: the schema's problems and every check a commit makes, on the whole CIB.
  bool verify() {
    auto found = cib::problems(working_);
    for (const auto& p : found) cli_.err() << "ERROR: " << p << "\n";
    return report(cli::verify(working_, agents_)) && found.empty();
  }

  // Prints the findings; true when none blocks (--force lets agent errors pass as warnings).
  bool report(const std::vector<Finding>& findings) {
    bool passes = true;
    for (const auto& f : findings) {
      const bool blocks = f.severity == Finding::Severity::Error ||
                          (f.severity == Finding::Severity::Forceable && !force_);
      cli_.err() << (blocks ? "ERROR: " : "WARNING: ") << f.text << "\n";
      passes = passes && !blocks;
    }
    return passes;
  }

  bool help() {
    cli_.out() << "configure commands:";
    for (const auto& c : crmsh::command_names()) cli_.out() << " " << c;
    cli_.out() << "\n";
    return true;
  }

  // What a command makes of the CIB it is given: run again on a newer CIB when a batch's commit
  // meets one.
  using Edit = std::function<Result<std::vector<cib::CibChange>>(const cib::Cib&)>;

  bool edit(const std::vector<std::string>& words) {
    return stage([words](const cib::Cib& cib) { return crmsh::parse(words, cib); },
                 words.front());
  }

  bool stage(const Edit& make, const std::string& command) {
    auto changes = make(working_);
    if (!changes) {
      cli_.err() << "ERROR: " << changes.error().message << "\n";
      return false;
    }
    auto next = cib::apply(working_, {*changes});
    if (!next) {
      cli_.err() << "ERROR: " << command << ": " << next.error().message << "\n";
      return false;
    }
    // What the command brings is checked before it is staged: one bad word refuses it whole.
    if (!findings_) findings_ = check_objects(working_, agents_);
    auto findings = check_objects(*next, agents_);
    if (!report(new_findings(*findings_, findings))) return false;
    findings_ = std::move(findings);
    working_ = std::move(next).value();
    staged_.insert(staged_.end(), changes->begin(), changes->end());
    edits_.push_back(make);
    return true;
  }

  // `load [xml] update|replace|push FILE|-`: the file's commands (or CIB XML) as one change.
  bool load_file(const std::vector<std::string>& args) {
    const bool xml = !args.empty() && args.front() == "xml";
    if (args.size() != (xml ? 3u : 2u)) {
      cli_.err() << "ERROR: usage: load [xml] update|replace|push FILE|-\n";
      return false;
    }
    const std::string& how = args[xml ? 1 : 0];
    const std::string& path = args.back();
    const auto method = crmsh::load_method(how);
    if (!method) {
      cli_.err() << "ERROR: load: unknown method " << how << " (update, replace or push)\n";
      return false;
    }
    auto text = path == "-" ? read_stream(std::cin) : read_file(path);
    if (!text) {
      cli_.err() << "ERROR: load: " << text.error().message << "\n";
      return false;
    }
    const std::string source = path == "-" ? "stdin" : path;
    return stage(
        [xml, text = *text, method = *method, source](const cib::Cib& cib) {
          return xml ? crmsh::load_xml(cib, text, method, source)
                     : crmsh::load(cib, text, method, source);
        },
        "load");
  }

  // `edit [ID…]`: the crmsh text of the configuration (or of the objects named) in $EDITOR
  // (vi when unset, as crmsh); what is saved replaces what was shown. A text with an error is
  // refused, or edited again if the user says so.
  bool edit_in_editor(const std::vector<std::string>& ids) {
    auto shown = crmsh::show(working_, ids);
    if (!shown) {
      cli_.err() << "ERROR: edit: " << shown.error().message << "\n";
      return false;
    }
    auto file = EditFile::make(*shown);
    if (!file) {
      cli_.err() << "ERROR: edit: " << file.error().message << "\n";
      return false;
    }
    for (int round = 0; round < kEditRounds; ++round) {
      auto text = file->edited();
      if (!text) {
        cli_.err() << "ERROR: edit: " << text.error().message << "\n";
        return false;
      }
      if (*text == *shown) {
        cli_.err() << "INFO: edit: nothing changed\n";
        return true;
      }
      const auto make = [text = *text, path = file->path(), ids](const cib::Cib& cib) {
        return crmsh::load(cib, text, crmsh::LoadMethod::edit, path, ids);
      };
      if (stage(make, "edit")) return true;  // stage says what was wrong when it refuses
      if (!confirm("Edit or discard changes (yes to edit, no to discard)")) return false;
    }
    return false;
  }

  static bool moved(const Error& e) { return e.code == ErrorCode::conflict; }

  // The staged commands once more, on the store's current CIB.
  bool replay() {
    auto edits = std::move(edits_);
    edits_.clear();
    staged_.clear();
    if (!load()) return false;
    for (const auto& make : edits) {
      if (!stage(make, "commit")) return false;
    }
    return true;
  }

  // crmsh's question form: "… (y/n)? "; --force answers yes; end of input answers no.
  bool confirm(const std::string& question) {
    std::string prompt = question;
    if (prompt.back() == '?') prompt.pop_back();
    prompt += " (y/n)? ";
    if (force_) {
      cli_.err() << "INFO: " << prompt << "[YES]\n";
      return true;
    }
    for (int tries = 0; tries < 3; ++tries) {
      auto answer = in_.read(prompt);
      if (!answer) return false;
      const auto first = answer->find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      const char c = ascii_lower((*answer)[first]);
      if (c == 'y') return true;
      if (c == 'n') return false;
    }
    return false;
  }

  cib::CibStore& store_;
  Cli& cli_;
  LineSource& in_;
  bool interactive_;
  bool force_;
  bool finished_ = false;
  cib::Cib original_, working_;
  std::vector<cib::CibChange> staged_;
  std::vector<Edit> edits_;  // the commands behind staged_
  executor::MetadataCache agents_{agent_settings()};
  std::optional<std::vector<Finding>> findings_;  // of working_, once a command needed them
  static constexpr int kRebases = 5;
  static constexpr int kEditRounds = 20;
};

// The shell: reads commands until exit or end of input.
int run_shell(ConfigureSession& session, Cli& cli, LineSource& in, bool interactive) {
  bool all_ok = true;
  const auto agents = interactive ? agent_names() : std::vector<std::string>{};
  while (!session.finished()) {
    if (interactive) {
      // Completion offers what the staged CIB and the agent directories hold right now.
      completion_source().ids = session.ids();
      completion_source().agents = agents;
      completion_source().parameters = [&session](const std::string& agent) {
        return session.agent_parameters(agent);
      };
    }
    auto line = in.read(interactive ? kPrompt : "");
    if (!line) {
      if (interactive) std::cout << "\n";
      all_ok = session.leave() && all_ok;
      break;
    }
    // A trailing backslash continues the command on the next line.
    while (!line->empty() && line->back() == '\\') {
      auto more = in.read(interactive ? "> " : "");
      line->back() = ' ';
      if (!more) break;
      *line += *more;
    }
    auto first = line->find_first_not_of(" \t");
    if (first == std::string::npos || (*line)[first] == '#') continue;
    auto words = crmsh::split_words(*line);
    if (!words) {
      cli.err() << "ERROR: " << words.error().message << "\n";
      all_ok = false;
      continue;
    }
    all_ok = session.execute(*words) && all_ok;
  }
  // A batch (piped) run reports whether every command worked; a terminal session ends fine.
  return (interactive || all_ok) ? 0 : 1;
}

struct ConfigureArgs {
  std::string cib_file, socket;
  bool force = false;
};

void add_configure_commands(Cli& cli) {
  auto* sub = cli.app().add_subcommand(
      "configure",
      "crmsh's configure level: primitive, group, clone, ms, location, colocation, "
      "order, property, rsc_defaults, op_defaults, delete, rename, load, edit, show, verify, "
      "commit, erase; alone, an interactive shell");
  auto args = std::make_shared<ConfigureArgs>();
  sub->add_option("--cib", args->cib_file,
                  "the CIB file to work on (else CIB_file; else the running vigild)");
  sub->add_option("--socket", args->socket, "vigild's control socket (else VIGIL_SOCKET)");
  sub->add_flag("--force,-F", args->force,
                "answer yes to questions (erase); commit primitives whose agent, parameters or "
                "required parameters the agent's meta-data does not confirm");
  // Everything after the first command word belongs to the crmsh command ("-inf:" included).
  sub->prefix_command();
  sub->fallthrough(false);
  cli.on(sub, [&cli, sub, args] {
    std::vector<std::string> words = sub->remaining();
    // A session may start a new CIB file; `show` or `verify` alone only reads one.
    const bool reads_only = !words.empty() && (words[0] == "show" || words[0] == "verify");
    auto store = open_cib_store(args->cib_file, cli.err(), args->socket,
                                reads_only ? cib::MissingCib::refused : cib::MissingCib::empty);
    if (!store) return 1;
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    std::unique_ptr<LineSource> in;
    if (tty && words.empty()) {
      in = std::make_unique<ReadlineLines>();
    } else {
      in = std::make_unique<StreamLines>(std::cin, cli.out(), tty);
    }
    ConfigureSession session(*store, cli, *in, tty, args->force);
    if (!session.load()) return 1;
    if (words.empty()) return run_shell(session, cli, *in, tty);
    // One shot: the command, then an immediate commit of what it staged.
    if (!session.execute(words)) return 1;
    if (session.pending() && !session.commit()) return 1;
    return 0;
  });
}

}  // namespace

VIGIL_COMMANDS(50, add_configure_commands);

}  // namespace vigil::cli
