// containers: resources that run inside another (meta container=ID, Pacemaker's "fillers") live
// and die with it: placed with it, started after it, stopped before it.
#pragma once

#include "scheduler/model.h"

namespace vigil::scheduler {

// The resource r's container meta attribute names, or nullptr (also for a resource placed by name
// in a guest's container, which vigil does not model yet).
Resource* container_of(const Working& w, const Resource& r);

// A primitive's meta remote-node makes it the container of a guest node of that name: as
// Pacemaker does, an ocf:pacemaker:remote primitive of the guest's name (meta container = the
// primitive) is appended to `into`, with the address, port and timeouts the other remote-* metas
// give. Returns the guest's name, or "" for a primitive without remote-node.
std::string add_guest_connection(pugi::xml_document& into, pugi::xml_node primitive);

}  // namespace vigil::scheduler
