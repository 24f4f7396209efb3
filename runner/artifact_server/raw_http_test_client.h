// For the artifact server's tests: one HTTP exchange over a loopback socket, and the parts of
// the answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nixjail::runner::artifact_server::testing {

// Sends `request` (which should say Connection: close) to 127.0.0.1:`port` and reads the whole
// answer; an empty string (and a test failure) when it cannot connect.
std::string raw(std::uint16_t port, std::string_view request);

// The status code of an answer, or -1.
int statusOf(const std::string& answer);

// What follows the answer's head.
std::string bodyOf(const std::string& answer);

}  // namespace nixjail::runner::artifact_server::testing
