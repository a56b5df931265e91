// A scheduler test's CIB text scheduled, and the transition summary as lines a test can compare.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler::test {

// The graph of `xml` (named `name` in a parse error) scheduled at `now`.
inline TransitionGraph scheduled(const std::string& xml, const char* name, Millis now) {
  auto cib = cib::Cib::parse(xml, name);
  EXPECT_TRUE(static_cast<bool>(cib));
  return schedule(*cib, now);
}

// "VERB SUBJECT (DETAILS) REASON", a line per summary entry.
inline std::vector<std::string> summary(const TransitionGraph& g) {
  std::vector<std::string> out;
  for (const auto& line : g.summary)
    out.push_back(line.verb + " " + line.subject + " (" + line.details + ")" +
                  (line.reason.empty() ? "" : " " + line.reason));
  return out;
}

}  // namespace vigil::scheduler::test
