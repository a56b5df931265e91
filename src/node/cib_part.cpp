#include "node/cib_part.h"

namespace vigil::node {

CibPart::CibPart(totem::NodeId self, CibSettings settings)
    : pid_(settings.pid),
      node_id_(std::to_string(self)),
      node_name_(std::move(settings.node_name)),
      replica_(groups::Member{self, settings.pid}, std::move(settings.initial)),
      durable_(std::make_shared<const cib::Cib>(replica_.current())) {}

CibStep CibPart::commit(const CibCommit& c) {
  CibStep step;
  if (stopped_) {
    step.replies.push_back(CibReply{c.ticket, fail("the CIB service is stopping")});
    return step;
  }
  const auto request = ++requests_;
  waiting_[request] = c.ticket;
  carry_out(replica_.commit(request, c.op), step);
  return step;
}

CibStep CibPart::event(const groups::GroupEvent& e) {
  CibStep step;
  if (stopped_) return step;
  if (const auto* change = std::get_if<groups::GroupChange>(&e)) {
    carry_out(replica_.change(*change), step);
  } else {
    carry_out(replica_.message(std::get<groups::GroupMessage>(e)), step);
  }
  return step;
}

CibStep CibPart::durable(const Durable& d) {
  CibStep step;
  written(d, step);
  return step;
}

CibStep CibPart::stop() {
  CibStep step;
  if (stopped_) return step;
  stopped_ = true;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [request, ticket] : waiting)
    answer(ticket, fail("vigild is stopping; the change may not apply"), step);
  return step;
}

std::optional<CibPersist> CibPart::persist() {
  if (!persist_due_) return std::nullopt;
  persist_due_ = false;
  return CibPersist{handed_, replica_.current()};
}

CibStep CibPart::retry(Millis now) {
  CibStep step;
  if (!retry_at_ || now < *retry_at_) return step;
  retry_at_.reset();
  if (stopped_ || !unsaved_ || !unwritten_.empty()) return step;
  step.info.push_back("writing CIB " + replica_.current().version().str() +
                      " again after the failed write");
  hand_to_writer();
  return step;
}

void CibPart::inject_ack_before_durable() {
  ack_before_durable_ = true;
}

void CibPart::carry_out(cib::ReplicaOutput out, CibStep& step) {
  for (auto& line : out.log) step.info.push_back(std::move(line));
  for (auto& line : out.warn) step.warn.push_back(std::move(line));
  if (out.adopted) replaced(step);
  if (out.changed) {
    hand_to_writer();
  } else {
    follow_synced(step);
  }
  for (auto& bytes : out.send) step.send.push_back(std::move(bytes));
  for (auto& o : out.done) outcome(std::move(o), step);
  enter_own_node(step);
}

// Durable first: a change is answered once its document (or a newer one) is reported written.
void CibPart::outcome(cib::Outcome o, CibStep& step) {
  auto it = waiting_.find(o.request);
  if (it == waiting_.end()) return;
  const auto ticket = it->second;
  waiting_.erase(it);
  if (!o.result.ok()) {
    step.info.push_back("change refused: " + o.result.error().message);
    answer(ticket, std::move(o.result), step);
  } else if (unwritten_.empty() || ack_before_durable_) {  // every document handed over is settled
    answer(ticket, unsaved_ ? Result<cib::Cib>(*unsaved_) : std::move(o.result), step);
  } else {
    held_.push_back(Held{handed_, ticket, std::move(o.result)});
  }
}

// A reconciliation kept another member's document: the changes applied here and not yet durable
// may not be in it, so none is answered OK (its own document will not be written).
void CibPart::replaced(CibStep& step) {
  auto held = std::move(held_);
  held_.clear();
  for (auto& h : held) {
    answer(h.ticket,
           fail("the change was applied as CIB " + h.result->version().str() + ", then " +
                node_name_ + " adopted the cluster's CIB " +
                replica_.current().version().str() +
                " in a reconciliation before it was saved; it may be lost (check, and make it "
                "again)"),
           step);
  }
}

void CibPart::answer(std::optional<std::uint64_t> ticket, Result<cib::Cib> result, CibStep& step) {
  if (ticket) {
    step.replies.push_back(CibReply{*ticket, std::move(result)});
    return;
  }
  entering_ = false;  // this node's own entry
  if (result.ok()) {
    attempts_ = 0;
  } else {
    step.warn.push_back("cannot enter this node in the CIB's node list: " +
                        result.error().message);
  }
}

void CibPart::hand_to_writer() {
  VIGIL_ASSERT(!stopped_);  // nothing is fed to the replica once stopped
  ++handed_;
  retry_at_.reset();  // this document's report settles the failure, or sets a new retry
  unwritten_.push_back(
      Unwritten{handed_, replica_.current().version().str(), replica_.synced()});
  persist_due_ = true;
}

// The replica's synced flag moved without a new document (every copy was equal, or the group
// lost this node): it goes with the newest document not yet written, else with the one shown.
void CibPart::follow_synced(CibStep& step) {
  const bool before = durable_synced_;
  if (!unwritten_.empty()) {
    unwritten_.back().synced = replica_.synced();
  } else if (!unsaved_) {
    durable_synced_ = replica_.synced();  // durable_ is the replica's document
  }
  if (!replica_.synced()) durable_synced_ = false;  // a stale view is never claimed agreed
  if (durable_synced_ != before) tell(step);
}

// The report for `number`: every document handed over up to it is settled.
void CibPart::written(const Durable& d, CibStep& step) {
  Unwritten mine;
  while (!unwritten_.empty() && unwritten_.front().number <= d.number) {
    mine = std::move(unwritten_.front());
    unwritten_.pop_front();
  }
  VIGIL_ASSERT(mine.number == d.number);  // the shell reports only numbers it was handed
  VIGIL_ASSERT(d.failed.has_value() != (d.written != nullptr));
  if (!d.failed) {
    unsaved_.reset();
    retry_at_.reset();
    durable_ = d.written;
    durable_synced_ = mine.synced && replica_.synced();
  } else {
    unsaved_ = fail("the change was applied by the cluster as CIB " + mine.version +
                    " but could not be saved on " + node_name_ + " (" + d.failed->message +
                    "); it is not durable there");
    step.error.push_back(unsaved_->message);
    if (unwritten_.empty() && !stopped_ && !no_write_retry_) retry_at_ = d.now + kWriteRetry;
  }
  while (!held_.empty() && held_.front().number <= d.number) {
    auto held = std::move(held_.front());
    held_.pop_front();
    const bool refused = unsaved_ && !ack_failed_write_;
    answer(held.ticket, refused ? Result<cib::Cib>(*unsaved_) : std::move(held.result), step);
  }
  if (!d.failed && !stopped_) tell(step);
}

void CibPart::tell(CibStep& step) {
  step.notices.push_back(CibChanged{durable_, durable_synced_});
}

// As Pacemaker's controller does, every member enters itself in the configuration's node list
// once it holds the agreed CIB.
void CibPart::enter_own_node(CibStep& step) {
  if (entering_ || stopped_ || !replica_.synced() || attempts_ >= kEnterAttempts) return;
  const auto entry = replica_.current().configuration().child("nodes").find_child_by_attribute(
      "node", "id", node_id_.c_str());
  if (entry && node_name_ == entry.attribute("uname").value()) return;
  pugi::xml_document doc;
  auto nodes = doc.append_child("nodes");
  auto node = nodes.append_child("node");
  node.append_attribute("id") = node_id_.c_str();
  node.append_attribute("uname") = node_name_.c_str();
  if (!entry) node.append_attribute("type") = "member";
  entering_ = true;
  ++attempts_;
  cib::CibOp op;
  op.changes.push_back(
      cib::CibChange::modify("/cib/configuration/nodes", cib::element_xml(nodes)));
  const auto request = ++requests_;
  waiting_[request] = std::nullopt;
  carry_out(replica_.commit(request, std::move(op)), step);
}

void CibPart::check_invariants() const {
  replica_.check_invariants();
  VIGIL_ASSERT(durable_ != nullptr);
  VIGIL_ASSERT(held_.empty() || !unwritten_.empty());  // a held answer waits for a handed write
  for (std::size_t i = 0; i < unwritten_.size(); ++i) {
    VIGIL_ASSERT(unwritten_[i].number <= handed_);
    VIGIL_ASSERT(i == 0 || unwritten_[i - 1].number < unwritten_[i].number);
  }
  for (const auto& h : held_) VIGIL_ASSERT(h.number <= handed_);
  VIGIL_ASSERT(!stopped_ || waiting_.empty());
  VIGIL_ASSERT(!retry_at_ || (unsaved_ && unwritten_.empty()));
}

}  // namespace vigil::node
