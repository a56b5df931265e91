// What a controller does with its peers' messages, not only how it decodes them: node 1 is the DC
// of a two-node cluster holding the fixture CIB; the input is a sequence of messages from node 2
// (or 1, or a stranger), each a sender byte, a 16-bit little-endian length and the message bytes,
// with agent results and ticks in between. Nothing crashes, and every CIB change the controller
// asks for is one that apply() takes or refuses whole.
#include <cstdint>
#include <span>

#include "../cib_fixture.h"
#include "controller/controller.h"

namespace {

using namespace vigil;

struct Run {
  controller::Controller core{controller::Member{1, "n1"}, 42};
  cib::Cib cib = fuzz::fixture_cib();
  std::vector<std::uint64_t> tokens;
  Millis now = 1'700'000'000'000;

  void carry_out(controller::Output out) {
    for (const auto& op : out.commits) {
      auto applied = cib::apply(cib, op);
      if (applied) cib = std::move(*applied);
    }
    for (const auto& a : out.run) tokens.push_back(a.token);
    if (!out.commits.empty()) carry_out(core.cib_changed(cib, now));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Run run;
  const controller::ClusterView view{{{1, "n1"}, {2, "n2"}}, true, {1, 2}, false, {}};
  run.carry_out(run.core.view_changed(view, run.now));
  run.carry_out(run.core.cib_changed(run.cib, run.now));
  std::span<const std::uint8_t> in(data, size);
  for (int events = 0; events < 32 && in.size() >= 3; ++events) {
    const controller::NodeId from = 1 + in[0] % 3;
    const std::size_t length = std::min<std::size_t>(in[1] | in[2] << 8, in.size() - 3);
    const auto body = in.subspan(3, length);
    in = in.subspan(3 + length);
    run.now += 100 * (in.empty() ? 1 : 1 + in[0] % 50);
    auto m = controller::decode(
        std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
    if (m) run.carry_out(run.core.message(from, *m, run.now));
    if (!run.tokens.empty() && (length & 1)) {
      run.carry_out(run.core.action_done(run.tokens.back(), {static_cast<int>(length % 10), 0, 5, ""},
                                         run.now));
      run.tokens.pop_back();
    }
    run.carry_out(run.core.tick(run.now));
  }
  return 0;
}
