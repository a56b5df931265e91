// The CIB service: vigild's shell around cib::Replica. It joins the CIB's process group, loads the
// newest valid copy from the state dir at start, feeds the group's events to the replica, sends
// what it returns, persists every applied change before its client is answered (an error, never
// OK, when it cannot be saved here), and answers the control commands:
//   cib_query  {xpath?}         → {xml, version, digest, synced}, or with an xpath {elements: […]}
//   cib_commit {op} or {encoded} → once applied: {version, digest, xml}; refused everywhere: an error
// (control/request.h decodes the requests and shapes the answers).
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "cib/cib_io.h"
#include "cib/replica.h"
#include "daemon/cib_access.h"
#include "daemon/effects.h"

namespace vigil::daemon {

namespace {

constexpr const char* kGroup = "vigil.cib";

cib::Cib load(const cib::CibFile& file, spdlog::logger& log) {
  auto loaded = file.load();
  if (!loaded) {
    log.error("no valid CIB copy in {}: {}; starting from an empty CIB (the copies are kept)",
              file.path().parent_path().string(), loaded.error().message);
    return cib::Cib();
  }
  for (const auto& e : loaded->events) log.warn("{}", e);
  if (!loaded->found) {
    log.info("no CIB on disk yet; starting from an empty one");
  } else {
    log.info("loaded CIB {} from {}", loaded->cib.version().str(), loaded->source.string());
  }
  return std::move(loaded->cib);
}

class CibServiceImpl final : public CibService {
 public:
  explicit CibServiceImpl(Host& host)
      : host_(host),
        log_(host.log("CIB")),
        file_(std::filesystem::path(host.options().state_dir) / "cib.xml"),
        pid_(static_cast<std::uint32_t>(::getpid())),
        replica_(groups::Member{host.node_id(), pid_}, load(file_, *log_)) {}
  ~CibServiceImpl() override { *alive_ = false; }
  CibServiceImpl(const CibServiceImpl&) = delete;
  CibServiceImpl& operator=(const CibServiceImpl&) = delete;

  // ---- CibAccess
  bool synced() const override { return replica_.synced(); }
  const cib::Cib& current() const override { return replica_.current(); }
  void on_change(Listener listener) override { listeners_.push_back(std::move(listener)); }
  void commit(cib::CibOp op, Done done) override {
    if (stopped_) return done(fail("the CIB service is stopping"));
    const auto request = ++requests_;
    waiting_[request] = std::move(done);
    feed([&] { return replica_.commit(request, std::move(op)); });
  }

  // ---- Service
  std::vector<std::string> commands() const override { return {"cib_query", "cib_commit"}; }

  void answer(const control::Request& request, const control::PeerCredentials& peer,
              control::Server::Reply reply) override {
    if (const auto* query = std::get_if<control::CibQuery>(&request))
      return reply(control::cib_query_answer(current(), replica_.digest(), synced(), *query));
    const auto* change = std::get_if<control::CibCommit>(&request);
    VIGIL_ASSERT(change != nullptr);  // the daemon hands this service only its own commands
    log_->debug("change of {} part(s) requested by pid {} (uid {})", change->op.changes.size(),
                peer.pid, peer.uid);
    commit(change->op, [reply](Result<cib::Cib> applied) {
      if (!applied.ok()) return reply(applied.error());
      reply(control::cib_commit_answer(*applied));
    });
  }

  // The group is joined once the ring is up: a join sent before the first membership would be lost.
  void view_changed(const ClusterView& view) override {
    if (joined_ || stopped_ || view.members.empty()) return;
    joined_ = true;
    auto joined = host_.groups().join(kGroup, pid_, [this, alive = alive_](const auto& e) {
      if (!*alive || stopped_) return;
      if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
        feed([&] { return replica_.change(*change); });
      } else {
        feed([&] { return replica_.message(std::get<groups::GroupMessage>(e)); });
      }
    });
    if (!joined.ok()) log_->error("cannot join {}: {}", kGroup, joined.error().message);
  }

  void add_status(Json& status) const override {
    status["cib"] = Json{{"version", replica_.current().version().str()},
                         {"synced", replica_.synced()},
                         {"digest", replica_.digest()},
                         {"members", replica_.members().size()}};
  }

  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& [request, done] : waiting)
      done(fail("vigild is stopping; the change may not apply"));
    auto left = host_.groups().leave(kGroup, pid_);
    if (!left.ok()) log_->debug("{}", left.error().message);
  }

 private:
  void feed(const std::function<cib::ReplicaOutput()>& step) { effects_.feed(step); }

  void carry_out(cib::ReplicaOutput& out) {
    for (const auto& line : out.log) log_->info("{}", line);
    for (const auto& line : out.warn) log_->warn("{}", line);
    // Durable first: a client hears OK only for a change that is on this node's disk.
    std::optional<Error> unsaved;
    if (out.changed) {
      if (auto saved = file_.save(replica_.current()); !saved) {
        unsaved =
            fail("the change was applied by the cluster as CIB " +
                 replica_.current().version().str() + " but could not be saved on " +
                 host_.node_name() + " (" + saved.error().message + "); it is not durable there");
        log_->error("{}", unsaved->message);
      }
    }
    for (const auto& bytes : out.send) {
      auto sent = host_.groups().send(
          kGroup, pid_,
          std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                        bytes.size()));
      if (!sent.ok()) log_->error("cannot send to {}: {}", kGroup, sent.error().message);
    }
    for (auto& outcome : out.done) {
      auto it = waiting_.find(outcome.request);
      if (it == waiting_.end()) continue;
      auto done = std::move(it->second);
      waiting_.erase(it);
      if (!outcome.result.ok()) log_->info("change refused: {}", outcome.result.error().message);
      done(unsaved && outcome.result.ok() ? Result<cib::Cib>(*unsaved) : std::move(outcome.result));
    }
    if (out.changed) {
      for (const auto& l : listeners_) l(replica_.current());
    }
    enter_own_node();
  }

  // As Pacemaker's controller does, every member enters itself in the configuration's node list
  // once it holds the agreed CIB: without a nodelist in corosync.conf (the guide's multicast
  // setup) that entry is the only place the other nodes learn its name from.
  void enter_own_node() {
    if (entering_ || stopped_ || !replica_.synced() || attempts_ >= kEnterAttempts) return;
    const std::string id = std::to_string(host_.node_id());
    const std::string& name = host_.node_name();
    const auto entry = replica_.current().configuration().child("nodes").find_child_by_attribute(
        "node", "id", id.c_str());
    if (entry && name == entry.attribute("uname").value()) return;
    pugi::xml_document doc;
    auto nodes = doc.append_child("nodes");
    auto node = nodes.append_child("node");
    node.append_attribute("id") = id.c_str();
    node.append_attribute("uname") = name.c_str();
    if (!entry) node.append_attribute("type") = "member";
    entering_ = true;
    ++attempts_;
    cib::CibOp op;
    op.changes.push_back(
        cib::CibChange::modify("/cib/configuration/nodes", cib::element_xml(nodes)));
    commit(std::move(op), [this, alive = alive_](Result<cib::Cib> applied) {
      if (!*alive) return;
      entering_ = false;
      if (applied.ok()) attempts_ = 0;
      if (!applied.ok())
        log_->warn("cannot enter this node in the CIB's node list: {}", applied.error().message);
    });
  }

  Host& host_;
  std::shared_ptr<spdlog::logger> log_;
  cib::CibFile file_;
  std::uint32_t pid_;
  cib::Replica replica_;
  std::vector<Listener> listeners_;
  std::map<std::uint64_t, Done> waiting_;
  std::uint64_t requests_ = 0;
  Effects<cib::ReplicaOutput> effects_{[this](cib::ReplicaOutput& out) { carry_out(out); }};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool joined_ = false;
  bool stopped_ = false;
  bool entering_ = false;  // this node's <node> entry is on its way through the ring
  int attempts_ = 0;       // failures in a row: a CIB that keeps refusing it is not retried forever
  static constexpr int kEnterAttempts = 3;
};

}  // namespace

std::unique_ptr<CibService> make_cib_service(Host& host) {
  return std::make_unique<CibServiceImpl>(host);
}

}  // namespace vigil::daemon
