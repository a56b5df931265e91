// The corpus conformance test: every case runs; a case on a ratchet list (passing.txt for the
// Transition Summary, status-passing.txt, execution-passing.txt) that no longer passes that
// comparison fails. Without the corpus (../shared) it fails: it cannot show there is no regression.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <set>

#include "conformance.h"

namespace vigil::scheduler::conformance {
namespace {

const std::string kCorpus = std::string(VIGIL_SHARED_DIR) + "/scheduler-corpus";

TEST(SchedulerConformance, NoRegressionAgainstTheRatchetLists) {
  ASSERT_TRUE(std::ifstream(kCorpus + "/index.tsv")) << "corpus not found at " << kCorpus;
  const auto results = run_corpus(kCorpus);
  ASSERT_GT(results.size(), 500u);
  std::cout << feature_table(results);
  std::set<std::string> seen;
  for (const auto& r : results) seen.insert(r.name);
  for (const auto& list : kRatchetLists) {
    const auto listed =
        read_list(std::string(VIGIL_SOURCE_DIR) + "/tests/scheduler/" + list.file);
    EXPECT_FALSE(listed.empty()) << list.file;
    for (const auto& r : results) {
      if (!listed.count(r.name)) continue;
      EXPECT_TRUE(r.*list.passes) << r.name << " regressed: its " << list.what
                                  << " no longer matches (" << list.file << ")";
    }
    for (const auto& name : listed)
      EXPECT_TRUE(seen.count(name)) << name << " of " << list.file << " is not in the corpus";
  }
}

}  // namespace
}  // namespace vigil::scheduler::conformance
