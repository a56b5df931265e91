// Bundles as the scheduler decides them: each replica's container (web-docker-N), its address
// (web-ip-ADDR) and its connection (web-N) to the guest node where the bundled primitive's
// instance (httpd:N) runs, with Pacemaker 2.1.5's ids, parameters and orderings (compare corpus
// cases bundle-order-startup and bundle-replicas-change).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "cib/cib.h"
#include "scheduler/digest.h"
#include "scheduler/scheduler.h"
#include "scheduled.h"
#include "status_xml.h"

namespace vigil::scheduler {
namespace {

using test::node_state;
using test::op;
using test::summary;

constexpr Millis kNow = 1700000200000;

// Two nodes without fencing, both up; the bundle web runs two replicas of apache from
// 192.168.1.10 on. `extra` goes into the resources, `n1_lrm` is n1's resource history.
std::string cluster(const std::string& extra, const std::string& n1_lrm,
                    const std::string& bundle_meta = "", const std::string& more_states = "") {
  return R"(<cib epoch="5" num_updates="10" admin_epoch="0" have-quorum="1" dc-uuid="n1">
  <configuration>
    <crm_config><cluster_property_set id="opts">
      <nvpair id="opts-st" name="stonith-enabled" value="false"/>
    </cluster_property_set></crm_config>
    <nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes>
    <resources>
      <bundle id="web">)" +
         bundle_meta + R"(
        <docker image="img:1" replicas="2"/>
        <network ip-range-start="192.168.1.10" host-netmask="24" host-interface="eth0">
          <port-mapping id="web-port" port="80"/>
        </network>
        <primitive id="httpd" class="ocf" provider="heartbeat" type="apache">
          <operations><op id="httpd-mon" name="monitor" interval="10s"/></operations>
        </primitive>
      </bundle>)" +
         extra + R"(
    </resources>
    <constraints/>
  </configuration>
  <status>)" +
         node_state("n1", n1_lrm) + node_state("n2", "") + more_states + "</status></cib>";
}

TransitionGraph graph_of(const std::string& xml) {
  return test::scheduled(xml, "bundle.xml", kNow);
}

const GraphAction* find(const TransitionGraph& g, const std::string& rsc, const std::string& task) {
  for (const auto& a : g.actions) {
    if (a.resource == rsc && a.task == task && !a.probe && a.interval_ms == 0) return &a;
  }
  return nullptr;
}

bool waits_for(const GraphAction& then, const GraphAction& first) {
  return std::find(then.after.begin(), then.after.end(), first.id) != then.after.end();
}

TEST(SchedulerBundle, EachReplicaStartsItsAddressContainerConnectionAndInstanceInThatOrder) {
  const auto g = graph_of(cluster("", ""));
  const auto lines = summary(g);
  ASSERT_EQ(lines.size(), 8u) << ::testing::PrintToString(lines);
  // Replica by replica, as crm_simulate lists them; the two containers go to different nodes.
  const std::string host0 = g.summary[1].details, host1 = g.summary[5].details;
  EXPECT_NE(host0, host1);
  EXPECT_EQ(lines[0], "Start web-ip-192.168.1.10 (" + host0 + ")");
  EXPECT_EQ(lines[1], "Start web-docker-0 (" + host0 + ")");
  EXPECT_EQ(lines[2], "Start web-0 (" + host0 + ")");
  EXPECT_EQ(lines[3], "Start httpd:0 (web-0)");
  EXPECT_EQ(lines[4], "Start web-ip-192.168.1.11 (" + host1 + ")");
  EXPECT_EQ(lines[7], "Start httpd:1 (web-1)");
  const GraphAction* ip = find(g, "web-ip-192.168.1.10", "start");
  const GraphAction* container = find(g, "web-docker-0", "start");
  const GraphAction* connection = find(g, "web-0", "start");
  const GraphAction* httpd = find(g, "httpd:0", "start");
  ASSERT_TRUE(ip && container && connection && httpd);
  EXPECT_TRUE(waits_for(*container, *ip));
  EXPECT_TRUE(waits_for(*connection, *container));
  EXPECT_TRUE(waits_for(*httpd, *connection));
  // The bundle's own pseudo-actions frame its containers' starts.
  const GraphAction* start = nullptr;
  for (const auto& a : g.actions) {
    if (a.pseudo && a.key == "web_start_0") start = &a;
  }
  ASSERT_NE(start, nullptr);
  EXPECT_TRUE(waits_for(*container, *start));
}

TEST(SchedulerBundle, NothingElseRunsOrIsProbedOnAReplicasNode) {
  const auto g = graph_of(cluster(R"(
      <primitive id="d" class="ocf" provider="pacemaker" type="Dummy">
      </primitive>)",
                                  ""));
  const GraphAction* httpd = find(g, "httpd:0", "start");
  ASSERT_NE(httpd, nullptr);
  EXPECT_EQ(httpd->node, "web-0");
  for (const auto& a : g.actions) {
    if (a.node == "web-0" || a.node == "web-1") {
      EXPECT_EQ(a.resource.rfind("httpd:", 0), 0u) << a.key;
    }
  }
  const GraphAction* d = find(g, "d", "start");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->node == "n1" || d->node == "n2") << d->node;
}

// The container's parameters as Pacemaker 2.1.5 generates them for replica 0 of web.
std::map<std::string, std::string> replica0_parameters() {
  return {{"image", "img:1"},
          {"allow_pull", "true"},
          {"force_kill", "false"},
          {"reuse", "false"},
          {"run_opts",
           " --restart=no -h web-0 -e PCMK_stderr=1 -e PCMK_remote_port=3121"
           " -v /etc/pacemaker/authkey:/etc/pacemaker/authkey"
           " -v /var/log/pacemaker/bundles/web-0:/var/log -p 192.168.1.10:80:80"
           " -p 192.168.1.10:3121:3121  --add-host=web-0:192.168.1.10"
           " --add-host=web-1:192.168.1.11"},
          {"mount_points", "/var/log/pacemaker/bundles/web-0"},
          {"run_cmd", "/usr/sbin/pacemaker-remoted"},
          {"monitor_cmd", "/bin/true"}};
}

std::string container_history(const std::string& digest) {
  std::string start = op("web-docker-0", "start", 0, 2, 0);
  start.insert(start.size() - 2, " op-digest=\"" + digest + "\"");
  return "<lrm_resource id=\"web-docker-0\" class=\"ocf\" provider=\"heartbeat\" type=\"docker\">" +
         start + "</lrm_resource>";
}

TEST(SchedulerBundle, AContainerStartedWithPacemakersParametersIsNotRestarted) {
  const auto same =
      summary(graph_of(cluster("", container_history(parameters_digest(replica0_parameters())))));
  for (const auto& line : same) EXPECT_FALSE(line.starts_with("Restart web-docker-0")) << line;
  EXPECT_NE(std::find(same.begin(), same.end(), "Start web-0 (n1)"), same.end())
      << ::testing::PrintToString(same);
  // One replica fewer in the recorded run: the host entries differ, the container restarts.
  auto older = replica0_parameters();
  older["run_opts"] = older["run_opts"].substr(0, older["run_opts"].find(" --add-host=web-1"));
  const auto changed = summary(graph_of(cluster("", container_history(parameters_digest(older)))));
  EXPECT_NE(std::find(changed.begin(), changed.end(),
                      "Restart web-docker-0 (n1) due to resource definition change"),
            changed.end())
      << ::testing::PrintToString(changed);
}

std::string history(const std::string& rsc, const std::string& provider, const std::string& type,
                    const std::string& start_op) {
  return "<lrm_resource id=\"" + rsc + "\" class=\"ocf\" provider=\"" + provider + "\" type=\"" +
         type + "\">" + start_op + "</lrm_resource>";
}

std::string with_digest(std::string op_xml, const std::map<std::string, std::string>& params) {
  op_xml.insert(op_xml.size() - 2, " op-digest=\"" + parameters_digest(params) + "\"");
  return op_xml;
}

TEST(SchedulerBundle, StoppingTheBundleStopsInsideOutAndDoesNotWaitForItself) {
  // Replica 0 runs on n1: its container, its connection (addressed by its host, n1) and httpd.
  const std::string n1 = container_history(parameters_digest(replica0_parameters())) +
                         history("web-0", "pacemaker", "remote",
                                 with_digest(op("web-0", "start", 0, 3, 0),
                                             {{"addr", "192.168.1.10"}, {"port", "3121"}}));
  const std::string guest =
      R"(<node_state id="web-0" uname="web-0" remote_node="true"><lrm id="web-0"><lrm_resources>)" +
      history("httpd", "heartbeat", "apache", op("httpd", "start", 0, 4, 0)) +
      "</lrm_resources></lrm></node_state>";
  const std::string xml = cluster(
      "", n1,
      R"(<meta_attributes id="web-meta"><nvpair id="web-role" name="target-role" value="Stopped"/></meta_attributes>)",
      guest);
  const auto g = graph_of(xml);
  const auto lines = summary(g);
  for (const char* want : {"Stop web-docker-0 (n1)", "Stop web-0 (n1)", "Stop httpd:0 (web-0)"}) {
    bool found = false;
    for (const auto& l : lines) found = found || l.starts_with(want);
    EXPECT_TRUE(found) << want << " in " << ::testing::PrintToString(lines);
  }
  const GraphAction* httpd = find(g, "httpd:0", "stop");
  const GraphAction* connection = find(g, "web-0", "stop");
  const GraphAction* container = find(g, "web-docker-0", "stop");
  ASSERT_TRUE(httpd && connection && container);
  EXPECT_TRUE(waits_for(*connection, *httpd));
  EXPECT_TRUE(waits_for(*container, *connection));
  // The bundle's stop comes first; its "stopped" only after everything inside it.
  for (const auto& a : g.actions) {
    if (a.key == "web_stop_0") {
      EXPECT_TRUE(waits_for(*container, a));
      EXPECT_TRUE(waits_for(*httpd, a));
    }
    if (a.key == "web_stopped_0") {
      EXPECT_FALSE(waits_for(*httpd, a));
    }
  }
  // And the whole transition can be carried out.
  auto cib = cib::Cib::parse(xml, "bundle.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  EXPECT_EQ(execute(*cib, g).fired.size(), g.actions.size());
}

TEST(SchedulerBundle, TheStatusShowsTheBundleReplicaByReplica) {
  auto cib = cib::Cib::parse(
      cluster("", container_history(parameters_digest(replica0_parameters()))), "bundle.xml");
  ASSERT_TRUE(static_cast<bool>(cib));
  const auto status = cluster_status(*cib, kNow);
  const std::vector<std::string> want = {
      "    * Container bundle set: web [img:1]:",
      "      * web-0 (192.168.1.10)\t(ocf:heartbeat:apache):\t Stopped n1",
      "      * web-1 (192.168.1.11)\t(ocf:heartbeat:apache):\t Stopped"};
  auto at = std::search(status.begin(), status.end(), want.begin(), want.end());
  EXPECT_NE(at, status.end()) << ::testing::PrintToString(status);
}

}  // namespace
}  // namespace vigil::scheduler
