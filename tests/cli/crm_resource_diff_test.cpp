// The `crm resource` differential test: each line of tests/cli/crm-resource-diff/commands.txt runs
// as `vigil resource LINE` on a copy of start.xml, one after the other, against what the real
// crmsh 4.4.1 (with crm_resource 2.1.5) did with it (expected.txt and final.xml, stored by
// scripts/crm-resource-diff-regenerate.sh): the same stdout and exit code, crmsh's error lines
// among vigil's (vigil may say more), and at the end the same resources (ids included; attribute
// and sibling order aside) in a CIB that Pacemaker's schema accepts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../cib/canonical.h"
#include "../pacemaker_schema.h"
#include "cib/cib.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "cli" / "crm-resource-diff";

struct Step {
  std::string line, out;
  std::vector<std::string> err;
  int code = 0;
};

// expected.txt: "$ crm resource LINE", its stdout, its stderr lines marked "! ", "[exit N]".
std::vector<Step> expected_steps() {
  std::istringstream in(slurp(kDir / "expected.txt"));
  std::vector<Step> steps;
  std::string line;
  const std::string prompt = "$ crm resource ";
  while (std::getline(in, line)) {
    if (line.rfind(prompt, 0) == 0) {
      steps.push_back({line.substr(prompt.size()), "", {}, 0});
    } else if (line.rfind("[exit ", 0) == 0) {
      steps.back().code = std::atoi(line.c_str() + 6);
    } else if (line.rfind("! ", 0) == 0) {
      steps.back().err.push_back(line.substr(2));
    } else {
      steps.back().out += line + "\n";
    }
  }
  return steps;
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// crm_resource dumps the refused CIB with line numbers ("   12   <nodes>"): not an error line.
bool dump_line(const std::string& line) {
  const auto digit = line.find_first_not_of(' ');
  return digit != std::string::npos && digit > 0 &&
         std::isdigit(static_cast<unsigned char>(line[digit]));
}

std::string resources_of(const pugi::xml_node& resources) {
  EXPECT_TRUE(resources) << "no <resources>";
  return cib::canonical(resources);
}

TEST(CrmResourceDiff, EveryCommandAsCrmsh) {
  std::string tmpl = (fs::temp_directory_path() / "vigil-crm-resource-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  fs::copy_file(kDir / "start.xml", dir / "cib.xml");
  fs::copy_file(kDir / "start.xml", dir / "seed.xml");
  ::setenv("CIB_file", (dir / "cib.xml").c_str(), 1);
  const char* tz = std::getenv("TZ");
  const std::string old_tz = tz != nullptr ? tz : "";
  ::setenv("TZ", "UTC", 1);  // the operations' times, as the references were taken
  ::tzset();
  ASSERT_EQ(run({"cib", "replace", (dir / "seed.xml").string()}).code, 0);  // with its digest

  const auto steps = expected_steps();
  ASSERT_GE(steps.size(), 50U);
  std::size_t same = 0;
  for (const auto& step : steps) {
    std::vector<std::string> args = {"resource"};
    for (auto& w : words_of(step.line)) args.push_back(w);
    args.insert(args.end(), {"--socket", "/nonexistent/vigild.sock"});
    const auto r = run(args);
    bool ok = r.out == step.out && r.code == step.code;
    EXPECT_EQ(r.out, step.out) << "resource " << step.line << "\nstderr: " << r.err;
    EXPECT_EQ(r.code, step.code) << "resource " << step.line << "\nstderr: " << r.err;
    for (const auto& e : step.err) {
      if (dump_line(e)) continue;
      ok = ok && r.err.find(e) != std::string::npos;
      EXPECT_NE(r.err.find(e), std::string::npos) << "resource " << step.line << ": crmsh said\n"
                                                  << e << "\nvigil said\n"
                                                  << r.err;
    }
    same += ok ? 1 : 0;
  }
  std::cout << "crm resource differential: " << same << " of " << steps.size()
            << " commands as crmsh\n";

  auto final_cib = cib::Cib::parse(slurp(dir / "cib.xml"), "cib.xml");
  ASSERT_TRUE(final_cib.ok());
  pugi::xml_document expected;
  ASSERT_TRUE(expected.load_string(slurp(kDir / "final.xml").c_str()));
  EXPECT_EQ(resources_of(final_cib->configuration().child("resources")),
            resources_of(expected.child("resources")));
  EXPECT_EQ(pacemaker_schema::errors(final_cib->to_xml()), "");
  ::unsetenv("CIB_file");
  if (tz != nullptr) {
    ::setenv("TZ", old_tz.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::cli
