// scheduler_conformance CORPUS_DIR [--failures] [--ratchet LISTS_DIR]: runs every corpus case and
// prints the per-feature pass table (markdown) for the report. --show NAME prints only what vigil
// simulates for that case (as crm_simulate -S would), to diff against summary/NAME.summary;
// --outputs DIR writes that for every case, as DIR/NAME.out. --ratchet rewrites the ratchet
// lists in LISTS_DIR (tests/scheduler: passing.txt, status-passing.txt, execution-passing.txt,
// whole-passing.txt)
// with the cases that pass now, and refuses, writing nothing and exiting 1, when a listed case
// no longer passes: it lists those cases, which a fix must bring back (or a commit take out of
// the list by hand, saying why).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "../conformance.h"
#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace conformance = vigil::scheduler::conformance;

namespace {

// The listed cases that do not pass now (or are not in the corpus), each printed; their count.
int dropped(const std::vector<conformance::CaseResult>& results, const std::string& dir) {
  std::map<std::string, const conformance::CaseResult*> by_name;
  for (const auto& r : results) by_name[r.name] = &r;
  int count = 0;
  for (const auto& list : conformance::kRatchetLists) {
    for (const auto& name : conformance::read_list(dir + "/" + list.file)) {
      const auto found = by_name.find(name);
      if (found != by_name.end() && found->second->*list.passes) continue;
      std::cerr << "would drop " << name << " from " << list.file << " ("
                << (found == by_name.end() ? "not in the corpus"
                                           : std::string(list.what) + " no longer matches")
                << ")\n";
      ++count;
    }
  }
  return count;
}

void write_lists(const std::vector<conformance::CaseResult>& results, const std::string& dir) {
  for (const auto& list : conformance::kRatchetLists) {
    const auto before = conformance::read_list(dir + "/" + list.file).size();
    std::ofstream out(dir + "/" + list.file);
    out << "# Corpus cases whose " << list.what << " matches crm_simulate's; the conformance\n"
        << "# test fails if one stops matching. Regenerate with scheduler_conformance --ratchet,\n"
        << "# which never drops a case.\n";
    std::size_t after = 0;
    for (const auto& r : results) {
      if (!(r.*list.passes)) continue;
      out << r.name << "\n";
      ++after;
    }
    std::cout << list.file << ": " << after << " cases (" << after - before << " new)\n";
  }
}

// What vigil simulates for one case, as crm_simulate -S prints it.
bool show(const std::string& corpus, const std::string& name, std::ostream& out) {
  std::ifstream in(corpus + "/xml/" + name + ".xml");
  std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cib = vigil::cib::Cib::parse(xml, name);
  if (!cib) return false;
  for (const auto& line : vigil::scheduler::simulate_report(*cib, 1672531200000))
    out << line << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: scheduler_conformance CORPUS_DIR [--failures] [--ratchet LISTS_DIR] "
                 "[--show NAME] [--outputs DIR]\n";
    return 2;
  }
  std::string corpus = argv[1], lists;
  bool failures = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--failures") failures = true;
    if (a == "--ratchet" && i + 1 < argc) lists = argv[++i];
  }
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--show") return show(corpus, argv[i + 1], std::cout) ? 0 : 1;
    if (std::string(argv[i]) != "--outputs") continue;
    for (const auto& entry : std::filesystem::directory_iterator(corpus + "/xml")) {
      const std::string name = entry.path().stem().string();
      std::ofstream out(std::string(argv[i + 1]) + "/" + name + ".out");
      show(corpus, name, out);
    }
    return 0;
  }
  const auto results = conformance::run_corpus(corpus);
  std::cout << conformance::feature_table(results);
  if (failures) {
    for (const auto& r : results) {
      if (r.summary_ok) continue;
      std::cout << "FAIL " << r.name << (conformance::in_core_subset(r) ? " [core]" : "") << "\n";
      for (const auto& m : r.missing) std::cout << "   - " << m << "\n";
      for (const auto& u : r.unexpected) std::cout << "   + " << u << "\n";
    }
  }
  if (lists.empty()) return 0;
  if (const int n = dropped(results, lists); n > 0) {
    std::cerr << "scheduler_conformance: " << n << " listed case(s) no longer pass; the lists in "
              << lists << " are left as they were\n";
    return 1;
  }
  write_lists(results, lists);
  return 0;
}
