// The cluster-option table (scheduler/options.h) that the scheduler takes its defaults from and
// `vigil configure verify` checks values against: every default is a value of its own type.
#include "scheduler/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cib/validate.h"
#include "common/common.h"
#include "scheduler/model.h"

namespace vigil::scheduler {
namespace {

TEST(ClusterOptions, EveryDefaultIsAValueOfItsType) {
  std::set<std::string_view> names;
  for (const auto& o : cluster_options()) {
    SCOPED_TRACE(std::string(o.name));
    EXPECT_TRUE(names.insert(o.name).second) << "listed twice";
    const std::string value(o.default_value);
    switch (o.type) {
      case OptionType::Boolean:
        EXPECT_TRUE(value == "true" || value == "false") << value;
        break;
      case OptionType::Integer:
        EXPECT_TRUE(cib::is_score(value)) << value;
        break;
      case OptionType::Time:
        EXPECT_TRUE(parse_interval_ms(value).has_value()) << value;
        break;
      case OptionType::Percentage:
        EXPECT_EQ(value.back(), '%');
        break;
      case OptionType::Select:
        EXPECT_NE(std::find(o.values.begin(), o.values.end(), o.default_value), o.values.end())
            << value << " is not among its values";
        break;
      case OptionType::Text:
        break;
    }
  }
}

TEST(ClusterOptions, LookUpByExactName) {
  ASSERT_NE(find_cluster_option("no-quorum-policy"), nullptr);
  EXPECT_EQ(find_cluster_option("no-quorum-policy")->type, OptionType::Select);
  EXPECT_EQ(find_cluster_option("no-quorum-polic"), nullptr);
  EXPECT_EQ(find_cluster_option("No-Quorum-Policy"), nullptr);  // Pacemaker's names are exact
  EXPECT_EQ(option_default("stonith-timeout"), find_cluster_option("stonith-timeout")->default_value);
}

}  // namespace
}  // namespace vigil::scheduler
