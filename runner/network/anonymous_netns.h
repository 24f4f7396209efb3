// An anonymous network namespace, held only by an fd: no name under /run/netns, so nothing is
// left behind when the runner crashes (the namespace dies with its last fd or process).
#pragma once

#include "runner/base/unique_fd.h"

namespace nixjail::runner::network {

// Creates a new network namespace with only its loopback device, up. The calling thread
// unshare()s into it, brings lo up, opens /proc/thread-self/ns/net and returns to its own
// namespace (base::ThreadNetns). Throws SysError (needs CAP_SYS_ADMIN, i.e. a root runner).
base::UniqueFd createAnonymousNetns();

}  // namespace nixjail::runner::network
