// The jail anchor of exec_bench and daemon_bench: `bash -c SCRIPT` in one bwrap call with the
// isolation a jail gives, every namespace new, an unprivileged id, the host's /usr read-only,
// fresh /proc, /dev and /tmp. No network set-up, no root filesystem of its own, no cgroup.
#pragma once

#include <string>
#include <vector>

namespace nixjail::bench {

inline std::vector<std::string> bwrapAnchor(const std::string& script) {
    return {"bwrap", "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000",
            "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr", "--symlink",
            "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--cap-drop", "ALL",
            "/bin/bash", "-c", script};
}

}  // namespace nixjail::bench
