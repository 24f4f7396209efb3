// SslError: an OpenSSL failure; the message ends with the drained OpenSSL error queue.
#pragma once

#include <string>

#include "runner/base/error.h"

namespace nixjail::proxy {

class SslError : public base::Error {
  public:
    explicit SslError(const std::string& what);
};

// The queued OpenSSL errors as one line ("" when empty); clears the queue.
std::string drainSslErrors();

}  // namespace nixjail::proxy
