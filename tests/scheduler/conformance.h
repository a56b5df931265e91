// conformance: runs the scheduler on Pacemaker's regression corpus (../shared/scheduler-corpus)
// and compares with crm_simulate's expected output the way upstream's cts-scheduler does.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace vigil::scheduler::conformance {

struct CaseResult {
  std::string name;
  std::vector<std::string> features;
  bool parsed = false;
  bool summary_empty = false;                    // crm_simulate's Transition Summary has no line
  bool summary_ok = false;                       // Transition Summary, as a set of normalised lines
  bool status_ok = false;                        // both status sections, line by line
  bool execution_ok = false;                     // the fired actions, in order
  // All of crm_simulate's output as upstream's cts-scheduler diffs it: every line in order (the
  // Transition Summary's too), blank lines and whitespace aside.
  bool whole_ok = false;
  std::vector<std::string> missing, unexpected;  // summary lines
};

// Every case of index.tsv under `corpus_dir`.
std::vector<CaseResult> run_corpus(const std::string& corpus_dir);
CaseResult run_case(const std::string& corpus_dir, const std::string& name,
                    const std::vector<std::string>& features);

// The per-feature table: feature, cases, summary passes (those whose expected summary is empty
// apart: nothing to schedule is easy to match), status passes, execution order passes, whole
// output passes; plus the
// core subset (features only among primitives, constraints, stickiness, failures,
// standby/maintenance, fencing and groups).
std::string feature_table(const std::vector<CaseResult>& results);
bool in_core_subset(const CaseResult& r);

// The ratchet lists in tests/scheduler: for each comparison, the cases that pass it. The
// conformance test fails when a listed case fails; scheduler_conformance --ratchet rewrites them
// and refuses to drop a case.
struct RatchetList {
  const char* file;
  bool CaseResult::*passes;
  const char* what;
};
inline constexpr RatchetList kRatchetLists[] = {
    {"passing.txt", &CaseResult::summary_ok, "Transition Summary"},
    {"status-passing.txt", &CaseResult::status_ok, "status before and after the transition"},
    {"execution-passing.txt", &CaseResult::execution_ok, "actions fired, in order"},
    {"whole-passing.txt", &CaseResult::whole_ok, "whole output"},
};
// The case names in a list file (# comments and blank lines skipped).
std::set<std::string> read_list(const std::string& path);

}  // namespace vigil::scheduler::conformance
