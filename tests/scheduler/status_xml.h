// Status-section XML for the scheduler's tests, as the controller records it: one operation's
// record and one node's state holding a resource history.
#pragma once

#include <string>

namespace vigil::scheduler::test {

// The record of rsc's `task` (every `interval` ms; 0 for one-shot) as call `call`, which returned
// `rc` where the transition expected `target`.
inline std::string op(const std::string& rsc, const std::string& task, int interval, int call,
                      int rc, int target = 0) {
  const std::string key = "3:2:" + std::to_string(target) + ":aaaa";
  const std::string id = rsc + "_" + task + "_" + std::to_string(interval);
  return "<lrm_rsc_op id=\"" + id + "\" operation_key=\"" + id + "\" operation=\"" + task +
         "\" transition-key=\"" + key + "\" transition-magic=\"0:" + std::to_string(rc) + ";" +
         key + "\" call-id=\"" + std::to_string(call) + "\" rc-code=\"" + std::to_string(rc) +
         "\" op-status=\"0\" interval=\"" + std::to_string(interval) + "\"/>";
}

// An online member (id = uname) whose resource history is `lrm` (lrm_resource elements).
inline std::string node_state(const std::string& id, const std::string& lrm) {
  return "<node_state id=\"" + id + "\" uname=\"" + id +
         "\" in_ccm=\"true\" crmd=\"online\" join=\"member\" expected=\"member\"><lrm id=\"" + id +
         "\"><lrm_resources>" + lrm + "</lrm_resources></lrm></node_state>";
}

}  // namespace vigil::scheduler::test
