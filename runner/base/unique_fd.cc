// Closing and creating descriptors.
#include "runner/base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include "runner/base/error.h"

namespace nixjail::base {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

void UniqueFd::close() {
    int fd = release();
    if (fd >= 0 && ::close(fd) != 0) throw SysError("closing file descriptor " + std::to_string(fd));
}

Pipe Pipe::create() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw SysError("creating pipe");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace nixjail::base
