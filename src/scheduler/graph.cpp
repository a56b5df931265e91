// Stage 6: the transition graph (the actions that will run, with their ordering edges) and the
// Transition Summary lines crm_simulate prints for it.
#include <algorithm>
#include <iterator>
#include <unordered_set>

#include "scheduler/stages.h"

namespace vigil::scheduler {

namespace {

// Pacemaker's pcmk__action_locks_rsc_to_node: an action of a shutdown-locked resource on its lock
// node carries the lock's time, so the node records it with the result; while that node shuts
// down, only the stop does (a demote would otherwise clear the lock).
bool locks_to_node(const Working& w, const Action& a) {
  if (a.rsc == nullptr || a.rsc->lock_node < 0 || a.node != a.rsc->lock_node) return false;
  return !w.nodes[static_cast<std::size_t>(a.node)].shutdown || a.task == "stop";
}

Action* find(Working& w, Resource& r, const std::string& task, int node) {
  for (int id : r.actions) {
    Action& a = w.actions[static_cast<std::size_t>(id)];
    if (a.task == task && a.interval_ms == 0 && !a.probe && (node < 0 || a.node == node)) return &a;
  }
  return nullptr;
}

std::string name_of(const Working& w, int n) {
  return n < 0 ? std::string() : w.nodes[static_cast<std::size_t>(n)].name;
}

SummaryLine item(const Working& w, const char* verb, const Resource& r, int origin, int dest,
                 const Action* action, const Action* source) {
  SummaryLine line;
  line.verb = verb;
  line.subject = r.id;
  if (source == nullptr) source = action;
  bool need_role = r.role > Role::Started || r.next_role > Role::Unpromoted;
  bool same_host = origin >= 0 && dest >= 0 && origin == dest;
  bool same_role = r.role == r.next_role;
  std::string o = name_of(w, origin), d = name_of(w, dest);
  std::string role = role_name(r.role), next = role_name(r.next_role);
  if (need_role && origin < 0) {
    line.details = role + " -> " + next + " " + d;
  } else if (origin < 0) {
    line.details = d;
  } else if (need_role && dest < 0) {
    line.details = role + " " + o;
  } else if (dest < 0) {
    line.details = o;
  } else if (need_role && same_role && same_host) {
    line.details = role + " " + o;
  } else if (same_role && same_host) {
    line.details = o;
  } else if (need_role && same_role) {
    line.details = o + " -> " + d + " " + role;
  } else if (same_role) {
    line.details = o + " -> " + d;
  } else if (same_host) {
    line.details = role + " -> " + next + " " + o;
  } else {
    line.details = role + " " + o + " -> " + next + " " + d;
  }
  if (action != nullptr) line.why = action->why;
  if (line.why.empty() && source != nullptr) line.why = source->why;
  bool runnable = action == nullptr || action->runnable;
  if (source && !source->reason.empty() && !runnable) {
    line.reason = "due to " + source->reason + " (blocked)";
  } else if (source && !source->reason.empty()) {
    line.reason = "due to " + source->reason;
  } else if (!runnable) {
    line.reason = "blocked";
  }
  return line;
}

void summarize(Working& w, Resource& r, std::vector<SummaryLine>& out) {
  if (r.is_bundle) {
    // Replica by replica: its address, container, connection and bundled instance.
    for (std::size_t n = 0; n < r.children.size(); ++n) {
      if (r.replica_ips[n]) summarize(w, *r.replica_ips[n], out);
      summarize(w, *r.children[n], out);
      if (r.replica_connections[n]) summarize(w, *r.replica_connections[n], out);
      for (Resource* inst : r.bundled ? r.bundled->children : std::vector<Resource*>()) {
        if (instance_number(*inst) == static_cast<int>(n)) summarize(w, *inst, out);
      }
    }
    return;
  }
  if (!r.children.empty()) {
    for (Resource* c : r.children) summarize(w, *c, out);
    return;
  }
  int next = r.assigned_to;
  int current = -1;
  if (!r.running_on.empty()) {
    current = current_node_of(w, r);
    if (r.role == Role::Stopped) r.role = Role::Started;
  }
  if (current < 0 && r.orphan) return;
  if (!r.managed || (current < 0 && next < 0)) return;
  bool moving = current >= 0 && next >= 0 && current != next;
  Action* start = find(w, r, "start", next);
  int start_node = (start == nullptr || !start->runnable) ? -1 : current;
  Action* stop = find(w, r, "stop", start_node);
  if (stop == nullptr && r.stop_unexpected) stop = find(w, r, "stop", -1);
  Action* promote = find(w, r, "promote", next);
  Action* demote = find(w, r, "demote", next);
  if (r.role == r.next_role) {
    if (next < 0) return;
    if (r.reload && (start == nullptr || start->optional)) {
      out.push_back(item(w, "Reload", r, current, next, start, nullptr));
    } else if (start == nullptr || start->optional) {
      if (demote && promote && !demote->optional && !promote->optional) {
        out.push_back(item(w, "Re-promote", r, current, next, promote, demote));
      }
    } else if (!start->runnable) {
      out.push_back(
          item(w, "Stop", r, current, -1, stop, (stop && !stop->reason.empty()) ? stop : start));
    } else if (moving && current >= 0) {
      const Action* migration = find(w, r, "migrate_from", next);
      if (migration != nullptr && !migration->runnable) migration = nullptr;
      const char* verb = r.failed ? "Recover" : migration ? "Migrate" : "Move";
      out.push_back(item(w, verb, r, current, next, migration ? migration : stop, nullptr));
    } else if (r.failed) {
      out.push_back(item(w, "Recover", r, current, -1, stop, nullptr));
    } else {
      out.push_back(item(w, "Restart", r, current, next, start, nullptr));
    }
    return;
  }
  if (stop && (r.next_role == Role::Stopped || (start && !start->runnable))) {
    for (int node : r.running_on) {
      Action* s = find(w, r, "stop", node);
      out.push_back(item(w, "Stop", r, node, -1, s, (s && !s->reason.empty()) ? s : start));
    }
  } else if (stop && r.failed && r.needs_stop) {
    out.push_back(item(w, "Recover", r, current, next, stop, start));
  } else if (moving) {
    out.push_back(item(w, "Move", r, current, next, stop, nullptr));
  } else if (r.reload) {
    out.push_back(item(w, "Reload", r, current, next, start, nullptr));
  } else if (stop && !stop->optional) {
    out.push_back(item(w, "Restart", r, current, next, start, nullptr));
  } else if (r.role == Role::Promoted) {
    out.push_back(item(w, "Demote", r, current, next, demote, nullptr));
  } else if (r.next_role == Role::Promoted) {
    out.push_back(item(w, "Promote", r, current, next, promote, nullptr));
  } else if (r.role == Role::Stopped && r.next_role > Role::Stopped) {
    out.push_back(item(w, "Start", r, current, next, start, nullptr));
  }
}

// Where the action's result is recorded: the history already kept for the resource on that node,
// else its id — for an anonymous clone instance, the id it is known by (as Pacemaker records it).
std::string history_id(const Resource& r, int node) {
  auto it = r.history_ids.find(node);
  if (it != r.history_ids.end()) return it->second;
  if (!anonymous_instance(r)) return r.id;
  return r.clone_name.empty() ? r.base : r.clone_name;
}

// Pacemaker's add_resource_details gives the graph an id and a long id for the resource, and
// crm_simulate prints the first that names a resource (by id or by the history it was found
// under), else the first.
std::string shown_as(const Resource& r, const std::unordered_set<std::string>& known) {
  std::string id = r.id, long_id = r.id;
  if (r.orphan && !r.clone_name.empty()) {
    id = r.clone_name;
  } else if (anonymous_instance(r)) {
    id = r.xml.attribute("id").value();
    if (!r.clone_name.empty() && r.clone_name != id) long_id = r.clone_name;
  }
  if (known.count(id) == 0 && known.count(long_id) != 0) return long_id;
  return id;
}

// Whether graph action `from` waits, through its inputs and theirs, for `target`.
bool waits_for(const TransitionGraph& g, int from, int target) {
  std::vector<bool> seen(g.actions.size(), false);
  std::vector<int> todo{from};
  while (!todo.empty()) {
    const int id = todo.back();
    todo.pop_back();
    if (id == target) return true;
    if (seen[static_cast<std::size_t>(id)]) continue;
    seen[static_cast<std::size_t>(id)] = true;
    for (int input : g.actions[static_cast<std::size_t>(id)].after) todo.push_back(input);
  }
  return false;
}

bool scheduled(const Action& a) {
  return !a.optional && a.runnable;
}

// A resource's actions in Pacemaker's graph order (pcmk__add_rsc_actions_to_graph): its own,
// newest first (Pacemaker prepends each action it creates to the resource's list), then its
// children's; a clone adds its instances before its own, a bundle its bundled clone and then
// each replica's address, container and connection, leaving its own to the node actions.
// Newest first, by Pacemaker's creation order.
std::vector<int> newest_first(const Working& w, std::vector<int> ids) {
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return w.actions[static_cast<std::size_t>(a)].born >
           w.actions[static_cast<std::size_t>(b)].born;
  });
  return ids;
}

void add_in_graph_order(const Working& w, const Resource& r, std::vector<int>& out) {
  auto own = [&] {
    auto ids = newest_first(w, r.actions);
    out.insert(out.end(), ids.begin(), ids.end());
  };
  if (r.is_bundle) {
    if (r.bundled) add_in_graph_order(w, *r.bundled, out);
    for (std::size_t n = 0; n < r.children.size(); ++n) {
      if (r.replica_ips[n]) add_in_graph_order(w, *r.replica_ips[n], out);
      add_in_graph_order(w, *r.children[n], out);
      if (r.replica_connections[n]) add_in_graph_order(w, *r.replica_connections[n], out);
    }
    return;
  }
  if (r.variant != Variant::Clone) own();
  std::vector<const Resource*> children(r.children.begin(), r.children.end());
  if (r.variant == Variant::Clone && r.bundle == nullptr) {
    // Placing a clone sorts its instances, probing sorts them back by number (clone_create_probe).
    std::stable_sort(children.begin(), children.end(), [](const Resource* a, const Resource* b) {
      return instance_number(*a) < instance_number(*b);
    });
  }
  for (const Resource* c : children) add_in_graph_order(w, *c, out);
  if (r.variant == Variant::Clone) own();
}

// Every action in the order Pacemaker writes the graph's synapses (pcmk__create_graph): the
// resources' in the order of its resource list, then every other
// action, newest first. crm_simulate fires synapses in that order as their inputs complete, so
// it decides the order of independent actions.
std::vector<int> graph_order(const Working& w) {
  std::vector<int> out;
  for (const Resource* r : resources_by_priority(w)) add_in_graph_order(w, *r, out);
  std::vector<bool> seen(w.actions.size(), false);
  std::vector<int> unique;
  for (int id : out) {
    if (!seen[static_cast<std::size_t>(id)]) unique.push_back(id);
    seen[static_cast<std::size_t>(id)] = true;
  }
  std::vector<int> rest;
  for (const auto& a : w.actions) {
    if (!seen[static_cast<std::size_t>(a.id)]) rest.push_back(a.id);
  }
  for (int id : newest_first(w, std::move(rest))) unique.push_back(id);
  return unique;
}

}  // namespace

TransitionGraph build_graph(Ordered in) {
  Working& w = in.w;
  TransitionGraph g;
  for (auto& a : w.actions) {
    if (a.rsc == nullptr && a.task == "stonith" && scheduled(a)) {
      SummaryLine line;
      line.verb = "Fence";
      line.subject = "(" + a.extra["stonith_action"] + ") " + name_of(w, a.node);
      if (const Resource* c = w.guest_container(w.nodes[static_cast<std::size_t>(a.node)]))
        line.subject += " (resource: " + c->id + ")";
      line.reason = a.reason;
      g.summary.push_back(line);
    }
  }
  std::vector<Resource*> order = w.top;
  std::stable_sort(order.begin(), order.end(),
                   [](const Resource* a, const Resource* b) { return a->priority > b->priority; });
  for (Resource* r : order) summarize(w, *r, g.summary);

  // Graph actions: the scheduled ones, renumbered densely.
  std::unordered_set<std::string> known;
  for (const auto& r : w.all) {
    known.insert(r->id);
    if (!r->clone_name.empty()) known.insert(r->clone_name);
  }
  std::vector<int> index(w.actions.size(), -1);
  for (int id : graph_order(w)) {
    const Action& a = w.actions[static_cast<std::size_t>(id)];
    if (!scheduled(a)) continue;
    GraphAction ga;
    ga.id = static_cast<int>(g.actions.size());
    index[static_cast<std::size_t>(a.id)] = ga.id;
    ga.task = a.task;
    ga.resource = a.rsc ? a.rsc->id : std::string();
    if (a.rsc) ga.history_id = history_id(*a.rsc, a.node);
    if (a.rsc) ga.shown_as = shown_as(*a.rsc, known);
    ga.node = a.pseudo ? std::string() : name_of(w, a.node);
    if (a.rsc == nullptr) ga.node = name_of(w, a.node);
    ga.interval_ms = a.interval_ms;
    ga.pseudo = a.pseudo;
    ga.probe = a.probe;
    ga.promoted = a.extra.count("promoted") != 0;
    ga.why = a.why;
    ga.meta = a.meta;
    if (locks_to_node(w, a)) ga.meta["shutdown_lock"] = std::to_string(a.rsc->lock_time);
    if (!a.reason.empty() && a.why.find(a.reason) == std::string::npos) {
      ga.why += (ga.why.empty() ? "" : "; ") + std::string("due to ") + a.reason;
    }
    if (a.task == "stonith") {
      auto it = a.extra.find("stonith_action");
      ga.fence_type = it == a.extra.end() ? "reboot" : it->second;
      ga.key = "stonith-" + name_of(w, a.node) + "-" + ga.fence_type;
    } else if (a.task == "do_shutdown") {
      ga.key = "do_shutdown-" + name_of(w, a.node);
    } else if (a.task == "notify" && !a.pseudo) {
      // An instance's notification is keyed as its history is (Pacemaker's operation_key).
      ga.key = ga.history_id + a.key().substr(a.rsc->id.size());
    } else {
      ga.key = a.key();
    }
    g.actions.push_back(std::move(ga));
  }
  // Capacity orderings into migrations, which Pacemaker drops where they close a loop: two
  // resources migrating each to the other's node (pcmk__disable_invalid_orderings).
  std::vector<std::pair<int, int>> into_migrations;
  for (const auto& o : w.orderings) {
    int f = index[static_cast<std::size_t>(o.first)], t = index[static_cast<std::size_t>(o.then)];
    if (f < 0 || t < 0 || f == t) continue;
    // What only binds a plain stop or start (Pacemaker's should_add_input_to_graph).
    const Action& first = w.actions[static_cast<std::size_t>(o.first)];
    if (first.migratable && ((o.flags & kOrderApplyFirstNonMigratable) ||
                             (o.flags == kOrderOptional && first.task == "stop")))
      continue;
    if (o.flags == kOrderLoad) {
      const Action& then = w.actions[static_cast<std::size_t>(o.then)];
      const int node = then.task == "migrate_to" ? then.rsc->assigned_to : then.node;
      if (first.node < 0 || first.node != node) continue;
      if (then.task == "migrate_to") into_migrations.emplace_back(f, t);
    }
    auto& after = g.actions[static_cast<std::size_t>(t)].after;
    if (std::find(after.begin(), after.end(), f) == after.end()) after.push_back(f);
  }
  for (const auto& [f, t] : into_migrations) {
    if (!waits_for(g, f, t)) continue;
    auto& after = g.actions[static_cast<std::size_t>(t)].after;
    after.erase(std::remove(after.begin(), after.end(), f), after.end());
  }
  if (w.keep_scores) g.scores.reserve(w.all.size() * w.nodes.size());
  for (const auto& r : w.all) {
    if (!w.keep_scores || r->variant != Variant::Primitive) continue;
    for (std::size_t n = 0; n < w.nodes.size(); ++n) {
      int s = r->scores[n] == kAbsent ? -kInfinity : r->scores[n];
      g.scores.push_back({r->id, w.nodes[n].name, s});
    }
  }
  g.warnings = w.warnings;
  // A history holds a failure twice (its last_0 and last_failure_0 records): said once.
  auto add_error = [&](std::string e) {
    if (std::find(g.errors.begin(), g.errors.end(), e) == g.errors.end())
      g.errors.push_back(std::move(e));
  };
  for (const auto& e : w.errors) add_error(e);
  for (const auto& a : w.actions) {
    const bool held = a.task == "stop" && !a.optional && !a.runnable && a.rsc && a.node >= 0 &&
                      w.nodes[static_cast<std::size_t>(a.node)].shutdown;
    if (held && (w.have_quorum || w.no_quorum_policy == "ignore"))
      add_error(name_of(w, a.node) + " cannot shut down: the stop of " + a.rsc->id +
                " cannot run (" + (a.rsc->managed ? "blocked" : "unmanaged") +
                (a.rsc->failed || a.rsc->blocked ? ", failed" : "") +
                "); it waits for shutdown-escalation");
  }
  return g;
}

TransitionGraph schedule(const cib::Cib& cib, Millis now, Scores scores) {
  Unpacked in = unpack_status(cib, now);
  in.w.keep_scores = scores == Scores::Keep;
  return schedule(std::move(in));
}

TransitionGraph schedule(Unpacked in) {
  return build_graph(order_actions(create_actions(place(score_nodes(std::move(in))))));
}

Millis effective_now(const cib::Cib& cib, Millis fallback) {
  auto date = cib.root().attribute("execution-date");
  if (!date) return fallback;
  return date.as_llong(0) * 1000;
}

std::string format_summary_line(const SummaryLine& line, std::size_t rsc_width,
                                std::size_t detail_width) {
  if (line.verb == "Fence") return "Fence " + line.subject + " '" + line.reason + "'";
  std::string verb = line.verb;
  verb.resize(std::max<std::size_t>(verb.size(), 8), ' ');
  std::string rsc = line.subject;
  rsc.resize(std::max(rsc.size(), rsc_width), ' ');
  std::string details = line.details;
  if (details.size() < detail_width) details.insert(0, detail_width - details.size(), ' ');
  std::string out = verb + "   " + rsc + "   ( " + details + " )";
  if (!line.reason.empty()) out += "  " + line.reason;
  return out;
}

std::vector<std::string> format_summary(const std::vector<SummaryLine>& lines) {
  // crm_simulate widens its columns as it goes; the widths only grow.
  std::size_t rsc_width = 5, detail_width = 5;
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.verb != "Fence") {
      if (l.subject.size() > rsc_width) rsc_width = l.subject.size() + 2;
      detail_width = std::max(detail_width, l.details.size());
    }
    out.push_back(format_summary_line(l, rsc_width, detail_width));
  }
  return out;
}

}  // namespace vigil::scheduler
