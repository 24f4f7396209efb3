// MetricsServer: a small HTTP/1.1 server answering GET /metrics with Metrics::render(), on its
// own thread. Destroying it stops the thread and closes the socket.
#pragma once

#include <memory>
#include <string>

#include "runner/daemon/metrics.h"

namespace nixjail::runner::daemon {

class MetricsServer {
  public:
    // address: "host:port" (port 0 picks a free one). Throws base::Error when it cannot listen.
    MetricsServer(const std::string& address, const Metrics& metrics);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    int port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::daemon
