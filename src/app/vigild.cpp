// `vigild`: the per-node daemon.
#include "daemon/daemon.h"

int main(int argc, char** argv) { return vigil::daemon::main(argc, argv); }
