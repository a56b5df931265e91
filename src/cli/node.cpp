// `vigil node standby|online|maintenance|ready|list|attribute|clearstate|fence [NODE]`: crmsh's
// node commands. standby/online and maintenance/ready set the node's permanent attribute (in
// configuration/nodes, crmsh's default lifetime); attribute edits any of them; clearstate drops
// what the status section says about a node; fence asks vigild's controller.
#include <CLI/CLI.hpp>
#include <functional>

#include "cib/op.h"
#include "cli/cli.h"
#include "cli/operations.h"
#include "cli/status.h"
#include "control/control.h"
#include "scheduler/scheduler.h"

namespace vigil::cli {

namespace {

using Json = nlohmann::json;

struct NodeArgs {
  std::string cib_file, socket;
  std::vector<std::string> words;
};

Json ask_daemon(const NodeArgs& a, const Json& request) {
  auto answer = control::request(control::socket_path(a.socket), request, 2000);
  return answer.ok() ? *answer : Json(nullptr);
}

// NODE, else this node as vigild names it.
std::optional<std::string> node_or_local(const NodeArgs& a, const std::string& command, Cli& cli) {
  if (a.words.size() > 1) {
    cli.err() << "ERROR: node " << command << ": word 2: unexpected '" << a.words[1] << "'\n";
    return std::nullopt;
  }
  if (!a.words.empty()) return a.words[0];
  auto status = ask_daemon(a, {{"command", "status"}});
  if (status.is_object() && status.contains("node")) return status["node"].value("name", "");
  cli.err() << "ERROR: node " << command
            << ": name the node (no vigild answered to say which node this is)\n";
  return std::nullopt;
}

pugi::xml_node known_node(const Session& s, const std::string& name, Cli& cli) {
  auto n = find_node(s.cib, name);
  if (!n) cli.err() << "ERROR: Node '" << name << "' not found in CIB\n";
  return n;
}

// The changes a node command makes to the named node.
using NodeChanges = std::function<std::vector<cib::CibChange>(const pugi::xml_node& node)>;

int change_node(const NodeArgs& a, const std::string& command, const NodeChanges& changes,
                bool announce, Cli& cli) {
  auto node = node_or_local(a, command, cli);
  if (!node) return 2;
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  auto n = known_node(*s, *node, cli);
  if (!n) return 1;
  if (!commit(*s, changes(n), cli)) return 1;
  if (announce) cli.out() << "INFO: " << command << " node " << *node << "\n";
  return 0;
}

int set_node_attribute(const NodeArgs& a, const std::string& command, const std::string& name,
                       const std::string& value, Cli& cli) {
  return change_node(
      a, command,
      [&](const pugi::xml_node& n) { return set_attribute(n, "instance_attributes", name, value); },
      false, cli);
}

// crmsh's `node list`: "uname(id): type", "(offline)" when it is not online, then its
// attributes one per line.
int list(const NodeArgs& a, Cli& cli) {
  if (!a.words.empty()) {
    cli.err() << "ERROR: node list: word 1: unexpected '" << a.words[0] << "'\n";
    return 2;
  }
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  StatusInput in{s->cib, ask_daemon(a, {{"command", "status"}}), 0};
  if (!in.daemon.is_object() || !in.daemon.value("ok", false)) in.daemon = nullptr;
  const auto state = scheduler::cluster_state(effective_cib(in), 0);
  for (auto n : s->cib.configuration().child("nodes").children("node")) {
    const std::string id = n.attribute("id").value();
    const std::string uname = n.attribute("uname") ? n.attribute("uname").value() : id;
    const std::string type = n.attribute("type") ? n.attribute("type").value() : "member";
    bool online = false;
    for (const auto& ns : state.nodes)
      if (ns.id == id) online = ns.online;
    cli.out() << (uname == id ? uname : uname + "(" + id + ")") << ": " << type
              << (online ? "" : "(offline)") << "\n";
    for (auto set : n.children("instance_attributes")) {
      for (auto nv : set.children("nvpair"))
        cli.out() << "\t" << nv.attribute("name").value() << "=" << nv.attribute("value").value()
                  << "\n";
    }
  }
  return 0;
}

// attribute NODE set NAME VALUE | delete NAME | show NAME, as crm_attribute -t nodes.
int attribute(const NodeArgs& a, Cli& cli) {
  const auto& w = a.words;
  auto bad = [&](std::size_t word, const std::string& what) {
    cli.err() << "ERROR: node attribute: word " << word << ": " << what << "\n";
    return 2;
  };
  if (w.size() < 3) return bad(w.size() + 1, "usage: attribute NODE set|delete|show NAME [VALUE]");
  if (w[1] != "set" && w[1] != "delete" && w[1] != "show")
    return bad(2, "'" + w[1] + "' is not one of set, delete, show");
  if (w[1] == "set" && w.size() != 4) return bad(w.size() < 4 ? 4 : 5, "set needs NAME VALUE");
  if (w[1] != "set" && w.size() != 3) return bad(4, "unexpected '" + w[3] + "'");
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  auto n = known_node(*s, w[0], cli);
  if (!n) return 1;
  const std::string& name = w[2];
  if (w[1] == "set")
    return commit(*s, set_attribute(n, "instance_attributes", name, w[3]), cli) ? 0 : 1;
  pugi::xml_node found;
  for (auto set : n.children("instance_attributes")) {
    if (!found) found = set.find_child_by_attribute("nvpair", "name", name.c_str());
  }
  if (w[1] == "show") {
    if (!found) {
      cli.out() << "scope=nodes  name=" << name << " value=(null)\n";
      cli.err() << "Error performing operation: No such device or address\n";
      return 105;  // CRM_EX_NOSUCH
    }
    cli.out() << "scope=nodes  name=" << name << " value=" << found.attribute("value").value()
              << "\n";
    return 0;
  }
  if (!found) return 0;
  const std::string id = found.attribute("id").value();  // commit() replaces the document
  if (!commit(*s, delete_attribute(n, "instance_attributes", name), cli)) return 1;
  cli.out() << "Deleted nodes attribute: id=" << id << " name=" << name << "\n";
  return 0;
}

// clearstate NODE: the node's status entry goes (its history, its transient attributes), as
// when an administrator confirms that a dead node is really down. Refused for a node that is up.
int clearstate(const NodeArgs& a, Cli& cli) {
  auto node = node_or_local(a, "clearstate", cli);
  if (!node) return 2;
  auto s = open_session(a.cib_file, cli);
  if (!s) return 1;
  auto n = known_node(*s, *node, cli);
  if (!n) return 1;
  StatusInput in{s->cib, ask_daemon(a, {{"command", "status"}}), 0};
  if (!in.daemon.is_object() || !in.daemon.value("ok", false)) in.daemon = nullptr;
  for (const auto& ns : scheduler::cluster_state(effective_cib(in), 0).nodes) {
    if (ns.id == n.attribute("id").value() && ns.online) {
      cli.err() << "ERROR: node " << *node << " is online; stop it before clearing its state\n";
      return 1;
    }
  }
  auto state =
      s->cib.status().find_child_by_attribute("node_state", "id", n.attribute("id").value());
  if (!state) return 0;
  return commit(*s, {cib::CibChange::remove(address_of(state))}, cli) ? 0 : 1;
}

int fence(const NodeArgs& a, Cli& cli) {
  if (a.words.size() != 1) {
    cli.err() << "ERROR: node fence: word " << (a.words.empty() ? 1 : 2) << ": "
              << (a.words.empty() ? "name the node to fence" : "unexpected '" + a.words[1] + "'")
              << "\n";
    return 2;
  }
  auto answer = control::request(control::socket_path(a.socket),
                                 {{"command", "controller_fence"}, {"node", a.words[0]}}, 120000);
  if (!answer.ok()) {
    cli.err() << "ERROR: fencing needs a running vigild (" << answer.error().message << ")\n";
    return 1;
  }
  if (!answer->value("ok", false)) {
    cli.err() << "ERROR: fencing " << a.words[0]
              << " failed: " << answer->value("error", "refused") << "\n";
    return 1;
  }
  cli.out() << "INFO: node " << a.words[0] << " fenced\n";
  return 0;
}

void add_node_commands(Cli& cli) {
  auto* node = cli.app().add_subcommand("node", "node commands (crmsh's `node`)");
  node->require_subcommand(1);
  auto args = std::make_shared<NodeArgs>();
  struct Command {
    const char* name;
    const char* help;
    std::function<int(const NodeArgs&, Cli&)> run;
  };
  const std::vector<Command> commands = {
      {"standby", "standby [NODE]: no resources may run on it (standby=on)",
       [](const NodeArgs& a, Cli& c) {
         return change_node(
             a, "standby", [](const pugi::xml_node& n) { return cib::standby(n, true); }, true, c);
       }},
      {"online", "online [NODE]: back from standby (standby=off)",
       [](const NodeArgs& a, Cli& c) {
         return change_node(
             a, "online", [](const pugi::xml_node& n) { return cib::standby(n, false); }, true, c);
       }},
      {"maintenance", "maintenance [NODE]: leave its resources alone (maintenance=true)",
       [](const NodeArgs& a, Cli& c) {
         return set_node_attribute(a, "maintenance", "maintenance", "true", c);
       }},
      {"ready", "ready [NODE]: out of maintenance (maintenance=off)",
       [](const NodeArgs& a, Cli& c) {
         return set_node_attribute(a, "ready", "maintenance", "off", c);
       }},
      {"list", "the configured nodes and their attributes", list},
      {"attribute", "attribute NODE set|delete|show NAME [VALUE]", attribute},
      {"clearstate", "clearstate NODE: drop the node's status (a node known to be down)",
       clearstate},
      {"fence", "fence NODE: have the cluster fence the node", fence},
  };
  for (const auto& c : commands) {
    auto* sub = node->add_subcommand(c.name, c.help);
    sub->add_option("--cib", args->cib_file, "the CIB file (else CIB_file, else vigild)");
    sub->add_option("--socket", args->socket, "vigild's control socket");
    sub->add_option("words", args->words, "arguments");
    auto run = c.run;
    cli.on(sub, [&cli, args, run] { return run(*args, cli); });
  }
  node->get_subcommand("list")->alias("show");
}

}  // namespace

VIGIL_COMMANDS(66, add_node_commands);

}  // namespace vigil::cli
