// Test-only: a plain HTTP/1.1 server on 127.0.0.1 that records every request it parses, the way a
// backend would (Transfer-Encoding: chunked, else Content-Length), and answers each with 200. The
// smuggling attacks point an allowed and a denied name at it through the proxy's pins: what it
// recorded is what reached the far side, hidden requests included.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::security_testing {

struct RecordedRequest {
    std::string method;
    std::string target;
    std::string host;  // the Host header, "" if none
    std::string head;  // the whole head as received
};

class RecordingUpstream {
  public:
    // Listens on 127.0.0.1 (any free port) and serves from a thread of its own.
    RecordingUpstream();
    ~RecordingUpstream();
    RecordingUpstream(const RecordingUpstream&) = delete;
    RecordingUpstream& operator=(const RecordingUpstream&) = delete;

    std::uint16_t port() const { return port_; }
    std::vector<RecordedRequest> requests() const;
    // Every byte any connection sent, in arrival order per connection.
    std::string rawBytes() const;

  private:
    void serve();
    // Parses the complete requests at the front of `buf`, records and answers them.
    void drain(int fd, std::string& buf);

    base::UniqueFd listener_;
    base::UniqueFd stop_read_, stop_write_;
    std::uint16_t port_ = 0;
    mutable std::mutex mu_;
    std::vector<RecordedRequest> requests_;
    std::string raw_;
    std::thread thread_;  // last: it starts once everything it uses exists
};

}  // namespace nixjail::security_testing
