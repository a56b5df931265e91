// bench_scheduler DIR: writes the benchmark's synthetic CIBs — 4 nodes/100 resources, 16/1 000 and
// 32/10 000 — each twice: cold (no resource history, so every resource is probed on every node)
// and steady (everything running where the scheduler puts it, with 1 % failed monitors).
// Then times one in-process schedule of each (pugixml parse + schedule) for reference; run.sh
// times `vigil simulate` itself beside crm_simulate.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cib/cib.h"
#include "scheduler/scheduler.h"

namespace {

using vigil::Millis;
constexpr Millis kNow = 1700000000000;

// Groups of four take a fifth of the resources; one resource in ten prefers a node, one in
// twenty is banned from one, one in twenty-five is colocated with and ordered after the one
// before it, one in fifty is an anonymous clone (an instance per node) that the next resource
// is ordered after.
// The feature set is Pacemaker 2.1.5's (Debian 12's crm_simulate): it refuses to apply updates
// to a CIB that claims a newer one, and aborted while carrying out the transition.
std::string config(int nodes, int resources) {
  std::ostringstream x;
  x << "<cib admin_epoch=\"0\" epoch=\"1\" num_updates=\"0\" have-quorum=\"1\" dc-uuid=\"1\" "
       "validate-with=\"pacemaker-3.7\" crm_feature_set=\"3.16.1\" execution-date=\""
    << kNow / 1000 << "\">\n<configuration>\n<crm_config><cluster_property_set id=\"opts\">"
    << "<nvpair id=\"o1\" name=\"stonith-enabled\" value=\"false\"/>"
    << "<nvpair id=\"o2\" name=\"no-quorum-policy\" "
       "value=\"stop\"/></cluster_property_set></crm_config>\n<nodes>\n";
  for (int n = 1; n <= nodes; ++n) x << "<node id=\"" << n << "\" uname=\"node" << n << "\"/>\n";
  x << "</nodes>\n<resources>\n";
  auto primitive = [&](int i) {
    x << "<primitive id=\"r" << i
      << "\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"><operations>"
      << "<op id=\"r" << i
      << "-mon\" name=\"monitor\" interval=\"10s\"/></operations></primitive>\n";
  };
  int grouped = resources / 5 / 4 * 4;
  for (int g = 0; g < grouped / 4; ++g) {
    x << "<group id=\"g" << g << "\">\n";
    for (int m = 0; m < 4; ++m) primitive(g * 4 + m);
    x << "</group>\n";
  }
  auto cloned = [](int i) { return i % 50 == 13; };
  for (int i = grouped; i < resources; ++i) {
    if (cloned(i)) {
      x << "<clone id=\"c" << i << "\"><meta_attributes id=\"c" << i << "-meta\"><nvpair id=\"c"
        << i << "-il\" name=\"interleave\" value=\"true\"/></meta_attributes>\n";
      primitive(i);
      x << "</clone>\n";
    } else {
      primitive(i);
    }
  }
  x << "</resources>\n<constraints>\n";
  for (int i = grouped; i < resources; ++i) {
    if (i % 10 == 0) {
      x << "<rsc_location id=\"pref" << i << "\" rsc=\"r" << i << "\" node=\"node"
        << (i % nodes) + 1 << "\" score=\"100\"/>\n";
    }
    if (i % 20 == 5) {
      x << "<rsc_location id=\"ban" << i << "\" rsc=\"r" << i << "\" node=\"node"
        << (i + 1) % nodes + 1 << "\" score=\"-INFINITY\"/>\n";
    }
    if (cloned(i) && i + 1 < resources) {
      x << "<rsc_order id=\"after-c" << i << "\" first=\"c" << i << "\" then=\"r" << i + 1
        << "\"/>\n";
    }
    if (i % 25 == 7 && i > grouped) {
      x << "<rsc_colocation id=\"col" << i << "\" rsc=\"r" << i << "\" with-rsc=\"r" << i - 1
        << "\" score=\"INFINITY\"/>\n";
      x << "<rsc_order id=\"ord" << i << "\" first=\"r" << i - 1 << "\" then=\"r" << i
        << "\" kind=\"Mandatory\"/>\n";
    }
  }
  x << "</constraints>\n<rsc_defaults><meta_attributes id=\"d\"><nvpair id=\"d1\" "
       "name=\"resource-stickiness\" "
       "value=\"100\"/></meta_attributes></rsc_defaults>\n</configuration>\n<status>\n";
  for (int n = 1; n <= nodes; ++n) {
    x << "<node_state id=\"" << n << "\" uname=\"node" << n
      << "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"/>\n";
  }
  x << "</status>\n</cib>\n";
  return x.str();
}

// Every hundredth running resource's monitor failed once on its node.
void fail_monitors(vigil::cib::Cib& cib) {
  int count = 0;
  for (auto state : cib.root().child("status").children("node_state")) {
    for (auto rsc : state.child("lrm").child("lrm_resources").children("lrm_resource")) {
      bool running = false;
      for (auto op : rsc.children("lrm_rsc_op")) {
        if (std::string(op.attribute("operation").value()) == "start") running = true;
      }
      if (!running || count++ % 100 != 0) continue;
      std::string id = rsc.attribute("id").value();
      auto op = rsc.append_child("lrm_rsc_op");
      op.append_attribute("id") = (id + "_last_failure_0").c_str();
      op.append_attribute("operation") = "monitor";
      op.append_attribute("interval") = "10000";
      op.append_attribute("op-status") = "0";
      op.append_attribute("rc-code") = "7";
      op.append_attribute("call-id") = 1000000 + count;
      op.append_attribute("transition-key") = "1:1:0:bench";
      auto attrs = state.child("transient_attributes");
      if (!attrs) {
        attrs = state.append_child("transient_attributes");
        attrs.append_attribute("id") = state.attribute("id").value();
        attrs.append_child("instance_attributes").append_attribute("id") = "status";
      }
      auto nv = attrs.child("instance_attributes").append_child("nvpair");
      nv.append_attribute("id") = ("fc-" + id).c_str();
      nv.append_attribute("name") = ("fail-count-" + id + "#monitor_10000").c_str();
      nv.append_attribute("value") = "1";
    }
  }
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  std::cout << "wrote " << path << " (" << text.size() / 1024 << " KiB)\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_scheduler DIR\n";
    return 2;
  }
  std::string dir = argv[1];
  for (auto [nodes, resources] : {std::pair{4, 100}, std::pair{16, 1000}, std::pair{32, 10000}}) {
    std::string base = dir + "/n" + std::to_string(nodes) + "-r" + std::to_string(resources);
    std::string cold_xml = config(nodes, resources);
    write(base + "-cold.xml", cold_xml);
    auto cold = vigil::cib::Cib::parse(cold_xml, "cold");
    if (!cold) {
      std::cerr << cold.error().message << "\n";
      return 1;
    }
    auto start = std::chrono::steady_clock::now();
    auto graph = vigil::scheduler::schedule(*cold, kNow);
    auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "  in-process schedule (cold): " << ms << " ms, " << graph.actions.size()
              << " actions\n";
    auto steady = vigil::scheduler::execute(*cold, graph).revised;
    fail_monitors(steady);
    std::string steady_xml = steady.to_xml();
    write(base + "-steady.xml", steady_xml);
    start = std::chrono::steady_clock::now();
    graph = vigil::scheduler::schedule(steady, kNow);
    ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "  in-process schedule (steady): " << ms << " ms, " << graph.actions.size()
              << " actions\n";
  }
  return 0;
}
