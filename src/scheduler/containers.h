// containers: resources that run inside another (meta container=ID, Pacemaker's "fillers") live
// and die with it: placed with it, started after it, stopped before it.
#pragma once

#include "scheduler/model.h"

namespace vigil::scheduler {

// The resource r's container meta attribute names, or nullptr (also for a container that makes a
// guest node, which vigil does not model yet).
Resource* container_of(const Working& w, const Resource& r);

}  // namespace vigil::scheduler
