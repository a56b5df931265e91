// The /metrics text. ha_cluster_exporter's names, labels and meanings (its doc/metrics.md): one
// line per node and true status, per resource instance and true status, per resource with history
// on a node (fail count, migration threshold), per location constraint (its score), per transient
// node attribute; Corosync's quorum and links. Then vigil's own counters, which an exporter that
// shells out to crm_mon on every scrape cannot know. Every value comes from the CIB and the
// daemon's status answer: a scrape runs no agent and no subprocess.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "common/ascii.h"
#include "control/request.h"
#include "metrics/metrics.h"
#include "metrics/timings.h"
#include "scheduler/scheduler.h"

namespace vigil::metrics {

namespace {

using Json = nlohmann::json;
using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric family: HELP and TYPE once, then its samples.
class Family {
 public:
  Family(std::ostream& out, std::string name, const char* help, const char* type = "gauge")
      : out_(out), name_(std::move(name)) {
    out_ << "# HELP " << name_ << " " << help << "\n# TYPE " << name_ << " " << type << "\n";
  }
  void sample(const Labels& labels, double value) { sample("", labels, value); }
  // A histogram's series: the name with `suffix` ("_bucket", "_sum", "_count").
  void sample(const char* suffix, const Labels& labels, double value) {
    out_ << name_ << suffix;
    if (!labels.empty()) {
      out_ << '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        out_ << (i ? "," : "") << labels[i].first << "=\"" << escaped(labels[i].second) << '"';
      }
      out_ << '}';
    }
    out_ << ' ' << number(value) << '\n';
  }

  static std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    std::ostringstream s;
    s.precision(15);
    s << v;
    return s.str();
  }

 private:
  // Label values escape backslash, double quote and newline (exposition format 0.0.4).
  static std::string escaped(const std::string& v) {
    std::string out;
    for (char c : v) {
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      if (c == '\\' || c == '"') out += '\\';
      out += c;
    }
    return out;
  }
  std::ostream& out_;
  std::string name_;
};

// A score as the exporter reports it: ±INFINITY as ±Inf.
double score_value(int score) {
  if (score >= scheduler::kInfinity) return INFINITY;
  if (score <= -scheduler::kInfinity) return -INFINITY;
  return score;
}

std::string attr(const pugi::xml_node& n, const char* name) {
  return n.attribute(name).value();
}

std::string node_type(const cib::Cib& cib, const std::string& id) {
  for (auto n : cib.configuration().child("nodes").children("node")) {
    if (attr(n, "id") == id) {
      const std::string type = attr(n, "type");
      return type.empty() || type == "normal" ? "member" : type;
    }
  }
  return "member";
}

void nodes(std::ostream& out, const cib::Cib& cib, const scheduler::ClusterState& st) {
  Family f(out, "ha_cluster_pacemaker_nodes",
           "The nodes in the cluster; one line per name, per status");
  for (const auto& n : st.nodes) {
    const std::string type = node_type(cib, n.id);
    const std::pair<const char*, bool> statuses[] = {
        {"online", n.online},   {"standby", n.standby},         {"maintenance", n.maintenance},
        {"pending", n.pending}, {"unclean", n.unclean},         {"shutdown", n.shutdown},
        {"expected_up", n.expected_up}, {"dc", n.is_dc}};
    for (const auto& [status, on] : statuses) {
      if (on) f.sample({{"node", n.name}, {"type", type}, {"status", status}}, 1);
    }
  }
}

void each_primitive(const scheduler::ResourceState& r,
                    const std::function<void(const scheduler::ResourceState&)>& visit) {
  if (r.kind == "primitive") visit(r);
  for (const auto& c : r.children) each_primitive(c, visit);
}

}  // namespace

std::vector<std::string> running_on(const cib::Cib& cib, const std::string& node, Millis now) {
  std::vector<std::string> out;
  for (const auto& top : scheduler::cluster_state(cib, now).resources) {
    each_primitive(top, [&](const scheduler::ResourceState& r) {
      if (std::find(r.nodes.begin(), r.nodes.end(), node) != r.nodes.end()) out.push_back(r.id);
    });
  }
  return out;
}

namespace {

void resources(std::ostream& out, const scheduler::ClusterState& st) {
  Family f(out, "ha_cluster_pacemaker_resources",
           "The resources in the cluster; one line per id, per status");
  for (const auto& top : st.resources) {
    each_primitive(top, [&](const scheduler::ResourceState& r) {
      const std::pair<const char*, bool> statuses[] = {{"active", r.active},
                                                       {"orphaned", r.orphaned},
                                                       {"blocked", r.blocked},
                                                       {"failed", r.failed},
                                                       {"failure_ignored", r.failure_ignored}};
      for (const auto& node : r.nodes) {
        for (const auto& [status, on] : statuses) {
          if (!on) continue;
          f.sample({{"node", node},
                    {"resource", r.id},
                    {"role", ascii_lower(r.role)},
                    {"managed", r.managed ? "true" : "false"},
                    {"status", status}},
                   1);
        }
      }
    });
  }
  Family total(out, "ha_cluster_pacemaker_resources_total",
               "Total number of resource instances configured");
  total.sample({}, st.instances);
}

// crm_mon's node_history: every resource with operations recorded on a node.
void history(std::ostream& out, const cib::Cib& cib, const scheduler::ClusterState& st) {
  std::map<std::string, int> threshold;
  for (const auto& top : st.resources) {
    each_primitive(top, [&](const scheduler::ResourceState& r) {
      threshold[r.id] = r.migration_threshold;
    });
  }
  std::map<std::pair<std::string, std::string>, int> fails;
  for (const auto& fc : st.fail_counts) fails[{fc.node, fc.resource}] = fc.count;
  std::vector<std::pair<std::string, std::string>> rows;  // node, resource
  for (auto ns : cib.status().children("node_state")) {
    for (auto r : ns.child("lrm").child("lrm_resources").children("lrm_resource"))
      rows.emplace_back(attr(ns, "uname"), attr(r, "id"));
  }
  for (const auto& [key, count] : fails) {
    if (std::find(rows.begin(), rows.end(), key) == rows.end()) rows.push_back(key);
  }
  std::sort(rows.begin(), rows.end());
  Family fc(out, "ha_cluster_pacemaker_fail_count",
            "The Fail count number per node and resource id");
  for (const auto& row : rows) {
    auto it = fails.find(row);
    fc.sample({{"node", row.first}, {"resource", row.second}},
              score_value(it == fails.end() ? 0 : it->second));
  }
  Family mt(out, "ha_cluster_pacemaker_migration_threshold",
            "The migration_threshold number per node and resource id");
  for (const auto& row : rows) {
    auto it = threshold.find(row.second);
    mt.sample({{"node", row.first}, {"resource", row.second}},
              it == threshold.end() ? scheduler::kInfinity : it->second);
  }
}

void constraints(std::ostream& out, const cib::Cib& cib) {
  Family f(out, "ha_cluster_pacemaker_location_constraints",
           "Resource location constraints. The value indicates the score.");
  for (auto c : cib.configuration().child("constraints").children("rsc_location")) {
    if (!c.attribute("node")) continue;  // rules and resource sets name no single node
    f.sample({{"constraint", attr(c, "id")},
              {"node", attr(c, "node")},
              {"resource", attr(c, "rsc")},
              {"role", ascii_lower(attr(c, "role"))}},
             score_value(scheduler::parse_score(attr(c, "score"))));
  }
}

// Transient node attributes as crm_mon lists them: without the fail counts and the internal ones.
void node_attributes(std::ostream& out, const cib::Cib& cib) {
  Family f(out, "ha_cluster_pacemaker_node_attributes",
           "Metadata attributes of the nodes; the value is always 1");
  for (auto ns : cib.status().children("node_state")) {
    for (auto set : ns.child("transient_attributes").children("instance_attributes")) {
      for (auto nv : set.children("nvpair")) {
        const std::string name = attr(nv, "name");
        if (name.rfind("fail-count-", 0) == 0 || name.rfind("last-failure-", 0) == 0 ||
            name.rfind('#', 0) == 0 || name == "shutdown" || name == "terminate")
          continue;
        f.sample({{"node", attr(ns, "uname")}, {"name", name}, {"value", attr(nv, "value")}}, 1);
      }
    }
  }
}

void pacemaker(std::ostream& out, const Scrape& s) {
  const cib::Cib cib = control::with_reported_membership(*s.cib, s.daemon);
  const auto st = scheduler::cluster_state(cib, s.now);
  Family(out, "ha_cluster_pacemaker_stonith_enabled", "Whether or not stonith is enabled")
      .sample({}, st.stonith_enabled ? 1 : 0);
  nodes(out, cib, st);
  Family(out, "ha_cluster_pacemaker_nodes_total", "Total number of nodes in the cluster")
      .sample({}, static_cast<double>(st.nodes.size()));
  resources(out, st);
  history(out, cib, st);
  constraints(out, cib);
  node_attributes(out, cib);
  if (s.config_last_change) {
    Family(out, "ha_cluster_pacemaker_config_last_change",
           "The timestamp of the last change of the cluster configuration", "counter")
        .sample({}, static_cast<double>(*s.config_last_change));
  }
}

std::string node_name(const Json& daemon, std::uint32_t id) {
  for (const auto& n : daemon.value("nodes", Json::array())) {
    if (n.value("id", 0u) == id) return n.value("name", std::to_string(id));
  }
  return std::to_string(id);
}

void corosync(std::ostream& out, const Json& d) {
  const Json q = d.value("quorum", Json::object());
  Family(out, "ha_cluster_corosync_quorate", "Whether or not the cluster is quorate")
      .sample({}, q.value("quorate", false) ? 1 : 0);
  if (q.contains("expected_votes")) {
    Family votes(out, "ha_cluster_corosync_quorum_votes", "Cluster quorum votes; one line per type");
    for (const char* type : {"expected_votes", "highest_expected", "total_votes", "quorum"})
      votes.sample({{"type", type}}, q.value(type, 0));
    const auto self = d.value("node", Json::object()).value("id", 0u);
    Family member(out, "ha_cluster_corosync_member_votes",
                  "How many votes each member node has contributed with to the current quorum");
    for (const auto& m : q.value("members", Json::array())) {
      const auto id = m.value("id", 0u);
      member.sample({{"node_id", std::to_string(id)},
                     {"node", node_name(d, id)},
                     {"local", id == self ? "true" : "false"}},
                    m.value("votes", 0));
    }
  }
  // A link is faulty when no other member of the ring was heard on it lately (corosync-cfgtool's
  // FAULTY: the link is down). Not every peer: on an idle ring a node hears only the one that
  // passes it the token.
  const auto members = d.value("ring", Json::object()).value("members", Json::array());
  const auto self = d.value("node", Json::object()).value("id", 0u);
  Family rings(out, "ha_cluster_corosync_rings", "The status of each Corosync ring; 1 healthy, 0 faulty");
  int faulty = 0;
  for (const auto& l : d.value("links", Json::array())) {
    bool others = false, heard = false;
    for (const auto& p : l.value("peers", Json::array())) {
      const auto id = p.value("id", 0u);
      if (id == self || std::find(members.begin(), members.end(), Json(id)) == members.end())
        continue;
      others = true;
      heard = heard || p.value("connected", false);
    }
    const bool healthy = !others || heard;
    faulty += healthy ? 0 : 1;
    rings.sample({{"ring_id", d.value("ring", Json::object()).value("id", "")},
                  {"node_id", std::to_string(self)},
                  {"number", std::to_string(l.value("link", 0))},
                  {"address", l.value("local", "")}},
                 healthy ? 1 : 0);
  }
  Family(out, "ha_cluster_corosync_ring_errors", "The number of faulty corosync rings")
      .sample({}, faulty);
}

// Each link to each peer, from the pings sent on it (transport/probe.h): what a scraper of
// Corosync reads from knet's stats (stats.knet.nodeN.linkM.latency_ave), which
// ha_cluster_exporter does not export.
void link_quality(std::ostream& out, const Json& d) {
  Family round_trip(out, "vigil_link_round_trip_seconds",
                    "Mean round trip of the last pings answered on a link to a peer");
  Family loss(out, "vigil_link_loss_ratio",
              "Share of the last pings on a link to a peer left unanswered within the ping timeout");
  for (const auto& l : d.value("links", Json::array())) {
    for (const auto& p : l.value("peers", Json::array())) {
      const auto id = p.value("id", 0u);
      const Labels labels{{"node_id", std::to_string(id)},
                          {"node", node_name(d, id)},
                          {"link", std::to_string(l.value("link", 0))}};
      if (p.contains("round_trip_ms"))
        round_trip.sample(labels, p.value("round_trip_ms", 0.0) / 1000.0);
      const auto pings = p.value("pings", 0.0);
      if (pings > 0) loss.sample(labels, p.value("lost", 0.0) / pings);
    }
  }
}

// vigil's own counters: what happened since this vigild started.
void counters(std::ostream& out, const Json& d) {
  const Json totem = d.value("totem", Json::object());
  const Json transport = d.value("transport", Json::object());
  const Json controller = d.value("controller", Json::object());
  const Json http = d.value("http", Json::object());
  const std::tuple<const char*, const char*, double> rows[] = {
      {"vigil_membership_changes_total", "Rings installed by this node",
       totem.value("rings_installed", 0.0)},
      {"vigil_token_losses_total", "Times the token was lost here", totem.value("token_losses", 0.0)},
      {"vigil_peers_unreachable_total", "Peers failed because their host refused a datagram",
       totem.value("peers_unreachable", 0.0)},
      {"vigil_frames_total", "Frames received and authenticated", transport.value("frames", 0.0)},
      {"vigil_authentication_failures_total", "Frames dropped because they failed authentication",
       transport.value("unauthenticated", 0.0)},
      {"vigil_transitions_completed_total", "Transitions this node completed as DC",
       controller.value("transitions_completed", 0.0)},
      {"vigil_transitions_aborted_total", "Transitions this node aborted as DC",
       controller.value("transitions_aborted", 0.0)},
      {"vigil_page_actions_total", "Actions the status page was asked for by a logged-in user",
       http.value("actions", 0.0)},
      {"vigil_page_authentication_failures_total",
       "Status page actions refused for a wrong user or password",
       http.value("authentication_failures", 0.0)},
  };
  for (const auto& [name, help, value] : rows) Family(out, name, help, "counter").sample({}, value);
  // Agent runs by operation and result (Pacemaker's words: "ok", "not running", "timed out" …).
  const std::tuple<const char*, const char*, const char*, const char*> by_result[] = {
      {"vigil_actions_total", "Resource agent actions this node ran, by operation and result",
       "action_results", "operation"},
      {"vigil_fencing_total",
       "Fence device actions this node ran, by action and result; device=\"watchdog\": nodes "
       "it counted as fenced by their own watchdog as DC",
       "fencing_results", "action"},
  };
  for (const auto& [name, help, key, label] : by_result) {
    Family family(out, name, help, "counter");
    for (const auto& r : controller.value(key, Json::array())) {
      Labels labels{{label, r.value("operation", "")}, {"result", r.value("result", "")}};
      if (r.contains("device")) labels.emplace_back("device", r.value("device", ""));
      family.sample(labels, r.value("count", 0.0));
    }
  }
}

// The daemon's timings (timings.h) as histograms; a family the daemon does not keep is left out.
void histograms(std::ostream& out, const Json& d) {
  const Json timings = d.value("timings", Json::object());
  for (const auto& family :
       {kFailureDetection, kSchedulerRun, kTransition, kFailover, kTokenRotation}) {
    const Json h = timings.value(family.name, Json::object());
    const Json le = h.value("le", Json::array()), buckets = h.value("buckets", Json::array());
    if (le.size() != buckets.size() || !h.contains("count")) continue;
    Family f(out, family.name, family.help, "histogram");
    for (std::size_t i = 0; i < le.size(); ++i)
      f.sample("_bucket", {{"le", Family::number(le[i].get<double>())}}, buckets[i].get<double>());
    f.sample("_bucket", {{"le", "+Inf"}}, h.value("count", 0.0));
    f.sample("_sum", {}, h.value("sum", 0.0));
    f.sample("_count", {}, h.value("count", 0.0));
  }
}

// The watchdog vigild feeds, when it has one: the time since its last feed against its timeout,
// the margin by which this machine escapes a reset.
void watchdog(std::ostream& out, const Json& d) {
  const auto w = d.find("watchdog");
  if (w == d.end() || !w->is_object()) return;
  const Labels device{{"device", w->value("device", "")}};
  Family(out, "vigil_watchdog_last_feed_age_seconds",
         "Since vigild last fed its watchdog (or opened it)")
      .sample(device, w->value("fed_ms_ago", 0.0) / 1000);
  Family(out, "vigil_watchdog_timeout_seconds", "The timeout the watchdog device granted")
      .sample(device, w->value("timeout_ms", 0.0) / 1000);
}

std::string daemon_part(const Json& daemon) {
  std::ostringstream out;
  corosync(out, daemon);
  link_quality(out, daemon);
  counters(out, daemon);
  histograms(out, daemon);
  watchdog(out, daemon);
  return out.str();
}

std::string cib_part(const Scrape& scrape) {
  std::ostringstream out;
  if (scrape.cib != nullptr) pacemaker(out, scrape);
  return out.str();
}

}  // namespace

std::string exposition(const Scrape& scrape) {
  return cib_part(scrape) + daemon_part(scrape.daemon);
}

Exposition::Parts Exposition::render(const Scrape& scrape) {
  std::string key;
  if (scrape.cib != nullptr) {
    key = scrape.cib->version().str() + "|" + scrape.daemon.value("nodes", Json::array()).dump() +
          "|" + (scrape.daemon.value("quorum", Json::object()).value("quorate", false) ? "1" : "0") +
          "|" + std::to_string(scrape.config_last_change.value_or(0));
  }
  if (key.empty() || key != key_) {
    cib_part_ = std::make_shared<const std::string>(cib_part(scrape));
    key_ = key;
  }
  return {cib_part_, daemon_part(scrape.daemon)};
}

}  // namespace vigil::metrics
