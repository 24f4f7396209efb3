// HttpServer: a listening socket, one io thread and a coroutine per connection (serveConnection)
// handing every request to one handler. The runner's own HTTP services (the actions/cache and
// artifact servers) each own one, declared last so that it stops before what its handler uses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "runner/cache_server/http_connection.h"

namespace nixjail::runner::cache_server {

class HttpServer {
  public:
    // Listens on bind_address:port (0: any free port) and starts serving; `what` names the service
    // in errors ("the actions cache server"). Throws base::Error when it cannot listen.
    HttpServer(const std::string& what, const std::string& bind_address, std::uint16_t port,
               RequestHandler handler, std::function<void(std::uint64_t)> on_file_bytes = {});
    ~HttpServer();  // stops the io thread; connections still open are dropped
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    std::uint16_t port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::cache_server
