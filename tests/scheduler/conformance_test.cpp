// The corpus conformance test: every case runs; only a regression against passing.txt fails.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <set>

#include "conformance.h"

namespace vigil::scheduler::conformance {
namespace {

const std::string kCorpus = std::string(VIGIL_SHARED_DIR) + "/scheduler-corpus";

std::set<std::string> passing_list() {
  std::set<std::string> names;
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/scheduler/passing.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') names.insert(line);
  }
  return names;
}

TEST(SchedulerConformance, NoRegressionAgainstPassingList) {
  std::ifstream probe(kCorpus + "/index.tsv");
  if (!probe) GTEST_SKIP() << "corpus not found at " << kCorpus;
  auto results = run_corpus(kCorpus);
  ASSERT_GT(results.size(), 500u);
  std::cout << feature_table(results);
  auto expected = passing_list();
  EXPECT_FALSE(expected.empty());
  std::set<std::string> seen;
  for (const auto& r : results) {
    seen.insert(r.name);
    if (!expected.count(r.name)) continue;
    EXPECT_TRUE(r.summary_ok) << r.name << " regressed: " << r.missing.size() << " lines missing, "
                              << r.unexpected.size() << " unexpected";
  }
  for (const auto& name : expected)
    EXPECT_TRUE(seen.count(name)) << name << " is not in the corpus";
}

}  // namespace
}  // namespace vigil::scheduler::conformance
