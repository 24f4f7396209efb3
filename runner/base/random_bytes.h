// Random bytes from the kernel's generator (getentropy), for keys and tokens the runner makes at
// start and per job. Not OpenSSL's RAND_bytes: its first call loads OpenSSL's providers and
// random generators (milliseconds), which `exec` does on a warm-up thread instead
// (proxy/tls_warmup.h); a secret made before that finished waited for it.
#pragma once

#include <cstddef>

namespace nixjail::base {

// Fills `out` with `size` random bytes; throws SysError when the kernel gives none.
void randomBytes(void* out, std::size_t size);

}  // namespace nixjail::base
