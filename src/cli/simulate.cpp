// `vigil simulate -x FILE [-S]` — crm_simulate: what the scheduler would do with a CIB, and the
// state after doing it. Extras: --show-scores, --save-graph FILE (DOT), --output-as json and
// --explain (why each action exists).
#include <sys/mman.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <pugixml.hpp>
#include <sstream>

#include "cib/cib.h"
#include "cib/parse_in_place.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/file.h"
#include "scheduler/explain.h"
#include "scheduler/report.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {

namespace {

namespace sc = vigil::scheduler;

struct SimulateOptions {
  std::string xml_file, save_graph, output_as = "text";
  bool simulate = false, show_scores = false, explain = false;
};

std::string action_label(const sc::GraphAction& a) {
  if (a.task == "stonith") return "stonith '" + a.fence_type + "' " + a.node;
  if (a.pseudo || a.node.empty()) return a.key;
  return a.key + " " + a.node;
}

// The transition graph in Graphviz DOT, drawn the way crm_simulate -D draws it.
std::string graph_dot(const sc::TransitionGraph& g) {
  std::ostringstream out;
  out << "digraph \"g\" {\n";
  for (const auto& a : g.actions) {
    out << "\"" << action_label(a) << "\" [ style=bold color=\"green\" fontcolor=\""
        << (a.pseudo ? "orange" : "black") << "\"]\n";
  }
  for (const auto& a : g.actions) {
    for (int before : a.after) {
      out << "\"" << action_label(g.actions[static_cast<std::size_t>(before)]) << "\" -> \""
          << action_label(a) << "\" [ style = bold]\n";
    }
  }
  out << "}\n";
  return out.str();
}

std::string graph_json(const sc::TransitionGraph& g, const std::vector<std::string>& status) {
  nlohmann::json j;
  j["status"] = status;
  j["summary"] = nlohmann::json::array();
  for (const auto& l : g.summary) {
    j["summary"].push_back({{"change", l.verb},
                            {"resource", l.subject},
                            {"details", l.details},
                            {"reason", l.reason}});
  }
  j["actions"] = nlohmann::json::array();
  for (const auto& a : g.actions) {
    nlohmann::json ja = {
        {"id", a.id},     {"key", a.key},       {"task", a.task}, {"resource", a.resource},
        {"node", a.node}, {"pseudo", a.pseudo}, {"why", a.why},   {"after", a.after}};
    if (a.interval_ms > 0) ja["interval_ms"] = a.interval_ms;
    if (!a.fence_type.empty()) ja["fence_type"] = a.fence_type;
    j["actions"].push_back(ja);
  }
  return j.dump(2) + "\n";
}

// The parsed document's memory: one mapping, backed by 2 MiB pages where the system allows
// (transparent huge pages left to madvise), handed out in order and never given back, since vigil
// simulate parses one CIB and exits. A steady CIB of 32 nodes and 10 000 resources is 127 MB of
// text and 230 MiB of pugixml's own pages on top; in 4 KiB pages, touching them first is 90 000
// page faults, and walks of the document miss the TLB far more often (at 16 nodes and 1 000
// resources, those two cost ~40 % of the command's CPU time). Whatever does not fit is allocated
// as usual.
namespace document_arena {

char* base = nullptr;
std::size_t used = 0, capacity = 0;

void* allocate(std::size_t size) {
  const std::size_t aligned = (size + 15) & ~std::size_t{15};
  if (capacity - used < aligned) return std::malloc(size);
  void* at = base + used;
  used += aligned;
  return at;
}

void deallocate(void* p) {
  // As integers: comparing pointers into different allocations is unspecified.
  const auto at = reinterpret_cast<std::uintptr_t>(p),
             from = reinterpret_cast<std::uintptr_t>(base);
  if (base != nullptr && at >= from && at - from < capacity) return;
  std::free(p);
}

// Room for a document parsed from `text_size` bytes: the parsed document takes about three times
// its text. Untouched room costs only address space. Once per process (tests run the command
// more than once): what the first reservation cannot hold goes to the ordinary allocator.
void reserve(std::size_t text_size) {
  if (base != nullptr) return;
  const std::size_t room = 4 * text_size + (std::size_t{4} << 20);
  void* at = mmap(nullptr, room, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (at == MAP_FAILED) return;            // the ordinary allocator, then
  (void)madvise(at, room, MADV_HUGEPAGE);  // only a hint: without it, ordinary pages
  base = static_cast<char*>(at);
  capacity = room;
  pugi::set_memory_management_functions(allocate, deallocate);
}

}  // namespace document_arena

// The CIB file read straight into the parsed document (parse_in_place): its text, 127 MB for a
// steady 32-node, 10 000-resource cluster, is in memory once.
Result<cib::Cib> load_cib(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size <= 0) {  // unopenable, a pipe, a /proc file: read_file says why, or reads the stream
    auto text = read_file(path);
    if (!text) return text.error();
    return cib::Cib::parse(*text, path);
  }
  document_arena::reserve(static_cast<std::size_t>(size));
  auto fill = [&in, size](char* into) {
    in.clear();
    in.seekg(0);
    return static_cast<bool>(in.read(into, static_cast<std::streamsize>(size)));
  };
  return cib::parse_in_place(static_cast<std::size_t>(size), fill, path);
}

int run_simulate(Cli& cli, const SimulateOptions& o) {
  auto cib = load_cib(o.xml_file);
  if (!cib) {
    cli.err() << "vigil simulate: " << cib.error().message << "\n";
    return 1;
  }
  Millis now = sc::effective_now(*cib, wall_clock_ms());
  // -S schedules once, for the report, and carries the transition out on the CIB itself (kept
  // only when --explain still reads it afterwards).
  std::optional<sc::SimulateReport> report;
  const auto scores = o.show_scores ? sc::Scores::Keep : sc::Scores::Skip;
  if (o.simulate && o.output_as != "json")
    report = sc::simulate_transition(o.explain ? cib::Cib(*cib) : std::move(*cib), now, scores);
  sc::TransitionGraph graph = report ? std::move(report->graph) : sc::schedule(*cib, now, scores);
  if (!o.save_graph.empty()) {
    std::ofstream dot(o.save_graph);
    dot << graph_dot(graph);
    if (!dot) {
      cli.err() << "vigil simulate: cannot write " << o.save_graph << "\n";
      return 1;
    }
  }
  if (o.output_as == "json") {
    cli.out() << graph_json(graph, sc::cluster_status(*cib, now));
    return 0;
  }
  if (o.show_scores) {
    cli.out() << "Allocation scores:\n";
    for (const auto& s : graph.scores) {
      std::string v = s.value >= 1000000
                          ? "INFINITY"
                          : (s.value <= -1000000 ? "-INFINITY" : std::to_string(s.value));
      cli.out() << "pcmk__primitive_assign: " << s.resource << " allocation score on " << s.node
                << ": " << v << "\n";
    }
    cli.out() << "\n";
  }
  if (report) {
    for (const auto& line : report->lines) cli.out() << line << "\n";
  } else {
    cli.out() << "Current cluster status:\n";
    for (const auto& line : sc::cluster_status(*cib, now)) cli.out() << line << "\n";
    cli.out() << "\nTransition Summary:\n";
    for (const auto& line : sc::format_summary(graph.summary)) cli.out() << "  * " << line << "\n";
  }
  if (o.explain) {
    cli.out() << "\nWhy each action exists:\n";
    for (const auto& a : graph.actions) {
      cli.out() << "  * " << action_label(a) << ": " << (a.why.empty() ? "(ordering point)" : a.why)
                << "\n";
    }
    cli.out() << "\nWhere each resource is placed, and why:\n";
    for (const auto& p : sc::placements(*cib, now))
      cli.out() << "  * " << p.resource << ": " << p.why << "\n";
  }
  for (const auto& w : graph.warnings) cli.err() << "warning: " << w << "\n";
  return 0;
}

void add_simulate_commands(Cli& cli) {
  auto opts = std::make_shared<SimulateOptions>();
  auto* sub = cli.app().add_subcommand(
      "simulate", "what the scheduler would do with a CIB (like crm_simulate)");
  sub->add_option("-x,--xml-file", opts->xml_file, "the CIB to schedule")->required();
  sub->add_flag("-S,--simulate", opts->simulate,
                "carry out the transition and show the state after it");
  sub->add_flag("-s,--show-scores", opts->show_scores, "show the allocation scores");
  sub->add_option("-D,--save-graph", opts->save_graph,
                  "write the transition graph as DOT to this file");
  sub->add_option("--output-as", opts->output_as, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_flag("--explain", opts->explain, "say why each action exists");
  cli.on(sub, [&cli, opts] { return run_simulate(cli, *opts); });
}

}  // namespace

VIGIL_COMMANDS(70, add_simulate_commands);

}  // namespace vigil::cli
