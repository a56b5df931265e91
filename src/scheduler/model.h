// model: the scheduler's working picture of the cluster while one schedule runs — nodes,
// resources with their history-derived state and node scores, actions and orderings. Internal to
// the scheduler; the stages in stages.h fill it in turn. The shapes follow Pacemaker's scheduler so
// that the same inputs lead to the same decisions.
#pragma once

#include <pugixml.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/common.h"
#include "scheduler/scheduler.h"

namespace vigil::scheduler {

// Pacemaker's score arithmetic: -INFINITY wins over everything, then +INFINITY, else a clamped sum.
int add_scores(int a, int b);
// "10", "10s", "1m", "500ms", "1h", "PT10S": milliseconds, or nullopt when unreadable.
std::optional<std::int64_t> parse_interval_ms(std::string_view text);
bool is_true(std::string_view text);

struct Resource;

struct Node {
  std::string id, name;
  bool online = false, unclean = false, standby = false, pending = false, shutdown = false;
  bool maintenance = false, expected_up = false, is_dc = false, unseen = true;
  std::string fence_reason;  // first reason the node must be fenced
  std::map<std::string, std::string> attrs;
  int assigned = 0;  // resources assigned here so far (ties go to the emptier node)
  std::map<std::string, int> capacity;  // utilization still free (placement-strategy)
  // A Pacemaker Remote node: up only while its connection resource runs on a cluster node.
  bool remote = false;
  // A guest node: a remote node whose connection lives inside a resource of the cluster (meta
  // remote-node), its container; fenced by recovering that container.
  bool guest = false;
  Resource* connection = nullptr;  // none for a node entry its resource outlived
  // Its connection must be re-established (the remote was lost or is to be fenced); a node that
  // already was fenced is not fenced again for a failed connection.
  bool remote_requires_reset = false, remote_was_fenced = false;
  bool unpacked = false;  // its resource history has been read
  // A bundle's replica node: only that replica's instance of the bundled resource runs here
  // (and is probed here); everything else is kept off it.
  Resource* bundle_instance = nullptr;
};

enum class Variant { Primitive, Group, Clone };

struct OpConfig {
  std::string name, role, on_fail;
  std::int64_t interval_ms = 0;
  bool enabled = true;
};

enum class OnFail {
  Ignore,
  Demote,
  Recover,
  ResetRemote,
  RestartContainer,
  Migrate,
  Block,
  Stop,
  Standby,
  Fence
};  // from mildest to strongest, as Pacemaker ranks them (cmp_on_fail)

struct Colocation;

// A node score table entry; absent entries mean the resource may not run there at all.
inline constexpr int kAbsent = -2 * kInfinity;

// What last set a resource's score on a node, in words (--explain, vigil why). The score table
// holds one per resource and node, 512 000 at 32 nodes and 10 000 resources, nearly all the same
// few words ("symmetric cluster"): they are shared, not copied (a std::string each took 32 MiB
// and as many allocations).
class Reason {
 public:
  Reason() = default;
  Reason(const char* words) : Reason(std::string(words)) {}
  Reason(std::string words)
      : words_(words.empty() ? nullptr : std::make_shared<const std::string>(std::move(words))) {}
  const std::string& str() const {
    static const std::string none;
    return words_ ? *words_ : none;
  }
  operator const std::string&() const { return str(); }
  bool empty() const { return words_ == nullptr; }

 private:
  std::shared_ptr<const std::string> words_;
};

struct Resource {
  std::string id, cls, provider, type;
  Variant variant = Variant::Primitive;
  Resource* parent = nullptr;
  std::vector<Resource*> children;
  pugi::xml_node xml;
  std::map<std::string, std::string> meta;
  std::vector<OpConfig> ops;

  Role role = Role::Stopped, next_role = Role::Unknown;
  std::string next_role_reason;
  std::vector<int> running_on;  // node indices
  std::vector<bool> known_on;
  bool managed = true, failed = false, needs_stop = false, orphan = false, blocked = false;
  bool failure_ignored = false, start_pending = false, provisional = true, assigning = false;
  bool merging = false, restarting = false;
  bool stop_unexpected = false;
  int failed_probe_rc = -1;
  std::string failure;  // the last failed operation in words ("its monitor failed (not running)")
  bool definition_changed = false;  // parameters changed since the last start: restart
  bool reload = false;
  bool stop_for_reload =
      false;  // a reload was due while the start was still pending              // parameters
              // changed, the agent can reload them  // a probe that found the agent unusable (shown
              // in the status)  // multiple-active=stop_unexpected: stop only the extra copies
  int assigned_to = -1;
  std::vector<int> scores;             // per node, kAbsent when not allowed
  std::vector<Reason> score_why;  // per node: the last constraint that touched the score
  int stickiness = 0, migration_threshold = kInfinity, priority = 0;
  std::int64_t failure_timeout_s = 0;
  std::vector<Colocation*> this_with, with_this;
  std::vector<int> actions;
  std::string pending_task;
  int pending_node = -1;
  std::vector<std::pair<int, std::int64_t>> active_monitors;  // (node, interval) from history
  bool needs_fencing = false;  // starts wait for unclean nodes to be fenced
  bool needs_quorum = true;    // starts and promotes need quorum (or the no-quorum-policy)
  bool ordered = true, colocated = true;  // groups
  // Clones (set on the clone itself) and their instances.
  int clone_max = 0, clone_node_max = 1, promoted_max = 1, promoted_node_max = 1;
  bool unique = true, promotable = false, interleave = false;
  std::string base;        // id without the instance number (":N")
  std::string clone_name;  // anonymous instance: the history id it was last found under
  // node -> id of the history found there, kept only where it may differ from the resource's id
  // (anonymous clone instances); readers fall back to the id. A steady status of 32 nodes and
  // 10 000 resources has 320 000 histories.
  std::map<int, std::string> history_ids;
  std::vector<int> instance_count;         // clone: instances assigned per node so far
  std::map<std::string, int> utilization;  // capacity it uses on its node
  bool promotion_blocked = false;          // clone: a ticket for the promoted role is missing
  // Live migrations the history left unfinished: sources where a completed migration still needs
  // its stop, and a migration whose migrate_from has not run yet (-1 without one).
  std::vector<int> dangling_sources;
  int partial_source = -1, partial_target = -1;
  bool partial_abandoned = false;  // the partial migration cannot go on: stop and start instead
  // ocf:pacemaker:remote: it connects the node of its own name; reconnect_interval holds a
  // failed connection down until its failure expires.
  bool remote_connection = false;
  // shutdown-lock: the node this resource may run on alone (-1: none) since lock_time (epoch
  // seconds): found stopped there by a clean shutdown (its history says so), or active there
  // while the node shuts down cleanly.
  int lock_node = -1;
  std::int64_t lock_time = 0;
  std::int64_t reconnect_interval_ms = 0;
  // A <bundle> is a clone whose instances are its containers (NAME-docker-N); each replica may
  // also have an IP address and a connection to the Pacemaker Remote inside its container
  // (nullptr where it has none), and the bundled primitive is a clone of its own whose instance
  // N runs on replica N's guest node. Those resources point back at the bundle with `bundle`.
  bool is_bundle = false;
  std::vector<Resource*> replica_ips, replica_connections;
  Resource* bundled = nullptr;
  Resource* bundle = nullptr;
  std::string image;  // the bundle's container image, for the status
};

// Resources by id, the first adopted under an id kept: open addressing over (hash, resource) in
// one array. The status is read in an order unrelated to the table's, one lookup per history
// (320 000 at 32 nodes and 10 000 resources, each unpacking); a std::unordered_map's bucket and
// node were two cache misses per lookup, 10 % of a steady schedule.
class ResourceIndex {
 public:
  void add(Resource* rsc);
  Resource* find(std::string_view id) const;

 private:
  struct Slot {
    std::size_t hash = 0;
    Resource* rsc = nullptr;
  };
  void grow();
  std::vector<Slot> slots_;  // a power of two long, at most half full
  std::size_t count_ = 0;
};

struct Colocation {
  std::string id;
  Resource* dependent = nullptr;
  Resource* primary = nullptr;
  int score = 0;
  Role dependent_role = Role::Unknown, primary_role = Role::Unknown;
  std::string node_attribute = "#uname";
  bool influence = true;
};

// Ordering flags, named as Pacemaker names them (pe_order_*).
enum OrderFlag : std::uint32_t {
  kOrderNone = 0,
  kOrderOptional = 1u << 0,
  kOrderImpliesThen = 1u << 1,
  kOrderImpliesFirst = 1u << 2,
  kOrderRunnableLeft = 1u << 3,
  kOrderRestart = 1u << 4,
  kOrderPromotedImpliesFirst = 1u << 5,
  kOrderSameNode = 1u << 6,
  kOrderImpliesFirstPrinted = 1u << 7,
  kOrderImpliesThenPrinted = 1u << 8,
  kOrderAsymmetrical = 1u << 9,
  kOrderPseudoLeft = 1u << 10,
  kOrderInterleaved = 1u << 11,  // between interleaved clones: only the instances' orderings count
  kOrderOneOrMore = 1u << 12,    // into a pseudo-action that needs only some of its inputs
  kOrderPreserve = 1u << 13,     // made by the cluster itself: never dropped as invalid
  kOrderImpliesFirstMigratable = 1u << 14,
  kOrderApplyFirstNonMigratable = 1u << 15,  // only while `first` is not part of a migration
  // Pacemaker's pe_order_load: capacity freed on a node before it is taken there; in the graph only
  // between actions on the same node (a migrate_to: the node its resource goes to).
  kOrderLoad = 1u << 16,
};

struct Action {
  int id = 0;
  Resource* rsc = nullptr;
  std::string task;  // start, stop, monitor, promote, demote, stonith, do_shutdown, running, ...
  std::int64_t interval_ms = 0;
  int node = -1;
  bool optional = true, runnable = true, pseudo = false, probe = false;
  // Pacemaker's pe_action_migrate_runnable: the start or stop may still be carried out by a live
  // migration (cleared by whatever forces a plain stop and start).
  bool migratable = false;
  std::string reason;  // shown in the Transition Summary ("node availability", ...)
  std::string why;     // --explain: what caused the action
  std::map<std::string, std::string> extra;  // e.g. fence type, target rc, a notification's key
  std::map<std::string, std::string> meta;   // CRM_meta_* the agent gets (notify_*)
  // Its place in the order Pacemaker creates actions (its action ids), which orders the graph.
  int born = 0;
  std::string key() const;                   // Pacemaker's action key, rsc_task_interval
};

struct Ordering {
  int first = -1, then = -1;
  std::uint32_t flags = 0;
};

// A location constraint for the promoted role: it weighs on which instance is promoted.
struct PromotedLocation {
  Resource* rsc = nullptr;
  int node = -1;
  int score = 0;
};

// An ordering between two resources' actions by task, kept for later: between interleaved clones
// (instances it leaves without a partner are held back until nothing changes), or made before
// the actions it joins exist (a probe's consequences, applied with the constraints).
struct ResourceOrder {
  Resource* first = nullptr;
  std::string first_task;
  Resource* then = nullptr;
  std::string then_task;
  std::uint32_t flags = 0;
};

// A configuration check held back until every history is read.
struct DeferredCheck {
  Resource* rsc = nullptr;
  int node = -1;
  pugi::xml_node history;  // the lrm_resource element
};

// The whole working set of one schedule.
struct Working {
  Millis now = 0;
  bool stonith_enabled = true, symmetric = true, have_quorum = true, startup_fencing = true;
  bool stop_orphans = true, start_failure_fatal = true, maintenance_mode = false, stop_all = false;
  bool have_stonith_resource = false, has_execution_date = false;
  bool keep_scores = false;  // fill TransitionGraph::scores (Scores::Keep)
  bool have_watchdog = false;  // fencing by the nodes' own watchdogs (no device needed)
  bool concurrent_fencing = false;  // else fencing runs one node at a time
  // shutdown-lock: a cleanly shut down node's resources wait for it rather than move, for at
  // most shutdown-lock-limit (0: no limit).
  bool shutdown_lock = false;
  std::int64_t shutdown_lock_limit_s = 0;
  std::string no_quorum_policy = "stop", dc_uuid, crm_feature_set;
  std::string placement_strategy = "default";
  // node-health-strategy, and the scores it gives a #health-* attribute's colours (and, for
  // progressive, every node to begin with).
  std::string health_strategy = "none";
  int health_red = 0, health_yellow = 0, health_green = 0, health_base = 0;
  pugi::xml_node configuration;  // the CIB's <configuration>, for tags and templates
  std::map<std::string, std::string> rsc_defaults, op_defaults;
  std::vector<Node> nodes;
  std::vector<std::unique_ptr<Resource>> all;  // owner of every resource
  ResourceIndex by_id;
  std::vector<Resource*> top;  // top-level resources, configuration order
  std::vector<std::unique_ptr<Colocation>> colocations;
  std::vector<PromotedLocation> promoted_locations;
  std::vector<ResourceOrder> interleaved;
  std::vector<ResourceOrder> later;  // applied when the constraints' orderings are
  // A deque: it grows without copying and holds no room to spare (a steady cluster of 32 nodes
  // and 10 000 resources makes 47 520 actions of 240 bytes; a vector's doubling held 65 536).
  std::deque<Action> actions;
  int births = 0;  // actions created so far, in Pacemaker's count (see create_early)
  std::map<std::tuple<const Resource*, std::string, int, std::int64_t>, int> early_births;
  std::vector<Ordering> orderings;
  std::vector<std::string> warnings, errors;  // see TransitionGraph
  // The connection primitives guest nodes imply (Pacemaker adds them to the configuration).
  std::shared_ptr<pugi::xml_document> implicit_resources;
  // Per node, its load_stopped pseudo-action (placement strategies other than default), or -1.
  std::vector<int> load_stopped;
  // Bundle connections addressed by their container's host: checked once the host is known.
  std::vector<DeferredCheck> host_addressed;

  int node_index(std::string_view id_or_name) const;
  Resource* find(std::string_view id) const;
  // The resources a constraint's reference names: a resource, or every member of a <tag>, or
  // every primitive made from a <template>.
  std::vector<Resource*> resolve(std::string_view id) const;
  Resource* adopt(std::unique_ptr<Resource> r);  // takes ownership and indexes it
  int new_action(Resource* rsc, std::string task, int node, std::int64_t interval_ms = 0);
  // Pacemaker creates some actions while it reads the status (a failed resource's stop, a fenced
  // node's fencing, the recurring monitors it finds active): the action made later for the same
  // resource, task, node and interval takes the place in the creation order they had.
  void create_early(const Resource* rsc, const std::string& task, int node,
                    std::int64_t interval_ms = 0);
  // The action of rsc with that task (and node, when node >= 0), or -1.
  int find_action(const Resource* rsc, std::string_view task, int node = -1,
                  std::int64_t interval_ms = 0) const;
  void order(int first, int then, std::uint32_t flags);
  bool can_fence(const Node& node) const;
  void fence_node(int node, const std::string& reason);
  bool have_remote_nodes() const;
  // The remote node a connection resource makes (-1 for other resources).
  int remote_node_of(const Resource& connection) const;
  // The resource a guest node lives in, or nullptr for other nodes.
  Resource* guest_container(const Node& node) const;
};

std::vector<Resource*> primitives_of(Resource* rsc);
// A bundle's resources other than its containers: the replicas' IPs and connections, then the
// bundled clone (none for other resources).
std::vector<Resource*> bundle_members(const Resource& bundle);
Resource* top_of(Resource* rsc);
// The clone a resource is an instance of (or a member of an instance of), or nullptr.
Resource* clone_of(Resource* rsc);
const Resource* clone_of(const Resource* rsc);
// A clone instance's number (the N of "rsc:N"), 0 for other resources.
int instance_number(const Resource& rsc);
// An instance (or a member of one) of a clone that is not globally unique: its history and
// fail-counts are recorded under the id without the instance number.
bool anonymous_instance(const Resource& rsc);
// The id that node attributes (fail-count-*, last-failure-*) use for this resource.
const std::string& failure_id(const Resource& rsc);
bool node_available(const Node& node);
bool is_remote_connection_agent(std::string_view cls, std::string_view provider,
                                std::string_view type);
// The node a resource counts as running on (Pacemaker's pe__current_node), or -1.
int current_node_of(const Working& w, const Resource& r);
const char* role_name(Role role);
// Node names sort with digit runs compared as numbers, case-insensitively (as Pacemaker does).
bool node_name_less(const std::string& a, const std::string& b);
// The top-level resources in the order of Pacemaker's resource list: by priority, highest first
// (configuration order among equals), then orphans in the order their histories were found.
std::vector<Resource*> resources_by_priority(const Working& w);
// The node indices in Pacemaker's order of its node list (sorted by name): the order in which it
// creates per-node actions such as probes and fencing.
std::vector<int> nodes_by_name(const Working& w);
// The configuration's constraints section, found through any resource's element (empty if none).
pugi::xml_node constraints_of(const Working& w);

// An attribute's text, empty when absent.
inline std::string attr(pugi::xml_node n, const char* name) {
  return n.attribute(name).value();
}
inline Action& act(Working& w, int id) {
  return w.actions[static_cast<std::size_t>(id)];
}

}  // namespace vigil::scheduler
