// store: where the CIB lives for a client such as `vigil configure`. Today a file (FileCibStore in
// cib_io.h, like Pacemaker's tools with CIB_file=…); later the daemon, reached over its control
// socket, which applies the op through the message API on every node. The commands only see this
// interface, so plugging the daemon in changes no command.
#pragma once

#include <string>
#include <vector>

#include "cib/cib.h"
#include "cib/op.h"

namespace vigil::cib {

class CibStore {
 public:
  virtual ~CibStore() = default;
  // The current CIB.
  virtual Result<Cib> read() = 0;
  // Applies `op` to the current CIB all-or-nothing and makes the result durable (or, for the
  // daemon, agreed by the cluster). An op with a base version is refused if the CIB moved on.
  virtual Result<Cib> commit(const CibOp& op) = 0;
  // Events worth logging that happened while reading (a corrupt copy skipped, a missing digest).
  virtual std::vector<std::string> take_notes() = 0;
  // Names the store in messages: a file path, or the daemon's socket.
  virtual std::string name() const = 0;
};

// Whether a CIB file that is not there (nor any backup of it) may stand for a new, empty CIB.
enum class MissingCib {
  empty,    // it may: a command that writes creates the file
  refused,  // it may not: reading a file the user named, as Pacemaker's tools refuse one
};

}  // namespace vigil::cib
