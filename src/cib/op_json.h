// op_json: a CibOp as JSON, the form `cib_commit` takes on vigild's control socket:
//   {"changes": [{"kind": "create"|"modify"|"delete"|"replace", "address": "...", "xml": "..."}],
//    "base": "admin_epoch.epoch.num_updates", "target": "..."}     (base and target optional)
#pragma once

#include <nlohmann/json.hpp>

#include "cib/op.h"

namespace vigil::cib {

nlohmann::json op_to_json(const CibOp& op);
// Errors name the field: "changes[2].kind: unknown kind 'move'".
Result<CibOp> op_from_json(const nlohmann::json& json);
// "0.5.1" → Version; an error for anything else.
Result<Version> parse_version(const std::string& text);

}  // namespace vigil::cib
