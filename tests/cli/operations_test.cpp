// `vigil resource …` and `vigil node …` on a CIB file (CIB_file, no daemon), starting from the
// reference cluster's CIB: what each command changes in the CIB, what it prints (crmsh's and
// crm_resource's words, the reference output where it has them), and that bad input changes
// nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cib/cib.h"
#include "cli/cli.h"
#include "cli_run.h"

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

// A reference file's output: without its "$ command" and "[exit N]" lines.
std::string reference(const std::string& name) {
  std::istringstream in(slurp(fs::path(VIGIL_SHARED_DIR) / "reference-output" / name));
  std::string line, out;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.rfind("[exit", 0) != 0) out += line + "\n";
  }
  return out;
}

class Operations : public ::testing::Test {
 public:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vigil-ops-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ::setenv("CIB_file", (dir_ / "cib.xml").c_str(), 1);
    std::ofstream(dir_ / "cib.xml", std::ios::binary) << reference("cibadmin_Q.txt");
    std::ofstream(dir_ / "seed.xml", std::ios::binary) << reference("cibadmin_Q.txt");
    ASSERT_EQ(run({"cib", "replace", (dir_ / "seed.xml").string()}).code, 0);  // with its digest
  }
  void TearDown() override {
    ::unsetenv("CIB_file");
    fs::remove_all(dir_);
  }

  static Outcome run(std::vector<std::string> args) {
    for (const char* family : {"resource", "node"}) {
      if (args.size() > 1 && args[0] == family)
        args.insert(args.end(), {"--socket", "/nonexistent/vigild.sock"});
    }
    return cli::run(args);
  }

  cib::Cib current() const {
    auto cib = cib::Cib::parse(slurp(dir_ / "cib.xml"), "cib.xml");
    EXPECT_TRUE(cib.ok());
    return *cib;
  }
  std::string xpath_value(const std::string& xpath) const {
    auto cib = current();
    return cib.doc().select_node(xpath.c_str()).attribute().value();
  }
  bool exists(const std::string& xpath) const {
    auto cib = current();
    return static_cast<bool>(cib.doc().select_node(xpath.c_str()));
  }
  // Runs a command that must fail and checks that the CIB did not change.
  Outcome refused(std::vector<std::string> args) {
    const std::string before = slurp(dir_ / "cib.xml");
    auto r = run(std::move(args));
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(slurp(dir_ / "cib.xml"), before);
    return r;
  }

  fs::path dir_;
};

TEST_F(Operations, StatusLocatesResourcesAsCrmResourceDoes) {
  auto r = run({"resource", "status", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, reference("crm_resource_locate.txt"));
  r = run({"resource", "status", "vip", "httpd"});
  EXPECT_EQ(r.out, "resource vip is running on: node2\nresource httpd is running on: node2\n");
  r = run({"resource", "status"});
  EXPECT_EQ(r.out,
            "  * Resource Group: webservice:\n"
            "    * vip\t(ocf:heartbeat:IPaddr2):\t Started node2\n"
            "    * httpd\t(ocf:heartbeat:apache):\t Started node2\n");
  r = refused({"resource", "status", "nosuch"});
  EXPECT_EQ(r.err, "ERROR: Resource 'nosuch' not found\n");
}

TEST_F(Operations, StartAndStopSetTargetRoleDeep) {
  // A member's own target-role would contradict the group's: crmsh drops it.
  ASSERT_EQ(run({"resource", "stop", "vip"}).code, 0);
  EXPECT_EQ(
      xpath_value("//primitive[@id='vip']/meta_attributes/nvpair[@name='target-role']/@value"),
      "Stopped");
  ASSERT_EQ(run({"resource", "stop", "webservice"}).code, 0);
  EXPECT_EQ(
      xpath_value("//group[@id='webservice']/meta_attributes[@id='webservice-meta_attributes']"
                  "/nvpair[@id='webservice-meta_attributes-target-role']/@value"),
      "Stopped");
  EXPECT_FALSE(exists("//primitive[@id='vip']/meta_attributes/nvpair[@name='target-role']"));
  auto status = run({"status"});
  EXPECT_NE(status.out.find("  * 2 resource instances configured (2 DISABLED)\n"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("  * Resource Group: webservice (disabled):\n"), std::string::npos);
  ASSERT_EQ(run({"resource", "start", "webservice"}).code, 0);
  EXPECT_EQ(xpath_value("//group[@id='webservice']/meta_attributes/nvpair/@value"), "Started");
  // Without a daemon nothing runs the stop, so restart does not wait for it.
  auto r = run({"resource", "restart", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "INFO: ordering webservice to stop\nINFO: ordering webservice to start\n");
  EXPECT_EQ(xpath_value("//group[@id='webservice']/meta_attributes/nvpair/@value"), "Started");
  refused({"resource", "start", "webservice", "nosuch"});
  EXPECT_EQ(xpath_value("//group[@id='webservice']/meta_attributes/nvpair/@value"), "Started");
  EXPECT_EQ(refused({"resource", "stop"}).code, 2);
}

TEST_F(Operations, MoveBanAndClear) {
  auto r = run({"resource", "move", "webservice", "node1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "INFO: Move constraint created for webservice to node1\n"
            "INFO: Use `crm resource clear webservice` to remove this constraint\n");
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-prefer-webservice']/@node"), "node1");
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-prefer-webservice']/@score"), "INFINITY");
  // Moving again replaces the preference.
  ASSERT_EQ(run({"resource", "move", "webservice", "node2"}).code, 0);
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-prefer-webservice']/@node"), "node2");
  // ban without a node: away from where it runs now (node2).
  r = run({"resource", "ban", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-ban-webservice-on-node2']/@score"), "-INFINITY");
  EXPECT_NE(r.err.find("WARNING: Creating rsc_location constraint 'cli-ban-webservice-on-node2' "
                       "with a score of -INFINITY for resource webservice on node2."),
            std::string::npos);
  EXPECT_EQ(refused({"resource", "move", "webservice"}).err,
            "ERROR: No target node: Move requires either a target node or 'force'\n");
  EXPECT_EQ(refused({"resource", "ban", "webservice", "node9"}).err,
            "ERROR: Not our node: node9\n");
  EXPECT_NE(refused({"resource", "move", "vip", "node1", "1h"})
                .err.find("word 3: '1h' is not an ISO 8601 duration"),
            std::string::npos);
  EXPECT_NE(refused({"resource", "move", "vip", "node1", "PT1H", "x"}).err.find("word 4"),
            std::string::npos);
  // With a lifetime: a rule on the node that holds until then; a lone lifetime bans from here.
  ASSERT_EQ(run({"resource", "move", "webservice", "node1", "PT1H"}).code, 0);
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-prefer-webservice']/rule/expression/@value"),
            "node1");
  EXPECT_EQ(xpath_value("//rsc_location[@id='cli-prefer-webservice']/rule/@score"), "INFINITY");
  const std::string end =
      xpath_value("//rsc_location[@id='cli-prefer-webservice']/rule/date_expression/@end");
  EXPECT_EQ(end.size(), std::string("2026-11-25 03:00:00 +00:00").size()) << end;
  r = run({"resource", "status"});
  EXPECT_NE(r.out.find("Started node2"), std::string::npos);  // the history says so until a DC acts
  r = run({"resource", "clear", "webservice"});
  EXPECT_EQ(r.out, "INFO: Removed migration constraints for webservice\n");
  EXPECT_FALSE(exists("//rsc_location"));
}

TEST_F(Operations, FailcountAndCleanup) {
  auto r = run({"resource", "failcount", "httpd", "set", "node1", "1", "monitor", "10"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(xpath_value("//node_state[@id='1']/transient_attributes/instance_attributes/"
                        "nvpair[@name='fail-count-httpd#monitor_10000']/@value"),
            "1");
  r = run({"resource", "failcount", "httpd", "show", "node1"});
  EXPECT_EQ(r.out, reference("crm_resource_failcount.txt"));
  EXPECT_EQ(run({"resource", "failcount", "httpd", "show", "node2"}).out,
            "scope=status  name=fail-count-httpd value=0\n");
  EXPECT_NE(refused({"resource", "failcount", "httpd", "set", "node1", "many"}).err.find("word 4"),
            std::string::npos);
  EXPECT_NE(refused({"resource", "failcount", "httpd", "reset", "node1"}).err.find("word 2"),
            std::string::npos);
  refused({"resource", "failcount", "httpd", "show", "node9"});
  // cleanup: history and fail counts of the resource go on every node; the group's members too.
  r = run({"resource", "cleanup", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Cleaned up webservice on node2\nCleaned up webservice on node1\n");
  EXPECT_FALSE(exists("//lrm_resource[@id='httpd']"));
  EXPECT_FALSE(exists("//lrm_resource[@id='vip']"));
  EXPECT_FALSE(exists("//nvpair[@name='fail-count-httpd#monitor_10000']"));
  EXPECT_TRUE(exists("//nvpair[@name='#feature-set']"));
  EXPECT_EQ(run({"resource", "status", "webservice"}).out, "resource webservice is NOT running\n");
}

TEST_F(Operations, CleanupOfOneResourceOnOneNode) {
  ASSERT_EQ(run({"resource", "failcount", "vip", "set", "node2", "2", "monitor", "10"}).code, 0);
  auto r = run({"resource", "cleanup", "vip", "node2"});
  EXPECT_EQ(r.out, "Cleaned up vip on node2\n");
  EXPECT_FALSE(exists("//node_state[@id='2']//lrm_resource[@id='vip']"));
  EXPECT_TRUE(exists("//node_state[@id='1']//lrm_resource[@id='vip']"));
  EXPECT_TRUE(exists("//node_state[@id='2']//lrm_resource[@id='httpd']"));
  EXPECT_FALSE(exists("//nvpair[@name='fail-count-vip#monitor_10000']"));
  EXPECT_EQ(refused({"resource", "cleanup", "vip", "node9"}).err,
            "ERROR: Node 'node9' not found in CIB\n");
}

TEST_F(Operations, NodeStandbyOnlineMaintenanceReady) {
  auto r = run({"node", "standby", "node2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "INFO: standby node node2\n");
  EXPECT_EQ(xpath_value("//node[@id='2']/instance_attributes/nvpair[@name='standby']/@value"),
            "on");
  EXPECT_EQ(run({"node", "attribute", "node2", "show", "standby"}).out,
            "scope=nodes  name=standby value=on\n");
  auto status = run({"status"});
  EXPECT_NE(status.out.find("Node List:\n  * Node node2: standby (with active resources)\n"
                            "  * Online: [ node1 ]\n"),
            std::string::npos)
      << status.out;
  EXPECT_EQ(run({"node", "online", "node2"}).out, "INFO: online node node2\n");
  EXPECT_EQ(xpath_value("//node[@id='2']/instance_attributes/nvpair[@name='standby']/@value"),
            "off");
  ASSERT_EQ(run({"node", "maintenance", "node1"}).code, 0);
  EXPECT_EQ(xpath_value("//node[@id='1']/instance_attributes/nvpair[@name='maintenance']/@value"),
            "true");
  EXPECT_NE(run({"status"}).out.find("  * Node node1: maintenance\n"), std::string::npos);
  ASSERT_EQ(run({"node", "ready", "node1"}).code, 0);
  EXPECT_EQ(xpath_value("//node[@id='1']/instance_attributes/nvpair[@name='maintenance']/@value"),
            "off");
  EXPECT_EQ(refused({"node", "standby", "node9"}).err, "ERROR: Node 'node9' not found in CIB\n");
  // No NODE and no vigild to say which node this is.
  EXPECT_NE(refused({"node", "standby"}).err.find("name the node"), std::string::npos);
}

TEST_F(Operations, NodeListAttributeClearstateFence) {
  auto r = run({"node", "list"});
  EXPECT_EQ(r.out, "node1(1): member\n\tstandby=off\nnode2(2): member\n\tstandby=off\n");
  ASSERT_EQ(run({"node", "attribute", "node1", "set", "rack", "r7"}).code, 0);
  EXPECT_EQ(run({"node", "attribute", "node1", "show", "rack"}).out,
            "scope=nodes  name=rack value=r7\n");
  r = run({"node", "attribute", "node1", "delete", "rack"});
  EXPECT_EQ(r.out, "Deleted nodes attribute: id=num-1-instance_attributes-rack name=rack\n");
  r = refused({"node", "attribute", "node1", "show", "rack"});
  EXPECT_EQ(r.code, 105);
  EXPECT_NE(refused({"node", "attribute", "node1", "put", "rack"}).err.find("word 2"),
            std::string::npos);
  // clearstate: refused while the node is up; once it is down its status entry goes.
  EXPECT_NE(refused({"node", "clearstate", "node2"}).err.find("is online"), std::string::npos);
  {
    auto cib = current();
    auto state = cib.status().find_child_by_attribute("node_state", "id", "2");
    state.attribute("in_ccm") = "false";
    state.attribute("crmd") = "offline";
    state.attribute("join") = "down";
    state.attribute("expected") = "down";
    std::ofstream(dir_ / "cib.xml", std::ios::binary) << cib.to_xml();
    fs::remove(dir_ / "cib.xml.sig");
  }
  EXPECT_EQ(run({"node", "clearstate", "node2"}).code, 0);
  EXPECT_FALSE(exists("//node_state[@id='2']"));
  EXPECT_TRUE(exists("//node_state[@id='1']"));
  // fence needs vigild.
  EXPECT_NE(refused({"node", "fence", "node2"}).err.find("fencing needs a running vigild"),
            std::string::npos);
  EXPECT_EQ(refused({"node", "fence"}).code, 2);
}

TEST_F(Operations, HelpListsEveryResourceCommand) {
  auto r = run({"help", "resource"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* command : {"meta", "param", "utilization", "manage", "unmanage", "maintenance",
                              "refresh", "operations", "cleanup", "failcount"})
    EXPECT_NE(r.out.find(std::string("  ") + command), std::string::npos) << command << "\n"
                                                                          << r.out;
}

TEST_F(Operations, RefreshForgetsAllHistoryAndKeepsFailCounts) {
  // A cleanup forgets only what failed: nothing here has a failed operation.
  ASSERT_EQ(run({"resource", "cleanup"}).code, 0);
  EXPECT_TRUE(exists("//lrm_resource[@id='vip']"));
  ASSERT_EQ(run({"resource", "failcount", "httpd", "set", "node1", "1", "monitor", "10"}).code, 0);
  auto r = run({"resource", "refresh", "webservice", "node2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Cleaned up vip on node2\nCleaned up httpd on node2\n");
  EXPECT_FALSE(exists("//node_state[@id='2']//lrm_resource"));
  EXPECT_TRUE(exists("//node_state[@id='1']//lrm_resource[@id='vip']"));
  r = run({"resource", "refresh", "force"});  // crmsh's "force" in RSC's place: all resources
  EXPECT_EQ(r.out, "Cleaned up all resources on all nodes\n");
  EXPECT_FALSE(exists("//lrm_resource"));
  EXPECT_TRUE(exists("//nvpair[@name='fail-count-httpd#monitor_10000']"));
  EXPECT_EQ(refused({"resource", "refresh", "a", "b", "c", "d"}).err,
            "ERROR: resource.refresh: Expected ([rsc] [node] [force]), takes at most 3 arguments "
            "(4 given)\n");
  EXPECT_EQ(refused({"resource", "reprobe", "nosuch"}).err, "ERROR: Resource 'nosuch' not found\n");
}

TEST_F(Operations, OperationsRefuseUnknownResourcesAndNodes) {
  // crmsh prints nothing and exits 0 for both; vigil says what it did not find.
  auto r = refused({"resource", "operations", "nosuch"});
  EXPECT_EQ(r.err, "ERROR: Resource 'nosuch' not found\n");
  r = refused({"resource", "operations", "vip", "node9"});
  EXPECT_EQ(r.err,
            "crm_resource: Node 'node9' not found\nError performing operation: No such object\n");
  // A resource only the history knows (no longer configured) still lists.
  ASSERT_EQ(run({"configure", "--force", "delete", "webservice"}).code, 0);
  r = run({"resource", "operations", "vip"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": vip_start_0 (node=node2, call=26, rc=0"), std::string::npos) << r.out;
}

TEST_F(Operations, UnmanageAsksBeforeDroppingMembersOwnSettings) {
  ASSERT_EQ(run({"resource", "meta", "vip", "set", "is-managed", "true"}).code, 0);
  ASSERT_EQ(run({"resource", "meta", "httpd", "set", "maintenance", "true"}).code, 0);
  // Without --force, as crmsh when it cannot ask: the members keep theirs.
  auto r = run({"resource", "unmanage", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(xpath_value("//group/meta_attributes/nvpair[@name='is-managed']/@value"), "false");
  EXPECT_EQ(xpath_value("//primitive[@id='vip']/meta_attributes/nvpair/@value"), "true");
  // With it, as crm -F: both go, and so do the sets they leave empty.
  r = run({"resource", "unmanage", "--force", "webservice"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "INFO: 'is-managed' conflicts with 'maintenance' attribute. Remove 'maintenance' for "
            "child resource httpd? [YES]\n"
            "INFO: Do you want to override 'is-managed' for child resource vip? [YES]\n");
  EXPECT_FALSE(exists("//primitive/meta_attributes"));
  EXPECT_EQ(xpath_value("//group/meta_attributes/nvpair[@name='is-managed']/@value"), "false");
  // maintenance then meets the group's own is-managed: kept without --force.
  ASSERT_EQ(run({"resource", "maintenance", "webservice"}).code, 0);
  EXPECT_TRUE(exists("//group/meta_attributes/nvpair[@name='is-managed']"));
  EXPECT_EQ(xpath_value("//group/meta_attributes/nvpair[@name='maintenance']/@value"), "true");
  ASSERT_EQ(run({"resource", "maintenance", "-F", "webservice", "off"}).code, 0);
  EXPECT_FALSE(exists("//group/meta_attributes/nvpair[@name='is-managed']"));
  EXPECT_EQ(xpath_value("//group/meta_attributes/nvpair[@name='maintenance']/@value"), "false");
}

TEST_F(Operations, AttributeErrorsChangeNothing) {
  EXPECT_EQ(refused({"resource", "param", "vip", "set", "ip"}).err,
            "ERROR: Bad usage: Missing value argument to set, command: 'param vip set ip'\n");
  EXPECT_EQ(
      refused({"resource", "utilization", "nosuch", "set", "cpu", "1"}).err,
      "crm_resource: Resource 'nosuch' not found\nError performing operation: No such object\n");
  EXPECT_EQ(refused({"resource", "unmanage", "nosuch"}).err, "ERROR: Resource not found: nosuch\n");
  // A value that looks like an option is a value.
  auto r = run({"resource", "meta", "vip", "set", "resource-stickiness", "-INFINITY"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(run({"resource", "meta", "vip", "show", "resource-stickiness"}).out, "-INFINITY\n");
}

}  // namespace
}  // namespace vigil::cli
