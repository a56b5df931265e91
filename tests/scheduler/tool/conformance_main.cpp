// scheduler_conformance CORPUS_DIR [--failures] [--write-passing FILE]: runs every corpus case and
// prints the per-feature pass table (markdown) for the report; --write-passing records the names
// of the cases whose Transition Summary matches, for tests/scheduler/passing.txt.
#include <fstream>
#include <iostream>
#include <string>

#include "../conformance.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: scheduler_conformance CORPUS_DIR [--failures] [--write-passing FILE]\n";
    return 2;
  }
  std::string corpus = argv[1], write_to;
  bool failures = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--failures") failures = true;
    if (a == "--write-passing" && i + 1 < argc) write_to = argv[++i];
  }
  auto results = vigil::scheduler::conformance::run_corpus(corpus);
  std::cout << vigil::scheduler::conformance::feature_table(results);
  if (failures) {
    for (const auto& r : results) {
      if (r.summary_ok) continue;
      std::cout << "FAIL " << r.name
                << (vigil::scheduler::conformance::in_core_subset(r) ? " [core]" : "") << "\n";
      for (const auto& m : r.missing) std::cout << "   - " << m << "\n";
      for (const auto& u : r.unexpected) std::cout << "   + " << u << "\n";
    }
  }
  if (!write_to.empty()) {
    std::ofstream out(write_to);
    out << "# Corpus cases whose Transition Summary matches crm_simulate's; the conformance test\n"
           "# fails if one of them stops matching. Regenerate with scheduler_conformance "
           "--write-passing.\n";
    for (const auto& r : results) {
      if (r.summary_ok) out << r.name << "\n";
    }
  }
  return 0;
}
