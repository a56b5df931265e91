// The history service: this node's journal of cluster events (history/history.h derives them) and
// the control command history_query {since?, resource?, node?} → {events: […]}.
//
// Per node, not replicated: each node journals what it saw — the CIB changes every member agrees
// on, and the membership and quorum as its own partition saw them. After a split the two sides'
// accounts differ, and that difference is what a post-mortem needs (crm history gathers every
// node's logs for the same reason); a replicated journal would go quiet exactly while the ring is
// down, and its writes would compete with the CIB's for the ring.
//
// Bounded: the file state-dir/history.jsonl holds one event per line and is renamed to
// history.jsonl.1 (replacing the older one) once it passes kFileBytes, so at most twice that is on
// disk; memory keeps the newest kEvents, read back from both files at start, and queries are
// answered from memory. Lines are appended on a thread of their own, so the loop (which arms the
// totem timers) never waits on the disk; they are not fsynced: a power loss may lose the last
// few, and a torn last line is skipped when read.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/file.h"
#include "daemon/history_service.h"
#include "history/history.h"
#include "metrics/timings.h"
#include "transport/links.h"

namespace vigil::daemon {

namespace {

namespace fs = std::filesystem;

constexpr std::uintmax_t kFileBytes = 1 << 20;
constexpr std::size_t kEvents = 10000;

// Appends lines to the journal file on its own thread, rotating it past kFileBytes.
class JournalFile {
 public:
  explicit JournalFile(fs::path path) : path_(std::move(path)), thread_([this] { run(); }) {}
  ~JournalFile() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;

  void append(std::string line) {
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(line));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, everything written
      auto lines = std::move(pending_);
      pending_.clear();
      lock.unlock();
      write(lines);
      lock.lock();
    }
  }
  void write(const std::deque<std::string>& lines) {
    std::error_code ec;
    if (fs::file_size(path_, ec) > kFileBytes && !ec)
      fs::rename(path_, fs::path(path_.string() + ".1"), ec);
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    for (const auto& l : lines) out << l << '\n';
  }

  const fs::path path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> pending_;  // guarded by mutex_
  bool stopping_ = false;            // guarded by mutex_
  std::thread thread_;
};

class HistoryJournal final : public HistoryService {
 public:
  HistoryJournal(Host& host, CibAccess& cib)
      : host_(host),
        log_(host.log("HISTORY")),
        path_(fs::path(host.options().state_dir) / "history.jsonl"),
        journal_(kEvents) {
    load();
    file_.emplace(path_);
    cib.on_change([this](const node::CibChanged& change) { cib_changed(change); });
  }

  std::vector<std::string> commands() const override { return {"history_query"}; }
  void answer(const control::Request& request, const control::PeerCredentials&,
              control::Server::Reply reply) override {
    const auto* query = std::get_if<control::HistoryQuery>(&request);
    VIGIL_ASSERT(query != nullptr);  // the daemon hands this service only its own command
    reply(history::query_answer(journal_, {query->since_ms, query->resource, query->node}));
  }
  void view_changed(const ClusterView& view) override {
    history::View now{{}, view.quorate};
    for (const auto id : view.members) now.members.push_back(name_of(id));
    auto events = history::view_events(view_, now, wall_clock_ms());
    for (auto& e : events)
      if (e.what == history::kind::kLost) e.last_heard_ms = last_heard_wall(e.node);
    record(events);
    view_ = std::move(now);
    for (const auto id : members_) {
      if (!std::binary_search(view.members.begin(), view.members.end(), id)) peer_lost(id);
    }
    members_ = view.members;
  }
  void add_status(Json& status) const override {
    status["history"] = Json{{"events", journal_.size()}, {"file", path_.string()}};
  }
  void stop() override {}  // the file's thread writes what is pending when the service goes
  void record(const history::Event& event) override { record(std::vector{event}); }

 private:
  // Both files, older first, as written: a start after a crash continues the same account.
  void load() {
    std::size_t skipped = 0;
    for (const auto& p : {fs::path(path_.string() + ".1"), path_}) {
      std::error_code ec;
      if (!fs::exists(p, ec)) continue;  // a first start, or no rotation yet
      auto text = read_file(p.string());
      if (!text) {
        log_->warn("{}; the events it held are left out of the history", text.error().message);
        continue;
      }
      auto decoded = history::decode_journal(*text);
      skipped += decoded.skipped;
      for (auto& e : decoded.events) journal_.add(std::move(e));
    }
    if (skipped > 0) log_->warn("{} line(s) of {} did not decode and were skipped", skipped,
                                path_.string());
  }

  // The first document this node holds is where its account starts: what it holds was done
  // before, perhaps while it was away.
  void cib_changed(const node::CibChanged& change) {
    if (!change.cib) return;
    if (cib_) record(history::cib_events(*cib_, *change.cib, wall_clock_ms()));
    cib_ = change.cib;
  }

  void record(const std::vector<history::Event>& events) {
    for (const auto& e : events) {
      log_->info("{}", e.detail);
      file_->append(history::encode(e));
      journal_.add(e);
      time(e);
    }
  }

  // A lost peer's resources are down since it was last heard; the failure detection took from
  // then to now.
  void peer_lost(std::uint32_t id) {
    const Millis now = transport::monotonic_now();
    const Millis heard = host_.last_heard(id);
    const auto resources =
        cib_ ? metrics::running_on(*cib_, name_of(id), wall_clock_ms()) : std::vector<std::string>{};
    host_.timings().peer_lost(heard == 0 ? now : heard, now, resources);
  }
  // A failed action is a fault of its resource; a start or promote that succeeded, its end.
  void time(const history::Event& e) {
    const Millis now = transport::monotonic_now();
    if (e.what == history::kind::kFailed) host_.timings().resource_failed(e.resource, now);
    if (e.what == history::kind::kAction && (e.task == "start" || e.task == "promote"))
      host_.timings().resource_running(e.resource, now);
  }

  // When the lost member `name` was last heard on any link, on the wall clock; 0: never.
  std::int64_t last_heard_wall(const std::string& name) const {
    for (const auto id : members_) {
      if (name_of(id) != name) continue;
      const Millis heard = host_.last_heard(id);
      return heard == 0 ? 0 : wall_clock_ms() - (transport::monotonic_now() - heard);
    }
    return 0;
  }

  // As the status answer names it: its nodelist name, else its ring0_addr.
  std::string name_of(std::uint32_t id) const {
    if (id == host_.node_id()) return host_.node_name();
    for (const auto& n : host_.config().nodelist)
      if (n.nodeid == id) return n.name.empty() ? n.ring_addr[0] : n.name;
    return std::to_string(id);
  }

  Host& host_;
  std::shared_ptr<spdlog::logger> log_;
  const fs::path path_;
  history::Journal journal_;
  std::optional<JournalFile> file_;
  std::shared_ptr<const cib::Cib> cib_;
  std::optional<history::View> view_;
  std::vector<std::uint32_t> members_;  // the ring's, sorted, as last seen
};

}  // namespace

std::unique_ptr<HistoryService> make_history_service(Host& host, CibAccess& cib) {
  return std::make_unique<HistoryJournal>(host, cib);
}

}  // namespace vigil::daemon
