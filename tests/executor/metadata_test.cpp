// Agent names, result mapping, durations, meta-data parsing and parameter checks.
#include <gtest/gtest.h>

#include <tuple>

#include "executor/agent.h"
#include "executor/executor.h"
#include "fixture.h"

namespace vigil::executor::testing {
namespace {

TEST(AgentSpec, ParsesEveryClass) {
  auto ocf = AgentSpec::parse("ocf:heartbeat:IPaddr2");
  ASSERT_TRUE(ocf.ok());
  EXPECT_EQ(ocf->standard, AgentClass::Ocf);
  EXPECT_EQ(ocf->provider, "heartbeat");
  EXPECT_EQ(ocf->type, "IPaddr2");
  EXPECT_EQ(ocf->str(), "ocf:heartbeat:IPaddr2");
  for (const char* s : {"lsb:apache2", "systemd:nginx", "service:ssh", "stonith:fence_ipmilan"}) {
    auto spec = AgentSpec::parse(s);
    ASSERT_TRUE(spec.ok()) << s;
    EXPECT_EQ(spec->str(), s);
  }
}

TEST(AgentSpec, RejectsBadNamesNamingThem) {
  for (const char* s : {"IPaddr2", "ocf:IPaddr2", "ocf::IPaddr2", "bogus:x", "lsb:../../bin/sh",
                        "lsb:", "ocf:heartbeat:a:b", "stonith:.."}) {
    auto spec = AgentSpec::parse(s);
    ASSERT_FALSE(spec.ok()) << s;
    EXPECT_NE(spec.error().message.find(s), std::string::npos) << spec.error().message;
  }
}

// A primitive's class, provider and type make the same value as their text, checked alike.
TEST(AgentSpec, FromAPrimitivesAttributes) {
  EXPECT_EQ(*AgentSpec::of("ocf", "heartbeat", "IPaddr2"),
            *AgentSpec::parse("ocf:heartbeat:IPaddr2"));
  EXPECT_EQ(*AgentSpec::of("stonith", "", "fence_ipmilan"),
            *AgentSpec::parse("stonith:fence_ipmilan"));
  for (auto [cls, provider, type] : {std::tuple{"upstart", "", "x"},
                                     {"ocf", "", "IPaddr2"},
                                     {"lsb", "heartbeat", "apache2"},
                                     {"lsb", "", "../../bin/sh"}}) {
    auto spec = AgentSpec::of(cls, provider, type);
    ASSERT_FALSE(spec.ok()) << cls << ":" << provider << ":" << type;
    EXPECT_NE(spec.error().message.find(type), std::string::npos) << spec.error().message;
  }
  // What `vigil configure verify` says of a primitive with class="ocf" and no provider.
  EXPECT_EQ(AgentSpec::of("ocf", "", "Dummy").error().message,
            "agent 'ocf:Dummy': an ocf agent needs a provider (ocf:PROVIDER:TYPE)");
}

TEST(ResultMapping, LsbCodesAsPacemakerMapsThem) {
  EXPECT_EQ(lsb_to_ocf("status", 0), OcfCode::Ok);
  EXPECT_EQ(lsb_to_ocf("status", 1), OcfCode::NotRunning);
  EXPECT_EQ(lsb_to_ocf("status", 2), OcfCode::NotRunning);
  EXPECT_EQ(lsb_to_ocf("status", 3), OcfCode::NotRunning);
  EXPECT_EQ(lsb_to_ocf("status", 4), OcfCode::Error);
  EXPECT_EQ(lsb_to_ocf("status", 150), OcfCode::NotInstalled);
  EXPECT_EQ(lsb_to_ocf("status", 151), OcfCode::InsufficientPrivileges);
  EXPECT_EQ(lsb_to_ocf("start", 0), OcfCode::Ok);
  EXPECT_EQ(lsb_to_ocf("start", 5), OcfCode::NotInstalled);
  EXPECT_EQ(lsb_to_ocf("stop", 7), OcfCode::NotRunning);
  EXPECT_EQ(lsb_to_ocf("start", 8), OcfCode::Error);
  EXPECT_EQ(describe(OcfCode::NotRunning), "not running");
  EXPECT_EQ(describe(OcfCode::RunningPromoted), "promoted");
}

TEST(Durations, PacemakerUnits) {
  EXPECT_EQ(*parse_duration("20"), 20000);
  EXPECT_EQ(*parse_duration("20s"), 20000);
  EXPECT_EQ(*parse_duration(" 500ms "), 500);
  EXPECT_EQ(*parse_duration("2m"), 120000);
  EXPECT_EQ(*parse_duration("2min"), 120000);
  EXPECT_EQ(*parse_duration("1h"), 3600000);
  for (const char* bad : {"", "s", "-1s", "10x", "99999999999999999999"}) {
    auto d = parse_duration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.error().message.find(std::string("'") + bad + "'"), std::string::npos);
  }
}

constexpr const char* kSample = R"(<?xml version="1.0"?>
<resource-agent name="Sample" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">
A sample agent.
  </longdesc>
  <shortdesc lang="en">Sample agent</shortdesc>
  <parameters>
    <parameter name="ip" unique="1" required="1">
      <longdesc lang="en">The address.</longdesc>
      <shortdesc lang="en">IP address</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="port" required="0">
      <shortdesc lang="en">Port</shortdesc>
      <content type="integer" default="80"/>
    </parameter>
    <parameter name="old" required="1">
      <deprecated/>
      <content type="string"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="20s"/>
    <action name="monitor" depth="0" timeout="20s" interval="10s"/>
    <action name="meta-data" timeout="5s"/>
  </actions>
</resource-agent>)";

TEST(Metadata, ParsesParametersAndActions) {
  auto md = parse_metadata(kSample, "ocf:test:Sample");
  ASSERT_TRUE(md.ok()) << md.error().message;
  EXPECT_EQ(md->version, "1.1");
  EXPECT_EQ(md->shortdesc, "Sample agent");
  EXPECT_EQ(md->longdesc, "A sample agent.");
  ASSERT_EQ(md->parameters.size(), 3u);
  const auto& ip = md->parameters[0];
  EXPECT_EQ(ip.name, "ip");
  EXPECT_TRUE(ip.required);
  EXPECT_TRUE(ip.unique);
  EXPECT_EQ(ip.type, "string");
  EXPECT_FALSE(ip.default_value.has_value());
  EXPECT_EQ(ip.longdesc, "The address.");
  EXPECT_EQ(md->parameter("port")->default_value.value_or(""), "80");
  EXPECT_TRUE(md->parameter("old")->deprecated);
  const auto* monitor = md->action("monitor");
  ASSERT_NE(monitor, nullptr);
  EXPECT_EQ(monitor->timeout, 20000);
  EXPECT_EQ(monitor->interval, 10000);
  ASSERT_EQ(monitor->attributes.size(), 3u);
  EXPECT_EQ(monitor->attributes[0], (std::pair<std::string, std::string>{"depth", "0"}));
}

TEST(Metadata, RejectsBrokenXmlNamingTheAgent) {
  for (const char* bad : {"", "<resource-agent", "<other/>",
                          "<resource-agent><parameters><parameter/></parameters></resource-agent>",
                          "<resource-agent><actions><action/></actions></resource-agent>"}) {
    auto md = parse_metadata(bad, "ocf:test:Broken");
    ASSERT_FALSE(md.ok()) << bad;
    EXPECT_NE(md.error().message.find("ocf:test:Broken"), std::string::npos);
  }
}

TEST(Metadata, CheckParamsNamesParameterAndAgent) {
  auto md = parse_metadata(kSample, "ocf:test:Sample");
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(check_params(*md, {{"ip", "10.0.0.1"}, {"port", "8080"}}).ok());
  auto unknown = check_params(*md, {{"ip", "10.0.0.1"}, {"prot", "8080"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "parameter 'prot' is not a parameter of ocf:test:Sample");
  auto missing = check_params(*md, {{"port", "1"}});
  ASSERT_FALSE(missing.ok());
  // The deprecated required parameter is not demanded.
  EXPECT_EQ(missing.error().message, "required parameter 'ip' of ocf:test:Sample is missing");
}

TEST(Metadata, RealIpaddr2) {
  if (::access("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", X_OK) != 0) {
    GTEST_SKIP() << "resource-agents is not installed";
  }
  ScratchDir dir;
  MetadataCache cache(system_settings(dir));
  auto md = cache.get(*AgentSpec::parse("ocf:heartbeat:IPaddr2"));
  ASSERT_TRUE(md.ok()) << md.error().message;
  ASSERT_NE((*md)->parameter("ip"), nullptr);
  EXPECT_TRUE((*md)->parameter("ip")->required);
  EXPECT_EQ((*md)->parameters.front().name, "ip");
  ASSERT_NE((*md)->action("start"), nullptr);
  EXPECT_GT((*md)->action("start")->timeout, 0);
  auto r = check_params(**md, {{"cidr_netmask", "24"}, {"colour", "blue"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'colour' is not a parameter of ocf:heartbeat:IPaddr2"),
            std::string::npos);
  EXPECT_NE(r.error().message.find("required parameter 'ip' of ocf:heartbeat:IPaddr2 is missing"),
            std::string::npos);
}

TEST(Metadata, LsbScriptDescribedFromItsHeader) {
  ScratchDir dir;
  MetadataCache cache(test_settings(dir));
  auto md = cache.get(*AgentSpec::parse("lsb:vigil-test-service"));
  ASSERT_TRUE(md.ok()) << md.error().message;
  EXPECT_EQ((*md)->shortdesc, "vigil's test service");
  EXPECT_NE((*md)->longdesc.find("file in $VIGIL_TEST_STATE."), std::string::npos);
  EXPECT_NE((*md)->action("monitor"), nullptr);
}

TEST(Catalog, ClassesProvidersAgents) {
  ScratchDir dir;
  auto settings = test_settings(dir);
  settings.systemd_run_dir = dir.path() + "/no-systemd";
  EXPECT_EQ(list_classes(settings), (std::vector<std::string>{"lsb", "ocf", "service", "stonith"}));
  settings.systemd_run_dir = dir.path();
  EXPECT_EQ(list_classes(settings).back(), "systemd");
  EXPECT_EQ(list_providers(settings), std::vector<std::string>{"vigiltest"});
  auto ocf = list_agents(settings, "ocf", "vigiltest");
  ASSERT_TRUE(ocf.ok());
  EXPECT_EQ(*ocf, (std::vector<std::string>{"barrier", "env", "hang", "noisy", "noop"}));
  EXPECT_EQ(*list_agents(settings, "stonith"), std::vector<std::string>{"fence_vigiltest"});
  EXPECT_EQ(*list_agents(settings, "lsb"), std::vector<std::string>{"vigil-test-service"});
  auto bad = list_agents(settings, "ocf", "nobody");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "there is no provider nobody for class ocf");
  EXPECT_FALSE(list_agents(settings, "upstart").ok());
}

}  // namespace
}  // namespace vigil::executor::testing
