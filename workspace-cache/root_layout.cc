// What goes into a job root besides the closure: /etc, the CA slot, shell links, mount points.
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "workspace-cache/root_cache.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

constexpr uid_t kRunnerUid = 1000;

void makeDir(const fs::path& path, mode_t mode, uid_t uid = 0) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw base::Error("cannot create '" + path.string() + "' in job root: " + ec.message());
    if (::chmod(path.c_str(), mode) != 0)
        throw base::SysError("cannot chmod '" + path.string() + "'");
    if (uid != 0 && ::geteuid() == 0 && ::chown(path.c_str(), uid, uid) != 0)
        throw base::SysError("cannot chown '" + path.string() + "'");
}

void makeLink(const fs::path& tree, const fs::path& at, const std::string& target) {
    makeDir((tree / at.relative_path()).parent_path(), 0755);
    if (::symlink(target.c_str(), (tree / at.relative_path()).c_str()) != 0)
        throw base::SysError("cannot link '" + at.string() + "' to '" + target + "' in job root");
}

// The first closure path (in sorted order) that provides `rel`, e.g. "bin/sh".
std::string findInClosure(const fs::path& tree, const std::vector<std::string>& closure,
                          const char* rel) {
    std::error_code ec;
    for (const auto& p : closure)
        if (fs::exists(tree / fs::path(p).relative_path() / rel, ec)) return p + "/" + rel;
    return {};
}

void writeEtc(const fs::path& tree) {
    fs::path etc = tree / "etc";
    makeDir(etc / "ssl" / "certs", 0755);
    base::writeFile(etc / "passwd",
                    "root:x:0:0:root:/root:/bin/sh\n"
                    "runner:x:1000:1000:CI runner:/home/runner:/bin/sh\n"
                    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    base::writeFile(etc / "group", "root:x:0:\nrunner:x:1000:\nnogroup:x:65534:\n");
    base::writeFile(etc / "hosts", "127.0.0.1 localhost\n::1 localhost\n");
    base::writeFile(etc / "nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");
    // No nameserver on purpose: jobs reach the network only through the runner's proxy, which
    // resolves names itself.
    base::writeFile(etc / "resolv.conf",
                    "# no DNS servers: jobs use the HTTP(S) proxy\noptions attempts:1 timeout:1\n");
    // The slot the runner fills (or binds over) with the proxy's CA for each job.
    base::writeFile(tree / kCaBundlePath, "");
}

}  // namespace

void buildRootTree(Storage& storage, const fs::path& tree,
                   const std::vector<std::string>& closure) {
    for (const auto& p : closure) {
        fs::path store_path(p);
        if (!store_path.is_absolute() || store_path.filename().empty())
            throw base::Error("invalid store path '" + p +
                              "' in closure: expected an absolute path");
        makeDir((tree / store_path.relative_path()).parent_path(), 0755);
        storage.copyIn(store_path, tree / store_path.relative_path());
    }
    std::string shell = findInClosure(tree, closure, "bin/sh");
    if (shell.empty()) shell = findInClosure(tree, closure, "bin/bash");
    if (shell.empty())
        throw base::Error("closure of " + std::to_string(closure.size()) +
                          " store paths has no shell (no bin/sh or bin/bash in any path); add bash "
                          "or busybox to the job's packages");
    makeLink(tree, "/bin/sh", shell);
    if (std::string env = findInClosure(tree, closure, "bin/env"); !env.empty())
        makeLink(tree, "/usr/bin/env", env);
    writeEtc(tree);
    for (const char* dir : {"proc", "dev", "sys", "run", "workspace", "root"})
        makeDir(tree / dir, 0755);
    makeDir(tree / "root", 0700);
    makeDir(tree / "tmp", 01777);
    makeDir(tree / "home" / "runner", 0755, kRunnerUid);
}

}  // namespace nixjail::cache
