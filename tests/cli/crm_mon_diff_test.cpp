// The crm_mon differential suite: `vigil status -1`, `-1 -r` and `--output-as xml` on the CIBs
// of tests/cli/crm_mon-diff/corpus.tsv (read from ../shared in place), against what Pacemaker
// 2.1.5's crm_mon printed for them (the stored NAME.1.txt, NAME.1r.txt, NAME.xml; regenerate.sh
// captures them). Prints the figures and the first differing line of each case; a case on the
// ratchet list (passing.txt) that no longer matches fails.
//
//   build/ci/tests/cli/test_cli --gtest_filter='CrmMonDiff.*'
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(VIGIL_SOURCE_DIR) / "tests/cli/crm_mon-diff";

// What differs between two runs on the same CIB, replaced the same way in both outputs: the
// clock ("Last updated", <last_update>) and the command line echoed in <pacemaker-result request>.
std::string normalised(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  auto blank_quoted = [&](const std::string& from) {
    const auto at = line.find(from);
    if (at == std::string::npos) return;
    const auto end = line.find('"', at + from.size());
    line.replace(at + from.size(), end - at - from.size(), "(normalised)");
  };
  while (std::getline(in, line)) {
    if (line.rfind("  * Last updated: ", 0) == 0) line = "  * Last updated: (normalised)";
    if (line.rfind("    <last_update time=", 0) == 0) blank_quoted("time=\"");
    if (line.rfind("<pacemaker-result ", 0) == 0) blank_quoted("request=\"");
    out += line + "\n";
  }
  return out;
}

// The first line where the two differ, as "expected | actual" (or the side that ran out).
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string le, la;
  for (int n = 1;; ++n) {
    const bool more_e = static_cast<bool>(std::getline(e, le));
    const bool more_a = static_cast<bool>(std::getline(a, la));
    if (!more_e && !more_a) return "";
    if (!more_e) le = "(end)";
    if (!more_a) la = "(end)";
    if (le != la || !more_e || !more_a)
      return "line " + std::to_string(n) + ": crm_mon '" + le + "' | vigil '" + la + "'";
  }
}

struct Case {
  std::string name;
  fs::path cib;
};

// corpus.tsv's cases; the guide's CIB is the reference cibadmin -Q without its command and exit
// lines, written to `scratch`.
std::vector<Case> corpus(const fs::path& scratch) {
  std::vector<Case> cases;
  std::istringstream rows(slurp(kSuite / "corpus.tsv"));
  std::string row;
  std::getline(rows, row);  // the header
  while (std::getline(rows, row)) {
    const auto tab = row.find('\t');
    Case c{row.substr(0, tab), fs::path(VIGIL_SHARED_DIR) / row.substr(tab + 1)};
    if (c.name == "guide") {
      std::istringstream in(slurp(c.cib));
      std::string line, xml;
      std::getline(in, line);
      while (std::getline(in, line))
        if (line.rfind("[exit", 0) != 0) xml += line + "\n";
      c.cib = scratch / "guide.xml";
      std::ofstream(c.cib) << xml;
    }
    cases.push_back(c);
  }
  return cases;
}

std::string vigil_status(const fs::path& cib, std::vector<std::string> args) {
  args.insert(args.begin(), {"status", "--socket", "/nonexistent/vigild.sock", "--cib", cib});
  std::ostringstream out, err;
  Cli cli(out, err);
  add_all_commands(cli);
  cli.run(args);
  return out.str();
}

struct View {
  const char* suffix;  // of the stored reference, and the ratchet list's entries
  const char* what;
  std::vector<std::string> args;
};

TEST(CrmMonDiff, VigilStatusPrintsWhatCrmMonPrints) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  std::string tmpl = (fs::temp_directory_path() / "vigil-crm-mon-diff-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path scratch = tmpl;
  const auto cases = corpus(scratch);
  ASSERT_GT(cases.size(), 50u) << kSuite / "corpus.tsv";
  std::set<std::string> ratchet;
  {
    std::istringstream in(slurp(kSuite / "passing.txt"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') ratchet.insert(line);
  }
  const std::vector<View> views{{".1.txt", "crm_mon -1 text", {"-1"}},
                                {".1r.txt", "crm_mon -1 -r text", {"-1", "-r"}},
                                {".xml", "crm_mon --output-as xml", {"--output-as", "xml"}}};
  std::ostringstream figures, details, passing;
  passing << "# crm_mon-diff views vigil prints exactly (crm_mon_diff_test.cpp writes this list to\n"
             "# the build directory as crm_mon-diff-passing.txt; a listed view that differs fails)\n";
  for (const auto& view : views) {
    int exact = 0;
    for (const auto& c : cases) {
      ASSERT_TRUE(fs::exists(c.cib)) << c.name << ": " << c.cib;
      const std::string key = c.name + view.suffix;
      const auto expected = normalised(slurp(kSuite / key));
      const auto actual = normalised(vigil_status(c.cib, view.args));
      const auto diff = first_difference(expected, actual);
      if (diff.empty()) {
        ++exact;
        passing << key << "\n";
      } else {
        details << "  " << key << " " << diff << "\n";
      }
      EXPECT_TRUE(diff.empty() || !ratchet.count(key))
          << key << " is on passing.txt but differs: " << diff;
    }
    figures << view.what << ": " << exact << "/" << cases.size() << " exact ("
            << (100 * exact / static_cast<int>(cases.size())) << " %)\n";
  }
  std::cout << "Differing cases (first differing line):\n"
            << details.str() << "crm_mon differential suite, " << cases.size() << " CIBs:\n"
            << figures.str();
  // What passes now, for the ratchet list after an improvement.
  std::ofstream(fs::path(VIGIL_BINARY_DIR) / "crm_mon-diff-passing.txt") << passing.str();
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace vigil::cli
