// Mount planning (pure) and the async-signal-safe loop that applies the plan inside the jail.
// The caller's root is never written: it is the read-only lower layer of an overlay whose upper
// layer lives in a tmpfs on the staging directory, so mount points can be created freely. Binds
// and mount points are made after pivot_root, so absolute symlinks inside the root resolve in the
// jail and not on the host.
#include "executor/namespace/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "runner/base/error.h"

namespace nixjail::executor::ns {

namespace fs = std::filesystem;

namespace {

constexpr unsigned long kNoSuidDev = MS_NOSUID | MS_NODEV;

MountOp mkdirOp(std::string target, mode_t mode = 0755) {
    return {.kind = MountOpKind::kMkdir, .target = std::move(target), .mode = mode};
}

// mkdir for every missing ancestor of `path` (not `path` itself), parents first.
void addParents(std::vector<MountOp>& ops, std::set<std::string>& made, const fs::path& path) {
    fs::path acc = "/";
    auto parent = path.parent_path();
    for (const auto& part : parent.relative_path()) {
        acc /= part;
        if (made.insert(acc.string()).second) ops.push_back(mkdirOp(acc.string()));
    }
}

void addMountPoint(std::vector<MountOp>& ops, std::set<std::string>& made, const fs::path& path,
                   bool directory) {
    addParents(ops, made, path);
    if (!made.insert(path.string()).second) return;
    if (directory) {
        ops.push_back(mkdirOp(path.string()));
    } else {
        ops.push_back({.kind = MountOpKind::kTouch, .target = path.string(), .mode = 0644});
    }
}

void addBind(std::vector<MountOp>& ops, std::string source, std::string target,
             unsigned long flags) {
    ops.push_back({.kind = MountOpKind::kBind, .source = std::move(source), .target = target});
    ops.push_back({.kind = MountOpKind::kRemountBind, .target = std::move(target), .flags = flags});
}

bool isUnder(const fs::path& p, const char* top) {
    auto s = p.string();
    auto t = std::string(top);
    return s == t || s.rfind(t + "/", 0) == 0;
}

void checkBind(const PlannedBind& b) {
    if (!b.host.is_absolute() || !b.jail.is_absolute()) {
        throw base::Error("bind '" + b.host.string() + "' -> '" + b.jail.string() +
                          "': both paths must be absolute");
    }
    if (b.jail == "/" || isUnder(b.jail, "/proc") || isUnder(b.jail, "/dev") ||
        isUnder(b.jail, kOldRoot)) {
        throw base::Error("bind '" + b.host.string() + "' -> '" + b.jail.string() +
                          "': the jail owns '/', '/proc' and '/dev'; choose another jail path");
    }
}

std::string overlayOptions(const MountPlanInput& in) {
    for (const auto* p : {&in.root, &in.staging}) {
        if (p->string().find_first_of(",:\\") != std::string::npos) {
            throw base::Error("path '" + p->string() +
                              "' contains ',', ':' or '\\', which overlayfs options cannot carry; "
                              "use a plainer directory name");
        }
    }
    return "lowerdir=" + in.root.string() + ",upperdir=" + (in.staging / "upper").string() +
           ",workdir=" + (in.staging / "work").string() + ",userxattr";
}

}  // namespace

MountPlan planMounts(const MountPlanInput& in) {
    if (!in.root.is_absolute() || !in.staging.is_absolute()) {
        throw base::Error("jail root '" + in.root.string() + "' and staging '" +
                          in.staging.string() + "' must be absolute paths");
    }
    MountPlan plan;
    auto& pre = plan.before_pivot;
    const std::string stage = in.staging.string();
    plan.new_root = (in.staging / "root").string();
    plan.put_old = plan.new_root + kOldRoot;
    pre.push_back({.kind = MountOpKind::kTmpfs,
                   .source = "nixjail-stage",
                   .target = stage,
                   .data = "mode=0755",
                   .flags = kNoSuidDev});
    for (const char* d : {"upper", "work", "root"}) pre.push_back(mkdirOp(stage + "/" + d));
    pre.push_back({.kind = MountOpKind::kOverlay,
                   .source = "nixjail-root",
                   .target = plan.new_root,
                   .data = overlayOptions(in),
                   .flags = kNoSuidDev});
    pre.push_back(mkdirOp(plan.put_old, 0700));

    auto& post = plan.after_pivot;
    const std::string old = kOldRoot;
    std::set<std::string> made;
    // /tmp first so that binds below /tmp land on the tmpfs and are not hidden by it.
    addMountPoint(post, made, "/tmp", true);
    // Sized so that filling /tmp ends in ENOSPC; the pages also count against the memory cgroup.
    std::string sized = "mode=1777";
    if (in.tmpfs_size_bytes > 0) sized += ",size=" + std::to_string(in.tmpfs_size_bytes);
    post.push_back({.kind = MountOpKind::kTmpfs,
                    .source = "tmpfs",
                    .target = "/tmp",
                    .data = sized,
                    .flags = kNoSuidDev});
    // A minimal /dev: device nodes bound from the host (a user namespace cannot mknod).
    addMountPoint(post, made, "/dev", true);
    post.push_back({.kind = MountOpKind::kTmpfs,
                    .source = "tmpfs",
                    .target = "/dev",
                    .data = "mode=0755",
                    .flags = MS_NOSUID | MS_NOEXEC});
    for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty"}) {
        std::string target = std::string("/dev/") + dev;
        post.push_back({.kind = MountOpKind::kTouch, .target = target, .mode = 0644});
        addBind(post, old + target, target, MS_NOSUID | MS_NOEXEC);
    }
    post.push_back(mkdirOp("/dev/pts"));
    post.push_back({.kind = MountOpKind::kDevpts,
                    .source = "devpts",
                    .target = "/dev/pts",
                    .data = "newinstance,ptmxmode=0666,mode=0620",
                    .flags = MS_NOSUID | MS_NOEXEC});
    post.push_back({.kind = MountOpKind::kSymlink, .source = "pts/ptmx", .target = "/dev/ptmx"});
    post.push_back(mkdirOp("/dev/shm", 01777));
    post.push_back({.kind = MountOpKind::kTmpfs,
                    .source = "tmpfs",
                    .target = "/dev/shm",
                    .data = sized,
                    .flags = kNoSuidDev});
    post.push_back({.kind = MountOpKind::kSymlink, .source = "/proc/self/fd", .target = "/dev/fd"});
    const char* stdio[] = {"stdin", "stdout", "stderr"};
    for (int i = 0; i < 3; ++i) {
        post.push_back({.kind = MountOpKind::kSymlink,
                        .source = "/proc/self/fd/" + std::to_string(i),
                        .target = std::string("/dev/") + stdio[i]});
    }
    // procfs must be mounted while the host's /proc is still visible (mount_too_revealing).
    addMountPoint(post, made, "/proc", true);
    post.push_back({.kind = MountOpKind::kProc,
                    .source = "proc",
                    .target = "/proc",
                    .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC});
    addBind(post, "/proc/sys", "/proc/sys", MS_RDONLY | kNoSuidDev);

    auto binds = in.binds;
    for (const auto& b : binds) checkBind(b);
    // Parents before children, so a nested bind is not hidden by its parent's bind.
    std::stable_sort(binds.begin(), binds.end(),
                     [](const PlannedBind& a, const PlannedBind& b) { return a.jail < b.jail; });
    for (const auto& b : binds) {
        auto jail = b.jail.lexically_normal().string();
        if (jail.size() > 1 && jail.back() == '/') jail.pop_back();
        addMountPoint(post, made, jail, b.is_directory);
        addBind(post, old + b.host.lexically_normal().string(), jail,
                (b.writable ? 0 : MS_RDONLY) | kNoSuidDev);
    }
    post.push_back({.kind = MountOpKind::kDetach, .target = old});
    post.push_back({.kind = MountOpKind::kRmdir, .target = old});
    post.push_back({.kind = MountOpKind::kRemountBind,
                    .target = "/dev",
                    .flags = MS_RDONLY | MS_NOSUID | MS_NOEXEC});
    post.push_back(
        {.kind = MountOpKind::kRemountBind, .target = "/", .flags = MS_RDONLY | kNoSuidDev});
    return plan;
}

std::string describeMountOp(const MountOp& op) {
    auto flags = [&] {
        std::string f;
        if (op.flags & MS_RDONLY) f += " ro";
        if (op.flags & MS_NOSUID) f += " nosuid";
        if (op.flags & MS_NODEV) f += " nodev";
        if (op.flags & MS_NOEXEC) f += " noexec";
        return f;
    };
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(op.mode));
    switch (op.kind) {
        case MountOpKind::kTmpfs:
            return "tmpfs '" + op.target + "' " + op.data + flags();
        case MountOpKind::kOverlay:
            return "overlay '" + op.target + "' " + op.data + flags();
        case MountOpKind::kMkdir:
            return "mkdir '" + op.target + "' " + mode;
        case MountOpKind::kTouch:
            return "touch '" + op.target + "'";
        case MountOpKind::kBind:
            return "bind '" + op.source + "' -> '" + op.target + "'";
        case MountOpKind::kRemountBind:
            return "remount '" + op.target + "'" + flags();
        case MountOpKind::kProc:
            return "proc '" + op.target + "'" + flags();
        case MountOpKind::kDevpts:
            return "devpts '" + op.target + "' " + op.data + flags();
        case MountOpKind::kSymlink:
            return "symlink '" + op.target + "' -> '" + op.source + "'";
        case MountOpKind::kDetach:
            return "detach '" + op.target + "'";
        case MountOpKind::kRmdir:
            return "rmdir '" + op.target + "'";
    }
    return "?";
}

std::string renderMountPlan(const MountPlan& plan) {
    std::string out;
    for (const auto& op : plan.before_pivot) out += describeMountOp(op) + "\n";
    out += "pivot_root '" + plan.new_root + "' (old root at '" + plan.put_old + "')\n";
    for (const auto& op : plan.after_pivot) out += describeMountOp(op) + "\n";
    return out;
}

namespace {

// Flags a user namespace may not clear on a bind of a more privileged mount ("locked" flags).
unsigned long lockedFlags(const char* target) {
    struct statfs st;
    if (::statfs(target, &st) != 0) return 0;
    unsigned long f = 0;
    if (st.f_flags & ST_RDONLY) f |= MS_RDONLY;
    if (st.f_flags & ST_NOSUID) f |= MS_NOSUID;
    if (st.f_flags & ST_NODEV) f |= MS_NODEV;
    if (st.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
    if (st.f_flags & ST_NOATIME) f |= MS_NOATIME;
    if (st.f_flags & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (st.f_flags & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

int applyOne(const MountOp& op) {
    const char* target = op.target.c_str();
    switch (op.kind) {
        case MountOpKind::kTmpfs:
            return ::mount("tmpfs", target, "tmpfs", op.flags, op.data.c_str());
        case MountOpKind::kOverlay:
            return ::mount(op.source.c_str(), target, "overlay", op.flags, op.data.c_str());
        case MountOpKind::kMkdir:
            if (::mkdir(target, op.mode) != 0) return errno == EEXIST ? 0 : -1;
            // mkdir applies the umask; sticky and world bits must be exact. An existing directory
            // keeps its mode.
            return ::chmod(target, op.mode);
        case MountOpKind::kTouch: {
            // A file already there is the mount point, even one the jail's ids may not write (the
            // root's trust store, which the job's CA is bound over).
            struct stat st {};
            if (::lstat(target, &st) == 0 && S_ISREG(st.st_mode)) return 0;
            int fd = ::open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, op.mode);
            if (fd < 0) return errno == EEXIST || errno == EROFS ? 0 : -1;
            ::close(fd);
            return 0;
        }
        case MountOpKind::kBind:
            return ::mount(op.source.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr);
        case MountOpKind::kRemountBind: {
            unsigned long keep = lockedFlags(target) & ~MS_RDONLY;
            return ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | op.flags | keep,
                           nullptr);
        }
        case MountOpKind::kProc:
            return ::mount("proc", target, "proc", op.flags, nullptr);
        case MountOpKind::kDevpts:
            return ::mount("devpts", target, "devpts", op.flags, op.data.c_str());
        case MountOpKind::kSymlink:
            return ::symlink(op.source.c_str(), target) == 0 || errno == EEXIST ? 0 : -1;
        case MountOpKind::kDetach:
            return ::umount2(target, MNT_DETACH);
        case MountOpKind::kRmdir:
            return ::rmdir(target);
    }
    errno = EINVAL;
    return -1;
}

}  // namespace

int applyMountOps(const std::vector<MountOp>& ops, int* failed) {
    for (size_t i = 0; i < ops.size(); ++i) {
        if (applyOne(ops[i]) != 0) {
            *failed = static_cast<int>(i);
            return errno != 0 ? errno : EINVAL;
        }
    }
    return 0;
}

int makeMountsPrivate() {
    // Our copy of the host mounts must not propagate anything back to the host.
    return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 ? 0 : errno;
}

int pivotIntoRoot(const MountPlan& plan) {
    if (::syscall(SYS_pivot_root, plan.new_root.c_str(), plan.put_old.c_str()) != 0) return errno;
    if (::chdir("/") != 0) return errno;
    return 0;
}

}  // namespace nixjail::executor::ns
