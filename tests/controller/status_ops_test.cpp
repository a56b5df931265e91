// The status section as the controller writes it: a resource's history carries its shutdown lock
// (the attribute the scheduler reads back), and only while one is held.
#include <gtest/gtest.h>

#include <string>

#include "controller/status_ops.h"

namespace vigil::controller {
namespace {

TEST(StatusOps, AHistoryCarriesItsShutdownLockOnlyWhileOneIsHeld) {
  LrmHistory history;
  auto& a = history["a"];
  a.cls = "ocf";
  a.provider = "heartbeat";
  a.type = "Dummy";
  a.shutdown_lock = 1700000000;
  EXPECT_NE(lrm_xml("1", history).find("<lrm_resource id=\"a\" type=\"Dummy\" class=\"ocf\" "
                                       "provider=\"heartbeat\" shutdown-lock=\"1700000000\">"),
            std::string::npos)
      << lrm_xml("1", history);
  a.shutdown_lock = 0;
  EXPECT_EQ(lrm_xml("1", history).find("shutdown-lock"), std::string::npos);
}

}  // namespace
}  // namespace vigil::controller
