#include "conformance.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler::conformance {

namespace {

// 2023-01-01T00:00:00Z: "now" for cases without an execution-date (the corpus predates it).
constexpr Millis kFallbackNow = 1672531200000;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

void replace_first(std::string& s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
}

// upstream's sed -E substitutions, then whitespace removed (diff --ignore-all-space).
std::string normalise(std::string line) {
  for (auto pos = line.find("ocf::"); pos != std::string::npos; pos = line.find("ocf::", pos))
    line.erase(pos + 3, 1);
  replace_first(line, "Masters:", "Promoted:");
  replace_first(line, "Slaves:", "Unpromoted:");
  // " Master" followed by a space, '[' or the end of the line
  for (auto pos = line.find(" Master"); pos != std::string::npos;
       pos = line.find(" Master", pos + 1)) {
    std::size_t after = pos + 7;
    if (after == line.size() || line[after] == ' ' || line[after] == '[') {
      line.replace(pos, 7, " Promoted");
      break;
    }
  }
  replace_first(line, " Slave ", " Unpromoted ");
  line.erase(
      std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }),
      line.end());
  return line;
}

// Every line that is not blank once normalised.
std::vector<std::string> normalised_lines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& raw : lines) {
    if (auto n = normalise(raw); !n.empty()) out.push_back(std::move(n));
  }
  return out;
}

struct Sections {
  std::vector<std::string> current, summary, executing, revised;
};

Sections sections(const std::vector<std::string>& lines) {
  Sections s;
  std::vector<std::string>* into = nullptr;
  for (const auto& raw : lines) {
    std::string n = normalise(raw);
    if (n.empty() || n.rfind("Usingtheoriginalexecutiondate", 0) == 0) continue;
    if (n == "Currentclusterstatus:") {
      into = &s.current;
    } else if (n == "TransitionSummary:") {
      into = &s.summary;
    } else if (n == "ExecutingClusterTransition:") {
      into = &s.executing;
    } else if (n == "RevisedClusterStatus:") {
      into = &s.revised;
    } else if (into) {
      into->push_back(n);
    }
  }
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

}  // namespace

CaseResult run_case(const std::string& corpus_dir, const std::string& name,
                    const std::vector<std::string>& features) {
  CaseResult r;
  r.name = name;
  r.features = features;
  auto xml = read_file(corpus_dir + "/xml/" + name + ".xml");
  const auto expected_lines = split_lines(read_file(corpus_dir + "/summary/" + name + ".summary"));
  auto expected = sections(expected_lines);
  auto cib = cib::Cib::parse(xml, name + ".xml");
  if (!cib) return r;
  r.parsed = true;
  const auto actual_lines = simulate_report(*cib, kFallbackNow);
  auto actual = sections(actual_lines);
  std::multiset<std::string> want(expected.summary.begin(), expected.summary.end());
  std::multiset<std::string> got(actual.summary.begin(), actual.summary.end());
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(r.missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                      std::back_inserter(r.unexpected));
  r.summary_empty = expected.summary.empty();
  r.summary_ok = r.missing.empty() && r.unexpected.empty();
  r.status_ok = expected.current == actual.current && expected.revised == actual.revised;
  r.execution_ok = expected.executing == actual.executing;
  r.whole_ok = normalised_lines(expected_lines) == normalised_lines(actual_lines);
  return r;
}

std::vector<CaseResult> run_corpus(const std::string& corpus_dir) {
  std::vector<CaseResult> out;
  auto index = split_lines(read_file(corpus_dir + "/index.tsv"));
  for (std::size_t i = 1; i < index.size(); ++i) {
    auto cols = split(index[i], '\t');
    if (cols.size() < 4) continue;
    out.push_back(run_case(corpus_dir, cols[0], split(cols[3], ',')));
  }
  return out;
}

bool in_core_subset(const CaseResult& r) {
  static const std::set<std::string> core = {"primitives-only",
                                             "group",
                                             "location",
                                             "colocation",
                                             "order",
                                             "rules",
                                             "asymmetric",
                                             "stickiness",
                                             "failed-op",
                                             "fail-count",
                                             "migration-threshold",
                                             "on-fail",
                                             "standby",
                                             "maintenance",
                                             "unmanaged",
                                             "shutdown",
                                             "fencing",
                                             "unclean",
                                             "offline-node",
                                             "stonith-rsc",
                                             "no-quorum",
                                             "defaults",
                                             "target-role",
                                             "orphan",
                                             "pending-op"};
  return std::all_of(r.features.begin(), r.features.end(),
                     [](const std::string& f) { return core.count(f) > 0; });
}

std::string feature_table(const std::vector<CaseResult>& results) {
  struct Count {
    int cases = 0, empty = 0, summary = 0, empty_summary = 0, status = 0, execution = 0, whole = 0;
  };
  std::map<std::string, Count> per;
  Count all, core;
  for (const auto& r : results) {
    auto add = [&](Count& c) {
      ++c.cases;
      c.empty += r.summary_empty;
      c.summary += r.summary_ok && !r.summary_empty;
      c.empty_summary += r.summary_ok && r.summary_empty;
      c.status += r.status_ok;
      c.execution += r.execution_ok;
      c.whole += r.whole_ok;
    };
    add(all);
    if (in_core_subset(r)) add(core);
    for (const auto& f : r.features) add(per[f]);
  }
  std::ostringstream out;
  auto row = [&](const std::string& name, const Count& c) {
    out << "| " << name << " | " << c.cases << " | " << c.summary << "/" << c.cases - c.empty
        << " | " << c.empty_summary << "/" << c.empty << " | " << c.status << " | " << c.execution
        << " | " << c.whole << " |\n";
  };
  out << "| feature | cases | summary pass | empty summary pass | status pass | "
         "execution order pass | whole output pass |\n|---|---|---|---|---|---|---|\n";
  for (const auto& [f, c] : per) row(f, c);
  row("**core subset**", core);
  row("**all**", all);
  return out.str();
}

std::set<std::string> read_list(const std::string& path) {
  std::set<std::string> names;
  for (const auto& line : split_lines(read_file(path))) {
    if (!line.empty() && line[0] != '#') names.insert(line);
  }
  return names;
}

}  // namespace vigil::scheduler::conformance
