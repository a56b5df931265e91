// The timeout an action runs with, resolved as Pacemaker resolves it (pcmk__unpack_action_meta):
// the op's own, a probe's from the most frequent recurring monitor, op_defaults, else 20 s. The
// agent's advertised timeouts play no part, in Pacemaker as here.
#include <gtest/gtest.h>

#include <string>

#include "cib/cib.h"
#include "controller/status_ops.h"

namespace vigil::controller {
namespace {

cib::Cib parse(const std::string& operations, const std::string& op_defaults = "") {
  auto cib = cib::Cib::parse(
      R"(<cib admin_epoch="0" epoch="1" num_updates="0"><configuration><crm_config/><nodes/>
      <resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy">
        <operations>)" +
          operations + R"(</operations></primitive></resources><constraints/>)" + op_defaults +
          "</configuration><status/></cib>",
      "test.xml");
  VIGIL_ASSERT(cib.ok());
  return *cib;
}

Millis timeout_of(const cib::Cib& cib, const std::string& task, std::int64_t interval_ms) {
  return op_timeout(cib, primitive_of(cib, "d"), task, interval_ms);
}

// `op monitor interval=10s`, crm's most common line, has no timeout: the monitor and the probe run
// with 20 s (they ran with 0 ms and failed at once, everywhere).
TEST(OpTimeout, AnOpWithoutTimeoutTakesTwentySeconds) {
  const auto cib = parse(R"(<op id="d-mon" name="monitor" interval="10s"/>)");
  EXPECT_EQ(timeout_of(cib, "monitor", 10000), 20000);
  EXPECT_EQ(timeout_of(cib, "monitor", 0), 20000);
  EXPECT_EQ(timeout_of(cib, "start", 0), 20000);
  EXPECT_EQ(timeout_of(cib, "stop", 0), 20000);
}

TEST(OpTimeout, OpDefaultsFillInWhatTheOpLeavesOut) {
  const auto cib = parse(R"(<op id="d-mon" name="monitor" interval="10s"/>
                            <op id="d-start" name="start" interval="0" timeout="90s"/>)",
                         R"(<op_defaults><meta_attributes id="od">
                              <nvpair id="od-t" name="timeout" value="45s"/>
                            </meta_attributes></op_defaults>)");
  EXPECT_EQ(timeout_of(cib, "monitor", 10000), 45000);
  EXPECT_EQ(timeout_of(cib, "monitor", 0), 45000);
  EXPECT_EQ(timeout_of(cib, "stop", 0), 45000);
  EXPECT_EQ(timeout_of(cib, "start", 0), 90000);
}

// A probe takes the timeout of the most frequent recurring monitor, ahead of op_defaults.
TEST(OpTimeout, AProbeTakesTheMostFrequentMonitorsTimeout) {
  const auto cib = parse(R"(<op id="d-slow" name="monitor" interval="60s" timeout="90s"/>
                            <op id="d-fast" name="monitor" interval="10s" timeout="30s"/>
                            <op id="d-off" name="monitor" interval="5s" timeout="1s"
                                enabled="false"/>)",
                         R"(<op_defaults><meta_attributes id="od">
                              <nvpair id="od-t" name="timeout" value="45s"/>
                            </meta_attributes></op_defaults>)");
  EXPECT_EQ(timeout_of(cib, "monitor", 0), 30000);
  EXPECT_EQ(timeout_of(cib, "monitor", 60000), 90000);
}

TEST(OpTimeout, AnOpsMetaAttributesCountAndNonsenseIsTwentySeconds) {
  const auto cib = parse(R"(<op id="d-mon" name="monitor" interval="10s">
                              <meta_attributes id="d-mon-m">
                                <nvpair id="d-mon-t" name="timeout" value="1m"/>
                              </meta_attributes></op>
                            <op id="d-start" name="start" interval="0" timeout="0"/>
                            <op id="d-stop" name="stop" interval="0" timeout="soon"/>)");
  EXPECT_EQ(timeout_of(cib, "monitor", 10000), 60000);
  EXPECT_EQ(timeout_of(cib, "start", 0), 20000);
  EXPECT_EQ(timeout_of(cib, "stop", 0), 20000);
}

}  // namespace
}  // namespace vigil::controller
