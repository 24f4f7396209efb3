// http::Server: a listening socket, one io thread and a coroutine per connection (serveConnection)
// handing every request to one handler. The runner's own HTTP services (the actions/cache and
// artifact servers, /metrics) each own one, declared last so that it stops before what its handler
// uses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "runner/base/error.h"
#include "runner/http/connection.h"

namespace nixjail::runner::http {

// The socket could not be opened, bound or put to listen; reason() is the system's reason alone,
// for a caller that words the message for its own setting.
class ListenError : public base::Error {
  public:
    ListenError(const std::string& what, std::string reason)
        : base::Error(what), reason_(std::move(reason)) {}
    const std::string& reason() const { return reason_; }

  private:
    std::string reason_;
};

class Server {
  public:
    // Listens on bind_address:port (0: any free port) and starts serving; `what` names the service
    // in errors ("the actions cache server"). Throws base::Error when bind_address is not an IP
    // address, ListenError when it cannot listen.
    Server(const std::string& what, const std::string& bind_address, std::uint16_t port,
           RequestHandler handler, std::function<void(std::uint64_t)> on_file_bytes = {});
    ~Server();  // stops the io thread; connections still open are dropped
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::uint16_t port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::http
