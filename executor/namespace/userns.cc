// Id maps for the jail's user namespace and the child's switch to the unprivileged jail user.
#include "executor/namespace/userns.h"

#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runner/base/file_io.h"

namespace nixjail::executor::ns {

IdMapPlan planIdMaps(bool runner_is_root, uid_t runner_uid, gid_t runner_gid, uid_t host_id_base) {
    IdMapPlan plan;
    if (runner_is_root) {
        auto range = std::to_string(host_id_base) + " " + std::to_string(kHostIdRangeSize) + "\n";
        plan.uid_map = "0 " + range;
        plan.gid_map = "0 " + range;
        plan.setup_as_root = true;
        plan.step_host_uid = host_id_base + kJailUid;
        plan.step_host_gid = host_id_base + kJailGid;
    } else {
        plan.uid_map = std::to_string(kJailUid) + " " + std::to_string(runner_uid) + " 1\n";
        plan.gid_map = std::to_string(kJailGid) + " " + std::to_string(runner_gid) + " 1\n";
        plan.deny_setgroups = true;
        plan.step_host_uid = runner_uid;
        plan.step_host_gid = runner_gid;
    }
    return plan;
}

void writeIdMaps(pid_t pid, const IdMapPlan& plan) {
    auto proc = "/proc/" + std::to_string(pid) + "/";
    if (plan.deny_setgroups) base::writeFile(proc + "setgroups", "deny");
    base::writeFile(proc + "uid_map", plan.uid_map);
    base::writeFile(proc + "gid_map", plan.gid_map);
}

int setJailIds(bool drop_groups, uid_t uid, gid_t gid) {
    // Raw syscalls: glibc's wrappers broadcast the change to every thread it knows of, and after
    // a raw clone of a multithreaded runner its thread list describes the parent, not us.
    if (drop_groups && ::syscall(SYS_setgroups, 0, nullptr) != 0) return errno;
    if (::syscall(SYS_setresgid, gid, gid, gid) != 0) return errno;
    if (::syscall(SYS_setresuid, uid, uid, uid) != 0) return errno;
    return 0;
}

int switchToJailUser(const IdMapPlan& plan) {
    return setJailIds(!plan.deny_setgroups, kJailUid, kJailGid);
}

}  // namespace nixjail::executor::ns
