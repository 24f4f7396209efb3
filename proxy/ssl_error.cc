// Draining OpenSSL's thread-local error queue into messages.
#include "proxy/ssl_error.h"

#include <openssl/err.h>

namespace nixjail::proxy {

std::string drainSslErrors() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        out += std::string(out.empty() ? "" : "; ") + buf;
    }
    return out;
}

SslError::SslError(const std::string& what)
    : base::Error([&] {
          std::string queue = drainSslErrors();
          return queue.empty() ? what : what + ": " + queue;
      }()) {}

}  // namespace nixjail::proxy
