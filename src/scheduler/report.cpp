// crm_simulate -S as text: the status before, the Transition Summary, the actions as the graph
// executor fires them, and the status after.
#include <ctime>
#include <string>

#include "scheduler/report.h"
#include "scheduler/scheduler.h"
#include "scheduler/stages.h"

namespace vigil::scheduler {

namespace {

std::string utc_date(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

std::string executed_line(const GraphAction& a) {
  // A guest's fencing is a pseudo-action on the guest (its container's stop does the work).
  if (a.task == "stonith" && a.pseudo) return "Pseudo action:   " + a.key + " on " + a.node;
  if (a.task == "stonith") return "Fencing " + a.node + " (" + a.fence_type + ")";
  if (a.pseudo) return "Pseudo action:   " + a.key;
  if (a.resource.empty()) return "Cluster action:  " + a.task + " on " + a.node;
  if (a.task == "clear_failcount")
    return "Cluster action:  clear_failcount for " + a.resource + " on " + a.node;
  std::string task = a.task;
  if (a.interval_ms > 0) task += "=" + std::to_string(a.interval_ms);
  return "Resource action: " + pad(a.shown_as, 15) + " " + task + " on " + a.node;
}

}  // namespace

const char* ocf_result_text(int rc) {
  switch (rc) {
    case 0:
      return "ok";
    case 1:
      return "error";
    case 2:
      return "invalid parameter";
    case 3:
      return "unimplemented feature";
    case 4:
      return "insufficient privileges";
    case 5:
      return "not installed";
    case 6:
      return "not configured";
    case 7:
      return "not running";
    case 8:
      return "promoted";
    case 9:
      return "promoted (failed)";
    case 190:
      return "degraded";
    case 191:
      return "promoted (degraded)";
    default:
      return "unknown";
  }
}

std::vector<std::string> simulate_report(const cib::Cib& cib, Millis fallback_now) {
  return simulate_transition(cib::Cib(cib), fallback_now).lines;
}

SimulateReport simulate_transition(cib::Cib&& cib, Millis fallback_now, Scores scores) {
  std::vector<std::string> out;
  Millis now = effective_now(cib, fallback_now);
  bool dated = static_cast<bool>(cib.root().attribute("execution-date"));
  std::string date_line =
      dated ? "Using the original execution date of: " + utc_date(now / 1000) : "";
  if (dated) {
    out.push_back(date_line);
  }
  // One unpacking serves the disabled line, the status before and the schedule: each used to
  // unpack the CIB anew, and unpacking the history is most of a steady-state schedule.
  Unpacked before = unpack_status(cib, now);
  std::string disabled = disabled_line(before.w);
  if (!disabled.empty()) out.push_back(disabled);
  out.push_back("");
  out.push_back("Current cluster status:");
  const std::vector<std::string> status_before = render_status(before.w);
  out.insert(out.end(), status_before.begin(), status_before.end());
  out.push_back("");
  before.w.keep_scores = scores == Scores::Keep;
  TransitionGraph graph = schedule(std::move(before));
  out.push_back("Transition Summary:");
  for (auto& l : format_summary(graph.summary)) out.push_back("  * " + l);
  out.push_back("");
  out.push_back("Executing Cluster Transition:");
  // The unpacked working set, which points into the CIB, went with the schedule: the CIB may
  // now change under it.
  bool recorded = false;
  for (int id : carry_out(cib, graph)) {
    const auto& a = graph.actions[static_cast<std::size_t>(id)];
    out.push_back("  * " + executed_line(a));
    recorded = recorded || recorded_in_status(a);
  }
  if (dated) {
    out.push_back(date_line);
  }
  out.push_back("");
  out.push_back("Revised Cluster Status:");
  // A transition that recorded nothing left the CIB as it was: its status is the one shown
  // before (unpacking 320 000 histories again would only say the same).
  const std::vector<std::string> status_after = recorded ? cluster_status(cib, now) : status_before;
  out.insert(out.end(), status_after.begin(), status_after.end());
  return {std::move(out), std::move(graph)};
}

}  // namespace vigil::scheduler
