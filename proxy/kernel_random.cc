// A RAND_METHOD over getrandom(2). RAND_METHOD is deprecated in OpenSSL 3 but still consulted
// first by RAND_bytes and RAND_priv_bytes (their _ex forms included), for every library context.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "proxy/kernel_random.h"

#include <openssl/rand.h>
#include <sys/random.h>

#include <cerrno>
#include <mutex>

namespace nixjail::proxy {

namespace {

int kernelBytes(unsigned char* buf, int num) {
    while (num > 0) {
        const ssize_t got = ::getrandom(buf, static_cast<size_t>(num), 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return 0;  // RAND_bytes fails; its callers report it
        }
        buf += got;
        num -= static_cast<int>(got);
    }
    return 1;
}

int alwaysSeeded() { return 1; }

const RAND_METHOD kKernelRandom = {
    .seed = nullptr,
    .bytes = kernelBytes,
    .cleanup = nullptr,
    .add = nullptr,
    .pseudorand = kernelBytes,
    .status = alwaysSeeded,
};

}  // namespace

void useKernelRandomness() {
    static std::once_flag once;
    std::call_once(once, [] { RAND_set_rand_method(&kKernelRandom); });
}

}  // namespace nixjail::proxy
