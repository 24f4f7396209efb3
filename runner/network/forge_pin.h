// A forge on the runner's own host (http://localhost:3000, http://127.0.0.1:3000) is a service the
// runner trusts, like its cache server: jobs reach it through their proxy by a pin of its address
// and port (proxy host_overrides), which the proxy's refusal of the runner's host lets through.
// A forge named by DNS needs no pin; one whose name resolves to the runner's host needs one in
// the runner's configuration.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace nixjail::runner::network {

// {host as jobs name it, "IP:PORT"} for a server_url whose host is "localhost" or an IP address
// literal (the port defaults to the scheme's), or nothing.
std::optional<std::pair<std::string, std::string>> forgeHostPin(const std::string& server_url);

}  // namespace nixjail::runner::network
