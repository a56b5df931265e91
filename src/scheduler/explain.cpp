#include "scheduler/explain.h"

#include "scheduler/stages.h"

namespace vigil::scheduler {

// Up to the actions: placement_why() reads the role each resource is to have, which creating
// the actions settles (no-quorum-policy=demote, a resource that cannot run).
std::vector<Placement> placements(const cib::Cib& cib, Millis now) {
  const auto planned = create_actions(place(score_nodes(unpack_status(cib, now))));
  const Working& w = planned.w;
  std::vector<Placement> out;
  for (const auto& r : w.all) {
    if (r->variant != Variant::Primitive) continue;
    out.push_back({r->id,
                   r->assigned_to >= 0 ? w.nodes[static_cast<std::size_t>(r->assigned_to)].name
                                       : "",
                   placement_why(w, *r)});
  }
  return out;
}

}  // namespace vigil::scheduler
