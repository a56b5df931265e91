// The page vigild serves at GET / (http_service.cpp): the cluster as `vigil status --output-as json`
// describes it, drawn by a little plain JavaScript from the events of GET /events, which vigild
// pushes on every CIB change and membership change. Nothing loads from elsewhere; text from the
// cluster goes into the page as text nodes only (resource ids are the user's words).
// Read-only unless vigild runs with --http-actions, which serves the page with data-actions="on":
// then each node has standby/online and each resource cleanup, move and clear, posted to
// /actions with the X-Vigil-Action header; the browser asks for the login (HTTP Basic) at the
// first one, and the answer is shown above the tables.
#include "daemon/status_page.h"

namespace vigil::daemon {

const std::string_view kStatusPage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil status</title>
<style>
  body { font-family: sans-serif; margin: 0; color: #222; background: #f4f5f7; }
  header { background: #2b3a4a; color: #fff; padding: 12px 20px; display: flex; gap: 24px;
           align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 20px; margin: 0; }
  main { padding: 12px 20px; }
  section { background: #fff; border-radius: 6px; padding: 8px 16px 12px; margin-bottom: 14px;
            box-shadow: 0 1px 2px rgba(0,0,0,.15); }
  h2 { font-size: 16px; margin: 6px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e5e8; }
  th { font-weight: 600; color: #555; font-size: 13px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; }
  .ok { background: #d8f0dc; color: #185c25; }
  .warn { background: #fff1c9; color: #6b4e00; }
  .bad { background: #f8d3d3; color: #8a1010; }
  .off { background: #e3e5e8; color: #555; }
  tr.parent td { font-weight: 600; background: #fafbfc; }
  #connection { padding: 8px 20px; font-weight: 600; }
  #connection.lost { background: #c62828; color: #fff; }
  #connection.live { display: none; }
  .muted { color: #777; }
  .act { display: none; }
  body[data-actions="on"] .act { display: table-cell; }
  .act button, .act select { font-size: 12px; margin-right: 4px; }
  #answer { margin: 0 0 12px; padding: 8px 12px; border-radius: 6px; }
  #answer.done { background: #d8f0dc; color: #185c25; }
  #answer.failed { background: #f8d3d3; color: #8a1010; }
</style>
</head>
<body data-updates="0" data-actions="off">
<div id="connection" class="lost">Connecting to vigild&hellip;</div>
<header>
  <h1>Cluster <span id="cluster-name">?</span></h1>
  <span>Quorum: <span id="quorum" class="badge off">?</span></span>
  <span>DC: <span id="dc">?</span></span>
  <span class="muted" id="last-change-line" hidden>Last change: <span id="last-change"></span></span>
</header>
<main>
  <p id="answer" hidden></p>
  <section><h2>Nodes</h2>
    <table id="nodes"><thead><tr><th>Node</th><th>ID</th><th>State</th><th>Resources</th>
    <th class="act">Actions</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Resources</h2>
    <table id="resources"><thead><tr><th>Resource</th><th>Type</th><th>Role</th><th>Node</th>
    <th class="act">Actions</th></tr></thead><tbody></tbody></table></section>
  <section id="failures-section" hidden><h2>Failed resource actions</h2>
    <table id="failures"><tbody></tbody></table></section>
  <section id="tickets-section" hidden><h2>Tickets</h2>
    <table id="tickets"><thead><tr><th>Ticket</th><th>State</th></tr></thead>
    <tbody></tbody></table></section>
</main>
<script>
"use strict";
function cell(row, text, badge) {
  const td = row.insertCell();
  if (badge) {
    const span = document.createElement("span");
    span.className = "badge " + badge;
    span.textContent = text;
    td.appendChild(span);
  } else {
    td.textContent = text;
  }
  return td;
}
function body(id) {
  const tbody = document.querySelector("#" + id + " tbody");
  tbody.replaceChildren();
  return tbody;
}
let nodeNames = [];
// POST /actions; the browser asks for the login when vigild answers 401.
async function act(request) {
  const answer = document.getElementById("answer");
  let text, ok = false;
  try {
    const r = await fetch("actions", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Vigil-Action": "1"},
        body: JSON.stringify(request)});
    ok = r.ok;
    text = await r.text();
  } catch (e) {
    text = "vigild did not answer: " + e;
  }
  answer.textContent = text;
  answer.className = ok ? "done" : "failed";
  answer.hidden = false;
}
function button(td, label, request) {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.action = request.action;
  b.addEventListener("click", () => act(request));
  td.appendChild(b);
}
function resourceActions(row, r) {
  const td = row.insertCell();
  td.className = "act";
  button(td, "Cleanup", {action: "cleanup", resource: r.id});
  const move = document.createElement("select");
  move.dataset.action = "move";
  move.add(new Option("Move to\u2026", ""));
  for (const n of nodeNames) move.add(new Option(n, n));
  move.addEventListener("change", () => {
    if (move.value) act({action: "move", resource: r.id, node: move.value});
  });
  td.appendChild(move);
  button(td, "Clear", {action: "clear", resource: r.id});
}
function nodeState(n) {
  if (n.unclean) return ["UNCLEAN", "bad"];
  if (!n.online) return ["offline", "bad"];
  if (n.standby) return ["standby", "warn"];
  if (n.maintenance) return ["maintenance", "warn"];
  return ["online", "ok"];
}
function roleBadge(r) {
  if (r.failed) return "bad";
  if (r.blocked || !r.managed || r.disabled) return "warn";
  return r.active ? "ok" : "off";
}
function resourceRow(tbody, r, depth) {
  const row = tbody.insertRow();
  row.dataset.resource = r.id;
  if (r.children) row.className = "parent";
  cell(row, r.id).style.paddingLeft = (10 + 20 * depth) + "px";
  const flags = [r.managed ? "" : "unmanaged", r.disabled ? "disabled" : "",
                 r.blocked ? "blocked" : "", r.failed ? "FAILED" : ""].filter(Boolean);
  cell(row, (r.agent || r.type) + (flags.length ? " (" + flags.join(", ") + ")" : ""));
  cell(row, r.role, roleBadge(r));
  cell(row, r.nodes.join(", ")).className = "where";
  resourceActions(row, r);
  for (const c of r.children || []) resourceRow(tbody, c, depth + 1);
}
function render(s) {
  document.getElementById("cluster-name").textContent = s.summary.cluster_name || "(unnamed)";
  const q = document.getElementById("quorum");
  q.textContent = s.summary.quorate ? "quorate" : "NO QUORUM";
  q.className = "badge " + (s.summary.quorate ? "ok" : "bad");
  document.getElementById("dc").textContent =
      s.summary.current_dc ? s.summary.current_dc.name : "NONE";
  document.getElementById("last-change").textContent = s.summary.last_change;
  document.getElementById("last-change-line").hidden = !s.summary.last_change;
  const nodes = body("nodes");
  nodeNames = s.nodes.map((n) => n.name);
  for (const n of s.nodes) {
    const row = nodes.insertRow();
    row.dataset.node = n.name;
    cell(row, n.name + (n.is_dc ? " (DC)" : ""));
    cell(row, n.id);
    const [state, badge] = nodeState(n);
    cell(row, state, badge);
    cell(row, n.resources_running);
    const td = row.insertCell();
    td.className = "act";
    if (n.standby) button(td, "Online", {action: "online", node: n.name});
    else button(td, "Standby", {action: "standby", node: n.name});
  }
  const resources = body("resources");
  for (const r of s.resources) resourceRow(resources, r, 0);
  if (!s.resources.length) cell(resources.insertRow(), "No resources").colSpan = 5;
  const failures = body("failures");
  for (const f of s.failures) cell(failures.insertRow(), f.text);
  document.getElementById("failures-section").hidden = !s.failures.length;
  const tickets = body("tickets");
  for (const t of s.tickets) {
    const row = tickets.insertRow();
    cell(row, t.id);
    cell(row, (t.granted ? "granted" : "revoked") + (t.standby ? ", standby" : ""),
         t.granted ? "ok" : "off");
  }
  document.getElementById("tickets-section").hidden = !s.tickets.length;
  document.body.dataset.updates = Number(document.body.dataset.updates) + 1;
}
function connected(live) {
  const banner = document.getElementById("connection");
  banner.className = live ? "live" : "lost";
  banner.textContent = live ? "" : "Connection to vigild lost \u2014 reconnecting\u2026";
  document.body.dataset.connection = live ? "live" : "lost";
}
const events = new EventSource("events");
events.addEventListener("status", (e) => { connected(true); render(JSON.parse(e.data)); });
events.onerror = () => connected(false);
</script>
</body>
</html>
)page";

}  // namespace vigil::daemon
