// getentropy in the pieces it takes (256 bytes at most per call, on Linux and macOS alike).
#include "runner/base/random_bytes.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "runner/base/error.h"

namespace nixjail::base {

void randomBytes(void* out, std::size_t size) {
    auto* p = static_cast<unsigned char*>(out);
    while (size > 0) {
        const std::size_t n = std::min<std::size_t>(size, 256);
        if (::getentropy(p, n) != 0) throw SysError("getting " + std::to_string(n) + " random bytes from the kernel");
        p += n;
        size -= n;
    }
}

}  // namespace nixjail::base
