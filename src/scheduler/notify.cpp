// Clone notifications (notify=true), as Pacemaker creates them when it adds a clone's actions to
// the graph: around each of the clone's start, stop, promote and demote, a "pre" and a "post"
// pseudo-action with their confirmations, and between them one notify action for every instance
// concerned, on its node. Each notify action carries what the agent is told: the kind of
// notification and, for the whole clone, which instances are active, inactive, promoted or
// unpromoted and which are about to start, stop, promote or demote, with their nodes.
//
// Runs once the actions' flags are settled (after ordering), as Pacemaker's clone_expand does.
#include <algorithm>

#include "scheduler/stages.h"

namespace vigil::scheduler {

namespace {

struct Entry {
  const Resource* rsc = nullptr;
  int node = -1;
};

// One notified operation of one clone (Pacemaker's notify_data_t).
struct Notification {
  std::string task;  // start, stop, promote, demote
  int pre = -1, pre_done = -1, post = -1, post_done = -1;
  std::vector<Entry> active, inactive, promoted, unpromoted, start, stop, promote, demote;
  std::map<std::string, std::string> keys;  // notify_* meta-attributes
};

int notify_pseudo(Working& w, Resource& clone, const Action& of, const char* task,
                  const std::string& key_type, const std::string& operation) {
  const std::string of_task = of.task;
  const bool optional = of.optional;
  int id = w.new_action(&clone, task, -1);
  Action& a = act(w, id);
  a.pseudo = true;
  a.optional = optional;
  a.extra["key"] = clone.id + "_" + key_type + "_notify_" + of_task + "_0";
  a.meta = {{"notify_key_type", key_type},
            {"notify_key_operation", of_task},
            {"notify_type", key_type.find("pre") != std::string::npos ? "pre" : "post"},
            {"notify_operation", operation}};
  return id;
}

// Pacemaker's pe__clone_notif_pseudo_ops: pre → confirmed-pre → the clone's action, and the
// clone's completion → post → confirmed-post.
Notification pseudo_ops(Working& w, Resource& clone, const std::string& task,
                        const std::string& complete_task) {
  Notification n;
  n.task = task;
  const int action = w.find_action(&clone, task);
  const int complete = w.find_action(&clone, complete_task);
  VIGIL_ASSERT(action >= 0 && complete >= 0);
  n.pre = notify_pseudo(w, clone, act(w, action), "notify", "pre", task);
  n.pre_done = notify_pseudo(w, clone, act(w, action), "notified", "confirmed-pre", task);
  w.order(n.pre, n.pre_done, kOrderOptional);
  w.order(n.pre_done, action, kOrderOptional);
  n.post = notify_pseudo(w, clone, act(w, complete), "notify", "post", task);
  n.post_done = notify_pseudo(w, clone, act(w, complete), "notified", "confirmed-post", task);
  for (int id : {n.post, n.post_done}) act(w, id).runnable = act(w, complete).runnable;
  w.order(complete, n.post, kOrderImpliesThen);
  w.order(n.post, n.post_done, kOrderImpliesThen);
  w.order(n.pre_done, n.post, kOrderOptional);
  return n;
}

// Pacemaker's collect_resource_data: each instance by its current role, and each of its
// mandatory actions that can run.
void collect(const Working& w, const Resource& clone, Notification& n) {
  for (const Resource* p : primitives_of(const_cast<Resource*>(&clone))) {
    const Entry here{p, p->running_on.empty() ? -1 : p->running_on.front()};
    Role role = p->role;
    if (role == Role::Stopped && here.node >= 0) role = Role::Started;
    if (role <= Role::Stopped) n.inactive.push_back(here);
    if (role >= Role::Started) n.active.push_back(here);
    if (role == Role::Unpromoted) n.unpromoted.push_back(here);
    if (role == Role::Promoted) n.promoted.push_back(here);
    for (int id : p->actions) {
      const Action& a = w.actions[static_cast<std::size_t>(id)];
      if (a.optional || a.node < 0 || a.probe || a.interval_ms > 0) continue;
      const bool unclean_stop = a.task == "stop" && w.nodes[static_cast<std::size_t>(a.node)].unclean;
      if (!a.runnable && !unclean_stop) continue;
      const Entry e{p, a.node};
      if (a.task == "start") n.start.push_back(e);
      if (a.task == "stop") n.stop.push_back(e);
      if (a.task == "promote") n.promote.push_back(e);
      if (a.task == "demote") n.demote.push_back(e);
    }
  }
}

// Pacemaker's notify_entries_to_strings: sorted by instance, then node id; one entry per
// instance; " " when empty.
void add_list(const Working& w, Notification& n, std::vector<Entry> list, const std::string& name,
              bool with_nodes) {
  std::sort(list.begin(), list.end(), [&](const Entry& a, const Entry& b) {
    if (a.rsc->id != b.rsc->id) return a.rsc->id < b.rsc->id;
    if ((a.node < 0) != (b.node < 0)) return a.node >= 0;
    return a.node >= 0 && w.nodes[static_cast<std::size_t>(a.node)].id <
                              w.nodes[static_cast<std::size_t>(b.node)].id;
  });
  std::string resources, unames;
  const Resource* last = nullptr;
  for (const Entry& e : list) {
    if ((with_nodes && e.node < 0) || e.rsc == last) continue;
    last = e.rsc;
    resources += (resources.empty() ? "" : " ") + e.rsc->id;
    if (with_nodes)
      unames += (unames.empty() ? "" : " ") + w.nodes[static_cast<std::size_t>(e.node)].name;
  }
  n.keys["notify_" + name + "_resource"] = resources.empty() ? " " : resources;
  if (with_nodes) n.keys["notify_" + name + "_uname"] = unames.empty() ? " " : unames;
}

std::string names(std::vector<std::string> list) {
  std::sort(list.begin(), list.end());
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : " ") + s;
  return out.empty() ? " " : out;
}

// Pacemaker's add_notif_keys; the notifications are required when the clone does what they are
// about.
void add_keys(Working& w, const Resource& clone, Notification& n) {
  add_list(w, n, n.stop, "stop", true);
  add_list(w, n, n.start, "start", true);
  add_list(w, n, n.demote, "demote", true);
  add_list(w, n, n.promote, "promote", true);
  add_list(w, n, n.active, "active", true);
  for (const char* name : {"unpromoted", "slave"}) add_list(w, n, n.unpromoted, name, true);
  for (const char* name : {"promoted", "master"}) add_list(w, n, n.promoted, name, true);
  add_list(w, n, n.inactive, "inactive", false);
  std::vector<std::string> available, all;
  for (std::size_t i = 0; i < w.nodes.size(); ++i) {
    all.push_back(w.nodes[i].name);
    if (clone.scores.size() > i && clone.scores[i] != kAbsent && w.nodes[i].online)
      available.push_back(w.nodes[i].name);
  }
  n.keys["notify_available_uname"] = names(available);
  n.keys["notify_all_uname"] = names(all);
  const bool required = (n.task == "stop" && !n.stop.empty()) ||
                        (n.task == "start" && !n.start.empty()) ||
                        (n.task == "demote" && !n.demote.empty()) ||
                        (n.task == "promote" && !n.promote.empty());
  if (!required) return;
  for (int id : {n.pre, n.pre_done, n.post, n.post_done}) act(w, id).optional = false;
}

// Pacemaker's new_notify_action: the instance's notification on node, between `op` (the clone's
// pre or post) and its confirmation.
int notify_action(Working& w, Resource& p, int node, int op, int done, const Notification& n) {
  if (!w.nodes[static_cast<std::size_t>(node)].online || !act(w, op).runnable) return -1;
  const auto meta = act(w, op).meta;
  const bool optional = act(w, op).optional;
  int id = w.new_action(&p, "notify", node);
  Action& a = act(w, id);
  a.optional = optional;
  a.extra["key"] = p.id + "_" + meta.at("notify_type") + "_notify_" + n.task + "_0";
  a.meta = meta;
  a.meta.insert(n.keys.begin(), n.keys.end());
  a.why = meta.at("notify_type") + "-" + n.task + " notification";
  w.order(op, id, kOrderOptional);
  w.order(id, done, kOrderOptional);
  return id;
}

// After the post notifications, the instance's recurring monitors.
void post_notify(Working& w, Resource& p, int node, const Notification& n) {
  notify_action(w, p, node, n.post, n.post_done, n);
  const std::vector<int> ids = p.actions;
  for (int id : ids) {
    if (act(w, id).interval_ms > 0) w.order(n.post_done, id, kOrderOptional);
  }
}

// Pacemaker's create_notify_actions for one instance (a primitive of the clone).
void notify_instance(Working& w, Resource& p, const Notification& n) {
  const std::vector<int> ids = p.actions;
  for (int id : ids) {
    Action& a = act(w, id);
    const bool changes = a.task == "start" || a.task == "stop" || a.task == "promote" ||
                         a.task == "demote";
    if (changes && !a.optional && a.node >= 0) a.meta.insert(n.keys.begin(), n.keys.end());
  }
  if ((n.task == "start" && n.start.empty()) || (n.task == "promote" && n.promote.empty()) ||
      (n.task == "demote" && n.demote.empty()))
    return;
  const bool running = !p.running_on.empty();
  if (running && (n.task == "stop" || n.task == "demote")) {
    const int stop = w.find_action(&p, "stop");
    for (int node : p.running_on) {
      if (stop >= 0 && act(w, stop).pseudo && w.nodes[static_cast<std::size_t>(node)].unclean)
        continue;
      notify_action(w, p, node, n.pre, n.pre_done, n);
      if (n.task == "demote" || stop < 0 || act(w, stop).optional) post_notify(w, p, node, n);
    }
  }
  if (p.next_role > Role::Stopped && (n.task == "start" || n.task == "promote")) {
    if (p.assigned_to < 0) return;
    const int start = w.find_action(&p, "start");
    if (n.task != "start" || start < 0 || act(w, start).optional)
      notify_action(w, p, p.assigned_to, n.pre, n.pre_done, n);
    post_notify(w, p, p.assigned_to, n);
  }
}

// Pacemaker orders against a notifying clone's completion through its confirmed-post
// notification: what waits for the clone running waits for the notifications about it too.
void order_after_notifications(Working& w, Resource& clone, const Notification& n) {
  const int complete = w.find_action(&clone, act(w, n.post).meta.at("notify_key_operation"));
  const std::size_t count = w.orderings.size();
  for (std::size_t i = 0; i < count; ++i) {
    const Ordering o = w.orderings[i];
    if (o.first != complete || o.then == n.post) continue;
    const Resource* then = act(w, o.then).rsc;
    if (then != nullptr && clone_of(const_cast<Resource*>(then)) == &clone) continue;
    w.order(n.post_done, o.then, o.flags);
  }
}

void notify_clone(Working& w, Resource& clone) {
  std::vector<std::pair<std::string, std::string>> tasks = {{"start", "running"},
                                                            {"stop", "stopped"}};
  if (clone.promotable) {
    tasks.emplace_back("promote", "promoted");
    tasks.emplace_back("demote", "demoted");
  }
  std::map<std::string, Notification> by_task;
  for (const auto& [task, complete] : tasks) {
    by_task[task] = pseudo_ops(w, clone, task, complete);
  }
  auto before = [&](const char* first, const char* then) {
    w.order(by_task.at(first).post_done, by_task.at(then).pre, kOrderOptional);
  };
  before("stop", "start");
  if (clone.promotable) {
    before("stop", "promote");
    before("start", "promote");
    before("demote", "promote");
    before("demote", "start");
    before("demote", "stop");
  }
  for (const auto& [task, complete] : tasks) {
    Notification& n = by_task.at(task);
    collect(w, clone, n);
    add_keys(w, clone, n);
    for (Resource* p : primitives_of(&clone)) notify_instance(w, *p, n);
    order_after_notifications(w, clone, n);
  }
}

}  // namespace

void create_notifications(Working& w) {
  auto wants = [](const Resource& r) {
    auto it = r.meta.find("notify");
    return it != r.meta.end() && is_true(it->second);
  };
  for (Resource* r : w.top) {
    if (r->variant == Variant::Clone && !r->is_bundle && wants(*r)) notify_clone(w, *r);
    // A bundled clone notifies when its primitive asks to.
    Resource* bundled = r->bundled;
    if (bundled && !bundled->children.empty() && wants(*bundled->children.front()))
      notify_clone(w, *bundled);
  }
}

}  // namespace vigil::scheduler
