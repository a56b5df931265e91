// The crmsh differential suite: each script of tests/cib/crmsh-diff (NAME.crm) beside what the
// real crmsh 4.4 made of it on an empty CIB file (scripts/crmsh-diff-regenerate.sh stores
// NAME.show, NAME.xml and, when crmsh refused commands, NAME.refused). vigil runs the same
// commands (a refused one changes nothing and the rest go on) and must refuse where crmsh refused
// (or be stricter: crmsh makes a group of a missing member) and write a CIB Pacemaker's schema
// accepts; where crmsh accepted the whole script, print the same `configure show` text and hold
// the same configuration (ids included; attribute and sibling order aside). Where crmsh refused,
// what it kept depends on when it noticed (a bad line is skipped, a bad commit loses the session),
// so only the refusal is compared.
// A case that differs must be listed, with the reason, in known-differences.txt.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "../pacemaker_schema.h"
#include "canonical.h"
#include "cib/crmsh.h"
#include "cib/op.h"

namespace vigil::cib {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(VIGIL_SOURCE_DIR) / "tests" / "cib" / "crmsh-diff";

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The sections Pacemaker treats as absent when empty are left out, so that an empty <tags/> on
// one side and none on the other compare equal.
std::string comparable(const pugi::xml_node& configuration) {
  pugi::xml_document doc;
  auto copy = doc.append_copy(configuration);
  for (auto c = copy.first_child(); c;) {
    auto next = c.next_sibling();
    const std::string_view tag = c.name();
    const bool required =
        tag == "crm_config" || tag == "nodes" || tag == "resources" || tag == "constraints";
    if (!required && !c.first_child()) copy.remove_child(c);
    c = next;
  }
  return canonical(copy);
}

struct Outcome {
  bool crmsh_refused, show_exact, cib_equal, refusals_as_crmsh, schema_valid;
  std::string detail;
};

// A command of a script; `load [xml] METHOD FILE` names a file beside the script.
Result<std::vector<CibChange>> run(const std::vector<std::string>& words, const Cib& cib) {
  if (words.empty() || words.front() != "load") return crmsh::parse(words, cib);
  const bool xml = words.size() == 4 && words[1] == "xml";
  if (words.size() != (xml ? 4u : 3u)) return fail("usage: load [xml] METHOD FILE");
  const auto method = crmsh::load_method(words[xml ? 2 : 1]);
  if (!method) return fail("unknown load method");
  const std::string text = read(kDir / words.back());
  return xml ? crmsh::load_xml(cib, text, *method, words.back())
             : crmsh::load(cib, text, *method, words.back());
}

Outcome compare(const std::string& name) {
  Cib cib;
  bool refused = false;
  std::string detail;
  for (const auto& line : crmsh::logical_lines(read(kDir / (name + ".crm")))) {
    auto words = crmsh::split_words(line.text);
    auto changes = words ? run(*words, cib) : Result<std::vector<CibChange>>(words.error());
    auto next = changes ? apply(cib, {*changes}) : Result<Cib>(changes.error());
    if (!next) {
      refused = true;
      detail += "line " + std::to_string(line.number) + " refused: " + next.error().message + "\n";
      continue;
    }
    cib = std::move(next).value();
  }
  auto shown = crmsh::show(cib);
  const std::string show = shown ? *shown : "(show failed: " + shown.error().message + ")\n";
  const std::string want_show = read(kDir / (name + ".show"));
  auto ref = Cib::parse("<cib>" + read(kDir / (name + ".xml")) + "<status/></cib>", name + ".xml");
  const bool cib_equal =
      ref && comparable(ref->configuration()) == comparable(cib.configuration());
  const std::string schema = pacemaker_schema::errors(cib.to_xml());
  const bool crmsh_refused = fs::exists(kDir / (name + ".refused"));
  if (crmsh_refused) return {true, false, false, refused, schema.empty(), detail + schema};
  if (show != want_show) detail += "show:\n" + show + "crmsh:\n" + want_show;
  if (!cib_equal)
    detail += "cib:\n" + comparable(cib.configuration()) + "\ncrmsh:\n" +
              (ref ? comparable(ref->configuration()) : ref.error().message) + "\n";
  if (!schema.empty()) detail += "schema: " + schema + "\n";
  return {false, show == want_show, cib_equal, !refused, schema.empty(), detail};
}

// NAME<TAB>reason per line; # comments.
std::map<std::string, std::string> known_differences() {
  std::map<std::string, std::string> known;
  std::istringstream in(read(kDir / "known-differences.txt"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    known[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
  }
  return known;
}

std::string percent(int n, int of) {
  return std::to_string(n) + "/" + std::to_string(of) + " (" +
         std::to_string(of ? (200 * n + of) / (2 * of) : 0) + "%)";
}

TEST(CrmshDiff, EveryScriptAsCrmshMakesIt) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".crm") names.insert(e.path().stem().string());
  }
  ASSERT_GE(names.size(), 40u);
  const auto known = known_differences();
  int accepted = 0, show = 0, equal = 0, refusals = 0, valid = 0, all = 0;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const Outcome o = compare(name);
    accepted += !o.crmsh_refused;
    show += o.show_exact;
    equal += o.cib_equal;
    refusals += o.refusals_as_crmsh;
    valid += o.schema_valid;
    const bool same =
        o.refusals_as_crmsh && (o.crmsh_refused || (o.show_exact && o.cib_equal));
    all += same;
    EXPECT_TRUE(o.schema_valid) << o.detail;
    if (known.count(name)) {
      EXPECT_FALSE(same) << "matches crmsh now: take it out of known-differences.txt";
    } else {
      EXPECT_TRUE(same) << o.detail;
    }
  }
  const int n = static_cast<int>(names.size());
  std::cout << "crmsh differential suite, " << n << " scripts against crmsh 4.4.1 ("
            << n - accepted << " of them refused by crmsh):\n"
            << "  configure show exact   " << percent(show, accepted) << " of the accepted\n"
            << "  CIB equal (semantic)   " << percent(equal, accepted) << " of the accepted\n"
            << "  refused as crmsh       " << percent(refusals, n) << "\n"
            << "  every check            " << percent(all, n) << "\n"
            << "  valid against schema   " << percent(valid, n) << "\n";
}

}  // namespace
}  // namespace vigil::cib
