// Creating the proxy's listening socket, optionally inside another network namespace.
#pragma once

#include <cstdint>
#include <string>

#include "runner/base/unique_fd.h"

namespace nixjail::proxy {

// A bound, listening TCP socket (close-on-exec, non-blocking). With netns_fd >= 0 the calling
// thread setns()es into that namespace, creates and binds the socket there and returns to its own;
// the socket keeps belonging to that namespace while this process serves it. Throws SysError.
base::UniqueFd createListenSocket(int netns_fd, const std::string& address, std::uint16_t port);

}  // namespace nixjail::proxy
