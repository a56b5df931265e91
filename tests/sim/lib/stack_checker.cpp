#include "stack_checker.h"

#include <algorithm>
#include <unordered_map>

#include "checker.h"

namespace vigil::sim {

namespace {
std::string list(const std::vector<groups::Member>& members) {
  std::string s = "[";
  for (const auto& m : members)
    s += (s.size() > 1 ? " " : "") + std::to_string(m.node) + "/" + std::to_string(m.pid);
  return s + "]";
}
std::string name(NodeId node, std::uint32_t pid) {
  return "n" + std::to_string(node) + "/" + std::to_string(pid);
}
}  // namespace

void StackChecker::on_restart(NodeId node) {
  std::erase_if(view_, [&](const auto& entry) { return entry.first.first == node; });
}

void StackChecker::on_notice(NodeId node, const node::GroupNotice& notice) {
  const Member who{node, notice.pid};
  if (const auto* change = std::get_if<groups::GroupChange>(&notice.event)) {
    view_[who] = change->members;
    if (notice.last) view_.erase(who);
    return;
  }
  const auto& m = std::get<groups::GroupMessage>(notice.event);
  if (notice.transitional) return;  // survivors of different partitions may see it differently
  const std::string data(m.data.begin(), m.data.end());
  const auto& members = view_[who];
  heard_[notice.ring][who].push_back(data);
  auto [first, fresh] = first_[notice.ring].try_emplace(data, First{members, who});
  if (fresh || first->second.members == members) return;
  report_.report("group agreement", name(node, notice.pid) + " hears " + data + " in ring " +
                                        totem::to_string(notice.ring) + " with group members " +
                                        list(members) + ", " +
                                        name(first->second.by.first, first->second.by.second) +
                                        " heard it with " + list(first->second.members));
}

void StackChecker::check_order() {
  for (const auto& [ring, by_member] : heard_) {
    for (auto a = by_member.begin(); a != by_member.end(); ++a) {
      std::unordered_map<std::string, std::size_t> place;
      for (std::size_t i = 0; i < a->second.size(); ++i) place[a->second[i]] = i;
      for (auto b = std::next(a); b != by_member.end(); ++b) {
        std::size_t last = 0;
        bool any = false;
        for (const auto& data : b->second) {
          auto it = place.find(data);
          if (it == place.end()) continue;
          if (any && it->second < last) {
            return report_.report("group agreement",
                                  name(a->first.first, a->first.second) + " and " +
                                      name(b->first.first, b->first.second) +
                                      " hear the messages of ring " + totem::to_string(ring) +
                                      " in different orders (" + data + ")");
          }
          last = it->second;
          any = true;
        }
      }
    }
  }
}

void StackChecker::check_quorum(totem::RingId ring,
                                const std::vector<std::pair<NodeId, bool>>& quorate) {
  for (const auto& [node, q] : quorate) {
    if (q == quorate.front().second) continue;
    return report_.report("quorum agreement",
                          "in settled ring " + totem::to_string(ring) + " n" +
                              std::to_string(quorate.front().first) + " says " +
                              (quorate.front().second ? "quorate" : "not quorate") + ", n" +
                              std::to_string(node) + " " + (q ? "quorate" : "not quorate"));
  }
}

}  // namespace vigil::sim
