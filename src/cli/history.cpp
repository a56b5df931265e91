// `vigil history [--since T] [--resource R] [--node N]`: what the local vigild's journal holds,
// one event a line (time, node, what happened and who did it), in crm history's spirit.
// `vigil why RESOURCE`: where the resource is and the scheduler's reason for it, then why it last
// moved, from the journal (history/history.h says how each is derived); for a group or a clone,
// the same for each primitive in it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <ctime>
#include <functional>
#include <sstream>

#include "cli/cib.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "control/control.h"
#include "control/request.h"
#include "history/history.h"
#include "scheduler/explain.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {

namespace {

using Json = nlohmann::json;

struct HistoryArgs {
  std::string socket, since, resource, node;
};

std::tm local(std::int64_t at_ms) {
  const std::time_t t = static_cast<std::time_t>(at_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm;
}

std::string time_of_day(std::int64_t at_ms) {
  char buf[16];
  const std::tm tm = local(at_ms);
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string stamp(std::int64_t at_ms) {
  char buf[32];
  const std::tm tm = local(at_ms);
  std::strftime(buf, sizeof buf, "%b %d %H:%M:%S", &tm);
  return buf;
}

// --since: "30s", "10m", "2h", "1d" ago; "HH:MM[:SS]" today; "YYYY-MM-DD[ T]HH:MM[:SS]" or
// "YYYY-MM-DD", local time. Milliseconds since the epoch, or an error naming the option.
Result<std::int64_t> since_ms(const std::string& text, std::int64_t now_ms) {
  const auto bad = [&] {
    return fail("--since '" + text +
                "': a time (\"2026-12-06 10:02\", \"10:02\") or an age (\"30s\", \"10m\", \"2h\", "
                "\"1d\")");
  };
  if (text.empty()) return bad();
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits > 0 && digits <= 9 && digits + 1 == text.size()) {
    const std::int64_t n = std::stoll(text.substr(0, digits));
    const std::string_view units = "smhd";
    const std::int64_t scale[] = {1000, 60'000, 3'600'000, 86'400'000};
    const auto u = units.find(text.back());
    if (u == std::string_view::npos) return bad();
    return now_ms - n * scale[u];
  }
  for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                             "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%H:%M:%S", "%H:%M"}) {
    std::tm tm = local(now_ms);
    tm.tm_sec = 0;
    tm.tm_hour = 0;
    tm.tm_min = 0;
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    tm.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
  }
  return bad();
}

// The events the local vigild's journal holds that match, oldest first.
Result<std::vector<history::Event>> ask_history(const HistoryArgs& a, std::int64_t since) {
  Json request{{"command", "history_query"}, {"since", since}};
  if (!a.resource.empty()) request["resource"] = a.resource;
  if (!a.node.empty()) request["node"] = a.node;
  auto answer = control::request(control::socket_path(a.socket), request, 5000);
  if (!answer) return answer.error();
  if (!answer->value("ok", false) || !answer->contains("events") ||
      !(*answer)["events"].is_array())
    return control::refused(*answer, "vigild gave no events");
  std::vector<history::Event> out;
  for (const auto& j : (*answer)["events"]) {
    auto e = history::from_json(j);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

int run_history(Cli& cli, const HistoryArgs& a) {
  std::int64_t since = 0;
  if (!a.since.empty()) {
    auto parsed = since_ms(a.since, wall_clock_ms());
    if (!parsed) {
      cli.err() << "ERROR: history: " << parsed.error().message << "\n";
      return 2;
    }
    since = *parsed;
  }
  auto events = ask_history(a, since);
  if (!events) {
    cli.err() << "ERROR: history: " << events.error().message << "\n";
    return 1;
  }
  for (const auto& e : *events)
    cli.out() << stamp(e.at_ms) << "  " << (e.node.empty() ? "-" : e.node) << "  " << e.detail
              << "\n";
  return 0;
}

// Where each primitive runs and why, on the CIB as vigild holds it with the membership it reports.
struct Placements {
  std::vector<scheduler::Placement> reasons;  // a clone's primitive as its instances, "p:0", "p:1"
  std::vector<scheduler::ResourceState> tree;

  static bool names(const scheduler::Placement& p, const std::string& primitive) {
    return p.resource == primitive || p.resource.starts_with(primitive + ":");
  }

  // `resource` itself when it is a primitive, else the primitives inside the group or clone of
  // that id (a user asks about the guide's `webservice` as often as about its `vip`).
  std::vector<std::string> primitives(const std::string& resource) const {
    const auto is_primitive = [&](const std::string& id) {
      return std::ranges::any_of(reasons, [&](const auto& p) { return names(p, id); });
    };
    if (is_primitive(resource)) return {resource};
    std::vector<std::string> out;
    const std::function<void(const scheduler::ResourceState&, bool)> visit =
        [&](const scheduler::ResourceState& s, bool inside) {
          inside = inside || s.id == resource;
          if (inside && is_primitive(s.id) && std::ranges::find(out, s.id) == out.end())
            out.push_back(s.id);
          for (const auto& c : s.children) visit(c, inside);
        };
    for (const auto& r : tree) visit(r, false);
    return out;
  }

  // A clone's primitive, placed as instances "p:0", "p:1" (empty for any other primitive).
  std::vector<scheduler::Placement> instances(const std::string& primitive) const {
    std::vector<scheduler::Placement> out;
    for (const auto& p : reasons)
      if (p.resource != primitive && names(p, primitive)) out.push_back(p);
    return out;
  }

  history::Placement of(const std::string& primitive) const {
    history::Placement out;
    for (const auto& p : reasons)
      if (p.resource == primitive) out.reason = p.why;
    const std::function<void(const scheduler::ResourceState&)> visit =
        [&](const scheduler::ResourceState& s) {
          if (s.id == primitive) out.nodes = s.nodes;
          for (const auto& c : s.children) visit(c);
        };
    for (const auto& r : tree) visit(r);
    return out;
  }
};

// nullopt (with the reason said) when the CIB cannot be read.
std::optional<Placements> placements(Cli& cli, const HistoryArgs& a) {
  const auto socket = control::socket_path(a.socket);
  auto store = open_cib_store("", cli.err(), socket);
  if (!store) return std::nullopt;
  auto cib = store->read();
  if (!cib) {
    cli.err() << "ERROR: why: " << cib.error().message << "\n";
    return std::nullopt;
  }
  auto status = control::request(socket, Json{{"command", "status"}}, 2000);
  const cib::Cib now_cib =
      status ? control::with_reported_membership(*cib, *status) : std::move(*cib);
  const auto now = wall_clock_ms();
  return Placements{scheduler::placements(now_cib, now),
                    scheduler::cluster_state(now_cib, now).resources};
}

int run_why(Cli& cli, const HistoryArgs& a) {
  auto where = placements(cli, a);
  if (!where) return 1;
  const auto primitives = where->primitives(a.resource);
  if (primitives.empty()) {
    cli.err() << "ERROR: why: no resource '" << a.resource << "' in the configuration\n";
    return 1;
  }
  for (std::size_t i = 0; i < primitives.size(); ++i) {
    HistoryArgs one = a;
    one.resource = primitives[i];
    auto events = ask_history(one, 0);
    if (!events) {
      cli.err() << "ERROR: why: " << events.error().message << "\n";
      return 1;
    }
    if (i > 0) cli.out() << "\n";
    // A clone's instances have no one place to have moved from: each one's placement, and the
    // journal's starts and stops of them all.
    if (const auto instances = where->instances(one.resource); !instances.empty()) {
      for (const auto& p : instances)
        cli.out() << p.resource << ": " << p.why << "\n";
      cli.out() << "their starts and stops: vigil history --resource " << one.resource << "\n";
      continue;
    }
    for (const auto& line : history::why(one.resource, where->of(one.resource), *events, time_of_day))
      cli.out() << line << "\n";
  }
  return 0;
}

void add_history_commands(Cli& cli) {
  auto a = std::make_shared<HistoryArgs>();
  auto* history = cli.app().add_subcommand(
      "history", "what happened in the cluster, from the local vigild's journal (crm history)");
  history->add_option("--since", a->since,
                      "from this time (\"2026-12-06 10:02\", \"10:02\") or age (\"10m\", \"2h\")");
  history->add_option("--resource", a->resource, "only this resource (and what may have moved it)");
  history->add_option("--node", a->node, "only what happened on or to this node");
  history->add_option("--socket", a->socket, "vigild's control socket");
  cli.on(history, [&cli, a] { return run_history(cli, *a); });

  auto w = std::make_shared<HistoryArgs>();
  auto* why = cli.app().add_subcommand(
      "why", "why a resource is where it is, and why it last moved");
  why->add_option("resource", w->resource, "the resource (a group or clone: each primitive in it)")
      ->required();
  why->add_option("--socket", w->socket, "vigild's control socket");
  cli.on(why, [&cli, w] { return run_why(cli, *w); });
}

}  // namespace

VIGIL_COMMANDS(67, add_history_commands);

}  // namespace vigil::cli
