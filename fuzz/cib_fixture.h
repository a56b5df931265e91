// The CIB the fuzz targets that act on a document start from: a little of everything an address,
// an op or a query can reach (properties, nodes, a group, a clone, constraints, status). Parsed
// once; a target that changes it works on a copy.
#pragma once

#include "cib/cib.h"

namespace vigil::fuzz {

inline const cib::Cib& fixture_cib() {
  static const cib::Cib cib = [] {
    auto parsed = cib::Cib::parse(R"(<cib admin_epoch="0" epoch="3" num_updates="1" validate-with="pacemaker-3.0">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts"><nvpair id="opts-stonith" name="stonith-enabled" value="false"/></cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <group id="web">
        <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="10.0.0.1"/></instance_attributes>
          <operations><op id="vip-mon" name="monitor" interval="10s"/></operations>
        </primitive>
        <primitive id="httpd" class="lsb" type="apache2"/>
      </group>
      <clone id="pingc"><primitive id="ping" class="ocf" provider="pacemaker" type="ping"/></clone>
    </resources>
    <constraints>
      <rsc_location id="loc" rsc="web" node="n1" score="100"/>
      <rsc_order id="ord" first="pingc" then="web" kind="Mandatory"/>
    </constraints>
    <rsc_defaults><meta_attributes id="rd"><nvpair id="rd-st" name="resource-stickiness" value="1"/></meta_attributes></rsc_defaults>
  </configuration>
  <status>
    <node_state id="1" uname="n1" crmd="online" expected="member" join="member" in_ccm="true"/>
  </status>
</cib>
)",
                                  "fixture");
    VIGIL_ASSERT(parsed.ok());
    return std::move(parsed).value();
  }();
  return cib;
}

}  // namespace vigil::fuzz
