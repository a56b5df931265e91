// `vigil history [--since T] [--resource R] [--node N]`: what the local vigild's journal holds,
// one event a line (time, node, what happened and who did it), in crm history's spirit.
// `vigil why RESOURCE`: where the resource is and the scheduler's reason for it, then why it last
// moved, from the journal (history/history.h says how each is derived).
#include <CLI/CLI.hpp>
#include <ctime>
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

// The scheduler's placement of `resource` on the CIB as vigild holds it, with the membership it
// reports; nullopt (with the reason said) when the CIB cannot be read or holds no such primitive.
std::optional<history::Placement> placement(Cli& cli, const HistoryArgs& a) {
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
  history::Placement out;
  bool found = false;
  for (const auto& p : scheduler::placements(now_cib, now)) {
    if (p.resource != a.resource) continue;
    found = true;
    out.reason = p.why;
  }
  if (!found) {
    cli.err() << "ERROR: why: no primitive '" << a.resource << "' in the configuration\n";
    return std::nullopt;
  }
  for (const auto& r : scheduler::cluster_state(now_cib, now).resources) {
    const std::function<void(const scheduler::ResourceState&)> visit =
        [&](const scheduler::ResourceState& s) {
          if (s.id == a.resource) out.nodes = s.nodes;
          for (const auto& c : s.children) visit(c);
        };
    visit(r);
  }
  return out;
}

int run_why(Cli& cli, const HistoryArgs& a) {
  auto where = placement(cli, a);
  if (!where) return 1;
  auto events = ask_history(a, 0);
  if (!events) {
    cli.err() << "ERROR: why: " << events.error().message << "\n";
    return 1;
  }
  for (const auto& line : history::why(a.resource, *where, *events, time_of_day))
    cli.out() << line << "\n";
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
  why->add_option("resource", w->resource, "the resource")->required();
  why->add_option("--socket", w->socket, "vigild's control socket");
  cli.on(why, [&cli, w] { return run_why(cli, *w); });
}

}  // namespace

VIGIL_COMMANDS(67, add_history_commands);

}  // namespace vigil::cli
