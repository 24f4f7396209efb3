// The conversation between a kept job's keeper (the exec process that stays behind) and the
// `shell` and `kept` commands: one JSON request per connection on the job's unix socket, with the
// caller's stdin, stdout and stderr (or a terminal) passed along as fds; one JSON answer back.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::cli {

struct KeeperMessage {
    nlohmann::json body = nlohmann::json::object();
    std::vector<base::UniqueFd> fds;  // at most 3
};

// A listening socket at `path` (mode 0600; the directory must exist). Throws base::Error.
base::UniqueFd listenKeeperSocket(const std::filesystem::path& path);
// Connects to the keeper at `path`; an invalid fd when nobody listens there (the keeper is gone).
// Throws base::Error for other failures (a path too long for a unix socket).
base::UniqueFd connectKeeper(const std::filesystem::path& path);

// One message: the JSON on one line, the fds with its first byte. Throws base::Error.
void sendKeeperMessage(int socket, const nlohmann::json& body, const std::vector<int>& fds = {});
// The next message; throws base::Error at EOF before a whole line, or for bad JSON.
KeeperMessage receiveKeeperMessage(int socket);

}  // namespace nixjail::runner::cli
