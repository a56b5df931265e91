// The CIB service: vigild's shell around cib::Replica. It joins the CIB's process group, loads the
// newest valid copy from the state dir at start, feeds the group's events to the replica, sends
// what it returns, has every applied document written to disk off the loop (cib_writer.h), and
// answers the control commands:
//   cib_query  {xpath?}         → {xml, version, digest, synced}, or with an xpath {elements: […]}
//   cib_commit {op} or {encoded} → once applied and durable here: {version, digest, xml}; refused
//                                  everywhere, or not saved here: an error
// (control/request.h decodes the requests and shapes the answers).
//
// What is guaranteed on each node:
// - A commit is answered OK only once the document it produced, or a newer one, is on this node's
//   disk. A write that fails answers every change it held with an error naming the node and the
//   cause, never OK: the cluster applied the change, but it is not durable here.
// - The other services (CibAccess: current(), synced(), on_change) see only documents that are on
//   this node's disk, in ring order. A document written over by a newer one before it reached the
//   disk is never shown (the newer one holds its changes); one that could not be saved is not
//   either, until a later one is. A whole document adopted by reconciliation is one more document
//   to write, like a change.
// - The loop never waits on the disk, except when loading at start and at stop: the newest
//   applied document is written before vigild exits, and the clients it answers hear OK. Changes
//   not yet delivered by the ring then are answered with an error.
// - cib_query and `status` show the replica's document: agreed by the ring, perhaps not yet on
//   this node's disk (status says which version is, as "durable").
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
#include "daemon/cib_writer.h"
#include "daemon/effects.h"
#include "daemon/lease_settings.h"

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
        replica_(groups::Member{host.node_id(), pid_}, load(file_, *log_)),
        durable_(replica_.current()),
        writer_(host.io(), file_, [this, alive = alive_](std::uint64_t number, Result<cib::Cib> w) {
          if (*alive) written(number, std::move(w));
        }) {}
  ~CibServiceImpl() override { *alive_ = false; }
  CibServiceImpl(const CibServiceImpl&) = delete;
  CibServiceImpl& operator=(const CibServiceImpl&) = delete;

  // ---- CibAccess
  bool synced() const override { return durable_synced_; }
  const cib::Cib& current() const override { return durable_; }
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
      return reply(control::cib_query_answer(replica_.current(), replica_.digest(),
                                             replica_.synced(), *query));
    const auto* change = std::get_if<control::CibCommit>(&request);
    VIGIL_ASSERT(change != nullptr);  // the daemon hands this service only its own commands
    log_->debug("change of {} part(s) requested by pid {} (uid {})", change->op.changes.size(),
                peer.pid, peer.uid);
    if (auto safe = lease_safe(change->op); !safe.ok()) return reply(safe.error());
    commit(change->op, [reply](Result<cib::Cib> applied) {
      if (!applied.ok()) return reply(applied.error());
      reply(control::cib_commit_answer(*applied));
    });
  }

  // Refused here, before the change goes out, when it makes the watchdog settings unsafe with this
  // node's corosync.conf (lease_settings.h says why here). A change that does not apply is left
  // to the replica, which names what is wrong.
  Result<void> lease_safe(const cib::CibOp& op) const {
    auto next = cib::apply(replica_.current(), op);
    if (!next.ok()) return {};
    auto safe = check_change(host_.config(), replica_.current(), *next);
    if (!safe.ok()) return fail("cib_commit: " + safe.error().message);
    return {};
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
                         {"durable", durable_.version().str()},
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
    writer_.stop();  // its report, posted, answers the clients that wait for the disk
  }

 private:
  void feed(const std::function<cib::ReplicaOutput()>& step) { effects_.feed(step); }

  void carry_out(cib::ReplicaOutput& out) {
    for (const auto& line : out.log) log_->info("{}", line);
    for (const auto& line : out.warn) log_->warn("{}", line);
    if (out.changed) {
      hand_to_writer();
    } else {
      follow_synced();
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
      if (!outcome.result.ok()) {
        log_->info("change refused: {}", outcome.result.error().message);
        done(std::move(outcome.result));
      } else if (unwritten_.empty()) {  // every document handed over is reported on
        done(unsaved_ ? Result<cib::Cib>(*unsaved_) : std::move(outcome.result));
      } else {
        held_.push_back({handed_, std::move(done), std::move(outcome.result)});
      }
    }
    enter_own_node();
  }

  // Durable first: the document goes to the writer; clients and listeners hear of it once written.
  void hand_to_writer() {
    ++handed_;
    unwritten_.push_back({handed_, replica_.current().version().str(), replica_.synced()});
    const bool taken = writer_.write(handed_, replica_.current());
    VIGIL_ASSERT(taken);  // nothing is fed to the replica once stopped
  }

  // The replica's synced flag moved without a new document (every copy was equal, or the group
  // lost this node): it goes with the newest document not yet written, else with the one shown.
  void follow_synced() {
    if (!unwritten_.empty()) {
      unwritten_.back().synced = replica_.synced();
    } else if (!unsaved_) {
      durable_synced_ = replica_.synced();  // durable_ is the replica's document
    }
    if (!replica_.synced()) durable_synced_ = false;  // a stale view is never claimed agreed
  }

  // The writer's report for `number`: every document handed over up to it is settled.
  void written(std::uint64_t number, Result<cib::Cib> w) {
    Unwritten mine;
    while (!unwritten_.empty() && unwritten_.front().number <= number) {
      mine = std::move(unwritten_.front());
      unwritten_.pop_front();
    }
    VIGIL_ASSERT(mine.number == number);
    if (w.ok()) {
      unsaved_.reset();
      durable_ = std::move(*w);
      durable_synced_ = mine.synced && replica_.synced();
    } else {
      unsaved_ = fail("the change was applied by the cluster as CIB " + mine.version +
                      " but could not be saved on " + host_.node_name() + " (" + w.error().message +
                      "); it is not durable there");
      log_->error("{}", unsaved_->message);
    }
    while (!held_.empty() && held_.front().number <= number) {
      auto held = std::move(held_.front());
      held_.pop_front();
      held.done(unsaved_ ? Result<cib::Cib>(*unsaved_) : std::move(held.result));
    }
    if (w.ok() && !stopped_) {
      for (const auto& l : listeners_) l(durable_);
    }
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
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  cib::Replica replica_;
  // What the other services see: the newest document on this node's disk.
  cib::Cib durable_;
  bool durable_synced_ = false;
  // Documents handed to the writer and not yet reported, oldest first.
  struct Unwritten {
    std::uint64_t number = 0;
    std::string version;  // the CIB's, for the error when it cannot be saved
    bool synced = false;  // the replica's flag when it was the newest
  };
  std::deque<Unwritten> unwritten_;
  // Clients whose change was applied, waiting for the document `number` (or a newer) on disk.
  struct Held {
    std::uint64_t number = 0;
    Done done;
    Result<cib::Cib> result;
  };
  std::deque<Held> held_;
  std::uint64_t handed_ = 0;      // the newest document handed to the writer
  std::optional<Error> unsaved_;  // the writer's newest report was a failure
  CibWriter writer_;
  std::vector<Listener> listeners_;
  std::map<std::uint64_t, Done> waiting_;
  std::uint64_t requests_ = 0;
  Effects<cib::ReplicaOutput> effects_{[this](cib::ReplicaOutput& out) { carry_out(out); }};
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
