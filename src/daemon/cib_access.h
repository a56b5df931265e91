// cib_access: the replicated CIB as the services inside vigild see it. The CIB service (one per
// node) keeps every node's copy identical by applying each change in the ring's delivery order;
// other services (the controller) read the agreed document, commit changes through the ring and
// hear of its changes in that same order, each once it is on this node's disk (cib_service.cpp
// says what is guaranteed).
#pragma once

#include <functional>
#include <memory>

#include "cib/cib.h"
#include "cib/op.h"
#include "common/common.h"
#include "daemon/service.h"

namespace vigil::daemon {

class CibAccess {
 public:
  using Listener = std::function<void(const cib::Cib& cib)>;
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
  // disk), in ring order, on every node. A document written over before it reached the disk is
  // skipped: the listener hears of the newer one, which holds its changes.
  virtual void on_change(Listener listener) = 0;
};

class CibService : public Service, public CibAccess {};

std::unique_ptr<CibService> make_cib_service(Host& host);

// The controller: DC election, transitions, the local executor. Uses the CIB service.
std::unique_ptr<Service> make_controller_service(Host& host, CibAccess& cib);

}  // namespace vigil::daemon
