// The test-only jail root (see test_root.h).
#include "executor/namespace/test_root.h"

#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::executor::testing {

namespace fs = std::filesystem;

TestRoot::TestRoot(const NamespaceExecutor& executor) : dir_("nixjail-testroot-") {
    if (::chmod(dir_.path().c_str(), 0755) != 0) throw base::SysError("chmod test root");
    root_ = dir_.path() / "root";
    workspace_ = dir_.path() / "workspace";
    fs::create_directories(root_ / "etc");
    fs::create_directories(workspace_);
    base::writeFile(
        root_ / "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000:builder:/workspace:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    base::writeFile(root_ / "etc/group", "root:x:0:\nbuilder:x:1000:\nnogroup:x:65534:\n");
    base::writeFile(root_ / "etc/hosts", "127.0.0.1 localhost\n");
    for (const char* top : {"usr", "bin", "lib", "lib64", "sbin"}) {
        fs::path host = fs::path("/") / top;
        std::error_code ec;
        auto st = fs::symlink_status(host, ec);
        if (ec || !fs::exists(st)) continue;
        if (fs::is_symlink(st)) {
            fs::create_symlink(fs::read_symlink(host), root_ / top);
        } else if (fs::is_directory(st)) {
            system_binds_.push_back({.host = host, .jail = host, .writable = false});
        }
    }
    if (::chown(workspace_.c_str(), executor.stepHostUid(), executor.stepHostGid()) != 0) {
        throw base::SysError("chown test workspace");
    }
}

JailSpec TestRoot::spec(const std::string& job_id) const {
    JailSpec spec;
    spec.job_id = job_id;
    spec.root = root_;
    spec.binds = system_binds_;
    spec.binds.push_back({.host = workspace_, .jail = "/workspace", .writable = true});
    spec.limits.memory_max_bytes = 512ull << 20;
    spec.limits.pids_max = 256;
    spec.limits.wall_time = std::chrono::seconds(60);
    return spec;
}

std::string jailUnavailableReason() {
    if (::geteuid() != 0)
        return "needs root: the live jail maps a dedicated host uid range and creates cgroups";
    // Probe a user namespace in a throwaway child so the test process itself is not changed.
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : errno);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::string(
                   "needs user namespaces: unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID) "
                   "failed: ") +
               std::strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL);
    }
    std::error_code ec;
    if (!fs::exists("/sys/fs/cgroup/memory/cgroup.procs", ec) &&
        !fs::exists("/sys/fs/cgroup/cgroup.controllers", ec)) {
        return "needs cgroups: neither /sys/fs/cgroup/memory (v1) nor a cgroup2 mount at "
               "/sys/fs/cgroup";
    }
    return {};
}

}  // namespace nixjail::executor::testing
