// The CIB service: vigild's shell around the node core's CIB part (node/cib_part.h says what is
// guaranteed). It writes the documents the node asks to persist on the writer thread
// (cib_writer.h) and steps the node with each report (Durable), routes the node's replies to the
// clients that asked, tells the other services of CibChanged, and answers the control commands:
//   cib_query  {xpath?}         → {xml, version, digest, synced}, or with an xpath {elements: […]}
//   cib_commit {op} or {encoded} → once applied and durable here: {version, digest, xml}; refused
//                                  everywhere, or not saved here: an error
// (control/request.h decodes the requests and shapes the answers).
//
// The loop never waits on the disk, except when loading at start and at stop: the newest
// applied document is written before vigild exits, and the clients it answers hear OK. Changes
// not yet delivered by the ring then are answered with an error. cib_query and `status` show the
// replica's document: agreed by the ring, perhaps not yet on this node's disk (status says which
// version is, as "durable").
#include <spdlog/spdlog.h>

#include <pwd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "cib/cib_io.h"
#include "cib/edit.h"
#include "daemon/cib_access.h"
#include "daemon/cib_writer.h"
#include "daemon/lease_settings.h"
#include "status/status.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

cib::CibFile cib_file(const Options& options) {
  return cib::CibFile(std::filesystem::path(options.state_dir) / "cib.xml");
}

class CibServiceImpl final : public CibService {
 public:
  explicit CibServiceImpl(Host& host)
      : host_(host),
        log_(host.log("CIB")),
        writer_(host.io(), cib_file(host.options()),
                [this, alive = alive_](std::uint64_t number, Result<cib::Cib> w) {
                  if (*alive) written(number, std::move(w));
                }) {}
  ~CibServiceImpl() override { *alive_ = false; }
  CibServiceImpl(const CibServiceImpl&) = delete;
  CibServiceImpl& operator=(const CibServiceImpl&) = delete;

  // ---- CibAccess
  bool synced() const override { return part().durable_synced(); }
  const cib::Cib& current() const override { return *part().durable_cib(); }
  void on_change(Listener listener) override { listeners_.push_back(std::move(listener)); }
  void commit(cib::CibOp op, Done done) override {
    // A diff carries its own root attributes; any other change is dated here (the core reads no
    // clock), and keeps the date only if it changes the configuration.
    if (!op.target) op.changes.push_back(cib::last_written(status::crm_time(std::time(nullptr))));
    const auto ticket = ++tickets_;
    waiting_[ticket] = std::move(done);
    host_.step(node::CibCommit{ticket, std::move(op), transport::monotonic_now()});
  }

  // ---- the node's CIB outputs
  void persist(node::CibPersist request) override {
    if (!writer_.write(request.number, std::move(request.cib)))
      log_->warn("CIB {} not written: the writer has stopped", request.number);
  }
  void changed(const node::CibChanged& change) override {
    for (const auto& l : listeners_) l(change);
  }
  void replied(node::CibReply reply) override {
    auto it = waiting_.find(reply.ticket);
    if (it == waiting_.end()) return;
    auto done = std::move(it->second);
    waiting_.erase(it);
    done(std::move(reply.result));
  }
  void flush() override { writer_.stop(); }

  // ---- Service
  std::vector<std::string> commands() const override { return {"cib_query", "cib_commit"}; }

  void answer(const control::Request& request, const control::PeerCredentials& peer,
              control::Server::Reply reply) override {
    const auto& replica = part().replica();
    if (const auto* query = std::get_if<control::CibQuery>(&request))
      return reply(
          control::cib_query_answer(replica.current(), replica.digest(), replica.synced(), *query));
    const auto* change = std::get_if<control::CibCommit>(&request);
    VIGIL_ASSERT(change != nullptr);  // the daemon hands this service only its own commands
    log_->debug("change of {} part(s) requested by pid {} (uid {})", change->op.changes.size(),
                peer.pid, peer.uid);
    if (auto safe = lease_safe(change->op); !safe.ok()) return reply(safe.error());
    commit(signed_by(change->op, peer), [reply](Result<cib::Cib> applied) {
      if (!applied.ok()) return reply(applied.error());
      reply(control::cib_commit_answer(*applied));
    });
  }

  // Pacemaker's CIB names the last writer of each change a client asked for (update-user,
  // update-client, update-origin); vigil's does so from the socket's credentials, and the history
  // says who put a node in standby or changed the configuration. A diff carries its own.
  cib::CibOp signed_by(cib::CibOp op, const control::PeerCredentials& peer) const {
    if (op.target) return op;
    op.changes.push_back(
        cib::signature(user_name(peer.uid), client_name(peer.pid), host_.node_name()));
    return op;
  }
  static std::string user_name(unsigned uid) {
    passwd entry{};
    passwd* found = nullptr;
    std::array<char, 1024> buffer{};
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
      return found->pw_name;
    return std::to_string(uid);
  }
  // The requesting program's name ("vigil", "crm_attribute"), as the kernel knows it.
  static std::string client_name(int pid) {
    std::string name;
    std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/comm"), name);
    return name.empty() ? "pid " + std::to_string(pid) : name;
  }

  // Refused here, before the change goes out, when it makes the watchdog settings unsafe with this
  // node's corosync.conf (lease_settings.h says why here). A change that does not apply is left
  // to the replica, which names what is wrong.
  Result<void> lease_safe(const cib::CibOp& op) const {
    const auto& now = part().replica().current();
    auto next = cib::apply(now, op);
    if (!next.ok()) return {};
    auto safe = check_change(host_.config(), now, *next);
    if (!safe.ok()) return fail("cib_commit: " + safe.error().message);
    return {};
  }

  void view_changed(const ClusterView&) override {}  // the node joins the CIB group itself

  void add_status(Json& status) const override {
    const auto& replica = part().replica();
    status["cib"] = Json{{"version", replica.current().version().str()},
                         {"durable", current().version().str()},
                         {"synced", replica.synced()},
                         {"digest", replica.digest()},
                         {"members", replica.members().size()}};
  }

  void stop() override {}  // the node answers its clients when it leaves; flush() writes the rest

 private:
  const node::CibPart& part() const {
    const auto* cib = host_.core().cib();
    VIGIL_ASSERT(cib != nullptr);  // vigild's node always keeps the CIB
    return *cib;
  }

  void written(std::uint64_t number, Result<cib::Cib> w) {
    node::Durable d{number, nullptr, std::nullopt, transport::monotonic_now()};
    if (w.ok()) {
      d.written = std::make_shared<const cib::Cib>(std::move(*w));
    } else {
      d.failed = w.error();
    }
    host_.step(d);
  }

  Host& host_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  CibWriter writer_;
  std::vector<Listener> listeners_;
  std::map<std::uint64_t, Done> waiting_;  // by ticket
  std::uint64_t tickets_ = 0;
};

}  // namespace

cib::Cib load_cib(const Options& options, spdlog::logger& log) {
  const auto file = cib_file(options);
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

std::unique_ptr<CibService> make_cib_service(Host& host) {
  return std::make_unique<CibServiceImpl>(host);
}

}  // namespace vigil::daemon
