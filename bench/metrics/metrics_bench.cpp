// bench_metrics CIB.xml...: the CPU time of a /metrics exposition of each CIB, as vigild makes it
// on a scrape (the CIB it holds, its status answer with every node online): the first scrape
// after the CIB changed, and the median of 21 scrapes after it; a table. The CIBs: `bench_scheduler DIR` writes synthetic ones of 100, 1 000 and 10 000
// resources (DIR/n16-r1000-steady.xml: everything running, 1 % failed monitors).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "cib/cib.h"
#include "metrics/metrics.h"

namespace {

using Json = nlohmann::json;

Json daemon_answer(const vigil::cib::Cib& cib) {
  Json nodes = Json::array(), members = Json::array(), votes = Json::array();
  for (auto n : cib.configuration().child("nodes").children("node")) {
    const auto id = n.attribute("id").as_uint();
    nodes.push_back({{"id", id}, {"name", n.attribute("uname").value()}, {"online", true}});
    members.push_back(id);
    votes.push_back({{"id", id}, {"votes", 1}});
  }
  return Json{{"node", {{"id", 1}, {"name", "node1"}}},
              {"ring", {{"id", "1.4"}, {"members", members}}},
              {"nodes", nodes},
              {"quorum",
               {{"quorate", true}, {"expected_votes", members.size()}, {"quorum", 1},
                {"members", votes}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_metrics CIB.xml...\n");
    return 2;
  }
  std::printf("%-40s %10s %10s %14s %14s\n", "CIB", "resources", "bytes out",
              "after change ms", "scrape ms");
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i]);
    std::stringstream text;
    text << in.rdbuf();
    auto cib = vigil::cib::Cib::parse(text.str(), argv[i]);
    if (!cib) {
      std::fprintf(stderr, "%s\n", cib.error().message.c_str());
      return 1;
    }
    vigil::metrics::Scrape scrape{&*cib, daemon_answer(*cib), 1700000000, 1700000000000};
    // The first scrape after a change reads the CIB; the next ones reuse that part.
    vigil::metrics::Exposition exposition;
    auto start = std::chrono::steady_clock::now();
    const std::size_t bytes = exposition.render(scrape).size();
    const double first =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::vector<double> ms;
    for (int run = 0; run < 21; ++run) {
      start = std::chrono::steady_clock::now();
      exposition.render(scrape);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             start)
                       .count());
    }
    std::nth_element(ms.begin(), ms.begin() + 10, ms.end());
    const auto resources = cib->configuration().child("resources").select_nodes(".//primitive");
    std::printf("%-40s %10zu %10zu %14.3f %14.3f\n", argv[i], resources.size(), bytes, first,
                ms[10]);
  }
  return 0;
}
