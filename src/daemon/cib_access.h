// cib_access: the replicated CIB as the services inside vigild see it. The node core's CIB part
// (node/cib_part.h, which says what is guaranteed) keeps every node's copy identical; the CIB
// service is its shell: the writer thread, the control commands, and the routing of answers.
// Other services (the controller) read the agreed document, commit changes through the ring and
// hear of its changes in ring order, each once it is on this node's disk.
#pragma once

#include <functional>
#include <memory>

#include "cib/cib.h"
#include "cib/op.h"
#include "common/common.h"
#include "daemon/service.h"
#include "node/cib_part.h"

namespace vigil::daemon {

class CibAccess {
 public:
  using Listener = std::function<void(const node::CibChanged& change)>;
  using Done = std::function<void(Result<cib::Cib> applied)>;
  virtual ~CibAccess() = default;
  // False until this node holds the cluster's agreed CIB (after it joined and the copies were
  // reconciled); current() is then the newest document every member of the group held that is on
  // this node's disk.
  virtual bool synced() const = 0;
  virtual const cib::Cib& current() const = 0;
  // Sends `op` through the ring. `done` runs on the loop once the op was delivered, applied and
  // written to disk here (with the new document), refused everywhere (the error names the
  // change), or applied but not saved here (the error names the node and the cause).
  virtual void commit(cib::CibOp op, Done done) = 0;
  // `listener` runs after every change of current() (an op applied, a reconciliation, once on
  // disk) or of synced(), in ring order, on every node. A document written over before it reached
  // the disk is skipped: the listener hears of the newer one, which holds its changes.
  virtual void on_change(Listener listener) = 0;
};

class CibService : public Service, public CibAccess {
 public:
  // The node's CIB outputs, carried out in node.h's order.
  virtual void persist(node::CibPersist request) = 0;
  virtual void changed(const node::CibChanged& change) = 0;
  virtual void replied(node::CibReply reply) = 0;
  // After the node left the ring: writes the newest pending document, then ends the writer. Its
  // report still reaches the node (posted), answering the clients that wait for the disk.
  virtual void flush() = 0;
};

std::unique_ptr<CibService> make_cib_service(Host& host);

// The newest valid copy in the state dir, or an empty CIB (logged either way): the node's start.
cib::Cib load_cib(const Options& options, spdlog::logger& log);

}  // namespace vigil::daemon
