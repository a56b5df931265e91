// validate: the rules of Pacemaker's schema that vigil relies on. Ids are unique within the
// configuration, references (rsc, with-rsc, first, then, resource_ref, id-ref, template) name
// elements that exist, and enumerated values (scores, roles, order kinds, op names, on-fail,
// resource classes) are known. Each problem names the element by tag and id.
#pragma once

#include <string>
#include <vector>

#include "cib/cib.h"

namespace vigil::cib {

// Every problem found, in document order; empty when the CIB is valid.
// A document with validate-with="none" skips the value checks, as Pacemaker skips its schema.
std::vector<std::string> problems(const Cib& cib);

// ok, or the problems joined one per line.
Result<void> validate(const Cib& cib);

// Scores as Pacemaker reads them: an integer, INFINITY, +INFINITY or -INFINITY.
bool is_score(std::string_view s);
bool is_role(std::string_view s);
bool is_order_kind(std::string_view s);
bool is_op_name(std::string_view s);
bool is_resource_class(std::string_view s);

}  // namespace vigil::cib
