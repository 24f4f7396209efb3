// The jail's mount tree: a planner that turns the JailSpec into an ordered list of typed mount
// operations (pure, unit-tested), and the child-side code that applies them without allocating.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nixjail::executor::ns {

enum class MountOpKind {
    kTmpfs,        // mount a tmpfs at target (data = options)
    kOverlay,      // mount an overlay at target (data = lowerdir/upperdir/workdir)
    kMkdir,        // mkdir target, an existing directory is fine
    kTouch,        // create an empty file at target, an existing one is fine
    kBind,         // recursive bind of source onto target
    kRemountBind,  // remount the bind at target with flags, keeping the source's locked flags
    kProc,         // a fresh procfs of the jail's pid namespace
    kDevpts,       // a new devpts instance
    kSymlink,      // symlink target -> source
    kDetach,       // lazy unmount of target (the old root)
    kRmdir,        // remove the now empty directory target
};

struct MountOp {
    MountOpKind kind;
    std::string source;
    std::string target;
    std::string data;
    unsigned long flags = 0;  // MS_* for mounts and remounts
    mode_t mode = 0755;
};

// A bind to place in the jail; `is_directory` is the host path's type (files get a file mount
// point).
struct PlannedBind {
    std::filesystem::path host;  // absolute and canonical
    std::filesystem::path jail;  // absolute, normalised
    bool writable = false;
    bool is_directory = true;
};

struct MountPlanInput {
    std::filesystem::path root;     // the caller's prepared root, used read-only as overlay lower
    std::filesystem::path staging;  // an empty host directory the jail may mount over
    std::vector<PlannedBind> binds;
    std::uint64_t tmpfs_size_bytes = 0;  // size= of /tmp and /dev/shm; 0: the kernel default
};

// Before pivot_root the ops use host paths; afterwards jail paths, with the host tree visible at
// kOldRoot until the plan detaches it.
struct MountPlan {
    std::vector<MountOp> before_pivot;
    std::string new_root;  // host path of the assembled root
    std::string put_old;   // where pivot_root parks the host root, as a path under new_root
    std::vector<MountOp> after_pivot;
};

inline constexpr const char* kOldRoot = "/.nixjail-oldroot";

// Throws base::Error for binds the jail cannot honour (relative paths, over /proc or /dev, ...).
MountPlan planMounts(const MountPlanInput& input);

// One line per op, for golden files and debug logs.
std::string renderMountPlan(const MountPlan& plan);
std::string describeMountOp(const MountOp& op);

// Child side, async-signal-safe: stop mount propagation to and from the host. Returns 0 or errno.
int makeMountsPrivate();
// Child side, async-signal-safe: applies ops in order. Returns 0, or the errno of the failing op
// with its index in *failed.
int applyMountOps(const std::vector<MountOp>& ops, int* failed);
// Child side: pivot_root into plan.new_root, parking the old root at plan.put_old.
int pivotIntoRoot(const MountPlan& plan);

}  // namespace nixjail::executor::ns
