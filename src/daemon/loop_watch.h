// loop_watch: a service that measures how long one piece of work held vigild's loop (the thread
// that arms the totem timers) and shows it in `status` as "loop" (loop_watch.cpp says how).
#pragma once

#include <memory>

#include "daemon/service.h"

namespace vigil::daemon {

std::unique_ptr<Service> make_loop_watch(Host& host);

}  // namespace vigil::daemon
