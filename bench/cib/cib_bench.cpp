// The CIB at scale: a configuration of N primitives (each with params, meta and two ops, every
// tenth in a location constraint), then the milliseconds of each step a node takes per change.
// Prints a table; the median of several runs of each step.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cib/cib_io.h"
#include "cib/crmsh.h"
#include "cib/op.h"
#include "cib/validate.h"

namespace {

using namespace vigil::cib;

std::string big_cib_xml(int resources) {
  std::string r, c;
  for (int i = 0; i < resources; ++i) {
    const std::string id = "rsc" + std::to_string(i);
    r += "<primitive id=\"" + id +
         "\" class=\"ocf\" provider=\"heartbeat\" type=\"IPaddr2\">"
         "<instance_attributes id=\"" +
         id + "-ia\"><nvpair id=\"" + id +
         "-ia-ip\" name=\"ip\" "
         "value=\"10.0." +
         std::to_string(i / 250) + "." + std::to_string(i % 250) +
         "\"/>"
         "</instance_attributes><meta_attributes id=\"" +
         id + "-ma\"><nvpair id=\"" + id +
         "-ma-tr\" name=\"target-role\" value=\"Started\"/></meta_attributes><operations>"
         "<op id=\"" +
         id +
         "-start\" name=\"start\" interval=\"0s\" timeout=\"20s\"/>"
         "<op id=\"" +
         id +
         "-mon\" name=\"monitor\" interval=\"10s\" timeout=\"20s\"/>"
         "</operations></primitive>";
    if (i % 10 == 0) {
      c += "<rsc_location id=\"loc" + std::to_string(i) + "\" rsc=\"" + id +
           "\" node=\"node1\" score=\"100\"/>";
    }
  }
  return "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\" validate-with=\"pacemaker-3.0\">"
         "<configuration><crm_config/><nodes><node id=\"1\" uname=\"node1\"/></nodes><resources>" +
         r + "</resources><constraints>" + c + "</constraints></configuration><status/></cib>";
}

double median_ms(int runs, const std::function<void()>& step) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

template <class T>
T must(vigil::Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "bench_cib: %s\n", r.error().message.c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int runs = 7;
  const std::string xml = big_cib_xml(n);
  char tmpl[] = "/tmp/vigil-bench-cib-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  const std::filesystem::path dir = tmpl;
  CibFile file(dir / "cib.xml");
  const Cib cib = must(Cib::parse(xml));
  if (!file.save(cib)) return 1;

  const CibOp small{{CibChange::create(
      "/cib/configuration/resources", "<primitive id=\"extra\" class=\"lsb\" type=\"apache2\"/>")}};
  const Cib changed = must(apply(cib, small));
  auto words = must(crmsh::split_words("primitive extra2 lsb:apache2"));

  struct Row {
    const char* step;
    double ms;
  };
  std::vector<Row> rows = {
      {"parse XML", median_ms(runs, [&] { (void)must(Cib::parse(xml)); })},
      {"validate", median_ms(runs, [&] { (void)validate(cib); })},
      {"load from disk (read, digest, parse, validate)",
       median_ms(runs, [&] { (void)must(file.load()); })},
      {"apply one small change (copy, change, validate)",
       median_ms(runs, [&] { (void)must(apply(cib, small)); })},
      {"crmsh command -> changes (parse one command)",
       median_ms(runs, [&] { (void)must(crmsh::parse(words, cib)); })},
      {"diff two versions", median_ms(runs, [&] { (void)diff(cib, changed); })},
      {"persist (write, fsync, rename, backup)",
       median_ms(runs, [&] { (void)file.save(changed); })},
      {"configure show (crmsh text)", median_ms(runs, [&] { (void)must(crmsh::show(cib)); })},
  };
  std::printf("CIB with %d resources (%zu bytes of XML), median of %d runs\n\n", n, xml.size(),
              runs);
  std::printf("| %-50s | %10s |\n|%s|%s|\n", "step", "ms", std::string(52, '-').c_str(),
              std::string(12, '-').c_str());
  for (const auto& r : rows) std::printf("| %-50s | %10.2f |\n", r.step, r.ms);
  std::filesystem::remove_all(dir);
  return 0;
}
