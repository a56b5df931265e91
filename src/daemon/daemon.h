// daemon: vigild's shell. It owns every piece of I/O — sockets, timers, child processes, files,
// signals — and feeds the pure cores (totem, quorum, cib, scheduler, controller) their inputs,
// carrying out the effects they return.
#pragma once

namespace vigil::daemon {

int main(int argc, char** argv);

}  // namespace vigil::daemon
