// PortForwards: `ports: ["8080:80"]` of a service, in the job's network namespace: connections to
// 127.0.0.1:8080 there reach the service's 127.0.0.1:80. One thread lives in the namespace and
// accepts; each connection is copied both ways by a thread of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::engine {

class PortForwards {
  public:
    // Listens on every host port; throws base::Error (a port already taken in the namespace).
    PortForwards(int netns_fd, std::vector<std::pair<std::uint16_t, std::uint16_t>> forwards);
    // Closes the listeners and every connection, and joins the threads.
    ~PortForwards();
    PortForwards(const PortForwards&) = delete;
    PortForwards& operator=(const PortForwards&) = delete;

  private:
    void accept();
    void copy(base::UniqueFd a, base::UniqueFd b);

    std::vector<std::pair<std::uint16_t, std::uint16_t>> forwards_;
    std::vector<base::UniqueFd> listeners_;
    base::Pipe wake_ = base::Pipe::create();
    std::mutex mu_;
    std::vector<int> open_;  // connections being copied, shut down at the end
    std::vector<std::thread> copiers_;
    std::thread acceptor_;
};

}  // namespace nixjail::runner::engine
