#include "cib_checker.h"

#include "checker.h"

namespace vigil::sim {

namespace {
std::string node_name(NodeId node) {
  return "n" + std::to_string(node);
}
}  // namespace

void CibChecker::on_commit(NodeId node, std::uint64_t ticket, std::string id) {
  open_[{node, ticket}] = std::move(id);
}

void CibChecker::on_reply(NodeId node, const node::CibReply& reply) {
  auto it = open_.find({node, reply.ticket});
  if (it == open_.end()) return;
  const std::string id = std::move(it->second);
  open_.erase(it);
  if (!reply.result.ok()) return;
  const cib::Cib* disk = copies_.disk(node);
  if (disk == nullptr || !disk->find_id(id)) {
    report_.report("cib durability", node_name(node) + " answered OK to the commit creating " +
                                         id + " before it was on its disk");
  }
  acked_.insert(id);
  for (NodeId n = 1; n <= static_cast<NodeId>(copies_.nodes); ++n) {
    const auto* m = copies_.memory(n);
    if (m != nullptr && m->find_id(id)) memory_[n].insert(id);
    const auto* d = copies_.disk(n);
    if (d != nullptr && d->find_id(id)) disk_[n].insert(id);
  }
  if (!alive(id))
    report_.report("cib durability", node_name(node) + " answered OK to the commit creating " +
                                         id + ", which no replica or disk holds");
}

// One pass over the resources (the workload's commits create nothing else).
CibChecker::Ids CibChecker::held(const cib::Cib* doc) const {
  Ids out;
  if (doc == nullptr) return out;
  for (const auto& r : doc->configuration().child("resources").children()) {
    const std::string id = r.attribute("id").value();
    if (acked_.count(id) != 0) out.insert(id);
  }
  return out;
}

bool CibChecker::alive(const std::string& id) const {
  for (const auto* copies : {&memory_, &disk_}) {
    for (const auto& [n, ids] : *copies) {
      if (ids.count(id) != 0) return true;
    }
  }
  return false;
}

// Ids a copy no longer holds: the last copy may go only with a document adopted over it.
// A copy that a crash takes after a document without it was adopted elsewhere goes with that
// reconciliation too: the adopting member no longer counted on it.
void CibChecker::dropped(const Ids& before, const Ids& after, bool adopted, NodeId node) {
  for (const auto& id : before) {
    if (after.count(id) != 0) continue;
    if (adopted) adopted_over_.insert(id);
    if (alive(id) || lost_.count(id) != 0) continue;
    if (adopted || adopted_over_.count(id) != 0) {
      lost_.insert(id);
      continue;
    }
    report_.report("cib durability", "acknowledged change creating " + id + " lost: " +
                                         node_name(node) +
                                         " crashed holding its last copy, which was not on its "
                                         "disk");
  }
}

void CibChecker::on_memory(NodeId node) {
  if (const auto* m = copies_.memory(node)) {
    auto [last, fresh] = versions_.try_emplace(node, m->version());
    if (!fresh && m->version() < last->second)
      report_.report("cib versions", node_name(node) + "'s replica went from CIB " +
                                         last->second.str() + " back to " + m->version().str());
    last->second = m->version();
  }
  auto before = std::move(memory_[node]);
  memory_[node] = held(copies_.memory(node));
  dropped(before, memory_[node], true, node);
}

void CibChecker::on_disk(NodeId node) {
  auto before = std::move(disk_[node]);
  disk_[node] = held(copies_.disk(node));
  dropped(before, disk_[node], true, node);
}

void CibChecker::on_crash(NodeId node) {
  auto before = std::move(memory_[node]);
  memory_[node].clear();
  versions_.erase(node);
  std::erase_if(open_, [&](const auto& c) { return c.first.first == node; });
  dropped(before, {}, false, node);
}

void CibChecker::on_disk_gone(NodeId node) {
  const auto before = std::move(disk_[node]);
  disk_[node].clear();
  // A copy elsewhere may be only in a replica's memory: losing it in a crash is no failure then.
  for (const auto& id : before) (alive(id) ? adopted_over_ : lost_).insert(id);
}

void CibChecker::check_synced(const std::vector<const node::Node*>& live) {
  // (members, version) → the first synced replica seen there
  std::map<std::pair<std::vector<groups::Member>, cib::Version>, const node::Node*> first;
  for (const auto* n : live) {
    const auto& r = n->cib()->replica();
    if (!r.synced()) continue;
    auto [it, fresh] = first.try_emplace({r.members(), r.current().version()}, n);
    if (fresh || it->second->cib()->replica().digest() == r.digest()) continue;
    report_.report("cib agreement", node_name(n->id()) + " and " + node_name(it->second->id()) +
                                        " are synced in one view at CIB " +
                                        r.current().version().str() +
                                        " with different documents");
    return;
  }
}

void CibChecker::check_end(const std::vector<const node::Node*>& live) {
  if (live.empty()) return;
  const auto& first = live.front()->cib()->replica();
  for (const auto* n : live) {
    const auto& r = n->cib()->replica();
    if (!r.synced())
      return report_.report("cib agreement",
                            node_name(n->id()) + " is not synced once the ring settled");
    if (r.digest() != first.digest())
      return report_.report("cib agreement", node_name(n->id()) + " (CIB " +
                                                 r.current().version().str() + ") and " +
                                                 node_name(live.front()->id()) + " (CIB " +
                                                 first.current().version().str() +
                                                 ") hold different documents once settled");
    for (const auto& id : acked_) {
      if (lost_.count(id) == 0 && !r.current().find_id(id))
        return report_.report("cib durability", "acknowledged change creating " + id +
                                                    " is not in " + node_name(n->id()) +
                                                    "'s CIB once settled");
    }
  }
}

}  // namespace vigil::sim
